//! MoCo-v2: the method (query and key networks, the queue) and its split BN.
use burn::module::RunningState;
use burn::prelude::*;

use super::{Method, MethodOutput, update_momentum};
use crate::encoder::Encoder;
use crate::loss::{info_nce, l2_normalize, mixed_info_nce};
use crate::method::head::MlpHead;
use crate::run::parallel::DataParallel;

mod config;

pub(crate) use config::fill_stored_split_bn;
pub use config::{MocoV2Config, SplitBn};

/// MoCo-v2 (Chen et al. 2020): InfoNCE between a query and its momentum-encoded key, with a
/// queue of past keys as negatives. Batch statistics would leak between a query and its
/// key (the key batch's statistics are shared by every positive key and by none of the
/// queue's negatives, MoCo section 3.3); the authors' shuffle-BN stops it across GPUs. The
/// training step (`parallel.rs`) simulates it on one device with split BN
/// ([`MocoV2Config::bn_splits`] groups, key views shuffled across them) and runs it across
/// devices as the authors' DDP run does. [`Method::forward`] alone is the unsplit forward.
#[derive(Module, Debug)]
pub struct MocoV2 {
    encoder: Encoder,
    head: MlpHead,
    key_encoder: Encoder,
    key_head: MlpHead,
    /// `[K, D]` unit-norm keys; a buffer so checkpoints carry it.
    queue: RunningState<Tensor<2>>,
    /// Next row to overwrite, as a 1-element float (exact below 2^24).
    queue_ptr: RunningState<Tensor<1>>,
    #[module(skip)]
    momentum: f64,
    #[module(skip)]
    temperature: f64,
    #[module(skip)]
    bn_splits: usize,
    #[module(skip)]
    split_bn: SplitBn,
}

impl MocoV2 {
    /// The negatives queue `[K, D]`.
    pub fn queue(&self) -> Tensor<2> {
        self.queue.value_sync()
    }

    /// The key encoder (momentum copy of the query encoder).
    pub fn key_encoder(&self) -> &Encoder {
        &self.key_encoder
    }

    /// Unit keys `[B, D]` of `views2` `[B, 3, H, W]`, without gradient. Apart from
    /// [`Method::forward`] so that data-parallel training can shuffle the batch across
    /// devices first (shuffle-BN, `parallel.rs`).
    /// `groups` equal groups of the batch get batch statistics of their own (split BN).
    pub(crate) fn keys(&self, views2: Tensor<4>, groups: usize) -> Tensor<2> {
        let features = grouped(&self.key_encoder, views2, groups, self.split_bn);
        l2_normalize(self.key_head.forward(features)).detach()
    }

    /// The InfoNCE loss of the queries of `views1` against `keys` (row `i` of both from
    /// image `i`) and the queue; the queries' batch norm in `groups` groups.
    pub(crate) fn forward_with_keys(
        &self,
        views1: Tensor<4>,
        keys: Tensor<2>,
        groups: usize,
    ) -> MethodOutput {
        let q =
            l2_normalize(self.head.forward(grouped(&self.encoder, views1, groups, self.split_bn)));
        let loss = info_nce(q, keys.clone(), self.queue(), self.temperature);
        MethodOutput { loss, keys: Some(keys) }
    }
}

/// `encoder` over `x` `[B, 3, H, W]` with its batch norms in `groups` groups; `[B, D]`.
/// `Passes`: the batch in equal consecutive groups, each its own batch through the whole
/// encoder (MoCo's `SplitBatchNorm` effect on every batch norm). Departure: burn's batch
/// norm updates its running statistics once per call, so they take `groups` updates per step
/// (one per group) where `SplitBatchNorm` averages the groups' statistics into one.
/// `BatchNorm`: one pass with split batch norms, `SplitBatchNorm` itself.
fn grouped(encoder: &Encoder, x: Tensor<4>, groups: usize, split: SplitBn) -> Tensor<2> {
    if groups <= 1 {
        return encoder.forward(x);
    }
    match split {
        SplitBn::Passes => {
            Tensor::cat(x.chunk(groups, 0).into_iter().map(|g| encoder.forward(g)).collect(), 0)
        }
        SplitBn::BatchNorm => encoder.forward_split(x, groups),
    }
}

/// Shuffle-BN: the keys are computed apart, over the batch shuffled across the devices and
/// split-BN groups (`run/parallel.rs`).
impl DataParallel for MocoV2 {
    const SHUFFLE_BN: bool = true;

    fn bn_splits(&self) -> usize {
        self.bn_splits
    }

    fn interleaved_groups(&self) -> bool {
        self.split_bn == SplitBn::BatchNorm
    }

    fn shuffled_keys(&self, views2: Tensor<4>, groups: usize) -> Option<Tensor<2>> {
        Some(self.keys(views2, groups))
    }

