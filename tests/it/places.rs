//! Places (属地管理, issue 14) through the API on both engines: a neighbourhood matter goes
//! to the office of the street the appeal is in, and one with no street found waits for the
//! dispatcher, who is told why.

use chrono::{DateTime, TimeZone, Utc};
use hotline::Config;
use hotline_schemas::Role;
use serde_json::{Value, json};

use crate::procs::until_classified;
use crate::support::{Live, PgDatabase};

/// Monday 23 November 2026, 09:00 in Shanghai.
fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap()
}

/// Appeals routed by the whole platform, on SQLite and on PostgreSQL.
async fn each_engine(test: impl AsyncFn(&Live)) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        duplicate_window_hours: 0,
        ..Config::default()
    };
    let s = Live::start(config.clone(), monday()).await;
    test(&s).await;
    s.stop().await;
    if let Some(pg) = PgDatabase::create().await {
        let s = Live::start(
            Config {
                database_url: Some(pg.url.clone()),
                ..config
            },
            monday(),
        )
        .await;
        test(&s).await;
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn territorial_matters_go_to_the_street_office_of_their_place() {
    each_engine(async |s| {
        a_noise_complaint_in_fuyong_goes_to_the_fuyong_street_office(s).await;
        coordinates_place_an_appeal_whose_address_names_no_street(s).await;
        a_noise_complaint_with_no_place_waits_for_the_dispatcher(s).await;
    })
    .await;
}

/// A neighbourhood noise complaint (URB-06: territorial), with `location`.
fn noise(location: Value, phone: &str) -> Value {
    json!({
        "channel": "web",
        "kind": "complaint",
        "title": "楼上邻居深夜噪音扰民",
        "body": "我家楼上住户每天深夜12点后还在打麻将、大声喧哗，小孩跑跳不停，我家老人整夜睡不着，物业劝说无效，请派出所上门处理。",
        "appellant": {"kind": "person", "name": "刘女士", "phone": phone},
        "location": location,
    })
}

async fn classified(s: &Live, body: Value) -> Value {
    let admin = s.token(Role::Admin, None, "管理员");
    let created = s.submit(None, body).await;
    let id = created["id"].as_str().unwrap().to_owned();
    until_classified(&s.base, &id, &admin).await
}

async fn a_noise_complaint_in_fuyong_goes_to_the_fuyong_street_office(s: &Live) {
    let appeal = classified(
        s,
        noise(
            json!({"address": "宝安区福永街道凤凰社区某花园3栋"}),
            "13900001401",
        ),
    )
    .await;
    assert_eq!(appeal["matter"], "URB-06", "{appeal}");
    assert_eq!(appeal["status"], "dispatched", "{appeal}");
    assert_eq!(appeal["unit"], "JD-FY", "{appeal}");
    assert_eq!(appeal["place"]["street"], "FY");
    assert_eq!(appeal["place"]["found_by"], "address");
    assert!(appeal["held"].is_null());
}

async fn coordinates_place_an_appeal_whose_address_names_no_street(s: &Live) {
    // Near the centre of 西乡: the address only names an estate.
    let appeal = classified(
        s,
        noise(
            json!({"address": "某某花园", "longitude": 113.865, "latitude": 22.579}),
            "13900001402",
        ),
    )
    .await;
    assert_eq!(appeal["unit"], "JD-XX", "{appeal}");
    assert_eq!(appeal["place"]["found_by"], "coordinates");
}

async fn a_noise_complaint_with_no_place_waits_for_the_dispatcher(s: &Live) {
    let appeal = classified(s, noise(json!({"address": "某小区"}), "13900001403")).await;
    assert_eq!(appeal["matter"], "URB-06", "{appeal}");
    assert_eq!(appeal["status"], "received", "{appeal}");
    assert_eq!(appeal["held"], "no_place");
    assert!(appeal["place"].is_null());
    let dispatcher = s.token(Role::Dispatcher, None, "派单员老陈");
    let (_, queue) = s.get("/api/v1/dispatch-queue", &dispatcher).await;
    let waiting = queue["appeals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == appeal["id"])
        .cloned();
    assert_eq!(
        waiting.map(|a| a["held"].clone()),
        Some(json!("no_place")),
        "{queue}"
    );
}
