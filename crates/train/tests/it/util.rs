use std::path::{Path, PathBuf};

use corruptencoder_augment::ViewRecipe;
use corruptencoder_core::{item_rng, uniform_int};
use corruptencoder_train::burn::prelude::Device;
use corruptencoder_train::{
    Arch, EncoderConfig, MethodConfig, NoReporter, OptimConfig, PretrainConfig, PretrainRun,
    PretrainSummary, Result, Stem, pretrain,
};
use image::RgbImage;

/// `n` 24x24 images, each a few random coloured rectangles on a random background, plus a
/// `path label` list next to them. Returns the list's path.
pub(crate) fn tiny_dataset(dir: &Path, n: usize) -> PathBuf {
    let mut lines = String::new();
    for i in 0..n {
        let mut rng = item_rng(99, 0, i as u64);
        let mut r = |a, b| uniform_int(&mut rng, a, b) as u32;
        let bg = [r(0, 255) as u8, r(0, 255) as u8, r(0, 255) as u8];
        let mut img = RgbImage::from_pixel(24, 24, bg.into());
        for _ in 0..3 {
            let (x, y, w, h) = (r(0, 16), r(0, 16), r(4, 8), r(4, 8));
            let c = [r(0, 255) as u8, r(0, 255) as u8, r(0, 255) as u8];
            for yy in y..(y + h).min(24) {
                for xx in x..(x + w).min(24) {
                    img.put_pixel(xx, yy, c.into());
                }
            }
        }
        let name = format!("img{i:03}.png");
        img.save(dir.join(&name)).unwrap();
        lines += &format!("{name} {}\n", if i % 5 == 0 { -1 } else { (i % 3) as i64 });
    }
    let list = dir.join("train.txt");
    fs_err::write(&list, lines).unwrap();
    list
}

/// A CPU-sized configuration: small CNN, 16 px views, batch 8. Colour augmentations are
/// off so that a few dozen steps suffice to learn (crops and flips remain).
pub(crate) fn tiny_config(method: MethodConfig, epochs: usize) -> PretrainConfig {
    PretrainConfig {
        seed: 7,
        epochs,
        batch_size: 8,
        optim: OptimConfig { lr: 0.06, ..Default::default() },
        encoder: EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 8),
        views: ViewRecipe {
            jitter_p: 0.0,
            grayscale_p: 0.0,
            blur_p: 0.0,
            ..ViewRecipe::moco_v2(16)
        },
        method,
        ..Default::default()
    }
}

/// MoCo-v2 for the tiny datasets: a queue much shorter than the dataset (one holding every
/// image would keep each query's own earlier key as a negative, which a tiny dataset cannot
/// afford), small heads, two batch-norm groups.
pub(crate) fn tiny_moco() -> MethodConfig {
    MethodConfig::MocoV2(corruptencoder_train::MocoV2Config {
        queue_size: 8,
        momentum: 0.99,
        hidden_dim: Some(32),
        projection_dim: 16,
        bn_splits: 2,
        ..Default::default()
    })
}

pub(crate) fn run(
    config: &PretrainConfig,
    data: &Path,
    out: &Path,
    resume: bool,
    stop_after: Option<u64>,
) -> Result<PretrainSummary> {
    run_on(config, data, out, resume, stop_after, &[])
}

/// [`run`] with data-parallel `replicas` beside the CPU device (none: `pretrain` itself).
pub(crate) fn run_on(
    config: &PretrainConfig,
    data: &Path,
    out: &Path,
    resume: bool,
    stop_after: Option<u64>,
    replicas: &[Device],
) -> Result<PretrainSummary> {
    let run = PretrainRun {
        data,
        format: None,
        out,
        resume,
        force: false,
        device: Device::flex(),
        progress: &corruptencoder_core::NoProgress,
        reporter: &mut NoReporter,
        stop_after,
        monitor: None,
    };
    if replicas.is_empty() {
        pretrain(config, run)
    } else {
        corruptencoder_train::pretrain_data_parallel(config, run, replicas)
    }
}

/// Losses per step from a run's `log.jsonl`.
pub(crate) fn logged_losses(out: &Path) -> Vec<f64> {
    fs_err::read_to_string(out.join("log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["loss"].as_f64().unwrap())
        .collect()
}
