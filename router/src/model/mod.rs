//! The trained appeal classifier, taxonomy-agnostic: whatever labels the training examples
//! carry (service matters, units, the 7 first-level labels of the TipDM data …) it learns.
//!
//! # Recipe
//! * **Features** ([`text`], [`vocab`]): the text is normalised (full-width ASCII → ASCII, lower
//!   case, white space collapsed, `*` masks dropped); character 1-, 2- and 3-grams of the whole
//!   text, jieba words, word bigrams and the dictionary words inside long words, and character
//!   1–3-grams of the title (the first line, when short) form seven blocks; each is weighted by
//!   sublinear TF-IDF (features in fewer than `min_df` training documents dropped) and
//!   L2-normalised on its own (scaled by [`TextConfig::block_weights`]: the title 2, the others 1), and the whole
//!   is L2-normalised.
//! * **Learners** ([`linear`]), one-vs-rest over the labels: a linear SVM (squared hinge, dual
//!   coordinate descent, class-balanced costs) and an NB-SVM (the same SVM over features scaled
//!   by their naive-Bayes log-count ratio); complement naive Bayes is available
//!   ([`Members::cnb`]) but off: it lowered the cross-validated macro-F1 (below).
//! * **Ensemble**: the score vectors, each divided by the spread of its out-of-fold scores in a
//!   k-fold cross-validation on the training data, are added, with per-label offsets fitted to
//!   the out-of-fold macro-F1. All members are linear over the same features, so the ensemble
//!   is one linear model: prediction costs one sparse matrix–vector product.
//! * **Calibration**: probabilities are `softmax(score / T)`, the temperature `T` minimising the
//!   negative log-likelihood of the out-of-fold ensemble scores.
//!
//! # How the recipe was chosen
//! Inside the train split of the TipDM 2020 C data (6,393 letters), never on its test split.
//! `hotline eval --data labeled.csv --split train --folds 5` cross-validates the whole of
//! [`train`] (near-duplicate letters kept in one fold, see [`cv`]); `--set PATH=VALUE` tries an
//! option. The recipe before (with complement NB): macro-F1 0.9314 pooled over the 5 folds
//! (0.9313 ± 0.0015 over folds; 0.9312 with the `*` masks kept). Cheaper screening by the
//! out-of-fold macro-F1 of one `hotline train --split train` (the figure it prints):
//!
//! | candidate | out-of-fold macro-F1 |
//! |---|---|
//! | the recipe before (with complement NB) | 0.9308 |
//! | title block weight 2 | 0.9310 |
//! | character 1–4-grams | 0.9303 |
//! | SVM and NB-SVM cost 0.5 | 0.9294 |
//! | `min_df` 1 | 0.9285 |
//! | without complement NB | 0.9317 |
//! | without complement NB, `min_df` 3 | 0.9322 |
//! | **without complement NB, title block weight 2 (chosen)** | **0.9331** |
//!
//! The differences are within the folds' noise (about ±0.0015). On the test split, measured
//! after the choice: macro-F1 0.9318, accuracy 0.9357 (the recipe before: 0.931).

pub mod cv;
pub mod data;
pub mod eval;
mod format;
pub mod linear;
mod par;
pub mod progress;
pub mod text;
pub mod vocab;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use cv::{CrossValidation, cross_validate};
pub use data::{LabeledRow, Split, read_labeled_csv};
pub use eval::Evaluation;
pub use progress::{BarProgress, Progress, Silent};
pub use text::{Featurizer, TextConfig};

use linear::{Linear, SvmParams};
use vocab::{SparseVec, Vocabulary};

/// One training example: a text (title and body joined by a newline) and its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    pub label: String,
}

impl Example {
    pub fn new(text: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            label: label.into(),
        }
    }

    /// An example from a title and a body: `title + "\n" + body` (the body alone when the title
    /// is empty or the body already starts with it).
    pub fn from_parts(title: &str, body: &str, label: impl Into<String>) -> Self {
        Self::new(join_title_body(title, body), label)
    }
}

