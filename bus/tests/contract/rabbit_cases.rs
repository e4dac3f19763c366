//! Behaviours only the RabbitMQ backend has: a declared topology, durable queues holding
//! persistent messages, retries through delay queues, malformed messages parked.

use std::sync::Arc;
use std::time::Duration;

use hotline_bus::topology::{NOTIFIER, ROUTER};
use hotline_bus::{Bus, RabbitBus, RabbitOptions, RetryPolicy, TOPOLOGY};
use lapin::options::{
    BasicGetOptions, BasicPublishOptions, BasicRejectOptions, ExchangeDeclareOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, ExchangeKind};
use tokio_util::sync::CancellationToken;

use crate::fixtures::{Appeal, GRACE, PATIENCE, Recorder, ids, messages};
use crate::harness::{Rabbit, SHUTDOWN_LIMIT, TestBus};

/// Retries slow enough to watch a delivery wait in each delay queue.
pub fn watchable_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(400),
    }
}

fn rabbit(t: &TestBus) -> &Rabbit {
    t.rabbit().expect("a RabbitMQ case")
}

/// The arguments `declare_topology` gives the delay queue after failed attempt `attempt`.
fn delay_arguments(options: &RabbitOptions, group: &str, ttl_ms: u128) -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-message-ttl".into(),
        AMQPValue::LongLongInt(i64::try_from(ttl_ms).expect("ttl")),
    );
    arguments.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString("".into()),
    );
    arguments.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(options.queue(group).as_str().into()),
    );
    arguments
}

/// Declares `queue` (not passively) with `durable` and `arguments`: succeeds only if it does
/// not exist or exists with equivalent settings.
async fn declare_queue(
    rabbit: &Rabbit,
    queue: &str,
    durable: bool,
    arguments: FieldTable,
) -> Result<(), lapin::Error> {
    let channel = rabbit.channel().await;
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                durable,
                ..QueueDeclareOptions::default()
            },
            arguments,
        )
        .await?;
    let _ = channel.close(200, "done".into()).await;
    Ok(())
}

