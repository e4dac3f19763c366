//! Runs one contract case against one backend: a fresh in-process bus, or RabbitMQ under a
//! prefix of its own whose exchange and queues are deleted afterwards, even when the case fails.
//! Consumers a case leaves running are stopped before the teardown.

use std::future::Future;
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hotline_bus::{
    Bus, BusError, Handler, InProcessBus, RabbitBus, RabbitOptions, RetryPolicy, Subscription,
    TOPOLOGY,
};
use hotline_schemas::Envelope;
use lapin::options::{
    BasicGetOptions, ExchangeDeleteOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::fixtures::{Parked, RecordingParking, messages};

/// The environment variable naming the RabbitMQ server to test against.
pub const AMQP_URL_VAR: &str = "HOTLINE_TEST_AMQP_URL";

/// The short retry policy of most cases: three attempts, 50 ms then 100 ms apart.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(50),
    }
}

/// How long a stopped consumer may take to return.
pub const SHUTDOWN_LIMIT: Duration = Duration::from_secs(5);

/// What a case gets: the bus under test and a look behind it.
pub struct TestBus {
    pub bus: Arc<dyn Bus>,
    pub retry: RetryPolicy,
    pub backend: Backend,
    /// Parent of every consumer's shutdown token; cancelled at teardown.
    consumers: CancellationToken,
    /// Held by every consumer task; the teardown waits until all are gone.
    alive: mpsc::Sender<()>,
}

pub enum Backend {
    InProcess { parking: Arc<RecordingParking> },
    Rabbit(Rabbit),
}

/// The RabbitMQ side of a case: the bus's options and a connection of the test's own.
pub struct Rabbit {
    pub bus: Arc<RabbitBus>,
    pub options: RabbitOptions,
    pub connection: Arc<Connection>,
    /// Parked messages taken off the parking queues so far, by group.
    parked: Mutex<Vec<(String, Parked)>>,
}

impl Rabbit {
    /// A fresh channel on the test's connection (a failed declare closes its channel).
    pub async fn channel(&self) -> Channel {
        self.connection
            .create_channel()
            .await
            .expect("open a test channel")
    }

    /// Declares `queue` passively: its message and consumer counts, or the broker's refusal.
    pub async fn passive_queue(&self, queue: &str) -> Result<lapin::Queue, lapin::Error> {
        let channel = self.channel().await;
        let declared = channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    passive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await;
        if declared.is_ok() {
            let _ = channel.close(200, "done".into()).await;
        }
        declared
    }

    /// Messages ready in `queue` (not those delivered and unacknowledged).
    pub async fn ready(&self, queue: &str) -> u32 {
        self.passive_queue(queue)
            .await
            .unwrap_or_else(|e| panic!("passive declare of {queue}: {e}"))
            .message_count()
    }

    /// Takes every message off `group`'s parking queue.
    async fn drain_parking(&self, group: &str) {
        let channel = self.channel().await;
        let queue = self.options.parking_queue(group);
        loop {
            let message = channel
                .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true })
                .await
                .unwrap_or_else(|e| panic!("basic.get from {queue}: {e}"));
            let Some(message) = message else { break };
            let delivery = message.delivery;
            let headers = delivery.properties.headers().clone().unwrap_or_default();
            let error = match headers.inner().get("x-hotline-error") {
                Some(AMQPValue::LongString(s)) => s.to_string(),
                other => panic!("parked message without an error header: {other:?}"),
            };
            let attempt = match headers.inner().get("x-hotline-attempt") {
                Some(AMQPValue::LongLongInt(n)) => u32::try_from(*n).ok(),
                Some(AMQPValue::LongInt(n)) => u32::try_from(*n).ok(),
                _ => None,
            };
            let parked = Parked {
                envelope: serde_json::from_slice::<Envelope>(&delivery.data).ok(),
                error,
                attempt,
            };
            self.parked.lock().unwrap().push((group.to_owned(), parked));
        }
        let _ = channel.close(200, "done".into()).await;
    }

    /// Deletes the case's exchange and queues, best-effort.
    async fn delete_everything(&self, attempts: u32) {
        let mut queues = Vec::new();
        for subscription in TOPOLOGY {
            let group = subscription.group;
            queues.push(self.options.queue(group));
            queues.extend((1..attempts).map(|n| self.options.retry_queue(group, n)));
            queues.push(self.options.parking_queue(group));
        }
        let mut channel = self.channel().await;
        for queue in queues {
            if let Err(e) = channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await
            {
                eprintln!("cleanup: deleting queue {queue}: {e}");
                channel = self.channel().await;
            }
        }
        let exchange = self.options.exchange();
        if let Err(e) = channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await
        {
            eprintln!("cleanup: deleting exchange {exchange}: {e}");
        }
        let _ = channel.close(200, "done".into()).await;
    }
}

