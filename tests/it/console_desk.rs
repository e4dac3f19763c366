//! The agent desk (接线台), the dispatcher's queue (派单) and the public's submission page, over
//! HTTP as a browser without JavaScript uses them (the desk's live preview as its script calls
//! it), and in a real browser with screenshots in both languages.

use hotline_bus::Handler;
use hotline_router::{RouterHandler, RoutingPolicy};
use hotline_schemas::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::{Browser, Screen};
use crate::console::{PASSWORD, Visit, csrf_of, signed_in, user_with_password};
use crate::support::{Engine, TestServer, enterprise_appeal, unplaceable_appeal};

/// An agent of the hotline signed in as `xiaowang`.
async fn agent(s: &TestServer) -> (Visit<'_>, hotline_schemas::User) {
    let user = user_with_password(
        s,
        json!({"name": "话务员小王", "username": "xiaowang", "role": "agent"}),
    )
    .await;
    let mut visit = Visit::new(s);
    let signed = visit.sign_in("xiaowang", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    (visit, user)
}

/// The appeal behind a desk or queue redirect such as `/console/desk/appeals/{id}?done=logged`.
fn id_in(location: &str) -> String {
    let re = regex::Regex::new(r"/appeals/([0-9a-f-]{36})").unwrap();
    re.captures(location)
        .unwrap_or_else(|| panic!("no appeal in {location}"))[1]
        .to_owned()
}

/// How many appeals the platform holds.
async fn total(s: &TestServer) -> i64 {
    let admin = s.token(Role::Admin, None, "管理员");
    let (status, page) = s.get("/api/v1/appeals?per_page=100", &admin).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["total"].as_i64().unwrap()
}

/// The router, run on what waits for it (the test server runs the gateway alone), set never to
/// dispatch by itself: everything lands in the dispatcher's queue with its suggestions.
async fn route_waiting(s: &TestServer) {
    let p = s.second_platform().await;
    let classifying = hotline_router::Classifying {
        taxonomy: p.taxonomy(),
        classifier: p.classifier().await.unwrap(),
    };
    let handler = RouterHandler::new(
        p.store.clone(),
        p.reference.clone(),
        p.clock.clone(),
        std::sync::Arc::new(hotline_schemas::reference::Current::new(
            std::sync::Arc::new(classifying),
        )),
        RoutingPolicy {
            threshold: 2.0,
            ..p.routing_policy()
        },
    );
    for entry in p.store.unpublished(1000).await.unwrap() {
        handler.handle(&entry.envelope().unwrap()).await.unwrap();
    }
}

/// The form fields of a call about `body`, with the page's tokens.
fn call<'a>(csrf: &'a str, idem: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("_csrf", csrf),
        ("_idem", idem),
        ("kind", "help"),
        ("title", ""),
        ("body", body),
        ("address", "宝安区福海街道"),
        ("appellant_kind", "person"),
        ("name", "李女士"),
        ("phone", "13912345678"),
        ("uscc", ""),
    ]
}

