//! The appeal lifecycle (SPEC §5) as pure functions: an explicit table of allowed transitions,
//! and `decide`, which turns a command on an appeal into its new state and events.

use chrono::{DateTime, Utc};
use serde_json::json;
use strum::{EnumIter, IntoStaticStr};

use crate::appeal::{Appeal, Kind, PendingExtension, Priority, Rating, Status, require_text};
use crate::error::{DomainError, ErrorCode};
use crate::event::{Event, EventType};
use crate::ids::{AppealId, EventId};
use crate::role::{Actor, Role};
use crate::sla::{Limit, SlaClock, SlaPolicies};

/// Something a person can do to an appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Action {
    /// 派单
    Dispatch,
    /// 签收
    Accept,
    /// 退回
    Return,
    /// 改派
    Reassign,
    /// 申请延期
    RequestExtension,
    /// 批准延期
    ApproveExtension,
    /// 办结答复
    Reply,
    /// 评价: 非常满意, 满意 or 基本满意
    RateSatisfied,
    /// 评价: 不满意 or 非常不满意 (差评), which sends it back for rework
    RateUnsatisfied,
    Close,
    /// 作废
    Void,
    Merge,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The table of allowed transitions: the status an action leads to from a status, or `None`
/// when the action is not allowed there.
pub fn next_status(from: Status, action: Action) -> Option<Status> {
    use Action as A;
    use Status as S;
    match (from, action) {
        (S::Received, A::Dispatch) => Some(S::Dispatched),
        (S::Received, A::Close) => Some(S::Closed),
        (S::Received, A::Void) => Some(S::Voided),
        (S::Received, A::Merge) => Some(S::Merged),

        (S::Dispatched, A::Accept) => Some(S::Accepted),
        (S::Dispatched, A::Return) => Some(S::Returned),
        (S::Dispatched, A::Reassign) => Some(S::Dispatched),
        (S::Dispatched, A::Void) => Some(S::Voided),
        (S::Dispatched, A::Merge) => Some(S::Merged),

        (S::Returned, A::Dispatch) => Some(S::Dispatched),
        (S::Returned, A::Reassign) => Some(S::Dispatched),
        (S::Returned, A::Void) => Some(S::Voided),
        (S::Returned, A::Merge) => Some(S::Merged),

        (S::Accepted, A::RequestExtension) => Some(S::Accepted),
        (S::Accepted, A::ApproveExtension) => Some(S::Accepted),
        (S::Accepted, A::Reply) => Some(S::Replied),
        (S::Accepted, A::Reassign) => Some(S::Dispatched),
        (S::Accepted, A::Void) => Some(S::Voided),

        (S::Replied, A::RateSatisfied) => Some(S::Closed),
        (S::Replied, A::RateUnsatisfied) => Some(S::Reopened),
        (S::Replied, A::Close) => Some(S::Closed),

        (S::Reopened, A::Accept) => Some(S::Accepted),
        (S::Reopened, A::Reassign) => Some(S::Dispatched),
        (S::Reopened, A::Void) => Some(S::Voided),

        _ => None,
    }
}

/// The status `action` leads to, or `action_not_allowed` naming the status and the action.
pub fn transition(from: Status, action: Action) -> Result<Status, DomainError> {
    next_status(from, action).ok_or_else(|| {
        DomainError::new(ErrorCode::ActionNotAllowed)
            .with_arg("action", action.as_str())
            .with_arg("status", from.as_str())
    })
}

/// An action with its content, as validated input.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Dispatch { unit: String },
    Reassign { unit: String },
    Accept,
    Return { reason: String },
    RequestExtension { days: Option<u32>, hours: Option<u32>, reason: String },
    ApproveExtension,
    Reply { result: String },
    Rate { rating: Rating, comment: Option<String> },
    Close { reason: Option<String> },
    Void { reason: String },
    Merge { into: AppealId },
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Dispatch { .. } => Action::Dispatch,
            Command::Reassign { .. } => Action::Reassign,
            Command::Accept => Action::Accept,
            Command::Return { .. } => Action::Return,
            Command::RequestExtension { .. } => Action::RequestExtension,
            Command::ApproveExtension => Action::ApproveExtension,
            Command::Reply { .. } => Action::Reply,
            Command::Rate { rating, .. } if rating.is_bad() => Action::RateUnsatisfied,
            Command::Rate { .. } => Action::RateSatisfied,
            Command::Close { .. } => Action::Close,
            Command::Void { .. } => Action::Void,
            Command::Merge { .. } => Action::Merge,
        }
    }
}

/// Longest reason (退回理由, 作废理由, …) accepted, in characters.
pub const MAX_REASON_CHARS: usize = 1_000;
/// Longest reply (办结答复) accepted, in characters.
pub const MAX_RESULT_CHARS: usize = 10_000;

/// What `decide` needs besides the appeal: the time, the caller and the time-limit rules.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub actor: &'a Actor,
    pub policies: &'a SlaPolicies,
    pub clock: SlaClock<'a>,
}

/// The outcome of a command: the appeal's new state and the events that record it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub appeal: Appeal,
    pub events: Vec<Event>,
}

