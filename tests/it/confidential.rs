//! Confidential appeals through HTTP on the whole platform (SPEC §3): a complaint about an
//! official's conduct reaches the discipline office, whatever the channel, and for the unit it
//! accuses (and everyone but its readers) it does not exist.

use chrono::{DateTime, TimeZone, Utc};
use hotline::Config;
use hotline_schemas::{Actor, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::procs::until;
use crate::support::{Live, PgDatabase, staff_actor};

/// Monday 23 November 2026, 09:00 in Shanghai.
fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap()
}

fn complaint(channel: &str, body: &str, phone: &str) -> Value {
    json!({
        "channel": channel,
        "kind": "complaint",
        "title": "审批时被索要好处费",
        "body": body,
        "appellant": {"kind": "person", "name": "王先生", "phone": phone}
    })
}

struct Readers {
    admin: String,
    reader: String,
    office: String,
    accused: String,
    dispatcher: String,
    supervisor: String,
    leader: String,
}

fn readers(s: &Live) -> Readers {
    let reader = Actor {
        mailbox_reader: true,
        ..staff_actor(Role::Leader, "书记信箱专员")
    };
    Readers {
        admin: s.token(Role::Admin, None, "管理员"),
        reader: hotline::issue_token(&s.config, &reader).unwrap(),
        office: s.token(Role::Unit, Some("JWJW"), "纪委监委李四"),
        accused: s.token(Role::Unit, Some("GHZRZYJ"), "规自局王五"),
        dispatcher: s.token(Role::Dispatcher, None, "派单员老陈"),
        supervisor: s.token(Role::Supervisor, None, "督办员小李"),
        leader: s.token(Role::Leader, None, "王区长"),
    }
}

