//! Human ticket numbers (工单编号) such as `20261122-000123`: the day in the city's time zone and
//! a per-day counter kept by the store, so several gateways never collide.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::value::ids::TicketNo;

/// The day a ticket number is counted under: the local date in the city's time zone.
pub fn ticket_day(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The counter key of a day, e.g. `20261122`.
pub fn day_key(day: NaiveDate) -> String {
    day.format("%Y%m%d").to_string()
}

/// `20261122-000123`: sorts by day, then by arrival within the day.
pub fn format_ticket_no(day: NaiveDate, counter: i64) -> TicketNo {
    TicketNo::new(format!("{}-{counter:06}", day_key(day)))
}

#[cfg(test)]
mod tests;
