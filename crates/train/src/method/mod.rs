//! Contrastive methods, one file each, behind the [`Method`] trait.
mod base;
mod byol;
mod moco_v2;
mod momentum;
mod simclr;

pub use base::{Method, MethodConfig, MethodOutput};
pub use byol::{Byol, ByolConfig};
pub use moco_v2::{MocoV2, MocoV2Config};
pub use momentum::update_momentum;
pub use simclr::{Simclr, SimclrConfig};
