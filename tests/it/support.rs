//! Starting the platform for a test: in-process on a free port (SQLite in a temp dir, or a fresh
//! PostgreSQL database when `HOTLINE_TEST_PG_URL` is set), with a clock the test controls.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use hotline::{Config, Platform, Roles};
use hotline_schemas::{Actor, Role, User};
use hotline_worker::{Pass, TimerOptions, Timers};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// The value of `var`, which names a service a test needs; `None` (said loudly) when it is not
/// set, and a failure instead when `CI` is set: CI cannot pass by skipping.
pub fn service(var: &str, test: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Some(value),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{test}: {var} is not set, and CI is: the service is required"
            );
            eprintln!("SKIPPED: {var} not set, {test} not run");
            None
        }
    }
}

/// Which database the platform under test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A fresh, uniquely named PostgreSQL database, dropped when the test ends.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    /// `None` (after saying so loudly) when `HOTLINE_TEST_PG_URL` is not set.
    pub async fn create() -> Option<PgDatabase> {
        let admin_url = service("HOTLINE_TEST_PG_URL", "the PostgreSQL variant")?;
        let name = format!("hotline_it_{}", uuid_like());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url)
            .await
            .expect("connect to HOTLINE_TEST_PG_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let url = replace_database(&admin_url, &name);
        Some(PgDatabase {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Best effort, on a thread of its own: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(mut conn) =
                    <sqlx::PgConnection as sqlx::Connection>::connect(&admin_url).await
                {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}_{}", std::process::id(), nanos % 1_000_000_000_000)
}

/// `postgres://u@h:p/db?x` with another database name.
/// An HTTP client for the tests (the process's TLS provider installed first).
pub fn http() -> Client {
    hotline::install_tls_provider();
    Client::new()
}

pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

/// A staff member with `role` and `name`, of no unit, in charge of nothing: what tokens are
/// issued for in the tests (`..staff_actor(…)` for the rest).
pub fn staff_actor(role: Role, name: &str) -> Actor {
    Actor {
        name: name.to_owned(),
        role,
        unit: None,
        appeal: None,
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    }
}

/// A token as `hotline token issue` would print it.
pub fn token_for(config: &Config, role: Role, unit: Option<&str>, name: &str) -> String {
    let actor = Actor {
        unit: unit.map(Into::into),
        ..staff_actor(role, name)
    };
    hotline::issue_token(config, &actor).unwrap()
}

/// A user added through the admin API of the platform at `base`, and a token for them.
pub async fn user_on(client: &Client, base: &str, config: &Config, new: Value) -> (User, String) {
    let admin = token_for(config, Role::Admin, None, "管理员");
    let resp = client
        .post(format!("{base}/api/v1/users"))
        .bearer_auth(admin)
        .json(&new)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let user: User = resp.json().await.unwrap();
    let token = hotline::issue_token(config, &user.actor()).unwrap();
    (user, token)
}

/// The password of the console's test users.
pub const PASSWORD: &str = "规自局王五的密码 2026";

/// A running platform and a client for it.
pub struct TestServer {
    pub base: String,
    pub client: Client,
    pub config: Config,
    clock: Arc<AtomicI64>,
    /// The worker's time-limit steps on this platform, fired when the test says so.
    timers: Timers,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// 2026-11-23 (Monday) 09:00 in Shanghai: a plain working day.
pub fn monday_morning() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap()
}

impl TestServer {
    /// A platform on `engine`, or `None` when that engine is not available here. The tests
    /// submit many appeals from one address and appellant: the intake limits are off.
    pub async fn start(engine: Engine) -> Option<TestServer> {
        Self::start_with(engine, |_| {}).await
    }

    /// [`TestServer::start`] with the configuration changed by `adjust`.
    pub async fn start_with(
        engine: Engine,
        adjust: impl FnOnce(&mut Config),
    ) -> Option<TestServer> {
        let dir = tempfile::tempdir().unwrap();
        let pg = match engine {
            Engine::Sqlite => None,
            Engine::Postgres => Some(PgDatabase::create().await?),
        };
        let mut config = Config {
            data_dir: dir.path().join("data"),
            database_url: pg.as_ref().map(|p| p.url.clone()),
            ..Config::default()
        }
        .without_intake_limits();
        adjust(&mut config);
        let clock = Arc::new(AtomicI64::new(monday_morning().timestamp_millis()));
        Some(Self::serve(config, clock, dir, pg).await)
    }

    /// Stops this server and starts another on the same database and clock, as after a
    /// restart of the process.
    pub async fn restart(mut self) -> TestServer {
        self.shutdown_gateway().await;
        let dir = self._dir;
        let pg = self._pg;
        Self::serve(self.config, self.clock, dir, pg).await
    }

    /// A clock reading `clock`.
    pub fn clock_of(clock: &Arc<AtomicI64>) -> hotline_schemas::Clock {
        let reader = clock.clone();
        Arc::new(move || {
            DateTime::from_timestamp_millis(reader.load(Ordering::SeqCst)).unwrap_or_default()
        })
    }

    /// Another platform process on the same database (PostgreSQL) and clock: its own pools.
    pub async fn second_platform(&self) -> Platform {
        Platform::open(&self.config, Self::clock_of(&self.clock))
            .await
            .unwrap()
    }

    /// Fires every time-limit step due at the platform's clock, as the worker would.
    pub async fn fire_timers(&self) -> Pass {
        self.timers.catch_up().await.unwrap()
    }

    async fn serve(
        config: Config,
        clock: Arc<AtomicI64>,
        dir: tempfile::TempDir,
        pg: Option<PgDatabase>,
    ) -> TestServer {
        let platform = Platform::open(&config, Self::clock_of(&clock))
            .await
            .unwrap();
        let timers = platform.timers(TimerOptions::default());
        let stopping = CancellationToken::new();
        let app = platform.http_app(stopping.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        let handle = tokio::spawn(async move {
            hotline_gateway::serve(listener, app, async move {
                let _ = rx.await;
                stopping.cancel();
            })
            .await
            .unwrap();
        });
        TestServer {
            base,
            client: http(),
            config,
            clock,
            timers,
            shutdown: Some(tx),
            handle: Some(handle),
            _dir: dir,
            _pg: pg,
        }
    }

    /// Sets the platform's clock.
    pub fn set_now(&self, at: DateTime<Utc>) {
        self.clock.store(at.timestamp_millis(), Ordering::SeqCst);
    }

    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.clock.load(Ordering::SeqCst)).unwrap()
    }

    /// A token as `hotline token issue` would print it.
    pub fn token(&self, role: Role, unit: Option<&str>, name: &str) -> String {
        token_for(&self.config, role, unit, name)
    }

    /// A user added through the admin API (`new` as `POST /api/v1/users` takes it), and a
    /// token for them.
    pub async fn user(&self, new: Value) -> (User, String) {
        user_on(&self.client, &self.base, &self.config, new).await
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        lang: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(l) = lang {
            req = req.header("accept-language", l);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body), None).await
    }

    /// Submits `body` and returns the created appeal (asserting 201).
    pub async fn submit(&self, token: Option<&str>, body: Value) -> Value {
        let (status, appeal) = self.post("/api/v1/appeals", token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{appeal}");
        appeal
    }

    /// `POST /api/v1/appeals/{id}/{action}`.
    pub async fn act(
        &self,
        id: &str,
        action: &str,
        token: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/appeals/{id}/{action}"), Some(token), body)
            .await
    }

    /// Stops the server, letting in-flight requests finish.
    pub async fn stop(mut self) {
        self.shutdown_gateway().await;
    }

    async fn shutdown_gateway(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap();
        }
    }
}

