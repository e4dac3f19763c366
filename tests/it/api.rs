//! The v1 API, run on SQLite always and on PostgreSQL when `HOTLINE_TEST_PG_URL` is set.

use chrono::{TimeZone, Utc};
use hotline_schemas::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestServer, enterprise_appeal, event_types, person_appeal, staff_actor};

on_both_engines!(
    full_lifecycle_from_submission_to_rating,
    bad_rating_reopens_for_rework,
    errors_are_precise_and_localized,
    idempotency_keys_return_the_same_appeal,
    concurrent_accepts_one_wins,
    listing_filters_pages_and_scopes,
    extension_moves_the_deadline_and_keeps_the_original,
    returned_appeal_is_reassigned_with_fresh_clocks,
    void_close_and_unknown_units,
    appellant_token_sees_only_its_own_appeal,
    health_and_units,
    oversized_bodies_are_refused,
);

struct Staff {
    admin: String,
    agent: String,
    dispatcher: String,
    unit: String,
    other_unit: String,
    supervisor: String,
}

fn staff(s: &TestServer) -> Staff {
    Staff {
        admin: s.token(Role::Admin, None, "管理员"),
        agent: s.token(Role::Agent, None, "话务员小王"),
        dispatcher: s.token(Role::Dispatcher, None, "派单员老陈"),
        unit: s.token(Role::Unit, Some("DEMO-FGJ"), "发改局张三"),
        other_unit: s.token(Role::Unit, Some("DEMO-RSJ"), "人资局李四"),
        supervisor: s.token(Role::Supervisor, None, "督办员赵六"),
    }
}

fn id_of(appeal: &Value) -> String {
    appeal["id"].as_str().unwrap().to_owned()
}

