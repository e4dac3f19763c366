//! The behaviours every bus backend must show.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use hotline_bus::RetryPolicy;
use hotline_bus::topology::{NOTIFIER, ROUTER};
use hotline_schemas::Envelope;
use tokio_util::sync::CancellationToken;

use crate::fixtures::{Appeal, GRACE, PATIENCE, Recorder, ids, messages};
use crate::harness::{SHUTDOWN_LIMIT, TestBus};

/// A policy whose first backoff outlasts any case, to catch a consumer between attempts.
pub fn slow_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_secs(30),
    }
}

/// Everything published reaches each bound group once, in publish order; events no group binds
/// are accepted and reach nobody.
pub async fn delivers_to_bound_groups_once_in_order(t: TestBus) {
    let router = Arc::new(Recorder::new());
    let notifier = Arc::new(Recorder::new());
    let _router = t.consume(&ROUTER, router.clone());
    let _notifier = t.consume(&NOTIFIER, notifier.clone());

    let appeal = Appeal::new();
    let events: Vec<Envelope> = (0..50)
        .map(|i| match i % 5 {
            0 => appeal.received(),
            1 => appeal.dispatched("DEMO-FGJ"),
            2 => appeal.reassigned("DEMO-ZJJ"),
            3 => appeal.accepted(),
            _ => appeal.sla_breached(),
        })
        .collect();
    let for_router: Vec<Envelope> = events
        .iter()
        .filter(|e| e.routing_key == "appeal.received")
        .cloned()
        .collect();
    let for_notifier: Vec<Envelope> = events
        .iter()
        .filter(|e| {
            e.routing_key.starts_with("appeal.dispatched.")
                || e.routing_key.starts_with("appeal.reassigned.")
        })
        .cloned()
        .collect();
    assert_eq!((for_router.len(), for_notifier.len()), (10, 20));

    // Two publishes: the order holds within and across them.
    t.publish_ok(&events[..25], PATIENCE).await;
    t.publish_ok(&events[25..], PATIENCE).await;
    if t.is_in_process() {
        // The in-process bus holds an event only once the consumer has it.
        assert_eq!(ids(&router.handled()), ids(&for_router));
        assert_eq!(ids(&notifier.handled()), ids(&for_notifier));
    }
    eventually!("every bound event delivered", PATIENCE, {
        router.handled().len() >= for_router.len() && notifier.handled().len() >= for_notifier.len()
    });
    tokio::time::sleep(GRACE).await;

    // Whole envelopes, in order, once each: nothing unbound, nothing twice.
    assert_eq!(router.handled(), for_router, "router deliveries");
    assert_eq!(notifier.handled(), for_notifier, "notifier deliveries");
    assert_eq!(router.total_calls(), for_router.len());
    assert_eq!(notifier.total_calls(), for_notifier.len());
    assert!(t.parked(ROUTER.group).await.is_empty());
    assert!(t.parked(NOTIFIER.group).await.is_empty());
}

/// A consumer that takes several deliveries at once gets what waited in one batch, in order;
/// after a failure inside a batch, the failed event and those after it come again, in order.
pub async fn waiting_deliveries_come_in_batches_in_order(t: TestBus) {
    let appeal = Appeal::new();
    let events: Vec<Envelope> = (0..40).map(|_| appeal.received()).collect();
    let flaky = events[20].event_id;
    let router = Arc::new(
        Recorder::new()
            .batched(16)
            .gated_at(events[0].event_id)
            .failing_transiently(flaky, 1),
    );
    let _consumer = t.consume(&ROUTER, router.clone());
    let publishing = t.publish_in_background(events.clone());
    eventually!("held at the first event", PATIENCE, router.gate_entered());
    // The rest wait meanwhile: RabbitMQ's prefetch brings them, the in-process queue holds them.
    tokio::time::sleep(GRACE).await;
    router.open_gate();
    eventually!(
        "all taken in",
        PATIENCE,
        router.handled_set().len() == events.len()
    );
    assert!(publishing.await.expect("publish task").is_ok());
    tokio::time::sleep(GRACE).await;

    let handled = router.handled();
    assert_eq!(
        handled.len(),
        events.len(),
        "each once (the failed one on its retry)"
    );
    let batched = router.batches();
    assert!(
        batched.iter().any(|&n| n > 1),
        "waiting deliveries came together: {batched:?}"
    );
    assert!(batched.iter().all(|&n| n <= 16), "{batched:?}");
    assert_eq!(router.calls(flaky), 2, "failed once, then taken in");
    if t.is_in_process() {
        assert_eq!(handled, events, "in publish order, the retry in its place");
    } else {
        // RabbitMQ retries through a delay queue: the retried event comes after the others.
        let mut others = events.clone();
        others.retain(|e| e.event_id != flaky);
        let mut rest = handled.clone();
        rest.retain(|e| e.event_id != flaky);
        assert_eq!(rest, others, "the others in publish order");
    }
    assert!(t.parked(ROUTER.group).await.is_empty());
}

