//! The rows of a step's batch across devices: equal shards in order ([`Shards`]),
//! shuffle-BN's seeded permutation of the key batch and its undoing, and the order that
//! gives each device whole split-BN groups when the groups interleave
//! (`split_bn = "batch-norm"`). `parallel.rs` composes them.
use burn::prelude::*;
use corruptencoder_core::{item_rng, uniform_int};

/// The stream of shuffle-BN's permutations (one per step); clear of the data streams
/// (`2 * epoch`, `2 * epoch + 1`) and of the initial weights (`u64::MAX`).
const SHUFFLE_STREAM: u64 = u64::MAX - 1;

/// Equal shards of a batch in image order.
pub(crate) struct Shards {
    /// `[B, C, H, W]` of the whole batch.
    shape: [usize; 4],
    /// Images per shard.
    pub(crate) rows: usize,
}

impl Shards {
    pub(crate) fn new(shape: [usize; 4], devices: usize) -> Self {
        Self { shape, rows: shape[0] / devices }
    }

    fn row_len(&self) -> usize {
        self.shape[1] * self.shape[2] * self.shape[3]
    }

    /// Shard `i` of the flattened batch `values`, as a tensor on `device`.
    pub(crate) fn tensor(&self, values: &[f32], i: usize, device: &Device) -> Tensor<4> {
        let len = self.rows * self.row_len();
        let [_, c, h, w] = self.shape;
        let data = TensorData::new(values[i * len..(i + 1) * len].to_vec(), [self.rows, c, h, w]);
        Tensor::from_data(data, device)
    }

    /// The batch with row `j` taken from row `perm[j]`.
    pub(crate) fn permute_rows(&self, values: &[f32], perm: &[usize]) -> Vec<f32> {
        let row = self.row_len();
        perm.iter().flat_map(|&r| values[r * row..(r + 1) * row].iter().copied()).collect()
    }
}

/// The seeded permutation of `n` rows of shuffle-BN at `step` (Fisher-Yates).
pub(crate) fn permutation(n: usize, seed: u64, step: u64) -> Vec<usize> {
    let rng = &mut item_rng(seed, SHUFFLE_STREAM, step);
    let mut perm: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        perm.swap(i, uniform_int(rng, 0, i as i64) as usize);
    }
    perm
}

/// The rows of a batch of `batch` in split BN's interleaved group order for `devices`
/// devices: group by group (group g holds the rows `b` with `b % groups == g`), each group's
/// rows in order. Device d's consecutive shard then holds groups `d * groups / devices ..`,
/// and its local row `l` lies in its local group `l % (groups / devices)`: on every device
/// the batch norms' interleaving forms the groups one device forms.
pub(crate) fn interleaved_shard_order(batch: usize, groups: usize, devices: usize) -> Vec<usize> {
    let per_device = (groups / devices).max(1);
    let mut order: Vec<usize> = (0..batch).collect();
    // Stable: rows keep their order within a device's groups.
    order.sort_by_key(|&b| (b % groups) / per_device);
    order
}

/// Rows `rows` of a `[B, D]` tensor, in that order.
pub(crate) fn select_rows(t: Tensor<2>, rows: &[usize]) -> Tensor<2> {
    let index = rows.iter().map(|&r| r as i64).collect::<Vec<_>>();
    let index = Tensor::<1, Int>::from_data(TensorData::new(index, [rows.len()]), &t.device());
    t.select(0, index)
}

/// Undoes [`Shards::permute_rows`] on a `[B, D]` tensor: row `perm[j]` of the result is row
/// `j` of `shuffled` (MoCo's `_batch_unshuffle_ddp`).
pub(crate) fn unpermute_rows(shuffled: Tensor<2>, perm: &[usize]) -> Tensor<2> {
    let mut inverse = vec![0; perm.len()];
    for (j, &r) in perm.iter().enumerate() {
        inverse[r] = j;
    }
    select_rows(shuffled, &inverse)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn interleaved_groups_shard_whole_onto_devices() {
        // 16 rows in 4 interleaved groups over 2 devices: device 0 holds groups 0 and 1.
        let order = interleaved_shard_order(16, 4, 2);
        assert_eq!(order, [0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15]);
        for (d, shard) in order.chunks(8).enumerate() {
            for (l, &b) in shard.iter().enumerate() {
                assert_eq!(b % 4, d * 2 + l % 2, "device {d}, local row {l}");
            }
        }
        // One device: the rows as they are.
        assert_eq!(interleaved_shard_order(8, 4, 1), (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn shuffle_bn_permutation_is_seeded_and_undone() {
        assert_eq!(permutation(16, 3, 5), permutation(16, 3, 5));
        assert_ne!(permutation(16, 3, 5), permutation(16, 3, 6), "a new permutation per step");
        let perm = permutation(6, 1, 0);
        let mut sorted = perm.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..6).collect::<Vec<_>>());
        // Rows labelled by their index: shuffle, then unshuffle, gives them back in order.
        let shards = Shards::new([6, 1, 1, 2], 2);
        let labels: Vec<f32> = (0..12).map(|i| (i / 2) as f32).collect();
        let shuffled = shards.permute_rows(&labels, &perm);
        let first: Vec<f32> = shuffled.iter().step_by(2).copied().collect();
        assert_eq!(first, perm.iter().map(|&r| r as f32).collect::<Vec<_>>());
        let device = Device::flex();
        let t = Tensor::<2>::from_data(TensorData::new(shuffled, [6, 2]), &device);
        assert_eq!(values(unpermute_rows(t, &perm)), labels);
    }
}
