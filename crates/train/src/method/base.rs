use burn::prelude::*;

use crate::encoder::Encoder;

/// What one forward pass of a method yields.
#[derive(Debug, Clone)]
pub struct MethodOutput {
    /// The batch's mean loss, a 1-element tensor tracked for backward.
    pub loss: Tensor<1>,
    /// MoCo's keys `[B, D]` (no gradient) to enqueue after the step; `None` for other methods.
    pub keys: Option<Tensor<2>>,
}

/// A contrastive learning method: a burn module holding its online encoder, heads and any
/// target network, which `pretrain` drives generically.
pub trait Method: Module + 'static {
    /// Loss of a batch of view pairs: `views1`, `views2` are `[B, 3, H, W]`, row `i` of both
    /// coming from image `i`.
    fn forward(&self, views1: Tensor<4>, views2: Tensor<4>) -> MethodOutput;

    /// Updates done after the optimizer step (momentum encoders, queues). `progress` is the
    /// fraction of training done, in `[0, 1]`, for schedules such as BYOL's momentum.
    fn after_step(self, output: MethodOutput, progress: f64) -> Self;

    /// The encoder being trained (what is exported and evaluated).
    fn encoder(&self) -> &Encoder;
}
