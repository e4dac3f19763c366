//! Events: the append-only history of an appeal, each with a typed payload.
//!
//! An event is stored and published as `{"type": "...", "data": {...}}` beside its id, position,
//! time, actor and reason. Every payload refuses fields it does not know, so an event written
//! by a newer version is reported (and parked on the bus) instead of being half read.

pub mod envelope;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::appeal::{Channel, Held, Kind, Priority, Rating, Step, Suggestion, TimeLimit};
use crate::value::ids::{AppealId, EventId, MatterCode, StaffRef, TicketNo, UnitCode, UserId};
use crate::value::limit::Limit;
use crate::value::snake_enum;
use crate::value::taxonomy::PlaceFound;

pub use envelope::{Envelope, EnvelopeError, SCHEMA_VERSION};

snake_enum!(
    /// The fixed list of things that can happen to an appeal.
    EventType {
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
    DuplicateMerged,
    MarkedConfidential,
    Revealed,
    Supplemented,
    Noted,
    Owned,
    Reminded,
    SlaWarning,
    SlaBreached,
    Escalated,
    }
);

/// Whom a note calls on (@): a unit, or a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Mention {
    Unit(UnitCode),
    User(UserId),
}

/// Who a time-limit event calls on: `dispatcher`, `unit:<code>`, `supervisor`, `leader`,
/// `leader:<name>` or `mailbox_readers`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Recipient {
    Dispatcher,
    Unit(UnitCode),
    Supervisor,
    /// The unit's leader (包案), by name when the units data names one.
    Leader(Option<String>),
    /// The mailbox readers: who oversees confidential appeals instead of the supervisors.
    MailboxReaders,
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipient::Dispatcher => f.write_str("dispatcher"),
            Recipient::Unit(unit) => write!(f, "unit:{unit}"),
            Recipient::Supervisor => f.write_str("supervisor"),
            Recipient::Leader(None) => f.write_str("leader"),
            Recipient::Leader(Some(name)) => write!(f, "leader:{name}"),
            Recipient::MailboxReaders => f.write_str("mailbox_readers"),
        }
    }
}

/// A recipient that is none of the known forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown recipient {0:?}")]
pub struct UnknownRecipient(pub String);

impl FromStr for Recipient {
    type Err = UnknownRecipient;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            None if s == "dispatcher" => Ok(Recipient::Dispatcher),
            None if s == "supervisor" => Ok(Recipient::Supervisor),
            None if s == "leader" => Ok(Recipient::Leader(None)),
            None if s == "mailbox_readers" => Ok(Recipient::MailboxReaders),
            Some(("unit", code)) => Ok(Recipient::Unit(code.into())),
            Some(("leader", name)) => Ok(Recipient::Leader(Some(name.to_owned()))),
            _ => Err(UnknownRecipient(s.to_owned())),
        }
    }
}

