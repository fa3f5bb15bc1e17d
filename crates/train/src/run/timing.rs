//! How long one pre-training step takes on this machine: a few steps of a method's fresh
//! model on random views held in memory, for planning runs before any is made.
use std::time::Instant;

use burn::prelude::*;
use corruptencoder_core::{Rng, item_rng, uniform};

use crate::config::PretrainConfig;
use crate::error::Result;
use crate::method::MethodVisitor;
use crate::method::clip::ClipConfig;
use crate::optim::Sgd;
use crate::run::batches::Batch;
use crate::run::contrastive::Contrastive;
use crate::run::learner::Learner;
use crate::run::parallel::DataParallel;

/// Seconds per pre-training step of `config`'s method and encoder at its view size, with
/// `batch` images a step, on `device`: the mean of `steps` (at least 1) steps on random
/// views held in memory, after one step left untimed (first-touch allocation, kernel
/// choice). The time is the model's forward, backward and update, without the loading and
/// augmenting of images, which a run does on other threads. `None` for image-text
/// pre-training, which this does not time. Reads and writes no file.
///
/// `batch` must be one the method accepts (MoCo-v2: a divisor of its queue size, a multiple
/// of its split-BN groups); the settings are checked with it.
pub fn time_steps(
    config: &PretrainConfig,
    device: &Device,
    batch: usize,
    steps: usize,
) -> Result<Option<f64>> {
    let config = PretrainConfig { batch_size: batch, ..config.clone() };
    config.validate()?;
    let device = device.clone().autodiff();
    device.seed(config.seed);
    let rng = &mut item_rng(config.seed, 0, 0);
    let timer = Timer { config: &config, device: &device, steps: steps.max(1) };
    config.method.visit(&config.encoder, &device, rng, timer)
}

/// Times the steps of the method it is handed.
struct Timer<'a> {
    config: &'a PretrainConfig,
    device: &'a Device,
    steps: usize,
}

impl MethodVisitor for Timer<'_> {
    type Output = Result<Option<f64>>;

    fn contrastive<M: DataParallel>(self, method: M) -> Self::Output {
        let Self { config, device, steps } = self;
        let learner = Contrastive::new(config, device, &[]);
        let size = config.views.size as usize;
        let values = config.batch_size * 3 * size * size;
        let rng = &mut item_rng(config.seed, 1, 0);
        let mut view = || (0..values).map(|_| uniform(rng, -1.0, 1.0) as f32).collect::<Vec<_>>();
        let views = [view(), view()];
        let mut sgd = Sgd::default();
        let mut step = |model: M, at: u64| -> M {
            let rows = (0..config.batch_size).collect();
            let batch = Batch { rows, views: views.to_vec(), size };
            let pass = learner.forward_backward(&model, batch, at);
            let model = learner.update(&mut sgd, model, pass.grads, (config.optim.lr, at));
            learner.after_step(model, pass.output, 0.0)
        };
        let mut model = step(method, 0);
        let clock = Instant::now();
        for at in 1..=steps as u64 {
            model = step(model, at);
        }
        let seconds = clock.elapsed().as_secs_f64() / steps as f64;
        drop(model);
        Ok(Some(seconds))
    }

    fn image_text(self, _config: &ClipConfig, _rng: &mut Rng) -> Self::Output {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::{Arch, EncoderConfig, Stem};
    use crate::method::{ByolConfig, MethodConfig, MocoV2Config};

    fn tiny(method: MethodConfig) -> PretrainConfig {
        let mut c = PretrainConfig {
            encoder: EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4),
            method,
            ..Default::default()
        };
        c.views.size = 16;
        c
    }

    #[test]
    fn steps_of_each_contrastive_method_are_timed_and_clip_is_not() {
        let device = Device::flex();
        let moco = MocoV2Config { queue_size: 16, bn_splits: 2, ..Default::default() };
        for method in [MethodConfig::MocoV2(moco), MethodConfig::Byol(ByolConfig::default())] {
            let name = method.name();
            let seconds = time_steps(&tiny(method), &device, 4, 2).unwrap();
            assert!(seconds.is_some_and(|s| s > 0.0 && s.is_finite()), "{name}: {seconds:?}");
        }
        let clip = MethodConfig::named("clip").unwrap();
        assert_eq!(time_steps(&tiny(clip), &device, 4, 2).unwrap(), None);
        // A batch the method cannot take is refused as a run would refuse it.
        let moco = MethodConfig::MocoV2(MocoV2Config { queue_size: 16, ..Default::default() });
        let err = time_steps(&tiny(moco), &device, 5, 1).unwrap_err().to_string();
        assert!(err.contains("queue_size"), "{err}");
    }
}
