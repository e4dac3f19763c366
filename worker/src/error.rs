use thiserror::Error;

/// What can go wrong in the worker.
#[derive(Debug, Error)]
pub enum WorkerError {
    /// A notification setting that cannot be used (the message names the setting).
    #[error("{0}")]
    Config(String),
    /// The notification gateway refused or could not be reached.
    #[error("notification: {0}")]
    Notify(String),
    #[error(transparent)]
    Store(#[from] hotline_store::StoreError),
    #[error(transparent)]
    Bus(#[from] hotline_bus::BusError),
    #[error("the worker is shutting down")]
    ShuttingDown,
}
