use super::*;
use crate::appeal::{Appellant, Channel, Kind, Location, NewAppeal, Priority, Rating};
use crate::command::{Actor, Command, Role};
use crate::lifecycle::{Intake, Rules, decide};
use crate::policy::calendar::BusinessCalendar;
use crate::policy::sla::SlaPolicies;
use crate::value::ids::TicketNo;
use chrono::TimeZone;

fn rules() -> Rules {
    Rules {
        policies: SlaPolicies::default_policies().unwrap(),
        calendar: BusinessCalendar::official().unwrap(),
        tz: chrono_tz::Asia::Shanghai,
        discipline_unit: None,
    }
}

fn actor(role: Role, unit: Option<&str>) -> Actor {
    Actor {
        name: "x".into(),
        role,
        unit: unit.map(Into::into),
        appeal: None,
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
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
    let rules = rules();
    let agent = actor(Role::Agent, None);
    let received = Intake::new(new, &rules.context(start, &agent))
        .unwrap()
        .receive(TicketNo::from("20261102-000001"));
    let mut events = received.events().to_vec();
    let mut appeal = received.into_appeal();
    for (minutes, command, role) in steps {
        let a = actor(*role, Some("SWUJ"));
        let ctx = rules.context(start + Duration::minutes(*minutes), &a);
        let d = decide(&appeal, command.clone(), &ctx).unwrap();
        events.extend(d.events().iter().cloned());
        appeal = d.into_appeal();
    }
    (appeal, events)
}

#[test]
fn rates_count_what_the_period_holds() {
    // Monday 2026-11-02 09:00 Shanghai.
    let start = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap();
    let dispatch = || Command::Dispatch {
        unit: "SWUJ".into(),
        matter: None,
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

#[test]
fn an_appeals_facts_are_what_the_statistics_count() {
    let start = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap();
    let (appeal, events) = history(
        start,
        &[
            (
                0,
                Command::Dispatch {
                    unit: "SWUJ".into(),
                    matter: None,
                },
                Role::Dispatcher,
            ),
            (20, Command::Accept, Role::Unit),
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
                    rating: Rating::Satisfied,
                    comment: None,
                },
                Role::Appellant,
            ),
        ],
    );
    let kinds: Vec<FactKind> = facts(&appeal, &events).iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            FactKind::Received,
            FactKind::Dispatched,
            FactKind::Replied,
            FactKind::Rated
        ]
    );
    let all = facts(&appeal, &events);
    assert_eq!(
        all[0].unit.as_deref(),
        Some("SWUJ"),
        "the unit holding it now"
    );
    assert_eq!(
        all[1].value,
        Some(20 * 60 * 1_000_000),
        "signed for after 20 minutes"
    );
    assert_eq!((all[2].flag, all[2].value), (true, Some(24 * 3600)));
    assert!(all[3].flag, "满意 is a good rating");
    let mut tally = Tally::default();
    tally.add(&all[1], Duration::minutes(30));
    assert_eq!(tally.flagged, 1);
    tally.add(&all[1], Duration::minutes(10));
    assert_eq!((tally.count, tally.flagged), (2, 1));
}
