//! Running the real `hotline` binary in tests: roles as child processes that are killed when
//! the test ends, however it ends.

use std::net::TcpListener as StdListener;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_hotline");

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The environment of one platform: the variables every process of it gets.
#[derive(Debug, Clone, Default)]
pub struct Env(pub Vec<(String, String)>);

impl Env {
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_owned(), value.into()));
        self
    }

    /// `hotline ARGS` with only this environment (and PATH). The intake limits are off unless
    /// the environment sets them: the tests submit many appeals from one address.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOTLINE_LOG", "warn")
            .env("HOTLINE_PUBLIC_SUBMISSIONS_PER_MINUTE", "0")
            .env("HOTLINE_APPELLANT_SUBMISSIONS_PER_HOUR", "0")
            .env("HOTLINE_STAFF_SUBMISSIONS_PER_MINUTE", "0")
            .args(args);
        for (k, v) in &self.0 {
            cmd.env(k, v);
        }
        cmd
    }

    /// `hotline token issue ARGS`: the token is the last line of the output.
    pub fn token(&self, args: &[&str]) -> String {
        let out = self
            .command(&["token", "issue"])
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

    /// Starts `hotline ROLE` in the background.
    pub fn spawn(&self, role: &str) -> Proc {
        let child = self
            .command(&[role])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Proc { child: Some(child) }
    }

    /// Starts `hotline ROLE` in the background, its stdout and stderr written to `log`.
    pub fn spawn_logged(&self, role: &str, log: &Path) -> Proc {
        let file = std::fs::File::create(log).unwrap();
        let child = self
            .command(&[role])
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        Proc { child: Some(child) }
    }

    /// Starts `hotline ROLE` (serve or gateway) and waits until it answers on `port`.
    pub async fn spawn_http(&self, role: &str, port: u16) -> Proc {
        let env = self
            .clone()
            .with("HOTLINE_HTTP_ADDR", format!("127.0.0.1:{port}"));
        ready(env.spawn(role), role, port).await
    }

    /// [`Env::spawn_http`] with the output written to `log`.
    pub async fn spawn_http_logged(&self, role: &str, port: u16, log: &Path) -> Proc {
        let env = self
            .clone()
            .with("HOTLINE_HTTP_ADDR", format!("127.0.0.1:{port}"));
        ready(env.spawn_logged(role, log), role, port).await
    }
}

/// Waits until `proc` answers on `port` (bounded: 30 s).
async fn ready(mut proc: Proc, role: &str, port: u16) -> Proc {
    let client = crate::support::http();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status() == StatusCode::OK
        {
            return proc;
        }
        if Instant::now() > deadline {
            proc.kill();
            panic!("hotline {role} did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running role; killed (SIGKILL) when dropped.
pub struct Proc {
    child: Option<Child>,
}

impl Proc {
    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The exit status, if the process has ended by itself (the fault test watches its router).
    #[allow(dead_code)]
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().ok().flatten()
    }

    /// SIGTERM, then waits for the exit (bounded: SIGKILL after `grace`).
    pub fn terminate(&mut self, grace: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + grace;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads the appeal through the API until `done` holds of it (bounded: 60 s).
pub async fn until(base: &str, id: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    until_by(
        base,
        id,
        token,
        Instant::now() + Duration::from_secs(60),
        done,
    )
    .await
}

/// Reads the appeal through the API until `done` holds of it, failing at `deadline`.
/// The appeal `id` once the router has classified it.
pub async fn until_classified(base: &str, id: &str, token: &str) -> Value {
    until(base, id, token, |a| {
        a["events"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["type"] == "classified"))
    })
    .await
}

pub async fn until_by(
    base: &str,
    id: &str,
    token: &str,
    deadline: Instant,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let client = crate::support::http();
    loop {
        let resp = client
            .get(format!("{base}/api/v1/appeals/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "appeal {id} lost");
        let appeal: Value = resp.json().await.unwrap();
        if done(&appeal) {
            return appeal;
        }
        assert!(
            Instant::now() < deadline,
            "appeal {id} never got there: {appeal}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `POST {base}/api/v1/appeals` with `body`; the created appeal.
pub async fn submit(base: &str, body: &Value) -> Value {
    let resp = crate::support::http()
        .post(format!("{base}/api/v1/appeals"))
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json().await.unwrap()
}
