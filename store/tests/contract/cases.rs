//! The contract cases. Each takes a fresh, migrated database and must hold on every engine.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use chrono::{Duration, TimeDelta};
use hotline_schemas::envelope::SCHEMA_VERSION;
use hotline_schemas::lifecycle::Command;
use hotline_schemas::unit::{Unit, demo_units};
use hotline_schemas::{
    Appeal, AppealId, Channel, Envelope, Event, EventId, EventType, Rating, Status,
};
use hotline_store::{AppealFilter, CommitMeta, Consumed, Store, StoreError};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::fixtures::{
    appellant, apply, classify, date, decision, dispatch_to, dispatcher, keyed, local, monday,
    submission, submit, unit_staff,
};
use crate::harness::{Location, TestDb};

const FGJ: &str = "DEMO-FGJ";
const RSJ: &str = "DEMO-RSJ";
const SCJGJ: &str = "DEMO-SCJGJ";
const GHZRZYJ: &str = "DEMO-GHZRZYJ";

fn all() -> AppealFilter {
    AppealFilter {
        page: 1,
        per_page: 100,
        ..AppealFilter::default()
    }
}

async fn total(store: &Arc<dyn Store>) -> i64 {
    store.list(&all()).await.expect("list").total
}

/// The ids of the appeals matching `filter` (all on one page), checking `total` agrees.
async fn ids(store: &Arc<dyn Store>, filter: AppealFilter) -> BTreeSet<AppealId> {
    let page = store
        .list(&AppealFilter {
            page: 1,
            per_page: 100,
            ..filter
        })
        .await
        .expect("list");
    assert_eq!(
        page.total,
        page.appeals.len() as i64,
        "total of a single page"
    );
    page.appeals.iter().map(|a| a.id).collect()
}

fn set<const N: usize>(appeals: [&Appeal; N]) -> BTreeSet<AppealId> {
    appeals.iter().map(|a| a.id).collect()
}

fn event_types(events: &[hotline_schemas::Event]) -> Vec<EventType> {
    events.iter().map(|e| e.event_type).collect()
}

// ---- 1. Migrations and ping ------------------------------------------------------------------

pub async fn migrate_is_idempotent_and_ping_works(db: TestDb) {
    let store = &db.store;
    store.ping().await.expect("ping");
    store.migrate().await.expect("second migrate");
    store.migrate().await.expect("third migrate");
    store.ping().await.expect("ping after migrating again");
    assert_eq!(
        db.sql.count("SELECT COUNT(*) FROM _sqlx_migrations").await,
        2,
        "each migration is recorded once"
    );
    assert_eq!(
        db.sql
            .count("SELECT COUNT(*) FROM _sqlx_migrations WHERE success AND version IN (1, 2)")
            .await,
        2,
        "init and bus, both applied"
    );
    // Another store on the same database migrates as a no-op too.
    let other = db.location.open().await;
    other.migrate().await.expect("migrate from a second store");
    other.ping().await.expect("ping the second store");

    let a = submit(store, submission(Channel::Hotline, monday())).await;
    assert_eq!(other.appeal(a.id).await.expect("appeal"), Some(a));
}

// ---- 2. Units ----------------------------------------------------------------------------------

pub async fn seed_units_once_sorted_by_code(db: TestDb) {
    let store = &db.store;
    assert!(store.units().await.expect("units").is_empty());

    let demo = demo_units();
    let mut reversed = demo.clone();
    reversed.reverse();
    assert!(
        store.seed_units_if_empty(&reversed).await.expect("seed"),
        "first seed loads"
    );

    let mut expected = demo.clone();
    expected.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(
        store.units().await.expect("units"),
        expected,
        "sorted by code"
    );

    let other = [Unit {
        code: "AAA".to_owned(),
        name: "别的单位".to_owned(),
        demo: false,
        keywords: vec!["路灯".to_owned()],
    }];
    assert!(
        !store.seed_units_if_empty(&other).await.expect("seed again"),
        "second seed does nothing"
    );
    assert!(!store.seed_units_if_empty(&demo).await.expect("seed again"));
    assert_eq!(
        store.units().await.expect("units"),
        expected,
        "unchanged by later seeds"
    );
}

/// Several processes starting at once each seed the demo units: exactly one loads them, none
/// fails. Repeated on an emptied table, as one round may not overlap.
pub async fn concurrent_seeding_loads_units_once(db: TestDb) {
    const N: usize = 6;
    let mut expected = demo_units();
    expected.sort_by(|a, b| a.code.cmp(&b.code));
    for round in 0..10 {
        db.sql
            .execute("DELETE FROM units")
            .await
            .expect("empty units");
        let barrier = Arc::new(Barrier::new(N));
        let mut tasks = JoinSet::new();
        for _ in 0..N {
            let (store, barrier) = (db.store.clone(), barrier.clone());
            tasks.spawn(async move {
                barrier.wait().await;
                store.seed_units_if_empty(&demo_units()).await
            });
        }
        let results: Vec<bool> = tasks
            .join_all()
            .await
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("round {round}: concurrent seed failed: {e}")))
            .collect();
        assert_eq!(
            results.iter().filter(|loaded| **loaded).count(),
            1,
            "round {round}: {results:?}"
        );
        assert_eq!(
            db.store.units().await.expect("units"),
            expected,
            "round {round}"
        );
    }
}

