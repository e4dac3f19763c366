//! A classifier from the taxonomy's keywords: each matter scores the occurrences of its
//! keywords in the text, and its probability is its share of all hits. Transparent and
//! instant; the trained model replaces it where one is loaded.

use hotline_schemas::value::taxonomy::Taxonomy;

use crate::routing::Classifier;

/// Scores matters by their keywords.
pub struct KeywordClassifier {
    /// `(matter code, keywords)`
    matters: Vec<(String, Vec<String>)>,
}

impl KeywordClassifier {
    pub fn new(taxonomy: &Taxonomy) -> Self {
        Self {
            matters: taxonomy
                .matters
                .iter()
                .map(|m| {
                    let keywords = m.keywords.iter().filter(|k| !k.trim().is_empty()).cloned();
                    (m.code.to_string(), keywords.collect())
                })
                .collect(),
        }
    }
}

impl Classifier for KeywordClassifier {
    fn classify(&self, text: &str) -> Vec<(String, f64)> {
        let mut hits: Vec<(&str, usize)> = self
            .matters
            .iter()
            .map(|(code, keywords)| {
                let n = keywords
                    .iter()
                    .map(|k| text.matches(k.as_str()).count())
                    .sum();
                (code.as_str(), n)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        // Most hits first; among equals, the taxonomy's order.
        hits.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let total: usize = hits.iter().map(|(_, n)| n).sum();
        hits.into_iter()
            .map(|(code, n)| (code.to_owned(), n as f64 / total as f64))
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
}
