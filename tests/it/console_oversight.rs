//! The oversight desk (督办) and the dashboards (统计看板) of the console over HTTP: who sees
//! which cases, taking ownership (包案) and approving extensions through the forms, the
//! confidential desk, the downloads (CSV with a BOM, XLSX), and the dashboard's figures against
//! the API's statistics; then both pages in a real browser, in both languages.

use chrono::Duration;
use hotline_schemas::Role;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::{Value, json};

use crate::console::{PASSWORD, Visit, csrf_of, user_with_password};
use crate::support::{TestServer, enterprise_appeal};

/// The tokens of the API's roles in these tests.
struct Staff {
    dispatcher: String,
    unit: String,
    other_unit: String,
}

fn staff(s: &TestServer) -> Staff {
    Staff {
        dispatcher: s.token(Role::Dispatcher, None, "派单员老陈"),
        unit: s.token(Role::Unit, Some("DEMO-FGJ"), "发改局张三"),
        other_unit: s.token(Role::Unit, Some("DEMO-RSJ"), "人资局李四"),
    }
}

fn id_of(appeal: &Value) -> String {
    appeal["id"].as_str().unwrap().to_owned()
}

/// A signed-in visit of a new user `new` describes, its session cookie (for downloads read as
/// bytes) and an API token of the same user.
async fn person<'s>(s: &'s TestServer, new: Value) -> (Visit<'s>, String, String) {
    let username = new["username"].as_str().unwrap().to_lowercase();
    let user = user_with_password(s, new).await;
    let mut visit = Visit::new(s);
    let answer = visit.sign_in(&username, PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let cookie = visit.set_cookie("hotline_session");
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let token = hotline::issue_token(&s.config, &user.actor()).unwrap();
    (visit, cookie, token)
}

/// A download: status, content type and bytes.
async fn fetch(s: &TestServer, cookie: &str, path: &str) -> (StatusCode, String, Vec<u8>) {
    let response = s
        .client
        .get(format!("{}{path}", s.base))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, kind, response.bytes().await.unwrap().to_vec())
}