/// `title + "\n" + body`, or the body alone when the title is empty or already begins it.
pub fn join_title_body(title: &str, body: &str) -> String {
    let title = title.trim();
    if title.is_empty() || body.trim_start().starts_with(title) {
        body.to_owned()
    } else {
        format!("{title}\n{body}")
    }
}

/// One label with its calibrated probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub label: String,
    pub probability: f64,
}

/// Which learners the ensemble holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Members {
    pub svm: bool,
    pub nbsvm: bool,
    pub cnb: bool,
}

/// How a model is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub text: TextConfig,
    /// A feature is kept when at least this many training documents hold it.
    pub min_df: usize,
    /// The SVM's cost (per class, scaled so that every class weighs the same in total).
    pub svm_c: f64,
    /// The NB-SVM's cost.
    pub nbsvm_c: f64,
    /// The smoothing of the NB-SVM's log-count ratios.
    pub nbsvm_alpha: f64,
    /// The smoothing of complement naive Bayes.
    pub cnb_alpha: f64,
    pub members: Members,
    /// Per-label score offsets fitted to the out-of-fold macro-F1 (up to 32 labels).
    pub offsets: bool,
    /// Cross-validation folds for the ensemble weights and calibration (fewer when a label has
    /// fewer examples; none below 2).
    pub folds: usize,
    /// The SVM solver's stopping tolerance and iteration cap.
    pub eps: f64,
    pub max_iter: usize,
    /// Worker threads; 0: one per core.
    pub threads: usize,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            text: TextConfig::default(),
            min_df: 2,
            svm_c: 1.0,
            nbsvm_c: 1.0,
            nbsvm_alpha: 0.1,
            cnb_alpha: 0.03,
            members: Members {
                svm: true,
                nbsvm: true,
                cnb: false,
            },
            offsets: true,
            folds: 5,
            eps: 0.01,
            max_iter: 1000,
            threads: 0,
            seed: 42,
        }
    }
}

impl TrainOptions {
    /// These options with each `PATH=VALUE` override applied: `PATH` names a field, nested
    /// fields joined by `.` (`svm_c`, `text.char_ngrams`, `members.cnb`), `VALUE` is JSON.
    pub fn with_overrides(&self, overrides: &[String]) -> Result<Self, ModelError> {
        let bad = |item: &str, why: &str| ModelError::Option {
            item: item.to_owned(),
            detail: why.to_owned(),
        };
        let mut value = serde_json::to_value(self).map_err(|e| bad("", &e.to_string()))?;
        for item in overrides {
            let (path, raw) = item
                .split_once('=')
                .ok_or_else(|| bad(item, "expected PATH=VALUE"))?;
            let new: serde_json::Value =
                serde_json::from_str(raw).map_err(|_| bad(item, "the value is not JSON"))?;
            let mut slot = &mut value;
            for part in path.split('.') {
                slot = slot
                    .get_mut(part)
                    .ok_or_else(|| bad(item, "no such training option"))?;
            }
            if std::mem::discriminant(slot) != std::mem::discriminant(&new) {
                return Err(bad(item, "a value of the wrong type"));
            }
            *slot = new;
        }
        serde_json::from_value(value).map_err(|e| bad(&overrides.join(" "), &e.to_string()))
    }
}

/// What training measured: sizes, and the cross-validation inside the training data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    pub examples: usize,
    pub features: usize,
    /// Folds of the internal cross-validation (0: none, too few examples).
    pub folds: usize,
    /// Out-of-fold accuracy and macro-F1 of the ensemble on the training data.
    pub cv_accuracy: Option<f64>,
    pub cv_macro_f1: Option<f64>,
    /// Out-of-fold macro-F1 of each member alone: (name, macro-F1).
    pub cv_members: Vec<(String, f64)>,
    /// The spread each member's scores were divided by.
    pub member_scales: Vec<(String, f64)>,
    pub temperature: f64,
}

