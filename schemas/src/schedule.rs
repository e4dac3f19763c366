//! Time limits at work (SPEC §6–§7): which step of an appeal's time limits comes next and
//! when ([`schedule`]); `lifecycle::fire` records the steps that are due. Pure: the worker
//! passes the time; the store keeps the next step as the appeal's timer.
//!
//! The steps, by status:
//! - received or returned (waiting for a dispatcher): dispatch limit missed, then reminders;
//! - dispatched or reopened (waiting for the unit to sign): response limit missed with a
//!   reminder to the unit, reminders every `remind_every`, the supervisor after
//!   `response_supervisor_after`;
//! - dispatched, accepted or reopened and not paused: warnings at the policy's fractions of the
//!   resolution time, the deadline missed (level 1: the unit), level 2 (the supervisor),
//!   level 3 (the unit's leader, who takes the case);
//! - replied: no rating within `rating_wait` closes it as not rated.

use chrono::{DateTime, Utc};

use crate::appeal::{Appeal, DueStep, Status, Step};
use crate::policy::sla::{SlaClock, SlaPolicies};
use crate::value::limit::Limit;

/// The first timer of an appeal received (or returned) at `at`: the dispatch limit.
pub fn on_receipt(at: DateTime<Utc>, policies: &SlaPolicies, clock: &SlaClock<'_>) -> DueStep {
    DueStep {
        step: Step::DispatchOverdue,
        at: clock.add(at, policies.dispatch_wait()),
    }
}

/// The next step of `appeal`'s time limits, or `None` when nothing is running (a terminal
/// status, a paused clock with nothing else to watch).
pub fn schedule(appeal: &Appeal, policies: &SlaPolicies, clock: &SlaClock<'_>) -> Option<DueStep> {
    let follow_up = policies.follow_up();
    let track = &appeal.sla;
    let mut steps: Vec<DueStep> = Vec::with_capacity(4);
    let mut push = |step, at| steps.push(DueStep { step, at });
    let reminder = track
        .last_reminder_at
        .map(|at| clock.add(at, follow_up.remind_every));

    match appeal.status {
        Status::Received | Status::Returned => {
            if track.reminders == 0 {
                let since = track.queued_at.unwrap_or(appeal.created_at);
                let first = on_receipt(since, policies, clock);
                push(first.step, first.at);
            } else if let Some(at) = reminder {
                push(Step::DispatchReminder, at);
            }
        }
        status if status.awaits_acceptance() => {
            if let Some(due) = appeal.deadlines.response_due {
                if track.reminders == 0 {
                    push(Step::ResponseBreach, due);
                } else if let Some(at) = reminder {
                    push(Step::ResponseReminder, at);
                }
                if !track.response_escalated {
                    push(
                        Step::ResponseSupervisor,
                        clock.add(due, follow_up.response_supervisor_after),
                    );
                }
            }
        }
        _ => {}
    }

    let resolving = matches!(
        appeal.status,
        Status::Dispatched | Status::Accepted | Status::Reopened
    );
    if resolving
        && track.paused_since.is_none()
        && let (Some(start), Some(due)) = (track.started_at, appeal.deadlines.resolve_due)
    {
        let policy = policies.policy_for(appeal.kind, appeal.channel, appeal.priority);
        let limit = resolution_limit(appeal, policies);
        if let Some(&fraction) = policy.warnings.get(track.warnings as usize)
            && let Some(&at) = clock
                .instants_at_fractions(limit, &[fraction], start, due)
                .first()
        {
            push(Step::Warning, at);
        }
        let supervisor = clock.add(due, follow_up.supervisor_after);
        match track.level {
            0 => push(Step::ResolutionBreach, due),
            1 => push(Step::Supervisor, supervisor),
            2 => push(
                Step::Leader,
                clock.add(due, follow_up.leader_after).max(supervisor),
            ),
            _ => {}
        }
    }

    if appeal.status == Status::Replied
        && let Some(at) = track.replied_at
    {
        push(Step::RatingTimeout, clock.add(at, follow_up.rating_wait));
    }

    // The earliest; of equal ones the first pushed (a warning before a breach).
    steps.into_iter().min_by_key(|s| s.at)
}

/// The limit the resolution deadline was set with: the policy's, or rework's after a bad
/// rating. Its kind (clock time or working days) decides how fractions and pauses count.
pub fn resolution_limit(appeal: &Appeal, policies: &SlaPolicies) -> Limit {
    if appeal.rework_count > 0 {
        policies.rework_limit()
    } else {
        policies
            .policy_for(appeal.kind, appeal.channel, appeal.priority)
            .resolution
    }
}
