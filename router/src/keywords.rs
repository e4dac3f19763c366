//! The interim rule: count each unit's keywords in the appeal's title and body; sure when
//! exactly one unit has any.

use hotline_schemas::Appeal;
use hotline_schemas::unit::Unit;
use serde::Serialize;
use serde_json::json;

/// What the rule concluded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// The best unit, if any keyword matched.
    pub unit: Option<String>,
    /// The best unit's share of all keyword hits.
    pub confidence: f64,
    /// Only one unit matched.
    pub sure: bool,
    /// Up to three units with their hits, best first.
    pub suggestions: Vec<Suggestion>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub unit: String,
    pub hits: usize,
    pub keywords: Vec<String>,
}

impl Classification {
    pub fn to_event_data(&self, dispatched: bool) -> serde_json::Value {
        json!({
            "rule": "keywords",
            "matter": null,
            "unit": self.unit,
            "confidence": self.confidence,
            "suggestions": self.suggestions,
            "dispatched": dispatched,
        })
    }
}

pub fn classify(appeal: &Appeal, units: &[Unit]) -> Classification {
    let text = format!("{}\n{}", appeal.title, appeal.body);
    let mut scored: Vec<Suggestion> = units
        .iter()
        .filter_map(|unit| {
            let keywords: Vec<String> = unit
                .keywords
                .iter()
                .filter(|k| !k.is_empty() && text.contains(k.as_str()))
                .cloned()
                .collect();
            let hits = keywords
                .iter()
                .map(|k| text.matches(k.as_str()).count())
                .sum();
            (hits > 0).then(|| Suggestion {
                unit: unit.code.clone(),
                hits,
                keywords,
            })
        })
        .collect();
    scored.sort_by(|a, b| b.hits.cmp(&a.hits).then_with(|| a.unit.cmp(&b.unit)));
    let total: usize = scored.iter().map(|s| s.hits).sum();
    let best = scored.first();
    Classification {
        unit: best.map(|s| s.unit.clone()),
        confidence: best.map_or(0.0, |s| s.hits as f64 / total as f64),
        sure: scored.len() == 1,
        suggestions: scored.into_iter().take(3).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use hotline_schemas::unit::demo_units;
    use hotline_schemas::{AppealId, Appellant, Channel, Kind, Location, NewAppeal, Priority};

    fn appeal(title: &str, body: &str) -> Appeal {
        let new = NewAppeal {
            channel: Channel::Web,
            kind: Kind::Complaint,
            priority: Priority::Normal,
            title: title.into(),
            body: body.into(),
            appellant: Appellant::Person {
                name: "李".into(),
                phone: None,
                wechat_openid: None,
            },
            location: Location::default(),
            attachments: vec![],
        };
        Appeal::received(AppealId::new(), "20261123-000001".into(), new, Utc::now())
    }

    #[test]
    fn one_unit_matched_is_sure() {
        let c = classify(&appeal("厂房用地审批缓慢", "申请用地三个月"), &demo_units());
        assert_eq!(c.unit.as_deref(), Some("DEMO-GHZRZYJ"));
        assert!(c.sure);
        assert_eq!(c.confidence, 1.0);
        assert_eq!(c.suggestions[0].hits, 3);
    }

    #[test]
    fn several_units_matched_is_not_sure() {
        let c = classify(
            &appeal("拖欠工资", "工厂用地纠纷,工资拖欠半年"),
            &demo_units(),
        );
        assert_eq!(c.unit.as_deref(), Some("DEMO-RSJ"));
        assert!(!c.sure);
        assert_eq!(c.suggestions.len(), 2);
        assert!((c.confidence - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn nothing_matched() {
        let c = classify(&appeal("路灯不亮", "小区门口路灯坏了"), &demo_units());
        assert_eq!(c.unit, None);
        assert!(!c.sure);
        assert!(c.suggestions.is_empty());
    }
}
