//! Generated Gaussian clusters: labelled features with a known difficulty.
use corruptencoder_core::{Rng, item_rng};
use corruptencoder_eval::Features;
use rand::Rng as _;

/// Standard normal by Box-Muller (rand_distr is not a dependency).
fn normal(rng: &mut Rng) -> f32 {
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// `per_class` points per class in `dim` dimensions: class centres drawn at random with
/// norm about `separation`, unit-variance noise around them. Returns features and labels,
/// with the classes interleaved so no ordering leaks the label.
pub(crate) fn clusters(
    seed: u64,
    classes: usize,
    per_class: usize,
    dim: usize,
    separation: f32,
) -> (Features, Vec<usize>) {
    let mut rng = item_rng(seed, 0, 0);
    let scale = separation / (dim as f32).sqrt();
    let centres: Vec<Vec<f32>> =
        (0..classes).map(|_| (0..dim).map(|_| scale * normal(&mut rng)).collect()).collect();
    let mut data = Vec::with_capacity(classes * per_class * dim);
    let mut labels = Vec::new();
    for _ in 0..per_class {
        for (c, centre) in centres.iter().enumerate() {
            data.extend(centre.iter().map(|m| m + normal(&mut rng)));
            labels.push(c);
        }
    }
    (Features::new(data, dim).unwrap(), labels)
}

/// Train and test sets from the same cluster centres (seed), different noise.
pub(crate) fn split(
    seed: u64,
    classes: usize,
    per_class: usize,
    dim: usize,
    separation: f32,
) -> ((Features, Vec<usize>), (Features, Vec<usize>)) {
    let (all, labels) = clusters(seed, classes, 2 * per_class, dim, separation);
    // Interleaved classes: the first half of the rows holds per_class of each class.
    let half = classes * per_class;
    let take = |range: std::ops::Range<usize>| {
        let data = all.as_slice()[range.start * dim..range.end * dim].to_vec();
        (Features::new(data, dim).unwrap(), labels[range].to_vec())
    };
    (take(0..half), take(half..2 * half))
}