    fn forward_shard(
        &self,
        views1: Tensor<4>,
        views2: Tensor<4>,
        keys: Option<Tensor<2>>,
        groups: usize,
    ) -> MethodOutput {
        match keys {
            Some(keys) => self.forward_with_keys(views1, keys, groups),
            None => self.forward(views1, views2),
        }
    }

    /// The queries of the mixed views against every key of the batch and the queue, with
    /// i-Mix's virtual labels; the keys, from the unmixed `views2`, are enqueued as usual.
    fn forward_mixed(
        &self,
        views1: Tensor<4>,
        views2: Tensor<4>,
        keys: Option<Tensor<2>>,
        groups: usize,
        targets: (&[usize], f64),
    ) -> MethodOutput {
        let keys = keys.unwrap_or_else(|| self.keys(views2, 1));
        let q =
            l2_normalize(self.head.forward(grouped(&self.encoder, views1, groups, self.split_bn)));
        let loss = mixed_info_nce(q, keys.clone(), self.queue(), self.temperature, targets);
        MethodOutput { loss, keys: Some(keys) }
    }
}

impl Method for MocoV2 {
    fn forward(&self, views1: Tensor<4>, views2: Tensor<4>) -> MethodOutput {
        self.forward_with_keys(views1, self.keys(views2, 1), 1)
    }

    fn after_step(mut self, output: MethodOutput, _progress: f64) -> Self {
        self.key_encoder = update_momentum(self.key_encoder, &self.encoder, self.momentum);
        self.key_head = update_momentum(self.key_head, &self.head, self.momentum);
        if let Some(keys) = output.keys {
            let [b, d] = keys.dims();
            let queue = self.queue();
            let k = queue.dims()[0];
            let ptr = self.queue_ptr.value_sync().into_scalar::<f32>() as usize;
            self.queue.update(queue.slice_assign([ptr..ptr + b, 0..d], keys.detach()));
            self.queue.value_sync();
            let next = ((ptr + b) % k) as f32;
            self.queue_ptr
                .update(Tensor::from_floats([next], &self.queue_ptr.value_sync().device()));
            self.queue_ptr.value_sync();
        }
        self
    }

    fn encoder(&self) -> &Encoder {
        &self.encoder
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::{Arch, EncoderConfig, Stem};
    use crate::io::tensors::module_floats as floats;

    fn tiny(queue_size: usize) -> MocoV2 {
        seeded(queue_size, 1)
    }

    fn seeded(queue_size: usize, seed: u64) -> MocoV2 {
        let device = Device::flex().autodiff();
        let rng = &mut corruptencoder_core::item_rng(seed, 0, 0);
        let enc = EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 2);
        MocoV2Config {
            queue_size,
            momentum: 0.9,
            hidden_dim: Some(8),
            projection_dim: 4,
            ..Default::default()
        }
        .init(&enc, &device, rng)
    }

    #[test]
    fn key_encoder_is_a_momentum_average_of_the_query_encoder() {
        let moco = tiny(8);
        assert_eq!(floats(&moco.key_encoder), floats(&moco.encoder), "keys start as a copy");
        // Move the query encoder away, then check k' = 0.9 k + 0.1 q element-wise.
        let mut moco = moco;
        moco.encoder = update_momentum(moco.encoder, &seeded(8, 2).encoder, 0.0);
        let (k, q) = (floats(&moco.key_encoder), floats(&moco.encoder));
        assert_ne!(k, q);
        let device = moco.queue().device();
        let keys = Tensor::<2>::zeros([2, 4], &device);
        let moco = moco
            .after_step(MethodOutput { loss: Tensor::zeros([1], &device), keys: Some(keys) }, 0.0);
        for ((new, k), q) in floats(&moco.key_encoder).iter().zip(&k).zip(&q) {
            assert!((new - (0.9 * k + 0.1 * q)).abs() < 1e-6, "{new} {k} {q}");
        }
    }