/// Why training, loading or saving failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("no training examples")]
    NoExamples,
    #[error("training needs at least two labels, found {0}")]
    TooFewLabels(usize),
    #[error("no feature is common to {min_df} training texts: too little text")]
    NoFeatures { min_df: usize },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a hotline classifier model file")]
    NotAModel { path: PathBuf },
    #[error("{path}: model format version {found}, this build reads version {expected}")]
    Version {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error("{path}: corrupt model file: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("{path}: {detail}")]
    Data { path: PathBuf, detail: String },
    #[error("training option {item:?}: {detail}")]
    Option { item: String, detail: String },
}

/// A trained classifier.
pub struct Model {
    labels: Vec<String>,
    featurizer: Featurizer,
    vocab: Vocabulary,
    /// Row-major `features × labels`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    temperature: f64,
    report: TrainReport,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("labels", &self.labels)
            .field("features", &self.vocab.len())
            .field("temperature", &self.temperature)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// The labels, in the model's order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// What training measured.
    pub fn report(&self) -> &TrainReport {
        &self.report
    }

    /// How many features the model weighs.
    pub fn features(&self) -> usize {
        self.vocab.len()
    }

    /// The calibrated softmax temperature.
    pub fn temperature(&self) -> f64 {
        self.temperature
    }

    /// An estimate of the memory the model holds (weights, vocabulary, its hash index), not
    /// counting the jieba dictionary, which every featuriser shares the size of.
    pub fn memory_bytes(&self) -> usize {
        let f = self.vocab.len();
        let k = self.labels.len();
        let weights = f * k * 4 + k * 4;
        let vocab = f * (8 + 4);
        // A hashbrown map of (u64, u32) entries: 16 bytes a slot, one control byte, load ≤ 7/8.
        let index = (f * 8 / 7).next_power_of_two() * 17;
        let labels: usize = self.labels.iter().map(|l| l.len() + 24).sum();
        weights + vocab + index + labels
    }

    /// The raw ensemble scores of `text`, one per label, before calibration.
    pub fn scores(&self, text: &str) -> Vec<f64> {
        let mut keys = Vec::with_capacity(text.len() * 2);
        self.featurizer.keys(text, &mut keys);
        let x = self.vocab.vectorize_keys(&keys);
        self.scores_of(&x)
    }

    fn scores_of(&self, x: &SparseVec) -> Vec<f64> {
        let k = self.labels.len();
        let mut s: Vec<f32> = self.bias.clone();
        for (&i, &v) in x.idx.iter().zip(&x.val) {
            let row = &self.weights[i as usize * k..(i as usize + 1) * k];
            for (sk, &w) in s.iter_mut().zip(row) {
                *sk += w * v;
            }
        }
        s.into_iter().map(f64::from).collect()
    }

    /// Every label with its calibrated probability, most probable first; the probabilities sum
    /// to 1.
    pub fn predict(&self, text: &str) -> Vec<Prediction> {
        let probs = softmax(&self.scores(text), self.temperature);
        let mut out: Vec<Prediction> = self
            .labels
            .iter()
            .zip(probs)
            .map(|(l, p)| Prediction {
                label: l.clone(),
                probability: p,
            })
            .collect();
        out.sort_by(|a, b| {
            b.probability
                .total_cmp(&a.probability)
                .then_with(|| a.label.cmp(&b.label))
        });
        out
    }

    /// The `k` most probable labels.
    pub fn top(&self, text: &str, k: usize) -> Vec<Prediction> {
        let mut p = self.predict(text);
        p.truncate(k);
        p
    }

    /// The most probable label's index in [`Model::labels`].
    pub fn predict_index(&self, text: &str) -> usize {
        argmax(&self.scores(text))
    }
}

impl crate::routing::Classifier for Model {
    fn classify(&self, text: &str) -> Vec<(String, f64)> {
        self.predict(text)
            .into_iter()
            .map(|p| (p.label, p.probability))
            .collect()
    }
}

/// `softmax(scores / t)`.
pub fn softmax(scores: &[f64], t: f64) -> Vec<f64> {
    let t = if t > 0.0 { t } else { 1.0 };
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = scores.iter().map(|&s| ((s - max) / t).exp()).collect();
    let z: f64 = e.iter().sum();
    e.into_iter().map(|v| v / z).collect()
}

fn argmax(s: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in s.iter().enumerate() {
        if v > s[best] {
            best = i;
        }
    }
    best
}

/// One train/held-out split of the training data, vectorised with its own vocabulary.
struct Fold {
    vocab: Vocabulary,
    /// The vectors of every example (train and held-out), by example index.
    vectors: Vec<SparseVec>,
    train: Vec<usize>,
    held_out: Vec<usize>,
}

/// Which learner a job trains.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Member {
    Svm,
    NbSvm,
    Cnb,
}

