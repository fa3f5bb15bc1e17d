//! The study's encoder layer by layer: forward and forward + backward times of the small
//! CNN's three convolutions (3x3 without bias: 3 -> w at stride 1 on 32x32, w -> 2w and
//! 2w -> 4w at stride 2) at batch 128, our kernels on flex, with the GFLOP/s each reaches;
//! the first layer's input takes no gradient, as in training. `bench/pretrain_step.sh`
//! prints the machine's FMA peak to compare with.
//!
//! `cargo run --release -p corruptencoder-train --example small_cnn_layers [-- WIDTH]`
//! (default width 64).
#![allow(clippy::print_stdout)]

use std::time::Instant;

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use corruptencoder_train::{Kernels, burn, conv2d};

// The CLI binary's allocator and its setting, so the benchmark times what users run.
#[path = "../../cli/src/alloc.rs"]
mod alloc;

const BATCH: usize = 128;

/// One warm-up call, then the mean seconds of `REPS` calls.
fn timed(mut f: impl FnMut()) -> f64 {
    const REPS: u32 = 5;
    f();
    let clock = Instant::now();
    for _ in 0..REPS {
        f();
    }
    clock.elapsed().as_secs_f64() / f64::from(REPS)
}

fn main() {
    alloc::keep_freed_pages();
    let width: usize = match std::env::args().nth(1) {
        Some(w) => w.parse().unwrap_or_else(|_| panic!("WIDTH must be a number, not {w}")),
        None => 64,
    };
    let device = Device::flex().autodiff();
    device.seed(0);
    println!("small CNN width {width}, batch {BATCH}, our kernels on flex");
    let layers = [(3, width, 32, 1), (width, 2 * width, 32, 2), (2 * width, 4 * width, 16, 2)];
    for (i, (c_in, c_out, size, stride)) in layers.into_iter().enumerate() {
        let x =
            Tensor::<4>::random([BATCH, c_in, size, size], Distribution::Normal(0.0, 1.0), &device);
        let conv = Conv2dConfig::new([c_in, c_out], [3, 3])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .with_bias(false)
            .init(&device);
        let out = size / stride;
        let flop = 2.0 * (BATCH * c_out * c_in * 9 * out * out) as f64;
        let forward = timed(|| {
            let _ = conv2d(&conv, x.clone().detach(), Kernels::Own).sum().into_scalar::<f32>();
        });
        // The first layer's input is the views: no input gradient, as in training.
        let with_input_grad = i > 0;
        let both = timed(|| {
            let x = x.clone().detach();
            let x = if with_input_grad { x.require_grad() } else { x };
            let _ = conv2d(&conv, x, Kernels::Own).sum().backward();
        });
        let backward_flop = flop * if with_input_grad { 2.0 } else { 1.0 };
        println!(
            "{c_in:4} -> {c_out:4}, stride {stride}, {size}x{size}: forward {:7.1} ms \
             ({:6.1} GFLOP/s), forward+backward {:7.1} ms ({:6.1} GFLOP/s)",
            forward * 1e3,
            flop / forward / 1e9,
            both * 1e3,
            (flop + backward_flop) / both / 1e9,
        );
    }
}
