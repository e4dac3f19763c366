//! The appeal lifecycle (SPEC §5) as pure functions. [`decide`] is the one place an appeal
//! changes: it turns a command on an appeal into a [`Decision`] (the appeal's new state and
//! the events that record it; for a merge, the target's too), and a `Decision` can be made
//! nowhere else, so the store commits only what `decide` built. Submissions become appeals
//! through [`Intake::receive`]; due time-limit steps through [`fire`].

mod fire;
mod intake;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::appeal::{
    Appeal, Kind, PendingExtension, Priority, Rating, Status, TimeLimit, check_characters,
    require_text,
};
use crate::command::{Actor, Command, MAX_REASON_CHARS, MAX_RESULT_CHARS, Role, transition};
use crate::event::{Assignment, Classification, Event, EventPayload, Recipient};
use crate::policy::calendar::BusinessCalendar;
use crate::policy::sla::{SlaClock, SlaPolicies};
use crate::schedule::{resolution_limit, schedule};
use crate::value::error::{DomainError, ErrorCode};
use crate::value::ids::{EventId, MatterCode, UnitCode};
use crate::value::limit::Limit;

pub use fire::fire;
pub use intake::Intake;

/// The rules every process applies the same way: time-limit policies, the business calendar
/// and the city's time zone.
#[derive(Debug, Clone)]
pub struct Rules {
    pub policies: SlaPolicies,
    pub calendar: BusinessCalendar,
    pub tz: Tz,
    /// The discipline office (纪委监委), which alone handles confidential appeals.
    pub discipline_unit: Option<UnitCode>,
}

impl Rules {
    pub fn clock(&self) -> SlaClock<'_> {
        SlaClock::new(&self.calendar, self.tz)
    }

    /// The context of a command `actor` gives at `now`.
    pub fn context<'a>(&'a self, now: DateTime<Utc>, actor: &'a Actor) -> Context<'a> {
        Context {
            now,
            actor,
            policies: &self.policies,
            clock: self.clock(),
            discipline_unit: self.discipline_unit.as_ref(),
        }
    }
}

#[cfg(test)]
impl Rules {
    /// The shipped calendar and policies, in Shanghai: what the domain's tests run on.
    pub(crate) fn shipped() -> Rules {
        Rules {
            policies: SlaPolicies::default_policies().unwrap(),
            calendar: BusinessCalendar::official().unwrap(),
            tz: chrono_tz::Asia::Shanghai,
            discipline_unit: None,
        }
    }
}

/// What `decide` needs besides the appeal: the time, the caller and the time-limit rules.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub actor: &'a Actor,
    pub policies: &'a SlaPolicies,
    pub clock: SlaClock<'a>,
    /// The discipline office, which alone handles confidential appeals.
    pub discipline_unit: Option<&'a UnitCode>,
}

/// One appeal's part of a decision: its new state, the events that record the change, and the
/// version it was decided on (the store writes it only while it still holds that version).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    appeal: Appeal,
    events: Vec<Event>,
    base_version: i64,
}

impl Change {
    pub fn appeal(&self) -> &Appeal {
        &self.appeal
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The version the change was decided on; `0` for a new appeal.
    pub fn base_version(&self) -> i64 {
        self.base_version
    }
}

/// The outcome of a command: the change to the appeal it was given and, for a merge, the
/// change to the appeal it went into; stored together.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    change: Change,
    target: Option<Change>,
}

impl Decision {
    fn one(change: Change) -> Decision {
        Decision {
            change,
            target: None,
        }
    }

    /// The appeal the command was given, as it is now.
    pub fn appeal(&self) -> &Appeal {
        &self.change.appeal
    }

    /// That appeal's new events.
    pub fn events(&self) -> &[Event] {
        &self.change.events
    }

    pub fn into_appeal(self) -> Appeal {
        self.change.appeal
    }

    /// Every appeal's change, the commanded appeal's first.
    pub fn changes(&self) -> impl Iterator<Item = &Change> {
        std::iter::once(&self.change).chain(&self.target)
    }

    /// This decision followed by `next`, taken on this decision's appeal: stored as one change.
    pub fn then(mut self, next: Decision) -> Decision {
        self.change.events.extend(next.change.events);
        self.change.appeal = next.change.appeal;
        self.target = next.target.or(self.target);
        self
    }
}

