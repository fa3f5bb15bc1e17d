//! Data-parallel pre-training: one process, N devices, one model replica per device,
//! gradients averaged across replicas before each optimizer step (PyTorch DDP's scheme, which
//! the authors' MoCo-v2 run uses on 4 GPUs).
//!
//! The global batch and the learning rate are the single-device run's: the batch is cut into
//! N equal shards in order, so a run on `cuda:0,cuda:1` sees the same images per step as on
//! `cuda:0`. Each replica's loss is its shard's mean and the gradients are averaged, so the
//! update is the single-device one up to batch statistics (batch norm sees a shard, as in
//! DDP) and, for SimCLR, negatives (a shard's views only, as in DDP without a gather).
//!
//! MoCo's keys get shuffle-BN (MoCo's `_batch_shuffle_ddp`): the key views are permuted over
//! the whole batch by a seeded permutation, each device encodes its shard of the permuted
//! batch, and the keys are gathered and put back in image order. A query and its key thus
//! see batch statistics of different images. All keys of the batch are enqueued, as MoCo's
//! `concat_all_gather` does. Split BN (`MocoV2Config::bn_splits` = G groups per step) is
//! the same scheme inside a device: on one device the permuted key batch and the query batch
//! are cut into G groups; on N devices each shard into G / N. With `split_bn = "passes"` the
//! groups are consecutive rows, and the shards too; with `"batch-norm"` group g holds the
//! rows `b` with `b % G == g` (`SplitBatchNorm`'s interleaving), so the rows are first put
//! in group order ([`interleaved_shard_order`]) and device d's shard holds groups
//! `d G / N ..`, in which its batch norms find the same interleaving. Either way both form
//! the same groups of the same images, so a run does not depend on the device count.
//!
//! The all-reduce moves every replica's gradients to the first device with burn's
//! `Tensor::to_device` and sums them in device order (deterministic whatever thread finishes
//! first). burn 0.22's own collective (`burn::tensor::distributed`, NCCL) is implemented only
//! on CUDA; flex has none and cubecl-wgpu reports no device transport, so this portable
//! reduce is what runs, and is tested, on every backend. The first device holds the model
//! that is stepped, checkpointed and exported; replicas are fresh copies of it every step.
use std::time::Instant;

use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use corruptencoder_core::SettingError;

use crate::error::Result;
use crate::method::{Method, MethodOutput};
use crate::run::icutmix::Mix;
use crate::run::learner::Pass;
use crate::run::shards::{
    Shards, interleaved_shard_order, permutation, select_rows, unpermute_rows,
};

/// Checks that `batch` splits into equal shards over `devices`, and that split BN's
/// `bn_splits` groups (1: off) split evenly over them.
pub(crate) fn check_shards(batch: usize, devices: usize, bn_splits: usize) -> Result<()> {
    if !batch.is_multiple_of(devices) {
        let problem = format!("must be a multiple of the {devices} devices (equal shards)");
        return Err(SettingError::new("batch_size", batch, problem).into());
    }
    if bn_splits > 1 && !bn_splits.is_multiple_of(devices) {
        let problem = format!(
            "must be a multiple of the {devices} devices, so that every device forms the same \
             number of batch-norm groups"
        );
        return Err(SettingError::new("method.bn_splits", bn_splits, problem).into());
    }
    Ok(())
}

/// What a method needs beyond [`Method`] to train data-parallel.
pub(crate) trait DataParallel: Method {
    /// Whether keys are computed apart, over the batch shuffled across devices (shuffle-BN).
    const SHUFFLE_BN: bool = false;

    /// Batch-norm groups per step (split BN); 1: one per device.
    fn bn_splits(&self) -> usize {
        1
    }

    /// Whether the split-BN groups interleave (row `b` in group `b % bn_splits`) rather
    /// than follow each other.
    fn interleaved_groups(&self) -> bool {
        false
    }

    /// Keys `[B, D]` of `views2` `[B, 3, H, W]` without gradient, batch norm in `groups`
    /// groups; `Some` when `SHUFFLE_BN`.
    fn shuffled_keys(&self, views2: Tensor<4>, groups: usize) -> Option<Tensor<2>> {
        let _ = (views2, groups);
        None
    }

    /// The loss of one shard; `keys`, when given, are the shard's keys computed apart, and
    /// the queries' batch norm runs in `groups` groups.
    fn forward_shard(
        &self,
        views1: Tensor<4>,
        views2: Tensor<4>,
        keys: Option<Tensor<2>>,
        groups: usize,
    ) -> MethodOutput {
        let _ = (keys, groups);
        self.forward(views1, views2)
    }

    /// [`DataParallel::forward_shard`] with i-CutMix's query views (`views1`, already
    /// mixed) and virtual labels: query `i` holds `lam` of its own image and the rest of
    /// image `perm[i]`'s (`run/icutmix.rs`). Only methods whose configuration takes i-CutMix
    /// are called with a mix (`PretrainConfig::validate` checks).
    fn forward_mixed(
        &self,
        views1: Tensor<4>,
        views2: Tensor<4>,
        keys: Option<Tensor<2>>,
        groups: usize,
        targets: (&[usize], f64),
    ) -> MethodOutput {
        let _ = (views1, views2, keys, groups, targets);
        unreachable!("the configuration check keeps i-CutMix to the image-only methods")
    }
}

