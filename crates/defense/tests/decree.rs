//! DECREE's inversion on constructed encoders: one planted with a corner-patch backdoor
//! (a white 4 x 4 square at the top left sends every image to one embedding) and the same
//! encoder without it.
use corruptencoder_core::{item_rng, uniform};
use corruptencoder_defense::{DecreeConfig, invert_trigger};
use corruptencoder_train::burn::prelude::*;

const SIZE: usize = 16;

fn device() -> Device {
    Device::flex().autodiff()
}

/// `n` noise images, planar in [0, 1].
fn shadow(n: usize) -> Vec<f32> {
    let rng = &mut item_rng(4, 0, 0);
    (0..n * 3 * SIZE * SIZE).map(|_| uniform(rng, 0.0, 1.0) as f32).collect()
}

/// A random projection of the centred pixels to 8 features; with `planted`, images whose top-left
/// 4 x 4 square is near white go to one large constant embedding instead.
fn encoder(planted: bool) -> impl Fn(Tensor<4>) -> Tensor<2> {
    let d = device();
    let rng = &mut item_rng(5, 0, 0);
    let w: Vec<f32> = (0..3 * SIZE * SIZE * 8).map(|_| uniform(rng, -1.0, 1.0) as f32).collect();
    let w = Tensor::<2>::from_data(TensorData::new(w, [3 * SIZE * SIZE, 8]), &d);
    let c: Vec<f32> = (0..8).map(|i| if i % 2 == 0 { 50.0 } else { -30.0 }).collect();
    let c = Tensor::<2>::from_data(TensorData::new(c, [1, 8]), &d);
    move |x: Tensor<4>| {
        let [n, ..] = x.dims();
        // Centred, so clean images point in unrelated directions.
        let base = (x.clone() - 0.5).reshape([n, 3 * SIZE * SIZE]).matmul(w.clone());
        if !planted {
            return base;
        }
        let corner = x.slice([0..n, 0..3, 0..4, 0..4]).reshape([n, 48]).mean_dim(1);
        let gate = corruptencoder_train::burn::tensor::activation::sigmoid((corner - 0.7) * 10.0);
        base * (gate.clone().neg() + 1.0) + gate * c.clone()
    }
}

/// The reference's settings but a longer early-stop patience: on these small linear
/// encoders the first collapsing mask is large and the weight of its L1 norm needs more
/// than ten steps to grow enough to shrink it.
fn config() -> DecreeConfig {
    DecreeConfig { size: SIZE as u32, epochs: 600, early_stop_patience: 300, ..Default::default() }
}

#[test]
fn the_planted_corner_trigger_is_recovered_small_and_in_its_corner() {
    let images = shadow(20);
    let inv = invert_trigger(&encoder(true), &images, SIZE, &config(), &device());
    let pl1 = inv.pl1().expect("a collapsing mask was found");
    assert!(pl1 < 0.1, "PL1 {pl1}");
    let mask = inv.mask.as_ref().unwrap();
    let corner: f32 =
        (0..4).flat_map(|y| (0..4).map(move |x| (y, x))).map(|(y, x)| mask[y * SIZE + x]).sum();
    let total: f32 = mask.iter().sum();
    assert!(corner > 0.5 * total, "corner {corner} of {total}");
    // The pattern there is near white.
    let pattern = inv.pattern.as_ref().unwrap();
    let white = (0..3).all(|c| pattern[c * SIZE * SIZE] > 0.8);
    assert!(white, "{:?}", (0..3).map(|c| pattern[c * SIZE * SIZE]).collect::<Vec<_>>());
}

#[test]
fn the_clean_encoder_needs_a_far_larger_trigger() {
    let images = shadow(20);
    let clean = invert_trigger(&encoder(false), &images, SIZE, &config(), &device());
    let planted = invert_trigger(&encoder(true), &images, SIZE, &config(), &device());
    let planted = planted.pl1().unwrap();
    match clean.pl1() {
        None => {}
        Some(p) => assert!(p > 3.0 * planted && p > 0.1, "clean {p} vs planted {planted}"),
    }
}
