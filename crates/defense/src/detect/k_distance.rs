//! The k-distance detector: an image's distance to its neighbours.
use corruptencoder_core::SettingError;
use corruptencoder_eval::Features;

use super::EmbeddingDetector;
use super::settings::EmbeddingDetectorConfig;
use crate::base::Result;

/// Scores an image by the distance to its (k + 1)-th nearest other image: the reference's
/// `sorted_distances[:, k]` with the image itself left out.
#[derive(Debug, Clone)]
pub struct KDistance {
    config: EmbeddingDetectorConfig,
}

impl KDistance {
    /// The detector with `config`.
    pub fn new(config: EmbeddingDetectorConfig) -> Self {
        Self { config }
    }
}

impl EmbeddingDetector for KDistance {
    fn score(&self, embeddings: &Features) -> Result<Vec<f64>> {
        let n = self.config.neighbours(embeddings)?;
        Ok((0..n.rows()).map(|i| n.distances(i)[self.config.k]).collect())
    }

    fn flag_count(&self, images: usize) -> usize {
        self.config.flag_count(images)
    }

    fn check_set(&self, images: usize) -> Result<(), SettingError> {
        self.config.check_set(images)
    }
}