/// Applies `command` to `appeal`. The status is checked first, then the command's content.
/// Access rules are checked separately (`Actor::authorize`).
pub fn decide(appeal: &Appeal, command: Command, ctx: &Context<'_>) -> Result<Decision, DomainError> {
    let action = command.action();
    let status = transition(appeal.status, action)?;
    let mut next = appeal.clone();
    next.status = status;
    next.updated_at = ctx.now;
    let mut events = EventWriter::new(appeal, ctx);

    match command {
        Command::Dispatch { unit } | Command::Reassign { unit } => {
            require_text(&unit, "unit", 64)?;
            if appeal.status != Status::Returned && appeal.unit.as_deref() == Some(unit.as_str()) {
                return Err(DomainError::new(ErrorCode::SameUnit)
                    .with_field("unit")
                    .with_arg("unit", unit));
            }
            let policy = ctx
                .policies
                .policy_for(appeal.kind, appeal.channel, appeal.priority);
            next.deadlines = ctx.clock.on_dispatch(policy, ctx.now);
            next.pending_extension = None;
            let event_type = match &appeal.unit {
                Some(_) => EventType::Reassigned,
                None => EventType::Dispatched,
            };
            let data = json!({
                "unit": unit,
                "from_unit": appeal.unit,
                "response_due": next.deadlines.response_due,
                "resolve_due": next.deadlines.resolve_due,
            });
            next.unit = Some(unit);
            events.push(event_type, None, data);
        }
        Command::Accept => {
            events.push(EventType::Accepted, None, json!({ "unit": appeal.unit }));
        }
        Command::Return { reason } => {
            require_text(&reason, "reason", MAX_REASON_CHARS)?;
            events.push(EventType::Returned, Some(reason), json!({ "unit": appeal.unit }));
        }
        Command::RequestExtension {
            days,
            hours,
            reason,
        } => {
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
            events.push(
                EventType::ExtensionRequested,
                Some(reason),
                json!({ "limit": limit, "resolve_due": due }),
            );
        }
        Command::ApproveExtension => {
            let pending = appeal
                .pending_extension
                .as_ref()
                .ok_or_else(|| DomainError::new(ErrorCode::NoPendingExtension))?;
            let limit = extension_limit(appeal.priority, pending.days, pending.hours)?;
            let previous = appeal.deadlines.resolve_due.unwrap_or(ctx.now);
            let moved = ctx.clock.extend(previous, limit);
            next.deadlines.resolve_due = Some(moved);
            next.pending_extension = None;
            events.push(
                EventType::ExtensionApproved,
                None,
                json!({ "limit": limit, "previous_resolve_due": previous, "resolve_due": moved }),
            );
        }
        Command::Reply { result } => {
            require_text(&result, "result", MAX_RESULT_CHARS)?;
            events.push(EventType::Replied, None, json!({ "result": result, "unit": appeal.unit }));
        }
        Command::Rate { rating, comment } => {
            if let Some(c) = &comment {
                if c.chars().count() > MAX_REASON_CHARS {
                    return Err(DomainError::new(ErrorCode::TooLong)
                        .with_field("comment")
                        .with_arg("max", MAX_REASON_CHARS.to_string()));
                }
            }
            next.rating = Some(rating);
            events.push(
                EventType::Rated,
                None,
                json!({ "rating": rating, "comment": comment }),
            );
            if rating.is_bad() {
                next.rework_count += 1;
                next.pending_extension = None;
                let policy = ctx
                    .policies
                    .policy_for(appeal.kind, appeal.channel, appeal.priority);
                let fresh = ctx.clock.on_dispatch(policy, ctx.now);
                next.deadlines.response_due = fresh.response_due;
                next.deadlines.resolve_due = Some(ctx.clock.rework_due(ctx.policies, ctx.now));
                events.push(
                    EventType::Reopened,
                    None,
                    json!({
                        "rework_count": next.rework_count,
                        "response_due": next.deadlines.response_due,
                        "resolve_due": next.deadlines.resolve_due,
                    }),
                );
            } else {
                events.push(EventType::Closed, None, json!({ "rated": true }));
            }
        }
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
            let rated = appeal.status == Status::Replied && appeal.rating.is_some();
            events.push(EventType::Closed, reason, json!({ "rated": rated }));
        }
        Command::Void { reason } => {
            require_text(&reason, "reason", MAX_REASON_CHARS)?;
            events.push(EventType::Voided, Some(reason), json!({}));
        }
        Command::Merge { into } => {
            if into == appeal.id {
                return Err(DomainError::new(ErrorCode::InvalidValue).with_field("into"));
            }
            events.push(EventType::Merged, None, json!({ "into": into }));
        }
    }

    let events = events.finish();
    next.version = appeal.version + events.len() as i64;
    Ok(Decision {
        appeal: next,
        events,
    })
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
        (Priority::Normal, _, _) => Err(DomainError::new(ErrorCode::MissingField).with_field("days")),
        (Priority::Urgent, None, Some(h)) if (1..=72).contains(&h) => Ok(Limit::Hours(h)),
        (Priority::Urgent, None, Some(_)) => Err(out_of_range("hours", 72)),
        (Priority::Urgent, _, _) => Err(DomainError::new(ErrorCode::MissingField).with_field("hours")),
    }
}

/// Numbers the events of one decision after the appeal's existing history.
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

    fn push(&mut self, event_type: EventType, reason: Option<String>, data: serde_json::Value) {
        self.events.push(Event {
            id: EventId::new(),
            appeal_id: self.appeal.id,
            seq: self.appeal.version + self.events.len() as i64 + 1,
            event_type,
            at: self.ctx.now,
            actor: self.ctx.actor.name.clone(),
            reason,
            data,
        });
    }

    fn finish(self) -> Vec<Event> {
        self.events
    }
}

/// The first event of every appeal.
pub fn received_event(appeal: &Appeal, actor: &str) -> Event {
    Event {
        id: EventId::new(),
        appeal_id: appeal.id,
        seq: 1,
        event_type: EventType::Received,
        at: appeal.created_at,
        actor: actor.to_owned(),
        reason: None,
        data: json!({
            "channel": appeal.channel,
            "kind": appeal.kind,
            "priority": appeal.priority,
            "ticket_no": appeal.ticket_no,
        }),
    }
}
