//! Routing decisions as a pure function of the appeal, the taxonomy, the classifier's scores
//! and the recent appeals: which matter and unit, how sure, whether to dispatch, whether to
//! raise the priority, and which earlier appeal it probably repeats.

use std::collections::HashSet;

use chrono::Duration;
use hotline_schemas::event::Classification;
use hotline_schemas::value::taxonomy::Taxonomy;
use hotline_schemas::{
    Appeal, AppealId, Appellant, Channel, MatterCode, Status, Suggestion, UnitCode,
};

/// Scores texts: labels (matter codes) with calibrated probabilities, best first.
pub trait Classifier: Send + Sync + 'static {
    fn classify(&self, text: &str) -> Vec<(String, f64)>;
}

/// When the router may act alone.
#[derive(Debug, Clone)]
pub struct RoutingPolicy {
    /// Dispatch automatically at or above this probability; below, the dispatcher decides.
    pub threshold: f64,
    /// How far back probable duplicates are looked for (zero: not at all).
    pub duplicate_window: Duration,
    /// Character-bigram Jaccard similarity above which two texts are near-identical.
    pub near_identical: f64,
}

impl Default for RoutingPolicy {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            duplicate_window: Duration::days(7),
            near_identical: 0.8,
        }
    }
}

/// What the router concluded about one appeal.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    pub matter: Option<MatterCode>,
    pub unit: Option<UnitCode>,
    pub confidence: f64,
    /// Up to three matters with their units, best first.
    pub suggestions: Vec<Suggestion>,
    /// Dispatch to `unit` now.
    pub dispatch: bool,
    /// Urgency signals found: the appeal becomes urgent (12-hour limit).
    pub urgent_signals: Vec<String>,
    pub duplicate_of: Option<AppealId>,
    /// The rule that overrode the model, if any.
    pub rule: Option<&'static str>,
}

impl Routing {
    /// The conclusion as the router records it on `appeal`.
    pub fn classification(&self, appeal: &Appeal) -> Classification {
        Classification {
            matter: self.matter.clone(),
            unit: self.unit.clone(),
            confidence: self.confidence,
            suggestions: self.suggestions.clone(),
            dispatched: self.dispatch,
            urgent_signals: self.urgent_signals.clone(),
            duplicate_of: self.duplicate_of,
            rule: self.rule.map(str::to_owned),
            // `decide` raises it when the signals call for it.
            priority: appeal.priority,
        }
    }
}

/// The text the router reads: title and body, in simplified characters (appellants from
/// Hainan, Hong Kong, Macau and Taiwan often write traditional ones: 廠房 reads as 厂房).
pub fn text_of(appeal: &Appeal) -> String {
    fast2s::convert(&format!("{}\n{}", appeal.title, appeal.body))
}

pub fn route(
    appeal: &Appeal,
    taxonomy: &Taxonomy,
    classifier: &dyn Classifier,
    recent: &[Appeal],
    policy: &RoutingPolicy,
) -> Routing {
    let text = text_of(appeal);
    let scored = scored_matters(taxonomy, classifier.classify(&text));
    // The router dispatches to a unit: its matters' probabilities add up, and the matter is the
    // best of the unit chosen.
    let best_unit = best_unit(&scored);
    let matter = best_unit.and_then(|(unit, _)| scored.iter().find(|s| s.unit == *unit));
    let mut routing = Routing {
        matter: matter.map(|s| s.matter.clone()),
        unit: matter.map(|s| s.unit.clone()),
        confidence: best_unit.map_or(0.0, |(_, p)| p),
        suggestions: scored.iter().take(3).cloned().collect(),
        dispatch: false,
        urgent_signals: urgent_signals(&text, taxonomy),
        duplicate_of: None,
        rule: None,
    };
    // 书记信箱 complaints about officials' conduct go to the discipline office, whatever the
    // model thinks, and never to the unit complained about.
    if appeal.channel == Channel::Mailbox
        && let Some(matter) = taxonomy
            .matters
            .iter()
            .find(|m| m.confidential && m.keywords.iter().any(|k| text.contains(k.as_str())))
    {
        routing.matter = Some(matter.code.clone());
        routing.unit = Some(matter.unit.clone());
        routing.confidence = 1.0;
        routing.rule = Some("conduct_complaint");
    }
    routing.duplicate_of = find_duplicate(appeal, routing.matter.as_deref(), recent, policy);
    routing.dispatch = appeal.status == Status::Received
        && routing.unit.is_some()
        && routing.duplicate_of.is_none()
        && (routing.rule.is_some() || routing.confidence >= policy.threshold);
    routing
}