// ---- 3. Submissions ------------------------------------------------------------------------------

pub async fn submit_creates_received_appeal(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let sub = submission(Channel::Hotline, at);
    let (id, new) = (sub.id, sub.new.clone());

    let submitted = store.submit(sub).await.expect("submit");
    assert!(submitted.created);
    let appeal = submitted.appeal;
    assert_eq!(appeal.id, id);
    assert_eq!(appeal.status, Status::Received);
    assert_eq!(appeal.version, 1);
    assert_eq!(appeal.ticket_no, "20260302-000001");
    assert_eq!((appeal.created_at, appeal.updated_at), (at, at));
    assert_eq!(appeal.channel, new.channel);
    assert_eq!(appeal.title, new.title);
    assert_eq!(appeal.appellant, new.appellant);
    assert_eq!(appeal.location, new.location);
    assert_eq!(appeal.unit, None);
    assert_eq!(appeal.deadlines, Default::default());

    assert_eq!(
        store.appeal(id).await.expect("appeal"),
        Some(appeal.clone())
    );

    let events = store.events(id).await.expect("events");
    assert_eq!(events.len(), 1, "{events:?}");
    let received = &events[0];
    assert_eq!(received.seq, 1);
    assert_eq!(received.event_type, EventType::Received);
    assert_eq!(received.appeal_id, id);
    assert_eq!(received.at, at);
    assert_eq!(received.actor, "agent-01");
    assert_eq!(received.reason, None);
    assert_eq!(received.data["ticket_no"], appeal.ticket_no.as_str());
    assert_eq!(received.data["channel"], "hotline");

    let unknown = AppealId::new();
    assert_eq!(store.appeal(unknown).await.expect("appeal"), None);
    assert!(store.events(unknown).await.expect("events").is_empty());
}

pub async fn submit_assigns_ticket_numbers(db: TestDb) {
    let store = &db.store;
    let day1 = local(2026, 3, 2, 9, 0);
    let first = submit(store, submission(Channel::Hotline, day1)).await;
    let second = submit(store, submission(Channel::Web, day1 + Duration::minutes(1))).await;
    let next_day = submit(store, submission(Channel::Wechat, local(2026, 3, 3, 9, 0))).await;
    let day1_late = submit(
        store,
        submission(Channel::Hotline, local(2026, 3, 2, 23, 30)),
    )
    .await;
    // 01:00 in Shanghai is still the previous day in UTC: counted under the local day given.
    let next_day_early = submit(store, submission(Channel::Hotline, local(2026, 3, 3, 1, 0))).await;

    assert_eq!(first.ticket_no, "20260302-000001");
    assert_eq!(second.ticket_no, "20260302-000002");
    assert_eq!(next_day.ticket_no, "20260303-000001");
    assert_eq!(day1_late.ticket_no, "20260302-000003");
    assert_eq!(next_day_early.ticket_no, "20260303-000002");

    // The counter follows `Submission::day`, not the UTC date of `at`.
    let mut other_day = submission(Channel::Web, monday());
    other_day.day = date(2026, 1, 1);
    assert_eq!(submit(store, other_day).await.ticket_no, "20260101-000001");

    for appeal in [&first, &second, &next_day, &day1_late, &next_day_early] {
        let stored = store
            .appeal(appeal.id)
            .await
            .expect("appeal")
            .expect("stored");
        assert_eq!(&stored.ticket_no, &appeal.ticket_no);
        let events = store.events(appeal.id).await.expect("events");
        assert_eq!(events[0].data["ticket_no"], appeal.ticket_no.as_str());
    }
    assert_eq!(total(store).await, 6);
}

// ---- 4. Idempotency --------------------------------------------------------------------------------

pub async fn idempotent_resubmission_returns_same_appeal(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let first = store
        .submit(keyed(at, "web", "key-1", "hash-a"))
        .await
        .expect("submit");
    assert!(first.created);

    // A retry carries a new id and time; the key decides.
    let again = store
        .submit(keyed(at + Duration::seconds(5), "web", "key-1", "hash-a"))
        .await
        .expect("resubmit");
    assert!(!again.created, "a retry is not a new appeal");
    assert_eq!(again.appeal, first.appeal);

    assert_eq!(total(store).await, 1);
    assert_eq!(
        store.events(first.appeal.id).await.expect("events").len(),
        1
    );
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 1);
    assert_eq!(
        db.sql.count("SELECT COUNT(*) FROM idempotency_keys").await,
        1
    );

    // No ticket number was used up by the retry.
    let next = submit(store, submission(Channel::Web, at)).await;
    assert_eq!(next.ticket_no, "20260302-000002");
}

