//! Statistics of a period (SPEC §8, 12345 考核指标): response within 30 minutes, on-time
//! resolution, satisfaction (非常满意 + 满意 over rated), overdue count and average handling
//! time, for the city and per unit. Pure: computed from appeals and their events.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::appeal::Appeal;
use crate::event::{Event, EventPayload};

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
    handling_hours_total: f64,
}

impl Figures {
    fn finish(&mut self) {
        let rate = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
        self.response_rate = rate(self.responded_in_time, self.dispatched);
        self.on_time_rate = rate(self.replied_on_time, self.replied);
        self.satisfaction_rate = rate(self.satisfied, self.rated);
        self.average_handling_hours =
            (self.replied > 0).then(|| self.handling_hours_total / self.replied as f64);
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
        if within(appeal.created_at, from, to) {
            city.received += 1;
        }
        let mut unit: Option<String> = None;
        let mut dispatched_at: Option<DateTime<Utc>> = None;
        let mut replied_once = false;
        // The resolution deadline in force, as dispatches, extensions, resumptions and rework
        // set it.
        let mut due: Option<DateTime<Utc>> = None;
        for event in events {
            if let Some(d) = event.payload.sets_resolve_due() {
                due = Some(d);
            }
            match &event.payload {
                EventPayload::Dispatched(assignment) | EventPayload::Reassigned(assignment) => {
                    unit = Some(assignment.unit.to_string());
                    dispatched_at = Some(event.at);
                    if within(event.at, from, to) {
                        city.dispatched += 1;
                        if let Some(u) = &unit {
                            units.entry(u.clone()).or_default().dispatched += 1;
                        }
                    }
                }
                EventPayload::Accepted { .. } | EventPayload::Returned { .. } => {
                    if let Some(at) = dispatched_at.take()
                        && within(at, from, to)
                        && event.at - at <= response_limit
                    {
                        city.responded_in_time += 1;
                        if let Some(u) = &unit {
                            units.entry(u.clone()).or_default().responded_in_time += 1;
                        }
                    }
                }
                EventPayload::Replied { paused_seconds, .. } if !replied_once => {
                    replied_once = true;
                    if within(event.at, from, to) {
                        let on_time = due.is_none_or(|due| event.at <= due);
                        // Time spent waiting for the appellant (补充材料) is not handling time.
                        let seconds = (event.at - appeal.created_at).num_seconds() - paused_seconds;
                        let hours = seconds.max(0) as f64 / 3600.0;
                        for f in std::iter::once(&mut city)
                            .chain(unit.as_ref().map(|u| units.entry(u.clone()).or_default()))
                        {
                            f.replied += 1;
                            f.replied_on_time += u64::from(on_time);
                            f.handling_hours_total += hours;
                        }
                    }
                }
                EventPayload::Rated { rating, .. } if within(event.at, from, to) => {
                    let good = rating.is_good();
                    for f in std::iter::once(&mut city)
                        .chain(unit.as_ref().map(|u| units.entry(u.clone()).or_default()))
                    {
                        f.rated += 1;
                        f.satisfied += u64::from(good);
                    }
                }
                _ => {}
            }
        }
        if appeal.is_overdue(now) {
            city.overdue += 1;
            if let Some(u) = &appeal.unit {
                units.entry(u.to_string()).or_default().overdue += 1;
            }
        }
        if within(appeal.created_at, from, to)
            && let Some(u) = &appeal.unit
        {
            units.entry(u.to_string()).or_default().received += 1;
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
