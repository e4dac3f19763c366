//! Test data and small helpers shared by the cases.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;
use hotline_schemas::calendar::BusinessCalendar;
use hotline_schemas::lifecycle::{Command, Context, Decision, decide, note};
use hotline_schemas::sla::{SlaClock, SlaPolicies};
use hotline_schemas::ticket::ticket_day;
use hotline_schemas::{
    Actor, Appeal, AppealId, Appellant, Channel, EventType, Kind, Location, NewAppeal, Priority,
    Role,
};
use hotline_store::{CommitMeta, IdempotencyKey, Store, Submission};

pub const TZ: Tz = chrono_tz::Asia::Shanghai;

/// A valid enterprise USCC (统一社会信用代码).
pub const USCC: &str = "914403001922038216";

static CALENDAR: LazyLock<BusinessCalendar> =
    LazyLock::new(|| BusinessCalendar::official().expect("official calendar"));
static POLICIES: LazyLock<SlaPolicies> =
    LazyLock::new(|| SlaPolicies::default_policies().expect("default SLA policies"));

/// An instant given in Shanghai local time.
pub fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    TZ.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("unambiguous local time")
        .with_timezone(&Utc)
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// Monday 2 March 2026, 10:00 in Shanghai: a working day.
pub fn monday() -> DateTime<Utc> {
    local(2026, 3, 2, 10, 0)
}

pub fn new_appeal(channel: Channel, title: &str) -> NewAppeal {
    NewAppeal {
        channel,
        kind: Kind::Complaint,
        priority: Priority::Normal,
        title: title.to_owned(),
        body: format!("{title}: 企业反映办理营业执照变更时材料被多次退回。"),
        appellant: Appellant::Enterprise {
            name: "深圳市某某科技有限公司".to_owned(),
            phone: Some("13800138000".to_owned()),
            uscc: USCC.to_owned(),
            wechat_openid: None,
        },
        location: Location {
            address: Some("深圳市南山区科技园".to_owned()),
            longitude: None,
            latitude: None,
        },
        attachments: Vec::new(),
    }
}

/// A submission without an idempotency key, counted under the local day of `at`.
pub fn submission(channel: Channel, at: DateTime<Utc>) -> Submission {
    let new = new_appeal(channel, "营业执照变更材料反复退回");
    new.validate().expect("test appeal is valid");
    Submission {
        id: AppealId::new(),
        new,
        at,
        day: ticket_day(at, TZ),
        actor: "agent-01".to_owned(),
        idempotency: None,
        traceparent: None,
        timer: None,
    }
}

/// A web submission under an idempotency key.
pub fn keyed(at: DateTime<Utc>, caller: &str, key: &str, request_hash: &str) -> Submission {
    Submission {
        idempotency: Some(IdempotencyKey {
            caller: caller.to_owned(),
            key: key.to_owned(),
            request_hash: request_hash.to_owned(),
        }),
        ..submission(Channel::Web, at)
    }
}

pub fn dispatcher() -> Actor {
    Actor {
        name: "dispatcher-01".to_owned(),
        role: Role::Dispatcher,
        unit: None,
        appeal: None,
    }
}

pub fn unit_staff(unit: &str) -> Actor {
    Actor {
        name: format!("{unit}-staff"),
        role: Role::Unit,
        unit: Some(unit.to_owned()),
        appeal: None,
    }
}

pub fn appellant(appeal: &Appeal) -> Actor {
    Actor {
        name: "appellant".to_owned(),
        role: Role::Appellant,
        unit: None,
        appeal: Some(appeal.id),
    }
}

/// The decision `command` by `actor` at `now` leads to; it must be allowed.
pub fn decision(appeal: &Appeal, command: Command, actor: &Actor, now: DateTime<Utc>) -> Decision {
    actor
        .authorize(command.action(), appeal)
        .expect("the actor may take this action");
    let ctx = Context {
        now,
        actor,
        policies: &POLICIES,
        clock: SlaClock::new(&CALENDAR, TZ),
    };
    decide(appeal, command, &ctx).expect("allowed command")
}

/// The `classified` note the router takes on `appeal` at `now`, suggesting `unit`.
pub fn classify(appeal: &Appeal, unit: &str, now: DateTime<Utc>) -> Decision {
    let router = Actor {
        name: "router".to_owned(),
        role: Role::Dispatcher,
        unit: None,
        appeal: None,
    };
    let ctx = Context {
        now,
        actor: &router,
        policies: &POLICIES,
        clock: SlaClock::new(&CALENDAR, TZ),
    };
    let data = serde_json::json!({ "unit": unit, "sure": false });
    note(appeal, EventType::Classified, None, data, &ctx).expect("an open appeal takes a note")
}

pub fn dispatch_to(appeal: &Appeal, unit: &str, now: DateTime<Utc>) -> Decision {
    decision(
        appeal,
        Command::Dispatch {
            unit: unit.to_owned(),
        },
        &dispatcher(),
        now,
    )
}

/// Submits and returns the new appeal.
pub async fn submit(store: &Arc<dyn Store>, sub: Submission) -> Appeal {
    let submitted = store.submit(sub).await.expect("submit");
    assert!(submitted.created);
    submitted.appeal
}

/// Decides and commits; returns the appeal's new state.
pub async fn apply(
    store: &Arc<dyn Store>,
    appeal: &Appeal,
    command: Command,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Appeal {
    let d = decision(appeal, command, actor, now);
    store
        .commit(&d, &CommitMeta::default())
        .await
        .expect("commit");
    d.appeal
}