pub async fn idempotency_key_with_other_hash_conflicts(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let first = store
        .submit(keyed(at, "web", "key-1", "hash-a"))
        .await
        .expect("submit");

    let err = store
        .submit(keyed(at, "web", "key-1", "hash-b"))
        .await
        .expect_err("same key, another request");
    assert!(matches!(err, StoreError::IdempotencyConflict), "{err:?}");

    assert_eq!(total(store).await, 1);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, 1);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 1);
    // The original request still finds its appeal.
    let again = store
        .submit(keyed(at, "web", "key-1", "hash-a"))
        .await
        .expect("retry");
    assert!(!again.created);
    assert_eq!(again.appeal.id, first.appeal.id);
    let next = submit(store, submission(Channel::Web, at)).await;
    assert_eq!(
        next.ticket_no, "20260302-000002",
        "the conflict used no ticket number"
    );
}

pub async fn idempotency_keys_are_scoped_per_caller(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let a = store
        .submit(keyed(at, "caller-a", "key-1", "hash"))
        .await
        .expect("submit a");
    let b = store
        .submit(keyed(at, "caller-b", "key-1", "hash"))
        .await
        .expect("submit b");
    assert!(
        a.created && b.created,
        "the same key from another caller is another request"
    );
    assert_ne!(a.appeal.id, b.appeal.id);
    assert_eq!(b.appeal.ticket_no, "20260302-000002");

    let b_again = store
        .submit(keyed(at, "caller-b", "key-1", "hash"))
        .await
        .expect("retry b");
    assert!(!b_again.created);
    assert_eq!(b_again.appeal.id, b.appeal.id);
    let a_again = store
        .submit(keyed(at, "caller-a", "key-1", "hash"))
        .await
        .expect("retry a");
    assert!(!a_again.created);
    assert_eq!(a_again.appeal.id, a.appeal.id);

    // Another caller's hash does not conflict with this caller's key.
    let c = store
        .submit(keyed(at, "caller-c", "key-1", "other"))
        .await
        .expect("submit c");
    assert!(c.created);
    assert_eq!(total(store).await, 3);
}

// ---- 5./6. Concurrent submissions -------------------------------------------------------------------

pub async fn concurrent_idempotent_submissions_create_one_appeal(db: TestDb) {
    const N: usize = 8;
    let at = monday();
    // Half the requests reach a second store on the same database, as another process would.
    let stores = [db.store.clone(), db.location.open().await];
    let barrier = Arc::new(Barrier::new(N));
    let mut tasks = JoinSet::new();
    for i in 0..N {
        let (store, barrier) = (stores[i % 2].clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            store.submit(keyed(at, "web", "key-race", "hash")).await
        });
    }
    let results: Vec<_> = tasks
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("every concurrent retry succeeds"))
        .collect();
    assert_eq!(
        results.iter().filter(|s| s.created).count(),
        1,
        "exactly one creates"
    );
    let ids: HashSet<AppealId> = results.iter().map(|s| s.appeal.id).collect();
    assert_eq!(ids.len(), 1, "all get the same appeal: {ids:?}");
    assert!(
        results
            .iter()
            .all(|s| s.appeal.ticket_no == "20260302-000001")
    );

    let store = &db.store;
    assert_eq!(total(store).await, 1);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, 1);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 1);
    assert_eq!(
        db.sql.count("SELECT COUNT(*) FROM idempotency_keys").await,
        1
    );
    let next = submit(store, submission(Channel::Web, at)).await;
    assert_eq!(
        next.ticket_no, "20260302-000002",
        "the losers used no ticket number"
    );
}

pub async fn concurrent_submissions_get_gapless_ticket_numbers(db: TestDb) {
    const N: usize = 50;
    let at = monday();
    // Half the requests reach a second store on the same database, as another process would.
    let stores = [db.store.clone(), db.location.open().await];
    let barrier = Arc::new(Barrier::new(N));
    let mut tasks = JoinSet::new();
    for i in 0..N {
        let (store, barrier) = (stores[i % 2].clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            store
                .submit(submission(
                    Channel::Web,
                    at + Duration::milliseconds(i as i64),
                ))
                .await
        });
    }
    let appeals: Vec<Appeal> = tasks
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("concurrent submit succeeds"))
        .inspect(|s| assert!(s.created))
        .map(|s| s.appeal)
        .collect();

    let mut tickets: Vec<String> = appeals.iter().map(|a| a.ticket_no.clone()).collect();
    tickets.sort();
    let expected: Vec<String> = (1..=N).map(|n| format!("20260302-{n:06}")).collect();
    assert_eq!(tickets, expected, "distinct and gapless");
    let ids: HashSet<AppealId> = appeals.iter().map(|a| a.id).collect();
    assert_eq!(ids.len(), N);
    assert_eq!(total(&db.store).await, N as i64);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, N as i64);
}

/// A submission that fails inside the store leaves no trace: no ticket number, event, outbox
/// row or idempotency key.
pub async fn failed_submit_leaves_nothing_behind(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let first = submit(store, submission(Channel::Web, at)).await;

    let mut duplicate = keyed(at, "web", "key-1", "hash-a");
    duplicate.id = first.id; // the appeal id is taken: the insert fails
    let err = store
        .submit(duplicate)
        .await
        .expect_err("duplicate appeal id");
    assert!(matches!(err, StoreError::Database(_)), "{err:?}");

    assert_eq!(total(store).await, 1);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, 1);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 1);
    assert_eq!(
        db.sql.count("SELECT COUNT(*) FROM idempotency_keys").await,
        0
    );
    assert_eq!(
        store.appeal(first.id).await.expect("appeal"),
        Some(first.clone())
    );

    // The key was not taken and the number not used.
    let retry = store
        .submit(keyed(at, "web", "key-1", "hash-b"))
        .await
        .expect("fresh key");
    assert!(retry.created);
    assert_eq!(retry.appeal.ticket_no, "20260302-000002");
}

