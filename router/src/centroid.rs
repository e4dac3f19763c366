//! A nearest-centroid (Rocchio) classifier over character n-grams: each matter is the mean of
//! its examples' TF-IDF vectors; an appeal scores the cosine with each, turned into
//! probabilities by a softmax. A linear model that learns from three or four examples a
//! matter and trains in milliseconds, so the router builds it from the taxonomy at every start.

use hotline_schemas::value::taxonomy::Taxonomy;
use rustc_hash::FxHashMap;

use crate::model::text::normalise;
use crate::routing::Classifier;

/// Character n-gram lengths.
const GRAMS: std::ops::RangeInclusive<usize> = 1..=3;

/// The softmax temperature of the taxonomy's default classifier (chosen by held-out
/// cross-validation over the shipped examples: `cargo bench -p hotline-router --bench taxonomy`).
pub const TAXONOMY_TEMPERATURE: f64 = 0.02;
/// The "none of these" similarity of the taxonomy's default classifier (chosen likewise).
pub const TAXONOMY_FLOOR: f64 = 0.15;

/// Matters as centroids of their examples.
pub struct CentroidClassifier {
    labels: Vec<String>,
    /// n-gram key → inverse document frequency.
    idf: FxHashMap<u64, f32>,
    /// n-gram key → (label index, centroid weight).
    postings: FxHashMap<u64, Vec<(u32, f32)>>,
    /// Softmax temperature over cosine similarities.
    temperature: f64,
    /// The similarity of "none of these": a text no closer than this to any matter keeps most
    /// of its probability unassigned, so the router leaves it to a dispatcher.
    floor: f64,
}

/// A 64-bit key of an n-gram (FNV-1a over its characters, then a final mix).
fn key(window: &[char]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ window.len() as u64;
    for &c in window {
        h = (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// Words that carry no matter: a phone transcript's fillers and particles (嗯, 那个, 就是说)
/// and Cantonese ones (嘅, 咗), dropped before the n-grams so that a call transcript reads like
/// the same appeal written down.
const FILLERS: [&str; 16] = [
    "就是说",
    "然后呢",
    "那个",
    "这个",
    "你好",
    "喂",
    "嗯",
    "呃",
    "啊",
    "哎",
    "吧",
    "呢",
    "嘛",
    "嘅",
    "咗",
    "啦",
];

/// `text` without its fillers.
fn without_fillers(text: &str) -> String {
    FILLERS.iter().fold(text.to_owned(), |t, f| {
        if t.contains(f) { t.replace(f, "") } else { t }
    })
}

/// The n-grams of `text` with their counts.
fn grams(text: &str) -> FxHashMap<u64, f32> {
    let chars: Vec<char> = without_fillers(&normalise(text))
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    let mut counts: FxHashMap<u64, f32> = FxHashMap::default();
    for n in GRAMS {
        for window in chars.windows(n) {
            *counts.entry(key(window)).or_default() += 1.0;
        }
    }
    counts
}

/// Sublinear TF × IDF, L2-normalised; n-grams without an IDF (unseen in training) dropped.
fn weigh(counts: FxHashMap<u64, f32>, idf: &FxHashMap<u64, f32>) -> Vec<(u64, f32)> {
    let mut v: Vec<(u64, f32)> = counts
        .into_iter()
        .filter_map(|(g, tf)| Some((g, (1.0 + tf.ln()) * idf.get(&g)?)))
        .collect();
    let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|(_, x)| *x /= norm);
    }
    v
}

impl CentroidClassifier {
    /// Learns from `(text, label)` pairs; `temperature` sharpens (small) or flattens (large)
    /// the probabilities.
    pub fn train<'a>(
        examples: impl IntoIterator<Item = (&'a str, &'a str)>,
        temperature: f64,
    ) -> Self {
        let mut labels: Vec<String> = Vec::new();
        let mut docs: Vec<(usize, FxHashMap<u64, f32>)> = Vec::new();
        for (text, label) in examples {
            let k = match labels.iter().position(|l| l == label) {
                Some(k) => k,
                None => {
                    labels.push(label.to_owned());
                    labels.len() - 1
                }
            };
            docs.push((k, grams(text)));
        }
        let mut df: FxHashMap<u64, f32> = FxHashMap::default();
        for (_, counts) in &docs {
            for &g in counts.keys() {
                *df.entry(g).or_default() += 1.0;
            }
        }
        let n = docs.len() as f32;
        let idf: FxHashMap<u64, f32> = df
            .into_iter()
            .map(|(g, d)| (g, ((1.0 + n) / (1.0 + d)).ln() + 1.0))
            .collect();
        let mut centroids: Vec<FxHashMap<u64, f32>> = vec![FxHashMap::default(); labels.len()];
        for (k, counts) in docs {
            for (g, x) in weigh(counts, &idf) {
                *centroids[k].entry(g).or_default() += x;
            }
        }
        let mut postings: FxHashMap<u64, Vec<(u32, f32)>> = FxHashMap::default();
        for (k, centroid) in centroids.into_iter().enumerate() {
            let norm = centroid
                .values()
                .map(|x| x * x)
                .sum::<f32>()
                .sqrt()
                .max(f32::EPSILON);
            for (g, x) in centroid {
                postings
                    .entry(g)
                    .or_default()
                    .push((u32::try_from(k).unwrap_or(u32::MAX), x / norm));
            }
        }
        Self {
            labels,
            idf,
            postings,
            temperature,
            floor: TAXONOMY_FLOOR,
        }
    }

    /// The same with another "none of these" similarity.
    pub fn with_floor(mut self, floor: f64) -> Self {
        self.floor = floor;
        self
    }

    /// Cosine similarity of `text` with each label's centroid, in label order.
    pub fn similarities(&self, text: &str) -> Vec<f64> {
        let mut sims = vec![0.0f64; self.labels.len()];
        for (g, x) in weigh(grams(text), &self.idf) {
            for &(k, w) in self.postings.get(&g).map_or(&[][..], Vec::as_slice) {
                if let Some(s) = sims.get_mut(k as usize) {
                    *s += f64::from(x * w);
                }
            }
        }
        sims
    }
}

