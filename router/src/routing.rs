//! Routing decisions as a pure function of the appeal, the taxonomy, the classifier's scores
//! and the candidate duplicates: which matter and unit, how sure, whether to dispatch, whether to
//! raise the priority, and which earlier appeal it probably repeats.

use rustc_hash::FxHashSet;

use chrono::Duration;
use hotline_schemas::event::Classification;
use hotline_schemas::value::taxonomy::{Matter, PlaceFound, Taxonomy, place_of};
use hotline_schemas::{Appeal, AppealId, Channel, Held, MatterCode, Status, Suggestion, UnitCode};

use crate::calibration::{Calibration, TAXONOMY_CALIBRATION};

/// Scores texts: labels (matter codes) with calibrated probabilities, best first.
pub trait Classifier: Send + Sync + 'static {
    fn classify(&self, text: &str) -> Vec<(String, f64)>;
}

/// The default dispatch threshold on the calibrated confidence. A wrong dispatch wastes the
/// unit's 30-minute window and a return, a queued appeal costs the dispatcher one look: with
/// [`DISPATCH_MARGIN`], the rule with the fewest wrong dispatches among those that dispatch at
/// least 75% of the shipped examples held out (`cargo bench -p hotline-router --bench
/// taxonomy`: 76.3% dispatched, 3.2% to another unit).
pub const DISPATCH_THRESHOLD: f64 = 0.78;
/// The default lead of the best unit's score over the second's (chosen with the threshold).
pub const DISPATCH_MARGIN: f64 = 0.2;

/// When the router may act alone.
#[derive(Debug, Clone)]
pub struct RoutingPolicy {
    /// Dispatch automatically at or above this calibrated probability that the unit is right;
    /// below, the dispatcher decides.
    pub threshold: f64,
    /// … and only when the best unit's probability leads the second's by at least this much.
    pub min_margin: f64,
    /// Turns the classifier's unit scores into the probability that the best unit is right.
    pub calibration: Calibration,
    /// How far back probable duplicates are looked for (zero: not at all).
    pub duplicate_window: Duration,
    /// Character-bigram Jaccard similarity above which two texts are near-identical.
    pub near_identical: f64,
}

impl Default for RoutingPolicy {
    fn default() -> Self {
        Self {
            threshold: DISPATCH_THRESHOLD,
            min_margin: DISPATCH_MARGIN,
            calibration: TAXONOMY_CALIBRATION,
            duplicate_window: Duration::days(7),
            near_identical: 0.8,
        }
    }
}

/// What the router concluded about one appeal.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    pub matter: Option<MatterCode>,
    pub unit: Option<UnitCode>,
    /// The calibrated probability that `unit` is right.
    pub confidence: f64,
    /// How far the best unit's score leads the second's (before calibration).
    pub margin: f64,
    /// Up to three matters with their units, best first.
    pub suggestions: Vec<Suggestion>,
    /// Dispatch to `unit` now.
    pub dispatch: bool,
    /// Urgency signals found: the appeal becomes urgent (12-hour limit).
    pub urgent_signals: Vec<String>,
    pub duplicate_of: Option<AppealId>,
    /// The rule that overrode the model, if any.
    pub rule: Option<&'static str>,
    /// A complaint about an official's conduct (or a mailbox letter): confidential.
    pub confidential: bool,
    /// The unit complained about, when the text names one.
    pub subject_unit: Option<UnitCode>,
    /// The unit that owns the matter in the taxonomy: `unit` but for a territorial matter,
    /// which goes to the office of the appeal's street.
    pub owner: Option<UnitCode>,
    /// The street of a territorial matter's appeal, when found.
    pub place: Option<PlaceFound>,
    /// Why the router leaves it to the dispatcher though sure of the matter.
    pub held: Option<Held>,
}

impl Routing {
    /// The conclusion as the router records it on `appeal`.
    pub fn classification(&self, appeal: &Appeal) -> Classification {
        Classification {
            matter: self.matter.clone(),
            unit: self.unit.clone(),
            confidence: self.confidence,
            suggestions: self.suggestions.clone(),
            dispatched: self.dispatch,
            urgent_signals: self.urgent_signals.clone(),
            duplicate_of: self.duplicate_of,
            rule: self.rule.map(str::to_owned),
            // `decide` raises it when the signals call for it.
            priority: appeal.priority,
            confidential: self.confidential,
            subject_unit: self.subject_unit.clone(),
            place: self.place.clone(),
            held: self.held,
        }
    }
}