/// The whole platform (gateway, router, worker with its timers) on `config`, on a clock the
/// writer moves.
pub struct Live {
    pub base: String,
    pub client: reqwest::Client,
    pub config: Config,
    clock: Arc<AtomicI64>,
    shutdown: CancellationToken,
    running: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Live {
    /// The platform on `config`, its clock reading `at`.
    pub async fn start(config: Config, at: DateTime<Utc>) -> Live {
        let clock = Arc::new(AtomicI64::new(at.timestamp_millis()));
        let platform = Arc::new(
            Platform::open(&config, TestServer::clock_of(&clock))
                .await
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let running =
            tokio::spawn(async move { platform.run(Roles::ALL, Some(listener), stop).await });
        Live {
            base,
            client: crate::support::http(),
            config,
            clock,
            shutdown,
            running,
        }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.running.await.unwrap().unwrap();
    }

    /// Moves the clock and gives the worker's timers time to fire what fell due.
    pub async fn set_now(&self, at: DateTime<Utc>) {
        self.clock.store(at.timestamp_millis(), Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    }

    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.clock.load(Ordering::SeqCst)).unwrap()
    }

    pub fn token(&self, role: Role, unit: Option<&str>, name: &str) -> String {
        token_for(&self.config, role, unit, name)
    }

    /// A user added as `new` says (with a `username`) who signs in with the console tests'
    /// password.
    pub async fn user_with_password(&self, new: Value) -> User {
        let (user, _) = user_on(&self.client, &self.base, &self.config, new).await;
        let store = hotline::open_store(&self.config).await.unwrap();
        hotline::people::set_password(store.as_ref(), user.id, PASSWORD)
            .await
            .unwrap();
        user
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut req = self.client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    pub async fn submit(&self, token: Option<&str>, body: Value) -> Value {
        let (status, appeal) = self.post("/api/v1/appeals", token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{appeal}");
        appeal
    }

    pub async fn act(
        &self,
        id: &str,
        action: &str,
        token: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/appeals/{id}/{action}"), Some(token), body)
            .await
    }
}

/// The example enterprise appeal of the issue.
pub fn enterprise_appeal() -> Value {
    json!({
        "channel": "web",
        "kind": "complaint",
        "priority": "normal",
        "title": "厂房用地审批缓慢",
        "body": "我司在福海街道申请厂房用地,审批已三个月无进展,请协调。",
        "appellant": {
            "kind": "enterprise",
            "name": "深圳某某科技有限公司",
            "phone": "13800138000",
            "uscc": "914403001922038216"
        },
        "location": { "address": "宝安区福海街道" }
    })
}

/// A citizen's appeal.
pub fn person_appeal(title: &str) -> Value {
    json!({
        "channel": "hotline",
        "kind": "help",
        "title": title,
        "body": "小区停水两天,无人处理。",
        "appellant": { "kind": "person", "name": "李女士", "phone": "13912345678" }
    })
}

/// The event types of an appeal, in order.
pub fn event_types(appeal: &Value) -> Vec<String> {
    appeal["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

/// An enterprise appeal that names no matter: the router leaves it to the dispatcher.
pub fn unplaceable_appeal() -> Value {
    let mut body = enterprise_appeal();
    body["title"] = json!("请帮忙看看我们的情况");
    body["body"] = json!("想咨询一件事,不知道该找哪个部门");
    body
}
