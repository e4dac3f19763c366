//! Duplicates through the index: appeals posted over HTTP, a window of other appeals imported
//! in bulk, and the router run on what waits for it; a repeat is linked when its `classified`
//! event names the appeal it repeats (`duplicate_of`).

use chrono::{DateTime, Duration, Utc};
use hotline::Platform;
use hotline_bus::Handler;
use hotline_router::{Classifying, RouterHandler};
use hotline_schemas::lifecycle::{Decision, Intake};
use hotline_schemas::reference::Current;
use hotline_schemas::{
    AppealId, Appellant, Channel, Kind, Location, NewAppeal, Priority, Role, TicketNo,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestServer, staff_actor};

/// A letter about land for a factory (the planning bureau's matter).
const LETTER: &str = "我司在宝安区福海街道申请厂房用地，审批已经三个月没有任何进展，\
                      多次电话询问都说在走流程，请相关部门尽快协调办理。";
const RETOLD: &str = "我司在宝安区福海街道申请厂房用地，审批已经三个多月没有任何进展，\
                      多次打电话询问都说在走流程，请有关部门尽快协调办理！";
const TRADITIONAL: &str = "我司在寶安區福海街道申請廠房用地，審批已經三個月沒有任何進展，\
                           多次電話詢問都說在走流程，請相關部門儘快協調辦理。";
/// Another matter altogether: noise at night.
const NOISE: &str = "小区旁边的工地每天晚上十一点以后还在施工，噪音很大，严重影响休息，\
                     请城管部门查处夜间施工扰民。";

/// Characters the imported appeals are written in.
const CHARACTERS: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动\
                          同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自\
                          二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日\
                          那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变\
                          条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总\
                          次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指";

fn letter(body: &str, phone: &str) -> Value {
    json!({
        "channel": "web",
        "kind": "complaint",
        "title": body.chars().take(10).collect::<String>(),
        "body": body,
        "appellant": { "kind": "person", "name": "王先生", "phone": phone },
        "location": { "address": "宝安区福海街道" }
    })
}

/// `n` appeals from other people received evenly from `from` to `to`, imported in bulk: random
/// words, and every hundredth one opening like `LETTER` and going on about something else.
async fn import_window(p: &Platform, n: usize, from: DateTime<Utc>, to: DateTime<Utc>) {
    let rules = p.rules();
    let agent = staff_actor(Role::Agent, "话务员");
    let characters: Vec<char> = CHARACTERS.chars().collect();
    let mut rng = StdRng::seed_from_u64(13);
    let step = (to - from) / i32::try_from(n.max(1)).unwrap();
    let mut batch: Vec<Decision> = Vec::with_capacity(10_000);
    for i in 0..n {
        let len = rng.random_range(20..80);
        let mut body: String = if i % 100 == 0 {
            LETTER.chars().take(12).collect()
        } else {
            String::new()
        };
        body.extend((0..len).map(|_| characters[rng.random_range(0..characters.len())]));
        let new = NewAppeal {
            channel: Channel::Hotline,
            kind: Kind::Help,
            priority: Priority::Normal,
            title: body.chars().take(10).collect(),
            body,
            appellant: Appellant::Person {
                name: "市民".to_owned(),
                phone: Some(format!("137{i:08}")),
                wechat_openid: None,
            },
            location: Location::default(),
            attachments: Vec::new(),
        };
        let at = from + step * i32::try_from(i).unwrap();
        let intake = Intake::new(new, &rules.context(at, &agent)).unwrap();
        batch.push(intake.receive(TicketNo::new(format!("W{i:08}"))));
        if batch.len() == batch.capacity() || i + 1 == n {
            p.store.import(&batch).await.unwrap();
            batch.clear();
        }
    }
}

/// The router, run on every appeal waiting for it.
async fn route(p: &Platform) {
    let classifying = Classifying {
        taxonomy: p.taxonomy(),
        classifier: p.classifier().await.unwrap(),
    };
    let handler = RouterHandler::new(
        p.store.clone(),
        p.reference.clone(),
        p.clock.clone(),
        std::sync::Arc::new(Current::new(std::sync::Arc::new(classifying))),
        p.routing_policy(),
    );
    for entry in p.store.unpublished(1000).await.unwrap() {
        handler.handle(&entry.envelope().unwrap()).await.unwrap();
    }
}

/// Posts `body` at `at`.
async fn post_at(s: &TestServer, at: DateTime<Utc>, body: Value) -> String {
    s.set_now(at);
    let created = s.submit(None, body).await;
    created["id"].as_str().unwrap().to_owned()
}