// ---- 7./8. Commits --------------------------------------------------------------------------------

pub async fn commit_stores_decisions(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let appeal = submit(store, submission(Channel::Hotline, at)).await;

    let now = at + Duration::minutes(10);
    let dispatch = dispatch_to(&appeal, FGJ, now);
    store
        .commit(&dispatch, &CommitMeta::default())
        .await
        .expect("commit dispatch");

    let stored = store
        .appeal(appeal.id)
        .await
        .expect("appeal")
        .expect("stored");
    assert_eq!(stored, dispatch.appeal);
    assert_eq!(stored.status, Status::Dispatched);
    assert_eq!(stored.unit.as_deref(), Some(FGJ));
    assert_eq!(stored.version, 2);
    assert_eq!(stored.updated_at, now);
    assert_eq!(stored.created_at, at);
    assert_eq!(stored.ticket_no, appeal.ticket_no);
    let response_due = stored.deadlines.response_due.expect("response deadline");
    let resolve_due = stored.deadlines.resolve_due.expect("resolution deadline");
    assert!(
        now < response_due && response_due < resolve_due,
        "{:?}",
        stored.deadlines
    );

    let events = store.events(appeal.id).await.expect("events");
    assert_eq!(
        event_types(&events),
        [EventType::Received, EventType::Dispatched]
    );
    assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(events[1], dispatch.events[0]);
    assert_eq!(events[1].actor, "dispatcher-01");
    assert_eq!(events[1].data["unit"], FGJ);

    // The next step builds on the stored state.
    let later = now + Duration::minutes(5);
    let accept = decision(&stored, Command::Accept, &unit_staff(FGJ), later);
    store
        .commit(&accept, &CommitMeta::default())
        .await
        .expect("commit accept");
    let stored = store
        .appeal(appeal.id)
        .await
        .expect("appeal")
        .expect("stored");
    assert_eq!((stored.status, stored.version), (Status::Accepted, 3));
    let events = store.events(appeal.id).await.expect("events");
    assert_eq!(
        event_types(&events),
        [
            EventType::Received,
            EventType::Dispatched,
            EventType::Accepted
        ]
    );
    assert_eq!(events[2], accept.events[0]);
    assert_eq!(events[2].seq, 3);
}

pub async fn conflicting_commits_first_wins(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let appeal = submit(store, submission(Channel::Hotline, at)).await;
    let now = at + Duration::minutes(10);

    // Two dispatchers decide on version 1 at once.
    let to_fgj = dispatch_to(&appeal, FGJ, now);
    let to_rsj = dispatch_to(&appeal, RSJ, now);
    store
        .commit(&to_fgj, &CommitMeta::default())
        .await
        .expect("first commit wins");
    let err = store
        .commit(&to_rsj, &CommitMeta::default())
        .await
        .expect_err("second commit loses");
    assert!(matches!(err, StoreError::Conflict), "{err:?}");

    let stored = store
        .appeal(appeal.id)
        .await
        .expect("appeal")
        .expect("stored");
    assert_eq!(stored, to_fgj.appeal);
    assert_eq!(store.events(appeal.id).await.expect("events").len(), 2);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 2);

    // Two accepts of the same dispatched version.
    let later = now + Duration::minutes(1);
    let staff = unit_staff(FGJ);
    let accept1 = decision(&stored, Command::Accept, &staff, later);
    let accept2 = decision(&stored, Command::Accept, &staff, later);
    store
        .commit(&accept1, &CommitMeta::default())
        .await
        .expect("first accept");
    let err = store
        .commit(&accept2, &CommitMeta::default())
        .await
        .expect_err("second accept");
    assert!(matches!(err, StoreError::Conflict), "{err:?}");

    // A return decided on the dispatched version after it was accepted.
    let stale = decision(
        &stored,
        Command::Return {
            reason: "不属于本单位职责".to_owned(),
        },
        &staff,
        later + Duration::minutes(1),
    );
    let err = store
        .commit(&stale, &CommitMeta::default())
        .await
        .expect_err("stale decision");
    assert!(matches!(err, StoreError::Conflict), "{err:?}");

    let stored = store
        .appeal(appeal.id)
        .await
        .expect("appeal")
        .expect("stored");
    assert_eq!(stored, accept1.appeal);
    let events = store.events(appeal.id).await.expect("events");
    assert_eq!(
        event_types(&events),
        [
            EventType::Received,
            EventType::Dispatched,
            EventType::Accepted
        ]
    );
    assert_eq!(events[2].id, accept1.events[0].id);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, 3);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 3);
}

