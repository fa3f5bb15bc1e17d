//! A pre-training run: the entry point, the view pipeline, data parallelism, the training
//! monitor and the per-step hooks.
pub(crate) mod contact_sheet;
pub(crate) mod monitor;
pub(crate) mod parallel;
pub(crate) mod pipeline;
pub(crate) mod pretrain;
pub(crate) mod reporter;
