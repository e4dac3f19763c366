//! The event bus. One small trait, two backends: an in-process bus for embedded mode and
//! RabbitMQ (lapin) for distributed mode. Both are fed by the outbox relay, both acknowledge
//! a delivery only after its consumer's effect is committed, and both retry with backoff and
//! then park what keeps failing. Consumers make redeliveries harmless with their inbox.

pub mod definitions;
mod memory;
mod rabbit;
pub mod topology;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hotline_schemas::EventId;
use hotline_schemas::event::{Envelope, EnvelopeError};
use tokio_util::sync::CancellationToken;

pub use memory::InProcessBus;
pub use rabbit::{RabbitBus, RabbitOptions};
pub use topology::{Subscription, TOPOLOGY, subscription};

/// What can go wrong on the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("broker: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the broker refused or could not route event {0}")]
    NotConfirmed(String),
    #[error("the broker closed the consumer")]
    ConsumerClosed,
    /// The connection left the connected state (its state given).
    #[error("the connection to the broker was lost ({0})")]
    ConnectionLost(&'static str),
    /// The broker accepted the connection but did not answer (e.g. still starting).
    #[error("the broker did not answer within {seconds} s while {doing}")]
    Timeout { doing: &'static str, seconds: u64 },
    #[error("the bus is shutting down")]
    ShuttingDown,
    #[error("unknown consumer group {0}")]
    UnknownGroup(String),
    #[error("consumer group {0} is already being consumed in this process")]
    AlreadyConsumed(String),
    #[error("parking failed: {0}")]
    Parking(String),
}

/// Why a consumer could not take an event in.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Might work later (database away, conflict): retried with backoff.
    #[error("{0}")]
    Transient(String),
    /// Will never work (malformed event): parked at once.
    #[error("{0}")]
    Permanent(String),
}

impl HandlerError {
    /// A failure that may pass: the delivery is retried.
    pub fn transient(e: impl std::fmt::Display) -> Self {
        HandlerError::Transient(e.to_string())
    }

    /// A failure that will not pass: the delivery is parked.
    pub fn permanent(e: impl std::fmt::Display) -> Self {
        HandlerError::Permanent(e.to_string())
    }
}

impl From<EnvelopeError> for HandlerError {
    /// An envelope this version cannot read is parked at once, with the reason.
    fn from(e: EnvelopeError) -> Self {
        HandlerError::permanent(e)
    }
}

/// An event as the bus carries it: its id, routing key and the envelope's JSON as written. A
/// relay passes on what it cannot read itself (written by a newer version); the consumer reads
/// it, or parks it with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub event_id: EventId,
    pub routing_key: String,
    pub body: Arc<[u8]>,
}

impl Message {
    pub fn of(envelope: &Envelope) -> Message {
        Message {
            event_id: envelope.event_id,
            routing_key: envelope.routing_key.clone(),
            body: envelope.encode().into(),
        }
    }

    pub fn envelope(&self) -> Result<Envelope, EnvelopeError> {
        Envelope::decode(&self.body)
    }
}

/// Takes events in. Must be idempotent: the same event can arrive more than once.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError>;

    /// How many deliveries the bus may hand over at once (1: one at a time).
    fn batch_limit(&self) -> usize {
        1
    }

    /// Takes several events in, answering one outcome per event in their order, for a prefix
    /// of them: the events after the last outcome were not attempted, and the bus delivers them
    /// again in order. By default one after another, up to the first failure.
    async fn handle_batch(&self, envelopes: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        one_at_a_time(self, envelopes).await
    }
}

/// Hands `envelopes` to `handler` one after another, up to the first failure: the default
/// [`Handler::handle_batch`].
pub async fn one_at_a_time<H: Handler + ?Sized>(
    handler: &H,
    envelopes: &[Envelope],
) -> Vec<Result<(), HandlerError>> {
    let mut outcomes = Vec::with_capacity(envelopes.len());
    for envelope in envelopes {
        let outcome = handler.handle(envelope).await;
        let failed = outcome.is_err();
        outcomes.push(outcome);
        if failed {
            break;
        }
    }
    outcomes
}

/// Keeps deliveries a consumer gave up on (the in-process bus's parking queue).
#[async_trait]
pub trait ParkingLot: Send + Sync + 'static {
    async fn park(&self, group: &str, message: &Message, error: &str) -> Result<(), BusError>;
}

/// How often and how patiently a failing delivery is retried before it is parked.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each further one.
    pub first_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            first_backoff: Duration::from_millis(200),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `n + 1` after attempt `n` (from 1) failed.
    pub fn backoff(&self, n: u32) -> Duration {
        self.first_backoff * 2u32.saturating_pow(n.saturating_sub(1))
    }
}

/// The bus every process talks to.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes `messages` in order and returns once the bus holds each of them durably for
    /// every group bound to it (RabbitMQ: publisher confirms; in-process: the consumers have
    /// committed). Only then may the outbox rows be marked sent.
    async fn publish(&self, messages: &[Message]) -> Result<(), BusError>;

    /// Delivers the group's events to `handler` until `shutdown`, acknowledging each only after
    /// the handler returned; failures are retried with backoff, then parked.
    async fn consume(
        &self,
        group: &'static Subscription,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> Result<(), BusError>;

    /// Every message published from now on, live and lossy: for pages that show changes as
    /// they happen, never for work (what a watcher misses, a reload shows). RabbitMQ: an
    /// exclusive queue of this process, bound to everything, gone with it.
    async fn watch(
        &self,
        shutdown: CancellationToken,
    ) -> Result<tokio::sync::broadcast::Receiver<Message>, BusError>;
}

/// Messages a watcher may fall behind by before it misses some.
pub const WATCH_CAPACITY: usize = 256;
