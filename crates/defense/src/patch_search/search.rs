//! PatchSearch's iterative search (`patch_search_iterative_search.py`): cluster the
//! embeddings, then in rounds draw a few images from every remaining cluster, cut each
//! one's candidate trigger where the encoder looks, score it by how many test images it
//! pulls into its image's cluster when pasted on them, and drop the clusters whose best
//! score is lowest.
use corruptencoder_core::{item_rng, uniform_int};
use corruptencoder_eval::Features;
use image::RgbImage;
use rand::seq::SliceRandom;

use super::context::Context;
use super::images::{paste, unit_rows, window};
use super::kmeans::{KMeans, kmeans, nearest};
use super::saliency::{FeatureMap, best_window, saliency};
use super::streams;
use crate::base::Result;

/// The clustering of the unit embeddings.
pub(crate) struct Clusters {
    pub(crate) kmeans: KMeans,
    /// Each cluster's mean unit embedding scaled to unit length (the reference's
    /// `KMeansLinear` weights), `k x dim`; a zero row for a cluster left empty.
    pub(crate) unit_centres: Vec<f32>,
    pub(crate) k: usize,
    pub(crate) dim: usize,
}

impl Clusters {
    /// k-means of the embeddings scaled to unit length, seeded from `seed`.
    pub(crate) fn of(embeddings: &Features, k: usize, iterations: usize, seed: u64) -> Self {
        let dim = embeddings.dim();
        let unit = unit_rows(embeddings.as_slice(), dim);
        let km = kmeans(&unit, dim, k, iterations, &mut item_rng(seed, streams::KMEANS, 0));
        let mut sums = vec![0.0f64; k * dim];
        for (row, &c) in unit.chunks_exact(dim).zip(&km.assignment) {
            for (s, v) in sums[c * dim..(c + 1) * dim].iter_mut().zip(row) {
                *s += f64::from(*v);
            }
        }
        let means: Vec<f32> = sums.iter().map(|&v| v as f32).collect();
        Self { kmeans: km, unit_centres: unit_rows(&means, dim), k, dim }
    }

    /// The members of each cluster, nearest its centre first (ties by index).
    fn by_distance(&self) -> Vec<Vec<usize>> {
        let mut members = vec![Vec::new(); self.k];
        for (i, &c) in self.kmeans.assignment.iter().enumerate() {
            members[c].push(i);
        }
        let d = &self.kmeans.distance;
        for m in &mut members {
            m.sort_by(|&a, &b| d[a].total_cmp(&d[b]).then(a.cmp(&b)));
        }
        members
    }

    /// The cluster of each embedding row: the nearest centre to the row at unit length.
    pub(crate) fn assign(&self, embeddings: &[f32]) -> Vec<usize> {
        let unit = unit_rows(embeddings, self.dim);
        unit.chunks_exact(self.dim).map(|r| nearest(r, &self.kmeans.centres, self.dim).0).collect()
    }
}

/// One search over the clusters of a run.
pub(crate) struct Search<'a> {
    pub(crate) cx: &'a Context<'a>,
    pub(crate) clusters: &'a Clusters,
}

/// What a search found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Found {
    /// Each image's poison score: test images its patch moved into its cluster, less those
    /// there before; 0 for an image never drawn.
    pub(crate) scores: Vec<i64>,
    /// Where each drawn image's candidate trigger was cut: its top-left `(row, column)`.
    pub(crate) windows: Vec<Option<(usize, usize)>>,
    /// Rounds run.
    pub(crate) rounds: usize,
    /// The test images, by index.
    pub(crate) test_images: Vec<usize>,
}

