//! The rules of time: the official business calendar and the time-limit policies, with the
//! deadline arithmetic on top of them.

pub mod calendar;
pub mod sla;
