//! The vocabulary (feature key → column) with inverse document frequencies, and the TF-IDF
//! vectors it makes: sublinear term frequency (1 + ln tf) × idf, each block L2-normalised, the
//! whole L2-normalised again.

use rustc_hash::FxHashMap;

use super::text::{BLOCKS, Block};

/// A sparse vector: columns ascending, with their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

impl SparseVec {
    pub fn nnz(&self) -> usize {
        self.idx.len()
    }

    pub fn dot(&self, w: &[f64]) -> f64 {
        self.idx
            .iter()
            .zip(&self.val)
            .map(|(&i, &v)| w[i as usize] * f64::from(v))
            .sum()
    }

    pub fn squared_norm(&self) -> f64 {
        self.val.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
    }
}

/// Feature keys kept (at least `min_df` training documents hold them) and their idf.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    index: FxHashMap<u64, u32>,
    keys: Vec<u64>,
    idf: Vec<f32>,
    /// Each block's share of a vector's norm (relative; all 1: every block weighs the same).
    weights: [f32; BLOCKS],
}

impl Vocabulary {
    /// Builds the vocabulary from the counted keys of the training documents.
    pub fn fit<'a>(docs: impl IntoIterator<Item = &'a [(u64, u32)]>, min_df: usize) -> Self {
        let mut df: FxHashMap<u64, u32> = FxHashMap::default();
        let mut n_docs = 0usize;
        for doc in docs {
            n_docs += 1;
            for &(k, _) in doc {
                *df.entry(k).or_insert(0) += 1;
            }
        }
        let mut kept: Vec<(u64, u32)> = df
            .into_iter()
            .filter(|&(_, d)| d as usize >= min_df.max(1))
            .collect();
        // A stable order: by block, then key.
        kept.sort_unstable_by_key(|&(k, _)| (Block::of(k), k));
        let n = n_docs as f64;
        let keys: Vec<u64> = kept.iter().map(|&(k, _)| k).collect();
        // sklearn's smooth idf: ln((1 + n) / (1 + df)) + 1.
        let idf = kept
            .iter()
            .map(|&(_, d)| (((1.0 + n) / (1.0 + f64::from(d))).ln() + 1.0) as f32)
            .collect();
        Self::from_parts(keys, idf)
    }

    pub fn from_parts(keys: Vec<u64>, idf: Vec<f32>) -> Self {
        let index = keys
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, i as u32))
            .collect();
        Self {
            index,
            keys,
            idf,
            weights: [1.0; BLOCKS],
        }
    }

    /// The same vocabulary with each block's vector part scaled to `weights[block]` (before the
    /// whole vector is L2-normalised).
    pub fn with_block_weights(mut self, weights: [f32; BLOCKS]) -> Self {
        self.weights = weights.map(|w| if w.is_finite() && w > 0.0 { w } else { 0.0 });
        self
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn keys(&self) -> &[u64] {
        &self.keys
    }

    pub fn idf(&self) -> &[f32] {
        &self.idf
    }

    /// The TF-IDF vector of a document given its counted keys (sorted or not).
    pub fn vectorize(&self, counts: &[(u64, u32)]) -> SparseVec {
        let mut cols: Vec<(u32, f32)> = counts
            .iter()
            .filter_map(|&(k, n)| self.index.get(&k).map(|&i| (i, n)))
            .map(|(i, n)| (i, (1.0 + (n as f32).ln()) * self.idf[i as usize]))
            .collect();
        self.finish(&mut cols)
    }

    /// The TF-IDF vector of a document given its keys, one per occurrence, unsorted.
    pub fn vectorize_keys(&self, keys: &[u64]) -> SparseVec {
        let mut cols: Vec<u32> = keys
            .iter()
            .filter_map(|k| self.index.get(k).copied())
            .collect();
        cols.sort_unstable();
        let mut weighted: Vec<(u32, f32)> = Vec::with_capacity(cols.len());
        let mut i = 0;
        while i < cols.len() {
            let c = cols[i];
            let mut j = i + 1;
            while j < cols.len() && cols[j] == c {
                j += 1;
            }
            let tf = (j - i) as f32;
            weighted.push((c, (1.0 + tf.ln()) * self.idf[c as usize]));
            i = j;
        }
        self.finish(&mut weighted)
    }

    fn finish(&self, cols: &mut [(u32, f32)]) -> SparseVec {
        cols.sort_unstable_by_key(|&(i, _)| i);
        let mut norms = [0f32; BLOCKS];
        for &(i, v) in cols.iter() {
            norms[Block::of(self.keys[i as usize])] += v * v;
        }
        let total: f32 = norms
            .iter()
            .zip(&self.weights)
            .filter(|&(&n, _)| n > 0.0)
            .map(|(_, &w)| w * w)
            .sum();
        let overall = if total > 0.0 { 1.0 / total.sqrt() } else { 0.0 };
        let mut scale = [0f32; BLOCKS];
        for (b, s) in scale.iter_mut().enumerate() {
            if norms[b] > 0.0 {
                *s = overall * self.weights[b] / norms[b].sqrt();
            }
        }
        let mut out = SparseVec {
            idx: Vec::with_capacity(cols.len()),
            val: Vec::with_capacity(cols.len()),
        };
        for &(i, v) in cols.iter() {
            out.idx.push(i);
            out.val.push(v * scale[Block::of(self.keys[i as usize])]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_df_idf_and_unit_norm() {
        let a: Vec<(u64, u32)> = vec![(8, 1), (16, 2), (3, 1)];
        let b: Vec<(u64, u32)> = vec![(8, 1), (3, 4)];
        let v = Vocabulary::fit([a.as_slice(), b.as_slice()], 2);
        assert_eq!(v.len(), 2); // key 16 is in one document only
        // Both kept keys are in both documents: idf = ln(3/3) + 1 = 1.
        assert!(v.idf().iter().all(|&x| (x - 1.0).abs() < 1e-6));
        let x = v.vectorize(&a);
        assert!((x.squared_norm() - 1.0).abs() < 1e-6);
        // Keys 8 (block 0) and 3 (block 3) are in different blocks: each block has norm 1/√2.
        assert_eq!(x.nnz(), 2);
        assert!(
            x.val
                .iter()
                .all(|&v| (v - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6)
        );
        assert_eq!(v.vectorize_keys(&[3, 8, 99]), x);
        assert_eq!(v.vectorize(&[(99, 1)]).nnz(), 0);
    }
}
