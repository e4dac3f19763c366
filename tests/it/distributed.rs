//! Distributed mode end to end: `hotline gateway`, `hotline router` and `hotline worker` as
//! separate processes on PostgreSQL and RabbitMQ (`HOTLINE_TEST_PG_URL` and
//! `HOTLINE_TEST_AMQP_URL`; skipped, loudly, without them).

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::procs::{Env, free_port, submit, until, until_by};
use crate::support::{PgDatabase, enterprise_appeal, event_types, unplaceable_appeal};

/// A fresh database, its own queue names, one shared secret.
pub struct Platform {
    pub env: Env,
    pub pg: PgDatabase,
    pub prefix: String,
    _dir: tempfile::TempDir,
}

impl Platform {
    pub async fn create() -> Option<Platform> {
        let amqp = crate::support::service("HOTLINE_TEST_AMQP_URL", "the distributed test")?;
        let pg = PgDatabase::create().await?;
        let dir = tempfile::tempdir().unwrap();
        let prefix = format!(
            "it_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_micros()
        );
        let env = Env::default()
            .with("HOTLINE_DATABASE_URL", pg.url.clone())
            .with("HOTLINE_AMQP_URL", amqp)
            .with("HOTLINE_BUS_PREFIX", prefix.clone())
            .with("HOTLINE_SECRET", "distributed-test-secret-0123456789")
            .with("HOTLINE_DATA_DIR", dir.path().display().to_string());
        let migrated = env.command(&["migrate"]).output().unwrap();
        assert!(
            migrated.status.success(),
            "{}",
            String::from_utf8_lossy(&migrated.stderr)
        );
        Some(Platform {
            env,
            pg,
            prefix,
            _dir: dir,
        })
    }
}

