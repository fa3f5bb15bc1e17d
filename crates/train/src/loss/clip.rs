use burn::prelude::*;

use super::normalize::{cross_entropy_one_hot, l2_normalize};

/// CLIP's symmetric InfoNCE (Radford et al. 2021, Figure 3): image and text embeddings are
/// L2-normalised, `logits = exp(logit_scale) * I T^T`, and the loss is the mean of the
/// cross-entropies over rows (image to text) and over columns (text to image), pair `i` of
/// the batch being class `i` both ways. `logit_scale` is the log inverse temperature.
///
/// Shapes: `images` and `texts` `[B, D]`, `logit_scale` `[1]`. Returns a 1-element tensor.
pub fn clip_loss(images: Tensor<2>, texts: Tensor<2>, logit_scale: Tensor<1>) -> Tensor<1> {
    let [b, _] = images.dims();
    let device = images.device();
    let scale = logit_scale.exp().reshape([1, 1]);
    let logits = l2_normalize(images).matmul(l2_normalize(texts).transpose()) * scale;
    let eye = Tensor::<2>::eye(b, &device);
    let per_image = cross_entropy_one_hot(logits.clone(), eye.clone());
    let per_text = cross_entropy_one_hot(logits.transpose(), eye);
    (per_image + per_text) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_hand_computed_value() {
        let d = Device::flex();
        // Unit rows: cos(i0, t0) = 1, cos(i0, t1) = 0, cos(i1, t0) = 0.6, cos(i1, t1) = 0.8.
        let images = Tensor::<2>::from_floats([[2.0, 0.0], [0.6, 0.8]], &d);
        let texts = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 3.0]], &d);
        let scale = 2f64;
        let logit_scale = Tensor::<1>::from_floats([scale.ln() as f32], &d);
        // logits = 2 * [[1, 0], [0.6, 0.8]].
        let l = [[2.0f64, 0.0], [1.2, 1.6]];
        let ce = |row: [f64; 2], i: usize| (row[0].exp() + row[1].exp()).ln() - row[i];
        let rows = (ce(l[0], 0) + ce(l[1], 1)) / 2.0;
        let cols = (ce([l[0][0], l[1][0]], 0) + ce([l[0][1], l[1][1]], 1)) / 2.0;
        let want = (rows + cols) / 2.0;
        let got = clip_loss(images, texts, logit_scale).into_scalar::<f64>();
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }

    #[test]
    fn the_temperature_learns_from_the_gradient() {
        let d = Device::flex().autodiff();
        let images = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 1.0]], &d);
        let texts = images.clone();
        let logit_scale = Tensor::<1>::from_floats([0.0], &d).require_grad();
        let loss = clip_loss(images, texts, logit_scale.clone());
        let grads = loss.backward();
        // Matched pairs: a sharper softmax lowers the loss, so the gradient is negative.
        let g = logit_scale.grad(&grads).unwrap().into_scalar::<f64>();
        assert!(g < 0.0, "{g}");
    }
}