pub async fn concurrent_commits_exactly_one_wins(db: TestDb) {
    let store = &db.store;
    // Half the commits go through a second store on the same database, as another process's.
    let stores = [db.store.clone(), db.location.open().await];
    let units = [FGJ, RSJ, SCJGJ, GHZRZYJ];
    for round in 0..8 {
        let at = monday() + Duration::minutes(round);
        let appeal = submit(store, submission(Channel::Hotline, at)).await;
        let decisions: Vec<_> = units
            .iter()
            .map(|unit| dispatch_to(&appeal, unit, at + Duration::minutes(1)))
            .collect();

        let barrier = Arc::new(Barrier::new(decisions.len()));
        let mut tasks = JoinSet::new();
        for (i, d) in decisions.iter().cloned().enumerate() {
            let (store, barrier) = (stores[i % 2].clone(), barrier.clone());
            tasks.spawn(async move {
                barrier.wait().await;
                let result = store.commit(&d, &CommitMeta::default()).await;
                (d, result)
            });
        }
        let outcomes = tasks.join_all().await;
        let winners: Vec<_> = outcomes.iter().filter(|(_, r)| r.is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one commit wins");
        for (_, r) in &outcomes {
            if let Err(e) = r {
                assert!(matches!(e, StoreError::Conflict), "round {round}: {e:?}");
            }
        }
        let winner = &winners[0].0;
        let stored = store
            .appeal(appeal.id)
            .await
            .expect("appeal")
            .expect("stored");
        assert_eq!(&stored, &winner.appeal);
        let events = store.events(appeal.id).await.expect("events");
        assert_eq!(events.len(), 2, "round {round}: {events:?}");
        assert_eq!(events[1], winner.events[0]);
    }
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, 16);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 16);
}

/// When writing the events fails, the projection update of the same commit is undone.
pub async fn failed_commit_rolls_back_projection(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let appeal = submit(store, submission(Channel::Hotline, at)).await;
    let received = store.events(appeal.id).await.expect("events");

    let good = dispatch_to(&appeal, FGJ, at + Duration::minutes(1));
    let mut bad = good.clone();
    bad.events[0].id = received[0].id; // an event id already in the log
    let err = store
        .commit(&bad, &CommitMeta::default())
        .await
        .expect_err("duplicate event id");
    assert!(matches!(err, StoreError::Database(_)), "{err:?}");

    assert_eq!(
        store.appeal(appeal.id).await.expect("appeal"),
        Some(appeal.clone())
    );
    assert_eq!(store.events(appeal.id).await.expect("events"), received);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 1);

    store
        .commit(&good, &CommitMeta::default())
        .await
        .expect("the intact decision still commits");
    assert_eq!(
        store.appeal(appeal.id).await.expect("appeal"),
        Some(good.appeal)
    );
}

// ---- 9./10. Event log and outbox ------------------------------------------------------------------

pub async fn event_log_is_append_only(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let appeal = submit(store, submission(Channel::Hotline, at)).await;
    apply(
        store,
        &appeal,
        Command::Dispatch {
            unit: FGJ.to_owned(),
        },
        &dispatcher(),
        at,
    )
    .await;
    let before = store.events(appeal.id).await.expect("events");
    assert_eq!(before.len(), 2);

    for sql in [
        "UPDATE events SET actor = 'x'",
        "UPDATE events SET reason = 'rewritten' WHERE seq = 2",
        "DELETE FROM events",
        "DELETE FROM events WHERE seq = 2",
    ] {
        let err = db.sql.execute(sql).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }

    assert_eq!(store.events(appeal.id).await.expect("events"), before);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, 2);
    // Appending is still allowed.
    let stored = store
        .appeal(appeal.id)
        .await
        .expect("appeal")
        .expect("stored");
    apply(
        store,
        &stored,
        Command::Accept,
        &unit_staff(FGJ),
        at + Duration::minutes(3),
    )
    .await;
    assert_eq!(store.events(appeal.id).await.expect("events").len(), 3);
}

