//! View samplers and image augmentations with torchvision semantics, and EDA's caption
//! augmentation.
//!
//! The crop samplers here are the single implementation used both by the pre-training view
//! pipeline and by the layout theory's Monte Carlo estimator (method.md sections 4 and 6). Each
//! transform has its own file; [`ViewRecipe`] chains them into a method's two views.
//!
//! ```
//! use corruptencoder_augment::{CropPolicy, RandomResizedCrop, ViewRecipe};
//! use corruptencoder_core::item_rng;
//! let policy = CropPolicy::Standard(RandomResizedCrop::default());
//! let (v1, v2) = policy.sample_pair(800, 400, &mut item_rng(0, 0, 0));
//! assert!(v1.x + v1.w <= 800 && v2.y + v2.h <= 400);
//!
//! let image = image::RgbImage::new(40, 30);
//! let [a, b] = ViewRecipe::moco_v2(16).views(&image, &mut item_rng(0, 0, 0));
//! assert_eq!((a.width, b.data.len()), (16, 3 * 16 * 16));
//! ```
#![deny(missing_docs)]

mod auto_augment;
mod auto_augment_ops;
mod color_jitter;
mod crop_box;
mod crop_policy;
mod crop_region;
mod draws;
mod eda;
mod flip;
mod float_image;
mod gaussian_blur;
mod grayscale;
mod localized_crop;
mod log_uniform;
mod normalize;
mod prepared_crop;
mod random_resized_crop;
mod resized_crop;
mod views;

pub use auto_augment::auto_augment;
pub use color_jitter::{
    ColorJitter, adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation,
};
pub use crop_box::CropBox;
pub use crop_policy::{CropPolicy, PairSampler, SquareCrop};
pub use eda::{Eda, random_deletion, random_insertion, random_swap};
pub use flip::horizontal_flip;
pub use float_image::FloatImage;
pub use gaussian_blur::gaussian_blur;
pub use grayscale::grayscale;
pub use localized_crop::LocalizedCrop;
pub use normalize::{IMAGENET_MEAN, IMAGENET_STD, normalize};
pub use random_resized_crop::RandomResizedCrop;
pub use resized_crop::resized_crop;
pub use views::{Crops, ViewRecipe};
