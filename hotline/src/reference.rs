//! The reference data a process works with (the taxonomy, the calendar, the time-limit
//! policies): the shipped or configured files seed an empty database; each process loads what
//! was published last and loads it again whenever an admin publishes (an event on the bus, and
//! a check every [`POLL`] in case an announcement was missed).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{Datelike, Utc};
use chrono_tz::Tz;
use hotline_bus::Bus;
use hotline_router::Classifying;
use hotline_schemas::reference::{
    Current, PUBLISHED_ROUTING_KEY, Reference, ReferenceKind, SHIPPED_CALENDAR, SHIPPED_POLICIES,
    SHIPPED_TAXONOMY, Versions,
};
use hotline_store::Store;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::Config;

/// How often a process checks for a publication it may not have heard of.
pub const POLL: Duration = Duration::from_secs(30);

fn read(path: &std::path::Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {what} {}", path.display()))
}

/// The text of `kind` that seeds an empty database: the configured file, else the shipped
/// one; the calendar is the shipped one with the configured files after it (a day listed
/// twice: the later entry wins).
pub fn seed_text(config: &Config, kind: ReferenceKind) -> anyhow::Result<String> {
    Ok(match kind {
        ReferenceKind::Taxonomy => match &config.taxonomy {
            Some(path) => read(path, "taxonomy")?,
            None => SHIPPED_TAXONOMY.to_owned(),
        },
        ReferenceKind::Policies => match &config.sla_policies {
            Some(path) => read(path, "SLA policies")?,
            None => SHIPPED_POLICIES.to_owned(),
        },
        ReferenceKind::Calendar => {
            let mut text = SHIPPED_CALENDAR.trim_end().to_owned();
            for path in &config.calendar_files {
                let more = read(path, "calendar")?;
                for line in more.lines().skip(1).filter(|l| !l.trim().is_empty()) {
                    text.push('\n');
                    text.push_str(line);
                }
            }
            text.push('\n');
            text
        }
    })
}

/// Stores the seed texts of the kinds the database has no version of, each checked first.
pub async fn seed(store: &dyn Store, config: &Config) -> anyhow::Result<()> {
    for kind in ReferenceKind::ALL {
        let text = seed_text(config, kind)?;
        if kind == ReferenceKind::Calendar {
            hotline_schemas::policy::calendar::BusinessCalendar::from_csv(&text)
                .context("calendar")?;
        }
        if store.seed_reference(kind, &text, Utc::now()).await? {
            tracing::info!(
                kind = kind.as_str(),
                "reference data: version 1 stored from the files"
            );
        }
    }
    Ok(())
}

/// What was published last of every kind, built in the city's time zone `tz`; a warning when
/// the calendar lacks this year's or next year's holidays.
pub async fn load(store: &dyn Store, tz: Tz) -> anyhow::Result<Reference> {
    let reference = hotline_store::reference::published(store, tz).await?;
    let year = Utc::now().year();
    for y in [year, year + 1] {
        if !reference.rules.calendar.covers(y) {
            tracing::warn!(
                year = y,
                "the calendar has no official holidays for this year: only weekends are rest days; an admin adds the State Council notice to the calendar"
            );
        }
    }
    Ok(reference)
}

/// Builds the router's classifier for a taxonomy.
pub type BuildClassifying = Box<
    dyn Fn(
            Arc<hotline_schemas::value::taxonomy::Taxonomy>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = anyhow::Result<Classifying>> + Send>,
        > + Send
        + Sync,
>;

/// Loads the reference data again when what was published changed.
pub struct Reloader {
    pub store: Arc<dyn Store>,
    pub tz: Tz,
    pub reference: Arc<Current<Reference>>,
    /// The router's classifier, when this process routes: rebuilt for a new taxonomy.
    pub router: Option<(Arc<Current<Classifying>>, BuildClassifying)>,
    /// The versions this reloader loaded last (the gateway may have set `reference` itself
    /// after a publication, but not the router's classifier).
    pub loaded: Versions,
}

impl Reloader {
    /// Reloads when the published versions differ from the ones in use; whether it did.
    pub async fn reload_if_changed(&mut self) -> anyhow::Result<bool> {
        let published = self.store.published_versions().await?;
        if published == self.loaded {
            return Ok(false);
        }
        let reference = load(self.store.as_ref(), self.tz).await?;
        if reference.versions.taxonomy != self.loaded.taxonomy
            && let Some((classifying, build)) = &self.router
        {
            classifying.set(Arc::new(build(reference.taxonomy.clone()).await?));
        }
        self.loaded = reference.versions;
        tracing::info!(
            taxonomy = reference.versions.taxonomy,
            calendar = reference.versions.calendar,
            policies = reference.versions.policies,
            "reference data reloaded"
        );
        self.reference.set(Arc::new(reference));
        Ok(true)
    }

    /// Reloads on every announcement on `bus` and every [`POLL`] until `shutdown`.
    pub async fn follow(mut self, bus: Arc<dyn Bus>, shutdown: CancellationToken) {
        let mut watched = match bus.watch(shutdown.clone()).await {
            Ok(watched) => Some(watched),
            Err(e) => {
                tracing::warn!(error = %e, "publications will be seen by the periodic check only");
                None
            }
        };
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let announced = async {
                match watched.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = poll.tick() => {}
                next = announced => match next {
                    // Announcements may have been among what a lagging watcher missed.
                    Ok(message) if message.routing_key == PUBLISHED_ROUTING_KEY => {}
                    Err(RecvError::Lagged(_)) => {}
                    Ok(_) => continue,
                    Err(RecvError::Closed) => {
                        watched = None;
                        continue;
                    }
                },
            }
            if let Err(e) = self.reload_if_changed().await {
                tracing::error!(error = %format!("{e:#}"), "the published reference data could not be loaded; keeping what is in use");
            }
        }
    }
}
