//! Time limits as values: `"30m"`, `"12h"`, `"3wd"`.

use std::fmt;
use std::str::FromStr;

use chrono::TimeDelta;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest limit accepted, whatever the unit: a limit beyond a year is a typo.
pub const MAX_DAYS: u32 = 366;

/// A limit string such as `"3wd"` that is malformed or out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid limit {value:?}: {reason}")]
pub struct LimitError {
    pub value: String,
    pub reason: String,
}

/// A time limit. Written in TOML as a string: `"30m"` (minutes), `"12h"` (hours), both clock
/// time on any day, or `"3wd"` (working days on the business calendar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    Minutes(u32),
    Hours(u32),
    WorkingDays(u32),
}

impl Limit {
    /// Minutes and hours run on any day, night or holiday.
    pub fn is_clock_time(self) -> bool {
        !matches!(self, Limit::WorkingDays(_))
    }

    /// The length of a clock-time limit; `None` for working days.
    pub fn clock_duration(self) -> Option<TimeDelta> {
        match self {
            Limit::Minutes(m) => Some(TimeDelta::minutes(i64::from(m))),
            Limit::Hours(h) => Some(TimeDelta::hours(i64::from(h))),
            Limit::WorkingDays(_) => None,
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Minutes(n) => write!(f, "{n}m"),
            Limit::Hours(n) => write!(f, "{n}h"),
            Limit::WorkingDays(n) => write!(f, "{n}wd"),
        }
    }
}

impl FromStr for Limit {
    type Err = LimitError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| LimitError {
            value: s.to_owned(),
            reason: reason.to_owned(),
        };
        let text = s.trim();
        let digits = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(digits);
        let expected = "expected a whole number followed by m (minutes), h (hours) or wd \
                        (working days), e.g. \"30m\", \"12h\", \"3wd\"";
        if number.is_empty() {
            return Err(bad(expected));
        }
        let n: u32 = number.parse().map_err(|_| bad("number too large"))?;
        let (limit, max) = match unit {
            "m" => (Limit::Minutes(n), MAX_DAYS * 24 * 60),
            "h" => (Limit::Hours(n), MAX_DAYS * 24),
            "wd" => (Limit::WorkingDays(n), MAX_DAYS),
            _ => return Err(bad(expected)),
        };
        if n == 0 {
            return Err(bad("must be greater than zero"));
        }
        if n > max {
            return Err(bad(&format!("longer than a year (at most {max}{unit})")));
        }
        Ok(limit)
    }
}

impl Serialize for Limit {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
