//! The router (分拨): classifies each received appeal to a service matter and so to its
//! unit, raises the priority on urgency signals, links probable duplicates, and dispatches when
//! sure; otherwise the appeal waits in `received`, in the dispatcher's queue, with the top
//! suggestions.

pub mod blend;
pub mod calibration;
pub mod centroid;
pub mod evalset;
pub mod heldout;
mod keywords;
pub mod model;
pub mod routing;

use std::sync::Arc;

use async_trait::async_trait;
use futures_util::{StreamExt as _, TryStreamExt as _};
use hotline_bus::topology::ROUTER;
use hotline_bus::{Handler, HandlerError};
use hotline_schemas::lifecycle::{Decision, decide};
use hotline_schemas::reference::{Current, Reference};
use hotline_schemas::value::taxonomy::Taxonomy;
use hotline_schemas::{Actor, Clock, Command, Envelope, EventType, Role};
use hotline_store::{CommitMeta, Consumed, Store, StoreError};

pub use blend::Blend;
pub use centroid::CentroidClassifier;
pub use keywords::KeywordClassifier;
#[cfg(test)]
use routing::test_support;
pub use routing::{Classifier, Routing, RoutingPolicy, route};

/// The model's share when a trained model is blended with the taxonomy's keywords.
pub const MODEL_WEIGHT: f64 = 0.5;
/// The centroids' share in the default classifier (chosen by held-out cross-validation over
/// the shipped examples: the best unit right most often, 89.1%; keywords alone place few of
/// the examples in other voices, whose words are not the matter's). The keywords are in the
/// centroids too, with the matter names.
pub const CENTROID_WEIGHT: f64 = 0.9;

/// The classifier the router uses without a trained model: the taxonomy's example appeals as
/// centroids, blended with its keywords; built from the taxonomy in milliseconds at start.
pub fn taxonomy_classifier(taxonomy: &Taxonomy) -> Blend {
    taxonomy_classifier_from(taxonomy, &centroid::taxonomy_texts(taxonomy))
}

/// The default classifier with centroids learnt from `texts` (`(text, matter code)`), e.g. a
/// cross-validation fold.
pub fn taxonomy_classifier_from(taxonomy: &Taxonomy, texts: &[(String, String)]) -> Blend {
    let centroids = CentroidClassifier::train(
        texts.iter().map(|(t, l)| (t.as_str(), l.as_str())),
        centroid::TAXONOMY_TEMPERATURE,
    );
    Blend {
        model: Box::new(centroids),
        keywords: Box::new(KeywordClassifier::new(taxonomy)),
        weight: CENTROID_WEIGHT,
    }
}

/// How many appeals from the duplicate index are compared at most.
const DUPLICATE_CANDIDATES: i64 = 50;

/// Duplicate lookups of one batch under way at once, on the store's reading connections.
const CANDIDATE_READS: usize = 4;

/// How often a classification is recomputed when the appeal changed under it.
const CONFLICT_RETRIES: usize = 5;

/// Takes `appeal.received` in: exactly one `classified` event per appeal, and a dispatch when
/// the rule is sure, both stored with the inbox entry in one transaction.
pub struct RouterHandler {
    store: Arc<dyn Store>,
    reference: Arc<Current<Reference>>,
    clock: Clock,
    classifying: Arc<Current<Classifying>>,
    policy: RoutingPolicy,
    actor: Actor,
    batch_limit: usize,
}

/// A taxonomy and the classifier built for it, replaced together when a new taxonomy is
/// published.
pub struct Classifying {
    pub taxonomy: Arc<Taxonomy>,
    pub classifier: Arc<dyn Classifier>,
}

impl RouterHandler {
    /// The router on the published rules (`reference`) and classifier (`classifying`), each
    /// read again for every appeal.
    pub fn new(
        store: Arc<dyn Store>,
        reference: Arc<Current<Reference>>,
        clock: Clock,
        classifying: Arc<Current<Classifying>>,
        policy: RoutingPolicy,
    ) -> Self {
        Self {
            store,
            reference,
            clock,
            classifying,
            policy,
            actor: Actor {
                name: "router".to_owned(),
                role: Role::Dispatcher,
                unit: None,
                appeal: None,
                user: None,
                in_charge_of: Vec::new(),
                mailbox_reader: false,
            },
            batch_limit: BATCH_LIMIT,
        }
    }
}

