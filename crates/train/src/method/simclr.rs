use burn::prelude::*;
use corruptencoder_core::{Rng, SettingError};
use serde::{Deserialize, Serialize};

use super::{Method, MethodOutput};
use crate::encoder::{Encoder, EncoderConfig};
use crate::loss::{mixed_nt_xent, nt_xent};
use crate::method::head::MlpHead;
use crate::run::parallel::DataParallel;

/// SimCLR settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimclrConfig {
    /// NT-Xent temperature (0.5, SimCLR's CIFAR setting; method.md section 6 names SimCLR
    /// without values).
    pub temperature: f64,
    /// Hidden width of the projection head; `None` is the encoder's feature dim.
    pub hidden_dim: Option<usize>,
    /// Output width of the projection head (128 as in SimCLR and method.md section 6's MoCo head).
    pub projection_dim: usize,
}

impl Default for SimclrConfig {
    fn default() -> Self {
        Self { temperature: 0.5, hidden_dim: None, projection_dim: 128 }
    }
}

impl SimclrConfig {
    pub(crate) fn validate(&self) -> Result<(), SettingError> {
        if self.temperature <= 0.0 {
            return Err(SettingError::new("temperature", self.temperature, "must be positive"));
        }
        Ok(())
    }

    /// The report's line.
    pub(crate) fn describe(&self) -> String {
        format!("SimCLR (temperature {})", self.temperature)
    }

    /// Builds the method.
    pub fn init(&self, encoder: &EncoderConfig, device: &Device, rng: &mut Rng) -> Simclr {
        let dim = encoder.feature_dim();
        Simclr {
            encoder: encoder.init(device, rng),
            head: MlpHead::new(
                dim,
                self.hidden_dim.unwrap_or(dim),
                self.projection_dim,
                false,
                device,
                rng,
            ),
            temperature: self.temperature,
        }
    }
}

/// SimCLR (Chen et al. 2020): both views through one encoder and head, NT-Xent over the
/// `2B` projections. The views are concatenated so batch norm sees all `2B`, as in SimCLR.
#[derive(Module, Debug)]
pub struct Simclr {
    encoder: Encoder,
    head: MlpHead,
    #[module(skip)]
    temperature: f64,
}

/// No keys computed apart: each device's shard is an ordinary forward pass.
impl DataParallel for Simclr {
    /// Both views through the encoder together as in [`Method::forward`], the first ones
    /// mixed, and NT-Xent with i-Mix's virtual labels.
    fn forward_mixed(
        &self,
        views1: Tensor<4>,
        views2: Tensor<4>,
        _keys: Option<Tensor<2>>,
        _groups: usize,
        targets: (&[usize], f64),
    ) -> MethodOutput {
        let b = views1.dims()[0];
        let z = self.head.forward(self.encoder.forward(Tensor::cat(vec![views1, views2], 0)));
        let (z1, z2) = (z.clone().narrow(0, 0, b), z.narrow(0, b, b));
        MethodOutput { loss: mixed_nt_xent(z1, z2, self.temperature, targets), keys: None }
    }
}

impl Method for Simclr {
    fn forward(&self, views1: Tensor<4>, views2: Tensor<4>) -> MethodOutput {
        let b = views1.dims()[0];
        let z = self.head.forward(self.encoder.forward(Tensor::cat(vec![views1, views2], 0)));
        let z1 = z.clone().narrow(0, 0, b);
        let z2 = z.narrow(0, b, b);
        MethodOutput { loss: nt_xent(z1, z2, self.temperature), keys: None }
    }

    fn after_step(self, _output: MethodOutput, _progress: f64) -> Self {
        self
    }

    fn encoder(&self) -> &Encoder {
        &self.encoder
    }
}
