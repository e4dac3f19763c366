//! Internal notes (内部备注, issue 14) through the API on both engines: staff who see a case
//! note on it, naming the units and users they call on; the appellant never sees a note.

use hotline_schemas::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestServer, enterprise_appeal};

on_both_engines!(
    a_note_is_for_the_staff_and_never_the_appellant,
    a_note_needs_text_and_an_open_case,
);

const NOTE: &str = "已电话联系企业负责人，约定周四上午现场核实";

fn noted(appeal: &Value) -> Vec<Value> {
    appeal["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["type"] == "noted")
        .cloned()
        .collect()
}

async fn a_note_is_for_the_staff_and_never_the_appellant(s: &TestServer) {
    let dispatcher = s.token(Role::Dispatcher, None, "派单员老陈");
    let unit = s.token(Role::Unit, Some("DEMO-FGJ"), "发改局张三");
    let other_unit = s.token(Role::Unit, Some("DEMO-RSJ"), "人资局李四");
    let admin = s.token(Role::Admin, None, "管理员");
    let created = s.submit(None, enterprise_appeal()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let appellant = created["appellant_token"].as_str().unwrap().to_owned();
    s.act(&id, "dispatch", &dispatcher, json!({"unit": "DEMO-FGJ"}))
        .await;

    let (status, after) = s
        .act(
            &id,
            "note",
            &unit,
            json!({"text": NOTE, "mentions": [{"unit": "DEMO-RSJ"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{after}");
    // A note changes nothing of the case.
    assert_eq!(after["status"], "dispatched");

    let (_, seen) = s.get(&format!("/api/v1/appeals/{id}"), &admin).await;
    let notes = noted(&seen);
    assert_eq!(notes.len(), 1, "{seen}");
    assert_eq!(notes[0]["data"]["text"], NOTE);
    assert_eq!(notes[0]["data"]["mentions"], json!([{"unit": "DEMO-RSJ"}]));
    assert_eq!(notes[0]["actor"], "发改局张三");

    // The appellant's view has no note, and they cannot write one.
    let (status, public) = s.get(&format!("/api/v1/appeals/{id}"), &appellant).await;
    assert_eq!(status, StatusCode::OK);
    assert!(noted(&public).is_empty(), "{public}");
    assert!(!public.to_string().contains(NOTE));
    let (status, _) = s
        .act(&id, "note", &appellant, json!({"text": "我也想备注"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A unit that does not hold the case does not see it, so cannot note on it.
    let (status, _) = s.act(&id, "note", &other_unit, json!({"text": NOTE})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_note_needs_text_and_an_open_case(s: &TestServer) {
    let dispatcher = s.token(Role::Dispatcher, None, "派单员老陈");
    let created = s.submit(None, enterprise_appeal()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, err) = s.act(&id, "note", &dispatcher, json!({"text": " "})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["field"], "text");
    let (status, err) = s
        .act(
            &id,
            "note",
            &dispatcher,
            json!({"text": NOTE, "mentions": [{"team": "x"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["field"], "mentions[0]");
    s.act(&id, "void", &dispatcher, json!({"reason": "重复来件"}))
        .await;
    let (status, err) = s.act(&id, "note", &dispatcher, json!({"text": NOTE})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["code"], "action_not_allowed");
}
