//! CleanCLIP (Bansal et al., ICCV 2023; nishadsinghi/CleanCLIP): a trained CLIP model
//! fine-tuned on clean image-caption pairs with CLIP's loss plus in-modal self-supervised
//! losses, each image against an AutoAugment view of itself and each caption against an
//! EDA-augmented caption, so that the trigger's tie to the target caption weakens. The
//! settings (`config.rs`), the two image views (`views.rs`), the loop's learner
//! (`learner.rs`) and the entry point (`entry.rs`).
mod config;
mod entry;
mod learner;
mod views;

pub use config::CleanClipConfig;
pub use entry::{CLEANCLIP_FILE, PAIRS_FILE, finetune_cleanclip};