/// Applies `command` to `appeal`. The status is checked first, then the command's content.
/// Access rules are checked separately (`Actor::authorize`).
pub fn decide(
    appeal: &Appeal,
    command: Command,
    ctx: &Context<'_>,
) -> Result<Decision, DomainError> {
    let action = command.action();
    let status = transition(appeal.status, action)?;
    let mut next = appeal.clone();
    next.status = status;
    next.updated_at = ctx.now;
    let mut events = EventWriter::new(appeal, ctx);
    let mut target = None;

    match command {
        Command::Classify(classification) => classify(&mut next, classification, &mut events),
        Command::Dispatch { unit, matter } | Command::Reassign { unit, matter } => {
            assign(appeal, &mut next, unit, matter, ctx, &mut events)?;
        }
        Command::Accept => {
            next.sla.stop_reminders();
            events.push(EventPayload::Accepted {
                unit: appeal.unit.clone(),
            });
        }
        Command::Return { reason } => {
            require_text(&reason, "reason", MAX_REASON_CHARS)?;
            next.sla.requeue(ctx.now);
            events.push_with_reason(
                reason,
                EventPayload::Returned {
                    unit: appeal.unit.clone(),
                },
            );
        }
        Command::RequestExtension {
            days,
            hours,
            reason,
        } => request_extension(appeal, &mut next, days, hours, reason, ctx, &mut events)?,
        Command::ApproveExtension => approve_extension(appeal, &mut next, ctx, &mut events)?,
        Command::Reply { result } => {
            require_text(&result, "result", MAX_RESULT_CHARS)?;
            next.sla.end_pause(ctx.now);
            next.sla.replied_at = Some(ctx.now);
            events.push(EventPayload::Replied {
                result,
                unit: appeal.unit.clone(),
                paused_seconds: next.sla.paused_seconds,
            });
        }
        Command::Rate { rating, comment } => {
            rate(appeal, &mut next, rating, comment, ctx, &mut events)?
        }
        Command::Pause { reason } => {
            require_text(&reason, "reason", MAX_REASON_CHARS)?;
            if appeal.sla.paused_since.is_some() {
                return Err(DomainError::new(ErrorCode::AlreadyPaused));
            }
            next.sla.paused_since = Some(ctx.now);
            events.push_with_reason(
                reason,
                EventPayload::Paused {
                    unit: appeal.unit.clone(),
                    resolve_due: appeal.deadlines.resolve_due,
                },
            );
        }
        Command::Resume => resume(appeal, &mut next, ctx, &mut events)?,
        Command::Close { reason } => {
            if let Some(r) = &reason {
                require_text(r, "reason", MAX_REASON_CHARS)?;
            }
            match appeal.status {
                Status::Received if appeal.kind != Kind::Consultation => {
                    return Err(DomainError::new(ErrorCode::NotAConsultation));
                }
                Status::Replied if ctx.actor.role == Role::Agent => {
                    return Err(DomainError::new(ErrorCode::Forbidden)
                        .with_arg("role", ctx.actor.role.as_str())
                        .with_arg("action", action.as_str()));
                }
                _ => {}
            }
            // Closed by hand, so the current reply was not rated: a rating closes or reopens
            // the appeal itself (`rating` may still hold the bad rating of an earlier reply).
            let closed = EventPayload::closed(false);
            match reason {
                Some(reason) => events.push_with_reason(reason, closed),
                None => events.push(closed),
            }
        }
        Command::Void { reason } => {
            require_text(&reason, "reason", MAX_REASON_CHARS)?;
            events.push_with_reason(reason, EventPayload::Voided {});
        }
        Command::Merge { into } => {
            let change = merge(appeal, *into, ctx)?;
            events.push(EventPayload::Merged {
                into: change.appeal.id,
            });
            target = Some(change);
        }
        Command::Supplement { text } => {
            require_text(&text, "text", MAX_RESULT_CHARS)?;
            events.push(EventPayload::Supplemented { text });
            // The material the unit waited for has come: its clock runs again.
            if appeal.sla.paused_since.is_some() {
                resume(appeal, &mut next, ctx, &mut events)?;
            }
        }
        Command::Note { text, mentions } => {
            require_text(&text, "text", MAX_RESULT_CHARS)?;
            events.push(EventPayload::Noted { text, mentions });
        }
        Command::Reveal { reason } => {
            require_text(&reason, "reason", MAX_REASON_CHARS)?;
            events.push_with_reason(reason, EventPayload::Revealed {});
        }
        Command::MarkConfidential { subject_unit } => {
            mark_confidential(appeal, &mut next, subject_unit, ctx, &mut events)?;
        }
        Command::Own => {
            let leader = ctx.actor.as_staff();
            if appeal.is_owned_by(leader.user) {
                return Err(DomainError::new(ErrorCode::AlreadyOwned));
            }
            events.push(EventPayload::owned(&leader));
            next.owners.push(leader);
        }
        Command::Fire { due, leaders } => {
            return fire::fire_step(appeal, due, ctx, &leaders);
        }
    }

    // Only an accepted appeal can have its extension approved: leaving that status (reply,
    // void, reassign, …) drops a request still pending.
    if next.status != Status::Accepted {
        next.pending_extension = None;
        next.sla.end_pause(ctx.now);
    }
    Ok(Decision {
        change: events.finish(next),
        target,
    })
}

