//! RabbitMQ with lapin: a durable topic exchange, a durable queue per consumer group,
//! persistent messages, publisher confirms, manual acks after the effect is committed, bounded
//! prefetch, retries through per-attempt delay queues that dead-letter back to the group's
//! queue, a parking queue after the last attempt, and reconnection with backoff.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::{FutureExt as _, StreamExt};
use hotline_schemas::Envelope;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::{Mutex, broadcast};
use tokio_util::sync::CancellationToken;

use crate::{
    Bus, BusError, Handler, HandlerError, Message, RetryPolicy, Subscription, TOPOLOGY,
    WATCH_CAPACITY,
};

/// Where and how to reach RabbitMQ.
#[derive(Debug, Clone)]
pub struct RabbitOptions {
    /// `amqp://user:pass@host:5672/%2f`
    pub url: String,
    /// Prefix of every exchange and queue name (`hotline`); tests use their own.
    pub prefix: String,
    /// Deliveries a consumer holds unacknowledged at most.
    pub prefetch: u16,
    pub retry: RetryPolicy,
}

impl RabbitOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: "hotline".to_owned(),
            prefetch: 32,
            retry: RetryPolicy::default(),
        }
    }

    pub fn exchange(&self) -> String {
        format!("{}.events", self.prefix)
    }

    pub fn queue(&self, group: &str) -> String {
        format!("{}.{group}", self.prefix)
    }

    /// The delay queue a delivery waits in after failed attempt `attempt`.
    pub fn retry_queue(&self, group: &str, attempt: u32) -> String {
        format!("{}.{group}.retry.{attempt}", self.prefix)
    }

    pub fn parking_queue(&self, group: &str) -> String {
        format!("{}.{group}.parked", self.prefix)
    }
}

const ATTEMPT_HEADER: &str = "x-hotline-attempt";
const ERROR_HEADER: &str = "x-hotline-error";
const PERSISTENT: u8 = 2;

/// The bus of distributed mode.
pub struct RabbitBus {
    options: RabbitOptions,
    publisher: Mutex<Option<(Connection, Channel)>>,
}

/// Longest the broker may take to answer while a connection or consumer is set up.
const SETUP_TIMEOUT: Duration = Duration::from_secs(15);

/// `future`, or `BusError::Timeout` after [`SETUP_TIMEOUT`].
async fn bounded<T>(doing: &'static str, future: impl Future<Output = T>) -> Result<T, BusError> {
    tokio::time::timeout(SETUP_TIMEOUT, future)
        .await
        .map_err(|_| BusError::Timeout {
            doing,
            seconds: SETUP_TIMEOUT.as_secs(),
        })
}

/// How often a consumer or the publisher looks at its connection's state.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Returns once `connection` is no longer connected. A consumer's stream and a delivery's
/// acknowledgement are not always woken when the broker goes away (seen after a broker
/// restart: a router without a socket, waiting forever), so the state is watched as well.
async fn lost(connection: &Connection) -> BusError {
    let mut tick = tokio::time::interval(WATCH_EVERY);
    loop {
        tick.tick().await;
        let status = connection.status();
        if !status.connected() {
            let state = if status.closed() {
                "closed"
            } else if status.errored() {
                "failed"
            } else if status.closing() {
                "closing"
            } else if status.reconnecting() {
                "reconnecting"
            } else {
                "connecting"
            };
            return BusError::ConnectionLost(state);
        }
    }
}

impl RabbitBus {
    pub fn new(options: RabbitOptions) -> Self {
        Self {
            options,
            publisher: Mutex::new(None),
        }
    }

    pub fn options(&self) -> &RabbitOptions {
        &self.options
    }

    /// A connection and a confirming channel on which the whole topology is declared.
    /// Opens a connection with a confirming channel and the topology declared, bounded in
    /// time: a broker that is starting can accept the socket and then not answer, and a
    /// consumer waiting on it forever would never reconnect.
    async fn connect(&self, name: &str) -> Result<(Connection, Channel), BusError> {
        bounded("connecting", self.open(name)).await?
    }

    async fn open(&self, name: &str) -> Result<(Connection, Channel), BusError> {
        let properties =
            ConnectionProperties::default().with_connection_name(name.to_owned().into());
        let connection = Connection::connect(&self.options.url, properties).await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        self.declare_topology(&channel).await?;
        Ok((connection, channel))
    }

