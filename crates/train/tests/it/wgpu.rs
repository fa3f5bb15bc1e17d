//! wgpu against the CPU backend (docs/gpu.md): a few MoCo-v2 steps of a small encoder from the
//! same weights and batches must give the same losses and weights within tolerance. In CI
//! the wgpu device is Mesa's software Vulkan driver (lavapipe); `.ci/run` installs it.
//! Built only with `--features wgpu`; without a Vulkan adapter the test says so and skips,
//! unless `CORRUPTENCODER_REQUIRE_WGPU` is set (CI), where it fails.
#![allow(clippy::print_stderr)]

use burn::prelude::*;
use burn::tensor::DeviceKind;
use corruptencoder_train::{Arch, EncoderConfig, Stem, burn};

use crate::backend_parity::{max_abs_diff, moco_steps};

/// Relative tolerance on each step's loss. Float sums run in a different order on the two
/// backends. On lavapipe (Mesa 22.3.6, 2026-12-02) the largest difference was 2.7e-7, f32
/// round-off; 1e-5 leaves ~40x room for other drivers' reduction orders (docs/gpu.md).
const LOSS_TOL: f32 = 1e-5;
/// Absolute tolerance on every encoder weight and batch-norm buffer after the steps
/// (measured on lavapipe: 1.2e-7).
const WEIGHT_TOL: f32 = 1e-5;

/// The wgpu adapter, or `None` (with the reason printed) when none can be opened.
fn wgpu_device() -> Option<Device> {
    let device = Device::wgpu(DeviceKind::DefaultDevice);
    let probe = device.clone();
    let opened =
        std::panic::catch_unwind(move || Tensor::<1>::ones([4], &probe).sum().into_scalar::<f32>());
    match opened {
        Ok(4.0) => Some(device),
        Ok(v) => panic!("wgpu adapter opened but sums four ones to {v}"),
        Err(_) if std::env::var_os("CORRUPTENCODER_REQUIRE_WGPU").is_some() => {
            panic!("no wgpu adapter, and CORRUPTENCODER_REQUIRE_WGPU is set (CI installs lavapipe)")
        }
        Err(_) => {
            eprintln!(
                "SKIPPED wgpu parity: no Vulkan adapter could be opened (install Mesa's \
                 lavapipe: apt-get install mesa-vulkan-drivers libvulkan1)"
            );
            None
        }
    }
}

#[test]
fn wgpu_training_steps_match_the_cpu_backend() {
    let Some(gpu) = wgpu_device() else { return };
    let encoder = EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4);
    let (steps, size, batch) = (3, 16, 8);
    let cpu = moco_steps(&Device::flex(), &encoder, size, batch, steps);
    let wgpu = moco_steps(&gpu, &encoder, size, batch, steps);
    for (step, (c, g)) in cpu.losses.iter().zip(&wgpu.losses).enumerate() {
        eprintln!(
            "step {}: loss flex {c:.7} wgpu {g:.7} (rel diff {:.2e})",
            step + 1,
            (c - g).abs() / c.abs()
        );
        assert!((c - g).abs() <= LOSS_TOL * c.abs(), "step {}: {c} vs {g}", step + 1);
    }
    let diff = max_abs_diff(&cpu.weights, &wgpu.weights);
    eprintln!("{} encoder values, max abs diff {diff:.2e}", cpu.weights.len());
    assert!(diff <= WEIGHT_TOL, "weights differ by {diff}");
}
