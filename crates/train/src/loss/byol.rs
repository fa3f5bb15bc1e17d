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

/// [`byol_loss`] with i-Mix's virtual labels (Lee et al. 2021, its BYOL form): prediction
/// `i` targets projection `i` with weight `lam` and projection `others[i]` with `1 - lam`,
/// the loss linear in the two cosines as in the i-Mix reference (`kibok90/imix`,
/// `builder.py`): `2 - 2 (lam cos(p_i, z_i) + (1 - lam) cos(p_i, z_others[i]))`, averaged
/// over the batch. With `lam = 1` this is [`byol_loss`].
///
/// Shapes as in [`byol_loss`]; `others` holds one row index per prediction.
pub fn mixed_byol_loss(
    predictions: Tensor<2>,
    targets: Tensor<2>,
    (others, lam): (&[usize], f64),
) -> Tensor<1> {
    let [n, _] = predictions.dims();
    let device = predictions.device();
    let cos = l2_normalize(predictions).matmul(l2_normalize(targets).transpose());
    let mut weights = vec![0f32; n * n];
    for (i, &j) in others.iter().enumerate().take(n) {
        weights[i * n + i] += lam as f32;
        weights[i * n + j] += (1.0 - lam) as f32;
    }
    let weights = Tensor::<2>::from_data(TensorData::new(weights, [n, n]), &device);
    (cos * weights).sum_dim(1).mean().mul_scalar(-2.0).add_scalar(2.0)
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

    #[test]
    fn mixed_targets_weigh_the_two_cosines_by_area() {
        let d = Device::flex();
        // Prediction 0 = (1, 0), prediction 1 = (0, 2); targets (3, 0) and (1, 1).
        let p = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 2.0]], &d);
        let z = Tensor::<2>::from_floats([[3.0, 0.0], [1.0, 1.0]], &d);
        // Swapped partners, lam 0.75: row 0: 0.75 cos(p0, z0) + 0.25 cos(p0, z1)
        // = 0.75 + 0.25 / sqrt 2; row 1: 0.75 cos(p1, z1) + 0.25 cos(p1, z0) = 0.75 / sqrt 2.
        let r = std::f64::consts::FRAC_1_SQRT_2;
        let want = 2.0 - 2.0 * ((0.75 + 0.25 * r) + 0.75 * r) / 2.0;
        let got = mixed_byol_loss(p.clone(), z.clone(), (&[1, 0], 0.75)).into_scalar::<f64>();
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        // lam 1 is the plain loss, whatever the partners.
        let plain = byol_loss(p.clone(), z.clone()).into_scalar::<f64>();
        let unmixed = mixed_byol_loss(p, z, (&[1, 0], 1.0)).into_scalar::<f64>();
        assert!((plain - unmixed).abs() < 1e-6, "{plain} vs {unmixed}");
    }
}
