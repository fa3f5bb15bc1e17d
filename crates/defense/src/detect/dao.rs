//! DAO (Huang et al., ICLR 2025): the local density ratio of an image to its neighbours,
//! weighted by each neighbour's local intrinsic dimensionality.
use corruptencoder_core::SettingError;
use corruptencoder_eval::Features;

use super::EmbeddingDetector;
use super::neighbours::Neighbours;
use super::settings::EmbeddingDetectorConfig;
use crate::base::Result;

/// What the reference adds inside the LID logarithm, so a duplicate neighbour (distance 0)
/// gives a finite term.
const LID_EPSILON: f64 = 1e-4;

/// What the reference makes of a score that is not a number or is infinitely large (a
/// neighbourhood of duplicates): the most suspicious score it gives.
const UNDEFINED_SCORE: f64 = 1000.0;

/// Scores image x by the mean over its k nearest neighbours o of
/// `LID(o) * ln(d_k(x) / d_k(o))`, the logarithm of the paper's `(d_k(x) / d_k(o))^LID(o)`,
/// where `d_k` is the distance to the (k + 1)-th nearest other image and `LID` is the
/// maximum-likelihood estimate `-k / sum_{i<k} ln(d_i / d_k + 1e-4)`.
#[derive(Debug, Clone)]
pub struct Dao {
    config: EmbeddingDetectorConfig,
}

impl Dao {
    /// The detector with `config`.
    pub fn new(config: EmbeddingDetectorConfig) -> Self {
        Self { config }
    }
}

/// The maximum-likelihood LID of row `i` from its sorted neighbour distances.
fn lid(n: &Neighbours, i: usize, k: usize) -> f64 {
    let d = n.distances(i);
    let sum: f64 = d[..k].iter().map(|di| (di / d[k] + LID_EPSILON).ln()).sum();
    -(k as f64) / sum
}

impl EmbeddingDetector for Dao {
    fn score(&self, embeddings: &Features) -> Result<Vec<f64>> {
        let k = self.config.k;
        let n = self.config.neighbours(embeddings)?;
        let lids: Vec<f64> = (0..n.rows()).map(|i| lid(&n, i, k)).collect();
        let scores = (0..n.rows())
            .map(|x| {
                let dx = n.distances(x)[k];
                let sum: f64 = n.indices(x)[..k]
                    .iter()
                    .map(|&o| lids[o] * (dx / n.distances(o)[k]).ln())
                    .sum();
                let score = sum / k as f64;
                match score {
                    s if s.is_nan() || s == f64::INFINITY => UNDEFINED_SCORE,
                    f64::NEG_INFINITY => 0.0,
                    s => s,
                }
            })
            .collect();
        Ok(scores)
    }

    fn flag_count(&self, images: usize) -> usize {
        self.config.flag_count(images)
    }

    fn check_set(&self, images: usize) -> Result<(), SettingError> {
        self.config.check_set(images)
    }
}
