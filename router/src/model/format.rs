//! The model file: an 8-byte magic, a little-endian `u32` format version, then the model in
//! postcard (serde) encoding. A file of another version is refused with a clear error.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::text::{Featurizer, TextConfig};
use super::vocab::Vocabulary;
use super::{Model, ModelError, TrainReport};

const MAGIC: &[u8; 8] = b"HLMODEL\0";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 4;

#[derive(Serialize)]
struct StoredRef<'a> {
    labels: &'a [String],
    text: &'a TextConfig,
    keys: &'a [u64],
    idf: &'a [f32],
    weights: &'a [f32],
    bias: &'a [f32],
    temperature: f64,
    report: &'a TrainReport,
}

#[derive(Deserialize)]
struct Stored {
    labels: Vec<String>,
    text: TextConfig,
    keys: Vec<u64>,
    idf: Vec<f32>,
    weights: Vec<f32>,
    bias: Vec<f32>,
    temperature: f64,
    report: TrainReport,
}

impl Model {
    /// The model file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let stored = StoredRef {
            labels: &self.labels,
            text: self.featurizer.config(),
            keys: self.vocab.keys(),
            idf: self.vocab.idf(),
            weights: &self.weights,
            bias: &self.bias,
            temperature: self.temperature,
            report: &self.report,
        };
        let mut out = Vec::with_capacity(16 + self.weights.len() * 4 + self.vocab.len() * 14);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        // Serialising plain vectors, strings and numbers into a Vec cannot fail.
        if let Ok(body) = postcard::to_stdvec(&stored) {
            out.extend_from_slice(&body);
        }
        out
    }

    /// A model from a model file's bytes; `path` names the source in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Model, ModelError> {
        let corrupt = |detail: String| ModelError::Corrupt {
            path: path.to_owned(),
            detail,
        };
        let Some(rest) = bytes.strip_prefix(MAGIC.as_slice()) else {
            return Err(ModelError::NotAModel {
                path: path.to_owned(),
            });
        };
        let (version, body) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| corrupt("truncated header".to_owned()))?;
        let found = u32::from_le_bytes(*version);
        if found != FORMAT_VERSION {
            return Err(ModelError::Version {
                path: path.to_owned(),
                found,
                expected: FORMAT_VERSION,
            });
        }
        let s: Stored = postcard::from_bytes(body).map_err(|e| corrupt(e.to_string()))?;
        let (f, k) = (s.keys.len(), s.labels.len());
        if k < 2 || s.idf.len() != f || s.weights.len() != f * k || s.bias.len() != k {
            return Err(corrupt(format!(
                "inconsistent sizes: {f} features, {k} labels, {} idf, {} weights, {} biases",
                s.idf.len(),
                s.weights.len(),
                s.bias.len()
            )));
        }
        let weights = s.text.block_weights;
        Ok(Model {
            labels: s.labels,
            featurizer: Featurizer::new(s.text),
            vocab: Vocabulary::from_parts(s.keys, s.idf).with_block_weights(weights),
            weights: s.weights,
            bias: s.bias,
            temperature: s.temperature,
            report: s.report,
        })
    }

    /// Writes the model file (atomically: a temporary file renamed over `path`).
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let io = |source| ModelError::Io {
            path: path.to_owned(),
            source,
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        std::fs::write(&tmp, self.to_bytes()).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads a model file.
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }
}
