//! Writes the stored-event fixtures (`store/tests/fixtures/v<N>/`): the platform drives appeals
//! through every event type on SQLite and on PostgreSQL, then the database is dumped as SQL.
//! The store's fixture test loads each dump and checks that the current code reads every
//! appeal, event and outbox envelope in it. Run once per schema version, by hand:
//!
//! ```sh
//! HOTLINE_WRITE_FIXTURES=store/tests/fixtures/v3 HOTLINE_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo test -p hotline --test it fixtures:: -- --ignored
//! ```

use std::path::PathBuf;
use std::process::Command;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use hotline_schemas::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use hotline::Config;

use crate::procs::until;
use crate::support::{Live, PgDatabase, enterprise_appeal, unplaceable_appeal, user_on};

fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn target() -> Option<PathBuf> {
    std::env::var_os("HOTLINE_WRITE_FIXTURES").map(PathBuf::from)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes fixture files: run by hand once per schema version"]
async fn write_sqlite_fixture() {
    let Some(dir) = target() else { return };
    let data = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: data.path().join("data"),
        // The walk spans weeks of the platform's clock.
        staff_token_hours: 24 * 365,
        ..Config::default()
    }
    .without_intake_limits();
    let s = Live::start(config.clone(), local(2026, 11, 20, 14, 40)).await;
    drive_every_event_type(&s).await;
    s.stop().await;
    let path = config.data_dir.join("hotline.db");
    // The platform's connections may still be closing: wait for their locks.
    let out = Command::new("sqlite3")
        .args(["-cmd", ".timeout 10000"])
        .arg(&path)
        .arg(".dump")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sqlite.sql"), out.stdout).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes fixture files: run by hand once per schema version"]
async fn write_postgres_fixture() {
    let Some(dir) = target() else { return };
    let data = tempfile::tempdir().unwrap();
    let pg = PgDatabase::create().await.unwrap();
    let config = Config {
        data_dir: data.path().join("data"),
        // The walk spans weeks of the platform's clock.
        staff_token_hours: 24 * 365,
        database_url: Some(pg.url.clone()),
        ..Config::default()
    }
    .without_intake_limits();
    let s = Live::start(config, local(2026, 11, 20, 14, 40)).await;
    drive_every_event_type(&s).await;
    s.stop().await;
    let out = Command::new("pg_dump")
        .args([
            "--inserts",
            "--no-owner",
            "--no-privileges",
            "--no-comments",
        ])
        .arg(&pg.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // psql meta-commands (`\restrict …`) are for psql only: the fixture is plain SQL.
    let sql: String = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('\\'))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("postgres.sql"), sql).unwrap();
}

struct People {
    admin: String,
    agent: String,
    dispatcher: String,
    supervisor: String,
    planning: String,
    industry: String,
    energy: String,
}

/// The staff; the agent and the leader (in charge of GXJ) are users (schema 3: the agent who logged an appeal
/// and its owners are people), the others tokens for a role.
async fn people(s: &Live) -> People {
    let user = |new: Value| user_on(&s.client, &s.base, &s.config, new);
    let (_, agent) = user(json!({"name": "话务员小王", "role": "agent"})).await;
    user(json!({"name": "王区长", "role": "leader", "in_charge_of": ["GXJ"]})).await;
    People {
        admin: s.token(Role::Admin, None, "管理员"),
        agent,
        dispatcher: s.token(Role::Dispatcher, None, "派单员老陈"),
        supervisor: s.token(Role::Supervisor, None, "督办员小李"),
        planning: s.token(Role::Unit, Some("GHZRZYJ"), "规划局王五"),
        industry: s.token(Role::Unit, Some("GXJ"), "工信局赵六"),
        energy: s.token(Role::Unit, Some("GDJ"), "能源局孙七"),
    }
}

