use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use corruptencoder_core::Rng;

/// A two-layer MLP head: `Linear(input, hidden)`, optional batch norm, ReLU,
/// `Linear(hidden, output)`. MoCo-v2 and SimCLR use it without batch norm (method.md section 6:
/// 512-512-128); BYOL's projector and predictor use it with batch norm.
#[derive(Module, Debug)]
pub struct MlpHead {
    fc1: Linear,
    bn: Option<BatchNorm>,
    fc2: Linear,
}

impl MlpHead {
    /// A head `input -> hidden -> output`, weights drawn from `rng`.
    pub fn new(
        input: usize,
        hidden: usize,
        output: usize,
        batch_norm: bool,
        device: &Device,
        rng: &mut Rng,
    ) -> Self {
        let head = Self {
            fc1: LinearConfig::new(input, hidden).init(device),
            bn: batch_norm.then(|| BatchNormConfig::new(hidden).init(device)),
            fc2: LinearConfig::new(hidden, output).init(device),
        };
        crate::init::init_weights(head, rng)
    }

    /// `[B, input]` to `[B, output]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = self.fc1.forward(x);
        if let Some(bn) = &self.bn {
            h = bn.forward(h);
        }
        self.fc2.forward(relu(h))
    }
}
