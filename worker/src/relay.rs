//! The outbox relay: publishes unpublished outbox rows in order, marks them sent only after
//! the bus confirmed them, so every event is delivered at least once and in the order of its
//! appeal's history. It runs in the worker; the lease lets one worker at a time relay.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_bus::{Bus, Message};
use hotline_schemas::Clock;
use hotline_store::Store;
use tokio_util::sync::CancellationToken;

use crate::WorkerError;

/// How the relay paces itself.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// Outbox rows published per round.
    pub batch: i64,
    /// The wait when the outbox is empty.
    pub idle_poll: Duration,
    /// The wait between attempts to take the lease another worker holds.
    pub lease_poll: Duration,
    /// How often the held lease is checked.
    pub lease_check: Duration,
    /// The longest wait after a failure.
    pub max_backoff: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            batch: 500,
            idle_poll: Duration::from_millis(20),
            lease_poll: Duration::from_secs(1),
            lease_check: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Sleeps for `wait` unless shutdown comes first; `false` on shutdown.
async fn pause(shutdown: &CancellationToken, wait: Duration) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => false,
        () = tokio::time::sleep(wait) => true,
    }
}

/// Relays until `shutdown`; `clock` dates what was published.
pub async fn run_relay(
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    clock: Clock,
    options: RelayOptions,
    shutdown: CancellationToken,
) {
    while !shutdown.is_cancelled() {
        let mut lease = match store.relay_lease().await {
            Ok(Some(lease)) => lease,
            Ok(None) => {
                if !pause(&shutdown, options.lease_poll).await {
                    return;
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot take the relay lease");
                if !pause(&shutdown, options.lease_poll).await {
                    return;
                }
                continue;
            }
        };
        tracing::info!("outbox relay started");
        let mut checked = Instant::now();
        let mut failures: u32 = 0;
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            if checked.elapsed() >= options.lease_check {
                if !lease.alive().await {
                    tracing::warn!("relay lease lost");
                    break;
                }
                checked = Instant::now();
            }
            let outcome = relay_once(
                store.as_ref(),
                bus.as_ref(),
                &clock,
                options.batch,
                &shutdown,
            )
            .await;
            let wait = match outcome {
                Ok(0) => {
                    failures = 0;
                    options.idle_poll
                }
                Ok(_) => {
                    failures = 0;
                    continue;
                }
                Err(e) => {
                    failures += 1;
                    let wait = (Duration::from_millis(100) * 2u32.saturating_pow(failures.min(8)))
                        .min(options.max_backoff);
                    tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "relay round failed; retrying");
                    wait
                }
            };
            if !pause(&shutdown, wait).await {
                return;
            }
        }
    }
}

/// Publishes one batch, each envelope as it was written (a newer version's events too: their
/// consumers park what they cannot read); the number of events published.
pub async fn relay_once(
    store: &dyn Store,
    bus: &dyn Bus,
    clock: &Clock,
    batch: i64,
    shutdown: &CancellationToken,
) -> Result<usize, WorkerError> {
    let entries = store.unpublished(batch).await?;
    if entries.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    let messages: Vec<Message> = entries
        .into_iter()
        .map(|e| Message {
            event_id: e.event_id,
            routing_key: e.routing_key,
            body: e.body.into_bytes().into(),
        })
        .collect();
    tokio::select! {
        () = shutdown.cancelled() => return Err(WorkerError::ShuttingDown),
        published = bus.publish(&messages) => published?,
    }
    // A crash here publishes the batch again after the restart: consumers' inboxes absorb it.
    store.mark_published(&ids, clock()).await?;
    Ok(ids.len())
}