async fn ok(s: &Live, id: &str, action: &str, token: &str, body: Value) -> Value {
    let (status, appeal) = s.act(id, action, token, body).await;
    assert_eq!(status, StatusCode::OK, "{action}: {appeal}");
    appeal
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn classified(s: &Live, id: &str, token: &str) -> Value {
    crate::procs::until_classified(&s.base, id, token).await
}

/// Appeals that together hold every event type, in each of the shapes today's code writes.
async fn drive_every_event_type(s: &Live) {
    let p = people(s).await;
    s.set_now(local(2026, 11, 20, 14, 40)).await;

    // Placed by the router, signed, paused and resumed, extended, replied, rated well.
    let placed = s.submit(None, enterprise_appeal()).await;
    let placed_id = id_of(&placed);
    let placed_rater = placed["appellant_token"].as_str().unwrap().to_owned();
    classified(s, &placed_id, &p.admin).await;
    s.set_now(local(2026, 11, 20, 14, 50)).await;
    ok(s, &placed_id, "accept", &p.planning, json!({})).await;
    ok(
        s,
        &placed_id,
        "pause",
        &p.planning,
        json!({"reason": "请补充用地红线图"}),
    )
    .await;
    s.set_now(local(2026, 11, 20, 16, 0)).await;
    // The appellant's material resumes the clock (schema 2).
    let material = json!({"text": "用地红线图已上传"});
    ok(s, &placed_id, "supplement", &placed_rater, material).await;
    let extend = json!({"days": 2, "reason": "需会同区住建局现场踏勘"});
    ok(s, &placed_id, "extend", &p.planning, extend).await;
    ok(s, &placed_id, "extend/approve", &p.supervisor, json!({})).await;
    ok(
        s,
        &placed_id,
        "reply",
        &p.planning,
        json!({"result": "已协调,审批已完成"}),
    )
    .await;
    let rating = json!({"rating": "very_satisfied", "comment": "非常及时"});
    ok(s, &placed_id, "rate", &placed_rater, rating).await;

    // The same appeal again: a probable duplicate, merged into the first.
    let twin = id_of(&s.submit(None, enterprise_appeal()).await);
    classified(s, &twin, &p.admin).await;
    ok(s, &twin, "merge", &p.dispatcher, json!({"into": placed_id})).await;

    // Not placed: the dispatch limit passes, a reminder, then a dispatch naming the matter.
    let vague = s.submit(None, unplaceable_appeal()).await;
    let vague_id = id_of(&vague);
    let vague_rater = vague["appellant_token"].as_str().unwrap().to_owned();
    classified(s, &vague_id, &p.admin).await;
    s.set_now(local(2026, 11, 20, 16, 17)).await;
    s.set_now(local(2026, 11, 20, 16, 48)).await;
    let dispatch = json!({"unit": "GHZRZYJ", "matter": "IND-11"});
    ok(s, &vague_id, "dispatch", &p.dispatcher, dispatch).await;
    // Not signed for: breach, reminder, the supervisor after 6 hours; then returned.
    s.set_now(local(2026, 11, 20, 17, 20)).await;
    s.set_now(local(2026, 11, 23, 12, 0)).await;
    ok(
        s,
        &vague_id,
        "return",
        &p.planning,
        json!({"reason": "不属于本单位职责"}),
    )
    .await;
    ok(
        s,
        &vague_id,
        "reassign",
        &p.dispatcher,
        json!({"unit": "GXJ"}),
    )
    .await;
    ok(s, &vague_id, "accept", &p.industry, json!({})).await;
    // Warnings, the breach and the whole ladder up to the leader, who owns it then.
    for day in [24, 25, 26, 27, 30] {
        s.set_now(local(2026, 11, day, 18, 0)).await;
    }
    for day in [1, 2, 3] {
        s.set_now(local(2026, 12, day, 18, 0)).await;
    }
    // Replied and rated badly three times: rework, then the supervisor.
    for _ in 0..3 {
        ok(
            s,
            &vague_id,
            "reply",
            &p.industry,
            json!({"result": "已办理"}),
        )
        .await;
        let bad = json!({"rating": "dissatisfied", "comment": "没有解决"});
        ok(s, &vague_id, "rate", &vague_rater, bad).await;
        ok(s, &vague_id, "accept", &p.industry, json!({})).await;
    }
    // A last reply nobody rates: closed as not rated.
    ok(
        s,
        &vague_id,
        "reply",
        &p.industry,
        json!({"result": "已再次办理"}),
    )
    .await;
    s.set_now(s.now() + Duration::days(10)).await;

    // Urgent by its words (gas), extended by hours, closed by a supervisor.
    let mut gas = enterprise_appeal();
    gas["title"] = json!("厂区附近燃气泄漏");
    gas["body"] = json!("厂区门口闻到煤气味,疑似燃气泄漏,请燃气公司马上处理。");
    let gas_id = id_of(&s.submit(None, gas).await);
    let gas_appeal = classified(s, &gas_id, &p.admin).await;
    if gas_appeal["status"] == "received" {
        ok(
            s,
            &gas_id,
            "dispatch",
            &p.dispatcher,
            json!({"unit": "GDJ"}),
        )
        .await;
    }
    let gas_unit = until(&s.base, &gas_id, &p.admin, |a| a["status"] == "dispatched").await;
    let gas_token = match gas_unit["unit"].as_str() {
        Some("GDJ") => p.energy.clone(),
        Some(other) => s.token(Role::Unit, Some(other), "承办人"),
        None => unreachable!(),
    };
    ok(s, &gas_id, "accept", &gas_token, json!({})).await;
    let extend = json!({"hours": 4, "reason": "需停气抢修"});
    ok(s, &gas_id, "extend", &gas_token, extend).await;
    ok(
        s,
        &gas_id,
        "reply",
        &gas_token,
        json!({"result": "已抢修完毕"}),
    )
    .await;
    ok(
        s,
        &gas_id,
        "close",
        &p.supervisor,
        json!({"reason": "电话回访确认"}),
    )
    .await;

    // Voided; a consultation answered on the spot.
    let spam = id_of(&s.submit(None, unplaceable_appeal()).await);
    classified(s, &spam, &p.admin).await;
    // Marked confidential by an admin (schema 2), revealed and voided.
    let mark = json!({"subject_unit": "GHZRZYJ"});
    ok(s, &spam, "confidential", &p.admin, mark).await;
    let why = json!({"reason": "核实来电人身份"});
    ok(s, &spam, "reveal", &p.admin, why).await;
    let void = json!({"reason": "重复骚扰电话"});
    ok(s, &spam, "void", &p.admin, void).await;
    let question = json!({
        "channel": "hotline", "kind": "consultation", "title": "请帮忙看看",
        "body": "想咨询一件事,不知道该找哪个部门",
        "appellant": {"kind": "person", "name": "张先生", "phone": "13912345678"}
    });
    let asked = id_of(&s.submit(Some(&p.agent), question).await);
    classified(s, &asked, &p.admin).await;
    ok(
        s,
        &asked,
        "close",
        &p.agent,
        json!({"reason": "已一次性告知"}),
    )
    .await;

    // Every event type is there.
    let mut seen = std::collections::BTreeSet::new();
    for id in [&placed_id, &twin, &vague_id, &gas_id, &spam, &asked] {
        let (_, a) = s.get(&format!("/api/v1/appeals/{id}"), &p.admin).await;
        for e in a["events"].as_array().unwrap() {
            seen.insert(e["type"].as_str().unwrap().to_owned());
        }
    }
    let every: std::collections::BTreeSet<String> =
        <hotline_schemas::EventType as strum::IntoEnumIterator>::iter()
            .map(|t| t.as_str().to_owned())
            .collect();
    assert_eq!(seen, every);
}
