//! Console page benchmark (issue 12): the server time of every page of the console with N
//! appeals (default 100,000) on the embedded store (SQLite), one in five of them dispatched to
//! the unit whose inbox is measured. Each page is asked 20 times after 3 warm-up requests, over
//! loopback by a signed-in visitor of the role that uses it; the report gives the median, p95
//! and maximum in milliseconds, and marks a median over the 200 ms target. Pages that do not
//! exist yet (404) are listed as such.
//!
//! Run: `cargo bench -p hotline --bench console` (`-- 20000` for fewer appeals).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::Utc;
use hotline::{Config, Platform};
use hotline_schemas::lifecycle::{Intake, decide};
use hotline_schemas::value::ticket::ticket_day;
use hotline_schemas::{
    Actor, Appellant, Channel, Command, Kind, Location, NewAppeal, NewUser, Priority, Role, UserId,
};
use hotline_store::{CommitMeta, Submission};
use reqwest::redirect::Policy;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const PASSWORD: &str = "benchmark password 2026";
const WARM_UP: usize = 3;
const TIMED: usize = 20;
const TARGET_MS: f64 = 200.0;

fn new_appeal(i: usize) -> NewAppeal {
    let topics = [
        (
            "小区夜间施工噪音扰民",
            "晚上十点后仍在施工,影响休息,请处理。",
        ),
        (
            "厂房用地审批缓慢",
            "工业用地审批三个月无进展,影响企业投产。",
        ),
        ("道路井盖破损", "幸福路口井盖破损,夜间行人容易受伤。"),
        (
            "企业人才补贴申请咨询",
            "想了解高层次人才补贴的申请条件和材料。",
        ),
    ];
    let (title, body) = topics[i % topics.len()];
    NewAppeal {
        channel: if i.is_multiple_of(3) {
            Channel::Web
        } else {
            Channel::Hotline
        },
        kind: if i % 4 == 3 {
            Kind::Consultation
        } else {
            Kind::Complaint
        },
        priority: Priority::Normal,
        title: format!("{title} {i}"),
        body: body.to_owned(),
        appellant: Appellant::Person {
            name: "李女士".to_owned(),
            phone: Some(format!("139{:08}", i % 100_000_000)),
            wechat_openid: None,
        },
        location: Location {
            address: Some("宝安区新安街道".to_owned()),
            ..Location::default()
        },
        attachments: Vec::new(),
    }
}

