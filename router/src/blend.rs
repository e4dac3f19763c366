//! A trained model blended with the taxonomy's keywords: the model generalises from the
//! examples, the keywords are precise where they occur. Each label's probability is the
//! weighted mean of the two.

use std::collections::HashMap;

use crate::routing::Classifier;

/// `weight` × the model + (1 − `weight`) × the keywords; the model alone where no keyword
/// occurs.
pub struct Blend {
    pub model: Box<dyn Classifier>,
    pub keywords: Box<dyn Classifier>,
    pub weight: f64,
}

impl Classifier for Blend {
    fn classify(&self, text: &str) -> Vec<(String, f64)> {
        let by_keywords = self.keywords.classify(text);
        if by_keywords.is_empty() {
            return self.model.classify(text);
        }
        let mut mixed: HashMap<String, f64> = HashMap::new();
        for (label, p) in self.model.classify(text) {
            *mixed.entry(label).or_default() += self.weight * p;
        }
        for (label, p) in by_keywords {
            *mixed.entry(label).or_default() += (1.0 - self.weight) * p;
        }
        let mut out: Vec<(String, f64)> = mixed.into_iter().collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::Fixed;

    #[test]
    fn mixes_where_keywords_speak() {
        let blend = Blend {
            model: Box::new(Fixed(vec![("A", 0.6), ("B", 0.4)])),
            keywords: Box::new(Fixed(vec![("B", 1.0)])),
            weight: 0.5,
        };
        let out = blend.classify("x");
        assert_eq!(out[0].0, "B");
        assert!((out[0].1 - 0.7).abs() < 1e-9);
        assert!((out.iter().map(|(_, p)| p).sum::<f64>() - 1.0).abs() < 1e-9);
        let silent = Blend {
            model: Box::new(Fixed(vec![("A", 0.6), ("B", 0.4)])),
            keywords: Box::new(Fixed(vec![])),
            weight: 0.5,
        };
        assert_eq!(silent.classify("x")[0], ("A".to_owned(), 0.6));
    }
}
