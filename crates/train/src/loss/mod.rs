//! Contrastive losses as pure functions of tensors.
mod byol;
mod cleanclip;
mod clip;
mod info_nce;
mod normalize;
mod nt_xent;

pub use byol::{byol_loss, mixed_byol_loss};
pub use cleanclip::{CleanClipBatch, cleanclip_loss, in_modal_loss};
pub use clip::clip_loss;
pub use info_nce::{info_nce, mixed_info_nce};
pub use normalize::l2_normalize;
pub use nt_xent::{mixed_nt_xent, nt_xent};
