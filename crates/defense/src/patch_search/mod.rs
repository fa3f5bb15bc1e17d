//! PatchSearch (Tejankar et al., "Defending Against Patch-based Backdoor Attacks on
//! Self-Supervised Learning", CVPR 2023; `UCDvision/PatchSearch`): find the poisons of a
//! pre-training set with the encoder trained on it, by the trigger patches themselves.
//!
//! 1. The embeddings, at unit length, are clustered by k-means (`kmeans.rs`).
//! 2. An image's candidate trigger is the window where the encoder looks when it places the
//!    image in its cluster: Grad-CAM of the similarity to the nearest cluster centre
//!    (`saliency.rs`).
//! 3. A candidate's poison score is how many test images (those nearest each centre) it
//!    pulls into its image's cluster when pasted at random places on them, less how many
//!    were there already (`search.rs`).
//! 4. The search scores a few images of every cluster per round and drops the quarter of
//!    clusters whose best score is lowest, so poisonous clusters are searched deepest.
//! 5. Small networks trained from scratch to spot the top-scored images' patches pasted on
//!    training images vote on every image; those they call poisons are flagged
//!    (`classifier.rs`).
//!
//! Settings are the reference's (`settings.rs`), with the window and pasted sizes as shares
//! of the input side and the cluster and test-image counts as ratios to the set's size.
//! Deviations, each forced by scale or made for reproducibility:
//! - the poison classifier is our small CNN (width 16) instead of a ResNet with one basic
//!   block per stage at 224 px: a ResNet trained for 5 x 2,000 steps does not fit CPU
//!   budgets (`classifier` sets any of our encoders);
//! - k-means is seeded by k-means++ from the run's seed rather than faiss's random sample
//!   of points, and an emptied cluster takes the point farthest from its centre rather
//!   than a split of the largest cluster;
//! - the pasted test images' embeddings are set to unit length before their nearest centre
//!   is found, as the clustered ones are (the reference searches the raw features in the
//!   index of unit-length ones);
//! - Grad-CAM's gradient is computed in closed form (see `saliency.rs`), which needs the
//!   embedding to be the global average of the last feature map, as in all our encoders;
//! - one candidate per image (`repeat_patch`, the reference's default 1: its larger values
//!   extract the same window again, since the masked image is discarded);
//! - images of equal poison score (all those never drawn score 0) are ranked in a seeded
//!   random order, and other ties (distances, saliency sums, cluster scores) go to the
//!   lower index, where the reference's unstable sorts leave them to chance;
//! - each classifier takes exactly `max_iterations` steps unless it stops early (the
//!   reference's loop takes one more);
//! - `max_flag_fraction` (ours, default 1: no cap, as the reference) can cap the share of
//!   the set flagged, the largest margins first.
mod classifier;
mod context;
mod images;
mod kmeans;
mod saliency;
mod search;
mod settings;

pub use settings::PatchSearchConfig;

use std::fmt::Write as _;
use std::path::Path;

use corruptencoder_core::{SettingError, item_rng, write_atomic};
use corruptencoder_eval::{Features, flag_highest};
use image::RgbImage;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::base::Result;
use crate::detect::{Detection, DetectionSet, Detector};
use classifier::{ClassifierJob, Verdict, classify};
use context::Context;
use images::{DatasetPictures, Network};
use search::{Clusters, Found, Search};

/// The random streams of PatchSearch, apart from those pre-training draws from the same seed.
mod streams {
    pub(crate) const KMEANS: u64 = 0x5053_0001;
    pub(crate) const CLUSTER_ORDER: u64 = 0x5053_0002;
    pub(crate) const TEST_IMAGES: u64 = 0x5053_0003;
    pub(crate) const PASTE: u64 = 0x5053_0004;
    pub(crate) const CLASSIFIER_INIT: u64 = 0x5053_0005;
    pub(crate) const CLASSIFIER_ORDER: u64 = 0x5053_0006;
    pub(crate) const CLASSIFIER_EXAMPLE: u64 = 0x5053_0007;
    pub(crate) const RANK_TIES: u64 = 0x5053_0008;
}

/// The folder, under the detection folder, of PatchSearch's own files.
const FILES: &str = "patch-search";

/// PatchSearch as a [`Detector`].
#[derive(Debug, Clone)]
pub struct PatchSearch {
    config: PatchSearchConfig,
}

impl PatchSearch {
    /// The detector with `config`.
    pub fn new(config: PatchSearchConfig) -> Self {
        Self { config }
    }
}

impl Detector for PatchSearch {
    /// Runs the search and the classifier and writes, under `patch-search/` in `set.dir`:
    /// `search.csv` (each image's cluster and poison score), `patches/` (the top-ranked
    /// images' candidate triggers, which trained the classifier) and `summary.json`.
    fn detect(&self, set: &DetectionSet<'_>) -> Result<Detection> {
        self.config.check_set(set.embeddings.rows())?;
        let sizes = self.config.sizes(set.transform.crop as usize)?;
        let pictures = DatasetPictures {
            dataset: set.images,
            transform: set.transform,
            limits: set.extract.limits,
        };
        let feature_map = |x| set.encoder.feature_map(x);
        let network = Network {
            feature_map: &feature_map,
            device: set.extract.device.clone(),
            batch: set.extract.batch_size,
        };
        let outcome = Context {
            config: &self.config,
            pictures: &pictures,
            network: &network,
            sizes,
            seed: set.seed,
            progress: set.progress,
        }
        .run(set.embeddings)?;
        outcome.write(&set.dir.join(FILES))?;
        Ok(outcome.detection())
    }

