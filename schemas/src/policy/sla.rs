//! Time limits (SLA, SPEC §6): the policies as data, and pure deadline arithmetic on top of the
//! [`BusinessCalendar`].
//!
//! - [`SlaPolicies`] is loaded from TOML: the shipped default `schemas/sla/policies.toml`
//!   ([`SlaPolicies::default_policies`]) or a city's own file ([`SlaPolicies::from_toml`]).
//! - [`SlaClock`] computes deadlines in the city's time zone: clock-time limits (`"30m"`,
//!   `"12h"`) run on any day; working-day limits (`"3wd"`) follow the business calendar.
//!
//! Nothing here reads a clock or a file: the caller passes the instants and the text.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::appeal::{Channel, Deadlines, Kind, Priority};
use crate::policy::calendar::BusinessCalendar;
use crate::value::limit::{Limit, LimitError, MAX_DAYS};

/// The shipped default policies.
const DEFAULT_POLICIES_TOML: &str = include_str!("../../sla/policies.toml");

/// A policy file or a limit that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SlaError {
    /// The TOML does not parse or does not have the expected shape (the message shows where).
    #[error("SLA policies: {0}")]
    Toml(#[from] toml::de::Error),
    /// A limit string such as `"3wd"` is malformed or out of range.
    #[error(transparent)]
    BadLimit(#[from] LimitError),
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

    /// How many override rules the policies have.
    pub fn overrides(&self) -> usize {
        self.rules.len()
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
mod tests;
