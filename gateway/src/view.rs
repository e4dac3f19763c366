//! What the API answers: appeals and events with times in the city's time zone (RFC 3339 with
//! its offset).

use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use hotline_schemas::value::taxonomy::PlaceFound;
use hotline_schemas::{
    Appeal, Appellant, Attachment, Channel, Event, EventPayload, Held, Kind, Location, MatterCode,
    PendingExtension, Priority, Rating, SlaTrack, StaffRef, Status, Suggestion, TicketNo, UnitCode,
    UserId,
};
use serde::Serialize;

fn local(at: DateTime<Utc>, tz: Tz) -> DateTime<FixedOffset> {
    at.with_timezone(&tz).fixed_offset()
}

#[derive(Serialize)]
pub struct DeadlinesView {
    pub response_due: Option<DateTime<FixedOffset>>,
    pub resolve_due: Option<DateTime<FixedOffset>>,
    pub original_resolve_due: Option<DateTime<FixedOffset>>,
}

/// Where the appeal stands with its time limits.
#[derive(Serialize)]
pub struct SlaView {
    /// Waiting for the appellant's material since (补充材料), the resolution clock stopped.
    pub paused_since: Option<DateTime<FixedOffset>>,
    /// Time spent paused, all pauses together (so far, when paused now).
    pub paused_seconds: i64,
    /// Reminders sent in the current wait (dispatch or sign-for).
    pub reminders: u32,
    /// Resolution warnings sent.
    pub warnings: u32,
    /// Escalation level after the resolution deadline: 0 none, 1 unit, 2 supervisor, 3 leader.
    pub escalation_level: u8,
    /// The next step of its time limits and when it is due.
    pub next_step: Option<&'static str>,
    pub next_due: Option<DateTime<FixedOffset>>,
}

impl SlaView {
    fn new(t: &SlaTrack, tz: Tz, now: DateTime<Utc>) -> Self {
        let running = t
            .paused_since
            .map_or(0, |since| (now - since).num_seconds().max(0));
        Self {
            paused_since: t.paused_since.map(|at| local(at, tz)),
            paused_seconds: t.paused_seconds + running,
            reminders: t.reminders,
            warnings: t.warnings,
            escalation_level: t.level,
            next_step: t.next.map(|n| n.step.as_str()),
            next_due: t.next.map(|n| local(n.at, tz)),
        }
    }
}

/// An event: `type` and `data` as stored, beside when, who and why.
#[derive(Serialize)]
pub struct EventView {
    pub at: DateTime<FixedOffset>,
    /// Who did it (staff names are not shown to appellants).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The user behind the actor's token, when it was issued for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<UserId>,
    pub reason: Option<String>,
    #[serde(flatten)]
    pub payload: EventPayload,
}

impl EventView {
    pub fn new(e: Event, tz: Tz) -> Self {
        Self {
            at: local(e.at, tz),
            actor: Some(e.actor),
            actor_id: e.actor_id,
            reason: e.reason,
            payload: e.payload,
        }
    }
}

/// Whether an appellant sees an event of `payload`'s kind in their timeline, and its reason
/// (what to supply, for a pause).
fn public(payload: &EventPayload) -> Option<bool> {
    match payload {
        EventPayload::Paused { .. } => Some(true),
        EventPayload::Received { .. }
        | EventPayload::Dispatched(_)
        | EventPayload::Reassigned(_)
        | EventPayload::Accepted { .. }
        | EventPayload::Resumed { .. }
        | EventPayload::Replied { .. }
        | EventPayload::Rated { .. }
        | EventPayload::Reopened { .. }
        | EventPayload::Closed { .. }
        | EventPayload::Voided {}
        | EventPayload::Merged { .. }
        | EventPayload::Supplemented { .. } => Some(false),
        _ => None,
    }
}

/// An appeal as the API shows it.
#[derive(Serialize)]
pub struct AppealView {
    pub id: String,
    pub ticket_no: TicketNo,
    pub status: Status,
    pub channel: Channel,
    pub kind: Kind,
    pub priority: Priority,
    pub title: String,
    pub body: String,
    pub appellant: Appellant,
    pub location: Location,
    pub attachments: Vec<Attachment>,
    pub matter: Option<MatterCode>,
    pub unit: Option<UnitCode>,
    pub deadlines: DeadlinesView,
    pub overdue: bool,
    pub sla: SlaView,
    pub pending_extension: Option<PendingExtension>,
    pub rating: Option<Rating>,
    pub rework_count: u32,
    pub suggestions: Vec<Suggestion>,
    pub duplicate_of: Option<String>,
    /// Later appeals merged into this one as its duplicates.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<String>,
    /// The leaders who own the case (包案).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<StaffRef>,
    /// A complaint about officials' conduct, seen only by the discipline office, mailbox
    /// readers and admins.
    pub confidential: bool,
    /// The unit a confidential appeal complains about.
    pub subject_unit: Option<UnitCode>,
    /// The street of a territorial matter's appeal, and how the router found it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<PlaceFound>,
    /// Why the router left the appeal to the dispatcher (`no_place`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<Held>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    pub version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventView>>,
}

impl AppealView {
    /// What the appellant sees of their appeal: its status, the public timeline (no staff
    /// names, no internal reasons), the reply and the rating; no router suggestions, owner,
    /// pending extension or links to other appeals.
    pub fn public(mut self) -> Self {
        self.suggestions.clear();
        self.owners.clear();
        self.pending_extension = None;
        self.duplicate_of = None;
        self.duplicates.clear();
        self.subject_unit = None;
        self.held = None;
        self.matter = None;
        self.events = self.events.map(|list| {
            list.into_iter()
                .filter_map(|mut e| {
                    let keep_reason = public(&e.payload)?;
                    e.actor = None;
                    e.actor_id = None;
                    if !keep_reason {
                        e.reason = None;
                    }
                    Some(e)
                })
                .collect()
        });
        self
    }

    /// The appeal, with its history when `events` is given.
    pub fn new(a: Appeal, events: Option<Vec<Event>>, tz: Tz, now: DateTime<Utc>) -> Self {
        let overdue = a.is_overdue(now);
        Self {
            id: a.id.to_string(),
            ticket_no: a.ticket_no,
            status: a.status,
            channel: a.channel,
            kind: a.kind,
            priority: a.priority,
            title: a.title,
            body: a.body,
            appellant: a.appellant,
            location: a.location,
            attachments: a.attachments,
            matter: a.matter,
            unit: a.unit,
            deadlines: DeadlinesView {
                response_due: a.deadlines.response_due.map(|t| local(t, tz)),
                resolve_due: a.deadlines.resolve_due.map(|t| local(t, tz)),
                original_resolve_due: a.deadlines.original_resolve_due.map(|t| local(t, tz)),
            },
            overdue,
            sla: SlaView::new(&a.sla, tz, now),
            pending_extension: a.pending_extension,
            rating: a.rating,
            rework_count: a.rework_count,
            suggestions: a.suggestions,
            duplicate_of: a.duplicate_of.map(|id| id.to_string()),
            duplicates: a.duplicates.iter().map(ToString::to_string).collect(),
            owners: a.owners,
            confidential: a.confidential,
            subject_unit: a.subject_unit,
            place: a.place,
            held: a.held,
            created_at: local(a.created_at, tz),
            updated_at: local(a.updated_at, tz),
            version: a.version,
            events: events.map(|list| list.into_iter().map(|e| EventView::new(e, tz)).collect()),
        }
    }
}
