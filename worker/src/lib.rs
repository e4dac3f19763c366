//! The worker: publishes the outbox to the bus (the relay), tells units at once about new
//! appeals (the notifier), and fires the time limits' steps (timers). Any number may run; one at a time
//! holds the relay lease.

mod error;
pub mod notifier;
pub mod relay;
pub mod timers;

pub use error::WorkerError;
pub use notifier::{
    Composer, LogNotifier, Notification, Notifier, NotifierHandler, RatingLink, WebhookNotifier,
    install_tls_provider,
};
pub use relay::{RelayOptions, run_relay};
pub use timers::{Pass, TimerOptions, Timers, run_timers};
