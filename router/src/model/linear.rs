//! The linear learners: an L2-regularised, squared-hinge-loss linear SVM trained by dual
//! coordinate descent (liblinear's `solve_l2r_l1l2_svc` with shrinking), the NB-SVM of Wang &
//! Manning (an SVM over features scaled by their naive-Bayes log-count ratio) and complement
//! naive Bayes. Each yields one weight vector and bias per class over the raw TF-IDF features.

use super::vocab::SparseVec;

/// A per-class linear scorer: `scores[k] = x · w[k] + b[k]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// Row-major `dim × classes`: the weights of feature `f` for all classes are adjacent.
    pub weights: Vec<f64>,
    pub bias: Vec<f64>,
    pub classes: usize,
}

impl Linear {
    pub fn zeros(dim: usize, classes: usize) -> Self {
        Self {
            weights: vec![0.0; dim * classes],
            bias: vec![0.0; classes],
            classes,
        }
    }

    /// Sets the weights of class `k` from a dense vector over the features.
    pub fn set_class(&mut self, k: usize, w: &[f64], b: f64) {
        for (f, &v) in w.iter().enumerate() {
            self.weights[f * self.classes + k] = v;
        }
        self.bias[k] = b;
    }

    pub fn scores(&self, x: &SparseVec) -> Vec<f64> {
        let mut s = self.bias.clone();
        for (&i, &v) in x.idx.iter().zip(&x.val) {
            let row = &self.weights[i as usize * self.classes..(i as usize + 1) * self.classes];
            for (sk, &w) in s.iter_mut().zip(row) {
                *sk += w * f64::from(v);
            }
        }
        s
    }

    /// `self += other * factor`.
    pub fn add_scaled(&mut self, other: &Linear, factor: f64) {
        for (a, &b) in self.weights.iter_mut().zip(&other.weights) {
            *a += b * factor;
        }
        for (a, &b) in self.bias.iter_mut().zip(&other.bias) {
            *a += b * factor;
        }
    }
}

/// The parameters of one binary SVM problem.
#[derive(Debug, Clone, Copy)]
pub struct SvmParams {
    /// The cost of the positive examples' errors.
    pub c_pos: f64,
    /// The cost of the negative examples' errors.
    pub c_neg: f64,
    /// Stop when the projected gradient's spread is below this.
    pub eps: f64,
    pub max_iter: usize,
    pub seed: u64,
}

/// A small, deterministic pseudo-random generator (splitmix64): the coordinate order, and the
/// folds' shuffles.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Trains a binary L2-loss SVM with a bias (an extra feature of value 1, regularised like the
/// others, as liblinear does) on `rows` of `data`, where `positive[j]` says whether `rows[j]`
/// is of the positive class. `scale`, when given, multiplies each feature first (NB-SVM).
/// Returns the weights in the scaled space and the bias.
pub fn train_svm(
    data: &[SparseVec],
    rows: &[usize],
    positive: &[bool],
    dim: usize,
    scale: Option<&[f64]>,
    params: &SvmParams,
) -> (Vec<f64>, f64) {
    let l = rows.len();
    let mut w = vec![0.0f64; dim];
    let mut b = 0.0f64;
    if l == 0 {
        return (w, b);
    }
    let xv = |x: &SparseVec, k: usize| -> f64 {
        let v = f64::from(x.val[k]);
        match scale {
            Some(r) => v * r[x.idx[k] as usize],
            None => v,
        }
    };
    let y: Vec<f64> = positive
        .iter()
        .map(|&p| if p { 1.0 } else { -1.0 })
        .collect();
    let diag: Vec<f64> = positive
        .iter()
        .map(|&p| 0.5 / if p { params.c_pos } else { params.c_neg })
        .collect();
    let qd: Vec<f64> = rows
        .iter()
        .zip(&diag)
        .map(|(&r, &d)| {
            let x = &data[r];
            let sq: f64 = (0..x.nnz()).map(|k| xv(x, k).powi(2)).sum();
            sq + 1.0 + d
        })
        .collect();
    let mut alpha = vec![0.0f64; l];
    let mut index: Vec<usize> = (0..l).collect();
    let mut active = l;
    let mut pg_max_old = f64::INFINITY;
    let mut pg_min_old = f64::NEG_INFINITY;
    let mut rng = Rng(params.seed);
    let mut iter = 0;
    while iter < params.max_iter {
        let mut pg_max_new = f64::NEG_INFINITY;
        let mut pg_min_new = f64::INFINITY;
        for i in 0..active {
            let j = i + rng.below(active - i);
            index.swap(i, j);
        }
        let mut s = 0;
        while s < active {
            let i = index[s];
            let x = &data[rows[i]];
            let mut wx = b;
            for k in 0..x.nnz() {
                wx += w[x.idx[k] as usize] * xv(x, k);
            }
            let g = y[i] * wx - 1.0 + diag[i] * alpha[i];
            let mut pg = 0.0;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max_new = pg_max_new.max(pg);
            pg_min_new = pg_min_new.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (alpha[i] - g / qd[i]).max(0.0);
                let d = (alpha[i] - old) * y[i];
                for k in 0..x.nnz() {
                    w[x.idx[k] as usize] += d * xv(x, k);
                }
                b += d;
            }
            s += 1;
        }
        iter += 1;
        if pg_max_new - pg_min_new <= params.eps {
            if active == l {
                break;
            }
            active = l;
            pg_max_old = f64::INFINITY;
            pg_min_old = f64::NEG_INFINITY;
            continue;
        }
        pg_max_old = if pg_max_new <= 0.0 {
            f64::INFINITY
        } else {
            pg_max_new
        };
        pg_min_old = if pg_min_new >= 0.0 {
            f64::NEG_INFINITY
        } else {
            pg_min_new
        };
    }
    let _ = pg_min_old;
    (w, b)
}

