//! Statistics of a period (SPEC §8, 12345 考核指标): response within 30 minutes, on-time
//! resolution, satisfaction (非常满意 + 满意 over rated), overdue count and average handling
//! time, for the city and per unit. Pure: computed from appeals and their events.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::appeal::{Appeal, Rating};
use crate::event::{Event, EventType};

/// The figures of one unit, or of the whole city.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Appeals received in the period.
    pub received: u64,
    /// Dispatches (and reassignments) in the period.
    pub dispatched: u64,
    /// Dispatches signed for or returned within the response limit.
    pub responded_in_time: u64,
    /// Share of dispatches answered within the response limit (`null` with none).
    pub response_rate: Option<f64>,
    /// First replies in the period.
    pub replied: u64,
    /// Replies at or before the resolution deadline (with approved extensions).
    pub replied_on_time: u64,
    pub on_time_rate: Option<f64>,
    /// Ratings in the period, and the good ones (非常满意, 满意).
    pub rated: u64,
    pub satisfied: u64,
    pub satisfaction_rate: Option<f64>,
    /// Open appeals past their resolution deadline now.
    pub overdue: u64,
    /// Mean hours from receipt to first reply, for the replies in the period.
    pub average_handling_hours: Option<f64>,
    #[serde(skip)]
    handling_hours_total: f64,
}

impl Figures {
    fn finish(&mut self) {
        let rate = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
        self.response_rate = rate(self.responded_in_time, self.dispatched);
        self.on_time_rate = rate(self.replied_on_time, self.replied);
        self.satisfaction_rate = rate(self.satisfied, self.rated);
        self.average_handling_hours =
            (self.replied > 0).then(|| self.handling_hours_total / self.replied as f64);
    }
}

/// The statistics of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[serde(flatten)]
    pub city: Figures,
    /// Per unit, by code.
    pub units: BTreeMap<String, Figures>,
}

fn within(at: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    at >= from && at < to
}

