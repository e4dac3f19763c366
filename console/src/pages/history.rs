//! A case's history as staff pages show it: each step's time, what happened and its details,
//! who and why.

use chrono::{DateTime, Utc};
use hotline_gateway::view::EventView;
use hotline_schemas::EventPayload;
use hotline_schemas::value::limit::Limit;
use hotline_schemas::value::unit::Unit;

use crate::Console;
use crate::i18n::Tr;
use crate::pages::dashboard::unit_label;

/// One step of a case's history.
pub struct Step {
    pub at: String,
    pub what: String,
    pub detail: Option<String>,
    pub actor: Option<String>,
    pub reason: Option<String>,
}

/// The steps of `events` (none when the view has no history), oldest first; `units` name the
/// units dispatched to.
pub fn steps(
    console: &Console,
    tr: &Tr,
    units: &[Unit],
    events: Option<&[EventView]>,
) -> Vec<Step> {
    events
        .unwrap_or_default()
        .iter()
        .map(|e| Step {
            at: e.at.format("%Y-%m-%d %H:%M").to_string(),
            what: tr.code("event", e.payload.event_type().as_str()),
            detail: detail(console, tr, units, &e.payload),
            actor: e.actor.clone(),
            reason: e.reason.clone(),
        })
        .collect()
}

/// A time limit in words.
pub fn limit_text(tr: &Tr, limit: Limit) -> String {
    match limit {
        Limit::Minutes(n) => tr.t1("ov-limit-minutes", "n", n),
        Limit::Hours(n) => tr.t1("ov-limit-hours", "n", n),
        Limit::WorkingDays(n) => tr.t1("ov-limit-days", "n", n),
    }
}

/// What an event says beyond its kind.
fn detail(console: &Console, tr: &Tr, units: &[Unit], payload: &EventPayload) -> Option<String> {
    let tz = console.app.tz();
    let at = |d: DateTime<Utc>| d.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let unit = |u: &str| unit_label(console, tr, units, u);
    match payload {
        EventPayload::Dispatched(a) | EventPayload::Reassigned(a) => Some(unit(&a.unit)),
        EventPayload::ExtensionRequested { limit, .. } => Some(limit_text(tr, *limit)),
        EventPayload::ExtensionApproved { resolve_due, .. } => {
            Some(tr.t1("ov-detail-new-deadline", "at", at(*resolve_due)))
        }
        EventPayload::Replied { result, .. } => Some(result.clone()),
        EventPayload::Rated { rating, comment } => Some(
            [Some(tr.code("rating", rating.as_str())), comment.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
        ),
        EventPayload::Owned { leader, .. } => Some(leader.clone()),
        EventPayload::Escalated { level, .. } => {
            Some(tr.code("ov-level", &level.min(&3).to_string()))
        }
        EventPayload::SlaBreached { due_at, .. } | EventPayload::Reminded { due_at, .. } => {
            Some(tr.t1("ov-detail-due", "at", at(*due_at)))
        }
        EventPayload::Supplemented { text } | EventPayload::Noted { text, .. } => {
            Some(text.clone())
        }
        _ => None,
    }
}