    /// Declares the exchange, every group's queue, bindings, delay queues and parking queue.
    pub async fn declare_topology(&self, channel: &Channel) -> Result<(), BusError> {
        let durable = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        let exchange = self.options.exchange();
        channel
            .exchange_declare(
                exchange.as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        for subscription in TOPOLOGY {
            let queue = self.options.queue(subscription.group);
            channel
                .queue_declare(queue.as_str().into(), durable, FieldTable::default())
                .await?;
            for binding in subscription.bindings {
                channel
                    .queue_bind(
                        queue.as_str().into(),
                        exchange.as_str().into(),
                        (*binding).into(),
                        QueueBindOptions::default(),
                        FieldTable::default(),
                    )
                    .await?;
            }
            for attempt in 1..self.options.retry.attempts {
                let mut arguments = FieldTable::default();
                let ttl = self.options.retry.backoff(attempt).as_millis();
                arguments.insert(
                    "x-message-ttl".into(),
                    AMQPValue::LongLongInt(i64::try_from(ttl).unwrap_or(i64::MAX)),
                );
                arguments.insert(
                    "x-dead-letter-exchange".into(),
                    AMQPValue::LongString("".into()),
                );
                arguments.insert(
                    "x-dead-letter-routing-key".into(),
                    AMQPValue::LongString(queue.as_str().into()),
                );
                let retry = self.options.retry_queue(subscription.group, attempt);
                channel
                    .queue_declare(retry.as_str().into(), durable, arguments)
                    .await?;
            }
            let parked = self.options.parking_queue(subscription.group);
            channel
                .queue_declare(parked.as_str().into(), durable, FieldTable::default())
                .await?;
        }
        Ok(())
    }

    /// Publishes a persistent message and waits for the broker's confirm.
    async fn send(
        channel: &Channel,
        exchange: &str,
        routing_key: &str,
        payload: &[u8],
        properties: BasicProperties,
    ) -> Result<(), BusError> {
        let confirm = channel
            .basic_publish(
                exchange.into(),
                routing_key.into(),
                BasicPublishOptions::default(),
                payload,
                properties.with_delivery_mode(PERSISTENT),
            )
            .await?
            .await?;
        if confirm.is_ack() {
            Ok(())
        } else {
            Err(BusError::NotConfirmed(routing_key.to_owned()))
        }
    }

    /// Publishes `messages` on `channel` and waits for every confirm.
    async fn publish_on(&self, channel: &Channel, messages: &[Message]) -> Result<(), BusError> {
        let exchange = self.options.exchange();
        let mut confirms = Vec::with_capacity(messages.len());
        let mut failure = None;
        for message in messages {
            let properties = BasicProperties::default()
                .with_delivery_mode(PERSISTENT)
                .with_content_type("application/json".into())
                .with_message_id(message.event_id.to_string().into());
            match channel
                .basic_publish(
                    exchange.as_str().into(),
                    message.routing_key.as_str().into(),
                    BasicPublishOptions::default(),
                    &message.body,
                    properties,
                )
                .await
            {
                Ok(confirm) => confirms.push((message.event_id, confirm)),
                Err(e) => {
                    failure = Some(e.into());
                    break;
                }
            }
        }
        // Every message sent so far is waited for, so none is left unconfirmed behind.
        for (event_id, confirm) in confirms {
            match confirm.await {
                Ok(c) if c.is_ack() => {}
                Ok(_) => {
                    failure.get_or_insert(BusError::NotConfirmed(event_id.to_string()));
                }
                Err(e) => {
                    failure.get_or_insert(e.into());
                }
            }
        }
        failure.map_or(Ok(()), Err)
    }

    /// Consumes until shutdown (`Ok`) or until the connection fails (`Err`).
    async fn consume_once(
        &self,
        group: &'static Subscription,
        handler: &dyn Handler,
        shutdown: &CancellationToken,
        connected: &mut bool,
    ) -> Result<(), BusError> {
        let (connection, channel) = self.connect(&format!("hotline-{}", group.group)).await?;
        let mut consumer = bounded("starting a consumer", async {
            channel
                .basic_qos(self.options.prefetch, BasicQosOptions::default())
                .await?;
            channel
                .basic_consume(
                    self.options.queue(group.group).as_str().into(),
                    "".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
        })
        .await??;
        *connected = true;
        tracing::info!(group = group.group, "consuming from RabbitMQ");
        loop {
            let next = tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    // Unacknowledged deliveries go back to the queue when the channel closes.
                    let _ = channel.close(200, "shutdown".into()).await;
                    let _ = connection.close(200, "shutdown".into()).await;
                    return Ok(());
                }
                e = lost(&connection) => return Err(e),
                next = consumer.next() => next,
            };
            let mut batch = match next {
                Some(Ok(delivery)) => vec![delivery],
                Some(Err(e)) => return Err(e.into()),
                None => return Err(BusError::ConsumerClosed),
            };
            // What the prefetch already brought is taken in together.
            while batch.len() < handler.batch_limit() {
                match consumer.next().now_or_never() {
                    Some(Some(Ok(delivery))) => batch.push(delivery),
                    Some(Some(Err(e))) => return Err(e.into()),
                    _ => break,
                }
            }
            // Left unacknowledged if the connection goes: the broker redelivers and the
            // handler, idempotent, takes them once.
            tokio::select! {
                done = self.process(&channel, group.group, handler, batch) => done?,
                e = lost(&connection) => return Err(e),
            }
        }
    }

