//! The contract cases. Each takes a fresh, migrated database and must hold on every engine.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use chrono::{Duration, TimeDelta};
use hotline_schemas::event::SCHEMA_VERSION;
use hotline_schemas::value::unit::{Unit, demo_units};
use hotline_schemas::{
    Appeal, AppealId, Channel, Command, Envelope, Event, EventId, EventType, Rating, Status, Step,
    UserId,
};
use hotline_store::{
    AppealFilter, CommitMeta, Consumed, LeaderScope, Scope, Store, StoreError, Submission,
};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

pub use crate::duplicates::{
    appeals_stored_before_the_index_are_indexed_when_migrating,
    duplicate_candidates_come_from_the_index,
    imported_appeals_are_stored_indexed_and_not_announced,
};
use crate::fixtures::{
    agent, appellant, apply, classify, context, data, date, decision, dispatch_to, dispatcher,
    keyed, local, monday, new_appeal, submission, submission_of, submit, unit_staff,
};
use crate::harness::{Location, TestDb};
pub use crate::people::{
    events_keep_the_user_behind_them, revoked_tokens_are_remembered,
    sign_in_credentials_lockout_and_sessions, users_are_added_listed_and_disabled,
};
pub use crate::reference::{
    concurrent_saves_get_distinct_numbers, publishing_a_taxonomy_updates_its_units,
    reference_data_is_seeded_once_saved_and_published,
};
pub use crate::stats::statistics_sum_the_facts_of_each_appeal;

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
    store.list(&all(), &Scope::all()).await.expect("list").total
}

/// The ids of the appeals matching `filter` (all on one page), checking `total` agrees.
async fn ids(store: &Arc<dyn Store>, filter: AppealFilter) -> BTreeSet<AppealId> {
    let page = store
        .list(
            &AppealFilter {
                page: 1,
                per_page: 100,
                ..filter
            },
            &Scope::all(),
        )
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
    events.iter().map(|e| e.event_type()).collect()
}

// ---- 1. Migrations and ping ------------------------------------------------------------------

pub async fn migrate_is_idempotent_and_ping_works(db: TestDb) {
    let store = &db.store;
    store.ping().await.expect("ping");
    store.migrate().await.expect("second migrate");
    store.migrate().await.expect("third migrate");
    store.ping().await.expect("ping after migrating again");
    // As many as the engines have migration files (the same for both).
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .expect("the migrations")
        .count();
    assert!(files >= 8);
    assert_eq!(
        db.sql.count("SELECT COUNT(*) FROM _sqlx_migrations").await,
        files as i64,
        "each migration is recorded once"
    );
    assert_eq!(
        db.sql
            .count(
                "SELECT COUNT(*) FROM _sqlx_migrations WHERE success AND version IN (1, 2, 3, 4)"
            )
            .await,
        4,
        "init, bus, routing and oversight, all applied"
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
        code: "AAA".into(),
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
    let new = new_appeal(Channel::Hotline, "营业执照变更材料反复退回");
    let sub = submission_of(new.clone(), at);
    let id = sub.intake.id();

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
    assert_eq!(received.event_type(), EventType::Received);
    assert_eq!(received.appeal_id, id);
    assert_eq!(received.at, at);
    assert_eq!(received.actor, "agent-01");
    assert_eq!(received.reason, None);
    assert_eq!(data(received)["ticket_no"], appeal.ticket_no.as_str());
    assert_eq!(data(received)["channel"], "hotline");

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
        assert_eq!(data(&events[0])["ticket_no"], appeal.ticket_no.as_str());
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

    let mut tickets: Vec<String> = appeals.iter().map(|a| a.ticket_no.to_string()).collect();
    tickets.sort();
    let expected: Vec<String> = (1..=N).map(|n| format!("20260302-{n:06}")).collect();
    assert_eq!(tickets, expected, "distinct and gapless");
    let ids: HashSet<AppealId> = appeals.iter().map(|a| a.id).collect();
    assert_eq!(ids.len(), N);
    assert_eq!(total(&db.store).await, N as i64);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, N as i64);
}

/// Submissions arriving together are stored together, yet one that fails (here: an appeal id
/// stored before) takes none of the others with it, and uses no ticket number.
pub async fn a_failing_submission_takes_no_other_with_it(db: TestDb) {
    const N: usize = 12;
    let at = monday();
    let first = submission(Channel::Web, at);
    let stored = db.store.submit(first.clone()).await.expect("the first");
    let barrier = Arc::new(Barrier::new(N));
    let mut tasks = JoinSet::new();
    for i in 0..N {
        let (store, barrier) = (db.store.clone(), barrier.clone());
        // The sixth is the first again: its appeal id is taken.
        let submission = if i == 5 {
            first.clone()
        } else {
            submission(Channel::Web, at + Duration::milliseconds(i as i64 + 1))
        };
        tasks.spawn(async move {
            barrier.wait().await;
            (i, store.submit(submission).await)
        });
    }
    let mut tickets = vec![stored.appeal.ticket_no.to_string()];
    for (i, outcome) in tasks.join_all().await {
        match outcome {
            Ok(s) if i != 5 => tickets.push(s.appeal.ticket_no.to_string()),
            Err(StoreError::Database(_)) if i == 5 => {}
            other => panic!("submission {i}: {other:?}"),
        }
    }
    tickets.sort();
    let expected: Vec<String> = (1..=N).map(|n| format!("20260302-{n:06}")).collect();
    assert_eq!(tickets, expected, "the others stored, gapless");
    assert_eq!(total(&db.store).await, N as i64);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, N as i64);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, N as i64);
}

