//! Reference data in the admin console: a new version of the time-limit policies edited,
//! checked, saved and published, then in force in the running router and worker (embedded),
//! and in the router process of a distributed platform, without a restart.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::console::{PASSWORD, Visit, csrf_of};
use crate::support::{Live, enterprise_appeal};

/// The text of the page's editor, as the browser would submit it.
fn editor_text(html: &str) -> String {
    let start = html.find("<textarea").expect("an editor");
    let start = start + html[start..].find('>').unwrap() + 1;
    let end = start + html[start..].find("</textarea>").unwrap();
    html[start..end]
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn at(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// The minutes between the dispatch and the response deadline of a dispatched appeal.
fn response_minutes(appeal: &Value) -> i64 {
    let dispatched = appeal["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "dispatched")
        .expect("dispatched");
    (at(&appeal["deadlines"]["response_due"]) - at(&dispatched["at"])).num_minutes()
}

/// Edits the policies page's current text with `edit`, saves it and publishes it: the version.
async fn publish_policies(visit: &mut Visit<'_>, edit: impl Fn(&str) -> String) -> String {
    let page = visit.get("/console/admin/reference/policies").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let text = edit(&editor_text(&page.body));
    let csrf = csrf_of(&page.body);
    let saved = visit
        .post(
            "/console/admin/reference/policies",
            &[
                ("_csrf", &csrf),
                ("text", &text),
                ("note", "签收时限改为 10 分钟"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let location = saved.location.unwrap();
    let version = location.rsplit("saved=").next().unwrap().to_owned();
    let shown = visit.get(&location).await;
    assert!(shown.body.contains("id=\"publish\""), "{}", shown.body);
    let published = visit
        .post(
            &format!("/console/admin/reference/policies/{version}/publish"),
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
    version
}

/// The whole embedded platform with an admin who signs in as `zhou`, and an admin token.
async fn live_with_admin(config: hotline::Config) -> (Live, String) {
    let live = Live::start(config, crate::support::monday_morning()).await;
    live.user_with_password(json!({"name": "管理员老周", "username": "zhou", "role": "admin"}))
        .await;
    let admin = live.token(hotline_schemas::Role::Admin, None, "管理员");
    (live, admin)
}

fn ten_minutes(text: &str) -> String {
    assert!(text.contains("response = \"30m\""), "{text}");
    text.replace("response = \"30m\"", "response = \"10m\"")
        .replace("remind_every = \"30m\"", "remind_every = \"7m\"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_policy_is_in_force_in_the_running_router_and_worker() {
    let data = tempfile::tempdir().unwrap();
    // The same letter is sent several times: not to be taken for a duplicate here.
    let config = hotline::Config {
        data_dir: data.path().join("data"),
        duplicate_window_hours: 0,
        ..hotline::Config::default()
    }
    .without_intake_limits();
    let (live, admin) = live_with_admin(config.clone()).await;

    // Before: the shipped 30 minutes.
    let before = live.submit(None, enterprise_appeal()).await;
    let before = before["id"].as_str().unwrap();
    let dispatched =
        crate::procs::until(&live.base, before, &admin, |a| a["status"] == "dispatched").await;
    assert_eq!(response_minutes(&dispatched), 30);

    let mut visit = Visit::at(&live.base);
    visit.sign_in("zhou", PASSWORD).await;
    let overview = visit.get("/console/admin/reference").await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.body.contains("办理时限"), "{}", overview.body);
    assert!(overview.body.contains("区规划和自然资源局"));
    // The streets and their offices (属地), with their communities.
    assert!(
        overview.body.contains("id=\"street-FY\""),
        "{}",
        overview.body
    );
    assert!(overview.body.contains("福永街道办事处"));
    assert!(overview.body.contains("凤凰社区"));

    // A text that does not load is refused, kept in the editor, and nothing is saved.
    let page = visit.get("/console/admin/reference/policies").await;
    let csrf = csrf_of(&page.body);
    let broken = editor_text(&page.body).replace("response = \"30m\"", "response = \"半小时\"");
    let refused = visit
        .post(
            "/console/admin/reference/policies",
            &[("_csrf", &csrf), ("text", &broken), ("note", "")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused.body.contains("id=\"reference-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("该版本无法使用"), "{}", refused.body);
    assert!(refused.body.contains("半小时"));
    // Without its CSRF token the form is refused before anything is read.
    let forged = visit
        .post(
            "/console/admin/reference/policies",
            &[("text", &ten_minutes(&editor_text(&page.body)))],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let kind = hotline_schemas::reference::ReferenceKind::Policies;
    let store = hotline::open_store(&config).await.unwrap();
    assert_eq!(store.reference_versions(kind).await.unwrap().len(), 1);

    let version = publish_policies(&mut visit, ten_minutes).await;
    assert_eq!(version, "2");
    let page = visit
        .get("/console/admin/reference/policies?done=published")
        .await;
    assert!(
        page.body.contains("v2 <span class=\"badge\">使用中"),
        "{}",
        page.body
    );

    // The router, running since before, dispatches with the new limit.
    let after = live.submit(None, enterprise_appeal()).await;
    let after = after["id"].as_str().unwrap().to_owned();
    let dispatched =
        crate::procs::until(&live.base, &after, &admin, |a| a["status"] == "dispatched").await;
    assert_eq!(response_minutes(&dispatched), 10);

    // The worker's timers too: the sign-for reminder comes 7 minutes after the breach.
    let due = at(&dispatched["deadlines"]["response_due"]);
    live.set_now(due + Duration::minutes(1)).await;
    let reminded = crate::procs::until(&live.base, &after, &admin, |a| {
        a["sla"]["next_step"] == "response_reminder"
    })
    .await;
    let reminder = reminded["events"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["type"] == "reminded")
        .expect("reminded");
    assert_eq!(
        (at(&reminded["sla"]["next_due"]) - at(&reminder["at"])).num_minutes(),
        7
    );
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_open_the_reference_data() {
    let Some(s) = crate::support::TestServer::start(crate::support::Engine::Sqlite).await else {
        return;
    };
    let mut unit = crate::console::signed_in(
        &s,
        json!({"name": "规自局王五", "username": "wangwu", "role": "unit", "unit": "GHZRZYJ"}),
    )
    .await;
    for path in [
        "/console/admin/reference",
        "/console/admin/reference/policies",
        "/console/admin/reference/policies/1",
    ] {
        assert_eq!(unit.get(path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let mut admin = crate::console::signed_in(
        &s,
        json!({"name": "管理员老周", "username": "zhou", "role": "admin"}),
    )
    .await;
    let file = admin.get("/console/admin/reference/calendar/1").await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(
        file.body.starts_with("date,kind,festival"),
        "{}",
        &file.body[..40]
    );
    assert_eq!(
        admin
            .get("/console/admin/reference/calendar/9")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        admin.get("/console/admin/reference/units").await.status,
        StatusCode::NOT_FOUND
    );
    let page = admin.get("/console/admin/reference/calendar").await;
    let csrf = csrf_of(&page.body);
    let forged = unit
        .post(
            "/console/admin/reference/calendar/1/publish",
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_process_follows_a_publication_without_a_restart() {
    let Some(platform) = crate::distributed::Platform::create().await else {
        return;
    };
    let env = &platform
        .env
        .clone()
        .with("HOTLINE_DUPLICATE_WINDOW_HOURS", "0");
    let mut add = env
        .command(&[
            "user",
            "add",
            "--name",
            "管理员老周",
            "--role",
            "admin",
            "--username",
            "zhou",
            "--password",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = add.stdin.take().unwrap();
        writeln!(stdin, "{PASSWORD}").unwrap();
    }
    assert!(add.wait().unwrap().success());
    let port = crate::procs::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _gateway = env.spawn_http("gateway", port).await;
    let _router = env.spawn("router");
    let _worker = env.spawn("worker");
    let admin = env.token(&["--role", "admin"]);

    let first = crate::procs::submit(&base, &enterprise_appeal()).await;
    let first = first["id"].as_str().unwrap().to_owned();
    let dispatched =
        crate::procs::until(&base, &first, &admin, |a| a["status"] == "dispatched").await;
    assert_eq!(response_minutes(&dispatched), 30);

    let mut visit = Visit::at(&base);
    visit.sign_in("zhou", PASSWORD).await;
    publish_policies(&mut visit, ten_minutes).await;

    // The router process hears of it on the bus (or within its periodic check).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let next = crate::procs::submit(&base, &enterprise_appeal()).await;
        let id = next["id"].as_str().unwrap().to_owned();
        let dispatched =
            crate::procs::until(&base, &id, &admin, |a| a["status"] == "dispatched").await;
        if response_minutes(&dispatched) == 10 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the router never reloaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// A new unit and its matter, appended to the taxonomy.
const DRONE_OFFICE: &str = r#"

[[unit]]
code = "WRJB"
name = "区无人机管理办公室"
name_en = "District Drone Office"
aliases = ["无人机办"]

[[matter]]
code = "IND-90"
name = "无人机飞行审批"
name_en = "Drone flight approval"
category = "IND"
unit = "WRJB"
keywords = ["无人机", "航拍", "飞行审批", "空域"]
examples = [
  "公司要用无人机航拍新建厂区做宣传片,飞行审批要去哪里申请,需要多长时间?",
  "我们想在园区上空试飞植保无人机,请问空域申请和飞行审批的流程是什么?",
]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_taxonomy_brings_its_units_and_matters_to_the_running_router() {
    let data = tempfile::tempdir().unwrap();
    let config = hotline::Config {
        data_dir: data.path().join("data"),
        ..hotline::Config::default()
    }
    .without_intake_limits();
    let (live, admin) = live_with_admin(config.clone()).await;
    let mut visit = Visit::at(&live.base);
    visit.sign_in("zhou", PASSWORD).await;

    let page = visit.get("/console/admin/reference/taxonomy").await;
    let text = format!("{}{DRONE_OFFICE}", editor_text(&page.body));
    let saved = visit
        .post(
            "/console/admin/reference/taxonomy",
            &[
                ("_csrf", &csrf_of(&page.body)),
                ("text", &text),
                ("note", "新设无人机办"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let shown = visit.get(&saved.location.unwrap()).await;
    // What the new version holds, before it is published.
    assert!(shown.body.contains("单位 "), "{}", shown.body);
    let published = visit
        .post(
            "/console/admin/reference/taxonomy/2/publish",
            &[("_csrf", &csrf_of(&shown.body))],
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );

    let (status, units) = live.get("/api/v1/units", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert!(units.to_string().contains("区无人机管理办公室"), "{units}");
    let overview = visit.get("/console/admin/reference").await;
    assert!(overview.body.contains("WRJB"));

    // The router, running since before, knows the new matter and its unit once it has heard
    // of the publication and built its classifier again (the gateway knew it at once).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let mut appeal = enterprise_appeal();
        appeal["title"] = json!("无人机航拍审批咨询");
        appeal["body"] =
            json!("我司下个月要用无人机航拍厂区,飞行审批和空域申请应该找哪个部门办理?");
        let created = live.submit(None, appeal).await;
        let id = created["id"].as_str().unwrap().to_owned();
        let classified = crate::procs::until_classified(&live.base, &id, &admin).await;
        if classified["suggestions"][0]["unit"] == "WRJB" {
            assert_eq!(classified["suggestions"][0]["matter"], "IND-90");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{classified}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    live.stop().await;
}
