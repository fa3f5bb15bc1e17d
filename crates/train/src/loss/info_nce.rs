use burn::prelude::*;

use super::normalize::cross_entropy_one_hot;

/// MoCo's InfoNCE loss (He et al. 2020, Algorithm 1): for each query the positive logit is
/// `q . k`, the negatives `q . queue_j`, all divided by `temperature`, and the loss is the
/// cross-entropy with the positive as class 0.
///
/// Shapes: `queries` and `keys` `[N, D]`, `queue` `[K, D]`, all rows unit-norm; keys and
/// queue carry no gradient. Returns the mean loss as a 1-element tensor.
pub fn info_nce(
    queries: Tensor<2>,
    keys: Tensor<2>,
    queue: Tensor<2>,
    temperature: f64,
) -> Tensor<1> {
    let [n, _] = queries.dims();
    let k = queue.dims()[0];
    let positive = (queries.clone() * keys).sum_dim(1);
    let negative = queries.matmul(queue.transpose());
    let logits = Tensor::cat(vec![positive, negative], 1) / temperature;
    let device = logits.device();
    let one_hot = Tensor::<2>::zeros([n, 1], &device).add_scalar(1.0);
    let one_hot = Tensor::cat(vec![one_hot, Tensor::zeros([n, k], &device)], 1);
    cross_entropy_one_hot(logits, one_hot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_hand_computed_value() {
        let d = Device::flex();
        let q = Tensor::<2>::from_floats([[1.0, 0.0]], &d);
        let k = Tensor::<2>::from_floats([[1.0, 0.0]], &d);
        let queue = Tensor::<2>::from_floats([[0.0, 1.0], [-1.0, 0.0]], &d);
        // logits / 0.5 = [2, 0, -2]; loss = ln(e^2 + 1 + e^-2) - 2.
        let want = ((2f64).exp() + 1.0 + (-2f64).exp()).ln() - 2.0;
        let got = info_nce(q, k, queue, 0.5).into_scalar::<f64>();
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
}