pub async fn every_event_has_an_outbox_row(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let a = submit(store, submission(Channel::Hotline, at)).await;
    let b = submit(store, submission(Channel::Web, at)).await;

    let a = apply(
        store,
        &a,
        Command::Dispatch {
            unit: FGJ.to_owned(),
        },
        &dispatcher(),
        at,
    )
    .await;
    apply(
        store,
        &a,
        Command::Accept,
        &unit_staff(FGJ),
        at + Duration::minutes(1),
    )
    .await;
    let b = apply(
        store,
        &b,
        Command::Dispatch {
            unit: RSJ.to_owned(),
        },
        &dispatcher(),
        at,
    )
    .await;
    apply(
        store,
        &b,
        Command::Reassign {
            unit: SCJGJ.to_owned(),
        },
        &dispatcher(),
        at + Duration::minutes(2),
    )
    .await;

    let events_count = db.sql.count("SELECT COUNT(*) FROM events").await;
    assert_eq!(events_count, 6);
    assert_eq!(
        db.sql.count("SELECT COUNT(*) FROM outbox").await,
        events_count
    );
    assert_eq!(
        db.sql
            .count("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
            .await,
        events_count,
        "nothing is published yet"
    );

    let outbox = db.sql.outbox().await;
    for (appeal, keys) in [
        (
            a.id,
            [
                "appeal.received",
                "appeal.dispatched.DEMO-FGJ",
                "appeal.accepted",
            ],
        ),
        (
            b.id,
            [
                "appeal.received",
                "appeal.dispatched.DEMO-RSJ",
                "appeal.reassigned.DEMO-SCJGJ",
            ],
        ),
    ] {
        let events = store.events(appeal).await.expect("events");
        let rows: Vec<_> = outbox.iter().filter(|r| r.appeal_id == appeal.0).collect();
        assert_eq!(
            rows.iter()
                .map(|r| r.routing_key.as_str())
                .collect::<Vec<_>>(),
            keys
        );
        assert_eq!(rows.len(), events.len());
        for (row, event) in rows.iter().zip(&events) {
            assert_eq!(row.event_id, event.id.0);
            assert_eq!(row.routing_key, event.routing_key());
            let envelope = &row.payload;
            assert_eq!(
                &envelope.payload, event,
                "the envelope carries the event as stored"
            );
            assert_eq!(envelope.event_id, event.id);
            assert_eq!(envelope.event_type, event.event_type);
            assert_eq!(envelope.schema_version, 1);
            assert_eq!(envelope.schema_version, SCHEMA_VERSION);
            assert_eq!(envelope.appeal_id, appeal);
            assert_eq!(envelope.occurred_at, event.at);
            assert_eq!(envelope.routing_key, row.routing_key);
            assert_eq!(envelope.traceparent, None, "no traceparent was given");
            assert_eq!(envelope, &Envelope::new(event, None));
        }
    }
}

// ---- 11. Listing ------------------------------------------------------------------------------------

pub async fn list_filters_by_status_unit_and_channel(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let hotline = submit(store, submission(Channel::Hotline, at)).await;
    let mailbox = submit(
        store,
        submission(Channel::Mailbox, at + Duration::minutes(1)),
    )
    .await;
    let web1 = submit(store, submission(Channel::Web, at + Duration::minutes(2))).await;
    let web2 = submit(store, submission(Channel::Web, at + Duration::minutes(3))).await;
    let wechat = submit(
        store,
        submission(Channel::Wechat, at + Duration::minutes(4)),
    )
    .await;

    let later = at + Duration::minutes(10);
    let web1 = apply(
        store,
        &web1,
        Command::Dispatch {
            unit: FGJ.to_owned(),
        },
        &dispatcher(),
        later,
    )
    .await;
    let web2 = apply(
        store,
        &web2,
        Command::Dispatch {
            unit: RSJ.to_owned(),
        },
        &dispatcher(),
        later,
    )
    .await;
    let wechat = apply(
        store,
        &wechat,
        Command::Dispatch {
            unit: FGJ.to_owned(),
        },
        &dispatcher(),
        later,
    )
    .await;
    let wechat = apply(store, &wechat, Command::Accept, &unit_staff(FGJ), later).await;

    let by = |status: Option<Status>, unit: Option<&str>, channel: Option<Channel>| AppealFilter {
        status,
        unit: unit.map(str::to_owned),
        channel,
        ..all()
    };
    assert_eq!(
        ids(store, all()).await,
        set([&hotline, &mailbox, &web1, &web2, &wechat])
    );
    assert_eq!(
        ids(store, by(Some(Status::Received), None, None)).await,
        set([&hotline, &mailbox])
    );
    assert_eq!(
        ids(store, by(Some(Status::Dispatched), None, None)).await,
        set([&web1, &web2])
    );
    assert_eq!(
        ids(store, by(Some(Status::Accepted), None, None)).await,
        set([&wechat])
    );
    assert_eq!(
        ids(store, by(Some(Status::Closed), None, None)).await,
        set([])
    );
    assert_eq!(
        ids(store, by(None, Some(FGJ), None)).await,
        set([&web1, &wechat])
    );
    assert_eq!(ids(store, by(None, Some(RSJ), None)).await, set([&web2]));
    assert_eq!(ids(store, by(None, Some(SCJGJ), None)).await, set([]));
    assert_eq!(
        ids(store, by(None, None, Some(Channel::Web))).await,
        set([&web1, &web2])
    );
    assert_eq!(
        ids(store, by(None, None, Some(Channel::Hotline))).await,
        set([&hotline])
    );
    assert_eq!(
        ids(store, by(None, None, Some(Channel::Open311))).await,
        set([])
    );
    assert_eq!(
        ids(store, by(Some(Status::Dispatched), Some(FGJ), None)).await,
        set([&web1])
    );
    assert_eq!(
        ids(store, by(None, Some(FGJ), Some(Channel::Wechat))).await,
        set([&wechat])
    );

    // Listed appeals are the current state.
    let page = store
        .list(&by(None, Some(FGJ), Some(Channel::Wechat)))
        .await
        .expect("list");
    assert_eq!(page.appeals, [wechat]);
}

pub async fn list_overdue(db: TestDb) {
    let store = &db.store;
    let t0 = monday();
    let submit_at = |minutes| submission(Channel::Hotline, t0 + Duration::minutes(minutes));

    // Dispatched and still open.
    let open = submit(store, submit_at(0)).await;
    let open = apply(
        store,
        &open,
        Command::Dispatch {
            unit: FGJ.to_owned(),
        },
        &dispatcher(),
        t0,
    )
    .await;
    // Dispatched at the same time, then handled and closed.
    let closed = submit(store, submit_at(1)).await;
    let closed = apply(
        store,
        &closed,
        Command::Dispatch {
            unit: FGJ.to_owned(),
        },
        &dispatcher(),
        t0,
    )
    .await;
    let staff = unit_staff(FGJ);
    let closed = apply(
        store,
        &closed,
        Command::Accept,
        &staff,
        t0 + Duration::minutes(5),
    )
    .await;
    let closed = apply(
        store,
        &closed,
        Command::Reply {
            result: "已协调办理".to_owned(),
        },
        &staff,
        t0 + Duration::hours(2),
    )
    .await;
    let rate = Command::Rate {
        rating: Rating::Satisfied,
        comment: None,
    };
    let who = appellant(&closed);
    let closed = apply(store, &closed, rate, &who, t0 + Duration::hours(3)).await;
    assert_eq!(closed.status, Status::Closed);
    // Dispatched at the same time, then voided.
    let voided = submit(store, submit_at(2)).await;
    let voided = apply(
        store,
        &voided,
        Command::Dispatch {
            unit: FGJ.to_owned(),
        },
        &dispatcher(),
        t0,
    )
    .await;
    let void = Command::Void {
        reason: "重复来电".to_owned(),
    };
    let voided = apply(store, &voided, void, &dispatcher(), t0 + Duration::hours(1)).await;
    // Dispatched two days later: not yet due.
    let recent = submit(store, submit_at(3)).await;
    let recent_dispatch = t0 + Duration::days(2);
    let recent = apply(
        store,
        &recent,
        Command::Dispatch {
            unit: RSJ.to_owned(),
        },
        &dispatcher(),
        recent_dispatch,
    )
    .await;
    // Never dispatched: no deadline.
    let undispatched = submit(store, submit_at(4)).await;

    let due = open.deadlines.resolve_due.expect("resolution deadline");
    assert_eq!(closed.deadlines.resolve_due, Some(due));
    assert_eq!(voided.deadlines.resolve_due, Some(due));
    let recent_due = recent.deadlines.resolve_due.expect("resolution deadline");
    assert!(due < recent_due);

    let overdue_at = |at| AppealFilter {
        overdue_at: Some(at),
        ..all()
    };
    assert_eq!(
        ids(store, overdue_at(t0 + Duration::hours(1))).await,
        set([])
    );
    assert_eq!(
        ids(store, overdue_at(due - TimeDelta::milliseconds(1))).await,
        set([])
    );
    assert_eq!(
        ids(store, overdue_at(due + TimeDelta::milliseconds(1))).await,
        set([&open])
    );
    assert_eq!(
        ids(store, overdue_at(due + Duration::minutes(1))).await,
        set([&open])
    );
    let much_later = recent_due + Duration::days(30);
    assert_eq!(
        ids(store, overdue_at(much_later)).await,
        set([&open, &recent])
    );
    assert_eq!(
        ids(
            store,
            AppealFilter {
                unit: Some(RSJ.to_owned()),
                ..overdue_at(much_later)
            }
        )
        .await,
        set([&recent])
    );
    assert_eq!(
        ids(
            store,
            AppealFilter {
                status: Some(Status::Dispatched),
                channel: Some(Channel::Hotline),
                ..overdue_at(much_later)
            }
        )
        .await,
        set([&open, &recent])
    );
    // Every appeal is still listed without the filter.
    assert_eq!(
        ids(store, all()).await,
        set([&open, &closed, &voided, &recent, &undispatched])
    );
}

pub async fn list_pages_newest_first(db: TestDb) {
    let store = &db.store;
    let t0 = monday();
    let mut appeals = Vec::new();
    for i in 0..7 {
        let channel = if i % 2 == 0 {
            Channel::Web
        } else {
            Channel::Hotline
        };
        appeals.push(submit(store, submission(channel, t0 + Duration::minutes(i))).await);
    }
    let page = |page, per_page, channel| AppealFilter {
        page,
        per_page,
        channel,
        ..AppealFilter::default()
    };
    let tickets = |appeals: &[Appeal]| {
        appeals
            .iter()
            .map(|a| a.ticket_no.clone())
            .collect::<Vec<_>>()
    };
    let expected = |numbers: &[u32]| {
        numbers
            .iter()
            .map(|n| format!("20260302-{n:06}"))
            .collect::<Vec<_>>()
    };

    let p1 = store.list(&page(1, 3, None)).await.expect("page 1");
    let p2 = store.list(&page(2, 3, None)).await.expect("page 2");
    let p3 = store.list(&page(3, 3, None)).await.expect("page 3");
    let p4 = store.list(&page(4, 3, None)).await.expect("page 4");
    for p in [&p1, &p2, &p3, &p4] {
        assert_eq!(p.total, 7, "total counts every match, not the page");
    }
    assert_eq!(tickets(&p1.appeals), expected(&[7, 6, 5]));
    assert_eq!(tickets(&p2.appeals), expected(&[4, 3, 2]));
    assert_eq!(tickets(&p3.appeals), expected(&[1]));
    assert!(p4.appeals.is_empty());
    assert_eq!(p1.appeals[0], appeals[6]);

    // Paging applies after filtering: web appeals are numbers 1, 3, 5 and 7.
    let w1 = store
        .list(&page(1, 2, Some(Channel::Web)))
        .await
        .expect("web page 1");
    let w2 = store
        .list(&page(2, 2, Some(Channel::Web)))
        .await
        .expect("web page 2");
    assert_eq!((w1.total, w2.total), (4, 4));
    assert_eq!(tickets(&w1.appeals), expected(&[7, 5]));
    assert_eq!(tickets(&w2.appeals), expected(&[3, 1]));

    // Appeals created at the same instant still page without gaps or repeats.
    let same = t0 + Duration::hours(1);
    let mut tied = BTreeSet::new();
    for _ in 0..4 {
        tied.insert(submit(store, submission(Channel::Mailbox, same)).await.id);
    }
    let mut seen = Vec::new();
    for n in 1..=4 {
        let p = store.list(&page(n, 3, None)).await.expect("page");
        assert_eq!(p.total, 11);
        seen.extend(p.appeals.iter().map(|a| a.id));
    }
    assert_eq!(seen.len(), 11);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        11,
        "no appeal on two pages"
    );
    assert_eq!(
        seen[..4].iter().copied().collect::<BTreeSet<_>>(),
        tied,
        "newest first"
    );
}

