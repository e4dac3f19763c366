//! Runs one contract case against one engine: a fresh database per case, torn down afterwards
//! even when the case fails.

use std::future::Future;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};
use std::time::Duration;

use hotline_store::{PostgresStore, SqliteStore, Store};
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, Connection as _};
use tokio::sync::Semaphore;
use uuid::Uuid;

use hotline_schemas::Envelope;

/// The environment variable naming the PostgreSQL server to test against.
pub const PG_URL_VAR: &str = "HOTLINE_TEST_PG_URL";

/// PostgreSQL cases running at once, so parallel test threads stay well below the server's
/// `max_connections`.
static PG_SLOTS: Semaphore = Semaphore::const_new(4);

/// What a case gets: the store under test, direct SQL access to the same database, and a way
/// to open the same database again.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub sql: Sql,
    pub location: Location,
}

/// Where the database of a case lives.
#[derive(Clone)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// Opens another store on the same database, without migrating.
    pub async fn open(&self) -> Arc<dyn Store> {
        match self {
            Location::Sqlite(path) => {
                Arc::new(SqliteStore::open(path).await.expect("open sqlite store"))
            }
            Location::Postgres(url) => Arc::new(
                PostgresStore::connect(url)
                    .await
                    .expect("connect postgres store"),
            ),
        }
    }
}

/// Direct SQL access to the database under the store, bypassing it.
pub enum Sql {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// One row of the outbox.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub event_id: Uuid,
    pub appeal_id: Uuid,
    pub routing_key: String,
    pub payload: Envelope,
}

impl Sql {
    /// Runs a statement; the number of rows it changed.
    pub async fn execute(&self, sql: &'static str) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Sql::Sqlite(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
            Sql::Postgres(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
        })
    }

    /// An outbox row for `event_id` (routing key `blocked`), so that a commit of that event fails.
    pub async fn outbox_row_for(
        &self,
        event_id: Uuid,
        appeal_id: Uuid,
    ) -> Result<u64, sqlx::Error> {
        const SQL: &str = "INSERT INTO outbox (event_id, appeal_id, routing_key, payload, created_at) \
                           VALUES ($1, $2, 'blocked', $3, $4)";
        let payload = Json(serde_json::json!({}));
        let at = chrono::Utc::now();
        Ok(match self {
            Sql::Sqlite(pool) => sqlx::query(SQL)
                .bind(event_id)
                .bind(appeal_id)
                .bind(payload)
                .bind(at)
                .execute(pool)
                .await?
                .rows_affected(),
            Sql::Postgres(pool) => sqlx::query(SQL)
                .bind(event_id)
                .bind(appeal_id)
                .bind(payload)
                .bind(at)
                .execute(pool)
                .await?
                .rows_affected(),
        })
    }

    /// A `SELECT COUNT(*) …` (or any single `BIGINT` value).
    pub async fn count(&self, sql: &'static str) -> i64 {
        match self {
            Sql::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Sql::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The whole outbox, in insertion order.
    pub async fn outbox(&self) -> Vec<OutboxRow> {
        const SQL: &str =
            "SELECT event_id, appeal_id, routing_key, payload FROM outbox ORDER BY id";
        fn decode<R: sqlx::Row>(row: &R) -> OutboxRow
        where
            for<'a> &'a str: sqlx::ColumnIndex<R>,
            Uuid: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            Json<Envelope>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        {
            OutboxRow {
                event_id: row.try_get("event_id").expect("outbox.event_id"),
                appeal_id: row.try_get("appeal_id").expect("outbox.appeal_id"),
                routing_key: row.try_get("routing_key").expect("outbox.routing_key"),
                payload: row
                    .try_get::<Json<Envelope>, _>("payload")
                    .expect("outbox.payload")
                    .0,
            }
        }
        match self {
            Sql::Sqlite(pool) => {
                let rows = sqlx::query(SQL).fetch_all(pool).await.expect("read outbox");
                rows.iter().map(decode).collect()
            }
            Sql::Postgres(pool) => {
                let rows = sqlx::query(SQL).fetch_all(pool).await.expect("read outbox");
                rows.iter().map(decode).collect()
            }
        }
    }

    async fn close(self) {
        match self {
            Sql::Sqlite(pool) => pool.close().await,
            Sql::Postgres(pool) => pool.close().await,
        }
    }
}

/// Runs `case` on a fresh SQLite file in its own temporary directory.
pub async fn run_sqlite<F, Fut>(case: F)
where
    F: FnOnce(TestDb) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hotline.db");
    let store = SqliteStore::open(&path).await.expect("open sqlite store");
    store.migrate().await.expect("migrate sqlite");
    let sql = Sql::Sqlite(sqlite_pool(&path).await);
    let db = TestDb {
        store: Arc::new(store),
        sql,
        location: Location::Sqlite(path),
    };
    let outcome = tokio::spawn(case(db)).await;
    drop(dir);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn sqlite_pool(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::from_secs(10));
    SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .expect("open direct sqlite pool")
}

