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

/// InfoNCE with i-Mix's virtual labels (Lee et al. 2021, its MoCo form): each query is
/// scored against every key of the batch and the queue, and its target puts `lam` on its
/// own key and `1 - lam` on key `perm[i]`, the image whose patch its view holds. Shapes as
/// in [`info_nce`].
pub fn mixed_info_nce(
    queries: Tensor<2>,
    keys: Tensor<2>,
    queue: Tensor<2>,
    temperature: f64,
    (perm, lam): (&[usize], f64),
) -> Tensor<1> {
    let [n, _] = queries.dims();
    let cols = n + queue.dims()[0];
    let device = queries.device();
    let logits = queries.matmul(Tensor::cat(vec![keys, queue], 0).transpose()) / temperature;
    let mut targets = vec![0f32; n * cols];
    for (i, &j) in perm.iter().enumerate().take(n) {
        targets[i * cols + i] += lam as f32;
        targets[i * cols + j] += (1.0 - lam) as f32;
    }
    let targets = Tensor::from_data(TensorData::new(targets, [n, cols]), &device);
    cross_entropy_one_hot(logits, targets)
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

    #[test]
    fn mixed_labels_weigh_the_two_keys_cross_entropies() {
        let d = Device::flex();
        let q = Tensor::<2>::from_floats([[1.0, 0.0], [0.6, 0.8]], &d);
        let k = Tensor::<2>::from_floats([[0.8, 0.6], [0.0, 1.0]], &d);
        let queue = Tensor::<2>::from_floats([[-1.0, 0.0]], &d);
        let t = 0.5;
        // Row i's logits over [k0, k1, queue0] / t, and its cross-entropy at column c.
        let ce = |qi: [f64; 2], c: usize| {
            let cols = [[0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]];
            let l: Vec<f64> = cols.iter().map(|v| (qi[0] * v[0] + qi[1] * v[1]) / t).collect();
            l.iter().map(|x| x.exp()).sum::<f64>().ln() - l[c]
        };
        let (q0, q1) = ([1.0, 0.0], [0.6, 0.8]);
        // Rows swap patches: row 0's other key is 1, row 1's is 0; lam 0.75.
        let want =
            0.5 * (0.75 * ce(q0, 0) + 0.25 * ce(q0, 1) + 0.75 * ce(q1, 1) + 0.25 * ce(q1, 0));
        let got = mixed_info_nce(q.clone(), k.clone(), queue.clone(), t, (&[1, 0], 0.75));
        let got = got.into_scalar::<f64>();
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        // lam 1 with no other image is plain cross-entropy over every key and the queue.
        let plain = mixed_info_nce(q, k, queue, t, (&[0, 1], 1.0)).into_scalar::<f64>();
        assert!((plain - 0.5 * (ce(q0, 0) + ce(q1, 1))).abs() < 1e-5);
    }
}
