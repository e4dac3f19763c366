//! Statistics in SQL: the facts the store keeps beside each appeal sum to what
//! `hotline_schemas::stats::compute` counts from the appeals and their histories, within each
//! scope; appeals stored before the facts get them when the store migrates.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use hotline_schemas::stats::{Figures, compute};
use hotline_schemas::{Channel, Command, Rating};
use hotline_store::{Scope, StatGroup, StatRow, StatScope, Store};

use crate::fixtures::{appellant, apply, dispatcher, monday, submission, submit, unit_staff};
use crate::harness::TestDb;

const FGJ: &str = "DEMO-FGJ";
const RSJ: &str = "DEMO-RSJ";

/// The city's and each unit's figures from rows grouped by unit.
fn figures(rows: &[StatRow]) -> (Figures, BTreeMap<String, Figures>) {
    let mut city = Figures::default();
    let mut units: BTreeMap<String, Figures> = BTreeMap::new();
    for row in rows {
        city.add(row.kind, row.tally);
        if let Some(unit) = &row.unit
            && row.kind != hotline_store::FactKind::Breached
        {
            units
                .entry(unit.clone())
                .or_default()
                .add(row.kind, row.tally);
        }
    }
    city.finish();
    units.values_mut().for_each(Figures::finish);
    (city, units)
}

async fn rows(
    store: &std::sync::Arc<dyn Store>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    scope: &StatScope,
    group: StatGroup,
) -> Vec<StatRow> {
    store
        .stat_rows(from, to, scope, group, Duration::minutes(30))
        .await
        .unwrap()
}

