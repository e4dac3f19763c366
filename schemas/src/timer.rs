//! Time limits at work (SPEC §6–§7): which step of an appeal's time limits comes next and
//! when ([`schedule`]), and what firing the steps that are due records ([`fire`]). Pure: the
//! worker passes the time; the store keeps the next step as the appeal's timer.
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
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::appeal::{Appeal, Status};
use crate::error::DomainError;
use crate::event::EventType;
use crate::lifecycle::{Command, Context, Decision, decide, note};
use crate::sla::{Limit, SlaClock, SlaPolicies};

/// A step of an appeal's time limits that fires at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 派单超时: the appeal waited in the dispatcher's queue past the dispatch limit.
    DispatchOverdue,
    /// The dispatchers are reminded again.
    DispatchReminder,
    /// 签收超时: the unit neither accepted nor returned it within the response limit.
    ResponseBreach,
    /// The unit is reminded again to sign.
    ResponseReminder,
    /// The supervisor is alerted to phone a unit that still has not signed.
    ResponseSupervisor,
    /// 预警: the next warning fraction of the resolution time has passed.
    Warning,
    /// 超期: the resolution deadline passed; level 1 of the ladder (the unit is reminded).
    ResolutionBreach,
    /// Level 2 of the ladder: the supervisor (督办员).
    Supervisor,
    /// Level 3 of the ladder: the unit's leader, who takes the case (包案).
    Leader,
    /// 未评价: no rating within the rating wait; the appeal is closed as not rated.
    RatingTimeout,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::DispatchOverdue => "dispatch_overdue",
            Step::DispatchReminder => "dispatch_reminder",
            Step::ResponseBreach => "response_breach",
            Step::ResponseReminder => "response_reminder",
            Step::ResponseSupervisor => "response_supervisor",
            Step::Warning => "warning",
            Step::ResolutionBreach => "resolution_breach",
            Step::Supervisor => "supervisor",
            Step::Leader => "leader",
            Step::RatingTimeout => "rating_timeout",
        }
    }
}

/// A step and the instant it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueStep {
    pub step: Step,
    pub at: DateTime<Utc>,
}

/// Where an appeal stands with its time limits: what has fired, its pauses, what comes next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlaTrack {
    /// When it last started waiting for a dispatcher (a return); `None`: since it was received.
    pub queued_at: Option<DateTime<Utc>>,
    /// When the resolution clock started (dispatch, reassignment or rework).
    pub started_at: Option<DateTime<Utc>>,
    /// When the unit replied: the rating wait runs from then.
    pub replied_at: Option<DateTime<Utc>>,
    /// Reminders sent in the current wait for a dispatcher or for the unit to sign; 0 while
    /// its limit is not missed.
    pub reminders: u32,
    pub last_reminder_at: Option<DateTime<Utc>>,
    /// Whether the supervisor was alerted about the missed response limit.
    pub response_escalated: bool,
    /// Resolution warnings sent for the current deadline.
    pub warnings: u32,
    /// Escalation level reached after the resolution deadline: 0 (none) to 3 (leader).
    pub level: u8,
    /// Waiting for the appellant since then (补充材料): the resolution clock is stopped.
    pub paused_since: Option<DateTime<Utc>>,
    /// Time spent paused, all pauses together, in seconds.
    pub paused_seconds: i64,
    /// The next step and when it is due; the store keeps it as the appeal's timer.
    pub next: Option<DueStep>,
}

impl SlaTrack {
    /// A fresh wait for the unit: dispatch, reassignment or rework starting at `at`. Pauses
    /// already taken stay counted.
    pub fn restart(&mut self, at: DateTime<Utc>) {
        *self = SlaTrack {
            started_at: Some(at),
            paused_seconds: self.paused_seconds + self.paused_until(at),
            ..SlaTrack::default()
        };
    }

    /// Ends a running pause at `at`; the seconds it lasted.
    pub fn end_pause(&mut self, at: DateTime<Utc>) -> i64 {
        let seconds = self.paused_until(at);
        self.paused_since = None;
        self.paused_seconds += seconds;
        seconds
    }

    /// Ends the reminders of the current wait (the unit signed for it).
    pub fn stop_reminders(&mut self) {
        self.reminders = 0;
        self.last_reminder_at = None;
    }

