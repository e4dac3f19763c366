//! The contract of events on the bus: a versioned envelope around an appeal's event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventType};
use crate::ids::{AppealId, EventId};

/// The envelope version consumers can read. A breaking change to the envelope or to an event's
/// payload raises it.
pub const SCHEMA_VERSION: u32 = 1;

/// One event as published: who it is about, when it happened, what it carries, and the W3C
/// trace it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub event_id: EventId,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub schema_version: u32,
    pub appeal_id: AppealId,
    pub occurred_at: DateTime<Utc>,
    /// e.g. `appeal.dispatched.FGJ`, `sla.breached`
    pub routing_key: String,
    /// W3C Trace Context `traceparent` of the request that caused the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// The event itself (actor, reason, data, position in the appeal's history).
    pub payload: Event,
}

impl Envelope {
    pub fn new(event: &Event, traceparent: Option<String>) -> Self {
        Self {
            event_id: event.id,
            event_type: event.event_type,
            schema_version: SCHEMA_VERSION,
            appeal_id: event.appeal_id,
            occurred_at: event.at,
            routing_key: event.routing_key(),
            traceparent,
            payload: event.clone(),
        }
    }
}

/// A valid W3C `traceparent` (version 00), or `None`.
pub fn valid_traceparent(value: &str) -> Option<String> {
    let parts: Vec<&str> = value.trim().split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    match parts.as_slice() {
        [version, trace, parent, flags]
            if *version == "00"
                && hex(trace, 32)
                && hex(parent, 16)
                && hex(flags, 2)
                && trace.bytes().any(|b| b != b'0')
                && parent.bytes().any(|b| b != b'0') =>
        {
            Some(value.trim().to_owned())
        }
        _ => None,
    }
}

/// A new `traceparent` for work that did not arrive with one; ids from two UUIDv7s.
pub fn new_traceparent() -> String {
    let trace = uuid::Uuid::now_v7().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!("00-{trace}-{}-01", &parent[..16])
}

/// Whether a topic binding such as `appeal.dispatched.*` or `appeal.#` matches a routing key,
/// with AMQP topic semantics (`*` one word, `#` zero or more words).
pub fn topic_matches(pattern: &str, key: &str) -> bool {
    fn go(p: &[&str], k: &[&str]) -> bool {
        match (p.first(), k.first()) {
            (None, None) => true,
            (Some(&"#"), _) => go(&p[1..], k) || (!k.is_empty() && go(p, &k[1..])),
            (Some(&"*"), Some(_)) => go(&p[1..], &k[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &k[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    go(&p, &k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_matching() {
        assert!(topic_matches("appeal.received", "appeal.received"));
        assert!(!topic_matches("appeal.received", "appeal.accepted"));
        assert!(topic_matches(
            "appeal.dispatched.*",
            "appeal.dispatched.FGJ"
        ));
        assert!(!topic_matches("appeal.dispatched.*", "appeal.dispatched"));
        assert!(topic_matches("appeal.#", "appeal.dispatched.FGJ"));
        assert!(topic_matches("appeal.#", "appeal"));
        assert!(topic_matches("#", "sla.breached"));
        assert!(topic_matches("*.breached", "sla.breached"));
        assert!(!topic_matches("sla.*", "appeal.received"));
        assert!(topic_matches("appeal.#.FGJ", "appeal.dispatched.FGJ"));
    }

    #[test]
    fn traceparents() {
        let t = new_traceparent();
        assert_eq!(valid_traceparent(&t), Some(t.clone()));
        assert!(
            valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_some()
        );
        assert!(
            valid_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none()
        );
        assert!(
            valid_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_none()
        );
        assert!(valid_traceparent("garbage").is_none());
    }
}
