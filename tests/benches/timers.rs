//! Timer benchmark (SPEC §6): N open appeals (default 1,000,000) on PostgreSQL, dispatched over
//! the three working days before a Thursday noon, each brought up to date to that instant by
//! the domain's own steps (so its timer is exactly what the worker would have left). The worker
//! then starts 10 minutes late (an outage), catches up, and runs on the live clock.
//!
//! Reports: load time; the catch-up (steps that came due during the outage, how long to fire
//! them all); how late steps fire once caught up (p50/p99/max of `event.at − due`, the target
//! being p99 < 1 s); the worker's CPU time and resident memory (this process; PostgreSQL's
//! own CPU is not counted).
//!
//! Needs `HOTLINE_TEST_PG_URL` (a scratch database is created and dropped).
//! Run: `cargo bench -p hotline --bench timers` (options after `--`: appeals and seconds to run
//! after the catch-up, e.g. `-- 100000 30`).

#[path = "common/scratch_pg.rs"]
mod scratch_pg;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use hdrhistogram::Histogram;
use hotline::{Config, Platform};
use hotline_schemas::command::UnitLeaders;
use hotline_schemas::lifecycle::{Rules, decide, fire};
use hotline_schemas::{
    Actor, Appeal, AppealId, Appellant, Channel, Command, Kind, Location, NewAppeal, Priority, Role,
};
use hotline_worker::{TimerOptions, run_timers};
use sqlx::postgres::PgPoolOptions;
use sqlx::types::Json;
use sqlx::{PgPool, QueryBuilder, Row};
use tokio_util::sync::CancellationToken;

/// Rows per INSERT (15 parameters each, under PostgreSQL's 65,535).
const INSERT_ROWS: usize = 2_000;
/// The outage before the worker starts.
const OUTAGE: TimeDelta = TimeDelta::minutes(10);

fn new_appeal(i: usize) -> NewAppeal {
    NewAppeal {
        channel: Channel::Hotline,
        kind: Kind::Complaint,
        priority: Priority::Normal,
        title: format!("小区夜间施工噪音扰民 {i}"),
        body: "晚上十点后仍在施工,影响休息,请处理。".to_owned(),
        appellant: Appellant::Person {
            name: "李女士".to_owned(),
            phone: Some("13912345678".to_owned()),
            wechat_openid: None,
        },
        location: Location::default(),
        attachments: Vec::new(),
    }
}

/// Appeal `i` of `n`, dispatched uniformly over the 72 hours before `t0` (Monday noon to
/// Thursday noon: all working time), accepted 5 minutes later, every step due before `t0`
/// fired: its state at `t0`.
fn appeal_at(
    i: usize,
    n: usize,
    t0: DateTime<Utc>,
    rules: &Rules,
) -> Result<Appeal, hotline_schemas::DomainError> {
    let system = Actor::system();
    let dispatcher = Actor {
        name: "派单员".to_owned(),
        role: Role::Dispatcher,
        unit: None,
        appeal: None,
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    };
    let unit = Actor {
        name: "承办人".to_owned(),
        role: Role::Unit,
        unit: Some("CGJ".into()),
        appeal: None,
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    };
    let span_ms = TimeDelta::hours(72).num_milliseconds();
    let offset = span_ms * i64::try_from(i).unwrap_or(0) / i64::try_from(n.max(1)).unwrap_or(1);
    let dispatched_at = t0 - TimeDelta::hours(72) + TimeDelta::milliseconds(offset);
    let mut appeal = Appeal::received(
        AppealId::new(),
        format!("B{i:09}").into(),
        new_appeal(i),
        dispatched_at - TimeDelta::minutes(3),
    );
    let steps = [
        (
            dispatched_at,
            &dispatcher,
            Command::Dispatch {
                unit: "CGJ".into(),
                matter: None,
            },
        ),
        (
            dispatched_at + TimeDelta::minutes(5),
            &unit,
            Command::Accept,
        ),
    ];
    for (at, who, command) in steps {
        // Steps due before the command are fired first, as the worker would have.
        if let Ok(Some(d)) = fire(
            &appeal,
            &rules.context(at, &system),
            &UnitLeaders::default(),
        ) {
            appeal = d.into_appeal();
        }
        appeal = decide(&appeal, command, &rules.context(at, who))?.into_appeal();
    }
    let leaders = UnitLeaders {
        title: Some("分管城管的副区长".to_owned()),
        owners: Vec::new(),
    };
    if let Ok(Some(d)) = fire(&appeal, &rules.context(t0, &system), &leaders) {
        appeal = d.into_appeal();
    }
    Ok(appeal)
}

async fn insert(pool: &PgPool, appeals: &[Appeal]) -> anyhow::Result<()> {
    let mut q = QueryBuilder::<sqlx::Postgres>::new(
        "INSERT INTO appeals (id, ticket_no, channel, kind, priority, status, unit, matter, \
         response_due, resolve_due, created_at, updated_at, version, doc, due_at) ",
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
            .push_bind(a.sla.next.map(|n| n.at));
    });
    q.build().execute(pool).await?;
    Ok(())
}

/// CPU seconds (user + system) this process has used.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime is the 12th, stime the 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident memory of this process, MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let n: usize = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let run_secs: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(60);
    let Ok(admin_url) = std::env::var("HOTLINE_TEST_PG_URL") else {
        println!("timers bench: HOTLINE_TEST_PG_URL is not set; skipped (it needs PostgreSQL)");
        return Ok(());
    };
    scratch_pg::with_scratch_database(&admin_url, "hotline_bench_timers", |url| async move {
        run(&url, n, run_secs).await
    })
    .await
}

