//! Where a training step's time goes: forward and forward + backward times of each layer
//! kind of ResNet-18 at base width 32 on 32x32 inputs (the `bench/pretrain_step.sh` model),
//! at every stage's shape, batch 256 views, on the flex backend. `bench/op_times.sh` runs it
//! beside the same layers in PyTorch (`bench/op_times.py`) and prints the ratios.
//!
//! Our convolution and batch-norm kernels are timed through the encoders' own layer calls
//! (`corruptencoder_train::{conv2d, batch_norm}`); with the argument `stock` they are
//! switched off, so the same calls time burn's stock flex ops.
//!
//! `cargo run --release -p corruptencoder-train --example op_times [-- stock]`
#![allow(clippy::print_stdout)]

use std::time::Instant;

use burn::nn::conv::Conv2dConfig;
use burn::nn::{BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::relu;
use corruptencoder_train::{Kernels, batch_norm, burn, conv2d};

// The CLI binary's allocator and its setting, so the benchmark times what users run.
#[path = "../../cli/src/alloc.rs"]
mod alloc;

/// One warm-up call, then the mean of `REPS` calls, printed in milliseconds.
fn timed(name: &str, mut f: impl FnMut()) {
    const REPS: u32 = 3;
    f();
    let clock = Instant::now();
    for _ in 0..REPS {
        f();
    }
    println!("{name:28} {:8.1} ms", clock.elapsed().as_secs_f64() * 1e3 / f64::from(REPS));
}

fn main() {
    alloc::keep_freed_pages();
    let stock = std::env::args().nth(1).as_deref() == Some("stock");
    let k = if stock { Kernels::Stock } else { Kernels::Own };
    let device = Device::flex().autodiff();
    device.seed(0);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!("burn-flex{}, {cores} cores", if stock { " stock" } else { " + our kernels" });
    for (c, hw) in [(32, 32), (64, 16), (128, 8), (256, 4)] {
        println!("-- [256, {c}, {hw}, {hw}]");
        let x = Tensor::<4>::random([256, c, hw, hw], Distribution::Normal(0.0, 1.0), &device);
        let conv = Conv2dConfig::new([c, c], [3, 3])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .with_bias(false)
            .init(&device);
        let bn = BatchNormConfig::new(c).init(&device);
        let forward = |f: &dyn Fn(Tensor<4>) -> Tensor<4>| {
            let _ = f(x.clone().detach()).sum().into_scalar::<f32>();
        };
        let forward_backward = |f: &dyn Fn(Tensor<4>) -> Tensor<4>| {
            let _ = f(x.clone().detach().require_grad()).sum().backward();
        };
        timed("conv3x3 fwd", || forward(&|t| conv2d(&conv, t, k)));
        timed("conv3x3 fwd+bwd", || forward_backward(&|t| conv2d(&conv, t, k)));
        timed("bn fwd", || forward(&|t| batch_norm(&bn, t, k)));
        timed("bn fwd+bwd", || forward_backward(&|t| batch_norm(&bn, t, k)));
        timed("relu+add fwd+bwd", || forward_backward(&|t| relu(t.clone()) + t));
    }
}
