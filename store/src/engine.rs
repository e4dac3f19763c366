//! The two engines. Their SQL is the same (`$n` placeholders work on both), so one macro writes
//! both implementations; only connection setup, migrations and the way a write transaction
//! starts differ.

use std::collections::HashSet;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_schemas::appeal::signature;
use hotline_schemas::lifecycle::{Change, Decision};
use hotline_schemas::reference::{self, ReferenceKind, ReferenceVersion, Versions};
use hotline_schemas::value::ids::TokenId;
use hotline_schemas::value::ticket::{day_key, format_ticket_no};
use hotline_schemas::value::unit::Unit;
use hotline_schemas::{
    Appeal, AppealId, Clock, Envelope, Event, EventId, EventPayload, Role, Status, UnitCode, User,
    UserId, system_clock,
};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{Database, QueryBuilder, Row};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::{
    AppealFilter, AppealText, CommitMeta, Consumed, Credentials, FactKind, OutboxEntry, Page,
    Parked, Publication, ReferenceDraft, Result, Scope, Session, StatGroup, StatRow, StatScope,
    Store, StoreError, Submission, Submitted, Tally, TrainingExample, migrations,
};

/// A write transaction (on SQLite, on the one writing connection).
struct WriteTx<DB: Database> {
    tx: sqlx::Transaction<'static, DB>,
}

impl<DB: Database> WriteTx<DB> {
    async fn commit(self) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    async fn rollback(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}

impl<DB: Database> Deref for WriteTx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: Database> DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

/// Each connection's page cache, in KiB (negative, as `PRAGMA cache_size` takes it): the
/// indexes' pages a window of appeals touches stay in memory (SQLite's default is 2 MiB).
const SQLITE_CACHE_KIB: &str = "-32768";

/// The embedded store: one SQLite file in WAL mode.
#[derive(Clone)]
pub struct SqliteStore {
    /// Connections that read.
    pool: SqlitePool,
    /// The one connection that writes: writers of this process take turns for it, in arrival
    /// order, instead of polling SQLite's lock, and its page cache stays warm (SQLite drops a
    /// connection's whole cache when another connection changed the file).
    writer: SqlitePool,
    /// Submissions on their way to the next group commit.
    submissions: mpsc::Sender<GroupedSubmission>,
    clock: Clock,
}

/// A submission waiting for its group commit, and where its outcome goes.
type GroupedSubmission = (Submission, oneshot::Sender<Result<Submitted>>);

/// How often the write-ahead log is copied into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Submissions one SQLite transaction takes at most: concurrent submissions share one flush to
/// disk instead of taking one each.
const GROUP_COMMIT: usize = 64;

/// No memory map of the database file: SQLite unmaps a connection's whole map each time
/// another connection changed the file, and under a steady stream of writes the unmapping and
/// the page faults after it cost more than copying the pages read (measured with the pipeline
/// bench: 552 appeals/s without, 483/s with a map on the reading connections).
const MMAP_SIZE: &str = "0";

impl SqliteStore {
    /// Opens (creating when missing) the database file at `path`.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::connect(SqliteConnectOptions::new().filename(path)).await
    }

    /// Opens a database from a `sqlite:` URL.
    pub async fn connect_url(url: &str) -> Result<Self> {
        Self::connect(SqliteConnectOptions::from_str(url)?).await
    }

    async fn connect(options: SqliteConnectOptions) -> Result<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .pragma("mmap_size", MMAP_SIZE)
            .pragma("cache_size", SQLITE_CACHE_KIB)
            // Checkpoints run beside the writer (`checkpoints`), not inside its commits.
            .pragma("wal_autocheckpoint", "0")
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone())
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        let (submissions, waiting) = mpsc::channel(GROUP_COMMIT * 4);
        tokio::spawn(Self::commit_groups(writer.clone(), waiting));
        tokio::spawn(Self::checkpoints(pool.clone(), submissions.downgrade()));
        Ok(Self {
            pool,
            writer,
            submissions,
            clock: system_clock(),
        })
    }

    /// Copies what the write-ahead log holds into the database file, on a reading connection
    /// every [`CHECKPOINT_EVERY`], so that the writer's commits only append to the log; runs
    /// until every store handle is gone. A passive checkpoint waits for nobody: what readers
    /// still use stays in the log for the next one.
    async fn checkpoints(pool: SqlitePool, alive: mpsc::WeakSender<GroupedSubmission>) {
        let mut every = tokio::time::interval(CHECKPOINT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if alive.upgrade().is_none() {
                return;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %e, "a checkpoint of the write-ahead log failed");
            }
        }
    }

    /// Writes the waiting submissions, as many at a time as have arrived, each in a savepoint
    /// of one transaction; runs until every store handle is gone.
    async fn commit_groups(writer: SqlitePool, mut waiting: mpsc::Receiver<GroupedSubmission>) {
        let mut group = Vec::with_capacity(GROUP_COMMIT);
        while waiting.recv_many(&mut group, GROUP_COMMIT).await > 0 {
            let submissions: Vec<&Submission> = group.iter().map(|(s, _)| s).collect();
            let outcomes = match Self::submit_group(&writer, &submissions).await {
                Ok(outcomes) => outcomes,
                // Nothing of the group was stored: each is tried alone, for its own outcome.
                Err(_) => {
                    let mut outcomes = Vec::with_capacity(group.len());
                    for submission in submissions {
                        outcomes.push(match Self::submit_group(&writer, &[submission]).await {
                            Ok(mut o) => o.pop().unwrap_or_else(|| Err(corrupt("no outcome"))),
                            Err(e) => Err(e),
                        });
                    }
                    outcomes
                }
            };
            for ((_, answer), outcome) in group.drain(..).zip(outcomes) {
                // A caller that went away finds its appeal by its idempotency key.
                let _ = answer.send(outcome);
            }
        }
    }

    /// One transaction for `group`: one outcome each, or the error that stored none of them.
    async fn submit_group(
        writer: &SqlitePool,
        group: &[&Submission],
    ) -> Result<Vec<Result<Submitted>>> {
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
        let mut outcomes: Vec<Option<Result<Submitted>>> = group.iter().map(|_| None).collect();
        let unkeyed: Vec<usize> = (0..group.len())
            .filter(|&i| group[i].idempotency.is_none())
            .collect();
        if unkeyed.len() > 1 {
            let submissions: Vec<&Submission> = unkeyed.iter().map(|&i| group[i]).collect();
            let mut part = sqlx::Connection::begin(&mut *tx).await?;
            // When the shared statements fail, each is tried alone below, for its own outcome.
            if let Ok(stored) = Self::submit_unkeyed(&mut part, &submissions).await {
                part.commit().await?;
                for (i, submitted) in unkeyed.into_iter().zip(stored) {
                    outcomes[i] = Some(Ok(submitted));
                }
            } else {
                part.rollback().await?;
            }
        }
        for (outcome, submission) in outcomes.iter_mut().zip(group) {
            if outcome.is_none() {
                *outcome = Some(Self::submit_on(&mut tx, submission).await);
            }
        }
        tx.commit().await?;
        Ok(outcomes.into_iter().flatten().collect())
    }

    /// Stores submissions that carry no idempotency key together: each day's ticket
    /// counter moves once, and every table takes one statement.
    async fn submit_unkeyed(
        conn: &mut sqlx::SqliteConnection,
        submissions: &[&Submission],
    ) -> Result<Vec<Submitted>> {
        let mut next: Vec<(chrono::NaiveDate, i64)> = Vec::new();
        for submission in submissions {
            match next.iter_mut().find(|(day, _)| *day == submission.day) {
                Some((_, n)) => *n += 1,
                None => next.push((submission.day, 1)),
            }
        }
        for (day, n) in &mut next {
            let last: i64 = sqlx::query_scalar(
                "INSERT INTO ticket_counters (day, last) VALUES ($1, $2) \
                 ON CONFLICT (day) DO UPDATE SET last = ticket_counters.last + $2 \
                 RETURNING last",
            )
            .bind(day_key(*day))
            .bind(*n)
            .fetch_one(&mut *conn)
            .await?;
            *n = last - *n + 1;
        }
        let mut received = Vec::with_capacity(submissions.len());
        for submission in submissions {
            let Some((_, n)) = next.iter_mut().find(|(day, _)| *day == submission.day) else {
                return Err(corrupt("a submission's day has no counter"));
            };
            let ticket_no = format_ticket_no(submission.day, *n);
            *n += 1;
            received.push(submission.intake.clone().receive(ticket_no));
        }
        let new: Vec<(&Appeal, &[Event])> =
            received.iter().map(|r| (r.appeal(), r.events())).collect();
        Self::insert_new(&mut *conn, &new).await?;
        let announced: Vec<(&Event, Option<&str>)> = received
            .iter()
            .zip(submissions)
            .flat_map(|(r, s)| r.events().iter().map(|e| (e, s.traceparent.as_deref())))
            .collect();
        Self::insert_outbox(&mut *conn, &announced).await?;
        Ok(received
            .iter()
            .map(|r| Submitted {
                appeal: r.appeal().clone(),
                created: true,
                events: r.events().to_vec(),
            })
            .collect())
    }

    /// Stores a submission with the next group commit.
    async fn submit_one(&self, submission: Submission) -> Result<Submitted> {
        let (answer, outcome) = oneshot::channel();
        self.submissions
            .send((submission, answer))
            .await
            .map_err(|_| StoreError::Closed)?;
        outcome.await.map_err(|_| StoreError::Closed)?
    }

    /// The same store, reading the time (of inbox and parking entries) from `clock`.
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    /// A write transaction takes the database's write lock at once (`BEGIN IMMEDIATE`), so
    /// writers queue up instead of failing when a read transaction tries to become a write
    /// transaction; other processes on the same file wait through the busy timeout.
    async fn begin_write(&self) -> Result<WriteTx<sqlx::Sqlite>> {
        Ok(WriteTx {
            tx: self.writer.begin_with("BEGIN IMMEDIATE").await?,
        })
    }
}

/// The distributed store: PostgreSQL.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    clock: Clock,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self {
            pool,
            clock: system_clock(),
        })
    }

    /// The same store, reading the time (of inbox and parking entries) from `clock`.
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    async fn begin_write(&self) -> Result<WriteTx<sqlx::Postgres>> {
        Ok(WriteTx {
            tx: self.pool.begin().await?,
        })
    }
}

/// The right to run the outbox relay. On PostgreSQL it is a session advisory lock held on a
/// connection of its own: it ends when the process or its connection dies.
pub struct RelayLease {
    connection: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
}