pub async fn statistics_sum_the_facts_of_each_appeal(db: TestDb) {
    let store = &db.store;
    let t0 = monday();
    let dispatch = |unit: &str| Command::Dispatch {
        unit: unit.into(),
        matter: None,
    };
    // Signed for in 10 minutes, replied the next day, rated 满意.
    let good = submit(store, submission(Channel::Web, t0)).await;
    let good = apply(store, &good, dispatch(FGJ), &dispatcher(), t0).await;
    let good = apply(
        store,
        &good,
        Command::Accept,
        &unit_staff(FGJ),
        t0 + Duration::minutes(10),
    )
    .await;
    let good = apply(
        store,
        &good,
        Command::Reply {
            result: "已办结".into(),
        },
        &unit_staff(FGJ),
        t0 + Duration::days(1),
    )
    .await;
    apply(
        store,
        &good,
        Command::Rate {
            rating: Rating::Satisfied,
            comment: None,
        },
        &appellant(&good),
        t0 + Duration::days(1) + Duration::hours(1),
    )
    .await;
    // Signed for after 40 minutes; then an extension is asked for.
    let slow = submit(store, submission(Channel::Hotline, t0)).await;
    let slow = apply(store, &slow, dispatch(FGJ), &dispatcher(), t0).await;
    let slow = apply(
        store,
        &slow,
        Command::Accept,
        &unit_staff(FGJ),
        t0 + Duration::minutes(40),
    )
    .await;
    let slow = apply(
        store,
        &slow,
        Command::RequestExtension {
            days: Some(2),
            hours: None,
            reason: "需要现场勘查".into(),
        },
        &unit_staff(FGJ),
        t0 + Duration::hours(2),
    )
    .await;
    // Dispatched to another unit, never signed for.
    let open = submit(store, submission(Channel::Web, t0)).await;
    apply(store, &open, dispatch(RSJ), &dispatcher(), t0).await;
    // A letter to the party secretary's mailbox: confidential.
    let letter = submit(store, submission(Channel::Mailbox, t0)).await;
    assert!(letter.confidential);

    let (from, to) = (t0 - Duration::days(1), t0 + Duration::days(30));
    let now = t0 + Duration::days(10);
    let everything = StatScope {
        confidential: true,
        ..StatScope::default()
    };

    // What compute counts from the appeals and their histories.
    let mut appeals = Vec::new();
    for id in [good.id, slow.id, open.id, letter.id] {
        let appeal = store.appeal(id).await.unwrap().unwrap();
        appeals.push((appeal, store.events(id).await.unwrap()));
    }
    let expected = compute(&appeals, from, to, now, Duration::minutes(30));
    let (mut city, units) = figures(&rows(store, from, to, &everything, StatGroup::Unit).await);
    let overdue = store.overdue_by_unit(now, &everything).await.unwrap();
    city.overdue = overdue.iter().map(|(_, n)| *n as u64).sum();
    city.finish();
    let mut units = units;
    for (unit, n) in &overdue {
        if let Some(unit) = unit {
            units.entry(unit.to_string()).or_default().overdue = *n as u64;
        }
    }
    assert_eq!(city, expected.city);
    assert_eq!(units, expected.units);
    assert_eq!(
        (city.received, city.dispatched, city.responded_in_time),
        (4, 3, 1)
    );
    assert_eq!((city.replied, city.rated, city.satisfied), (1, 1, 1));
    assert_eq!(city.overdue, 2, "the slow one and the unsigned one");

    // By unit and hour, by hour, by matter and channel: the same totals.
    for group in [
        StatGroup::UnitHour,
        StatGroup::Hour,
        StatGroup::MatterChannel,
    ] {
        let (by, _) = figures(&rows(store, from, to, &everything, group).await);
        assert_eq!(
            (by.received, by.dispatched, by.replied, by.rated),
            (4, 3, 1, 1),
            "{group:?}"
        );
    }
    let by_hour = rows(store, from, to, &everything, StatGroup::UnitHour).await;
    let t0_hour = t0.timestamp().div_euclid(3600);
    assert!(
        by_hour
            .iter()
            .filter(|r| r.kind == hotline_store::FactKind::Received)
            .all(|r| r.hour == t0_hour),
        "received at t0: {by_hour:?}"
    );
    let replied = by_hour
        .iter()
        .find(|r| r.kind == hotline_store::FactKind::Replied)
        .unwrap();
    assert_eq!(
        (replied.unit.as_deref(), replied.hour),
        (Some(FGJ), t0_hour + 24)
    );
    // By hour over every unit: the same hours, no unit named.
    let over_units = rows(store, from, to, &everything, StatGroup::Hour).await;
    assert!(
        over_units.iter().all(|r| r.unit.is_none()),
        "{over_units:?}"
    );
    let replied = over_units
        .iter()
        .find(|r| r.kind == hotline_store::FactKind::Replied)
        .unwrap();
    assert_eq!((replied.hour, replied.tally.count), (t0_hour + 24, 1));
    let received: u64 = over_units
        .iter()
        .filter(|r| r.kind == hotline_store::FactKind::Received && r.hour == t0_hour)
        .map(|r| r.tally.count)
        .sum();
    assert_eq!(received, 4);
    let by_channel = rows(store, from, to, &everything, StatGroup::MatterChannel).await;
    let web: u64 = by_channel
        .iter()
        .filter(|r| {
            r.channel.as_deref() == Some("web") && r.kind == hotline_store::FactKind::Received
        })
        .map(|r| r.tally.count)
        .sum();
    assert_eq!(web, 2);
    // Only the facts of the period: from an hour after t0, the receipts are out.
    let (later, _) = figures(
        &rows(
            store,
            t0 + Duration::minutes(30),
            to,
            &everything,
            StatGroup::UnitHour,
        )
        .await,
    );
    assert_eq!((later.received, later.dispatched, later.replied), (0, 0, 1));
    // A period before it all holds nothing.
    assert!(
        rows(
            store,
            from - Duration::days(9),
            from,
            &everything,
            StatGroup::Unit
        )
        .await
        .is_empty()
    );

    // Without confidential appeals the letter is not counted.
    let ordinary = StatScope::default();
    let (city, _) = figures(&rows(store, from, to, &ordinary, StatGroup::Unit).await);
    assert_eq!(city.received, 3);
    // A leader of RSJ: the appeals ever dispatched there.
    let leader = StatScope {
        dispatched_to: Some(vec![RSJ.into()]),
        ..StatScope::default()
    };
    let (city, units) = figures(&rows(store, from, to, &leader, StatGroup::Unit).await);
    assert_eq!((city.received, city.dispatched), (1, 1));
    assert_eq!(units.keys().collect::<Vec<_>>(), [RSJ]);
    let none = StatScope {
        dispatched_to: Some(Vec::new()),
        ..StatScope::default()
    };
    assert!(
        rows(store, from, to, &none, StatGroup::Unit)
            .await
            .is_empty()
    );
    assert_eq!(
        store.overdue_by_unit(now, &leader).await.unwrap(),
        [(Some(RSJ.into()), 1)]
    );
    // A unit: its own facts.
    let unit = StatScope {
        unit: Some(FGJ.into()),
        ..StatScope::default()
    };
    let (city, _) = figures(&rows(store, from, to, &unit, StatGroup::Unit).await);
    assert_eq!((city.received, city.dispatched, city.replied), (2, 2, 1));

    // The texts of the period, with a person's name to leave out; none of the letter's for
    // those who may not see it.
    let texts = store
        .appeal_texts(from, to, &ordinary, 6, 100)
        .await
        .unwrap();
    assert_eq!(texts.len(), 3);
    assert!(texts.iter().all(|t| t.title == "营业执照变更材料反复退回"));
    assert!(
        texts.iter().all(|t| t.body.chars().count() == 6),
        "{texts:?}"
    );
    assert!(texts.iter().all(|t| t.person.is_none()), "an enterprise's");
    assert_eq!(
        store
            .appeal_texts(from, to, &everything, 6, 100)
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        store
            .appeal_texts(from, to, &everything, 6, 2)
            .await
            .unwrap()
            .len(),
        2
    );

    // The extension waiting for approval.
    let pending = store.pending_extensions(&Scope::all()).await.unwrap();
    assert_eq!(pending.iter().map(|a| a.id).collect::<Vec<_>>(), [slow.id]);
    let supervisor = hotline_schemas::Actor {
        role: hotline_schemas::Role::Supervisor,
        ..dispatcher()
    };
    apply(
        store,
        &slow,
        Command::ApproveExtension,
        &supervisor,
        t0 + Duration::hours(3),
    )
    .await;
    assert!(
        store
            .pending_extensions(&Scope::all())
            .await
            .unwrap()
            .is_empty()
    );

    // Facts missing (appeals stored before them) come back when the store migrates.
    let before = rows(store, from, to, &everything, StatGroup::Unit).await;
    db.sql.execute("DELETE FROM stat_facts").await.unwrap();
    assert!(
        rows(store, from, to, &everything, StatGroup::Unit)
            .await
            .is_empty()
    );
    store.migrate().await.unwrap();
    let mut after = rows(store, from, to, &everything, StatGroup::Unit).await;
    let key = |r: &StatRow| (r.kind.as_str(), r.unit.clone());
    let mut before = before;
    before.sort_by_key(key);
    after.sort_by_key(key);
    assert_eq!(after, before);
}
