//! Evaluation: accuracy, per-label precision, recall and F1, macro-F1, the confusion matrix.

use std::fmt;

/// The quality of predictions against gold labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    labels: Vec<String>,
    /// `confusion[gold][predicted]`.
    confusion: Vec<Vec<usize>>,
}

/// One label's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// How many gold examples carry the label.
    pub support: usize,
}

impl Evaluation {
    /// Compares `predicted` with `gold`, both indices into `labels`.
    pub fn new(labels: &[String], gold: &[usize], predicted: &[usize]) -> Self {
        let k = labels.len();
        let mut confusion = vec![vec![0usize; k]; k];
        for (&g, &p) in gold.iter().zip(predicted) {
            if g < k && p < k {
                confusion[g][p] += 1;
            }
        }
        Self {
            labels: labels.to_vec(),
            confusion,
        }
    }

    /// Compares predicted label names with gold label names; `labels` is the union, sorted.
    pub fn from_names(gold: &[&str], predicted: &[&str]) -> Self {
        let mut labels: Vec<String> = gold
            .iter()
            .chain(predicted)
            .map(|s| (*s).to_owned())
            .collect();
        labels.sort();
        labels.dedup();
        let index = |s: &str| labels.binary_search_by(|l| l.as_str().cmp(s)).unwrap_or(0);
        let g: Vec<usize> = gold.iter().map(|s| index(s)).collect();
        let p: Vec<usize> = predicted.iter().map(|s| index(s)).collect();
        Self::new(&labels, &g, &p)
    }

    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// `confusion()[gold][predicted]`.
    pub fn confusion(&self) -> &[Vec<usize>] {
        &self.confusion
    }

    pub fn total(&self) -> usize {
        self.confusion.iter().flatten().sum()
    }

    pub fn accuracy(&self) -> f64 {
        let right: usize = (0..self.labels.len()).map(|i| self.confusion[i][i]).sum();
        ratio(right, self.total())
    }

    pub fn class(&self, k: usize) -> ClassScores {
        let tp = self.confusion[k][k];
        let support: usize = self.confusion[k].iter().sum();
        let predicted: usize = self.confusion.iter().map(|row| row[k]).sum();
        let precision = ratio(tp, predicted);
        let recall = ratio(tp, support);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        ClassScores {
            precision,
            recall,
            f1,
            support,
        }
    }

    /// The unweighted mean of the labels' F1 (labels with neither gold nor predicted examples
    /// left out).
    pub fn macro_f1(&self) -> f64 {
        let present: Vec<usize> = (0..self.labels.len())
            .filter(|&k| {
                self.confusion[k].iter().sum::<usize>() > 0
                    || self.confusion.iter().any(|row| row[k] > 0)
            })
            .collect();
        if present.is_empty() {
            return 0.0;
        }
        present.iter().map(|&k| self.class(k).f1).sum::<f64>() / present.len() as f64
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The display width of a label: CJK characters take two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

impl fmt::Display for Evaluation {
    /// The report: accuracy, `macro-F1: 0.xxxx`, per-label figures, the confusion matrix (rows:
    /// gold, columns: predicted, numbered as in the per-label table).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "examples: {}", self.total())?;
        writeln!(f, "accuracy: {:.4}", self.accuracy())?;
        writeln!(f, "macro-F1: {:.4}", self.macro_f1())?;
        let lw = self
            .labels
            .iter()
            .map(|l| width(l))
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(f)?;
        writeln!(
            f,
            "   {} precision  recall      f1  support",
            pad("label", lw)
        )?;
        for (k, l) in self.labels.iter().enumerate() {
            let c = self.class(k);
            writeln!(
                f,
                "{k:>2} {} {:>9.4} {:>7.4} {:>7.4} {:>8}",
                pad(l, lw),
                c.precision,
                c.recall,
                c.f1,
                c.support
            )?;
        }
        writeln!(f)?;
        writeln!(f, "confusion matrix (rows: true label, columns: predicted)")?;
        let cw = self
            .confusion
            .iter()
            .flatten()
            .map(|n| n.to_string().len())
            .max()
            .unwrap_or(1)
            .max(3);
        write!(f, "   {}", pad("", lw))?;
        for k in 0..self.labels.len() {
            write!(f, " {k:>cw$}")?;
        }
        writeln!(f)?;
        for (k, row) in self.confusion.iter().enumerate() {
            write!(f, "{k:>2} {}", pad(&self.labels[k], lw))?;
            for n in row {
                write!(f, " {n:>cw$}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures() {
        let e = Evaluation::from_names(&["a", "a", "b", "b", "c"], &["a", "b", "b", "b", "a"]);
        assert!((e.accuracy() - 0.6).abs() < 1e-12);
        // a: p 1/2 r 1/2 f 1/2; b: p 2/3 r 1 f 0.8; c: 0.
        assert!((e.macro_f1() - (0.5 + 0.8 + 0.0) / 3.0).abs() < 1e-12);
        assert_eq!(e.confusion()[0], vec![1, 1, 0]);
        let text = e.to_string();
        assert!(text.contains("macro-F1: 0.4333"), "{text}");
    }
}