/// One step's views on the host: `views1`, `views2` flattened, and their shape `[B, 3, H, W]`.
pub(crate) type HostViews = (Vec<f32>, Vec<f32>, [usize; 4]);

/// Forward and backward of one step over `device` and `replicas`: the batch's mean loss,
/// the gradients of `method`'s parameters (averaged over devices, on `device`), the
/// output to hand to [`Method::after_step`] and, on one device, each pass's seconds.
/// `(seed, step)` seeds shuffle-BN. Without replicas this is exactly the single-device step.
pub(crate) fn forward_backward<M: DataParallel>(
    method: &M,
    (views1, views2, shape): HostViews,
    device: &Device,
    replicas: &[Device],
    (seed, step): (u64, u64),
    mix: Option<&Mix>,
) -> Pass<MethodOutput> {
    if replicas.is_empty() {
        let clock = Instant::now();
        let tensor = |v| Tensor::<4>::from_data(TensorData::new(v, shape), device);
        let groups = method.bn_splits();
        // Split BN with the keys shuffled across groups: shuffle-BN on one device, the very
        // groups `groups` devices would form below.
        let keys = (M::SHUFFLE_BN && groups > 1).then(|| {
            let perm = permutation(shape[0], seed, step);
            let shuffled = Shards::new(shape, 1).permute_rows(&views2, &perm);
            let keys = method.shuffled_keys(tensor(shuffled), groups).expect("MoCo has keys");
            unpermute_rows(keys, &perm)
        });
        let output = match (mix, keys) {
            (Some(mix), keys) => {
                let mixed = tensor(mix.apply(&views1, shape));
                let targets = (mix.perm.as_slice(), mix.lam);
                method.forward_mixed(mixed, tensor(views2), keys, groups, targets)
            }
            (None, Some(keys)) => {
                method.forward_shard(tensor(views1), tensor(views2), Some(keys), groups)
            }
            (None, None) => method.forward(tensor(views1), tensor(views2)),
        };
        // Reading the loss waits for the forward pass on any backend.
        let loss = output.loss.clone().into_scalar::<f32>();
        let forward = clock.elapsed().as_secs_f64();
        let grads = GradientsParams::from_grads(output.loss.backward(), method);
        let backward = clock.elapsed().as_secs_f64() - forward;
        return Pass { loss, grads, output, forward: Some(forward), backward: Some(backward) };
    }
    let devices: Vec<Device> = std::iter::once(device.clone())
        .chain(replicas.iter().map(|d| d.clone().autodiff()))
        .collect();
    let n = devices.len();
    let shards = Shards::new(shape, n);
    // Each device forms its share of the step's batch-norm groups (at least its shard).
    let groups = (method.bn_splits() / n).max(1);
    // `valid().train()` first gives each copy running state of its own (batch-norm
    // statistics, MoCo's queue): `fork` moves running state in place, shared by all clones.
    let copies: Vec<M> = devices[1..].iter().map(|d| method.valid().train().fork(d)).collect();

    // The rows in the order whose consecutive shards hold whole groups.
    let order = (method.interleaved_groups() && method.bn_splits() > 1)
        .then(|| interleaved_shard_order(shape[0], method.bn_splits(), n));

    let (copies, keys) = if M::SHUFFLE_BN {
        let perm = permutation(shape[0], seed, step);
        // The key batch is shuffled (shuffle-BN), then put in group order, as one device
        // groups the shuffled batch.
        let perm = match &order {
            Some(order) => order.iter().map(|&j| perm[j]).collect(),
            None => perm,
        };
        let shuffled = shards.permute_rows(&views2, &perm);
        let inputs = devices.iter().enumerate().map(|(i, d)| shards.tensor(&shuffled, i, d));
        let (copies, parts) = fan_out(method, copies, inputs.collect(), |m, v| {
            m.shuffled_keys(v, groups).expect("shuffle-BN methods compute keys")
        });
        let gathered = Tensor::cat(parts.into_iter().map(|k| k.to_device(device)).collect(), 0);
        (copies, Some(unpermute_rows(gathered, &perm)))
    } else {
        (copies, None)
    };

    // The query rows, and their keys, in the order of the groups.
    let (views1, views2, row_keys) = match &order {
        Some(order) => (
            shards.permute_rows(&views1, order),
            shards.permute_rows(&views2, order),
            keys.clone().map(|k| select_rows(k, order)),
        ),
        None => (views1, views2, keys.clone()),
    };
    let inputs = devices.iter().enumerate().map(|(i, d)| {
        let rows = i * shards.rows..(i + 1) * shards.rows;
        let shard_keys = row_keys.as_ref().map(|k| k.clone().slice(rows).to_device(d));
        (shards.tensor(&views1, i, d), shards.tensor(&views2, i, d), shard_keys)
    });
    let (_, results) = fan_out(method, copies, inputs.collect(), |m, (v1, v2, k)| {
        let output = m.forward_shard(v1, v2, k, groups);
        let loss = output.loss.clone().into_scalar::<f32>();
        (loss, GradientsParams::from_grads(output.loss.backward(), m))
    });
    let (losses, grads): (Vec<f32>, Vec<GradientsParams>) = results.into_iter().unzip();
    let loss = losses.iter().sum::<f32>() / n as f32;
    let output = MethodOutput { loss: Tensor::from_floats([loss], device), keys };
    let grads = all_reduce_mean(method, grads);
    Pass { loss, grads, output, forward: None, backward: None }
}