/// The `_idem` key a form carries.
fn idem_of(html: &str) -> String {
    let re = regex::Regex::new(r#"name="_idem" value="([0-9a-f]{64})""#).unwrap();
    re.captures(html)
        .unwrap_or_else(|| panic!("no key in {html}"))[1]
        .to_owned()
}

async fn an_agent_logs_a_call_and_sees_the_caller_history(s: &TestServer) {
    let earlier = s.submit(None, enterprise_appeal()).await;
    let earlier_ticket = earlier["ticket_no"].as_str().unwrap();
    let (mut visit, user) = agent(s).await;

    // The caller's number brings up their history, unmasked, and fills the form.
    let desk = visit.get("/console/desk?number=13800138000").await;
    assert_eq!(desk.status, StatusCode::OK, "{}", desk.body);
    assert!(desk.body.contains("接线登记"), "{}", desk.body);
    assert!(desk.body.contains(earlier_ticket), "{}", desk.body);
    assert!(desk.body.contains("厂房用地审批缓慢"));
    assert!(
        desk.body.contains(r#"value="13800138000""#),
        "the number is kept"
    );
    assert!(
        desk.body.contains(r#"value="深圳某某科技有限公司""#),
        "the name last given"
    );
    assert!(desk.body.contains(r#"value="enterprise" checked"#));
    let bad = visit.get("/console/desk?number=12").await;
    assert!(bad.body.contains("lookup-problem"), "{}", bad.body);

    // Logging a call: the title is the text's first line; then the new ticket's page.
    let csrf = csrf_of(&desk.body);
    let idem = idem_of(&desk.body);
    let body = "小区停水两天无人处理\n福海街道某小区自周一起停水。";
    let logged = visit.post("/console/desk", &call(&csrf, &idem, body)).await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.body);
    let location = logged.location.unwrap();
    assert!(location.ends_with("?done=logged"), "{location}");
    let id = id_in(&location);
    let page = visit.get(&location).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("工单已登记"), "{}", page.body);
    assert!(
        page.body.contains("13912345678"),
        "the agent who logged it sees it"
    );
    let admin = s.token(Role::Admin, None, "管理员");
    let (_, seen) = s.get(&format!("/api/v1/appeals/{id}"), &admin).await;
    assert_eq!(seen["channel"], "hotline");
    assert_eq!(seen["kind"], "help");
    assert_eq!(seen["title"], "小区停水两天无人处理");
    assert!(page.body.contains(seen["ticket_no"].as_str().unwrap()));
    let store = hotline::open_store(&s.config).await.unwrap();
    let stored = store.appeal(id.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(
        stored.logged_by.and_then(|l| l.user),
        Some(user.id),
        "首问责任: the agent logged it"
    );

    // The same form sent twice is one appeal.
    let before = total(s).await;
    let again = visit.post("/console/desk", &call(&csrf, &idem, body)).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(id_in(&again.location.unwrap()), id);
    assert_eq!(total(s).await, before);

    // The agent's own calls, with how far each has got.
    let desk = visit.get("/console/desk").await;
    assert!(desk.body.contains("我登记的诉求"));
    assert!(desk.body.contains(&format!("/console/desk/appeals/{id}")));
    assert!(!desk.body.contains(&format!(
        "/console/desk/appeals/{}",
        earlier["id"].as_str().unwrap()
    )));

    // A bad number: the form again, as typed, the field named in words.
    let fresh = idem_of(&desk.body);
    let mut fields = call(&csrf, &fresh, "路灯不亮");
    fields.retain(|(k, _)| *k != "phone");
    fields.push(("phone", "12"));
    let refused = visit.post("/console/desk", &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("form-problem"), "{}", refused.body);
    assert!(refused.body.contains("联系电话"), "{}", refused.body);
    assert!(refused.body.contains("路灯不亮"), "what was typed is kept");
    assert!(refused.body.contains(r#"aria-invalid="true""#));
    assert_eq!(total(s).await, before);
}

async fn a_consultation_answered_on_the_spot_is_closed(s: &TestServer) {
    let (mut visit, _) = agent(s).await;
    let desk = visit.get("/console/desk").await;
    let csrf = csrf_of(&desk.body);
    let mut fields = call(&csrf, "", "咨询个体工商户注册需要哪些材料");
    fields.retain(|(k, _)| !matches!(*k, "kind" | "_idem"));
    fields.push(("kind", "complaint"));
    fields.push(("answer", "已告知所需材料和办理地点"));
    let before = total(s).await;
    let refused = visit.post("/console/desk", &fields).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("咨询"), "{}", refused.body);
    assert_eq!(total(s).await, before, "nothing is logged");

    fields.retain(|(k, _)| *k != "kind");
    fields.push(("kind", "consultation"));
    let logged = visit.post("/console/desk", &fields).await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.body);
    let location = logged.location.unwrap();
    assert!(location.ends_with("?done=answered"), "{location}");
    let page = visit.get(&location).await;
    assert!(page.body.contains("当场答复办结"), "{}", page.body);
    assert!(page.body.contains("已告知所需材料和办理地点"));
    let admin = s.token(Role::Admin, None, "管理员");
    let (_, seen) = s
        .get(&format!("/api/v1/appeals/{}", id_in(&location)), &admin)
        .await;
    assert_eq!(seen["status"], "closed");

    // One logged first is closed from its page.
    fields.retain(|(k, _)| *k != "answer");
    let logged = visit.post("/console/desk", &fields).await;
    let location = logged.location.unwrap();
    let page = visit.get(&location).await;
    assert!(page.body.contains("close-form"), "{}", page.body);
    let id = id_in(&location);
    let closed = visit
        .post(
            &format!("/console/desk/appeals/{id}/close"),
            &[("_csrf", &csrf), ("answer", "已电话答复")],
        )
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let (_, seen) = s.get(&format!("/api/v1/appeals/{id}"), &admin).await;
    assert_eq!(seen["status"], "closed");
}

/// `POST /console/desk/preview` as the desk's script sends it.
async fn preview(
    s: &TestServer,
    session: &str,
    csrf: Option<&str>,
    typed: Value,
) -> (StatusCode, Value) {
    let mut request = s
        .client
        .post(format!("{}/console/desk/preview", s.base))
        .header("cookie", format!("hotline_session={session}"))
        .json(&typed);
    if let Some(token) = csrf {
        request = request.header("x-csrf-token", token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn the_preview_suggests_and_stores_nothing(s: &TestServer) {
    let earlier = s.submit(None, enterprise_appeal()).await;
    let (mut visit, _) = agent(s).await;
    let session = visit.set_cookie("hotline_session");
    let session = session
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("hotline_session=")
        .to_owned();
    let desk = visit.get("/console/desk").await;
    let csrf = csrf_of(&desk.body);
    let before = total(s).await;
    let typed = json!({
        "title": "", "body": "我司申请厂房用地,审批已三个月无进展,请协调", "kind": "complaint",
        "phone": "13800138000", "uscc": "", "address": "宝安区福海街道"
    });

    let (status, shown) = preview(s, &session, Some(&csrf), typed.clone()).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert!(!shown["summary"].as_str().unwrap().is_empty(), "{shown}");
    assert!(
        !shown["suggestions"].as_array().unwrap().is_empty(),
        "{shown}"
    );
    let duplicates = shown["duplicates"].as_array().unwrap();
    assert!(
        duplicates
            .iter()
            .any(|d| d["ticket"] == earlier["ticket_no"] && d["why"] == "同一来电人"),
        "{shown}"
    );
    assert_eq!(total(s).await, before, "a preview stores nothing");

    // Without the session's token in the header, nothing.
    let (status, refused) = preview(s, &session, None, typed.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, _) = preview(s, &session, Some(&"0".repeat(64)), typed.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The API's route for bearers of an agent's token: the same preview.
    let agent_token = s.token(Role::Agent, None, "话务员小李");
    let api = json!({
        "body": "我司申请厂房用地,审批已三个月无进展,请协调", "phone": "13800138000"
    });
    let (status, found) = s
        .post("/api/v1/route-preview", Some(&agent_token), api.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert!(
        found["suggestions"][0]["matter"]["code"].is_string(),
        "{found}"
    );
    assert!(found["suggestions"][0]["probability"].is_number());
    assert_eq!(found["duplicates"][0]["why"], "same_appellant", "{found}");
    let unit = s.token(Role::Unit, Some("DEMO-FGJ"), "发改局王五");
    let (status, _) = s.post("/api/v1/route-preview", Some(&unit), api).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, empty) = s
        .post(
            "/api/v1/route-preview",
            Some(&agent_token),
            json!({"body": " "}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{empty}");
    assert_eq!(empty["field"], "body");
    assert_eq!(total(s).await, before, "a preview stores nothing");
}

async fn a_dispatcher_works_the_queue(s: &TestServer) {
    let first = s.submit(None, enterprise_appeal()).await;
    s.set_now(s.now() + chrono::Duration::minutes(5));
    let repeat = s.submit(None, enterprise_appeal()).await;
    s.set_now(s.now() + chrono::Duration::minutes(5));
    let vague = s.submit(None, unplaceable_appeal()).await;
    let mut letter = unplaceable_appeal();
    letter["channel"] = json!("mailbox");
    letter["title"] = json!("反映某单位工作人员问题");
    let letter = s.submit(None, letter).await;
    route_waiting(s).await;

    let mut visit = signed_in(
        s,
        json!({"name": "派单员小陈", "username": "xiaochen", "role": "dispatcher"}),
    )
    .await;
    let queue = visit.get("/console/queue").await;
    assert_eq!(queue.status, StatusCode::OK, "{}", queue.body);
    for appeal in [&first, &repeat, &vague] {
        assert!(queue.body.contains(appeal["ticket_no"].as_str().unwrap()));
    }
    assert!(
        !queue.body.contains(letter["ticket_no"].as_str().unwrap()),
        "confidential ones wait in the mailbox queue"
    );
    assert!(queue.body.contains("quick-dispatch"), "{}", queue.body);
    assert!(queue.body.contains("疑似重复"), "{}", queue.body);

    // The case page: the top suggestion preselected.
    let first_id = first["id"].as_str().unwrap();
    let case = visit
        .get(&format!("/console/queue/appeals/{first_id}"))
        .await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.body);
    let admin = s.token(Role::Admin, None, "管理员");
    let (_, routed) = s.get(&format!("/api/v1/appeals/{first_id}"), &admin).await;
    let top = &routed["suggestions"][0];
    let (unit, matter) = (
        top["unit"].as_str().unwrap(),
        top["matter"].as_str().unwrap(),
    );
    assert!(
        case.body
            .contains(&format!(r#"<option value="{unit}" selected>"#)),
        "{}",
        case.body
    );
    assert!(
        case.body
            .contains(&format!(r#"value="{matter}" data-unit="{unit}" selected"#))
    );

    // Without its token a form changes nothing; with it, the appeal is dispatched.
    let csrf = csrf_of(&case.body);
    let path = format!("/console/queue/appeals/{first_id}/dispatch");
    let forged = visit
        .post(&path, &[("unit", unit), ("matter", matter)])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let dispatched = visit
        .post(
            &path,
            &[("_csrf", &csrf), ("unit", unit), ("matter", matter)],
        )
        .await;
    assert_eq!(
        dispatched.status,
        StatusCode::SEE_OTHER,
        "{}",
        dispatched.body
    );
    let back = dispatched.location.unwrap();
    assert!(back.starts_with("/console/queue?done=dispatched"), "{back}");
    let notice = visit.get(&back).await;
    assert!(notice.body.contains("已派单"), "{}", notice.body);
    let (_, seen) = s.get(&format!("/api/v1/appeals/{first_id}"), &admin).await;
    assert_eq!(seen["status"], "dispatched");
    assert_eq!(seen["unit"], unit);
    assert_eq!(seen["matter"], matter);

    // The unit returns it: back in the queue, reassigned from there (改派).
    let unit_token = s.token(Role::Unit, Some(unit), "承办人");
    let (status, _) = s.act(first_id, "accept", &unit_token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s
        .act(first_id, "reassign", &admin, json!({"unit": "DEMO-FGJ"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let fgj = s.token(Role::Unit, Some("DEMO-FGJ"), "发改局王五");
    let (status, _) = s
        .act(
            first_id,
            "return",
            &fgj,
            json!({"reason": "不属于本单位职责"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let queue = visit.get("/console/queue").await;
    assert!(queue.body.contains("已退回"), "{}", queue.body);
    let case = visit
        .get(&format!("/console/queue/appeals/{first_id}"))
        .await;
    assert!(case.body.contains("不属于本单位职责"), "the unit's reason");
    assert!(
        case.body
            .contains(&format!("/console/queue/appeals/{first_id}/reassign"))
    );
    let reassigned = visit
        .post(
            &format!("/console/queue/appeals/{first_id}/reassign"),
            &[("_csrf", &csrf), ("unit", "DEMO-RSJ"), ("matter", "")],
        )
        .await;
    assert_eq!(
        reassigned.status,
        StatusCode::SEE_OTHER,
        "{}",
        reassigned.body
    );
    let (_, seen) = s.get(&format!("/api/v1/appeals/{first_id}"), &admin).await;
    assert_eq!(seen["status"], "dispatched");
    assert_eq!(seen["unit"], "DEMO-RSJ");

    // The repeat is merged into the appeal it repeats.
    let repeat_id = repeat["id"].as_str().unwrap();
    let (_, linked) = s.get(&format!("/api/v1/appeals/{repeat_id}"), &admin).await;
    assert_eq!(linked["duplicate_of"], first["id"], "{linked}");
    let case = visit
        .get(&format!("/console/queue/appeals/{repeat_id}"))
        .await;
    assert!(case.body.contains("merge-form"), "{}", case.body);
    let merged = visit
        .post(
            &format!("/console/queue/appeals/{repeat_id}/merge"),
            &[("_csrf", &csrf), ("into", first_id)],
        )
        .await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.body);
    let (_, seen) = s.get(&format!("/api/v1/appeals/{repeat_id}"), &admin).await;
    assert_eq!(seen["status"], "merged");

    // The vague one is voided, with the reason.
    let vague_id = vague["id"].as_str().unwrap();
    let no_reason = visit
        .post(
            &format!("/console/queue/appeals/{vague_id}/void"),
            &[("_csrf", &csrf), ("reason", " ")],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let voided = visit
        .post(
            &format!("/console/queue/appeals/{vague_id}/void"),
            &[("_csrf", &csrf), ("reason", "无实际诉求内容")],
        )
        .await;
    assert_eq!(voided.status, StatusCode::SEE_OTHER, "{}", voided.body);
    let (_, seen) = s.get(&format!("/api/v1/appeals/{vague_id}"), &admin).await;
    assert_eq!(seen["status"], "voided");
    let queue = visit.get("/console/queue").await;
    assert!(queue.body.contains("queue-empty"), "{}", queue.body);

    // The confidential letter: the mailbox readers' queue, not the dispatcher's.
    let refused = visit.get("/console/queue/mailbox").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let letter_id = letter["id"].as_str().unwrap();
    let hidden = visit
        .get(&format!("/console/queue/appeals/{letter_id}"))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let mut reader = signed_in(
        s,
        json!({"name": "督办员老周", "username": "laozhou", "role": "supervisor", "mailbox_reader": true}),
    )
    .await;
    let mailbox = reader.get("/console/queue/mailbox").await;
    assert_eq!(mailbox.status, StatusCode::OK, "{}", mailbox.body);
    assert!(mailbox.body.contains(letter["ticket_no"].as_str().unwrap()));
    assert!(mailbox.body.contains("书记信箱"));
}

async fn a_unit_user_may_not_open_the_desk_or_the_queue(s: &TestServer) {
    let mut visit = signed_in(
        s,
        json!({"name": "发改局王五", "username": "wangwu", "role": "unit", "unit": "DEMO-FGJ"}),
    )
    .await;
    for path in ["/console/desk", "/console/queue"] {
        let refused = visit.get(path).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert!(refused.body.contains("无权"), "{}", refused.body);
    }
    let start = visit.get("/console").await;
    let csrf = csrf_of(&start.body);
    let before = total(s).await;
    let refused = visit
        .post("/console/desk", &call(&csrf, "", "路灯不亮"))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(total(s).await, before);
    // Not signed in: to the sign-in page.
    let stranger = Visit::new(s).get("/console/desk").await;
    assert_eq!(stranger.status, StatusCode::SEE_OTHER);
}

async fn a_form_without_its_token_is_refused(s: &TestServer) {
    let (mut visit, _) = agent(s).await;
    let desk = visit.get("/console/desk").await;
    let idem = idem_of(&desk.body);
    let before = total(s).await;
    let mut fields = call("", &idem, "路灯不亮");
    fields.retain(|(k, _)| *k != "_csrf");
    let refused = visit.post("/console/desk", &fields).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("表单已过期"), "{}", refused.body);
    let mut public = Visit::new(s);
    public.get("/submit").await;
    let refused = public.post("/submit", &fields).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(total(s).await, before, "nothing stored");
}

async fn the_public_submits_and_follows(s: &TestServer) {
    let mut visit = Visit::new(s);
    let form = visit.get("/submit").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("提交诉求"));
    let csrf = csrf_of(&form.body);
    let idem = idem_of(&form.body);
    let fields = |uscc: &'static str| {
        vec![
            ("kind", "complaint"),
            ("title", "厂房用地审批缓慢"),
            (
                "body",
                "我司在福海街道申请厂房用地,审批已三个月无进展,请协调。",
            ),
            ("address", "宝安区福海街道"),
            ("appellant_kind", "enterprise"),
            ("name", "深圳某某科技有限公司"),
            ("phone", "13800138000"),
            ("uscc", uscc),
        ]
    };
    // A USCC whose check character is wrong: the form again, saying so by the field's name.
    let mut wrong = fields("914403001922038217");
    wrong.extend([("_csrf", csrf.as_str()), ("_idem", idem.as_str())]);
    let before = total(s).await;
    let refused = visit.post("/submit", &wrong).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("统一社会信用代码"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("914403001922038217"), "kept as typed");
    assert!(refused.body.contains("我司在福海街道申请厂房用地"));
    assert_eq!(total(s).await, before);

    let mut right = fields("914403001922038216");
    right.extend([("_csrf", csrf.as_str()), ("_idem", idem.as_str())]);
    let submitted = visit.post("/submit", &right).await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    let done = visit.get(&submitted.location.unwrap()).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("诉求已提交"), "{}", done.body);
    let ticket = regex::Regex::new(r#"id="submitted-ticket"[^>]*>([0-9-]+)<"#)
        .unwrap()
        .captures(&done.body)
        .unwrap()[1]
        .to_owned();
    let follow = regex::Regex::new(r#"id="follow-link" href="([^"]+)""#)
        .unwrap()
        .captures(&done.body)
        .unwrap()[1]
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(
        follow.starts_with(&format!("/follow?ticket={ticket}&token=")),
        "{follow}"
    );
    let followed = visit.get(&follow).await;
    assert_eq!(followed.status, StatusCode::OK, "{}", followed.body);
    assert!(followed.body.contains("厂房用地审批缓慢"));
    assert!(followed.body.contains("已受理"));
    let admin = s.token(Role::Admin, None, "管理员");
    let (_, page) = s.get("/api/v1/appeals?channel=web", &admin).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["appeals"][0]["ticket_no"], ticket.as_str());

    // A forged link opens nothing.
    let forged = visit
        .get(&format!("/submit/done?ticket={ticket}&token=forged"))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

on_both_engines!(
    an_agent_logs_a_call_and_sees_the_caller_history,
    a_consultation_answered_on_the_spot_is_closed,
    the_preview_suggests_and_stores_nothing,
    a_dispatcher_works_the_queue,
    a_unit_user_may_not_open_the_desk_or_the_queue,
    a_form_without_its_token_is_refused,
    the_public_submits_and_follows,
);

/// The public's submissions are held by the intake limit per client address, on the page too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_submission_page_respects_the_public_limit() {
    let s = TestServer::start_with(Engine::Sqlite, |c| {
        c.public_submissions_per_minute = 1;
        c.public_submission_burst = 1;
    })
    .await
    .unwrap();
    let mut visit = Visit::new(&s);
    let form = visit.get("/submit").await;
    let csrf = csrf_of(&form.body);
    let fields = |n: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("kind", "suggestion".to_owned()),
            ("body", format!("建议在公园增设座椅 {n}")),
            ("appellant_kind", "person".to_owned()),
            ("name", "王先生".to_owned()),
            ("phone", "13912345678".to_owned()),
        ]
    };
    let first = fields("1");
    let first: Vec<(&str, &str)> = first.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ok = visit.post("/submit", &first).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let second = fields("2");
    let second: Vec<(&str, &str)> = second.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let held = visit.post("/submit", &second).await;
    assert_eq!(held.status, StatusCode::TOO_MANY_REQUESTS, "{}", held.body);
    assert!(held.body.contains("提交过于频繁"), "{}", held.body);
    assert!(
        held.body.contains("建议在公园增设座椅 2"),
        "the form is kept"
    );
    s.stop().await;
}

/// The agent desk, the dispatcher's queue and the submission page in a real browser, in both
/// languages: the desk's live preview appears as the agent types, a call is logged, the
/// dispatcher dispatches it from the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_and_the_queue_in_a_browser() {
    let test = "the_desk_and_the_queue_in_a_browser";
    let Some(browser) = Browser::start(test, Screen::Desktop).await else {
        return;
    };
    let s = TestServer::start(Engine::Sqlite).await.unwrap();
    let base = s.base.clone();
    s.submit(None, enterprise_appeal()).await;
    for (name, username, role) in [
        ("话务员小王", "xiaowang", "agent"),
        ("派单员小陈", "xiaochen", "dispatcher"),
    ] {
        user_with_password(
            &s,
            json!({"name": name, "username": username, "role": role}),
        )
        .await;
    }
    let sign_in = |username: &'static str| {
        let browser = &browser;
        let base = base.clone();
        async move {
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
    };

    // The public's form, in Chinese.
    browser.open(&format!("{base}/submit?lang=zh-CN")).await;
    browser.wait_for("#submit-form").await;
    assert!(
        browser
            .eval("return document.querySelector('.uscc-field').hidden")
            .await
            == true,
        "the USCC only for enterprises"
    );
    browser.screenshot("submit-zh-CN").await;

    // The agent: the caller's history, then the live preview while typing.
    sign_in("xiaowang").await;
    browser
        .open(&format!("{base}/console/desk?number=13800138000"))
        .await;
    browser.wait_for("#caller-history").await;
    let body = browser.wait_for("#body").await;
    body.send_keys("我司申请厂房用地,审批已三个月无进展,请协调")
        .await
        .unwrap();
    browser.wait_for("#preview-suggestions li").await;
    browser.wait_for("#preview-duplicates li").await;
    let html = browser.html().await;
    assert!(html.contains("同一来电人"), "{html}");
    browser.screenshot("desk-zh-CN").await;
    // A consultation shows the on-the-spot answer.
    assert_eq!(
        browser
            .eval("return document.querySelector('#answer-fields').hidden")
            .await,
        true
    );
    browser
        .wait_for("input[name=kind][value=consultation]")
        .await
        .click()
        .await
        .unwrap();
    assert_eq!(
        browser
            .eval("return document.querySelector('#answer-fields').hidden")
            .await,
        false
    );
    browser
        .wait_for("input[name=kind][value=complaint]")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for("#log-call").await.click().await.unwrap();
    browser.wait_for("#desk-notice").await;
    assert!(browser.path().await.starts_with("/console/desk/appeals/"));
    let ticket = browser.wait_for("#case-ticket").await.text().await.unwrap();
    browser.screenshot("desk-logged-zh-CN").await;
    browser
        .open(&format!("{base}/console/desk?lang=en-US"))
        .await;
    browser.wait_for("#desk-form").await;
    assert!(browser.html().await.contains("Log a call"));
    browser.screenshot("desk-en-US").await;
    browser
        .wait_for("form[action=\"/sign-out\"] button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for("form[action=\"/sign-in\"]").await;

    // The dispatcher: the queue in English, the new ticket dispatched from its page.
    sign_in("xiaochen").await;
    browser.open(&format!("{base}/console/queue")).await;
    browser.wait_for("#queue").await;
    assert!(browser.html().await.contains(ticket.trim()));
    browser.screenshot("queue-en-US").await;
    browser
        .open(&format!("{base}/console/queue?lang=zh-CN"))
        .await;
    browser.wait_for("#queue").await;
    browser.screenshot("queue-zh-CN").await;
    browser
        .wait_for("a[href^=\"/console/queue/appeals/\"]")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for("#assign-form").await;
    // A matter of another unit chosen first is let go when the unit changes.
    let kept = browser
        .eval(
            "const u = document.querySelector('#unit'), m = document.querySelector('#matter'); \
             const other = m.querySelector('option[data-unit]:not([data-unit=\"DEMO-FGJ\"])'); \
             u.value = other.dataset.unit; u.dispatchEvent(new Event('change')); \
             m.value = other.value; const before = m.value; \
             u.value = 'DEMO-FGJ'; u.dispatchEvent(new Event('change')); \
             return [before, m.value];",
        )
        .await;
    assert_ne!(kept[0], "", "{kept}");
    assert_eq!(kept[1], "", "{kept}");
    browser.screenshot("queue-case-zh-CN").await;
    browser.wait_for("#assign").await.click().await.unwrap();
    browser.wait_for("#queue-notice").await;
    browser.screenshot("queue-dispatched-zh-CN").await;

    browser.close().await;
    s.stop().await;
}

/// The desk, the queue and the submission page on a phone: nothing wider than the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_the_queue_and_the_submission_page_fit_a_phone() {
    let test = "the_desk_the_queue_and_the_submission_page_fit_a_phone";
    let Some(browser) = Browser::start(test, Screen::Phone).await else {
        return;
    };
    let s = TestServer::start(Engine::Sqlite).await.unwrap();
    let base = s.base.clone();
    s.submit(None, enterprise_appeal()).await;
    user_with_password(
        &s,
        json!({"name": "管理员老刘", "username": "laoliu", "role": "admin"}),
    )
    .await;
    let overflow = || async {
        browser
            .eval("return document.documentElement.scrollWidth - window.innerWidth")
            .await
            .as_i64()
            .unwrap()
    };

    browser.open(&format!("{base}/submit?lang=zh-CN")).await;
    browser.wait_for("#submit-form").await;
    browser.screenshot("submit-zh-CN-phone").await;
    assert!(
        overflow().await <= 0,
        "the submission page is wider than the phone"
    );

    browser.open(&format!("{base}/sign-in")).await;
    browser
        .wait_for("#username")
        .await
        .send_keys("laoliu")
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
    browser
        .open(&format!("{base}/console/desk?number=13800138000"))
        .await;
    browser.wait_for("#caller-history").await;
    browser.screenshot("desk-zh-CN-phone").await;
    assert!(overflow().await <= 0, "the desk is wider than the phone");
    browser.open(&format!("{base}/console/queue")).await;
    browser.wait_for("#queue").await;
    browser.screenshot("queue-zh-CN-phone").await;
    assert!(overflow().await <= 0, "the queue is wider than the phone");

    browser.close().await;
    s.stop().await;
}
