//! Events stored by earlier versions keep reading: each `fixtures/v<N>/` holds an SQLite and a
//! PostgreSQL dump written by version N's platform (`tests/it/fixtures.rs` writes them), with
//! appeals that together hold every event type of that version. Each dump is loaded into a
//! fresh database, migrated to this version, and read through the store: every appeal, event
//! and outbox envelope must decode into this version's types.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use hotline_schemas::{Envelope, EventPayload, EventType, Status};
use hotline_store::{AppealFilter, PostgresStore, Scope, SqliteStore, Store};
use sqlx::{AssertSqlSafe, Connection as _};
use strum::IntoEnumIterator;

use crate::fixtures::{monday, submission};
use crate::harness::{Sql, postgres_server, with_database};

/// A version's dumps and the event types that came after it (its dumps cannot hold them).
struct Fixture {
    version: u32,
    sqlite: &'static str,
    postgres: &'static str,
    newer_types: &'static [EventType],
    /// The names of the owners its appeals read as, and whether they are users (schema 3) or
    /// titles (a name recorded before, which grants nothing).
    owners: &'static [&'static str],
    /// The agents its appeals were logged by.
    logged_by: &'static [&'static str],
    people_are_users: bool,
}

const V1: Fixture = Fixture {
    version: 1,
    sqlite: include_str!("../fixtures/v1/sqlite.sql"),
    postgres: include_str!("../fixtures/v1/postgres.sql"),
    newer_types: &[
        EventType::DuplicateMerged,
        EventType::MarkedConfidential,
        EventType::Revealed,
        EventType::Supplemented,
        EventType::Noted,
    ],
    owners: &["分管工业的副区长", "王区长"],
    logged_by: &[],
    people_are_users: false,
};

const V2: Fixture = Fixture {
    version: 2,
    sqlite: include_str!("../fixtures/v2/sqlite.sql"),
    postgres: include_str!("../fixtures/v2/postgres.sql"),
    newer_types: &[EventType::Noted],
    owners: &["分管工业的副区长", "王区长"],
    logged_by: &["话务员小王"],
    people_are_users: false,
};