/// A classifier's scores as matters of `taxonomy` with their units, best first (labels the
/// taxonomy does not know are dropped).
pub fn scored_matters(taxonomy: &Taxonomy, scores: Vec<(String, f64)>) -> Vec<Suggestion> {
    scores
        .into_iter()
        .filter_map(|(label, probability)| {
            let matter = taxonomy.matter(&label)?;
            Some(Suggestion {
                matter: matter.code.clone(),
                unit: matter.unit.clone(),
                probability,
            })
        })
        .collect()
}

/// The unit whose matters have the highest total probability, with that total (ties: the unit
/// of the better matter).
pub fn best_unit(scored: &[Suggestion]) -> Option<(&str, f64)> {
    let mut units: Vec<(&str, f64)> = Vec::new();
    for s in scored {
        match units.iter_mut().find(|(u, _)| *u == s.unit.as_str()) {
            Some((_, total)) => *total += s.probability,
            None => units.push((s.unit.as_str(), s.probability)),
        }
    }
    units
        .into_iter()
        .reduce(|best, next| if next.1 > best.1 { next } else { best })
}

/// The urgency signals of every matter that occur in `text`.
fn urgent_signals(text: &str, taxonomy: &Taxonomy) -> Vec<String> {
    let mut found: Vec<String> = taxonomy
        .matters
        .iter()
        .flat_map(|m| m.urgent_keywords.iter())
        .filter(|k| !k.is_empty() && text.contains(k.as_str()))
        .cloned()
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Who the appellant is, for matching: phone, USCC or WeChat id.
fn appellant_keys(a: &Appellant) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(phone) = a.phone() {
        keys.push(format!("phone:{}", phone.trim()));
    }
    match a {
        Appellant::Enterprise {
            uscc,
            wechat_openid,
            ..
        } => {
            keys.push(format!("uscc:{uscc}"));
            keys.extend(wechat_openid.iter().map(|w| format!("wechat:{w}")));
        }
        Appellant::Person { wechat_openid, .. } => {
            keys.extend(wechat_openid.iter().map(|w| format!("wechat:{w}")));
        }
    }
    keys
}

fn bigrams(text: &str) -> HashSet<(char, char)> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Character-bigram Jaccard similarity of two texts, 0–1.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (bigrams(a), bigrams(b));
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let common = a.intersection(&b).count();
    common as f64 / (a.len() + b.len() - common) as f64
}

/// The earliest recent appeal this one probably repeats: near-identical text, or the same
/// appellant (or the same address) about the same matter, within the window.
fn find_duplicate(
    appeal: &Appeal,
    matter: Option<&str>,
    recent: &[Appeal],
    policy: &RoutingPolicy,
) -> Option<AppealId> {
    if policy.duplicate_window <= Duration::zero() {
        return None;
    }
    let text = text_of(appeal);
    let keys = appellant_keys(&appeal.appellant);
    let address = appeal
        .location
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    recent
        .iter()
        .filter(|r| r.id != appeal.id && r.created_at <= appeal.created_at)
        .filter(|r| appeal.created_at - r.created_at <= policy.duplicate_window)
        .filter(|r| !matches!(r.status, Status::Voided | Status::Merged))
        .filter(|r| {
            let same_matter = matter.is_some() && r.matter.as_deref() == matter;
            let same_appellant = appellant_keys(&r.appellant)
                .iter()
                .any(|k| keys.contains(k));
            let same_place =
                address.is_some() && r.location.address.as_deref().map(str::trim) == address;
            similarity(&text, &text_of(r)) >= policy.near_identical
                || (same_matter && (same_appellant || same_place))
        })
        .min_by_key(|r| r.created_at)
        .map(|r| r.id)
}

