//! The texts of staff notifications hide the appellant's details from everyone but the unit
//! handling the appeal (SPEC §8).

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use hotline_locales::Localizer;
use hotline_schemas::event::{Assignment, EventPayload, Recipient};
use hotline_schemas::lifecycle::{Intake, Rules};
use hotline_schemas::policy::calendar::BusinessCalendar;
use hotline_schemas::policy::sla::SlaPolicies;
use hotline_schemas::{
    Actor, Appellant, Channel, Envelope, Event, EventId, Kind, Location, NewAppeal, Priority,
    TimeLimit,
};
use hotline_worker::Composer;

fn appeal() -> hotline_schemas::Appeal {
    let rules = Rules {
        policies: SlaPolicies::default_policies().unwrap(),
        calendar: BusinessCalendar::official().unwrap(),
        tz: chrono_tz::Asia::Shanghai,
        discipline_unit: None,
    };
    let new = NewAppeal {
        channel: Channel::Web,
        kind: Kind::Complaint,
        priority: Priority::Normal,
        title: "李女士(13912345678)反映停水".to_owned(),
        body: "停水两天".to_owned(),
        appellant: Appellant::Person {
            name: "李女士".to_owned(),
            phone: Some("13912345678".to_owned()),
            wechat_openid: None,
        },
        location: Location::default(),
        attachments: Vec::new(),
    };
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap();
    let mut appeal = Intake::new(new, &rules.context(at, &Actor::public()))
        .unwrap()
        .receive("20261123-000001".into())
        .into_appeal();
    appeal.unit = Some("SWUJ".into());
    appeal
}

fn envelope(appeal: &hotline_schemas::Appeal, payload: EventPayload) -> Envelope {
    let event = Event {
        id: EventId::new(),
        appeal_id: appeal.id,
        seq: 2,
        at: Utc::now(),
        actor: "system".to_owned(),
        actor_id: None,
        reason: None,
        payload,
    };
    Envelope::new(&event, None)
}

#[test]
fn only_the_unit_reads_the_appellant_in_a_notification() {
    let composer = Composer::new(
        Arc::new(Localizer::new().unwrap()),
        chrono_tz::Asia::Shanghai,
        Arc::new(|_| "https://12345.example/rate".to_owned()),
    );
    let appeal = appeal();
    let dispatched = envelope(
        &appeal,
        EventPayload::Dispatched(Assignment {
            unit: "SWUJ".into(),
            from_unit: None,
            response_due: None,
            resolve_due: None,
            matter: None,
        }),
    );
    let to_unit = composer.compose(&dispatched, &appeal).unwrap();
    assert_eq!(to_unit.to, "unit:SWUJ");
    assert!(to_unit.text.contains("13912345678"), "{}", to_unit.text);
    let escalated = envelope(
        &appeal,
        EventPayload::Escalated {
            step: None,
            due_at: None,
            unit: appeal.unit.clone(),
            limit: TimeLimit::Resolution,
            level: 2,
            notified: Recipient::Supervisor,
            leader: None,
            rework_count: None,
            max_reworks: None,
        },
    );
    let to_supervisor = composer.compose(&escalated, &appeal).unwrap();
    assert_eq!(to_supervisor.to, "supervisor");
    let text = &to_supervisor.text;
    assert!(
        !text.contains("13912345678") && !text.contains("李女士"),
        "{text}"
    );
    assert!(
        text.contains("139****5678") && text.contains("李**"),
        "{text}"
    );
}