    /// Split BN in passes: a key depends on the images of its own group only.
    #[test]
    fn split_bn_keys_see_only_their_group() {
        let mut moco = tiny(8);
        moco.split_bn = SplitBn::Passes;
        let device = moco.queue().device();
        let v: Vec<f32> =
            (0..4 * 3 * 8 * 8).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0).collect();
        let x = Tensor::<4>::from_data(TensorData::new(v, [4, 3, 8, 8]), &device);
        let rows = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
        let split = rows(moco.keys(x.clone(), 2));
        let first = rows(moco.keys(x.clone().slice(0..2), 1));
        let second = rows(moco.keys(x.clone().slice(2..4), 1));
        let alone: Vec<f32> = first.into_iter().chain(second).collect();
        for (a, b) in split.iter().zip(&alone) {
            assert!((a - b).abs() < 1e-5, "{split:?} vs {alone:?}");
        }
        let whole = rows(moco.keys(x, 1));
        assert!(whole.iter().zip(&split).any(|(a, b)| (a - b).abs() > 1e-4), "groups matter");
    }

    /// Split BN inside the batch norms: a key depends on its interleaved group only (rows
    /// 0 and 2, rows 1 and 3), as with one pass per group of those rows.
    #[test]
    fn split_bn_inside_the_batch_norms_groups_interleaved_views() {
        let mut moco = tiny(8);
        moco.split_bn = SplitBn::BatchNorm;
        let device = moco.queue().device();
        let v: Vec<f32> =
            (0..4 * 3 * 8 * 8).map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0).collect();
        let x = Tensor::<4>::from_data(TensorData::new(v, [4, 3, 8, 8]), &device);
        let rows = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
        let pick = |r: [i64; 2]| x.clone().select(0, Tensor::<1, Int>::from_data(r, &device));
        let split = rows(moco.keys(x.clone(), 2));
        let (even, odd) = (rows(moco.keys(pick([0, 2]), 1)), rows(moco.keys(pick([1, 3]), 1)));
        let d = split.len() / 4;
        for (row, alone) in [(0, &even[..d]), (2, &even[d..]), (1, &odd[..d]), (3, &odd[d..])] {
            for (a, b) in split[row * d..(row + 1) * d].iter().zip(alone) {
                assert!((a - b).abs() < 1e-5, "row {row}: {a} vs {b}");
            }
        }
        moco.split_bn = SplitBn::Passes;
        let passes = rows(moco.keys(x, 2));
        assert!(passes.iter().zip(&split).any(|(a, b)| (a - b).abs() > 1e-4), "groups differ");
    }

    #[test]
    fn split_bn_defaults_to_batch_norm_and_stored_tables_without_it_read_as_passes() {
        // A file a user writes: the key left out is the default.
        let read: MocoV2Config = toml::from_str("bn_splits = 8").unwrap();
        assert_eq!((read.split_bn, read), (SplitBn::BatchNorm, MocoV2Config::default()));
        assert!(read.describe().ends_with("split BN in 8 groups inside the batch norms)"));
        // Written configs name the form, whichever it is.
        for split_bn in [SplitBn::Passes, SplitBn::BatchNorm] {
            let config = MocoV2Config { split_bn, ..Default::default() };
            let text = toml::to_string(&config).unwrap();
            assert!(text.contains("split_bn = "), "{text}");
            assert_eq!(toml::from_str::<MocoV2Config>(&text).unwrap(), config);
        }
        // A stored MoCo-v2 table from before the setting reads as it was run; one that
        // names its form, and other methods' tables, stay as they are.
        let stored = |text: &str| {
            let mut table: toml::Table = toml::from_str(text).unwrap();
            fill_stored_split_bn(&mut table);
            table.get("split_bn").and_then(toml::Value::as_str).map(str::to_owned)
        };
        assert_eq!(stored("name = \"moco-v2\"\nbn_splits = 8").as_deref(), Some("passes"));
        let named = "name = \"moco-v2\"\nsplit_bn = \"batch-norm\"";
        assert_eq!(stored(named).as_deref(), Some("batch-norm"));
        assert_eq!(stored("name = \"byol\""), None);
    }

    #[test]
    fn queue_enqueues_keys_in_order_and_wraps() {
        let mut moco = tiny(6);
        let device = moco.queue().device();
        let before = moco.queue().into_data().try_to_vec::<f32>().unwrap();
        let batch = |v: f32| Tensor::<2>::full([2, 4], v, &device);
        moco = moco.after_step(
            MethodOutput { loss: Tensor::zeros([1], &device), keys: Some(batch(1.0)) },
            0.0,
        );
        let q = moco.queue().into_data().try_to_vec::<f32>().unwrap();
        assert!(q[..8].iter().all(|v| *v == 1.0));
        assert_eq!(q[8..], before[8..], "rows past the batch are untouched");
        for v in [2.0, 3.0, 4.0] {
            moco = moco.after_step(
                MethodOutput { loss: Tensor::zeros([1], &device), keys: Some(batch(v)) },
                0.0,
            );
        }
        // Six rows, batches of two: the fourth batch overwrote the first.
        let q = moco.queue().into_data().try_to_vec::<f32>().unwrap();
        let rows: Vec<f32> = q.chunks(4).map(|r| r[0]).collect();
        assert_eq!(rows, vec![4.0, 4.0, 2.0, 2.0, 3.0, 3.0]);
        assert_eq!(moco.queue_ptr.value_sync().into_scalar::<f32>(), 2.0);
    }

    #[test]
    fn a_queue_longer_than_the_data_is_advised_against() {
        let config = |queue_size| MocoV2Config { queue_size, ..Default::default() };
        assert_eq!(config(200).queue_advice(2000), None);
        assert_eq!(config(2000).queue_advice(2000), None);
        let advice = config(65536).queue_advice(2000).unwrap();
        assert!(advice.contains("about 33 times"), "{advice}");
    }
}
