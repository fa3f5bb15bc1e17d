//! View samplers and image augmentations with torchvision semantics.
//!
//! The crop samplers here are the single implementation used both by the pre-training view
//! pipeline and by the layout theory's Monte Carlo estimator (SPEC sections 4 and 6).
//!
//! ```
//! use corruptencoder_augment::{CropPolicy, RandomResizedCrop};
//! use corruptencoder_core::item_rng;
//! let policy = CropPolicy::Standard(RandomResizedCrop::default());
//! let (v1, v2) = policy.sample_pair(800, 400, &mut item_rng(0, 0, 0));
//! assert!(v1.x + v1.w <= 800 && v2.y + v2.h <= 400);
//! ```
#![deny(missing_docs)]

mod crop;

pub use crop::{CropBox, CropPolicy, LocalizedCrop, PairSampler, RandomResizedCrop, SquareCrop};
