//! Times SimCLR training steps: ResNet-18 at base width 32, CIFAR stem, 32x32 inputs,
//! batch 128 (256 views), on the flex CPU backend, or on LibTorch's CPU backend in a build
//! with `--features tch`. Run by `bench/pretrain_step.sh`, which also runs the same model in
//! PyTorch (`bench/pretrain_step.py`).
//!
//! `flex` runs our convolution and batch-norm kernels (what the encoders use on flex),
//! `flex-stock` burn's stock flex ops for the same layers.
//!
//! `cargo run --release -p corruptencoder-train --example pretrain_step -- [steps] [batch] [flex|flex-stock|libtorch]`
#![allow(clippy::print_stdout)]

use std::time::Instant;

// The CLI binary's allocator and its setting, so the benchmark times what users run.
#[path = "../../cli/src/alloc.rs"]
mod alloc;

use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;
use corruptencoder_train::{
    Arch, EncoderConfig, Kernels, Method, OptimConfig, Sgd, Simclr, SimclrConfig, Stem, burn,
};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default| {
        args.get(i).map_or(default, |a| a.parse::<usize>().expect("numeric argument"))
    };
    let (steps, batch) = (number(0, 5), number(1, 128));
    let backend = args.get(2).map_or("flex", String::as_str);
    alloc::keep_freed_pages();
    let device = match backend {
        "flex" | "flex-stock" => Device::flex(),
        #[cfg(feature = "tch")]
        #[allow(deprecated)] // burn 0.22 deprecates LibTorch but still ships it.
        "libtorch" => Device::libtorch(),
        other => {
            panic!("unknown backend {other:?} (flex, flex-stock; libtorch with --features tch)")
        }
    }
    .autodiff();
    device.seed(0);
    let kernels = if backend == "flex-stock" { Kernels::Stock } else { Kernels::Own };
    let encoder = EncoderConfig { kernels, ..EncoderConfig::new(Arch::ResNet18, Stem::Cifar, 32) };
    let mut rng = corruptencoder_core::item_rng(0, 0, 0);
    let mut method = SimclrConfig::default().init(&encoder, &device, &mut rng);
    let optim = OptimConfig::default();
    let mut sgd = Sgd::default();
    let views = || Tensor::<4>::random([batch, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
    // Seconds in forward (to the loss value), backward (gradients) and the SGD update.
    let mut phases = [0.0f64; 3];
    let mut step = |method: Simclr, phases: &mut [f64; 3]| -> (Simclr, f32) {
        let (a, b) = (views(), views());
        let clock = Instant::now();
        let out = method_forward(&method, a, b);
        let loss = out.loss.clone().into_scalar::<f32>();
        phases[0] += clock.elapsed().as_secs_f64();
        let clock = Instant::now();
        let grads = GradientsParams::from_grads(out.loss.backward(), &method);
        phases[1] += clock.elapsed().as_secs_f64();
        let clock = Instant::now();
        let method = sgd.step(&optim, optim.lr, method, grads);
        phases[2] += clock.elapsed().as_secs_f64();
        (method, loss)
    };
    // One untimed step: first-touch allocation and kernel selection.
    (method, _) = step(method, &mut [0.0; 3]);
    let start = Instant::now();
    let mut loss = 0.0;
    for _ in 0..steps {
        (method, loss) = step(method, &mut phases);
    }
    let secs = start.elapsed().as_secs_f64();
    let vps = (2 * batch * steps) as f64 / secs;
    let per_step = |t: f64| t / steps as f64;
    println!(
        "burn-{backend} simclr resnet18-w32 cifar32 batch {batch}: {steps} steps in {secs:.2}s, {vps:.1} views/s (last loss {loss:.4})"
    );
    println!(
        "  per step: forward {:.2}s, backward {:.2}s, sgd {:.2}s",
        per_step(phases[0]),
        per_step(phases[1]),
        per_step(phases[2])
    );
}

fn method_forward<M: Method>(
    m: &M,
    a: Tensor<4>,
    b: Tensor<4>,
) -> corruptencoder_train::MethodOutput {
    m.forward(a, b)
}
