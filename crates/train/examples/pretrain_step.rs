//! Times SimCLR training steps: ResNet-18 at base width 32, CIFAR stem, 32x32 inputs,
//! batch 128 (256 views), on the flex CPU backend. Run by `bench/pretrain_step.sh`, which
//! also runs the same model in PyTorch (`bench/pretrain_step.py`).
//!
//! `cargo run --release -p corruptencoder-train --example pretrain_step -- [steps] [batch]`
#![allow(clippy::print_stdout)]

use std::time::Instant;

use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;
use corruptencoder_train::{
    Arch, EncoderConfig, Method, OptimConfig, Sgd, Simclr, SimclrConfig, Stem, burn,
};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("numeric argument"));
    let steps = args.next().unwrap_or(5);
    let batch = args.next().unwrap_or(128);
    let device = Device::flex().autodiff();
    device.seed(0);
    let encoder = EncoderConfig { arch: Arch::ResNet18, stem: Stem::Cifar, width: 32 };
    let mut rng = corruptencoder_core::item_rng(0, 0, 0);
    let mut method = SimclrConfig::default().init(&encoder, &device, &mut rng);
    let optim = OptimConfig::default();
    let mut sgd = Sgd::default();
    let views = || Tensor::<4>::random([batch, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
    let mut step = |method: Simclr| -> (Simclr, f32) {
        let out = method_forward(&method, views(), views());
        let loss = out.loss.clone().into_scalar::<f32>();
        let grads = GradientsParams::from_grads(out.loss.backward(), &method);
        (sgd.step(&optim, optim.lr, method, grads), loss)
    };
    // One untimed step: first-touch allocation and kernel selection.
    (method, _) = step(method);
    let start = Instant::now();
    let mut loss = 0.0;
    for _ in 0..steps {
        (method, loss) = step(method);
    }
    let secs = start.elapsed().as_secs_f64();
    let vps = (2 * batch * steps) as f64 / secs;
    println!(
        "burn-flex simclr resnet18-w32 cifar32 batch {batch}: {steps} steps in {secs:.2}s, {vps:.1} views/s (last loss {loss:.4})"
    );
}

fn method_forward<M: Method>(
    m: &M,
    a: Tensor<4>,
    b: Tensor<4>,
) -> corruptencoder_train::MethodOutput {
    m.forward(a, b)
}