/// Events no group binds are accepted at once, even with no consumer running, and never
/// delivered.
pub async fn unbound_events_are_accepted_and_dropped(t: TestBus) {
    let appeal = Appeal::new();
    let unbound = vec![appeal.accepted(), appeal.sla_breached(), appeal.accepted()];
    t.publish_ok(&unbound, Duration::from_secs(2)).await;
    t.publish_ok(&[], Duration::from_secs(2)).await;

    let router = Arc::new(Recorder::new());
    let notifier = Arc::new(Recorder::new());
    let _router = t.consume(&ROUTER, router.clone());
    let _notifier = t.consume(&NOTIFIER, notifier.clone());
    // Markers behind them in each group's queue: once they are in, anything ahead would be too.
    let markers = vec![appeal.received(), appeal.dispatched("DEMO-FGJ")];
    t.publish_ok(&markers, PATIENCE).await;
    eventually!("the markers delivered", PATIENCE, {
        !router.handled().is_empty() && !notifier.handled().is_empty()
    });
    tokio::time::sleep(GRACE).await;
    assert_eq!(router.handled_ids(), vec![markers[0].event_id]);
    assert_eq!(notifier.handled_ids(), vec![markers[1].event_id]);
    assert_eq!(router.total_calls() + notifier.total_calls(), 2);
}

/// A transient failure is retried after the backoff and then taken in, once.
pub async fn transient_failures_are_retried_then_succeed(t: TestBus) {
    let appeal = Appeal::new();
    let events = vec![appeal.received(), appeal.received(), appeal.received()];
    let (twice, once, fine) = (events[0].event_id, events[1].event_id, events[2].event_id);
    assert!(t.retry.attempts >= 3, "the case needs two retries");
    let router = Arc::new(
        Recorder::new()
            .failing_transiently(twice, 2)
            .failing_transiently(once, 1),
    );
    let _consumer = t.consume(&ROUTER, router.clone());

    t.publish_ok(&events, PATIENCE).await;
    if t.is_in_process() {
        assert_eq!(router.handled_set(), ids(&events).into_iter().collect());
    }
    eventually!("all three taken in", PATIENCE, router.handled().len() >= 3);
    tokio::time::sleep(GRACE).await;

    assert_eq!(router.calls(twice), 3, "failed twice, then succeeded");
    assert_eq!(router.calls(once), 2, "failed once, then succeeded");
    assert_eq!(router.calls(fine), 1);
    let handled = router.handled();
    assert_eq!(handled.len(), 3, "each taken in once: {:?}", ids(&handled));
    assert_eq!(router.handled_set(), ids(&events).into_iter().collect());
    assert!(
        handled.contains(&events[0]),
        "the retried envelope arrives unchanged"
    );

    // Each retry waits at least the backoff of the attempt that failed.
    let times = router.call_times(twice);
    let slack = Duration::from_millis(5);
    for n in 1..=2u32 {
        let gap = times[n as usize] - times[n as usize - 1];
        assert!(
            gap + slack >= t.retry.backoff(n),
            "attempt {} came {gap:?} after attempt {n}, before the backoff {:?}",
            n + 1,
            t.retry.backoff(n)
        );
    }
    assert!(t.parked(ROUTER.group).await.is_empty(), "nothing parked");
}

