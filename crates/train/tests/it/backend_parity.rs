//! The same MoCo-v2 training steps on two backends, from the same initial weights and
//! batches: the wgpu parity test (`wgpu.rs`) and `bench/gpu.sh` (through the `gpu_step`
//! example) compare a GPU backend with the CPU one this way.
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use corruptencoder_core::{item_rng, uniform};
use corruptencoder_train::{EncoderConfig, Method, MocoV2Config, OptimConfig, Sgd, burn};

/// What a few steps left on one backend.
pub(crate) struct Trace {
    /// Loss of each step.
    pub(crate) losses: Vec<f32>,
    /// The query encoder's parameters and buffers after the last step, in visit order.
    pub(crate) weights: Vec<f32>,
}

/// `steps` MoCo-v2 steps (SGD at the default learning rate, momentum update, queue) of
/// `encoder` on `device`, batch `batch` of `size` px views, everything drawn from seed 5 on
/// the host so that every backend starts from the same numbers.
pub(crate) fn moco_steps(
    device: &Device,
    encoder: &EncoderConfig,
    size: usize,
    batch: usize,
    steps: u64,
) -> Trace {
    let device = device.clone().autodiff();
    let config = MocoV2Config {
        queue_size: 4 * batch,
        hidden_dim: Some(64),
        projection_dim: 32,
        ..Default::default()
    };
    let mut method = config.init(encoder, &device, &mut item_rng(5, 0, 0));
    let (optim, mut sgd) = (OptimConfig::default(), Sgd::default());
    let mut losses = Vec::new();
    for step in 0..steps {
        let views = |stream: u64| {
            let rng = &mut item_rng(5, stream, step);
            let v: Vec<f32> =
                (0..batch * 3 * size * size).map(|_| uniform(rng, -2.0, 2.0) as f32).collect();
            Tensor::<4>::from_data(TensorData::new(v, [batch, 3, size, size]), &device)
        };
        let output = method.forward(views(1), views(2));
        losses.push(output.loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(output.loss.backward(), &method);
        method = sgd.step(&optim, optim.lr, method, grads);
        method = method.after_step(output, (step + 1) as f64 / steps as f64);
    }
    let mut weights = Weights(Vec::new());
    method.encoder().valid().visit(&mut weights);
    Trace { losses, weights: weights.0 }
}

struct Weights(Vec<f32>);

impl ModuleVisitor for Weights {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let values = param.val().into_data().convert::<f32>().try_to_vec::<f32>();
        self.0.extend(values.expect("f32 after convert"));
    }
}

/// The largest absolute difference between two equally long lists.
pub(crate) fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "the two backends trained different shapes");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// The comparison's baseline: the CPU backend against itself is bit-identical, so any
/// difference the wgpu test sees comes from the backend.
#[test]
fn the_cpu_backend_repeats_itself_exactly() {
    use corruptencoder_train::{Arch, Stem};
    let encoder = EncoderConfig::new(Arch::SmallCnn, Stem::Cifar, 4);
    let a = moco_steps(&Device::flex(), &encoder, 16, 8, 2);
    let b = moco_steps(&Device::flex(), &encoder, 16, 8, 2);
    assert_eq!(a.losses, b.losses);
    assert_eq!(max_abs_diff(&a.weights, &b.weights), 0.0);
}