/// Records the router's conclusion: matter, suggestions, the duplicate it probably repeats,
/// and urgency: signals found make an appeal still waiting for dispatch urgent.
fn classify(next: &mut Appeal, classification: Classification, events: &mut EventWriter<'_>) {
    next.matter = classification.matter.clone();
    next.suggestions = classification.suggestions.clone();
    next.duplicate_of = classification.duplicate_of;
    next.place = classification.place.clone();
    next.held = classification.held;
    if classification.confidential {
        next.confidential = true;
        if next.subject_unit.is_none() {
            next.subject_unit = classification.subject_unit.clone();
        }
    }
    if next.status == Status::Received && !classification.urgent_signals.is_empty() {
        next.priority = Priority::Urgent;
    }
    events.push(EventPayload::Classified(Classification {
        priority: next.priority,
        ..classification
    }));
}

/// Where a confidential appeal may go: never to the unit it complains about (admins
/// included), and only to the discipline office.
fn confidential_destination(
    appeal: &Appeal,
    unit: &UnitCode,
    ctx: &Context<'_>,
) -> Result<(), DomainError> {
    if !appeal.confidential {
        return Ok(());
    }
    if appeal.subject_unit.as_ref() == Some(unit) {
        return Err(DomainError::new(ErrorCode::SubjectUnitRefused)
            .with_field("unit")
            .with_arg("unit", unit.as_str()));
    }
    match ctx.discipline_unit {
        Some(office) if office != unit => {
            Err(DomainError::new(ErrorCode::ConfidentialToDisciplineOnly)
                .with_field("unit")
                .with_arg("expected", office.as_str())
                .with_arg("unit", unit.as_str()))
        }
        _ => Ok(()),
    }
}

/// Marks the appeal confidential. One another unit holds is taken from it and given to the
/// discipline office (a reassignment: both clocks start again).
fn mark_confidential(
    appeal: &Appeal,
    next: &mut Appeal,
    subject_unit: Option<UnitCode>,
    ctx: &Context<'_>,
    events: &mut EventWriter<'_>,
) -> Result<(), DomainError> {
    next.confidential = true;
    if subject_unit.is_some() {
        next.subject_unit = subject_unit;
    }
    events.push(EventPayload::MarkedConfidential {
        subject_unit: next.subject_unit.clone(),
    });
    let held_elsewhere = appeal.unit.is_some()
        && appeal.unit.as_ref() != ctx.discipline_unit
        && matches!(
            appeal.status,
            Status::Dispatched | Status::Accepted | Status::Reopened
        );
    if let (true, Some(office)) = (held_elsewhere, ctx.discipline_unit) {
        let marked = next.clone();
        assign(&marked, next, office.clone(), None, ctx, events)?;
        next.status = Status::Dispatched;
    }
    Ok(())
}

/// 派单 or 改派: both clocks start again for the unit.
fn assign(
    appeal: &Appeal,
    next: &mut Appeal,
    unit: UnitCode,
    matter: Option<MatterCode>,
    ctx: &Context<'_>,
    events: &mut EventWriter<'_>,
) -> Result<(), DomainError> {
    require_text(&unit, "unit", 64)?;
    confidential_destination(appeal, &unit, ctx)?;
    if appeal.status != Status::Returned && appeal.unit.as_ref() == Some(&unit) {
        return Err(DomainError::new(ErrorCode::SameUnit)
            .with_field("unit")
            .with_arg("unit", unit.as_str()));
    }
    let policy = ctx
        .policies
        .policy_for(appeal.kind, appeal.channel, appeal.priority);
    next.deadlines = ctx.clock.on_dispatch(policy, ctx.now);
    next.pending_extension = None;
    next.sla.restart(ctx.now);
    if let Some(matter) = &matter {
        next.matter = Some(matter.clone());
    }
    let assignment = Assignment {
        unit: unit.clone(),
        from_unit: appeal.unit.clone(),
        response_due: next.deadlines.response_due,
        resolve_due: next.deadlines.resolve_due,
        matter,
    };
    next.unit = Some(unit);
    events.push(match appeal.unit {
        Some(_) => EventPayload::Reassigned(assignment),
        None => EventPayload::Dispatched(assignment),
    });
    Ok(())
}

