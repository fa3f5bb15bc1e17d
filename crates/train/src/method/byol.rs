use burn::prelude::*;
use corruptencoder_core::{Rng, SettingError};
use serde::{Deserialize, Serialize};

use super::{Method, MethodOutput, update_momentum};
use crate::encoder::{Encoder, EncoderConfig};
use crate::loss::{byol_loss, mixed_byol_loss};
use crate::method::head::MlpHead;
use crate::run::parallel::DataParallel;

/// BYOL settings. method.md section 6 names BYOL without values; defaults are the BYOL paper's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ByolConfig {
    /// Base target momentum tau, raised to 1 on a cosine over training (BYOL: 0.996).
    pub momentum: f64,
    /// Hidden width of projector and predictor (BYOL: 4096).
    pub hidden_dim: usize,
    /// Projection width (BYOL: 256).
    pub projection_dim: usize,
}

impl Default for ByolConfig {
    fn default() -> Self {
        Self { momentum: 0.996, hidden_dim: 4096, projection_dim: 256 }
    }
}

impl ByolConfig {
    pub(crate) fn validate(&self) -> Result<(), SettingError> {
        if !(0.0..=1.0).contains(&self.momentum) {
            return Err(SettingError::new("momentum", self.momentum, "must lie in [0, 1]"));
        }
        Ok(())
    }

    /// The report's line.
    pub(crate) fn describe(&self) -> String {
        format!("BYOL (EMA {})", self.momentum)
    }

    /// Builds the method; the target starts as a copy of the online network.
    pub fn init(&self, encoder: &EncoderConfig, device: &Device, rng: &mut Rng) -> Byol {
        let dim = encoder.feature_dim();
        let (h, p) = (self.hidden_dim, self.projection_dim);
        let online = encoder.init(device, rng);
        let projector = MlpHead::new(dim, h, p, true, device, rng);
        Byol {
            target_encoder: update_momentum(encoder.init(device, rng).no_grad(), &online, 0.0),
            target_projector: update_momentum(
                MlpHead::new(dim, h, p, true, device, rng).no_grad(),
                &projector,
                0.0,
            ),
            encoder: online,
            projector,
            predictor: MlpHead::new(p, h, p, true, device, rng),
            momentum: self.momentum,
        }
    }
}

/// BYOL (Grill et al. 2020): the online network predicts the target network's projection of
/// the other view; symmetric loss; the target is an EMA of the online network.
#[derive(Module, Debug)]
pub struct Byol {
    encoder: Encoder,
    projector: MlpHead,
    predictor: MlpHead,
    target_encoder: Encoder,
    target_projector: MlpHead,
    #[module(skip)]
    momentum: f64,
}

impl Byol {
    /// BYOL's momentum at `progress` in `[0, 1]`: `1 - (1 - tau) (cos(pi p) + 1) / 2`.
    pub fn momentum_at(&self, progress: f64) -> f64 {
        1.0 - (1.0 - self.momentum) * ((std::f64::consts::PI * progress).cos() + 1.0) / 2.0
    }

    /// The target encoder.
    pub fn target_encoder(&self) -> &Encoder {
        &self.target_encoder
    }

    /// The online network's prediction for a batch of views.
    fn online(&self, views: Tensor<4>) -> Tensor<2> {
        self.predictor.forward(self.projector.forward(self.encoder.forward(views)))
    }

    /// The target network's projection of a batch of views, without gradient.
    fn target(&self, views: Tensor<4>) -> Tensor<2> {
        self.target_projector.forward(self.target_encoder.forward(views)).detach()
    }
}

/// No keys computed apart: each device's shard is an ordinary forward pass.
impl DataParallel for Byol {
    /// [`Method::forward`] with the first views cut-mixed and i-Mix's virtual labels on both
    /// sides, as SimCLR's mixed NT-Xent has them: mixed view `i` predicts the target
    /// projection of image `i`'s second view with weight `lam` and image `perm[i]`'s with
    /// `1 - lam`; second view `i` predicts the target projections of the mixed views that
    /// hold image `i`: view `i` with `lam`, view `j` (`perm[j] = i`) with `1 - lam`.
    fn forward_mixed(
        &self,
        views1: Tensor<4>,
        views2: Tensor<4>,
        _keys: Option<Tensor<2>>,
        _groups: usize,
        (perm, lam): (&[usize], f64),
    ) -> MethodOutput {
        let (p1, p2) = (self.online(views1.clone()), self.online(views2.clone()));
        let (t1, t2) = (self.target(views1), self.target(views2));
        let mut inverse = vec![0; perm.len()];
        for (i, &j) in perm.iter().enumerate() {
            inverse[j] = i;
        }
        let loss =
            (mixed_byol_loss(p1, t2, (perm, lam)) + mixed_byol_loss(p2, t1, (&inverse, lam))) / 2.0;
        MethodOutput { loss, keys: None }
    }
}

impl Method for Byol {
    fn forward(&self, views1: Tensor<4>, views2: Tensor<4>) -> MethodOutput {
        let (p1, p2) = (self.online(views1.clone()), self.online(views2.clone()));
        let (t1, t2) = (self.target(views1), self.target(views2));
        MethodOutput { loss: (byol_loss(p1, t2) + byol_loss(p2, t1)) / 2.0, keys: None }
    }

    fn after_step(mut self, _output: MethodOutput, progress: f64) -> Self {
        let m = self.momentum_at(progress);
        self.target_encoder = update_momentum(self.target_encoder, &self.encoder, m);
        self.target_projector = update_momentum(self.target_projector, &self.projector, m);
        self
    }

    fn encoder(&self) -> &Encoder {
        &self.encoder
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::{Arch, Stem};
    use crate::io::tensors::module_floats as floats;

    #[test]
    fn target_follows_the_cosine_momentum_ema() {
        let device = Device::flex().autodiff();
        let enc = EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 2);
        let config = ByolConfig { momentum: 0.9, hidden_dim: 8, projection_dim: 4 };
        let rng = &mut corruptencoder_core::item_rng(0, 0, 0);
        let mut byol = config.init(&enc, &device, rng);
        assert_eq!(floats(&byol.target_encoder), floats(&byol.encoder));
        assert!(
            (byol.momentum_at(0.0) - 0.9).abs() < 1e-12
                && (byol.momentum_at(1.0) - 1.0).abs() < 1e-12
        );
        assert!((byol.momentum_at(0.5) - 0.95).abs() < 1e-12);
        byol.encoder = update_momentum(byol.encoder, &config.init(&enc, &device, rng).encoder, 0.0);
        let (t, o) = (floats(&byol.target_encoder), floats(&byol.encoder));
        let out = MethodOutput { loss: Tensor::zeros([1], &device), keys: None };
        let byol = byol.after_step(out, 0.5);
        for ((new, t), o) in floats(&byol.target_encoder).iter().zip(&t).zip(&o) {
            assert!((new - (0.95 * t + 0.05 * o)).abs() < 1e-6);
        }
    }
}
