//! The worker: publishes the outbox to the bus (the relay), tells units at once about new
//! appeals (the notifier), and later watches time limits. Any number may run; one at a time
//! holds the relay lease.

pub mod notifier;
pub mod relay;

pub use notifier::{LogNotifier, Notification, Notifier, NotifierHandler};
pub use relay::{RelayOptions, run_relay};