/// The appeal `id` as an admin sees it, after the router's `classified` event.
async fn classified(s: &TestServer, id: &str) -> Value {
    let admin = s.token(Role::Admin, None, "管理员");
    let (status, appeal) = s.get(&format!("/api/v1/appeals/{id}"), &admin).await;
    assert_eq!(status, StatusCode::OK, "{appeal}");
    let events = appeal["events"].as_array().unwrap();
    let classified: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "classified")
        .collect();
    assert_eq!(classified.len(), 1, "{appeal}");
    // What the appeal shows is what the router's event says.
    assert_eq!(
        appeal["duplicate_of"],
        classified[0]["data"]["duplicate_of"]
    );
    appeal
}

on_both_engines!(
    a_repeat_six_days_later_past_100000_appeals_is_linked,
    near_identical_text_from_another_appellant_is_linked,
    the_same_appellant_about_another_matter_is_not_linked,
    a_letter_and_its_traditional_script_copy_are_linked,
);

async fn a_repeat_six_days_later_past_100000_appeals_is_linked(s: &TestServer) {
    let p = s.second_platform().await;
    let t0 = s.now();
    let original = post_at(s, t0, letter(LETTER, "13800000001")).await;
    route(&p).await;
    let later = t0 + Duration::days(6);
    import_window(
        &p,
        100_000,
        t0 + Duration::minutes(1),
        later - Duration::minutes(1),
    )
    .await;
    let repeat = post_at(s, later, letter(RETOLD, "13800000001")).await;
    route(&p).await;
    assert_eq!(classified(s, &original).await["duplicate_of"], Value::Null);
    let appeal = classified(s, &repeat).await;
    assert_eq!(appeal["duplicate_of"], original.as_str(), "{appeal}");
    assert_eq!(appeal["status"], "received", "held for the dispatcher");
    // The newest 500 appeals, all the router used to compare, are none of them.
    let admin = s.token(Role::Admin, None, "管理员");
    let (_, page) = s.get("/api/v1/appeals?per_page=1", &admin).await;
    assert!(page["total"].as_i64().unwrap() > 100_000, "{page}");
}

async fn near_identical_text_from_another_appellant_is_linked(s: &TestServer) {
    let p = s.second_platform().await;
    let t0 = s.now();
    let original = post_at(s, t0, letter(LETTER, "13800000001")).await;
    route(&p).await;
    import_window(&p, 2_000, t0 + Duration::minutes(1), t0 + Duration::days(2)).await;
    let mut other = letter(RETOLD, "13900000002");
    other["location"] = json!({ "address": "南山区科技园" });
    let retold = post_at(s, t0 + Duration::days(3), other).await;
    route(&p).await;
    assert_eq!(
        classified(s, &retold).await["duplicate_of"],
        original.as_str()
    );
}

async fn the_same_appellant_about_another_matter_is_not_linked(s: &TestServer) {
    let p = s.second_platform().await;
    let t0 = s.now();
    let original = post_at(s, t0, letter(LETTER, "13800000001")).await;
    route(&p).await;
    import_window(&p, 2_000, t0 + Duration::minutes(1), t0 + Duration::days(2)).await;
    let noise = post_at(s, t0 + Duration::days(3), letter(NOISE, "13800000001")).await;
    route(&p).await;
    let appeal = classified(s, &noise).await;
    assert_eq!(appeal["duplicate_of"], Value::Null, "{appeal}");
    // The router did see the original (the same caller), and told them apart.
    let stored = p
        .store
        .appeal(noise.parse::<AppealId>().unwrap())
        .await
        .unwrap()
        .unwrap();
    let candidates = p
        .store
        .duplicate_candidates(&stored, t0 - Duration::days(1), 50)
        .await
        .unwrap();
    assert!(
        candidates.iter().any(|a| a.id.to_string() == original),
        "{candidates:?}"
    );
    // The same caller about the same matter in other words is linked.
    let again = "厂房用地的审批到现在还没有结果，麻烦再催一下规划部门。";
    let again = post_at(s, t0 + Duration::days(4), letter(again, "13800000001")).await;
    route(&p).await;
    assert_eq!(
        classified(s, &again).await["duplicate_of"],
        original.as_str()
    );
}

async fn a_letter_and_its_traditional_script_copy_are_linked(s: &TestServer) {
    let p = s.second_platform().await;
    let t0 = s.now();
    let original = post_at(s, t0, letter(LETTER, "13800000001")).await;
    route(&p).await;
    import_window(&p, 2_000, t0 + Duration::minutes(1), t0 + Duration::days(2)).await;
    let mut copy = letter(TRADITIONAL, "13900000003");
    copy["location"] = json!({ "address": "南山區科技園" });
    let copy = post_at(s, t0 + Duration::days(5), copy).await;
    route(&p).await;
    assert_eq!(
        classified(s, &copy).await["duplicate_of"],
        original.as_str()
    );
}
