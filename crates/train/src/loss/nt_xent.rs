use burn::prelude::*;

use super::normalize::{cross_entropy_one_hot, l2_normalize};

/// SimCLR's NT-Xent loss (Chen et al. 2020): the `2N` projections are L2-normalised; each
/// one's positive is the other view of its image and its negatives the other `2N - 2`
/// projections; cosine similarities are divided by `temperature`.
///
/// Shapes: `z1`, `z2` `[N, D]` (view 1 and view 2 of the same N images). Returns the mean
/// over all `2N` anchors as a 1-element tensor.
pub fn nt_xent(z1: Tensor<2>, z2: Tensor<2>, temperature: f64) -> Tensor<1> {
    let [n, _] = z1.dims();
    let device = z1.device();
    let z = l2_normalize(Tensor::cat(vec![z1, z2], 0));
    let sim = z.clone().matmul(z.transpose()) / temperature;
    // Self-similarity is excluded by a large negative on the diagonal, as
    // `masked_fill(eye, -inf)` does, without the NaNs an infinity would cause in backward.
    let eye = Tensor::<2>::eye(2 * n, &device);
    let logits = sim - eye * 1e9;
    // Row i's positive sits at column (i + N) mod 2N.
    let half = Tensor::<2>::eye(n, &device);
    let zeros = Tensor::<2>::zeros([n, n], &device);
    let top = Tensor::cat(vec![zeros.clone(), half.clone()], 1);
    let bottom = Tensor::cat(vec![half, zeros], 1);
    cross_entropy_one_hot(logits, Tensor::cat(vec![top, bottom], 0))
}

/// [`nt_xent`] with i-Mix's virtual labels for a batch whose first views were cut-mixed:
/// view-1 row `i` holds `lam` of image `i` and the rest of image `perm[i]`. Anchor `z1_i`
/// targets `z2_i` with `lam` and `z2_perm[i]` with `1 - lam`; anchor `z2_i` targets the
/// view-1 rows holding image `i`: `z1_i` with `lam` and `z1_j`, `perm[j] = i`, with
/// `1 - lam`. With `lam = 1` this is [`nt_xent`].
pub fn mixed_nt_xent(
    z1: Tensor<2>,
    z2: Tensor<2>,
    temperature: f64,
    (perm, lam): (&[usize], f64),
) -> Tensor<1> {
    let [n, _] = z1.dims();
    let device = z1.device();
    let z = l2_normalize(Tensor::cat(vec![z1, z2], 0));
    let sim = z.clone().matmul(z.transpose()) / temperature;
    let logits = sim - Tensor::<2>::eye(2 * n, &device) * 1e9;
    let mut inverse = vec![0; n];
    for (i, &j) in perm.iter().enumerate().take(n) {
        inverse[j] = i;
    }
    let cols = 2 * n;
    let mut targets = vec![0f32; cols * cols];
    let (own, other) = (lam as f32, (1.0 - lam) as f32);
    for i in 0..n {
        targets[i * cols + n + i] += own;
        targets[i * cols + n + perm[i]] += other;
        targets[(n + i) * cols + i] += own;
        targets[(n + i) * cols + inverse[i]] += other;
    }
    let targets = Tensor::from_data(TensorData::new(targets, [cols, cols]), &device);
    cross_entropy_one_hot(logits, targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_hand_computed_value() {
        let d = Device::flex();
        let z1 = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 1.0]], &d);
        let z2 = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 2.0]], &d);
        // Each anchor: positive cos 1, negatives cos 0 and 0 (the other image's two views).
        let want = (1f64.exp() + 2.0).ln() - 1.0;
        let got = nt_xent(z1, z2, 1.0).into_scalar::<f64>();
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn mixed_targets_reduce_to_nt_xent_and_weigh_the_two_images() {
        let d = Device::flex();
        let z1 = Tensor::<2>::from_floats([[1.0, 0.0], [0.6, 0.8]], &d);
        let z2 = Tensor::<2>::from_floats([[0.8, 0.6], [0.0, 1.0]], &d);
        let plain = nt_xent(z1.clone(), z2.clone(), 0.5).into_scalar::<f64>();
        let unmixed = mixed_nt_xent(z1.clone(), z2.clone(), 0.5, (&[1, 0], 1.0));
        assert!((unmixed.into_scalar::<f64>() - plain).abs() < 1e-5);
        // Rows [z1_0, z1_1, z2_0, z2_1]; each anchor's cross-entropy at a column, by hand.
        let rows = [[1.0, 0.0], [0.6, 0.8], [0.8, 0.6], [0.0, 1.0]];
        let ce = |a: usize, c: usize| {
            let l: Vec<f64> = (0..4)
                .map(|j| {
                    let dot: f64 = (0..2).map(|k| rows[a][k] * rows[j][k]).sum();
                    if j == a { f64::NEG_INFINITY } else { dot / 0.5 }
                })
                .collect();
            l.iter().map(|x| x.exp()).sum::<f64>().ln() - l[c]
        };
        // The rows swap patches (perm = [1, 0]) with lam 0.75.
        let want = (0.75 * ce(0, 2) + 0.25 * ce(0, 3))
            + (0.75 * ce(1, 3) + 0.25 * ce(1, 2))
            + (0.75 * ce(2, 0) + 0.25 * ce(2, 1))
            + (0.75 * ce(3, 1) + 0.25 * ce(3, 0));
        let got = mixed_nt_xent(z1, z2, 0.5, (&[1, 0], 0.75)).into_scalar::<f64>();
        assert!((got - want / 4.0).abs() < 1e-5, "{got} vs {}", want / 4.0);
    }
}
