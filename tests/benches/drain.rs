//! Drain benchmark (issue 13), distributed: how fast 1 and 2 `hotline router` processes clear a
//! RabbitMQ queue of received appeals with intake stopped, on PostgreSQL, and the CPU each
//! process spends on it.
//!
//! For each router count: a scratch PostgreSQL database (created beside `HOTLINE_TEST_PG_URL`'s,
//! migrated and seeded as a platform opens it, dropped afterwards); N received appeals
//! bulk-loaded (`Store::import`), the real letters of
//! `../shared/data/appeals/tipdm2020c/unlabeled.csv` each from its own phone number, spread over
//! the last 7 days so the duplicate window is full (past the file's 7,142 letters they come round
//! again, so most appeals repeat an earlier one from another number and are linked to it as
//! duplicates, which the router does not dispatch); their `appeal.received` envelopes published
//! through `RabbitBus` (publisher confirms) on a bus prefix of the benchmark's own, until the
//! router queue holds N messages (checked with `rabbitmqctl list_queues`). Then K `hotline
//! router` processes start, as in production (default batch and prefetch settings,
//! `HOTLINE_LOG=warn`), and the benchmark polls the database until every delivery has been taken
//! in (the router's inbox rows, plus any parked), then stops them with SIGTERM.
//!
//! The report per router count: the drain time from the routers' start (and from the first to
//! the last `classified` event), appeals/s, dispatched and duplicates linked; the CPU seconds
//! (user + system, `/proc/PID/stat`) and peak RSS of each router, CPU per appeal; the CPU of
//! the PostgreSQL backends of the scratch database and of every `postgres` process, and of
//! RabbitMQ (`beam.smp`), over the drain; and the load average. The broker's queues and
//! exchange of the prefix are deleted at the end (with `rabbitmqctl`, as the distributed test
//! does).
//!
//! Run: `HOTLINE_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres
//! HOTLINE_TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672/%2f cargo bench -p hotline --bench
//! drain` (options after `--`: appeals, then router counts; default `100000 1 2`). Needs
//! `rabbitmqctl` on the machine of the broker.

#[path = "../common/broker.rs"]
mod broker;
#[path = "common/letters.rs"]
mod letters;
#[path = "common/process.rs"]
mod process;
#[path = "common/scratch_pg.rs"]
mod scratch_pg;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, TimeDelta, Utc};
use hotline::{Config, Platform};
use hotline_bus::{Bus as _, Message, RabbitBus, RabbitOptions, topology};
use hotline_schemas::lifecycle::{Decision, Intake};
use hotline_schemas::{Actor, Envelope, Role, TicketNo};
use sqlx::Row as _;
use sqlx::postgres::PgPoolOptions;

/// Appeals per import (one transaction each) and per publish.
const BATCH: usize = 10_000;
/// How often the database is asked how far the routers are.
const POLL: Duration = Duration::from_millis(500);
/// The drain is given up when nothing more is taken in for this long.
const STALL: Duration = Duration::from_secs(180);

/// Every process named `comm`: its CPU seconds so far and its command line.
fn processes(comm: &str, ticks: f64) -> HashMap<u32, (f64, String)> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if name.trim() != comm {
            continue;
        }
        let cmdline = std::fs::read(path.join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        if let Some(cpu) = process::cpu_seconds(pid, ticks) {
            out.insert(pid, (cpu, cmdline));
        }
    }
    out
}

/// The CPU seconds the processes of `after` spent since `before` (those started since: all of
/// theirs), of those whose command line `keep` accepts. Processes that ended in between are
/// not counted.
fn spent(
    before: &HashMap<u32, (f64, String)>,
    after: &HashMap<u32, (f64, String)>,
    keep: impl Fn(u32, &str) -> bool,
) -> (f64, usize) {
    after
        .iter()
        .filter(|(pid, (_, cmdline))| keep(**pid, cmdline))
        .fold((0.0, 0), |(sum, n), (pid, (cpu, _))| {
            let earlier = before.get(pid).map_or(0.0, |(c, _)| *c);
            (sum + (cpu - earlier).max(0.0), n + 1)
        })
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_owned())
}

