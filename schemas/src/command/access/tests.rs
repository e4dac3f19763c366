use super::*;
use crate::appeal::{Appellant, Kind, Location, NewAppeal, Priority};
use crate::value::ids::{StaffRef, UnitCode};
use chrono::{TimeZone, Utc};
use strum::IntoEnumIterator;

const OWN_UNIT: &str = "DEMO-FGJ";
const OTHER_UNIT: &str = "DEMO-RSJ";

fn appeal(unit: Option<&str>) -> Appeal {
    let new = NewAppeal {
        channel: Channel::Web,
        kind: Kind::Complaint,
        priority: Priority::Normal,
        title: "审批窗口刁难企业".to_owned(),
        body: "办理许可证时窗口工作人员多次要求补交无关材料。".to_owned(),
        appellant: Appellant::Enterprise {
            name: "三亚某科技有限公司".to_owned(),
            phone: None,
            uscc: "914403001922038216".to_owned(),
            wechat_openid: None,
        },
        location: Location::default(),
        attachments: Vec::new(),
    };
    new.validate().unwrap();
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 7, 0, 0).unwrap();
    let mut appeal = Appeal::received(AppealId::new(), "20261120-000001".into(), new, at);
    appeal.unit = unit.map(UnitCode::from);
    appeal
}