/// A consumer running in a task of its own.
pub struct Running {
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), BusError>>,
}

impl Running {
    /// Cancels the consumer's token without waiting.
    pub fn cancel(&self) {
        self.shutdown.cancel();
    }

    /// Cancels the consumer and waits for `consume` to return `Ok` (within
    /// [`SHUTDOWN_LIMIT`]); how long that took.
    pub async fn stop(self) -> Duration {
        let started = Instant::now();
        self.shutdown.cancel();
        let returned = tokio::time::timeout(SHUTDOWN_LIMIT, self.task)
            .await
            .unwrap_or_else(|_| {
                panic!("consume did not return within {SHUTDOWN_LIMIT:?} of shutdown")
            });
        let result = returned.expect("the consumer task panicked");
        assert!(result.is_ok(), "consume returned {result:?} on shutdown");
        started.elapsed()
    }
}

impl TestBus {
    /// Starts consuming `group` with `handler` in a task of its own.
    pub fn consume(&self, group: &'static Subscription, handler: Arc<dyn Handler>) -> Running {
        let shutdown = self.consumers.child_token();
        let bus = self.bus.clone();
        let alive = self.alive.clone();
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            let result = bus.consume(group, handler, token).await;
            drop(alive);
            result
        });
        Running { shutdown, task }
    }

    /// Publishes `envelopes` in a task of its own (the in-process bus's `publish` waits for the
    /// consumers).
    pub fn publish_in_background(
        &self,
        envelopes: Vec<Envelope>,
    ) -> JoinHandle<Result<(), BusError>> {
        let bus = self.bus.clone();
        tokio::spawn(async move { bus.publish(&messages(&envelopes)).await })
    }

    /// Publishes `envelopes` and expects `Ok` within `limit`.
    pub async fn publish_ok(&self, envelopes: &[Envelope], limit: Duration) {
        let published = tokio::time::timeout(limit, self.bus.publish(&messages(envelopes)))
            .await
            .unwrap_or_else(|_| panic!("publish did not return within {limit:?}"));
        assert!(published.is_ok(), "publish failed: {published:?}");
    }

    /// What `group` parked so far, in order.
    pub async fn parked(&self, group: &str) -> Vec<Parked> {
        match &self.backend {
            Backend::InProcess { parking } => parking.parked(group),
            Backend::Rabbit(rabbit) => {
                rabbit.drain_parking(group).await;
                rabbit
                    .parked
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(g, _)| g == group)
                    .map(|(_, p)| p.clone())
                    .collect()
            }
        }
    }

    pub fn is_in_process(&self) -> bool {
        matches!(self.backend, Backend::InProcess { .. })
    }

    pub fn rabbit(&self) -> Option<&Rabbit> {
        match &self.backend {
            Backend::Rabbit(rabbit) => Some(rabbit),
            Backend::InProcess { .. } => None,
        }
    }
}

/// Runs `case` on a fresh in-process bus.
pub async fn run_in_process<F, Fut>(retry: RetryPolicy, case: F)
where
    F: FnOnce(TestBus) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let parking = Arc::new(RecordingParking::default());
    let bus = Arc::new(InProcessBus::new(parking.clone(), retry.clone()));
    let backend = Backend::InProcess { parking };
    run(bus, retry, backend, case).await;
}

