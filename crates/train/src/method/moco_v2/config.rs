//! MoCo-v2's settings: their defaults, checks and report line, and the method they build.
use burn::module::RunningState;
use burn::prelude::*;
use corruptencoder_core::{Rng, SettingError};
use serde::{Deserialize, Serialize};

use super::MocoV2;
use crate::encoder::EncoderConfig;
use crate::loss::l2_normalize;
use crate::method::head::MlpHead;
use crate::method::update_momentum;

/// MoCo-v2 settings. Defaults: method.md section 6.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MocoV2Config {
    /// Negatives kept in the queue (method.md section 6: 65536). Must be a multiple of the batch
    /// size, as in MoCo's code, so the queue pointer wraps exactly.
    pub queue_size: usize,
    /// Momentum of the key encoder (method.md section 6: 0.999).
    pub momentum: f64,
    /// Softmax temperature (method.md section 6: 0.2).
    pub temperature: f64,
    /// Hidden width of the MLP head; `None` is the encoder's feature dim (method.md section 6:
    /// 512).
    pub hidden_dim: Option<usize>,
    /// Output width of the MLP head (method.md section 6: 128).
    pub projection_dim: usize,
    /// Batch-norm groups per step (split BN, MoCo's single-GPU CIFAR demo uses 8): the
    /// batch is cut into this many equal groups that each get their own batch statistics,
    /// and the key views are shuffled across the groups by a seeded permutation, which
    /// simulates the authors' shuffle-BN over GPUs on one device. 1 turns it off. With
    /// several devices each device takes `bn_splits / devices` groups of its shard, so a run
    /// forms the same groups whatever the device count (`parallel.rs`).
    pub bn_splits: usize,
    /// How the `bn_splits` groups get their statistics: `batch-norm` (the default since
    /// 2026-12-07, docs/study/split-bn.md) runs the whole batch through each layer and
    /// splits only the batch norms, into interleaved groups, with one running-statistics
    /// update per step from the groups' mean, as MoCo's `SplitBatchNorm` does; `passes`
    /// runs the encoder once per group of consecutive views, so every layer sees one group
    /// at a time and each batch norm's running statistics take one update per group (the
    /// only form before that date; 1.28-1.53x slower in our measurement,
    /// docs/performance.md). The two give different trained numbers. Always written, so
    /// a stored configuration names its form; a stored one without the key was written
    /// before the setting existed and reads as `passes` ([`fill_stored_split_bn`]).
    pub split_bn: SplitBn,
}

/// How split BN forms its groups ([`MocoV2Config::split_bn`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SplitBn {
    /// One encoder pass per group of consecutive views.
    Passes,
    /// One encoder pass; each batch norm splits the batch into interleaved groups (MoCo's
    /// `SplitBatchNorm`).
    #[default]
    BatchNorm,
}

/// The form a stored MoCo-v2 table without a `split_bn` key was run with: such a table was
/// written before the setting existed (2026-12-07), when one encoder pass per group was the
/// only form. `method` is a method table (`name = "moco-v2"`, ...) read from a run or
/// experiment folder; tables of other methods and tables that name the form are left as
/// they are. Files a user writes never go through this: a key left out there means the
/// default.
pub(crate) fn fill_stored_split_bn(method: &mut toml::Table) {
    let moco = method.get("name").and_then(toml::Value::as_str) == Some("moco-v2");
    if moco && !method.contains_key("split_bn") {
        method.insert("split_bn".into(), toml::Value::String("passes".into()));
    }
}

impl Default for MocoV2Config {
    fn default() -> Self {
        Self {
            queue_size: 65536,
            momentum: 0.999,
            temperature: 0.2,
            hidden_dim: None,
            projection_dim: 128,
            bn_splits: 8,
            split_bn: SplitBn::BatchNorm,
        }
    }
}

impl MocoV2Config {
    pub(crate) fn validate(&self, batch_size: usize) -> Result<(), SettingError> {
        if self.queue_size == 0 || !self.queue_size.is_multiple_of(batch_size) {
            let problem = format!("must be a positive multiple of the batch size {batch_size}");
            return Err(SettingError::new("queue_size", self.queue_size, problem));
        }
        if self.bn_splits == 0 || !batch_size.is_multiple_of(self.bn_splits) {
            let problem = format!("must divide the batch size {batch_size} (1: no split BN)");
            return Err(SettingError::new("bn_splits", self.bn_splits, problem));
        }
        if !(0.0..=1.0).contains(&self.momentum) {
            return Err(SettingError::new("momentum", self.momentum, "must lie in [0, 1]"));
        }
        if self.temperature <= 0.0 {
            return Err(SettingError::new("temperature", self.temperature, "must be positive"));
        }
        Ok(())
    }

    /// The report's line: `MoCo-v2 (queue 1024, momentum 0.99, ...)`.
    pub(crate) fn describe(&self) -> String {
        format!(
            "MoCo-v2 (queue {}, momentum {}, temperature {}, split BN in {} groups{})",
            self.queue_size,
            self.momentum,
            self.temperature,
            self.bn_splits,
            match self.split_bn {
                SplitBn::Passes => ", one encoder pass each",
                SplitBn::BatchNorm => " inside the batch norms",
            }
        )
    }

    /// Why a queue of `queue_size` keys is too long for `images` images, if it is. A queue
    /// longer than the data holds several stale keys of each image, among them each
    /// query's own image as a negative; MoCo's CIFAR-10 demo saturates at 4,096 keys for
    /// 50,000 images (about 8 %), so the paper's 65,536 (for ImageNet-100) suits no CPU-scale set.
    pub(crate) fn queue_advice(&self, images: usize) -> Option<String> {
        let queue = self.queue_size;
        (queue > images).then(|| {
            format!(
                "MoCo queue of {queue} keys for {images} images holds each image's key about \
                 {} times, its own image among a query's negatives: set method.queue_size to a \
                 few percent of the images (MoCo's CIFAR-10 demo: 4,096 for 50,000)",
                queue.div_ceil(images)
            )
        })
    }

    /// Builds the method: query encoder and head, key copies, and a queue of random unit keys.
    pub fn init(&self, encoder: &EncoderConfig, device: &Device, rng: &mut Rng) -> MocoV2 {
        let dim = encoder.feature_dim();
        let hidden = self.hidden_dim.unwrap_or(dim);
        let online = encoder.init(device, rng);
        let head = MlpHead::new(dim, hidden, self.projection_dim, false, device, rng);
        // The key network starts as an exact copy (MoCo: `param_k.data.copy_(param_q.data)`).
        let key_encoder = update_momentum(encoder.init(device, rng).no_grad(), &online, 0.0);
        let key_head = update_momentum(
            MlpHead::new(dim, hidden, self.projection_dim, false, device, rng).no_grad(),
            &head,
            0.0,
        );
        let draws = (0..self.queue_size * self.projection_dim)
            .map(|_| crate::init::normal(rng) as f32)
            .collect::<Vec<_>>();
        let queue = Tensor::<2>::from_data(
            TensorData::new(draws, [self.queue_size, self.projection_dim]),
            device,
        );
        MocoV2 {
            encoder: online,
            head,
            key_encoder,
            key_head,
            queue: RunningState::new(l2_normalize(queue)),
            queue_ptr: RunningState::new(Tensor::zeros([1], device)),
            momentum: self.momentum,
            temperature: self.temperature,
            bn_splits: self.bn_splits,
            split_bn: self.split_bn,
        }
    }
}
