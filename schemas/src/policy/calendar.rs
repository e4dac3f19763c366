//! The business calendar: which days are working days (工作日) under China's official
//! public-holiday arrangements (SPEC §6).
//!
//! The calendar is data, not code. The crate ships a copy of the State Council notices
//! (`schemas/calendar/cn-official-days.csv`, see [`BusinessCalendar::official`]); a city loads
//! next year's notice from a CSV file in the same format with
//! [`BusinessCalendar::extend_from_csv`]. Pure: this module takes text and never reads files.
//!
//! The CSV format, one line per day that differs from the usual week:
//!
//! ```text
//! date,kind,festival
//! 2026-02-14,workday,Spring Festival
//! 2026-02-15,holiday,Spring Festival
//! ```
//!
//! - `kind=holiday`: a day off (including weekend days inside a holiday period).
//! - `kind=workday`: a weekend day that is an adjusted working day (调休上班).
//! - `festival` may be empty. Lines starting with `#` are comments; fields are trimmed.
//!
//! Any day not listed follows the usual week: Monday–Friday working, Saturday and Sunday rest.
//! For a year with no line at all in the data ([`BusinessCalendar::covers`] is false) that is
//! only a guess, and a warning is logged once per year.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// The shipped copy of the official arrangements.
const OFFICIAL_CSV: &str = include_str!("../../calendar/cn-official-days.csv");

/// The header every calendar CSV must start with.
const HEADER: [&str; 3] = ["date", "kind", "festival"];

/// What a listed day is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A day off (放假), whatever the day of the week.
    Holiday,
    /// An adjusted working day (调休上班), usually a Saturday or Sunday.
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DayKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "holiday" => Ok(DayKind::Holiday),
            "workday" => Ok(DayKind::Workday),
            _ => Err(()),
        }
    }
}

/// A calendar CSV that cannot be loaded. Line numbers are 1-based lines of the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("calendar CSV line {line}: bad header {found:?}, expected \"date,kind,festival\"")]
    BadHeader { line: u64, found: String },
    #[error("calendar CSV line {line}: bad date {value:?}, expected YYYY-MM-DD")]
    BadDate { line: u64, value: String },
    #[error(
        "calendar CSV line {line}: unknown kind {value:?}, expected \"holiday\" or \"workday\""
    )]
    UnknownKind { line: u64, value: String },
    #[error("calendar CSV line {line}: {message}")]
    Malformed { line: u64, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    kind: DayKind,
    festival: Option<String>,
}

/// Working days and rest days under the official arrangements. Cheap to clone; clones share
/// the record of years already warned about.
#[derive(Debug, Clone, Default)]
pub struct BusinessCalendar {
    days: BTreeMap<NaiveDate, Entry>,
    years: BTreeSet<i32>,
    /// Years not covered by the data that a warning was already logged for.
    warned: Arc<Mutex<BTreeSet<i32>>>,
}

impl BusinessCalendar {
    /// The arrangements shipped with the crate (2020–2026 at the time of writing).
    pub fn official() -> Result<Self, CalendarError> {
        Self::from_csv(OFFICIAL_CSV)
    }

    /// A calendar from CSV text (header `date,kind,festival`).
    pub fn from_csv(text: &str) -> Result<Self, CalendarError> {
        let mut calendar = Self::default();
        calendar.extend_from_csv(text)?;
        Ok(calendar)
    }

    /// Adds another notice (typically next year's) from CSV text. Where both list a day, the
    /// entry added later wins. On error nothing is added.
    pub fn extend_from_csv(&mut self, text: &str) -> Result<(), CalendarError> {
        let parsed = parse_csv(text)?;
        for (date, entry) in parsed {
            self.years.insert(date.year());
            self.days.insert(date, entry);
        }
        Ok(())
    }

    /// Whether the data has any entry in `year`, i.e. that year's notice was loaded.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The years the data has entries for, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// How the data lists `date`, if it does.
    pub fn listed(&self, date: NaiveDate) -> Option<DayKind> {
        self.days.get(&date).map(|entry| entry.kind)
    }

    /// The festival a listed day belongs to, if the data names one.
    pub fn festival(&self, date: NaiveDate) -> Option<&str> {
        self.days
            .get(&date)
            .and_then(|entry| entry.festival.as_deref())
    }

    /// Whether `date` is a working day: the data first, otherwise Monday–Friday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if let Some(entry) = self.days.get(&date) {
            return entry.kind == DayKind::Workday;
        }
        let year = date.year();
        if !self.years.contains(&year) {
            self.warn_uncovered(year);
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The first working day strictly after `date`.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        loop {
            // Only at the end of chrono's range is there no next day; stop there.
            let Some(next) = day.succ_opt() else {
                return day;
            };
            day = next;
            if self.is_working_day(day) {
                return day;
            }
        }
    }

    /// The `n`th working day after `date`, `date` itself not counted (`n = 0` gives `date`).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        (0..n).fold(date, |day, _| self.next_working_day(day))
    }

    #[cold]
    fn warn_uncovered(&self, year: i32) {
        let first_time = match self.warned.lock() {
            Ok(mut warned) => warned.insert(year),
            // A panic elsewhere while holding the lock: warning again is harmless.
            Err(_) => true,
        };
        if first_time {
            tracing::warn!(
                year,
                "the business calendar has no official holiday arrangements for {year}: only \
                 Saturdays and Sundays count as rest days; load that year's State Council notice"
            );
        }
    }
}

fn parse_csv(text: &str) -> Result<BTreeMap<NaiveDate, Entry>, CalendarError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());

    let headers = reader.headers().map_err(malformed)?;
    if headers.iter().ne(HEADER) {
        return Err(CalendarError::BadHeader {
            line: headers.position().map_or(1, csv::Position::line),
            found: headers.iter().collect::<Vec<_>>().join(","),
        });
    }

    let mut days = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        let line = record.position().map_or(0, csv::Position::line);
        let field = |i: usize| record.get(i).unwrap_or_default();

        let date = NaiveDate::parse_from_str(field(0), "%Y-%m-%d").map_err(|_| {
            CalendarError::BadDate {
                line,
                value: field(0).to_owned(),
            }
        })?;
        let kind: DayKind = field(1).parse().map_err(|()| CalendarError::UnknownKind {
            line,
            value: field(1).to_owned(),
        })?;
        let festival = Some(field(2)).filter(|f| !f.is_empty()).map(str::to_owned);
        days.insert(date, Entry { kind, festival });
    }
    Ok(days)
}

fn malformed(error: csv::Error) -> CalendarError {
    let line = error.position().map_or(0, csv::Position::line);
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields (date,kind,festival), found {len}"),
        _ => error.to_string(),
    };
    CalendarError::Malformed { line, message }
}

#[cfg(test)]
mod tests;
