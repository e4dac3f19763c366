//! Routing quality on the shipped taxonomy, by held-out cross-validation over its example
//! appeals (`hotline_router::heldout`): each fold builds the classifiers without its examples,
//! then routes the held-out ones as the router would (to the unit whose matters weigh most,
//! dispatching at 0.5 of the unit's probability). Reports, per classifier, how often the best
//! unit is the matter's own, the share dispatched to the own unit, to another unit, and left to
//! the manual queue, the same for the examples in other voices, and the matters none of whose
//! examples reached their unit. Then, for the default classifier, the reliability of its
//! confidence before and after calibration (expected calibration error and a table by
//! confidence bucket), the calibration fitted on its held-out examples in other voices, and the
//! dispatch rules (calibrated threshold and margin) with the fewest wrong dispatches for each
//! dispatched share.
//!
//! Then the frozen evaluation sets (`router/eval/appeals.csv`, appeals in four voices written
//! apart from the taxonomy's examples, and `router/eval/appeals-2.csv`, written blind to its
//! keywords and examples): for each, its SHA-256 and, for the classifier the router uses in
//! production (built from the whole taxonomy), per voice and overall, the share whose unit (the
//! first suggestion, dispatched or not) and matter are acceptable, the share dispatched
//! automatically by the default rule, the wrong automatic dispatches as a share of all, and the
//! reliability of the confidence.
//!
//! `cargo bench -p hotline-router --bench taxonomy` (after `--`: folds, default 4; `eval`: the
//! evaluation sets only; `quick`: without the trained model, with other centroid weights;
//! `speed`: the default classifier's speed only).

use std::sync::Arc;

use hotline_router::calibration::{Calibration, Outcome, Reliability, TAXONOMY_CALIBRATION};
use hotline_router::centroid::{TAXONOMY_FLOOR, TAXONOMY_TEMPERATURE};
use hotline_router::evalset;
use hotline_router::heldout::{Dispatches, Routed, cross_fitted_reliability, cross_validate};
use hotline_router::model::{Example, Silent, TrainOptions, train};
use hotline_router::{
    Blend, CENTROID_WEIGHT, CentroidClassifier, Classifier, KeywordClassifier, MODEL_WEIGHT,
    RoutingPolicy, taxonomy_classifier_from,
};
use hotline_schemas::value::taxonomy::Taxonomy;
use sha2::{Digest, Sha256};

/// A classifier several blends share.
struct Shared(Arc<dyn Classifier>);