/// Deliveries the router classifies and commits together by default.
pub const BATCH_LIMIT: usize = 64;

/// One received appeal the router is about to classify.
struct Pending {
    appeal: hotline_schemas::Appeal,
    candidates: Vec<hotline_schemas::Appeal>,
    meta: CommitMeta,
}

#[async_trait]
impl Handler for RouterHandler {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        for _ in 0..CONFLICT_RETRIES {
            let waiting = self.all_pending(std::slice::from_ref(envelope)).await?;
            let Some((_, pending)) = waiting.into_iter().next() else {
                return Ok(());
            };
            let classifying = self.classifying.get();
            let routing = routing(&classifying, &pending, &self.policy);
            let Some(decision) = self.decision(&pending.appeal, &routing)? else {
                // Voided, merged or closed before the router saw it: nothing to classify.
                return self.acknowledge(&pending.meta).await;
            };
            match self.store.commit(&decision, &pending.meta).await {
                Ok(()) => {
                    log_routing(&pending.appeal, &routing);
                    return Ok(());
                }
                Err(StoreError::AlreadyConsumed) => return Ok(()),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(HandlerError::transient(e)),
            }
        }
        Err(HandlerError::transient(
            "the appeal kept changing while it was classified",
        ))
    }

    fn batch_limit(&self) -> usize {
        self.batch_limit
    }

    /// Classifies the batch off the async threads and commits it in one transaction; an appeal
    /// that changed meanwhile is classified again on its own.
    async fn handle_batch(&self, envelopes: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        let mut outcomes: Vec<Result<(), HandlerError>> =
            envelopes.iter().map(|_| Ok(())).collect();
        let waiting = match self.all_pending(envelopes).await {
            Ok(waiting) => waiting,
            Err(e) => return vec![Err(e)],
        };
        let classifying = self.classifying.get();
        let policy = self.policy.clone();
        let routed = tokio::task::spawn_blocking(move || {
            waiting
                .into_iter()
                .map(|(i, pending)| {
                    let routing = routing(&classifying, &pending, &policy);
                    (i, pending, routing)
                })
                .collect::<Vec<_>>()
        })
        .await;
        let routed = match routed {
            Ok(routed) => routed,
            Err(e) => return vec![Err(HandlerError::transient(e))],
        };
        let mut batch = Vec::with_capacity(routed.len());
        let mut committed = Vec::with_capacity(routed.len());
        for (i, pending, routing) in routed {
            match self.decision(&pending.appeal, &routing) {
                Ok(Some(decision)) => {
                    batch.push((decision, pending.meta.clone()));
                    committed.push((i, pending, routing));
                }
                Ok(None) => outcomes[i] = self.acknowledge(&pending.meta).await,
                Err(e) => outcomes[i] = Err(e),
            }
        }
        let results = match self.store.commit_all(&batch).await {
            Ok(results) => results,
            Err(e) => return vec![Err(HandlerError::transient(e))],
        };
        for ((i, pending, routing), result) in committed.into_iter().zip(results) {
            outcomes[i] = match result {
                Ok(()) => {
                    log_routing(&pending.appeal, &routing);
                    Ok(())
                }
                Err(StoreError::AlreadyConsumed) => Ok(()),
                Err(StoreError::Conflict) => self.handle(&envelopes[i]).await,
                Err(e) => Err(HandlerError::transient(e)),
            };
        }
        outcomes
    }
}

fn consumed(envelope: &Envelope) -> Consumed {
    Consumed {
        consumer: ROUTER.group.to_owned(),
        event_id: envelope.event_id,
    }
}

fn not_found(envelope: &Envelope) -> HandlerError {
    HandlerError::transient(format!("appeal {} not found", envelope.appeal_id))
}

fn routing(classifying: &Classifying, pending: &Pending, policy: &RoutingPolicy) -> Routing {
    route(
        &pending.appeal,
        &classifying.taxonomy,
        classifying.classifier.as_ref(),
        &pending.candidates,
        policy,
    )
}

