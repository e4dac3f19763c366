//! The appeal store: the append-only event log, the current-state projection kept in the same
//! transaction, the outbox, idempotency keys and ticket counters. One trait, two engines:
//! SQLite (embedded) and PostgreSQL (distributed).

mod engine;
mod error;
mod migrations;
pub mod reference;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use hotline_schemas::event::EnvelopeError;
use hotline_schemas::lifecycle::{Decision, Intake};
use hotline_schemas::reference::{ReferenceKind, ReferenceVersion, Versions};
use hotline_schemas::value::ids::TokenId;
use hotline_schemas::value::unit::Unit;
use hotline_schemas::{
    Appeal, AppealId, Channel, Envelope, Event, EventId, MatterCode, Status, UnitCode, User, UserId,
};

pub use engine::{PostgresStore, RelayLease, SqliteStore};
pub use error::StoreError;
pub use hotline_schemas::Clock;
pub use hotline_schemas::stats::{FactKind, Tally};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A submission to record: the validated appeal, waiting for its ticket number.
#[derive(Debug, Clone)]
pub struct Submission {
    pub intake: Intake,
    /// The local day the ticket number is counted under.
    pub day: NaiveDate,
    pub idempotency: Option<IdempotencyKey>,
    /// W3C `traceparent` carried by the events on the bus.
    pub traceparent: Option<String>,
}

/// What else a commit records besides the decision.
#[derive(Debug, Clone, Default)]
pub struct CommitMeta {
    /// W3C `traceparent` carried by the events on the bus.
    pub traceparent: Option<String>,
    /// The delivery this change is the effect of: recorded in the consumer's inbox in the same
    /// transaction, so a redelivery cannot take effect twice.
    pub consumed: Option<Consumed>,
}

/// One event taken in by one consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumed {
    pub consumer: String,
    pub event_id: EventId,
}

/// A new version of reference data, as an admin saves it.
#[derive(Debug, Clone)]
pub struct ReferenceDraft {
    pub kind: ReferenceKind,
    pub text: String,
    pub note: String,
    pub author: String,
    pub at: DateTime<Utc>,
}

/// An admin's publication of one version.
#[derive(Debug, Clone)]
pub struct Publication {
    pub kind: ReferenceKind,
    pub version: u32,
    pub by: String,
    pub at: DateTime<Utc>,
    /// The units of a taxonomy published, to update with it; empty for other kinds.
    pub units: Vec<Unit>,
}

/// An event waiting in the outbox, in the order it must be published: the envelope as it was
/// written, so a relay of any version passes on what it cannot read itself.
#[derive(Debug, Clone)]
pub struct OutboxEntry {
    pub id: i64,
    pub event_id: EventId,
    pub routing_key: String,
    /// The envelope's JSON.
    pub body: String,
}

impl OutboxEntry {
    pub fn envelope(&self) -> Result<Envelope, EnvelopeError> {
        Envelope::decode(self.body.as_bytes())
    }
}

/// A dispatcher's correction of the router, kept to retrain the model.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingExample {
    pub appeal_id: AppealId,
    pub text: String,
    /// The service matter the dispatcher chose, when they named one.
    pub matter: Option<MatterCode>,
    pub unit: UnitCode,
    /// What the router had suggested.
    pub suggested_matter: Option<MatterCode>,
    /// `reassign`, `dispatch` or `return`.
    pub source: String,
    pub created_at: DateTime<Utc>,
}

/// What signing in checks of a user: the password hash and the failed attempts.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    /// argon2id, in the PHC string format; none: the user has no password yet.
    pub password_hash: Option<String>,
    /// Failed attempts since the last success or lockout.
    pub failed_sign_ins: u32,
    /// Sign-in is refused until then.
    pub locked_until: Option<DateTime<Utc>>,
}

/// A signed-in user's session in the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The SHA-256 (hex) of the cookie's value: the value itself is never stored.
    pub id_hash: String,
    pub user: UserId,
    /// The token every form of the session carries.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// A delivery a consumer gave up on, kept as it arrived (it may be unreadable).
#[derive(Debug, Clone)]
pub struct Parked {
    pub consumer: String,
    pub event_id: EventId,
    pub body: String,
    pub error: String,
}

impl Parked {
    pub fn envelope(&self) -> Result<Envelope, EnvelopeError> {
        Envelope::decode(self.body.as_bytes())
    }
}

/// A client's idempotency key, scoped to the caller, with a hash of the request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub caller: String,
    pub key: String,
    pub request_hash: String,
}

/// The result of a submission: the appeal, and whether it was created now or found under the
/// same idempotency key.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub appeal: Appeal,
    pub created: bool,
    /// The events the submission recorded: the whole history of an appeal created now, none
    /// for one found under its idempotency key.
    pub events: Vec<Event>,
}