impl Member {
    fn name(self) -> &'static str {
        match self {
            Member::Svm => "svm",
            Member::NbSvm => "nb-svm",
            Member::Cnb => "complement-nb",
        }
    }
}

/// Trains a model on `examples`. `progress` hears of each stage; pass [`Silent`] for none.
pub fn train(
    examples: &[Example],
    options: &TrainOptions,
    progress: &dyn Progress,
) -> Result<Model, ModelError> {
    if examples.is_empty() {
        return Err(ModelError::NoExamples);
    }
    let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
    labels.sort();
    labels.dedup();
    if labels.len() < 2 {
        return Err(ModelError::TooFewLabels(labels.len()));
    }
    let classes = labels.len();
    let y: Vec<usize> = examples
        .iter()
        .map(|e| labels.binary_search(&e.label).unwrap_or(0))
        .collect();
    let threads = par::resolve_threads(options.threads);
    let featurizer = Featurizer::new(options.text.clone());

    // 1. Features of every text, once.
    progress.stage("segmenting", examples.len() as u64);
    let counts: Vec<Vec<(u64, u32)>> = par::map(
        examples.len(),
        threads,
        |i| featurizer.counts(&examples[i].text),
        || progress.advance(1),
    );

    // 2. The folds, and the whole set as the last "fold".
    let mut per_class = vec![0usize; classes];
    for &k in &y {
        per_class[k] += 1;
    }
    let min_class = per_class.iter().copied().min().unwrap_or(0);
    let folds = if min_class >= 2 {
        options.folds.min(min_class)
    } else {
        0
    };
    let assignment = stratified_folds(&y, classes, folds.max(1), options.seed);
    let all: Vec<usize> = (0..examples.len()).collect();
    let members: Vec<Member> = [
        (options.members.svm, Member::Svm),
        (options.members.nbsvm, Member::NbSvm),
        (options.members.cnb, Member::Cnb),
    ]
    .into_iter()
    .filter_map(|(on, m)| on.then_some(m))
    .collect();
    let members = if members.is_empty() {
        vec![Member::Svm]
    } else {
        members
    };
    let splits = folds + 1;
    progress.stage("vectorising", splits as u64);
    let fold_data: Vec<Fold> = par::map(
        splits,
        threads,
        |f| {
            let (train, held_out): (Vec<usize>, Vec<usize>) = if f == folds {
                (all.clone(), Vec::new())
            } else {
                all.iter().partition(|&&i| assignment[i] != f)
            };
            let vocab =
                Vocabulary::fit(train.iter().map(|&i| counts[i].as_slice()), options.min_df)
                    .with_block_weights(options.text.block_weights);
            let vectors = counts.iter().map(|c| vocab.vectorize(c)).collect();
            Fold {
                vocab,
                vectors,
                train,
                held_out,
            }
        },
        || progress.advance(1),
    );
    drop(counts);
    if fold_data.last().is_none_or(|f| f.vocab.is_empty()) {
        return Err(ModelError::NoFeatures {
            min_df: options.min_df,
        });
    }
    let sums: Vec<Vec<Vec<f64>>> = fold_data
        .iter()
        .map(|f| {
            let labels_of: Vec<usize> = f.train.iter().map(|&i| y[i]).collect();
            linear::class_sums(&f.vectors, &f.train, &labels_of, f.vocab.len(), classes)
        })
        .collect();

    // 3. The binary problems: (split, member, class) for the SVMs; naive Bayes is closed-form.
    let mut jobs: Vec<(usize, Member, usize)> = Vec::new();
    for f in 0..splits {
        for &m in &members {
            if m != Member::Cnb {
                for k in 0..classes {
                    jobs.push((f, m, k));
                }
            }
        }
    }
    progress.stage("training", jobs.len() as u64);
    let solved: Vec<(Vec<f64>, f64)> = par::map(
        jobs.len(),
        threads,
        |j| {
            let (f, m, k) = jobs[j];
            let fold = &fold_data[f];
            let positive: Vec<bool> = fold.train.iter().map(|&i| y[i] == k).collect();
            let n_pos = positive.iter().filter(|&&p| p).count().max(1);
            let n = fold.train.len();
            let dim = fold.vocab.len();
            let seed = options.seed ^ ((j as u64) << 17);
            match m {
                Member::Svm => {
                    // Balanced: the positive class's cost scaled by n / (classes · n_k).
                    let params = SvmParams {
                        c_pos: options.svm_c * n as f64 / (classes * n_pos) as f64,
                        c_neg: options.svm_c,
                        eps: options.eps,
                        max_iter: options.max_iter,
                        seed,
                    };
                    linear::train_svm(&fold.vectors, &fold.train, &positive, dim, None, &params)
                }
                Member::NbSvm | Member::Cnb => {
                    let r = linear::log_count_ratio(&sums[f], k, options.nbsvm_alpha);
                    let params = SvmParams {
                        c_pos: options.nbsvm_c,
                        c_neg: options.nbsvm_c,
                        eps: options.eps,
                        max_iter: options.max_iter,
                        seed,
                    };
                    let (mut w, b) = linear::train_svm(
                        &fold.vectors,
                        &fold.train,
                        &positive,
                        dim,
                        Some(&r),
                        &params,
                    );
                    for (wi, ri) in w.iter_mut().zip(&r) {
                        *wi *= ri;
                    }
                    (w, b)
                }
            }
        },
        || progress.advance(1),
    );
    // Assemble one linear model per (split, member).
    let mut models: Vec<Vec<Linear>> = Vec::with_capacity(splits);
    let mut solved = solved.into_iter();
    for (f, fold) in fold_data.iter().enumerate() {
        let mut row = Vec::with_capacity(members.len());
        for &m in &members {
            if m == Member::Cnb {
                row.push(linear::complement_nb(&sums[f], options.cnb_alpha));
            } else {
                let mut lin = Linear::zeros(fold.vocab.len(), classes);
                for k in 0..classes {
                    if let Some((w, b)) = solved.next() {
                        lin.set_class(k, &w, b);
                    }
                }
                row.push(lin);
            }
        }
        models.push(row);
    }
    drop(sums);

    // 4. Out-of-fold scores: each member's spread, the ensemble's CV quality and temperature.
    progress.stage("calibrating", 1);
    let n = examples.len();
    let mut oof: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); n]; members.len()];
    if folds >= 2 {
        for (f, fold) in fold_data.iter().enumerate().take(folds) {
            for (mi, model) in models[f].iter().enumerate() {
                for &i in &fold.held_out {
                    oof[mi][i] = model.scores(&fold.vectors[i]);
                }
            }
        }
    } else {
        // No cross-validation possible: in-sample scores set the spreads.
        let fold = &fold_data[folds];
        for (mi, model) in models[folds].iter().enumerate() {
            for (i, x) in fold.vectors.iter().enumerate() {
                oof[mi][i] = model.scores(x);
            }
        }
    }
    let scales: Vec<f64> = oof.iter().map(|s| centred_spread(s)).collect();
    let combined: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            let mut s = vec![0.0; classes];
            for (mi, scale) in scales.iter().enumerate() {
                for (sk, v) in s.iter_mut().zip(&oof[mi][i]) {
                    *sk += v / scale;
                }
            }
            s
        })
        .collect();
    let mut report = TrainReport {
        examples: n,
        features: fold_data[folds].vocab.len(),
        folds,
        cv_accuracy: None,
        cv_macro_f1: None,
        cv_members: Vec::new(),
        member_scales: members
            .iter()
            .zip(&scales)
            .map(|(m, &s)| (m.name().to_owned(), s))
            .collect(),
        temperature: 1.0,
    };
    // Per-label offsets that raise the out-of-fold macro-F1 (small labels recalled more).
    // (A search over every label's offset; for many labels with few examples each it costs
    // much and fits noise, so only for up to `MAX_OFFSET_LABELS`.)
    let offsets = if options.offsets && folds >= 2 && classes <= MAX_OFFSET_LABELS {
        fit_offsets(&combined, &y, classes)
    } else {
        vec![0.0; classes]
    };
    let combined: Vec<Vec<f64>> = combined
        .into_iter()
        .map(|s| s.iter().zip(&offsets).map(|(v, o)| v + o).collect())
        .collect();
    if folds >= 2 {
        let pred: Vec<usize> = combined.iter().map(|s| argmax(s)).collect();
        let ev = Evaluation::new(&labels, &y, &pred);
        report.cv_accuracy = Some(ev.accuracy());
        report.cv_macro_f1 = Some(ev.macro_f1());
        for (mi, m) in members.iter().enumerate() {
            let pred: Vec<usize> = oof[mi].iter().map(|s| argmax(s)).collect();
            let ev = Evaluation::new(&labels, &y, &pred);
            report.cv_members.push((m.name().to_owned(), ev.macro_f1()));
        }
        report.temperature = fit_temperature(&combined, &y);
    }
    progress.advance(1);
    progress.finish();

    // 5. The final ensemble: one linear model.
    let final_fold = fold_data.into_iter().nth(folds);
    let Some(final_fold) = final_fold else {
        return Err(ModelError::NoExamples);
    };
    let mut ensemble = Linear::zeros(final_fold.vocab.len(), classes);
    for (model, scale) in models[folds].iter().zip(&scales) {
        ensemble.add_scaled(model, 1.0 / scale);
    }
    for (b, o) in ensemble.bias.iter_mut().zip(&offsets) {
        *b += o;
    }
    Ok(Model {
        labels,
        featurizer,
        vocab: final_fold.vocab,
        weights: ensemble.weights.iter().map(|&w| w as f32).collect(),
        bias: ensemble.bias.iter().map(|&b| b as f32).collect(),
        temperature: report.temperature,
        report,
    })
}