    fn check_set(&self, images: usize) -> Result<(), SettingError> {
        self.config.check_set(images)
    }
}

/// What a run found and decided.
pub(crate) struct Outcome {
    /// The cluster count.
    pub(crate) k: usize,
    /// Each image's cluster.
    pub(crate) clusters: Vec<usize>,
    pub(crate) found: Found,
    /// Every image, most poisonous first.
    pub(crate) ranked: Vec<usize>,
    /// The candidate triggers of the top `topk_poisons`.
    pub(crate) patches: Vec<RgbImage>,
    pub(crate) verdict: Verdict,
    /// The most images flagged (`max_flag_fraction` of the set).
    pub(crate) most_flagged: usize,
}

impl Context<'_> {
    /// One PatchSearch run over the context's pictures and network (tests plant their own)
    /// and the images' `embeddings` under it.
    pub(crate) fn run(&self, embeddings: &Features) -> Result<Outcome> {
        let c = self.config;
        let k = c.cluster_count(embeddings.rows());
        let clusters = Clusters::of(embeddings, k, c.kmeans_iterations, self.seed);
        let search = Search { cx: self, clusters: &clusters };
        let found = search.run()?;
        let ranked = rank(&found.scores, self.seed);
        let top = self.pictures.shown_many(&ranked[..c.topk_poisons])?;
        let patches: Vec<RgbImage> =
            search.candidate_patches(&top).into_iter().map(|(patch, _)| patch).collect();
        let verdict = classify(&ClassifierJob { cx: self, patches: &patches, ranked: &ranked })?;
        let n = ranked.len();
        let most_flagged = (c.max_flag_fraction * n as f64).round() as usize;
        let clusters = clusters.kmeans.assignment;
        Ok(Outcome { k, clusters, found, ranked, patches, verdict, most_flagged })
    }
}

/// Every image, the highest poison score first; equal scores (every image never drawn
/// scores 0) in a seeded random order, as the reference's unstable sort leaves them in no
/// set order (the list's order would put its first images on top, and poisons are often
/// listed last).
fn rank(scores: &[i64], seed: u64) -> Vec<usize> {
    let mut place: Vec<usize> = (0..scores.len()).collect();
    place.shuffle(&mut item_rng(seed, streams::RANK_TIES, 0));
    let mut ranked: Vec<usize> = (0..scores.len()).collect();
    ranked.sort_by(|&a, &b| scores[b].cmp(&scores[a]).then(place[a].cmp(&place[b])));
    ranked
}

/// `summary.json` of a PatchSearch run.
#[derive(Debug, Serialize)]
struct Summary {
    clusters: usize,
    test_images: usize,
    rounds: usize,
    images_scored: usize,
    top_scores: Vec<i64>,
    classifier_steps: Vec<usize>,
    classifier_f1_percent: Vec<i64>,
    called_poisons: usize,
    flagged: usize,
}

impl Outcome {
    /// The classifier's margins as scores, and its calls.
    pub(crate) fn detection(&self) -> Detection {
        let scores = self.verdict.margins.clone();
        let called = scores.iter().filter(|&&m| m > 0.0).count();
        let flagged = flag_highest(&scores, called.min(self.most_flagged));
        Detection { scores, flagged }
    }

    /// Writes the run's own files into `dir` (created), each atomically.
    fn write(&self, dir: &Path) -> Result<()> {
        let patches = dir.join("patches");
        fs_err::create_dir_all(&patches).map_err(|e| {
            corruptencoder_core::Error::Io(corruptencoder_core::IoError::new(
                "create",
                patches.clone(),
                e,
            ))
        })?;
        let mut csv = String::from("index,cluster,scored,poison_score,window_row,window_column\n");
        for (i, (&score, at)) in self.found.scores.iter().zip(&self.found.windows).enumerate() {
            let (scored, at) = match at {
                Some((row, col)) => (1, format!("{row},{col}")),
                None => (0, ",".to_owned()),
            };
            let _ = writeln!(csv, "{i},{},{scored},{score},{at}", self.clusters[i]);
        }
        write_atomic(&dir.join("search.csv"), csv.as_bytes())?;
        for (rank, (patch, &i)) in self.patches.iter().zip(&self.ranked).enumerate() {
            let file = patches.join(format!("rank-{rank:03}-image-{i}.png"));
            write_atomic(&file, &corruptencoder_data::png_bytes(patch))?;
        }
        let summary = Summary {
            clusters: self.k,
            test_images: self.found.test_images.len(),
            rounds: self.found.rounds,
            images_scored: self.found.windows.iter().filter(|w| w.is_some()).count(),
            top_scores: self
                .ranked
                .iter()
                .take(self.patches.len())
                .map(|&i| self.found.scores[i])
                .collect(),
            classifier_steps: self.verdict.steps.clone(),
            classifier_f1_percent: self.verdict.f1.clone(),
            called_poisons: self.verdict.margins.iter().filter(|&&m| m > 0.0).count(),
            flagged: self.detection().flagged.iter().filter(|f| **f).count(),
        };
        let json = serde_json::to_string_pretty(&summary).expect("the summary serialises");
        write_atomic(&dir.join("summary.json"), json.as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
