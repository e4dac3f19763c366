use super::*;
use serde_json::json;

fn event(payload: EventPayload) -> Event {
    Event {
        id: EventId::new(),
        appeal_id: AppealId::new(),
        seq: 2,
        at: "2026-11-20T07:00:00Z".parse().unwrap(),
        actor: "router".to_owned(),
        actor_id: None,
        reason: None,
        payload,
    }
}

#[test]
fn an_event_is_stored_as_type_and_data_beside_its_fields() {
    let dispatched = event(EventPayload::Dispatched(Assignment {
        unit: "GHZRZYJ".into(),
        from_unit: None,
        response_due: Some("2026-11-20T07:30:00Z".parse().unwrap()),
        resolve_due: None,
        matter: None,
    }));
    let value = serde_json::to_value(&dispatched).unwrap();
    assert_eq!(value["type"], "dispatched");
    assert_eq!(
        value["data"],
        json!({"unit": "GHZRZYJ", "from_unit": null, "response_due": "2026-11-20T07:30:00Z",
               "resolve_due": null})
    );
    assert_eq!(value["seq"], 2);
    let back: Event = serde_json::from_value(value).unwrap();
    assert_eq!(back, dispatched);
    assert_eq!(back.routing_key(), "appeal.dispatched.GHZRZYJ");
    let voided = serde_json::to_value(event(EventPayload::Voided {})).unwrap();
    assert_eq!(voided["data"], json!({}));
}

#[test]
fn a_field_or_type_this_version_does_not_know_is_refused() {
    let mut value = serde_json::to_value(event(EventPayload::Accepted {
        unit: Some("FGJ".into()),
    }))
    .unwrap();
    value["data"]["signed_by_robot"] = json!(true);
    let err = serde_json::from_value::<Event>(value.clone()).unwrap_err();
    assert!(err.to_string().contains("signed_by_robot"), "{err}");
    value["type"] = json!("teleported");
    value["data"] = json!({});
    assert!(serde_json::from_value::<Event>(value).is_err());
}

#[test]
fn recipients_read_as_they_are_written() {
    for text in [
        "dispatcher",
        "unit:FGJ",
        "supervisor",
        "leader",
        "leader:王区长",
    ] {
        let recipient: Recipient = text.parse().unwrap();
        assert_eq!(recipient.to_string(), text);
    }
    assert_eq!(
        "unit:".parse::<Recipient>().unwrap(),
        Recipient::Unit(UnitCode::default())
    );
    assert!("mayor".parse::<Recipient>().is_err());
}

#[test]
fn every_type_has_its_payload() {
    use strum::IntoEnumIterator;
    let named: Vec<String> = EventType::iter().map(|t| t.as_str().to_owned()).collect();
    let written = include_str!("mod.rs");
    for name in named {
        let variant: String = name
            .split('_')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        assert!(
            written.contains(&format!("EventPayload::{variant}")),
            "{name} has no payload"
        );
    }
}

#[test]
fn the_user_behind_an_event_is_kept_when_there_is_one() {
    let mut accepted = event(EventPayload::Accepted {
        unit: Some("GHZRZYJ".into()),
    });
    let value = serde_json::to_value(&accepted).unwrap();
    assert!(
        value.get("actor_id").is_none(),
        "no user, no field: {value}"
    );
    assert_eq!(serde_json::from_value::<Event>(value).unwrap(), accepted);
    let user = UserId::new();
    accepted.actor_id = Some(user);
    let value = serde_json::to_value(&accepted).unwrap();
    assert_eq!(value["actor_id"], user.to_string());
    assert_eq!(serde_json::from_value::<Event>(value).unwrap(), accepted);
}
