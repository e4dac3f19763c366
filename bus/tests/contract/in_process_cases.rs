//! Behaviours only the in-process bus has: one consumer per group in a process, and a delivery
//! whose parking failed is not taken as done.

use std::sync::Arc;

use hotline_bus::BusError;
use hotline_bus::topology::ROUTER;
use tokio_util::sync::CancellationToken;

use crate::fixtures::{Appeal, PATIENCE, Recorder, messages};
use crate::harness::{Backend, SHUTDOWN_LIMIT, TestBus};

/// If the parking lot fails, `publish` fails (the relay sends the event again) and the consumer
/// goes on with the next events.
pub async fn failed_parking_is_not_acknowledged(t: TestBus) {
    let Backend::InProcess { parking } = &t.backend else {
        panic!("an in-process case");
    };
    let appeal = Appeal::new();
    let (broken, fine) = (appeal.received(), appeal.received());
    let router = Arc::new(Recorder::new().failing_permanently(broken.event_id));
    let _consumer = t.consume(&ROUTER, router.clone());

    parking.set_failing(true);
    let published = tokio::time::timeout(
        PATIENCE,
        t.bus.publish(&messages(std::slice::from_ref(&broken))),
    )
    .await
    .expect("publish returned");
    assert!(
        published.is_err(),
        "Ok although the event was neither taken in nor parked"
    );
    assert_eq!(router.calls(broken.event_id), 1);

    t.publish_ok(std::slice::from_ref(&fine), PATIENCE).await;
    assert_eq!(router.handled(), vec![fine]);

    // The relay tries again once the parking lot is back.
    parking.set_failing(false);
    t.publish_ok(std::slice::from_ref(&broken), PATIENCE).await;
    let parked = t.parked(ROUTER.group).await;
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].envelope.as_ref(), Some(&broken));
}

/// A group has one consumer per process: a second `consume` is refused while the first runs,
/// and allowed once it stopped.
pub async fn group_is_consumed_once_per_process(t: TestBus) {
    let running = Arc::new(Recorder::new());
    let first = t.consume(&ROUTER, running.clone());
    let probe = Appeal::new().received();
    t.publish_ok(std::slice::from_ref(&probe), PATIENCE).await;
    eventually!(
        "the first consumer running",
        PATIENCE,
        !running.handled().is_empty()
    );

    let second = tokio::time::timeout(
        SHUTDOWN_LIMIT,
        t.bus
            .consume(&ROUTER, Arc::new(Recorder::new()), CancellationToken::new()),
    )
    .await
    .expect("a second consume returns at once");
    assert!(
        matches!(second, Err(BusError::AlreadyConsumed(ref g)) if g == ROUTER.group),
        "{second:?}"
    );

    first.stop().await;
    let router = Arc::new(Recorder::new());
    let _again = t.consume(&ROUTER, router.clone());
    t.publish_ok(&[Appeal::new().received()], PATIENCE).await;
    eventually!("the new consumer taking events", PATIENCE, {
        router.handled().len() == 1
    });
}