/// The advisory lock key of the relay (any constant shared by every process).
const RELAY_LOCK_KEY: i64 = 0x686f_746c_696e_6501;

impl RelayLease {
    /// Whether the lease is still held (the lock's connection still answers).
    pub async fn alive(&mut self) -> bool {
        match &mut self.connection {
            None => true,
            Some(conn) => sqlx::query("SELECT 1").execute(&mut **conn).await.is_ok(),
        }
    }
}

impl SqliteStore {
    /// One process owns an SQLite file: it always holds the lease.
    async fn take_relay_lease(&self) -> Result<Option<RelayLease>> {
        Ok(Some(RelayLease { connection: None }))
    }
}

impl PostgresStore {
    /// Stores a submission in its own transaction (PostgreSQL flushes concurrent commits
    /// together itself).
    async fn submit_one(&self, submission: Submission) -> Result<Submitted> {
        let mut conn = self.pool.acquire().await?;
        Self::submit_on(&mut conn, &submission).await
    }

    async fn take_relay_lease(&self) -> Result<Option<RelayLease>> {
        let mut conn = self.pool.acquire().await?;
        let locked: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(RELAY_LOCK_KEY)
            .fetch_one(&mut *conn)
            .await?;
        if !locked {
            return Ok(None);
        }
        // The lock lives as long as this session: keep the connection out of the pool. When
        // the lease is dropped the connection is closed, not returned to the pool, so the
        // session ends and the lock is released.
        conn.close_on_drop();
        Ok(Some(RelayLease {
            connection: Some(conn),
        }))
    }
}

impl SqliteStore {
    /// Rows of `duplicate_bands`: `(band, at_us, appeal_id)`.
    async fn insert_bands(
        conn: &mut sqlx::SqliteConnection,
        rows: &[(i64, i64, Uuid)],
    ) -> Result<()> {
        for chunk in rows.chunks(IMPORT_ROWS * signature::BANDS) {
            let mut q = QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO duplicate_bands (band, at_us, appeal_id) ",
            );
            q.push_values(chunk, |mut row, (band, at, id)| {
                row.push_bind(*band).push_bind(*at).push_bind(*id);
            });
            q.push(" ON CONFLICT DO NOTHING");
            q.build().execute(&mut *conn).await?;
        }
        Ok(())
    }
}

impl PostgresStore {
    /// Rows of `duplicate_bands`: `(band, at_us, appeal_id)`, as three arrays.
    async fn insert_bands(conn: &mut sqlx::PgConnection, rows: &[(i64, i64, Uuid)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let (bands, ats, ids): (Vec<i64>, Vec<i64>, Vec<Uuid>) =
            rows.iter()
                .fold((Vec::new(), Vec::new(), Vec::new()), |mut v, (b, a, i)| {
                    v.0.push(*b);
                    v.1.push(*a);
                    v.2.push(*i);
                    v
                });
        sqlx::query(
            "INSERT INTO duplicate_bands (band, at_us, appeal_id) \
             SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::UUID[]) ON CONFLICT DO NOTHING",
        )
        .bind(bands)
        .bind(ats)
        .bind(ids)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// `statuses` as an SQL list, e.g. `('received','returned')`.
fn status_list(statuses: impl Iterator<Item = Status>) -> String {
    let quoted: Vec<String> = statuses.map(|s| format!("'{}'", s.as_str())).collect();
    format!("({})", quoted.join(","))
}

/// The open statuses (`Status::is_open`) as an SQL list.
static OPEN_STATUSES: LazyLock<String> =
    LazyLock::new(|| status_list(Status::matching(Status::is_open)));

/// Appeals waiting for a dispatcher (`Status::awaits_dispatch`).
static WAITING_FOR_DISPATCH: LazyLock<String> = LazyLock::new(|| {
    format!(
        "status IN {}",
        status_list(Status::matching(Status::awaits_dispatch))
    )
});

/// Appeals waiting for the unit to sign (`Status::awaits_acceptance`).
static AWAITING_ACCEPTANCE: LazyLock<String> =
    LazyLock::new(|| status_list(Status::matching(Status::awaits_acceptance)));

/// What statistics read: appeals changed since `$1` or still open (confidential ones when
/// `$2` is true).
static ACTIVITY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT doc FROM appeals WHERE (updated_at >= $1 OR status IN {}) \
         AND (confidential = FALSE OR $2) ORDER BY created_at",
        *OPEN_STATUSES
    )
});

/// The events of the appeals `ACTIVITY` reads.
static ACTIVITY_EVENTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT e.id, e.appeal_id, e.seq, e.type, e.at, e.actor, e.actor_id, e.reason, e.data \
         FROM events e JOIN appeals a ON a.id = e.appeal_id \
         WHERE (a.updated_at >= $1 OR a.status IN {}) AND (a.confidential = FALSE OR $2) \
         ORDER BY e.appeal_id, e.seq",
        *OPEN_STATUSES
    )
});

/// `scope` as SQL conditions (each starting with ` AND`).
fn push_scope<DB: Database>(q: &mut QueryBuilder<DB>, scope: &Scope)
where
    for<'a> String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    match &scope.unit {
        // What the unit holds now: not what it returned (`Appeal::is_with`).
        Some(unit) => {
            q.push(" AND status <> 'returned' AND unit = ")
                .push_bind(unit.to_string());
        }
        // Nearly every appeal is ordinary: the test narrows nothing, and written as `NOT` it
        // leaves the choice of an index to the terms that do (an agent's calls, a caller's
        // appeals: by id, not every ordinary appeal checked against their list).
        None if !scope.confidential => {
            q.push(" AND NOT confidential");
        }
        None => {}
    }
    if let Some(appeal) = scope.appeal {
        q.push(" AND id = ").push_bind(appeal.0);
    }
    // A leader's cases (`Actor::leads`): owned, escalated in their units, and confidential
    // ones for a mailbox reader.
    if let Some(leader) = &scope.leader {
        q.push(" AND (id IN (SELECT appeal_id FROM appeal_owners WHERE user_id = ")
            .push_bind(leader.user.0)
            .push(")");
        if !leader.units.is_empty() {
            q.push(" OR (escalated = TRUE AND unit IN (");
            let mut units = q.separated(", ");
            for unit in &leader.units {
                units.push_bind(unit.to_string());
            }
            q.push("))");
        }
        if scope.confidential {
            q.push(" OR confidential = TRUE");
        }
        q.push(")");
    }
}

/// A statistics scope as SQL conditions (each starting with ` AND`) on a table with
/// `confidential` and `unit` columns: `stat_facts` (a leader's appeals by the facts' `reached`)
/// or `appeals`, unaliased (by their dispatch facts).
fn push_stat_scope<DB: Database>(q: &mut QueryBuilder<DB>, scope: &StatScope, facts: bool)
where
    for<'a> String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    if !scope.confidential {
        q.push(" AND confidential = FALSE");
    }
    if let Some(unit) = &scope.unit {
        q.push(" AND unit = ").push_bind(unit.to_string());
    }
    match scope.dispatched_to.as_deref() {
        None => {}
        Some([]) => {
            q.push(" AND 1 = 0");
        }
        Some(units) if facts => {
            q.push(" AND (");
            for (i, unit) in units.iter().enumerate() {
                if i > 0 {
                    q.push(" OR ");
                }
                q.push("reached LIKE ")
                    .push_bind(format!("%,{},%", like_escaped(unit)))
                    .push(" ESCAPE '\\'");
            }
            q.push(")");
        }
        Some(units) => {
            // Asked of each appeal the rest of the query finds (by its own index), not as a
            // list of every appeal the units were ever given.
            q.push(
                " AND EXISTS (SELECT 1 FROM stat_facts d WHERE d.appeal_id = appeals.id \
                 AND d.kind = 'dispatched' AND d.unit IN (",
            );
            let mut list = q.separated(", ");
            for unit in units {
                list.push_bind(unit.to_string());
            }
            q.push("))");
        }
    }
}

/// `text` matching itself in a LIKE pattern escaped with `\`.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The units an appeal was dispatched to, from its facts, as `reached` holds them: ",A,B,".
fn reached(facts: &[hotline_schemas::stats::Fact]) -> String {
    let units: std::collections::BTreeSet<&str> = facts
        .iter()
        .filter(|f| f.kind == FactKind::Dispatched)
        .filter_map(|f| f.unit.as_deref())
        .collect();
    if units.is_empty() {
        String::new()
    } else {
        format!(",{},", units.into_iter().collect::<Vec<_>>().join(","))
    }
}

/// A fact's row: its appeal, its number among the appeal's facts, the fact, and how far the
/// appeal got.
type FactRow<'a> = (&'a Appeal, i32, hotline_schemas::stats::Fact, String);

/// The facts of `appeal` as rows.
fn fact_rows<'a>(appeal: &'a Appeal, events: &[Event]) -> Vec<FactRow<'a>> {
    let facts = hotline_schemas::stats::facts(appeal, events);
    let reached = reached(&facts);
    facts
        .into_iter()
        .enumerate()
        .map(|(n, f)| {
            (
                appeal,
                i32::try_from(n).unwrap_or(i32::MAX),
                f,
                reached.clone(),
            )
        })
        .collect()
}

/// Appeals an import writes a statement (its bands, 16 each with 3 values, stay under
/// SQLite's 32,766 parameters).
const IMPORT_ROWS: usize = 500;

/// Appeals read from one band's bucket at most, the newest first.
const BUCKET_CANDIDATES: i64 = 64;

/// Microseconds in an hour: a fact's `hour` is its `at_us` divided by it.
const MICROS_AN_HOUR: i64 = 3_600_000_000;

/// Microseconds since 1970, as the statistics' facts count time.
fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// An event's payload as the `type` and `data` columns hold it.
fn stored_payload(payload: &EventPayload) -> Result<(&'static str, serde_json::Value)> {
    let mut value = serde_json::to_value(payload).map_err(corrupt)?;
    let data = value
        .get_mut("data")
        .map(serde_json::Value::take)
        .unwrap_or_else(|| serde_json::json!({}));
    Ok((payload.event_type().as_str(), data))
}

/// The payload in the `type` and `data` columns: `StoreError::Unreadable` when this version
/// does not know the type or a field (written by a newer one).
fn read_payload(event_id: Uuid, kind: String, data: serde_json::Value) -> Result<EventPayload> {
    serde_json::from_value(serde_json::json!({ "type": kind, "data": data }))
        .map_err(|e| StoreError::Unreadable(format!("event {event_id} ({kind}): {e}")))
}