impl Serialize for Recipient {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Recipient {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A unit given an appeal: by dispatch (派单) or reassignment (改派).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    pub unit: UnitCode,
    pub from_unit: Option<UnitCode>,
    pub response_due: Option<DateTime<Utc>>,
    pub resolve_due: Option<DateTime<Utc>>,
    /// The service matter the dispatcher named, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matter: Option<MatterCode>,
}

/// What the router concluded about an appeal (分拨).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Classification {
    pub matter: Option<MatterCode>,
    pub unit: Option<UnitCode>,
    pub confidence: f64,
    /// Up to three matters with their units, best first.
    pub suggestions: Vec<Suggestion>,
    /// Whether the router dispatched it itself.
    pub dispatched: bool,
    /// Urgency signals found (燃气泄漏, 楼体开裂, …).
    pub urgent_signals: Vec<String>,
    pub duplicate_of: Option<AppealId>,
    /// The rule that overrode the model, if any (`conduct_complaint`).
    pub rule: Option<String>,
    /// The priority after classification: urgency signals raise a normal appeal to urgent.
    pub priority: Priority,
    /// A complaint about an official's conduct: the appeal is confidential from now on.
    #[serde(default, skip_serializing_if = "is_false")]
    pub confidential: bool,
    /// The unit the complaint is about, when the text names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_unit: Option<UnitCode>,
    /// The street of a territorial matter's appeal, when found: `unit` is its office.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<PlaceFound>,
    /// Why the router left it to the dispatcher though sure of the matter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What an event records, by type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "data",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum EventPayload {
    Received {
        channel: Channel,
        kind: Kind,
        priority: Priority,
        ticket_no: TicketNo,
        /// Confidential from the start (the party secretary's mailbox).
        #[serde(default, skip_serializing_if = "is_false")]
        confidential: bool,
    },
    Classified(Classification),
    Dispatched(Assignment),
    Accepted {
        unit: Option<UnitCode>,
    },
    Returned {
        unit: Option<UnitCode>,
    },
    Reassigned(Assignment),
    ExtensionRequested {
        limit: Limit,
        resolve_due: Option<DateTime<Utc>>,
    },
    ExtensionApproved {
        limit: Limit,
        previous_resolve_due: DateTime<Utc>,
        resolve_due: DateTime<Utc>,
    },
    Paused {
        unit: Option<UnitCode>,
        resolve_due: Option<DateTime<Utc>>,
    },
    Resumed {
        unit: Option<UnitCode>,
        paused_seconds: i64,
        previous_resolve_due: Option<DateTime<Utc>>,
        resolve_due: Option<DateTime<Utc>>,
    },
    Replied {
        result: String,
        unit: Option<UnitCode>,
        /// Time spent waiting for the appellant so far, in seconds.
        paused_seconds: i64,
    },
    Rated {
        rating: Rating,
        comment: Option<String>,
    },
    Reopened {
        rework_count: u32,
        response_due: Option<DateTime<Utc>>,
        resolve_due: Option<DateTime<Utc>>,
    },
    Closed {
        /// Closed by a rating (rather than by hand or by the rating wait).
        rated: bool,
        /// Closed because nobody rated the reply in time (未评价).
        #[serde(default, skip_serializing_if = "is_false")]
        not_rated: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<Step>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<UnitCode>,
    },
    Voided {},
    Merged {
        into: AppealId,
    },
    /// The appellant added material or a comment (补充材料).
    Supplemented {
        text: String,
    },
    /// A note for the staff on the case (内部备注), never shown to the appellant.
    Noted {
        text: String,
        /// The units and users it calls on.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mentions: Vec<Mention>,
    },
    /// Someone not entitled to them saw the appellant's personal data, for the event's reason
    /// (an audited reveal).
    Revealed {},
    /// Marked confidential (by a mailbox reader or an admin), naming the unit complained about.
    MarkedConfidential {
        subject_unit: Option<UnitCode>,
    },
    /// A later appeal was merged into this one as its duplicate.
    DuplicateMerged {
        duplicate: AppealId,
        ticket_no: TicketNo,
    },
    /// A leader owns the case (包案): who took it, or one in charge of its unit at level 3.
    Owned {
        leader: String,
        /// The leader's user (none in events recorded before users existed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<UserId>,
        /// The single owner it replaced, in events recorded before a case had several.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous: Option<String>,
    },
    Reminded {
        step: Step,
        due_at: DateTime<Utc>,
        unit: Option<UnitCode>,
        limit: TimeLimit,
        /// The reminder's number in the current wait, from 1.
        n: u32,
        notified: Recipient,
    },
    SlaWarning {
        step: Step,
        due_at: DateTime<Utc>,
        unit: Option<UnitCode>,
        limit: TimeLimit,
        /// The share of the resolution time that has passed.
        fraction: Option<f64>,
        resolve_due: Option<DateTime<Utc>>,
        notified: Recipient,
    },
    SlaBreached {
        step: Step,
        due_at: DateTime<Utc>,
        unit: Option<UnitCode>,
        limit: TimeLimit,
    },
    Escalated {
        /// The time-limit step that escalated (none for too many reworks).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<Step>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_at: Option<DateTime<Utc>>,
        unit: Option<UnitCode>,
        limit: TimeLimit,
        /// 1: the unit, 2: the supervisor, 3: the unit's leader.
        level: u8,
        notified: Recipient,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        leader: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rework_count: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_reworks: Option<u32>,
    },
}

impl EventPayload {
    /// `leader` owns the case.
    pub fn owned(leader: &StaffRef) -> EventPayload {
        EventPayload::Owned {
            leader: leader.name.clone(),
            user: leader.user,
            previous: None,
        }
    }

    /// Closed by a rating (`rated`) or by hand: no time-limit step behind it.
    pub fn closed(rated: bool) -> EventPayload {
        EventPayload::Closed {
            rated,
            not_rated: false,
            step: None,
            due_at: None,
            unit: None,
        }
    }

