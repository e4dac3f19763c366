//! Responsible units (责任单位).

use serde::{Deserialize, Serialize};

/// A unit appeals can be dispatched to, e.g. `FGJ` 区发展和改革局.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub code: String,
    pub name: String,
    /// Demo data loaded into an empty database; a city replaces it.
    #[serde(default)]
    pub demo: bool,
}

/// The demo units loaded into an empty database so a new installation can be tried at once.
pub fn demo_units() -> Vec<Unit> {
    [
        ("DEMO-FGJ", "区发展和改革局(演示)"),
        ("DEMO-RSJ", "区人力资源局(演示)"),
        ("DEMO-SCJGJ", "区市场监督管理局(演示)"),
        ("DEMO-GHZRZYJ", "区规划和自然资源局(演示)"),
    ]
    .into_iter()
    .map(|(code, name)| Unit {
        code: code.to_owned(),
        name: name.to_owned(),
        demo: true,
    })
    .collect()
}