/// Messages ready in `queue`, as `rabbitmqctl` lists them.
fn queue_depth(queue: &str) -> anyhow::Result<u64> {
    let out = Command::new("rabbitmqctl")
        .args(["list_queues", "name", "messages", "-q"])
        .output()
        .context("running rabbitmqctl list_queues (this benchmark needs rabbitmqctl)")?;
    anyhow::ensure!(
        out.status.success(),
        "rabbitmqctl list_queues failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|line| {
            let mut fields = line.split_whitespace();
            (fields.next() == Some(queue)).then(|| fields.next()?.parse().ok())?
        })
        .with_context(|| format!("queue {queue} is not on the broker"))
}

/// The router processes of one run and the broker objects of its prefix: on drop, the
/// processes still running are killed and the queues and exchange deleted (best effort).
struct Run {
    prefix: String,
    routers: Vec<Child>,
}

impl Drop for Run {
    fn drop(&mut self) {
        for router in &mut self.routers {
            if let Ok(None) = router.try_wait() {
                let _ = router.kill();
                let _ = router.wait();
            }
        }
        broker::remove_prefixed(&self.prefix, "bench");
    }
}

/// Imports `n` received appeals spread over the 7 days before `now` (oldest first) and
/// publishes their `received` envelopes, a batch at a time.
async fn fill(
    platform: &Platform,
    bus: &RabbitBus,
    letters: &[(String, String)],
    n: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let agent = Actor {
        name: "话务员".to_owned(),
        role: Role::Agent,
        ..Actor::system()
    };
    let rules = platform.rules();
    let span = TimeDelta::days(7).num_milliseconds();
    let started = Instant::now();
    let mut loaded = 0;
    while loaded < n {
        let upto = (loaded + BATCH).min(n);
        let mut batch: Vec<Decision> = Vec::with_capacity(upto - loaded);
        for i in loaded..upto {
            let ago = TimeDelta::milliseconds(span * (n - i) as i64 / n as i64);
            let at = now - ago;
            let intake = Intake::new(
                letters::new_appeal(i, &letters[i % letters.len()]),
                &rules.context(at, &agent),
            )?;
            batch.push(intake.receive(TicketNo::new(format!("D{i:09}"))));
        }
        platform.store.import(&batch).await?;
        let messages: Vec<Message> = batch
            .iter()
            .flat_map(|d| d.events())
            .map(|e| Message::of(&Envelope::new(e, None)))
            .collect();
        bus.publish(&messages).await?;
        loaded = upto;
    }
    eprintln!(
        "  {n} appeals imported and published in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// How many deliveries the routers have settled: taken in (an inbox row) or parked.
async fn settled(pool: &sqlx::PgPool) -> anyhow::Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM inbox WHERE consumer = $1), \
                (SELECT COUNT(*) FROM parked WHERE consumer = $1)",
    )
    .bind(topology::ROUTER.group)
    .fetch_one(pool)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// One router process on the run's database and bus.
