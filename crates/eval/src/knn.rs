//! Weighted kNN classifier, the usual SSL monitor.
//!
//! Ports the kNN of InstDisc / MoCo-style training code: cosine similarity on L2-normalised
//! features, the `k` most similar training items vote for their class with weight
//! `exp(sim / T)`, and the class with the largest total wins. Ties between equally similar
//! neighbours go to the lower training index, so results are reproducible.
use corruptencoder_core::SettingError;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::evaluate::Classifier;
use crate::features::{Features, argmax, check_labels, dot, dot4};

/// kNN monitor settings (InstDisc / MoCo monitor defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnnConfig {
    /// Neighbours that vote (200).
    pub k: usize,
    /// Temperature of the vote weights `exp(sim / T)` (0.1).
    pub temperature: f32,
}

impl Default for KnnConfig {
    fn default() -> Self {
        Self { k: 200, temperature: 0.1 }
    }
}

impl KnnConfig {
    /// The report's line.
    pub fn describe(&self) -> String {
        format!("kNN k={} T={}", self.k, self.temperature)
    }

    /// Checks that the classifier can vote.
    pub fn validate(&self) -> std::result::Result<(), SettingError> {
        if self.k == 0 {
            return Err(SettingError::new("k", 0, "must be > 0"));
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(SettingError::new("temperature", self.temperature, "must be > 0"));
        }
        Ok(())
    }
}

/// A kNN classifier over a memory bank of labelled, L2-normalised training features.
#[derive(Debug, Clone)]
pub struct KnnClassifier {
    config: KnnConfig,
    bank: Features,
    labels: Vec<usize>,
    classes: usize,
}

impl KnnClassifier {
    /// Builds the memory bank from `train` with `labels` in `0..classes`.
    pub fn new(
        config: KnnConfig,
        train: &Features,
        labels: &[usize],
        classes: usize,
    ) -> Result<Self> {
        config.validate()?;
        if train.rows() == 0 {
            return Err(Error::Empty { what: "kNN training features" });
        }
        check_labels("kNN training labels", labels, train.rows(), classes)?;
        Ok(Self { config, bank: train.l2_normalized(), labels: labels.to_vec(), classes })
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Summed vote weight per class, row-major `rows x classes`.
    pub fn scores(&self, queries: &Features) -> Result<Vec<f32>> {
        if queries.dim() != self.bank.dim() {
            return Err(Error::Length {
                what: "kNN query dim",
                expected: self.bank.dim(),
                actual: queries.dim(),
            });
        }
        let q = queries.l2_normalized();
        let c = self.classes;
        let mut out = vec![0.0f32; q.rows() * c];
        // Tiles of four queries: each bank row is streamed once per tile, which is what
        // limits speed once the bank outgrows the cache.
        out.par_chunks_mut(4 * c).enumerate().for_each_init(
            || [(); 4].map(|_| Vec::with_capacity(self.bank.rows())),
            |sims, (t, votes)| {
                let tile: Vec<&[f32]> =
                    (4 * t..q.rows().min(4 * t + 4)).map(|i| q.row(i)).collect();
                self.similarities(&tile, sims);
                for (sims, votes) in sims.iter_mut().zip(votes.chunks_exact_mut(c)) {
                    self.vote(sims, votes);
                }
            },
        );
        Ok(out)
    }

    /// The predicted class of every row.
    pub fn predict(&self, queries: &Features) -> Result<Vec<usize>> {
        Ok(self.scores(queries)?.chunks_exact(self.classes).map(argmax).collect())
    }

    /// Cosine similarity of each query in `tile` (up to four) to every bank row, into
    /// `sims[r]` as (similarity, bank index). Bit-identical to one `dot` per pair.
    fn similarities(&self, tile: &[&[f32]], sims: &mut [Vec<(f32, usize)>; 4]) {
        sims.iter_mut().for_each(Vec::clear);
        if let &[q0, q1, q2, q3] = tile {
            for (j, row) in self.bank.iter_rows().enumerate() {
                let s = dot4(row, [q0, q1, q2, q3]);
                (0..4).for_each(|r| sims[r].push((s[r], j)));
            }
        } else {
            for (query, sims) in tile.iter().zip(sims.iter_mut()) {
                sims.extend(self.bank.iter_rows().enumerate().map(|(j, row)| (dot(query, row), j)));
            }
        }
    }

    /// Adds the weighted votes of the `k` most similar bank rows to `votes`.
    fn vote(&self, sims: &mut [(f32, usize)], votes: &mut [f32]) {
        // Most similar first; equal similarities by training index.
        let order = |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        let k = self.config.k.min(sims.len());
        if k < sims.len() {
            sims.select_nth_unstable_by(k - 1, order);
        }
        let top = &mut sims[..k];
        // Summing in a fixed order keeps the vote independent of the selection's layout.
        top.sort_unstable_by(order);
        for &(sim, j) in top.iter() {
            votes[self.labels[j]] += (sim / self.config.temperature).exp();
        }
    }
}

impl Classifier for KnnClassifier {
    fn classes(&self) -> usize {
        KnnClassifier::classes(self)
    }
    fn predict(&self, features: &Features) -> Result<Vec<usize>> {
        KnnClassifier::predict(self, features)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_neighbours_outvote_far_majority() {
        // Two class-1 points right at the query beat three class-0 points far away, even
        // though class 0 has more neighbours within k.
        let train =
            Features::from_rows(&[[1.0, 0.0], [0.99, 0.05], [0.0, 1.0], [0.1, 1.0], [-0.1, 1.0]])
                .unwrap();
        let knn = KnnClassifier::new(KnnConfig::default(), &train, &[1, 1, 0, 0, 0], 2).unwrap();
        let q = Features::from_rows(&[[1.0, 0.01], [0.0, 2.0]]).unwrap();
        assert_eq!(knn.predict(&q).unwrap(), vec![1, 0]);
    }

    #[test]
    fn tiled_and_single_queries_score_identically() {
        let rows: Vec<Vec<f32>> = (0..23)
            .map(|i| (0..13).map(|k| ((i * 7 + k * 3) % 11) as f32 - 5.0).collect())
            .collect();
        let train = Features::from_rows(&rows[..17]).unwrap();
        let labels: Vec<usize> = (0..17).map(|i| i % 3).collect();
        let knn = KnnClassifier::new(KnnConfig { k: 5, temperature: 0.1 }, &train, &labels, 3);
        let knn = knn.unwrap();
        let all = knn.scores(&Features::from_rows(&rows[17..]).unwrap()).unwrap();
        for (i, row) in rows[17..].iter().enumerate() {
            let one = knn.scores(&Features::from_rows(&[row]).unwrap()).unwrap();
            assert_eq!(one, all[i * 3..i * 3 + 3], "query {i}");
        }
    }

    #[test]
    fn k_limits_the_voters() {
        let train = Features::from_rows(&[[1.0, 0.0], [0.0, 1.0], [0.1, 1.0]]).unwrap();
        let cfg = KnnConfig { k: 1, temperature: 0.1 };
        let knn = KnnClassifier::new(cfg, &train, &[0, 1, 1], 2).unwrap();
        let s = knn.scores(&Features::from_rows(&[[1.0, 0.2]]).unwrap()).unwrap();
        assert!(s[0] > 0.0 && s[1] == 0.0, "{s:?}");
        assert!(KnnClassifier::new(KnnConfig { k: 0, ..cfg }, &train, &[0, 1, 1], 2).is_err());
    }
}
