//! The frozen evaluation sets (`router/eval/appeals.csv` and `router/eval/appeals-2.csv`,
//! described in `router/eval/README.md`): appeals in four voices (a hotline agent's transcript of a call, a formal letter, a WeChat
//! line, traditional script), written apart from the taxonomy's examples, each labelled with
//! the units and matters a dispatcher would accept without a return; and the figures of a
//! classifier over it, each appeal routed as the router routes it (`route`, with the row's
//! channel and no earlier appeals).

use chrono::{TimeZone, Utc};
use hotline_schemas::value::taxonomy::Taxonomy;
use hotline_schemas::{Appeal, AppealId, Appellant, Channel, Kind, Location, NewAppeal, Priority};
use serde::Deserialize;

use crate::calibration::Reliability;
use crate::routing::{Classifier, RoutingPolicy, route};

/// Where the first set lies, relative to the router crate.
pub const PATH: &str = "eval/appeals.csv";

/// Where the second set lies, relative to the router crate: written blind to the taxonomy's
/// keywords and examples, from the matter names only.
pub const PATH_2: &str = "eval/appeals-2.csv";

/// Every frozen set, oldest first, relative to the router crate.
pub const PATHS: [&str; 2] = [PATH, PATH_2];

/// One appeal of the set.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalAppeal {
    pub id: String,
    /// `phone`, `letter`, `wechat` or `traditional`.
    pub voice: String,
    pub channel: Channel,
    pub kind: Kind,
    pub title: String,
    pub text: String,
    /// Unit codes a dispatcher would accept.
    pub units: Vec<String>,
    /// Matter codes a dispatcher would accept.
    pub matters: Vec<String>,
    /// Why it is hard, if it is (free text).
    pub note: String,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    voice: String,
    channel: Channel,
    kind: Kind,
    title: String,
    text: String,
    units: String,
    matters: String,
    note: String,
}

fn codes(list: &str) -> Vec<String> {
    list.split('|')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The set's rows, in file order.
pub fn parse(csv_text: &str) -> Result<Vec<EvalAppeal>, String> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    reader
        .deserialize::<Row>()
        .enumerate()
        .map(|(i, row)| {
            let row = row.map_err(|e| format!("row {}: {e}", i + 1))?;
            Ok(EvalAppeal {
                units: codes(&row.units),
                matters: codes(&row.matters),
                id: row.id,
                voice: row.voice,
                channel: row.channel,
                kind: row.kind,
                title: row.title,
                text: row.text,
                note: row.note,
            })
        })
        .collect()
}

impl EvalAppeal {
    /// The appeal as the router receives it.
    pub fn appeal(&self) -> Appeal {
        let new = NewAppeal {
            channel: self.channel,
            kind: self.kind,
            priority: Priority::Normal,
            title: self.title.clone(),
            body: self.text.clone(),
            appellant: Appellant::Person {
                name: format!("eval {}", self.id),
                phone: None,
                wechat_openid: None,
            },
            location: Location::default(),
            attachments: vec![],
        };
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).single();
        Appeal::received(
            AppealId::new(),
            format!("EVAL-{}", self.id).into(),
            new,
            at.unwrap_or_default(),
        )
    }
}

/// How a classifier did on some of the set's appeals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub total: usize,
    /// The router's unit (its first suggestion, dispatched or not) is acceptable.
    pub unit_right: usize,
    /// The router's matter is acceptable.
    pub matter_right: usize,
    /// Dispatched automatically.
    pub dispatched: usize,
    /// Dispatched automatically to a unit that is not acceptable (a return to come).
    pub dispatched_wrong: usize,
}

impl Figures {
    fn percent(&self, n: usize) -> f64 {
        100.0 * n as f64 / self.total.max(1) as f64
    }

    /// One line of percentages (all of them shares of all the appeals counted).
    pub fn summary(&self) -> String {
        format!(
            "{:>4} appeals  unit acceptable {:5.1}%  matter acceptable {:5.1}%  dispatched automatically {:5.1}%  wrong automatic dispatches {:5.1}% ({} of {} dispatched)",
            self.total,
            self.percent(self.unit_right),
            self.percent(self.matter_right),
            self.percent(self.dispatched),
            self.percent(self.dispatched_wrong),
            self.dispatched_wrong,
            self.dispatched,
        )
    }
}

/// The figures of `classifier` on `set`, per voice (in the order voices first appear) and
/// then `all`: each appeal routed as the router would (`route`, with `policy`, no earlier
/// appeals, so no duplicates).
pub fn evaluate(
    set: &[EvalAppeal],
    taxonomy: &Taxonomy,
    classifier: &dyn Classifier,
    policy: &RoutingPolicy,
) -> Vec<(String, Figures)> {
    let mut voices: Vec<(String, Figures)> = Vec::new();
    let mut all = Figures::default();
    for item in set {
        let routing = route(&item.appeal(), taxonomy, classifier, &[], policy);
        // The taxonomy's unit is judged: a street office takes a territorial matter for it.
        let unit_right = routing
            .owner
            .as_ref()
            .is_some_and(|u| item.units.iter().any(|a| a == u.as_str()));
        let matter_right = routing
            .matter
            .as_ref()
            .is_some_and(|m| item.matters.iter().any(|a| a == m.as_str()));
        let index = match voices.iter().position(|(v, _)| *v == item.voice) {
            Some(i) => i,
            None => {
                voices.push((item.voice.clone(), Figures::default()));
                voices.len() - 1
            }
        };
        for figures in [&mut voices[index].1, &mut all] {
            figures.total += 1;
            figures.unit_right += usize::from(unit_right);
            figures.matter_right += usize::from(matter_right);
            figures.dispatched += usize::from(routing.dispatch);
            figures.dispatched_wrong += usize::from(routing.dispatch && !unit_right);
        }
    }
    voices.push(("all".to_owned(), all));
    voices
}

/// The reliability of the router's confidence on `set` (routed as in [`evaluate`]): how often
/// its unit was acceptable at each confidence.
pub fn reliability(
    set: &[EvalAppeal],
    taxonomy: &Taxonomy,
    classifier: &dyn Classifier,
    policy: &RoutingPolicy,
    buckets: usize,
) -> Reliability {
    Reliability::of(
        set.iter().map(|item| {
            let routing = route(&item.appeal(), taxonomy, classifier, &[], policy);
            let right = routing
                .owner
                .as_ref()
                .is_some_and(|u| item.units.iter().any(|a| a == u.as_str()));
            (routing.confidence, right)
        }),
        buckets,
    )
}