/// A submission that fails inside the store leaves no trace: no ticket number, event, outbox
/// row or idempotency key.
pub async fn failed_submit_leaves_nothing_behind(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let first = submit(store, submission(Channel::Web, at)).await;

    // The day's counter set back: the next ticket number is taken and the insert fails.
    db.sql
        .execute("UPDATE ticket_counters SET last = 0")
        .await
        .expect("set the counter back");
    let duplicate = keyed(at, "web", "key-1", "hash-a");
    let err = store
        .submit(duplicate)
        .await
        .expect_err("duplicate ticket number");
    assert!(matches!(err, StoreError::Database(_)), "{err:?}");
    assert_eq!(
        db.sql
            .count("SELECT CAST(last AS BIGINT) FROM ticket_counters")
            .await,
        0,
        "the failed submission's number is given back"
    );
    db.sql
        .execute("UPDATE ticket_counters SET last = 1")
        .await
        .expect("restore the counter");

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
    assert_eq!(&stored, dispatch.appeal());
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
    assert_eq!(events[1], dispatch.events()[0]);
    assert_eq!(events[1].actor, "dispatcher-01");
    assert_eq!(data(&events[1])["unit"], FGJ);

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
    assert_eq!(events[2], accept.events()[0]);
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
    assert_eq!(&stored, to_fgj.appeal());
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
    assert_eq!(&stored, accept1.appeal());
    let events = store.events(appeal.id).await.expect("events");
    assert_eq!(
        event_types(&events),
        [
            EventType::Received,
            EventType::Dispatched,
            EventType::Accepted
        ]
    );
    assert_eq!(events[2].id, accept1.events()[0].id);
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
        assert_eq!(&stored, winner.appeal());
        let events = store.events(appeal.id).await.expect("events");
        assert_eq!(events.len(), 2, "round {round}: {events:?}");
        assert_eq!(events[1], winner.events()[0]);
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
    // Its event's outbox row is taken: the commit fails after the appeal and event writes.
    db.sql
        .outbox_row_for(good.events()[0].id.0, appeal.id.0)
        .await
        .expect("block the outbox row");
    let err = store
        .commit(&good, &CommitMeta::default())
        .await
        .expect_err("duplicate outbox row");
    assert!(matches!(err, StoreError::Database(_)), "{err:?}");

    assert_eq!(
        store.appeal(appeal.id).await.expect("appeal"),
        Some(appeal.clone())
    );
    assert_eq!(store.events(appeal.id).await.expect("events"), received);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 2);
    db.sql
        .execute("DELETE FROM outbox WHERE routing_key = 'blocked'")
        .await
        .expect("unblock");

    store
        .commit(&good, &CommitMeta::default())
        .await
        .expect("the intact decision still commits");
    assert_eq!(
        store.appeal(appeal.id).await.expect("appeal"),
        Some(good.appeal().clone())
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
            unit: FGJ.into(),
            matter: None,
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
            unit: FGJ.into(),
            matter: None,
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
            unit: RSJ.into(),
            matter: None,
        },
        &dispatcher(),
        at,
    )
    .await;
    apply(
        store,
        &b,
        Command::Reassign {
            unit: SCJGJ.into(),
            matter: None,
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
            assert_eq!(envelope.event_type, event.event_type());
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
            unit: FGJ.into(),
            matter: None,
        },
        &dispatcher(),
        later,
    )
    .await;
    let web2 = apply(
        store,
        &web2,
        Command::Dispatch {
            unit: RSJ.into(),
            matter: None,
        },
        &dispatcher(),
        later,
    )
    .await;
    let wechat = apply(
        store,
        &wechat,
        Command::Dispatch {
            unit: FGJ.into(),
            matter: None,
        },
        &dispatcher(),
        later,
    )
    .await;
    let wechat = apply(store, &wechat, Command::Accept, &unit_staff(FGJ), later).await;

    let by = |status: Option<Status>, unit: Option<&str>, channel: Option<Channel>| AppealFilter {
        status,
        unit: unit.map(Into::into),
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
        .list(&by(None, Some(FGJ), Some(Channel::Wechat)), &Scope::all())
        .await
        .expect("list");
    assert_eq!(page.appeals, [wechat]);
}

