//! Calibrated confidence: the probability that the router's best unit is the right one, from
//! the classifier's scores of the best and the second unit (Platt scaling over two features),
//! and the reliability of confidences (how often appeals routed at about 0.7 were right).

/// Scores are clamped this far from 0 and 1 before their logit is taken.
const EPSILON: f64 = 1e-6;

/// P(right) = σ(`bias` + `slope` · logit(best) + `margin` · (best − second)), with `best` and
/// `second` the two highest units' summed probabilities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub bias: f64,
    pub slope: f64,
    pub margin: f64,
}

/// The calibration of the taxonomy's default classifier (`taxonomy_classifier`), fitted on its
/// held-out scores of the examples in other voices (a call transcript, a formal letter, a
/// WeChat line, traditional script): `cargo bench -p hotline-router --bench taxonomy`.
pub const TAXONOMY_CALIBRATION: Calibration = Calibration {
    bias: 1.515,
    slope: 0.462,
    margin: 1.759,
};

fn logit(p: f64) -> f64 {
    let p = p.clamp(EPSILON, 1.0 - EPSILON);
    (p / (1.0 - p)).ln()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// One appeal's unit scores and whether the best unit was right: what a calibration learns
/// from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// The best unit's summed probability.
    pub best: f64,
    /// The second unit's (0 when there is none).
    pub second: f64,
    pub right: bool,
}

impl Calibration {
    /// The scores as they are: the best unit's probability.
    pub const IDENTITY: Calibration = Calibration {
        bias: 0.0,
        slope: 1.0,
        margin: 0.0,
    };

    fn features(best: f64, second: f64) -> [f64; 3] {
        [1.0, logit(best), best - second]
    }

    /// The probability that the best unit is right.
    pub fn probability(&self, best: f64, second: f64) -> f64 {
        let [one, l, m] = Self::features(best, second);
        sigmoid(self.bias * one + self.slope * l + self.margin * m)
    }

    /// The calibration that maximises the likelihood of `outcomes` (Newton's method with a
    /// line search, and a little ridge so that separable data stays finite); the identity when
    /// there are none.
    pub fn fit(outcomes: &[Outcome]) -> Calibration {
        if outcomes.is_empty() {
            return Self::IDENTITY;
        }
        const RIDGE: f64 = 1e-2;
        let data: Vec<([f64; 3], f64)> = outcomes
            .iter()
            .map(|o| {
                (
                    Self::features(o.best, o.second),
                    f64::from(u8::from(o.right)),
                )
            })
            .collect();
        let dot = |w: &[f64; 3], x: &[f64; 3]| w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
        // The negative log-likelihood with the ridge.
        let loss = |w: &[f64; 3]| -> f64 {
            let nll: f64 = data
                .iter()
                .map(|(x, y)| {
                    let z = dot(w, x);
                    // log(1 + e^z) − y·z, computed without overflow.
                    z.max(0.0) + (-z.abs()).exp().ln_1p() - y * z
                })
                .sum();
            nll + 0.5 * RIDGE * w.iter().map(|v| v * v).sum::<f64>()
        };
        let mut w = [0.0, 1.0, 0.0];
        let mut current = loss(&w);
        for _ in 0..100 {
            let mut gradient = [0.0; 3];
            let mut hessian = [[0.0; 3]; 3];
            for (x, y) in &data {
                let p = sigmoid(dot(&w, x));
                for i in 0..3 {
                    gradient[i] += (p - y) * x[i];
                    for j in 0..3 {
                        hessian[i][j] += p * (1.0 - p) * x[i] * x[j];
                    }
                }
            }
            for i in 0..3 {
                gradient[i] += RIDGE * w[i];
                hessian[i][i] += RIDGE;
            }
            let Some(step) = solve(hessian, gradient) else {
                break;
            };
            // Halve the step until the loss falls.
            let mut scale = 1.0;
            let mut improved = None;
            while scale > 1e-6 {
                let next = [
                    w[0] - scale * step[0],
                    w[1] - scale * step[1],
                    w[2] - scale * step[2],
                ];
                let l = loss(&next);
                if l < current {
                    improved = Some((next, l));
                    break;
                }
                scale /= 2.0;
            }
            let Some((next, l)) = improved else {
                break;
            };
            let done = current - l < 1e-10;
            w = next;
            current = l;
            if done {
                break;
            }
        }
        Calibration {
            bias: w[0],
            slope: w[1],
            margin: w[2],
        }
    }
}

/// `a x = b` by Gaussian elimination with partial pivoting; `None` when `a` is singular.
fn solve(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..3 {
            let f = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (x, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; 3];
    for row in (0..3).rev() {
        let rest: f64 = (row + 1..3).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    Some(x)
}

/// Appeals whose confidence fell in one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bucket {
    /// The bucket's lower bound (it ends where the next begins).
    pub from: f64,
    pub count: usize,
    /// How many of them had the right unit.
    pub right: usize,
    /// Their confidences added up.
    pub confidence: f64,
}

impl Bucket {
    pub fn mean_confidence(&self) -> f64 {
        self.confidence / self.count.max(1) as f64
    }

    pub fn accuracy(&self) -> f64 {
        self.right as f64 / self.count.max(1) as f64
    }
}

/// How well confidences match accuracy, in equal-width buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct Reliability {
    pub buckets: Vec<Bucket>,
}