/// Which appeals a caller may see, applied inside the store's SQL (never loaded, then
/// filtered).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Confidential appeals are included (admins, mailbox readers).
    pub confidential: bool,
    /// Only appeals this unit holds now (dispatched there and not returned), confidential ones
    /// included.
    pub unit: Option<UnitCode>,
    /// A leader's cases only: those they own and the escalated ones of their units.
    pub leader: Option<LeaderScope>,
    /// An appellant's own appeal only.
    pub appeal: Option<AppealId>,
}

/// A leader's cases (`Actor::leads`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderScope {
    /// Who they are, as the owner of a case.
    pub user: UserId,
    /// The units they are in charge of (分管).
    pub units: Vec<UnitCode>,
}

impl Scope {
    /// Everything: the platform itself.
    pub fn all() -> Scope {
        Scope {
            confidential: true,
            unit: None,
            leader: None,
            appeal: None,
        }
    }
}

/// Whose statistics are counted: the caller's scope as `GET /api/v1/stats` applies it, in SQL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatScope {
    /// Confidential appeals are counted (admins, mailbox readers, the discipline office).
    pub confidential: bool,
    /// Only appeals ever dispatched (or reassigned) to one of these units: a leader's.
    pub dispatched_to: Option<Vec<UnitCode>>,
    /// Only the facts counted for this unit (for the overdue count and the texts: the appeals
    /// it holds now): a unit's own figures.
    pub unit: Option<UnitCode>,
}

/// What a period's facts are summed by (besides their kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatGroup {
    /// The unit a fact counts for.
    Unit,
    /// The unit and the hour (UTC) it counts at, for days in the city's time zone.
    UnitHour,
    /// The hour (UTC) it counts at, over every unit: the days of the whole scope, one row a
    /// kind and hour where `UnitHour` has one a unit too.
    Hour,
    /// The appeal's service matter (服务事项, for its category) and channel.
    MatterChannel,
}

/// The sums of one kind of fact in one group; what the grouping does not name is `None` (0
/// for the hour).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatRow {
    pub kind: FactKind,
    pub unit: Option<String>,
    pub matter: Option<String>,
    pub channel: Option<String>,
    /// Hours since 1970-01-01 UTC.
    pub hour: i64,
    pub tally: Tally,
}

/// An appeal's words for the hot topics (热点诉求): when it came in, its title and the start
/// of its body, and the appellant's name when a person's (to be left out of the words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppealText {
    pub created_at: DateTime<Utc>,
    pub title: String,
    pub body: String,
    pub person: Option<String>,
}

/// Which appeals to list.
#[derive(Debug, Clone, Default)]
pub struct AppealFilter {
    pub status: Option<Status>,
    pub unit: Option<UnitCode>,
    pub channel: Option<Channel>,
    /// Only open appeals whose resolution deadline has passed at this instant.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Only open appeals, the one whose deadline counts first (signing for those that wait
    /// for it, else resolving): a unit's inbox.
    pub open_by_deadline: bool,
    /// Only appeals this user submitted (their `received` event is the user's): an agent's own
    /// calls.
    pub submitted_by: Option<UserId>,
    /// From 1.
    pub page: u32,
    pub per_page: u32,
}

/// One page of appeals, newest first.
#[derive(Debug, Clone)]
pub struct Page {
    pub appeals: Vec<Appeal>,
    pub total: i64,
}

