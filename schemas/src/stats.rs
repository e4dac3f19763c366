//! Statistics of a period (SPEC §8, 12345 考核指标): response within 30 minutes, on-time
//! resolution, satisfaction (非常满意 + 满意 over rated), overdue count and average handling
//! time, for the city and per unit. Pure: computed from appeals and their events.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::appeal::{Appeal, Step};
use crate::event::{Event, EventPayload};
use crate::value::ids::UnitCode;
use crate::value::snake_enum;

/// The figures of one unit, or of the whole city.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Appeals received in the period.
    pub received: u64,
    /// Dispatches (and reassignments) in the period.
    pub dispatched: u64,
    /// Dispatches signed for or returned within the response limit.
    pub responded_in_time: u64,
    /// Share of dispatches answered within the response limit (`null` with none).
    pub response_rate: Option<f64>,
    /// First replies in the period.
    pub replied: u64,
    /// Replies at or before the resolution deadline (with approved extensions).
    pub replied_on_time: u64,
    pub on_time_rate: Option<f64>,
    /// Ratings in the period, and the good ones (非常满意, 满意).
    pub rated: u64,
    pub satisfied: u64,
    pub satisfaction_rate: Option<f64>,
    /// Open appeals past their resolution deadline now.
    pub overdue: u64,
    /// Mean hours from receipt to first reply, for the replies in the period.
    pub average_handling_hours: Option<f64>,
    #[serde(skip)]
    handling_seconds_total: i64,
}

impl Figures {
    /// Works out the rates and the average from the counts.
    pub fn finish(&mut self) {
        let rate = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
        self.response_rate = rate(self.responded_in_time, self.dispatched);
        self.on_time_rate = rate(self.replied_on_time, self.replied);
        self.satisfaction_rate = rate(self.satisfied, self.rated);
        self.average_handling_hours = (self.replied > 0)
            .then(|| self.handling_seconds_total as f64 / 3600.0 / self.replied as f64);
    }
}

/// The statistics of a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[serde(flatten)]
    pub city: Figures,
    /// Per unit, by code.
    pub units: BTreeMap<String, Figures>,
}

fn within(at: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    at >= from && at < to
}

snake_enum!(
    /// What a [`Fact`] counts.
    FactKind {
        /// The appeal came in (at its receipt; the unit that holds it now).
        Received,
        /// A dispatch or reassignment to a unit (派单, 改派).
        Dispatched,
        /// The first reply (办结答复).
        Replied,
        /// A rating (好差评).
        Rated,
        /// The resolution deadline passed while the appeal was open (超期), at the deadline.
        Breached,
    }
);

/// One thing an appeal contributes to the statistics, at the instant it counts for a period.
/// An appeal's facts are a function of the appeal and its history ([`facts`]): the store keeps
/// them beside the appeal so that a period's figures are summed in SQL, and [`compute`] sums
/// the same facts, so both count alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub kind: FactKind,
    pub at: DateTime<Utc>,
    /// The unit it counts for: the unit dispatched to, the one holding the appeal at a reply or
    /// rating, the one holding it now for its receipt.
    pub unit: Option<UnitCode>,
    /// A reply on time; a good rating (非常满意, 满意).
    pub flag: bool,
    /// A dispatch: microseconds until it was signed for or returned (none while waiting); a
    /// reply: handling seconds (receipt to reply, less the time waiting for the appellant).
    pub value: Option<i64>,
}

