//! Pipeline benchmark (issue 13): real letters posted over HTTP to the embedded platform (the
//! `hotline serve` binary: gateway, router and worker in one process on SQLite), with the
//! duplicate window pre-filled with appeals of the last 7 days.
//!
//! Debian's `wrk` posts the letters of `../shared/data/appeals/tipdm2020c/unlabeled.csv` (each
//! from its own phone number) for the given time, at a fixed rate (a Lua `delay` per
//! connection) or, with rate 0, as fast as it can. The report: accepted/s and failures,
//! intake→classified and intake→dispatched p50/p99, the backlog when the posting stops and
//! how long it then takes to clear, duplicates linked, and the CPU time and peak memory of the
//! platform and of the client.
//!
//! Run: `cargo bench -p hotline --bench pipeline` (options after `--`: pre-filled appeals,
//! rate per second (0: the highest), seconds; default `100000 1000 60`). Needs `wrk`
//! (`apt-get install wrk`).

#[path = "common/letters.rs"]
mod letters;
#[path = "common/process.rs"]
mod process;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hotline::{Config, Platform};
use hotline_schemas::lifecycle::Intake;
use hotline_schemas::value::ticket::ticket_day;
use hotline_schemas::{Actor, Role};
use hotline_store::Submission;
use serde_json::json;
use sqlx::Row as _;

const CONNECTIONS: usize = 32;
/// wrk's threads.
const THREADS: usize = 2;

