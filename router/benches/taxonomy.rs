//! Routing quality on the shipped taxonomy, by held-out cross-validation over its example
//! appeals: each fold trains the model on the other folds' examples, then routes the held-out
//! ones as the router would (threshold 0.5), by the keywords alone and by the model blended with
//! the keywords. Reports the share dispatched to the matter's own unit, to another unit, and
//! left to the dispatcher's manual queue, and the matters none of whose examples reached their
//! unit.
//!
//! `cargo bench -p hotline-router --bench taxonomy` (after `--`: folds, default 4, and the
//! model's weight in the blend, default 0.5).

use hotline_router::model::{Example, Silent, TrainOptions, train};
use hotline_router::{Blend, Classifier, KeywordClassifier, RoutingPolicy};
use hotline_schemas::taxonomy::Taxonomy;

#[derive(Default)]
struct Tally {
    own: usize,
    other: usize,
    queued: usize,
}

impl Tally {
    fn add(
        &mut self,
        taxonomy: &Taxonomy,
        scores: &[(String, f64)],
        unit: &str,
        threshold: f64,
    ) -> bool {
        match scores
            .first()
            .and_then(|(code, p)| Some((taxonomy.matter(code)?, *p)))
        {
            Some((m, p)) if p >= threshold && m.unit == unit => {
                self.own += 1;
                true
            }
            Some((_, p)) if p >= threshold => {
                self.other += 1;
                false
            }
            _ => {
                self.queued += 1;
                false
            }
        }
    }

    fn report(&self, name: &str, never: usize) {
        let total = (self.own + self.other + self.queued).max(1) as f64;
        println!(
            "{name:<22} own unit {:5.1}%  other unit {:5.1}%  manual queue {:5.1}%  matters never placed {never}",
            100.0 * self.own as f64 / total,
            100.0 * self.other as f64 / total,
            100.0 * self.queued as f64 / total,
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let folds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(4);
    let weight: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(0.5);
    let taxonomy = Taxonomy::shipped()?;
    let threshold = RoutingPolicy::default().threshold;
    let examples: Vec<(usize, String, String)> = taxonomy
        .matters
        .iter()
        .flat_map(|m| {
            m.examples
                .iter()
                .enumerate()
                .map(|(i, e)| (i, fast2s::convert(e), m.code.clone()))
        })
        .collect();
    let unit_of = |code: &str| {
        taxonomy
            .matter(code)
            .map(|m| m.unit.clone())
            .unwrap_or_default()
    };
    let (mut keywords_tally, mut blend_tally) = (Tally::default(), Tally::default());
    let mut placed_by_keywords = std::collections::HashSet::new();
    let mut placed_by_blend = std::collections::HashSet::new();
    for fold in 0..folds {
        // Each matter's examples are spread over the folds, so every matter is trained on.
        let (held_out, training): (Vec<_>, Vec<_>) =
            examples.iter().partition(|(i, _, _)| i % folds == fold);
        let train_set: Vec<Example> = training
            .iter()
            .map(|(_, t, l)| Example::new(t.clone(), l.clone()))
            .collect();
        let options = TrainOptions {
            folds: 3,
            ..TrainOptions::default()
        };
        let model = train(&train_set, &options, &Silent)?;
        let blend = Blend {
            model: Box::new(model),
            keywords: Box::new(KeywordClassifier::new(&taxonomy)),
            weight,
        };
        let keywords = KeywordClassifier::new(&taxonomy);
        for (_, text, code) in held_out {
            let unit = unit_of(code);
            if keywords_tally.add(&taxonomy, &keywords.classify(text), &unit, threshold) {
                placed_by_keywords.insert(code.clone());
            }
            if blend_tally.add(&taxonomy, &blend.classify(text), &unit, threshold) {
                placed_by_blend.insert(code.clone());
            }
        }
    }
    let matters = taxonomy.matters.len();
    println!(
        "shipped taxonomy: {matters} matters, {} examples, {folds}-fold held-out cross-validation, threshold {threshold}",
        examples.len()
    );
    keywords_tally.report("keywords alone", matters - placed_by_keywords.len());
    blend_tally.report(
        &format!("model ({weight}) + keywords"),
        matters - placed_by_blend.len(),
    );
    Ok(())
}