/// An agent's own calls: the appeals whose submission was the user's, whatever happened to
/// them since (a dispatcher's change does not make an appeal theirs), within the scope.
pub async fn list_filters_by_the_user_who_submitted(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let (wang, li) = (UserId::new(), UserId::new());
    let by = |user: UserId, channel: Channel, minutes: i64| {
        let actor = hotline_schemas::Actor {
            user: Some(user),
            ..agent()
        };
        let when = at + Duration::minutes(minutes);
        Submission {
            intake: hotline_schemas::lifecycle::Intake::new(
                new_appeal(channel, "营业执照变更材料反复退回"),
                &context(&actor, when),
            )
            .expect("test appeal is valid"),
            ..submission(channel, when)
        }
    };
    let first = submit(store, by(wang, Channel::Hotline, 0)).await;
    let theirs = submit(store, by(li, Channel::Hotline, 1)).await;
    let second = submit(store, by(wang, Channel::Hotline, 2)).await;
    let secret = submit(store, by(wang, Channel::Mailbox, 3)).await;
    let anonymous = submit(store, submission(Channel::Web, at + Duration::minutes(4))).await;
    let dispatcher = hotline_schemas::Actor {
        user: Some(wang),
        ..dispatcher()
    };
    apply(
        store,
        &theirs,
        Command::Dispatch {
            unit: FGJ.into(),
            matter: None,
        },
        &dispatcher,
        at + Duration::minutes(10),
    )
    .await;

    let mine = |user| AppealFilter {
        submitted_by: Some(user),
        ..all()
    };
    assert_eq!(
        ids(store, mine(wang)).await,
        set([&first, &second, &secret])
    );
    assert_eq!(ids(store, mine(li)).await, set([&theirs]));
    assert_eq!(ids(store, mine(UserId::new())).await, set([]));
    let page = store
        .list(&mine(wang), &Scope::default())
        .await
        .expect("list");
    assert_eq!(page.total, 2, "the confidential one is out of scope");
    assert_eq!(
        page.appeals.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![second.id, first.id],
        "newest first"
    );
    assert_eq!(
        ids(store, all()).await,
        set([&first, &theirs, &second, &secret, &anonymous])
    );
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
            unit: FGJ.into(),
            matter: None,
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
            unit: FGJ.into(),
            matter: None,
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
            unit: FGJ.into(),
            matter: None,
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
            unit: RSJ.into(),
            matter: None,
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
                unit: Some(RSJ.into()),
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

    let p1 = store
        .list(&page(1, 3, None), &Scope::all())
        .await
        .expect("page 1");
    let p2 = store
        .list(&page(2, 3, None), &Scope::all())
        .await
        .expect("page 2");
    let p3 = store
        .list(&page(3, 3, None), &Scope::all())
        .await
        .expect("page 3");
    let p4 = store
        .list(&page(4, 3, None), &Scope::all())
        .await
        .expect("page 4");
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
        .list(&page(1, 2, Some(Channel::Web)), &Scope::all())
        .await
        .expect("web page 1");
    let w2 = store
        .list(&page(2, 2, Some(Channel::Web)), &Scope::all())
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
        let p = store
            .list(&page(n, 3, None), &Scope::all())
            .await
            .expect("page");
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
            unit: FGJ.into(),
            matter: None,
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
            unit: FGJ.into(),
            matter: None,
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

// ---- Event bus: inbox, outbox relay, lease, parked deliveries, unit keywords -------------------

const TRACE_SUBMIT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE_COMMIT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn consumed(consumer: &str, event_id: EventId) -> Consumed {
    Consumed {
        consumer: consumer.to_owned(),
        event_id,
    }
}

fn consuming(consumed: &Consumed) -> CommitMeta {
    CommitMeta {
        traceparent: Some(TRACE_COMMIT.to_owned()),
        consumed: Some(consumed.clone()),
    }
}

/// A commit carrying the delivery it is the effect of takes effect once per consumer group: a
/// redelivery, even with a decision freshly taken on the reloaded appeal, stores nothing.
pub async fn commit_with_consumed_takes_effect_once(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let appeal = submit(store, submission(Channel::Web, at)).await;
    let received = store.events(appeal.id).await.expect("events").remove(0);
    let router = consumed("router", received.id);
    assert!(!store.is_consumed(&router).await.expect("is_consumed"));

    let first = classify(&appeal, FGJ, at + Duration::minutes(1));
    store
        .commit(&first, &consuming(&router))
        .await
        .expect("first delivery takes effect");
    assert!(store.is_consumed(&router).await.expect("is_consumed"));
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM inbox").await, 1);
    let after_first = store.events(appeal.id).await.expect("events");
    assert_eq!(after_first, [received.clone(), first.events()[0].clone()]);

    // A redelivery decides afresh on the reloaded appeal: it would not conflict, yet the inbox
    // refuses it.
    let reloaded = store
        .appeal(appeal.id)
        .await
        .expect("appeal")
        .expect("stored");
    assert_eq!(&reloaded, first.appeal());
    let again = classify(&reloaded, RSJ, at + Duration::minutes(2));
    let err = store
        .commit(&again, &consuming(&router))
        .await
        .expect_err("redelivery");
    assert!(matches!(err, StoreError::AlreadyConsumed), "{err:?}");
    // The very same decision again is recognised as a redelivery before any version check.
    let err = store
        .commit(&first, &consuming(&router))
        .await
        .expect_err("same decision redelivered");
    assert!(matches!(err, StoreError::AlreadyConsumed), "{err:?}");

    assert_eq!(
        store.appeal(appeal.id).await.expect("appeal"),
        Some(first.appeal().clone()),
        "nothing changed"
    );
    assert_eq!(store.events(appeal.id).await.expect("events"), after_first);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, 2);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 2);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM inbox").await, 1);

    // Another consumer group taking in the same event is independent.
    let auditor = consumed("auditor", received.id);
    assert!(!store.is_consumed(&auditor).await.expect("is_consumed"));
    store
        .commit(&again, &consuming(&auditor))
        .await
        .expect("another consumer's effect");
    assert!(store.is_consumed(&auditor).await.expect("is_consumed"));
    assert!(store.is_consumed(&router).await.expect("is_consumed"));
    let events = store.events(appeal.id).await.expect("events");
    assert_eq!(
        event_types(&events),
        [
            EventType::Received,
            EventType::Classified,
            EventType::Classified
        ]
    );
    assert_eq!(events[2], again.events()[0]);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 3);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM inbox").await, 2);

    // A commit that loses on the version records no inbox row: the delivery can be retried.
    let classified = consumed("router", first.events()[0].id);
    let stale = classify(&reloaded, SCJGJ, at + Duration::minutes(3));
    let err = store
        .commit(&stale, &consuming(&classified))
        .await
        .expect_err("stale decision");
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert!(!store.is_consumed(&classified).await.expect("is_consumed"));
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM inbox").await, 2);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, 3);

    // Effects kept elsewhere: marked on their own, once.
    let notifier = consumed("notifier", received.id);
    assert!(!store.is_consumed(&notifier).await.expect("is_consumed"));
    assert!(
        store.mark_consumed(&notifier).await.expect("mark"),
        "first mark"
    );
    assert!(
        !store.mark_consumed(&notifier).await.expect("mark again"),
        "second mark"
    );
    assert!(store.is_consumed(&notifier).await.expect("is_consumed"));
    assert!(
        !store.mark_consumed(&router).await.expect("mark"),
        "already taken in by its commit"
    );
    assert!(
        !store
            .is_consumed(&consumed("notifier", EventId::new()))
            .await
            .expect("is_consumed"),
        "another event is not consumed"
    );
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM inbox").await, 3);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, 3);
}

