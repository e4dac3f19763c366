//! The lowest layer: identifiers, error codes and values that depend on nothing else in the
//! domain (time limits, ticket numbers, USCC, units, the taxonomy).

pub mod error;
pub mod ids;
pub mod limit;
pub mod taxonomy;
pub mod ticket;
pub mod unit;
pub mod uscc;