/// The same user for the same name, in every test.
fn user_of(name: &str) -> Option<UserId> {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u128, |h, b| {
        (h ^ u128::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    Some(UserId(uuid::Uuid::from_u128(hash)))
}

fn actor(role: Role, unit: Option<&str>, appeal: Option<AppealId>) -> Actor {
    let name = format!("{role}-1");
    Actor {
        user: if role == Role::Appellant {
            None
        } else {
            user_of(&name)
        },
        name,
        role,
        unit: unit.map(UnitCode::from),
        appeal,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    }
}

/// Who an actor is relative to the appeal under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Agent,
    Dispatcher,
    OwnUnit,
    OtherUnit,
    Supervisor,
    Leader,
    Admin,
    OwnAppellant,
    OtherAppellant,
}

const EVERYONE: [Who; 9] = [
    Who::Agent,
    Who::Dispatcher,
    Who::OwnUnit,
    Who::OtherUnit,
    Who::Supervisor,
    Who::Leader,
    Who::Admin,
    Who::OwnAppellant,
    Who::OtherAppellant,
];

fn make(who: Who, appeal: &Appeal) -> Actor {
    match who {
        Who::Agent => actor(Role::Agent, None, None),
        Who::Dispatcher => actor(Role::Dispatcher, None, None),
        Who::OwnUnit => actor(Role::Unit, Some(OWN_UNIT), None),
        Who::OtherUnit => actor(Role::Unit, Some(OTHER_UNIT), None),
        Who::Supervisor => actor(Role::Supervisor, None, None),
        // A leader in charge of the unit (the appeals under test are escalated).
        Who::Leader => Actor {
            in_charge_of: vec![OWN_UNIT.into()],
            ..actor(Role::Leader, None, None)
        },
        Who::Admin => actor(Role::Admin, None, None),
        Who::OwnAppellant => actor(Role::Appellant, None, Some(appeal.id)),
        Who::OtherAppellant => actor(Role::Appellant, None, Some(AppealId::new())),
    }
}

/// SPEC §1, written out: who may take each action on an appeal dispatched to `OWN_UNIT`.
fn may(who: Who, action: Action) -> bool {
    use Who as W;
    match action {
        Action::Classify => matches!(who, W::Dispatcher | W::Admin),
        Action::Own => matches!(who, W::Leader | W::Admin),
        Action::MarkConfidential => who == W::Admin,
        Action::Reveal | Action::Note => !matches!(who, W::OwnAppellant | W::OtherAppellant),
        Action::Supplement => who == W::OwnAppellant,
        Action::Fire => who == W::Admin,
        Action::Dispatch | Action::Reassign | Action::Void | Action::Merge => {
            matches!(who, W::Dispatcher | W::Admin)
        }
        Action::Accept
        | Action::Return
        | Action::RequestExtension
        | Action::Reply
        | Action::Pause
        | Action::Resume => who == W::OwnUnit,
        Action::ApproveExtension => matches!(who, W::Supervisor | W::Admin),
        Action::Close => matches!(who, W::Supervisor | W::Admin | W::Agent),
        Action::RateSatisfied | Action::RateUnsatisfied => {
            matches!(who, W::OwnAppellant | W::Agent)
        }
    }
}

fn visible(who: Who) -> bool {
    !matches!(who, Who::OtherUnit | Who::OtherAppellant)
}

/// An appeal dispatched to `OWN_UNIT` whose deadline was missed: its leader oversees it.
fn escalated() -> Appeal {
    let mut late = appeal(Some(OWN_UNIT));
    late.sla.level = 1;
    late
}

#[test]
fn authorize_table_for_every_role_and_action() {
    let appeal = escalated();
    // Every role is covered by the table.
    for role in Role::iter() {
        assert!(
            EVERYONE.iter().any(|w| make(*w, &appeal).role == role),
            "{role}"
        );
    }
    let mut allowed = 0;
    for who in EVERYONE {
        let actor = make(who, &appeal);
        assert_eq!(actor.can_read(&appeal), visible(who), "{who:?} read");
        for action in Action::iter() {
            let result = actor.authorize(action, &appeal);
            match (visible(who), may(who, action)) {
                (false, _) => {
                    let err = result.expect_err(&format!("{who:?} {action:?}"));
                    assert_eq!(err.code, ErrorCode::AppealNotFound, "{who:?} {action:?}");
                    // Nothing that would reveal the appeal exists.
                    assert!(err.args.is_empty());
                    assert_eq!(err.field, None);
                }
                (true, true) => {
                    assert_eq!(result, Ok(()), "{who:?} {action:?}");
                    allowed += 1;
                }
                (true, false) => {
                    let err = result.expect_err(&format!("{who:?} {action:?}"));
                    assert_eq!(err.code, ErrorCode::Forbidden, "{who:?} {action:?}");
                    assert_eq!(
                        err.args.get("role").map(String::as_str),
                        Some(actor.role.as_str())
                    );
                    assert_eq!(
                        err.args.get("action").map(String::as_str),
                        Some(action.as_str())
                    );
                }
            }
        }
    }
    // dispatcher, admin ×4; own unit ×6; supervisor, admin ×1; close ×3; rate 2×2;
    // classify: dispatcher, admin; own: leader, admin; fire, mark confidential: admin;
    // reveal and note: the six staff who see it each (the other unit does not).
    assert_eq!(allowed, 8 + 6 + 2 + 3 + 4 + 2 + 2 + 1 + 1 + 6 + 6 + 1);
}

#[test]
fn read_rules() {
    let dispatched = appeal(Some(OWN_UNIT));
    let undispatched = appeal(None);
    for role in [Role::Agent, Role::Dispatcher, Role::Supervisor, Role::Admin] {
        let a = actor(role, None, None);
        assert!(a.can_read(&dispatched), "{role}");
        assert!(a.can_read(&undispatched), "{role}");
        assert!(a.can_list(), "{role}");
    }
    // A leader sees their cases only (see below); they list them.
    let leader = actor(Role::Leader, None, None);
    assert!(!leader.can_read(&dispatched));
    assert!(leader.can_list());
    // A unit sees only what is dispatched to it; a unit token without a unit sees nothing,
    // not even appeals without a unit.
    let own = actor(Role::Unit, Some(OWN_UNIT), None);
    assert!(own.can_read(&dispatched));
    assert!(!own.can_read(&undispatched));
    assert!(own.can_list());
    let unitless = actor(Role::Unit, None, None);
    assert!(!unitless.can_read(&dispatched));
    assert!(!unitless.can_read(&undispatched));
    assert_eq!(
        unitless
            .authorize(Action::Accept, &undispatched)
            .unwrap_err()
            .code,
        ErrorCode::AppealNotFound
    );
    // An appellant sees only their own appeal and cannot list.
    let mine = actor(Role::Appellant, None, Some(dispatched.id));
    assert!(mine.can_read(&dispatched));
    assert!(!mine.can_read(&undispatched));
    assert!(!mine.can_list());
    let anonymous = actor(Role::Appellant, None, None);
    assert!(!anonymous.can_read(&dispatched));
    // Once reassigned away, the former unit no longer sees it.
    let mut moved = dispatched.clone();
    moved.unit = Some(OTHER_UNIT.into());
    assert!(!own.can_read(&moved));
    assert_eq!(
        own.authorize(Action::Reply, &moved).unwrap_err().code,
        ErrorCode::AppealNotFound
    );
}

#[test]
fn the_system_is_an_admin() {
    let system = Actor::system();
    assert_eq!(system.name, "system");
    assert_eq!(system.role, Role::Admin);
    let appeal = appeal(Some(OWN_UNIT));
    assert!(system.authorize(Action::Dispatch, &appeal).is_ok());
    assert_eq!(
        system.authorize(Action::Reply, &appeal).unwrap_err().code,
        ErrorCode::Forbidden
    );
}

#[test]
fn may_submit_by_channel() {
    for channel in Channel::iter() {
        // The public (no token) only on public channels: a hotline call is logged by an
        // agent.
        assert_eq!(
            Actor::may_submit(None, channel),
            channel != Channel::Hotline,
            "public on {channel}"
        );
        for role in Role::iter() {
            let a = actor(role, Some(OWN_UNIT), None);
            let expected = matches!(role, Role::Agent | Role::Dispatcher | Role::Admin);
            assert_eq!(
                Actor::may_submit(Some(&a), channel),
                expected,
                "{role} on {channel}"
            );
        }
    }
    assert!(!Actor::may_submit(None, Channel::Hotline));
    assert!(Actor::may_submit(None, Channel::Mailbox));
    assert!(Actor::may_submit(None, Channel::Open311));
}

#[test]
fn role_codes() {
    let codes: Vec<&str> = Role::iter().map(Role::as_str).collect();
    assert_eq!(
        codes,
        [
            "agent",
            "dispatcher",
            "unit",
            "supervisor",
            "leader",
            "admin",
            "appellant"
        ]
    );
    for role in Role::iter() {
        assert_eq!(role.to_string(), role.as_str());
        assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        assert_eq!(
            serde_json::to_value(role).unwrap(),
            serde_json::json!(role.as_str())
        );
    }
}

#[test]
fn a_confidential_appeal_exists_only_for_its_readers() {
    let mut secret = appeal(Some("JWJW"));
    secret.confidential = true;
    secret.subject_unit = Some("GHZRZYJ".into());
    let reader = Actor {
        mailbox_reader: true,
        ..actor(Role::Leader, None, None)
    };
    let cases = [
        (actor(Role::Admin, None, None), true),
        (reader.clone(), true),
        (actor(Role::Unit, Some("JWJW"), None), true),
        (actor(Role::Appellant, None, Some(secret.id)), true),
        (actor(Role::Unit, Some("GHZRZYJ"), None), false),
        (actor(Role::Dispatcher, None, None), false),
        (actor(Role::Supervisor, None, None), false),
        (actor(Role::Leader, None, None), false),
        (actor(Role::Agent, None, None), false),
        (actor(Role::Appellant, None, Some(AppealId::new())), false),
    ];
    for (who, reads) in &cases {
        assert_eq!(who.can_read(&secret), *reads, "{:?}", who.role);
        if !reads {
            let err = who.authorize(Action::Dispatch, &secret).unwrap_err();
            assert_eq!(err.code, ErrorCode::AppealNotFound, "{:?}", who.role);
        }
    }
    // The mailbox readers place and mark confidential appeals; dispatchers never see them.
    assert!(reader.authorize(Action::Reassign, &secret).is_ok());
    assert!(reader.authorize(Action::MarkConfidential, &secret).is_ok());
    let ordinary = appeal(Some("JWJW"));
    assert!(reader.authorize(Action::Dispatch, &ordinary).is_err());
    assert!(
        actor(Role::Dispatcher, None, None)
            .authorize(Action::MarkConfidential, &ordinary)
            .is_err()
    );
}

#[test]
fn personal_data_is_for_the_unit_the_agent_the_owner_the_appellant_and_admins() {
    let mut dispatched = appeal(Some(OWN_UNIT));
    dispatched.logged_by = Some(make(Who::Agent, &dispatched).as_staff());
    dispatched.owners = vec![make(Who::Leader, &dispatched).as_staff()];
    for (who, sees) in [
        (Who::Admin, true),
        (Who::OwnUnit, true),
        (Who::OwnAppellant, true),
        (Who::Agent, true),
        (Who::Leader, true),
        (Who::OtherUnit, false),
        (Who::Dispatcher, false),
        (Who::Supervisor, false),
        (Who::OtherAppellant, false),
    ] {
        let actor = make(who, &dispatched);
        assert_eq!(actor.sees_personal_data(&dispatched), sees, "{who:?}");
    }
    let another_agent = Actor {
        name: "话务员小张".to_owned(),
        user: user_of("话务员小张"),
        ..actor(Role::Agent, None, None)
    };
    assert!(!another_agent.sees_personal_data(&dispatched));
    let namesake = Actor {
        user: user_of("another agent-1"),
        ..actor(Role::Agent, None, None)
    };
    assert!(
        !namesake.sees_personal_data(&dispatched),
        "the same name is not the same person"
    );
}

#[test]
fn a_unit_no_longer_sees_what_it_returned() {
    let mut held = appeal(Some(OWN_UNIT));
    held.status = crate::appeal::Status::Accepted;
    let own = actor(Role::Unit, Some(OWN_UNIT), None);
    assert!(own.can_read(&held));
    held.status = crate::appeal::Status::Returned;
    assert!(!own.can_read(&held));
    assert!(!own.sees_personal_data(&held));
}

#[test]
fn a_leader_sees_what_they_own_and_the_escalated_cases_of_their_units() {
    let in_charge = Actor {
        in_charge_of: vec![OWN_UNIT.into()],
        ..actor(Role::Leader, None, None)
    };
    let elsewhere = Actor {
        in_charge_of: vec![OTHER_UNIT.into()],
        user: user_of("leader-2"),
        ..actor(Role::Leader, None, None)
    };
    let on_time = appeal(Some(OWN_UNIT));
    assert!(!in_charge.can_read(&on_time), "not escalated to them yet");
    let late = escalated();
    assert!(in_charge.can_read(&late));
    assert!(
        !elsewhere.can_read(&late),
        "not a unit they are in charge of"
    );
    let mut owned = on_time.clone();
    owned.owners = vec![elsewhere.as_staff()];
    assert!(elsewhere.can_read(&owned), "their own case");
    let namesake = Actor {
        user: user_of("another leader"),
        ..elsewhere.clone()
    };
    assert!(
        !namesake.can_read(&owned),
        "ownership is by user, not by name"
    );
    owned.owners = vec![StaffRef {
        user: None,
        name: elsewhere.name.clone(),
    }];
    assert!(!elsewhere.can_read(&owned), "a title grants nothing");
    let mut unsigned = on_time;
    unsigned.sla.response_escalated = true;
    assert!(in_charge.can_read(&unsigned), "the supervisor was called");
}

#[test]
fn the_leaders_in_charge_of_its_unit_own_a_case_at_the_last_level() {
    use crate::command::{UnitLeaders, User};
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 7, 0, 0).unwrap();
    let leader = |name: &str, unit: &str, mailbox_reader: bool, disabled: bool| User {
        id: UserId::new(),
        name: name.to_owned(),
        username: None,
        role: Role::Leader,
        unit: None,
        in_charge_of: vec![unit.into()],
        mailbox_reader,
        disabled,
        created_at: at,
        updated_at: at,
    };
    let in_charge = leader("王副区长", OWN_UNIT, false, false);
    let reader = leader("纪委书记", OWN_UNIT, true, false);
    let users = vec![
        in_charge.clone(),
        reader.clone(),
        leader("李副区长", OTHER_UNIT, false, false),
        leader("离任的副区长", OWN_UNIT, false, true),
        User {
            role: Role::Supervisor,
            ..leader("督办员", OWN_UNIT, false, false)
        },
    ];
    let names = |leaders: UnitLeaders| -> Vec<String> {
        leaders.owners.into_iter().map(|o| o.name).collect()
    };
    let mut case = appeal(Some(OWN_UNIT));
    let leaders = UnitLeaders::of(&case, &users, Some("分管发改的副区长".to_owned()));
    assert_eq!(leaders.title.as_deref(), Some("分管发改的副区长"));
    assert_eq!(leaders.owners[0].user, Some(in_charge.id));
    assert_eq!(names(leaders), ["王副区长", "纪委书记"]);
    case.confidential = true;
    assert_eq!(
        names(UnitLeaders::of(&case, &users, None)),
        ["纪委书记"],
        "only a mailbox reader may see a confidential case"
    );
    assert!(
        UnitLeaders::of(&appeal(None), &users, None)
            .owners
            .is_empty()
    );
}
