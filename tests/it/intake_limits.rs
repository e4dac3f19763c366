//! Abuse limits on public intake, through HTTP: submissions per client address (behind a
//! trusted proxy, the address it forwards) and per appellant answered 429 with `Retry-After`
//! and nothing stored, staff on a limit of their own; the public's priority; control
//! characters in text fields.

use hotline_schemas::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Engine, TestServer, enterprise_appeal, person_appeal};

async fn limited(adjust: impl FnOnce(&mut hotline::Config)) -> TestServer {
    TestServer::start_with(Engine::Sqlite, adjust)
        .await
        .expect("SQLite is always available")
}

/// `POST /api/v1/appeals` as sent through a proxy for `client`: the status, the
/// `Retry-After` header and the body.
async fn submit_from(
    s: &TestServer,
    client: &str,
    token: Option<&str>,
    body: &Value,
) -> (StatusCode, Option<String>, Value) {
    let mut req = s
        .client
        .post(format!("{}/api/v1/appeals", s.base))
        .header("x-forwarded-for", client)
        .header("accept-language", "en-US")
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, resp.json().await.unwrap())
}

fn with_phone(phone: &str) -> Value {
    let mut body = enterprise_appeal();
    body["appellant"]["phone"] = json!(phone);
    body
}

async fn stored(s: &TestServer, admin: &str) -> i64 {
    let (status, page) = s.get("/api/v1/appeals", admin).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["total"].as_i64().unwrap()
}

/// A 429 in the platform's error shape, with a `Retry-After` of at most `max` seconds.
fn assert_held(
    (status, retry, body): &(StatusCode, Option<String>, Value),
    field: Option<&str>,
    max: u64,
) {
    assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let seconds: u64 = retry.as_deref().expect("Retry-After").parse().unwrap();
    assert!((1..=max).contains(&seconds), "Retry-After {seconds}");
    assert_eq!(body["code"], "rate_limited");
    assert_eq!(body["field"], field.map_or(Value::Null, Value::from));
    assert_eq!(
        body["message"],
        format!("Too many submissions; please try again in {seconds} seconds")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_submissions_past_their_limits_are_held_and_nothing_is_stored() {
    let s = limited(|c| {
        c.public_submissions_per_minute = 2;
        c.public_submission_burst = 2;
        c.appellant_submissions_per_hour = 3;
        c.staff_submissions_per_minute = 100;
        // The test's client is the proxy.
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let admin = s.token(Role::Admin, None, "管理员");
    let agent = s.token(Role::Agent, None, "话务员小王");
    let citizen = with_phone("13800138000");
    for _ in 0..2 {
        let (status, _, body) = submit_from(&s, "203.0.113.10", None, &citizen).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // The third from that address within the minute: one comes back every 30 s.
    let held = submit_from(&s, "203.0.113.10", None, &citizen).await;
    assert_held(&held, None, 30);
    assert_eq!(stored(&s, &admin).await, 2);
    // zh-CN by default.
    let resp = s
        .client
        .post(format!("{}/api/v1/appeals", s.base))
        .header("x-forwarded-for", "203.0.113.10")
        .json(&citizen)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("提交过于频繁"),
        "{body}"
    );

    // Staff from the same address right after: their own limit.
    let (status, _, body) = submit_from(
        &s,
        "203.0.113.10",
        Some(&agent),
        &person_appeal("小区停水两天"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Another appellant from another address is not held.
    let (status, _, body) =
        submit_from(&s, "198.51.100.20", None, &with_phone("13912345678")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(stored(&s, &admin).await, 4);

    // The first appellant's third this hour, from a new address, is taken; a fourth, the number
    // written another way, is not.
    let (status, _, body) = submit_from(&s, "198.51.100.30", None, &citizen).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let held = submit_from(&s, "198.51.100.40", None, &with_phone("+86 138-0013-8000")).await;
    assert_held(&held, Some("appellant"), 3600);
    assert_eq!(stored(&s, &admin).await, 5);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_count_only_from_a_trusted_proxy() {
    let s = limited(|c| {
        c.public_submissions_per_minute = 2;
        c.public_submission_burst = 2;
    })
    .await;
    let admin = s.token(Role::Admin, None, "管理员");
    for (i, forged) in ["192.0.2.1", "192.0.2.2"].into_iter().enumerate() {
        let phone = format!("1390000000{i}");
        let (status, _, body) = submit_from(&s, forged, None, &with_phone(&phone)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // A client naming yet another address is still the peer it is.
    let held = submit_from(&s, "192.0.2.3", None, &with_phone("13900000009")).await;
    assert_held(&held, None, 30);
    assert_eq!(stored(&s, &admin).await, 2);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_cannot_set_the_priority_staff_can() {
    let s = limited(|_| {}).await;
    let agent = s.token(Role::Agent, None, "话务员小王");
    let mut urgent = enterprise_appeal();
    urgent["priority"] = json!("urgent");
    let public = s.submit(None, urgent).await;
    assert_eq!(public["priority"], "normal", "{public}");
    assert_eq!(public["events"][0]["data"]["priority"], "normal");
    let mut call = person_appeal("燃气味道很重");
    call["priority"] = json!("urgent");
    let logged = s.submit(Some(&agent), call).await;
    assert_eq!(logged["priority"], "urgent", "{logged}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_are_refused_naming_the_field() {
    let s = limited(|_| {}).await;
    let admin = s.token(Role::Admin, None, "管理员");
    let dispatcher = s.token(Role::Dispatcher, None, "派单员老陈");
    let unit = s.token(Role::Unit, Some("DEMO-FGJ"), "发改局张三");
    let refused = |field: &'static str, edit: fn(&mut Value)| {
        let mut body = enterprise_appeal();
        edit(&mut body);
        (field, body)
    };
    for (field, body) in [
        refused("title", |b| b["title"] = json!("厂房\u{0}用地")),
        refused("body", |b| b["body"] = json!("审批\u{1b}[2J缓慢")),
        refused("appellant.name", |b| {
            b["appellant"]["name"] = json!("深圳\u{7f}科技")
        }),
        refused("location.address", |b| {
            b["location"]["address"] = json!("宝安区\u{8}福海街道")
        }),
        refused("attachments[0].name", |b| {
            b["attachments"] = json!([{"name": "照片\u{0}.jpg"}])
        }),
    ] {
        let (status, err) = s
            .call(
                Method::POST,
                "/api/v1/appeals",
                None,
                Some(body),
                Some("en-US"),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["code"], "control_characters", "{err}");
        assert_eq!(err["field"], field, "{err}");
        let message = err["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("Field {field} contains a control character (U+")),
            "{message}"
        );
    }
    let (status, _) = s.get("/api/v1/appeals", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.get("/api/v1/appeals", &admin).await.1["total"], 0);

    // Line breaks and tabs are text; a reply with an escape sequence is refused.
    let mut body = enterprise_appeal();
    body["body"] = json!("第一段\r\n第二段\t完");
    let id = s.submit(None, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = s
        .act(&id, "dispatch", &dispatcher, json!({"unit": "DEMO-FGJ"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s.act(&id, "accept", &unit, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = s
        .act(&id, "reply", &unit, json!({"result": "已办结\u{1b}[31m"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["code"], "control_characters");
    assert_eq!(err["field"], "result");
    assert!(err["message"].as_str().unwrap().contains("U+001B"), "{err}");
    s.stop().await;
}
