//! The contract cases of reference data: versions seeded once, saved, published, announced.

use chrono::Duration;
use hotline_schemas::reference::{Published, ReferenceKind, Versions};
use hotline_schemas::value::unit::Unit;
use hotline_store::{Publication, ReferenceDraft, StoreError};

use crate::fixtures::monday;
use crate::harness::TestDb;

fn draft(kind: ReferenceKind, text: &str, minutes: i64) -> ReferenceDraft {
    ReferenceDraft {
        kind,
        text: text.to_owned(),
        note: format!("note {minutes}"),
        author: "管理员".to_owned(),
        at: monday() + Duration::minutes(minutes),
    }
}

fn publication(kind: ReferenceKind, version: u32, minutes: i64) -> Publication {
    Publication {
        kind,
        version,
        by: "管理员".to_owned(),
        at: monday() + Duration::minutes(minutes),
        units: Vec::new(),
    }
}

pub async fn reference_data_is_seeded_once_saved_and_published(db: TestDb) {
    let store = &db.store;
    let (policies, calendar) = (ReferenceKind::Policies, ReferenceKind::Calendar);
    assert_eq!(
        store.published_versions().await.unwrap(),
        Versions::default()
    );
    assert!(store.published_reference(policies).await.unwrap().is_none());

    assert!(
        store
            .seed_reference(policies, "v1", monday())
            .await
            .unwrap()
    );
    assert!(
        !store
            .seed_reference(policies, "again", monday())
            .await
            .unwrap()
    );
    assert_eq!(
        store.published_reference(policies).await.unwrap(),
        Some((1, "v1".to_owned()))
    );
    // A draft is saved under the next number and changes nothing until published.
    assert_eq!(
        store
            .save_reference(&draft(policies, "v2", 1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .save_reference(&draft(policies, "v3", 2))
            .await
            .unwrap(),
        3
    );
    assert_eq!(store.published_versions().await.unwrap().policies, 1);
    assert_eq!(
        store.reference_text(policies, 2).await.unwrap().as_deref(),
        Some("v2")
    );
    assert!(store.reference_text(policies, 9).await.unwrap().is_none());

    let backlog = store.outbox_backlog().await.unwrap();
    assert!(
        store
            .publish_reference(&publication(policies, 3, 3))
            .await
            .unwrap()
    );
    assert_eq!(
        store.published_reference(policies).await.unwrap(),
        Some((3, "v3".to_owned()))
    );
    // Announced through the outbox, for every process to reload.
    assert_eq!(store.outbox_backlog().await.unwrap(), backlog + 1);
    let entries = store.unpublished(100).await.unwrap();
    let last = entries.last().unwrap();
    assert_eq!(last.routing_key, "reference.published");
    let said: Published = serde_json::from_str(&last.body).unwrap();
    assert_eq!((said.kind, said.version), (policies, 3));

    // An older version published again is current again.
    assert!(
        store
            .publish_reference(&publication(policies, 1, 4))
            .await
            .unwrap()
    );
    assert_eq!(store.published_versions().await.unwrap().policies, 1);
    assert!(
        !store
            .publish_reference(&publication(policies, 7, 5))
            .await
            .unwrap()
    );

    // Kinds keep their own numbers and history.
    assert!(
        store
            .seed_reference(calendar, "c1", monday())
            .await
            .unwrap()
    );
    let versions = store.published_versions().await.unwrap();
    assert_eq!(
        (versions.policies, versions.calendar, versions.taxonomy),
        (1, 1, 0)
    );
    let history = store.reference_versions(policies).await.unwrap();
    let numbers: Vec<u32> = history.iter().map(|v| v.version).collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert_eq!(history[0].note, "note 2");
    assert_eq!(
        history[0].published_at,
        Some(monday() + Duration::minutes(3))
    );
    assert_eq!(history[1].published_at, None);
    assert_eq!(
        history[2].published_at,
        Some(monday() + Duration::minutes(4))
    );
    assert_eq!(history[2].author, "system");
}

pub async fn publishing_a_taxonomy_updates_its_units(db: TestDb) {
    let store = &db.store;
    let taxonomy = ReferenceKind::Taxonomy;
    assert!(
        store
            .seed_reference(taxonomy, "t1", monday())
            .await
            .unwrap()
    );
    let version = store
        .save_reference(&draft(taxonomy, "t2", 1))
        .await
        .unwrap();
    let unit = Unit {
        code: "TEST-NEW".into(),
        name: "区新设局".to_owned(),
        demo: false,
        keywords: Vec::new(),
    };
    let mut published = publication(taxonomy, version, 2);
    published.units = vec![unit];
    assert!(store.publish_reference(&published).await.unwrap());
    let units = store.units().await.unwrap();
    assert!(
        units
            .iter()
            .any(|u| u.code.as_str() == "TEST-NEW" && u.name == "区新设局")
    );
}

pub async fn concurrent_saves_get_distinct_numbers(db: TestDb) {
    let store = db.store.clone();
    let saves = (0..6).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .save_reference(&draft(ReferenceKind::Calendar, &format!("c{i}"), i))
                .await
        })
    });
    let mut numbers = Vec::new();
    for save in saves {
        match save.await.unwrap() {
            Ok(n) => numbers.push(n),
            // The loser of a race on PostgreSQL is told to try again, never given a number twice.
            Err(StoreError::Conflict) => {}
            Err(e) => panic!("{e}"),
        }
    }
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), numbers.len(), "{numbers:?}");
    assert!(!numbers.is_empty());
}
