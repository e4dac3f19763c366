//! A PostgreSQL database of a benchmark's own, created beside `HOTLINE_TEST_PG_URL`'s and
//! dropped when the benchmark is done with it.

use std::future::Future;

use sqlx::postgres::PgPoolOptions;

/// Runs `bench` with the URL of a new database named after `prefix` and this process, then
/// drops the database whatever `bench` returned.
pub async fn with_scratch_database<F, Fut>(
    admin_url: &str,
    prefix: &str,
    bench: F,
) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let name = format!("{prefix}_{}", std::process::id());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(admin_url)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await?;
    let url = match admin_url.rsplit_once('/') {
        Some((root, _)) => format!("{root}/{name}"),
        None => anyhow::bail!("HOTLINE_TEST_PG_URL has no database name"),
    };
    let outcome = bench(url).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await?;
    outcome
}
