//! Bus benchmark: events per second through the outbox relay and the bus, and the latency from
//! intake (the `received` event) to the router (`classified`), p50/p99.
//!
//! Embedded (SQLite + in-process bus) always; distributed (PostgreSQL + RabbitMQ) when
//! `HOTLINE_TEST_PG_URL` and `HOTLINE_TEST_AMQP_URL` are set.
//!
//! Run: `cargo bench -p hotline --bench bus` (options after `--`: events for the relay run and
//! appeals for the latency run, e.g. `-- 20000 2000`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use hdrhistogram::Histogram;
use hotline::{Config, Platform, Roles};
use hotline_bus::{Handler, HandlerError, topology};
use hotline_schemas::lifecycle::Intake;
use hotline_schemas::value::ticket::ticket_day;
use hotline_schemas::{
    Actor, AppealId, Appellant, Channel, Envelope, EventType, Kind, Location, NewAppeal, Priority,
    Role,
};
use hotline_store::Submission;
use hotline_worker::{RelayOptions, run_relay};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

struct Counter(Arc<AtomicUsize>);

#[async_trait]
impl Handler for Counter {
    async fn handle(&self, _: &Envelope) -> Result<(), HandlerError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn appeal(i: usize) -> NewAppeal {
    NewAppeal {
        channel: Channel::Web,
        kind: Kind::Complaint,
        priority: Priority::Normal,
        title: format!("厂房用地审批缓慢 {i}"),
        body: "申请用地三个月无进展".to_owned(),
        appellant: Appellant::Person {
            name: "李女士".to_owned(),
            phone: None,
            wechat_openid: None,
        },
        location: Location::default(),
        attachments: Vec::new(),
    }
}

/// Relay + bus: N `received` events already in the outbox, published and taken in by a
/// consumer that only counts.
async fn relay_throughput(config: &Config, events: usize) -> anyhow::Result<f64> {
    let platform = Platform::open(config, hotline_gateway::system_clock()).await?;
    let tz = platform.rules().tz;
    let agent = Actor {
        name: "bench".to_owned(),
        role: Role::Agent,
        unit: None,
        appeal: None,
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    };
    for i in 0..events {
        let at = Utc::now();
        let intake = Intake::new(appeal(i), &platform.rules().context(at, &agent))?;
        platform
            .store
            .submit(Submission {
                intake,
                day: ticket_day(at, tz),
                idempotency: None,
                traceparent: None,
            })
            .await?;
    }
    let count = Arc::new(AtomicUsize::new(0));
    let stop = CancellationToken::new();
    let consumer = {
        let (bus, stop, count) = (platform.bus.clone(), stop.clone(), count.clone());
        tokio::spawn(async move {
            bus.consume(&topology::ROUTER, Arc::new(Counter(count)), stop)
                .await
        })
    };
    let started = Instant::now();
    let relay = tokio::spawn(run_relay(
        platform.store.clone(),
        platform.bus.clone(),
        hotline_gateway::system_clock(),
        RelayOptions::default(),
        stop.clone(),
    ));
    while count.load(Ordering::Relaxed) < events {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "relay run timed out"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    while platform.store.outbox_backlog().await? > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.cancel();
    relay.await?;
    consumer.await??;
    Ok(events as f64 / elapsed.as_secs_f64())
}

/// Clients submitting in the latency run, together at `RATE` appeals per second (a busy
/// city's peak hour is far below this; an unpaced burst measures queueing instead).
const CLIENTS: usize = 4;
const RATE: f64 = 100.0;

/// The whole platform over HTTP: from 201 (`received`) to `classified`, for appeals submitted
/// at `RATE` per second.
async fn intake_to_router(config: &Config, appeals: usize) -> anyhow::Result<Histogram<u64>> {
    let platform = Platform::open(config, hotline_gateway::system_clock()).await?;
    let store = platform.store.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/api/v1/appeals", listener.local_addr()?);
    let stop = CancellationToken::new();
    let running = {
        let stop = stop.clone();
        tokio::spawn(async move { platform.run(Roles::ALL, Some(listener), stop).await })
    };
    hotline::install_tls_provider();
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let mut ids = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (client, url, next) = (client.clone(), url.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            let mut pace = tokio::time::interval(Duration::from_secs_f64(CLIENTS as f64 / RATE));
            loop {
                pace.tick().await;
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= appeals {
                    return anyhow::Ok(ids);
                }
                let body = json!({
                    "channel": "web", "kind": "complaint",
                    "title": format!("厂房用地审批缓慢 {i}"), "body": "申请用地三个月无进展",
                    "appellant": { "kind": "person", "name": "李女士" }
                });
                let created: serde_json::Value =
                    client.post(&url).json(&body).send().await?.json().await?;
                let id: AppealId = created["id"].as_str().unwrap_or_default().parse()?;
                ids.push(id);
            }
        }));
    }
    for t in tasks {
        ids.extend(t.await??);
    }
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)?;
    let deadline = Instant::now() + Duration::from_secs(600);
    for id in ids {
        loop {
            let events = store.events(id).await?;
            let received = events
                .iter()
                .find(|e| e.event_type() == EventType::Received);
            let classified = events
                .iter()
                .find(|e| e.event_type() == EventType::Classified);
            if let (Some(r), Some(c)) = (received, classified) {
                let micros = (c.at - r.at).num_microseconds().unwrap_or(0).max(1);
                histogram.record(micros as u64)?;
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "appeal {id} never classified");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    stop.cancel();
    running.await??;
    Ok(histogram)
}

async fn fresh_pg_database(admin_url: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let name = format!("hotline_bench_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await?;
    let (base, _) = admin_url.rsplit_once('/').unwrap_or((admin_url, ""));
    Ok(format!("{base}/{name}"))
}

fn report(backend: &str, events_per_s: f64, latency: &Histogram<u64>) {
    let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
    println!(
        "{backend}: relay+bus {events_per_s:.0} events/s; intake→router p50 {:.1} ms, p99 {:.1} ms ({} appeals at {RATE:.0}/s)",
        ms(0.5),
        ms(0.99),
        latency.len()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let events = numbers.first().copied().unwrap_or(5_000);
    let appeals = numbers.get(1).copied().unwrap_or(1_000);

    let dir = tempfile::tempdir()?;
    let embedded = |name: &str| {
        Config {
            data_dir: dir.path().join(name),
            ..Config::default()
        }
        .without_intake_limits()
    };
    let rate = relay_throughput(&embedded("relay"), events).await?;
    let latency = intake_to_router(&embedded("latency"), appeals).await?;
    report("embedded (SQLite, in-process bus)", rate, &latency);

    match (
        std::env::var("HOTLINE_TEST_PG_URL"),
        std::env::var("HOTLINE_TEST_AMQP_URL"),
    ) {
        (Ok(pg), Ok(amqp)) => {
            let distributed = |prefix: &str, db: String| {
                Config {
                    data_dir: dir.path().join(prefix),
                    database_url: Some(db),
                    amqp_url: Some(amqp.clone()),
                    bus_prefix: format!("bench_{prefix}_{}", std::process::id()),
                    ..Config::default()
                }
                .without_intake_limits()
            };
            let rate =
                relay_throughput(&distributed("relay", fresh_pg_database(&pg).await?), events)
                    .await?;
            let latency = intake_to_router(
                &distributed("latency", fresh_pg_database(&pg).await?),
                appeals,
            )
            .await?;
            report("distributed (PostgreSQL, RabbitMQ)", rate, &latency);
        }
        _ => eprintln!(
            "SKIPPED: distributed run needs HOTLINE_TEST_PG_URL and HOTLINE_TEST_AMQP_URL"
        ),
    }
    Ok(())
}
