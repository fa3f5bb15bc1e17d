//! Contrastive methods, one file each, behind the [`Method`] trait, and image-text
//! pre-training (`clip/`).
mod base;
mod byol;
pub(crate) mod clip;
mod config;
pub(crate) mod head;
mod moco_v2;
mod momentum;
mod simclr;

pub use base::{Method, MethodOutput};
pub use byol::{Byol, ByolConfig};
pub use config::MethodConfig;
pub(crate) use config::MethodVisitor;
pub use moco_v2::{MocoV2, MocoV2Config, SplitBn};
pub use momentum::update_momentum;
pub use simclr::{Simclr, SimclrConfig};
