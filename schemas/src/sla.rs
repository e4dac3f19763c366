//! Time limits (SLA, SPEC §6): the policies as data, and pure deadline arithmetic on top of the
//! [`BusinessCalendar`].
//!
//! - [`SlaPolicies`] is loaded from TOML: the shipped default `schemas/sla/policies.toml`
//!   ([`SlaPolicies::default_policies`]) or a city's own file ([`SlaPolicies::from_toml`]).
//! - [`SlaClock`] computes deadlines in the city's time zone: clock-time limits (`"30m"`,
//!   `"12h"`) run on any day; working-day limits (`"3wd"`) follow the business calendar.
//!
//! Nothing here reads a clock or a file: the caller passes the instants and the text.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::appeal::{Channel, Deadlines, Kind, Priority};
use crate::calendar::BusinessCalendar;

/// The shipped default policies.
const DEFAULT_POLICIES_TOML: &str = include_str!("../sla/policies.toml");

/// Longest limit accepted, whatever the unit: a limit beyond a year is a typo.
const MAX_DAYS: u32 = 366;

/// A policy file or a limit that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SlaError {
    /// The TOML does not parse or does not have the expected shape (the message shows where).
    #[error("SLA policies: {0}")]
    Toml(#[from] toml::de::Error),
    /// A limit string such as `"3wd"` is malformed or out of range.
    #[error("invalid limit {value:?}: {reason}")]
    BadLimit { value: String, reason: String },
    /// The file parses but a value breaks a rule (`field` is its path, e.g. `rule[2].warnings`).
    #[error("SLA policies: {field}: {message}")]
    Invalid { field: String, message: String },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> SlaError {
    SlaError::Invalid {
        field: field.into(),
        message: message.into(),
    }
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
    type Err = SlaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| SlaError::BadLimit {
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

/// The limits that apply to one appeal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaPolicy {
    /// Acceptance or return by the unit (签收), counted from dispatch.
    pub response: Limit,
    /// Reply by the unit (办结), counted from dispatch.
    pub resolution: Limit,
    /// Fractions of the resolution time at which to warn, strictly increasing in (0, 1).
    pub warnings: Vec<f64>,
}

/// All time-limit policies of a city. Deserializing (serde) validates, as
/// [`SlaPolicies::from_toml`] does.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "PoliciesFile")]
pub struct SlaPolicies {
    /// Indexed by [`priority_index`].
    base: [SlaPolicy; 2],
    rules: Vec<Rule>,
    rework: Limit,
    extension_lead: Limit,
    urgent_extension_lead: Option<Limit>,
    dispatch_wait: Limit,
    follow_up: FollowUp,
}

/// What happens after a limit is missed, and after a reply (SPEC §6–§7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FollowUp {
    /// After a missed limit (dispatch, response), the next reminder comes this long after the
    /// previous one until someone acts.
    pub remind_every: Limit,
    /// The supervisor (督办员) is alerted to phone a unit that has not signed for an appeal this
    /// long after the response limit (政企约见: 6 hours).
    pub response_supervisor_after: Limit,
    /// Escalation ladder after a missed resolution deadline: level 1 (reminder to the unit) at
    /// the deadline, level 2 (the supervisor) this long after it …
    pub supervisor_after: Limit,
    /// … and level 3 (the unit's leader, 包案) this long after it.
    pub leader_after: Limit,
    /// A reply not rated within this closes the appeal as not rated.
    pub rating_wait: Limit,
    /// Bad ratings that send an appeal back for rework before the supervisor is called in.
    pub max_reworks: u32,
}

impl Default for FollowUp {
    fn default() -> Self {
        Self {
            remind_every: Limit::Minutes(30),
            response_supervisor_after: Limit::Hours(6),
            supervisor_after: Limit::Hours(4),
            leader_after: Limit::WorkingDays(1),
            rating_wait: Limit::WorkingDays(5),
            max_reworks: 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Rule {
    kind: Option<Kind>,
    channel: Option<Channel>,
    priority: Option<Priority>,
    /// Indexed by [`priority_index`].
    policies: [SlaPolicy; 2],
}

impl Rule {
    fn matches(&self, kind: Kind, channel: Channel, priority: Priority) -> bool {
        self.kind.is_none_or(|k| k == kind)
            && self.channel.is_none_or(|c| c == channel)
            && self.priority.is_none_or(|p| p == priority)
    }
}

fn priority_index(priority: Priority) -> usize {
    match priority {
        Priority::Normal => 0,
        Priority::Urgent => 1,
    }
}

impl SlaPolicies {
    /// The policies shipped with the crate (`schemas/sla/policies.toml`).
    pub fn default_policies() -> Result<Self, SlaError> {
        Self::from_toml(DEFAULT_POLICIES_TOML)
    }

    /// Policies from TOML text in the format of `schemas/sla/policies.toml`, validated.
    pub fn from_toml(text: &str) -> Result<Self, SlaError> {
        let file: PoliciesFile = toml::from_str(text)?;
        Self::try_from(file)
    }

    /// The policy for an appeal: the first matching `[[rule]]`, else the defaults.
    pub fn policy_for(&self, kind: Kind, channel: Channel, priority: Priority) -> &SlaPolicy {
        let i = priority_index(priority);
        self.rules
            .iter()
            .find(|rule| rule.matches(kind, channel, priority))
            .map_or(&self.base[i], |rule| &rule.policies[i])
    }

    /// Time given for rework after a bad rating (差评整改, SPEC §7).
    pub fn rework_limit(&self) -> Limit {
        self.rework
    }

    /// How long an appeal may wait in the dispatcher's queue (派单时限).
    pub fn dispatch_wait(&self) -> Limit {
        self.dispatch_wait
    }

    /// Reminders, the escalation ladder and the rating follow-up.
    pub fn follow_up(&self) -> &FollowUp {
        &self.follow_up
    }

    /// How long before the resolution deadline an extension must be requested at the latest;
    /// `None`: any time before the deadline.
    pub fn extension_lead(&self, priority: Priority) -> Option<Limit> {
        match priority {
            Priority::Normal => Some(self.extension_lead),
            Priority::Urgent => self.urgent_extension_lead,
        }
    }
}

// ---- The file format -------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoliciesFile {
    response: Limit,
    warnings: Vec<f64>,
    resolution: ResolutionFile,
    rework: ReworkFile,
    extension: ExtensionFile,
    #[serde(default)]
    dispatch: DispatchFile,
    #[serde(default)]
    follow_up: FollowUp,
    #[serde(default, rename = "rule")]
    rules: Vec<RuleFile>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolutionFile {
    normal: Limit,
    urgent: Limit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReworkFile {
    limit: Limit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtensionFile {
    lead: Limit,
    #[serde(default)]
    urgent_lead: Option<Limit>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct DispatchFile {
    wait: Limit,
}

impl Default for DispatchFile {
    fn default() -> Self {
        Self {
            wait: Limit::Minutes(15),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    kind: Option<Kind>,
    channel: Option<Channel>,
    priority: Option<Priority>,
    response: Option<Limit>,
    resolution: Option<Limit>,
    warnings: Option<Vec<f64>>,
}

fn validate_warnings(field: &str, warnings: &[f64]) -> Result<(), SlaError> {
    for (i, &w) in warnings.iter().enumerate() {
        // Written so that NaN fails too.
        if !(w > 0.0 && w < 1.0) {
            return Err(invalid(
                field,
                format!("threshold {w} must be strictly between 0 and 1"),
            ));
        }
        if let Some(&previous) = i.checked_sub(1).and_then(|p| warnings.get(p))
            && w <= previous
        {
            return Err(invalid(
                field,
                format!("thresholds must be strictly increasing, but {w} follows {previous}"),
            ));
        }
    }
    Ok(())
}

impl TryFrom<PoliciesFile> for SlaPolicies {
    type Error = SlaError;

    fn try_from(file: PoliciesFile) -> Result<Self, SlaError> {
        validate_warnings("warnings", &file.warnings)?;
        let base = [
            SlaPolicy {
                response: file.response,
                resolution: file.resolution.normal,
                warnings: file.warnings.clone(),
            },
            SlaPolicy {
                response: file.response,
                resolution: file.resolution.urgent,
                warnings: file.warnings.clone(),
            },
        ];

        let mut rules = Vec::with_capacity(file.rules.len());
        for (i, rule) in file.rules.into_iter().enumerate() {
            let field = format!("rule[{}]", i + 1);
            if rule.kind.is_none() && rule.channel.is_none() && rule.priority.is_none() {
                return Err(invalid(
                    field,
                    "sets none of kind, channel, priority, so it would apply to every appeal; \
                     change the defaults instead",
                ));
            }
            if rule.response.is_none() && rule.resolution.is_none() && rule.warnings.is_none() {
                return Err(invalid(
                    field,
                    "overrides nothing: set response, resolution and/or warnings",
                ));
            }
            if let Some(warnings) = &rule.warnings {
                validate_warnings(&format!("{field}.warnings"), warnings)?;
            }
            let resolve = |default: &SlaPolicy| SlaPolicy {
                response: rule.response.unwrap_or(default.response),
                resolution: rule.resolution.unwrap_or(default.resolution),
                warnings: rule
                    .warnings
                    .clone()
                    .unwrap_or_else(|| default.warnings.clone()),
            };
            rules.push(Rule {
                kind: rule.kind,
                channel: rule.channel,
                priority: rule.priority,
                policies: [resolve(&base[0]), resolve(&base[1])],
            });
        }

        Ok(SlaPolicies {
            base,
            rules,
            rework: file.rework.limit,
            extension_lead: file.extension.lead,
            urgent_extension_lead: file.extension.urgent_lead,
            dispatch_wait: file.dispatch.wait,
            follow_up: file.follow_up,
        })
    }
}

// ---- Deadline arithmetic ---------------------------------------------------------------------

/// Deadline arithmetic in a city's time zone on its business calendar.
#[derive(Debug, Clone, Copy)]
pub struct SlaClock<'a> {
    calendar: &'a BusinessCalendar,
    tz: Tz,
}

impl<'a> SlaClock<'a> {
    pub fn new(calendar: &'a BusinessCalendar, tz: Tz) -> Self {
        Self { calendar, tz }
    }

    pub fn calendar(&self) -> &'a BusinessCalendar {
        self.calendar
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// `start` plus `limit`. Minutes and hours are clock time. Working days: from a rest day
    /// the count starts at 00:00 local of the next working day; the deadline is the same local
    /// clock time on the `n`th following working day (Friday 15:00 + 3wd = Wednesday 15:00).
    pub fn add(&self, start: DateTime<Utc>, limit: Limit) -> DateTime<Utc> {
        match limit {
            Limit::Minutes(_) | Limit::Hours(_) => {
                let duration = limit.clock_duration().unwrap_or_default();
                start
                    .checked_add_signed(duration)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC)
            }
            Limit::WorkingDays(n) => {
                let local = start.with_timezone(&self.tz).naive_local();
                let (mut date, mut time) = (local.date(), local.time());
                if !self.calendar.is_working_day(date) {
                    date = self.calendar.next_working_day(date);
                    time = NaiveTime::MIN;
                }
                let due = self.calendar.add_working_days(date, n);
                self.local_to_utc(due.and_time(time))
            }
        }
    }

    /// The deadlines set when an appeal is dispatched at `at`.
    pub fn on_dispatch(&self, policy: &SlaPolicy, at: DateTime<Utc>) -> Deadlines {
        let resolve_due = self.add(at, policy.resolution);
        Deadlines {
            response_due: Some(self.add(at, policy.response)),
            resolve_due: Some(resolve_due),
            original_resolve_due: Some(resolve_due),
        }
    }

    /// The resolution deadline after an approved extension of `limit`, counted from the current
    /// deadline (working days from the deadline's local time).
    pub fn extend(&self, resolve_due: DateTime<Utc>, limit: Limit) -> DateTime<Utc> {
        self.add(resolve_due, limit)
    }

    /// Whether an extension requested at `now` is early enough: for a normal appeal the
    /// deadline must be at least the lead (1 working day by default) away, i.e.
    /// `add(now, lead) <= resolve_due`; for an urgent one (no lead), `now < resolve_due`.
    pub fn extension_request_in_time(
        &self,
        policies: &SlaPolicies,
        now: DateTime<Utc>,
        resolve_due: DateTime<Utc>,
        priority: Priority,
    ) -> bool {
        match policies.extension_lead(priority) {
            Some(lead) => self.add(now, lead) <= resolve_due,
            None => now < resolve_due,
        }
    }

    /// The new deadline when a bad rating at `at` sends the appeal back for rework.
    pub fn rework_due(&self, policies: &SlaPolicies, at: DateTime<Utc>) -> DateTime<Utc> {
        self.add(at, policies.rework_limit())
    }

    /// When to warn about the resolution deadline: one instant per `policy.warnings` threshold,
    /// see [`SlaClock::instants_at_fractions`] (with `policy.resolution`).
    pub fn warning_instants(
        &self,
        policy: &SlaPolicy,
        start: DateTime<Utc>,
        due: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        self.instants_at_fractions(policy.resolution, &policy.warnings, start, due)
    }

    /// For each fraction, the instant at which that fraction of the time from `start` to `due`
    /// has passed. For a clock-time `limit` it is a fraction of the clock time; for working
    /// days, of the working time (time on working days in the local time zone), and an instant
    /// that falls exactly between working days is the start of the next one. Fractions are
    /// clamped to [0, 1]; if `due <= start` every instant is `due`.
    pub fn instants_at_fractions(
        &self,
        limit: Limit,
        fractions: &[f64],
        start: DateTime<Utc>,
        due: DateTime<Utc>,
    ) -> Vec<DateTime<Utc>> {
        if due <= start {
            return vec![due; fractions.len()];
        }
        if limit.is_clock_time() {
            let total = due - start;
            return fractions
                .iter()
                .map(|&f| start.checked_add_signed(scale(total, f)).unwrap_or(due))
                .collect();
        }
        let total = self.working_time_between(start, due);
        fractions
            .iter()
            .map(|&f| self.after_working_time(start, due, scale(total, f)))
            .collect()
    }

    /// Working time (time falling on working days in the local time zone) between two instants;
    /// zero if `end <= start`. Useful for statistics and for paused clocks.
    pub fn working_time_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> TimeDelta {
        self.working_segments(start, end)
            .fold(TimeDelta::zero(), |total, (a, b)| total + (b - a))
    }

    /// The deadline `due` of a `limit` after the clock was paused from `since` to `until`
    /// (补充材料): moved by the paused time — clock time for a clock-time limit, working time
    /// for working days (a pause over a weekend moves a 3wd deadline by nothing).
    pub fn shift_by_pause(
        &self,
        limit: Limit,
        due: DateTime<Utc>,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> DateTime<Utc> {
        if until <= since {
            return due;
        }
        if limit.is_clock_time() {
            return due.checked_add_signed(until - since).unwrap_or(due);
        }
        let paused = self.working_time_between(since, until);
        // Enough calendar room to hold `paused` of working time after `due`.
        let days = u32::try_from(paused.num_days())
            .unwrap_or(MAX_DAYS)
            .min(MAX_DAYS)
            + 2;
        let horizon = self.add(due, Limit::WorkingDays(days));
        self.after_working_time(due, horizon, paused)
    }

    /// The instant, not after `end`, at which `amount` of working time has passed since `start`.
    fn after_working_time(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        amount: TimeDelta,
    ) -> DateTime<Utc> {
        let mut remaining = amount;
        for (a, b) in self.working_segments(start, end) {
            let length = b - a;
            if remaining < length {
                return a.checked_add_signed(remaining).unwrap_or(b);
            }
            remaining -= length;
        }
        end
    }

    /// The parts of `[start, end)` that fall on working days, one per local day, in order.
    fn working_segments(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let first = start.with_timezone(&self.tz).date_naive();
        std::iter::successors(Some(first), |d| d.succ_opt())
            .map(move |d| (d, self.local_midnight(d)))
            .take_while(move |&(_, midnight)| midnight < end)
            .filter(|&(d, _)| self.calendar.is_working_day(d))
            .filter_map(move |(d, midnight)| {
                let next_midnight = d
                    .succ_opt()
                    .map_or(DateTime::<Utc>::MAX_UTC, |next| self.local_midnight(next));
                let a = midnight.max(start);
                let b = next_midnight.min(end);
                (a < b).then_some((a, b))
            })
    }

    fn local_midnight(&self, date: NaiveDate) -> DateTime<Utc> {
        self.local_to_utc(date.and_time(NaiveTime::MIN))
    }

    /// A local wall-clock time as an instant: the earlier one if it occurs twice (clocks turned
    /// back); if it does not occur (clocks jumped forward), shifted forward by the gap, as
    /// the clocks show it right after the jump (02:30 in a 02:00→03:00 gap becomes 03:30).
    fn local_to_utc(&self, local: NaiveDateTime) -> DateTime<Utc> {
        if let Some(instant) = self.tz.from_local_datetime(&local).earliest() {
            return instant.with_timezone(&Utc);
        }
        // In a gap: use the offset in force a day before (gaps are far apart).
        let before = local
            .checked_sub_signed(TimeDelta::days(1))
            .unwrap_or(local);
        let offset = self.tz.offset_from_utc_datetime(&before).fix();
        let utc = local
            .checked_sub_signed(TimeDelta::seconds(i64::from(offset.local_minus_utc())))
            .unwrap_or(local);
        Utc.from_utc_datetime(&utc)
    }
}

/// `fraction` (clamped to [0, 1]) of `total`, to the millisecond.
fn scale(total: TimeDelta, fraction: f64) -> TimeDelta {
    let fraction = if fraction.is_nan() {
        0.0
    } else {
        fraction.clamp(0.0, 1.0)
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let millis = (total.num_milliseconds() as f64 * fraction).round() as i64;
    TimeDelta::milliseconds(millis)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::{Datelike, Weekday};
    use chrono_tz::Asia::Shanghai;

    fn calendar() -> BusinessCalendar {
        BusinessCalendar::official().unwrap()
    }

    fn policies() -> SlaPolicies {
        SlaPolicies::default_policies().unwrap()
    }

    /// A Shanghai wall-clock time as an instant.
    fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Shanghai
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().unwrap()
    }

    fn weekday(t: DateTime<Utc>) -> Weekday {
        t.with_timezone(&Shanghai).weekday()
    }

    const WD3: Limit = Limit::WorkingDays(3);

    // ---- Limit ----

    #[test]
    fn limit_parses_and_displays() {
        assert_eq!("30m".parse::<Limit>().unwrap(), Limit::Minutes(30));
        assert_eq!("12h".parse::<Limit>().unwrap(), Limit::Hours(12));
        assert_eq!("3wd".parse::<Limit>().unwrap(), Limit::WorkingDays(3));
        assert_eq!(" 15wd ".parse::<Limit>().unwrap(), Limit::WorkingDays(15));
        for limit in [Limit::Minutes(30), Limit::Hours(12), Limit::WorkingDays(3)] {
            assert_eq!(limit.to_string().parse::<Limit>().unwrap(), limit);
        }
        assert_eq!(Limit::WorkingDays(3).to_string(), "3wd");
        assert!(Limit::Hours(12).is_clock_time());
        assert!(!WD3.is_clock_time());
        assert_eq!(
            Limit::Minutes(30).clock_duration(),
            Some(TimeDelta::minutes(30))
        );
        assert_eq!(WD3.clock_duration(), None);
    }

    #[test]
    fn limit_rejects_bad_values() {
        for bad in [
            "",
            "3",
            "3d",
            "wd",
            "-3wd",
            "3 wd",
            "1.5h",
            "3WD",
            "99999999999m",
        ] {
            let err = bad.parse::<Limit>().unwrap_err();
            assert!(matches!(err, SlaError::BadLimit { .. }), "{bad}: {err}");
        }
        let err = "0wd".parse::<Limit>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid limit \"0wd\": must be greater than zero"
        );
        let err = "400wd".parse::<Limit>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid limit \"400wd\": longer than a year (at most 366wd)"
        );
        assert!("8784h".parse::<Limit>().is_ok());
        assert!("8785h".parse::<Limit>().is_err());
    }

    // ---- Policies ----

    #[test]
    fn default_policies_match_the_spec() {
        let p = policies();
        let normal = p.policy_for(Kind::Complaint, Channel::Hotline, Priority::Normal);
        assert_eq!(
            normal,
            &SlaPolicy {
                response: Limit::Minutes(30),
                resolution: Limit::WorkingDays(3),
                warnings: vec![0.5, 0.8],
            }
        );
        let urgent = p.policy_for(Kind::Help, Channel::Wechat, Priority::Urgent);
        assert_eq!(urgent.response, Limit::Minutes(30));
        assert_eq!(urgent.resolution, Limit::Hours(12));
        assert_eq!(urgent.warnings, vec![0.5, 0.8]);
        assert_eq!(p.rework_limit(), Limit::WorkingDays(15));
        assert_eq!(
            p.extension_lead(Priority::Normal),
            Some(Limit::WorkingDays(1))
        );
        assert_eq!(p.extension_lead(Priority::Urgent), None);
        // The shipped defaults have no overrides: every kind and channel gets the same.
        for kind in [Kind::Consultation, Kind::Praise, Kind::Report] {
            for channel in [Channel::Mailbox, Channel::Open311, Channel::Web] {
                assert_eq!(p.policy_for(kind, channel, Priority::Normal), normal);
                assert_eq!(p.policy_for(kind, channel, Priority::Urgent), urgent);
            }
        }
    }

    const BASE: &str = r#"
response = "30m"
warnings = [0.5, 0.8]
[resolution]
normal = "3wd"
urgent = "12h"
[rework]
limit = "15wd"
[extension]
lead = "1wd"
"#;

    fn with(extra: &str) -> Result<SlaPolicies, SlaError> {
        SlaPolicies::from_toml(&format!("{BASE}{extra}"))
    }

    #[test]
    fn follow_up_defaults_partial_overrides_and_unknown_keys() {
        assert_eq!(policies().follow_up(), &FollowUp::default());
        assert_eq!(with("").unwrap().follow_up(), &FollowUp::default());
        let p = with("[follow_up]\nremind_every = \"1h\"\nmax_reworks = 0\n").unwrap();
        assert_eq!(p.follow_up().remind_every, Limit::Hours(1));
        assert_eq!(p.follow_up().max_reworks, 0);
        assert_eq!(p.follow_up().leader_after, Limit::WorkingDays(1));
        let err = with("[follow_up]\nremind_evry = \"1h\"\n").unwrap_err();
        assert!(err.to_string().contains("remind_evry"), "{err}");
        let err = with("[follow_up]\nrating_wait = \"5d\"\n").unwrap_err();
        assert!(err.to_string().contains("5d"), "{err}");
    }

    #[test]
    fn overrides_by_kind_channel_priority_first_match_wins() {
        let p = with(
            r#"
[[rule]]
kind = "consultation"
priority = "normal"
resolution = "1wd"

[[rule]]
kind = "consultation"
channel = "mailbox"
resolution = "5wd"

[[rule]]
channel = "mailbox"
response = "2h"
warnings = [0.3, 0.6, 0.9]

[[rule]]
kind = "suggestion"
resolution = "10wd"
"#,
        )
        .unwrap();
        // Rule 1: normal consultations on any channel, including the mailbox (first match).
        let c = p.policy_for(Kind::Consultation, Channel::Mailbox, Priority::Normal);
        assert_eq!(c.resolution, Limit::WorkingDays(1));
        assert_eq!(c.response, Limit::Minutes(30));
        assert_eq!(c.warnings, vec![0.5, 0.8]);
        assert_eq!(
            p.policy_for(Kind::Consultation, Channel::Web, Priority::Normal)
                .resolution,
            Limit::WorkingDays(1)
        );
        // Rule 1 does not match urgent; rule 2 does for the mailbox.
        let c = p.policy_for(Kind::Consultation, Channel::Mailbox, Priority::Urgent);
        assert_eq!(c.resolution, Limit::WorkingDays(5));
        assert_eq!(c.response, Limit::Minutes(30));
        // An urgent web consultation: no rule, defaults.
        assert_eq!(
            p.policy_for(Kind::Consultation, Channel::Web, Priority::Urgent)
                .resolution,
            Limit::Hours(12)
        );
        // Rule 3: mailbox complaints keep the per-priority resolution, change the rest.
        let m = p.policy_for(Kind::Complaint, Channel::Mailbox, Priority::Normal);
        assert_eq!(m.response, Limit::Hours(2));
        assert_eq!(m.resolution, Limit::WorkingDays(3));
        assert_eq!(m.warnings, vec![0.3, 0.6, 0.9]);
        let m = p.policy_for(Kind::Complaint, Channel::Mailbox, Priority::Urgent);
        assert_eq!(m.resolution, Limit::Hours(12));
        // Rule 4: suggestions, any priority.
        assert_eq!(
            p.policy_for(Kind::Suggestion, Channel::Hotline, Priority::Urgent)
                .resolution,
            Limit::WorkingDays(10)
        );
        // Others: defaults.
        assert_eq!(
            p.policy_for(Kind::Complaint, Channel::Hotline, Priority::Normal)
                .resolution,
            Limit::WorkingDays(3)
        );
    }

    #[test]
    fn serde_deserialize_validates_too() {
        #[derive(Deserialize)]
        struct Config {
            sla: SlaPolicies,
        }
        let nested = BASE.replace("[resolution]", "[sla.resolution]");
        let nested = nested
            .replace("[rework]", "[sla.rework]")
            .replace("[extension]", "[sla.extension]")
            .replacen("response", "[sla]\nresponse", 1);
        let config: Config = toml::from_str(&nested).unwrap();
        assert_eq!(config.sla, policies());
        let broken = nested.replace("[0.5, 0.8]", "[0.8, 0.5]");
        let err = toml::from_str::<Config>(&broken).err().unwrap();
        assert!(err.to_string().contains("strictly increasing"), "{err}");
    }

    fn invalid_message(result: Result<SlaPolicies, SlaError>) -> (String, String) {
        match result {
            Err(SlaError::Invalid { field, message }) => (field, message),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn validation_of_thresholds() {
        for (warnings, expected) in [
            ("[0.0, 0.8]", "threshold 0 must be strictly between 0 and 1"),
            ("[0.5, 1.0]", "threshold 1 must be strictly between 0 and 1"),
            (
                "[0.5, 1.5]",
                "threshold 1.5 must be strictly between 0 and 1",
            ),
            ("[-0.2]", "threshold -0.2 must be strictly between 0 and 1"),
            ("[nan]", "threshold NaN must be strictly between 0 and 1"),
            (
                "[0.8, 0.5]",
                "thresholds must be strictly increasing, but 0.5 follows 0.8",
            ),
            (
                "[0.5, 0.5]",
                "thresholds must be strictly increasing, but 0.5 follows 0.5",
            ),
        ] {
            let text = BASE.replace("[0.5, 0.8]", warnings);
            let (field, message) = invalid_message(SlaPolicies::from_toml(&text));
            assert_eq!(field, "warnings");
            assert_eq!(message, expected);
        }
        // No warnings at all is allowed.
        let p = SlaPolicies::from_toml(&BASE.replace("[0.5, 0.8]", "[]")).unwrap();
        assert!(
            p.policy_for(Kind::Help, Channel::Web, Priority::Normal)
                .warnings
                .is_empty()
        );
        let (field, _) =
            invalid_message(with("[[rule]]\nkind = \"help\"\nwarnings = [0.9, 0.2]\n"));
        assert_eq!(field, "rule[1].warnings");
    }

    #[test]
    fn validation_of_limits_and_shape() {
        let err = SlaPolicies::from_toml(&BASE.replace("\"30m\"", "\"0m\"")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("invalid limit \"0m\": must be greater than zero"),
            "{text}"
        );
        assert!(text.contains("line 2"), "{text}");

        let err = SlaPolicies::from_toml(&BASE.replace("\"3wd\"", "\"3 days\"")).unwrap_err();
        assert!(
            err.to_string().contains("invalid limit \"3 days\""),
            "{err}"
        );

        // A typo in a field name is refused, not ignored.
        let err = SlaPolicies::from_toml(&BASE.replace("lead =", "laed =")).unwrap_err();
        assert!(err.to_string().contains("laed"), "{err}");
        // A missing section.
        let err =
            SlaPolicies::from_toml(&BASE.replace("[rework]\nlimit = \"15wd\"", "")).unwrap_err();
        assert!(err.to_string().contains("rework"), "{err}");
        // An unknown kind.
        let err = with("[[rule]]\nkind = \"gossip\"\nresolution = \"1wd\"\n").unwrap_err();
        assert!(err.to_string().contains("gossip"), "{err}");

        let (field, message) = invalid_message(with("[[rule]]\nresolution = \"1wd\"\n"));
        assert_eq!(field, "rule[1]");
        assert!(message.contains("every appeal"), "{message}");
        let (field, message) = invalid_message(with(
            "[[rule]]\nkind = \"help\"\nresolution = \"1wd\"\n[[rule]]\nkind = \"praise\"\n",
        ));
        assert_eq!(field, "rule[2]");
        assert!(message.contains("overrides nothing"), "{message}");
        assert_eq!(
            SlaError::Invalid {
                field,
                message: "x".into()
            }
            .to_string(),
            "SLA policies: rule[2]: x"
        );
    }

    // ---- Deadlines ----

    #[test]
    fn friday_afternoon_plus_three_working_days_is_wednesday() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        let due = clock.add(sh(2026, 11, 20, 15, 0), WD3);
        assert_eq!(weekday(sh(2026, 11, 20, 15, 0)), Weekday::Fri);
        assert_eq!(due, sh(2026, 11, 25, 15, 0));
        assert_eq!(weekday(due), Weekday::Wed);
        // Seconds are kept.
        let start = sh(2026, 11, 20, 15, 0) + TimeDelta::seconds(42);
        assert_eq!(
            clock.add(start, WD3),
            sh(2026, 11, 25, 15, 0) + TimeDelta::seconds(42)
        );
        // A Monday dispatch ends on Thursday.
        assert_eq!(
            clock.add(sh(2026, 11, 16, 9, 30), WD3),
            sh(2026, 11, 19, 9, 30)
        );
        assert_eq!(
            clock.add(sh(2026, 11, 20, 15, 0), Limit::WorkingDays(1)),
            sh(2026, 11, 23, 15, 0)
        );
    }

    #[test]
    fn rest_day_dispatch_starts_next_working_day_at_midnight() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        // Saturday and Sunday → Monday 00:00 → Thursday 00:00.
        assert_eq!(
            clock.add(sh(2026, 11, 21, 10, 0), WD3),
            sh(2026, 11, 26, 0, 0)
        );
        assert_eq!(
            clock.add(sh(2026, 11, 22, 23, 59), WD3),
            sh(2026, 11, 26, 0, 0)
        );
        // Monday 00:00 itself is a working-day start.
        assert_eq!(
            clock.add(sh(2026, 11, 23, 0, 0), WD3),
            sh(2026, 11, 26, 0, 0)
        );
        // Inside the National Day holiday → Thursday 10-08 00:00, then 10-09, 10-10 (adjusted
        // Saturday), 10-12.
        assert_eq!(
            clock.add(sh(2026, 10, 3, 14, 0), WD3),
            sh(2026, 10, 12, 0, 0)
        );
    }

    #[test]
    fn national_day_2026_is_skipped() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        // Wednesday 09-30 10:00: 10-01..07 off; 10-08 (Thu), 10-09 (Fri), 10-10 (Sat, adjusted
        // working day in the 2026 notice) → Saturday 10-10 10:00.
        assert!(cal.is_working_day(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()));
        let due = clock.add(sh(2026, 9, 30, 10, 0), WD3);
        assert_eq!(due, sh(2026, 10, 10, 10, 0));
        assert_eq!(weekday(due), Weekday::Sat);
        // The Mid-autumn holiday 09-25..27 just before: Thursday 09-24 → 09-28, 29, 30.
        assert_eq!(
            clock.add(sh(2026, 9, 24, 16, 0), WD3),
            sh(2026, 9, 30, 16, 0)
        );
    }

    #[test]
    fn spring_festival_2026_is_skipped() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        // Thursday 02-12 10:00: 02-13 (Fri), 02-14 (Sat, adjusted), then 02-15..23 off,
        // 02-24 (Tue) → Tuesday 02-24 10:00.
        assert_eq!(
            clock.add(sh(2026, 2, 12, 10, 0), WD3),
            sh(2026, 2, 24, 10, 0)
        );
        // Friday 02-13 17:00: 02-14, 02-24, 02-25.
        assert_eq!(
            clock.add(sh(2026, 2, 13, 17, 0), WD3),
            sh(2026, 2, 25, 17, 0)
        );
        // Inside the holiday → 02-24 00:00 → 02-27 00:00.
        assert_eq!(
            clock.add(sh(2026, 2, 18, 11, 0), WD3),
            sh(2026, 2, 27, 0, 0)
        );
        // Thursday 02-26: 02-27, 02-28 (Sat, adjusted), 03-02 (Mon).
        assert_eq!(clock.add(sh(2026, 2, 26, 9, 0), WD3), sh(2026, 3, 2, 9, 0));
    }

    #[test]
    fn adjusted_working_saturday_is_not_a_rest_day_start() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        assert_eq!(weekday(sh(2026, 2, 14, 9, 0)), Weekday::Sat);
        // Counted from Saturday 09:00 itself: 02-24, 02-25, 02-26 at 09:00 (a rest-day start
        // would give 02-27 00:00).
        assert_eq!(clock.add(sh(2026, 2, 14, 9, 0), WD3), sh(2026, 2, 26, 9, 0));
        // Same on 2026-10-10: 10-12, 10-13, 10-14.
        assert_eq!(
            clock.add(sh(2026, 10, 10, 9, 0), WD3),
            sh(2026, 10, 14, 9, 0)
        );
    }

    #[test]
    fn clock_time_limits_ignore_weekends_and_holidays() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        // 30 minutes across midnight into a Saturday.
        assert_eq!(
            clock.add(sh(2026, 11, 20, 23, 45), Limit::Minutes(30)),
            sh(2026, 11, 21, 0, 15)
        );
        // 12 hours from Friday 18:00 ends Saturday 06:00.
        assert_eq!(
            clock.add(sh(2026, 11, 20, 18, 0), Limit::Hours(12)),
            sh(2026, 11, 21, 6, 0)
        );
        // 12 hours inside the National Day holiday.
        assert_eq!(
            clock.add(sh(2026, 10, 1, 20, 0), Limit::Hours(12)),
            sh(2026, 10, 2, 8, 0)
        );
        // 30 minutes on Spring Festival eve.
        assert_eq!(
            clock.add(sh(2026, 2, 16, 23, 50), Limit::Minutes(30)),
            sh(2026, 2, 17, 0, 20)
        );
    }

    #[test]
    fn local_date_not_utc_date_decides_rest_days() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        // 2026-11-20 17:00 UTC is Friday in UTC but Saturday 01:00 in Shanghai: rest-day rule,
        // Monday 00:00 + 3wd = Thursday 00:00 Shanghai (Wednesday 16:00 UTC).
        let start = utc(2026, 11, 20, 17, 0);
        assert_eq!(start, sh(2026, 11, 21, 1, 0));
        assert_eq!(clock.add(start, WD3), sh(2026, 11, 26, 0, 0));
        assert_eq!(clock.add(start, WD3), utc(2026, 11, 25, 16, 0));
        // 2026-11-22 20:00 UTC is Monday 04:00 in Shanghai: a working-day start.
        assert_eq!(
            clock.add(utc(2026, 11, 22, 20, 0), WD3),
            sh(2026, 11, 26, 4, 0)
        );
        // 2026-11-20 15:59 UTC is Friday 23:59 in Shanghai.
        assert_eq!(
            clock.add(utc(2026, 11, 20, 15, 59), WD3),
            sh(2026, 11, 25, 23, 59)
        );
    }

    #[test]
    fn on_dispatch_sets_all_deadlines() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        let p = policies();
        let at = sh(2026, 11, 20, 15, 0);
        let normal = clock.on_dispatch(
            p.policy_for(Kind::Complaint, Channel::Hotline, Priority::Normal),
            at,
        );
        assert_eq!(
            normal,
            Deadlines {
                response_due: Some(sh(2026, 11, 20, 15, 30)),
                resolve_due: Some(sh(2026, 11, 25, 15, 0)),
                original_resolve_due: Some(sh(2026, 11, 25, 15, 0)),
            }
        );
        let urgent = clock.on_dispatch(
            p.policy_for(Kind::Complaint, Channel::Hotline, Priority::Urgent),
            at,
        );
        assert_eq!(urgent.response_due, Some(sh(2026, 11, 20, 15, 30)));
        assert_eq!(urgent.resolve_due, Some(sh(2026, 11, 21, 3, 0)));
        assert_eq!(urgent.original_resolve_due, urgent.resolve_due);
    }

    #[test]
    fn extension_counts_from_the_current_deadline() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        // Deadline Wednesday 09-30 16:00 + 2wd skips National Day: 10-08, 10-09.
        assert_eq!(
            clock.extend(sh(2026, 9, 30, 16, 0), Limit::WorkingDays(2)),
            sh(2026, 10, 9, 16, 0)
        );
        // An urgent deadline on a Saturday + 1wd: from Monday 00:00 → Tuesday 00:00.
        assert_eq!(
            clock.extend(sh(2026, 11, 21, 3, 0), Limit::WorkingDays(1)),
            sh(2026, 11, 24, 0, 0)
        );
        assert_eq!(
            clock.extend(sh(2026, 11, 21, 3, 0), Limit::Hours(6)),
            sh(2026, 11, 21, 9, 0)
        );
    }

    #[test]
    fn extension_request_deadline_normal() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        let p = policies();
        let due = sh(2026, 11, 25, 15, 0); // Wednesday
        let in_time = |now| clock.extension_request_in_time(&p, now, due, Priority::Normal);
        assert!(in_time(sh(2026, 11, 20, 15, 0)));
        assert!(in_time(sh(2026, 11, 24, 14, 59)));
        // Exactly one working day before is still in time.
        assert!(in_time(sh(2026, 11, 24, 15, 0)));
        assert!(!in_time(sh(2026, 11, 24, 15, 1)));
        assert!(!in_time(sh(2026, 11, 25, 10, 0)));
        assert!(!in_time(sh(2026, 11, 26, 10, 0)));
        // Deadline Monday 10:00: the latest request is Friday 10:00 (the weekend does not count).
        let due = sh(2026, 11, 23, 10, 0);
        let in_time = |now| clock.extension_request_in_time(&p, now, due, Priority::Normal);
        assert!(in_time(sh(2026, 11, 20, 10, 0)));
        assert!(!in_time(sh(2026, 11, 20, 10, 1)));
        assert!(!in_time(sh(2026, 11, 21, 9, 0))); // Saturday: Monday 00:00 + 1wd > due
        // Deadline Tuesday 00:00 leaves all of Monday: a Saturday request is in time.
        let due = sh(2026, 11, 24, 0, 0);
        assert!(clock.extension_request_in_time(&p, sh(2026, 11, 21, 9, 0), due, Priority::Normal));
        // Across National Day: deadline 10-08 16:00, latest request 09-30 16:00.
        let due = sh(2026, 10, 8, 16, 0);
        assert!(clock.extension_request_in_time(&p, sh(2026, 9, 30, 16, 0), due, Priority::Normal));
        assert!(!clock.extension_request_in_time(
            &p,
            sh(2026, 9, 30, 16, 1),
            due,
            Priority::Normal
        ));
        assert!(!clock.extension_request_in_time(&p, sh(2026, 10, 5, 9, 0), due, Priority::Normal));
    }

    #[test]
    fn extension_request_deadline_urgent() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        let p = policies();
        let due = sh(2026, 11, 21, 3, 0);
        let in_time = |now| clock.extension_request_in_time(&p, now, due, Priority::Urgent);
        assert!(in_time(sh(2026, 11, 20, 16, 0)));
        assert!(in_time(sh(2026, 11, 21, 2, 59)));
        assert!(!in_time(sh(2026, 11, 21, 3, 0)));
        assert!(!in_time(sh(2026, 11, 21, 4, 0)));
        // A city may require a lead for urgent appeals too.
        let p = SlaPolicies::from_toml(&format!("{BASE}urgent_lead = \"2h\"\n")).unwrap();
        assert_eq!(p.extension_lead(Priority::Urgent), Some(Limit::Hours(2)));
        let in_time = |now| clock.extension_request_in_time(&p, now, due, Priority::Urgent);
        assert!(in_time(sh(2026, 11, 21, 1, 0)));
        assert!(!in_time(sh(2026, 11, 21, 1, 1)));
    }

    #[test]
    fn rework_gets_fifteen_working_days() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        let p = policies();
        // Monday 2026-11-16 10:00 + 15wd = three full weeks later, Monday 12-07 10:00.
        assert_eq!(
            clock.rework_due(&p, sh(2026, 11, 16, 10, 0)),
            sh(2026, 12, 7, 10, 0)
        );
        // Across National Day: 09-28 (Mon) 10:00 → 09-29, 09-30, 10-08, 10-09, 10-10, 10-12..16,
        // 10-19..23 = 15 → Friday 10-23 10:00.
        assert_eq!(
            clock.rework_due(&p, sh(2026, 9, 28, 10, 0)),
            sh(2026, 10, 23, 10, 0)
        );
    }

    #[test]
    fn working_time_between() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        let start = sh(2026, 11, 20, 15, 0);
        let due = sh(2026, 11, 25, 15, 0);
        assert_eq!(clock.working_time_between(start, due), TimeDelta::hours(72));
        assert_eq!(clock.working_time_between(due, start), TimeDelta::zero());
        // All of a weekend: nothing.
        assert_eq!(
            clock.working_time_between(sh(2026, 11, 21, 0, 0), sh(2026, 11, 23, 0, 0)),
            TimeDelta::zero()
        );
        // Every working-day deadline is exactly n × 24 h of working time away.
        for start in [
            sh(2026, 9, 30, 10, 0),
            sh(2026, 2, 12, 10, 0),
            sh(2026, 2, 14, 9, 0),
            sh(2026, 11, 21, 10, 0),
            sh(2026, 10, 3, 14, 0),
        ] {
            for n in [1, 3, 15] {
                let due = clock.add(start, Limit::WorkingDays(n));
                assert_eq!(
                    clock.working_time_between(start, due),
                    TimeDelta::hours(24 * i64::from(n)),
                    "{start} + {n}wd"
                );
            }
        }
    }

    #[test]
    fn warnings_for_three_working_days_count_working_time() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        let p = policies();
        let policy = p.policy_for(Kind::Complaint, Channel::Hotline, Priority::Normal);
        let start = sh(2026, 11, 20, 15, 0);
        let due = clock.add(start, policy.resolution);
        // 72 working hours: Fri 9 h, Mon 24 h, Tue 24 h, Wed 15 h.
        // 50% = 36 h: Fri 9 + Mon 24 = 33, + 3 → Tue 03:00.
        // 80% = 57.6 h: 9 + 24 + 24 = 57, + 0.6 h → Wed 00:36.
        assert_eq!(
            clock.warning_instants(policy, start, due),
            vec![sh(2026, 11, 24, 3, 0), sh(2026, 11, 25, 0, 36)]
        );
    }

    #[test]
    fn warnings_for_urgent_twelve_hours_count_clock_time() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        let p = policies();
        let policy = p.policy_for(Kind::Complaint, Channel::Hotline, Priority::Urgent);
        // Friday 18:00 → Saturday 06:00: the weekend does not matter.
        let start = sh(2026, 11, 20, 18, 0);
        let due = clock.add(start, policy.resolution);
        assert_eq!(due, sh(2026, 11, 21, 6, 0));
        assert_eq!(
            clock.warning_instants(policy, start, due),
            vec![sh(2026, 11, 21, 0, 0), sh(2026, 11, 21, 3, 36)]
        );
    }

    #[test]
    fn warnings_across_holidays_and_edges() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        let wd = Limit::WorkingDays(3);
        // 09-30 10:00 → 10-10 10:00: 14 h + 24 (10-08) + 24 (10-09) + 10 = 72 h.
        let start = sh(2026, 9, 30, 10, 0);
        let due = clock.add(start, wd);
        assert_eq!(
            clock.instants_at_fractions(wd, &[0.5, 0.8], start, due),
            vec![
                sh(2026, 10, 9, 0, 0) - TimeDelta::hours(2),
                sh(2026, 10, 9, 19, 36)
            ]
        );
        // Exactly at the end of a working day: the instant is the start of the next one.
        // 14 h / 72 h of working time is 09-30 24:00, i.e. 10-08 00:00.
        assert_eq!(
            clock.instants_at_fractions(wd, &[14.0 / 72.0], start, due),
            vec![sh(2026, 10, 8, 0, 0)]
        );
        // A rest-day start: the working time starts Monday 00:00.
        let start = sh(2026, 11, 21, 10, 0);
        let due = clock.add(start, wd);
        assert_eq!(
            clock.instants_at_fractions(wd, &[0.5], start, due),
            vec![sh(2026, 11, 24, 12, 0)]
        );
        // Out-of-range fractions are clamped; an empty or inverted interval gives `due`.
        assert_eq!(
            clock.instants_at_fractions(
                Limit::Hours(12),
                &[-1.0, 2.0, f64::NAN],
                start,
                start + TimeDelta::hours(12)
            ),
            vec![start, start + TimeDelta::hours(12), start]
        );
        assert_eq!(
            clock.instants_at_fractions(wd, &[0.5], due, start),
            vec![start]
        );
        assert!(clock.instants_at_fractions(wd, &[], start, due).is_empty());
    }

    #[test]
    fn warning_instants_are_ordered_and_within_the_interval() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        let fractions = [0.1, 0.25, 0.5, 0.8, 0.95];
        for start in [
            sh(2026, 2, 12, 10, 0),
            sh(2026, 2, 14, 9, 0),
            sh(2026, 9, 30, 23, 0),
            sh(2026, 12, 31, 18, 0),
        ] {
            for limit in [
                Limit::WorkingDays(3),
                Limit::WorkingDays(15),
                Limit::Hours(12),
            ] {
                let due = clock.add(start, limit);
                let instants = clock.instants_at_fractions(limit, &fractions, start, due);
                assert_eq!(instants.len(), fractions.len());
                assert!(instants.windows(2).all(|w| w[0] < w[1]), "{instants:?}");
                assert!(instants.iter().all(|&t| start <= t && t < due));
                if !limit.is_clock_time() {
                    let total = clock.working_time_between(start, due);
                    for (&t, &f) in instants.iter().zip(&fractions) {
                        assert_eq!(clock.working_time_between(start, t), scale(total, f));
                        assert!(cal.is_working_day(t.with_timezone(&Shanghai).date_naive()));
                    }
                }
            }
        }
    }

    #[test]
    fn uncovered_year_uses_weekends_only() {
        let cal = calendar();
        let clock = SlaClock::new(&cal, Shanghai);
        // 2031-10-01 (Wed) is not known to be a holiday without the 2031 notice.
        assert_eq!(
            clock.add(sh(2031, 9, 30, 10, 0), WD3),
            sh(2031, 10, 3, 10, 0)
        );
        let mut cal = calendar();
        cal.extend_from_csv(
            "date,kind,festival\n2031-10-01,holiday,National Day\n2031-10-02,holiday,National Day\n",
        )
        .unwrap();
        let clock = SlaClock::new(&cal, Shanghai);
        assert_eq!(
            clock.add(sh(2031, 9, 30, 10, 0), WD3),
            sh(2031, 10, 7, 10, 0)
        );
    }

    #[test]
    fn daylight_saving_gaps_and_overlaps_do_not_panic() {
        use chrono_tz::Europe::Berlin;
        // Make the DST Sundays working days so that deadlines land on them.
        let cal = BusinessCalendar::from_csv(
            "date,kind,festival\n2026-03-28,workday,\n2026-03-29,workday,\n2026-10-25,workday,\n",
        )
        .unwrap();
        let clock = SlaClock::new(&cal, Berlin);
        let berlin = |y, m, d, h, min| {
            Berlin
                .with_ymd_and_hms(y, m, d, h, min, 0)
                .earliest()
                .unwrap()
                .with_timezone(&Utc)
        };
        // Saturday 02:30 + 1wd → Sunday 02:30, which does not exist (02:00 → 03:00): 03:30 CEST.
        let due = clock.add(berlin(2026, 3, 28, 2, 30), Limit::WorkingDays(1));
        assert_eq!(due, utc(2026, 3, 29, 1, 30));
        // Saturday 02:30 + 1wd → Sunday 02:30, which occurs twice: the earlier (CEST).
        let cal2 = BusinessCalendar::from_csv(
            "date,kind,festival\n2026-10-24,workday,\n2026-10-25,workday,\n",
        )
        .unwrap();
        let clock2 = SlaClock::new(&cal2, Berlin);
        let due = clock2.add(berlin(2026, 10, 24, 2, 30), Limit::WorkingDays(1));
        assert_eq!(due, utc(2026, 10, 25, 0, 30));
        // The 23-hour and 25-hour days count as they are.
        assert_eq!(
            clock.working_time_between(
                utc(2026, 3, 28, 0, 0) - TimeDelta::hours(1),
                utc(2026, 3, 30, 0, 0) - TimeDelta::hours(2)
            ),
            TimeDelta::hours(47)
        );
        assert_eq!(
            clock2.working_time_between(
                utc(2026, 10, 24, 0, 0) - TimeDelta::hours(2),
                utc(2026, 10, 26, 0, 0) - TimeDelta::hours(1)
            ),
            TimeDelta::hours(49)
        );
    }

    #[test]
    fn the_shipped_file_documents_every_field() {
        // Every key the format knows appears (possibly commented out) in the shipped file.
        for key in [
            "response",
            "warnings",
            "[resolution]",
            "normal",
            "urgent",
            "[rework]",
            "limit",
            "[extension]",
            "lead",
            "urgent_lead",
            "[[rule]]",
            "kind",
            "channel",
            "priority",
        ] {
            assert!(DEFAULT_POLICIES_TOML.contains(key), "{key}");
        }
    }
}
