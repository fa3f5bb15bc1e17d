//! AdamW for image-text pre-training (CLIP trains with AdamW, not SGD).
use std::collections::BTreeMap;

use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::optim::{ParamUpdate, PathMapper};

/// AdamW's settings beside the learning rate and weight decay of
/// [`OptimConfig`](crate::OptimConfig). Defaults: CLIP's (Radford et al. 2021, Appendix F:
/// beta2 0.98, eps 1e-6).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamConfig {
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Added to the root of the second moment.
    pub eps: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self { beta1: 0.9, beta2: 0.98, eps: 1e-6 }
    }
}

/// PyTorch's `torch.optim.AdamW`: `p -= lr * wd * p`, then the bias-corrected Adam update.
/// Weight decay skips 1-d parameters (biases, norm gains, the logit scale), as CLIP's
/// training does. The moments are keyed by module path (`m.<path>`, `v.<path>`) like
/// [`Sgd`](crate::Sgd)'s buffers, so checkpoints store and restore them the same way; the
/// step count comes from the caller (the checkpoint's position), so a resumed run continues
/// the bias correction exactly.
#[derive(Debug, Clone, Default)]
pub struct AdamW {
    pub(crate) buffers: BTreeMap<String, Tensor<1>>,
}

impl AdamW {
    /// One update of every parameter with a gradient; `step` is 1-based.
    pub fn step<M: Module>(
        &mut self,
        config: &AdamConfig,
        (lr, weight_decay): (f64, f64),
        step: u64,
        module: M,
        mut grads: GradientsParams,
    ) -> M {
        let update = AdamUpdate { adam: self, config, lr, weight_decay, step: step.max(1) as i32 };
        module.map(&mut PathMapper { grads: &mut grads, update, path: Vec::new() })
    }
}

/// AdamW's rule, for [`PathMapper`].
struct AdamUpdate<'a> {
    adam: &'a mut AdamW,
    config: &'a AdamConfig,
    lr: f64,
    weight_decay: f64,
    step: i32,
}

impl ParamUpdate for AdamUpdate<'_> {
    fn update<const D: usize>(&mut self, key: &str, mut p: Tensor<D>, g: Tensor<D>) -> Tensor<D> {
        let shape = p.shape();
        let n = shape.num_elements();
        let c = self.config;
        if D > 1 && self.weight_decay > 0.0 {
            p = p.clone() - p * (self.lr * self.weight_decay);
        }
        let moment = |name: &str, buffers: &mut BTreeMap<String, Tensor<1>>| {
            buffers.remove(&format!("{name}.{key}")).map(|b| b.reshape(shape.clone()))
        };
        let m = match moment("m", &mut self.adam.buffers) {
            Some(old) => old * c.beta1 + g.clone() * (1.0 - c.beta1),
            None => g.clone() * (1.0 - c.beta1),
        };
        let v = match moment("v", &mut self.adam.buffers) {
            Some(old) => old * c.beta2 + g.clone() * g.clone() * (1.0 - c.beta2),
            None => g.clone() * g * (1.0 - c.beta2),
        };
        let m_hat = m.clone() / (1.0 - c.beta1.powi(self.step));
        let v_hat = v.clone() / (1.0 - c.beta2.powi(self.step));
        let updated = p - m_hat / (v_hat.sqrt() + c.eps) * self.lr;
        self.adam.buffers.insert(format!("m.{key}"), m.reshape([n]));
        self.adam.buffers.insert(format!("v.{key}"), v.reshape([n]));
        updated
    }
}

#[cfg(test)]
mod tests {
    use burn::module::Param;

    use super::*;

    #[test]
    fn adamw_matches_torch_on_a_quadratic() {
        // Minimise sum(p^2)/2 (grad = p) from p = 1, lr 0.1, wd 0.01, betas (0.9, 0.98):
        // step 1: p = 1 - 0.001 = 0.999, m = 0.1, v = 0.02, m^ = 1, v^ = 1, p = 0.899;
        // step 2 from g = 0.899 with the moments carried over.
        let device = Device::flex().autodiff();
        let mut module = burn::nn::LinearConfig::new(1, 1).with_bias(false).init(&device);
        module.weight = Param::from_tensor(Tensor::<2>::ones([1, 1], &device).require_grad());
        let config = AdamConfig::default();
        let mut adam = AdamW::default();
        for step in 1..=2 {
            let loss = module.weight.val().powi_scalar(2).sum() / 2.0;
            let grads = GradientsParams::from_grads(loss.backward(), &module);
            module = adam.step(&config, (0.1, 0.01), step, module, grads);
        }
        let eps = 1e-6;
        let p1 = 0.999 - 0.1 * 1.0 / (1.0 + eps);
        let g = p1;
        let (m, v) = (0.9 * 0.1 + 0.1 * g, 0.98 * 0.02 + 0.02 * g * g);
        let (m_hat, v_hat) = (m / (1.0 - 0.81), v / (1.0 - 0.98f64 * 0.98));
        let p2 = p1 * (1.0 - 0.001) - 0.1 * m_hat / (v_hat.sqrt() + eps);
        let got = module.weight.val().into_scalar::<f64>();
        assert!((got - p2).abs() < 1e-5, "{got} vs {p2}");
        assert_eq!(adam.buffers.len(), 2);
    }
}
