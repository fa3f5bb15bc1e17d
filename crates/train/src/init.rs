//! Weight initialisation from the project's own seeded RNG.
//!
//! burn draws initial weights from one process-wide generator, so two models built at once
//! (parallel tests, or a caller's own burn work) would change each other's weights. Every
//! random tensor is therefore redrawn here from a `ChaCha8` stream, in module order.
use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use corruptencoder_core::Rng;
use rand::Rng as _;

/// Redraws `module`'s weights from `rng`, following torchvision's initialisation:
/// conv weights `[out, in, k, k]` ~ N(0, 2 / (out k k)) (`kaiming_normal_`, fan_out, ReLU);
/// linear weights (burn's `[in, out]` layout) ~ U(+-1/sqrt(in)) (`nn.Linear`'s default);
/// linear biases zero. Batch-norm weights, biases and statistics keep their constant init.
pub(crate) fn init_weights<M: Module>(module: M, rng: &mut Rng) -> M {
    module.map(&mut Init { rng, path: Vec::new() })
}

struct Init<'a> {
    rng: &'a mut Rng,
    path: Vec<String>,
}

impl ModuleMapper for Init<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_owned());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let dims = tensor.dims();
        let n: usize = dims.iter().product();
        let values: Option<Vec<f32>> = match D {
            4 => {
                let std = (2.0 / (dims[0] * dims[2] * dims[3]) as f64).sqrt();
                Some((0..n).map(|_| (normal(self.rng) * std) as f32).collect())
            }
            2 => {
                let bound = 1.0 / (dims[0] as f64).sqrt();
                Some((0..n).map(|_| self.rng.random_range(-bound..bound) as f32).collect())
            }
            1 if self.path.last().is_some_and(|s| s == "bias") => Some(vec![0.0; n]),
            _ => None,
        };
        let Some(values) = values else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let require_grad = tensor.is_require_grad();
        let fresh =
            Tensor::<D>::from_data(TensorData::new(values, dims.to_vec()), &tensor.device());
        Param::from_mapped_value(
            id,
            if require_grad { fresh.require_grad() } else { fresh },
            mapper,
        )
    }
}

/// A standard normal draw (Box-Muller), so no extra distribution crate is needed.
pub(crate) fn normal(rng: &mut Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    #[test]
    fn same_seed_same_weights_whatever_burn_did_before() {
        let device = Device::flex();
        let make = |seed| {
            let conv = burn::nn::conv::Conv2dConfig::new([3, 8], [3, 3]).init(&device);
            init_weights(conv, &mut item_rng(seed, 0, 0)).weight.val().into_data()
        };
        let a = make(1);
        // burn's own generator moves on in between; ours must not care.
        let _ = Tensor::<1>::random([1000], burn::tensor::Distribution::Default, &device);
        assert_eq!(a, make(1));
        assert_ne!(a, make(2));
        let v = a.try_to_vec::<f32>().unwrap();
        let var = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / v.len() as f64;
        // N(0, 2 / 72): variance 0.028, loosely, from 216 draws.
        assert!((0.015..0.045).contains(&var), "{var}");
    }
}
