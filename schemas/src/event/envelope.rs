//! The contract of events on the bus: a versioned envelope around an appeal's event.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventType};
use crate::value::ids::{AppealId, EventId};

/// The envelope version consumers can read. A breaking change to the envelope or to an event's
/// payload raises it (2: confidential appeals, duplicates recorded on the appeal kept; 3: a
/// case owned by users, `owned` naming the user).
pub const SCHEMA_VERSION: u32 = 3;

/// Why a published event cannot be read by this version: it is parked, not dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error(
        "event {event_id}: type `{event_type}` is not known to this version (schema {SCHEMA_VERSION}); written by a newer one?"
    )]
    UnknownType {
        event_id: String,
        event_type: String,
    },
    #[error(
        "event {event_id}: schema version {found} is newer than this version reads ({SCHEMA_VERSION})"
    )]
    NewerSchema { event_id: String, found: u32 },
    #[error("event {event_id} ({event_type}): {detail}")]
    Unreadable {
        event_id: String,
        event_type: String,
        detail: String,
    },
    #[error("malformed envelope: {0}")]
    Malformed(String),
}

/// The fields of an envelope read before its payload, to say what is wrong with it.
#[derive(Deserialize)]
struct Header {
    #[serde(rename = "type")]
    event_type: String,
    schema_version: u32,
}

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
            event_type: event.event_type(),
            schema_version: SCHEMA_VERSION,
            appeal_id: event.appeal_id,
            occurred_at: event.at,
            routing_key: event.routing_key(),
            traceparent,
            payload: event.clone(),
        }
    }
}

impl Envelope {
    /// Reads an envelope as published, with an error that names what this version does not
    /// know: an event type, a newer schema, a field.
    pub fn decode(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        let id = event_id_of(bytes);
        let header: Header =
            serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        if header.event_type.parse::<EventType>().is_err() {
            return Err(EnvelopeError::UnknownType {
                event_id: id,
                event_type: header.event_type,
            });
        }
        if header.schema_version > SCHEMA_VERSION {
            return Err(EnvelopeError::NewerSchema {
                event_id: id,
                found: header.schema_version,
            });
        }
        serde_json::from_slice(bytes).map_err(|e| EnvelopeError::Unreadable {
            event_id: id,
            event_type: header.event_type,
            detail: e.to_string(),
        })
    }

    /// The envelope as published.
    pub fn encode(&self) -> Vec<u8> {
        // An envelope holds only plain data: it always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The event id of an envelope, as far as it can be read, for error messages.
fn event_id_of(bytes: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Id {
        event_id: String,
    }
    serde_json::from_slice::<Id>(bytes)
        .map(|i| i.event_id)
        .unwrap_or_else(|_| "?".to_owned())
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
mod tests;
