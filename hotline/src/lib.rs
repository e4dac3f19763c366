//! Assembles the platform from its configuration: the store, the secret, the calendar and
//! policies, and the roles a process runs.

pub mod config;
pub mod people;
pub mod redact;
pub mod reference;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;
use hotline_bus::{
    Bus, BusError, InProcessBus, Message, ParkingLot, RabbitBus, RabbitOptions, RetryPolicy,
    topology,
};
use hotline_gateway::{AppState, Clock, IntakeLimits, TokenSigner, system_clock};
use hotline_locales::Localizer;
use hotline_router::centroid::taxonomy_texts;
use hotline_router::model::Model;
use hotline_router::{
    Blend, Classifier, Classifying, KeywordClassifier, MODEL_WEIGHT, RouterHandler, RoutingPolicy,
    taxonomy_classifier_from,
};
use hotline_schemas::lifecycle::Rules;
use hotline_schemas::reference::{Current, Reference};
use hotline_schemas::value::taxonomy::Taxonomy;
use hotline_schemas::value::unit::demo_units;
use hotline_schemas::{Actor, Appeal};
use hotline_store::{PostgresStore, SqliteStore, Store};
pub use hotline_worker::install_tls_provider;
use hotline_worker::{
    Composer, LogNotifier, Notifier, NotifierHandler, RatingLink, RelayOptions, TimerOptions,
    Timers, WebhookNotifier, run_relay, run_timers,
};
use rand::RngCore;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use config::Config;
use config::Database;

/// The file in the data directory the first start writes an admin token to.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";

/// Opens the configured store and applies its migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    open_store_with_clock(config, system_clock()).await
}

/// Opens the configured store, reading the time from `clock`, and applies its migrations.
pub async fn open_store_with_clock(
    config: &Config,
    clock: Clock,
) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match config.database() {
        Database::SqliteFile(path) => {
            create_data_dir(config)?;
            // Created private before SQLite opens it: its -wal and -shm files take its mode.
            match create_private(&path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
            }
            let store = SqliteStore::open(&path).await?.with_clock(clock);
            for suffix in ["", "-wal", "-shm"] {
                let file = PathBuf::from(format!("{}{suffix}", path.display()));
                make_private(&file, 0o600)?;
            }
            Arc::new(store)
        }
        Database::SqliteUrl(url) => {
            Arc::new(SqliteStore::connect_url(&url).await?.with_clock(clock))
        }
        Database::Postgres(url) => Arc::new(PostgresStore::connect(&url).await?.with_clock(clock)),
    };
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// Creates the data directory, or makes an existing one private: owner only (0700).
fn create_data_dir(config: &Config) -> anyhow::Result<()> {
    let dir = &config.data_dir;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    if let Err(e) = make_private(dir, 0o700) {
        tracing::warn!(error = %e, "the data directory stays readable by others");
    }
    Ok(())
}

