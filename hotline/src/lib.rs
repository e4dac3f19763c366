//! Assembles the platform from its configuration: the store, the secret, the calendar and
//! policies, and the roles a process runs.

pub mod config;

use std::future::Future;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{Datelike, Utc};
use hotline_gateway::{AppState, Clock, TokenSigner, system_clock};
use hotline_locales::Localizer;
use hotline_schemas::calendar::BusinessCalendar;
use hotline_schemas::sla::SlaPolicies;
use hotline_schemas::unit::demo_units;
use hotline_schemas::{Actor, Role};
use hotline_store::{PostgresStore, SqliteStore, Store};
use rand::RngCore;
use tokio::net::TcpListener;

pub use config::Config;
use config::Database;

/// Opens the configured store and applies its migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match config.database() {
        Database::SqliteFile(path) => {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!("creating data directory {}", config.data_dir.display())
            })?;
            Arc::new(SqliteStore::open(&path).await?)
        }
        Database::SqliteUrl(url) => Arc::new(SqliteStore::connect_url(&url).await?),
        Database::Postgres(url) => Arc::new(PostgresStore::connect(&url).await?),
    };
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// The token-signing secret: `HOTLINE_SECRET`, or the one kept in the data directory, created
/// on first use.
pub fn secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.secret {
        anyhow::ensure!(
            secret.len() >= 16,
            "HOTLINE_SECRET must be at least 16 characters"
        );
        return Ok(secret.as_bytes().to_vec());
    }
    let path = config.data_dir.join("secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match write_private(&path, &hex) {
        Ok(()) => Ok(hex.into_bytes()),
        // Another process (e.g. `token issue` beside `serve`) created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            for _ in 0..100 {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                if !text.trim().is_empty() {
                    return Ok(text.trim().as_bytes().to_vec());
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            anyhow::bail!("{} stays empty", path.display())
        }
        Err(e) => Err(e).with_context(|| format!("writing {}", path.display())),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// The shipped calendar plus the configured files.
pub fn calendar(config: &Config) -> anyhow::Result<BusinessCalendar> {
    let mut calendar = BusinessCalendar::official()?;
    for path in &config.calendar_files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading calendar {}", path.display()))?;
        calendar
            .extend_from_csv(&text)
            .with_context(|| format!("calendar {}", path.display()))?;
    }
    let year = Utc::now().year();
    for y in [year, year + 1] {
        if !calendar.covers(y) {
            tracing::warn!(
                year = y,
                "the calendar has no official holidays for this year: only weekends are rest days; add the State Council notice with calendar_files"
            );
        }
    }
    Ok(calendar)
}

/// The shipped time-limit policies, or the configured file.
pub fn policies(config: &Config) -> anyhow::Result<SlaPolicies> {
    match &config.sla_policies {
        None => Ok(SlaPolicies::default_policies()?),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading SLA policies {}", path.display()))?;
            SlaPolicies::from_toml(&text)
                .with_context(|| format!("SLA policies {}", path.display()))
        }
    }
}

/// Everything the gateway needs, built from the configuration.
pub async fn state(config: &Config, clock: Clock) -> anyhow::Result<Arc<AppState>> {
    let store = open_store(config).await?;
    if config.demo_data && store.seed_units_if_empty(&demo_units()).await? {
        tracing::info!(
            "loaded the demo units into an empty database (demo data: replace with the city's units)"
        );
    }
    Ok(Arc::new(AppState {
        store,
        signer: TokenSigner::new(&secret(config)?),
        localizer: Localizer::new()?,
        policies: policies(config)?,
        calendar: calendar(config)?,
        tz: config.time_zone()?,
        clock,
    }))
}

/// A token for `actor`, valid for a year.
pub fn issue_token(config: &Config, actor: &Actor) -> anyhow::Result<String> {
    let signer = TokenSigner::new(&secret(config)?);
    Ok(signer.issue(actor, Utc::now(), hotline_gateway::auth::STAFF_TOKEN_DAYS)?)
}

/// Runs the whole platform in one process on `listener` until `shutdown` completes.
pub async fn serve(
    config: &Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = state(config, system_clock()).await?;
    let addr = listener.local_addr()?;
    let admin = Actor {
        name: "admin".to_owned(),
        role: Role::Admin,
        unit: None,
        appeal: None,
    };
    let token = state
        .signer
        .issue(&admin, Utc::now(), hotline_gateway::auth::STAFF_TOKEN_DAYS)?;
    println!("hotline is serving on http://{addr}");
    println!("admin token (valid 365 days):");
    println!("{token}");
    tracing::info!(%addr, "serving");
    hotline_gateway::serve(listener, state, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}