const V3: Fixture = Fixture {
    version: 3,
    sqlite: include_str!("../fixtures/v3/sqlite.sql"),
    postgres: include_str!("../fixtures/v3/postgres.sql"),
    newer_types: &[EventType::Noted],
    owners: &["王区长"],
    logged_by: &["话务员小王"],
    people_are_users: true,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_v1_fixture_reads() {
    sqlite_fixture_reads(&V1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_v2_fixture_reads() {
    sqlite_fixture_reads(&V2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_v3_fixture_reads() {
    sqlite_fixture_reads(&V3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_v1_fixture_reads() {
    postgres_fixture_reads(&V1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_v2_fixture_reads() {
    postgres_fixture_reads(&V2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_v3_fixture_reads() {
    postgres_fixture_reads(&V3).await;
}

async fn sqlite_fixture_reads(fixture: &'static Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hotline.db");
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        sqlx::raw_sql(AssertSqlSafe(fixture.sqlite))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("load the v{} SQLite dump: {e}", fixture.version));
        conn.close().await.unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let sql = Sql::Sqlite(
        sqlx::sqlite::SqlitePoolOptions::new()
            .connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(&path))
            .await
            .unwrap(),
    );
    reads_everything(Arc::new(store), sql, fixture).await;
}

async fn postgres_fixture_reads(fixture: &'static Fixture) {
    let Some(server) = postgres_server(&format!("postgres_v{}_fixture_reads", fixture.version))
    else {
        return;
    };
    let database = format!("hotline_fixture_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let url = with_database(&server, &database);
    let outcome = tokio::spawn({
        let url = url.clone();
        async move {
            // The dump empties the search path of its session: its own connection.
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql(AssertSqlSafe(fixture.postgres))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("load the v{} PostgreSQL dump: {e}", fixture.version));
            conn.close().await.unwrap();
            let store = PostgresStore::connect(&url).await.unwrap();
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(2)
                .connect(&url)
                .await
                .unwrap();
            reads_everything(Arc::new(store), Sql::Postgres(pool), fixture).await;
        }
    })
    .await;
    let _ = sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Migrates the loaded dump to this version and reads all of it back.
async fn reads_everything(store: Arc<dyn Store>, sql: Sql, fixture: &Fixture) {
    store
        .migrate()
        .await
        .expect("migrate the fixture to this version");
    let page = store
        .list(
            &AppealFilter {
                page: 1,
                per_page: 100,
                ..AppealFilter::default()
            },
            &Scope::all(),
        )
        .await
        .expect("the projection reads");
    assert_eq!(page.total, 6);
    let mut seen = BTreeSet::new();
    let mut events_total = 0;
    for appeal in &page.appeals {
        let events = store.events(appeal.id).await.expect("the events read");
        assert_eq!(events.len() as i64, appeal.version, "{}", appeal.ticket_no);
        for (i, event) in events.iter().enumerate() {
            assert_eq!(event.seq, i as i64 + 1);
            seen.insert(event.event_type().as_str());
        }
        events_total += events.len();
        check_shapes(&appeal.status, &events);
    }
    let expected: BTreeSet<&str> = EventType::iter()
        .filter(|t| !fixture.newer_types.contains(t))
        .map(EventType::as_str)
        .collect();
    assert_eq!(
        seen, expected,
        "the fixture holds every event type of its version"
    );
    check_people(&page.appeals, fixture);

    let outbox = sql.outbox().await;
    assert_eq!(outbox.len(), events_total, "one outbox row per event");
    for row in &outbox {
        let body = serde_json::to_vec(&row.payload).unwrap();
        let envelope = Envelope::decode(&body).expect("the envelope reads");
        assert_eq!(envelope.routing_key, row.routing_key);
    }
    let since = DateTime::<Utc>::from_timestamp(0, 0).unwrap();
    let activity = store
        .activity_since(since, true)
        .await
        .expect("statistics read");
    assert_eq!(activity.len(), 6);

    // The upgraded database takes new appeals, numbered on.
    let fresh = store
        .submit(submission(hotline_schemas::Channel::Web, monday()))
        .await;
    assert!(fresh.expect("submit after the upgrade").created);
}

/// Owners and the agents who logged appeals read as people: users from schema 3, titles (no
/// user) for the names recorded before.
fn check_people(appeals: &[hotline_schemas::Appeal], fixture: &Fixture) {
    let owners: Vec<_> = appeals.iter().flat_map(|a| &a.owners).collect();
    let agents: Vec<_> = appeals
        .iter()
        .filter_map(|a| a.logged_by.as_ref())
        .collect();
    let names = |people: &[&hotline_schemas::StaffRef]| {
        people
            .iter()
            .map(|p| p.name.clone())
            .collect::<BTreeSet<_>>()
    };
    let expected = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(names(&owners), expected(fixture.owners));
    assert_eq!(names(&agents), expected(fixture.logged_by));
    for person in owners.iter().chain(&agents) {
        assert_eq!(
            person.user.is_some(),
            fixture.people_are_users,
            "{person:?}"
        );
    }
}

/// What today's code wrote is read with the meaning it had.
fn check_shapes(status: &Status, events: &[hotline_schemas::Event]) {
    for event in events {
        match &event.payload {
            EventPayload::Dispatched(a) | EventPayload::Reassigned(a) => {
                assert!(a.response_due.is_some() && a.resolve_due.is_some());
            }
            EventPayload::Closed {
                not_rated: true, ..
            } => {
                assert_eq!(*status, Status::Closed);
                assert!(event.payload.step().is_some());
            }
            EventPayload::Escalated { level, .. } => assert!((1..=3).contains(level)),
            EventPayload::Classified(c) => assert!(c.confidence >= 0.0),
            _ => {}
        }
    }
}
