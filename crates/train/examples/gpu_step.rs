//! The GPU check's engine (`bench/gpu.sh`): training steps/s of the paper's setting and of
//! the demo's on one device, the projected wall time of the 200-epoch reference run, and
//! loss and weight parity of a few MoCo-v2 steps against the CPU backend.
//!
//! `cargo run --release -p corruptencoder-train --features cuda --example gpu_step -- DEVICE MODE [STEPS]`
//! with DEVICE `flex`, `cuda[:N]` (`--features cuda`) or `wgpu` (`--features wgpu`) and MODE
//! `paper`, `demo` or `parity`. Inputs are random (no data loading): this times the model.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;
use corruptencoder_core::Rng;
use corruptencoder_train::{
    Arch, EncoderConfig, Method, MocoV2Config, OptimConfig, Sgd, SimclrConfig, Stem, burn,
};

#[path = "../tests/it/backend_parity.rs"]
#[allow(dead_code)] // its test only runs in the test binary
mod backend_parity;

/// Images in ImageNet100-A with the reference run's 0.5 % poisons (method.md section 2).
const REFERENCE_IMAGES: u64 = 130_000;
/// Epochs of the reference run (method.md section 6).
const REFERENCE_EPOCHS: u64 = 200;
/// Parity bounds: each step's loss, relative, and every encoder value, absolute. GPU
/// kernels sum in other orders (and may use TF32 tensor cores), hence looser than lavapipe's.
const LOSS_TOL: f32 = 1e-3;
const WEIGHT_TOL: f32 = 1e-3;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let device = device(&arg(0, "flex"));
    let mode = arg(1, "demo");
    let steps: u64 = arg(2, "20").parse().expect("STEPS is a number");
    match mode.as_str() {
        "paper" => {
            let (encoder, moco) = paper();
            let build = |d: &Device, rng: &mut Rng| moco.init(&encoder, d, rng);
            time(&device, &mode, build, (256, 224), steps, Some(REFERENCE_IMAGES))
        }
        "demo" => {
            let (encoder, simclr) = demo();
            let build = |d: &Device, rng: &mut Rng| simclr.init(&encoder, d, rng);
            time(&device, &mode, build, (100, 32), steps, None)
        }
        "parity" => parity(&device, steps),
        other => panic!("unknown mode {other:?} (paper, demo, parity)"),
    }
}

fn device(name: &str) -> Device {
    let (kind, index) = name.split_once(':').unwrap_or((name, "0"));
    let _index: usize = index.parse().expect("device index");
    match kind {
        "flex" | "cpu" => Device::flex(),
        #[cfg(feature = "cuda")]
        "cuda" => Device::cuda(_index),
        #[cfg(feature = "wgpu")]
        "wgpu" => Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
        other => panic!("device {other:?} is not in this build (flex; cuda, wgpu with features)"),
    }
}

/// docs/method.md section 6: MoCo-v2, ResNet-18 with the ImageNet stem, 224 px, batch 256,
/// queue 65536.
fn paper() -> (EncoderConfig, MocoV2Config) {
    (EncoderConfig::new(Arch::ResNet18, Stem::Imagenet, 64), MocoV2Config::default())
}

/// `configs/demo.toml`: SimCLR, the small CNN at width 16, 32 px, batch 100.
fn demo() -> (EncoderConfig, SimclrConfig) {
    let encoder = EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 16);
    (encoder, SimclrConfig { temperature: 0.5, ..Default::default() })
}

/// Times `steps` steps of the method `build` makes, at `batch` images of `size` px.
fn time<M: Method>(
    device: &Device,
    name: &str,
    build: impl FnOnce(&Device, &mut Rng) -> M,
    (batch, size): (usize, usize),
    steps: u64,
    images: Option<u64>,
) {
    let device = device.clone().autodiff();
    let rng = &mut corruptencoder_core::item_rng(0, 0, 0);
    let (secs, loss) = run(build(&device, rng), &device, batch, size, steps);
    let per_sec = steps as f64 / secs;
    println!(
        "{name}: {steps} steps in {secs:.1}s: {per_sec:.3} steps/s, {:.0} views/s (last loss {loss:.4})",
        (2 * batch) as f64 * per_sec
    );
    if let Some(images) = images {
        let total = images / batch as u64 * REFERENCE_EPOCHS;
        let hours = total as f64 / per_sec / 3600.0;
        println!(
            "projected reference run: {REFERENCE_EPOCHS} epochs x {} steps = {total} steps: {hours:.1} h ({:.1} days) on this device, if data loading keeps up",
            images / batch as u64,
            hours / 24.0
        );
    }
}

/// Seconds for `steps` steps after two untimed ones (allocation, kernel autotuning), and the
/// last loss.
fn run<M: Method>(
    mut method: M,
    device: &Device,
    batch: usize,
    size: usize,
    steps: u64,
) -> (f64, f32) {
    let optim = OptimConfig::default();
    let mut sgd = Sgd::default();
    let views =
        || Tensor::<4>::random([batch, 3, size, size], Distribution::Normal(0.0, 1.0), device);
    let mut step = |method: M, i: u64| -> (M, f32) {
        let output = method.forward(views(), views());
        let loss = output.loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(output.loss.backward(), &method);
        let method = sgd.step(&optim, optim.lr, method, grads);
        (method.after_step(output, i as f64 / (steps + 2) as f64), loss)
    };
    for i in 0..2 {
        method = step(method, i).0;
    }
    device.sync().expect("device sync");
    let start = Instant::now();
    let mut loss = f32::NAN;
    for i in 0..steps {
        (method, loss) = step(method, i + 2);
    }
    device.sync().expect("device sync");
    (start.elapsed().as_secs_f64(), loss)
}

/// MoCo-v2 steps of two small encoders on `device` and on the CPU backend from the same
/// weights and batches; exits non-zero past the bounds.
fn parity(device: &Device, steps: u64) {
    let encoders = [
        ("small-cnn w8", EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 8)),
        ("resnet18 w8", EncoderConfig::new(Arch::ResNet18, Stem::Cifar, 8)),
    ];
    let mut ok = true;
    for (name, encoder) in encoders {
        let cpu = backend_parity::moco_steps(&Device::flex(), &encoder, 32, 16, steps);
        let gpu = backend_parity::moco_steps(device, &encoder, 32, 16, steps);
        let rel = cpu
            .losses
            .iter()
            .zip(&gpu.losses)
            .map(|(c, g)| (c - g).abs() / c.abs())
            .fold(0.0, f32::max);
        let diff = backend_parity::max_abs_diff(&cpu.weights, &gpu.weights);
        let pass = rel <= LOSS_TOL && diff <= WEIGHT_TOL;
        ok &= pass;
        println!(
            "parity {name}, {steps} MoCo-v2 steps: losses cpu {:?} device {:?}; max rel loss diff {rel:.2e} (bound {LOSS_TOL:.0e}), max weight diff {diff:.2e} (bound {WEIGHT_TOL:.0e}): {}",
            cpu.losses,
            gpu.losses,
            if pass { "PASS" } else { "FAIL" }
        );
    }
    if !ok {
        std::process::exit(1);
    }
}