/// Submits an enterprise appeal and dispatches it to `unit`: its id and appellant token.
async fn dispatched(s: &TestServer, t: &Staff, unit: &str) -> (String, String) {
    let created = s.submit(None, enterprise_appeal()).await;
    let id = id_of(&created);
    let (status, body) = s
        .act(&id, "dispatch", &t.dispatcher, json!({"unit": unit}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id, created["appellant_token"].as_str().unwrap().to_owned())
}

/// Thursday 15:00, three working days and six hours after Monday 09:00: every appeal
/// dispatched on Monday morning is past its deadline and escalated to the supervisor (level 2),
/// not yet to the leader.
async fn to_thursday_afternoon(s: &TestServer) {
    s.set_now(crate::support::monday_morning() + Duration::days(3) + Duration::hours(6));
    s.fire_timers().await;
}

on_both_engines!(
    leaders_watch_the_escalated_cases_of_their_units_and_take_one,
    a_supervisor_approves_an_extension,
    oversight_is_for_leaders_supervisors_and_admins,
    the_confidential_desk_is_the_mailbox_readers_and_the_discipline_offices,
    downloads_are_csv_with_a_bom_and_xlsx_workbooks,
    the_dashboard_counts_as_the_api_does,
);

async fn leaders_watch_the_escalated_cases_of_their_units_and_take_one(s: &TestServer) {
    let t = staff(s);
    let (first, _) = dispatched(s, &t, "DEMO-FGJ").await;
    let (second, _) = dispatched(s, &t, "DEMO-FGJ").await;
    let (elsewhere, _) = dispatched(s, &t, "DEMO-RSJ").await;
    let (mut leader, _, _) = person(
        s,
        json!({"name": "王副区长", "username": "wangfu", "role": "leader", "in_charge_of": ["DEMO-FGJ"]}),
    )
    .await;
    let (mut other, _, _) = person(
        s,
        json!({"name": "李副区长", "username": "lifu", "role": "leader", "in_charge_of": ["DEMO-GHZRZYJ"]}),
    )
    .await;

    // Not late yet: nothing on the desk.
    let desk = leader.get("/console/oversight").await;
    assert_eq!(desk.status, StatusCode::OK, "{}", desk.body);
    assert!(
        desk.body.contains("id=\"oversight-empty\""),
        "{}",
        desk.body
    );

    // Three days on, the sessions have ended: signed in again.
    to_thursday_afternoon(s).await;
    assert_eq!(
        leader.get("/console/oversight").await.status,
        StatusCode::SEE_OTHER
    );
    leader.sign_in("wangfu", PASSWORD).await;
    other.sign_in("lifu", PASSWORD).await;
    let desk = leader.get("/console/oversight").await;
    assert_eq!(desk.status, StatusCode::OK);
    for id in [&first, &second] {
        assert!(
            desk.body.contains(&format!("id=\"case-{id}\"")),
            "{}",
            desk.body
        );
    }
    assert!(!desk.body.contains(&elsewhere), "another unit's case");
    assert!(desk.body.contains("超期未办结"));
    // Never signed for: late since the response deadline, Monday 09:30.
    assert!(desk.body.contains("3 天 5 小时"), "how late: {}", desk.body);
    assert!(desk.body.contains("二级督办"));
    assert!(
        !desk.body.contains("id=\"extensions\""),
        "leaders approve nothing"
    );
    // Filtered by unit and status.
    let filtered = leader.get("/console/oversight?unit=DEMO-RSJ").await;
    assert!(filtered.body.contains("id=\"oversight-empty\""));
    let filtered = leader
        .get("/console/oversight?unit=DEMO-FGJ&status=dispatched&from=2026-11-23&to=2026-11-23")
        .await;
    assert!(filtered.body.contains(&format!("id=\"case-{first}\"")));
    let filtered = leader.get("/console/oversight?from=2026-11-24").await;
    assert!(
        filtered.body.contains("id=\"oversight-empty\""),
        "received before"
    );

    // The leader takes the first (包案) from the desk, and is shown as its owner.
    let csrf = csrf_of(&desk.body);
    let owned = leader
        .post(
            &format!("/console/oversight/appeals/{first}/own"),
            &[("_csrf", &csrf), ("back", "list")],
        )
        .await;
    assert_eq!(owned.status, StatusCode::SEE_OTHER, "{}", owned.body);
    let back = owned.location.unwrap();
    assert!(back.starts_with("/console/oversight?done=owned"), "{back}");
    let desk = leader.get(&back).await;
    assert!(
        desk.body.contains("id=\"oversight-notice\""),
        "{}",
        desk.body
    );
    let row = desk
        .body
        .split(&format!("id=\"case-{first}\""))
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert!(
        row.contains("王副区长") && row.contains("本人包案"),
        "{row}"
    );
    assert!(!row.contains("/own\""), "owned already: no button");
    let case = leader
        .get(&format!("/console/oversight/appeals/{first}"))
        .await;
    assert_eq!(case.status, StatusCode::OK);
    assert!(case.body.contains("本人包案"));
    assert!(
        case.body.contains("领导包案"),
        "the history holds it: {}",
        case.body
    );
    // The owner sees the appellant unmasked; the other case stays masked for the leader.
    assert!(case.body.contains("13800138000"), "{}", case.body);
    let case = leader
        .get(&format!("/console/oversight/appeals/{second}"))
        .await;
    assert!(case.body.contains("138****8000"), "{}", case.body);
    assert!(case.body.contains("id=\"own\""));

    // A leader of another unit sees none of it.
    let desk = other.get("/console/oversight").await;
    assert!(
        desk.body.contains("id=\"oversight-empty\""),
        "{}",
        desk.body
    );
    let case = other
        .get(&format!("/console/oversight/appeals/{second}"))
        .await;
    assert_eq!(case.status, StatusCode::NOT_FOUND);
    let csrf = csrf_of(&desk.body);
    let refused = other
        .post(
            &format!("/console/oversight/appeals/{second}/own"),
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    // Without the page's token, nothing happens.
    let refused = leader
        .post(&format!("/console/oversight/appeals/{second}/own"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn a_supervisor_approves_an_extension(s: &TestServer) {
    let t = staff(s);
    let (id, _) = dispatched(s, &t, "DEMO-FGJ").await;
    s.act(&id, "accept", &t.unit, json!({})).await;
    let (status, body) = s
        .act(
            &id,
            "extend",
            &t.unit,
            json!({"days": 2, "reason": "需要现场勘查,请延期两个工作日"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let due_before = body["deadlines"]["resolve_due"].clone();
    let (mut supervisor, _, token) = person(
        s,
        json!({"name": "督办员赵六", "username": "zhaoliu", "role": "supervisor"}),
    )
    .await;
    let desk = supervisor.get("/console/oversight").await;
    assert_eq!(desk.status, StatusCode::OK, "{}", desk.body);
    assert!(
        desk.body.contains("id=\"extensions-table\""),
        "{}",
        desk.body
    );
    assert!(desk.body.contains("需要现场勘查"));
    assert!(desk.body.contains("2 个工作日"));
    let csrf = csrf_of(&desk.body);
    let approved = supervisor
        .post(
            &format!("/console/oversight/appeals/{id}/approve-extension"),
            &[("_csrf", &csrf), ("back", "list")],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    let desk = supervisor.get(&approved.location.unwrap()).await;
    assert!(desk.body.contains("已批准延期"), "{}", desk.body);
    assert!(desk.body.contains("id=\"extensions-empty\""));
    let (_, appeal) = s.get(&format!("/api/v1/appeals/{id}"), &token).await;
    assert_eq!(appeal["pending_extension"], Value::Null, "{appeal}");
    assert_eq!(appeal["deadlines"]["original_resolve_due"], due_before);
    assert_ne!(appeal["deadlines"]["resolve_due"], due_before);
    assert_eq!(
        crate::support::event_types(&appeal).last().unwrap(),
        "extension_approved"
    );
    // Once approved there is nothing left to approve.
    let again = supervisor
        .post(
            &format!("/console/oversight/appeals/{id}/approve-extension"),
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
}

async fn oversight_is_for_leaders_supervisors_and_admins(s: &TestServer) {
    let (mut unit, _, _) = person(
        s,
        json!({"name": "发改局王五", "username": "wangwu", "role": "unit", "unit": "DEMO-FGJ"}),
    )
    .await;
    for path in [
        "/console/oversight",
        "/console/oversight/export?format=csv",
        "/console/oversight/mailbox",
    ] {
        let page = unit.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
    }
    let page = unit.get("/console/oversight").await;
    assert!(
        page.body.contains("无法完成操作"),
        "a page in the visitor's language"
    );
    let (mut dispatcher, _, _) = person(
        s,
        json!({"name": "派单员老陈", "username": "laochen", "role": "dispatcher"}),
    )
    .await;
    assert_eq!(
        dispatcher.get("/console/oversight").await.status,
        StatusCode::FORBIDDEN
    );
    let (mut admin, _, _) = person(
        s,
        json!({"name": "管理员", "username": "admin", "role": "admin"}),
    )
    .await;
    let desk = admin.get("/console/oversight").await;
    assert_eq!(desk.status, StatusCode::OK);
    assert!(desk.body.contains("id=\"extensions\""));
    assert!(desk.body.contains("href=\"/console/oversight/mailbox\""));
    // Not signed in: to the sign-in page, and back here after.
    let mut nobody = Visit::new(s);
    let page = nobody.get("/console/oversight").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location.unwrap().starts_with("/sign-in?next="));
}

async fn the_confidential_desk_is_the_mailbox_readers_and_the_discipline_offices(s: &TestServer) {
    let mut letter = enterprise_appeal();
    letter["channel"] = json!("mailbox");
    letter["title"] = json!("反映某局工作人员吃拿卡要");
    let letter = s.submit(None, letter).await;
    let ticket = letter["ticket_no"].as_str().unwrap().to_owned();
    let ordinary = s.submit(None, enterprise_appeal()).await;
    let ordinary_ticket = ordinary["ticket_no"].as_str().unwrap();

    let (mut reader, _, _) = person(
        s,
        json!({"name": "督办员老周", "username": "laozhou", "role": "supervisor", "mailbox_reader": true}),
    )
    .await;
    let desk = reader.get("/console/oversight/mailbox").await;
    assert_eq!(desk.status, StatusCode::OK, "{}", desk.body);
    assert!(desk.body.contains(&ticket), "{}", desk.body);
    assert!(desk.body.contains("吃拿卡要"));
    assert!(
        !desk.body.contains(ordinary_ticket),
        "only confidential letters"
    );
    assert!(
        desk.body.contains("/console/queue/appeals/"),
        "placed from the queue"
    );
    let (mut office, _, _) = person(
        s,
        json!({"name": "纪委监委小刘", "username": "xiaoliu", "role": "unit", "unit": "JWJW"}),
    )
    .await;
    let desk = office.get("/console/oversight/mailbox").await;
    assert_eq!(desk.status, StatusCode::OK, "{}", desk.body);
    assert!(desk.body.contains(&ticket));

    for new in [
        json!({"name": "派单员老陈", "username": "laochen", "role": "dispatcher"}),
        json!({"name": "督办员赵六", "username": "zhaoliu", "role": "supervisor"}),
    ] {
        let (mut visit, _, _) = person(s, new).await;
        let desk = visit.get("/console/oversight/mailbox").await;
        assert_eq!(desk.status, StatusCode::FORBIDDEN, "{}", desk.body);
        assert!(!desk.body.contains(&ticket));
    }
}

async fn downloads_are_csv_with_a_bom_and_xlsx_workbooks(s: &TestServer) {
    let t = staff(s);
    let (first, _) = dispatched(s, &t, "DEMO-FGJ").await;
    let (second, _) = dispatched(s, &t, "DEMO-RSJ").await;
    to_thursday_afternoon(s).await;
    let (_, cookie, token) = person(
        s,
        json!({"name": "督办员赵六", "username": "zhaoliu", "role": "supervisor"}),
    )
    .await;
    let ticket = |id: &str| {
        let id = id.to_owned();
        let token = token.clone();
        async move {
            let (_, a) = s.get(&format!("/api/v1/appeals/{id}"), &token).await;
            a["ticket_no"].as_str().unwrap().to_owned()
        }
    };
    let (first_ticket, second_ticket) = (ticket(&first).await, ticket(&second).await);

    let (status, kind, bytes) = fetch(s, &cookie, "/console/oversight/export?format=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "text/csv; charset=utf-8");
    assert!(bytes.starts_with(b"\xef\xbb\xbf"), "UTF-8 with a BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two cases: {text}");
    assert!(lines[0].starts_with("工单号,标题,承办单位"), "{}", lines[0]);
    assert!(text.contains(&first_ticket) && text.contains(&second_ticket));
    assert!(text.contains("超期未办结"));
    // Filtered as the page is.
    let (_, _, bytes) = fetch(
        s,
        &cookie,
        "/console/oversight/export?format=csv&unit=DEMO-RSJ",
    )
    .await;
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains(&second_ticket) && !text.contains(&first_ticket));

    let (status, kind, bytes) = fetch(s, &cookie, "/console/oversight/export?format=xlsx").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        kind,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(bytes.starts_with(b"PK\x03\x04"), "a zip");
    let names = String::from_utf8_lossy(&bytes);
    for part in [
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/worksheets/sheet1.xml",
    ] {
        assert!(names.contains(part), "{part} in the workbook");
    }

    // The dashboard's tables too, for the same period as the page.
    let period = "from=2026-11-01&to=2026-11-30";
    let (status, kind, bytes) = fetch(
        s,
        &cookie,
        &format!("/console/dashboard/export?table=units&format=csv&{period}"),
    )
    .await;
    assert_eq!(
        (status, kind.as_str()),
        (StatusCode::OK, "text/csv; charset=utf-8")
    );
    assert!(bytes.starts_with(b"\xef\xbb\xbf"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(
        rows.iter().all(|r| r.ends_with(",1,1,0,1")),
        "received, dispatched, replied, overdue: {text}"
    );
    let (status, kind, bytes) = fetch(
        s,
        &cookie,
        &format!("/console/dashboard/export?table=ranking&format=xlsx&{period}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.ends_with("spreadsheetml.sheet"));
    assert!(bytes.starts_with(b"PK\x03\x04"));
    let (status, _, _) = fetch(
        s,
        &cookie,
        &format!("/console/dashboard/export?table=nothing&format=csv&{period}"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// A figure of the dashboard's summary CSV (the row named `label`), as a number.
fn summary_value(csv: &str, label: &str) -> Option<f64> {
    let line = csv
        .lines()
        .find(|l| l.split(',').next() == Some(label))
        .unwrap_or_else(|| panic!("no {label} in {csv}"));
    line.rsplit(',').next().unwrap().parse().ok()
}

async fn the_dashboard_counts_as_the_api_does(s: &TestServer) {
    let t = staff(s);
    // Signed for in 10 minutes, replied the next day, rated 满意.
    let (good, good_token) = dispatched(s, &t, "DEMO-FGJ").await;
    s.set_now(s.now() + Duration::minutes(10));
    s.act(&good, "accept", &t.unit, json!({})).await;
    // Signed for after 40 minutes.
    let (slow, _) = dispatched(s, &t, "DEMO-FGJ").await;
    s.set_now(s.now() + Duration::minutes(40));
    s.act(&slow, "accept", &t.unit, json!({})).await;
    // Another unit's, returned at once.
    let (returned, _) = dispatched(s, &t, "DEMO-RSJ").await;
    s.act(
        &returned,
        "return",
        &t.other_unit,
        json!({"reason": "不属于本单位职责"}),
    )
    .await;
    // A confidential letter, not dispatched.
    let mut letter = enterprise_appeal();
    letter["channel"] = json!("mailbox");
    s.submit(None, letter).await;
    s.set_now(s.now() + Duration::days(1));
    s.act(&good, "reply", &t.unit, json!({"result": "已协调办结"}))
        .await;
    let (status, body) = s
        .act(
            &good,
            "rate",
            &good_token,
            json!({"rating": "satisfied", "comment": "满意"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s.set_now(s.now() + Duration::days(6));
    s.fire_timers().await;

    let period = "from=2026-11-01&to=2026-11-30";
    let people = [
        json!({"name": "管理员", "username": "admin", "role": "admin"}),
        json!({"name": "派单员老陈", "username": "laochen", "role": "dispatcher"}),
        json!({"name": "王副区长", "username": "wangfu", "role": "leader", "in_charge_of": ["DEMO-FGJ"]}),
        json!({"name": "发改局王五", "username": "wangwu", "role": "unit", "unit": "DEMO-FGJ"}),
    ];
    let mut received = Vec::new();
    for new in people {
        let role = new["role"].as_str().unwrap().to_owned();
        let (mut visit, cookie, token) = person(s, new).await;
        let (status, api) = s.get(&format!("/api/v1/stats?{period}"), &token).await;
        assert_eq!(status, StatusCode::OK, "{api}");
        let page = visit.get(&format!("/console/dashboard?{period}")).await;
        assert_eq!(page.status, StatusCode::OK, "{role}: {}", page.body);
        assert!(
            page.body.contains(&format!(
                "id=\"kpi-received\">{}<",
                api["received"].as_u64().unwrap()
            )),
            "{role}: {api}"
        );
        let (status, _, bytes) = fetch(
            s,
            &cookie,
            &format!("/console/dashboard/export?table=summary&format=csv&{period}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let csv = String::from_utf8(bytes[3..].to_vec()).unwrap();
        for (label, field) in [
            ("受理量", "received"),
            ("派单量", "dispatched"),
            ("及时签收数", "responded_in_time"),
            ("签收及时率", "response_rate"),
            ("办结答复数", "replied"),
            ("按期办结数", "replied_on_time"),
            ("按期办结率", "on_time_rate"),
            ("评价数", "rated"),
            ("满意数", "satisfied"),
            ("满意率", "satisfaction_rate"),
            ("当前超期", "overdue"),
        ] {
            let ours = summary_value(&csv, label);
            let theirs = api[field].as_f64();
            match (ours, theirs) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-4, "{role} {field}: {a} vs {b}"),
                (None, None) => {}
                other => panic!("{role} {field}: {other:?}\n{csv}\n{api}"),
            }
        }
        let hours = summary_value(&csv, "平均办理时长(小时)");
        let api_hours = api["average_handling_hours"].as_f64();
        assert_eq!(hours.is_some(), api_hours.is_some(), "{role}");
        if let (Some(a), Some(b)) = (hours, api_hours) {
            assert!((a - b).abs() < 0.051, "{role}: {a} vs {b}");
        }
        // Each unit's row as the API's.
        if let Some(units) = api["units"].as_array() {
            let (_, _, bytes) = fetch(
                s,
                &cookie,
                &format!("/console/dashboard/export?table=units&format=csv&{period}"),
            )
            .await;
            let table = String::from_utf8(bytes[3..].to_vec()).unwrap();
            assert_eq!(table.lines().count() - 1, units.len(), "{role}: {table}");
            for unit in units {
                let wanted = format!(
                    ",{},{},{},{}",
                    unit["received"], unit["dispatched"], unit["replied"], unit["overdue"]
                );
                assert!(
                    table.lines().any(|l| l.ends_with(&wanted)),
                    "{role}: {wanted} in {table}"
                );
            }
        }
        received.push((role, api["received"].as_u64().unwrap()));
    }
    assert_eq!(
        received,
        [
            ("admin".to_owned(), 4),
            ("dispatcher".to_owned(), 3),
            ("leader".to_owned(), 2),
            ("unit".to_owned(), 2),
        ],
        "each in their scope"
    );
}

mod browser {
    use super::*;
    use crate::browser::{Browser, Screen};

    /// Signs in through the form of the sign-in page.
    async fn sign_in(browser: &Browser, base: &str, username: &str) {
        browser.open(&format!("{base}/sign-in")).await;
        browser
            .wait_for("#username")
            .await
            .send_keys(username)
            .await
            .unwrap();
        browser
            .wait_for("#password")
            .await
            .send_keys(PASSWORD)
            .await
            .unwrap();
        browser
            .wait_for("form[action=\"/sign-in\"] button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        browser.wait_for("form[action=\"/sign-out\"]").await;
    }

    /// Whether every chart of the page drew a canvas.
    async fn charts_drawn(browser: &Browser) -> (u64, u64) {
        for _ in 0..50 {
            let found = browser
                .eval(
                    "return [document.querySelectorAll('.chart').length, \
                     document.querySelectorAll('.chart canvas').length]",
                )
                .await;
            let (charts, canvases) = (found[0].as_u64().unwrap(), found[1].as_u64().unwrap());
            if charts > 0 && canvases >= charts {
                return (charts, canvases);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the charts were not drawn: {}", browser.html().await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_dashboard_and_the_oversight_desk_in_both_languages() {
        let test = "the_dashboard_and_the_oversight_desk_in_both_languages";
        let Some(browser) = Browser::start(test, Screen::Desktop).await else {
            return;
        };
        let s = TestServer::start(crate::support::Engine::Sqlite)
            .await
            .unwrap();
        let t = staff(&s);
        for unit in ["DEMO-FGJ", "DEMO-FGJ", "DEMO-RSJ"] {
            dispatched(&s, &t, unit).await;
        }
        // Replied in time: not on the desk.
        let (id, _) = dispatched(&s, &t, "DEMO-FGJ").await;
        s.act(&id, "accept", &t.unit, json!({})).await;
        s.act(&id, "reply", &t.unit, json!({"result": "已办结"}))
            .await;
        to_thursday_afternoon(&s).await;
        user_with_password(
            &s,
            json!({"name": "督办员赵六", "username": "zhaoliu", "role": "supervisor", "mailbox_reader": true}),
        )
        .await;
        let base = &s.base;
        sign_in(&browser, base, "zhaoliu").await;

        for lang in ["zh-CN", "en-US"] {
            browser
                .open(&format!(
                    "{base}/console/dashboard?lang={lang}&from=2026-11-01&to=2026-11-30"
                ))
                .await;
            assert_eq!(
                browser.eval("return document.documentElement.lang").await,
                lang
            );
            let (charts, _) = charts_drawn(&browser).await;
            assert!(charts >= 6, "{charts} charts");
            let received = browser
                .eval("return document.getElementById('kpi-received').textContent")
                .await;
            assert_eq!(received, "4");
            // Every chart has its table, with headers.
            let tables = browser
                .eval("return document.querySelectorAll('table.data thead th[scope=col]').length")
                .await;
            assert!(tables.as_u64().unwrap() > 20);
            // The week's words: every appeal is about industrial land approval (厂房用地审批).
            let topics = browser
                .eval("return document.querySelector('#table-topics tbody').textContent")
                .await;
            assert!(topics.as_str().unwrap().contains("审批"), "{topics}");
            browser.screenshot(&format!("dashboard-{lang}")).await;
            for panel in ["days", "units", "topics"] {
                browser
                    .eval(&format!(
                        "document.getElementById('panel-{panel}').scrollIntoView(); return true"
                    ))
                    .await;
                browser
                    .screenshot(&format!("dashboard-{lang}-{panel}"))
                    .await;
            }

            browser
                .open(&format!("{base}/console/oversight?lang={lang}"))
                .await;
            browser.wait_for("#oversight").await;
            let rows = browser
                .eval("return document.querySelectorAll('#oversight tbody tr').length")
                .await;
            assert_eq!(rows, 3, "the three late ones");
            browser.wait_for("label[for=f-unit]").await;
            browser.screenshot(&format!("oversight-{lang}")).await;
        }

        // The case page from the desk, by keyboard-reachable links.
        browser
            .wait_for("#oversight tbody tr a")
            .await
            .click()
            .await
            .unwrap();
        browser.wait_for("#history").await;
        assert!(
            browser
                .path()
                .await
                .starts_with("/console/oversight/appeals/")
        );
        browser.screenshot("oversight-case-en-US").await;

        // No script or style was refused by the Content-Security-Policy, and nothing wider
        // than the window on a dashboard.
        browser
            .open(&format!("{base}/console/dashboard?lang=zh-CN"))
            .await;
        charts_drawn(&browser).await;
        let overflow = browser
            .eval("return document.documentElement.scrollWidth - window.innerWidth")
            .await;
        assert!(overflow.as_i64().unwrap() <= 0, "{overflow} px too wide");

        browser.close().await;
        s.stop().await;
    }

    /// The dashboard on a phone: charts drawn, nothing wider than the screen.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_dashboard_fits_a_phone() {
        let test = "the_dashboard_fits_a_phone";
        let Some(browser) = Browser::start(test, Screen::Phone).await else {
            return;
        };
        let s = TestServer::start(crate::support::Engine::Sqlite)
            .await
            .unwrap();
        let t = staff(&s);
        dispatched(&s, &t, "DEMO-FGJ").await;
        user_with_password(
            &s,
            json!({"name": "王副区长", "username": "wangfu", "role": "leader", "in_charge_of": ["DEMO-FGJ"]}),
        )
        .await;
        sign_in(&browser, &s.base, "wangfu").await;
        browser
            .open(&format!("{}/console/dashboard?lang=zh-CN", s.base))
            .await;
        charts_drawn(&browser).await;
        let overflow = browser
            .eval("return document.documentElement.scrollWidth - window.innerWidth")
            .await;
        browser.screenshot("dashboard-zh-CN-phone").await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{overflow} px wider than the phone"
        );
        browser.close().await;
        s.stop().await;
    }
}
