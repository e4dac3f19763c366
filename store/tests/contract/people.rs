//! The contract cases of people: users, revoked tokens and the user behind each event.

use chrono::Duration;
use hotline_schemas::value::ids::TokenId;
use hotline_schemas::{Channel, Command, NewUser, Role, UserId};
use hotline_store::{CommitMeta, Session, StoreError};

use crate::fixtures::{decision, dispatcher, monday, submission, submit};
use crate::harness::TestDb;

fn leader() -> NewUser {
    NewUser {
        name: "分管副区长".to_owned(),
        username: None,
        role: Role::Leader,
        unit: None,
        in_charge_of: vec!["DEMO-FGJ".into(), "DEMO-RSJ".into()],
        mailbox_reader: true,
    }
}

fn unit_user() -> NewUser {
    NewUser {
        name: "发改局王五".to_owned(),
        username: Some("wangwu".to_owned()),
        role: Role::Unit,
        unit: Some("DEMO-FGJ".into()),
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    }
}

pub async fn users_are_added_listed_and_disabled(db: TestDb) {
    let store = &db.store;
    let at = monday();
    assert!(store.users().await.expect("users").is_empty());
    let first = leader().into_user(UserId::new(), at).expect("valid");
    let second = unit_user()
        .into_user(UserId::new(), at + Duration::seconds(1))
        .expect("valid");
    store.add_user(&first).await.expect("add");
    store.add_user(&second).await.expect("add");
    assert!(matches!(
        store.add_user(&first).await,
        Err(StoreError::Duplicate)
    ));

    assert_eq!(
        store.users().await.expect("users"),
        [first.clone(), second.clone()]
    );
    assert_eq!(
        store.user(first.id).await.expect("user"),
        Some(first.clone())
    );
    assert_eq!(store.user(UserId::new()).await.expect("user"), None);

    let later = at + Duration::hours(1);
    let disabled = store
        .set_user_disabled(second.id, true, later)
        .await
        .expect("disable")
        .expect("the user exists");
    assert!(disabled.disabled);
    assert_eq!(disabled.updated_at, later);
    assert_eq!(disabled.created_at, second.created_at);
    assert_eq!(store.user(second.id).await.expect("user"), Some(disabled));
    let enabled = store
        .set_user_disabled(second.id, false, later + Duration::hours(1))
        .await
        .expect("enable")
        .expect("the user exists");
    assert!(!enabled.disabled);
    assert_eq!(
        store
            .set_user_disabled(UserId::new(), true, later)
            .await
            .expect("disable"),
        None
    );
    // The first user is untouched.
    assert_eq!(store.user(first.id).await.expect("user"), Some(first));
}

pub async fn revoked_tokens_are_remembered(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let (id, other) = (TokenId::new(), TokenId::new());
    assert!(!store.token_revoked(id).await.expect("revoked?"));
    assert!(
        store
            .revoke_token(id, Some(at + Duration::hours(12)), at)
            .await
            .expect("revoke")
    );
    assert!(
        !store
            .revoke_token(id, None, at)
            .await
            .expect("revoke again"),
        "a second revocation changes nothing"
    );
    assert!(store.token_revoked(id).await.expect("revoked?"));
    assert!(!store.token_revoked(other).await.expect("revoked?"));
    assert!(store.revoke_token(other, None, at).await.expect("revoke"));
    assert!(store.token_revoked(other).await.expect("revoked?"));
}

pub async fn events_keep_the_user_behind_them(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let appeal = submit(store, submission(Channel::Hotline, at)).await;
    let user = UserId::new();
    let mut actor = dispatcher();
    actor.user = Some(user);
    let dispatch = decision(
        &appeal,
        Command::Dispatch {
            unit: "DEMO-FGJ".into(),
            matter: None,
        },
        &actor,
        at + Duration::minutes(1),
    );
    store
        .commit(&dispatch, &CommitMeta::default())
        .await
        .expect("commit");
    let events = store.events(appeal.id).await.expect("events");
    assert_eq!(
        events[0].actor_id, None,
        "the fixture's submitter has no user"
    );
    assert_eq!(events[1].actor_id, Some(user));
    assert_eq!(events[1], dispatch.events()[0]);
    let envelope = store.unpublished(10).await.expect("outbox")[1]
        .envelope()
        .expect("envelope");
    assert_eq!(envelope.payload.actor_id, Some(user));
}

/// Signing in: a user found by sign-in name with their password hash, failures counted and a
/// lockout, sessions created, touched and ended (one, or all of a user's with a new password).
pub async fn sign_in_credentials_lockout_and_sessions(db: TestDb) {
    let store = &db.store;
    let at = monday();
    let user = unit_user().into_user(UserId::new(), at).expect("valid");
    store.add_user(&user).await.expect("add");
    let namesake = NewUser {
        name: "另一个王五".to_owned(),
        ..unit_user()
    }
    .into_user(UserId::new(), at)
    .expect("valid");
    assert!(
        matches!(store.add_user(&namesake).await, Err(StoreError::Duplicate)),
        "sign-in names are unique"
    );
    assert!(store.credentials("nobody").await.expect("read").is_none());
    let found = store
        .credentials("wangwu")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(found.user, user);
    assert_eq!(found.password_hash, None);
    assert!(
        store
            .set_password(user.id, "$argon2id$v=19$x", at)
            .await
            .expect("set")
    );
    assert!(
        !store
            .set_password(UserId::new(), "h", at)
            .await
            .expect("set")
    );

    assert_eq!(store.sign_in_failed(user.id).await.expect("count"), 1);
    assert_eq!(store.sign_in_failed(user.id).await.expect("count"), 2);
    let until = at + Duration::minutes(15);
    store.lock_sign_in(user.id, until).await.expect("lock");
    let locked = store
        .credentials("wangwu")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(locked.failed_sign_ins, 0, "the count starts again");
    assert_eq!(locked.locked_until, Some(until));
    assert_eq!(locked.password_hash.as_deref(), Some("$argon2id$v=19$x"));
    store.sign_in_failed(user.id).await.expect("count");
    store.sign_in_succeeded(user.id).await.expect("reset");
    let fresh = store
        .credentials("wangwu")
        .await
        .expect("read")
        .expect("found");
    assert_eq!((fresh.failed_sign_ins, fresh.locked_until), (0, None));

    let session = |id: &str| Session {
        id_hash: id.to_owned(),
        user: user.id,
        csrf: format!("csrf-{id}"),
        created_at: at,
        last_seen_at: at,
    };
    store.create_session(&session("a")).await.expect("create");
    store.create_session(&session("b")).await.expect("create");
    assert_eq!(store.session("a").await.expect("read"), Some(session("a")));
    let later = at + Duration::minutes(5);
    store.touch_session("a", later).await.expect("touch");
    assert_eq!(
        store
            .session("a")
            .await
            .expect("read")
            .map(|s| s.last_seen_at),
        Some(later)
    );
    store.end_session("a").await.expect("end");
    assert_eq!(store.session("a").await.expect("read"), None);
    assert!(store.session("b").await.expect("read").is_some());
    store
        .set_password(user.id, "$argon2id$v=19$y", later)
        .await
        .expect("set");
    assert_eq!(
        store.session("b").await.expect("read"),
        None,
        "a new password ends the sessions"
    );
    store.create_session(&session("c")).await.expect("create");
    store.end_sessions_of(user.id).await.expect("end all");
    assert_eq!(store.session("c").await.expect("read"), None);
}
