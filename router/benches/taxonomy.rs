//! Routing quality on the shipped taxonomy, by held-out cross-validation over its example
//! appeals (`hotline_router::heldout`): each fold builds the classifiers without its examples,
//! then routes the held-out ones as the router would (to the unit whose matters weigh most,
//! dispatching at the threshold 0.5). Reports, per classifier, how often the best unit is the
//! matter's own, the share dispatched to the own unit, to another unit, and left to the manual
//! queue, and the matters none of whose examples reached their unit.
//!
//! Then the frozen evaluation sets (`router/eval/appeals.csv`, appeals in four voices written
//! apart from the taxonomy's examples, and `router/eval/appeals-2.csv`, written blind to its
//! keywords and examples): for each, its SHA-256 and, for the classifier the router uses in
//! production (built from the whole taxonomy), per voice and overall, the share whose unit (the
//! first suggestion, dispatched or not) and matter are acceptable, the share dispatched
//! automatically at the default threshold, and the wrong automatic dispatches as a share of all.
//!
//! `cargo bench -p hotline-router --bench taxonomy` (after `--`: folds, default 4; `eval`: the
//! evaluation sets only).

use std::sync::Arc;

use hotline_router::centroid::{TAXONOMY_FLOOR, TAXONOMY_TEMPERATURE};
use hotline_router::evalset;
use hotline_router::heldout::cross_validate;
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
    let threshold = RoutingPolicy::default().threshold;
    let names = [
        "keywords alone".to_owned(),
        format!("centroids alone (T {TAXONOMY_TEMPERATURE}, floor {TAXONOMY_FLOOR})"),
        format!("default: centroids {CENTROID_WEIGHT} + keywords"),
        "centroids 0.5 + keywords".to_owned(),
        format!("trained model {MODEL_WEIGHT} + keywords"),
        "trained model 0.3 + keywords".to_owned(),
    ];
    let build = |train_set: &[(String, String)]| -> Vec<Box<dyn Classifier>> {
        let keywords: Arc<dyn Classifier> = Arc::new(KeywordClassifier::new(&taxonomy));
        let centroids: Arc<dyn Classifier> = Arc::new(CentroidClassifier::train(
            train_set.iter().map(|(t, l)| (t.as_str(), l.as_str())),
            TAXONOMY_TEMPERATURE,
        ));
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
        let blend = |m: &Arc<dyn Classifier>, weight: f64| -> Box<dyn Classifier> {
            Box::new(Blend {
                model: Box::new(Shared(m.clone())),
                keywords: Box::new(Shared(keywords.clone())),
                weight,
            })
        };
        vec![
            Box::new(Shared(keywords.clone())),
            Box::new(Shared(centroids.clone())),
            Box::new(taxonomy_classifier_from(&taxonomy, train_set)),
            blend(&centroids, 0.5),
            blend(&model, MODEL_WEIGHT),
            blend(&model, 0.3),
        ]
    };
    let results = cross_validate(&taxonomy, folds, threshold, &build);
    println!(
        "shipped taxonomy: {} matters, {} examples, {folds}-fold held-out cross-validation, dispatch at {threshold} (the unit's probability)",
        taxonomy.matters.len(),
        results.first().map_or(0, |r| r.total),
    );
    for (name, r) in names.iter().zip(&results) {
        println!("{name:<38} {}", r.summary());
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
    // Speed of the default classifier, built from the whole taxonomy as the router does.
    let started = std::time::Instant::now();
    let classifier = hotline_router::taxonomy_classifier(&taxonomy);
    let built = started.elapsed();
    let texts: Vec<String> = hotline_router::centroid::example_texts(&taxonomy)
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
    evaluation_set(&taxonomy)
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
    }
    Ok(())
}
