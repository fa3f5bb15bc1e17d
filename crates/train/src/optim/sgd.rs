use std::collections::BTreeMap;

use burn::module::{ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// SGD and learning-rate schedule. Defaults: method.md section 6.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// Base learning rate (method.md section 6: 0.06).
    pub lr: f64,
    /// SGD momentum (method.md section 6: 0.9).
    pub momentum: f64,
    /// Weight decay (method.md section 6: 1e-4).
    pub weight_decay: f64,
    /// Epochs of linear warm-up before the cosine (0 in method.md section 6).
    pub warmup_epochs: usize,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self { lr: 0.06, momentum: 0.9, weight_decay: 1e-4, warmup_epochs: 0 }
    }
}

impl OptimConfig {
    /// Learning rate of step `step` (0-based, global) out of `epochs * steps_per_epoch`.
    ///
    /// The cosine follows MoCo's `adjust_learning_rate`: one value per epoch,
    /// `lr * 0.5 * (1 + cos(pi * epoch / epochs))`. Warm-up, when asked for, rises linearly
    /// per step to the base rate over its epochs, and the cosine then spans the rest.
    pub fn learning_rate(&self, step: u64, steps_per_epoch: u64, epochs: usize) -> f64 {
        let epoch = (step / steps_per_epoch.max(1)) as usize;
        let warmup_steps = self.warmup_epochs as u64 * steps_per_epoch;
        if step < warmup_steps {
            return self.lr * (step + 1) as f64 / warmup_steps as f64;
        }
        let span = epochs.saturating_sub(self.warmup_epochs).max(1) as f64;
        let done = (epoch - self.warmup_epochs.min(epoch)) as f64;
        self.lr * 0.5 * (1.0 + (std::f64::consts::PI * done / span).cos())
    }
}

/// PyTorch's `torch.optim.SGD` (dampening 0, no Nesterov): `d = g + wd * p`,
/// `buf = momentum * buf + d` (`buf = d` on the first step), `p -= lr * buf`.
///
/// Written here rather than taken from burn-optim because burn's momentum dampening differs
/// (its default 0.1) and its state is keyed by parameter id; keying the buffers by module
/// path lets checkpoints store them as named safetensors tensors and reload them into a
/// freshly built model.
#[derive(Debug, Clone, Default)]
pub struct Sgd {
    /// Momentum buffers by parameter path, flattened.
    pub(crate) buffers: BTreeMap<String, Tensor<1>>,
}

impl Sgd {
    /// One update of every parameter of `module` that has a gradient in `grads`.
    pub fn step<M: Module>(
        &mut self,
        config: &OptimConfig,
        lr: f64,
        module: M,
        mut grads: GradientsParams,
    ) -> M {
        let update = SgdUpdate { sgd: self, config, lr };
        module.map(&mut PathMapper { grads: &mut grads, update, path: Vec::new() })
    }
}

/// One optimizer's rule for one parameter: the new value from the old one, its gradient
/// (both on the inner backend) and its module path, the key of its state buffers.
pub(crate) trait ParamUpdate {
    fn update<const D: usize>(&mut self, key: &str, param: Tensor<D>, grad: Tensor<D>)
    -> Tensor<D>;
}

/// Walks a module, tracking each parameter's path, and applies `U` to every parameter that
/// has a gradient; the others pass through. Shared by [`Sgd`] and [`AdamW`](crate::AdamW).
pub(crate) struct PathMapper<'a, U> {
    pub(crate) grads: &'a mut GradientsParams,
    pub(crate) update: U,
    pub(crate) path: Vec<String>,
}

impl<U: ParamUpdate> ModuleMapper for PathMapper<'_, U> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_owned());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let key = self.path.join(".");
        let mut updated = self.update.update(&key, tensor.inner(), grad.inner()).autodiff();
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}

/// SGD's rule, for [`PathMapper`].
struct SgdUpdate<'a> {
    sgd: &'a mut Sgd,
    config: &'a OptimConfig,
    lr: f64,
}

impl ParamUpdate for SgdUpdate<'_> {
    fn update<const D: usize>(&mut self, key: &str, p: Tensor<D>, grad: Tensor<D>) -> Tensor<D> {
        let shape = p.shape();
        let n = shape.num_elements();
        let d = grad + p.clone() * self.config.weight_decay;
        let buf = match self.sgd.buffers.remove(key) {
            Some(old) => old.reshape(shape) * self.config.momentum + d,
            None => d,
        };
        let updated = p - buf.clone() * self.lr;
        self.sgd.buffers.insert(key.to_owned(), buf.reshape([n]));
        updated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_schedule_without_and_with_warmup() {
        let c = OptimConfig::default();
        assert!((c.learning_rate(0, 10, 4) - 0.06).abs() < 1e-12);
        // Epoch 2 of 4: half way down the cosine.
        assert!((c.learning_rate(25, 10, 4) - 0.03).abs() < 1e-12);
        let w = OptimConfig { warmup_epochs: 1, ..c };
        assert!((w.learning_rate(4, 10, 3) - 0.03).abs() < 1e-12);
        assert!((w.learning_rate(10, 10, 3) - 0.06).abs() < 1e-12);
        assert!((w.learning_rate(20, 10, 3) - 0.03).abs() < 1e-12);
    }

    #[test]
    fn sgd_matches_torch_on_a_quadratic() {
        // Minimise sum(p^2)/2 (grad = p) from p = 1: torch gives p1 = 1 - lr(1 + wd),
        // buf1 = 1.01; p2 = p1 - lr * (0.9 * buf1 + 1.01 * p1).
        let device = Device::flex().autodiff();
        let mut module = burn::nn::LinearConfig::new(1, 1).with_bias(false).init(&device);
        module.weight = Param::from_tensor(Tensor::<2>::ones([1, 1], &device).require_grad());
        let config = OptimConfig { lr: 0.1, momentum: 0.9, weight_decay: 0.01, warmup_epochs: 0 };
        let mut sgd = Sgd::default();
        for _ in 0..2 {
            let loss = module.weight.val().powi_scalar(2).sum() / 2.0;
            let grads = GradientsParams::from_grads(loss.backward(), &module);
            module = sgd.step(&config, 0.1, module, grads);
        }
        let p1 = 1.0 - 0.1 * 1.01;
        let p2 = p1 - 0.1 * (0.9 * 1.01 + 1.01 * p1);
        let got = module.weight.val().into_scalar::<f64>();
        assert!((got - p2).abs() < 1e-6, "{got} vs {p2}");
        assert!(module.weight.val().is_require_grad());
    }
}