/// The same delivery handled by several consumers at once (e.g. redelivered to another
/// replica): exactly one classification is stored; a loser on the version that retries on the
/// reloaded appeal is told the delivery was taken in.
/// Decisions committed together each take effect or fail on their own: a conflict and a
/// redelivery leave nothing of themselves and nothing of the others undone.
pub async fn commit_all_keeps_each_decision_apart(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let mut appeals = Vec::new();
    for i in 0..3 {
        appeals.push(submit(store, submission(Channel::Web, at + Duration::seconds(i))).await);
    }
    let later = at + Duration::minutes(1);
    let delivery = |a: &Appeal| consumed("router", EventId(a.id.0));
    // The second appeal changes first, so the batch's decision on it is stale; the third's
    // delivery was taken in before.
    store
        .commit(
            &dispatch_to(&appeals[1], RSJ, later),
            &CommitMeta::default(),
        )
        .await
        .expect("dispatch the second first");
    store
        .mark_consumed(&delivery(&appeals[2]))
        .await
        .expect("take the third's delivery in");
    let mut batch: Vec<_> = appeals
        .iter()
        .map(|a| (classify(a, FGJ, later), consuming(&delivery(a))))
        .collect();
    // The first's delivery once more in the same batch, decided otherwise.
    let again = (
        classify(&appeals[0], RSJ, later),
        consuming(&delivery(&appeals[0])),
    );
    batch.push(again);
    let outcomes = store.commit_all(&batch).await.expect("one transaction");
    assert!(
        matches!(outcomes[3], Err(StoreError::AlreadyConsumed)),
        "{:?}",
        outcomes[3]
    );
    assert!(outcomes[0].is_ok(), "{:?}", outcomes[0]);
    assert!(
        matches!(outcomes[1], Err(StoreError::Conflict)),
        "{:?}",
        outcomes[1]
    );
    assert!(
        matches!(outcomes[2], Err(StoreError::AlreadyConsumed)),
        "{:?}",
        outcomes[2]
    );

    let stored = |i: usize| {
        let id = appeals[i].id;
        async move { store.appeal(id).await.expect("appeal").expect("stored") }
    };
    assert_eq!(&stored(0).await, batch[0].0.appeal());
    assert_eq!(stored(1).await.unit.as_deref(), Some(RSJ));
    assert_eq!(stored(2).await, appeals[2]);
    assert!(
        store
            .is_consumed(&delivery(&appeals[0]))
            .await
            .expect("inbox")
    );
    assert!(
        !store
            .is_consumed(&delivery(&appeals[1]))
            .await
            .expect("inbox")
    );
    // Received ×3, the second's dispatch, the first's classification.
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, 5);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 5);
    assert!(store.commit_all(&[]).await.expect("nothing").is_empty());

    let notified = [
        consumed("notifier", EventId(appeals[0].id.0)),
        delivery(&appeals[2]),
    ];
    store
        .mark_all_consumed(&notified)
        .await
        .expect("mark twice");
    store
        .mark_all_consumed(&notified)
        .await
        .expect("again: no error");
    for entry in &notified {
        assert!(store.is_consumed(entry).await.expect("inbox"));
    }
}

