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
use hotline_bus::{Handler, HandlerError};
use hotline_locales::Localizer;
use hotline_schemas::{Appeal, Envelope, EventType};
use hotline_store::{Consumed, Store};
use serde::Serialize;
use serde_json::Value;

/// The consumer group of the notifier.
pub const GROUP: &str = "notifier";

/// The language notifications are written in.
const LANG: &str = "zh-CN";

/// A message for someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// Who: `unit:<code>`, `dispatcher`, `supervisor`, `leader:<name>` (or `leader`),
    /// `appellant:<phone>` (or `appellant`).
    pub to: String,
    /// The event it tells of (`dispatched`, `reminded`, `sla_warning`, `escalated`, `replied`).
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
    async fn send(&self, notification: &Notification) -> Result<(), String>;
}

/// Writes notifications to the log.
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn send(&self, n: &Notification) -> Result<(), String> {
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
    pub fn new(url: impl Into<String>, extra_ca: Option<&Path>) -> Result<Self, String> {
        let url = url.into();
        let parsed =
            reqwest::Url::parse(&url).map_err(|e| format!("notify_webhook_url {url}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "notify_webhook_url {url}: only http:// and https:// are supported"
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .tls_backend_preconfigured(tls_config(extra_ca)?)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { client, url })
    }

    async fn post(&self, n: &Notification) -> Result<(), String> {
        let response = self
            .client
            .post(&self.url)
            .header("idempotency-key", &n.event_id)
            .json(n)
            .send()
            .await
            .map_err(|e| format!("webhook {}: {e}", self.url))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("webhook {} answered {status}", self.url))
        }
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    async fn send(&self, n: &Notification) -> Result<(), String> {
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
fn tls_config(extra_ca: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    if let Some(path) = extra_ca {
        let named =
            |e: &dyn std::fmt::Display| format!("notify_webhook_ca {}: {e}", path.display());
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
        .map_err(|e| e.to_string())?
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

    /// An instant in the event's data, as local time.
    fn time(&self, data: &Value, key: &str) -> String {
        data.get(key)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
            .map(|t| {
                t.with_timezone(&self.tz)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default()
    }

    /// The notification `envelope` calls for on `appeal`; `None` for events nobody is told of.
    pub fn compose(&self, envelope: &Envelope, appeal: &Appeal) -> Option<Notification> {
        let data = &envelope.payload.data;
        let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_owned);
        let number = |key: &str| data.get(key).map(|v| v.to_string()).unwrap_or_default();
        let unit = text("unit")
            .or_else(|| appeal.unit.clone())
            .unwrap_or_default();
        let mut args = BTreeMap::from([
            ("ticket", appeal.ticket_no.clone()),
            ("title", appeal.title.clone()),
            ("unit", unit.clone()),
        ]);
        let (message, to) = match envelope.event_type {
            EventType::Dispatched | EventType::Reassigned => {
                args.insert("due", self.time(data, "response_due"));
                ("notify-dispatched", format!("unit:{}", text("unit")?))
            }
            EventType::Reminded => {
                args.insert("limit", text("limit").unwrap_or_default());
                args.insert("n", number("n"));
                args.insert("due", self.time(data, "due_at"));
                ("notify-reminded", text("notified")?)
            }
            EventType::SlaWarning => {
                let fraction = data.get("fraction").and_then(Value::as_f64).unwrap_or(0.0);
                args.insert("percent", format!("{:.0}", fraction * 100.0));
                args.insert("deadline", self.time(data, "resolve_due"));
                ("notify-sla-warning", text("notified")?)
            }
            EventType::Escalated => {
                args.insert("level", number("level"));
                args.insert("limit", text("limit").unwrap_or_default());
                args.insert("count", number("rework_count"));
                args.insert("deadline", self.time(data, "due_at"));
                ("notify-escalated", text("notified")?)
            }
            EventType::Replied => {
                args.insert("link", (self.rating_link)(appeal));
                let to = match appeal.appellant.phone() {
                    Some(phone) => format!("appellant:{phone}"),
                    None => "appellant".to_owned(),
                };
                ("notify-rating-request", to)
            }
            _ => return None,
        };
        Some(Notification {
            to,
            event: envelope.event_type.as_str().to_owned(),
            ticket_no: appeal.ticket_no.clone(),
            appeal_id: appeal.id.to_string(),
            event_id: envelope.event_id.to_string(),
            text: self.localizer.message(LANG, message, &args),
        })
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

fn transient(e: impl std::fmt::Display) -> HandlerError {
    HandlerError::Transient(e.to_string())
}

#[async_trait]
impl Handler for NotifierHandler {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        if !matches!(
            envelope.event_type,
            EventType::Dispatched
                | EventType::Reassigned
                | EventType::Reminded
                | EventType::SlaWarning
                | EventType::Escalated
                | EventType::Replied
        ) {
            return Ok(());
        }
        let consumed = Consumed {
            consumer: GROUP.to_owned(),
            event_id: envelope.event_id,
        };
        if self.store.is_consumed(&consumed).await.map_err(transient)? {
            return Ok(());
        }
        let appeal = self
            .store
            .appeal(envelope.appeal_id)
            .await
            .map_err(transient)?
            .ok_or_else(|| transient(format!("appeal {} not found", envelope.appeal_id)))?;
        let Some(notification) = self.composer.compose(envelope, &appeal) else {
            return Err(HandlerError::Permanent(format!(
                "event {} ({}) names nobody to tell",
                envelope.event_id,
                envelope.event_type.as_str()
            )));
        };
        // Sent, then recorded: a crash in between sends it once more (with the same event id,
        // for the gateway to drop), never not at all.
        self.notifier.send(&notification).await.map_err(transient)?;
        self.store
            .mark_consumed(&consumed)
            .await
            .map_err(transient)?;
        Ok(())
    }
}
