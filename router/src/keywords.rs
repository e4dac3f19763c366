//! A classifier from the taxonomy's keywords: each matter scores the occurrences of its
//! keywords in the text, and its probability is its share of all hits. Transparent and
//! instant; the trained model replaces it where one is loaded.

use hotline_schemas::value::taxonomy::Taxonomy;
use rustc_hash::FxHashMap;

use crate::routing::Classifier;

/// Scores matters by their keywords.
pub struct KeywordClassifier {
    /// Matter codes, in the taxonomy's order.
    matters: Vec<String>,
    /// Every keyword as `(matter index, keyword)`.
    keywords: Vec<(usize, String)>,
    /// First character → the keywords (indices into `keywords`) that begin with it, so that
    /// the text is read once instead of once per keyword.
    by_first: FxHashMap<char, Vec<usize>>,
}

impl KeywordClassifier {
    pub fn new(taxonomy: &Taxonomy) -> Self {
        let mut keywords: Vec<(usize, String)> = Vec::new();
        for (i, m) in taxonomy.matters.iter().enumerate() {
            for k in m.keywords.iter().filter(|k| !k.trim().is_empty()) {
                keywords.push((i, k.clone()));
            }
        }
        let mut by_first: FxHashMap<char, Vec<usize>> = FxHashMap::default();
        for (j, (_, k)) in keywords.iter().enumerate() {
            if let Some(c) = k.chars().next() {
                by_first.entry(c).or_default().push(j);
            }
        }
        Self {
            matters: taxonomy
                .matters
                .iter()
                .map(|m| m.code.to_string())
                .collect(),
            keywords,
            by_first,
        }
    }

    /// How often each keyword occurs in `text`, without overlaps (as `str::matches` counts).
    fn occurrences(&self, text: &str) -> Vec<usize> {
        let mut counts = vec![0usize; self.keywords.len()];
        // The byte offset where each keyword may next begin.
        let mut free = vec![0usize; self.keywords.len()];
        for (at, c) in text.char_indices() {
            let Some(candidates) = self.by_first.get(&c) else {
                continue;
            };
            for &j in candidates {
                let k = &self.keywords[j].1;
                if at >= free[j] && text[at..].starts_with(k.as_str()) {
                    counts[j] += 1;
                    free[j] = at + k.len();
                }
            }
        }
        counts
    }
}

impl Classifier for KeywordClassifier {
    fn classify(&self, text: &str) -> Vec<(String, f64)> {
        let mut per_matter = vec![0usize; self.matters.len()];
        for (j, n) in self.occurrences(text).into_iter().enumerate() {
            per_matter[self.keywords[j].0] += n;
        }
        let mut hits: Vec<(usize, usize)> = per_matter
            .into_iter()
            .enumerate()
            .filter(|(_, n)| *n > 0)
            .collect();
        // Most hits first; among equals, the taxonomy's order.
        hits.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let total: usize = hits.iter().map(|(_, n)| n).sum();
        hits.into_iter()
            .map(|(i, n)| (self.matters[i].clone(), n as f64 / total as f64))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_of_keyword_hits() {
        let t = Taxonomy::shipped().unwrap();
        let c = KeywordClassifier::new(&t);
        let street_light = t
            .matters
            .iter()
            .find(|m| m.keywords.iter().any(|k| k == "路灯"))
            .unwrap();
        let scores = c.classify("园区门口路灯坏了一个月,路灯一直不亮");
        assert_eq!(scores[0].0, street_light.code.as_str());
        let total: f64 = scores.iter().map(|(_, p)| p).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert!(scores.windows(2).all(|w| w[0].1 >= w[1].1));
        assert!(c.classify("今天天气不错").is_empty());
    }

    #[test]
    fn counts_as_often_as_a_search_for_each_keyword() {
        let t = Taxonomy::shipped().unwrap();
        let c = KeywordClassifier::new(&t);
        let texts = crate::centroid::example_texts(&t);
        let mut found = 0;
        for text in std::iter::once("路灯路灯坏了,欠薪欠薪欠薪,工资拖欠,停水停电")
            .chain(texts.iter().map(|(_, text, _)| text.as_str()))
        {
            let expected: Vec<usize> = c
                .keywords
                .iter()
                .map(|(_, k)| text.matches(k.as_str()).count())
                .collect();
            assert_eq!(c.occurrences(text), expected, "{text}");
            found += expected.iter().sum::<usize>();
        }
        assert!(found > texts.len(), "{found}");
    }
}