fn spawn_router(
    config: &Config,
    url: &str,
    amqp: &str,
    dir: &Path,
    log: PathBuf,
) -> anyhow::Result<Child> {
    Ok(Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("router")
        .current_dir(dir)
        .env("HOTLINE_DATA_DIR", &config.data_dir)
        .env("HOTLINE_DATABASE_URL", url)
        .env("HOTLINE_AMQP_URL", amqp)
        .env("HOTLINE_BUS_PREFIX", &config.bus_prefix)
        // The binary's log filter is `HOTLINE_LOG` (default `info`: a line per appeal).
        .env("HOTLINE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log)?)
        .spawn()?)
}

async fn drain(
    url: String,
    amqp: &str,
    letters: &[(String, String)],
    n: usize,
    k: usize,
    ticks: f64,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let prefix = format!("hotline_bench_drain_{}_{k}", std::process::id());
    let config = Config {
        data_dir: dir.path().join("data"),
        database_url: Some(url.clone()),
        amqp_url: Some(amqp.to_owned()),
        bus_prefix: prefix.clone(),
        ..Config::default()
    };
    let mut run = Run {
        prefix: prefix.clone(),
        routers: Vec::new(),
    };
    // Migrated and seeded (reference data, demo units) before any router opens it.
    let platform = Platform::open(&config, hotline_gateway::system_clock()).await?;
    let mut options = RabbitOptions::new(amqp);
    options.prefix = prefix.clone();
    let bus = RabbitBus::new(options);
    fill(&platform, &bus, letters, n, Utc::now()).await?;
    drop(bus);
    drop(platform);
    let queue = format!("{prefix}.{}", topology::ROUTER.group);
    let depth = queue_depth(&queue)?;
    anyhow::ensure!(depth == n as u64, "{queue} holds {depth} messages, not {n}");

    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    let poller: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&pool)
        .await?;
    let database = url.rsplit('/').next().unwrap_or_default().to_owned();
    let load_before = load_average();
    let postgres_before = processes("postgres", ticks);
    let beam_before = processes("beam.smp", ticks);

    let (started, started_at) = (Instant::now(), Utc::now());
    for r in 0..k {
        let log = dir.path().join(format!("router-{r}.log"));
        run.routers
            .push(spawn_router(&config, &url, amqp, dir.path(), log)?);
    }
    let mut last = (0, 0);
    let mut progressed = Instant::now();
    let outcome = loop {
        tokio::time::sleep(POLL).await;
        let now = settled(&pool).await?;
        if now != last {
            last = now;
            progressed = Instant::now();
        }
        if (now.0 + now.1) as usize >= n {
            break Ok(());
        }
        if let Some(status) = run
            .routers
            .iter_mut()
            .find_map(|r| r.try_wait().ok().flatten())
        {
            break Err(anyhow::anyhow!("a router stopped by itself ({status})"));
        }
        if progressed.elapsed() >= STALL {
            break Err(anyhow::anyhow!(
                "no progress for {} s at {} taken in, {} parked",
                STALL.as_secs(),
                now.0,
                now.1
            ));
        }
    };
    let drained = started.elapsed();
    let load_after = load_average();
    let routers: Vec<(u32, f64, f64)> = run
        .routers
        .iter()
        .map(|r| {
            let pid = r.id();
            (
                pid,
                process::cpu_seconds(pid, ticks).unwrap_or(f64::NAN),
                process::peak_rss_mib(pid).unwrap_or(f64::NAN),
            )
        })
        .collect();
    let postgres_after = processes("postgres", ticks);
    let beam_after = processes("beam.smp", ticks);

    // SIGTERM, then the time each takes to stop.
    let stopping = Instant::now();
    for router in &run.routers {
        let _ = Command::new("kill")
            .args(["-TERM", &router.id().to_string()])
            .status();
    }
    let mut exits = Vec::new();
    for router in &mut run.routers {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = router.try_wait()? {
                break Some(status);
            }
            if Instant::now() >= deadline {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        exits.push(match status {
            Some(s) => format!("{s} after {:.1} s", stopping.elapsed().as_secs_f64()),
            None => "still running 30 s after SIGTERM (killed)".to_owned(),
        });
    }

    let row = sqlx::query(
        "SELECT COUNT(*), \
                COUNT(*) FILTER (WHERE data->>'dispatched' = 'true'), \
                COUNT(*) FILTER (WHERE data->>'duplicate_of' IS NOT NULL), \
                MIN(at), MAX(at) \
         FROM events WHERE type = 'classified'",
    )
    .fetch_one(&pool)
    .await?;
    let classified: i64 = row.try_get(0)?;
    let dispatched: i64 = row.try_get(1)?;
    let duplicates: i64 = row.try_get(2)?;
    let first: Option<DateTime<Utc>> = row.try_get(3)?;
    let final_at: Option<DateTime<Utc>> = row.try_get(4)?;
    let left = queue_depth(&queue).unwrap_or(u64::MAX);
    pool.close().await;

    let secs = drained.as_secs_f64();
    println!(
        "{k} router{}: {n} appeals, drained in {secs:.1} s from the routers' start = {:.0} appeals/s",
        if k == 1 { "" } else { "s" },
        n as f64 / secs
    );
    if let (Some(first), Some(final_at)) = (first, final_at) {
        let seconds = |d: TimeDelta| d.num_milliseconds() as f64 / 1000.0;
        let span = seconds(final_at - first);
        println!(
            "  first classification {:.1} s after the routers' start, the last {:.1} s; \
             first to last: {span:.1} s = {:.0} appeals/s",
            seconds(first - started_at),
            seconds(final_at - started_at),
            classified as f64 / span.max(0.001)
        );
    }
    println!(
        "  classified {classified}, dispatched by the router {dispatched}, duplicates linked \
         {duplicates}, parked {}; {left} messages left in the queue",
        last.1
    );
    let mut router_cpu = 0.0;
    for (r, ((pid, cpu, rss), exit)) in routers.iter().zip(&exits).enumerate() {
        router_cpu += cpu;
        println!(
            "  router {r} (pid {pid}): {cpu:.1} s CPU ({:.0}% of one core), peak RSS {rss:.0} MiB; \
             SIGTERM: {exit}",
            100.0 * cpu / secs
        );
    }
    println!(
        "  routers: {router_cpu:.1} s CPU = {:.2} ms per appeal",
        1000.0 * router_cpu / n as f64
    );
    let (ours, backends) = spent(&postgres_before, &postgres_after, |pid, cmdline| {
        pid != poller as u32 && cmdline.contains(&format!(" {database} "))
    });
    let (all, processes) = spent(&postgres_before, &postgres_after, |_, _| true);
    println!(
        "  PostgreSQL: {ours:.1} s CPU in the {backends} backends of the scratch database = \
         {:.2} ms per appeal; {all:.1} s in all {processes} postgres processes (shared with other \
         work on the machine)",
        1000.0 * ours / n as f64
    );
    let (beam, _) = spent(&beam_before, &beam_after, |_, _| true);
    println!(
        "  RabbitMQ (beam.smp, shared with other work on the machine): {beam:.1} s CPU = {:.2} ms \
         per appeal",
        1000.0 * beam / n as f64
    );
    println!("  load average (1, 5, 15 min): {load_before} before, {load_after} at the end");
    for r in 0..k {
        let log =
            std::fs::read_to_string(dir.path().join(format!("router-{r}.log"))).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        if !lines.is_empty() {
            println!("  router {r} logged {} lines; the last:", lines.len());
            for line in lines.iter().rev().take(3).rev() {
                println!("    {line}");
            }
        }
    }
    drop(run);
    outcome
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = numbers.first().copied().unwrap_or(100_000);
    anyhow::ensure!(n > 0, "at least one appeal");
    let counts = match numbers.get(1..) {
        Some(counts) if !counts.is_empty() => counts.to_vec(),
        _ => vec![1, 2],
    };
    let admin_url = std::env::var("HOTLINE_TEST_PG_URL")
        .context("this benchmark needs HOTLINE_TEST_PG_URL (postgres://…)")?;
    let amqp = std::env::var("HOTLINE_TEST_AMQP_URL")
        .context("this benchmark needs HOTLINE_TEST_AMQP_URL (amqp://…)")?;
    let letters = letters::letters()?;
    let ticks = process::clock_ticks();
    println!(
        "drain bench: {n} received appeals over 7 days ({} letters), router counts {counts:?}, \
         on PostgreSQL and RabbitMQ",
        letters.len()
    );
    for k in counts {
        anyhow::ensure!(k > 0, "at least one router");
        let (amqp, letters) = (amqp.as_str(), letters.as_slice());
        scratch_pg::with_scratch_database(
            &admin_url,
            &format!("hotline_bench_drain_{k}"),
            |url| async move { drain(url, amqp, letters, n, k, ticks).await },
        )
        .await?;
    }
    Ok(())
}