/// After the last attempt a transient failure is parked with its error; a permanent failure is
/// parked at once; the events behind them flow on.
pub async fn failures_are_parked_and_the_rest_flows(t: TestBus) {
    let appeal = Appeal::new();
    let events: Vec<Envelope> = (0..5).map(|_| appeal.received()).collect();
    let (flaky, broken) = (events[0].event_id, events[1].event_id);
    let router = Arc::new(
        Recorder::new()
            .failing_transiently(flaky, u32::MAX)
            .failing_permanently(broken),
    );
    let _consumer = t.consume(&ROUTER, router.clone());

    t.publish_ok(&events, PATIENCE).await;
    if t.is_in_process() {
        assert_eq!(
            t.parked(ROUTER.group).await.len(),
            2,
            "parked before publish returned"
        );
    }
    eventually!("two parked, three taken in", PATIENCE, {
        router.handled().len() >= 3 && t.parked(ROUTER.group).await.len() >= 2
    });
    tokio::time::sleep(GRACE).await;

    let attempts = t.retry.attempts;
    assert_eq!(router.calls(flaky), attempts as usize, "every attempt made");
    assert_eq!(
        router.calls(broken),
        1,
        "a permanent failure is not retried"
    );
    assert_eq!(
        router.handled(),
        events[2..].to_vec(),
        "the rest flows, in order"
    );

    let mut parked = t.parked(ROUTER.group).await;
    assert_eq!(parked.len(), 2, "{parked:?}");
    parked.sort_by_key(|p| p.event_id() != Some(flaky));
    assert_eq!(parked[0].envelope.as_ref(), Some(&events[0]));
    assert_eq!(
        parked[0].error,
        format!("transient failure {attempts} of {flaky}"),
        "parked with the last attempt's error"
    );
    assert_eq!(parked[1].envelope.as_ref(), Some(&events[1]));
    assert_eq!(parked[1].error, format!("permanent failure of {broken}"));
    if !t.is_in_process() {
        assert_eq!(parked[0].attempt, Some(attempts));
        assert_eq!(parked[1].attempt, Some(1));
    }
    assert!(t.parked(NOTIFIER.group).await.is_empty());

    // The group still works afterwards.
    let later = appeal.received();
    t.publish_ok(std::slice::from_ref(&later), PATIENCE).await;
    eventually!("a later event taken in", PATIENCE, {
        router.handled_set().contains(&later.event_id)
    });
}

/// Events published while no consumer runs are not lost: RabbitMQ keeps them in the group's
/// queue; the in-process `publish` does not return until each bound group's consumer has them.
pub async fn published_without_consumer_is_held_until_one_runs(t: TestBus) {
    let appeal = Appeal::new();
    let mut events: Vec<Envelope> = (0..5).map(|_| appeal.received()).collect();
    events.extend((0..3).map(|_| appeal.dispatched("DEMO-FGJ")));
    let router = Arc::new(Recorder::new());
    let notifier = Arc::new(Recorder::new());

    let publish = t.publish_in_background(events.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    if let Some(rabbit) = t.rabbit() {
        let published = tokio::time::timeout(PATIENCE, publish).await;
        assert!(
            matches!(published, Ok(Ok(Ok(())))),
            "publish with no consumer: {published:?}"
        );
        assert_eq!(rabbit.ready(&rabbit.options.queue(ROUTER.group)).await, 5);
        assert_eq!(rabbit.ready(&rabbit.options.queue(NOTIFIER.group)).await, 3);
        let _router = t.consume(&ROUTER, router.clone());
        let _notifier = t.consume(&NOTIFIER, notifier.clone());
    } else {
        assert!(
            !publish.is_finished(),
            "publish returned with no consumer running"
        );
        let _router = t.consume(&ROUTER, router.clone());
        eventually!("the router's events", PATIENCE, router.handled().len() >= 5);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !publish.is_finished(),
            "publish returned before the notifier group had its events"
        );
        let _notifier = t.consume(&NOTIFIER, notifier.clone());
        let published = tokio::time::timeout(PATIENCE, publish).await;
        assert!(
            matches!(published, Ok(Ok(Ok(())))),
            "publish: {published:?}"
        );
        assert_eq!(
            notifier.handled().len(),
            3,
            "publish returned before delivery"
        );
    }
    eventually!("everything delivered", PATIENCE, {
        router.handled().len() >= 5 && notifier.handled().len() >= 3
    });
    tokio::time::sleep(GRACE).await;
    assert_eq!(router.handled(), events[..5].to_vec());
    assert_eq!(notifier.handled(), events[5..].to_vec());
}