impl Search<'_> {
    /// The candidate trigger of each of `images` (shown as the encoder sees them): the
    /// window of the most saliency, and its top-left `(row, column)`.
    pub(crate) fn candidate_patches(&self, images: &[RgbImage]) -> Vec<(RgbImage, (usize, usize))> {
        let (maps, [c, h, w]) = self.cx.network.maps(images);
        let per = c * h * w;
        images
            .iter()
            .enumerate()
            .map(|(b, image)| {
                let map = FeatureMap { values: &maps[b * per..(b + 1) * per], channels: c, h, w };
                let s = saliency(&map, &self.clusters.unit_centres, self.cx.sizes.side);
                let at = best_window(&s, self.cx.sizes.side, self.cx.sizes.window);
                (window(image, at, self.cx.sizes.window), at)
            })
            .collect()
    }

    /// The test images: the reference's `get_test_images`, the `n / k` members nearest
    /// each centre, or when there are more clusters than test images, the nearest member
    /// of each of `n` clusters drawn at random.
    fn test_images(&self, members: &[Vec<usize>]) -> Vec<usize> {
        let n = self.cx.config.test_image_count(self.clusters.k);
        let per = n / self.clusters.k;
        if per > 0 {
            return members.iter().flat_map(|m| m.iter().take(per).copied()).collect();
        }
        let mut order: Vec<usize> = (0..self.clusters.k).collect();
        order.shuffle(&mut item_rng(self.cx.seed, streams::TEST_IMAGES, 0));
        order.iter().filter_map(|&c| members[c].first().copied()).take(n).collect()
    }

    /// The poison score of `patch`, cut from image `index`: pasted at a random place on
    /// every test image, how many land in image `index`'s cluster, less how many of the
    /// test images were there before.
    fn score(&self, index: usize, patch: &RgbImage, tests: &[RgbImage], before: &[usize]) -> i64 {
        let target = self.clusters.kmeans.assignment[index];
        let rng = &mut item_rng(self.cx.seed, streams::PASTE, index as u64);
        let room = (self.cx.sizes.side - self.cx.sizes.window) as i64;
        let pasted: Vec<RgbImage> = tests
            .iter()
            .map(|t| {
                let mut t = t.clone();
                let (row, col) = (uniform_int(rng, 0, room - 1), uniform_int(rng, 0, room - 1));
                paste(&mut t, patch, (row as usize, col as usize));
                t
            })
            .collect();
        let (z, _) = self.cx.network.embeddings(&pasted);
        let after = self.clusters.assign(&z);
        let count = |a: &[usize]| a.iter().filter(|&&c| c == target).count() as i64;
        count(&after) - count(before)
    }

    /// Runs the search to its end: no image left to draw, or no cluster left (the reference
    /// drops `floor(remove_per_iteration * clusters)` after each round and its list slice
    /// empties when that is 0, so the search ends once fewer than `1 / r` clusters remain).
    pub(crate) fn run(&self) -> Result<Found> {
        let n = self.clusters.kmeans.assignment.len();
        let members = self.by_cluster_in_random_order();
        let test_images = self.test_images(&self.clusters.by_distance());
        let tests = self.cx.pictures.shown_many(&test_images)?;
        let before: Vec<usize> =
            test_images.iter().map(|&i| self.clusters.kmeans.assignment[i]).collect();
        let mut queues: Vec<std::collections::VecDeque<usize>> =
            members.into_iter().map(Into::into).collect();
        let mut candidates: Vec<usize> = (0..self.clusters.k).collect();
        let (mut scores, mut windows, mut rounds) = (vec![0i64; n], vec![None; n], 0);
        self.cx.progress.start("patch search", n as u64);
        loop {
            self.cx.progress.check_cancelled()?;
            let drawn: Vec<usize> = candidates
                .iter()
                .flat_map(|&c| {
                    let q = &mut queues[c];
                    let take = q.len().min(self.cx.config.samples_per_iteration);
                    q.drain(..take).collect::<Vec<_>>()
                })
                .collect();
            if drawn.is_empty() {
                break;
            }
            let images = self.cx.pictures.shown_many(&drawn)?;
            let patches = self.candidate_patches(&images);
            for (&i, (patch, at)) in drawn.iter().zip(&patches) {
                scores[i] = self.score(i, patch, &tests, &before);
                windows[i] = Some(*at);
            }
            self.cx.progress.advance(drawn.len() as u64);
            candidates = self.prune(&candidates, &scores);
            rounds += 1;
        }
        self.cx.progress.finish();
        Ok(Found { scores, windows, rounds, test_images })
    }

    /// The members of each cluster in a seeded random order, the order images are drawn.
    fn by_cluster_in_random_order(&self) -> Vec<Vec<usize>> {
        let mut members = vec![Vec::new(); self.clusters.k];
        for (i, &c) in self.clusters.kmeans.assignment.iter().enumerate() {
            members[c].push(i);
        }
        for (c, m) in members.iter_mut().enumerate() {
            m.shuffle(&mut item_rng(self.cx.seed, streams::CLUSTER_ORDER, c as u64));
        }
        members
    }

    /// `candidates` without the least poisonous `floor(r * len)`, each cluster's score
    /// the largest of its members' (0 for those not drawn yet); ties keep the lower
    /// cluster. Nothing is left when that count is 0, as in the reference.
    fn prune(&self, candidates: &[usize], scores: &[i64]) -> Vec<usize> {
        let mut best = vec![i64::MIN; self.clusters.k];
        for (i, &c) in self.clusters.kmeans.assignment.iter().enumerate() {
            best[c] = best[c].max(scores[i]);
        }
        let mut ranked = candidates.to_vec();
        ranked.sort_by(|&a, &b| best[b].cmp(&best[a]).then(a.cmp(&b)));
        let remove = (self.cx.config.remove_per_iteration * ranked.len() as f64) as usize;
        if remove == 0 {
            return Vec::new();
        }
        ranked.truncate(ranked.len() - remove);
        ranked
    }
}
