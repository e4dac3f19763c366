//! Notifications (SPEC §6–§7): a unit learns at once that an appeal was dispatched to it (it
//! must sign within 30 minutes); reminders, warnings and escalations reach whoever the event
//! names; after a reply the appellant gets a rating link. One trait, so a city plugs in its
//! SMS or WeChat template gateway; the text comes from `locales/` (zh-CN).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hotline_bus::topology::NOTIFIER;
use hotline_bus::{Handler, HandlerError};
use hotline_locales::Localizer;
use hotline_schemas::event::{EventPayload, Mention, Recipient};
use hotline_schemas::{Appeal, Envelope, EventType};
use hotline_store::{Consumed, Store};
use serde::Serialize;

use crate::WorkerError;

/// The language notifications are written in.
const LANG: &str = "zh-CN";

/// A message for someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// Who: `unit:<code>`, `user:<id>`, `dispatcher`, `supervisor`, `leader:<name>` (or
    /// `leader`), `appellant:<phone>` (or `appellant`).
    pub to: String,
    /// The event it tells of (`dispatched`, `reminded`, `sla_warning`, `escalated`, `replied`,
    /// `noted`).
    pub event: String,
    pub ticket_no: String,
    pub appeal_id: String,
    /// The event told of: the same on a resend, so a gateway can drop duplicates.
    pub event_id: String,
    pub text: String,
}

/// Sends notifications.
#[async_trait]
pub trait Notifier: Send + Sync + 'static {
    async fn send(&self, notification: &Notification) -> Result<(), WorkerError>;
}

/// Writes notifications to the log.
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn send(&self, n: &Notification) -> Result<(), WorkerError> {
        tracing::info!(to = %n.to, event = %n.event, ticket = %n.ticket_no, text = %n.text, "notification");
        Ok(())
    }
}

/// Makes ring the process's TLS crypto provider, which every `reqwest::Client` needs: reqwest
/// is built without one (its default, aws-lc, is a large C build). Calling it again does
/// nothing.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Posts each notification as JSON (`to`, `event`, `ticket_no`, `appeal_id`, `event_id`,
/// `text`) to a city's gateway (SMS, WeChat templates, …), with the event id also as the
/// `Idempotency-Key` header, retrying briefly; a failure is left to the bus to redeliver.
pub struct WebhookNotifier {
    client: reqwest::Client,
    url: String,
}

