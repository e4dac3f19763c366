//! The real `hotline` binary in embedded mode: durability across `kill -9`, graceful SIGTERM,
//! `token issue`.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::procs::{Env, free_port, submit, until};
use crate::support::{enterprise_appeal, event_types, unplaceable_appeal};

fn embedded(dir: &tempfile::TempDir) -> Env {
    Env::default().with(
        "HOTLINE_DATA_DIR",
        dir.path().join("data").display().to_string(),
    )
}

fn count(appeal: &Value, event: &str) -> usize {
    event_types(appeal).iter().filter(|t| *t == event).count()
}

#[tokio::test]
async fn kill_9_right_after_201_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let env = embedded(&dir);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = env.spawn_http("serve", port).await;
    let client = crate::support::http();
    let mut accepted = Vec::new();
    for i in 0..20 {
        let mut body = enterprise_appeal();
        body["title"] = json!(format!("厂房用地审批缓慢 {i}"));
        let resp = client
            .post(format!("{base}/api/v1/appeals"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        let appeal: Value = resp.json().await.unwrap();
        accepted.push((
            appeal["id"].as_str().unwrap().to_owned(),
            appeal["ticket_no"].clone(),
        ));
    }
    // SIGKILL straight after the last 201: no chance to flush or to route anything.
    server.kill();

    let _server = env.spawn_http("serve", port).await;
    let admin = env.token(&["--role", "admin", "--name", "值班管理员"]);
    for (id, ticket_no) in &accepted {
        // Every appeal is there, and the router classifies each exactly once, whether it did
        // before the kill or does after the restart.
        let appeal = until(&base, id, &admin, |a| count(a, "classified") >= 1).await;
        assert_eq!(&appeal["ticket_no"], ticket_no);
        assert_eq!(event_types(&appeal)[0], "received");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The first is dispatched by the router (厂房, 用地: the planning bureau's industrial land
    // matter); the other nineteen repeat it and wait, linked to it, for the dispatcher.
    let (first, _) = &accepted[0];
    for (i, (id, _)) in accepted.iter().enumerate() {
        let appeal = until(&base, id, &admin, |_| true).await;
        assert_eq!(count(&appeal, "classified"), 1, "{appeal}");
        if i == 0 {
            assert_eq!(count(&appeal, "dispatched"), 1, "{appeal}");
            assert_eq!(appeal["unit"], "GHZRZYJ");
            assert!(appeal["matter"].as_str().unwrap().starts_with("IND-"));
        } else {
            assert_eq!(appeal["status"], "received", "{appeal}");
            assert_eq!(appeal["duplicate_of"], first.as_str());
        }
    }
    // The counter goes on after the restart: no ticket number is handed out twice.
    let next = submit(&base, &enterprise_appeal()).await;
    assert!(accepted.iter().all(|(_, t)| *t != next["ticket_no"]));
}

#[tokio::test]
async fn token_issue_names_the_actor_and_sigterm_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let env = embedded(&dir);
    let port = free_port();
    let mut server = env.spawn_http("serve", port).await;
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = crate::support::http();
    // Tokens issued by the CLI are signed with the secret the server generated in the data
    // directory.
    let dispatcher = env.token(&["--role", "dispatcher", "--name", "派单员老陈"]);
    let unit = env.token(&[
        "--role",
        "unit",
        "--unit",
        "DEMO-FGJ",
        "--name",
        "发改局张三",
    ]);
    // Nothing in this appeal names a matter: the router leaves it to the dispatcher.
    let created = submit(&format!("http://127.0.0.1:{port}"), &unplaceable_appeal()).await;
    let id = created["id"].as_str().unwrap();
    let classified = until(&format!("http://127.0.0.1:{port}"), id, &dispatcher, |a| {
        count(a, "classified") == 1
    })
    .await;
    assert_eq!(classified["status"], "received");
    assert_eq!(classified["events"][1]["data"]["dispatched"], false);
    let post = |path: &str, token: &str, body: Value| {
        client
            .post(format!("{base}/appeals/{id}/{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let resp = post("dispatch", &dispatcher, json!({"unit": "DEMO-FGJ"}))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let accepted: Value = post("accept", &unit, json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let events = accepted["events"].as_array().unwrap();
    assert_eq!(events[2]["actor"], "派单员老陈");
    assert_eq!(events[3]["actor"], "发改局张三");

    let missing_unit = env
        .command(&["token", "issue", "--role", "unit"])
        .output()
        .unwrap();
    assert!(!missing_unit.status.success());

    let status = server.terminate(Duration::from_secs(20));
    assert!(
        status.is_some_and(|s| s.success()),
        "exit status {status:?}"
    );
}

/// `hotline train --taxonomy --corrections` learns from the shipped examples and the kept
/// corrections, and `serve` routes with the model it wrote.
#[tokio::test]
async fn train_from_taxonomy_and_corrections_then_route_with_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let env = embedded(&dir);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = env.spawn_http("serve", port).await;
    let dispatcher = env.token(&["--role", "dispatcher"]);
    let admin = env.token(&["--role", "admin"]);
    let client = crate::support::http();
    // The dispatcher places one the router could not, naming the matter: a correction kept.
    let created = submit(&base, &unplaceable_appeal()).await;
    let id = created["id"].as_str().unwrap();
    until(&base, id, &admin, |a| count(a, "classified") == 1).await;
    let resp = client
        .post(format!("{base}/api/v1/appeals/{id}/dispatch"))
        .bearer_auth(&dispatcher)
        .json(&json!({"unit": "ZSJ", "matter": "ADM-11"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "{}",
        resp.text().await.unwrap()
    );
    assert!(
        server
            .terminate(Duration::from_secs(20))
            .is_some_and(|s| s.success())
    );

    let model = dir.path().join("router.model");
    let out = env
        .command(&[
            "train",
            "--taxonomy",
            "--corrections",
            "--out",
            &model.display().to_string(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shipped = hotline_schemas::value::taxonomy::Taxonomy::shipped().unwrap();
    let examples: usize = shipped.matters.iter().map(|m| m.examples.len()).sum();
    assert!(
        stdout.contains(&format!("{examples} examples from the taxonomy")),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 examples from dispatchers' corrections"),
        "{stdout}"
    );
    assert!(model.exists());

    let env = env.with("HOTLINE_ROUTER_MODEL", model.display().to_string());
    let _server = env.spawn_http("serve", port).await;
    let created: Value = client
        .post(format!("{base}/api/v1/appeals"))
        .json(&enterprise_appeal())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let routed = until(&base, created["id"].as_str().unwrap(), &admin, |a| {
        count(a, "classified") == 1
    })
    .await;
    let data = &routed["events"][1]["data"];
    assert!(data["confidence"].as_f64().unwrap() > 0.0, "{data}");
    assert_eq!(data["suggestions"][0]["unit"], "GHZRZYJ", "{data}");
}