fn request_extension(
    appeal: &Appeal,
    next: &mut Appeal,
    days: Option<u32>,
    hours: Option<u32>,
    reason: String,
    ctx: &Context<'_>,
    events: &mut EventWriter<'_>,
) -> Result<(), DomainError> {
    let limit = extension_limit(appeal.priority, days, hours)?;
    require_text(&reason, "reason", MAX_REASON_CHARS)?;
    if appeal.pending_extension.is_some() {
        return Err(DomainError::new(ErrorCode::ExtensionPending));
    }
    let due = appeal.deadlines.resolve_due;
    let in_time = due.is_some_and(|due| {
        ctx.clock
            .extension_request_in_time(ctx.policies, ctx.now, due, appeal.priority)
    });
    if !in_time {
        return Err(DomainError::new(ErrorCode::ExtensionTooLate));
    }
    next.pending_extension = Some(PendingExtension {
        days,
        hours,
        reason: reason.clone(),
        requested_at: ctx.now,
        requested_by: ctx.actor.name.clone(),
    });
    events.push_with_reason(
        reason,
        EventPayload::ExtensionRequested {
            limit,
            resolve_due: due,
        },
    );
    Ok(())
}

fn approve_extension(
    appeal: &Appeal,
    next: &mut Appeal,
    ctx: &Context<'_>,
    events: &mut EventWriter<'_>,
) -> Result<(), DomainError> {
    let pending = appeal
        .pending_extension
        .as_ref()
        .ok_or_else(|| DomainError::new(ErrorCode::NoPendingExtension))?;
    let limit = extension_limit(appeal.priority, pending.days, pending.hours)?;
    let previous = appeal.deadlines.resolve_due.unwrap_or(ctx.now);
    let moved = ctx.clock.extend(previous, limit);
    next.deadlines.resolve_due = Some(moved);
    next.pending_extension = None;
    // A deadline moved past now cancels the escalation ladder of the missed one.
    if moved > ctx.now {
        next.sla.level = 0;
    }
    events.push(EventPayload::ExtensionApproved {
        limit,
        previous_resolve_due: previous,
        resolve_due: moved,
    });
    Ok(())
}

/// 好差评: a good rating closes the appeal; a bad one reopens it for rework with a new
/// deadline, and past the allowed reworks also calls the supervisor.
fn rate(
    appeal: &Appeal,
    next: &mut Appeal,
    rating: Rating,
    comment: Option<String>,
    ctx: &Context<'_>,
    events: &mut EventWriter<'_>,
) -> Result<(), DomainError> {
    if let Some(c) = &comment {
        if c.chars().count() > MAX_REASON_CHARS {
            return Err(DomainError::new(ErrorCode::TooLong)
                .with_field("comment")
                .with_arg("max", MAX_REASON_CHARS.to_string()));
        }
        check_characters(c, "comment")?;
    }
    next.rating = Some(rating);
    events.push(EventPayload::Rated { rating, comment });
    if !rating.is_bad() {
        events.push(EventPayload::closed(true));
        return Ok(());
    }
    next.rework_count += 1;
    next.pending_extension = None;
    let policy = ctx
        .policies
        .policy_for(appeal.kind, appeal.channel, appeal.priority);
    let fresh = ctx.clock.on_dispatch(policy, ctx.now);
    next.deadlines.response_due = fresh.response_due;
    next.deadlines.resolve_due = Some(ctx.clock.rework_due(ctx.policies, ctx.now));
    next.sla.restart(ctx.now);
    events.push(EventPayload::Reopened {
        rework_count: next.rework_count,
        response_due: next.deadlines.response_due,
        resolve_due: next.deadlines.resolve_due,
    });
    let max_reworks = ctx.policies.follow_up().max_reworks;
    if next.rework_count > max_reworks {
        events.push(EventPayload::Escalated {
            step: None,
            due_at: None,
            unit: appeal.unit.clone(),
            limit: TimeLimit::Rework,
            level: 2,
            notified: if appeal.confidential {
                Recipient::MailboxReaders
            } else {
                Recipient::Supervisor
            },
            leader: None,
            rework_count: Some(next.rework_count),
            max_reworks: Some(max_reworks),
        });
    }
    Ok(())
}