/// The store behind every process. Implementations must make each method atomic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies the engine's migrations.
    async fn migrate(&self) -> Result<()>;
    /// Checks the database answers.
    async fn ping(&self) -> Result<()>;

    async fn units(&self) -> Result<Vec<Unit>>;
    /// Adds `units` or updates them by code (the taxonomy's units, loaded at start).
    async fn sync_units(&self, units: &[Unit]) -> Result<()>;
    /// Loads `units` when there are none yet; returns whether it did.
    async fn seed_units_if_empty(&self, units: &[Unit]) -> Result<bool>;

    /// Stores `text` as version 1 of `kind`, published, when the database has no version of
    /// it; returns whether it did.
    async fn seed_reference(
        &self,
        kind: ReferenceKind,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Saves a new version (the next number of its kind), not yet published; its number.
    async fn save_reference(&self, draft: &ReferenceDraft) -> Result<u32>;
    /// Makes `version` of `kind` the current one, announced on the bus through the outbox;
    /// a taxonomy's `units` are updated in the same transaction. `false` when there is no such
    /// version.
    async fn publish_reference(&self, publication: &Publication) -> Result<bool>;
    /// The versions of `kind`, newest first (at most 100), without their texts.
    async fn reference_versions(&self, kind: ReferenceKind) -> Result<Vec<ReferenceVersion>>;
    /// The text of one version.
    async fn reference_text(&self, kind: ReferenceKind, version: u32) -> Result<Option<String>>;
    /// The version of `kind` published last, with its text.
    async fn published_reference(&self, kind: ReferenceKind) -> Result<Option<(u32, String)>>;
    /// The version published last of each kind (0: none), what a process checks to reload.
    async fn published_versions(&self) -> Result<Versions>;

    /// Records a new appeal under the next ticket number of its day (`Intake::receive`), with
    /// its `received` event, outbox row and idempotency key, in one transaction. A known key
    /// with the same request hash returns the stored appeal; with another hash,
    /// `StoreError::IdempotencyConflict`.
    async fn submit(&self, submission: Submission) -> Result<Submitted>;

    /// Records appeals received elsewhere (`Intake::receive` decisions: a former system's, a
    /// benchmark's window) with their events, facts and indexes, many rows a statement, in one
    /// transaction; `StoreError::NotNew` for a change to a stored appeal. Nothing is announced
    /// on the bus, and their ticket numbers are their own.
    async fn import(&self, received: &[Decision]) -> Result<()>;

    async fn appeal(&self, id: AppealId) -> Result<Option<Appeal>>;
    /// The stored appeals among `ids`, in any order.
    async fn appeals_by_id(&self, ids: &[AppealId]) -> Result<Vec<Appeal>>;
    /// The appeal when it is within `scope` (filtered in SQL, like the lists).
    async fn appeal_in(&self, id: AppealId, scope: &Scope) -> Result<Option<Appeal>>;
    /// The appeal's history, oldest first.
    async fn events(&self, id: AppealId) -> Result<Vec<Event>>;

    /// Stores a decision: each appeal it changes (while the store still holds the version it
    /// was decided on), their events and outbox rows, in one transaction; fails with
    /// `StoreError::Conflict` when another change got there first, and with
    /// `StoreError::AlreadyConsumed` when `meta.consumed` was taken in before.
    async fn commit(&self, decision: &Decision, meta: &CommitMeta) -> Result<()>;

    /// Stores several decisions in one transaction (one flush to disk), each on its own as
    /// [`Store::commit`] would: one outcome per decision, in order; a decision that fails
    /// leaves nothing of itself and takes nothing of the others with it.
    async fn commit_all(&self, batch: &[(Decision, CommitMeta)]) -> Result<Vec<Result<()>>>;

    async fn list(&self, filter: &AppealFilter, scope: &Scope) -> Result<Page>;
    /// Appeals waiting for a dispatcher (`received` or `returned`), oldest first: the
    /// confidential ones (the mailbox readers' queue) or the others (the dispatchers').
    async fn dispatch_queue(&self, confidential: bool, page: u32, per_page: u32) -> Result<Page>;
    /// Open appeals a leader or supervisor watches: those past their resolution deadline at
    /// `now`, those still not signed for past their response deadline (reminded, then
    /// escalated), and those `owner` owns (包案), most overdue first; within `scope`.
    async fn oversight(
        &self,
        owner: Option<UserId>,
        now: DateTime<Utc>,
        scope: &Scope,
    ) -> Result<Vec<Appeal>>;

    /// Claims up to `limit` appeals whose timer (`sla.next`) is due at `now` and not claimed by
    /// another worker, for `lease` (until `now + lease`), earliest due first. PostgreSQL skips
    /// rows another worker is claiming (`FOR UPDATE SKIP LOCKED`). A commit of the appeal
    /// ends the claim; a claim not followed by a commit lapses with its lease.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: chrono::TimeDelta,
        limit: u32,
    ) -> Result<Vec<Appeal>>;

    /// The earliest timer of any appeal, claimed or not.
    async fn next_due(&self) -> Result<Option<DateTime<Utc>>>;
    /// A caller's history: the appeals from the appellant known by `key` (`Appellant::keys`),
    /// newest first, at most `limit`, within `scope`.
    async fn appeals_of(&self, key: &str, scope: &Scope, limit: i64) -> Result<Vec<Appeal>>;
    /// The earlier appeals `appeal` may repeat, from the duplicate index: received from
    /// `since` up to it and sharing a band of its text's signature (`signature::bands_of`),
    /// an appellant key or its normalised address; at most `limit`, the most bands shared
    /// first. `appeal` need not be stored (a preview's).
    async fn duplicate_candidates(
        &self,
        appeal: &Appeal,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Appeal>>;

    /// Appeals changed since `since` or still open, each with its history: what statistics
    /// of a period starting at `since` read; confidential ones only when `confidential`.
    async fn activity_since(
        &self,
        since: DateTime<Utc>,
        confidential: bool,
    ) -> Result<Vec<(Appeal, Vec<Event>)>>;

    /// The facts (`hotline_schemas::stats::facts`) counted at `[from, to)` within `scope`,
    /// summed per kind and `group`; a dispatch counts as answered in time when signed for or
    /// returned within `response_limit`.
    async fn stat_rows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        scope: &StatScope,
        group: StatGroup,
        response_limit: chrono::TimeDelta,
    ) -> Result<Vec<StatRow>>;
    /// Open appeals past their resolution deadline at `now` within `scope`, per the unit
    /// holding them.
    async fn overdue_by_unit(
        &self,
        now: DateTime<Utc>,
        scope: &StatScope,
    ) -> Result<Vec<(Option<UnitCode>, i64)>>;
    /// The texts of the appeals received at `[from, to)` within `scope`, at most `limit`,
    /// each body cut to `body_chars` characters.
    async fn appeal_texts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        scope: &StatScope,
        body_chars: i64,
        limit: i64,
    ) -> Result<Vec<AppealText>>;
    /// Appeals with an extension waiting for approval (延期审批), the nearest deadline first,
    /// within `scope`.
    async fn pending_extensions(&self, scope: &Scope) -> Result<Vec<Appeal>>;

    async fn record_training_example(&self, example: &TrainingExample) -> Result<()>;
    /// Every kept correction, oldest first.
    async fn training_examples(&self) -> Result<Vec<TrainingExample>>;

    /// Records that a consumer took in an event whose effect lies elsewhere; `false` when it
    /// had already.
    async fn mark_consumed(&self, consumed: &Consumed) -> Result<bool>;
    /// Those of `events` that `consumer` has taken in.
    async fn consumed_among(
        &self,
        consumer: &str,
        events: &[EventId],
    ) -> Result<std::collections::HashSet<EventId>>;
    /// [`Store::mark_consumed`] for several events in one transaction.
    async fn mark_all_consumed(&self, consumed: &[Consumed]) -> Result<()>;
    async fn is_consumed(&self, consumed: &Consumed) -> Result<bool>;

    /// The oldest unpublished outbox entries, in order.
    async fn unpublished(&self, limit: i64) -> Result<Vec<OutboxEntry>>;
    async fn mark_published(&self, ids: &[i64], at: DateTime<Utc>) -> Result<()>;
    /// How many outbox entries wait to be published.
    async fn outbox_backlog(&self) -> Result<i64>;
    /// The right to run the outbox relay, held by one process at a time; `None` while another
    /// holds it.
    async fn relay_lease(&self) -> Result<Option<RelayLease>>;

    /// Keeps a delivery a consumer gave up on: its event id and body as they arrived.
    async fn park(&self, consumer: &str, event_id: EventId, body: &str, error: &str) -> Result<()>;
    async fn parked(&self) -> Result<Vec<Parked>>;

    /// Adds a user; `StoreError::Duplicate` when one with its id exists.
    async fn add_user(&self, user: &User) -> Result<()>;
    /// Every user, oldest first.
    async fn users(&self) -> Result<Vec<User>>;
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    /// Disables (or enables again) a user at `at`: the user as it now is, `None` when there is
    /// no such user.
    async fn set_user_disabled(
        &self,
        id: UserId,
        disabled: bool,
        at: DateTime<Utc>,
    ) -> Result<Option<User>>;

    /// Revokes the token with id `id` at `at` (`expires_at`: when it would have expired
    /// anyway); `false` when it was revoked before.
    async fn revoke_token(
        &self,
        id: TokenId,
        expires_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    async fn token_revoked(&self, id: TokenId) -> Result<bool>;

    /// The user signing in as `username` (lowercase), with what sign-in checks.
    async fn credentials(&self, username: &str) -> Result<Option<Credentials>>;
    /// Sets a user's password hash at `at` and ends their sessions; `false`: no such user.
    async fn set_password(&self, id: UserId, hash: &str, at: DateTime<Utc>) -> Result<bool>;
    /// Counts a failed sign-in: the failures since the last success or lockout.
    async fn sign_in_failed(&self, id: UserId) -> Result<u32>;
    /// Refuses sign-in until `until` and starts the count again.
    async fn lock_sign_in(&self, id: UserId, until: DateTime<Utc>) -> Result<()>;
    /// A successful sign-in: the count starts again.
    async fn sign_in_succeeded(&self, id: UserId) -> Result<()>;

    async fn create_session(&self, session: &Session) -> Result<()>;
    async fn session(&self, id_hash: &str) -> Result<Option<Session>>;
    /// Records that the session was used at `at` (its idle expiry starts again).
    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()>;
    async fn end_session(&self, id_hash: &str) -> Result<()>;
    /// Ends every session of `user` (disabled, or a new password).
    async fn end_sessions_of(&self, user: UserId) -> Result<()>;
}
