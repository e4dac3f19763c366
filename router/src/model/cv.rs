//! Choosing a recipe honestly: k-fold cross-validation of the whole of [`train`] inside the
//! training data, near-duplicate letters kept in one fold (so that a letter is never judged
//! by a model that saw its copy, as the test split was kept apart from train).

use rustc_hash::FxHashMap;

use super::text::normalise;
use super::{Evaluation, Example, ModelError, Progress, Silent, TrainOptions, argmax, train};

/// Texts whose character-trigram Jaccard similarity reaches this are one group.
pub const NEAR_DUPLICATE_JACCARD: f64 = 0.5;

/// What a cross-validation measured.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossValidation {
    /// Every example's held-out prediction, pooled.
    pub pooled: Evaluation,
    /// Each fold's macro-F1.
    pub fold_macro_f1: Vec<f64>,
    /// Examples that share a fold with a near-duplicate.
    pub grouped: usize,
}

impl CrossValidation {
    /// The mean of the folds' macro-F1.
    pub fn mean_macro_f1(&self) -> f64 {
        self.fold_macro_f1.iter().sum::<f64>() / self.fold_macro_f1.len().max(1) as f64
    }

    /// The standard error of that mean.
    pub fn stderr_macro_f1(&self) -> f64 {
        let n = self.fold_macro_f1.len();
        if n < 2 {
            return 0.0;
        }
        let m = self.mean_macro_f1();
        let var = self
            .fold_macro_f1
            .iter()
            .map(|f| (f - m).powi(2))
            .sum::<f64>()
            / (n - 1) as f64;
        (var / n as f64).sqrt()
    }
}

/// Trains with `options` on `folds - 1` folds of `examples` and predicts the held-out one, for
/// every fold (the folds stratified by label and seeded by `seed`, near-duplicates together).
/// `progress` hears of each fold.
pub fn cross_validate(
    examples: &[Example],
    options: &TrainOptions,
    folds: usize,
    seed: u64,
    progress: &dyn Progress,
) -> Result<CrossValidation, ModelError> {
    if examples.is_empty() {
        return Err(ModelError::NoExamples);
    }
    let folds = folds.max(2);
    let mut labels: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
    labels.sort();
    labels.dedup();
    let y: Vec<usize> = examples
        .iter()
        .map(|e| labels.binary_search(&e.label).unwrap_or(0))
        .collect();
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let groups = near_duplicate_groups(&texts, NEAR_DUPLICATE_JACCARD);
    let mut group_size: FxHashMap<usize, usize> = FxHashMap::default();
    for &g in &groups {
        *group_size.entry(g).or_insert(0) += 1;
    }
    let grouped = groups.iter().filter(|g| group_size[g] > 1).count();
    let assignment = grouped_folds(&y, &groups, labels.len(), folds, seed);
    let mut predicted = vec![0usize; examples.len()];
    let mut fold_macro_f1 = Vec::with_capacity(folds);
    progress.stage("cross-validating", folds as u64);
    for f in 0..folds {
        let (held, kept): (Vec<usize>, Vec<usize>) =
            (0..examples.len()).partition(|&i| assignment[i] == f);
        let part: Vec<Example> = kept.iter().map(|&i| examples[i].clone()).collect();
        let model = train(&part, options, &Silent)?;
        // The fold's model may lack a label; map its labels onto the whole set's.
        let map: Vec<usize> = model
            .labels()
            .iter()
            .map(|l| labels.binary_search(l).unwrap_or(0))
            .collect();
        for &i in &held {
            predicted[i] = map[argmax(&model.scores(&examples[i].text))];
        }
        let gold: Vec<usize> = held.iter().map(|&i| y[i]).collect();
        let pred: Vec<usize> = held.iter().map(|&i| predicted[i]).collect();
        fold_macro_f1.push(Evaluation::new(&labels, &gold, &pred).macro_f1());
        progress.advance(1);
    }
    progress.finish();
    Ok(CrossValidation {
        pooled: Evaluation::new(&labels, &y, &predicted),
        fold_macro_f1,
        grouped,
    })
}

