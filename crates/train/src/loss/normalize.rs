use burn::prelude::*;

/// Rows scaled to unit L2 norm (`F.normalize(x, dim=1)`, eps 1e-12 on the norm).
/// `[N, D]` to `[N, D]`.
pub fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x.clone().powi_scalar(2).sum_dim(1).sqrt().clamp_min(1e-12);
    x / norm
}

/// Mean over rows of `logsumexp(logits[i]) - logits[i][target_i]`: cross-entropy with
/// integer targets given as a one-hot `[N, C]` mask. Returns a 1-element tensor.
pub(crate) fn cross_entropy_one_hot(logits: Tensor<2>, one_hot: Tensor<2>) -> Tensor<1> {
    let log_probs = burn::tensor::activation::log_softmax(logits, 1);
    (log_probs * one_hot).sum_dim(1).mean().neg()
}
