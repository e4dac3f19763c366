//! Notifications: a unit learns at once that an appeal was dispatched to it, so it can sign
//! for it within the 30-minute limit. One trait, so a city plugs in its SMS or WeChat template
//! gateway; the text comes from `locales/`.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use hotline_bus::{Handler, HandlerError};
use hotline_locales::Localizer;
use hotline_schemas::{Envelope, EventType};
use hotline_store::{Consumed, Store};

/// The consumer group of the notifier.
pub const GROUP: &str = "notifier";

/// A message for someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// e.g. `unit:DEMO-FGJ`
    pub to: String,
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
        tracing::info!(to = %n.to, text = %n.text, "notification");
        Ok(())
    }
}

/// Takes dispatch and reassignment events in and tells the unit.
pub struct NotifierHandler {
    store: Arc<dyn Store>,
    notifier: Arc<dyn Notifier>,
    localizer: Arc<Localizer>,
    tz: Tz,
}

impl NotifierHandler {
    pub fn new(
        store: Arc<dyn Store>,
        notifier: Arc<dyn Notifier>,
        localizer: Arc<Localizer>,
        tz: Tz,
    ) -> Self {
        Self {
            store,
            notifier,
            localizer,
            tz,
        }
    }

    fn text(&self, envelope: &Envelope, ticket_no: &str, title: &str) -> Option<Notification> {
        let data = &envelope.payload.data;
        let unit = data.get("unit")?.as_str()?;
        let due = data
            .get("response_due")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
            .map(|t| {
                t.with_timezone(&self.tz)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default();
        let args = BTreeMap::from([
            ("ticket", ticket_no.to_owned()),
            ("title", title.to_owned()),
            ("due", due),
        ]);
        Some(Notification {
            to: format!("unit:{unit}"),
            text: self.localizer.message("zh-CN", "notify-dispatched", &args),
        })
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
            EventType::Dispatched | EventType::Reassigned
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
        let Some(notification) = self.text(envelope, &appeal.ticket_no, &appeal.title) else {
            return Err(HandlerError::Permanent(format!(
                "event {} names no unit",
                envelope.event_id
            )));
        };
        // Sent, then recorded: a crash in between sends it once more, never not at all.
        self.notifier.send(&notification).await.map_err(transient)?;
        self.store
            .mark_consumed(&consumed)
            .await
            .map_err(transient)?;
        Ok(())
    }
}
