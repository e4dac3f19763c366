//! The router (分拨): classifies each received appeal to a unit and dispatches it when sure;
//! otherwise the appeal waits in `received` for a dispatcher. Until the trained classifier of
//! the taxonomy lands, a keyword rule over the units decides.

mod keywords;
pub mod routing;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_bus::{Handler, HandlerError};
use hotline_schemas::lifecycle::{self, Command, Rules};
use hotline_schemas::{Actor, Envelope, EventType, Role, Status};
use hotline_store::{CommitMeta, Consumed, Store, StoreError};

pub use keywords::{Classification, classify};

/// The consumer group of the router.
pub const GROUP: &str = "router";

/// How often a classification is recomputed when the appeal changed under it.
const CONFLICT_RETRIES: usize = 5;

/// Takes `appeal.received` in: exactly one `classified` event per appeal, and a dispatch when
/// the rule is sure, both stored with the inbox entry in one transaction.
pub struct RouterHandler {
    store: Arc<dyn Store>,
    rules: Arc<Rules>,
    clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    actor: Actor,
}

impl RouterHandler {
    pub fn new(
        store: Arc<dyn Store>,
        rules: Arc<Rules>,
        clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    ) -> Self {
        Self {
            store,
            rules,
            clock,
            actor: Actor {
                name: "router".to_owned(),
                role: Role::Dispatcher,
                unit: None,
                appeal: None,
            },
        }
    }
}

fn transient(e: impl std::fmt::Display) -> HandlerError {
    HandlerError::Transient(e.to_string())
}

#[async_trait]
impl Handler for RouterHandler {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        if envelope.event_type != EventType::Received {
            return Ok(());
        }
        let consumed = Consumed {
            consumer: GROUP.to_owned(),
            event_id: envelope.event_id,
        };
        if self.store.is_consumed(&consumed).await.map_err(transient)? {
            return Ok(());
        }
        let meta = CommitMeta {
            traceparent: envelope.traceparent.clone(),
            consumed: Some(consumed),
        };
        for _ in 0..CONFLICT_RETRIES {
            let appeal = self
                .store
                .appeal(envelope.appeal_id)
                .await
                .map_err(transient)?
                .ok_or_else(|| transient(format!("appeal {} not found", envelope.appeal_id)))?;
            let units = self.store.units().await.map_err(transient)?;
            let classification = classify(&appeal, &units);
            let ctx = self.rules.context((self.clock)(), &self.actor);
            let sure = classification.sure && appeal.status == Status::Received;
            let data = classification.to_event_data(sure);
            let mut decision =
                match lifecycle::note(&appeal, EventType::Classified, None, data, &ctx) {
                    Ok(d) => d,
                    // Voided, merged or closed before the router saw it: nothing to classify.
                    Err(_) => return self.acknowledge(&meta).await,
                };
            if let (true, Some(unit)) = (sure, classification.unit.clone()) {
                let dispatch =
                    lifecycle::decide(&decision.appeal, Command::Dispatch { unit }, &ctx)
                        .map_err(|e| HandlerError::Permanent(e.to_string()))?;
                decision = decision.then(dispatch);
            }
            match self.store.commit(&decision, &meta).await {
                Ok(()) => {
                    tracing::info!(appeal = %appeal.id, unit = ?classification.unit, dispatched = sure, "classified");
                    return Ok(());
                }
                Err(StoreError::AlreadyConsumed) => return Ok(()),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(transient(e)),
            }
        }
        Err(transient(
            "the appeal kept changing while it was classified",
        ))
    }
}

impl RouterHandler {
    async fn acknowledge(&self, meta: &CommitMeta) -> Result<(), HandlerError> {
        if let Some(consumed) = &meta.consumed {
            self.store
                .mark_consumed(consumed)
                .await
                .map_err(transient)?;
        }
        Ok(())
    }
}