impl WebhookNotifier {
    /// Posts to `url`, `http://` or `https://`. An `https://` gateway's certificate is checked
    /// against the public (Mozilla) roots and, when given, the CA certificates in the PEM file
    /// `extra_ca` (a city's own CA).
    pub fn new(url: impl Into<String>, extra_ca: Option<&Path>) -> Result<Self, WorkerError> {
        let url = url.into();
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| WorkerError::Config(format!("notify_webhook_url {url}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(WorkerError::Config(format!(
                "notify_webhook_url {url}: only http:// and https:// are supported"
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .tls_backend_preconfigured(tls_config(extra_ca)?)
            .build()
            .map_err(|e| WorkerError::Config(e.to_string()))?;
        Ok(Self { client, url })
    }

    async fn post(&self, n: &Notification) -> Result<(), WorkerError> {
        let response = self
            .client
            .post(&self.url)
            .header("idempotency-key", &n.event_id)
            .json(n)
            .send()
            .await
            .map_err(|e| WorkerError::Notify(format!("webhook {}: {e}", self.url)))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(WorkerError::Notify(format!(
                "webhook {} answered {status}",
                self.url
            )))
        }
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    async fn send(&self, n: &Notification) -> Result<(), WorkerError> {
        (|| self.post(n))
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_times(3),
            )
            .await
    }
}

/// TLS for the webhook: the public roots, plus the CA certificates of `extra_ca`.
fn tls_config(extra_ca: Option<&Path>) -> Result<rustls::ClientConfig, WorkerError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    if let Some(path) = extra_ca {
        let named = |e: &dyn std::fmt::Display| {
            WorkerError::Config(format!("notify_webhook_ca {}: {e}", path.display()))
        };
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| named(&e))?;
        if certs.is_empty() {
            return Err(named(&"no certificate in the file"));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| named(&e))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| WorkerError::Config(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The rating link sent to an appellant after a reply.
pub type RatingLink = Arc<dyn Fn(&Appeal) -> String + Send + Sync>;

/// Writes the text of the notification an event calls for, if any.
pub struct Composer {
    localizer: Arc<Localizer>,
    tz: Tz,
    rating_link: RatingLink,
}

impl Composer {
    pub fn new(localizer: Arc<Localizer>, tz: Tz, rating_link: RatingLink) -> Self {
        Self {
            localizer,
            tz,
            rating_link,
        }
    }

    /// An instant as local time ("" when there is none).
    fn time(&self, at: Option<DateTime<Utc>>) -> String {
        at.map(|t| {
            t.with_timezone(&self.tz)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
    }

    /// Every notification `envelope` calls for on `appeal`, in order: one for each unit and
    /// user a note calls on, else the one [`Self::compose`] writes.
    pub fn compose_all(&self, envelope: &Envelope, appeal: &Appeal) -> Vec<Notification> {
        match &envelope.payload.payload {
            EventPayload::Noted { text, mentions } => mentions
                .iter()
                .map(|mention| self.mentioned(envelope, appeal, text, mention))
                .collect(),
            _ => self.compose(envelope, appeal).into_iter().collect(),
        }
    }

    /// Tells whom a note calls on of it. Only the unit handling the appeal reads the
    /// appellant's details in it (SPEC §8).
    fn mentioned(
        &self,
        envelope: &Envelope,
        appeal: &Appeal,
        note: &str,
        mention: &Mention,
    ) -> Notification {
        let (to, handling) = match mention {
            Mention::Unit(unit) => (
                Recipient::Unit(unit.clone()).to_string(),
                appeal.unit.as_ref() == Some(unit),
            ),
            Mention::User(user) => (format!("user:{user}"), false),
        };
        let masked = |text: &str| {
            if handling {
                text.to_owned()
            } else {
                hotline_schemas::appeal::mask::text(text, &appeal.person_names())
            }
        };
        let args = BTreeMap::from([
            ("ticket", appeal.ticket_no.to_string()),
            ("title", masked(&appeal.title)),
            ("note", masked(note)),
        ]);
        self.written(envelope, appeal, to, "notify-mentioned", &args)
    }

    /// The notification to `to` of `envelope` on `appeal`, its text Fluent's `message`.
    fn written(
        &self,
        envelope: &Envelope,
        appeal: &Appeal,
        to: String,
        message: &str,
        args: &BTreeMap<&str, String>,
    ) -> Notification {
        Notification {
            to,
            event: envelope.event_type.as_str().to_owned(),
            ticket_no: appeal.ticket_no.to_string(),
            appeal_id: appeal.id.to_string(),
            event_id: envelope.event_id.to_string(),
            text: self.localizer.message(LANG, message, args),
        }
    }

    /// The notification `envelope` calls for on `appeal`; `None` for events nobody is told of.
    pub fn compose(&self, envelope: &Envelope, appeal: &Appeal) -> Option<Notification> {
        let mut args = BTreeMap::from([
            ("ticket", appeal.ticket_no.to_string()),
            ("title", appeal.title.clone()),
            (
                "unit",
                appeal.unit.as_deref().unwrap_or_default().to_owned(),
            ),
        ]);
        let mut set_unit = |unit: &Option<hotline_schemas::UnitCode>| {
            if let Some(unit) = unit {
                args.insert("unit", unit.to_string());
            }
        };
        let (message, to) = match &envelope.payload.payload {
            EventPayload::Dispatched(a) | EventPayload::Reassigned(a) => {
                set_unit(&Some(a.unit.clone()));
                args.insert("due", self.time(a.response_due));
                (
                    "notify-dispatched",
                    Recipient::Unit(a.unit.clone()).to_string(),
                )
            }
            EventPayload::Reminded {
                unit,
                limit,
                n,
                due_at,
                notified,
                ..
            } => {
                set_unit(unit);
                args.insert("limit", limit.as_str().to_owned());
                args.insert("n", n.to_string());
                args.insert("due", self.time(Some(*due_at)));
                ("notify-reminded", notified.to_string())
            }
            EventPayload::SlaWarning {
                unit,
                fraction,
                resolve_due,
                notified,
                ..
            } => {
                set_unit(unit);
                let percent = fraction.unwrap_or(0.0) * 100.0;
                args.insert("percent", format!("{percent:.0}"));
                args.insert("deadline", self.time(*resolve_due));
                ("notify-sla-warning", notified.to_string())
            }
            EventPayload::Escalated {
                unit,
                limit,
                level,
                rework_count,
                due_at,
                notified,
                ..
            } => {
                set_unit(unit);
                args.insert("level", level.to_string());
                args.insert("limit", limit.as_str().to_owned());
                args.insert(
                    "count",
                    rework_count.map(|c| c.to_string()).unwrap_or_default(),
                );
                args.insert("deadline", self.time(*due_at));
                ("notify-escalated", notified.to_string())
            }
            EventPayload::Replied { .. } => {
                args.insert("link", (self.rating_link)(appeal));
                let to = match appeal.appellant.phone() {
                    Some(phone) => format!("appellant:{phone}"),
                    None => "appellant".to_owned(),
                };
                ("notify-rating-request", to)
            }
            _ => return None,
        };
        // Only the unit handling it and the appellant see the appellant's details (SPEC §8).
        if !(to.starts_with("unit:") || to.starts_with("appellant")) {
            let title = hotline_schemas::appeal::mask::text(&appeal.title, &appeal.person_names());
            args.insert("title", title);
        }
        Some(self.written(envelope, appeal, to, message, &args))
    }
}

/// Takes events in and sends the notifications they call for.
pub struct NotifierHandler {
    store: Arc<dyn Store>,
    notifier: Arc<dyn Notifier>,
    composer: Composer,
}

impl NotifierHandler {
    pub fn new(store: Arc<dyn Store>, notifier: Arc<dyn Notifier>, composer: Composer) -> Self {
        Self {
            store,
            notifier,
            composer,
        }
    }
}

/// Deliveries the notifier takes in at once.
const BATCH_LIMIT: usize = 64;

#[async_trait]
impl Handler for NotifierHandler {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        let outcome = self.handle_batch(std::slice::from_ref(envelope)).await;
        outcome.into_iter().next().unwrap_or(Ok(()))
    }

    fn batch_limit(&self) -> usize {
        BATCH_LIMIT
    }

    /// Reads the inbox and the appeals once, sends in order up to the first failure, then
    /// records what was sent in one transaction.
    async fn handle_batch(&self, envelopes: &[Envelope]) -> Vec<Result<(), HandlerError>> {
        let wanted: Vec<&Envelope> = envelopes.iter().filter(|e| tells(e)).collect();
        let ids: Vec<_> = wanted.iter().map(|e| e.event_id).collect();
        let appeal_ids: Vec<_> = wanted.iter().map(|e| e.appeal_id).collect();
        let (taken, appeals) = match tokio::try_join!(
            self.store.consumed_among(NOTIFIER.group, &ids),
            self.store.appeals_by_id(&appeal_ids)
        ) {
            Ok((taken, appeals)) => (taken, appeals),
            Err(e) => return vec![Err(HandlerError::transient(e))],
        };
        let mut outcomes = Vec::with_capacity(envelopes.len());
        let mut sent = Vec::new();
        for envelope in envelopes {
            let outcome = if !tells(envelope) || taken.contains(&envelope.event_id) {
                Ok(None)
            } else {
                match appeals.iter().find(|a| a.id == envelope.appeal_id) {
                    Some(appeal) => self.send(envelope, appeal).await,
                    None => Err(not_found(envelope)),
                }
            };
            match outcome {
                Ok(consumed) => {
                    sent.extend(consumed);
                    outcomes.push(Ok(()));
                }
                Err(e) => {
                    outcomes.push(Err(e));
                    break;
                }
            }
        }
        if let Err(e) = self.store.mark_all_consumed(&sent).await {
            // Sent but not recorded: all of them come again, and are sent once more.
            return vec![Err(HandlerError::transient(e))];
        }
        outcomes
    }
}

/// Whether the notifier tells anyone of `envelope`'s event.
fn tells(envelope: &Envelope) -> bool {
    match &envelope.payload.payload {
        EventPayload::Noted { mentions, .. } => !mentions.is_empty(),
        _ => matches!(
            envelope.event_type,
            EventType::Dispatched
                | EventType::Reassigned
                | EventType::Reminded
                | EventType::SlaWarning
                | EventType::Escalated
                | EventType::Replied
        ),
    }
}

fn not_found(envelope: &Envelope) -> HandlerError {
    HandlerError::transient(format!("appeal {} not found", envelope.appeal_id))
}

impl NotifierHandler {
    /// Composes and sends the notifications of `envelope` about `appeal`, in order.
    async fn send(
        &self,
        envelope: &Envelope,
        appeal: &Appeal,
    ) -> Result<Option<Consumed>, HandlerError> {
        let notifications = self.composer.compose_all(envelope, appeal);
        if notifications.is_empty() {
            return Err(HandlerError::Permanent(format!(
                "event {} ({}) names nobody to tell",
                envelope.event_id,
                envelope.event_type.as_str()
            )));
        }
        // Sent, then recorded: a crash in between sends them once more (with the same event
        // id and recipient, for the gateway to drop), never not at all.
        for notification in &notifications {
            self.notifier
                .send(notification)
                .await
                .map_err(HandlerError::transient)?;
        }
        Ok(Some(consumed(envelope)))
    }
}

fn consumed(envelope: &Envelope) -> Consumed {
    Consumed {
        consumer: NOTIFIER.group.to_owned(),
        event_id: envelope.event_id,
    }
}
