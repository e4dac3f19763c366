//! Users and their tokens: the admin API (`/api/v1/users`) and the `hotline user …` and
//! `hotline token …` commands; a user's token carries its id into events and stops working
//! once the user is disabled or the token revoked or expired.

use chrono::Duration;
use hotline_schemas::{Actor, Role, UserId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::procs::{Env, free_port};
use crate::support::{TestServer, enterprise_appeal, unplaceable_appeal};

on_both_engines!(
    only_admins_manage_users,
    bad_users_get_a_localized_error_naming_the_field,
    a_user_token_records_the_user_and_ends_when_disabled_revoked_or_expired,
);

async fn only_admins_manage_users(s: &TestServer) {
    let created = s.submit(None, enterprise_appeal()).await;
    let appellant = created["appellant_token"].as_str().unwrap().to_owned();
    let dispatcher = s.token(Role::Dispatcher, None, "派单员老陈");
    let unit = s.token(Role::Unit, Some("GHZRZYJ"), "规自局王五");
    let body = json!({"name": "话务员小李", "role": "agent"});
    for token in [&appellant, &dispatcher, &unit] {
        let (status, error) = s.get("/api/v1/users", token).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
        assert_eq!(error["code"], "forbidden");
        let (status, _) = s.post("/api/v1/users", Some(token), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let path = format!("/api/v1/users/{}/disable", UserId::new());
        let (status, _) = s.post(&path, Some(token), json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, error) = s.post("/api/v1/users", None, body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["code"], "unauthenticated");

    let admin = s.token(Role::Admin, None, "管理员");
    let (status, user) = s.post("/api/v1/users", Some(&admin), body).await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let (status, listed) = s.get("/api/v1/users", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["users"], json!([user]));
    let (status, error) = s
        .post(
            &format!("/api/v1/users/{}/disable", UserId::new()),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    let (status, _) = s
        .post("/api/v1/users/not-an-id/disable", Some(&admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn bad_users_get_a_localized_error_naming_the_field(s: &TestServer) {
    let admin = s.token(Role::Admin, None, "管理员");
    for (body, status, code, field) in [
        (
            json!({"name": " ", "role": "agent"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_field",
            "name",
        ),
        (
            json!({"name": "王\u{0}五", "role": "agent"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "control_characters",
            "name",
        ),
        (
            json!({"name": "王五", "role": "unit"}),
            StatusCode::BAD_REQUEST,
            "missing_field",
            "unit",
        ),
        (
            json!({"name": "王五", "role": "agent", "unit": "GHZRZYJ"}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
            "unit",
        ),
        (
            json!({"name": "王五", "role": "unit", "unit": "NOWHERE"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_unit",
            "unit",
        ),
        (
            json!({"name": "王五", "role": "agent", "in_charge_of": ["GHZRZYJ"]}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
            "in_charge_of",
        ),
        (
            json!({"name": "王五", "role": "leader", "in_charge_of": ["GHZRZYJ", "NOWHERE"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_unit",
            "in_charge_of[1]",
        ),
        (
            json!({"name": "王五", "role": "appellant"}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
            "role",
        ),
        (
            json!({"name": "王五", "role": "boss"}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
            "role",
        ),
        (
            json!({"name": "王五", "role": "agent", "password": "x"}),
            StatusCode::BAD_REQUEST,
            "unknown_field",
            "password",
        ),
    ] {
        let (got, error) = s
            .call(
                Method::POST,
                "/api/v1/users",
                Some(&admin),
                Some(body.clone()),
                Some("en-US"),
            )
            .await;
        assert_eq!(got, status, "{body}: {error}");
        assert_eq!(error["code"], code, "{body}: {error}");
        assert_eq!(error["field"], field, "{body}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(field) || code == "unknown_unit",
            "{body}: {message}"
        );
        assert!(message.is_ascii(), "in English: {message}");
    }
    let (_, listed) = s.get("/api/v1/users", &admin).await;
    assert_eq!(listed["users"], json!([]), "nothing was stored");
}

async fn a_user_token_records_the_user_and_ends_when_disabled_revoked_or_expired(s: &TestServer) {
    let admin = s.token(Role::Admin, None, "管理员");
    let (status, user) = s
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({"name": "派单员老陈", "role": "dispatcher"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let id: UserId = user["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(user["role"], "dispatcher");
    assert_eq!(user["disabled"], false);
    let store = hotline::open_store(&s.config).await.unwrap();
    let token = hotline::people::issue_user_token(&s.config, store.as_ref(), id)
        .await
        .unwrap();

    // Its submission and its dispatch record the user.
    let created = s.submit(Some(&token), unplaceable_appeal()).await;
    let appeal = created["id"].as_str().unwrap();
    let (status, dispatched) = s
        .act(appeal, "dispatch", &token, json!({"unit": "DEMO-FGJ"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{dispatched}");
    let (_, seen) = s.get(&format!("/api/v1/appeals/{appeal}"), &admin).await;
    let events = seen["events"].as_array().unwrap();
    let by_user: Vec<&Value> = events
        .iter()
        .filter(|e| e["actor_id"] == id.to_string())
        .collect();
    assert_eq!(
        by_user
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["received", "dispatched"],
        "{seen}"
    );
    assert!(by_user.iter().all(|e| e["actor"] == "派单员老陈"));
    let stored = store.events(appeal.parse().unwrap()).await.unwrap();
    assert_eq!(stored[0].actor_id, Some(id));

    // Disabled, the user's token is refused; enabled again, it works again.
    let path = format!("/api/v1/users/{id}/disable");
    let (status, disabled) = s.post(&path, Some(&admin), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{disabled}");
    assert_eq!(disabled["disabled"], true);
    let (status, error) = s.get("/api/v1/dispatch-queue", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
    assert_eq!(error["code"], "invalid_token");
    let (status, _) = s
        .post("/api/v1/appeals", Some(&token), enterprise_appeal())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let path = format!("/api/v1/users/{id}/enable");
    let (status, _) = s.post(&path, Some(&admin), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = s.get("/api/v1/dispatch-queue", &token).await;
    assert_eq!(status, StatusCode::OK);

    // Revoked, it is refused; another token of the same user still works.
    let other = hotline::people::issue_user_token(&s.config, store.as_ref(), id)
        .await
        .unwrap();
    hotline::people::revoke_token(&s.config, store.as_ref(), &token)
        .await
        .unwrap();
    let (status, error) = s.get("/api/v1/dispatch-queue", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
    assert_eq!(error["code"], "invalid_token");
    let (status, _) = s.get("/api/v1/dispatch-queue", &other).await;
    assert_eq!(status, StatusCode::OK);

    // A staff token lives 12 hours by default (by the platform's clock).
    let actor = store.user(id).await.unwrap().unwrap().actor();
    let recent =
        hotline::people::issue_token_at(&s.config, &actor, s.now() - Duration::hours(11)).unwrap();
    let (status, _) = s.get("/api/v1/dispatch-queue", &recent).await;
    assert_eq!(status, StatusCode::OK);
    let expired =
        hotline::people::issue_token_at(&s.config, &actor, s.now() - Duration::hours(13)).unwrap();
    let (status, error) = s.get("/api/v1/dispatch-queue", &expired).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
    assert_eq!(error["code"], "invalid_token");

    // A token naming a user the platform does not have is refused.
    let stranger = Actor {
        user: Some(UserId::new()),
        ..actor
    };
    let forged = hotline::issue_token(&s.config, &stranger).unwrap();
    let (status, _) = s.get("/api/v1/dispatch-queue", &forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// `hotline ARGS`, asserting success: the last line of its output.
fn run(env: &Env, args: &[&str]) -> String {
    let out = env.command(args).output().unwrap();
    assert!(
        out.status.success(),
        "hotline {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout.lines().last().unwrap_or_default().trim().to_owned()
}

#[tokio::test]
async fn users_and_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let env = Env::default()
        .with(
            "HOTLINE_DATA_DIR",
            dir.path().join("data").display().to_string(),
        )
        .with("HOTLINE_STAFF_TOKEN_HOURS", "2");

    // Bad input is refused, naming the field.
    let out = env
        .command(&["user", "add", "--name", "王五", "--role", "unit"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing_field (unit)"), "{stderr}");
    let out = env
        .command(&[
            "user",
            "add",
            "--name",
            "王五",
            "--role",
            "agent",
            "--in-charge-of",
            "GHZRZYJ",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());

    let id = run(
        &env,
        &[
            "user",
            "add",
            "--name",
            "规自局王五",
            "--role",
            "unit",
            "--unit",
            "GHZRZYJ",
        ],
    );
    let id: UserId = id.parse().unwrap();
    let leader = run(
        &env,
        &[
            "user",
            "add",
            "--name",
            "分管副区长",
            "--role",
            "leader",
            "--in-charge-of",
            "GHZRZYJ",
            "--in-charge-of",
            "DEMO-FGJ",
            "--mailbox-reader",
        ],
    );
    let list = String::from_utf8(env.command(&["user", "list"]).output().unwrap().stdout).unwrap();
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert_eq!(
        lines[0],
        format!("{id}\tunit\tGHZRZYJ\t-\t-\tenabled\t规自局王五")
    );
    assert_eq!(
        lines[1],
        format!("{leader}\tleader\t-\tDEMO-FGJ,GHZRZYJ\tmailbox-reader\tenabled\t分管副区长")
    );

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = env.spawn_http("serve", port).await;
    let client = crate::support::http();
    let token = env.token(&["--user", &id.to_string()]);
    let admin = std::fs::read_to_string(dir.path().join("data/admin-token")).unwrap();
    let admin = admin.trim();
    let get = |token: String| {
        let client = client.clone();
        let url = format!("{base}/api/v1/appeals");
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };

    // The user's token works, and acts as the user: its unit's appeal, signed for by it.
    let created: Value = client
        .post(format!("{base}/api/v1/appeals"))
        .json(&enterprise_appeal())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let appeal = created["id"].as_str().unwrap().to_owned();
    let seen = crate::procs::until(&base, &appeal, admin, |a| a["status"] == "dispatched").await;
    assert_eq!(seen["unit"], "GHZRZYJ");
    let accepted = client
        .post(format!("{base}/api/v1/appeals/{appeal}/accept"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::OK);
    let seen = crate::procs::until(&base, &appeal, admin, |_| true).await;
    let accept = seen["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "accepted")
        .unwrap()
        .clone();
    assert_eq!(accept["actor_id"], id.to_string(), "{seen}");
    assert_eq!(accept["actor"], "规自局王五");
    assert_eq!(get(token.clone()).await, StatusCode::OK);

    // Disabled by the command, the token stops working; enabled, it works again.
    run(&env, &["user", "disable", &id.to_string()]);
    assert_eq!(get(token.clone()).await, StatusCode::UNAUTHORIZED);
    let out = env
        .command(&["token", "issue", "--user", &id.to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success(), "no new token for a disabled user");
    run(&env, &["user", "enable", &id.to_string()]);
    assert_eq!(get(token.clone()).await, StatusCode::OK);

    // Revoked by the command, it stops working; tokens by role keep working.
    run(&env, &["token", "revoke", &token]);
    assert_eq!(get(token.clone()).await, StatusCode::UNAUTHORIZED);
    let agent = env.token(&["--role", "agent", "--name", "话务员小李"]);
    assert_eq!(get(agent.clone()).await, StatusCode::OK);
    run(&env, &["token", "revoke", &agent]);
    assert_eq!(get(agent).await, StatusCode::UNAUTHORIZED);
    // The first admin token keeps working, until it is revoked too.
    assert_eq!(get(admin.to_owned()).await, StatusCode::OK);
    run(&env, &["token", "revoke", admin]);
    assert_eq!(get(admin.to_owned()).await, StatusCode::UNAUTHORIZED);
}