pub async fn concurrent_consumers_take_effect_once(db: TestDb) {
    const N: usize = 4;
    const ROUNDS: i64 = 6;
    let store = &db.store;
    // Half the consumers use a second store on the same database, as another process's.
    let stores = [db.store.clone(), db.location.open().await];
    for round in 0..ROUNDS {
        let at = monday() + Duration::minutes(round);
        let appeal = submit(store, submission(Channel::Web, at)).await;
        let received = store.events(appeal.id).await.expect("events").remove(0);
        let delivery = consumed("router", received.id);
        let units = [FGJ, RSJ, SCJGJ, GHZRZYJ];

        let barrier = Arc::new(Barrier::new(N));
        let mut tasks = JoinSet::new();
        for (i, unit) in units.into_iter().enumerate() {
            let (store, barrier) = (stores[i % 2].clone(), barrier.clone());
            let (appeal, meta) = (appeal.clone(), consuming(&delivery));
            tasks.spawn(async move {
                let d = classify(&appeal, unit, at + Duration::seconds(1));
                barrier.wait().await;
                let first = store.commit(&d, &meta).await;
                // As the router does on a conflict: reload, decide again, commit again.
                let retry = match &first {
                    Err(StoreError::Conflict) => {
                        let reloaded = store
                            .appeal(appeal.id)
                            .await
                            .expect("appeal")
                            .expect("stored");
                        let d = classify(&reloaded, unit, at + Duration::seconds(2));
                        Some(store.commit(&d, &meta).await)
                    }
                    _ => None,
                };
                (d, first, retry)
            });
        }
        let outcomes = tasks.join_all().await;
        let winners: Vec<_> = outcomes.iter().filter(|(_, r, _)| r.is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one takes effect");
        for (_, first, retry) in &outcomes {
            match first {
                Ok(()) => assert!(retry.is_none()),
                Err(StoreError::AlreadyConsumed) => {}
                Err(StoreError::Conflict) => {
                    let retry = retry.as_ref().expect("retried");
                    assert!(
                        matches!(retry, Err(StoreError::AlreadyConsumed)),
                        "round {round}: retry after a conflict: {retry:?}"
                    );
                }
                Err(e) => panic!("round {round}: {e:?}"),
            }
        }
        let winner = &winners[0].0;
        assert_eq!(
            store.appeal(appeal.id).await.expect("appeal").as_ref(),
            Some(winner.appeal()),
            "round {round}"
        );
        let events = store.events(appeal.id).await.expect("events");
        assert_eq!(
            event_types(&events),
            [EventType::Received, EventType::Classified],
            "round {round}"
        );
        assert_eq!(events[1], winner.events()[0], "round {round}");
        assert!(store.is_consumed(&delivery).await.expect("is_consumed"));
    }
    let rounds = ROUNDS;
    assert_eq!(
        db.sql
            .count("SELECT COUNT(*) FROM events WHERE type = 'classified'")
            .await,
        rounds
    );
    assert_eq!(
        db.sql.count("SELECT COUNT(*) FROM events").await,
        2 * rounds
    );
    assert_eq!(
        db.sql.count("SELECT COUNT(*) FROM outbox").await,
        2 * rounds
    );
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM inbox").await, rounds);
}

/// The relay's view of the outbox: unpublished entries oldest first, each an envelope with its
/// routing key and trace; publishing takes them off the backlog.
pub async fn outbox_relays_in_commit_order(db: TestDb) {
    let store = &db.store;
    let at = monday();
    assert!(store.unpublished(10).await.expect("unpublished").is_empty());
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 0);

    let traced = |channel| Submission {
        traceparent: Some(TRACE_SUBMIT.to_owned()),
        ..submission(channel, at)
    };
    let a = submit(store, traced(Channel::Hotline)).await;
    let b = submit(store, submission(Channel::Web, at)).await;
    let a_dispatch = dispatch_to(&a, FGJ, at + Duration::minutes(1));
    let traced_commit = CommitMeta {
        traceparent: Some(TRACE_COMMIT.to_owned()),
        consumed: None,
    };
    store
        .commit(&a_dispatch, &traced_commit)
        .await
        .expect("dispatch a");
    let b_dispatch = dispatch_to(&b, RSJ, at + Duration::minutes(2));
    store
        .commit(&b_dispatch, &CommitMeta::default())
        .await
        .expect("dispatch b");
    let a_accept = decision(
        a_dispatch.appeal(),
        Command::Accept,
        &unit_staff(FGJ),
        at + Duration::minutes(3),
    );
    store
        .commit(&a_accept, &traced_commit)
        .await
        .expect("accept a");

    let a_events = store.events(a.id).await.expect("events");
    let b_events = store.events(b.id).await.expect("events");
    // Commit order, with the trace each was written under.
    let expected: Vec<(&Event, Option<&str>, &str)> = vec![
        (&a_events[0], Some(TRACE_SUBMIT), "appeal.received"),
        (&b_events[0], None, "appeal.received"),
        (
            &a_events[1],
            Some(TRACE_COMMIT),
            "appeal.dispatched.DEMO-FGJ",
        ),
        (&b_events[1], None, "appeal.dispatched.DEMO-RSJ"),
        (&a_events[2], Some(TRACE_COMMIT), "appeal.accepted"),
    ];

    let entries = store.unpublished(100).await.expect("unpublished");
    assert_eq!(entries.len(), expected.len());
    assert!(
        entries.windows(2).all(|w| w[0].id < w[1].id),
        "ascending ids: {:?}",
        entries.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    let rows = db.sql.outbox().await;
    for ((entry, (event, trace, key)), row) in entries.iter().zip(&expected).zip(&rows) {
        let envelope = &entry.envelope().expect("readable envelope");
        assert_eq!(envelope.routing_key, *key);
        assert_eq!(envelope.event_id, event.id);
        assert_eq!(&envelope.payload, *event);
        assert_eq!(envelope.schema_version, SCHEMA_VERSION);
        assert_eq!(envelope.traceparent.as_deref(), *trace, "{key}");
        assert_eq!(
            envelope,
            &Envelope::new(event, trace.map(str::to_owned)),
            "{key}"
        );
        assert_eq!(&row.payload, envelope, "the relay reads what was stored");
    }
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 5);

    // The limit takes the oldest.
    let two = store.unpublished(2).await.expect("unpublished");
    assert_eq!(
        two.iter().map(|e| e.id).collect::<Vec<_>>(),
        [entries[0].id, entries[1].id]
    );
    assert!(store.unpublished(0).await.expect("unpublished").is_empty());

    // Publishing nothing is fine.
    store
        .mark_published(&[], at + Duration::minutes(4))
        .await
        .expect("mark nothing");
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 5);

    let ids = |entries: &[hotline_store::OutboxEntry]| entries.iter().map(|e| e.id).collect();
    let first_two: Vec<i64> = ids(&two);
    store
        .mark_published(&first_two, at + Duration::minutes(4))
        .await
        .expect("mark published");
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 3);
    let rest = store.unpublished(100).await.expect("unpublished");
    assert_eq!(ids(&rest), ids(&entries[2..]) as Vec<i64>);
    assert_eq!(
        rest.iter()
            .map(|e| e.envelope().unwrap())
            .collect::<Vec<_>>(),
        entries[2..]
            .iter()
            .map(|e| e.envelope().unwrap())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        db.sql
            .count("SELECT COUNT(*) FROM outbox WHERE published_at IS NOT NULL")
            .await,
        2
    );
    // Publishing again (a relay retrying after a crash) changes nothing.
    store
        .mark_published(&first_two, at + Duration::minutes(5))
        .await
        .expect("mark published again");
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 3);

    // A new event queues behind the rest.
    let b_accept = decision(
        b_dispatch.appeal(),
        Command::Accept,
        &unit_staff(RSJ),
        at + Duration::minutes(6),
    );
    store
        .commit(&b_accept, &CommitMeta::default())
        .await
        .expect("accept b");
    let rest = store.unpublished(100).await.expect("unpublished");
    assert_eq!(rest.len(), 4);
    let last = rest.last().expect("newest");
    assert!(last.id > entries[4].id);
    assert_eq!(last.envelope().unwrap().event_id, b_accept.events()[0].id);
    assert_eq!(last.envelope().unwrap().routing_key, "appeal.accepted");
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 4);

    let all_ids: Vec<i64> = ids(&rest);
    store
        .mark_published(&all_ids, at + Duration::minutes(7))
        .await
        .expect("mark the rest");
    assert!(
        store
            .unpublished(100)
            .await
            .expect("unpublished")
            .is_empty()
    );
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 0);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 6);
}