/// The facts of `appeal` from its history (oldest first).
pub fn facts(appeal: &Appeal, events: &[Event]) -> Vec<Fact> {
    let mut out = vec![Fact {
        kind: FactKind::Received,
        at: appeal.created_at,
        unit: appeal.unit.clone(),
        flag: false,
        value: None,
    }];
    let mut unit: Option<UnitCode> = None;
    // The dispatch waiting to be signed for or returned: its index in `out`.
    let mut waiting: Option<usize> = None;
    let mut replied_once = false;
    // The resolution deadline in force, as dispatches, extensions, resumptions and rework set
    // it.
    let mut due: Option<DateTime<Utc>> = None;
    for event in events {
        if let Some(d) = event.payload.sets_resolve_due() {
            due = Some(d);
        }
        match &event.payload {
            EventPayload::Dispatched(assignment) | EventPayload::Reassigned(assignment) => {
                unit = Some(assignment.unit.clone());
                waiting = Some(out.len());
                out.push(Fact {
                    kind: FactKind::Dispatched,
                    at: event.at,
                    unit: unit.clone(),
                    flag: false,
                    value: None,
                });
            }
            EventPayload::Accepted { .. } | EventPayload::Returned { .. } => {
                if let Some(fact) = waiting.take().and_then(|i| out.get_mut(i)) {
                    fact.value = (event.at - fact.at).num_microseconds();
                }
            }
            EventPayload::Replied { paused_seconds, .. } if !replied_once => {
                replied_once = true;
                // Time spent waiting for the appellant (补充材料) is not handling time.
                let seconds = (event.at - appeal.created_at).num_seconds() - paused_seconds;
                out.push(Fact {
                    kind: FactKind::Replied,
                    at: event.at,
                    unit: unit.clone(),
                    flag: due.is_none_or(|due| event.at <= due),
                    value: Some(seconds.max(0)),
                });
            }
            EventPayload::Rated { rating, .. } => out.push(Fact {
                kind: FactKind::Rated,
                at: event.at,
                unit: unit.clone(),
                flag: rating.is_good(),
                value: None,
            }),
            EventPayload::SlaBreached {
                step: Step::ResolutionBreach,
                due_at,
                unit: breached,
                ..
            } => out.push(Fact {
                kind: FactKind::Breached,
                at: *due_at,
                unit: breached.clone().or_else(|| unit.clone()),
                flag: false,
                value: None,
            }),
            _ => {}
        }
    }
    out
}

/// Sums of one kind of fact: how many, how many flagged (a dispatch answered within the
/// response limit, a reply on time, a good rating), and the handling seconds of replies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub flagged: u64,
    pub value: i64,
}

impl Tally {
    /// A fact counted: `flagged` as [`Fact::flag`] says, or for a dispatch, answered within
    /// the response limit.
    pub fn add(&mut self, fact: &Fact, response_limit: Duration) -> &mut Self {
        self.count += 1;
        let flagged = match fact.kind {
            FactKind::Dispatched => fact
                .value
                .is_some_and(|us| Some(us) <= response_limit.num_microseconds()),
            _ => fact.flag,
        };
        self.flagged += u64::from(flagged);
        if fact.kind == FactKind::Replied {
            self.value += fact.value.unwrap_or(0);
        }
        self
    }
}

impl Figures {
    /// Adds the sums of one kind of fact (overdue counts are not facts: see [`compute`]).
    pub fn add(&mut self, kind: FactKind, tally: Tally) {
        match kind {
            FactKind::Received => self.received += tally.count,
            FactKind::Dispatched => {
                self.dispatched += tally.count;
                self.responded_in_time += tally.flagged;
            }
            FactKind::Replied => {
                self.replied += tally.count;
                self.replied_on_time += tally.flagged;
                self.handling_seconds_total += tally.value;
            }
            FactKind::Rated => {
                self.rated += tally.count;
                self.satisfied += tally.flagged;
            }
            FactKind::Breached => {}
        }
    }
}

/// Statistics of `[from, to)` over `appeals` with their events (oldest first), at `now`.
/// `response_limit` is the time a unit has to sign for a dispatch.
pub fn compute(
    appeals: &[(Appeal, Vec<Event>)],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    response_limit: Duration,
) -> Stats {
    let mut city = Figures::default();
    let mut units: BTreeMap<String, Figures> = BTreeMap::new();
    for (appeal, events) in appeals {
        for fact in facts(appeal, events) {
            if !within(fact.at, from, to) {
                continue;
            }
            let mut tally = Tally::default();
            tally.add(&fact, response_limit);
            city.add(fact.kind, tally);
            if let Some(u) = &fact.unit
                && fact.kind != FactKind::Breached
            {
                units
                    .entry(u.to_string())
                    .or_default()
                    .add(fact.kind, tally);
            }
        }
        if appeal.is_overdue(now) {
            city.overdue += 1;
            if let Some(u) = &appeal.unit {
                units.entry(u.to_string()).or_default().overdue += 1;
            }
        }
    }
    city.finish();
    for f in units.values_mut() {
        f.finish();
    }
    Stats {
        from,
        to,
        city,
        units,
    }
}

#[cfg(test)]
mod tests;