/// The text the router reads: title and body, in simplified characters (appellants from
/// Hainan, Hong Kong, Macau and Taiwan often write traditional ones: 廠房 reads as 厂房).
pub fn text_of(appeal: &Appeal) -> String {
    fast2s::convert(&format!("{}\n{}", appeal.title, appeal.body))
}

pub fn route(
    appeal: &Appeal,
    taxonomy: &Taxonomy,
    classifier: &dyn Classifier,
    recent: &[Appeal],
    policy: &RoutingPolicy,
) -> Routing {
    let text = text_of(appeal);
    let scored = scored_matters(taxonomy, classifier.classify(&text));
    // The router dispatches to a unit: its matters' probabilities add up, and the matter is the
    // best of the unit chosen.
    let units = unit_totals(&scored);
    let best = units.first().copied();
    let second = units.get(1).map_or(0.0, |(_, p)| *p);
    let matter = best.and_then(|(unit, _)| scored.iter().find(|s| s.unit == *unit));
    let mut routing = Routing {
        matter: matter.map(|s| s.matter.clone()),
        unit: matter.map(|s| s.unit.clone()),
        confidence: best.map_or(0.0, |(_, p)| policy.calibration.probability(p, second)),
        margin: best.map_or(0.0, |(_, p)| p - second),
        suggestions: scored.iter().take(3).cloned().collect(),
        dispatch: false,
        urgent_signals: urgent_signals(&text, taxonomy),
        duplicate_of: None,
        rule: None,
        confidential: appeal.confidential,
        subject_unit: None,
        owner: None,
        place: None,
        held: None,
    };
    // Complaints about officials' conduct are confidential and go to the discipline office,
    // whatever the model thinks, and never to the unit complained about.
    if let Some(matter) = conduct_matter(appeal, &text, taxonomy) {
        routing.matter = Some(matter.code.clone());
        routing.unit = Some(matter.unit.clone());
        routing.confidence = 1.0;
        routing.rule = Some("conduct_complaint");
        routing.confidential = true;
        routing.subject_unit = taxonomy.unit_named_in(&text).map(|u| u.code.clone());
    }
    routing.owner = routing.unit.clone();
    place_territorial(&mut routing, appeal, &text, taxonomy);
    // A confidential appeal goes to the discipline office only; any other waits for the
    // mailbox readers.
    let office = taxonomy.discipline_unit().map(|u| &u.code);
    let may_go = !routing.confidential || routing.unit.as_ref() == office;
    routing.duplicate_of = find_duplicate(appeal, routing.matter.as_deref(), recent, policy);
    routing.dispatch = appeal.status == Status::Received
        && may_go
        && routing.unit.is_some()
        && routing.duplicate_of.is_none()
        && routing.held.is_none()
        && (routing.rule.is_some() || sure(routing.confidence, routing.margin, policy));
    routing
}

/// A territorial matter (属地) goes to the office of the street the appeal is in, found by its
/// address, its coordinates, then its text; with no street found it waits for the dispatcher,
/// who is told why.
fn place_territorial(routing: &mut Routing, appeal: &Appeal, text: &str, taxonomy: &Taxonomy) {
    let territorial = routing
        .matter
        .as_deref()
        .and_then(|code| taxonomy.matter(code))
        .is_some_and(|m| m.territorial);
    if !territorial || routing.confidential {
        return;
    }
    let location = &appeal.location;
    let coordinates = location.longitude.zip(location.latitude);
    routing.place = place_of(
        &taxonomy.streets,
        location.address.as_deref(),
        coordinates,
        text,
    );
    match &routing.place {
        Some(place) => routing.unit = Some(place.office.clone()),
        None => routing.held = Some(Held::NoPlace),
    }
}

/// The dispatch rule: the router dispatches on its own only when the calibrated probability
/// that its unit is right reaches the threshold and its unit leads the second by the policy's
/// margin; otherwise the dispatcher's queue is the cheaper mistake.
pub fn sure(confidence: f64, margin: f64, policy: &RoutingPolicy) -> bool {
    confidence >= policy.threshold && margin >= policy.min_margin
}

/// The confidential matter an appeal complains of: on the mailbox any of its keywords names it,
/// on any channel its conduct keywords (刁难, 吃拿卡要, 雁过拔毛 …).
fn conduct_matter<'t>(appeal: &Appeal, text: &str, taxonomy: &'t Taxonomy) -> Option<&'t Matter> {
    let mailbox = appeal.channel == Channel::Mailbox;
    taxonomy
        .matters
        .iter()
        .filter(|m| m.confidential)
        .find(|m| {
            let words = if mailbox {
                m.keywords.iter().chain(&m.conduct_keywords)
            } else {
                [].iter().chain(&m.conduct_keywords)
            };
            words
                .into_iter()
                .any(|k| !k.is_empty() && text.contains(k.as_str()))
        })
}

