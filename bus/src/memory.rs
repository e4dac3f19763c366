//! The in-process bus of embedded mode: one bounded queue per consumer group. It is durable
//! because it is fed from the outbox: `publish` returns only after every bound group has taken
//! the event in, so the relay marks nothing sent that a crash could lose, and the consumers'
//! inboxes make the redelivery after a restart harmless.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{Mutex, broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::{
    Bus, BusError, Handler, HandlerError, Message, ParkingLot, RetryPolicy, Subscription, TOPOLOGY,
    WATCH_CAPACITY,
};

/// Events a group's queue holds before `publish` waits.
const QUEUE_CAPACITY: usize = 1024;

struct Delivery {
    message: Message,
    /// Answered once the group is done with the event (taken in, or parked).
    done: oneshot::Sender<()>,
}

struct Queue {
    subscription: &'static Subscription,
    sender: mpsc::Sender<Delivery>,
    receiver: Mutex<Option<mpsc::Receiver<Delivery>>>,
}

/// The bus of a single process.
pub struct InProcessBus {
    queues: HashMap<&'static str, Queue>,
    /// What the watchers see.
    live: broadcast::Sender<Message>,
    parking: Arc<dyn ParkingLot>,
    retry: RetryPolicy,
}

impl InProcessBus {
    /// A bus with a queue for every group of the topology.
    pub fn new(parking: Arc<dyn ParkingLot>, retry: RetryPolicy) -> Self {
        let queues = TOPOLOGY
            .iter()
            .map(|subscription| {
                let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
                let queue = Queue {
                    subscription,
                    sender,
                    receiver: Mutex::new(Some(receiver)),
                };
                (subscription.group, queue)
            })
            .collect();
        Self {
            queues,
            live: broadcast::channel(WATCH_CAPACITY).0,
            parking,
            retry,
        }
    }

    /// Handles one delivery with retries; `true` once it may be acknowledged, `false` when
    /// shutdown came first (the event stays unpublished and comes again after a restart).
    async fn process(
        &self,
        group: &str,
        handler: &dyn Handler,
        message: &Message,
        shutdown: &CancellationToken,
    ) -> bool {
        let mut attempt = 1;
        let error = loop {
            let outcome = match message.envelope() {
                Ok(envelope) => handler.handle(&envelope).await,
                Err(e) => Err(e.into()),
            };
            match outcome {
                Ok(()) => return true,
                Err(HandlerError::Permanent(e)) => break e,
                Err(HandlerError::Transient(e)) if attempt >= self.retry.attempts => break e,
                Err(HandlerError::Transient(e)) => {
                    tracing::warn!(group, event = %message.event_id, attempt, error = %e, "consumer failed; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return false,
                        () = tokio::time::sleep(self.retry.backoff(attempt)) => {}
                    }
                    attempt += 1;
                }
            }
        };
        tracing::error!(group, event = %message.event_id, error = %error, "consumer gave up; parking the event");
        match self.parking.park(group, message, &error).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(group, event = %message.event_id, error = %e, "parking failed");
                false
            }
        }
    }
}

impl InProcessBus {
    /// Hands `batch` to the handler at once, answering each delivery it took in; from the
    /// first one it did not, the rest go through [`Self::process`] one at a time, in order
    /// (what was already committed is absorbed by the handler's inbox).
    async fn take_in(
        &self,
        group: &str,
        handler: &dyn Handler,
        batch: Vec<Delivery>,
        shutdown: &CancellationToken,
    ) {
        let envelopes: Result<Vec<_>, _> = batch.iter().map(|d| d.message.envelope()).collect();
        let outcomes = match envelopes {
            Ok(envelopes) if batch.len() > 1 => handler.handle_batch(&envelopes).await,
            _ => Vec::new(),
        };
        let taken = outcomes.iter().take_while(|o| o.is_ok()).count();
        let mut rest = batch.into_iter();
        for delivery in rest.by_ref().take(taken) {
            let _ = delivery.done.send(());
        }
        for delivery in rest {
            if !self
                .process(group, handler, &delivery.message, shutdown)
                .await
            {
                return;
            }
            let _ = delivery.done.send(());
        }
    }
}

#[async_trait]
impl Bus for InProcessBus {
    async fn publish(&self, messages: &[Message]) -> Result<(), BusError> {
        let mut waiting = Vec::new();
        for message in messages {
            for queue in self.queues.values() {
                if !queue.subscription.matches(&message.routing_key) {
                    continue;
                }
                let (done, taken_in) = oneshot::channel();
                queue
                    .sender
                    .send(Delivery {
                        message: message.clone(),
                        done,
                    })
                    .await
                    .map_err(|_| BusError::ShuttingDown)?;
                waiting.push(taken_in);
            }
        }
        for taken_in in waiting {
            taken_in.await.map_err(|_| BusError::ShuttingDown)?;
        }
        for message in messages {
            // Nobody watching is no error.
            let _ = self.live.send(message.clone());
        }
        Ok(())
    }

    async fn watch(
        &self,
        _shutdown: CancellationToken,
    ) -> Result<broadcast::Receiver<Message>, BusError> {
        Ok(self.live.subscribe())
    }

    async fn consume(
        &self,
        group: &'static Subscription,
        handler: Arc<dyn Handler>,
        shutdown: CancellationToken,
    ) -> Result<(), BusError> {
        let queue = self
            .queues
            .get(group.group)
            .ok_or_else(|| BusError::UnknownGroup(group.group.to_owned()))?;
        let mut receiver = queue
            .receiver
            .lock()
            .await
            .take()
            .ok_or_else(|| BusError::AlreadyConsumed(group.group.to_owned()))?;
        loop {
            let delivery = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                d = receiver.recv() => match d {
                    Some(d) => d,
                    None => break,
                },
            };
            let mut batch = vec![delivery];
            while batch.len() < handler.batch_limit() {
                match receiver.try_recv() {
                    Ok(d) => batch.push(d),
                    Err(_) => break,
                }
            }
            self.take_in(group.group, handler.as_ref(), batch, &shutdown)
                .await;
        }
        // Deliveries still queued are dropped unanswered: their publish fails and the relay
        // sends them again later.
        while let Ok(unanswered) = receiver.try_recv() {
            drop(unanswered);
        }
        *queue.receiver.lock().await = Some(receiver);
        Ok(())
    }
}