/// Waits (a few seconds at most) until `store` gets the relay lease.
async fn lease_soon(store: &Arc<dyn Store>) -> hotline_store::RelayLease {
    for _ in 0..100 {
        if let Some(lease) = store.relay_lease().await.expect("relay_lease") {
            return lease;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the relay lease was never released");
}

/// One relay at a time: on PostgreSQL the lease is exclusive across processes and released when
/// dropped or when its connection dies; an SQLite file has one process, which always holds it.
pub async fn relay_lease_is_exclusive(db: TestDb) {
    let store = &db.store;
    let other = db.location.open().await;
    let mut first = store
        .relay_lease()
        .await
        .expect("relay_lease")
        .expect("the first lease");
    assert!(first.alive().await);

    match &db.location {
        Location::Sqlite(_) => {
            let mut second = other
                .relay_lease()
                .await
                .expect("relay_lease")
                .expect("SQLite always grants the lease");
            assert!(second.alive().await);
            drop(first);
            assert!(store.relay_lease().await.expect("relay_lease").is_some());
            assert!(second.alive().await);
        }
        Location::Postgres(_) => {
            assert!(
                other.relay_lease().await.expect("relay_lease").is_none(),
                "another process"
            );
            assert!(
                store.relay_lease().await.expect("relay_lease").is_none(),
                "another connection of the same process"
            );
            assert!(first.alive().await, "still held");

            // Dropping the lease releases it.
            drop(first);
            let mut second = lease_soon(&other).await;
            assert!(second.alive().await);
            assert!(store.relay_lease().await.expect("relay_lease").is_none());
            assert!(other.relay_lease().await.expect("relay_lease").is_none());

            // And back: the lock did not stay behind on a pooled connection of `other`.
            drop(second);
            let mut third = lease_soon(store).await;
            assert!(third.alive().await);
            for _ in 0..5 {
                assert!(
                    other.relay_lease().await.expect("relay_lease").is_none(),
                    "released for good only by its holder"
                );
            }

            // The holder's connection dies (a crashed process): the lease is lost, and free.
            let killed = db
                .sql
                .count(
                    "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_locks \
                     WHERE locktype = 'advisory' AND granted AND database = \
                     (SELECT oid FROM pg_database WHERE datname = current_database())) AS t",
                )
                .await;
            assert_eq!(killed, 1, "one session holds the advisory lock");
            let mut lost = false;
            for _ in 0..100 {
                if !third.alive().await {
                    lost = true;
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            assert!(lost, "a lease whose connection died is not alive");
            let mut fourth = lease_soon(&other).await;
            assert!(fourth.alive().await);
        }
    }
}

/// A delivery a consumer gave up on is kept with its consumer, envelope and error.
pub async fn parked_deliveries_round_trip(db: TestDb) {
    let store = &db.store;
    let at = monday();
    assert!(store.parked().await.expect("parked").is_empty());

    let traced = Submission {
        traceparent: Some(TRACE_SUBMIT.to_owned()),
        ..submission(Channel::Wechat, at)
    };
    let appeal = submit(store, traced).await;
    let dispatch = dispatch_to(&appeal, FGJ, at + Duration::minutes(1));
    store
        .commit(&dispatch, &CommitMeta::default())
        .await
        .expect("dispatch");
    let entries = store.unpublished(10).await.expect("unpublished");
    assert_eq!(entries.len(), 2);
    let (received, dispatched) = (
        &entries[0].envelope().unwrap(),
        &entries[1].envelope().unwrap(),
    );
    let park = |consumer, entry: &hotline_store::OutboxEntry, error| {
        let store = store.clone();
        let (id, body) = (entry.event_id, entry.body.clone());
        async move { store.park(consumer, id, &body, error).await }
    };

    let error = "permanent: unit 'DEMO-FGJ' has no \"inbox\"\n第二行";
    park(
        "router",
        &entries[0],
        "transient: timed out after 5 retries",
    )
    .await
    .expect("park");
    park("notifier", &entries[1], error).await.expect("park");
    park("router", &entries[1], "again")
        .await
        .expect("the same event may be parked twice");

    let parked = store.parked().await.expect("parked");
    let envelopes: Vec<Envelope> = parked.iter().map(|p| p.envelope().unwrap()).collect();
    let got: Vec<(&str, &Envelope, &str)> = parked
        .iter()
        .zip(&envelopes)
        .map(|(p, e)| (p.consumer.as_str(), e, p.error.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("router", received, "transient: timed out after 5 retries"),
            ("notifier", dispatched, error),
            ("router", dispatched, "again"),
        ],
        "in the order parked"
    );
    assert_eq!(
        parked[0].envelope().unwrap().traceparent.as_deref(),
        Some(TRACE_SUBMIT)
    );
    assert_eq!(parked[1].envelope().unwrap().payload, dispatch.events()[0]);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM parked").await, 3);
    // Parking publishes or consumes nothing.
    assert_eq!(store.outbox_backlog().await.expect("backlog"), 2);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM inbox").await, 0);
}

/// Unit keywords are stored with the unit and come back as given, whatever they contain.
pub async fn unit_keywords_round_trip(db: TestDb) {
    let store = &db.store;
    let units = vec![
        Unit {
            code: "ZZZ".into(),
            name: "城管局".to_owned(),
            demo: false,
            keywords: vec![
                "占道经营".to_owned(),
                "噪音, \"夜间\"".to_owned(),
                "back\\slash".to_owned(),
                "[]".to_owned(),
            ],
        },
        Unit {
            code: "AAA".into(),
            name: "无关键词单位".to_owned(),
            demo: true,
            keywords: Vec::new(),
        },
        Unit {
            code: "MMM".into(),
            name: "水务局".to_owned(),
            demo: false,
            keywords: vec!["停水".to_owned(), "停水".to_owned(), String::new()],
        },
    ];
    assert!(store.seed_units_if_empty(&units).await.expect("seed"));
    let mut expected = units.clone();
    expected.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(store.units().await.expect("units"), expected);
    assert_eq!(
        db.sql
            .count("SELECT COUNT(*) FROM units WHERE keywords = '[]'")
            .await,
        1,
        "no keywords is an empty JSON array"
    );
    // Reopened, from another store.
    let other = db.location.open().await;
    assert_eq!(other.units().await.expect("units"), expected);

    // The demo units bring their keywords along.
    db.sql
        .execute("DELETE FROM units")
        .await
        .expect("empty units");
    assert!(
        store
            .seed_units_if_empty(&demo_units())
            .await
            .expect("seed demo")
    );
    let stored = store.units().await.expect("units");
    let mut demo = demo_units();
    demo.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(stored, demo);
    assert!(stored.iter().all(|u| !u.keywords.is_empty()));
    let scjgj = stored.iter().find(|u| u.code == SCJGJ).expect("SCJGJ");
    assert!(scjgj.keywords.iter().any(|k| k == "营业执照"));

    // A unit written without keywords (as before the bus migration) reads as having none.
    db.sql
        .execute("INSERT INTO units (code, name) VALUES ('OLD', '迁移前的单位')")
        .await
        .expect("insert without keywords");
    let old = store
        .units()
        .await
        .expect("units")
        .into_iter()
        .find(|u| u.code == "OLD")
        .expect("OLD");
    assert_eq!(old.keywords, Vec::<String>::new());
    assert!(!old.demo);
}

// ---- Timers ----------------------------------------------------------------------------------

/// A submission whose first timer (the dispatch limit, 15 minutes after it arrives) is due
/// `minutes` after `at`.
fn timed(at: chrono::DateTime<chrono::Utc>, minutes: i64) -> Submission {
    submission(Channel::Hotline, at + Duration::minutes(minutes - 15))
}

fn claimed_ids(appeals: &[Appeal]) -> Vec<AppealId> {
    appeals.iter().map(|a| a.id).collect()
}

pub async fn timers_are_claimed_when_due_and_once_per_lease(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let lease = TimeDelta::seconds(60);
    let appeal = submit(store, timed(at, 15)).await;
    assert_eq!(
        appeal.sla.next.map(|n| n.at),
        Some(at + Duration::minutes(15))
    );
    assert_eq!(
        store.next_due().await.unwrap(),
        Some(at + Duration::minutes(15))
    );

    let early = store.claim_due(at + Duration::minutes(14), lease, 10);
    assert!(early.await.unwrap().is_empty(), "not due yet");
    let due = at + Duration::minutes(16);
    let claimed = store.claim_due(due, lease, 10).await.unwrap();
    assert_eq!(claimed_ids(&claimed), [appeal.id]);
    assert_eq!(claimed[0], appeal, "the claim hands out the stored appeal");
    let during = store.claim_due(due + Duration::seconds(30), lease, 10);
    assert!(during.await.unwrap().is_empty(), "claimed for the lease");
    let lapsed = store.claim_due(due + Duration::seconds(61), lease, 10);
    assert_eq!(
        claimed_ids(&lapsed.await.unwrap()),
        [appeal.id],
        "a lapsed claim is taken again"
    );

    // A commit ends the claim and carries the appeal's next timer.
    let now = at + Duration::minutes(18);
    let dispatched = dispatch_to(&appeal, FGJ, now);
    store
        .commit(&dispatched, &CommitMeta::default())
        .await
        .unwrap();
    let next = dispatched
        .appeal()
        .sla
        .next
        .expect("the unit's response timer");
    assert_eq!(next.step, Step::ResponseBreach);
    assert!(store.claim_due(now, lease, 10).await.unwrap().is_empty());
    assert_eq!(store.next_due().await.unwrap(), Some(next.at));
    let claimed = store.claim_due(next.at, lease, 10).await.unwrap();
    assert_eq!(claimed_ids(&claimed), [appeal.id]);
}

pub async fn timers_are_claimed_earliest_first_in_batches(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let lease = TimeDelta::seconds(60);
    let mut expected = Vec::new();
    // Submitted latest timer first, so the claim's order is not the insertion order.
    for minutes in (1..=25).rev() {
        expected.push((minutes, submit(store, timed(at, minutes)).await.id));
    }
    expected.sort();
    let expected: Vec<AppealId> = expected.into_iter().map(|(_, id)| id).collect();
    let now = at + Duration::hours(1);
    let first = store.claim_due(now, lease, 10).await.unwrap();
    let second = store.claim_due(now, lease, 10).await.unwrap();
    let third = store.claim_due(now, lease, 10).await.unwrap();
    assert_eq!(claimed_ids(&first), expected[..10]);
    assert_eq!(claimed_ids(&second), expected[10..20]);
    assert_eq!(claimed_ids(&third), expected[20..]);
    assert!(store.claim_due(now, lease, 10).await.unwrap().is_empty());
}

pub async fn concurrent_claimers_never_share_an_appeal(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let mut all_ids = BTreeSet::new();
    for i in 0..60 {
        all_ids.insert(submit(store, timed(at, i % 7)).await.id);
    }
    let now = at + Duration::hours(1);
    let barrier = Arc::new(Barrier::new(6));
    let mut tasks = JoinSet::new();
    for _ in 0..6 {
        let (store, barrier) = (store.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_due(now, TimeDelta::seconds(60), 7)
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(claimed_ids(&batch));
            }
        });
    }
    let mut seen = Vec::new();
    while let Some(mine) = tasks.join_next().await {
        seen.extend(mine.unwrap());
    }
    let unique: BTreeSet<AppealId> = seen.iter().copied().collect();
    assert_eq!(seen.len(), 60, "each appeal claimed exactly once");
    assert_eq!(unique, all_ids);
}

pub async fn closed_appeals_have_no_timer(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let appeal = submit(store, timed(at, 15)).await;
    let void = decision(
        &appeal,
        Command::Void {
            reason: "重复来电".to_owned(),
        },
        &dispatcher(),
        at + Duration::minutes(1),
    );
    assert_eq!(void.appeal().sla.next, None);
    store.commit(&void, &CommitMeta::default()).await.unwrap();
    assert_eq!(store.next_due().await.unwrap(), None);
    let later = at + Duration::days(30);
    assert!(
        store
            .claim_due(later, TimeDelta::seconds(60), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

// ---- Queues and oversight --------------------------------------------------------------------

pub async fn dispatch_queue_holds_received_and_returned_oldest_first(db: TestDb) {
    let store = &db.store;
    let t0 = monday();
    let first = submit(store, submission(Channel::Hotline, t0)).await;
    let second = submit(store, submission(Channel::Web, t0 + Duration::minutes(1))).await;
    let placed = submit(store, submission(Channel::Web, t0 + Duration::minutes(2))).await;
    let back = submit(store, submission(Channel::Web, t0 + Duration::minutes(3))).await;
    let now = t0 + Duration::minutes(5);
    apply(
        store,
        &placed,
        Command::Dispatch {
            unit: FGJ.into(),
            matter: None,
        },
        &dispatcher(),
        now,
    )
    .await;
    let sent = apply(
        store,
        &back,
        Command::Dispatch {
            unit: FGJ.into(),
            matter: None,
        },
        &dispatcher(),
        now,
    )
    .await;
    let reason = "不属于本单位职责".to_owned();
    apply(
        store,
        &sent,
        Command::Return { reason },
        &unit_staff(FGJ),
        now,
    )
    .await;

    let page = store.dispatch_queue(false, 1, 2).await.unwrap();
    assert_eq!(page.total, 3);
    let ids: Vec<AppealId> = page.appeals.iter().map(|a| a.id).collect();
    assert_eq!(ids, [first.id, second.id]);
    let page = store.dispatch_queue(false, 2, 2).await.unwrap();
    assert_eq!(
        page.appeals.iter().map(|a| a.id).collect::<Vec<_>>(),
        [back.id]
    );
    assert_eq!(page.appeals[0].status, Status::Returned);
}

pub async fn oversight_watches_the_late_the_unsigned_and_the_owned(db: TestDb) {
    let store = &db.store;
    let t0 = monday();
    let unsigned = submit(store, submission(Channel::Hotline, t0)).await;
    let signed = submit(store, submission(Channel::Hotline, t0)).await;
    let owned = submit(store, submission(Channel::Hotline, t0)).await;
    let unsigned = apply(
        store,
        &unsigned,
        Command::Dispatch {
            unit: FGJ.into(),
            matter: None,
        },
        &dispatcher(),
        t0,
    )
    .await;
    let signed = apply(
        store,
        &signed,
        Command::Dispatch {
            unit: FGJ.into(),
            matter: None,
        },
        &dispatcher(),
        t0,
    )
    .await;
    apply(
        store,
        &signed,
        Command::Accept,
        &unit_staff(FGJ),
        t0 + Duration::minutes(10),
    )
    .await;
    // Taken by an admin in the leader's name (a leader sees only escalated cases of their
    // units, and this one is not).
    let leader = hotline_schemas::Actor {
        name: "王副区长".to_owned(),
        role: hotline_schemas::Role::Admin,
        unit: None,
        appeal: None,
        user: Some(UserId::new()),
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    };
    let own = decision(&owned, Command::Own, &leader, t0);
    store.commit(&own, &CommitMeta::default()).await.unwrap();

    let ids = |appeals: Vec<Appeal>| appeals.into_iter().map(|a| a.id).collect::<Vec<_>>();
    // An hour on: one is late to be signed for; the other is signed and within its deadline.
    let hour = t0 + Duration::hours(1);
    assert_eq!(
        ids(store.oversight(None, hour, &Scope::all()).await.unwrap()),
        [unsigned.id]
    );
    assert_eq!(
        ids(store
            .oversight(leader.user, hour, &Scope::all())
            .await
            .unwrap()),
        [unsigned.id, owned.id],
        "a leader also sees what they own"
    );
    let theirs = |user: UserId| Scope {
        leader: Some(LeaderScope {
            user,
            units: Vec::new(),
        }),
        ..Scope::default()
    };
    let listed = store
        .list(&AppealFilter::default(), &theirs(leader.user.unwrap()))
        .await
        .unwrap();
    assert_eq!(ids(listed.appeals), [owned.id], "owned by the user");
    let namesake = store
        .list(&AppealFilter::default(), &theirs(UserId::new()))
        .await
        .unwrap();
    assert!(namesake.appeals.is_empty(), "not by the name");
    // A week on: both dispatched appeals are past their resolution deadline.
    let week = t0 + Duration::days(7);
    let late: BTreeSet<AppealId> = ids(store.oversight(None, week, &Scope::all()).await.unwrap())
        .into_iter()
        .collect();
    assert_eq!(late, BTreeSet::from([unsigned.id, signed.id]));
    assert!(
        store
            .oversight(None, t0, &Scope::all())
            .await
            .unwrap()
            .is_empty()
    );
}

// ---- Scopes ------------------------------------------------------------------------------------

/// One appeal read within a caller's scope: filtered in SQL as the lists are.
pub async fn one_appeal_is_read_within_its_scope(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let appeal = submit(store, submission(Channel::Web, at)).await;
    let held = apply(
        store,
        &appeal,
        Command::Dispatch {
            unit: FGJ.into(),
            matter: None,
        },
        &dispatcher(),
        at,
    )
    .await;
    let unit = |code: &str| Scope {
        unit: Some(code.into()),
        ..Scope::default()
    };
    let read = |scope: Scope| async move { store.appeal_in(appeal.id, &scope).await.unwrap() };
    assert_eq!(read(unit(FGJ)).await.map(|a| a.id), Some(appeal.id));
    assert_eq!(read(unit(RSJ)).await, None);
    let returned = apply(
        store,
        &held,
        Command::Return {
            reason: "不属于本单位职责".to_owned(),
        },
        &unit_staff(FGJ),
        at,
    )
    .await;
    assert_eq!(returned.status, Status::Returned);
    assert_eq!(read(unit(FGJ)).await, None, "not what it returned");
    let own = |id| Scope {
        appeal: Some(id),
        confidential: true,
        ..Scope::default()
    };
    assert!(read(own(appeal.id)).await.is_some());
    assert_eq!(read(own(AppealId::new())).await, None);

    let letter = submit(store, submission(Channel::Mailbox, at)).await;
    assert!(letter.confidential);
    let ordinary = Scope::default();
    assert_eq!(store.appeal_in(letter.id, &ordinary).await.unwrap(), None);
    assert!(
        store
            .appeal_in(letter.id, &Scope::all())
            .await
            .unwrap()
            .is_some()
    );
}

/// A unit's inbox: open appeals only, the deadline that counts first — signing for those that
/// wait for it, resolving the others — whatever their age.
pub async fn the_inbox_lists_open_appeals_by_the_deadline_that_counts(db: TestDb) {
    let store = &db.store;
    let t0 = monday();
    let dispatch = Command::Dispatch {
        unit: FGJ.into(),
        matter: None,
    };
    let staff = unit_staff(FGJ);
    // Signed for at once: its resolution (3 working days) counts.
    let signed = submit(store, submission(Channel::Hotline, t0)).await;
    let signed = apply(store, &signed, dispatch.clone(), &dispatcher(), t0).await;
    apply(
        store,
        &signed,
        Command::Accept,
        &staff,
        t0 + Duration::minutes(1),
    )
    .await;
    // Dispatched an hour later and not signed for: its 30 minutes count, so it comes first.
    let later = t0 + Duration::hours(1);
    let waiting = submit(store, submission(Channel::Hotline, later)).await;
    let waiting = apply(store, &waiting, dispatch.clone(), &dispatcher(), later).await;
    // Closed: not in the inbox.
    let done = submit(store, submission(Channel::Hotline, t0)).await;
    let done = apply(store, &done, dispatch, &dispatcher(), t0).await;
    apply(
        store,
        &done,
        Command::Void {
            reason: "重复".to_owned(),
        },
        &dispatcher(),
        t0,
    )
    .await;
    let filter = AppealFilter {
        unit: Some(FGJ.into()),
        open_by_deadline: true,
        page: 1,
        per_page: 10,
        ..AppealFilter::default()
    };
    let page = store.list(&filter, &Scope::all()).await.unwrap();
    assert_eq!(page.total, 2);
    let ids: Vec<AppealId> = page.appeals.iter().map(|a| a.id).collect();
    assert_eq!(ids, [waiting.id, signed.id]);
}
