//! The duplicate index: the earlier appeals of the window that share a band of a text's
//! signature, an appellant key or the normalised address, written with each appeal and filled
//! in for appeals stored before it; and bulk imports, indexed like submissions.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use hotline_schemas::appeal::signature::BANDS;
use hotline_schemas::{
    Appeal, AppealId, Appellant, Channel, Kind, Location, NewAppeal, Priority, TicketNo,
};
use hotline_store::StoreError;

use crate::fixtures::{classify, monday, submission_of, submit};
use crate::harness::TestDb;

pub const LETTER: &str = "我司在宝安区福海街道申请厂房用地，审批已经三个月没有任何进展，\
                          多次电话询问都说在走流程，请相关部门尽快协调办理。";
/// `LETTER` retold by someone else.
pub const RETOLD: &str = "我司在宝安区福海街道申请厂房用地，审批已经三个多月没有任何进展，\
                          多次打电话询问都说在走流程，请有关部门尽快协调办理！";
/// `LETTER` in traditional characters.
pub const TRADITIONAL: &str = "我司在寶安區福海街道申請廠房用地，審批已經三個月沒有任何進展，\
                               多次電話詢問都說在走流程，請相關部門儘快協調辦理。";

/// A letter from the person on `phone` (if any) about `body`, at `address` (if any).
pub fn letter(body: &str, phone: Option<&str>, address: Option<&str>) -> NewAppeal {
    NewAppeal {
        channel: Channel::Web,
        kind: Kind::Complaint,
        priority: Priority::Normal,
        // The first words, as the desk takes them.
        title: body.chars().take(8).collect(),
        body: body.to_owned(),
        appellant: Appellant::Person {
            name: "王先生".to_owned(),
            phone: phone.map(str::to_owned),
            wechat_openid: None,
        },
        location: Location {
            address: address.map(str::to_owned),
            ..Location::default()
        },
        attachments: Vec::new(),
    }
}

async fn stored(db: &TestDb, new: NewAppeal, at: DateTime<Utc>) -> Appeal {
    submit(&db.store, submission_of(new, at)).await
}

fn ids(appeals: &[Appeal]) -> Vec<AppealId> {
    appeals.iter().map(|a| a.id).collect()
}

