use burn::prelude::*;

use super::clip::clip_loss;
use super::normalize::{cross_entropy_one_hot, l2_normalize};

/// CleanCLIP's in-modal term for one modality (Bansal et al. 2023, `get_loss` with
/// `--inmodal`): both sets are L2-normalised, `logits = exp(logit_scale) * X A^T`, and the
/// loss is the mean cross-entropy over rows, row `i`'s target being its own augmented view
/// `i` (rows only, where CLIP's loss is symmetric). The scale is the model's learned one.
///
/// Shapes: `x` and `augmented` `[B, D]`, `logit_scale` `[1]`. Returns a 1-element tensor.
pub fn in_modal_loss(x: Tensor<2>, augmented: Tensor<2>, logit_scale: Tensor<1>) -> Tensor<1> {
    let [b, _] = x.dims();
    let device = x.device();
    let scale = logit_scale.exp().reshape([1, 1]);
    let logits = l2_normalize(x).matmul(l2_normalize(augmented).transpose()) * scale;
    cross_entropy_one_hot(logits, Tensor::<2>::eye(b, &device))
}

/// The four embeddings of a CleanCLIP batch, each `[B, D]` and not normalised: the clean
/// images and their captions (pair `i` is image `i` with caption `i`), and the augmented
/// view of each.
pub struct CleanClipBatch {
    /// The clean views' image embeddings.
    pub images: Tensor<2>,
    /// The augmented views' image embeddings.
    pub augmented_images: Tensor<2>,
    /// The captions' text embeddings.
    pub texts: Tensor<2>,
    /// The augmented captions' text embeddings.
    pub augmented_texts: Tensor<2>,
}

/// CleanCLIP's fine-tuning loss: `clip_weight` times CLIP's symmetric loss on the clean
/// pairs ([`clip_loss`]) plus `inmodal_weight` times the mean of the two in-modal terms
/// ([`in_modal_loss`] of the images against their augmented views, and of the captions
/// against theirs). Returns a 1-element tensor.
pub fn cleanclip_loss(
    batch: CleanClipBatch,
    logit_scale: Tensor<1>,
    (clip_weight, inmodal_weight): (f64, f64),
) -> Tensor<1> {
    let CleanClipBatch { images, augmented_images, texts, augmented_texts } = batch;
    let cross = clip_loss(images.clone(), texts.clone(), logit_scale.clone());
    let image = in_modal_loss(images, augmented_images, logit_scale.clone());
    let text = in_modal_loss(texts, augmented_texts, logit_scale);
    cross * clip_weight + (image + text) * (inmodal_weight / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Row `i`'s cross-entropy at column `i` of `scale * X A^T` for unit rows.
    fn rows_ce(x: [[f64; 2]; 2], a: [[f64; 2]; 2], scale: f64) -> f64 {
        let logit = |i: usize, j: usize| scale * (x[i][0] * a[j][0] + x[i][1] * a[j][1]);
        let ce = |i: usize| (logit(i, 0).exp() + logit(i, 1).exp()).ln() - logit(i, i);
        (ce(0) + ce(1)) / 2.0
    }

    #[test]
    fn in_modal_loss_matches_a_hand_computed_value() {
        let d = Device::flex();
        // Rows scaled by 2 and 5 normalise to (1, 0) and (0.6, 0.8).
        let x = Tensor::<2>::from_floats([[2.0, 0.0], [3.0, 4.0]], &d);
        let a = Tensor::<2>::from_floats([[0.8, 0.6], [0.0, -1.0]], &d);
        let scale = 3f64;
        let logit_scale = Tensor::<1>::from_floats([scale.ln() as f32], &d);
        // logits = 3 * [[0.8, 0], [0.96, -0.8]]: rows 0 and 1 target columns 0 and 1.
        let want = rows_ce([[1.0, 0.0], [0.6, 0.8]], [[0.8, 0.6], [0.0, -1.0]], scale);
        let got = in_modal_loss(x, a, logit_scale).into_scalar::<f64>();
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        // Only rows count: swapping the sets gives the column direction, another value.
        let (x, a) = (
            Tensor::<2>::from_floats([[0.8, 0.6], [0.0, -1.0]], &d),
            Tensor::<2>::from_floats([[1.0, 0.0], [0.6, 0.8]], &d),
        );
        let back = in_modal_loss(x, a, Tensor::<1>::from_floats([scale.ln() as f32], &d));
        assert!((back.into_scalar::<f64>() - want).abs() > 1e-3);
    }

    #[test]
    fn the_loss_weighs_the_clip_and_in_modal_terms() {
        let d = Device::flex();
        let t = |rows: [[f32; 2]; 2]| Tensor::<2>::from_floats(rows, &d);
        let (images, aug_images) = ([[1.0, 0.0], [0.6, 0.8]], [[0.8, 0.6], [0.0, -1.0]]);
        let (texts, aug_texts) = ([[0.0, 1.0], [1.0, 0.0]], [[0.6, -0.8], [-1.0, 0.0]]);
        let scale = 2f64;
        let ls = || Tensor::<1>::from_floats([scale.ln() as f32], &d);
        let batch = || CleanClipBatch {
            images: t(images),
            augmented_images: t(aug_images),
            texts: t(texts),
            augmented_texts: t(aug_texts),
        };
        let f = |a: [[f32; 2]; 2]| a.map(|r| r.map(f64::from));
        let image = rows_ce(f(images), f(aug_images), scale);
        let text = rows_ce(f(texts), f(aug_texts), scale);
        let cross = clip_loss(t(images), t(texts), ls()).into_scalar::<f64>();
        let got = cleanclip_loss(batch(), ls(), (0.7, 0.3)).into_scalar::<f64>();
        let want = 0.7 * cross + 0.3 * (image + text) / 2.0;
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        let clip_only = cleanclip_loss(batch(), ls(), (1.0, 0.0)).into_scalar::<f64>();
        assert!((clip_only - cross).abs() < 1e-6);
    }
}
