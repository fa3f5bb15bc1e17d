//! Integration tests of the poison generators on the authors' kit.
mod baselines;
mod clip;
mod corrupt_encoder;
mod ctrl;
mod golden;
mod proptests;
mod testset;

use std::path::PathBuf;

use corruptencoder_data::{ImageLimits, list_images, load_rgb};
use image::RgbImage;
use image::imageops::{self, FilterType};

#[path = "../../../../tests/kit.rs"]
mod kit;
pub(crate) use kit::kit;

/// The kit's hunting-dog reference photos and support photos (real target-class images).
pub(crate) fn hunting_dog_photos() -> Vec<PathBuf> {
    let dir = kit().join("references/hunting-dog");
    let mut files = list_images(&dir).unwrap();
    files.extend(list_images(&dir.join("support-images")).unwrap());
    assert_eq!(files.len(), 8);
    files
}

/// The first `n` kit backgrounds.
pub(crate) fn backgrounds(n: usize) -> Vec<PathBuf> {
    list_images(&kit().join("backgrounds")).unwrap()[..n].to_vec()
}

/// A kit background shrunk to `w x h`.
pub(crate) fn kit_photo(i: usize, w: u32, h: u32) -> RgbImage {
    let img = load_rgb(&backgrounds(i + 1)[i], &ImageLimits::default()).unwrap();
    imageops::resize(&img, w, h, FilterType::Triangle)
}

pub(crate) fn trigger_path() -> PathBuf {
    kit().join("triggers/trigger_10.png")
}
