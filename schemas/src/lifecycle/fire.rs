//! Due time-limit steps as commands: what firing each records (SPEC §6–§7).

use crate::appeal::{Appeal, DueStep, Status, Step, TimeLimit};
use crate::command::{Action, Command, UnitLeaders, transition};
use crate::event::{EventPayload, Recipient};
use crate::schedule::schedule;
use crate::value::error::DomainError;

use super::{Change, Context, Decision, EventWriter, decide};

/// Most steps fired for one appeal at once (a long outage can leave several due).
const MAX_STEPS_AT_ONCE: usize = 16;

/// Fires, in order, every step of `appeal` due at `ctx.now` — after an outage that may be
/// several (warnings, the breach, the ladder), each once: the appeal records what has fired,
/// and the store keeps it with the events in one change. Missed reminders are not repeated:
/// one is sent and the next follows `remind_every` later. `leaders` are the unit's, for
/// level 3.
///
/// `None` when nothing is due and the appeal's timer is right; a decision without events
/// when only the timer needs correcting (the policies changed).
pub fn fire(
    appeal: &Appeal,
    ctx: &Context<'_>,
    leaders: &UnitLeaders,
) -> Result<Option<Decision>, DomainError> {
    // Under the current policies; after each step, the step's decision has scheduled the next.
    let scheduled = schedule(appeal, ctx.policies, &ctx.clock);
    let mut due = scheduled;
    let mut decision: Option<Decision> = None;
    for _ in 0..MAX_STEPS_AT_ONCE {
        let Some(step) = due.filter(|d| d.at <= ctx.now) else {
            break;
        };
        let current = decision.as_ref().map_or(appeal, Decision::appeal);
        let command = Command::Fire {
            due: step,
            leaders: leaders.clone(),
        };
        let fired = decide(current, command, ctx)?;
        due = fired.appeal().sla.next;
        decision = Some(match decision {
            None => fired,
            Some(d) => d.then(fired),
        });
    }
    if decision.is_none() && scheduled != appeal.sla.next {
        let mut corrected = appeal.clone();
        corrected.sla.next = scheduled;
        return Ok(Some(Decision::one(Change {
            appeal: corrected,
            events: Vec::new(),
            base_version: appeal.version,
        })));
    }
    Ok(decision)
}

/// Records one due step (`decide` has checked the appeal is not terminal).
pub(super) fn fire_step(
    appeal: &Appeal,
    due: DueStep,
    ctx: &Context<'_>,
    leaders: &UnitLeaders,
) -> Result<Decision, DomainError> {
    let unit = appeal.unit.clone();
    let unit_recipient = Recipient::Unit(unit.clone().unwrap_or_default());
    // Confidential appeals are overseen by the mailbox readers, not the supervisors.
    let overseer = if appeal.confidential {
        Recipient::MailboxReaders
    } else {
        Recipient::Supervisor
    };
    let mut next = appeal.clone();
    next.updated_at = ctx.now;
    let track = &mut next.sla;
    let mut events = EventWriter::new(appeal, ctx);
    let escalated = |limit, level, notified, leader: Option<&str>| EventPayload::Escalated {
        step: Some(due.step),
        due_at: Some(due.at),
        unit: unit.clone(),
        limit,
        level,
        notified,
        leader: leader.map(str::to_owned),
        rework_count: None,
        max_reworks: None,
    };
    let breached = |limit| EventPayload::SlaBreached {
        step: due.step,
        due_at: due.at,
        unit: unit.clone(),
        limit,
    };
    match due.step {
        Step::DispatchOverdue
        | Step::ResponseBreach
        | Step::DispatchReminder
        | Step::ResponseReminder => {
            // The first reminder comes with the breach; later ones alone.
            let breach = matches!(due.step, Step::DispatchOverdue | Step::ResponseBreach);
            let (limit, notified) =
                if matches!(due.step, Step::DispatchOverdue | Step::DispatchReminder) {
                    (TimeLimit::Dispatch, Recipient::Dispatcher)
                } else {
                    (TimeLimit::Response, unit_recipient)
                };
            track.reminders = if breach { 1 } else { track.reminders + 1 };
            track.last_reminder_at = Some(ctx.now);
            if breach {
                events.push(breached(limit));
            }
            events.push(EventPayload::Reminded {
                step: due.step,
                due_at: due.at,
                unit: unit.clone(),
                limit,
                n: track.reminders,
                notified,
            });
        }
        Step::ResponseSupervisor => {
            track.response_escalated = true;
            events.push(escalated(TimeLimit::Response, 2, overseer, None));
        }
        Step::Warning => {
            let policy = ctx
                .policies
                .policy_for(appeal.kind, appeal.channel, appeal.priority);
            let fraction = policy.warnings.get(track.warnings as usize).copied();
            track.warnings += 1;
            events.push(EventPayload::SlaWarning {
                step: due.step,
                due_at: due.at,
                unit: unit.clone(),
                limit: TimeLimit::Resolution,
                fraction,
                resolve_due: appeal.deadlines.resolve_due,
                notified: unit_recipient,
            });
        }
        Step::ResolutionBreach => {
            track.level = 1;
            events.push(breached(TimeLimit::Resolution));
            events.push(escalated(TimeLimit::Resolution, 1, unit_recipient, None));
        }
        Step::Supervisor => {
            track.level = 2;
            events.push(escalated(TimeLimit::Resolution, 2, overseer, None));
        }
        Step::Leader => {
            track.level = 3;
            let title = leaders.title.as_deref();
            let notified = Recipient::Leader(title.map(str::to_owned));
            events.push(escalated(TimeLimit::Resolution, 3, notified, title));
            for leader in &leaders.owners {
                if !appeal.is_owned_by(leader.user) {
                    events.push(EventPayload::owned(leader));
                    next.owners.push(leader.clone());
                }
            }
        }
        Step::RatingTimeout => {
            next.status = transition(appeal.status, Action::Close)?;
            next.pending_extension = None;
            next.sla.end_pause(ctx.now);
            events.push(EventPayload::Closed {
                rated: false,
                not_rated: true,
                step: Some(due.step),
                due_at: Some(due.at),
                unit: unit.clone(),
            });
        }
    }
    debug_assert!(next.status == appeal.status || next.status == Status::Closed);
    Ok(Decision::one(events.finish(next)))
}

#[cfg(test)]
mod tests;
