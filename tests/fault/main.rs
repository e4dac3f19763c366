//! Fault test of distributed mode (bounded in time): while 2,000 appeals are submitted, the
//! router process is killed with SIGKILL and restarted, and RabbitMQ is stopped and started
//! (`rabbitmqctl stop_app` / `start_app`). Afterwards every appeal that got a 201 has been
//! processed exactly once: one `classified` event each, no appeal lost, none extra.
//!
//! Needs `HOTLINE_TEST_PG_URL`, `HOTLINE_TEST_AMQP_URL` and `rabbitmqctl`; skipped, loudly,
//! without them. It is a test binary of its own so that no other test shares the broker while
//! it is stopped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../it/procs.rs"]
#[allow(dead_code)]
mod procs;
#[path = "../it/support.rs"]
#[allow(dead_code)]
mod support;

use std::collections::HashSet;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use procs::{Env, free_port};
use support::PgDatabase;

const APPEALS: usize = 2_000;
const CLIENTS: usize = 16;
const KILL_ROUTER_AT: usize = 400;
const STOP_BROKER_AT: usize = 1_000;

fn rabbitmqctl(args: &[&str]) -> bool {
    Command::new("rabbitmqctl")
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Waits for `done` (bounded).
async fn wait_for(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_accepted_appeal_is_processed_exactly_once_through_router_and_broker_failures() {
    let Some(amqp) = support::service("HOTLINE_TEST_AMQP_URL", "the fault test") else {
        return;
    };
    if !rabbitmqctl(&["status"]) {
        assert!(
            std::env::var_os("CI").is_none(),
            "the fault test: rabbitmqctl cannot reach the broker, and CI is set"
        );
        eprintln!("SKIPPED: rabbitmqctl cannot reach the broker, fault test not run");
        return;
    }
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("fault_{}", std::process::id());
    let env = Env::default()
        .with("HOTLINE_DATABASE_URL", pg.url.clone())
        .with("HOTLINE_AMQP_URL", amqp)
        .with("HOTLINE_BUS_PREFIX", prefix.clone())
        .with("HOTLINE_SECRET", "fault-test-secret-0123456789abcdef")
        .with("HOTLINE_DATA_DIR", dir.path().display().to_string())
        // Two thousand near-identical appeals: this test is about delivery, not duplicates.
        .with("HOTLINE_DUPLICATE_WINDOW_HOURS", "0");
    assert!(env.command(&["migrate"]).status().unwrap().success());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _gateway = env.spawn_http("gateway", port).await;
    let mut router = env.spawn("router");
    let _worker = env.spawn("worker");

    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(Mutex::new(HashSet::new()));
    let client = crate::support::http();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (next, done, accepted, client, base) = (
            next.clone(),
            done.clone(),
            accepted.clone(),
            client.clone(),
            base.clone(),
        );
        clients.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= APPEALS {
                    break;
                }
                // Half name a matter (and are dispatched by the router), half do not.
                let (title, body) = if i % 2 == 0 {
                    (format!("厂房用地审批缓慢 {i}"), "申请用地三个月无进展")
                } else {
                    (format!("请帮忙看看 {i}"), "想咨询一件事,不知道该找哪个部门")
                };
                let appeal = json!({
                    "channel": "web",
                    "kind": "complaint",
                    "title": title,
                    "body": body,
                    "appellant": { "kind": "person", "name": "李女士", "phone": "13912345678" }
                });
                let resp = client
                    .post(format!("{base}/api/v1/appeals"))
                    .header("idempotency-key", format!("fault-{i}"))
                    .json(&appeal)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), StatusCode::CREATED);
                let created: Value = resp.json().await.unwrap();
                accepted
                    .lock()
                    .await
                    .insert(created["id"].as_str().unwrap().to_owned());
                done.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }

    // Chaos while the submissions run.
    wait_for(
        "submissions to reach the router kill",
        Duration::from_secs(120),
        async || done.load(Ordering::SeqCst) >= KILL_ROUTER_AT,
    )
    .await;
    router.kill();
    eprintln!(
        "router killed (SIGKILL) after {} submissions",
        done.load(Ordering::SeqCst)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    router = env.spawn("router");

    wait_for(
        "submissions to reach the broker stop",
        Duration::from_secs(120),
        async || done.load(Ordering::SeqCst) >= STOP_BROKER_AT,
    )
    .await;
    assert!(rabbitmqctl(&["stop_app"]), "rabbitmqctl stop_app failed");
    eprintln!(
        "RabbitMQ stopped after {} submissions",
        done.load(Ordering::SeqCst)
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(rabbitmqctl(&["start_app"]), "rabbitmqctl start_app failed");
    assert!(rabbitmqctl(&["await_startup"]));
    eprintln!(
        "RabbitMQ started again after {} submissions",
        done.load(Ordering::SeqCst)
    );

    for c in clients {
        c.await.unwrap();
    }
    let accepted = accepted.lock().await.clone();
    assert_eq!(accepted.len(), APPEALS);
    eprintln!(
        "{APPEALS} appeals accepted in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let pool = sqlx::PgPool::connect(&pg.url).await.unwrap();
    // Bounded: about 45 s on an idle 2-core machine, far more when it is busy.
    let mut reported = Instant::now();
    wait_for(
        "every appeal to be classified",
        Duration::from_secs(480),
        async || {
            let classified: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE type = 'classified'")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            if let Some(status) = router.exited() {
                panic!("the router exited by itself ({status}) after {classified} classified");
            }
            if reported.elapsed() > Duration::from_secs(30) {
                let seconds = started.elapsed().as_secs_f64();
                eprintln!("{classified} of {APPEALS} classified after {seconds:.0} s");
                reported = Instant::now();
            }
            classified >= APPEALS as i64
        },
    )
    .await;
    // Give duplicates, if any were to happen, the chance to show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!(
        "all classified {:.1} s after the start",
        started.elapsed().as_secs_f64()
    );

    let stored: Vec<sqlx::types::Uuid> = sqlx::query_scalar("SELECT id FROM appeals")
        .fetch_all(&pool)
        .await
        .unwrap();
    let stored: HashSet<String> = stored.iter().map(ToString::to_string).collect();
    assert_eq!(
        stored, accepted,
        "the stored appeals are exactly the accepted ones"
    );
    let not_once: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT a.id FROM appeals a \
         LEFT JOIN events e ON e.appeal_id = a.id AND e.type = 'classified' \
         GROUP BY a.id HAVING COUNT(e.id) <> 1) x",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(not_once, 0, "appeals not classified exactly once");
    let dispatched: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE type = 'dispatched'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        dispatched,
        (APPEALS / 2) as i64,
        "each appeal naming a unit dispatched once"
    );
    let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE consumer = 'router'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(inbox, APPEALS as i64);
    pool.close().await;
    drop(router);

    for queue in ["router", "notifier"] {
        let _ = Command::new("rabbitmqctl")
            .args(["delete_queue", &format!("{prefix}.{queue}")])
            .output();
    }
    let out = Command::new("rabbitmqctl")
        .args(["list_queues", "name", "-q"])
        .output()
        .unwrap();
    for name in String::from_utf8_lossy(&out.stdout).lines() {
        if name.trim().starts_with(&format!("{prefix}.")) {
            let _ = Command::new("rabbitmqctl")
                .args(["delete_queue", name.trim()])
                .output();
        }
    }
}
