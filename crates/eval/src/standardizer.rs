//! Per-dimension standardisation with the training features' statistics (method.md section 7).
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::features::Features;

/// Per-dimension standardisation fitted on the training features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Mean of each dimension.
    pub mean: Vec<f32>,
    /// `1 / std` of each dimension (unbiased std, as `torch.std`); 0 where the training
    /// features do not vary, so that dimension is dropped rather than blown up.
    pub inv_std: Vec<f32>,
}

impl Standardizer {
    /// Fits mean and standard deviation per dimension (accumulated in f64).
    pub fn fit(features: &Features) -> Self {
        let (n, d) = (features.rows(), features.dim());
        let mut sum = vec![0.0f64; d];
        for row in features.iter_rows() {
            sum.iter_mut().zip(row).for_each(|(s, &v)| *s += f64::from(v));
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n.max(1) as f64).collect();
        let mut sq = vec![0.0f64; d];
        for row in features.iter_rows() {
            for ((s, &v), m) in sq.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(v) - m).powi(2);
            }
        }
        let inv_std = sq
            .iter()
            .map(|s| {
                let std = (s / n.saturating_sub(1).max(1) as f64).sqrt();
                if std > 1e-8 { (1.0 / std) as f32 } else { 0.0 }
            })
            .collect();
        Self { mean: mean.iter().map(|&m| m as f32).collect(), inv_std }
    }

    /// `(x - mean) / std` for every row.
    pub fn apply(&self, features: &Features) -> Result<Features> {
        expect_dim(features, self.mean.len())?;
        let mut data = features.as_slice().to_vec();
        for row in data.chunks_exact_mut(features.dim()) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.inv_std) {
                *v = (*v - m) * s;
            }
        }
        Features::new(data, features.dim())
    }
}

fn expect_dim(features: &Features, dim: usize) -> Result<()> {
    if features.dim() != dim {
        return Err(Error::Length { what: "feature dim", expected: dim, actual: features.dim() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardizer_centres_and_scales() {
        let f = Features::from_rows(&[[1.0, 5.0], [3.0, 5.0]]).unwrap();
        let s = Standardizer::fit(&f);
        assert_eq!(s.mean, vec![2.0, 5.0]);
        // Unbiased std of {1, 3} is sqrt(2); the constant column is dropped.
        assert!((s.inv_std[0] - 1.0 / 2f32.sqrt()).abs() < 1e-6);
        assert_eq!(s.inv_std[1], 0.0);
        let t = s.apply(&f).unwrap();
        assert!((t.row(0)[0] + 1.0 / 2f32.sqrt()).abs() < 1e-6);
        assert_eq!(t.row(1)[1], 0.0);
    }
}