async fn full_lifecycle_from_submission_to_rating(s: &TestServer) {
    let t = staff(s);
    let created = s.submit(None, enterprise_appeal()).await;
    let id = id_of(&created);
    assert_eq!(created["status"], "received");
    assert!(
        created["ticket_no"]
            .as_str()
            .unwrap()
            .starts_with("20261123-")
    );
    assert_eq!(created["unit"], Value::Null);
    assert_eq!(created["deadlines"]["resolve_due"], Value::Null);
    let appellant = created["appellant_token"].as_str().unwrap().to_owned();

    let (status, dispatched) = s
        .act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{dispatched}");
    assert_eq!(dispatched["status"], "dispatched");
    assert_eq!(dispatched["unit"], "DEMO-FGJ");
    // Monday 09:00: signed for by 09:30, solved by Thursday 09:00 (3 working days).
    assert_eq!(
        dispatched["deadlines"]["response_due"],
        "2026-11-23T09:30:00+08:00"
    );
    assert_eq!(
        dispatched["deadlines"]["resolve_due"],
        "2026-11-26T09:00:00+08:00"
    );
    assert_eq!(
        dispatched["deadlines"]["original_resolve_due"],
        "2026-11-26T09:00:00+08:00"
    );

    s.set_now(s.now() + chrono::Duration::minutes(10));
    let (status, accepted) = s.act(&id, "accept", &t.unit, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["status"], "accepted");

    let (status, replied) = s
        .act(
            &id,
            "reply",
            &t.unit,
            json!({"result": "已协调规划部门,审批已于本周完成。"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replied}");
    assert_eq!(replied["status"], "replied");

    let (status, rated) = s
        .act(
            &id,
            "rate",
            &appellant,
            json!({"rating": "very_satisfied", "comment": "办事高效"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rated}");
    assert_eq!(rated["status"], "closed");
    assert_eq!(rated["rating"], "very_satisfied");

    let (status, read) = s.get(&format!("/api/v1/appeals/{id}"), &t.agent).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        event_types(&read),
        [
            "received",
            "dispatched",
            "accepted",
            "replied",
            "rated",
            "closed"
        ]
    );
    let events = read["events"].as_array().unwrap();
    let actors: Vec<&str> = events
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(
        actors,
        [
            "appellant",
            "派单员老陈",
            "发改局张三",
            "发改局张三",
            "appellant",
            "appellant"
        ]
    );
    for e in events {
        let at = e["at"].as_str().unwrap();
        assert!(at.ends_with("+08:00"), "{at}");
        chrono::DateTime::parse_from_rfc3339(at).unwrap();
    }
    assert_eq!(events[1]["data"]["unit"], "DEMO-FGJ");
    assert_eq!(events[4]["data"]["comment"], "办事高效");

    // Nothing more can happen to a closed appeal.
    let (status, err) = s
        .act(&id, "reply", &t.unit, json!({"result": "again"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["code"], "action_not_allowed");
}

async fn bad_rating_reopens_for_rework(s: &TestServer) {
    let t = staff(s);
    let created = s.submit(None, enterprise_appeal()).await;
    let id = id_of(&created);
    let appellant = created["appellant_token"].as_str().unwrap().to_owned();
    s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
        .await;
    s.act(&id, "accept", &t.unit, json!({})).await;
    s.act(&id, "reply", &t.unit, json!({"result": "已处理"}))
        .await;

    let (status, reopened) = s
        .act(
            &id,
            "rate",
            &appellant,
            json!({"rating": "dissatisfied", "comment": "问题没有解决"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reopened}");
    assert_eq!(reopened["status"], "reopened");
    assert_eq!(reopened["rework_count"], 1);
    // Rework within 15 working days of Monday 2026-11-23 09:00: Monday 2026-12-14 09:00.
    assert_eq!(
        reopened["deadlines"]["resolve_due"],
        "2026-12-14T09:00:00+08:00"
    );
    assert_eq!(
        reopened["deadlines"]["original_resolve_due"],
        "2026-11-26T09:00:00+08:00"
    );

    let (status, _) = s.act(&id, "accept", &t.unit, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s
        .act(&id, "reply", &t.unit, json!({"result": "已重新处理并回访"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    // An agent records the call-back rating (回访).
    let (status, closed) = s
        .act(&id, "rate", &t.agent, json!({"rating": "satisfied"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert_eq!(
        event_types(&closed),
        [
            "received",
            "dispatched",
            "accepted",
            "replied",
            "rated",
            "reopened",
            "accepted",
            "replied",
            "rated",
            "closed"
        ]
    );
}

#[allow(clippy::too_many_arguments)] // one line per part of the expected answer
async fn expect_error(
    s: &TestServer,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    status: StatusCode,
    code: &str,
    field: Option<&str>,
    zh: &str,
    en: &str,
) {
    for (lang, expected) in [
        (None, zh),
        (Some("zh-CN"), zh),
        (Some("en-US,en;q=0.9"), en),
    ] {
        let (got, err) = s
            .call(method.clone(), path, token, body.clone(), lang)
            .await;
        assert_eq!(got, status, "{path} {err}");
        assert_eq!(err["code"], code, "{err}");
        assert_eq!(err["field"].as_str(), field, "{err}");
        let message = err["message"].as_str().unwrap();
        assert!(
            message.contains(expected),
            "{lang:?}: {message:?} lacks {expected:?}"
        );
    }
}

async fn errors_are_precise_and_localized(s: &TestServer) {
    let t = staff(s);
    let mut bad_uscc = enterprise_appeal();
    bad_uscc["appellant"]["uscc"] = json!("914403001922038217");
    expect_error(
        s,
        Method::POST,
        "/api/v1/appeals",
        None,
        Some(bad_uscc),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_uscc",
        Some("appellant.uscc"),
        "统一社会信用代码 914403001922038217 的校验码错误",
        "Unified social credit code 914403001922038217 has a wrong check character",
    )
    .await;

    let mut bad_channel = enterprise_appeal();
    bad_channel["channel"] = json!("fax");
    expect_error(
        s,
        Method::POST,
        "/api/v1/appeals",
        None,
        Some(bad_channel),
        StatusCode::BAD_REQUEST,
        "invalid_value",
        Some("channel"),
        "字段 channel 的取值无效: fax (hotline, mailbox, wechat, web, open311)",
        "Invalid value for field channel: fax (hotline, mailbox, wechat, web, open311)",
    )
    .await;

    let mut extra = enterprise_appeal();
    extra["appellant"]["age"] = json!(30);
    expect_error(
        s,
        Method::POST,
        "/api/v1/appeals",
        None,
        Some(extra),
        StatusCode::BAD_REQUEST,
        "unknown_field",
        Some("appellant.age"),
        "不认识的字段 appellant.age",
        "Unknown field appellant.age",
    )
    .await;

    let mut missing = enterprise_appeal();
    missing.as_object_mut().unwrap().remove("title");
    expect_error(
        s,
        Method::POST,
        "/api/v1/appeals",
        None,
        Some(missing),
        StatusCode::BAD_REQUEST,
        "missing_field",
        Some("title"),
        "缺少必填字段 title",
        "Missing required field title",
    )
    .await;

    let id = id_of(&s.submit(None, enterprise_appeal()).await);
    let path = format!("/api/v1/appeals/{id}/accept");
    // Accepting before dispatch: the status is checked before anything else in the body.
    s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
        .await;
    s.act(&id, "accept", &t.unit, json!({})).await;
    expect_error(
        s,
        Method::POST,
        &path,
        Some(&t.unit),
        Some(json!({"bogus": true})),
        StatusCode::CONFLICT,
        "action_not_allowed",
        None,
        "工单当前状态为「已签收」,不能执行操作「签收」",
        "The appeal is \"accepted\": action \"accept\" is not allowed",
    )
    .await;

    // A unit that the appeal is not dispatched to cannot see it.
    let reply = format!("/api/v1/appeals/{id}/reply");
    expect_error(
        s,
        Method::POST,
        &reply,
        Some(&t.other_unit),
        Some(json!({"result": "x"})),
        StatusCode::NOT_FOUND,
        "appeal_not_found",
        None,
        "工单不存在,或您无权查看",
        "The appeal does not exist or you may not see it",
    )
    .await;
    expect_error(
        s,
        Method::GET,
        &format!("/api/v1/appeals/{id}"),
        Some(&t.other_unit),
        None,
        StatusCode::NOT_FOUND,
        "appeal_not_found",
        None,
        "工单不存在,或您无权查看",
        "The appeal does not exist or you may not see it",
    )
    .await;

    // Someone who sees it but may not act gets 403.
    expect_error(
        s,
        Method::POST,
        &reply,
        Some(&t.agent),
        Some(json!({"result": "x"})),
        StatusCode::FORBIDDEN,
        "forbidden",
        None,
        "角色「话务员」无权执行操作「办结答复」",
        "Role \"agent\" may not perform action \"reply\"",
    )
    .await;

    expect_error(
        s,
        Method::GET,
        "/api/v1/appeals",
        None,
        None,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        None,
        "需要登录",
        "Authentication required",
    )
    .await;
    expect_error(
        s,
        Method::GET,
        "/api/v1/appeals",
        Some("forged.token.here"),
        None,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        None,
        "令牌无效",
        "The token is invalid",
    )
    .await;

    // Content errors of actions name the field.
    let other = id_of(&s.submit(None, enterprise_appeal()).await);
    s.act(
        &other,
        "dispatch",
        &t.dispatcher,
        json!({"unit": "DEMO-FGJ"}),
    )
    .await;
    expect_error(
        s,
        Method::POST,
        &format!("/api/v1/appeals/{other}/return"),
        Some(&t.unit),
        Some(json!({"reason": "  "})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "empty_field",
        Some("reason"),
        "字段 reason 不能为空",
        "Field reason must not be empty",
    )
    .await;
    expect_error(
        s,
        Method::POST,
        &format!("/api/v1/appeals/{other}/teleport"),
        Some(&t.unit),
        None,
        StatusCode::NOT_FOUND,
        "unknown_action",
        None,
        "不支持的操作 teleport",
        "Unsupported action teleport",
    )
    .await;

    // A phone number that is not one.
    let mut bad_phone = person_appeal("停水");
    bad_phone["appellant"]["phone"] = json!("12ab");
    expect_error(
        s,
        Method::POST,
        "/api/v1/appeals",
        Some(&t.agent),
        Some(bad_phone),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_phone",
        Some("appellant.phone"),
        "联系电话 12ab 格式不正确",
        "Phone number 12ab is not valid",
    )
    .await;

    // None of this harmed what is stored.
    let (status, stored) = s.get(&format!("/api/v1/appeals/{id}"), &t.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored["status"], "accepted");
    assert_eq!(event_types(&stored), ["received", "dispatched", "accepted"]);
}

async fn idempotency_keys_return_the_same_appeal(s: &TestServer) {
    let t = staff(s);
    let send = |key: &'static str, token: Option<String>, body: Value| {
        let mut req = s
            .client
            .post(format!("{}/api/v1/appeals", s.base))
            .header("idempotency-key", key)
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let resp = req.send().await.unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        }
    };
    let (first_status, first) =
        send("call-0001", Some(t.agent.clone()), person_appeal("停水")).await;
    assert_eq!(first_status, StatusCode::CREATED);
    let (again_status, again) =
        send("call-0001", Some(t.agent.clone()), person_appeal("停水")).await;
    assert_eq!(again_status, StatusCode::OK);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["ticket_no"], first["ticket_no"]);

    let (conflict_status, conflict) =
        send("call-0001", Some(t.agent.clone()), person_appeal("停电")).await;
    assert_eq!(conflict_status, StatusCode::CONFLICT);
    assert_eq!(conflict["code"], "idempotency_key_reused");

    // Keys are scoped per caller.
    let (other_status, other) = send(
        "call-0001",
        Some(t.dispatcher.clone()),
        person_appeal("停水"),
    )
    .await;
    assert_eq!(other_status, StatusCode::CREATED);
    assert_ne!(other["id"], first["id"]);

    let (status, list) = s.get("/api/v1/appeals", &t.admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["total"], 2);

    let (bad_status, bad) = send("", Some(t.agent.clone()), person_appeal("停水")).await;
    assert_eq!(bad_status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["code"], "invalid_idempotency_key");
}

async fn concurrent_accepts_one_wins(s: &TestServer) {
    let t = staff(s);
    for _ in 0..5 {
        let id = id_of(&s.submit(None, enterprise_appeal()).await);
        s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
            .await;
        let (a, b) = tokio::join!(
            s.act(&id, "accept", &t.unit, json!({})),
            s.act(&id, "accept", &t.unit, json!({}))
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{} {}",
            a.1,
            b.1
        );
        let loser = if a.0 == StatusCode::CONFLICT {
            a.1
        } else {
            b.1
        };
        let code = loser["code"].as_str().unwrap();
        assert!(
            ["concurrent_update", "action_not_allowed"].contains(&code),
            "{loser}"
        );

        // A dispatcher and a second dispatcher racing to reassign: one wins.
        let id2 = id_of(&s.submit(None, enterprise_appeal()).await);
        let (a, b) = tokio::join!(
            s.act(&id2, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"})),
            s.act(&id2, "dispatch", &t.admin, json!({"unit": "DEMO-RSJ"}))
        );
        assert_eq!(
            [a.0, b.0].iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "{} {}",
            a.1,
            b.1
        );
        let (_, read) = s.get(&format!("/api/v1/appeals/{id2}"), &t.admin).await;
        assert_eq!(event_types(&read), ["received", "dispatched"]);
    }
}

async fn listing_filters_pages_and_scopes(s: &TestServer) {
    let t = staff(s);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(id_of(
            &s.submit(Some(&t.agent), person_appeal(&format!("停水 {i}")))
                .await,
        ));
    }
    let web = id_of(&s.submit(None, enterprise_appeal()).await);
    s.act(
        &ids[0],
        "dispatch",
        &t.dispatcher,
        json!({"unit": "DEMO-FGJ"}),
    )
    .await;
    s.act(
        &ids[1],
        "dispatch",
        &t.dispatcher,
        json!({"unit": "DEMO-RSJ"}),
    )
    .await;

    let (_, all) = s.get("/api/v1/appeals", &t.supervisor).await;
    assert_eq!(all["total"], 6);
    let (_, received) = s
        .get("/api/v1/appeals?status=received", &t.dispatcher)
        .await;
    assert_eq!(received["total"], 4);
    let (_, fgj) = s.get("/api/v1/appeals?unit=DEMO-FGJ", &t.admin).await;
    assert_eq!(fgj["total"], 1);
    assert_eq!(fgj["appeals"][0]["id"], ids[0].as_str());
    let (_, by_channel) = s.get("/api/v1/appeals?channel=web", &t.admin).await;
    assert_eq!(by_channel["total"], 1);
    assert_eq!(by_channel["appeals"][0]["id"], web.as_str());

    // A unit sees only its own appeals, whatever it asks for.
    let (_, own) = s.get("/api/v1/appeals?unit=DEMO-RSJ", &t.unit).await;
    assert_eq!(own["total"], 1);
    assert_eq!(own["appeals"][0]["id"], ids[0].as_str());

    // Paging, newest first.
    let (_, page1) = s.get("/api/v1/appeals?per_page=4&page=1", &t.admin).await;
    let (_, page2) = s.get("/api/v1/appeals?per_page=4&page=2", &t.admin).await;
    assert_eq!(page1["appeals"].as_array().unwrap().len(), 4);
    assert_eq!(page2["appeals"].as_array().unwrap().len(), 2);
    assert_eq!(page2["total"], 6);
    let tickets: Vec<String> = page1["appeals"]
        .as_array()
        .unwrap()
        .iter()
        .chain(page2["appeals"].as_array().unwrap())
        .map(|a| a["ticket_no"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = tickets.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(tickets, sorted);

    // Overdue: move past Thursday 09:00, the resolution deadline of both dispatched appeals.
    let (_, none_late) = s.get("/api/v1/appeals?overdue=true", &t.admin).await;
    assert_eq!(none_late["total"], 0);
    s.set_now(Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap());
    let (_, late) = s.get("/api/v1/appeals?overdue=true", &t.admin).await;
    assert_eq!(late["total"], 2);
    assert_eq!(late["appeals"][0]["overdue"], true);

    for bad in [
        "status=lost",
        "overdue=maybe",
        "page=0",
        "per_page=1000",
        "colour=red",
    ] {
        let (status, err) = s.get(&format!("/api/v1/appeals?{bad}"), &t.admin).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(err["code"], "invalid_query");
        assert_eq!(err["field"], bad.split('=').next().unwrap());
    }
}

async fn extension_moves_the_deadline_and_keeps_the_original(s: &TestServer) {
    let t = staff(s);
    let id = id_of(&s.submit(None, enterprise_appeal()).await);
    s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
        .await;
    s.act(&id, "accept", &t.unit, json!({})).await;
    let (status, err) = s.act(&id, "extend/approve", &t.supervisor, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["code"], "no_pending_extension");

    let (status, err) = s
        .act(
            &id,
            "extend",
            &t.unit,
            json!({"hours": 5, "reason": "需现场勘查"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["field"], "days");

    let (status, requested) = s
        .act(
            &id,
            "extend",
            &t.unit,
            json!({"days": 2, "reason": "需现场勘查"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{requested}");
    assert_eq!(requested["pending_extension"]["days"], 2);
    let (status, _) = s.act(&id, "extend/approve", &t.unit, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, approved) = s.act(&id, "extend/approve", &t.supervisor, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(
        approved["deadlines"]["resolve_due"],
        "2026-11-30T09:00:00+08:00"
    );
    assert_eq!(
        approved["deadlines"]["original_resolve_due"],
        "2026-11-26T09:00:00+08:00"
    );
    assert_eq!(approved["pending_extension"], Value::Null);
    assert_eq!(
        event_types(&approved),
        [
            "received",
            "dispatched",
            "accepted",
            "extension_requested",
            "extension_approved"
        ]
    );

    // Less than one working day before the deadline is too late.
    s.set_now(Utc.with_ymd_and_hms(2026, 11, 27, 2, 0, 0).unwrap());
    let (status, err) = s
        .act(&id, "extend", &t.unit, json!({"days": 1, "reason": "再延"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["code"], "extension_too_late");
}

async fn returned_appeal_is_reassigned_with_fresh_clocks(s: &TestServer) {
    let t = staff(s);
    let id = id_of(&s.submit(None, enterprise_appeal()).await);
    s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
        .await;
    let (status, returned) = s
        .act(
            &id,
            "return",
            &t.unit,
            json!({"reason": "不属于本单位职责,应由人资局办理"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{returned}");
    assert_eq!(returned["status"], "returned");
    let events = returned["events"].as_array().unwrap();
    assert_eq!(events[2]["reason"], "不属于本单位职责,应由人资局办理");

    // Friday 2026-11-27 15:00: the new unit's clocks start now, and Friday + 3 working days is
    // Wednesday.
    s.set_now(Utc.with_ymd_and_hms(2026, 11, 27, 7, 0, 0).unwrap());
    let (status, reassigned) = s
        .act(&id, "reassign", &t.dispatcher, json!({"unit": "DEMO-RSJ"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{reassigned}");
    assert_eq!(reassigned["status"], "dispatched");
    assert_eq!(reassigned["unit"], "DEMO-RSJ");
    assert_eq!(
        reassigned["deadlines"]["response_due"],
        "2026-11-27T15:30:00+08:00"
    );
    assert_eq!(
        reassigned["deadlines"]["resolve_due"],
        "2026-12-02T15:00:00+08:00"
    );
    assert_eq!(
        event_types(&reassigned),
        ["received", "dispatched", "returned", "reassigned"]
    );
    assert_eq!(reassigned["events"][3]["data"]["from_unit"], "DEMO-FGJ");

    // The first unit no longer sees it; the new one does.
    let (status, _) = s.get(&format!("/api/v1/appeals/{id}"), &t.unit).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s.get(&format!("/api/v1/appeals/{id}"), &t.other_unit).await;
    assert_eq!(status, StatusCode::OK);
}

async fn void_close_and_unknown_units(s: &TestServer) {
    let t = staff(s);
    let id = id_of(&s.submit(None, enterprise_appeal()).await);
    let (status, err) = s
        .act(&id, "dispatch", &t.dispatcher, json!({"unit": "NOPE"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["code"], "unknown_unit");
    assert_eq!(err["field"], "unit");
    let (status, err) = s.act(&id, "void", &t.dispatcher, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["code"], "missing_field");
    let (status, voided) = s
        .act(
            &id,
            "void",
            &t.dispatcher,
            json!({"reason": "重复来电,内容无效"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(voided["status"], "voided");

    // A consultation answered on the spot is closed by the agent (一次性告知).
    let mut consultation = person_appeal("社保转移怎么办理");
    consultation["kind"] = json!("consultation");
    let cid = id_of(&s.submit(Some(&t.agent), consultation).await);
    let (status, closed) = s
        .act(&cid, "close", &t.agent, json!({"reason": "已当场答复"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "closed");
    let pid = id_of(&s.submit(Some(&t.agent), person_appeal("停水")).await);
    let (status, err) = s.act(&pid, "close", &t.agent, json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["code"], "not_a_consultation");
}

async fn appellant_token_sees_only_its_own_appeal(s: &TestServer) {
    let t = staff(s);
    let mine = s.submit(None, enterprise_appeal()).await;
    let other = s.submit(None, enterprise_appeal()).await;
    let token = mine["appellant_token"].as_str().unwrap();
    let (status, read) = s
        .get(&format!("/api/v1/appeals/{}", id_of(&mine)), token)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["ticket_no"], mine["ticket_no"]);
    let (status, _) = s
        .get(&format!("/api/v1/appeals/{}", id_of(&other)), token)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s.get("/api/v1/appeals", token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An appellant cannot rate before the reply, and cannot act for the unit.
    let (status, _) = s
        .act(&id_of(&mine), "rate", token, json!({"rating": "satisfied"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = s
        .act(
            &id_of(&mine),
            "dispatch",
            token,
            json!({"unit": "DEMO-FGJ"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The hotline channel is for agents; the public submits through public channels.
    let (status, err) = s.post("/api/v1/appeals", None, person_appeal("停水")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
    let (status, _) = s
        .post("/api/v1/appeals", Some(&t.unit), enterprise_appeal())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn health_and_units(s: &TestServer) {
    let (status, body) = s.call(Method::GET, "/healthz", None, None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, body) = s.call(Method::GET, "/readyz", None, None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
    let (status, _) = s.call(Method::GET, "/api/v1/units", None, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let token = s.token(Role::Agent, None, "a");
    let (status, body) = s.get("/api/v1/units", &token).await;
    assert_eq!(status, StatusCode::OK);
    let units = body["units"].as_array().unwrap();
    assert!(units.len() >= 2);
    assert!(
        units
            .iter()
            .all(|u| u["code"].is_string() && u["name"].is_string())
    );
    assert!(units.iter().any(|u| u["code"] == "DEMO-FGJ"));
    let (status, err) = s
        .call(Method::GET, "/api/v1/nothing", None, None, Some("en-US"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["code"], "not_found");
}

async fn oversized_bodies_are_refused(s: &TestServer) {
    let mut huge = enterprise_appeal();
    huge["body"] = json!("很".repeat(100_000));
    let (status, err) = s
        .call(
            Method::POST,
            "/api/v1/appeals",
            None,
            Some(huge),
            Some("en-US"),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(err["code"], "payload_too_large");
    let mut long = enterprise_appeal();
    long["title"] = json!("长".repeat(201));
    let (status, err) = s.post("/api/v1/appeals", None, long).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        (err["code"].as_str(), err["field"].as_str()),
        (Some("too_long"), Some("title"))
    );
}

mod routing_api {
    use super::*;

    on_both_engines!(
        taxonomy_is_served,
        dispatch_queue_shows_waiting_appeals,
        dispatcher_names_the_matter_and_corrections_are_kept,
    );

    async fn taxonomy_is_served(s: &TestServer) {
        let t = staff(s);
        let (status, body) = s.get("/api/v1/taxonomy", &t.agent).await;
        assert_eq!(status, StatusCode::OK);
        let categories = body["categories"].as_array().unwrap();
        assert_eq!(categories.len(), 10);
        let matters: usize = categories
            .iter()
            .map(|c| c["matters"].as_array().unwrap().len())
            .sum();
        assert_eq!(matters, 137);
        let first = &categories[0];
        for key in ["code", "name", "name_en"] {
            assert!(first[key].is_string(), "{key}");
        }
        let matter = &first["matters"][0];
        for key in ["code", "name", "name_en", "unit"] {
            assert!(matter[key].is_string(), "{key}");
        }
        assert!(
            body["units"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["code"] == "JWJW")
        );
        // The taxonomy's units can be dispatched to.
        let (_, units) = s.get("/api/v1/units", &t.agent).await;
        assert!(
            units["units"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["code"] == "GHZRZYJ")
        );
    }

    async fn dispatch_queue_shows_waiting_appeals(s: &TestServer) {
        let t = staff(s);
        let first = id_of(&s.submit(None, enterprise_appeal()).await);
        s.set_now(s.now() + chrono::Duration::minutes(20));
        let second = id_of(&s.submit(Some(&t.agent), person_appeal("停水")).await);
        let third = id_of(&s.submit(Some(&t.agent), person_appeal("停电")).await);
        s.act(
            &third,
            "dispatch",
            &t.dispatcher,
            json!({"unit": "DEMO-FGJ"}),
        )
        .await;

        let (status, queue) = s.get("/api/v1/dispatch-queue", &t.dispatcher).await;
        assert_eq!(status, StatusCode::OK, "{queue}");
        assert_eq!(queue["total"], 2);
        let appeals = queue["appeals"].as_array().unwrap();
        assert_eq!(appeals[0]["id"], first.as_str(), "oldest first");
        assert_eq!(appeals[1]["id"], second.as_str());
        assert_eq!(appeals[0]["waiting_seconds"], 20 * 60);
        assert_eq!(
            appeals[0]["dispatch_overdue"], true,
            "waited past 15 minutes"
        );
        assert_eq!(appeals[1]["dispatch_overdue"], false);
        assert!(appeals[0]["suggestions"].is_array());

        let (status, _) = s.get("/api/v1/dispatch-queue", &t.unit).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }

    async fn dispatcher_names_the_matter_and_corrections_are_kept(s: &TestServer) {
        let t = staff(s);
        let id = id_of(&s.submit(None, enterprise_appeal()).await);
        let (status, err) = s
            .act(
                &id,
                "dispatch",
                &t.dispatcher,
                json!({"unit": "GHZRZYJ", "matter": "NOPE-99"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            (err["code"].as_str(), err["field"].as_str()),
            (Some("unknown_matter"), Some("matter"))
        );
        let (_, taxonomy) = s.get("/api/v1/taxonomy", &t.admin).await;
        let matter = taxonomy["categories"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["matters"].as_array().unwrap().clone())
            .find(|m| m["unit"] == "GHZRZYJ")
            .unwrap();
        let code = matter["code"].as_str().unwrap();
        let (status, err) = s
            .act(
                &id,
                "dispatch",
                &t.dispatcher,
                json!({"unit": "RSJ", "matter": code}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err["code"], "matter_unit_mismatch");
        let (status, dispatched) = s
            .act(
                &id,
                "dispatch",
                &t.dispatcher,
                json!({"unit": "GHZRZYJ", "matter": code}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{dispatched}");
        assert_eq!(dispatched["matter"], code);
        assert_eq!(dispatched["events"][1]["data"]["matter"], code);
        let unit = s.token(Role::Unit, Some("GHZRZYJ"), "规自局");
        let (status, _) = s
            .act(&id, "return", &unit, json!({"reason": "应由住建局办理"}))
            .await;
        assert_eq!(status, StatusCode::OK);

        let store = hotline::open_store(&s.config).await.unwrap();
        let kept = store.training_examples().await.unwrap();
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert_eq!(kept[0].matter.as_deref(), Some(code));
        assert_eq!(kept[0].unit, "GHZRZYJ");
        assert_eq!(kept[0].source, "dispatch");
        assert!(kept[0].text.contains("厂房用地审批缓慢"));
        assert_eq!(
            (kept[1].source.as_str(), kept[1].unit.as_str()),
            ("return", "GHZRZYJ")
        );
    }
}

mod stats_api {
    use super::*;

    on_both_engines!(statistics_of_the_month);

    async fn statistics_of_the_month(s: &TestServer) {
        let t = staff(s);
        let created = s.submit(None, enterprise_appeal()).await;
        let id = id_of(&created);
        let appellant = created["appellant_token"].as_str().unwrap().to_owned();
        s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
            .await;
        s.set_now(s.now() + chrono::Duration::minutes(10));
        s.act(&id, "accept", &t.unit, json!({})).await;
        s.set_now(s.now() + chrono::Duration::hours(5));
        s.act(&id, "reply", &t.unit, json!({"result": "已办结"}))
            .await;
        s.act(&id, "rate", &appellant, json!({"rating": "satisfied"}))
            .await;
        // A second one, signed for late and still open past its deadline.
        let late = id_of(&s.submit(None, enterprise_appeal()).await);
        s.act(
            &late,
            "dispatch",
            &t.dispatcher,
            json!({"unit": "DEMO-RSJ"}),
        )
        .await;
        s.set_now(s.now() + chrono::Duration::days(4));
        let rsj = s.token(Role::Unit, Some("DEMO-RSJ"), "人资局");
        s.act(&late, "accept", &rsj, json!({})).await;

        let (status, stats) = s.get("/api/v1/stats", &t.supervisor).await;
        assert_eq!(status, StatusCode::OK, "{stats}");
        assert_eq!(stats["from"], "2026-11-01");
        assert_eq!(stats["to"], "2026-11-30");
        assert_eq!(stats["received"], 2);
        assert_eq!(stats["response_rate"], 0.5);
        assert_eq!(stats["on_time_rate"], 1.0);
        assert_eq!(stats["satisfaction_rate"], 1.0);
        assert_eq!(stats["overdue"], 1);
        let units = stats["units"].as_array().unwrap();
        let fgj = units.iter().find(|u| u["unit"] == "DEMO-FGJ").unwrap();
        assert_eq!(fgj["response_rate"], 1.0);
        assert!((fgj["average_handling_hours"].as_f64().unwrap() - 5.1666).abs() < 0.01);

        // A unit sees its own figures; other periods hold nothing; bad dates are named.
        let (_, own) = s.get("/api/v1/stats?unit=DEMO-FGJ", &rsj).await;
        assert_eq!(own["unit"], "DEMO-RSJ");
        assert_eq!(own["response_rate"], 0.0);
        let (_, empty) = s
            .get("/api/v1/stats?from=2026-10-01&to=2026-10-31", &t.supervisor)
            .await;
        assert_eq!(empty["received"], 0);
        assert_eq!(empty["response_rate"], Value::Null);
        let (status, err) = s.get("/api/v1/stats?from=2026-13-01", &t.supervisor).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(err["field"], "from");
        let (status, _) = s.get("/api/v1/stats", &t.agent).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

mod oversight_api {
    use super::*;

    on_both_engines!(leaders_own_cases_and_watch_the_late_ones);

    async fn leaders_own_cases_and_watch_the_late_ones(s: &TestServer) {
        let t = staff(s);
        let leader_of = |name: &str, unit: &str| {
            s.user(json!({"name": name, "role": "leader", "in_charge_of": [unit]}))
        };
        let (user, leader) = leader_of("王副区长", "DEMO-FGJ").await;
        let (_, other_leader) = leader_of("李副区长", "DEMO-RSJ").await;
        // A token for the role alone, in the same name, is not the same person.
        let namesake = hotline::issue_token(
            &s.config,
            &hotline_schemas::Actor {
                in_charge_of: vec!["DEMO-FGJ".into()],
                ..staff_actor(Role::Leader, "王副区长")
            },
        )
        .unwrap();
        let mut ids = Vec::new();
        for _ in 0..3 {
            let id = id_of(&s.submit(None, enterprise_appeal()).await);
            s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
                .await;
            ids.push(id);
            s.set_now(s.now() + chrono::Duration::hours(1));
        }
        let _calm = id_of(&s.submit(None, enterprise_appeal()).await);
        let owned = ids[0].clone();

        // Not yet escalated: not the leader's case; a supervisor never takes one.
        let (status, err) = s.act(&owned, "own", &leader, json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
        let (status, err) = s.act(&owned, "own", &t.supervisor, json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{err}");

        // Monday 09:00 + 3 working days = Thursday 09:00; a week later all three are late
        // and escalated.
        s.set_now(s.now() + chrono::Duration::days(7));
        s.fire_timers().await;
        // At the last level the leader in charge of the unit owns the case (包案), by user.
        let (status, case) = s.get(&format!("/api/v1/appeals/{owned}"), &leader).await;
        assert_eq!(status, StatusCode::OK, "{case}");
        assert_eq!(
            case["owners"],
            json!([{"user": user.id, "name": "王副区长"}])
        );
        let last = case["events"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (&last["type"], &last["actor"]),
            (&json!("owned"), &json!("system"))
        );
        assert_eq!(last["data"]["user"], json!(user.id));
        let (status, err) = s.act(&owned, "own", &leader, json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT, "owned already: {err}");
        // A deputy in charge of the unit takes it too; a token in a name owns nothing.
        let (deputy, deputy_token) = leader_of("张副区长", "DEMO-FGJ").await;
        let (status, case) = s.act(&owned, "own", &deputy_token, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{case}");
        assert_eq!(
            case["owners"][1],
            json!({"user": deputy.id, "name": "张副区长"})
        );
        let last = case["events"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["actor"], "张副区长");
        let (status, err) = s.act(&owned, "own", &namesake, json!({})).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "no user, no ownership: {err}"
        );

        let (status, desk) = s.get("/api/v1/oversight", &leader).await;
        assert_eq!(status, StatusCode::OK, "{desk}");
        let listed: Vec<&str> = desk["appeals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap())
            .collect();
        assert_eq!(listed, [&ids[0], &ids[1], &ids[2]], "latest first");
        assert_eq!(desk["appeals"][0]["owned"], true);
        assert!(
            desk["appeals"][0]["late_seconds"].as_i64().unwrap()
                > desk["appeals"][1]["late_seconds"].as_i64().unwrap()
        );
        let (_, elsewhere) = s.get("/api/v1/oversight", &other_leader).await;
        assert_eq!(elsewhere["total"], 0, "not a unit they are in charge of");
        // Their statistics are those of their units.
        let (status, figures) = s.get("/api/v1/stats", &leader).await;
        assert_eq!(status, StatusCode::OK, "{figures}");
        assert_eq!(figures["dispatched"], 3, "{figures}");
        let units: Vec<&str> = figures["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["unit"].as_str().unwrap())
            .collect();
        assert_eq!(units, ["DEMO-FGJ"]);
        let (_, theirs) = s.get("/api/v1/stats", &other_leader).await;
        assert_eq!(theirs["dispatched"], 0, "{theirs}");
        assert_eq!(theirs["units"], json!([]));
        let (status, _) = s.get("/api/v1/stats?unit=DEMO-FGJ", &other_leader).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, supervisor_desk) = s.get("/api/v1/oversight", &t.supervisor).await;
        assert_eq!(
            supervisor_desk["total"], 3,
            "a supervisor sees the overdue ones"
        );
        let (status, _) = s.get("/api/v1/oversight", &t.unit).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

mod router_model {
    use hotline::{Config, Platform};
    use hotline_router::model::{Example, Silent, TrainOptions, train};

    /// A model from `hotline train` is loaded at start and blended with the keywords.
    #[tokio::test]
    async fn a_configured_model_is_blended_with_the_keywords() {
        let dir = tempfile::tempdir().unwrap();
        let mut examples = Vec::new();
        for i in 0..6 {
            examples.push(Example::new(
                format!("工地夜里施工到凌晨{i}点,吵得睡不着"),
                "URB-05",
            ));
            examples.push(Example::new(format!("小区第{i}栋楼停水一整天了"), "URB-01"));
        }
        let options = TrainOptions {
            folds: 2,
            threads: 1,
            ..TrainOptions::default()
        };
        let model = train(&examples, &options, &Silent).unwrap();
        let path = dir.path().join("router.model");
        model.save(&path).unwrap();

        let config = Config {
            data_dir: dir.path().join("data"),
            router_model: Some(path),
            ..Config::default()
        };
        let platform = Platform::open(&config, hotline_gateway::system_clock())
            .await
            .unwrap();
        let classifier = platform.classifier().await.unwrap();
        // No keyword of any matter in it: the model alone decides.
        let scores = classifier.classify("昨晚又施工到凌晨,吵得睡不着");
        assert_eq!(scores[0].0, "URB-05", "{scores:?}");
        let total: f64 = scores.iter().map(|(_, p)| p).sum();
        assert!((total - 1.0).abs() < 1e-6);

        let missing = Config {
            router_model: Some(dir.path().join("nope.model")),
            ..config
        };
        let platform = Platform::open(&missing, hotline_gateway::system_clock())
            .await
            .unwrap();
        let err = platform.classifier().await.err().unwrap().to_string();
        assert!(err.contains("nope.model"), "{err}");
    }
}

mod corrections_api {
    use hotline::{Config, Platform};
    use hotline_store::TrainingExample;

    /// The default classifier learns from the corrections kept in the store: after a
    /// dispatcher named a matter for a text, a restart's classifier leans towards it.
    #[tokio::test]
    async fn the_default_classifier_learns_from_dispatchers_corrections() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        let platform = Platform::open(&config, hotline_gateway::system_clock())
            .await
            .unwrap();
        let text = "园区门口的快递柜被人撬开了好几个,丢了不少包裹,物业说不归他们管";
        let matter = platform
            .taxonomy()
            .matters
            .iter()
            .find(|m| m.unit == "GAJ")
            .unwrap()
            .clone();
        let share = |scores: Vec<(String, f64)>| {
            scores
                .into_iter()
                .find(|(code, _)| *code == matter.code.as_str())
                .map_or(0.0, |(_, p)| p)
        };
        let before = share(platform.classifier().await.unwrap().classify(text));
        let correction = |unit: &str| TrainingExample {
            appeal_id: hotline_schemas::AppealId::new(),
            text: text.to_owned(),
            matter: Some(matter.code.clone()),
            unit: unit.into(),
            suggested_matter: None,
            source: "reassign".to_owned(),
            created_at: chrono::Utc::now(),
        };
        // A matter of another unit than the one dispatched to is not a usable correction.
        platform
            .store
            .record_training_example(&correction("RSJ"))
            .await
            .unwrap();
        let ignored = share(platform.classifier().await.unwrap().classify(text));
        assert!((ignored - before).abs() < 1e-12, "{before} -> {ignored}");
        platform
            .store
            .record_training_example(&correction("GAJ"))
            .await
            .unwrap();
        let after = share(platform.classifier().await.unwrap().classify(text));
        assert!(after > before, "{before} -> {after}");
    }
}

mod merge_api {
    use super::*;

    on_both_engines!(a_duplicate_is_merged_into_the_earlier_appeal);

    async fn a_duplicate_is_merged_into_the_earlier_appeal(s: &TestServer) {
        let t = staff(s);
        let earlier = id_of(&s.submit(None, enterprise_appeal()).await);
        let again = id_of(&s.submit(None, enterprise_appeal()).await);
        let (status, err) = s
            .act(
                &again,
                "merge",
                &t.dispatcher,
                json!({"into": "01a20543-1ec4-731b-9770-1908be10aaa0"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            (err["code"].as_str(), err["field"].as_str()),
            (Some("invalid_value"), Some("into"))
        );
        let (status, err) = s
            .act(&again, "merge", &t.dispatcher, json!({"into": again}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert_eq!(err["field"], "into");
        let (status, merged) = s
            .act(&again, "merge", &t.dispatcher, json!({"into": earlier}))
            .await;
        assert_eq!(status, StatusCode::OK, "{merged}");
        assert_eq!(merged["status"], "merged");
        assert_eq!(merged["events"][1]["data"]["into"], earlier.as_str());
        // The appeal kept records the duplicate, in the same change.
        let (status, kept) = s
            .get(&format!("/api/v1/appeals/{earlier}"), &t.dispatcher)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(kept["duplicates"], json!([again]));
        assert_eq!(event_types(&kept).last().unwrap(), "duplicate_merged");
        assert_eq!(kept["events"][1]["data"]["duplicate"], again.as_str());
        assert_eq!(kept["events"][1]["data"]["ticket_no"], merged["ticket_no"]);
        let (status, _) = s
            .act(
                &again,
                "dispatch",
                &t.dispatcher,
                json!({"unit": "DEMO-FGJ"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, err) = s
            .act(&earlier, "merge", &t.agent, json!({"into": again}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    }
}

#[path = "timers_api.rs"]
mod timers_api;

mod masking_api {
    use super::*;

    on_both_engines!(personal_data_is_masked_for_those_not_entitled_and_revealed_on_record);

    /// The appellant's name, phone numbers and house number, as each caller is shown them.
    fn shown(appeal: &Value) -> (String, String, String) {
        (
            appeal["appellant"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            appeal["appellant"]["phone"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            appeal["body"].as_str().unwrap_or_default().to_owned(),
        )
    }

    fn assert_masked(appeal: &Value, who: &str) {
        let (name, phone, body) = shown(appeal);
        assert_eq!(name, "李**", "{who}");
        assert_eq!(phone, "139****5678", "{who}");
        assert!(
            !body.contains("13912345678") && body.contains("139****5678"),
            "{who}: {body}"
        );
        assert!(
            !body.contains("501室") && !body.contains("李女士"),
            "{who}: {body}"
        );
    }

    fn assert_clear(appeal: &Value, who: &str) {
        let (name, phone, body) = shown(appeal);
        assert_eq!(
            (name.as_str(), phone.as_str()),
            ("李女士", "13912345678"),
            "{who}"
        );
        assert!(
            body.contains("13912345678") && body.contains("501室"),
            "{who}: {body}"
        );
    }

    async fn personal_data_is_masked_for_those_not_entitled_and_revealed_on_record(s: &TestServer) {
        let t = staff(s);
        let other_agent = s.token(Role::Agent, None, "话务员小张");
        let (_, leader) = s
            .user(json!({"name": "王区长", "role": "leader", "in_charge_of": ["DEMO-FGJ"]}))
            .await;
        let mut body = person_appeal("小区停水两天");
        body["body"] = json!("我是李女士,电话13912345678,家住幸福小区3栋2单元501室,停水两天了。");
        // The agent who logged it is a person (a user), not a name.
        let (_, agent) = s.user(json!({"name": "话务员小王", "role": "agent"})).await;
        let logged = s.submit(Some(&agent), body).await;
        let id = id_of(&logged);
        assert_clear(&logged, "the agent who logged it, at once");
        let path = format!("/api/v1/appeals/{id}");
        let (_, mine) = s.get(&path, &agent).await;
        assert_clear(&mine, "the agent who logged it");
        let (_, namesake) = s.get(&path, &t.agent).await;
        assert_masked(&namesake, "an agent's token without a user");
        for (token, who) in [
            (&other_agent, "another agent"),
            (&t.dispatcher, "a dispatcher"),
            (&t.supervisor, "a supervisor"),
        ] {
            let (status, appeal) = s.get(&path, token).await;
            assert_eq!(status, StatusCode::OK, "{who}");
            assert_masked(&appeal, who);
        }
        let (_, list) = s.get("/api/v1/appeals", &t.dispatcher).await;
        assert_masked(&list["appeals"][0], "a dispatcher's list");
        let (_, queue) = s.get("/api/v1/dispatch-queue", &t.dispatcher).await;
        assert_masked(&queue["appeals"][0], "the dispatch queue");

        // The unit it goes to sees it all; once late (Thursday 15:00: escalated to the
        // supervisor, not yet to the leader) the supervisors' desk shows it masked.
        s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
            .await;
        let (_, theirs) = s.get(&path, &t.unit).await;
        assert_clear(&theirs, "the unit handling it");
        // Not yet escalated: the leader in charge of the unit does not see it.
        let (status, _) = s.get(&path, &leader).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        s.set_now(s.now() + chrono::Duration::days(3) + chrono::Duration::hours(6));
        s.fire_timers().await;
        let (status, escalated) = s.get(&path, &leader).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "escalated to the leader: {escalated}"
        );
        assert_masked(&escalated, "the leader in charge");
        let (_, theirs) = s.get("/api/v1/appeals", &leader).await;
        assert_eq!(theirs["total"], 1, "{theirs}");
        let elsewhere = hotline_schemas::Actor {
            in_charge_of: vec!["DEMO-RSJ".into()],
            ..staff_actor(Role::Leader, "李区长")
        };
        let elsewhere = hotline::issue_token(&s.config, &elsewhere).unwrap();
        let (status, _) = s.get(&path, &elsewhere).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "not a unit they are in charge of"
        );
        let (_, none) = s.get("/api/v1/appeals", &elsewhere).await;
        assert_eq!(none["total"], 0, "{none}");
        let (_, desk) = s.get("/api/v1/oversight", &elsewhere).await;
        assert_eq!(desk["total"], 0, "{desk}");
        let (_, desk) = s.get("/api/v1/oversight", &t.supervisor).await;
        let case = desk["appeals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id.as_str())
            .expect("on the desk")
            .clone();
        assert_masked(&case, "the oversight desk");

        // A supervisor with a reason reveals it once; the history says who, when and why.
        let reveal = format!("/api/v1/appeals/{id}/reveal");
        let (status, err) = s.post(&reveal, Some(&t.supervisor), json!({})).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a reason is required: {err}"
        );
        let (status, _) = s.post(&reveal, None, json!({"reason": "x"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let why = "电话督办需联系来电人";
        let (status, revealed) = s
            .post(&reveal, Some(&t.supervisor), json!({"reason": why}))
            .await;
        assert_eq!(status, StatusCode::OK, "{revealed}");
        assert_clear(&revealed, "the reveal");
        let last = revealed["events"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(last["type"], "revealed");
        assert_eq!(last["actor"], "督办员赵六");
        assert_eq!(last["reason"], why);
        let (_, after) = s.get(&path, &t.supervisor).await;
        assert_masked(&after, "the supervisor, after the reveal");
        // A leader who takes the case sees it from then on.
        let (status, owned) = s
            .post(&format!("{path}/own"), Some(&leader), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{owned}");
        assert_clear(&owned, "its owner");
    }
}

mod appellant_api {
    use super::*;

    on_both_engines!(the_appellant_sees_the_public_view_and_supplies_what_was_asked);

    async fn the_appellant_sees_the_public_view_and_supplies_what_was_asked(s: &TestServer) {
        let t = staff(s);
        let submitted = s.submit(None, enterprise_appeal()).await;
        let id = id_of(&submitted);
        let token = submitted["appellant_token"].as_str().unwrap().to_owned();
        s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
            .await;
        s.act(&id, "accept", &t.unit, json!({})).await;
        let asked = "请补充厂房租赁合同复印件";
        s.act(&id, "pause", &t.unit, json!({"reason": asked})).await;
        s.act(
            &id,
            "reveal",
            &t.supervisor,
            json!({"reason": "核实企业联系人"}),
        )
        .await;

        let (status, mine) = s.get(&format!("/api/v1/appeals/{id}"), &token).await;
        assert_eq!(status, StatusCode::OK, "{mine}");
        assert_eq!(
            event_types(&mine),
            ["received", "dispatched", "accepted", "paused"],
            "the public timeline: no reveal, no internal steps"
        );
        for event in mine["events"].as_array().unwrap() {
            assert!(event.get("actor").is_none(), "no staff names: {event}");
        }
        assert_eq!(
            mine["events"][3]["reason"], asked,
            "what to supply is shown"
        );
        assert_eq!(mine["suggestions"], json!([]));
        assert!(mine["owners"].is_null());

        // Two actions only: rate (later) and supplement.
        let (status, _) = s.act(&id, "accept", &token, json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = s
            .act(&id, "reveal", &token, json!({"reason": "想看看"}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, err) = s.act(&id, "supplement", &token, json!({"text": ""})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["field"], "text");
        let (status, resumed) = s
            .act(
                &id,
                "supplement",
                &token,
                json!({"text": "合同复印件已上传"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{resumed}");
        assert_eq!(
            event_types(&resumed)[4..],
            ["supplemented", "resumed"],
            "the clock paused for the appellant runs again"
        );
        assert!(resumed["sla"]["paused_since"].is_null());
        let (status, _) = s
            .act(&id, "supplement", &t.unit, json!({"text": "x"}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "only the appellant supplies");
    }
}

mod caller_history_api {
    use super::*;

    on_both_engines!(an_agent_finds_a_callers_history_by_the_number_they_give);

    async fn an_agent_finds_a_callers_history_by_the_number_they_give(s: &TestServer) {
        let t = staff(s);
        let mut first = person_appeal("小区停水两天");
        first["appellant"]["phone"] = json!("13912345678");
        let first = id_of(&s.submit(Some(&t.agent), first).await);
        s.set_now(s.now() + chrono::Duration::minutes(5));
        let mut again = person_appeal("小区又停水了");
        again["appellant"]["phone"] = json!("+86 139-1234-5678");
        let again = id_of(&s.submit(Some(&t.agent), again).await);
        let mut stranger = person_appeal("路灯不亮");
        stranger["appellant"]["phone"] = json!("13700001111");
        s.submit(Some(&t.agent), stranger).await;
        let mut letter = person_appeal("反映问题");
        letter["channel"] = json!("mailbox");
        letter["appellant"]["phone"] = json!("13912345678");
        s.submit(None, letter).await;
        let company = id_of(&s.submit(None, enterprise_appeal()).await);

        let other_agent = s.token(Role::Agent, None, "话务员小张");
        let (status, history) = s.get("/api/v1/callers/13912345678", &other_agent).await;
        assert_eq!(status, StatusCode::OK, "{history}");
        let ids: Vec<&str> = history["appeals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [again.as_str(), first.as_str()],
            "newest first, no letter"
        );
        assert_eq!(
            history["appeals"][1]["appellant"]["phone"], "13912345678",
            "unmasked: the agent has the number"
        );
        let (_, by_code) = s
            .get("/api/v1/callers/914403001922038216", &other_agent)
            .await;
        assert_eq!(by_code["total"], 1);
        assert_eq!(by_code["appeals"][0]["id"], company.as_str());
        let (status, err) = s.get("/api/v1/callers/12ab", &other_agent).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["field"], "number");
        let (status, _) = s.get("/api/v1/callers/13912345678", &t.dispatcher).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

mod rating_link_api {
    use super::*;

    on_both_engines!(a_rating_links_token_rates_and_does_nothing_else);

    async fn a_rating_links_token_rates_and_does_nothing_else(s: &TestServer) {
        let t = staff(s);
        let id = id_of(&s.submit(None, enterprise_appeal()).await);
        s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
            .await;
        s.act(&id, "accept", &t.unit, json!({})).await;
        let (_, replied) = s
            .act(&id, "reply", &t.unit, json!({"result": "已协调办理"}))
            .await;
        assert_eq!(replied["status"], "replied");
        let platform = s.second_platform().await;
        let appeal = platform
            .store
            .appeal(id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        let link = (platform.rating_link())(&appeal);
        let token = link.split("token=").nth(1).unwrap().to_owned();

        // Not a key to the appeal: no view, no supplement.
        let path = format!("/api/v1/appeals/{id}");
        let (status, _) = s.get(&path, &token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = s.act(&id, "supplement", &token, json!({"text": "x"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // It rates, within the rating window.
        let (status, rated) = s
            .act(&id, "rate", &token, json!({"rating": "satisfied"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{rated}");
        assert_eq!(rated["status"], "closed");
        // Past the window (5 working days after the reply) the link is dead.
        let late = (platform.rating_link())(&appeal);
        let late = late.split("token=").nth(1).unwrap().to_owned();
        s.set_now(s.now() + chrono::Duration::days(10));
        let (status, _) = s
            .act(&id, "rate", &late, json!({"rating": "satisfied"}))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}