/// The appellant's material came: the resolution deadline, and the start of its clock, move by
/// the paused working time, so warnings still fall at their fractions of the time worked.
fn resume(
    appeal: &Appeal,
    next: &mut Appeal,
    ctx: &Context<'_>,
    events: &mut EventWriter<'_>,
) -> Result<(), DomainError> {
    let since = appeal
        .sla
        .paused_since
        .ok_or_else(|| DomainError::new(ErrorCode::NotPaused))?;
    let seconds = next.sla.end_pause(ctx.now);
    let limit = resolution_limit(appeal, ctx.policies);
    let shift = |t: DateTime<Utc>| ctx.clock.shift_by_pause(limit, t, since, ctx.now);
    let previous = appeal.deadlines.resolve_due;
    next.deadlines.resolve_due = previous.map(shift);
    next.sla.started_at = appeal.sla.started_at.map(shift);
    events.push(EventPayload::Resumed {
        unit: appeal.unit.clone(),
        paused_seconds: seconds,
        previous_resolve_due: previous,
        resolve_due: next.deadlines.resolve_due,
    });
    Ok(())
}

/// The target's side of a merge: it records the duplicate. A voided or merged appeal cannot
/// take duplicates.
fn merge(duplicate: &Appeal, target: Appeal, ctx: &Context<'_>) -> Result<Change, DomainError> {
    let refused = || {
        DomainError::new(ErrorCode::InvalidValue)
            .with_field("into")
            .with_arg("detail", format!(": {}", target.id))
    };
    if target.id == duplicate.id || matches!(target.status, Status::Voided | Status::Merged) {
        return Err(refused());
    }
    let mut next = target.clone();
    next.updated_at = ctx.now;
    if !next.duplicates.contains(&duplicate.id) {
        next.duplicates.push(duplicate.id);
    }
    let mut events = EventWriter::new(&target, ctx);
    events.push(EventPayload::DuplicateMerged {
        duplicate: duplicate.id,
        ticket_no: duplicate.ticket_no.clone(),
    });
    Ok(events.finish(next))
}

/// The extension asked for: working days for a normal appeal, hours for an urgent one.
fn extension_limit(
    priority: Priority,
    days: Option<u32>,
    hours: Option<u32>,
) -> Result<Limit, DomainError> {
    let out_of_range = |field: &str, max: u32| {
        DomainError::new(ErrorCode::InvalidValue)
            .with_field(field)
            .with_arg("max", max.to_string())
    };
    match (priority, days, hours) {
        (Priority::Normal, Some(d), None) if (1..=30).contains(&d) => Ok(Limit::WorkingDays(d)),
        (Priority::Normal, Some(_), None) => Err(out_of_range("days", 30)),
        (Priority::Normal, _, _) => {
            Err(DomainError::new(ErrorCode::MissingField).with_field("days"))
        }
        (Priority::Urgent, None, Some(h)) if (1..=72).contains(&h) => Ok(Limit::Hours(h)),
        (Priority::Urgent, None, Some(_)) => Err(out_of_range("hours", 72)),
        (Priority::Urgent, _, _) => {
            Err(DomainError::new(ErrorCode::MissingField).with_field("hours"))
        }
    }
}

/// Numbers the events of one change after the appeal's existing history.
struct EventWriter<'a> {
    appeal: &'a Appeal,
    ctx: &'a Context<'a>,
    events: Vec<Event>,
}

impl<'a> EventWriter<'a> {
    fn new(appeal: &'a Appeal, ctx: &'a Context<'a>) -> Self {
        Self {
            appeal,
            ctx,
            events: Vec::new(),
        }
    }

    fn push(&mut self, payload: EventPayload) {
        self.record(None, payload);
    }

    fn push_with_reason(&mut self, reason: String, payload: EventPayload) {
        self.record(Some(reason), payload);
    }

    fn record(&mut self, reason: Option<String>, payload: EventPayload) {
        self.events.push(Event {
            id: EventId::new(),
            appeal_id: self.appeal.id,
            seq: self.appeal.version + self.events.len() as i64 + 1,
            at: self.ctx.now,
            actor: self.ctx.actor.name.clone(),
            actor_id: self.ctx.actor.user,
            reason,
            payload,
        });
    }

    /// The change: `next` with its next time-limit step scheduled and its version counted.
    fn finish(self, mut next: Appeal) -> Change {
        next.sla.next = schedule(&next, self.ctx.policies, &self.ctx.clock);
        next.version = self.appeal.version + self.events.len() as i64;
        Change {
            appeal: next,
            events: self.events,
            base_version: self.appeal.version,
        }
    }
}

#[cfg(test)]
mod tests;