pub async fn duplicate_candidates_come_from_the_index(db: TestDb) {
    let t0 = monday();
    let day = Duration::days(1);
    let week = Duration::days(7);
    let original = stored(
        &db,
        letter(LETTER, Some("13800000001"), Some("宝安区福海街道")),
        t0,
    )
    .await;
    let retold = stored(&db, letter(RETOLD, Some("13800000002"), None), t0 + day).await;
    let same_caller = stored(
        &db,
        letter(
            "小区门口路灯坏了很久，晚上出行不安全。",
            Some("13800000001"),
            None,
        ),
        t0 + day * 2,
    )
    .await;
    let same_place = stored(
        &db,
        letter(
            "街道垃圾清运不及时，气味很大。",
            Some("13800000003"),
            Some(" 寶安區 福海街道"),
        ),
        t0 + day * 3,
    )
    .await;
    let unrelated = stored(
        &db,
        letter(
            "学校门口早晚高峰交通拥堵，希望增派交警。",
            Some("13800000004"),
            Some("南山区科技园"),
        ),
        t0 + day * 4,
    )
    .await;
    let too_old = stored(&db, letter(LETTER, None, None), t0 - day * 3).await;
    let repeat = stored(
        &db,
        letter(TRADITIONAL, Some("13800000001"), Some("宝安区福海街道")),
        t0 + day * 6,
    )
    .await;
    let later = stored(
        &db,
        letter(LETTER, None, None),
        t0 + day * 6 + Duration::hours(1),
    )
    .await;

    let since = repeat.created_at - week;
    let found = db
        .store
        .duplicate_candidates(&repeat, since, 50)
        .await
        .unwrap();
    let found_ids: BTreeSet<AppealId> = ids(&found).into_iter().collect();
    let expected: BTreeSet<AppealId> = [original.id, retold.id, same_caller.id, same_place.id]
        .into_iter()
        .collect();
    assert_eq!(found_ids, expected, "{found:#?}");
    for absent in [unrelated.id, too_old.id, repeat.id, later.id] {
        assert!(!found_ids.contains(&absent));
    }
    // The most bands shared first: the original (its copy in traditional characters), then
    // the retelling, then what only shares the appellant or the place.
    assert_eq!(ids(&found)[..2], [original.id, retold.id]);
    assert_eq!(found[0].body, LETTER, "the appeals as stored");
    let two = db
        .store
        .duplicate_candidates(&repeat, since, 2)
        .await
        .unwrap();
    assert_eq!(ids(&two), [original.id, retold.id]);
    assert!(
        db.store
            .duplicate_candidates(&repeat, since, 0)
            .await
            .unwrap()
            .is_empty()
    );

    // An appeal not stored (an agent's preview) is looked up the same way: by its text alone.
    let typed = Appeal::received(
        AppealId::new(),
        TicketNo::new("preview"),
        letter(LETTER, None, None),
        t0 + day * 5,
    );
    let found = db
        .store
        .duplicate_candidates(&typed, typed.created_at - week, 50)
        .await
        .unwrap();
    assert_eq!(ids(&found), [original.id, retold.id]);
    let nothing_alike = Appeal::received(
        AppealId::new(),
        TicketNo::new("preview"),
        letter("，。", None, None),
        t0 + day * 6,
    );
    assert!(
        db.store
            .duplicate_candidates(&nothing_alike, t0 - week, 50)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn appeals_stored_before_the_index_are_indexed_when_migrating(db: TestDb) {
    let t0 = monday();
    let original = stored(&db, letter(LETTER, Some("13800000001"), None), t0).await;
    let repeat = stored(
        &db,
        letter(RETOLD, Some("13800000002"), None),
        t0 + Duration::days(6),
    )
    .await;
    let since = t0 - Duration::days(1);
    let found = db.store.duplicate_candidates(&repeat, since, 50).await;
    assert_eq!(ids(&found.unwrap()), [original.id]);
    let bands = "SELECT COUNT(*) FROM duplicate_bands";
    assert_eq!(db.sql.count(bands).await, 2 * BANDS as i64);

    // As if stored before the index existed.
    db.sql.execute("DELETE FROM duplicate_bands").await.unwrap();
    db.sql
        .execute("DELETE FROM duplicate_signatures")
        .await
        .unwrap();
    let found = db.store.duplicate_candidates(&repeat, since, 50).await;
    assert!(found.unwrap().is_empty());
    db.store.migrate().await.unwrap();
    assert_eq!(db.sql.count(bands).await, 2 * BANDS as i64);
    assert_eq!(
        db.sql
            .count("SELECT COUNT(*) FROM duplicate_signatures")
            .await,
        2
    );
    let found = db.store.duplicate_candidates(&repeat, since, 50).await;
    assert_eq!(ids(&found.unwrap()), [original.id]);
}

pub async fn imported_appeals_are_stored_indexed_and_not_announced(db: TestDb) {
    let t0 = monday();
    let n = 1_200;
    let received: Vec<_> = (0..n)
        .map(|i| {
            let body = format!(
                "第{i}号来信：{}",
                ["路灯不亮", "噪音扰民", "道路积水"][i % 3]
            );
            let phone = format!("139{i:08}");
            let at = t0 + Duration::seconds(i as i64);
            submission_of(letter(&body, Some(&phone), None), at)
                .intake
                .receive(TicketNo::new(format!("IMP{i:06}")))
        })
        .collect();
    db.store.import(&received).await.unwrap();
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM appeals").await, n as i64);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM events").await, n as i64);
    assert_eq!(db.sql.count("SELECT COUNT(*) FROM outbox").await, 0);
    assert!(db.sql.count("SELECT COUNT(*) FROM stat_facts").await >= n as i64);
    let bands = db.sql.count("SELECT COUNT(*) FROM duplicate_bands").await;
    assert_eq!(bands, (n * BANDS) as i64);

    let last = received[n - 1].appeal();
    let stored = db.store.appeal(last.id).await.unwrap().unwrap();
    assert_eq!(&stored, last);
    assert_eq!(
        db.store.events(last.id).await.unwrap(),
        received[n - 1].events()
    );
    let history = db
        .store
        .appeals_of("phone:13900000007", &hotline_store::Scope::all(), 10)
        .await
        .unwrap();
    assert_eq!(ids(&history), [received[7].appeal().id]);
    // An imported text is found again like a submitted one.
    let again = stored_again(&db, received[700].appeal(), t0 + Duration::days(1)).await;
    let found = db.store.duplicate_candidates(&again, t0, 50).await.unwrap();
    assert_eq!(found.first().map(|a| a.id), Some(received[700].appeal().id));

    // Only new appeals: a change to a stored one is refused, and nothing is written.
    let change = classify(&stored, "DEMO-FGJ", t0 + Duration::days(1));
    let fresh = submission_of(letter(LETTER, None, None), t0)
        .intake
        .receive(TicketNo::new("IMP-LAST"));
    let refused = db.store.import(&[fresh, change]).await;
    assert!(matches!(refused, Err(StoreError::NotNew)), "{refused:?}");
    let total = db.sql.count("SELECT COUNT(*) FROM appeals").await;
    assert_eq!(total, n as i64 + 1, "the imported and the one stored again");
}

/// `appeal`'s text sent again by someone else at `at`.
async fn stored_again(db: &TestDb, appeal: &Appeal, at: DateTime<Utc>) -> Appeal {
    stored(db, letter(&appeal.body, None, None), at).await
}