/// A classifier's scores as matters of `taxonomy` with their units, best first (labels the
/// taxonomy does not know are dropped).
pub fn scored_matters(taxonomy: &Taxonomy, scores: Vec<(String, f64)>) -> Vec<Suggestion> {
    scores
        .into_iter()
        .filter_map(|(label, probability)| {
            let matter = taxonomy.matter(&label)?;
            Some(Suggestion {
                matter: matter.code.clone(),
                unit: matter.unit.clone(),
                probability,
            })
        })
        .collect()
}

/// Each unit with its matters' total probability, highest first (ties: the unit of the better
/// matter).
pub fn unit_totals(scored: &[Suggestion]) -> Vec<(&str, f64)> {
    let mut units: Vec<(&str, f64)> = Vec::new();
    for s in scored {
        match units.iter_mut().find(|(u, _)| *u == s.unit.as_str()) {
            Some((_, total)) => *total += s.probability,
            None => units.push((s.unit.as_str(), s.probability)),
        }
    }
    // A stable sort keeps the order of first appearance among equal totals.
    units.sort_by(|a, b| b.1.total_cmp(&a.1));
    units
}

/// The unit whose matters have the highest total probability, with that total (ties: the unit
/// of the better matter).
pub fn best_unit(scored: &[Suggestion]) -> Option<(&str, f64)> {
    unit_totals(scored).first().copied()
}

/// The urgency signals of every matter that occur in `text`.
fn urgent_signals(text: &str, taxonomy: &Taxonomy) -> Vec<String> {
    let mut found: Vec<String> = taxonomy
        .matters
        .iter()
        .flat_map(|m| m.urgent_keywords.iter())
        .filter(|k| !k.is_empty() && text.contains(k.as_str()))
        .cloned()
        .collect();
    found.sort();
    found.dedup();
    found
}

fn bigrams(text: &str) -> FxHashSet<(char, char)> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// Character-bigram Jaccard similarity of two texts, 0–1.
pub fn similarity(a: &str, b: &str) -> f64 {
    jaccard(&bigrams(a), &bigrams(b))
}

fn jaccard(a: &FxHashSet<(char, char)>, b: &FxHashSet<(char, char)>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let common = small.iter().filter(|g| large.contains(g)).count();
    common as f64 / (a.len() + b.len() - common) as f64
}

/// The earliest recent appeal this one probably repeats: near-identical text, or the same
/// appellant (or the same address) about the same matter, within the window.
pub fn find_duplicate(
    appeal: &Appeal,
    matter: Option<&str>,
    recent: &[Appeal],
    policy: &RoutingPolicy,
) -> Option<AppealId> {
    if policy.duplicate_window <= Duration::zero() {
        return None;
    }
    let text = text_of(appeal);
    let keys = appeal.appellant.keys();
    let address = appeal
        .location
        .address
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let grams = bigrams(&text);
    recent
        .iter()
        .filter(|r| r.id != appeal.id && r.created_at <= appeal.created_at)
        .filter(|r| appeal.created_at - r.created_at <= policy.duplicate_window)
        .filter(|r| !matches!(r.status, Status::Voided | Status::Merged))
        .filter(|r| {
            let same_matter = matter.is_some() && r.matter.as_deref() == matter;
            let same_appellant = || r.appellant.keys().iter().any(|k| keys.contains(k));
            let same_place =
                || address.is_some() && r.location.address.as_deref().map(str::trim) == address;
            (same_matter && (same_appellant() || same_place()))
                || jaccard(&grams, &bigrams(&text_of(r))) >= policy.near_identical
        })
        .min_by_key(|r| r.created_at)
        .map(|r| r.id)
}

/// Test doubles shared by the crate's tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::Classifier;

    /// Scores fixed in advance: the model's part is tested with the model.
    pub struct Fixed(pub Vec<(&'static str, f64)>);

    impl Classifier for Fixed {
        fn classify(&self, _: &str) -> Vec<(String, f64)> {
            self.0.iter().map(|(l, p)| ((*l).to_owned(), *p)).collect()
        }
    }
}

#[cfg(test)]
mod tests;
