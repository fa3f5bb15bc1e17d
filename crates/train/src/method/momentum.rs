use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;

/// The exponential moving average `target = m * target + (1 - m) * online` over every float
/// tensor of two modules of the same structure (lightly's `update_momentum`). `m = 0` copies.
///
/// It also averages batch-norm running statistics, which MoCo and BYOL leave to the target's
/// own forward passes; the target only ever runs in training mode, where they are unused.
pub fn update_momentum<M: Module>(target: M, online: &M, momentum: f64) -> M {
    let mut collect = Collect(Vec::new());
    online.visit(&mut collect);
    let mut blend = Blend { online: collect.0.into_iter(), momentum };
    let target = target.map(&mut blend);
    debug_assert!(blend.online.next().is_none(), "modules differ in structure");
    target
}

struct Collect(Vec<Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val().inner();
        let n = t.shape().num_elements();
        self.0.push(t.reshape([n]));
    }
}

struct Blend {
    online: std::vec::IntoIter<Tensor<1>>,
    momentum: f64,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let online = self.online.next().expect("target and online modules have the same structure");
        let shape = tensor.shape();
        let was_autodiff = tensor.is_autodiff();
        let blended = if self.momentum == 0.0 {
            online.reshape(shape)
        } else {
            tensor.inner() * self.momentum + online.reshape(shape) * (1.0 - self.momentum)
        };
        // The target keeps living on the training device but never requires gradients.
        let blended = if was_autodiff { blended.autodiff() } else { blended };
        Param::from_mapped_value(id, blended, mapper)
    }
}