impl Drop for Platform {
    /// Removes this test's queues and exchange from the broker (best effort).
    fn drop(&mut self) {
        crate::broker::remove_prefixed(&self.prefix, "test");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_router_and_worker_processes_drive_an_appeal_through_its_lifecycle() {
    let Some(platform) = Platform::create().await else {
        return;
    };
    let env = &platform.env;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _gateway = env.spawn_http("gateway", port).await;
    // Any number of each: two routers and two workers share the work.
    let _routers = [env.spawn("router"), env.spawn("router")];
    let _workers = [env.spawn("worker"), env.spawn("worker")];

    let client = crate::support::http();
    let admin = env.token(&["--role", "admin"]);
    let unit = env.token(&[
        "--role",
        "unit",
        "--unit",
        "GHZRZYJ",
        "--name",
        "规自局王五",
    ]);
    let dispatcher = env.token(&["--role", "dispatcher", "--name", "派单员老陈"]);

    // The router places this one by itself: 厂房, 用地 are the planning bureau's words.
    let created: Value = client
        .post(format!("{base}/api/v1/appeals"))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(&enterprise_appeal())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let appellant = created["appellant_token"].as_str().unwrap().to_owned();
    let dispatched = until(&base, &id, &admin, |a| a["status"] == "dispatched").await;
    assert_eq!(dispatched["unit"], "GHZRZYJ");
    assert!(dispatched["matter"].as_str().unwrap().starts_with("IND-"));
    assert!(!dispatched["suggestions"].as_array().unwrap().is_empty());
    assert_eq!(
        event_types(&dispatched),
        ["received", "classified", "dispatched"]
    );
    assert_eq!(dispatched["events"][2]["actor"], "router");
    assert!(dispatched["deadlines"]["resolve_due"].is_string());

    let act = |action: &str, token: &str, body: Value| {
        client
            .post(format!("{base}/api/v1/appeals/{id}/{action}"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    assert_eq!(
        act("accept", &unit, json!({})).await.unwrap().status(),
        StatusCode::OK
    );
    let replied = act("reply", &unit, json!({"result": "用地审批已完成"}))
        .await
        .unwrap();
    assert_eq!(replied.status(), StatusCode::OK);
    let rated: Value = act("rate", &appellant, json!({"rating": "very_satisfied"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rated["status"], "closed");
    // The appellant's public timeline: the router's classification is internal.
    assert_eq!(
        event_types(&rated),
        [
            "received",
            "dispatched",
            "accepted",
            "replied",
            "rated",
            "closed"
        ]
    );

    // This one names no matter: it waits for the dispatcher, classified once.
    let mut vague = unplaceable_appeal();
    vague["appellant"]["phone"] = json!("13700000000");
    let created = submit(&base, &vague).await;
    let vague_id = created["id"].as_str().unwrap().to_owned();
    let classified = until(&base, &vague_id, &admin, |a| event_types(a).len() == 2).await;
    assert_eq!(classified["status"], "received");
    assert_eq!(classified["events"][1]["data"]["dispatched"], false);
    let resp = client
        .post(format!("{base}/api/v1/appeals/{vague_id}/dispatch"))
        .bearer_auth(&dispatcher)
        .json(&json!({"unit": "DEMO-FGJ"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // Every event reached the bus with its trace, and the workers told both units and asked
    // the first appellant for a rating.
    let pool = sqlx::PgPool::connect(&platform.pg.url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let backlog: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL")
                .fetch_one(&pool)
                .await
                .unwrap();
        let notified: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE consumer = 'notifier'")
                .fetch_one(&pool)
                .await
                .unwrap();
        if backlog == 0 && notified == 3 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "backlog {backlog}, notified {notified}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let trace: Option<String> = sqlx::query_scalar(
        "SELECT payload->>'traceparent' FROM outbox WHERE payload->>'type' = 'received' AND appeal_id = $1",
    )
    .bind(uuid_of(&id))
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        trace.as_deref(),
        Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    );
    pool.close().await;
}

fn uuid_of(id: &str) -> sqlx::types::Uuid {
    id.parse().unwrap()
}

/// Two `hotline worker` processes on one PostgreSQL database race for the same timers on the
/// real clock (a policies file with a 1-minute dispatch limit and 1-minute reminders): each
/// appeal's limit is missed once and each reminder sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_fire_each_timer_once() {
    let Some(platform) = Platform::create().await else {
        return;
    };
    let shipped = include_str!("../../schemas/sla/policies.toml");
    let policies = shipped
        .replace("wait = \"15m\"", "wait = \"1m\"")
        .replace("remind_every = \"30m\"", "remind_every = \"1m\"");
    assert_ne!(policies, shipped);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policies.toml");
    std::fs::write(&path, policies).unwrap();
    let env = platform
        .env
        .clone()
        .with("HOTLINE_SLA_POLICIES", path.display().to_string());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _gateway = env.spawn_http("gateway", port).await;
    // No router: the appeals wait for a dispatcher, and the dispatch limit runs.
    let _workers = [env.spawn("worker"), env.spawn("worker")];
    let admin = env.token(&["--role", "admin"]);
    let mut ids = Vec::new();
    for i in 0..30 {
        let mut body = unplaceable_appeal();
        body["title"] = json!(format!("咨询事项 {i}"));
        ids.push(
            submit(&base, &body).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(150);
    let reminders = |appeal: &Value| -> Vec<i64> {
        appeal["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "reminded")
            .map(|e| e["data"]["n"].as_i64().unwrap())
            .collect()
    };
    for id in &ids {
        // Wait for the second reminder: both workers have had a minute to race for it.
        let appeal = until_by(&base, id, &admin, deadline, |a| reminders(a).len() >= 2).await;
        let breaches = event_types(&appeal)
            .iter()
            .filter(|t| *t == "sla_breached")
            .count();
        assert_eq!(breaches, 1, "{appeal}");
        let sent = reminders(&appeal);
        let mut unique = sent.clone();
        unique.dedup();
        assert_eq!(unique, sent, "each reminder once: {appeal}");
        assert_eq!(&sent[..2], [1, 2]);
    }
}