// ---- Precision and durability ----------------------------------------------------------------------

/// Instants come back exactly as written, to the microsecond, in every column they are read
/// from.
pub async fn timestamps_keep_microseconds(db: TestDb) {
    let store = &db.store;
    let at = monday() + TimeDelta::microseconds(123_456);
    let appeal = submit(store, submission(Channel::Web, at)).await;
    let now = at + Duration::minutes(3) + TimeDelta::microseconds(7);
    let dispatched = apply(
        store,
        &appeal,
        Command::Dispatch {
            unit: FGJ.to_owned(),
        },
        &dispatcher(),
        now,
    )
    .await;

    let stored = store
        .appeal(appeal.id)
        .await
        .expect("appeal")
        .expect("stored");
    assert_eq!(stored.created_at, at);
    assert_eq!(stored.updated_at, now);
    let events = store.events(appeal.id).await.expect("events");
    assert_eq!(events[0].at, at);
    assert_eq!(events[1].at, now);

    let due = dispatched
        .deadlines
        .resolve_due
        .expect("resolution deadline");
    let overdue = |at| AppealFilter {
        overdue_at: Some(at),
        ..all()
    };
    assert_eq!(
        ids(store, overdue(due)).await,
        set([]),
        "not overdue at the deadline itself"
    );
    assert_eq!(
        ids(store, overdue(due + TimeDelta::microseconds(1))).await,
        set([&dispatched]),
        "overdue a microsecond later"
    );
}

