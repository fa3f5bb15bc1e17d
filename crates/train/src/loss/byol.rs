use burn::prelude::*;

use super::normalize::l2_normalize;

/// BYOL's regression loss (Grill et al. 2020, eq. 2): `2 - 2 cos(p, z)` between the online
/// prediction and the target projection, averaged over the batch.
///
/// Shapes: `predictions`, `targets` `[N, D]`; targets carry no gradient. Returns a
/// 1-element tensor.
pub fn byol_loss(predictions: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let cos = (l2_normalize(predictions) * l2_normalize(targets)).sum_dim(1);
    cos.mean().mul_scalar(-2.0).add_scalar(2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_when_aligned_and_four_when_opposite() {
        let d = Device::flex();
        let p = Tensor::<2>::from_floats([[1.0, 1.0], [0.0, 3.0]], &d);
        let same = byol_loss(p.clone(), p.clone() * 2.0).into_scalar::<f64>();
        let opposite = byol_loss(p.clone(), p.neg()).into_scalar::<f64>();
        assert!(same.abs() < 1e-6 && (opposite - 4.0).abs() < 1e-5, "{same} {opposite}");
    }
}
