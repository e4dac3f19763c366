use super::*;
use chrono::{TimeZone, Utc};
use hotline_schemas::Appellant;
use hotline_schemas::{Kind, Location, NewAppeal, Priority};

use crate::calibration::Calibration;
use crate::test_support::Fixed;

/// Today's rules with the scores taken as they are (no calibration, no margin), so that
/// the tests of how scores add up do not depend on the shipped calibration.
fn raw() -> RoutingPolicy {
    RoutingPolicy {
        threshold: 0.5,
        min_margin: 0.0,
        calibration: Calibration::IDENTITY,
        ..RoutingPolicy::default()
    }
}

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
        &raw(),
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
        &raw(),
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
        &raw(),
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
        &raw(),
    );
    assert_eq!(r.unit.as_deref(), Some("JWJW"));
    assert_eq!(r.rule, Some("conduct_complaint"));
    assert!(r.dispatch);
    assert!(r.confidential);
    // Through the web, a conduct keyword (刁难) makes it a conduct complaint too (SPEC §3)...
    let r = route(
        &appeal(Channel::Web, "反映问题", &text, "13900000001", 0),
        &t,
        &model,
        &[],
        &raw(),
    );
    assert_eq!(r.unit.as_deref(), Some("JWJW"));
    assert!(r.confidential);
    // ...while a word that only the mailbox reads so (推诿) is left to the model.
    let vague = "几个部门之间互相推诿,办理进度很慢";
    assert!(conduct.keywords.iter().any(|k| vague.contains(k.as_str())));
    let r = route(
        &appeal(Channel::Web, "反映问题", vague, "13900000001", 0),
        &t,
        &model,
        &[],
        &raw(),
    );
    assert_eq!(r.unit.as_deref(), Some("ZSJ"));
    assert!(!r.confidential);
}

#[test]
fn a_confidential_letter_the_model_places_elsewhere_waits_for_the_mailbox_readers() {
    let t = taxonomy();
    let model = Fixed(vec![(some_matter(&t, "ZSJ"), 0.95)]);
    let letter = appeal(
        Channel::Mailbox,
        "营商环境建议",
        "建议简化审批流程",
        "13900000002",
        0,
    );
    assert!(letter.confidential, "a mailbox letter");
    let r = route(&letter, &t, &model, &[], &raw());
    assert_eq!(r.unit.as_deref(), Some("ZSJ"), "suggested");
    assert!(
        !r.dispatch,
        "but only the discipline office takes a confidential appeal"
    );
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
        &raw(),
    );
    assert!(r.urgent_signals.contains(&signal));
    assert!(!r.dispatch, "no unit: nothing to dispatch to");
    let calm = route(
        &appeal(Channel::Hotline, "咨询", "想了解政策", "13900000001", 0),
        &t,
        &Fixed(vec![]),
        &[],
        &raw(),
    );
    assert!(calm.urgent_signals.is_empty());
}

#[test]
fn duplicates_are_linked_and_held_for_the_dispatcher() {
    let t = taxonomy();
    let m = some_matter(&t, "SWUJ");
    let model = Fixed(vec![(m, 0.9)]);
    let policy = raw();
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
    let r = route(&a, &t, &keywords, &[], &raw());
    assert_eq!(r.unit.as_deref(), Some("GHZRZYJ"));
}

#[test]
fn similarity_is_a_fraction() {
    assert_eq!(similarity("停水停电", "停水停电"), 1.0);
    assert_eq!(similarity("停水", "路灯"), 0.0);
    let s = similarity("小区停水三天", "小区停水两天");
    assert!(s > 0.3 && s < 1.0, "{s}");
}

#[test]
fn the_rule_wants_both_confidence_and_margin() {
    let policy = RoutingPolicy {
        threshold: 0.7,
        min_margin: 0.3,
        ..raw()
    };
    assert!(sure(0.8, 0.5, &policy));
    assert!(sure(0.7, 0.3, &policy), "the bounds are included");
    assert!(!sure(0.69, 0.9, &policy), "not confident enough");
    assert!(!sure(0.95, 0.2, &policy), "a second unit too close");
}