    /// Takes a batch of deliveries in: the handler's outcome for each settles it; those after
    /// the handler stopped are handled again one at a time.
    async fn process(
        &self,
        channel: &Channel,
        group: &str,
        handler: &dyn Handler,
        batch: Vec<Delivery>,
    ) -> Result<(), BusError> {
        let envelopes: Result<Vec<_>, _> =
            batch.iter().map(|d| Envelope::decode(&d.data)).collect();
        let mut outcomes = match envelopes {
            Ok(envelopes) if batch.len() > 1 => handler.handle_batch(&envelopes).await,
            _ => Vec::new(),
        }
        .into_iter();
        for delivery in batch {
            let outcome = match outcomes.next() {
                Some(outcome) => outcome,
                None => match Envelope::decode(&delivery.data) {
                    Ok(envelope) => handler.handle(&envelope).await,
                    Err(e) => Err(e.into()),
                },
            };
            self.settle(channel, group, delivery, outcome).await?;
        }
        Ok(())
    }

    /// Settles one delivery by the handler's outcome: ack after its effect is committed; on
    /// failure, move it to the next delay queue or, after the last attempt, to the parking
    /// queue, then ack.
    async fn settle(
        &self,
        channel: &Channel,
        group: &str,
        delivery: Delivery,
        outcome: Result<(), HandlerError>,
    ) -> Result<(), BusError> {
        let attempt = attempt_of(&delivery);
        match outcome {
            Ok(()) => {}
            Err(HandlerError::Transient(e)) if attempt < self.options.retry.attempts => {
                tracing::warn!(group, attempt, error = %e, "consumer failed; retrying after a delay");
                let mut headers = FieldTable::default();
                headers.insert(
                    ATTEMPT_HEADER.into(),
                    AMQPValue::LongLongInt(i64::from(attempt) + 1),
                );
                let properties = delivery.properties.clone().with_headers(headers);
                let queue = self.options.retry_queue(group, attempt);
                Self::send(channel, "", &queue, &delivery.data, properties).await?;
            }
            Err(HandlerError::Transient(e) | HandlerError::Permanent(e)) => {
                tracing::error!(group, attempt, error = %e, "consumer gave up; parking the event");
                let mut headers = FieldTable::default();
                headers.insert(
                    ATTEMPT_HEADER.into(),
                    AMQPValue::LongLongInt(i64::from(attempt)),
                );
                headers.insert(
                    ERROR_HEADER.into(),
                    AMQPValue::LongString(e.as_str().into()),
                );
                let properties = delivery.properties.clone().with_headers(headers);
                let queue = self.options.parking_queue(group);
                Self::send(channel, "", &queue, &delivery.data, properties).await?;
            }
        }
        delivery.ack(BasicAckOptions::default()).await?;
        Ok(())
    }
}

/// The attempt a delivery is on, from 1.
fn attempt_of(delivery: &Delivery) -> u32 {
    let value = delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(ATTEMPT_HEADER).cloned());
    let n = match value {
        Some(AMQPValue::LongLongInt(n)) => n,
        Some(AMQPValue::LongInt(n)) => i64::from(n),
        Some(AMQPValue::LongUInt(n)) => i64::from(n),
        Some(AMQPValue::ShortInt(n)) => i64::from(n),
        _ => 1,
    };
    u32::try_from(n.max(1)).unwrap_or(1)
}

/// How long a watcher waits before it connects again after losing the broker.
const WATCH_RECONNECT: Duration = Duration::from_secs(1);