/// Runs `case` on RabbitMQ at `HOTLINE_TEST_AMQP_URL` under a fresh prefix, deleting the
/// prefix's exchange and queues afterwards; skips loudly when the variable is unset.
pub async fn run_rabbitmq<F, Fut>(name: &str, retry: RetryPolicy, case: F)
where
    F: FnOnce(TestBus) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = amqp_url() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "rabbitmq::{name}: {AMQP_URL_VAR} is not set, and CI is: RabbitMQ is required"
        );
        announce_skip();
        eprintln!("SKIPPED: rabbitmq::{name}: {AMQP_URL_VAR} not set");
        return;
    };
    let connection = Connection::connect(&url, ConnectionProperties::default())
        .await
        .unwrap_or_else(|e| panic!("connect to {AMQP_URL_VAR}={url}: {e}"));
    let options = RabbitOptions {
        url,
        prefix: unique_prefix(),
        prefetch: 32,
        retry: retry.clone(),
    };
    let bus = Arc::new(RabbitBus::new(options.clone()));
    let rabbit = Arc::new(Rabbit {
        bus: bus.clone(),
        options,
        connection: Arc::new(connection),
        parked: Mutex::new(Vec::new()),
    });
    // The case gets its own handle on the same connection and options; the teardown keeps one.
    let backend = Backend::Rabbit(Rabbit {
        bus: bus.clone(),
        options: rabbit.options.clone(),
        connection: rabbit.connection.clone(),
        parked: Mutex::new(Vec::new()),
    });
    let attempts = retry.attempts;
    let outcome = run_catching(bus, retry, backend, case).await;
    rabbit.delete_everything(attempts).await;
    let _ = rabbit.connection.close(200, "done".into()).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// A RabbitMQ url the tests may use, if one is configured.
pub fn amqp_url() -> Option<String> {
    std::env::var(AMQP_URL_VAR)
        .ok()
        .filter(|v| !v.trim().is_empty())
}

async fn run<F, Fut>(bus: Arc<dyn Bus>, retry: RetryPolicy, backend: Backend, case: F)
where
    F: FnOnce(TestBus) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    if let Err(panic) = run_catching(bus, retry, backend, case).await {
        std::panic::resume_unwind(panic);
    }
}

/// Runs the case, then stops every consumer it left running; the case's panic, if any.
async fn run_catching<F, Fut>(
    bus: Arc<dyn Bus>,
    retry: RetryPolicy,
    backend: Backend,
    case: F,
) -> Result<(), Box<dyn std::any::Any + Send>>
where
    F: FnOnce(TestBus) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let consumers = CancellationToken::new();
    let (alive, mut all_gone) = mpsc::channel::<()>(1);
    let t = TestBus {
        bus,
        retry,
        backend,
        consumers: consumers.clone(),
        alive,
    };
    let outcome = tokio::spawn(case(t)).await;
    consumers.cancel();
    // Every sender is gone once the case is dropped and every consumer task has ended.
    let stopped = tokio::time::timeout(Duration::from_secs(10), all_gone.recv()).await;
    match outcome {
        Err(e) => Err(e.into_panic()),
        Ok(()) if stopped.is_err() => Err(Box::new(
            "consumers left running did not stop within 10 s of shutdown",
        )),
        Ok(()) => Ok(()),
    }
}

/// A prefix no other test run uses.
fn unique_prefix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("test_{}_{nanos}_{n}", std::process::id())
}

fn announce_skip() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n**********************************************************************\n\
             SKIPPED: {AMQP_URL_VAR} not set, RabbitMQ bus tests not run\n\
             (e.g. {AMQP_URL_VAR}=amqp://guest:guest@127.0.0.1:5672/%2f)\n\
             **********************************************************************"
        );
    });
}