/// `n` appeals, one in five dispatched to DEMO-FGJ: the id of one of those.
async fn seed(platform: &Platform, n: usize) -> anyhow::Result<String> {
    let agent = Actor {
        name: "话务员".to_owned(),
        role: Role::Agent,
        unit: None,
        appeal: None,
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    };
    let dispatcher = Actor {
        role: Role::Dispatcher,
        name: "派单员".to_owned(),
        ..agent.clone()
    };
    let started = Instant::now();
    let mut dispatched = String::new();
    for i in 0..n {
        let now = Utc::now();
        let intake = Intake::new(new_appeal(i), &platform.rules().context(now, &agent))?;
        let appeal = platform
            .store
            .submit(Submission {
                intake,
                day: ticket_day(now, platform.rules().tz),
                idempotency: None,
                traceparent: None,
            })
            .await?
            .appeal;
        if i.is_multiple_of(5) {
            let command = Command::Dispatch {
                unit: "DEMO-FGJ".into(),
                matter: None,
            };
            let decision = decide(
                &appeal,
                command,
                &platform.rules().context(now, &dispatcher),
            )?;
            platform
                .store
                .commit(&decision, &CommitMeta::default())
                .await?;
            dispatched = appeal.id.to_string();
        }
        if (i + 1).is_multiple_of(10_000) {
            eprintln!(
                "  {} appeals stored ({:.0}/s)",
                i + 1,
                (i + 1) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(dispatched)
}

/// A user of `role` who signs in as `username`.
async fn user(
    platform: &Platform,
    username: &str,
    role: Role,
    unit: Option<&str>,
) -> anyhow::Result<()> {
    let new = NewUser {
        name: format!("{username} 测试"),
        username: Some(username.to_owned()),
        role,
        unit: unit.map(Into::into),
        in_charge_of: if matches!(role, Role::Leader | Role::Supervisor) {
            vec!["DEMO-FGJ".into()]
        } else {
            Vec::new()
        },
        mailbox_reader: false,
    };
    let user = new.into_user(UserId::new(), Utc::now())?;
    platform.store.add_user(&user).await?;
    hotline::people::set_password(platform.store.as_ref(), user.id, PASSWORD).await?;
    Ok(())
}

/// The session cookie of `username`, signed in through the sign-in form.
async fn session(base: &str, username: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()?;
    let page = client.get(format!("{base}/sign-in")).send().await?;
    let form_cookie = page
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("the sign-in page sets its form cookie")?
        .to_owned();
    let html = page.text().await?;
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("a CSRF token")?
        .to_owned();
    let signed = client
        .post(format!("{base}/sign-in"))
        .header("cookie", form_cookie)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("password", PASSWORD),
        ])
        .send()
        .await?;
    signed
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hotline_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .context("signed in")
}

/// Milliseconds at the `q` quantile of sorted `samples`.
fn quantile(samples: &[f64], q: f64) -> f64 {
    let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[index.min(samples.len() - 1)]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    hotline::install_tls_provider();
    let dir = tempfile::tempdir()?;
    let config = Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    }
    .without_intake_limits();
    let platform = Platform::open(&config, hotline_gateway::system_clock()).await?;
    eprintln!("seeding {n} appeals on SQLite …");
    let seeded = Instant::now();
    let dispatched = seed(&platform, n).await?;
    eprintln!("seeded in {:.1} s", seeded.elapsed().as_secs_f64());
    let roles = [
        ("unit", Role::Unit, Some("DEMO-FGJ")),
        ("agent", Role::Agent, None),
        ("dispatcher", Role::Dispatcher, None),
        ("supervisor", Role::Supervisor, None),
        ("leader", Role::Leader, None),
        ("admin", Role::Admin, None),
    ];
    for (name, role, unit) in roles {
        user(&platform, name, role, unit).await?;
    }
    let stop = CancellationToken::new();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(hotline_gateway::serve(
        listener,
        platform.http_app(stop.clone()),
        stop.clone().cancelled_owned(),
    ));
    let pages = [
        ("unit", "/console/inbox".to_owned()),
        ("unit", format!("/console/appeals/{dispatched}")),
        ("agent", "/console/desk".to_owned()),
        ("dispatcher", "/console/queue".to_owned()),
        ("supervisor", "/console/oversight".to_owned()),
        ("leader", "/console/oversight".to_owned()),
        ("leader", "/console/dashboard".to_owned()),
        ("admin", "/console/dashboard".to_owned()),
        ("admin", "/console/admin".to_owned()),
        ("public", "/".to_owned()),
        ("public", "/submit".to_owned()),
    ];
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()?;
    println!("{n} appeals on SQLite; {TIMED} requests a page after {WARM_UP} to warm up");
    println!(
        "{:<12} {:<44} {:>8} {:>8} {:>8}",
        "who", "page", "median", "p95", "max"
    );
    for (who, path) in pages {
        let cookie = if who == "public" {
            String::new()
        } else {
            session(&base, who).await?
        };
        let mut samples = Vec::with_capacity(TIMED);
        let mut status = reqwest::StatusCode::OK;
        for round in 0..WARM_UP + TIMED {
            let started = Instant::now();
            let response = client
                .get(format!("{base}{path}"))
                .header("cookie", &cookie)
                .send()
                .await?;
            status = response.status();
            response.bytes().await?;
            if round >= WARM_UP {
                samples.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        if status != reqwest::StatusCode::OK {
            println!("{who:<12} {path:<44} {status} (not measured)");
            continue;
        }
        samples.sort_by(f64::total_cmp);
        let median = quantile(&samples, 0.5);
        let flag = if median > TARGET_MS {
            "  over 200 ms"
        } else {
            ""
        };
        println!(
            "{who:<12} {path:<44} {median:>8.1} {:>8.1} {:>8.1}{flag}",
            quantile(&samples, 0.95),
            samples[samples.len() - 1]
        );
    }
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), server).await???;
    Ok(())
}