/// Statistics of `[from, to)` over `appeals` with their events (oldest first), at `now`.
/// `response_limit` is the time a unit has to sign for a dispatch.
pub fn compute(
    appeals: &[(Appeal, Vec<Event>)],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    response_limit: Duration,
) -> Stats {
    let mut city = Figures::default();
    let mut units: BTreeMap<String, Figures> = BTreeMap::new();
    for (appeal, events) in appeals {
        if within(appeal.created_at, from, to) {
            city.received += 1;
        }
        let mut unit: Option<String> = None;
        let mut dispatched_at: Option<DateTime<Utc>> = None;
        let mut replied_once = false;
        // The resolution deadline in force, as dispatches, extensions, resumptions and rework
        // set it.
        let mut due: Option<DateTime<Utc>> = None;
        for event in events {
            let data_unit = event
                .data
                .get("unit")
                .and_then(|u| u.as_str())
                .map(str::to_owned);
            if let Some(d) = event
                .data
                .get("resolve_due")
                .and_then(|v| serde_json::from_value::<DateTime<Utc>>(v.clone()).ok())
                && matches!(
                    event.event_type,
                    EventType::Dispatched
                        | EventType::Reassigned
                        | EventType::ExtensionApproved
                        | EventType::Reopened
                        | EventType::Resumed
                )
            {
                due = Some(d);
            }
            match event.event_type {
                EventType::Dispatched | EventType::Reassigned => {
                    unit = data_unit.or(unit);
                    dispatched_at = Some(event.at);
                    if within(event.at, from, to) {
                        city.dispatched += 1;
                        if let Some(u) = &unit {
                            units.entry(u.clone()).or_default().dispatched += 1;
                        }
                    }
                }
                EventType::Accepted | EventType::Returned => {
                    if let Some(at) = dispatched_at.take()
                        && within(at, from, to)
                        && event.at - at <= response_limit
                    {
                        city.responded_in_time += 1;
                        if let Some(u) = &unit {
                            units.entry(u.clone()).or_default().responded_in_time += 1;
                        }
                    }
                }
                EventType::Replied if !replied_once => {
                    replied_once = true;
                    if within(event.at, from, to) {
                        let on_time = due.is_none_or(|due| event.at <= due);
                        // Time spent waiting for the appellant (补充材料) is not handling time.
                        let paused = event
                            .data
                            .get("paused_seconds")
                            .and_then(serde_json::Value::as_i64)
                            .unwrap_or(0);
                        let seconds = (event.at - appeal.created_at).num_seconds() - paused;
                        let hours = seconds.max(0) as f64 / 3600.0;
                        for f in std::iter::once(&mut city)
                            .chain(unit.as_ref().map(|u| units.entry(u.clone()).or_default()))
                        {
                            f.replied += 1;
                            f.replied_on_time += u64::from(on_time);
                            f.handling_hours_total += hours;
                        }
                    }
                }
                EventType::Rated if within(event.at, from, to) => {
                    let good = event
                        .data
                        .get("rating")
                        .and_then(|r| serde_json::from_value::<Rating>(r.clone()).ok())
                        .is_some_and(Rating::is_good);
                    for f in std::iter::once(&mut city)
                        .chain(unit.as_ref().map(|u| units.entry(u.clone()).or_default()))
                    {
                        f.rated += 1;
                        f.satisfied += u64::from(good);
                    }
                }
                _ => {}
            }
        }
        if appeal.status.is_open() && appeal.deadlines.resolve_due.is_some_and(|due| due < now) {
            city.overdue += 1;
            if let Some(u) = &appeal.unit {
                units.entry(u.clone()).or_default().overdue += 1;
            }
        }
        if within(appeal.created_at, from, to)
            && let Some(u) = &appeal.unit
        {
            units.entry(u.clone()).or_default().received += 1;
        }
    }
    city.finish();
    for f in units.values_mut() {
        f.finish();
    }
    Stats {
        from,
        to,
        city,
        units,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appeal::{Appellant, Channel, Kind, Location, NewAppeal, Priority};
    use crate::calendar::BusinessCalendar;
    use crate::ids::AppealId;
    use crate::lifecycle::{Command, Rules, decide, received_event};
    use crate::role::{Actor, Role};
    use crate::sla::SlaPolicies;
    use chrono::TimeZone;

    fn rules() -> Rules {
        Rules {
            policies: SlaPolicies::default_policies().unwrap(),
            calendar: BusinessCalendar::official().unwrap(),
            tz: chrono_tz::Asia::Shanghai,
        }
    }

    fn actor(role: Role, unit: Option<&str>) -> Actor {
        Actor {
            name: "x".into(),
            role,
            unit: unit.map(Into::into),
            appeal: None,
        }
    }

    /// An appeal received at `start`, put through `steps` (minutes after start, command).
    fn history(start: DateTime<Utc>, steps: &[(i64, Command, Role)]) -> (Appeal, Vec<Event>) {
        let new = NewAppeal {
            channel: Channel::Web,
            kind: Kind::Complaint,
            priority: Priority::Normal,
            title: "停水".into(),
            body: "小区停水".into(),
            appellant: Appellant::Person {
                name: "李".into(),
                phone: None,
                wechat_openid: None,
            },
            location: Location::default(),
            attachments: vec![],
        };
        let mut appeal = Appeal::received(AppealId::new(), "20261102-000001".into(), new, start);
        let mut events = vec![received_event(&appeal, "agent")];
        let rules = rules();
        for (minutes, command, role) in steps {
            let a = actor(*role, Some("SWUJ"));
            let ctx = rules.context(start + Duration::minutes(*minutes), &a);
            let d = decide(&appeal, command.clone(), &ctx).unwrap();
            appeal = d.appeal;
            events.extend(d.events);
        }
        (appeal, events)
    }

    #[test]
    fn rates_count_what_the_period_holds() {
        // Monday 2026-11-02 09:00 Shanghai.
        let start = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap();
        let dispatch = || Command::Dispatch {
            unit: "SWUJ".into(),
        };
        let good = history(
            start,
            &[
                (0, dispatch(), Role::Dispatcher),
                (10, Command::Accept, Role::Unit),
                (
                    24 * 60,
                    Command::Reply {
                        result: "已修复".into(),
                    },
                    Role::Unit,
                ),
                (
                    25 * 60,
                    Command::Rate {
                        rating: Rating::VerySatisfied,
                        comment: None,
                    },
                    Role::Appellant,
                ),
            ],
        );
        // Signed for after 40 minutes, replied after the 3-working-day deadline, rated badly.
        let late = history(
            start,
            &[
                (0, dispatch(), Role::Dispatcher),
                (40, Command::Accept, Role::Unit),
                (
                    5 * 24 * 60,
                    Command::Reply {
                        result: "已处理".into(),
                    },
                    Role::Unit,
                ),
                (
                    5 * 24 * 60 + 60,
                    Command::Rate {
                        rating: Rating::Dissatisfied,
                        comment: None,
                    },
                    Role::Appellant,
                ),
            ],
        );
        // Dispatched, never signed for: overdue now.
        let open = history(start, &[(0, dispatch(), Role::Dispatcher)]);
        let from = Utc.with_ymd_and_hms(2026, 10, 31, 16, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 11, 30, 16, 0, 0).unwrap();
        let now = start + Duration::days(10);
        let s = compute(&[good, late, open], from, to, now, Duration::minutes(30));
        assert_eq!(s.city.received, 3);
        assert_eq!(s.city.dispatched, 3);
        assert_eq!(s.city.responded_in_time, 1);
        assert!((s.city.response_rate.unwrap() - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!((s.city.replied, s.city.replied_on_time), (2, 1));
        assert_eq!(s.city.on_time_rate, Some(0.5));
        assert_eq!((s.city.rated, s.city.satisfied), (2, 1));
        assert_eq!(s.city.satisfaction_rate, Some(0.5));
        assert_eq!(s.city.overdue, 1);
        assert!((s.city.average_handling_hours.unwrap() - (24.0 + 120.0) / 2.0).abs() < 1e-9);
        let unit = &s.units["SWUJ"];
        assert_eq!(
            (unit.received, unit.dispatched, unit.replied, unit.overdue),
            (3, 3, 2, 1)
        );

        // Paused for the appellant's material for two working days: the deadline moves, so the
        // reply is on time, and the pause is not handling time.
        let paused = history(
            start,
            &[
                (0, dispatch(), Role::Dispatcher),
                (10, Command::Accept, Role::Unit),
                (
                    60,
                    Command::Pause {
                        reason: "请补充照片".into(),
                    },
                    Role::Unit,
                ),
                (2 * 24 * 60 + 60, Command::Resume, Role::Unit),
                (
                    4 * 24 * 60,
                    Command::Reply {
                        result: "已修复".into(),
                    },
                    Role::Unit,
                ),
            ],
        );
        let s = compute(&[paused], from, to, now, Duration::minutes(30));
        assert_eq!((s.city.replied, s.city.replied_on_time), (1, 1));
        assert!((s.city.average_handling_hours.unwrap() - 48.0).abs() < 1e-9);

        // A period that holds none of it.
        let later = compute(&[], to, to + Duration::days(30), now, Duration::minutes(30));
        assert_eq!(later.city.response_rate, None);
        assert_eq!(later.city.received, 0);
    }
}