async fn confidential_appeals_reach_only_their_readers(config: Config) {
    let s = Live::start(config, monday()).await;
    let t = readers(&s);
    // The same complaint through the mailbox and the web (the configuration looks for no
    // duplicates), and one that calls the bureau 规自局.
    let same = "区规划和自然资源局的经办人员暗示要好处费才给我们批厂房用地,请纪委调查。";
    let texts = [
        ("mailbox", same, "13700001111"),
        ("web", same, "13700002222"),
        (
            "web",
            "规自局的工作人员办事吃拿卡要,不给好处费就卡着用地审批。",
            "13700003333",
        ),
    ];
    let mut ids = Vec::new();
    let mut whistle_blowers = Vec::new();
    for (channel, body, phone) in texts {
        let created = s.submit(None, complaint(channel, body, phone)).await;
        let id = created["id"].as_str().unwrap().to_owned();
        whistle_blowers.push(created["appellant_token"].as_str().unwrap().to_owned());
        let placed = until(&s.base, &id, &t.admin, |a| a["status"] == "dispatched").await;
        assert_eq!(placed["unit"], "JWJW", "{channel}: {body}");
        assert_eq!(placed["subject_unit"], "GHZRZYJ", "{channel}: {body}");
        assert_eq!(placed["confidential"], true);
        ids.push(id);
    }

    // The accused unit (and every ordinary staff role) is told it does not exist.
    for token in [&t.accused, &t.dispatcher, &t.supervisor, &t.leader] {
        for id in &ids {
            let (status, _) = s.get(&format!("/api/v1/appeals/{id}"), token).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        }
        let (status, list) = s.get("/api/v1/appeals?per_page=100", token).await;
        assert_eq!(status, StatusCode::OK);
        let listed: Vec<&str> = list["appeals"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["id"].as_str())
            .collect();
        assert!(
            ids.iter().all(|id| !listed.contains(&id.as_str())),
            "{listed:?}"
        );
    }
    let (_, accused_list) = s.get("/api/v1/appeals", &t.accused).await;
    assert_eq!(accused_list["total"], 0, "not even in a count");
    let (_, stats) = s.get("/api/v1/stats", &t.supervisor).await;
    assert_eq!(stats["received"], 0, "{stats}");
    assert!(
        stats["units"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["unit"] != "JWJW")
    );

    // The whistle-blower follows their own complaint, and no other.
    let (status, own) = s
        .get(&format!("/api/v1/appeals/{}", ids[0]), &whistle_blowers[0])
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert!(own.get("subject_unit").is_none() || own["subject_unit"].is_null());
    let (status, _) = s
        .get(&format!("/api/v1/appeals/{}", ids[1]), &whistle_blowers[0])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Its readers see it.
    for token in [&t.admin, &t.reader, &t.office] {
        let (status, appeal) = s.get(&format!("/api/v1/appeals/{}", ids[0]), token).await;
        assert_eq!(status, StatusCode::OK, "{appeal}");
    }
    let (_, stats) = s.get("/api/v1/stats", &t.admin).await;
    assert_eq!(stats["received"], 3);

    // Nobody sends it to the unit it accuses: a dispatcher does not even find it, an admin
    // is refused.
    let to_accused = json!({"unit": "GHZRZYJ"});
    let (status, _) = s
        .act(&ids[0], "reassign", &t.dispatcher, to_accused.clone())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, err) = s
        .act(&ids[0], "reassign", &t.admin, to_accused.clone())
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["code"], "subject_unit_refused");
    assert_eq!(err["field"], "unit");

    // Returned by the office, it waits for the mailbox readers, not in the general queue.
    let (status, _) = s
        .act(
            &ids[0],
            "return",
            &t.office,
            json!({"reason": "需书记信箱先行核实"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, general) = s.get("/api/v1/dispatch-queue", &t.dispatcher).await;
    assert_eq!(general["total"], 0, "{general}");
    let (status, _) = s.get("/api/v1/mailbox-queue", &t.dispatcher).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, mailbox) = s.get("/api/v1/mailbox-queue", &t.reader).await;
    assert_eq!(status, StatusCode::OK, "{mailbox}");
    assert_eq!(mailbox["total"], 1);
    assert_eq!(mailbox["appeals"][0]["id"], ids[0].as_str());
    let (status, err) = s.act(&ids[0], "dispatch", &t.reader, to_accused).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, again) = s
        .act(&ids[0], "dispatch", &t.reader, json!({"unit": "JWJW"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");

    // An ordinary appeal marked confidential leaves the unit that held it.
    let plain = s
        .submit(
            None,
            json!({"channel": "web", "kind": "complaint", "title": "厂房用地审批缓慢",
                   "body": "我司申请厂房用地,审批已三个月无进展,请协调。",
                   "appellant": {"kind": "person", "name": "赵女士"}}),
        )
        .await;
    let plain = plain["id"].as_str().unwrap().to_owned();
    until(&s.base, &plain, &t.admin, |a| a["status"] == "dispatched").await;
    let mark = json!({"subject_unit": "GHZRZYJ"});
    let (status, err) = s
        .act(&plain, "confidential", &t.dispatcher, mark.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    // An admin marks it (a mailbox reader sees only confidential appeals, not this one).
    let (status, _) = s.act(&plain, "confidential", &t.reader, mark.clone()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, marked) = s.act(&plain, "confidential", &t.admin, mark).await;
    assert_eq!(status, StatusCode::OK, "{marked}");
    assert_eq!(marked["unit"], "JWJW");
    let (status, _) = s.get(&format!("/api/v1/appeals/{plain}"), &t.accused).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_confidential_appeals_reach_only_their_readers() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        duplicate_window_hours: 0,
        ..Config::default()
    };
    confidential_appeals_reach_only_their_readers(config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_confidential_appeals_reach_only_their_readers() {
    let Some(pg) = PgDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        database_url: Some(pg.url.clone()),
        duplicate_window_hours: 0,
        ..Config::default()
    };
    confidential_appeals_reach_only_their_readers(config).await;
}