    /// Back in the dispatcher's queue from `at` (the unit returned it).
    pub fn requeue(&mut self, at: DateTime<Utc>) {
        self.stop_reminders();
        self.queued_at = Some(at);
        self.response_escalated = false;
    }

    fn paused_until(&self, at: DateTime<Utc>) -> i64 {
        self.paused_since
            .map_or(0, |since| (at - since).num_seconds().max(0))
    }
}

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

/// Most steps fired for one appeal at once (a long outage can leave several due).
const MAX_STEPS_AT_ONCE: usize = 16;

/// Fires, in order, every step of `appeal` due at `ctx.now` — after an outage that may be
/// several (warnings, the breach, the ladder), each once: the appeal records what has fired,
/// and the store keeps it with the events in one change. Missed reminders are not repeated:
/// one is sent and the next follows `remind_every` later. `leader` is the unit's leader, for
/// level 3.
///
/// `None` when nothing is due and the appeal's timer is right; a decision without events
/// when only the timer needs correcting (the policies changed).
pub fn fire(
    appeal: &Appeal,
    ctx: &Context<'_>,
    leader: Option<&str>,
) -> Result<Option<Decision>, DomainError> {
    // Under the current policies; after each step, the step's decision has scheduled the next.
    let scheduled = schedule(appeal, ctx.policies, &ctx.clock);
    let mut due = scheduled;
    let mut decision: Option<Decision> = None;
    for _ in 0..MAX_STEPS_AT_ONCE {
        let Some(step) = due.filter(|d| d.at <= ctx.now) else {
            break;
        };
        let current = decision.as_ref().map_or(appeal, |d| &d.appeal);
        let fired = fire_step(current, step, ctx, leader)?;
        due = fired.appeal.sla.next;
        decision = Some(match decision {
            None => fired,
            Some(d) => d.then(fired),
        });
    }
    if decision.is_none() && scheduled != appeal.sla.next {
        let mut corrected = appeal.clone();
        corrected.sla.next = scheduled;
        return Ok(Some(Decision {
            appeal: corrected,
            events: Vec::new(),
        }));
    }
    Ok(decision)
}