/// Assigns each example a fold in `0..folds`, every label spread evenly over the folds.
fn stratified_folds(y: &[usize], classes: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut out = vec![0; y.len()];
    let mut rng = linear::Rng(seed ^ 0xdead_beef);
    let mut next = move || rng.next();
    let mut offset = 0;
    for k in 0..classes {
        let mut members: Vec<usize> = (0..y.len()).filter(|&i| y[i] == k).collect();
        for i in (1..members.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            members.swap(i, j);
        }
        for (j, &i) in members.iter().enumerate() {
            out[i] = (j + offset) % folds;
        }
        offset += members.len();
    }
    out
}

/// The standard deviation of scores after each row is centred on its mean (a row's offset
/// does not change its softmax).
/// Most labels for which per-label offsets are fitted.
const MAX_OFFSET_LABELS: usize = 32;

/// Offsets added to each label's score, found by coordinate ascent on the out-of-fold macro-F1
/// (a few passes over a grid); ties keep the smaller change.
fn fit_offsets(scores: &[Vec<f64>], y: &[usize], classes: usize) -> Vec<f64> {
    let spread = centred_spread(scores).max(1e-9);
    let mut offsets = vec![0.0; classes];
    let labels: Vec<String> = (0..classes).map(|k| k.to_string()).collect();
    let f1 = |offsets: &[f64]| {
        let pred: Vec<usize> = scores
            .iter()
            .map(|s| {
                let shifted: Vec<f64> = s.iter().zip(offsets).map(|(v, o)| v + o).collect();
                argmax(&shifted)
            })
            .collect();
        Evaluation::new(&labels, y, &pred).macro_f1()
    };
    let mut best = f1(&offsets);
    let grid: Vec<f64> = (-10..=10).map(|i| f64::from(i) * 0.05 * spread).collect();
    for _ in 0..3 {
        let mut improved = false;
        for k in 0..classes {
            let current = offsets[k];
            let mut choice = current;
            for &g in &grid {
                offsets[k] = g;
                let f = f1(&offsets);
                if f > best + 1e-9 || (f >= best - 1e-9 && g.abs() < choice.abs() && f >= best) {
                    if f > best + 1e-9 {
                        improved = true;
                    }
                    best = best.max(f);
                    choice = g;
                }
            }
            offsets[k] = choice;
        }
        if !improved {
            break;
        }
    }
    offsets
}