impl Classifier for CentroidClassifier {
    fn classify(&self, text: &str) -> Vec<(String, f64)> {
        let sims = self.similarities(text);
        if sims.iter().all(|s| *s <= 0.0) {
            return Vec::new();
        }
        let t = self.temperature.max(1e-6);
        let top = sims.iter().copied().fold(self.floor.max(0.0), f64::max);
        let exp: Vec<f64> = sims.iter().map(|s| ((s - top) / t).exp()).collect();
        let none = if self.floor > 0.0 {
            ((self.floor - top) / t).exp()
        } else {
            0.0
        };
        let total: f64 = exp.iter().sum::<f64>() + none;
        let mut out: Vec<(String, f64)> = self
            .labels
            .iter()
            .zip(exp)
            .map(|(l, e)| (l.clone(), e / total))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

/// `(text, matter code)` for every example appeal, name, and name with keyword of the taxonomy
/// (traditional characters read as simplified).
pub fn taxonomy_texts(taxonomy: &Taxonomy) -> Vec<(String, String)> {
    let mut texts: Vec<(String, String)> = example_texts(taxonomy)
        .into_iter()
        .map(|(_, text, code)| (text, code))
        .collect();
    texts.extend(description_texts(taxonomy));
    texts
}

/// `(index among the matter's examples, text, matter code)` of every example appeal.
pub fn example_texts(taxonomy: &Taxonomy) -> Vec<(usize, String, String)> {
    taxonomy
        .matters
        .iter()
        .flat_map(|m| {
            m.examples
                .iter()
                .enumerate()
                .map(|(i, e)| (i, fast2s::convert(e), m.code.to_string()))
        })
        .collect()
}

/// What the taxonomy says of each matter besides examples: its name, and its name with each
/// keyword.
pub fn description_texts(taxonomy: &Taxonomy) -> Vec<(String, String)> {
    taxonomy
        .matters
        .iter()
        .flat_map(|m| {
            std::iter::once(m.name.clone())
                .chain(m.keywords.iter().map(|k| format!("{} {k}", m.name)))
                .map(|t| (t, m.code.to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lights_and_wages(floor: f64) -> CentroidClassifier {
        CentroidClassifier::train(
            [
                ("小区路灯坏了不亮", "LIGHT"),
                ("路灯晚上不亮很危险", "LIGHT"),
                ("公司拖欠工资三个月", "WAGES"),
                ("老板欠薪不发工资", "WAGES"),
            ],
            0.05,
        )
        .with_floor(floor)
    }

    #[test]
    fn the_nearest_centroid_wins_and_probabilities_add_up() {
        let c = lights_and_wages(0.0);
        let out = c.classify("我们小区门口的路灯一直不亮");
        assert_eq!(out[0].0, "LIGHT");
        assert!(out[0].1 > 0.9, "{out:?}");
        let total: f64 = out.iter().map(|(_, p)| p).sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
        assert_eq!(c.classify("工资被拖欠")[0].0, "WAGES");
        assert!(c.classify("???").is_empty(), "nothing known: no scores");
    }

    #[test]
    fn a_call_transcript_reads_like_the_appeal_written_down() {
        let spoken = "喂,你好,嗯,那个就是说我们小区那个路灯啊坏了不亮呢";
        let written = "我们小区路灯坏了不亮";
        assert_eq!(grams(spoken), grams(written));
        let c = lights_and_wages(0.0);
        let (a, b) = (c.similarities(spoken), c.similarities(written));
        assert!(
            a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-9),
            "{a:?} {b:?}"
        );
    }

    #[test]
    fn texts_far_from_every_matter_keep_their_probability_unassigned() {
        let text = "天气不错,路上人很多";
        let open = lights_and_wages(0.0).classify(text);
        let floored = lights_and_wages(0.5).classify(text);
        assert!(open[0].1 > 0.5, "{open:?}");
        assert!(floored[0].1 < 0.1, "{floored:?}");
        let near = lights_and_wages(0.5).classify("小区路灯坏了不亮很危险");
        assert!(near[0].1 > 0.9, "close texts keep theirs: {near:?}");
    }
}
