//! Events: the append-only history of an appeal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{Display, EnumIter, EnumString, IntoStaticStr};

use crate::ids::{AppealId, EventId};

/// The fixed list of things that can happen to an appeal.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    Display,
    EnumString,
    EnumIter,
    IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EventType {
    Received,
    Classified,
    Dispatched,
    Accepted,
    Returned,
    Reassigned,
    ExtensionRequested,
    ExtensionApproved,
    Paused,
    Resumed,
    Replied,
    Rated,
    Reopened,
    Closed,
    Voided,
    Merged,
    Owned,
    Reminded,
    SlaWarning,
    SlaBreached,
    Escalated,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One entry of an appeal's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub appeal_id: AppealId,
    /// Position in the appeal's history, from 1.
    pub seq: i64,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub at: DateTime<Utc>,
    /// Who caused it: the name in the caller's token, or `system`.
    pub actor: String,
    pub reason: Option<String>,
    pub data: serde_json::Value,
}

impl Event {
    /// Routing key on the bus, e.g. `appeal.dispatched.FGJ`.
    pub fn routing_key(&self) -> String {
        match self.event_type {
            EventType::SlaWarning => "sla.warning".to_owned(),
            EventType::SlaBreached => "sla.breached".to_owned(),
            EventType::Dispatched | EventType::Reassigned => {
                let unit = self
                    .data
                    .get("unit")
                    .and_then(|u| u.as_str())
                    .unwrap_or("none");
                format!("appeal.{}.{unit}", self.event_type.as_str())
            }
            other => format!("appeal.{}", other.as_str()),
        }
    }
}