macro_rules! sql_store {
    (
        $store:ty, $db:ty, $migrator:path, $skip_locked:literal, $payload_text:literal,
        $pending_extension:literal, $text_fields:literal, $body_start:literal
    ) => {
        impl $store {
            /// Writes the statistics' facts of `appeal` from its whole history `events`,
            /// replacing those it had.
            async fn write_facts(
                conn: &mut <$db as sqlx::Database>::Connection,
                appeal: &Appeal,
                events: &[Event],
            ) -> Result<()> {
                sqlx::query("DELETE FROM stat_facts WHERE appeal_id = $1")
                    .bind(appeal.id.0)
                    .execute(&mut *conn)
                    .await?;
                Self::insert_fact_rows(&mut *conn, &fact_rows(appeal, events)).await
            }

            /// Rewrites the facts of `appeal` from its history as stored; `false` (and nothing
            /// written) when the history holds an event this version cannot read.
            async fn refresh_facts(
                conn: &mut <$db as sqlx::Database>::Connection,
                appeal: &Appeal,
            ) -> Result<bool> {
                Ok(Self::refresh_all_facts(conn, &[appeal]).await? == 1)
            }

            /// [`Self::refresh_facts`] for several appeals, three statements in all; how many
            /// had their facts rewritten.
            async fn refresh_all_facts(
                conn: &mut <$db as sqlx::Database>::Connection,
                appeals: &[&Appeal],
            ) -> Result<usize> {
                if appeals.is_empty() {
                    return Ok(0);
                }
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT id, appeal_id, seq, type, at, actor, actor_id, reason, data FROM events \
                     WHERE appeal_id IN (",
                );
                let mut list = q.separated(", ");
                for appeal in appeals {
                    list.push_bind(appeal.id.0);
                }
                q.push(") ORDER BY appeal_id, seq");
                let rows = q.build().fetch_all(&mut *conn).await?;
                let mut histories: std::collections::HashMap<Uuid, Result<Vec<Event>>> =
                    std::collections::HashMap::new();
                for row in &rows {
                    let id: Uuid = row.try_get("appeal_id")?;
                    let history = histories.entry(id).or_insert_with(|| Ok(Vec::new()));
                    if let Ok(events) = history {
                        match Self::event_of(row) {
                            Ok(event) => events.push(event),
                            Err(e) => *history = Err(e),
                        }
                    }
                }
                let mut readable = Vec::with_capacity(appeals.len());
                for appeal in appeals {
                    match histories.remove(&appeal.id.0).unwrap_or_else(|| Ok(Vec::new())) {
                        Ok(events) => readable.push((*appeal, events)),
                        Err(StoreError::Unreadable(detail)) => {
                            tracing::warn!(appeal = %appeal.id, %detail, "statistics left as they were: an event this version cannot read");
                        }
                        Err(e) => return Err(e),
                    }
                }
                if readable.is_empty() {
                    return Ok(0);
                }
                let mut q = QueryBuilder::<$db>::new("DELETE FROM stat_facts WHERE appeal_id IN (");
                let mut list = q.separated(", ");
                for (appeal, _) in &readable {
                    list.push_bind(appeal.id.0);
                }
                q.push(")");
                q.build().execute(&mut *conn).await?;
                let facts: Vec<FactRow> = readable
                    .iter()
                    .flat_map(|(appeal, events)| fact_rows(appeal, events))
                    .collect();
                Self::insert_fact_rows(&mut *conn, &facts).await?;
                Ok(readable.len())
            }

            /// Fills in the facts of appeals stored before the statistics kept them, in
            /// batches; an appeal being changed meanwhile gets them from its commit.
            async fn backfill_facts(&self) -> Result<()> {
                loop {
                    let ids: Vec<Uuid> = sqlx::query_scalar(
                        "SELECT id FROM appeals a WHERE NOT EXISTS \
                         (SELECT 1 FROM stat_facts f WHERE f.appeal_id = a.id) LIMIT 500",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    if ids.is_empty() {
                        return Ok(());
                    }
                    let mut tx = self.begin_write().await?;
                    let mut written = 0;
                    for id in ids {
                        let row = sqlx::query(concat!(
                            "SELECT doc FROM appeals WHERE id = $1 AND NOT EXISTS \
                             (SELECT 1 FROM stat_facts f WHERE f.appeal_id = appeals.id)",
                            $skip_locked
                        ))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                        let Some(row) = row else { continue };
                        let appeal = Self::appeal_of(&row)?;
                        written += usize::from(Self::refresh_facts(&mut tx, &appeal).await?);
                    }
                    tx.commit().await?;
                    if written == 0 {
                        return Ok(());
                    }
                }
            }

            async fn find_appeal(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: AppealId,
            ) -> Result<Option<Appeal>> {
                let row = sqlx::query("SELECT doc FROM appeals WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&mut *conn)
                    .await?;
                row.as_ref().map(Self::appeal_of).transpose()
            }

            async fn find_idempotent(
                conn: &mut <$db as sqlx::Database>::Connection,
                caller: &str,
                key: &str,
                request_hash: &str,
            ) -> Result<Option<Appeal>> {
                let row = sqlx::query(
                    "SELECT request_hash, appeal_id FROM idempotency_keys WHERE caller = $1 AND key = $2",
                )
                .bind(caller)
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let stored_hash: String = row.try_get("request_hash")?;
                if stored_hash != request_hash {
                    return Err(StoreError::IdempotencyConflict);
                }
                let id: Uuid = row.try_get("appeal_id")?;
                let appeal = Self::find_appeal(conn, AppealId(id))
                    .await?
                    .ok_or_else(|| corrupt("idempotency key points at a missing appeal"))?;
                Ok(Some(appeal))
            }

            async fn insert_events(
                conn: &mut <$db as sqlx::Database>::Connection,
                events: &[Event],
                traceparent: Option<&str>,
            ) -> Result<()> {
                let events: Vec<&Event> = events.iter().collect();
                Self::insert_event_rows(&mut *conn, &events).await?;
                let announced: Vec<(&Event, Option<&str>)> =
                    events.into_iter().map(|e| (e, traceparent)).collect();
                Self::insert_outbox(&mut *conn, &announced).await
            }

            /// Events' rows, in one statement per [`IMPORT_ROWS`].
            async fn insert_event_rows(
                conn: &mut <$db as sqlx::Database>::Connection,
                events: &[&Event],
            ) -> Result<()> {
                for chunk in events.chunks(IMPORT_ROWS) {
                    let rows = chunk
                        .iter()
                        .map(|e| stored_payload(&e.payload).map(|(kind, data)| (*e, kind, data)))
                        .collect::<Result<Vec<_>>>()?;
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO events (id, appeal_id, seq, type, at, actor, reason, data, \
                         actor_id) ",
                    );
                    q.push_values(rows, |mut row, (e, kind, data)| {
                        row.push_bind(e.id.0)
                            .push_bind(e.appeal_id.0)
                            .push_bind(e.seq)
                            .push_bind(kind)
                            .push_bind(e.at)
                            .push_bind(e.actor.clone())
                            .push_bind(e.reason.clone())
                            .push_bind(Json(data))
                            .push_bind(e.actor_id.map(|u| u.0));
                    });
                    q.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// Events' outbox rows, each envelope carrying its `traceparent`.
            async fn insert_outbox(
                conn: &mut <$db as sqlx::Database>::Connection,
                events: &[(&Event, Option<&str>)],
            ) -> Result<()> {
                for chunk in events.chunks(IMPORT_ROWS) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO outbox (event_id, appeal_id, routing_key, payload, created_at) ",
                    );
                    q.push_values(chunk, |mut row, (e, traceparent)| {
                        row.push_bind(e.id.0)
                            .push_bind(e.appeal_id.0)
                            .push_bind(e.routing_key())
                            .push_bind(Json(Envelope::new(e, traceparent.map(str::to_owned))))
                            .push_bind(e.at);
                    });
                    q.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// New appeals with their first events and their facts, a few statements per
            /// [`IMPORT_ROWS`] appeals; no outbox rows.
            async fn insert_new(
                conn: &mut <$db as sqlx::Database>::Connection,
                new: &[(&Appeal, &[Event])],
            ) -> Result<()> {
                for chunk in new.chunks(IMPORT_ROWS) {
                    let appeals: Vec<Appeal> = chunk.iter().map(|(a, _)| (*a).clone()).collect();
                    Self::insert_appeals(&mut *conn, &appeals).await?;
                    let events: Vec<&Event> = chunk.iter().flat_map(|(_, e)| e.iter()).collect();
                    Self::insert_event_rows(&mut *conn, &events).await?;
                    let facts: Vec<FactRow> = chunk
                        .iter()
                        .flat_map(|(appeal, events)| fact_rows(appeal, events))
                        .collect();
                    Self::insert_fact_rows(&mut *conn, &facts).await?;
                }
                Ok(())
            }

            /// Facts' rows, in one statement per [`IMPORT_ROWS`].
            async fn insert_fact_rows(
                conn: &mut <$db as sqlx::Database>::Connection,
                facts: &[FactRow<'_>],
            ) -> Result<()> {
                for chunk in facts.chunks(IMPORT_ROWS) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO stat_facts (appeal_id, n, kind, at_us, hour, unit, flag, value, \
                         confidential, channel, matter, reached) ",
                    );
                    q.push_values(chunk, |mut row, (a, n, fact, reached)| {
                        row.push_bind(a.id.0)
                            .push_bind(*n)
                            .push_bind(fact.kind.as_str())
                            .push_bind(micros(fact.at))
                            .push_bind(micros(fact.at).div_euclid(MICROS_AN_HOUR))
                            .push_bind(fact.unit.as_ref().map(ToString::to_string))
                            .push_bind(fact.flag)
                            .push_bind(fact.value)
                            .push_bind(a.confidential)
                            .push_bind(a.channel.as_str())
                            .push_bind(a.matter.as_ref().map(ToString::to_string))
                            .push_bind(reached.clone());
                    });
                    q.build().execute(&mut *conn).await?;
                }
                Ok(())
            }

            /// Inserts `unit`; an existing one with its code is updated when `update`, else left
            /// alone. Whether a row was written.
            async fn insert_publication(
                conn: &mut <$db as sqlx::Database>::Connection,
                kind: ReferenceKind,
                version: u32,
                by: &str,
                at: DateTime<Utc>,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO reference_publications (kind, version, published_by, published_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(kind.as_str())
                .bind(i64::from(version))
                .bind(by)
                .bind(at)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            async fn insert_unit(
                conn: &mut <$db as sqlx::Database>::Connection,
                unit: &Unit,
                update: bool,
            ) -> Result<bool> {
                let sql = if update {
                    "INSERT INTO units (code, name, demo, keywords) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, demo = excluded.demo, \
                     keywords = excluded.keywords"
                } else {
                    "INSERT INTO units (code, name, demo, keywords) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (code) DO NOTHING"
                };
                let written = sqlx::query(sql)
                    .bind(unit.code.as_str())
                    .bind(&unit.name)
                    .bind(unit.demo)
                    .bind(serde_json::to_string(&unit.keywords).map_err(corrupt)?)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                Ok(written > 0)
            }

            /// The appeal in a row holding the projection's `doc`.
            fn appeal_of(r: &<$db as sqlx::Database>::Row) -> Result<Appeal> {
                Ok(r.try_get::<Json<Appeal>, _>("doc")?.0)
            }

            /// Runs one statement in a write transaction of its own.
            async fn run_write<'q>(
                &self,
                query: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments>,
            ) -> Result<()> {
                let mut tx = self.begin_write().await?;
                query.execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            /// A user from a row of `users` (all columns).
            fn user_of(r: &<$db as sqlx::Database>::Row) -> Result<User> {
                let role: String = r.try_get("role")?;
                Ok(User {
                    id: UserId(r.try_get("id")?),
                    name: r.try_get("name")?,
                    username: r.try_get("username")?,
                    role: role.parse::<Role>().map_err(corrupt)?,
                    unit: r.try_get::<Option<String>, _>("unit")?.map(Into::into),
                    in_charge_of: serde_json::from_str(&r.try_get::<String, _>("in_charge_of")?)
                        .map_err(corrupt)?,
                    mailbox_reader: r.try_get("mailbox_reader")?,
                    disabled: r.try_get("disabled")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                })
            }

            /// An event from a row of `events` (all columns).
            fn event_of(r: &<$db as sqlx::Database>::Row) -> Result<Event> {
                let id: Uuid = r.try_get("id")?;
                let data = r.try_get::<Json<serde_json::Value>, _>("data")?.0;
                Ok(Event {
                    id: EventId(id),
                    appeal_id: AppealId(r.try_get("appeal_id")?),
                    seq: r.try_get("seq")?,
                    at: r.try_get::<DateTime<Utc>, _>("at")?,
                    actor: r.try_get("actor")?,
                    actor_id: r.try_get::<Option<Uuid>, _>("actor_id")?.map(UserId),
                    reason: r.try_get("reason")?,
                    payload: read_payload(id, r.try_get("type")?, data)?,
                })
            }

            /// Records `consumed` in the inbox; `false` when it was there already.
            async fn insert_inbox(
                conn: &mut <$db as sqlx::Database>::Connection,
                consumed: &Consumed,
                at: DateTime<Utc>,
            ) -> Result<bool> {
                let inserted = sqlx::query(
                    "INSERT INTO inbox (consumer, event_id, processed_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (consumer, event_id) DO NOTHING",
                )
                .bind(&consumed.consumer)
                .bind(consumed.event_id.0)
                .bind(at)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                Ok(inserted == 1)
            }

            /// Stores a submission in a transaction of its own on `conn` (a savepoint when
            /// `conn` is in one already).
            async fn submit_on(
                conn: &mut <$db as sqlx::Database>::Connection,
                submission: &Submission,
            ) -> Result<Submitted> {
                let mut part = sqlx::Connection::begin(&mut *conn).await?;
                if let Some(key) = &submission.idempotency
                    && let Some(appeal) =
                        Self::find_idempotent(&mut part, &key.caller, &key.key, &key.request_hash).await?
                {
                    return Ok(Submitted { appeal, created: false, events: Vec::new() });
                }
                let counter: i64 = sqlx::query_scalar(
                    "INSERT INTO ticket_counters (day, last) VALUES ($1, 1) \
                     ON CONFLICT (day) DO UPDATE SET last = ticket_counters.last + 1 RETURNING last",
                )
                .bind(day_key(submission.day))
                .fetch_one(&mut *part)
                .await?;
                let at = submission.intake.at();
                let received = submission
                    .intake
                    .clone()
                    .receive(format_ticket_no(submission.day, counter));
                let appeal = received.appeal().clone();
                Self::insert_appeals(&mut part, std::slice::from_ref(&appeal)).await?;
                Self::insert_events(&mut part, received.events(), submission.traceparent.as_deref())
                    .await?;
                Self::write_facts(&mut part, &appeal, received.events()).await?;
                if let Some(key) = &submission.idempotency {
                    let inserted = sqlx::query(
                        "INSERT INTO idempotency_keys (caller, key, request_hash, appeal_id, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (caller, key) DO NOTHING",
                    )
                    .bind(&key.caller)
                    .bind(&key.key)
                    .bind(&key.request_hash)
                    .bind(appeal.id.0)
                    .bind(at)
                    .execute(&mut *part)
                    .await?
                    .rows_affected();
                    if inserted == 0 {
                        // A concurrent request with the same key committed first: answer with its appeal.
                        part.rollback().await?;
                        return Self::find_idempotent(&mut *conn, &key.caller, &key.key, &key.request_hash)
                            .await?
                            .map(|appeal| Submitted { appeal, created: false, events: Vec::new() })
                            .ok_or_else(|| corrupt("idempotency key vanished"));
                    }
                }
                part.commit().await?;
                Ok(Submitted { appeal, created: true, events: received.events().to_vec() })
            }

            /// A decision's appeals, events, outbox rows and facts, and its inbox entry.
            async fn write_decision(
                conn: &mut <$db as sqlx::Database>::Connection,
                decision: &Decision,
                meta: &CommitMeta,
                at: DateTime<Utc>,
            ) -> Result<()> {
                if let Some(consumed) = &meta.consumed
                    && !Self::insert_inbox(&mut *conn, consumed, at).await?
                {
                    return Err(StoreError::AlreadyConsumed);
                }
                for change in decision.changes() {
                    Self::update_appeal(&mut *conn, change).await?;
                    Self::insert_events(&mut *conn, change.events(), meta.traceparent.as_deref())
                        .await?;
                    Self::refresh_facts(&mut *conn, change.appeal()).await?;
                }
                Ok(())
            }

            /// Inbox entries, one statement per [`IMPORT_ROWS`]; those that were new.
            async fn insert_inbox_rows(
                conn: &mut <$db as sqlx::Database>::Connection,
                consumed: &[&Consumed],
                at: DateTime<Utc>,
            ) -> Result<HashSet<(String, EventId)>> {
                let mut fresh = HashSet::new();
                for chunk in consumed.chunks(IMPORT_ROWS) {
                    let mut q = QueryBuilder::<$db>::new(
                        "INSERT INTO inbox (consumer, event_id, processed_at) ",
                    );
                    q.push_values(chunk, |mut row, c| {
                        row.push_bind(c.consumer.clone()).push_bind(c.event_id.0).push_bind(at);
                    });
                    q.push(" ON CONFLICT (consumer, event_id) DO NOTHING RETURNING consumer, event_id");
                    for row in q.build().fetch_all(&mut *conn).await? {
                        fresh.insert((row.try_get("consumer")?, EventId(row.try_get("event_id")?)));
                    }
                }
                Ok(fresh)
            }

            async fn delete_inbox_rows(
                conn: &mut <$db as sqlx::Database>::Connection,
                consumed: &[&Consumed],
            ) -> Result<()> {
                for c in consumed {
                    sqlx::query("DELETE FROM inbox WHERE consumer = $1 AND event_id = $2")
                        .bind(&c.consumer)
                        .bind(c.event_id.0)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            /// Writes a change's appeal while the row still holds the version it was decided on.
            async fn update_appeal(
                conn: &mut <$db as sqlx::Database>::Connection,
                change: &Change,
            ) -> Result<()> {
                let appeal = change.appeal();
                let updated = sqlx::query(
                    "UPDATE appeals SET status = $1, unit = $2, matter = $3, priority = $4, \
                     response_due = $5, resolve_due = $6, updated_at = $7, version = $8, doc = $9, \
                     due_at = $12, confidential = $13, escalated = $14, \
                     timer_lease = NULL WHERE id = $10 AND version = $11",
                )
                .bind(appeal.status.as_str())
                .bind(appeal.unit.as_deref())
                .bind(appeal.matter.as_deref())
                .bind(appeal.priority.as_str())
                .bind(appeal.deadlines.response_due)
                .bind(appeal.deadlines.resolve_due)
                .bind(appeal.updated_at)
                .bind(appeal.version)
                .bind(Json(appeal))
                .bind(appeal.id.0)
                .bind(change.base_version())
                .bind(appeal.sla.next.map(|n| n.at))
                .bind(appeal.confidential)
                .bind(appeal.is_escalated())
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if updated != 1 {
                    return Err(StoreError::Conflict);
                }
                // Owners only ever join a case, each with an event.
                for event in change.events() {
                    if let EventPayload::Owned { user: Some(user), .. } = &event.payload {
                        sqlx::query(
                            "INSERT INTO appeal_owners (user_id, appeal_id) VALUES ($1, $2) \
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(user.0)
                        .bind(appeal.id.0)
                        .execute(&mut *conn)
                        .await?;
                    }
                }
                Ok(())
            }

            /// Inserts new appeals (at most [`IMPORT_ROWS`] at once) with their caller keys and
            /// duplicate signatures.
            async fn insert_appeals(
                conn: &mut <$db as sqlx::Database>::Connection,
                appeals: &[Appeal],
            ) -> Result<()> {
                let mut q = QueryBuilder::<$db>::new(
                    "INSERT INTO appeals (id, ticket_no, channel, kind, priority, status, unit, \
                     matter, response_due, resolve_due, created_at, updated_at, version, doc, \
                     due_at, confidential, escalated) ",
                );
                q.push_values(appeals, |mut row, a| {
                    row.push_bind(a.id.0)
                        .push_bind(a.ticket_no.as_str())
                        .push_bind(a.channel.as_str())
                        .push_bind(a.kind.as_str())
                        .push_bind(a.priority.as_str())
                        .push_bind(a.status.as_str())
                        .push_bind(a.unit.as_deref())
                        .push_bind(a.matter.as_deref())
                        .push_bind(a.deadlines.response_due)
                        .push_bind(a.deadlines.resolve_due)
                        .push_bind(a.created_at)
                        .push_bind(a.updated_at)
                        .push_bind(a.version)
                        .push_bind(Json(a))
                        .push_bind(a.sla.next.map(|n| n.at))
                        .push_bind(a.confidential)
                        .push_bind(a.is_escalated());
                });
                q.build().execute(&mut *conn).await?;
                Self::insert_keys(conn, appeals).await?;
                Self::insert_signatures(conn, appeals).await?;
                Ok(())
            }

            /// The appellant keys of `appeals` (`Appellant::keys`), for the caller's history
            /// and the duplicate index.
            async fn insert_keys(
                conn: &mut <$db as sqlx::Database>::Connection,
                appeals: &[Appeal],
            ) -> Result<()> {
                let keys: Vec<(String, &Appeal)> = appeals
                    .iter()
                    .flat_map(|a| a.appellant.keys().into_iter().map(move |k| (k, a)))
                    .collect();
                if keys.is_empty() {
                    return Ok(());
                }
                let mut q = QueryBuilder::<$db>::new(
                    "INSERT INTO appellant_keys (key, appeal_id, created_at) ",
                );
                q.push_values(&keys, |mut row, (key, a)| {
                    row.push_bind(key.clone())
                        .push_bind(a.id.0)
                        .push_bind(a.created_at);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *conn).await?;
                Ok(())
            }

            /// The duplicate index of `appeals`: each one's normalised address and the band
            /// keys of its text (`signature`). An appeal indexed before is left as it is.
            async fn insert_signatures(
                conn: &mut <$db as sqlx::Database>::Connection,
                appeals: &[Appeal],
            ) -> Result<()> {
                if appeals.is_empty() {
                    return Ok(());
                }
                let mut q = QueryBuilder::<$db>::new(
                    "INSERT INTO duplicate_signatures (appeal_id, at_us, address) ",
                );
                q.push_values(appeals, |mut row, a| {
                    row.push_bind(a.id.0)
                        .push_bind(micros(a.created_at))
                        .push_bind(signature::address_of(a));
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *conn).await?;
                let mut bands: Vec<(i64, i64, Uuid)> = appeals
                    .iter()
                    .flat_map(|a| {
                        let at = micros(a.created_at);
                        signature::bands_of(a).into_iter().map(move |b| (b, at, a.id.0))
                    })
                    .collect();
                // In key order: each statement walks the index once.
                bands.sort_unstable();
                Self::insert_bands(conn, &bands).await
            }

            /// Indexes the appeals stored before the duplicate index, in batches.
            async fn backfill_signatures(&self) -> Result<()> {
                loop {
                    let rows = sqlx::query(
                        "SELECT doc FROM appeals a WHERE NOT EXISTS \
                         (SELECT 1 FROM duplicate_signatures s WHERE s.appeal_id = a.id) LIMIT 500",
                    )
                    .fetch_all(&self.pool)
                    .await?;
                    if rows.is_empty() {
                        return Ok(());
                    }
                    let appeals = rows.iter().map(Self::appeal_of).collect::<Result<Vec<_>>>()?;
                    let mut tx = self.begin_write().await?;
                    Self::insert_signatures(&mut tx, &appeals).await?;
                    tx.commit().await?;
                }
            }
        }

        #[async_trait]
        impl Store for $store {
            async fn migrate(&self) -> Result<()> {
                $migrator().run(&self.pool).await?;
                self.backfill_facts().await?;
                self.backfill_signatures().await
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn units(&self) -> Result<Vec<Unit>> {
                let rows = sqlx::query("SELECT code, name, demo, keywords FROM units ORDER BY code")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(Unit {
                            code: r.try_get::<String, _>("code")?.into(),
                            name: r.try_get("name")?,
                            demo: r.try_get("demo")?,
                            keywords: serde_json::from_str(&r.try_get::<String, _>("keywords")?)
                                .map_err(corrupt)?,
                        })
                    })
                    .collect()
            }

            async fn sync_units(&self, units: &[Unit]) -> Result<()> {
                let mut tx = self.begin_write().await?;
                for unit in units {
                    Self::insert_unit(&mut tx, unit, true).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn seed_reference(
                &self,
                kind: ReferenceKind,
                text: &str,
                at: DateTime<Utc>,
            ) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                // Several processes may start on an empty database at once: one inserts.
                let inserted = sqlx::query(
                    "INSERT INTO reference_versions (kind, version, body, note, author, saved_at) \
                     VALUES ($1, 1, $2, 'shipped', 'system', $3) ON CONFLICT DO NOTHING",
                )
                .bind(kind.as_str())
                .bind(text)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                Self::insert_publication(&mut tx, kind, 1, "system", at).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn save_reference(&self, draft: &ReferenceDraft) -> Result<u32> {
                let mut tx = self.begin_write().await?;
                let next: i64 = sqlx::query_scalar(
                    "SELECT COALESCE(MAX(version), 0) + 1 FROM reference_versions WHERE kind = $1",
                )
                .bind(draft.kind.as_str())
                .fetch_one(&mut *tx)
                .await?;
                // Two saves at once on PostgreSQL: the later one finds the number taken.
                let inserted = sqlx::query(
                    "INSERT INTO reference_versions (kind, version, body, note, author, saved_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(draft.kind.as_str())
                .bind(next)
                .bind(&draft.text)
                .bind(&draft.note)
                .bind(&draft.author)
                .bind(draft.at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict);
                }
                tx.commit().await?;
                u32::try_from(next).map_err(corrupt)
            }

            async fn publish_reference(&self, publication: &Publication) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let found: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM reference_versions WHERE kind = $1 AND version = $2",
                )
                .bind(publication.kind.as_str())
                .bind(i64::from(publication.version))
                .fetch_one(&mut *tx)
                .await?;
                if found == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                Self::insert_publication(
                    &mut tx,
                    publication.kind,
                    publication.version,
                    &publication.by,
                    publication.at,
                )
                .await?;
                for unit in &publication.units {
                    Self::insert_unit(&mut tx, unit, true).await?;
                }
                let published = reference::Published {
                    kind: publication.kind,
                    version: publication.version,
                };
                // A platform event, of no appeal: the relay announces it like any other.
                sqlx::query(
                    "INSERT INTO outbox (event_id, appeal_id, routing_key, payload, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(EventId::new().0)
                .bind(Uuid::nil())
                .bind(reference::PUBLISHED_ROUTING_KEY)
                .bind(Json(published))
                .bind(publication.at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn reference_versions(&self, kind: ReferenceKind) -> Result<Vec<ReferenceVersion>> {
                let rows = sqlx::query(
                    "SELECT v.version, v.note, v.author, v.saved_at, \
                     (SELECT p.published_at FROM reference_publications p \
                      WHERE p.kind = v.kind AND p.version = v.version ORDER BY p.id DESC LIMIT 1) \
                     AS published_at \
                     FROM reference_versions v WHERE v.kind = $1 ORDER BY v.version DESC LIMIT 100",
                )
                .bind(kind.as_str())
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(ReferenceVersion {
                            kind,
                            version: u32::try_from(r.try_get::<i64, _>("version")?)
                                .map_err(corrupt)?,
                            note: r.try_get("note")?,
                            author: r.try_get("author")?,
                            saved_at: r.try_get("saved_at")?,
                            published_at: r.try_get("published_at")?,
                        })
                    })
                    .collect()
            }

            async fn reference_text(&self, kind: ReferenceKind, version: u32) -> Result<Option<String>> {
                Ok(sqlx::query_scalar(
                    "SELECT body FROM reference_versions WHERE kind = $1 AND version = $2",
                )
                .bind(kind.as_str())
                .bind(i64::from(version))
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn published_reference(&self, kind: ReferenceKind) -> Result<Option<(u32, String)>> {
                let row = sqlx::query(
                    "SELECT v.version, v.body FROM reference_publications p \
                     JOIN reference_versions v ON v.kind = p.kind AND v.version = p.version \
                     WHERE p.kind = $1 ORDER BY p.id DESC LIMIT 1",
                )
                .bind(kind.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| {
                    let version = u32::try_from(r.try_get::<i64, _>("version")?).map_err(corrupt)?;
                    Ok((version, r.try_get("body")?))
                })
                .transpose()
            }

            async fn published_versions(&self) -> Result<Versions> {
                let rows = sqlx::query(
                    "SELECT p.kind, p.version FROM reference_publications p WHERE p.id = \
                     (SELECT MAX(q.id) FROM reference_publications q WHERE q.kind = p.kind)",
                )
                .fetch_all(&self.pool)
                .await?;
                let mut versions = Versions::default();
                for r in rows {
                    let kind: String = r.try_get("kind")?;
                    let version = u32::try_from(r.try_get::<i64, _>("version")?).map_err(corrupt)?;
                    match kind.parse::<ReferenceKind>() {
                        Ok(ReferenceKind::Taxonomy) => versions.taxonomy = version,
                        Ok(ReferenceKind::Calendar) => versions.calendar = version,
                        Ok(ReferenceKind::Policies) => versions.policies = version,
                        Err(_) => return Err(StoreError::Corrupt(format!("reference kind {kind:?}"))),
                    }
                }
                Ok(versions)
            }

            async fn seed_units_if_empty(&self, units: &[Unit]) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM units")
                    .fetch_one(&mut *tx)
                    .await?;
                if count > 0 {
                    return Ok(false);
                }
                // Several processes may seed an empty PostgreSQL database at once (the count
                // above does not lock): the later ones wait for the first and insert nothing.
                let mut loaded = false;
                for unit in units {
                    loaded |= Self::insert_unit(&mut tx, unit, false).await?;
                }
                tx.commit().await?;
                Ok(loaded)
            }

            async fn submit(&self, submission: Submission) -> Result<Submitted> {
                self.submit_one(submission).await
            }

            async fn import(&self, received: &[Decision]) -> Result<()> {
                let changes: Vec<&Change> = received.iter().flat_map(Decision::changes).collect();
                if changes.iter().any(|c| c.base_version() != 0) {
                    return Err(StoreError::NotNew);
                }
                let new: Vec<(&Appeal, &[Event])> =
                    changes.iter().map(|c| (c.appeal(), c.events())).collect();
                let mut tx = self.begin_write().await?;
                Self::insert_new(&mut tx, &new).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn appeal(&self, id: AppealId) -> Result<Option<Appeal>> {
                let mut conn = self.pool.acquire().await?;
                Self::find_appeal(&mut conn, id).await
            }

            async fn appeals_by_id(&self, ids: &[AppealId]) -> Result<Vec<Appeal>> {
                let mut appeals = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(IMPORT_ROWS) {
                    let mut q = QueryBuilder::<$db>::new("SELECT doc FROM appeals WHERE id IN (");
                    let mut list = q.separated(", ");
                    for id in chunk {
                        list.push_bind(id.0);
                    }
                    q.push(")");
                    for row in q.build().fetch_all(&self.pool).await? {
                        appeals.push(Self::appeal_of(&row)?);
                    }
                }
                Ok(appeals)
            }

            async fn appeal_in(&self, id: AppealId, scope: &Scope) -> Result<Option<Appeal>> {
                let mut q = QueryBuilder::<$db>::new("SELECT doc FROM appeals WHERE id = ");
                q.push_bind(id.0);
                push_scope(&mut q, scope);
                let row = q.build().fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::appeal_of).transpose()
            }

            async fn events(&self, id: AppealId) -> Result<Vec<Event>> {
                let rows = sqlx::query(
                    "SELECT id, appeal_id, seq, type, at, actor, actor_id, reason, data FROM events \
                     WHERE appeal_id = $1 ORDER BY seq",
                )
                .bind(id.0)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::event_of).collect()
            }

            async fn commit(&self, decision: &Decision, meta: &CommitMeta) -> Result<()> {
                let mut tx = self.begin_write().await?;
                Self::write_decision(&mut tx, decision, meta, (self.clock)()).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn commit_all(&self, batch: &[(Decision, CommitMeta)]) -> Result<Vec<Result<()>>> {
                let mut tx = self.begin_write().await?;
                let at = (self.clock)();
                let mut outcomes: Vec<Result<()>> = batch.iter().map(|_| Ok(())).collect();
                // The inbox first, in one statement: a redelivery changes nothing.
                let consumed: Vec<&Consumed> =
                    batch.iter().filter_map(|(_, m)| m.consumed.as_ref()).collect();
                let fresh = Self::insert_inbox_rows(&mut tx, &consumed, at).await?;
                let mut fresh = fresh;
                for ((_, meta), outcome) in batch.iter().zip(&mut outcomes) {
                    // Each new entry is one decision's: the same delivery twice in a batch
                    // takes effect once.
                    if let Some(c) = &meta.consumed
                        && !fresh.remove(&(c.consumer.clone(), c.event_id))
                    {
                        *outcome = Err(StoreError::AlreadyConsumed);
                    }
                }
                // Each appeal while it still holds the version decided on; a decision changing
                // two appeals does so in a savepoint, to take back the first when the second
                // changed meanwhile.
                for ((decision, _), outcome) in batch.iter().zip(&mut outcomes) {
                    if outcome.is_err() {
                        continue;
                    }
                    let changes: Vec<&Change> = decision.changes().collect();
                    *outcome = match changes.as_slice() {
                        [change] => Self::update_appeal(&mut tx, change).await,
                        changes => {
                            let mut part = sqlx::Connection::begin(&mut *tx).await?;
                            let mut updated = Ok(());
                            for change in changes {
                                updated = Self::update_appeal(&mut part, change).await;
                                if updated.is_err() {
                                    break;
                                }
                            }
                            if updated.is_ok() {
                                part.commit().await?;
                            } else {
                                part.rollback().await?;
                            }
                            updated
                        }
                    };
                }
                let stored: Vec<(&Decision, &CommitMeta)> = batch
                    .iter()
                    .zip(&outcomes)
                    .filter(|(_, o)| o.is_ok())
                    .map(|((d, m), _)| (d, m))
                    .collect();
                let events: Vec<&Event> =
                    stored.iter().flat_map(|(d, _)| d.changes()).flat_map(|c| c.events()).collect();
                Self::insert_event_rows(&mut tx, &events).await?;
                let announced: Vec<(&Event, Option<&str>)> = stored
                    .iter()
                    .flat_map(|(d, m)| {
                        d.changes()
                            .flat_map(|c| c.events())
                            .map(|e| (e, m.traceparent.as_deref()))
                    })
                    .collect();
                Self::insert_outbox(&mut tx, &announced).await?;
                let appeals: Vec<&Appeal> =
                    stored.iter().flat_map(|(d, _)| d.changes()).map(Change::appeal).collect();
                Self::refresh_all_facts(&mut tx, &appeals).await?;
                // What a decision that could not be stored took in is given back (a redelivery
                // took nothing in).
                let refused: Vec<&Consumed> = batch
                    .iter()
                    .zip(&outcomes)
                    .filter(|(_, o)| o.is_err() && !matches!(o, Err(StoreError::AlreadyConsumed)))
                    .filter_map(|((_, m), _)| m.consumed.as_ref())
                    .collect();
                Self::delete_inbox_rows(&mut tx, &refused).await?;
                tx.commit().await?;
                Ok(outcomes)
            }

            async fn dispatch_queue(
                &self,
                confidential: bool,
                page: u32,
                per_page: u32,
            ) -> Result<Page> {
                let total: i64 = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM appeals WHERE ")
                    .push(WAITING_FOR_DISPATCH.as_str())
                    .push(" AND confidential = ")
                    .push_bind(confidential)
                    .build_query_scalar()
                    .fetch_one(&self.pool)
                    .await?;
                let per_page = per_page.max(1);
                let offset = i64::from(page.max(1) - 1) * i64::from(per_page);
                let mut q = QueryBuilder::<$db>::new("SELECT doc FROM appeals WHERE ");
                q.push(WAITING_FOR_DISPATCH.as_str())
                    .push(" AND confidential = ")
                    .push_bind(confidential)
                    .push(" ORDER BY created_at, ticket_no LIMIT ")
                    .push_bind(i64::from(per_page))
                    .push(" OFFSET ")
                    .push_bind(offset);
                let rows = q.build().fetch_all(&self.pool).await?;
                let appeals = rows.iter().map(Self::appeal_of).collect::<Result<Vec<_>>>()?;
                Ok(Page { appeals, total })
            }

            async fn claim_due(
                &self,
                now: DateTime<Utc>,
                lease: chrono::TimeDelta,
                limit: u32,
            ) -> Result<Vec<Appeal>> {
                let until = now.checked_add_signed(lease).unwrap_or(now);
                let mut tx = self.begin_write().await?;
                let rows = sqlx::query(concat!(
                    "UPDATE appeals SET timer_lease = $2 WHERE id IN (SELECT id FROM appeals \
                     WHERE due_at <= $1 AND (timer_lease IS NULL OR timer_lease <= $1) \
                     ORDER BY due_at LIMIT $3",
                    $skip_locked,
                    ") RETURNING doc"
                ))
                .bind(now)
                .bind(until)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                let mut appeals = rows.iter().map(Self::appeal_of).collect::<Result<Vec<_>>>()?;
                appeals.sort_by_key(|a| a.sla.next.map(|n| n.at));
                Ok(appeals)
            }

            async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
                Ok(sqlx::query_scalar("SELECT MIN(due_at) FROM appeals WHERE due_at IS NOT NULL")
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn oversight(
                &self,
                owner: Option<UserId>,
                now: DateTime<Utc>,
                scope: &Scope,
            ) -> Result<Vec<Appeal>> {
                let mut q = QueryBuilder::<$db>::new("SELECT doc FROM appeals WHERE status IN ");
                q.push(OPEN_STATUSES.as_str())
                    .push(" AND (resolve_due < ")
                    .push_bind(now)
                    .push(" OR (status IN ")
                    .push(AWAITING_ACCEPTANCE.as_str())
                    .push(" AND response_due < ")
                    .push_bind(now)
                    .push(")");
                if let Some(owner) = owner {
                    q.push(" OR id IN (SELECT appeal_id FROM appeal_owners WHERE user_id = ")
                        .push_bind(owner.0)
                        .push(")");
                }
                q.push(")");
                push_scope(&mut q, scope);
                q.push(" ORDER BY resolve_due IS NULL, resolve_due, created_at LIMIT 1000");
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.iter().map(Self::appeal_of).collect()
            }

            async fn appeals_of(&self, key: &str, scope: &Scope, limit: i64) -> Result<Vec<Appeal>> {
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT doc FROM appeals WHERE id IN (SELECT appeal_id FROM appellant_keys WHERE key = ",
                );
                q.push_bind(key.to_owned()).push(")");
                push_scope(&mut q, scope);
                q.push(" ORDER BY created_at DESC, ticket_no DESC LIMIT ")
                    .push_bind(limit);
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.iter().map(Self::appeal_of).collect()
            }

            async fn duplicate_candidates(
                &self,
                appeal: &Appeal,
                since: DateTime<Utc>,
                limit: i64,
            ) -> Result<Vec<Appeal>> {
                let bands = signature::bands_of(appeal);
                let keys = appeal.appellant.keys();
                let address = signature::address_of(appeal);
                if limit <= 0 || (bands.is_empty() && keys.is_empty() && address.is_none()) {
                    return Ok(Vec::new());
                }
                let (from, to) = (micros(since), micros(appeal.created_at));
                // Each part reads its own index, newest first and bounded: the cost does not
                // grow with the appeals in the window.
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT a.doc FROM (SELECT c.appeal_id, SUM(c.bands) AS bands, \
                     SUM(c.others) AS others FROM (",
                );
                let mut parts = 0;
                let mut part = |q: &mut QueryBuilder<$db>, counts: &str| {
                    if parts > 0 {
                        q.push(" UNION ALL ");
                    }
                    parts += 1;
                    q.push("SELECT appeal_id, ")
                        .push(counts)
                        .push(" FROM (SELECT appeal_id FROM ");
                };
                for band in bands {
                    part(&mut q, "1 AS bands, 0 AS others");
                    q.push("duplicate_bands WHERE band = ")
                        .push_bind(band)
                        .push(" AND at_us >= ")
                        .push_bind(from)
                        .push(" AND at_us <= ")
                        .push_bind(to)
                        .push(" ORDER BY at_us DESC LIMIT ")
                        .push_bind(BUCKET_CANDIDATES)
                        .push(") b");
                }
                for key in keys {
                    part(&mut q, "0 AS bands, 1 AS others");
                    q.push("appellant_keys WHERE key = ")
                        .push_bind(key)
                        .push(" AND created_at >= ")
                        .push_bind(since)
                        .push(" AND created_at <= ")
                        .push_bind(appeal.created_at)
                        .push(" ORDER BY created_at DESC LIMIT ")
                        .push_bind(limit)
                        .push(") k");
                }
                if let Some(address) = address {
                    part(&mut q, "0 AS bands, 1 AS others");
                    q.push("duplicate_signatures WHERE address = ")
                        .push_bind(address)
                        .push(" AND at_us >= ")
                        .push_bind(from)
                        .push(" AND at_us <= ")
                        .push_bind(to)
                        .push(" ORDER BY at_us DESC LIMIT ")
                        .push_bind(limit)
                        .push(") a");
                }
                q.push(") c WHERE c.appeal_id <> ")
                    .push_bind(appeal.id.0)
                    // One shared band is mostly chance (probability 0.35 at bigram similarity
                    // 0.3); two are shared by 99.98% of the pairs at 0.8, the near-identical
                    // mark.
                    .push(
                        " GROUP BY c.appeal_id HAVING SUM(c.bands) >= 2 OR SUM(c.others) >= 1 \
                         ORDER BY bands DESC, others DESC, c.appeal_id LIMIT ",
                    )
                    .push_bind(limit);
                q.push(") r JOIN appeals a ON a.id = r.appeal_id ORDER BY r.bands DESC, r.others DESC, r.appeal_id");
                q.build()
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(Self::appeal_of)
                    .collect()
            }

            async fn activity_since(
                &self,
                since: DateTime<Utc>,
                confidential: bool,
            ) -> Result<Vec<(Appeal, Vec<Event>)>> {
                let rows = sqlx::query(ACTIVITY.as_str())
                .bind(since)
                .bind(confidential)
                .fetch_all(&self.pool)
                .await?;
                let mut appeals: Vec<(Appeal, Vec<Event>)> = rows
                    .iter()
                    .map(|r| Ok((Self::appeal_of(r)?, Vec::new())))
                    .collect::<Result<Vec<_>>>()?;
                let index: std::collections::HashMap<Uuid, usize> =
                    appeals.iter().enumerate().map(|(i, (a, _))| (a.id.0, i)).collect();
                let rows = sqlx::query(ACTIVITY_EVENTS.as_str())
                .bind(since)
                .bind(confidential)
                .fetch_all(&self.pool)
                .await?;
                for r in &rows {
                    let event = Self::event_of(r)?;
                    if let Some(&i) = index.get(&event.appeal_id.0) {
                        appeals[i].1.push(event);
                    }
                }
                Ok(appeals)
            }

            async fn stat_rows(
                &self,
                from: DateTime<Utc>,
                to: DateTime<Utc>,
                scope: &StatScope,
                group: StatGroup,
                response_limit: chrono::TimeDelta,
            ) -> Result<Vec<StatRow>> {
                let (columns, grouped) = match group {
                    StatGroup::Unit => (
                        "unit, CAST(NULL AS TEXT) AS matter, CAST(NULL AS TEXT) AS channel, \
                         CAST(0 AS BIGINT) AS hour",
                        " GROUP BY kind, unit",
                    ),
                    StatGroup::UnitHour => (
                        "unit, CAST(NULL AS TEXT) AS matter, CAST(NULL AS TEXT) AS channel, hour",
                        " GROUP BY kind, unit, hour",
                    ),
                    StatGroup::Hour => (
                        "CAST(NULL AS TEXT) AS unit, CAST(NULL AS TEXT) AS matter, \
                         CAST(NULL AS TEXT) AS channel, hour",
                        " GROUP BY kind, hour",
                    ),
                    StatGroup::MatterChannel => (
                        "CAST(NULL AS TEXT) AS unit, matter, channel, CAST(0 AS BIGINT) AS hour",
                        " GROUP BY kind, matter, channel",
                    ),
                };
                let mut q = QueryBuilder::<$db>::new(format!(
                    "SELECT kind, {columns}, COUNT(*) AS n, \
                     CAST(COALESCE(SUM(CASE WHEN kind = 'dispatched' THEN \
                     (CASE WHEN value <= "
                ));
                let (from_us, to_us) = (micros(from), micros(to));
                q.push_bind(response_limit.num_microseconds().unwrap_or(i64::MAX))
                    .push(
                        " THEN 1 ELSE 0 END) WHEN flag THEN 1 ELSE 0 END), 0) AS BIGINT) AS flagged, \
                         CAST(COALESCE(SUM(CASE WHEN kind = 'replied' THEN value ELSE 0 END), 0) \
                         AS BIGINT) AS total FROM stat_facts WHERE at_us >= ",
                    )
                    .push_bind(from_us)
                    .push(" AND at_us < ")
                    .push_bind(to_us);
                // The hours too, for the indexes that lead with the (unit and) hour.
                if group != StatGroup::MatterChannel {
                    q.push(" AND hour >= ")
                        .push_bind(from_us.div_euclid(MICROS_AN_HOUR))
                        .push(" AND hour <= ")
                        .push_bind(to_us.div_euclid(MICROS_AN_HOUR));
                }
                push_stat_scope(&mut q, scope, true);
                // Grouped by the columns themselves, in the order of the index that covers
                // the grouping (SQLite then sums in index order, without a sort).
                q.push(grouped);
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| {
                        let kind: String = r.try_get("kind")?;
                        let count = |name: &str| -> Result<u64> {
                            Ok(u64::try_from(r.try_get::<i64, _>(name)?).unwrap_or(0))
                        };
                        Ok(StatRow {
                            kind: kind.parse::<FactKind>().map_err(corrupt)?,
                            unit: r.try_get("unit")?,
                            matter: r.try_get("matter")?,
                            channel: r.try_get("channel")?,
                            hour: r.try_get("hour")?,
                            tally: Tally {
                                count: count("n")?,
                                flagged: count("flagged")?,
                                value: r.try_get("total")?,
                            },
                        })
                    })
                    .collect()
            }

            async fn overdue_by_unit(
                &self,
                now: DateTime<Utc>,
                scope: &StatScope,
            ) -> Result<Vec<(Option<UnitCode>, i64)>> {
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT unit, COUNT(*) AS n FROM appeals WHERE status IN ",
                );
                q.push(OPEN_STATUSES.as_str())
                    .push(" AND resolve_due < ")
                    .push_bind(now);
                push_stat_scope(&mut q, scope, false);
                q.push(" GROUP BY unit");
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| {
                        Ok((
                            r.try_get::<Option<String>, _>("unit")?.map(Into::into),
                            r.try_get("n")?,
                        ))
                    })
                    .collect()
            }

            async fn appeal_texts(
                &self,
                from: DateTime<Utc>,
                to: DateTime<Utc>,
                scope: &StatScope,
                body_chars: i64,
                limit: i64,
            ) -> Result<Vec<AppealText>> {
                let mut q = QueryBuilder::<$db>::new(concat!(
                    "SELECT created_at, ",
                    $text_fields,
                    ", ",
                    $body_start
                ));
                q.push_bind(body_chars)
                    .push(" AS INTEGER)) AS body FROM appeals WHERE created_at >= ")
                    .push_bind(from)
                    .push(" AND created_at < ")
                    .push_bind(to);
                push_stat_scope(&mut q, scope, false);
                q.push(" LIMIT ").push_bind(limit);
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| {
                        let kind: Option<String> = r.try_get("appellant_kind")?;
                        Ok(AppealText {
                            created_at: r.try_get("created_at")?,
                            title: r.try_get::<Option<String>, _>("title")?.unwrap_or_default(),
                            body: r.try_get::<Option<String>, _>("body")?.unwrap_or_default(),
                            person: r
                                .try_get::<Option<String>, _>("appellant_name")?
                                .filter(|_| kind.as_deref() == Some("person")),
                        })
                    })
                    .collect()
            }

            async fn pending_extensions(&self, scope: &Scope) -> Result<Vec<Appeal>> {
                let mut q = QueryBuilder::<$db>::new(concat!(
                    "SELECT doc FROM appeals WHERE status = 'accepted' AND ",
                    $pending_extension
                ));
                push_scope(&mut q, scope);
                q.push(" ORDER BY resolve_due, created_at LIMIT 500");
                let rows = q.build().fetch_all(&self.pool).await?;
                rows.iter().map(Self::appeal_of).collect()
            }

            async fn record_training_example(&self, example: &TrainingExample) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO training_examples \
                     (appeal_id, text, matter, unit, suggested_matter, source, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(example.appeal_id.0)
                .bind(&example.text)
                .bind(example.matter.as_deref())
                .bind(example.unit.as_str())
                .bind(example.suggested_matter.as_deref())
                .bind(&example.source)
                .bind(example.created_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn training_examples(&self) -> Result<Vec<TrainingExample>> {
                let rows = sqlx::query(
                    "SELECT appeal_id, text, matter, unit, suggested_matter, source, created_at \
                     FROM training_examples ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(TrainingExample {
                            appeal_id: AppealId(r.try_get("appeal_id")?),
                            text: r.try_get("text")?,
                            matter: r.try_get::<Option<String>, _>("matter")?.map(Into::into),
                            unit: r.try_get::<String, _>("unit")?.into(),
                            suggested_matter: r
                                .try_get::<Option<String>, _>("suggested_matter")?
                                .map(Into::into),
                            source: r.try_get("source")?,
                            created_at: r.try_get("created_at")?,
                        })
                    })
                    .collect()
            }

            async fn mark_consumed(&self, consumed: &Consumed) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let fresh = Self::insert_inbox(&mut tx, consumed, (self.clock)()).await?;
                tx.commit().await?;
                Ok(fresh)
            }

            async fn mark_all_consumed(&self, consumed: &[Consumed]) -> Result<()> {
                if consumed.is_empty() {
                    return Ok(());
                }
                let mut tx = self.begin_write().await?;
                let at = (self.clock)();
                for entry in consumed {
                    Self::insert_inbox(&mut tx, entry, at).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn consumed_among(
                &self,
                consumer: &str,
                events: &[EventId],
            ) -> Result<HashSet<EventId>> {
                let mut found = HashSet::new();
                for chunk in events.chunks(IMPORT_ROWS) {
                    let mut q = QueryBuilder::<$db>::new("SELECT event_id FROM inbox WHERE consumer = ");
                    q.push_bind(consumer).push(" AND event_id IN (");
                    let mut list = q.separated(", ");
                    for event in chunk {
                        list.push_bind(event.0);
                    }
                    q.push(")");
                    for row in q.build().fetch_all(&self.pool).await? {
                        found.insert(EventId(row.try_get("event_id")?));
                    }
                }
                Ok(found)
            }

            async fn is_consumed(&self, consumed: &Consumed) -> Result<bool> {
                // COUNT(*) is a BIGINT on both engines (a bare `1` is an INT4 on PostgreSQL).
                let found: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM inbox WHERE consumer = $1 AND event_id = $2",
                )
                .bind(&consumed.consumer)
                .bind(consumed.event_id.0)
                .fetch_one(&self.pool)
                .await?;
                Ok(found > 0)
            }

            async fn unpublished(&self, limit: i64) -> Result<Vec<OutboxEntry>> {
                let rows = sqlx::query(concat!(
                    "SELECT id, event_id, routing_key, ",
                    $payload_text,
                    " AS body FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(OutboxEntry {
                            id: r.try_get("id")?,
                            event_id: EventId(r.try_get("event_id")?),
                            routing_key: r.try_get("routing_key")?,
                            body: r.try_get("body")?,
                        })
                    })
                    .collect()
            }

            async fn mark_published(&self, ids: &[i64], at: DateTime<Utc>) -> Result<()> {
                if ids.is_empty() {
                    return Ok(());
                }
                let mut q = QueryBuilder::<$db>::new("UPDATE outbox SET published_at = ");
                q.push_bind(at).push(" WHERE id IN (");
                let mut list = q.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                q.push(")");
                let mut tx = self.begin_write().await?;
                q.build().execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn outbox_backlog(&self) -> Result<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn relay_lease(&self) -> Result<Option<RelayLease>> {
                self.take_relay_lease().await
            }

            async fn park(
                &self,
                consumer: &str,
                event_id: EventId,
                body: &str,
                error: &str,
            ) -> Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO parked (consumer, event_id, envelope, error, parked_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(consumer)
                .bind(event_id.0)
                .bind(body)
                .bind(error)
                .bind((self.clock)())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn parked(&self) -> Result<Vec<Parked>> {
                let rows = sqlx::query(
                    "SELECT consumer, event_id, envelope, error FROM parked ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(Parked {
                            consumer: r.try_get("consumer")?,
                            event_id: EventId(r.try_get("event_id")?),
                            body: r.try_get("envelope")?,
                            error: r.try_get("error")?,
                        })
                    })
                    .collect()
            }

            async fn add_user(&self, user: &User) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let inserted = sqlx::query(
                    "INSERT INTO users (id, name, role, unit, in_charge_of, mailbox_reader, \
                     disabled, created_at, updated_at, username) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
                )
                .bind(user.id.0)
                .bind(&user.name)
                .bind(user.role.as_str())
                .bind(user.unit.as_deref())
                .bind(serde_json::to_string(&user.in_charge_of).map_err(corrupt)?)
                .bind(user.mailbox_reader)
                .bind(user.disabled)
                .bind(user.created_at)
                .bind(user.updated_at)
                .bind(user.username.as_deref())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    tx.rollback().await?;
                    return Err(StoreError::Duplicate);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn users(&self) -> Result<Vec<User>> {
                let rows = sqlx::query("SELECT * FROM users ORDER BY created_at, id")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::user_of).collect()
            }

            async fn user(&self, id: UserId) -> Result<Option<User>> {
                let row = sqlx::query("SELECT * FROM users WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::user_of).transpose()
            }

            async fn set_user_disabled(
                &self,
                id: UserId,
                disabled: bool,
                at: DateTime<Utc>,
            ) -> Result<Option<User>> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1 RETURNING *",
                )
                .bind(id.0)
                .bind(disabled)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?;
                let user = row.as_ref().map(Self::user_of).transpose()?;
                tx.commit().await?;
                Ok(user)
            }

            async fn revoke_token(
                &self,
                id: TokenId,
                expires_at: Option<DateTime<Utc>>,
                at: DateTime<Utc>,
            ) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let inserted = sqlx::query(
                    "INSERT INTO revoked_tokens (id, revoked_at, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(id.0)
                .bind(at)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(inserted == 1)
            }

            async fn token_revoked(&self, id: TokenId) -> Result<bool> {
                let found: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM revoked_tokens WHERE id = $1")
                        .bind(id.0)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(found > 0)
            }

            async fn credentials(&self, username: &str) -> Result<Option<Credentials>> {
                let row = sqlx::query("SELECT * FROM users WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(Some(Credentials {
                    user: Self::user_of(&row)?,
                    password_hash: row.try_get("password_hash")?,
                    failed_sign_ins: u32::try_from(row.try_get::<i32, _>("failed_sign_ins")?)
                        .unwrap_or(0),
                    locked_until: row.try_get("locked_until")?,
                }))
            }

            async fn set_password(&self, id: UserId, hash: &str, at: DateTime<Utc>) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let updated = sqlx::query(
                    "UPDATE users SET password_hash = $2, updated_at = $3, failed_sign_ins = 0, \
                     locked_until = NULL WHERE id = $1",
                )
                .bind(id.0)
                .bind(hash)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(updated == 1)
            }

            async fn sign_in_failed(&self, id: UserId) -> Result<u32> {
                let mut tx = self.begin_write().await?;
                let count: Option<i32> = sqlx::query_scalar(
                    "UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = $1 \
                     RETURNING failed_sign_ins",
                )
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(count.map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)))
            }

            async fn lock_sign_in(&self, id: UserId, until: DateTime<Utc>) -> Result<()> {
                self.run_write(
                    sqlx::query(
                        "UPDATE users SET failed_sign_ins = 0, locked_until = $2 WHERE id = $1",
                    )
                    .bind(id.0)
                    .bind(until),
                )
                .await
            }

            async fn sign_in_succeeded(&self, id: UserId) -> Result<()> {
                self.run_write(
                    sqlx::query(
                        "UPDATE users SET failed_sign_ins = 0, locked_until = NULL \
                         WHERE id = $1 AND (failed_sign_ins <> 0 OR locked_until IS NOT NULL)",
                    )
                    .bind(id.0),
                )
                .await
            }

            async fn create_session(&self, session: &Session) -> Result<()> {
                self.run_write(
                    sqlx::query(
                        "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&session.id_hash)
                    .bind(session.user.0)
                    .bind(&session.csrf)
                    .bind(session.created_at)
                    .bind(session.last_seen_at),
                )
                .await
            }

            async fn session(&self, id_hash: &str) -> Result<Option<Session>> {
                let row = sqlx::query("SELECT * FROM sessions WHERE id_hash = $1")
                    .bind(id_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|r| {
                    Ok(Session {
                        id_hash: r.try_get("id_hash")?,
                        user: UserId(r.try_get("user_id")?),
                        csrf: r.try_get("csrf")?,
                        created_at: r.try_get("created_at")?,
                        last_seen_at: r.try_get("last_seen_at")?,
                    })
                })
                .transpose()
            }

            async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()> {
                self.run_write(
                    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
                        .bind(id_hash)
                        .bind(at),
                )
                .await
            }

            async fn end_session(&self, id_hash: &str) -> Result<()> {
                self.run_write(sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash))
                    .await
            }

            async fn end_sessions_of(&self, user: UserId) -> Result<()> {
                self.run_write(sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.0))
                    .await
            }

            async fn list(&self, filter: &AppealFilter, scope: &Scope) -> Result<Page> {
                fn push_filters(q: &mut QueryBuilder<$db>, filter: &AppealFilter, scope: &Scope) {
                    q.push(" WHERE 1 = 1");
                    push_scope(q, scope);
                    if let Some(status) = filter.status {
                        q.push(" AND status = ").push_bind(status.as_str());
                    }
                    if let Some(unit) = &filter.unit {
                        q.push(" AND unit = ").push_bind(unit.to_string());
                    }
                    if let Some(channel) = filter.channel {
                        q.push(" AND channel = ").push_bind(channel.as_str());
                    }
                    if let Some(at) = filter.overdue_at {
                        q.push(" AND resolve_due < ").push_bind(at);
                        q.push(" AND status IN ").push(OPEN_STATUSES.as_str());
                    }
                    if filter.open_by_deadline {
                        q.push(" AND status IN ").push(OPEN_STATUSES.as_str());
                    }
                    if let Some(user) = filter.submitted_by {
                        q.push(" AND id IN (SELECT appeal_id FROM events WHERE seq = 1 AND actor_id = ")
                            .push_bind(user.0)
                            .push(")");
                    }
                }
                let mut count = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM appeals");
                push_filters(&mut count, filter, scope);
                let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;

                let per_page = filter.per_page.max(1);
                let offset = i64::from(filter.page.max(1) - 1) * i64::from(per_page);
                let order = |q: &mut QueryBuilder<$db>| {
                    if filter.open_by_deadline {
                        q.push(" ORDER BY CASE WHEN status IN ")
                            .push(AWAITING_ACCEPTANCE.as_str())
                            .push(" THEN response_due ELSE resolve_due END IS NULL, CASE WHEN status IN ")
                            .push(AWAITING_ACCEPTANCE.as_str())
                            .push(" THEN response_due ELSE resolve_due END, created_at");
                    } else {
                        q.push(" ORDER BY created_at DESC, ticket_no DESC");
                    }
                };
                // The page's ids are chosen first and only their documents read: the sort
                // then carries keys, not every matching appeal's document.
                let mut q = QueryBuilder::<$db>::new(
                    "SELECT doc FROM appeals WHERE id IN (SELECT id FROM appeals",
                );
                push_filters(&mut q, filter, scope);
                order(&mut q);
                q.push(" LIMIT ")
                    .push_bind(i64::from(per_page))
                    .push(" OFFSET ")
                    .push_bind(offset)
                    .push(")");
                order(&mut q);
                let rows = q.build().fetch_all(&self.pool).await?;
                let appeals = rows.iter().map(Self::appeal_of).collect::<Result<Vec<_>>>()?;
                Ok(Page { appeals, total })
            }
        }
    };
}

// SQLite has one writer at a time: nothing to skip. PostgreSQL keeps the outbox as JSONB: the
// relay reads its text.
// The JSON of the projection's `doc` is read with each engine's own functions.
sql_store!(
    SqliteStore,
    sqlx::Sqlite,
    migrations::sqlite,
    "",
    "payload",
    "json_type(doc, '$.pending_extension') = 'object'",
    "json_extract(doc, '$.title') AS title, \
     json_extract(doc, '$.appellant.kind') AS appellant_kind, \
     json_extract(doc, '$.appellant.name') AS appellant_name",
    "substr(json_extract(doc, '$.body'), 1, CAST("
);
sql_store!(
    PostgresStore,
    sqlx::Postgres,
    migrations::postgres,
    " FOR UPDATE SKIP LOCKED",
    "payload::text",
    "jsonb_typeof(doc->'pending_extension') = 'object'",
    "doc->>'title' AS title, doc->'appellant'->>'kind' AS appellant_kind, \
     doc->'appellant'->>'name' AS appellant_name",
    "left(doc->>'body', CAST("
);
