//! Domain types of the hotline (12345 热线): appeals, their lifecycle, events, time limits and
//! error codes. Pure: no I/O, no clocks read, no database.
//!
//! Layers, each importing only the ones above it in this list (a test enforces it):
//! 1. [`value`]: ids, error codes, time limits, ticket numbers, USCC, units, the taxonomy;
//! 2. [`appeal`]: the appeal and its time-limit track;
//! 3. [`event`]: typed event payloads and the envelope they travel in;
//! 4. [`policy`]: the business calendar and the time-limit policies;
//! 5. [`schedule`]: an appeal's next time-limit step;
//! 6. [`command`]: commands, the transition table and the access rules;
//! 7. [`lifecycle`]: `decide` and `fire`, the only way an appeal changes;
//! 8. [`stats`]: statistics over appeals and their events;
//! 9. [`reference`]: the versioned reference data every process works with.

pub mod value;

pub mod appeal;

pub mod event;

pub mod policy;

pub mod schedule;

pub mod command;

pub mod lifecycle;

pub mod stats;

pub mod reference;

pub use appeal::*;
pub use command::{Action, Actor, Command, NewUser, Role, User};
pub use event::{Envelope, Event, EventPayload, EventType};
pub use value::error::{DomainError, ErrorCode};
pub use value::ids::{AppealId, EventId, MatterCode, StaffRef, TicketNo, UnitCode, UserId};

/// The source of the current time, passed in by the binary (the wall clock) or a test (a clock
/// it moves).
pub type Clock = std::sync::Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;

/// The wall clock, to the millisecond (what every engine stores exactly).
pub fn system_clock() -> Clock {
    std::sync::Arc::new(|| {
        let now = chrono::Utc::now();
        chrono::DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    })
}
