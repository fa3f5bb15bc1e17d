//! A pre-training run: the entry points, the one training loop over a [`Learner`] (what
//! differs between contrastive and image-text pre-training), the batch producer, the run
//! folder and step log, data parallelism, the training monitor, the per-step hooks, and
//! the timing of a few steps for planning.
//!
//! [`Learner`]: learner::Learner
pub(crate) mod batches;
pub(crate) mod contact_sheet;
pub(crate) mod contrastive;
pub(crate) mod entry;
pub(crate) mod icutmix;
pub(crate) mod images;
pub(crate) mod job;
pub(crate) mod learner;
pub(crate) mod monitor;
pub(crate) mod output;
pub(crate) mod parallel;
pub(crate) mod reporter;
pub(crate) mod shards;
pub(crate) mod step_log;
pub(crate) mod timing;
pub(crate) mod train;