    pub fn event_type(&self) -> EventType {
        match self {
            EventPayload::Received { .. } => EventType::Received,
            EventPayload::Classified(_) => EventType::Classified,
            EventPayload::Dispatched(_) => EventType::Dispatched,
            EventPayload::Accepted { .. } => EventType::Accepted,
            EventPayload::Returned { .. } => EventType::Returned,
            EventPayload::Reassigned(_) => EventType::Reassigned,
            EventPayload::ExtensionRequested { .. } => EventType::ExtensionRequested,
            EventPayload::ExtensionApproved { .. } => EventType::ExtensionApproved,
            EventPayload::Paused { .. } => EventType::Paused,
            EventPayload::Resumed { .. } => EventType::Resumed,
            EventPayload::Replied { .. } => EventType::Replied,
            EventPayload::Rated { .. } => EventType::Rated,
            EventPayload::Reopened { .. } => EventType::Reopened,
            EventPayload::Closed { .. } => EventType::Closed,
            EventPayload::Voided {} => EventType::Voided,
            EventPayload::Merged { .. } => EventType::Merged,
            EventPayload::DuplicateMerged { .. } => EventType::DuplicateMerged,
            EventPayload::MarkedConfidential { .. } => EventType::MarkedConfidential,
            EventPayload::Revealed {} => EventType::Revealed,
            EventPayload::Supplemented { .. } => EventType::Supplemented,
            EventPayload::Noted { .. } => EventType::Noted,
            EventPayload::Owned { .. } => EventType::Owned,
            EventPayload::Reminded { .. } => EventType::Reminded,
            EventPayload::SlaWarning { .. } => EventType::SlaWarning,
            EventPayload::SlaBreached { .. } => EventType::SlaBreached,
            EventPayload::Escalated { .. } => EventType::Escalated,
        }
    }

    /// The resolution deadline this event set, for the events that set one.
    pub fn sets_resolve_due(&self) -> Option<DateTime<Utc>> {
        match self {
            EventPayload::Dispatched(a) | EventPayload::Reassigned(a) => a.resolve_due,
            EventPayload::ExtensionApproved { resolve_due, .. } => Some(*resolve_due),
            EventPayload::Reopened { resolve_due, .. }
            | EventPayload::Resumed { resolve_due, .. } => *resolve_due,
            _ => None,
        }
    }

    /// The time-limit step that fired, for the events a timer records.
    pub fn step(&self) -> Option<Step> {
        match self {
            EventPayload::Reminded { step, .. }
            | EventPayload::SlaWarning { step, .. }
            | EventPayload::SlaBreached { step, .. } => Some(*step),
            EventPayload::Escalated { step, .. } | EventPayload::Closed { step, .. } => *step,
            _ => None,
        }
    }
}

/// One entry of an appeal's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub appeal_id: AppealId,
    /// Position in the appeal's history, from 1.
    pub seq: i64,
    pub at: DateTime<Utc>,
    /// Who caused it: the name in the caller's token, or `system`.
    pub actor: String,
    /// The user behind the caller's token; absent for the platform, the public, appellants
    /// and tokens not issued for a user (and in events stored before users existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<UserId>,
    pub reason: Option<String>,
    #[serde(flatten)]
    pub payload: EventPayload,
}

impl Event {
    /// The event with personal data masked inside its free text (reasons, replies, comments);
    /// `names` are the appellant's.
    pub fn masked(&self, names: &[&str]) -> Event {
        let text = |t: &str| crate::appeal::mask::text(t, names);
        let mut out = self.clone();
        out.reason = self.reason.as_deref().map(text);
        match &mut out.payload {
            EventPayload::Replied { result, .. } => *result = text(result),
            EventPayload::Supplemented { text: added }
            | EventPayload::Noted { text: added, .. } => *added = text(added),
            EventPayload::Rated {
                comment: Some(comment),
                ..
            } => *comment = text(comment),
            _ => {}
        }
        out
    }

    pub fn event_type(&self) -> EventType {
        self.payload.event_type()
    }

    /// Routing key on the bus, e.g. `appeal.dispatched.FGJ`.
    pub fn routing_key(&self) -> String {
        match &self.payload {
            EventPayload::SlaWarning { .. } => "sla.warning".to_owned(),
            EventPayload::SlaBreached { .. } => "sla.breached".to_owned(),
            EventPayload::Dispatched(a) | EventPayload::Reassigned(a) => {
                format!("appeal.{}.{}", self.event_type().as_str(), a.unit)
            }
            _ => format!("appeal.{}", self.event_type().as_str()),
        }
    }
}

#[cfg(test)]
mod tests;
