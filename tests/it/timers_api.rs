//! Time limits at work through the API: the worker's steps fired with the platform's clock
//! moved by the test, across a weekend, a restart, pauses and ratings (SPEC §6–§7).

use super::*;
use chrono::{DateTime, Duration};
use chrono_tz::Asia::Shanghai;
use hotline_worker::TimerOptions;

use crate::support::Engine;

/// Local time in Shanghai.
fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// The appeal with its history.
async fn history(s: &TestServer, id: &str, token: &str) -> Value {
    let (status, appeal) = s.get(&format!("/api/v1/appeals/{id}"), token).await;
    assert_eq!(status, StatusCode::OK, "{appeal}");
    appeal
}

/// `type` or `type:limit:level` of each event, for the time-limit events.
fn steps(appeal: &Value) -> Vec<String> {
    appeal["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let kind = e["type"].as_str().unwrap();
            match (e["data"]["limit"].as_str(), e["data"]["level"].as_i64()) {
                (Some(limit), Some(level)) => format!("{kind}:{limit}:{level}"),
                (Some(limit), None) => format!("{kind}:{limit}"),
                _ => kind.to_owned(),
            }
        })
        .collect()
}

/// Like `on_both_engines!`, for tests that restart the platform (they own the server).
macro_rules! on_both_engines_owned {
    ($($name:ident),* $(,)?) => {
        mod sqlite_owned {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let server = crate::support::TestServer::start(crate::support::Engine::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$name(server).await.stop().await;
                }
            )*
        }
        mod postgres_owned {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(server) =
                        crate::support::TestServer::start(crate::support::Engine::Postgres).await
                    {
                        super::$name(server).await.stop().await;
                    }
                }
            )*
        }
    };
}

on_both_engines_owned!(every_step_fires_once_across_a_weekend_and_restarts);

on_both_engines!(
    the_dispatch_queue_alarms_and_reminds_the_dispatchers,
    a_pause_stops_the_clock_and_shows_the_paused_time,
    unrated_replies_close_and_repeated_bad_ratings_reach_the_supervisor,
);

