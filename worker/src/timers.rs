//! Time limits at work (SPEC §6): the worker claims the appeals whose timer is due, fires the
//! steps that are due ([`hotline_schemas::timer::fire`]) and stores each appeal's events and
//! next timer in one change. The database is the source of truth: a step is recorded with the
//! appeal's new version, so it fires once however many workers run, crash or restart, and a
//! worker back from an outage catches up on everything due. Each pass costs in the number of
//! due timers (an index on `due_at`), not in the number of open appeals.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::StreamExt;
use hotline_schemas::command::UnitLeaders;
use hotline_schemas::lifecycle::fire;
use hotline_schemas::reference::{Current, Reference};
use hotline_schemas::value::taxonomy::Taxonomy;
use hotline_schemas::{Actor, Appeal, Clock};
use hotline_store::{CommitMeta, Store, StoreError};
use tokio_util::sync::CancellationToken;

/// How the worker takes timers.
#[derive(Debug, Clone)]
pub struct TimerOptions {
    /// Appeals claimed at once.
    pub batch: u32,
    /// How long a claim keeps other workers off an appeal; a worker that dies holding it delays
    /// that appeal's steps by at most this.
    pub lease: TimeDelta,
    /// Appeals fired concurrently within a batch.
    pub concurrency: usize,
    /// Pause between passes when nothing was due.
    pub idle: Duration,
}

impl Default for TimerOptions {
    fn default() -> Self {
        Self {
            batch: 256,
            lease: TimeDelta::seconds(60),
            concurrency: 8,
            idle: Duration::from_millis(200),
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Appeals claimed.
    pub claimed: usize,
    /// Events recorded.
    pub events: usize,
    /// Appeals another change reached first (their new timer came with that change).
    pub conflicts: usize,
}

/// Fires due timers.
pub struct Timers {
    store: Arc<dyn Store>,
    /// The published rules, and the taxonomy that names each unit's leader.
    reference: Arc<Current<Reference>>,
    clock: Clock,
    options: TimerOptions,
    actor: Actor,
}

impl Timers {
    /// Timers on the published `reference`, read again for every appeal fired.
    pub fn new(
        store: Arc<dyn Store>,
        reference: Arc<Current<Reference>>,
        clock: Clock,
        options: TimerOptions,
    ) -> Self {
        Self {
            store,
            reference,
            clock,
            options,
            actor: Actor::system(),
        }
    }

    /// Claims one batch of due timers and fires them.
    pub async fn pass(&self) -> Result<Pass, StoreError> {
        let now = (self.clock)();
        // A read first: claiming takes the write lock (SQLite) or row locks (PostgreSQL), which
        // an idle poll should not.
        if self.store.next_due().await?.is_none_or(|due| due > now) {
            return Ok(Pass::default());
        }
        let claimed = self
            .store
            .claim_due(now, self.options.lease, self.options.batch)
            .await?;
        let mut pass = Pass {
            claimed: claimed.len(),
            ..Pass::default()
        };
        let mut results = futures_util::stream::iter(claimed)
            .map(|appeal| self.fire_one(appeal))
            .buffer_unordered(self.options.concurrency.max(1));
        while let Some(result) = results.next().await {
            match result {
                Ok(events) => pass.events += events,
                Err(StoreError::Conflict) => pass.conflicts += 1,
                Err(e) => return Err(e),
            }
        }
        Ok(pass)
    }

    /// Fires everything due now, pass after pass; the total.
    pub async fn catch_up(&self) -> Result<Pass, StoreError> {
        let mut total = Pass::default();
        loop {
            let pass = self.pass().await?;
            total.claimed += pass.claimed;
            total.events += pass.events;
            total.conflicts += pass.conflicts;
            if pass.claimed < self.options.batch as usize {
                return Ok(total);
            }
        }
    }

    /// The events recorded for one claimed appeal. The time is read again here, so an event's
    /// `at` is when its step was recorded (how late it fired), not when the batch was claimed.
    async fn fire_one(&self, appeal: Appeal) -> Result<usize, StoreError> {
        let now = (self.clock)();
        let reference = self.reference.get();
        let ctx = reference.rules.context(now, &self.actor);
        let leaders = self.leaders_for(&appeal, &reference.taxonomy, now).await?;
        let decision = match fire(&appeal, &ctx, &leaders) {
            Ok(Some(decision)) => decision,
            Ok(None) => return Ok(0),
            Err(e) => {
                // A state the steps do not expect: leave it to its lease and say so.
                tracing::error!(appeal = %appeal.id, error = %e, "a timer could not fire");
                return Ok(0);
            }
        };
        self.store.commit(&decision, &CommitMeta::default()).await?;
        for event in decision.events() {
            tracing::info!(
                appeal = %appeal.id,
                ticket = %appeal.ticket_no,
                event = event.event_type().as_str(),
                step = event.payload.step().map_or("", |s| s.as_str()),
                "time limit step"
            );
        }
        Ok(decision.events().len())
    }

    /// Who leads the appeal's unit. The users in charge of it are asked of the store only when
    /// the ladder may reach the leader now: past the resolution deadline, below level 3.
    /// The leader's title (e.g. 分管规划的副区长) is the taxonomy's.
    async fn leaders_for(
        &self,
        appeal: &Appeal,
        taxonomy: &Taxonomy,
        now: DateTime<Utc>,
    ) -> Result<UnitLeaders, StoreError> {
        let title = appeal
            .unit
            .as_deref()
            .and_then(|unit| taxonomy.unit(unit))
            .and_then(|unit| unit.leader.clone());
        if appeal.sla.level >= 3 || !appeal.is_overdue(now) {
            return Ok(UnitLeaders {
                title,
                owners: Vec::new(),
            });
        }
        let users = self.store.users().await?;
        Ok(UnitLeaders::of(appeal, &users, title))
    }
}

/// Fires timers until `shutdown`; a pass under way is finished first.
pub async fn run_timers(timers: Timers, shutdown: CancellationToken) {
    let idle = timers.options.idle;
    let full = timers.options.batch as usize;
    let mut failures: u32 = 0;
    while !shutdown.is_cancelled() {
        let wait = match timers.pass().await {
            Ok(pass) if pass.claimed >= full => {
                failures = 0;
                continue;
            }
            Ok(_) => {
                failures = 0;
                idle
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, "timers: the store is not answering; retrying");
                idle * 2u32.saturating_pow(failures.min(5))
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(wait) => {}
        }
    }
}