#[test]
fn a_close_second_unit_sends_it_to_the_dispatcher() {
    let t = taxonomy();
    let (water, power) = (some_matter(&t, "SWUJ"), some_matter(&t, "GDJ"));
    let policy = RoutingPolicy {
        min_margin: 0.3,
        ..raw()
    };
    let text = appeal(Channel::Web, "停水", "小区停水", "13900000001", 0);
    let close = route(
        &text,
        &t,
        &Fixed(vec![(water, 0.6), (power, 0.35)]),
        &[],
        &policy,
    );
    assert_eq!(close.unit.as_deref(), Some("SWUJ"));
    assert!((close.margin - 0.25).abs() < 1e-9);
    assert!(
        !close.dispatch,
        "0.6 passes the threshold but leads by 0.25 only"
    );
    let clear = route(
        &text,
        &t,
        &Fixed(vec![(water, 0.7), (power, 0.2)]),
        &[],
        &policy,
    );
    assert!(clear.dispatch);
}

#[test]
fn the_threshold_is_compared_with_the_calibrated_confidence() {
    let t = taxonomy();
    let water = some_matter(&t, "SWUJ");
    let text = appeal(Channel::Web, "停水", "小区停水", "13900000001", 0);
    let scores = Fixed(vec![(water, 0.6)]);
    let overconfident = RoutingPolicy {
        calibration: Calibration {
            bias: -1.0,
            slope: 1.0,
            margin: 0.0,
        },
        ..raw()
    };
    let as_is = route(&text, &t, &scores, &[], &raw());
    let calibrated = route(&text, &t, &scores, &[], &overconfident);
    assert!(as_is.dispatch);
    assert!((as_is.confidence - 0.6).abs() < 1e-9);
    assert!(calibrated.confidence < 0.5, "{}", calibrated.confidence);
    assert!(!calibrated.dispatch);
    assert_eq!(calibrated.unit, as_is.unit, "calibration changes no unit");
}

#[test]
fn the_shipped_rule_dispatches_clear_cases_and_queues_split_ones() {
    let t = taxonomy();
    let (water, power) = (some_matter(&t, "SWUJ"), some_matter(&t, "GDJ"));
    let text = appeal(Channel::Web, "停水", "小区停水", "13900000001", 0);
    let policy = RoutingPolicy::default();
    let clear = route(
        &text,
        &t,
        &Fixed(vec![(water, 0.97), (power, 0.02)]),
        &[],
        &policy,
    );
    assert!(clear.dispatch, "{clear:?}");
    assert!(clear.confidence > policy.threshold && clear.confidence <= 1.0);
    let split = route(
        &text,
        &t,
        &Fixed(vec![(water, 0.45), (power, 0.4)]),
        &[],
        &policy,
    );
    assert!(!split.dispatch, "{split:?}");
    assert!(split.confidence < clear.confidence);
}

#[test]
fn the_shipped_classifier_dispatches_a_plain_appeal_and_queues_a_vague_one() {
    let t = taxonomy();
    let classifier = crate::taxonomy_classifier(&t);
    let policy = RoutingPolicy::default();
    let plain = appeal(
        Channel::Web,
        "厂房用地审批缓慢",
        "申请用地三个月无进展",
        "13900000001",
        0,
    );
    let r = route(&plain, &t, &classifier, &[], &policy);
    assert!(r.dispatch, "{r:?}");
    let vague = appeal(
        Channel::Web,
        "请帮忙看看",
        "想咨询一件事,不知道该找哪个部门",
        "13900000002",
        0,
    );
    let r = route(&vague, &t, &classifier, &[], &policy);
    assert!(!r.dispatch, "{r:?}");
    assert!(r.confidence < policy.threshold, "{r:?}");
}