/// Per-class feature sums over `rows` (dense `classes × dim`).
pub fn class_sums(
    data: &[SparseVec],
    rows: &[usize],
    labels: &[usize],
    dim: usize,
    classes: usize,
) -> Vec<Vec<f64>> {
    let mut sums = vec![vec![0.0f64; dim]; classes];
    for (&r, &k) in rows.iter().zip(labels) {
        let x = &data[r];
        for (&i, &v) in x.idx.iter().zip(&x.val) {
            sums[k][i as usize] += f64::from(v);
        }
    }
    sums
}

/// The naive-Bayes log-count ratio of class `k` against the rest, smoothed by `alpha`.
pub fn log_count_ratio(sums: &[Vec<f64>], k: usize, alpha: f64) -> Vec<f64> {
    let dim = sums.first().map_or(0, Vec::len);
    let mut p = vec![alpha; dim];
    let mut q = vec![alpha; dim];
    for (j, s) in sums.iter().enumerate() {
        let target = if j == k { &mut p } else { &mut q };
        for (t, &v) in target.iter_mut().zip(s) {
            *t += v;
        }
    }
    let ps: f64 = p.iter().sum();
    let qs: f64 = q.iter().sum();
    p.iter()
        .zip(&q)
        .map(|(&a, &b)| ((a / ps) / (b / qs)).ln())
        .collect()
}

/// Complement naive Bayes (Rennie et al. 2003, without weight normalisation, as scikit-learn's
/// `ComplementNB`): class `k` scores `x · -ln(θ̄_k)`, θ̄_k the smoothed feature distribution of
/// every other class.
pub fn complement_nb(sums: &[Vec<f64>], alpha: f64) -> Linear {
    let classes = sums.len();
    let dim = sums.first().map_or(0, Vec::len);
    let mut total = vec![0.0f64; dim];
    for s in sums {
        for (t, &v) in total.iter_mut().zip(s) {
            *t += v;
        }
    }
    let mut model = Linear::zeros(dim, classes);
    for (k, s) in sums.iter().enumerate() {
        let comp: Vec<f64> = total
            .iter()
            .zip(s)
            .map(|(&t, &v)| (t - v).max(0.0) + alpha)
            .collect();
        let z: f64 = comp.iter().sum();
        let w: Vec<f64> = comp.iter().map(|&c| -(c / z).ln()).collect();
        model.set_class(k, &w, 0.0);
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sv(pairs: &[(u32, f32)]) -> SparseVec {
        SparseVec {
            idx: pairs.iter().map(|p| p.0).collect(),
            val: pairs.iter().map(|p| p.1).collect(),
        }
    }

    #[test]
    fn svm_separates_a_separable_set() {
        let data = vec![
            sv(&[(0, 1.0)]),
            sv(&[(0, 0.9), (2, 0.1)]),
            sv(&[(1, 1.0)]),
            sv(&[(1, 0.8), (2, 0.2)]),
        ];
        let rows = [0, 1, 2, 3];
        let pos = [true, true, false, false];
        let params = SvmParams {
            c_pos: 10.0,
            c_neg: 10.0,
            eps: 1e-4,
            max_iter: 1000,
            seed: 1,
        };
        let (w, b) = train_svm(&data, &rows, &pos, 3, None, &params);
        for (&r, &p) in rows.iter().zip(&pos) {
            let s = data[r].dot(&w) + b;
            assert_eq!(s > 0.0, p, "row {r}: {s}");
        }
    }

    #[test]
    fn complement_nb_prefers_the_class_that_has_the_feature() {
        let sums = vec![vec![5.0, 0.0], vec![0.0, 5.0]];
        let m = complement_nb(&sums, 0.1);
        let s = m.scores(&sv(&[(0, 1.0)]));
        assert!(s[0] > s[1]);
    }
}
