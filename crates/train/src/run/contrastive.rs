//! The contrastive methods as the loop's [`Learner`]: two views of each image, the
//! method's loss over the devices (`parallel.rs`), SGD, and the method's own updates after
//! the step (momentum encoders, queues).
use std::marker::PhantomData;

use burn::optim::GradientsParams;
use burn::prelude::*;

use crate::config::PretrainConfig;
use crate::encoder::Encoder;
use crate::method::MethodOutput;
use crate::optim::Sgd;
use crate::run::batches::Batch;
use crate::run::icutmix::Mix;
use crate::run::learner::{Learner, Pass};
use crate::run::parallel::{DataParallel, forward_backward};

/// A contrastive method `M` trained on `device` and its data-parallel `replicas`.
pub(crate) struct Contrastive<'a, M> {
    config: &'a PretrainConfig,
    device: &'a Device,
    replicas: &'a [Device],
    method: PhantomData<M>,
}

impl<'a, M> Contrastive<'a, M> {
    pub(crate) fn new(
        config: &'a PretrainConfig,
        device: &'a Device,
        replicas: &'a [Device],
    ) -> Self {
        Self { config, device, replicas, method: PhantomData }
    }
}

impl<M: DataParallel> Learner for Contrastive<'_, M> {
    type Model = M;
    type Output = MethodOutput;
    type Optimizer = Sgd;
    const VIEWS: usize = 2;

    fn encoder(model: &M) -> &Encoder {
        model.encoder()
    }

    fn forward_backward(&self, model: &M, batch: Batch, step: u64) -> Pass<MethodOutput> {
        let shape = batch.shape();
        let [views1, views2]: [Vec<f32>; 2] =
            batch.views.try_into().expect("the batch holds a pair of views per image");
        let at = (self.config.seed, step);
        let mix = self.config.icutmix.as_ref().map(|c| {
            let [b, _, h, w] = shape;
            Mix::draw(c, b, (h, w), at)
        });
        let views = (views1, views2, shape);
        forward_backward(model, views, self.device, self.replicas, at, mix.as_ref())
    }

    fn update(&self, sgd: &mut Sgd, model: M, grads: GradientsParams, (lr, _): (f64, u64)) -> M {
        sgd.step(&self.config.optim, lr, model, grads)
    }

    fn after_step(&self, model: M, output: MethodOutput, progress: f64) -> M {
        model.after_step(output, progress)
    }
}