async fn every_step_fires_once_across_a_weekend_and_restarts(s: TestServer) -> TestServer {
    let t = staff(&s);
    let unit = s.token(Role::Unit, Some("GHZRZYJ"), "规划局王五");
    let (leader, leader_token) = s
        .user(json!({"name": "李副区长", "role": "leader", "in_charge_of": ["GHZRZYJ"]}))
        .await;
    // Friday 20 November, 14:40: nobody dispatches it for 15 minutes.
    s.set_now(local(2026, 11, 20, 14, 40));
    let id = id_of(&s.submit(None, enterprise_appeal()).await);
    s.set_now(local(2026, 11, 20, 14, 56));
    assert_eq!(s.fire_timers().await.events, 2);
    s.set_now(local(2026, 11, 20, 15, 0));
    let (status, dispatched) = s
        .act(&id, "dispatch", &t.dispatcher, json!({"unit": "GHZRZYJ"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{dispatched}");
    assert_eq!(dispatched["sla"]["next_step"], "response_breach");
    assert_eq!(dispatched["sla"]["next_due"], "2026-11-20T15:30:00+08:00");
    // Not signed for in 30 minutes: breach and a reminder; signed at 15:40.
    s.set_now(local(2026, 11, 20, 15, 31));
    assert_eq!(s.fire_timers().await.events, 2);
    s.set_now(local(2026, 11, 20, 15, 40));
    let (status, _) = s.act(&id, "accept", &unit, json!({})).await;
    assert_eq!(status, StatusCode::OK);

    // The worker restarts; over the weekend nothing is due (working time stands still).
    let s = s.restart().await;
    s.set_now(local(2026, 11, 23, 8, 0));
    assert_eq!(s.fire_timers().await.events, 0);
    // 50% of 72 working hours: Tuesday 03:00.
    s.set_now(local(2026, 11, 24, 3, 0));
    assert_eq!(s.fire_timers().await.events, 1);
    // Down until Wednesday 20:00: the 80% warning, the breach (Wednesday 15:00) and the
    // first two levels of the ladder all fire, once each, in order.
    let s = s.restart().await;
    s.set_now(local(2026, 11, 25, 20, 0));
    assert_eq!(s.fire_timers().await.events, 4);
    let s = s.restart().await;
    assert_eq!(s.fire_timers().await.events, 0, "nothing fires twice");
    // Level 3 one working day after the deadline: the leader in charge of the unit owns
    // the case.
    s.set_now(local(2026, 11, 26, 15, 0));
    assert_eq!(s.fire_timers().await.events, 2);

    let appeal = history(&s, &id, &t.supervisor).await;
    assert_eq!(
        steps(&appeal),
        [
            "received",
            "sla_breached:dispatch",
            "reminded:dispatch",
            "dispatched",
            "sla_breached:response",
            "reminded:response",
            "accepted",
            "sla_warning:resolution",
            "sla_warning:resolution",
            "sla_breached:resolution",
            "escalated:resolution:1",
            "escalated:resolution:2",
            "escalated:resolution:3",
            "owned",
        ]
    );
    let events = appeal["events"].as_array().unwrap();
    let notified: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "escalated")
        .map(|e| e["data"]["notified"].as_str().unwrap())
        .collect();
    assert_eq!(
        notified,
        ["unit:GHZRZYJ", "supervisor", "leader:分管规划的副区长"]
    );
    assert!(
        events
            .iter()
            .filter(|e| e["actor"] == "system" && e["type"] != "owned")
            .all(|e| e["data"]["due_at"].is_string()),
        "every step the timers take says when it was due"
    );
    assert_eq!(
        appeal["owners"],
        json!([{"user": leader.id, "name": "李副区长"}]),
        "the taxonomy's leader is a title, the owner a user"
    );
    assert_eq!(appeal["sla"]["escalation_level"], 3);
    assert_eq!(appeal["sla"]["warnings"], 2);
    assert!(appeal["sla"]["next_step"].is_null());
    assert_eq!(appeal["overdue"], true);

    // The leader finds it on the oversight desk.
    let (status, desk) = s.get("/api/v1/oversight", &leader_token).await;
    assert_eq!(status, StatusCode::OK, "{desk}");
    assert_eq!(desk["appeals"][0]["id"], id.as_str());
    assert_eq!(desk["appeals"][0]["owned"], true);
    s
}

async fn the_dispatch_queue_alarms_and_reminds_the_dispatchers(s: &TestServer) {
    let t = staff(s);
    let start = s.now();
    let id = id_of(&s.submit(None, enterprise_appeal()).await);
    s.set_now(start + Duration::minutes(14));
    assert_eq!(s.fire_timers().await.events, 0);
    s.set_now(start + Duration::minutes(16));
    assert_eq!(s.fire_timers().await.events, 2);
    s.set_now(start + Duration::minutes(46));
    assert_eq!(s.fire_timers().await.events, 1);
    let appeal = history(s, &id, &t.dispatcher).await;
    let reminders: Vec<&Value> = appeal["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "reminded")
        .collect();
    assert_eq!(reminders.len(), 2);
    assert_eq!(reminders[1]["data"]["n"], 2);
    assert_eq!(reminders[1]["data"]["notified"], "dispatcher");
    assert_eq!(appeal["sla"]["reminders"], 2);
    assert_eq!(appeal["sla"]["next_step"], "dispatch_reminder");
    // Dispatching ends the reminders.
    s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
        .await;
    s.set_now(start + Duration::minutes(47));
    assert_eq!(s.fire_timers().await.events, 0);
}

async fn a_pause_stops_the_clock_and_shows_the_paused_time(s: &TestServer) {
    let t = staff(s);
    let id = id_of(&s.submit(None, enterprise_appeal()).await);
    s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
        .await;
    s.act(&id, "accept", &t.unit, json!({})).await;
    s.set_now(local(2026, 11, 24, 10, 0));
    let body = json!({"reason": "请补充营业执照复印件"});
    let (status, paused) = s.act(&id, "pause", &t.unit, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{paused}");
    assert_eq!(paused["sla"]["paused_since"], "2026-11-24T10:00:00+08:00");
    assert!(paused["sla"]["next_step"].is_null());
    let path = format!("/api/v1/appeals/{id}/pause");
    expect_error(
        s,
        Method::POST,
        &path,
        Some(&t.unit),
        Some(body),
        StatusCode::CONFLICT,
        "already_paused",
        None,
        "补充材料",
        "waiting for the appellant",
    )
    .await;
    let (status, _) = s
        .act(&id, "pause", &t.other_unit, json!({"reason": "x"}))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another unit does not see it"
    );
    // Past the original deadline (Thursday 09:00) nothing fires: the clock stands still.
    s.set_now(local(2026, 11, 27, 12, 0));
    assert_eq!(s.fire_timers().await.events, 0);
    let now = history(s, &id, &t.unit).await;
    assert_eq!(now["sla"]["paused_seconds"], 3 * 86_400 + 2 * 3_600);
    assert_eq!(now["overdue"], true, "the deadline shown has not moved yet");
    // Resumed Monday 10:00: 4 working days paused, the deadline moves by as much.
    s.set_now(local(2026, 11, 30, 10, 0));
    let (status, resumed) = s.act(&id, "resume", &t.unit, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{resumed}");
    assert_eq!(
        resumed["deadlines"]["resolve_due"],
        "2026-12-02T09:00:00+08:00"
    );
    assert_eq!(
        resumed["deadlines"]["original_resolve_due"],
        "2026-11-26T09:00:00+08:00"
    );
    assert_eq!(resumed["sla"]["paused_seconds"], 6 * 86_400);
    assert!(resumed["sla"]["paused_since"].is_null());
    assert_eq!(resumed["overdue"], false);
    let last = resumed["events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["type"], "resumed");
    assert_eq!(last["data"]["paused_seconds"], 6 * 86_400);
    expect_error(
        s,
        Method::POST,
        &format!("/api/v1/appeals/{id}/resume"),
        Some(&t.unit),
        Some(json!({})),
        StatusCode::CONFLICT,
        "not_paused",
        None,
        "没有在等待补充材料",
        "not waiting",
    )
    .await;
}

async fn unrated_replies_close_and_repeated_bad_ratings_reach_the_supervisor(s: &TestServer) {
    let t = staff(s);
    let quiet = id_of(&s.submit(None, enterprise_appeal()).await);
    s.act(
        &quiet,
        "dispatch",
        &t.dispatcher,
        json!({"unit": "DEMO-FGJ"}),
    )
    .await;
    s.act(&quiet, "accept", &t.unit, json!({})).await;
    let (_, replied) = s
        .act(&quiet, "reply", &t.unit, json!({"result": "已协调办理"}))
        .await;
    assert_eq!(replied["sla"]["next_step"], "rating_timeout");
    // Replied Monday 09:00; 5 working days later, still not rated.
    assert_eq!(replied["sla"]["next_due"], "2026-11-30T09:00:00+08:00");
    s.set_now(local(2026, 11, 30, 9, 0));
    assert_eq!(s.fire_timers().await.events, 1);
    let closed = history(s, &quiet, &t.supervisor).await;
    assert_eq!(closed["status"], "closed");
    let last = closed["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["data"]["not_rated"], true);
    assert_eq!(last["actor"], "system");

    // Bad ratings: the third one (max_reworks = 2) also calls the supervisor.
    let (status, submitted) = s.post("/api/v1/appeals", None, enterprise_appeal()).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = id_of(&submitted);
    let appellant = submitted["appellant_token"].as_str().unwrap().to_owned();
    s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
        .await;
    for _ in 0..3 {
        s.act(&id, "accept", &t.unit, json!({})).await;
        s.act(&id, "reply", &t.unit, json!({"result": "已办理"}))
            .await;
        let (status, rated) = s
            .act(&id, "rate", &appellant, json!({"rating": "dissatisfied"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{rated}");
    }
    let appeal = history(s, &id, &t.supervisor).await;
    let rework: Vec<String> = steps(&appeal)
        .into_iter()
        .filter(|s| s.starts_with("escalated"))
        .collect();
    assert_eq!(rework, ["escalated:rework:2"]);
    assert_eq!(appeal["rework_count"], 3);
}

/// Two workers with their own connections on one PostgreSQL database, racing over the same
/// due timers: every step is recorded once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_postgres_workers_fire_each_step_once() {
    let Some(s) = TestServer::start(Engine::Postgres).await else {
        return;
    };
    let t = staff(&s);
    let mut ids = Vec::new();
    for _ in 0..60 {
        let id = id_of(&s.submit(None, enterprise_appeal()).await);
        s.act(&id, "dispatch", &t.dispatcher, json!({"unit": "DEMO-FGJ"}))
            .await;
        ids.push(id);
    }
    // Not signed for: each has its breach, a reminder and the supervisor's alert due.
    s.set_now(s.now() + Duration::hours(7));
    let small = TimerOptions {
        batch: 5,
        concurrency: 2,
        ..TimerOptions::default()
    };
    let (one, two) = (s.second_platform().await, s.second_platform().await);
    let (a, b) = (one.timers(small.clone()), two.timers(small));
    let (pass_a, pass_b) = tokio::join!(a.catch_up(), b.catch_up());
    let (pass_a, pass_b) = (pass_a.unwrap(), pass_b.unwrap());
    assert_eq!(
        pass_a.events + pass_b.events,
        60 * 3,
        "{pass_a:?} {pass_b:?}"
    );
    for id in &ids {
        let appeal = history(&s, id, &t.supervisor).await;
        assert_eq!(
            steps(&appeal),
            [
                "received",
                "dispatched",
                "sla_breached:response",
                "reminded:response",
                "escalated:response:2",
            ],
            "{id}"
        );
    }
    assert_eq!(s.fire_timers().await.events, 0);
    s.stop().await;
}
