//! Domain types of the hotline (12345 热线): appeals, their lifecycle, events, time limits and
//! error codes. Pure: no I/O, no clocks read, no database.

pub mod appeal;
pub mod calendar;
pub mod envelope;
pub mod error;
pub mod event;
pub mod ids;
pub mod lifecycle;
pub mod role;
pub mod sla;
pub mod stats;
pub mod taxonomy;
pub mod ticket;
pub mod timer;
pub mod unit;
pub mod uscc;

pub use appeal::*;
pub use envelope::Envelope;
pub use error::{DomainError, ErrorCode};
pub use event::{Event, EventType};
pub use ids::{AppealId, EventId};
pub use role::{Actor, Role};

/// The source of the current time, passed in by the binary (the wall clock) or a test (a clock
/// it moves).
pub type Clock = std::sync::Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;