/// A group id per text: texts whose character-trigram sets (after [`normalise`]) have a
/// Jaccard similarity of at least `threshold` share one, transitively.
pub fn near_duplicate_groups(texts: &[&str], threshold: f64) -> Vec<usize> {
    let sets: Vec<Vec<u64>> = texts
        .iter()
        .map(|t| {
            let chars: Vec<char> = normalise(t).chars().collect();
            let mut s: Vec<u64> = chars
                .windows(3)
                .map(|w| {
                    w.iter()
                        .fold(0u64, |h, &c| (h << 21) ^ u64::from(u32::from(c)))
                })
                .collect();
            s.sort_unstable();
            s.dedup();
            s
        })
        .collect();
    let mut postings: FxHashMap<u64, Vec<u32>> = FxHashMap::default();
    for (i, s) in sets.iter().enumerate() {
        for &g in s {
            postings.entry(g).or_default().push(i as u32);
        }
    }
    // Near-duplicates share many trigrams, most of them rare: common ones are left out of the
    // candidate count (a pair's exact similarity is then computed from the full sets).
    const COMMON: usize = 50;
    let mut shared: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    for list in postings
        .values()
        .filter(|l| l.len() > 1 && l.len() <= COMMON)
    {
        for (a, &i) in list.iter().enumerate() {
            for &j in &list[a + 1..] {
                *shared.entry((i, j)).or_insert(0) += 1;
            }
        }
    }
    let mut parent: Vec<usize> = (0..texts.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (&(i, j), &n) in &shared {
        let (a, b) = (&sets[i as usize], &sets[j as usize]);
        // Skip pairs that cannot reach the threshold even if every shared trigram counted.
        let bound = a.len().min(b.len()) as f64 / a.len().max(b.len()).max(1) as f64;
        if bound < threshold || f64::from(n) < threshold * a.len().min(b.len()) as f64 * 0.1 {
            continue;
        }
        if jaccard(a, b) >= threshold {
            let (ri, rj) = (root(&mut parent, i as usize), root(&mut parent, j as usize));
            if ri != rj {
                parent[ri.max(rj)] = ri.min(rj);
            }
        }
    }
    (0..texts.len()).map(|i| root(&mut parent, i)).collect()
}

/// The Jaccard similarity of two sorted, deduplicated sets.
fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        0.0
    } else {
        both as f64 / union as f64
    }
}

/// Folds in `0..folds`: each group in one fold, groups dealt out label by label (a group's
/// label is its first member's) in a seeded random order, so every label spreads evenly.
fn grouped_folds(
    y: &[usize],
    groups: &[usize],
    classes: usize,
    folds: usize,
    seed: u64,
) -> Vec<usize> {
    let mut rng = super::linear::Rng(seed ^ 0x5eed_f01d);
    let mut next = move || rng.next();
    // Groups by the label of their first member (the group id is its smallest index).
    let mut by_label: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &g) in groups.iter().enumerate() {
        if g == i {
            by_label[y[i]].push(g);
        }
    }
    let mut fold_of_group: FxHashMap<usize, usize> = FxHashMap::default();
    let mut offset = 0;
    for list in &mut by_label {
        for i in (1..list.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            list.swap(i, j);
        }
        for (j, &g) in list.iter().enumerate() {
            fold_of_group.insert(g, (j + offset) % folds);
        }
        offset += list.len();
    }
    groups
        .iter()
        .map(|g| fold_of_group.get(g).copied().unwrap_or(0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_duplicates_share_a_group_and_others_do_not() {
        let texts = [
            "小区门口的路灯坏了三天了，晚上出行很不方便，请尽快修理",
            "小区门口的路灯坏了三天了，晚上出行很不方便，请尽快维修",
            "公司拖欠工资三个月，劳动监察部门请帮忙处理",
            "小区门口的路灯坏了三天了，晚上出行很不方便，请尽快修理。谢谢",
        ];
        let g = near_duplicate_groups(&texts, 0.5);
        assert_eq!(g[0], g[1]);
        assert_eq!(g[0], g[3]);
        assert_ne!(g[0], g[2]);
    }

    #[test]
    fn groups_stay_in_one_fold() {
        let y: Vec<usize> = (0..40).map(|i| i % 2).collect();
        let mut groups: Vec<usize> = (0..40).collect();
        groups[7] = 3;
        groups[9] = 3;
        let f = grouped_folds(&y, &groups, 2, 4, 1);
        assert_eq!(f[3], f[7]);
        assert_eq!(f[3], f[9]);
        for fold in 0..4 {
            assert!((0..40).filter(|&i| f[i] == fold).count() >= 8);
        }
    }
}