/// `n` appeals received over the last 7 days, already taken by the router (their outbox rows
/// marked published): the window the duplicate lookup searches.
async fn prefill(config: &Config, letters: &[(String, String)], n: usize) -> anyhow::Result<()> {
    let platform = Platform::open(config, hotline_gateway::system_clock()).await?;
    let agent = Actor {
        name: "话务员".to_owned(),
        role: Role::Agent,
        ..Actor::system()
    };
    let started = Instant::now();
    let now = Utc::now();
    let span = chrono::Duration::days(7).num_seconds();
    let rules = platform.rules();
    for i in 0..n {
        let ago = chrono::Duration::seconds(span * (n - i) as i64 / n.max(1) as i64);
        let at = now - ago;
        let intake = Intake::new(
            // The second half of the letters: the posted ones (the first half) are no repeats of
            // these, only of each other when the posting goes round them again.
            letters::new_appeal(
                i,
                &letters[letters.len() / 2 + i % (letters.len() - letters.len() / 2)],
            ),
            &rules.context(at, &agent),
        )?;
        platform
            .store
            .submit(Submission {
                intake,
                day: ticket_day(at, rules.tz),
                idempotency: None,
                traceparent: None,
            })
            .await?;
        if (i + 1) % 20_000 == 0 {
            eprintln!(
                "  {} appeals pre-filled ({:.0}/s)",
                i + 1,
                (i + 1) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    loop {
        let entries = platform.store.unpublished(10_000).await?;
        if entries.is_empty() {
            break;
        }
        let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
        platform.store.mark_published(&ids, Utc::now()).await?;
    }
    drop(platform);
    // A working centre's window has been handled: no time-limit step of its appeals is due
    // (the timers bench measures a catch-up; here it would take the writer from intake).
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect(&format!(
            "sqlite://{}",
            config.data_dir.join("hotline.db").display()
        ))
        .await?;
    sqlx::query("UPDATE appeals SET due_at = NULL")
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(())
}

/// The request bodies, one JSON line each with `PHONE` to fill in, and the Lua script that
/// posts them at `rate` per second over [`CONNECTIONS`] connections (0: no delay).
fn wrk_files(dir: &Path, letters: &[(String, String)], rate: u32) -> anyhow::Result<PathBuf> {
    let bodies = dir.join("bodies.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&bodies)?);
    for (title, body) in letters {
        let line = json!({
            "channel": "web",
            "kind": "complaint",
            "title": title,
            "body": body,
            "appellant": {"kind": "person", "name": "王先生", "phone": "PHONE"},
        });
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    let delay_ms = if rate == 0 {
        0
    } else {
        (CONNECTIONS as u64 * 1000) / u64::from(rate)
    };
    let script = dir.join("post.lua");
    std::fs::write(
        &script,
        format!(
            r#"local bodies = {{}}
for line in io.lines("{bodies}") do bodies[#bodies + 1] = line end
local n = 0
local thread_id = 0
function setup(thread)
  thread:set("index", thread_id)
  thread_id = thread_id + 1
  thread:set("base", thread_id * 10000000)
end
function init(args) n = 0 end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
function request()
  n = n + 1
  -- The threads take turns through the letters: each letter once per round.
  local body = bodies[((n * {THREADS} + index) % #bodies) + 1]
  body = string.gsub(body, "PHONE", string.format("139%08d", (base + n) % 100000000))
  return wrk.format(nil, "/api/v1/appeals", nil, body)
end
function delay() return {delay_ms} end
"#,
            bodies = bodies.display(),
            THREADS = THREADS,
        ),
    )?;
    Ok(script)
}

/// CPU seconds (user + system) and peak resident memory (MiB) of process `pid` so far.
fn usage(pid: u32) -> Option<(f64, f64)> {
    Some((
        process::cpu_seconds(pid, process::clock_ticks())?,
        process::peak_rss_mib(pid)?,
    ))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// What the store says of the appeals received since `since`: per appeal, when it was
/// received, classified and dispatched; and how many were linked as duplicates.
async fn timings(
    db: &Path,
    since: DateTime<Utc>,
) -> anyhow::Result<(HashMap<Vec<u8>, [Option<DateTime<Utc>>; 3]>, i64)> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect(&format!("sqlite://{}?mode=ro", db.display()))
        .await?;
    let rows = sqlx::query(
        "SELECT e.appeal_id, e.type, e.at FROM events e JOIN appeals a ON a.id = e.appeal_id \
         WHERE a.created_at >= ? AND e.type IN ('received', 'classified', 'dispatched')",
    )
    .bind(since)
    .fetch_all(&pool)
    .await?;
    let mut out: HashMap<Vec<u8>, [Option<DateTime<Utc>>; 3]> = HashMap::new();
    for row in rows {
        let id: Vec<u8> = row.try_get(0)?;
        let kind: String = row.try_get(1)?;
        let at: DateTime<Utc> = row.try_get(2)?;
        let slot = match kind.as_str() {
            "received" => 0,
            "classified" => 1,
            _ => 2,
        };
        out.entry(id).or_default()[slot] = Some(at);
    }
    let duplicates: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events e JOIN appeals a ON a.id = e.appeal_id \
         WHERE a.created_at >= ? AND e.type = 'classified' \
         AND json_extract(e.data, '$.duplicate_of') IS NOT NULL",
    )
    .bind(since)
    .fetch_one(&pool)
    .await?;
    Ok((out, duplicates))
}

fn latencies(found: &HashMap<Vec<u8>, [Option<DateTime<Utc>>; 3]>, slot: usize) -> Vec<f64> {
    let mut out: Vec<f64> = found
        .values()
        .filter_map(|t| Some((t[slot]? - t[0]?).num_microseconds()? as f64 / 1000.0))
        .collect();
    out.sort_by(f64::total_cmp);
    out
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let numbers: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let prefilled = numbers.first().copied().unwrap_or(100_000) as usize;
    let rate = numbers.get(1).copied().unwrap_or(1_000) as u32;
    let seconds = numbers.get(2).copied().unwrap_or(60);
    anyhow::ensure!(
        Command::new("wrk").arg("--version").output().is_ok(),
        "this benchmark needs wrk (apt-get install wrk)"
    );

    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let config = Config {
        data_dir: data.clone(),
        ..Config::default()
    }
    .without_intake_limits();
    let letters = letters::letters()?;
    println!(
        "pipeline bench: {prefilled} appeals pre-filled over 7 days, {} letters, rate {}/s, {seconds} s",
        letters.len(),
        if rate == 0 {
            "highest".to_owned()
        } else {
            rate.to_string()
        }
    );
    prefill(&config, &letters, prefilled).await?;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("serve")
        .env("HOTLINE_DATA_DIR", &data)
        .env("HOTLINE_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("HOTLINE_PUBLIC_SUBMISSIONS_PER_MINUTE", "0")
        .env("HOTLINE_APPELLANT_SUBMISSIONS_PER_HOUR", "0")
        .env("HOTLINE_STAFF_SUBMISSIONS_PER_MINUTE", "0")
        .env("HOTLINE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    hotline::install_tls_provider();
    let client = reqwest::Client::new();
    let ready = Instant::now();
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status().is_success())
        .ok()
        != Some(true)
    {
        anyhow::ensure!(
            ready.elapsed() < Duration::from_secs(60),
            "the platform did not start"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let before = usage(server.id()).unwrap_or_default();

    let script = wrk_files(dir.path(), &letters[..letters.len() / 2], rate)?;
    let since = Utc::now();
    let posting = Instant::now();
    let wrk = Command::new("/usr/bin/time")
        .args(["-f", "client: %U s user, %S s system, %M KiB peak", "wrk"])
        .arg(format!("-t{THREADS}"))
        .arg(format!("-c{CONNECTIONS}"))
        .arg(format!("-d{seconds}s"))
        .arg("-s")
        .arg(&script)
        .arg(&base)
        .output()?;
    let posted_for = posting.elapsed();
    let after_posting = usage(server.id()).unwrap_or_default();
    let wrk_out = String::from_utf8_lossy(&wrk.stdout);
    let client_usage = String::from_utf8_lossy(&wrk.stderr);

    // The backlog when posting stopped, then how long the router takes to clear it.
    let db = data.join("hotline.db");
    let (found, _) = timings(&db, since).await?;
    let backlog = found.values().filter(|t| t[1].is_none()).count();
    let clearing = Instant::now();
    let mut cleared = backlog == 0;
    while !cleared && clearing.elapsed() < Duration::from_secs(600) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (found, _) = timings(&db, since).await?;
        cleared = found.values().all(|t| t[1].is_some());
    }
    let clear_time = clearing.elapsed();
    let end = usage(server.id()).unwrap_or_default();
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let _ = server.wait();

    let (found, duplicates) = timings(&db, since).await?;
    let accepted = found.len();
    let classified = latencies(&found, 1);
    let dispatched = latencies(&found, 2);
    println!("{}", wrk_out.trim_end());
    println!("{}", client_usage.trim_end());
    println!(
        "accepted: {accepted} in {:.1} s = {:.0}/s",
        posted_for.as_secs_f64(),
        accepted as f64 / posted_for.as_secs_f64()
    );
    println!(
        "intake→classified: p50 {:.1} ms, p99 {:.1} ms ({} appeals)",
        percentile(&classified, 0.5),
        percentile(&classified, 0.99),
        classified.len()
    );
    println!(
        "intake→dispatched: p50 {:.1} ms, p99 {:.1} ms ({} dispatched by the router)",
        percentile(&dispatched, 0.5),
        percentile(&dispatched, 0.99),
        dispatched.len()
    );
    println!(
        "backlog when posting stopped: {backlog}, cleared {}",
        if cleared {
            format!("in {:.1} s", clear_time.as_secs_f64())
        } else {
            "not within 600 s".to_owned()
        }
    );
    println!("duplicates linked: {duplicates}");
    println!(
        "platform: {:.1} s CPU while posting ({:.0}% of one core), {:.1} s after; peak memory {:.0} MiB",
        after_posting.0 - before.0,
        100.0 * (after_posting.0 - before.0) / posted_for.as_secs_f64(),
        end.0 - after_posting.0,
        end.1
    );
    Ok(())
}
