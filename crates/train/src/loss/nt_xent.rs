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
}
