//! k-means with k-means++ seeding, for PatchSearch's clustering of the embeddings (the
//! reference runs faiss's `Clustering`, 20 rounds, seeded by a random sample of points).
//! Our own, a hundred lines: the Rust k-means crates bring ndarray and their own RNGs, and
//! every draw here must come from the run's seeded stream. Each point is assigned on its
//! own and the centres are summed in point order, so the result is the same whatever the
//! thread count.
use corruptencoder_core::{Rng, uniform};
use rayon::prelude::*;

/// A clustering of `points.len() / dim` points.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KMeans {
    /// Row-major `k x dim` centres.
    pub(crate) centres: Vec<f32>,
    /// Each point's nearest centre.
    pub(crate) assignment: Vec<usize>,
    /// Each point's squared distance to that centre.
    pub(crate) distance: Vec<f64>,
}

fn squared(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2)).sum()
}

/// The nearest of the `centres` (row-major, `dim` wide) to `point`, ties to the lower
/// index, and its squared distance.
pub(crate) fn nearest(point: &[f32], centres: &[f32], dim: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, centre) in centres.chunks_exact(dim).enumerate() {
        let d = squared(point, centre);
        if d < best.1 {
            best = (c, d);
        }
    }
    best
}

/// k-means++ seeding: the first centre uniform, each next one drawn with probability
/// proportional to the squared distance to the nearest centre so far.
fn seed_centres(points: &[f32], dim: usize, k: usize, rng: &mut Rng) -> Vec<f32> {
    let n = points.len() / dim;
    let row = |i: usize| &points[i * dim..(i + 1) * dim];
    let pick = |rng: &mut Rng, n: usize| (uniform(rng, 0.0, n as f64) as usize).min(n - 1);
    let mut centres = row(pick(rng, n)).to_vec();
    let mut nearest_d: Vec<f64> = (0..n).map(|i| squared(row(i), &centres)).collect();
    while centres.len() < k * dim {
        let total: f64 = nearest_d.iter().sum();
        let chosen = if total > 0.0 {
            let target = uniform(rng, 0.0, total);
            let mut acc = 0.0;
            let mut chosen = n - 1;
            for (i, d) in nearest_d.iter().enumerate() {
                acc += d;
                if acc > target {
                    chosen = i;
                    break;
                }
            }
            chosen
        } else {
            // Every point sits on a centre: any point will do.
            pick(rng, n)
        };
        let new = row(chosen).to_vec();
        nearest_d.par_iter_mut().enumerate().for_each(|(i, d)| *d = d.min(squared(row(i), &new)));
        centres.extend(new);
    }
    centres
}

/// Clusters the rows of `points` (`dim` wide) into `k` groups: k-means++ seeding from `rng`,
/// then up to `iterations` rounds of Lloyd's algorithm (fewer when nothing moves), then each
/// point assigned to its nearest final centre. A centre left without points takes the
/// point farthest from its own centre. `k` must lie in `1..=rows`.
pub(crate) fn kmeans(
    points: &[f32],
    dim: usize,
    k: usize,
    iterations: usize,
    rng: &mut Rng,
) -> KMeans {
    let n = points.len() / dim;
    debug_assert!(k >= 1 && k <= n, "callers check the cluster count against the set");
    let row = |i: usize| &points[i * dim..(i + 1) * dim];
    let mut centres = seed_centres(points, dim, k, rng);
    let assign = |centres: &[f32]| -> Vec<(usize, f64)> {
        (0..n).into_par_iter().map(|i| nearest(row(i), centres, dim)).collect()
    };
    let mut previous: Option<Vec<usize>> = None;
    for _ in 0..iterations {
        let mut nearest = assign(&centres);
        let assignment: Vec<usize> = nearest.iter().map(|a| a.0).collect();
        if previous.as_ref() == Some(&assignment) {
            break;
        }
        let mut sums = vec![0.0f64; k * dim];
        let mut counts = vec![0usize; k];
        for (i, &(c, _)) in nearest.iter().enumerate() {
            counts[c] += 1;
            for (s, v) in sums[c * dim..(c + 1) * dim].iter_mut().zip(row(i)) {
                *s += f64::from(*v);
            }
        }
        for c in 0..k {
            let centre = &mut centres[c * dim..(c + 1) * dim];
            if counts[c] > 0 {
                let sum = &sums[c * dim..(c + 1) * dim];
                centre.iter_mut().zip(sum).for_each(|(x, s)| *x = (s / counts[c] as f64) as f32);
            } else {
                let far = (0..n)
                    .max_by(|&a, &b| nearest[a].1.total_cmp(&nearest[b].1).then(b.cmp(&a)))
                    .expect("k <= rows, so there are points");
                centre.copy_from_slice(row(far));
                nearest[far].1 = 0.0;
            }
        }
        previous = Some(assignment);
    }
    let last = assign(&centres);
    KMeans {
        centres,
        assignment: last.iter().map(|a| a.0).collect(),
        distance: last.iter().map(|a| a.1).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    /// Three tight groups of 20 points around (0, 0), (10, 0) and (0, 10), in random order.
    fn blobs(seed: u64) -> (Vec<f32>, Vec<usize>) {
        let rng = &mut item_rng(seed, 0, 0);
        let centres = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)];
        let (mut points, mut truth) = (Vec::new(), Vec::new());
        for i in 0..60 {
            let g = (i * 7) % 3;
            let (x, y) = centres[g];
            points.push((x + uniform(rng, -1.0, 1.0)) as f32);
            points.push((y + uniform(rng, -1.0, 1.0)) as f32);
            truth.push(g);
        }
        (points, truth)
    }

    #[test]
    fn separable_groups_are_found_whatever_the_seed() {
        for seed in 0..5 {
            let (points, truth) = blobs(seed);
            let km = kmeans(&points, 2, 3, 20, &mut item_rng(seed, 1, 0));
            // The same partition up to the clusters' names.
            for i in 0..60 {
                for j in 0..60 {
                    let same = truth[i] == truth[j];
                    assert_eq!(km.assignment[i] == km.assignment[j], same, "seed {seed}: {i} {j}");
                }
            }
            for (i, &d) in km.distance.iter().enumerate() {
                let c = &km.centres[km.assignment[i] * 2..km.assignment[i] * 2 + 2];
                assert!((d - squared(&points[i * 2..i * 2 + 2], c)).abs() < 1e-9);
                assert!(d <= 8.0, "a point and its centre lie in one 2 x 2 square");
            }
        }
    }

    #[test]
    fn the_seed_fixes_the_result_and_k_equal_to_rows_puts_each_point_alone() {
        let (points, _) = blobs(3);
        let a = kmeans(&points, 2, 3, 20, &mut item_rng(9, 1, 0));
        assert_eq!(a, kmeans(&points, 2, 3, 20, &mut item_rng(9, 1, 0)));
        let few = &points[..10];
        let km = kmeans(few, 2, 5, 20, &mut item_rng(0, 1, 0));
        let mut seen = km.assignment.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 5);
        assert!(km.distance.iter().all(|&d| d == 0.0));
    }

    #[test]
    fn duplicate_points_still_give_k_centres() {
        let points = vec![1.0f32; 8];
        let km = kmeans(&points, 2, 3, 5, &mut item_rng(0, 1, 0));
        assert_eq!(km.centres.len(), 6);
        assert!(km.assignment.iter().all(|&c| c == 0), "ties go to the lower centre");
    }
}
