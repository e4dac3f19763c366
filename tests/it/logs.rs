//! What the real binary writes and keeps: its logs hold no phone number, token or secret; the
//! data directory is private; the first admin token goes to a file, once.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::procs::{Env, free_port, submit, until};
use crate::support::{event_types, unplaceable_appeal};

fn embedded(dir: &tempfile::TempDir) -> Env {
    Env::default().with(
        "HOTLINE_DATA_DIR",
        dir.path().join("data").display().to_string(),
    )
}

/// Waits until the log file holds `want` (bounded: 30 s).
fn wait_for_log(log: &Path, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains(want) {
            return;
        }
        assert!(Instant::now() < deadline, "never logged {want:?}:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A whole walk (submission, dispatch, acceptance, reply with its rating link, a bad rating
/// and the escalation it causes), logged at debug level: the output names the ticket and the
/// notifications, and no phone or ID-card number, token, tokenised link or secret.
#[tokio::test]
async fn logs_keep_phone_numbers_tokens_and_secrets_out() {
    let dir = tempfile::tempdir().unwrap();
    // No rework allowed: a bad rating escalates to the supervisor at once.
    let shipped = include_str!("../../schemas/sla/policies.toml");
    let policies = shipped.replace("max_reworks = 2", "max_reworks = 0");
    assert_ne!(policies, shipped);
    let policies_path = dir.path().join("policies.toml");
    std::fs::write(&policies_path, policies).unwrap();
    let env = embedded(&dir)
        .with("HOTLINE_LOG", "debug")
        .with("HOTLINE_SLA_POLICIES", policies_path.display().to_string());
    let log = dir.path().join("serve.log");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = env.spawn_http_logged("serve", port, &log).await;
    let data = dir.path().join("data");
    let admin = std::fs::read_to_string(data.join("admin-token")).unwrap();
    let admin = admin.trim();
    let secret = std::fs::read_to_string(data.join("secret")).unwrap();
    let dispatcher = env.token(&["--role", "dispatcher", "--name", "派单员老陈"]);
    let client = crate::support::http();

    let mut body = unplaceable_appeal();
    body["title"] = json!("请帮忙看看我们的情况,电话13700001111");
    body["body"] = json!(
        "想咨询一件事,不知道该找哪个部门。联系人手机 139-1234-5678,座机0898-66778899,身份证号110101199003078515"
    );
    let created = submit(&base, &body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let ticket = created["ticket_no"].as_str().unwrap().to_owned();
    let appellant = created["appellant_token"].as_str().unwrap().to_owned();
    let classified = until(&base, &id, admin, |a| {
        event_types(a).iter().any(|t| t == "classified")
    })
    .await;
    let unit = match classified["unit"].as_str() {
        Some(unit) => unit.to_owned(),
        None => {
            let resp = client
                .post(format!("{base}/api/v1/appeals/{id}/dispatch"))
                .bearer_auth(&dispatcher)
                .json(&json!({"unit": "DEMO-FGJ"}))
                .send()
                .await
                .unwrap();
            let status = resp.status();
            assert_eq!(
                status,
                StatusCode::OK,
                "{}\n{classified}",
                resp.text().await.unwrap()
            );
            "DEMO-FGJ".to_owned()
        }
    };
    let unit_token = env.token(&["--role", "unit", "--unit", &unit, "--name", "承办人"]);
    let act = |action: &str, token: &str, body: Value| {
        client
            .post(format!("{base}/api/v1/appeals/{id}/{action}"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    for (action, token, body) in [
        ("accept", unit_token.as_str(), json!({})),
        (
            "reply",
            unit_token.as_str(),
            json!({"result": "已电话联系13700001111说明办理渠道"}),
        ),
        (
            "rate",
            appellant.as_str(),
            json!({"rating": "dissatisfied", "comment": "没解决,请回电13912345678"}),
        ),
    ] {
        let resp = act(action, token, body).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{action}");
    }
    // The rating page's link, as the appellant opens it: the request line is logged.
    let link = format!("{base}/rate?ticket={ticket}&token={appellant}");
    client.get(link).send().await.unwrap();
    wait_for_log(&log, "event=replied");
    wait_for_log(&log, "event=escalated");
    let appeal = until(&base, &id, admin, |a| a["status"] == "reopened").await;
    assert!(event_types(&appeal).iter().any(|t| t == "escalated"));
    assert!(
        server
            .terminate(Duration::from_secs(20))
            .is_some_and(|s| s.success())
    );

    let text = std::fs::read_to_string(&log).unwrap();
    for hidden in [
        "13800138000",
        "13700001111",
        "139-1234-5678",
        "13912345678",
        "0898-66778899",
        "110101199003078515",
        "eyJ",
        secret.trim(),
        admin,
        &appellant,
        &dispatcher,
        &unit_token,
    ] {
        assert!(!text.contains(hidden), "{hidden:?} logged:\n{text}");
    }
    for (at, _) in text.match_indices("token=") {
        assert!(
            text[at..].starts_with("token=[redacted]"),
            "a token value logged:\n{}",
            &text[at..]
        );
    }
    // Not by logging nothing: the ticket, the notifications and the link are there, redacted.
    assert!(text.contains(&ticket), "{text}");
    assert!(text.contains("to=appellant:[redacted]"), "{text}");
    assert!(
        text.contains(&format!("rate?ticket={ticket}&token=[redacted]")),
        "{text}"
    );
    assert!(
        text.contains("admin token (valid 365 days) written to"),
        "{text}"
    );
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The data directory is the owner's alone, and so are the database, the secret and the admin
/// token, which the first start writes and later starts leave as it is.
#[cfg(unix)]
#[tokio::test]
async fn data_directory_is_private_and_admin_token_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let env = embedded(&dir);
    let data = dir.path().join("data");
    let log = dir.path().join("first.log");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = env.spawn_http_logged("serve", port, &log).await;
    let token_file = data.join("admin-token");
    let token = std::fs::read_to_string(&token_file).unwrap();
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(
        output.contains(&format!("written to {}", token_file.display())),
        "{output}"
    );
    assert!(!output.contains(token.trim()), "{output}");
    // The token in the file is an admin's.
    let resp = crate::support::http()
        .get(format!("{base}/api/v1/dispatch-queue"))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(mode(&data), 0o700);
    for file in [
        "hotline.db",
        "hotline.db-wal",
        "hotline.db-shm",
        "secret",
        "admin-token",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert!(
        server
            .terminate(Duration::from_secs(20))
            .is_some_and(|s| s.success())
    );

    // A directory left open by an earlier version is closed at the next start.
    {
        use std::os::unix::fs::PermissionsExt;
        let open = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(&data, open).unwrap();
    }
    let log = dir.path().join("second.log");
    let _server = env.spawn_http_logged("serve", port, &log).await;
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(output.contains("(exists; not rewritten)"), "{output}");
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), token);
    assert_eq!(mode(&data), 0o700);
}