impl Reliability {
    /// `(confidence, right)` pairs in `buckets` equal-width buckets over 0–1.
    pub fn of(pairs: impl IntoIterator<Item = (f64, bool)>, buckets: usize) -> Reliability {
        let n = buckets.max(1);
        let mut out: Vec<Bucket> = (0..n)
            .map(|i| Bucket {
                from: i as f64 / n as f64,
                ..Bucket::default()
            })
            .collect();
        for (confidence, right) in pairs {
            let c = confidence.clamp(0.0, 1.0);
            let i = ((c * n as f64) as usize).min(n - 1);
            out[i].count += 1;
            out[i].right += usize::from(right);
            out[i].confidence += c;
        }
        Reliability { buckets: out }
    }

    pub fn total(&self) -> usize {
        self.buckets.iter().map(|b| b.count).sum()
    }

    /// Expected calibration error: the mean over appeals of |bucket accuracy − bucket mean
    /// confidence|.
    pub fn expected_error(&self) -> f64 {
        let total = self.total().max(1) as f64;
        self.buckets
            .iter()
            .map(|b| b.count as f64 / total * (b.accuracy() - b.mean_confidence()).abs())
            .sum()
    }

    /// One line: the error, then `from: confidence→accuracy (count)` for each non-empty
    /// bucket.
    pub fn summary(&self) -> String {
        let buckets: Vec<String> = self
            .buckets
            .iter()
            .filter(|b| b.count > 0)
            .map(|b| {
                format!(
                    "{:.1}: {:.2}→{:.2} ({})",
                    b.from,
                    b.mean_confidence(),
                    b.accuracy(),
                    b.count
                )
            })
            .collect();
        format!("ECE {:.3}  {}", self.expected_error(), buckets.join("  "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outcomes where the best unit is right with probability `truth(best)`, spread evenly.
    fn outcomes(truth: impl Fn(f64) -> f64) -> Vec<Outcome> {
        let mut out = Vec::new();
        for i in 0..100 {
            let best = 0.3 + 0.7 * (f64::from(i) + 0.5) / 100.0;
            let rights = (truth(best) * 20.0).round() as usize;
            for k in 0..20 {
                out.push(Outcome {
                    best,
                    second: (1.0 - best) / 2.0,
                    right: k < rights,
                });
            }
        }
        out
    }

    #[test]
    fn the_identity_keeps_the_best_units_probability() {
        for p in [0.1, 0.5, 0.73, 0.99] {
            assert!((Calibration::IDENTITY.probability(p, 0.0) - p).abs() < 1e-9);
        }
    }

    #[test]
    fn overconfident_scores_are_brought_down_to_their_accuracy() {
        // The classifier says `best`; it is right only about `best − 0.2` of the time.
        let data = outcomes(|p| (p - 0.2).max(0.0));
        let c = Calibration::fit(&data);
        let raw = Reliability::of(data.iter().map(|o| (o.best, o.right)), 10);
        let calibrated = Reliability::of(
            data.iter()
                .map(|o| (c.probability(o.best, o.second), o.right)),
            10,
        );
        assert!(raw.expected_error() > 0.15, "{}", raw.summary());
        assert!(
            calibrated.expected_error() < 0.05,
            "{}",
            calibrated.summary()
        );
        assert!(c.probability(0.9, 0.05) < 0.8, "{c:?}");
        assert!(
            c.probability(0.9, 0.05) > c.probability(0.6, 0.2),
            "still monotone: {c:?}"
        );
    }

    #[test]
    fn calibrated_scores_stay_about_the_same() {
        let data = outcomes(|p| p);
        let c = Calibration::fit(&data);
        for p in [0.4, 0.6, 0.8, 0.95] {
            let q = c.probability(p, (1.0 - p) / 2.0);
            assert!((q - p).abs() < 0.05, "{p} → {q} ({c:?})");
        }
        assert_eq!(Calibration::fit(&[]), Calibration::IDENTITY);
    }

    #[test]
    fn reliability_buckets_count_every_appeal() {
        let r = Reliability::of(
            [(0.05, false), (0.72, true), (0.78, false), (1.0, true)],
            10,
        );
        assert_eq!(r.total(), 4);
        assert_eq!(r.buckets[7].count, 2);
        assert_eq!(r.buckets[7].right, 1);
        assert_eq!(r.buckets[9].count, 1, "1.0 falls in the last bucket");
        // Bucket 0: 0.05 vs 0; bucket 7: 0.75 vs 0.5; bucket 9: 1.0 vs 1.
        let expected = (0.05 + 2.0 * 0.25) / 4.0;
        assert!((r.expected_error() - expected).abs() < 1e-9);
        assert!(r.summary().starts_with("ECE 0.138"), "{}", r.summary());
    }
}
