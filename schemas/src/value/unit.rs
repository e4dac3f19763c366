//! Responsible units (责任单位).

use serde::{Deserialize, Serialize};

use crate::value::ids::UnitCode;

/// A unit appeals can be dispatched to, e.g. `FGJ` 区发展和改革局.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub code: UnitCode,
    pub name: String,
    /// Demo data loaded into an empty database; a city replaces it.
    #[serde(default)]
    pub demo: bool,
    /// Words that mark an appeal as this unit's business (the interim keyword router).
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// The demo units loaded into an empty database so a new installation can be tried at once.
pub fn demo_units() -> Vec<Unit> {
    let units: [(&str, &str, &[&str]); 4] = [
        (
            "DEMO-FGJ",
            "区发展和改革局(演示)",
            &["项目审批", "立项", "投资", "发改", "价格"],
        ),
        (
            "DEMO-RSJ",
            "区人力资源局(演示)",
            &["工资", "欠薪", "社保", "招聘", "人才", "劳动合同"],
        ),
        (
            "DEMO-SCJGJ",
            "区市场监督管理局(演示)",
            &["食品", "假冒", "营业执照", "消费者", "商标"],
        ),
        (
            "DEMO-GHZRZYJ",
            "区规划和自然资源局(演示)",
            &["用地", "厂房", "规划", "土地", "不动产"],
        ),
    ];
    units
        .into_iter()
        .map(|(code, name, keywords)| Unit {
            code: code.into(),
            name: name.to_owned(),
            demo: true,
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
        })
        .collect()
}