/// `declare_topology` creates the exchange, every group's queue, its delay queues (with their
/// TTL, dead-lettering back to the group's queue) and its parking queue; declaring again is
/// harmless.
pub async fn topology_exists_after_declare(t: TestBus) {
    let rabbit = rabbit(&t);
    let options = &rabbit.options;
    assert!(
        rabbit
            .passive_queue(&options.queue(ROUTER.group))
            .await
            .is_err(),
        "nothing declared before the case"
    );

    let channel = rabbit.channel().await;
    rabbit
        .bus
        .declare_topology(&channel)
        .await
        .expect("declare the topology");
    rabbit
        .bus
        .declare_topology(&channel)
        .await
        .expect("declare the topology again");

    let exchange = options.exchange();
    let passive = rabbit.channel().await;
    passive
        .exchange_declare(
            exchange.as_str().into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                passive: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("exchange {exchange}: {e}"));
    let direct = rabbit.channel().await;
    let redeclared = direct
        .exchange_declare(
            exchange.as_str().into(),
            ExchangeKind::Direct,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await;
    assert!(redeclared.is_err(), "{exchange} must be a topic exchange");

    let attempts = t.retry.attempts;
    for subscription in TOPOLOGY {
        let group = subscription.group;
        let mut queues = vec![options.queue(group), options.parking_queue(group)];
        queues.extend((1..attempts).map(|n| options.retry_queue(group, n)));
        for queue in &queues {
            let declared = rabbit
                .passive_queue(queue)
                .await
                .unwrap_or_else(|e| panic!("queue {queue} missing: {e}"));
            assert_eq!(declared.message_count(), 0, "{queue}");
        }
        for queue in [options.queue(group), options.parking_queue(group)] {
            declare_queue(rabbit, &queue, true, FieldTable::default())
                .await
                .unwrap_or_else(|e| panic!("{queue} not durable and plain: {e}"));
        }
        for n in 1..attempts {
            let queue = options.retry_queue(group, n);
            let ttl = t.retry.backoff(n).as_millis();
            declare_queue(rabbit, &queue, true, delay_arguments(options, group, ttl))
                .await
                .unwrap_or_else(|e| panic!("{queue} lacks its TTL or dead-lettering: {e}"));
            let other = declare_queue(
                rabbit,
                &queue,
                true,
                delay_arguments(options, group, ttl + 1),
            )
            .await;
            assert!(other.is_err(), "{queue}: a wrong TTL must be refused");
        }
    }
}

/// Events published while no consumer runs wait in the group's durable queue as persistent
/// messages and are delivered, once each, when a consumer starts.
pub async fn durable_queues_keep_messages_until_consumed(t: TestBus) {
    let rabbit = rabbit(&t);
    let appeal = Appeal::new();
    let mut events: Vec<_> = (0..10).map(|_| appeal.received()).collect();
    events.extend([appeal.dispatched("DEMO-FGJ"), appeal.reassigned("DEMO-ZJJ")]);
    t.publish_ok(&events, PATIENCE).await;

    let router_queue = rabbit.options.queue(ROUTER.group);
    assert_eq!(rabbit.ready(&router_queue).await, 10);
    assert_eq!(rabbit.ready(&rabbit.options.queue(NOTIFIER.group)).await, 2);
    let transient = declare_queue(rabbit, &router_queue, false, FieldTable::default()).await;
    assert!(transient.is_err(), "{router_queue} must be durable");

    // A look at the head of the queue, put back.
    let channel = rabbit.channel().await;
    let head = channel
        .basic_get(
            router_queue.as_str().into(),
            BasicGetOptions { no_ack: false },
        )
        .await
        .expect("basic.get")
        .expect("a message waiting");
    assert_eq!(
        *head.delivery.properties.delivery_mode(),
        Some(2),
        "persistent"
    );
    assert_eq!(
        head.delivery
            .properties
            .message_id()
            .as_ref()
            .map(|m| m.as_str().to_owned()),
        Some(events[0].event_id.to_string())
    );
    let envelope: hotline_schemas::Envelope =
        serde_json::from_slice(&head.delivery.data).expect("an envelope");
    assert_eq!(envelope, events[0]);
    head.delivery
        .reject(BasicRejectOptions { requeue: true })
        .await
        .expect("requeue");
    let _ = channel.close(200, "done".into()).await;

    let router = Arc::new(Recorder::new());
    let notifier = Arc::new(Recorder::new());
    let _router = t.consume(&ROUTER, router.clone());
    let _notifier = t.consume(&NOTIFIER, notifier.clone());
    eventually!("the stored events delivered", PATIENCE, {
        router.handled().len() >= 10 && notifier.handled().len() >= 2
    });
    tokio::time::sleep(GRACE).await;
    assert_eq!(router.handled().len(), 10, "each once");
    assert_eq!(
        router.handled_set(),
        ids(&events[..10]).into_iter().collect()
    );
    assert_eq!(notifier.handled(), events[10..].to_vec());
    assert_eq!(rabbit.ready(&router_queue).await, 0);
}

/// A failed delivery waits out its backoff in the delay queue of its attempt, then comes back
/// to the group's queue.
pub async fn retries_wait_in_delay_queues(t: TestBus) {
    let rabbit = rabbit(&t);
    let appeal = Appeal::new();
    let event = appeal.received();
    let id = event.event_id;
    let router = Arc::new(Recorder::new().failing_transiently(id, 2));
    let _consumer = t.consume(&ROUTER, router.clone());
    t.publish_ok(std::slice::from_ref(&event), PATIENCE).await;

    for n in 1..=2u32 {
        eventually!(
            &format!("attempt {n}"),
            PATIENCE,
            router.calls(id) == n as usize
        );
        let delay = rabbit.options.retry_queue(ROUTER.group, n);
        eventually!(&format!("the event in {delay}"), PATIENCE, {
            router.calls(id) > n as usize || rabbit.ready(&delay).await == 1
        });
        assert_eq!(
            router.calls(id),
            n as usize,
            "retried before waiting in {delay}"
        );
    }
    eventually!(
        "taken in on attempt 3",
        PATIENCE,
        !router.handled().is_empty()
    );
    let times = router.call_times(id);
    let slack = Duration::from_millis(5);
    assert!(
        times[1] - times[0] + slack >= t.retry.backoff(1),
        "{times:?}"
    );
    assert!(
        times[2] - times[1] + slack >= t.retry.backoff(2),
        "{times:?}"
    );
    for n in 1..=2 {
        assert_eq!(
            rabbit
                .ready(&rabbit.options.retry_queue(ROUTER.group, n))
                .await,
            0
        );
    }
    tokio::time::sleep(GRACE).await;
    assert_eq!(router.handled(), vec![event]);
    assert!(t.parked(ROUTER.group).await.is_empty());
}

/// A message that is no envelope is parked at once, without reaching the handler; the events
/// behind it flow on.
pub async fn malformed_messages_are_parked(t: TestBus) {
    let rabbit = rabbit(&t);
    let channel = rabbit.channel().await;
    rabbit
        .bus
        .declare_topology(&channel)
        .await
        .expect("declare the topology");
    let exchange = rabbit.options.exchange();
    channel
        .basic_publish(
            exchange.as_str().into(),
            "appeal.received".into(),
            BasicPublishOptions::default(),
            b"{\"not\": \"an envelope\"}",
            BasicProperties::default().with_delivery_mode(2),
        )
        .await
        .expect("publish garbage");
    let appeal = Appeal::new();
    let good = appeal.received();
    t.publish_ok(std::slice::from_ref(&good), PATIENCE).await;

    let router = Arc::new(Recorder::new());
    let _consumer = t.consume(&ROUTER, router.clone());
    eventually!(
        "the good event taken in",
        PATIENCE,
        !router.handled().is_empty()
    );
    eventually!("the garbage parked", PATIENCE, {
        !t.parked(ROUTER.group).await.is_empty()
    });
    tokio::time::sleep(GRACE).await;
    assert_eq!(router.total_calls(), 1, "the handler never saw the garbage");
    assert_eq!(router.handled(), vec![good]);
    let parked = t.parked(ROUTER.group).await;
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert!(parked[0].envelope.is_none());
    assert!(
        parked[0].error.starts_with("malformed envelope"),
        "{}",
        parked[0].error
    );
    assert_eq!(parked[0].attempt, Some(1));
}

/// Needs no broker: while `consume` keeps failing to connect it still returns `Ok` on shutdown,
/// and `publish` fails instead of hanging.
pub async fn shutdown_while_broker_unreachable() {
    let mut options = RabbitOptions::new("amqp://guest:guest@127.0.0.1:1/%2f");
    options.prefix = "unreachable".to_owned();
    let bus = Arc::new(RabbitBus::new(options));
    let shutdown = CancellationToken::new();
    let consumer = {
        let (bus, shutdown) = (bus.clone(), shutdown.clone());
        tokio::spawn(async move {
            bus.consume(&ROUTER, Arc::new(Recorder::new()), shutdown)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !consumer.is_finished(),
        "consume gave up instead of reconnecting"
    );
    shutdown.cancel();
    let returned = tokio::time::timeout(SHUTDOWN_LIMIT, consumer).await;
    assert!(
        matches!(returned, Ok(Ok(Ok(())))),
        "consume on shutdown: {returned:?}"
    );

    let appeal = Appeal::new();
    let published =
        tokio::time::timeout(SHUTDOWN_LIMIT, bus.publish(&messages(&[appeal.received()]))).await;
    assert!(
        matches!(published, Ok(Err(_))),
        "publish to an unreachable broker: {published:?}"
    );
}