/// At least once across a consumer restart: a consumer stopped while it holds events leaves
/// none behind for good. RabbitMQ requeues the unacknowledged ones; the in-process `publish`
/// fails for them (never `Ok` before they were handled), so the relay sends them again.
pub async fn restarted_consumer_loses_nothing(t: TestBus) {
    let appeal = Appeal::new();
    let events: Vec<Envelope> = (0..20).map(|_| appeal.received()).collect();
    let all: HashSet<_> = ids(&events).into_iter().collect();
    let first = Arc::new(Recorder::new().gated_at(events[5].event_id));
    let second = Arc::new(Recorder::new());
    let consumer = t.consume(&ROUTER, first.clone());

    // The outbox relay: publishes the batch until the bus takes it, noting after each attempt
    // which events had been handled by then.
    let relay = {
        let bus = t.bus.clone();
        let (events, first, second) = (events.clone(), first.clone(), second.clone());
        tokio::spawn(async move {
            let mut attempts = Vec::new();
            for _ in 0..5 {
                let result = bus.publish(&messages(&events)).await;
                let mut seen = first.handled_set();
                seen.extend(second.handled_set());
                let ok = result.is_ok();
                attempts.push((result, seen));
                if ok {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            attempts
        })
    };

    eventually!(
        "the first consumer held at event 6",
        PATIENCE,
        first.gate_entered()
    );
    if let Some(rabbit) = t.rabbit() {
        // Every event is out with the consumer: 5 acknowledged, the rest unacknowledged.
        let queue = rabbit.options.queue(ROUTER.group);
        eventually!(
            "no event left ready",
            PATIENCE,
            rabbit.ready(&queue).await == 0
        );
    } else {
        assert!(
            !relay.is_finished(),
            "publish returned while events were unhandled"
        );
    }
    consumer.cancel();
    first.open_gate();
    consumer.stop().await;
    let handled_first = first.handled_set();
    assert!(
        handled_first.len() >= 6,
        "events 1 to 6 taken in before shutdown"
    );

    let _consumer = t.consume(&ROUTER, second.clone());
    eventually!("every event delivered", PATIENCE, {
        let mut seen = first.handled_set();
        seen.extend(second.handled_set());
        seen.is_superset(&all)
    });
    let attempts = tokio::time::timeout(PATIENCE, relay)
        .await
        .expect("the relay finished")
        .expect("the relay task");
    let (last, _) = attempts.last().expect("at least one publish");
    assert!(
        last.is_ok(),
        "the relay got the batch through: {attempts:?}"
    );
    if t.is_in_process() {
        for (result, seen) in &attempts {
            if result.is_ok() {
                assert!(
                    seen.is_superset(&all),
                    "publish returned Ok before every event was handled"
                );
            }
        }
    } else {
        assert_eq!(attempts.len(), 1, "the broker took the batch at once");
    }
    // What the first consumer did not take in, the second did.
    let missing: HashSet<_> = all.difference(&handled_first).copied().collect();
    assert!(second.handled_set().is_superset(&missing));
}

/// Cancelling the token makes `consume` return `Ok` promptly, also when it was cancelled before
/// it started; the group can be consumed again afterwards.
pub async fn shutdown_returns_promptly(t: TestBus) {
    let appeal = Appeal::new();
    let first = Arc::new(Recorder::new());
    let consumer = t.consume(&ROUTER, first.clone());
    let probe = appeal.received();
    t.publish_ok(std::slice::from_ref(&probe), PATIENCE).await;
    eventually!(
        "the consumer running",
        PATIENCE,
        !first.handled().is_empty()
    );
    let took = consumer.stop().await;
    assert!(took < SHUTDOWN_LIMIT, "shutdown took {took:?}");

    let cancelled = CancellationToken::new();
    cancelled.cancel();
    let returned = tokio::time::timeout(
        SHUTDOWN_LIMIT,
        t.bus.consume(&ROUTER, Arc::new(Recorder::new()), cancelled),
    )
    .await;
    assert!(
        matches!(returned, Ok(Ok(()))),
        "consume with a cancelled token: {returned:?}"
    );

    let second = Arc::new(Recorder::new());
    let _consumer = t.consume(&ROUTER, second.clone());
    let later = appeal.received();
    t.publish_ok(std::slice::from_ref(&later), PATIENCE).await;
    eventually!("the restarted consumer taking events", PATIENCE, {
        second.handled_ids() == vec![later.event_id]
    });
    assert_eq!(first.handled_ids(), vec![probe.event_id]);
}

/// Shutdown does not wait out a retry's backoff, and an event it interrupts is not taken as
/// done: RabbitMQ keeps it in the delay queue, the in-process `publish` fails.
pub async fn shutdown_interrupts_retry_backoff(t: TestBus) {
    assert!(
        t.retry.first_backoff >= Duration::from_secs(10),
        "run with slow_retry()"
    );
    let appeal = Appeal::new();
    let event = appeal.received();
    let router = Arc::new(Recorder::new().failing_transiently(event.event_id, u32::MAX));
    let consumer = t.consume(&ROUTER, router.clone());
    let publish = t.publish_in_background(vec![event.clone()]);
    eventually!(
        "the first attempt",
        PATIENCE,
        router.calls(event.event_id) == 1
    );
    if let Some(rabbit) = t.rabbit() {
        let delay = rabbit.options.retry_queue(ROUTER.group, 1);
        eventually!("the event waiting in the delay queue", PATIENCE, {
            rabbit.ready(&delay).await == 1
        });
    }

    let took = consumer.stop().await;
    assert!(took < SHUTDOWN_LIMIT, "shutdown took {took:?}");
    assert_eq!(router.calls(event.event_id), 1, "no further attempt");
    let published = tokio::time::timeout(PATIENCE, publish)
        .await
        .expect("publish returned")
        .expect("the publish task");
    if t.is_in_process() {
        assert!(
            published.is_err(),
            "publish must not succeed for an event shutdown interrupted"
        );
    } else {
        assert!(published.is_ok(), "{published:?}");
    }
    assert!(router.handled().is_empty());
    assert!(t.parked(ROUTER.group).await.is_empty(), "not parked either");
}

/// An event written by a newer version (of a type this one does not know) is parked with the
/// reason, never handled and never dropped; the events behind it flow on.
pub async fn an_unknown_event_is_parked_and_the_rest_flows(t: TestBus) {
    let appeal = Appeal::new();
    let router = Arc::new(Recorder::new());
    let _consumer = t.consume(&ROUTER, router.clone());
    let newer = appeal.written_by_a_newer_version();
    let published = tokio::time::timeout(PATIENCE, t.bus.publish(std::slice::from_ref(&newer)))
        .await
        .expect("publish returned");
    assert!(published.is_ok(), "{published:?}");
    let after = appeal.received();
    t.publish_ok(std::slice::from_ref(&after), PATIENCE).await;
    eventually!(
        "the known event taken in, the unknown one parked",
        PATIENCE,
        {
            router.handled_set().contains(&after.event_id)
                && !t.parked(ROUTER.group).await.is_empty()
        }
    );
    tokio::time::sleep(GRACE).await;
    assert_eq!(
        router.handled(),
        vec![after],
        "the unknown event is not handled"
    );
    let parked = t.parked(ROUTER.group).await;
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert!(parked[0].envelope.is_none(), "unreadable by this version");
    let error = &parked[0].error;
    assert!(
        error.contains("appointment_booked") && error.contains("not known to this version"),
        "{error}"
    );
    if !t.is_in_process() {
        assert_eq!(parked[0].attempt, Some(1), "parked at once, not retried");
    }
}

/// A watcher sees what is published from then on, bound to a group or not, in order; it is
/// live and lossy, so the case first waits until the watcher is there.
pub async fn watchers_see_what_is_published(t: TestBus) {
    let stop = CancellationToken::new();
    let mut watcher = t.bus.watch(stop.clone()).await.expect("watch");
    let appeal = Appeal::new();
    // RabbitMQ binds the watcher's queue in the background: knock until it answers.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        t.publish_ok(&[appeal.accepted()], PATIENCE).await;
        match tokio::time::timeout(Duration::from_millis(200), watcher.recv()).await {
            Ok(Ok(_)) => break,
            _ if tokio::time::Instant::now() > deadline => panic!("the watcher never saw a thing"),
            _ => {}
        }
    }
    while watcher.try_recv().is_ok() {}
    let batch = vec![appeal.accepted(), appeal.sla_breached(), appeal.accepted()];
    t.publish_ok(&batch, PATIENCE).await;
    let mut seen = Vec::new();
    while seen.len() < batch.len() {
        let message = tokio::time::timeout(PATIENCE, watcher.recv())
            .await
            .expect("in time")
            .expect("a message");
        if batch.iter().any(|e| e.event_id == message.event_id) {
            seen.push(message);
        }
    }
    let ids: Vec<_> = seen.iter().map(|m| m.event_id).collect();
    assert_eq!(ids, batch.iter().map(|e| e.event_id).collect::<Vec<_>>());
    assert_eq!(seen[1].routing_key, batch[1].routing_key);
    assert_eq!(seen[1].envelope().expect("readable"), batch[1]);
    stop.cancel();
}
