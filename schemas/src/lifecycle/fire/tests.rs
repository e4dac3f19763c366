use super::*;
use crate::appeal::{Kind, Priority, Rating, sample_new_appeal};
use crate::command::{Actor, Role};
use crate::event::Event;
use crate::lifecycle::{Intake, Rules};
use crate::value::error::ErrorCode;
use crate::value::ids::{StaffRef, TicketNo, UnitCode, UserId};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

const UNIT: &str = "DEMO-FGJ";

/// An event's `data` as stored and served.
fn data(e: &Event) -> serde_json::Value {
    serde_json::to_value(&e.payload).unwrap()["data"].clone()
}

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
    /// The unit's leadership: its title, and the leader (a user) in charge of it.
    leaders: UnitLeaders,
}

fn actor(name: &str, role: Role, unit: Option<&str>) -> Actor {
    Actor {
        name: name.to_owned(),
        role,
        unit: unit.map(UnitCode::from),
        appeal: None,
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
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
            leaders: UnitLeaders {
                title: Some("分管发改的副区长".to_owned()),
                owners: vec![StaffRef {
                    user: Some(UserId::new()),
                    name: "王区长".to_owned(),
                }],
            },
        }
    }

    fn ctx<'a>(&'a self, now: DateTime<Utc>, actor: &'a Actor) -> Context<'a> {
        self.rules.context(now, actor)
    }

    fn received(&self, priority: Priority, now: DateTime<Utc>) -> Appeal {
        let new = sample_new_appeal(Kind::Complaint, priority);
        let ctx = self.ctx(now, &self.system);
        Intake::new(new, &ctx)
            .unwrap()
            .receive(TicketNo::from("20261123-000001"))
            .into_appeal()
    }

    fn act(&self, appeal: &Appeal, who: &Actor, now: DateTime<Utc>, c: Command) -> Appeal {
        decide(appeal, c, &self.ctx(now, who))
            .unwrap_or_else(|e| panic!("{e:?}"))
            .into_appeal()
    }

    fn dispatched(&self, priority: Priority, now: DateTime<Utc>) -> Appeal {
        let appeal = self.received(priority, now);
        let dispatch = Command::Dispatch {
            unit: UNIT.into(),
            matter: None,
        };
        self.act(&appeal, &self.dispatcher, now, dispatch)
    }

    /// Fires what is due at `now`: the new appeal and the events recorded.
    fn fire(&self, appeal: &Appeal, now: DateTime<Utc>) -> (Appeal, Vec<Event>) {
        match fire(appeal, &self.ctx(now, &self.system), &self.leaders).unwrap() {
            Some(d) => {
                let events = d.events().to_vec();
                (d.into_appeal(), events)
            }
            None => (appeal.clone(), Vec::new()),
        }
    }

    /// Fires every step as it comes due, up to `until`: the steps with the instant each
    /// fired at (the timer's own instant, as a punctual worker would).
    fn run_until(&self, appeal: &mut Appeal, until: DateTime<Utc>) -> Vec<(String, DateTime<Utc>)> {
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
    let d = data(e);
    let level = d.get("level").and_then(|v| v.as_i64());
    let limit = d.get("limit").and_then(|v| v.as_str()).unwrap_or("");
    match level {
        Some(l) => format!("{}:{limit}:{l}", e.event_type().as_str()),
        None => format!("{}:{limit}", e.event_type().as_str()),
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
        Command::Dispatch {
            unit: unit.into(),
            matter: None,
        },
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
            ("owned:", at(2026, 11, 26, 15, 0)),
        ]
    );
    assert_eq!(
        appeal.owners, w.leaders.owners,
        "the leader in charge owns the case"
    );
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
            ("owned:", at(2026, 10, 12, 15, 0)),
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
        assert!(data(e).get("due_at").is_some());
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
    assert_eq!(err.code, ErrorCode::NotPaused);
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
    assert_eq!(err.code, ErrorCode::AlreadyPaused);
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
    assert_eq!(data(&events[0])["not_rated"], true);
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
        escalations.push(
            d.events()
                .iter()
                .any(|e| describe(e) == "escalated:rework:2"),
        );
        appeal = d.into_appeal();
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
    let d = fire(
        &appeal,
        &w.ctx(at(2026, 11, 23, 9, 10), &w.system),
        &w.leaders,
    )
    .unwrap()
    .unwrap();
    assert!(d.events().is_empty());
    assert_eq!(d.appeal().version, appeal.version);
    assert_eq!(
        d.appeal().sla.next.map(|n| n.at),
        Some(at(2026, 11, 23, 9, 30))
    );
}

#[test]
fn a_confidential_appeal_escalates_to_the_mailbox_readers() {
    let w = World::new();
    let mut appeal = w.dispatched(Priority::Normal, at(2026, 11, 23, 9, 0));
    appeal.confidential = true;
    // Not signed for: after 6 hours the overseer is called, here the mailbox readers.
    let (_, events) = w.fire(&appeal, at(2026, 11, 23, 16, 0));
    let escalated = events
        .iter()
        .find(|e| e.event_type() == crate::event::EventType::Escalated)
        .expect("an escalation");
    assert_eq!(data(escalated)["notified"], "mailbox_readers");
}
