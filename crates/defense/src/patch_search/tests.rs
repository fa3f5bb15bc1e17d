//! PatchSearch on a constructed case: 16 px images in four colour families, ten of them
//! carrying a planted 5 x 5 magenta patch, seen by a stand-in network whose feature map
//! holds a magenta detector (40 times the excess of red and blue over twice the green, past
//! 1.5) beside the mean colour, pooled 2 x 2. Magenta outweighs any colour, so the poisons
//! form their own cluster and a magenta window pasted on any image moves it there: the
//! search's answers can be worked out by hand.
use corruptencoder_augment::{IMAGENET_MEAN, IMAGENET_STD};
use corruptencoder_core::{NoProgress, item_rng, uniform_int};
use corruptencoder_eval::{Features, auroc};
use corruptencoder_train::burn::prelude::*;
use corruptencoder_train::burn::tensor::activation::relu;
use corruptencoder_train::{Arch, EncoderConfig, Stem, global_average};
use image::{Rgb, RgbImage};

use super::PatchSearchConfig;
use super::context::Context;
use super::images::{Network, Pictures, host};
use super::saliency::{FeatureMap, channel_weights};
use super::search::{Clusters, Search};
use crate::base::Result;

const SIDE: u32 = 16;
const CLEAN: usize = 80;
const POISONS: usize = 10;
const MAGENTA: Rgb<u8> = Rgb([255, 0, 255]);

/// The stand-in network: `[B, 3, 16, 16]` normalised images to `[B, 4, 8, 8]`.
fn stand_in(x: Tensor<4>) -> Tensor<4> {
    let d = x.device();
    let channel = |v: [f32; 3]| Tensor::<1>::from_floats(v, &d).reshape([1, 3, 1, 1]);
    let raw = x * channel(IMAGENET_STD) + channel(IMAGENET_MEAN);
    let [b, _, s, _] = raw.dims();
    let plane = |c: usize| raw.clone().slice([0..b, c..c + 1, 0..s, 0..s]);
    let (r, g, bl) = (plane(0), plane(1), plane(2));
    let magenta = relu(r.clone() + bl.clone() - g.clone() * 2.0 - 1.5) * 40.0;
    let map = Tensor::cat(vec![magenta, r, g, bl], 1);
    map.reshape([b, 4, s / 2, 2, s / 2, 2]).mean_dim(5).mean_dim(3).reshape([b, 4, s / 2, s / 2])
}

/// Clean images first, in four colour families with a little noise; then the poisons, each
/// on a family's colour with the magenta patch at a random place.
fn images() -> Vec<RgbImage> {
    let families = [[200, 40, 40], [40, 200, 40], [40, 40, 200], [200, 200, 40]];
    (0..CLEAN + POISONS)
        .map(|i| {
            let rng = &mut item_rng(11, 0, i as u64);
            let base = families[i % 4];
            let mut image = RgbImage::from_fn(SIDE, SIDE, |_, _| {
                Rgb(base.map(|v| (v + uniform_int(rng, -20, 20)).clamp(0, 255) as u8))
            });
            if i >= CLEAN {
                let (x, y) = (uniform_int(rng, 0, 11) as u32, uniform_int(rng, 0, 11) as u32);
                for (dx, dy) in (0..5).flat_map(|a| (0..5).map(move |b| (a, b))) {
                    image.put_pixel(x + dx, y + dy, MAGENTA);
                }
            }
            image
        })
        .collect()
}

struct Planted(Vec<RgbImage>);

impl Pictures for Planted {
    fn shown(&self, i: usize) -> Result<RgbImage> {
        Ok(self.0[i].clone())
    }

    fn stored(&self, i: usize) -> Result<RgbImage> {
        Ok(self.0[i].clone())
    }
}

fn network(feature_map: &dyn Fn(Tensor<4>) -> Tensor<4>) -> Network<'_> {
    Network { feature_map, device: Device::flex(), batch: 32 }
}

fn config() -> PatchSearchConfig {
    PatchSearchConfig {
        clusters: Some(5),
        topk_poisons: 3,
        model_count: 1,
        max_iterations: 150,
        classifier_batch_size: 16,
        lr: 0.05,
        classifier: EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4),
        ..Default::default()
    }
}

fn context<'a>(
    config: &'a PatchSearchConfig,
    pictures: &'a Planted,
    network: &'a Network<'a>,
    seed: u64,
) -> Context<'a> {
    let sizes = config.sizes(SIDE as usize).unwrap();
    Context { config, pictures, network, sizes, seed, progress: &NoProgress }
}

fn embeddings(net: &Network<'_>, pictures: &Planted) -> Features {
    let (values, dim) = net.embeddings(&pictures.0);
    Features::new(values, dim).unwrap()
}