/// Records one due step.
fn fire_step(
    appeal: &Appeal,
    due: DueStep,
    ctx: &Context<'_>,
    leader: Option<&str>,
) -> Result<Decision, DomainError> {
    let unit = appeal.unit.as_deref();
    let unit_recipient = format!("unit:{}", unit.unwrap_or_default());
    let mut next = appeal.clone();
    let track = &mut next.sla;
    let base = |extra: serde_json::Value| {
        let mut data = json!({
            "step": due.step.as_str(),
            "due_at": due.at,
            "unit": unit,
        });
        if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
            data.extend(extra.clone());
        }
        data
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
                    ("dispatch", "dispatcher".to_owned())
                } else {
                    ("response", unit_recipient)
                };
            track.reminders = if breach { 1 } else { track.reminders + 1 };
            track.last_reminder_at = Some(ctx.now);
            let reminder =
                base(json!({ "limit": limit, "n": track.reminders, "notified": notified }));
            if !breach {
                return note(&next, EventType::Reminded, None, reminder, ctx);
            }
            let breached = note(
                &next,
                EventType::SlaBreached,
                None,
                base(json!({ "limit": limit })),
                ctx,
            )?;
            let reminded = note(&breached.appeal, EventType::Reminded, None, reminder, ctx)?;
            Ok(breached.then(reminded))
        }
        Step::ResponseSupervisor => {
            track.response_escalated = true;
            note(
                &next,
                EventType::Escalated,
                None,
                base(json!({ "limit": "response", "level": 2, "notified": "supervisor" })),
                ctx,
            )
        }
        Step::Warning => {
            let policy = ctx
                .policies
                .policy_for(appeal.kind, appeal.channel, appeal.priority);
            let fraction = policy.warnings.get(track.warnings as usize).copied();
            track.warnings += 1;
            note(
                &next,
                EventType::SlaWarning,
                None,
                base(json!({
                    "limit": "resolution",
                    "fraction": fraction,
                    "resolve_due": appeal.deadlines.resolve_due,
                    "notified": unit_recipient,
                })),
                ctx,
            )
        }
        Step::ResolutionBreach => {
            track.level = 1;
            let breached = note(
                &next,
                EventType::SlaBreached,
                None,
                base(json!({ "limit": "resolution" })),
                ctx,
            )?;
            let escalated = note(
                &breached.appeal,
                EventType::Escalated,
                None,
                base(json!({ "limit": "resolution", "level": 1, "notified": unit_recipient })),
                ctx,
            )?;
            Ok(breached.then(escalated))
        }
        Step::Supervisor => {
            track.level = 2;
            note(
                &next,
                EventType::Escalated,
                None,
                base(json!({ "limit": "resolution", "level": 2, "notified": "supervisor" })),
                ctx,
            )
        }
        Step::Leader => {
            track.level = 3;
            if next.owner.is_none() {
                next.owner = leader.map(str::to_owned);
            }
            let notified = leader.map_or_else(|| "leader".to_owned(), |l| format!("leader:{l}"));
            note(
                &next,
                EventType::Escalated,
                None,
                base(json!({
                    "limit": "resolution",
                    "level": 3,
                    "leader": leader,
                    "notified": notified,
                })),
                ctx,
            )
        }
        Step::RatingTimeout => {
            let mut closed = decide(&next, Command::Close { reason: None }, ctx)?;
            if let Some(event) = closed.events.last_mut() {
                event.data = base(json!({ "rated": false, "not_rated": true }));
            }
            Ok(closed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appeal::{Kind, Priority, Rating, sample_new_appeal};
    use crate::event::Event;
    use crate::ids::AppealId;
    use crate::lifecycle::Rules;
    use crate::role::{Actor, Role};
    use chrono::TimeZone;
    use chrono_tz::Asia::Shanghai;

    const UNIT: &str = "DEMO-FGJ";

    /// Local time in Shanghai.
    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Shanghai
            .with_ymd_and_hms(y, mo, d, h, mi, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    struct World {
        rules: Rules,
        system: Actor,
        dispatcher: Actor,
        staff: Actor,
        appellant: Actor,
    }

    fn actor(name: &str, role: Role, unit: Option<&str>) -> Actor {
        Actor {
            name: name.to_owned(),
            role,
            unit: unit.map(str::to_owned),
            appeal: None,
        }
    }

    impl World {
        fn new() -> Self {
            World {
                rules: Rules::shipped(),
                system: Actor::system(),
                dispatcher: actor("dispatcher-1", Role::Dispatcher, None),
                staff: actor("staff-1", Role::Unit, Some(UNIT)),
                appellant: actor("appellant", Role::Appellant, None),
            }
        }

        fn ctx<'a>(&'a self, now: DateTime<Utc>, actor: &'a Actor) -> Context<'a> {
            self.rules.context(now, actor)
        }

        fn received(&self, priority: Priority, now: DateTime<Utc>) -> Appeal {
            let new = sample_new_appeal(Kind::Complaint, priority);
            let mut appeal =
                Appeal::received(AppealId::new(), "20261123-000001".to_owned(), new, now);
            let ctx = self.ctx(now, &self.system);
            appeal.sla.next = schedule(&appeal, ctx.policies, &ctx.clock);
            appeal
        }

        fn act(&self, appeal: &Appeal, who: &Actor, now: DateTime<Utc>, c: Command) -> Appeal {
            decide(appeal, c, &self.ctx(now, who))
                .unwrap_or_else(|e| panic!("{e:?}"))
                .appeal
        }

        fn dispatched(&self, priority: Priority, now: DateTime<Utc>) -> Appeal {
            let appeal = self.received(priority, now);
            let unit = UNIT.to_owned();
            self.act(&appeal, &self.dispatcher, now, Command::Dispatch { unit })
        }

        /// Fires what is due at `now`: the new appeal and the events recorded.
        fn fire(&self, appeal: &Appeal, now: DateTime<Utc>) -> (Appeal, Vec<Event>) {
            match fire(appeal, &self.ctx(now, &self.system), Some("王区长")).unwrap() {
                Some(d) => (d.appeal, d.events),
                None => (appeal.clone(), Vec::new()),
            }
        }

        /// Fires every step as it comes due, up to `until`: the steps with the instant each
        /// fired at (the timer's own instant, as a punctual worker would).
        fn run_until(
            &self,
            appeal: &mut Appeal,
            until: DateTime<Utc>,
        ) -> Vec<(String, DateTime<Utc>)> {
            let mut fired = Vec::new();
            while let Some(next) = appeal.sla.next {
                if next.at > until {
                    break;
                }
                let (after, events) = self.fire(appeal, next.at);
                assert!(!events.is_empty(), "{next:?} fired nothing");
                for e in &events {
                    fired.push((describe(e), e.at));
                }
                *appeal = after;
            }
            fired
        }
    }

    fn describe(e: &Event) -> String {
        let d = &e.data;
        let level = d.get("level").and_then(|v| v.as_i64());
        let limit = d.get("limit").and_then(|v| v.as_str()).unwrap_or("");
        match level {
            Some(l) => format!("{}:{limit}:{l}", e.event_type.as_str()),
            None => format!("{}:{limit}", e.event_type.as_str()),
        }
    }

    fn steps(list: &[(String, DateTime<Utc>)]) -> Vec<(&str, DateTime<Utc>)> {
        list.iter().map(|(s, t)| (s.as_str(), *t)).collect()
    }

    #[test]
    fn an_unplaced_appeal_alarms_the_dispatchers_then_reminds_them() {
        let w = World::new();
        let t0 = at(2026, 11, 23, 9, 0);
        let mut appeal = w.received(Priority::Normal, t0);
        assert_eq!(
            appeal.sla.next,
            Some(DueStep {
                step: Step::DispatchOverdue,
                at: at(2026, 11, 23, 9, 15)
            })
        );
        let fired = w.run_until(&mut appeal, at(2026, 11, 23, 10, 0));
        assert_eq!(
            steps(&fired),
            vec![
                ("sla_breached:dispatch", at(2026, 11, 23, 9, 15)),
                ("reminded:dispatch", at(2026, 11, 23, 9, 15)),
                ("reminded:dispatch", at(2026, 11, 23, 9, 45)),
            ]
        );
        // Dispatching ends the wait: the next step is the unit's.
        let unit = UNIT.to_owned();
        let appeal = w.act(
            &appeal,
            &w.dispatcher,
            at(2026, 11, 23, 10, 0),
            Command::Dispatch { unit },
        );
        assert_eq!(appeal.sla.next.map(|n| n.step), Some(Step::ResponseBreach));
        assert_eq!(appeal.sla.reminders, 0);
    }

    #[test]
    fn every_step_of_a_friday_dispatch_across_the_weekend() {
        let w = World::new();
        let mut appeal = w.dispatched(Priority::Normal, at(2026, 11, 20, 15, 0));
        // 3wd from Friday 15:00 ends Wednesday 15:00: 72 h of working time.
        assert_eq!(appeal.deadlines.resolve_due, Some(at(2026, 11, 25, 15, 0)));
        let fired = w.run_until(&mut appeal, at(2026, 11, 20, 17, 0));
        assert_eq!(
            steps(&fired),
            vec![
                ("sla_breached:response", at(2026, 11, 20, 15, 30)),
                ("reminded:response", at(2026, 11, 20, 15, 30)),
                ("reminded:response", at(2026, 11, 20, 16, 0)),
                ("reminded:response", at(2026, 11, 20, 16, 30)),
                ("reminded:response", at(2026, 11, 20, 17, 0)),
            ]
        );
        assert_eq!(fired[4].0, "reminded:response");
        // Signing ends the reminders; the resolution clock keeps running.
        appeal = w.act(&appeal, &w.staff, at(2026, 11, 20, 17, 10), Command::Accept);
        let fired = w.run_until(&mut appeal, at(2026, 11, 30, 0, 0));
        assert_eq!(
            steps(&fired),
            vec![
                // 50% of 72 working hours: Friday 9 h + Monday 24 h + 3 h on Tuesday.
                ("sla_warning:resolution", at(2026, 11, 24, 3, 0)),
                // 80%: 57.6 h, 36 minutes into Wednesday.
                ("sla_warning:resolution", at(2026, 11, 25, 0, 36)),
                ("sla_breached:resolution", at(2026, 11, 25, 15, 0)),
                ("escalated:resolution:1", at(2026, 11, 25, 15, 0)),
                ("escalated:resolution:2", at(2026, 11, 25, 19, 0)),
                ("escalated:resolution:3", at(2026, 11, 26, 15, 0)),
            ]
        );
        assert_eq!(appeal.owner.as_deref(), Some("王区长"));
        assert_eq!(appeal.sla.level, 3);
        assert_eq!(appeal.sla.next, None, "the ladder ends at the leader");
    }

    #[test]
    fn national_day_holidays_and_the_adjusted_saturday() {
        let w = World::new();
        // Wednesday 30 September 15:00; 1–7 October are off, Saturday 10 October is worked.
        let mut appeal = w.dispatched(Priority::Normal, at(2026, 9, 30, 15, 0));
        assert_eq!(appeal.deadlines.resolve_due, Some(at(2026, 10, 10, 15, 0)));
        appeal = w.act(&appeal, &w.staff, at(2026, 9, 30, 15, 5), Command::Accept);
        let fired = w.run_until(&mut appeal, at(2026, 10, 31, 0, 0));
        assert_eq!(
            steps(&fired),
            vec![
                ("sla_warning:resolution", at(2026, 10, 9, 3, 0)),
                ("sla_warning:resolution", at(2026, 10, 10, 0, 36)),
                ("sla_breached:resolution", at(2026, 10, 10, 15, 0)),
                ("escalated:resolution:1", at(2026, 10, 10, 15, 0)),
                ("escalated:resolution:2", at(2026, 10, 10, 19, 0)),
                // One working day after the adjusted Saturday: Monday.
                ("escalated:resolution:3", at(2026, 10, 12, 15, 0)),
            ]
        );
    }

    #[test]
    fn urgent_appeals_warn_in_clock_hours_over_a_weekend() {
        let w = World::new();
        let mut appeal = w.dispatched(Priority::Urgent, at(2026, 11, 21, 20, 0));
        appeal = w.act(&appeal, &w.staff, at(2026, 11, 21, 20, 10), Command::Accept);
        let fired = w.run_until(&mut appeal, at(2026, 11, 22, 8, 0));
        assert_eq!(
            steps(&fired),
            vec![
                ("sla_warning:resolution", at(2026, 11, 22, 2, 0)),
                ("sla_warning:resolution", at(2026, 11, 22, 5, 36)),
                ("sla_breached:resolution", at(2026, 11, 22, 8, 0)),
                ("escalated:resolution:1", at(2026, 11, 22, 8, 0)),
            ]
        );
    }

    #[test]
    fn the_supervisor_phones_a_unit_that_has_not_signed_for_six_hours() {
        let w = World::new();
        let mut appeal = w.dispatched(Priority::Normal, at(2026, 11, 23, 9, 0));
        let fired = w.run_until(&mut appeal, at(2026, 11, 23, 15, 30));
        let supervisor: Vec<_> = fired
            .iter()
            .filter(|(s, _)| s == "escalated:response:2")
            .collect();
        assert_eq!(supervisor.len(), 1);
        assert_eq!(supervisor[0].1, at(2026, 11, 23, 15, 30));
        let reminders = fired
            .iter()
            .filter(|(s, _)| s == "reminded:response")
            .count();
        // 09:30, 10:00, …, 15:30.
        assert_eq!(reminders, 13);
        // Returning ends the unit's wait and starts the dispatchers'.
        let reason = "不属于本单位职责".to_owned();
        let back = w.act(
            &appeal,
            &w.staff,
            at(2026, 11, 23, 15, 40),
            Command::Return { reason },
        );
        assert_eq!(
            back.sla.next,
            Some(DueStep {
                step: Step::DispatchOverdue,
                at: at(2026, 11, 23, 15, 55)
            })
        );
    }

    #[test]
    fn a_worker_back_from_an_outage_fires_each_missed_step_once_in_order() {
        let w = World::new();
        let appeal = w.dispatched(Priority::Normal, at(2026, 11, 20, 15, 0));
        let appeal = w.act(&appeal, &w.staff, at(2026, 11, 20, 15, 10), Command::Accept);
        // Down from Friday to Wednesday 20:00.
        let back = at(2026, 11, 25, 20, 0);
        let (after, events) = w.fire(&appeal, back);
        let fired: Vec<String> = events.iter().map(describe).collect();
        assert_eq!(
            fired,
            vec![
                "sla_warning:resolution",
                "sla_warning:resolution",
                "sla_breached:resolution",
                "escalated:resolution:1",
                "escalated:resolution:2",
            ]
        );
        for e in &events {
            assert_eq!(e.at, back);
            assert!(e.data.get("due_at").is_some());
        }
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        let first = appeal.version + 1;
        assert_eq!(seqs, (first..first + 5).collect::<Vec<_>>());
        assert_eq!(after.version, appeal.version + 5);
        // Fired again at the same instant: nothing.
        let (_, again) = w.fire(&after, back);
        assert!(again.is_empty());
        assert_eq!(
            after.sla.next,
            Some(DueStep {
                step: Step::Leader,
                at: at(2026, 11, 26, 15, 0)
            })
        );
    }

    #[test]
    fn missed_reminders_collapse_into_one() {
        let w = World::new();
        let appeal = w.dispatched(Priority::Normal, at(2026, 11, 23, 9, 0));
        let (after, events) = w.fire(&appeal, at(2026, 11, 23, 12, 0));
        let fired: Vec<String> = events.iter().map(describe).collect();
        assert_eq!(fired, vec!["sla_breached:response", "reminded:response"]);
        assert_eq!(after.sla.next.map(|n| n.at), Some(at(2026, 11, 23, 12, 30)));
    }

    #[test]
    fn a_pause_stops_the_clock_and_moves_the_deadline_by_the_working_time_paused() {
        let w = World::new();
        let appeal = w.dispatched(Priority::Normal, at(2026, 11, 23, 9, 0));
        let appeal = w.act(&appeal, &w.staff, at(2026, 11, 23, 9, 10), Command::Accept);
        assert_eq!(appeal.deadlines.resolve_due, Some(at(2026, 11, 26, 9, 0)));
        let reason = "请补充营业执照复印件".to_owned();
        let paused = w.act(
            &appeal,
            &w.staff,
            at(2026, 11, 24, 10, 0),
            Command::Pause { reason },
        );
        assert_eq!(paused.sla.paused_since, Some(at(2026, 11, 24, 10, 0)));
        assert_eq!(paused.sla.next, None, "nothing runs while paused");
        // Paused from Tuesday 10:00 to Monday 10:00: 4 working days (the weekend is free).
        let resumed = w.act(&paused, &w.staff, at(2026, 11, 30, 10, 0), Command::Resume);
        assert_eq!(resumed.sla.paused_since, None);
        assert_eq!(resumed.sla.paused_seconds, 6 * 24 * 3600);
        assert_eq!(resumed.deadlines.resolve_due, Some(at(2026, 12, 2, 9, 0)));
        assert_eq!(
            resumed.deadlines.original_resolve_due,
            Some(at(2026, 11, 26, 9, 0))
        );
        // Started Monday 09:00, 25 working hours before the pause; the 50% warning (36 h)
        // comes 11 working hours after the resumption.
        assert_eq!(
            resumed.sla.next,
            Some(DueStep {
                step: Step::Warning,
                at: at(2026, 11, 30, 21, 0)
            })
        );
        // A second pause is counted on top of the first.
        let reason = "请补充现场照片".to_owned();
        let again = w.act(
            &resumed,
            &w.staff,
            at(2026, 11, 30, 11, 0),
            Command::Pause { reason },
        );
        let replied = w.act(
            &again,
            &w.staff,
            at(2026, 11, 30, 12, 0),
            Command::Reply {
                result: "已协调办理".to_owned(),
            },
        );
        assert_eq!(replied.sla.paused_seconds, 6 * 24 * 3600 + 3600);
        assert_eq!(replied.sla.paused_since, None);
    }

    #[test]
    fn pausing_twice_or_resuming_a_running_clock_is_refused() {
        let w = World::new();
        let appeal = w.dispatched(Priority::Normal, at(2026, 11, 23, 9, 0));
        let appeal = w.act(&appeal, &w.staff, at(2026, 11, 23, 9, 10), Command::Accept);
        let err = decide(
            &appeal,
            Command::Resume,
            &w.ctx(at(2026, 11, 23, 10, 0), &w.staff),
        )
        .unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::NotPaused);
        let reason = "请补充材料".to_owned();
        let paused = w.act(
            &appeal,
            &w.staff,
            at(2026, 11, 23, 10, 0),
            Command::Pause { reason },
        );
        let reason = "请补充材料".to_owned();
        let err = decide(
            &paused,
            Command::Pause { reason },
            &w.ctx(at(2026, 11, 23, 11, 0), &w.staff),
        )
        .unwrap_err();
        assert_eq!(err.code, crate::error::ErrorCode::AlreadyPaused);
    }

    #[test]
    fn an_approved_extension_moves_the_timers_and_cancels_the_ladder() {
        let w = World::new();
        let supervisor = actor("supervisor-1", Role::Supervisor, None);
        let appeal = w.dispatched(Priority::Normal, at(2026, 11, 23, 9, 0));
        let appeal = w.act(&appeal, &w.staff, at(2026, 11, 23, 9, 10), Command::Accept);
        let request = Command::RequestExtension {
            days: Some(2),
            hours: None,
            reason: "需现场核查".to_owned(),
        };
        let requested = w.act(&appeal, &w.staff, at(2026, 11, 24, 9, 0), request);
        // Not approved in time: the deadline (Thursday 09:00) is missed.
        let (breached, events) = w.fire(&requested, at(2026, 11, 26, 9, 30));
        assert!(
            events
                .iter()
                .any(|e| describe(e) == "escalated:resolution:1")
        );
        assert_eq!(breached.sla.level, 1);
        let approved = w.act(
            &breached,
            &supervisor,
            at(2026, 11, 26, 10, 0),
            Command::ApproveExtension,
        );
        assert_eq!(approved.deadlines.resolve_due, Some(at(2026, 11, 30, 9, 0)));
        assert_eq!(approved.sla.level, 0);
        assert_eq!(
            approved.sla.next,
            Some(DueStep {
                step: Step::ResolutionBreach,
                at: at(2026, 11, 30, 9, 0)
            })
        );
    }

    #[test]
    fn an_unrated_reply_closes_as_not_rated() {
        let w = World::new();
        let appeal = w.dispatched(Priority::Normal, at(2026, 11, 23, 9, 0));
        let appeal = w.act(&appeal, &w.staff, at(2026, 11, 23, 9, 10), Command::Accept);
        let result = "已协调办理".to_owned();
        let replied = w.act(
            &appeal,
            &w.staff,
            at(2026, 11, 24, 9, 0),
            Command::Reply { result },
        );
        // 5 working days from Tuesday 09:00: the next Tuesday.
        assert_eq!(
            replied.sla.next,
            Some(DueStep {
                step: Step::RatingTimeout,
                at: at(2026, 12, 1, 9, 0)
            })
        );
        let (closed, events) = w.fire(&replied, at(2026, 12, 1, 9, 0));
        assert_eq!(closed.status, Status::Closed);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data["not_rated"], true);
        assert_eq!(closed.sla.next, None);
    }

    #[test]
    fn the_third_bad_rating_calls_the_supervisor() {
        let w = World::new();
        let mut appeal = w.dispatched(Priority::Normal, at(2026, 11, 23, 9, 0));
        let mut escalations = Vec::new();
        for round in 0..3 {
            let t = at(2026, 11, 23, 10, 0) + chrono::TimeDelta::hours(round * 3);
            appeal = w.act(&appeal, &w.staff, t, Command::Accept);
            let result = "已办理".to_owned();
            appeal = w.act(
                &appeal,
                &w.staff,
                t + chrono::TimeDelta::hours(1),
                Command::Reply { result },
            );
            let d = decide(
                &appeal,
                Command::Rate {
                    rating: Rating::Dissatisfied,
                    comment: None,
                },
                &w.ctx(t + chrono::TimeDelta::hours(2), &w.appellant),
            )
            .unwrap();
            escalations.push(d.events.iter().any(|e| describe(e) == "escalated:rework:2"));
            appeal = d.appeal;
            // Rework restarts the clocks: the unit must sign again.
            assert_eq!(appeal.sla.next.map(|n| n.step), Some(Step::ResponseBreach));
        }
        assert_eq!(escalations, vec![false, false, true]);
    }

    #[test]
    fn a_changed_policy_corrects_the_timer_without_events() {
        let w = World::new();
        let mut appeal = w.dispatched(Priority::Normal, at(2026, 11, 23, 9, 0));
        appeal.sla.next = Some(DueStep {
            step: Step::ResponseBreach,
            at: at(2026, 11, 23, 9, 5),
        });
        let d = fire(&appeal, &w.ctx(at(2026, 11, 23, 9, 10), &w.system), None)
            .unwrap()
            .unwrap();
        assert!(d.events.is_empty());
        assert_eq!(d.appeal.version, appeal.version);
        assert_eq!(
            d.appeal.sla.next.map(|n| n.at),
            Some(at(2026, 11, 23, 9, 30))
        );
    }
}