/// Runs `case` on a fresh PostgreSQL database created on the server named by
/// `HOTLINE_TEST_PG_URL`, dropped afterwards; skips loudly when the variable is unset.
pub async fn run_postgres<F, Fut>(name: &str, case: F)
where
    F: FnOnce(TestDb) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(server) = postgres_server(name) else {
        return;
    };
    let _slot = PG_SLOTS.acquire().await.expect("semaphore");
    let database = format!("hotline_test_{}", Uuid::now_v7().simple());
    let mut admin = PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("connect to {PG_URL_VAR}={server}: {e}"));
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {database}: {e}"));

    let url = with_database(&server, &database);
    let outcome = {
        let url = url.clone();
        tokio::spawn(async move {
            let store = PostgresStore::connect(&url)
                .await
                .expect("connect postgres store");
            store.migrate().await.expect("migrate postgres");
            let pool = PgPoolOptions::new()
                .max_connections(2)
                .connect(&url)
                .await
                .expect("open direct postgres pool");
            let db = TestDb {
                store: Arc::new(store),
                sql: Sql::Postgres(pool.clone()),
                location: Location::Postgres(url),
            };
            let result = tokio::spawn(case(db)).await;
            Sql::Postgres(pool).close().await;
            result
        })
        .await
    };

    // Best effort: the store's pool may still be closing its connections, hence FORCE.
    if let Err(e) = sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    {
        eprintln!("warning: could not drop test database {database}: {e}");
    }
    let _ = admin.close().await;

    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) | Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// The PostgreSQL server to test against; `None` (said loudly) when `HOTLINE_TEST_PG_URL` is
/// not set, and a failure instead when `CI` is set: CI cannot pass by skipping.
pub fn postgres_server(name: &str) -> Option<String> {
    let server = std::env::var(PG_URL_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty());
    if server.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "postgres::{name}: {PG_URL_VAR} is not set, and CI is: PostgreSQL is required"
        );
        announce_skip();
        eprintln!("SKIPPED: postgres::{name}: {PG_URL_VAR} not set");
    }
    server
}

/// Writes the skip notice once per run, straight to stderr so the test harness's output
/// capture does not hide it.
fn announce_skip() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n**********************************************************************\n\
             SKIPPED: {PG_URL_VAR} not set, PostgreSQL contract tests not run\n\
             (e.g. {PG_URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres)\n\
             **********************************************************************"
        );
    });
}

/// `url` with its database (the path) replaced by `database`, keeping any query string.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let root = match base[authority..].find('/') {
        Some(i) => &base[..authority + i],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{database}?{query}"),
        None => format!("{root}/{database}"),
    }
}

#[test]
fn with_database_replaces_the_path() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(with_database("postgres://u:p@h", "x"), "postgres://u:p@h/x");
    assert_eq!(
        with_database("postgres://h:5432/db?sslmode=disable", "x"),
        "postgres://h:5432/x?sslmode=disable"
    );
}