impl RabbitBus {
    /// Feeds `sender` with everything published until `shutdown`, reconnecting as needed.
    async fn watch_until(self, sender: broadcast::Sender<Message>, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            if let Err(e) = self.watch_once(&sender, &shutdown).await {
                tracing::warn!(error = %e, "watching the bus failed; connecting again");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(WATCH_RECONNECT) => {}
                }
            }
        }
    }

    /// Watches on one connection: an exclusive, self-deleting queue bound to every key.
    async fn watch_once(
        &self,
        sender: &broadcast::Sender<Message>,
        shutdown: &CancellationToken,
    ) -> Result<(), BusError> {
        let (connection, channel) = self.connect("hotline-watch").await?;
        let mut consumer = bounded("starting a watcher", async {
            let queue = channel
                .queue_declare(
                    "".into(),
                    QueueDeclareOptions {
                        exclusive: true,
                        auto_delete: true,
                        ..QueueDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await?;
            channel
                .queue_bind(
                    queue.name().as_str().into(),
                    self.options.exchange().as_str().into(),
                    "#".into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            channel
                .basic_consume(
                    queue.name().as_str().into(),
                    "".into(),
                    BasicConsumeOptions {
                        no_ack: true,
                        ..BasicConsumeOptions::default()
                    },
                    FieldTable::default(),
                )
                .await
        })
        .await??;
        loop {
            let next = tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    let _ = connection.close(200, "shutdown".into()).await;
                    return Ok(());
                }
                e = lost(&connection) => return Err(e),
                next = consumer.next() => next,
            };
            match next {
                Some(Ok(delivery)) => {
                    if let Some(message) = watched(&delivery) {
                        let _ = sender.send(message);
                    }
                }
                Some(Err(e)) => return Err(e.into()),
                None => return Err(BusError::ConsumerClosed),
            }
        }
    }
}

/// A delivery as a message: its id (the publisher's message id), routing key and body.
fn watched(delivery: &Delivery) -> Option<Message> {
    let event_id = delivery
        .properties
        .message_id()
        .as_ref()
        .and_then(|id| id.as_str().parse().ok())?;
    Some(Message {
        event_id,
        routing_key: delivery.routing_key.as_str().to_owned(),
        body: delivery.data.as_slice().into(),
    })
}

#[async_trait]
impl Bus for RabbitBus {
    async fn watch(
        &self,
        shutdown: CancellationToken,
    ) -> Result<broadcast::Receiver<Message>, BusError> {
        let (sender, receiver) = broadcast::channel(WATCH_CAPACITY);
        let watcher = RabbitBus::new(self.options.clone());
        tokio::spawn(watcher.watch_until(sender, shutdown));
        Ok(receiver)
    }

    async fn publish(&self, messages: &[Message]) -> Result<(), BusError> {
        let mut publisher = self.publisher.lock().await;
        if publisher.is_none() {
            *publisher = Some(self.connect("hotline-publisher").await?);
        }
        let Some((connection, channel)) = publisher.as_ref() else {
            return Err(BusError::ShuttingDown);
        };
        let outcome = tokio::select! {
            outcome = self.publish_on(channel, messages) => outcome,
            e = lost(connection) => Err(e),
        };
        if outcome.is_err() {
            // Start afresh next time: the channel may be closed.
            *publisher = None;
        }
        outcome
    }

    async fn consume(
        &self,
        group: &'static Subscription,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> Result<(), BusError> {
        let mut delays = reconnect_delays();
        loop {
            if shutdown.is_cancelled() {
                return Ok(());
            }
            let mut connected = false;
            match self
                .consume_once(group, handler.as_ref(), &shutdown, &mut connected)
                .await
            {
                Ok(()) => return Ok(()),
                Err(e) => {
                    if connected {
                        delays = reconnect_delays();
                    }
                    let wait = delays.next().unwrap_or(MAX_RECONNECT_DELAY);
                    tracing::warn!(group = group.group, error = %e, wait_ms = wait.as_millis() as u64, "RabbitMQ connection lost; reconnecting");
                    tokio::select! {
                        () = shutdown.cancelled() => return Ok(()),
                        () = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
    }
}

const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(10);

/// Waits between reconnection attempts: from 200 ms, doubling with jitter, up to 10 s, for as
/// long as it takes.
fn reconnect_delays() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::new()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(MAX_RECONNECT_DELAY)
        .with_jitter()
        .without_max_times()
        .build()
}
