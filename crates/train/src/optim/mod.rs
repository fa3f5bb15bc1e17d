//! Optimisers whose state is keyed by module path (SGD, AdamW), and the learning-rate
//! schedule.
mod adamw;
mod sgd;

use std::collections::BTreeMap;

use burn::prelude::*;

pub use adamw::{AdamConfig, AdamW};
pub use sgd::{OptimConfig, Sgd};
pub(crate) use sgd::{ParamUpdate, PathMapper};

/// An optimiser's state: its buffers by parameter path, flattened.
pub(crate) type OptimBuffers = BTreeMap<String, Tensor<1>>;

/// An optimiser whose state a checkpoint stores and restores.
pub(crate) trait OptimState: Default {
    /// The optimiser continuing from `buffers`.
    fn from_buffers(buffers: OptimBuffers) -> Self;
    /// Its state, to checkpoint.
    fn buffers(&self) -> &OptimBuffers;
}

impl OptimState for Sgd {
    fn from_buffers(buffers: OptimBuffers) -> Self {
        Self { buffers }
    }

    fn buffers(&self) -> &OptimBuffers {
        &self.buffers
    }
}

impl OptimState for AdamW {
    fn from_buffers(buffers: OptimBuffers) -> Self {
        Self { buffers }
    }

    fn buffers(&self) -> &OptimBuffers {
        &self.buffers
    }
}
