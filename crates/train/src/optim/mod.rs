//! Optimisers whose state is keyed by module path (SGD, AdamW), and the learning-rate
//! schedule.
mod adamw;
mod sgd;

pub use adamw::{AdamConfig, AdamW};
pub use sgd::{OptimConfig, Sgd};
pub(crate) use sgd::{ParamUpdate, PathMapper};
