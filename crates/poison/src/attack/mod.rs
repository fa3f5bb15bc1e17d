//! Attacks, one file each, behind the [`Attack`] trait.
mod base;
mod corrupt_encoder;

pub use base::{Attack, Layout, PoisonItem, PoisonKind};
pub use corrupt_encoder::{AreaRatio, CorruptEncoder, CorruptEncoderConfig, Layouts};