pub async fn data_survives_reopen(db: TestDb) {
    let TestDb {
        store,
        sql,
        location,
    } = db;
    let at = monday();
    assert!(
        store
            .seed_units_if_empty(&demo_units())
            .await
            .expect("seed")
    );
    let keyed_appeal = store
        .submit(keyed(at, "web", "key-1", "hash"))
        .await
        .expect("submit")
        .appeal;
    let appeal = submit(&store, submission(Channel::Hotline, at)).await;
    let appeal = apply(
        &store,
        &appeal,
        Command::Dispatch {
            unit: FGJ.to_owned(),
        },
        &dispatcher(),
        at,
    )
    .await;
    let events = store.events(appeal.id).await.expect("events");
    let units = store.units().await.expect("units");
    drop(store);

    let store = location.open().await;
    store.migrate().await.expect("migrate on reopen");
    assert_eq!(
        store.appeal(appeal.id).await.expect("appeal"),
        Some(appeal.clone())
    );
    assert_eq!(store.events(appeal.id).await.expect("events"), events);
    assert_eq!(store.units().await.expect("units"), units);
    assert!(
        !store
            .seed_units_if_empty(&demo_units())
            .await
            .expect("seed")
    );
    let retry = store
        .submit(keyed(at, "web", "key-1", "hash"))
        .await
        .expect("retry");
    assert!(!retry.created, "idempotency keys survive");
    assert_eq!(retry.appeal, keyed_appeal);
    let next = submit(&store, submission(Channel::Hotline, at)).await;
    assert_eq!(
        next.ticket_no, "20260302-000003",
        "the ticket counter survives"
    );
    assert_eq!(sql.count("SELECT COUNT(*) FROM outbox").await, 4);

    // And the state keeps evolving on the reopened store.
    apply(
        &store,
        &appeal,
        Command::Accept,
        &unit_staff(FGJ),
        at + Duration::minutes(1),
    )
    .await;
    assert_eq!(store.events(appeal.id).await.expect("events").len(), 3);
}