async fn run(url: &str, n: usize, run_secs: u64) -> anyhow::Result<()> {
    // Thursday 26 November 2026, 12:00 in Shanghai: the 72 hours before are working time.
    let t0 = Shanghai
        .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .context("a valid local time")?
        .with_timezone(&Utc);
    // The platform's clock: stopped at t0 while loading, then running from t0 + the outage.
    let offset_ms = Arc::new(AtomicI64::new(0));
    let frozen = Arc::new(AtomicI64::new(1));
    let clock = {
        let (offset_ms, frozen) = (offset_ms.clone(), frozen.clone());
        Arc::new(move || {
            if frozen.load(Ordering::SeqCst) == 1 {
                return t0;
            }
            Utc::now() + TimeDelta::milliseconds(offset_ms.load(Ordering::SeqCst))
        })
    };
    let config = Config {
        data_dir: std::env::temp_dir().join("hotline-bench-timers"),
        database_url: Some(url.to_owned()),
        ..Config::default()
    };
    let platform = Platform::open(&config, clock).await?;
    let pool = PgPoolOptions::new().max_connections(4).connect(url).await?;

    println!("timers bench: loading {n} open appeals (PostgreSQL)");
    let started = Instant::now();
    let rules = platform.rules();
    let mut batch = Vec::with_capacity(INSERT_ROWS);
    let mut loaded = 0;
    while loaded < n {
        batch.clear();
        let upto = (loaded + INSERT_ROWS).min(n);
        let rules = rules.clone();
        batch = tokio::task::spawn_blocking(move || {
            (loaded..upto)
                .map(|i| appeal_at(i, n, t0, &rules))
                .collect::<Result<Vec<_>, _>>()
        })
        .await??;
        insert(&pool, &batch).await?;
        loaded = upto;
        if loaded % 100_000 == 0 || loaded == n {
            println!(
                "  {loaded} loaded ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    sqlx::query("ANALYZE appeals").execute(&pool).await?;
    let load_secs = started.elapsed().as_secs_f64();

    // The worker was down for 10 minutes: start it at t0 + 10 min on the running clock.
    let start = t0 + OUTAGE;
    offset_ms.store((start - Utc::now()).num_milliseconds(), Ordering::SeqCst);
    frozen.store(0, Ordering::SeqCst);
    let backlog: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM appeals WHERE due_at <= $1")
        .bind(start)
        .fetch_one(&pool)
        .await?;
    let (cpu_before, rss_before) = (cpu_seconds(), rss_mib());
    let stop = CancellationToken::new();
    let worker = tokio::spawn(run_timers(
        platform.timers(TimerOptions::default()),
        stop.clone(),
    ));
    let began = Instant::now();
    loop {
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM appeals WHERE due_at <= $1")
            .bind(start)
            .fetch_one(&pool)
            .await?;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let catch_up = began.elapsed().as_secs_f64();
    let mut rss_peak = rss_mib();
    let deadline = Instant::now() + Duration::from_secs(run_secs);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        rss_peak = rss_peak.max(rss_mib());
    }
    stop.cancel();
    worker.await?;
    let cpu = cpu_seconds() - cpu_before;
    let wall = began.elapsed().as_secs_f64();

    let rows = sqlx::query("SELECT at, data->>'due_at' AS due FROM events")
        .fetch_all(&pool)
        .await?;
    // Steps that came due while the backlog was still being fired wait behind it: counted apart.
    let caught_up_at = start + TimeDelta::milliseconds((catch_up * 1000.0) as i64);
    let mut caught_up = 0usize;
    let mut behind = Histogram::<u64>::new(3)?;
    let mut lag = Histogram::<u64>::new(3)?;
    for row in &rows {
        let at: DateTime<Utc> = row.try_get("at")?;
        let Some(due) = row
            .try_get::<Option<String>, _>("due")?
            .and_then(|d| d.parse::<DateTime<Utc>>().ok())
        else {
            continue;
        };
        let late = u64::try_from((at - due).num_milliseconds().max(0))?;
        if due < start {
            caught_up += 1;
        } else if due < caught_up_at {
            behind.record(late)?;
        } else {
            lag.record(late)?;
        }
    }

    println!("timers bench: {n} open appeals, PostgreSQL, 1 worker (batch 256, 8 at once)");
    println!("  load                 {load_secs:.0} s");
    println!(
        "  outage catch-up      {backlog} appeals with steps due during 10 min down, {caught_up} events, fired in {catch_up:.2} s"
    );
    println!(
        "  due during catch-up  {} steps: p50 {} ms, max {} ms late",
        behind.len(),
        behind.value_at_quantile(0.5),
        behind.max()
    );
    println!(
        "  live lag             {} steps due after the catch-up, in {run_secs} s: p50 {} ms, p99 {} ms, max {} ms",
        lag.len(),
        lag.value_at_quantile(0.5),
        lag.value_at_quantile(0.99),
        lag.max()
    );
    println!(
        "  worker CPU           {cpu:.2} s over {wall:.0} s ({:.1}% of a core)",
        100.0 * cpu / wall
    );
    println!(
        "  resident memory      {rss_before:.0} MiB before, {rss_peak:.0} MiB peak while running"
    );
    Ok(())
}