fn centred_spread(scores: &[Vec<f64>]) -> f64 {
    let mut sum = 0.0;
    let mut count = 0usize;
    for s in scores {
        if s.is_empty() {
            continue;
        }
        let mean = s.iter().sum::<f64>() / s.len() as f64;
        sum += s.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
        count += s.len();
    }
    let sd = if count > 0 {
        (sum / count as f64).sqrt()
    } else {
        1.0
    };
    if sd.is_finite() && sd > 1e-12 {
        sd
    } else {
        1.0
    }
}

/// The temperature minimising the mean negative log-likelihood of `softmax(s / T)`.
fn fit_temperature(scores: &[Vec<f64>], y: &[usize]) -> f64 {
    let nll = |log_t: f64| -> f64 {
        let t = log_t.exp();
        scores
            .iter()
            .zip(y)
            .map(|(s, &k)| -softmax(s, t)[k].max(1e-300).ln())
            .sum::<f64>()
            / scores.len().max(1) as f64
    };
    // Golden-section search over ln T in [-7, 5].
    let (mut a, mut b) = (-7.0f64, 5.0f64);
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (nll(c), nll(d));
    for _ in 0..80 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = nll(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = nll(d);
        }
    }
    ((a + b) / 2.0).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one() {
        let p = softmax(&[1.0, 2.0, 3.0], 0.5);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p[2] > p[1] && p[1] > p[0]);
    }

    #[test]
    fn folds_are_stratified() {
        let y: Vec<usize> = (0..100).map(|i| i % 2).collect();
        let f = stratified_folds(&y, 2, 5, 1);
        for fold in 0..5 {
            let n0 = (0..100).filter(|&i| f[i] == fold && y[i] == 0).count();
            assert_eq!(n0, 10);
        }
    }

    #[test]
    fn temperature_fits_confident_scores() {
        // Scores that are always right: the temperature goes down (sharper).
        let s: Vec<Vec<f64>> = (0..50)
            .map(|i| vec![1.0 - (i % 2) as f64, (i % 2) as f64])
            .collect();
        let y: Vec<usize> = (0..50).map(|i| i % 2).collect();
        assert!(fit_temperature(&s, &y) < 0.1);
    }
}
