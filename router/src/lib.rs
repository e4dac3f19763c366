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
use hotline_bus::topology::ROUTER;
use hotline_bus::{Handler, HandlerError};
use hotline_schemas::lifecycle::decide;
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
        }
    }
}

#[async_trait]
impl Handler for RouterHandler {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        if envelope.event_type != EventType::Received {
            return Ok(());
        }
        let consumed = Consumed {
            consumer: ROUTER.group.to_owned(),
            event_id: envelope.event_id,
        };
        if self
            .store
            .is_consumed(&consumed)
            .await
            .map_err(HandlerError::transient)?
        {
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
                .map_err(HandlerError::transient)?
                .ok_or_else(|| {
                    HandlerError::transient(format!("appeal {} not found", envelope.appeal_id))
                })?;
            // Only earlier appeals can be what this one repeats: those the index finds alike.
            let recent = if self.policy.duplicate_window > chrono::Duration::zero() {
                let since = appeal.created_at - self.policy.duplicate_window;
                self.store
                    .duplicate_candidates(&appeal, since, DUPLICATE_CANDIDATES)
                    .await
                    .map_err(HandlerError::transient)?
            } else {
                Vec::new()
            };
            let classifying = self.classifying.get();
            let routing = route(
                &appeal,
                &classifying.taxonomy,
                classifying.classifier.as_ref(),
                &recent,
                &self.policy,
            );
            let rules = self.reference.get().rules.clone();
            let ctx = rules.context((self.clock)(), &self.actor);
            let classify = Command::Classify(routing.classification(&appeal));
            let mut decision = match decide(&appeal, classify, &ctx) {
                Ok(d) => d,
                // Voided, merged or closed before the router saw it: nothing to classify.
                Err(_) => return self.acknowledge(&meta).await,
            };
            if let (true, Some(unit)) = (routing.dispatch, routing.unit.clone()) {
                let matter = None;
                let dispatch = decide(decision.appeal(), Command::Dispatch { unit, matter }, &ctx)
                    .map_err(HandlerError::permanent)?;
                decision = decision.then(dispatch);
            }
            match self.store.commit(&decision, &meta).await {
                Ok(()) => {
                    tracing::info!(
                        appeal = %appeal.id,
                        matter = ?routing.matter,
                        confidence = routing.confidence,
                        dispatched = routing.dispatch,
                        duplicate_of = ?routing.duplicate_of,
                        "classified"
                    );
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
}

impl RouterHandler {
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
