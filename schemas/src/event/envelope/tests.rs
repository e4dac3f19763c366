use super::*;

#[test]
fn topic_matching() {
    assert!(topic_matches("appeal.received", "appeal.received"));
    assert!(!topic_matches("appeal.received", "appeal.accepted"));
    assert!(topic_matches(
        "appeal.dispatched.*",
        "appeal.dispatched.FGJ"
    ));
    assert!(!topic_matches("appeal.dispatched.*", "appeal.dispatched"));
    assert!(topic_matches("appeal.#", "appeal.dispatched.FGJ"));
    assert!(topic_matches("appeal.#", "appeal"));
    assert!(topic_matches("#", "sla.breached"));
    assert!(topic_matches("*.breached", "sla.breached"));
    assert!(!topic_matches("sla.*", "appeal.received"));
    assert!(topic_matches("appeal.#.FGJ", "appeal.dispatched.FGJ"));
}

#[test]
fn traceparents() {
    let t = new_traceparent();
    assert_eq!(valid_traceparent(&t), Some(t.clone()));
    assert!(valid_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_some());
    assert!(valid_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
    assert!(valid_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_none());
    assert!(valid_traceparent("garbage").is_none());
}