impl Classifier for Shared {
    fn classify(&self, text: &str) -> Vec<(String, f64)> {
        self.0.classify(text)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(4);
    let taxonomy = Taxonomy::shipped()?;
    if std::env::args().any(|a| a == "eval") {
        return evaluation_set(&taxonomy);
    }
    if std::env::args().any(|a| a == "speed") {
        speed(&taxonomy);
        return Ok(());
    }
    // The classifiers are compared as they score, dispatching at 0.5 of the unit's
    // probability; the shipped calibration and rule are the default classifier's, below.
    let policy = RoutingPolicy::default();
    let raw = RoutingPolicy {
        threshold: 0.5,
        min_margin: 0.0,
        calibration: Calibration::IDENTITY,
        ..RoutingPolicy::default()
    };
    // `quick`: without the trained model (which each fold trains), with other centroid weights.
    let quick = std::env::args().any(|a| a == "quick");
    let weights = [0.5, 0.7, 0.8, 0.9, 1.0];
    let mut names = vec![
        "keywords alone".to_owned(),
        format!("centroids alone (T {TAXONOMY_TEMPERATURE}, floor {TAXONOMY_FLOOR})"),
        format!("default: centroids {CENTROID_WEIGHT} + keywords"),
    ];
    if quick {
        names.extend(weights.iter().map(|w| format!("centroids {w} + keywords")));
    } else {
        names.extend([
            "centroids 0.5 + keywords".to_owned(),
            format!("trained model {MODEL_WEIGHT} + keywords"),
            "trained model 0.3 + keywords".to_owned(),
        ]);
    }
    let build = |train_set: &[(String, String)]| -> Vec<Box<dyn Classifier>> {
        let keywords: Arc<dyn Classifier> = Arc::new(KeywordClassifier::new(&taxonomy));
        let centroids: Arc<dyn Classifier> = Arc::new(CentroidClassifier::train(
            train_set.iter().map(|(t, l)| (t.as_str(), l.as_str())),
            TAXONOMY_TEMPERATURE,
        ));
        let blend = |m: &Arc<dyn Classifier>, weight: f64| -> Box<dyn Classifier> {
            Box::new(Blend {
                model: Box::new(Shared(m.clone())),
                keywords: Box::new(Shared(keywords.clone())),
                weight,
            })
        };
        let mut out: Vec<Box<dyn Classifier>> = vec![
            Box::new(Shared(keywords.clone())),
            Box::new(Shared(centroids.clone())),
            Box::new(taxonomy_classifier_from(&taxonomy, train_set)),
        ];
        if quick {
            out.extend(weights.iter().map(|w| blend(&centroids, *w)));
            return out;
        }
        let examples: Vec<Example> = train_set
            .iter()
            .map(|(t, l)| Example::new(t.clone(), l.clone()))
            .collect();
        let options = TrainOptions {
            folds: 3,
            min_df: 1,
            ..TrainOptions::default()
        };
        let model: Arc<dyn Classifier> = match train(&examples, &options, &Silent) {
            Ok(m) => Arc::new(m),
            Err(e) => panic!("training failed: {e}"),
        };
        out.extend([
            blend(&centroids, 0.5),
            blend(&model, MODEL_WEIGHT),
            blend(&model, 0.3),
        ]);
        out
    };
    let results = cross_validate(&taxonomy, folds, &raw, &build);
    println!(
        "shipped taxonomy: {} matters, {} examples, {folds}-fold held-out cross-validation, dispatch at {} (the unit's probability)",
        taxonomy.matters.len(),
        results.first().map_or(0, |r| r.total),
        raw.threshold,
    );
    for (name, r) in names.iter().zip(&results) {
        println!("{name:<38} {}", r.summary());
        let voices: Vec<&Routed> = r.routed.iter().filter(|x| x.voice).collect();
        let d = Dispatches::of(voices.iter().copied(), &raw);
        let right = voices.iter().filter(|x| x.outcome.right).count();
        println!(
            "{:<38} in other voices ({}): best unit right {:5.1}%  dispatched {:5.1}%  to another unit {:4.1}%",
            "",
            voices.len(),
            100.0 * d.share(right),
            100.0 * d.share(d.dispatched),
            100.0 * d.share(d.wrong),
        );
        if !r.never_placed.is_empty() {
            println!("{:<38} never placed: {}", "", r.never_placed.join(", "));
        }
        let elsewhere = r.mostly_elsewhere();
        if !elsewhere.is_empty() {
            let listed: Vec<String> = elsewhere
                .iter()
                .map(|(code, right, total)| format!("{code} {right}/{total}"))
                .collect();
            println!("{:<38} mostly elsewhere: {}", "", listed.join(", "));
        }
    }
    if let Some(default) = results.get(2) {
        calibration(&names[2], &default.routed, &policy);
    }
    if quick {
        for (name, r) in names.iter().zip(&results).skip(3) {
            calibration(name, &r.routed, &policy);
        }
    }
    speed(&taxonomy);
    evaluation_set(&taxonomy)
}

/// Speed of the default classifier, built from the whole taxonomy as the router does: ten
/// passes over the taxonomy's examples on this thread.
fn speed(taxonomy: &Taxonomy) {
    let started = std::time::Instant::now();
    let classifier = hotline_router::taxonomy_classifier(taxonomy);
    let built = started.elapsed();
    let texts: Vec<String> = hotline_router::centroid::example_texts(taxonomy)
        .into_iter()
        .map(|(_, t, _)| t)
        .collect();
    let mut latencies: Vec<std::time::Duration> = Vec::new();
    let started = std::time::Instant::now();
    for _ in 0..10 {
        for text in &texts {
            let t = std::time::Instant::now();
            std::hint::black_box(classifier.classify(text));
            latencies.push(t.elapsed());
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    println!(
        "default classifier: built in {} ms; {:.0} classifications/s on one core, p99 {} µs",
        built.as_millis(),
        latencies.len() as f64 / elapsed,
        p99.as_micros()
    );
}

/// A classifier's calibration and dispatch rule, from its held-out scores (`routed`): the
/// reliability of its raw and calibrated confidences (each fold calibrated on the others), the
/// calibration fitted on the examples in other voices, and the dispatch rules that send the
/// fewest of those to a wrong unit for a dispatched share.
fn calibration(name: &str, routed: &[Routed], policy: &RoutingPolicy) {
    let voices: Vec<Routed> = routed.iter().filter(|r| r.voice).cloned().collect();
    let raw =
        |set: &[Routed]| Reliability::of(set.iter().map(|r| (r.outcome.best, r.outcome.right)), 10);
    let shipped = |set: &[Routed]| {
        Reliability::of(
            set.iter().map(|r| {
                let o = r.outcome;
                (TAXONOMY_CALIBRATION.probability(o.best, o.second), o.right)
            }),
            10,
        )
    };
    // Fitted on the other folds' examples in other voices, judged on this fold's.
    let cross_fitted = |set: &[Routed]| {
        let folds = set.iter().map(|r| r.fold + 1).max().unwrap_or(0);
        let mut pairs = Vec::new();
        for fold in 0..folds {
            let train: Vec<Outcome> = voices
                .iter()
                .filter(|r| r.fold != fold)
                .map(|r| r.outcome)
                .collect();
            let c = Calibration::fit(&train);
            pairs.extend(set.iter().filter(|r| r.fold == fold).map(|r| {
                let o = r.outcome;
                (c.probability(o.best, o.second), o.right)
            }));
        }
        Reliability::of(pairs, 10)
    };
    let all_fit = cross_fitted_reliability(routed, &Calibration::fit, 10);
    println!();
    println!(
        "calibration of the unit confidence of {name} (held out; bucket: mean confidence→share right (appeals)):"
    );
    for (name, set) in [
        ("all examples", routed),
        ("examples in other voices", &voices[..]),
    ] {
        println!("  {name}");
        println!("    raw unit probability          {}", raw(set).summary());
        println!(
            "    shipped calibration           {}",
            shipped(set).summary()
        );
        println!(
            "    fitted on other folds' voices {}",
            cross_fitted(set).summary()
        );
    }
    println!(
        "    (all examples, fitted on other folds' all) {}",
        all_fit.summary()
    );
    let fitted = Calibration::fit(&voices.iter().map(|r| r.outcome).collect::<Vec<_>>());
    println!(
        "  fitted on every example in other voices: bias {:.3}, slope {:.3}, margin {:.3} (shipped: bias {:.3}, slope {:.3}, margin {:.3})",
        fitted.bias,
        fitted.slope,
        fitted.margin,
        TAXONOMY_CALIBRATION.bias,
        TAXONOMY_CALIBRATION.slope,
        TAXONOMY_CALIBRATION.margin
    );
    // Dispatch rules on the examples in other voices, with the calibration fitted on them: for
    // each dispatched share, the rule with the fewest wrong dispatches.
    let mut rules: Vec<(f64, f64, Dispatches, Dispatches)> = Vec::new();
    for t in (30..=98).step_by(2) {
        for m in [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6] {
            let rule = RoutingPolicy {
                threshold: f64::from(t) / 100.0,
                min_margin: m,
                calibration: fitted,
                ..policy.clone()
            };
            rules.push((
                rule.threshold,
                m,
                Dispatches::of(&voices, &rule),
                Dispatches::of(routed, &rule),
            ));
        }
    }
    for (on, pick) in [("the examples in other voices", 0), ("all examples", 1)] {
        println!(
            "  dispatch rules (calibration fitted on the examples in other voices): the fewest wrong on {on} for at least each dispatched share"
        );
        for target in [60, 65, 70, 75, 80, 85, 90] {
            let share = f64::from(target) / 100.0;
            let chosen = |r: &(f64, f64, Dispatches, Dispatches)| if pick == 0 { r.2 } else { r.3 };
            let best = rules
                .iter()
                .filter(|r| chosen(r).share(chosen(r).dispatched) >= share)
                .min_by(|a, b| {
                    let (ta, tb) = (a.0, b.0);
                    let (a, b) = (chosen(a), chosen(b));
                    // Among equals, the higher threshold (the same appeals, said plainly).
                    a.wrong
                        .cmp(&b.wrong)
                        .then(b.dispatched.cmp(&a.dispatched))
                        .then(tb.total_cmp(&ta))
                });
            if let Some((t, m, v, a)) = best {
                println!(
                    "    ≥{target}%: threshold {t:.2} margin {m:.1}: voices dispatched {:5.1}% wrong {:4.1}% of all; all examples dispatched {:5.1}% wrong {:4.1}%",
                    100.0 * v.share(v.dispatched),
                    100.0 * v.share(v.wrong),
                    100.0 * a.share(a.dispatched),
                    100.0 * a.share(a.wrong),
                );
            }
        }
    }
    let now = (
        Dispatches::of(&voices, policy),
        Dispatches::of(routed, policy),
    );
    println!(
        "    shipped rule (threshold {:.2}, margin {:.2}): voices dispatched {:5.1}% wrong {:4.1}%; all examples dispatched {:5.1}% wrong {:4.1}%",
        policy.threshold,
        policy.min_margin,
        100.0 * now.0.share(now.0.dispatched),
        100.0 * now.0.share(now.0.wrong),
        100.0 * now.1.share(now.1.dispatched),
        100.0 * now.1.share(now.1.wrong),
    );
}

/// The frozen evaluation sets, each routed as the router routes (`route`, the default policy)
/// with the production classifier: the taxonomy's examples, names and keywords (no dispatcher
/// corrections), as `build_classifier` makes it without a trained model.
fn evaluation_set(taxonomy: &Taxonomy) -> Result<(), Box<dyn std::error::Error>> {
    let policy = RoutingPolicy::default();
    let classifier = taxonomy_classifier_from(
        taxonomy,
        &hotline_router::centroid::taxonomy_texts(taxonomy),
    );
    for (i, set_path) in evalset::PATHS.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(set_path);
        let bytes = std::fs::read(&path)?;
        let checksum: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let set = evalset::parse(std::str::from_utf8(&bytes)?)?;
        // How much of the set a keyword list alone could place: an appeal naming a keyword of
        // one of its acceptable matters is easier for a classifier that weighs keywords.
        let keyworded = set
            .iter()
            .filter(|a| {
                let text = fast2s::convert(&format!("{}\n{}", a.title, a.text));
                a.matters.iter().any(|m| {
                    taxonomy.matter(m).is_some_and(|m| {
                        m.keywords
                            .iter()
                            .any(|k| !k.is_empty() && text.contains(k.as_str()))
                    })
                })
            })
            .count();
        println!(
            "evaluation set {set_path} ({} appeals, {:.1}% naming a keyword of an acceptable matter), SHA-256 {checksum}; production classifier, dispatch at {}",
            set.len(),
            100.0 * keyworded as f64 / set.len().max(1) as f64,
            policy.threshold
        );
        for (voice, figures) in evalset::evaluate(&set, taxonomy, &classifier, &policy) {
            println!("{voice:<12} {}", figures.summary());
        }
        let reliability = evalset::reliability(&set, taxonomy, &classifier, &policy, 10);
        println!("{:<12} {}", "confidence", reliability.summary());
    }
    Ok(())
}
