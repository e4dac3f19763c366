//! Notifications end to end, embedded mode: the whole platform in one process (gateway, router,
//! worker with relay, notifier and timers) on a clock the test moves, posting to a webhook the
//! test runs. A unit hears of a dispatch at once and of a missed sign-for limit from the
//! timers; the appellant gets a rating link that works.

use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use hotline::{Config, Platform, Roles};
use hotline_schemas::{Actor, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::procs::{submit, until};
use crate::support::{TestServer, enterprise_appeal, monday_morning};

/// What a test's webhook was sent.
pub type Inbox = Arc<Mutex<Vec<Value>>>;

/// A webhook that keeps what it is sent; the first `fail_first` posts are answered 503.
pub async fn webhook(fail_first: usize) -> (String, Inbox) {
    let inbox: Inbox = Arc::default();
    let failures = Arc::new(Mutex::new(fail_first));
    let app = axum::Router::new()
        .route(
            "/notify",
            axum::routing::post(
                |State((inbox, failures)): State<(Inbox, Arc<Mutex<usize>>)>,
                 Json(body): Json<Value>| async move {
                    let mut left = failures.lock().unwrap();
                    if *left > 0 {
                        *left -= 1;
                        return AxumStatus::SERVICE_UNAVAILABLE;
                    }
                    inbox.lock().unwrap().push(body);
                    AxumStatus::NO_CONTENT
                },
            ),
        )
        .with_state((inbox.clone(), failures));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, inbox)
}

/// Waits until the webhook received a notification matching `want`.
pub async fn received(inbox: &Inbox, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(found) = inbox.lock().unwrap().iter().find(|n| want(n)) {
            return found.clone();
        }
        assert!(
            Instant::now() < deadline,
            "never notified; got {:?}",
            inbox.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn units_supervisors_and_appellants_are_told() {
    let dir = tempfile::tempdir().unwrap();
    // The gateway is flaky at first: the bus redelivers.
    let (url, inbox) = webhook(2).await;
    let config = Config {
        data_dir: dir.path().join("data"),
        notify_webhook_url: Some(url),
        public_url: "https://12345.example.gov.cn/".to_owned(),
        ..Config::default()
    }
    .without_intake_limits();
    let clock = Arc::new(AtomicI64::new(monday_morning().timestamp_millis()));
    let set_now = |at: chrono::DateTime<chrono::Utc>| {
        clock.store(at.timestamp_millis(), std::sync::atomic::Ordering::SeqCst);
    };
    let platform = Arc::new(
        Platform::open(&config, TestServer::clock_of(&clock))
            .await
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let running = {
        let (platform, stop) = (platform.clone(), shutdown.clone());
        tokio::spawn(async move { platform.run(Roles::ALL, Some(listener), stop).await })
    };
    let token = |role, unit: Option<&str>, name: &str| {
        let actor = Actor {
            name: name.to_owned(),
            role,
            unit: unit.map(Into::into),
            appeal: None,
            user: None,
            in_charge_of: Vec::new(),
            mailbox_reader: false,
        };
        hotline::issue_token(&config, &actor).unwrap()
    };
    let admin = token(Role::Admin, None, "管理员");
    let unit = token(Role::Unit, Some("GHZRZYJ"), "规划局王五");
    let client = crate::support::http();

    // The router places it with the planning bureau, which is told at once.
    let appeal = submit(&base, &enterprise_appeal()).await;
    let id = appeal["id"].as_str().unwrap().to_owned();
    let ticket = appeal["ticket_no"].as_str().unwrap().to_owned();
    until(&base, &id, &admin, |a| a["status"] == "dispatched").await;
    let dispatched = received(&inbox, |n| n["event"] == "dispatched").await;
    assert_eq!(dispatched["to"], "unit:GHZRZYJ");
    assert_eq!(dispatched["ticket_no"], ticket.as_str());
    assert!(
        dispatched["event_id"]
            .as_str()
            .is_some_and(|e| e.len() == 36)
    );
    let text = dispatched["text"].as_str().unwrap();
    assert!(
        text.contains(&ticket) && text.contains("09:30") && text.contains("签收"),
        "{text}"
    );

    // Nobody signs: 31 minutes later the running worker's timers remind the unit.
    set_now(monday_morning() + chrono::Duration::minutes(31));
    let reminder = received(&inbox, |n| n["event"] == "reminded").await;
    assert_eq!(reminder["to"], "unit:GHZRZYJ");
    let text = reminder["text"].as_str().unwrap();
    assert!(
        text.contains("签收提醒") && text.contains("第 1 次"),
        "{text}"
    );

    // Six hours on, the supervisor is alerted to phone the unit.
    set_now(monday_morning() + chrono::Duration::minutes(6 * 60 + 31));
    let alert = received(&inbox, |n| n["event"] == "escalated").await;
    assert_eq!(alert["to"], "supervisor");
    assert!(alert["text"].as_str().unwrap().contains("请电话督促"));

    // Signed and answered: the appellant gets a rating link that lets them rate.
    // A note calls on another unit and a user: each is told once, the other unit without
    // the appellant's details (内部备注 @).
    let colleague = hotline_schemas::UserId::new();
    for (action, body) in [
        ("accept", json!({})),
        (
            "note",
            json!({
                "text": "已联系企业联系人13800138000,请市监局协助核实营业执照",
                "mentions": [{"unit": "SCJGJ"}, {"user": colleague.to_string()}],
            }),
        ),
        ("reply", json!({"result": "已协调自然资源局加快审批"})),
    ] {
        let resp = client
            .post(format!("{base}/api/v1/appeals/{id}/{action}"))
            .bearer_auth(&unit)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{action}");
    }
    let to_unit = received(&inbox, |n| n["event"] == "noted" && n["to"] == "unit:SCJGJ").await;
    let text = to_unit["text"].as_str().unwrap();
    assert!(
        text.contains(&ticket) && text.contains("协助核实"),
        "{text}"
    );
    assert!(!text.contains("13800138000"), "{text}");
    let to_user = format!("user:{colleague}");
    received(&inbox, |n| {
        n["event"] == "noted" && n["to"] == to_user.as_str()
    })
    .await;
    let request = received(&inbox, |n| n["event"] == "replied").await;
    assert_eq!(request["to"], "appellant:13800138000");
    let text = request["text"].as_str().unwrap();
    let prefix = format!(
        "您好!您的诉求(工单号 {ticket})已办结,请对办理结果进行评价:https://12345.example.gov.cn/rate?ticket={ticket}&token="
    );
    assert!(text.starts_with(&prefix), "{text}");
    let link_token = &text[prefix.len()..];
    let resp = client
        .post(format!("{base}/api/v1/appeals/{id}/rate"))
        .bearer_auth(link_token)
        .json(&json!({"rating": "satisfied"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "the link's token rates");

    // Each notification once, however often the webhook failed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events: Vec<String> = inbox
        .lock()
        .unwrap()
        .iter()
        .map(|n| n["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        events,
        // The second reminder came due during the six hours and is sent once with the alert.
        [
            "dispatched",
            "reminded",
            "reminded",
            "escalated",
            "noted",
            "noted",
            "replied"
        ],
        "{:?}",
        inbox.lock().unwrap()
    );

    shutdown.cancel();
    running.await.unwrap().unwrap();
}