/// Sets `path`'s mode (owner only) when it exists.
fn make_private(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(path) {
            Ok(meta) if meta.permissions().mode() & 0o777 != mode => {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                    .with_context(|| format!("making {} private", path.display()))?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// The token-signing secret: `HOTLINE_SECRET`, or the one kept in the data directory, created
/// on first use. It is kept out of the logs from then on.
pub fn secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    let secret = load_secret(config)?;
    redact::hide_secret(&String::from_utf8_lossy(&secret));
    Ok(secret)
}

fn load_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &config.secret {
        anyhow::ensure!(
            secret.len() >= 16,
            "HOTLINE_SECRET must be at least 16 characters"
        );
        return Ok(secret.as_bytes().to_vec());
    }
    let path = config.data_dir.join("secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            make_private(&path, 0o600)?;
            return Ok(text.trim().as_bytes().to_vec());
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    create_data_dir(config)?;
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

/// Writes a new file only its owner may read (0600); fails if it exists.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = create_private(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// The configured taxonomy file, else the shipped one: what seeds an empty database (the
/// platform works with what was published since, [`Platform::taxonomy`]).
pub fn taxonomy(config: &Config) -> anyhow::Result<Taxonomy> {
    match &config.taxonomy {
        None => Ok(Taxonomy::shipped()?),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading taxonomy {}", path.display()))?;
            Taxonomy::from_toml(&text).with_context(|| format!("taxonomy {}", path.display()))
        }
    }
}

/// Keeps parked deliveries of the in-process bus in the store.
struct StoreParking(Arc<dyn Store>);

#[async_trait::async_trait]
impl ParkingLot for StoreParking {
    async fn park(&self, group: &str, message: &Message, error: &str) -> Result<(), BusError> {
        let body = String::from_utf8_lossy(&message.body);
        self.0
            .park(group, message.event_id, &body, error)
            .await
            .map_err(|e| BusError::Parking(e.to_string()))
    }
}

/// Which roles a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub gateway: bool,
    pub router: bool,
    pub worker: bool,
}

impl Roles {
    pub const ALL: Roles = Roles {
        gateway: true,
        router: true,
        worker: true,
    };
    pub const GATEWAY: Roles = Roles {
        gateway: true,
        router: false,
        worker: false,
    };
    pub const ROUTER: Roles = Roles {
        gateway: false,
        router: true,
        worker: false,
    };
    pub const WORKER: Roles = Roles {
        gateway: false,
        router: false,
        worker: true,
    };
}

/// One process's view of the platform: the store, the bus, the rules and the secret.
pub struct Platform {
    pub config: Config,
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    /// The published taxonomy, calendar and policies, reloaded when an admin publishes.
    pub reference: Arc<Current<Reference>>,
    pub localizer: Arc<Localizer>,
    pub signer: TokenSigner,
    pub clock: Clock,
    /// The gateway's intake limits, one set per process.
    pub limits: Arc<IntakeLimits>,
    /// Whether the bus lives in this process (embedded mode).
    pub in_process_bus: bool,
}

impl Platform {
    /// Opens the store (migrating it and loading the demo units into an empty one) and
    /// connects the bus the configuration names.
    pub async fn open(config: &Config, clock: Clock) -> anyhow::Result<Platform> {
        let store = open_store_with_clock(config, clock.clone()).await?;
        if config.demo_data && store.seed_units_if_empty(&demo_units()).await? {
            tracing::info!(
                "loaded the demo units into an empty database (demo data: replace with the city's units)"
            );
        }
        reference::seed(store.as_ref(), config)
            .await
            .context("storing the reference data")?;
        let loaded = reference::load(store.as_ref(), config.time_zone()?).await?;
        let units: Vec<_> = loaded.taxonomy.units.iter().map(|u| u.to_unit()).collect();
        store
            .sync_units(&units)
            .await
            .context("loading the taxonomy's units")?;
        let (bus, in_process_bus): (Arc<dyn Bus>, bool) = match &config.amqp_url {
            Some(url) => {
                let mut options = RabbitOptions::new(url.clone());
                options.prefix = config.bus_prefix.clone();
                (Arc::new(RabbitBus::new(options)), false)
            }
            None => (
                Arc::new(InProcessBus::new(
                    Arc::new(StoreParking(store.clone())),
                    RetryPolicy::default(),
                )),
                true,
            ),
        };
        Ok(Platform {
            config: config.clone(),
            store,
            bus,
            reference: Arc::new(Current::new(Arc::new(loaded))),
            localizer: Arc::new(Localizer::new()?),
            signer: TokenSigner::new(&secret(config)?),
            clock,
            limits: Arc::new(IntakeLimits::new(&config.limit_settings())),
            in_process_bus,
        })
    }

    /// Time limits, calendar and time zone, as published now.
    pub fn rules(&self) -> Arc<Rules> {
        self.reference.get().rules.clone()
    }

    /// Units, categories and matters, as published now.
    pub fn taxonomy(&self) -> Arc<Taxonomy> {
        self.reference.get().taxonomy.clone()
    }

    /// What the gateway's handlers share.
    pub fn app_state(&self) -> Arc<AppState> {
        Arc::new(AppState {
            store: self.store.clone(),
            signer: self.signer.clone(),
            localizer: self.localizer.clone(),
            reference: self.reference.clone(),
            clock: self.clock.clone(),
            limits: self.limits.clone(),
            previewer: Arc::new(self.previewer()),
        })
    }

    /// The router's rules as configured: the dispatch threshold and the duplicate window. The
    /// shipped calibration is the taxonomy classifier's; a trained model's scores are taken as
    /// they are.
    pub fn routing_policy(&self) -> RoutingPolicy {
        let calibration = match self.config.router_model {
            Some(_) => hotline_router::calibration::Calibration::IDENTITY,
            None => hotline_router::calibration::TAXONOMY_CALIBRATION,
        };
        RoutingPolicy {
            threshold: self.config.dispatch_threshold,
            calibration,
            duplicate_window: chrono::Duration::hours(i64::from(
                self.config.duplicate_window_hours,
            )),
            ..RoutingPolicy::default()
        }
    }

    /// The gateway's routing previews: the router's rules, and its classifier built when a
    /// preview first asks for it.
    fn previewer(&self) -> hotline_gateway::preview::Previewer {
        let (config, store) = (self.config.clone(), self.store.clone());
        hotline_gateway::preview::Previewer::new(
            self.routing_policy(),
            Box::new(move |taxonomy| {
                let (config, store) = (config.clone(), store.clone());
                Box::pin(async move {
                    build_classifier(&config, &taxonomy, store.as_ref())
                        .await
                        .map_err(|e| format!("{e:#}"))
                })
            }),
        )
    }

    /// The gateway's HTTP surface: the API and the web console, whose live pages follow the
    /// bus until `shutdown`.
    pub fn http_app(&self, shutdown: CancellationToken) -> axum::Router {
        let state = self.app_state();
        let settings = hotline_console::Settings {
            public_url: self.config.public_url.trim_end_matches('/').to_owned(),
            session_lifetime: self.config.staff_token_lifetime(),
            ..hotline_console::Settings::default()
        };
        let mut console = hotline_console::Console::new(state.clone(), settings);
        console.stopping = shutdown.clone();
        let live = console.live.clone();
        let bus = self.bus.clone();
        tokio::spawn(async move {
            match bus.watch(shutdown.clone()).await {
                Ok(watched) => follow_the_bus(watched, live, shutdown).await,
                Err(e) => tracing::warn!(error = %e, "live pages will not update by themselves"),
            }
        });
        hotline_gateway::app(state, hotline_console::pages(Arc::new(console)))
    }

    /// The router's classifier: the configured model blended with the taxonomy's keywords, or
    /// without one the taxonomy's own classifier (its examples as centroids, and its keywords),
    /// which also learns from the corrections dispatchers have made (a dispatch or
    /// reassignment naming a matter of the taxonomy), as they stand at start.
    pub async fn classifier(&self) -> anyhow::Result<Arc<dyn Classifier>> {
        build_classifier(&self.config, &self.taxonomy(), self.store.as_ref()).await
    }

    /// Builds the router's classifier for a taxonomy published later.
    fn build_classifying(&self) -> reference::BuildClassifying {
        let (config, store) = (self.config.clone(), self.store.clone());
        Box::new(move |taxonomy| {
            let (config, store) = (config.clone(), store.clone());
            Box::pin(async move {
                let classifier = build_classifier(&config, &taxonomy, store.as_ref()).await?;
                Ok(Classifying {
                    taxonomy,
                    classifier,
                })
            })
        })
    }

    /// Where notifications go: the configured webhook, else the log.
    pub fn notifier(&self) -> anyhow::Result<Arc<dyn Notifier>> {
        Ok(match &self.config.notify_webhook_url {
            Some(url) => Arc::new(
                WebhookNotifier::new(url.clone(), self.config.notify_webhook_ca.as_deref())
                    .map_err(anyhow::Error::msg)?,
            ),
            None => Arc::new(LogNotifier),
        })
    }

    /// The rating link of an appeal: the configured page with the ticket and a token that
    /// lets the appellant rate it.
    pub fn rating_link(&self) -> RatingLink {
        let (signer, base, clock, reference) = (
            self.signer.clone(),
            self.config.rating_link_base(),
            self.clock.clone(),
            self.reference.clone(),
        );
        Arc::new(move |appeal: &Appeal| {
            // Good for rating only, until the rating window closes.
            let now = clock();
            let rules = reference.get().rules.clone();
            let wait = rules.policies.follow_up().rating_wait;
            let until = rules
                .clock()
                .add(appeal.sla.replied_at.unwrap_or(now), wait);
            let token = signer
                .issue_rating(appeal.id, now, until)
                .unwrap_or_default();
            format!("{base}?ticket={}&token={token}", appeal.ticket_no)
        })
    }

    /// Writes a new admin token to `admin-token` in the data directory (mode 0600) unless the
    /// file exists: the path, and whether it was written now. A token there that no longer
    /// verifies (expired, or signed with another secret) is reported, not replaced.
    pub fn write_admin_token(&self) -> anyhow::Result<(PathBuf, bool)> {
        create_data_dir(&self.config)?;
        let path = self.config.data_dir.join(ADMIN_TOKEN_FILE);
        let admin = Actor {
            name: "admin".to_owned(),
            ..Actor::system()
        };
        let token = self.signer.issue(
            &admin,
            (self.clock)(),
            chrono::Duration::days(hotline_gateway::auth::ADMIN_TOKEN_DAYS),
        )?;
        match write_private(&path, &format!("{token}\n")) {
            Ok(()) => Ok((path, true)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                make_private(&path, 0o600)?;
                let kept = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                if self.signer.verify(kept.trim()).is_none() {
                    tracing::warn!(
                        path = %path.display(),
                        "the admin token file holds a token that is expired or signed with another secret; delete the file for a new one at the next start"
                    );
                }
                Ok((path, false))
            }
            Err(e) => Err(e).with_context(|| format!("writing {}", path.display())),
        }
    }

    /// The time-limit worker on this platform's store, rules and clock.
    pub fn timers(&self, options: TimerOptions) -> Timers {
        Timers::new(
            self.store.clone(),
            self.reference.clone(),
            self.clock.clone(),
            options,
        )
    }

    /// Runs `roles` until `shutdown`, then lets in-flight work finish. The gateway serves on
    /// `listener`, which it needs.
    pub async fn run(
        &self,
        roles: Roles,
        listener: Option<TcpListener>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<()> {
        let split = roles != Roles::ALL;
        anyhow::ensure!(
            !(split && self.in_process_bus && (roles.router || roles.worker)),
            "the router and worker roles on their own need RabbitMQ (HOTLINE_AMQP_URL); `hotline serve` runs every role in one process"
        );
        let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
        let mut reloader = reference::Reloader {
            store: self.store.clone(),
            tz: self.rules().tz,
            reference: self.reference.clone(),
            router: None,
            loaded: self.reference.get().versions,
        };
        if roles.router {
            let classifying = Arc::new(Current::new(Arc::new(Classifying {
                taxonomy: self.taxonomy(),
                classifier: self.classifier().await?,
            })));
            reloader.router = Some((classifying.clone(), self.build_classifying()));
            let handler = RouterHandler::new(
                self.store.clone(),
                self.reference.clone(),
                self.clock.clone(),
                classifying,
                self.routing_policy(),
            );
            let (bus, stop) = (self.bus.clone(), shutdown.clone());
            tasks.spawn(async move {
                bus.consume(&topology::ROUTER, Arc::new(handler), stop)
                    .await?;
                Ok(())
            });
        }
        if roles.worker {
            let notifier = NotifierHandler::new(
                self.store.clone(),
                self.notifier()?,
                Composer::new(self.localizer.clone(), self.rules().tz, self.rating_link()),
            );
            let (bus, stop) = (self.bus.clone(), shutdown.clone());
            tasks.spawn(async move {
                bus.consume(&topology::NOTIFIER, Arc::new(notifier), stop)
                    .await?;
                Ok(())
            });
            let (store, bus, stop) = (self.store.clone(), self.bus.clone(), shutdown.clone());
            let clock = self.clock.clone();
            tasks.spawn(async move {
                run_relay(store, bus, clock, RelayOptions::default(), stop).await;
                Ok(())
            });
            let (timers, stop) = (self.timers(TimerOptions::default()), shutdown.clone());
            tasks.spawn(async move {
                run_timers(timers, stop).await;
                Ok(())
            });
        }
        let (bus, stop) = (self.bus.clone(), shutdown.clone());
        tasks.spawn(async move {
            reloader.follow(bus, stop).await;
            Ok(())
        });
        if roles.gateway {
            let listener = listener.context("the gateway needs a listener")?;
            let app = self.http_app(shutdown.clone());
            let stop = shutdown.clone();
            tasks.spawn(async move {
                hotline_gateway::serve(listener, app, stop.cancelled_owned()).await?;
                Ok(())
            });
        }
        let mut outcome = Ok(());
        while let Some(joined) = tasks.join_next().await {
            let result = joined.map_err(anyhow::Error::from).and_then(|r| r);
            // Roles run until shutdown: one that ends before is a fault to be seen.
            let result = result.and_then(|()| {
                anyhow::ensure!(shutdown.is_cancelled(), "a role stopped by itself");
                Ok(())
            });
            if let Err(e) = result {
                tracing::error!(error = %e, "a role stopped with an error; shutting down");
                shutdown.cancel();
                outcome = Err(e);
            }
        }
        outcome
    }
}

/// Passes what the bus carries on to the console's live pages until `shutdown`: the routing key
/// and the appeal of each event it can read.
async fn follow_the_bus(
    mut watched: tokio::sync::broadcast::Receiver<hotline_bus::Message>,
    live: tokio::sync::broadcast::Sender<hotline_console::Live>,
    shutdown: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            () = shutdown.cancelled() => return,
            next = watched.recv() => next,
        };
        match next {
            Ok(message) => {
                if let Ok(envelope) = message.envelope() {
                    let _ = live.send(hotline_console::Live {
                        routing_key: message.routing_key,
                        appeal: envelope.appeal_id,
                    });
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// The router's classifier on `config` (see [`Platform::classifier`]).
async fn build_classifier(
    config: &Config,
    taxonomy: &Taxonomy,
    store: &dyn Store,
) -> anyhow::Result<Arc<dyn Classifier>> {
    let Some(path) = &config.router_model else {
        let started = std::time::Instant::now();
        let mut texts = taxonomy_texts(taxonomy);
        let corrections: Vec<(String, String)> = store
            .training_examples()
            .await
            .context("reading the dispatchers' corrections")?
            .into_iter()
            .filter_map(|c| {
                let matter = taxonomy.matter(c.matter.as_deref()?)?;
                (matter.unit == c.unit).then(|| (c.text, matter.code.to_string()))
            })
            .collect();
        let learnt = corrections.len();
        texts.extend(corrections);
        let classifier = taxonomy_classifier_from(taxonomy, &texts);
        tracing::info!(
            matters = taxonomy.matters.len(),
            corrections = learnt,
            ms = started.elapsed().as_millis() as u64,
            "router classifier built from the taxonomy's examples and keywords and the dispatchers' corrections"
        );
        return Ok(Arc::new(classifier));
    };
    let keywords = KeywordClassifier::new(taxonomy);
    let model = Model::load(path)
        .with_context(|| format!("loading the router model {}", path.display()))?;
    let unknown: Vec<&String> = model
        .labels()
        .iter()
        .filter(|l| taxonomy.matter(l).is_none())
        .collect();
    if !unknown.is_empty() {
        tracing::warn!(labels = ?unknown, "the router model knows labels the taxonomy has not: they are ignored");
    }
    tracing::info!(path = %path.display(), labels = model.labels().len(), "router model loaded");
    Ok(Arc::new(Blend {
        model: Box::new(model),
        keywords: Box::new(keywords),
        weight: MODEL_WEIGHT,
    }))
}

/// Everything the gateway needs, built from the configuration (no bus consumers, no relay).
pub async fn state(config: &Config, clock: Clock) -> anyhow::Result<Arc<AppState>> {
    Ok(Platform::open(config, clock).await?.app_state())
}

/// A token for `actor`, valid for the configured staff token lifetime (`staff_token_hours`).
pub fn issue_token(config: &Config, actor: &Actor) -> anyhow::Result<String> {
    people::issue_token_at(config, actor, Utc::now())
}

/// Runs `roles` of the platform in this process until `shutdown`. With the gateway role it
/// serves on `listener`, prints the URL and, at the first start, writes an admin token into
/// the data directory.
pub async fn run(
    config: &Config,
    roles: Roles,
    listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let platform = Platform::open(config, system_clock()).await?;
    if let Some(listener) = &listener {
        let addr = listener.local_addr()?;
        println!("hotline is serving on http://{addr}");
        let (path, written) = platform.write_admin_token()?;
        if written {
            println!(
                "admin token (valid {} days) written to {} (readable by its owner only)",
                hotline_gateway::auth::ADMIN_TOKEN_DAYS,
                path.display()
            );
        } else {
            println!("admin token: {} (exists; not rewritten)", path.display());
        }
    }
    tracing::info!(
        ?roles,
        bus = if platform.in_process_bus {
            "in-process"
        } else {
            "rabbitmq"
        },
        "starting"
    );
    platform.run(roles, listener, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}
