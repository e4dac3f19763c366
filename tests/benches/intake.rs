//! Intake benchmark: appeals accepted per second and the latency of `POST /api/v1/appeals` on
//! the embedded store (SQLite in WAL mode, every submission durable before its 201).
//!
//! Run: `cargo bench -p hotline --bench intake` (options after `--`: total requests and
//! concurrency, e.g. `-- 20000 32`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use hotline::Config;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = numbers.first().copied().unwrap_or(5_000);
    let concurrency = numbers.get(1).copied().unwrap_or(16);

    let dir = tempfile::tempdir()?;
    let config = Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    }
    .without_intake_limits();
    let app = hotline::Platform::open(&config, hotline_gateway::system_clock())
        .await?
        .http_app(tokio_util::sync::CancellationToken::new());
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/api/v1/appeals", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hotline_gateway::serve(listener, app, async {
        let _ = stopped.await;
    }));

    hotline::install_tls_provider();
    let client = reqwest::Client::new();
    let histogram = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, histogram, next) =
            (client.clone(), url.clone(), histogram.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut local = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let body = json!({
                    "channel": "web",
                    "kind": "complaint",
                    "title": format!("厂房用地审批缓慢 {i}"),
                    "body": "我司在福海街道申请厂房用地,审批已三个月无进展,请协调。",
                    "appellant": {
                        "kind": "enterprise",
                        "name": "深圳某某科技有限公司",
                        "phone": "13800138000",
                        "uscc": "914403001922038216"
                    },
                    "location": { "address": "宝安区福海街道" }
                });
                let t0 = Instant::now();
                let resp = client
                    .post(&url)
                    .header("idempotency-key", format!("bench-{i}"))
                    .json(&body)
                    .send()
                    .await?;
                anyhow::ensure!(resp.status().as_u16() == 201, "status {}", resp.status());
                resp.bytes().await?;
                local.push(t0.elapsed());
            }
            let mut h = histogram.lock().await;
            for d in local {
                h.record(d.as_micros().max(1) as u64)?;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    server.await??;

    let h = histogram.lock().await;
    let ms = |q: f64| Duration::from_micros(h.value_at_quantile(q)).as_secs_f64() * 1000.0;
    println!(
        "intake benchmark: embedded store (SQLite WAL, synchronous=FULL), {total} appeals, {concurrency} concurrent clients"
    );
    println!(
        "throughput: {:.0} appeals/s ({:.2} s)",
        total as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    println!(
        "latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(0.5),
        ms(0.99),
        ms(1.0)
    );
    Ok(())
}
