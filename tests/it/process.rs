//! The real `hotline` binary: durability across `kill -9`, graceful SIGTERM, `token issue`.

use std::net::TcpListener as StdListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{enterprise_appeal, event_types};

const BIN: &str = env!("CARGO_BIN_EXE_hotline");

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn hotline(data_dir: &Path, port: u16) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOTLINE_DATA_DIR", data_dir)
        .env("HOTLINE_HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("HOTLINE_LOG", "warn");
    cmd
}

/// Starts `hotline serve` and waits until it answers; the caller stops and waits for it.
#[allow(clippy::zombie_processes)]
async fn serve(data_dir: &Path, port: u16) -> Child {
    let mut child = hotline(data_dir, port)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status() == StatusCode::OK
        {
            return child;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hotline serve did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `hotline token issue …`: the token is the last line of the output.
fn issue(data_dir: &Path, args: &[&str]) -> String {
    let out = hotline(data_dir, 0)
        .args(["token", "issue"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    stdout.lines().last().unwrap().trim().to_owned()
}

#[tokio::test]
async fn kill_9_right_after_201_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut server = serve(&data, port).await;
    let client = reqwest::Client::new();
    let mut accepted = Vec::new();
    for i in 0..20 {
        let mut body = enterprise_appeal();
        body["title"] = json!(format!("厂房用地审批缓慢 {i}"));
        let resp = client
            .post(format!("http://127.0.0.1:{port}/api/v1/appeals"))
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
    // SIGKILL straight after the last 201: no chance to flush anything.
    server.kill().unwrap();
    server.wait().unwrap();

    let mut server = serve(&data, port).await;
    let admin = issue(&data, &["--role", "admin", "--name", "值班管理员"]);
    for (id, ticket_no) in &accepted {
        let resp = client
            .get(format!("http://127.0.0.1:{port}/api/v1/appeals/{id}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "appeal {id} lost");
        let appeal: Value = resp.json().await.unwrap();
        assert_eq!(&appeal["ticket_no"], ticket_no);
        assert_eq!(event_types(&appeal), ["received"]);
    }
    // The counter goes on after the restart: no ticket number is handed out twice.
    let resp = client
        .post(format!("http://127.0.0.1:{port}/api/v1/appeals"))
        .json(&enterprise_appeal())
        .send()
        .await
        .unwrap();
    let next: Value = resp.json().await.unwrap();
    assert!(accepted.iter().all(|(_, t)| *t != next["ticket_no"]));
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test]
async fn token_issue_names_the_actor_and_sigterm_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let server = serve(&data, port).await;
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = reqwest::Client::new();
    // Tokens issued by the CLI are signed with the secret the server generated in the data
    // directory.
    let dispatcher = issue(&data, &["--role", "dispatcher", "--name", "派单员老陈"]);
    let unit = issue(
        &data,
        &[
            "--role",
            "unit",
            "--unit",
            "DEMO-FGJ",
            "--name",
            "发改局张三",
        ],
    );
    let created: Value = client
        .post(format!("{base}/appeals"))
        .json(&enterprise_appeal())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let post = |path: String, token: &str, body: Value| {
        client
            .post(format!("{base}/appeals/{id}/{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    assert_eq!(
        post("dispatch".into(), &dispatcher, json!({"unit": "DEMO-FGJ"}))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let accepted: Value = post("accept".into(), &unit, json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(accepted["events"][1]["actor"], "派单员老陈");
    assert_eq!(accepted["events"][2]["actor"], "发改局张三");

    let missing_unit = hotline(&data, 0)
        .args(["token", "issue", "--role", "unit"])
        .output()
        .unwrap();
    assert!(!missing_unit.status.success());

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = server.wait_with_output().unwrap();
    assert!(output.status.success(), "exit status {:?}", output.status);
}
