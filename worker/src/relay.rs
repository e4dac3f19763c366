//! The outbox relay: publishes unpublished outbox rows in order, marks them sent only after
//! the bus confirmed them, so every event is delivered at least once and in the order of its
//! appeal's history. It runs in the worker; the lease lets one worker at a time relay.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hotline_bus::Bus;
use hotline_store::Store;
use tokio_util::sync::CancellationToken;

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

/// Relays until `shutdown`.
pub async fn run_relay(
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
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
            let outcome = relay_once(store.as_ref(), bus.as_ref(), options.batch, &shutdown).await;
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

/// Publishes one batch; the number of events published.
pub async fn relay_once(
    store: &dyn Store,
    bus: &dyn Bus,
    batch: i64,
    shutdown: &CancellationToken,
) -> Result<usize, String> {
    let entries = store.unpublished(batch).await.map_err(|e| e.to_string())?;
    if entries.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = entries.iter().map(|e| e.id).collect();
    let envelopes: Vec<_> = entries.into_iter().map(|e| e.envelope).collect();
    tokio::select! {
        () = shutdown.cancelled() => return Err("shutting down".to_owned()),
        published = bus.publish(&envelopes) => published.map_err(|e| e.to_string())?,
    }
    // A crash here publishes the batch again after the restart: consumers' inboxes absorb it.
    store
        .mark_published(&ids, Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    Ok(ids.len())
}