fn log_routing(appeal: &hotline_schemas::Appeal, routing: &Routing) {
    tracing::info!(
        appeal = %appeal.id,
        matter = ?routing.matter,
        confidence = routing.confidence,
        dispatched = routing.dispatch,
        duplicate_of = ?routing.duplicate_of,
        "classified"
    );
}

impl RouterHandler {
    /// The same router with a different number of deliveries taken in at once.
    pub fn with_batch_limit(self, batch_limit: usize) -> Self {
        Self {
            batch_limit: batch_limit.max(1),
            ..self
        }
    }

    /// What routing needs of each received appeal the router has not taken in yet, reading
    /// the inbox and the appeals once; with the index of each envelope.
    async fn all_pending(
        &self,
        envelopes: &[Envelope],
    ) -> Result<Vec<(usize, Pending)>, HandlerError> {
        let received: Vec<&Envelope> = envelopes
            .iter()
            .filter(|e| e.event_type == EventType::Received)
            .collect();
        let ids: Vec<_> = received.iter().map(|e| e.event_id).collect();
        let taken = self
            .store
            .consumed_among(ROUTER.group, &ids)
            .await
            .map_err(HandlerError::transient)?;
        let wanted: Vec<_> = received
            .iter()
            .filter(|e| !taken.contains(&e.event_id))
            .map(|e| e.appeal_id)
            .collect();
        let mut appeals: std::collections::HashMap<_, _> = self
            .store
            .appeals_by_id(&wanted)
            .await
            .map_err(HandlerError::transient)?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let mut received = Vec::new();
        for (i, envelope) in envelopes.iter().enumerate() {
            if envelope.event_type != EventType::Received || taken.contains(&envelope.event_id) {
                continue;
            }
            let appeal = appeals
                .remove(&envelope.appeal_id)
                .ok_or_else(|| not_found(envelope))?;
            received.push((i, envelope, appeal));
        }
        let lookups: Vec<_> = received
            .into_iter()
            .map(|(i, envelope, appeal)| self.with_candidates(i, envelope, appeal))
            .collect();
        futures_util::stream::iter(lookups)
            .buffered(CANDIDATE_READS)
            .try_collect()
            .await
    }

    /// The appeal with the earlier ones it may repeat, with its envelope's `index`.
    async fn with_candidates(
        &self,
        index: usize,
        envelope: &Envelope,
        appeal: hotline_schemas::Appeal,
    ) -> Result<(usize, Pending), HandlerError> {
        let consumed = consumed(envelope);
        // Only earlier appeals can be what this one repeats: those the index finds alike.
        let candidates = if self.policy.duplicate_window > chrono::Duration::zero() {
            let since = appeal.created_at - self.policy.duplicate_window;
            self.store
                .duplicate_candidates(&appeal, since, DUPLICATE_CANDIDATES)
                .await
                .map_err(HandlerError::transient)?
        } else {
            Vec::new()
        };
        let meta = CommitMeta {
            traceparent: envelope.traceparent.clone(),
            consumed: Some(consumed),
        };
        Ok((
            index,
            Pending {
                appeal,
                candidates,
                meta,
            },
        ))
    }

    /// The classification, and the dispatch when the rule is sure; `None` when the appeal is
    /// past being classified.
    fn decision(
        &self,
        appeal: &hotline_schemas::Appeal,
        routing: &Routing,
    ) -> Result<Option<Decision>, HandlerError> {
        let rules = self.reference.get().rules.clone();
        let ctx = rules.context((self.clock)(), &self.actor);
        let classify = Command::Classify(routing.classification(appeal));
        let Ok(mut decision) = decide(appeal, classify, &ctx) else {
            return Ok(None);
        };
        if let (true, Some(unit)) = (routing.dispatch, routing.unit.clone()) {
            let matter = None;
            let dispatch = decide(decision.appeal(), Command::Dispatch { unit, matter }, &ctx)
                .map_err(HandlerError::permanent)?;
            decision = decision.then(dispatch);
        }
        Ok(Some(decision))
    }

    async fn acknowledge(&self, meta: &CommitMeta) -> Result<(), HandlerError> {
        if let Some(consumed) = &meta.consumed {
            self.store
                .mark_consumed(consumed)
                .await
                .map_err(HandlerError::transient)?;
        }
        Ok(())
    }
}
