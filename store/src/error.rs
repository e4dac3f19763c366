use thiserror::Error;

/// What can go wrong in the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Another change to the same appeal committed first.
    #[error("the appeal was changed concurrently")]
    Conflict,
    /// The consumer took in this event before: its effect is already stored.
    #[error("the event was already consumed")]
    AlreadyConsumed,
    /// The idempotency key was used before with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyConflict,
    /// A record with this id exists already.
    #[error("a record with this id exists already")]
    Duplicate,
    /// Only new appeals can be imported.
    #[error("only new appeals can be imported")]
    NotNew,
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// A stored event this version cannot read (written by a newer one during an upgrade?).
    #[error("stored event unreadable by this version: {0}")]
    Unreadable(String),
    /// The store stopped before the write could be answered (nothing was acknowledged).
    #[error("the store is shutting down")]
    Closed,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}