#[test]
fn the_closed_form_grad_cam_weights_match_autodiff() {
    let device = Device::flex().autodiff();
    let rng = &mut item_rng(2, 0, 0);
    let (c, h, w) = (3, 4, 5);
    let values: Vec<f32> =
        (0..c * h * w).map(|_| corruptencoder_core::uniform(rng, 0.0, 2.0) as f32).collect();
    let centres = [0.6f32, 0.8, 0.0, 0.0, 0.6, 0.8];
    let map = FeatureMap { values: &values, channels: c, h, w };
    let ours = channel_weights(&map, &centres);
    let a = Tensor::<4>::from_data(TensorData::new(values.clone(), [1, c, h, w]), &device)
        .require_grad();
    let z = global_average(a.clone());
    let unit = z.clone() / z.powi_scalar(2).sum_dim(1).sqrt();
    let cos = unit.matmul(
        Tensor::<2>::from_data(TensorData::new(centres.to_vec(), [2, c]), &device).transpose(),
    );
    let sims = host(cos.clone());
    let target = if sims[0] >= sims[1] { 0 } else { 1 };
    let s = cos.slice([0..1, target..target + 1]).sum();
    let grads = s.backward();
    let g = host(a.grad(&grads).unwrap());
    for ch in 0..c {
        let mean = g[ch * h * w..(ch + 1) * h * w].iter().map(|&v| f64::from(v)).sum::<f64>()
            / (h * w) as f64;
        assert!((mean - ours[ch]).abs() < 1e-6, "channel {ch}: autodiff {mean}, ours {}", ours[ch]);
    }
}

#[test]
fn the_saliency_window_cuts_the_planted_patch_and_pasting_it_counts_the_moves() {
    let pictures = Planted(images());
    let net = network(&stand_in);
    let config = config();
    let clusters = Clusters::of(&embeddings(&net, &pictures), 5, 20, 0);
    let poison_cluster = clusters.kmeans.assignment[CLEAN];
    assert!(
        (0..CLEAN + POISONS)
            .all(|i| (clusters.kmeans.assignment[i] == poison_cluster) == (i >= CLEAN)),
        "the poisons, and only they, form one cluster"
    );
    let cx = context(&config, &pictures, &net, 0);
    let search = Search { cx: &cx, clusters: &clusters };
    let poisons: Vec<RgbImage> = pictures.0[CLEAN..].to_vec();
    for (patch, _) in search.candidate_patches(&poisons) {
        assert_eq!(patch.dimensions(), (4, 4), "round(60 / 224 * 16)");
        assert!(patch.pixels().all(|p| *p == MAGENTA), "the window lies inside the patch");
    }
    // Five test images, one nearest each centre. A magenta window moves the four that are
    // not in the poisons' cluster into it: 5 there after, 1 before.
    let found = search.run().unwrap();
    assert_eq!(found.test_images.len(), 5);
    for i in CLEAN..CLEAN + POISONS {
        if found.windows[i].is_some() {
            assert_eq!(found.scores[i], 4, "poison {i}");
        }
    }
    for i in 0..CLEAN {
        assert!(found.scores[i] <= 0, "clean image {i} scored {}", found.scores[i]);
    }
    // Five clusters lose one a round (floor(0.25 * 5) = 1, then 1 of 4), and the round with
    // three left is the last: 2 images from each, 5 + 4 + 3 clusters.
    assert_eq!(found.rounds, 3);
    let drawn = |r: std::ops::Range<usize>| found.windows[r].iter().filter(|w| w.is_some()).count();
    assert_eq!(drawn(0..CLEAN + POISONS), 24);
    assert_eq!(drawn(CLEAN..CLEAN + POISONS), 6, "the poisons' cluster is kept");
}

#[test]
fn the_whole_run_ranks_the_planted_images_first_and_the_classifier_flags_them() {
    let pictures = Planted(images());
    let net = network(&stand_in);
    let config = config();
    let run = context(&config, &pictures, &net, 3);
    let outcome = run.run(&embeddings(&net, &pictures)).unwrap();
    let top = &outcome.ranked[..6];
    assert!(top.iter().all(|&i| i >= CLEAN), "the six scored poisons rank first: {top:?}");
    for patch in &outcome.patches {
        assert!(patch.pixels().all(|p| *p == MAGENTA));
    }
    let detection = outcome.detection();
    let poison: Vec<bool> = (0..CLEAN + POISONS).map(|i| i >= CLEAN).collect();
    let area = auroc(&detection.scores, &poison).unwrap().unwrap();
    assert!(area > 0.95, "AUROC {area}");
    let flagged_poisons = (CLEAN..CLEAN + POISONS).filter(|&i| detection.flagged[i]).count();
    let flagged_clean = (0..CLEAN).filter(|&i| detection.flagged[i]).count();
    assert!(
        flagged_poisons >= 8 && flagged_clean <= 8,
        "{flagged_poisons} poisons, {flagged_clean} clean"
    );
    // Same seed, same answer.
    let again = run.run(&embeddings(&net, &pictures)).unwrap();
    assert_eq!(again.detection(), detection);
    // A cap flags the largest margins only.
    let capped = super::Outcome { most_flagged: 5, ..again }.detection();
    let kept_on: Vec<usize> = (0..CLEAN + POISONS).filter(|&i| capped.flagged[i]).collect();
    assert_eq!(kept_on.len(), 5);
    let least = kept_on.iter().map(|&i| capped.scores[i]).fold(f64::INFINITY, f64::min);
    let above = capped.scores.iter().filter(|&&s| s > least).count();
    assert_eq!(above, 4, "the five flagged are the five largest margins");
}