/// Runs `work` on every device at once: `primary` with `inputs[0]` on this thread (its
/// running state is keyed by thread, so it must stay on the thread that steps it), each copy
/// on a thread of its own. Returns the copies and the results in device order.
fn fan_out<M: Module, I: Send, T: Send>(
    primary: &M,
    copies: Vec<M>,
    inputs: Vec<I>,
    work: impl Fn(&M, I) -> T + Sync,
) -> (Vec<M>, Vec<T>) {
    let mut inputs = inputs.into_iter();
    let first = inputs.next().expect("one input per device");
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = copies
            .into_iter()
            .zip(inputs)
            .map(|(m, input)| {
                scope.spawn(move || {
                    let out = work(&m, input);
                    (m, out)
                })
            })
            .collect();
        let mut results = vec![work(primary, first)];
        let mut copies = Vec::with_capacity(handles.len());
        for handle in handles {
            let (m, out) = handle.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            copies.push(m);
            results.push(out);
        }
        (copies, results)
    })
}

/// The all-reduce: every parameter's gradient averaged over `grads` (one per device), on
/// the device of the first, summed in device order. A replica without a gradient for a
/// parameter counts as zero, as in DDP.
pub(crate) fn all_reduce_mean<M: Module>(
    module: &M,
    grads: Vec<GradientsParams>,
) -> GradientsParams {
    let mut reduce = AllReduce { devices: grads.len(), grads, out: GradientsParams::new() };
    module.visit(&mut reduce);
    reduce.out
}

struct AllReduce {
    devices: usize,
    grads: Vec<GradientsParams>,
    out: GradientsParams,
}

impl ModuleVisitor for AllReduce {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let mut parts = self.grads.iter_mut().filter_map(|g| g.remove::<D>(param.id));
        let Some(first) = parts.next() else { return };
        let device = first.device();
        let sum = parts.fold(first, |acc, g| acc + g.to_device(&device));
        self.out.register(param.id, sum / self.devices as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};

    fn linear(device: &Device) -> Linear {
        let mut layer = LinearConfig::new(3, 2).init(device);
        let w = TensorData::new(vec![0.5f32, -1.0, 0.25, 2.0, 1.5, -0.75], [3, 2]);
        layer.weight = Param::from_tensor(Tensor::from_data(w, device).require_grad());
        layer
    }

    /// Per-example loss: mean over rows of the squared outputs.
    fn loss(layer: &Linear, x: Tensor<2>) -> Tensor<1> {
        layer.forward(x).powi_scalar(2).sum_dim(1).mean()
    }

    fn rows(device: &Device, range: std::ops::Range<usize>) -> Tensor<2> {
        let v: Vec<f32> = range.flat_map(|i| [i as f32 * 0.3, 1.0 - i as f32, 0.1]).collect();
        let n = v.len() / 3;
        Tensor::from_data(TensorData::new(v, [n, 3]), device)
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    /// Averaging the shard gradients of a per-example mean loss over equal shards gives the
    /// whole batch's gradient: the all-reduce is the single-device update.
    #[test]
    fn all_reduce_of_two_replicas_is_the_whole_batch_gradient() {
        let device = Device::flex().autodiff();
        let primary = linear(&device);
        let whole =
            GradientsParams::from_grads(loss(&primary, rows(&device, 0..8)).backward(), &primary);
        let replica = primary.valid().train().fork(&device);
        let g0 =
            GradientsParams::from_grads(loss(&primary, rows(&device, 0..4)).backward(), &primary);
        let g1 =
            GradientsParams::from_grads(loss(&replica, rows(&device, 4..8)).backward(), &replica);
        let (mut reduced, mut whole) = (all_reduce_mean(&primary, vec![g0, g1]), whole);
        let (w, b) = (primary.weight.id, primary.bias.as_ref().unwrap().id);
        let pairs = [
            (values(reduced.remove::<2>(w).unwrap()), values(whole.remove::<2>(w).unwrap())),
            (values(reduced.remove::<1>(b).unwrap()), values(whole.remove::<1>(b).unwrap())),
        ];
        for (got, want) in pairs {
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn split_bn_groups_must_spread_evenly_over_the_devices() {
        assert!(check_shards(8, 2, 4).is_ok() && check_shards(8, 2, 1).is_ok());
        let err = check_shards(12, 4, 2).unwrap_err().to_string();
        assert!(err.contains("bn_splits = 2") && err.contains("4 devices"), "{err}");
        assert!(check_shards(9, 2, 1).unwrap_err().to_string().contains("equal shards"));
    }
}
