//! Test data and small helpers shared by the cases.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;
use hotline_schemas::event::Classification;
use hotline_schemas::lifecycle::{Context, Decision, Intake, decide};
use hotline_schemas::policy::calendar::BusinessCalendar;
use hotline_schemas::policy::sla::{SlaClock, SlaPolicies};
use hotline_schemas::value::ticket::ticket_day;
use hotline_schemas::{
    Actor, Appeal, Appellant, Channel, Command, Kind, Location, NewAppeal, Priority, Role,
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

/// An event's `data` as stored and served.
pub fn data(e: &hotline_schemas::Event) -> serde_json::Value {
    serde_json::to_value(&e.payload).expect("serialisable")["data"].clone()
}

/// The context of `actor` at `now` under the shipped rules.
pub fn context(actor: &Actor, now: DateTime<Utc>) -> Context<'_> {
    Context {
        now,
        actor,
        policies: &POLICIES,
        clock: SlaClock::new(&CALENDAR, TZ),
        discipline_unit: None,
    }
}

pub fn agent() -> Actor {
    Actor {
        name: "agent-01".to_owned(),
        role: Role::Agent,
        unit: None,
        appeal: None,
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    }
}

/// `new` submitted by an agent at `at`, without an idempotency key, counted under the local
/// day of `at`.
pub fn submission_of(new: NewAppeal, at: DateTime<Utc>) -> Submission {
    let agent = agent();
    Submission {
        intake: Intake::new(new, &context(&agent, at)).expect("test appeal is valid"),
        day: ticket_day(at, TZ),
        idempotency: None,
        traceparent: None,
    }
}

/// A submission without an idempotency key, counted under the local day of `at`.
pub fn submission(channel: Channel, at: DateTime<Utc>) -> Submission {
    submission_of(new_appeal(channel, "营业执照变更材料反复退回"), at)
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
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    }
}

pub fn unit_staff(unit: &str) -> Actor {
    Actor {
        name: format!("{unit}-staff"),
        role: Role::Unit,
        unit: Some(unit.into()),
        appeal: None,
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    }
}

pub fn appellant(appeal: &Appeal) -> Actor {
    Actor {
        name: "appellant".to_owned(),
        role: Role::Appellant,
        unit: None,
        appeal: Some(appeal.id),
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    }
}

/// The decision `command` by `actor` at `now` leads to; it must be allowed.
pub fn decision(appeal: &Appeal, command: Command, actor: &Actor, now: DateTime<Utc>) -> Decision {
    actor
        .authorize(command.action(), appeal)
        .expect("the actor may take this action");
    decide(appeal, command, &context(actor, now)).expect("allowed command")
}

/// The `classified` note the router takes on `appeal` at `now`, suggesting `unit`.
pub fn classify(appeal: &Appeal, unit: &str, now: DateTime<Utc>) -> Decision {
    let router = Actor {
        name: "router".to_owned(),
        role: Role::Dispatcher,
        unit: None,
        appeal: None,
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    };
    let classification = Classification {
        matter: None,
        unit: Some(unit.into()),
        confidence: 0.3,
        suggestions: Vec::new(),
        dispatched: false,
        urgent_signals: Vec::new(),
        duplicate_of: None,
        rule: None,
        priority: appeal.priority,
        confidential: false,
        subject_unit: None,
        place: None,
        held: None,
    };
    decide(
        appeal,
        Command::Classify(classification),
        &context(&router, now),
    )
    .expect("an open appeal takes a classification")
}

pub fn dispatch_to(appeal: &Appeal, unit: &str, now: DateTime<Utc>) -> Decision {
    decision(
        appeal,
        Command::Dispatch {
            unit: unit.into(),
            matter: None,
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
    d.into_appeal()
}
