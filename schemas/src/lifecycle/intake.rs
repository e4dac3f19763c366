//! Submissions: a validated new appeal waits for the ticket number the store counts, then
//! becomes a received appeal with its first event and its first timer.

use chrono::{DateTime, Utc};

use crate::appeal::{Appeal, DueStep, NewAppeal, Priority};
use crate::command::Role;
use crate::event::{Event, EventPayload};
use crate::schedule::on_receipt;
use crate::value::error::DomainError;
use crate::value::ids::{AppealId, EventId, StaffRef, TicketNo, UserId};

use super::{Change, Context, Decision};

/// A submission that passed validation, before it has a ticket number.
#[derive(Debug, Clone, PartialEq)]
pub struct Intake {
    id: AppealId,
    new: NewAppeal,
    at: DateTime<Utc>,
    actor: String,
    /// The user behind the submitter's token.
    actor_id: Option<UserId>,
    /// The agent who logged it from a call.
    logged_by: Option<StaffRef>,
    first_timer: DueStep,
}

impl Intake {
    /// Validates `new`, submitted by `ctx.actor` at `ctx.now`; its first timer is the
    /// dispatch limit. The public's submissions are normal: staff and the router's urgency
    /// signals raise the priority.
    pub fn new(mut new: NewAppeal, ctx: &Context<'_>) -> Result<Intake, DomainError> {
        new.validate()?;
        if !ctx.actor.may_set_priority() {
            new.priority = Priority::Normal;
        }
        Ok(Intake {
            id: AppealId::new(),
            first_timer: on_receipt(ctx.now, ctx.policies, &ctx.clock),
            new,
            at: ctx.now,
            actor: ctx.actor.name.clone(),
            actor_id: ctx.actor.user,
            logged_by: (ctx.actor.role == Role::Agent).then(|| ctx.actor.as_staff()),
        })
    }

    pub fn id(&self) -> AppealId {
        self.id
    }

    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// The received appeal under `ticket_no`, with its `received` event.
    pub fn receive(self, ticket_no: TicketNo) -> Decision {
        let mut appeal = Appeal::received(self.id, ticket_no, self.new, self.at);
        appeal.sla.next = Some(self.first_timer);
        appeal.logged_by = self.logged_by;
        let received = Event {
            id: EventId::new(),
            appeal_id: appeal.id,
            seq: 1,
            at: self.at,
            actor: self.actor,
            actor_id: self.actor_id,
            reason: None,
            payload: EventPayload::Received {
                channel: appeal.channel,
                kind: appeal.kind,
                priority: appeal.priority,
                ticket_no: appeal.ticket_no.clone(),
                confidential: appeal.confidential,
            },
        };
        Decision::one(Change {
            appeal,
            events: vec![received],
            base_version: 0,
        })
    }
}
