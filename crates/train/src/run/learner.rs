//! What differs between the kinds of pre-training one loop drives: how a model turns a
//! batch into a loss and gradients, which optimiser steps it, what it updates after the
//! step and what it writes besides the encoder. The contrastive methods
//! (`run/contrastive.rs`) and image-text pre-training (`method/clip/learner.rs`) implement
//! it; the loop (`run/train.rs`) holds everything else: resume, epochs, checkpoints, the
//! step log, the monitor and the export.
use std::path::Path;

use burn::module::Module;
use burn::optim::GradientsParams;
use corruptencoder_augment::ViewRecipe;

use crate::config::PretrainConfig;
use crate::encoder::Encoder;
use crate::error::Result;
use crate::optim::OptimState;
use crate::run::batches::{Batch, RecipeViews, ViewSource};

/// A step's forward and backward pass: the loss, the gradients, what the method keeps for
/// after the update, and the two passes' seconds (`None` where they are interleaved across
/// devices).
pub(crate) struct Pass<O> {
    pub(crate) loss: f32,
    pub(crate) grads: GradientsParams,
    pub(crate) output: O,
    pub(crate) forward: Option<f64>,
    pub(crate) backward: Option<f64>,
}

/// One kind of pre-training, as the loop sees it.
pub(crate) trait Learner {
    /// The trained model: a burn module, checkpointed whole.
    type Model: Module;
    /// What a step hands from the forward pass to [`Learner::after_step`].
    type Output;
    /// The optimiser and its checkpointed state.
    type Optimizer: OptimState;
    /// Views of each image per step: 2 for view pairs, 1 for image-caption pairs.
    const VIEWS: usize;

    /// The encoder being trained (exported, monitored).
    fn encoder(model: &Self::Model) -> &Encoder;

    /// What the batch producer draws of each image: [`Learner::VIEWS`] views of the run's
    /// recipe.
    fn view_source<'a>(&'a self, recipe: &'a ViewRecipe) -> Box<dyn ViewSource + 'a> {
        Box::new(RecipeViews { recipe, views: Self::VIEWS })
    }

    /// The learning rate of the 0-based global `step`, with `per_epoch` steps an epoch: the
    /// run's schedule (`optim`).
    fn learning_rate(&self, config: &PretrainConfig, step: u64, per_epoch: u64) -> f64 {
        config.optim.learning_rate(step, per_epoch, config.epochs)
    }

    /// The batch's mean loss, the gradients of `model`'s parameters and what
    /// [`Learner::after_step`] takes; `step` is the 0-based global step.
    fn forward_backward(&self, model: &Self::Model, batch: Batch, step: u64) -> Pass<Self::Output>;

    /// The optimiser's update at `at`: the learning rate and the 0-based global step.
    fn update(
        &self,
        optimizer: &mut Self::Optimizer,
        model: Self::Model,
        grads: GradientsParams,
        at: (f64, u64),
    ) -> Self::Model;

    /// Updates after the optimiser step (momentum encoders, queues); `progress` is the
    /// fraction of training done, in `[0, 1]`.
    fn after_step(&self, model: Self::Model, output: Self::Output, progress: f64) -> Self::Model;

    /// Files written beside `encoder.safetensors` when training finishes after `steps`.
    fn export(&self, model: &Self::Model, dir: &Path, steps: u64) -> Result<()> {
        let _ = (model, dir, steps);
        Ok(())
    }
}