/// Test doubles shared by the crate's tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::Classifier;

    /// Scores fixed in advance: the model's part is tested with the model.
    pub struct Fixed(pub Vec<(&'static str, f64)>);

    impl Classifier for Fixed {
        fn classify(&self, _: &str) -> Vec<(String, f64)> {
            self.0.iter().map(|(l, p)| ((*l).to_owned(), *p)).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use hotline_schemas::{Kind, Location, NewAppeal, Priority};

    use crate::test_support::Fixed;

    fn taxonomy() -> Taxonomy {
        Taxonomy::shipped().unwrap()
    }

    fn appeal(channel: Channel, title: &str, body: &str, phone: &str, minutes: i64) -> Appeal {
        let new = NewAppeal {
            channel,
            kind: Kind::Complaint,
            priority: Priority::Normal,
            title: title.into(),
            body: body.into(),
            appellant: Appellant::Person {
                name: "李女士".into(),
                phone: Some(phone.into()),
                wechat_openid: None,
            },
            location: Location::default(),
            attachments: vec![],
        };
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap() + Duration::minutes(minutes);
        Appeal::received(AppealId::new(), "20261123-000001".into(), new, at)
    }

    fn some_matter(t: &Taxonomy, unit: &str) -> &'static str {
        let code = t
            .matters
            .iter()
            .find(|m| m.unit == unit && !m.confidential)
            .unwrap()
            .code
            .clone();
        Box::leak(code.to_string().into_boxed_str())
    }

    #[test]
    fn confident_model_dispatches_to_the_matters_unit() {
        let t = taxonomy();
        let m = some_matter(&t, "SWUJ");
        let r = route(
            &appeal(Channel::Web, "停水", "小区停水", "13900000001", 0),
            &t,
            &Fixed(vec![
                (m, 0.9),
                ("NOT-A-MATTER", 0.05),
                (some_matter(&t, "GDJ"), 0.05),
            ]),
            &[],
            &RoutingPolicy::default(),
        );
        assert_eq!(r.matter.as_deref(), Some(m));
        assert_eq!(r.unit.as_deref(), Some("SWUJ"));
        assert!(r.dispatch);
        assert_eq!(r.suggestions.len(), 2, "unknown labels are dropped");
        assert_eq!(r.rule, None);
    }

    #[test]
    fn unsure_model_leaves_it_to_the_dispatcher() {
        let t = taxonomy();
        let r = route(
            &appeal(Channel::Web, "咨询", "想问一下", "13900000001", 0),
            &t,
            &Fixed(vec![
                (some_matter(&t, "SWUJ"), 0.3),
                (some_matter(&t, "GDJ"), 0.25),
            ]),
            &[],
            &RoutingPolicy::default(),
        );
        assert!(!r.dispatch);
        assert_eq!(r.suggestions.len(), 2);
        assert!((r.confidence - 0.3).abs() < 1e-9);
    }

    #[test]
    fn matters_of_one_unit_add_up() {
        let t = taxonomy();
        let water: Vec<&str> = t
            .matters
            .iter()
            .filter(|m| m.unit == "SWUJ")
            .take(2)
            .map(|m| &*Box::leak(m.code.to_string().into_boxed_str()))
            .collect();
        let power = some_matter(&t, "GDJ");
        // The best single matter is the power bureau's, but the water bureau's two together
        // weigh more: the appeal goes to the water bureau, as its best matter.
        let r = route(
            &appeal(Channel::Web, "停水", "小区停水", "13900000001", 0),
            &t,
            &Fixed(vec![(power, 0.4), (water[0], 0.35), (water[1], 0.25)]),
            &[],
            &RoutingPolicy::default(),
        );
        assert_eq!(r.unit.as_deref(), Some("SWUJ"));
        assert_eq!(r.matter.as_deref(), Some(water[0]));
        assert!((r.confidence - 0.6).abs() < 1e-9);
        assert!(r.dispatch);
        assert_eq!(r.suggestions[0].matter, power, "suggestions stay by matter");
    }

    #[test]
    fn mailbox_conduct_complaints_go_to_the_discipline_office() {
        let t = taxonomy();
        let conduct = t.matters.iter().find(|m| m.confidential).unwrap();
        let word = conduct.keywords[0].clone();
        let text = format!("办理审批时窗口工作人员{word},要求我们另外打点");
        let model = Fixed(vec![(some_matter(&t, "ZSJ"), 0.95)]);
        let r = route(
            &appeal(Channel::Mailbox, "反映问题", &text, "13900000001", 0),
            &t,
            &model,
            &[],
            &RoutingPolicy::default(),
        );
        assert_eq!(r.unit.as_deref(), Some("JWJW"));
        assert_eq!(r.rule, Some("conduct_complaint"));
        assert!(r.dispatch);
        // The same words through the web are left to the model.
        let r = route(
            &appeal(Channel::Web, "反映问题", &text, "13900000001", 0),
            &t,
            &model,
            &[],
            &RoutingPolicy::default(),
        );
        assert_eq!(r.unit.as_deref(), Some("ZSJ"));
    }

    #[test]
    fn urgency_signals_are_found() {
        let t = taxonomy();
        let signal = t
            .matters
            .iter()
            .flat_map(|m| m.urgent_keywords.iter())
            .next()
            .unwrap()
            .clone();
        let r = route(
            &appeal(
                Channel::Hotline,
                "紧急",
                &format!("楼下{signal},请马上处理"),
                "13900000001",
                0,
            ),
            &t,
            &Fixed(vec![]),
            &[],
            &RoutingPolicy::default(),
        );
        assert!(r.urgent_signals.contains(&signal));
        assert!(!r.dispatch, "no unit: nothing to dispatch to");
        let calm = route(
            &appeal(Channel::Hotline, "咨询", "想了解政策", "13900000001", 0),
            &t,
            &Fixed(vec![]),
            &[],
            &RoutingPolicy::default(),
        );
        assert!(calm.urgent_signals.is_empty());
    }

    #[test]
    fn duplicates_are_linked_and_held_for_the_dispatcher() {
        let t = taxonomy();
        let m = some_matter(&t, "SWUJ");
        let model = Fixed(vec![(m, 0.9)]);
        let policy = RoutingPolicy::default();
        let mut earlier = appeal(
            Channel::Web,
            "小区停水",
            "幸福里小区从昨天起停水,至今没有恢复",
            "13900000001",
            0,
        );
        earlier.matter = Some(m.into());
        // Near-identical text from someone else.
        let same_text = appeal(
            Channel::Web,
            "小区停水",
            "幸福里小区从昨天起停水,至今没有恢复!",
            "13900000002",
            30,
        );
        let r = route(
            &same_text,
            &t,
            &model,
            std::slice::from_ref(&earlier),
            &policy,
        );
        assert_eq!(r.duplicate_of, Some(earlier.id));
        assert!(!r.dispatch);
        // The same appellant about the same matter, in other words.
        let same_person = appeal(
            Channel::Hotline,
            "还是没水",
            "我上次反映的问题还没解决",
            "13900000001",
            60,
        );
        let r = route(
            &same_person,
            &t,
            &model,
            std::slice::from_ref(&earlier),
            &policy,
        );
        assert_eq!(r.duplicate_of, Some(earlier.id));
        // Someone else, other words: not a duplicate.
        let other = appeal(
            Channel::Hotline,
            "还是没水",
            "我上次反映的问题还没解决",
            "13900000003",
            60,
        );
        let r = route(&other, &t, &model, std::slice::from_ref(&earlier), &policy);
        assert_eq!(r.duplicate_of, None);
        assert!(r.dispatch);
        // Outside the window, or voided: not a duplicate.
        let late = appeal(
            Channel::Web,
            "小区停水",
            "幸福里小区从昨天起停水,至今没有恢复",
            "13900000001",
            8 * 24 * 60,
        );
        assert_eq!(
            route(&late, &t, &model, std::slice::from_ref(&earlier), &policy).duplicate_of,
            None
        );
        let mut voided = earlier.clone();
        voided.status = Status::Voided;
        assert_eq!(
            route(&same_text, &t, &model, &[voided], &policy).duplicate_of,
            None
        );
    }

    #[test]
    fn traditional_characters_read_as_simplified() {
        let t = taxonomy();
        let a = appeal(
            Channel::Web,
            "廠房用地審批緩慢",
            "申請用地三個月",
            "13900000001",
            0,
        );
        assert!(text_of(&a).contains("厂房用地审批缓慢"));
        let keywords = crate::KeywordClassifier::new(&t);
        let r = route(&a, &t, &keywords, &[], &RoutingPolicy::default());
        assert_eq!(r.unit.as_deref(), Some("GHZRZYJ"));
    }

    #[test]
    fn similarity_is_a_fraction() {
        assert_eq!(similarity("停水停电", "停水停电"), 1.0);
        assert_eq!(similarity("停水", "路灯"), 0.0);
        let s = similarity("小区停水三天", "小区停水两天");
        assert!(s > 0.3 && s < 1.0, "{s}");
    }
}
