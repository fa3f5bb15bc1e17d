use corruptencoder_core::Rng;
use image::RgbImage;
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use crate::{
    ColorJitter, CropPolicy, FloatImage, IMAGENET_MEAN, IMAGENET_STD, LocalizedCrop,
    RandomResizedCrop, gaussian_blur, grayscale, horizontal_flip, normalize, resized_crop,
};

/// How the two views of an image are cropped (method.md section 6): two independent
/// RandomResizedCrops, or the localized cropping defense.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Crops {
    /// Two independent RandomResizedCrop views.
    #[default]
    Standard,
    /// Localized cropping (authors' code): view 2 lies near view 1.
    Localized,
}

/// One method's view recipe: crop, then the per-view augmentations in MoCo-v2's order
/// (RandomResizedCrop, ColorJitter p, RandomGrayscale p, GaussianBlur p, flip, Normalize).
/// The default is the authors' recipe, method.md section 6.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ViewRecipe {
    /// Output side in pixels (method.md section 6: 224).
    pub size: u32,
    /// Standard or localized crops.
    pub crops: Crops,
    /// The crop sampler (method.md section 6: scale 0.2-1, ratio 3/4-4/3).
    pub crop: RandomResizedCrop,
    /// ColorJitter strengths (method.md section 6: 0.4, 0.4, 0.4, 0.1).
    pub jitter: ColorJitter,
    /// Probability of applying the jitter (method.md section 6: 0.8).
    pub jitter_p: f64,
    /// RandomGrayscale probability (method.md section 6: 0.2).
    pub grayscale_p: f64,
    /// Probability of a Gaussian blur (method.md section 6: 0.5).
    pub blur_p: f64,
    /// Range of the blur's sigma in pixels of the view (method.md section 6: 0.1-2, for 224 px
    /// views; at 32 px that blur erases fine texture, docs/study/world.md).
    pub blur_sigma: (f64, f64),
    /// Horizontal flip probability (torchvision default 0.5).
    pub flip_p: f64,
}

impl Default for ViewRecipe {
    fn default() -> Self {
        Self {
            size: 224,
            crops: Crops::Standard,
            crop: RandomResizedCrop::default(),
            jitter: ColorJitter::default(),
            jitter_p: 0.8,
            grayscale_p: 0.2,
            blur_p: 0.5,
            blur_sigma: (0.1, 2.0),
            flip_p: 0.5,
        }
    }
}

impl ViewRecipe {
    /// MoCo-v2's recipe, which the authors used for every method (method.md section 6).
    pub fn moco_v2(size: u32) -> Self {
        Self { size, ..Self::default() }
    }

    /// SimCLR's recipe: colour strength 0.8 (jitter 0.8, 0.8, 0.8, 0.2), otherwise as MoCo-v2.
    pub fn simclr(size: u32) -> Self {
        let jitter = ColorJitter { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.2 };
        Self { size, jitter, ..Self::default() }
    }

    /// The crop policy the recipe's `crops` switch selects.
    pub fn crop_policy(&self) -> CropPolicy {
        match self.crops {
            Crops::Standard => CropPolicy::Standard(self.crop),
            Crops::Localized => {
                CropPolicy::Localized(LocalizedCrop { first: self.crop, ..Default::default() })
            }
        }
    }

    /// The two normalised views of `image`, planar CHW of side `size`; every random choice
    /// comes from `rng`, crops first (both at once, as localized cropping needs), then view 1's
    /// augmentations, then view 2's.
    pub fn views(&self, image: &RgbImage, rng: &mut Rng) -> [FloatImage; 2] {
        let (c1, c2) = self.crop_policy().sample_pair(image.width(), image.height(), rng);
        let v1 = self.augment(FloatImage::from_rgb(&resized_crop(image, c1, self.size)), rng);
        let v2 = self.augment(FloatImage::from_rgb(&resized_crop(image, c2, self.size)), rng);
        [v1, v2]
    }

    /// One normalised view of `image` (image-text pre-training sees one view per image):
    /// a RandomResizedCrop, then the per-view augmentations.
    pub fn view(&self, image: &RgbImage, rng: &mut Rng) -> FloatImage {
        let c = self.crop.sample(image.width(), image.height(), rng);
        self.augment(FloatImage::from_rgb(&resized_crop(image, c, self.size)), rng)
    }

    /// The per-view augmentations after the crop, in MoCo-v2's order, then the
    /// normalisation: for callers that change the cropped view before them (PatchSearch's
    /// poison classifier pastes a patch on it). torchvision's `RandomApply` skips when
    /// `p < U[0,1)`; the same comparison keeps decisions aligned.
    pub fn augment(&self, mut view: FloatImage, rng: &mut Rng) -> FloatImage {
        if self.jitter_p > rng.random::<f64>() {
            self.jitter.apply(&mut view, rng);
        }
        if self.grayscale_p > rng.random::<f64>() {
            grayscale(&mut view);
        }
        if self.blur_p > rng.random::<f64>() {
            let sigma = corruptencoder_core::uniform(rng, self.blur_sigma.0, self.blur_sigma.1);
            gaussian_blur(&mut view, sigma as f32);
        }
        if self.flip_p > rng.random::<f64>() {
            horizontal_flip(&mut view);
        }
        normalize(&mut view, IMAGENET_MEAN, IMAGENET_STD);
        view
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    fn checker() -> RgbImage {
        RgbImage::from_fn(32, 24, |x, y| {
            [(x * 8) as u8, (y * 10) as u8, ((x + y) % 2 * 255) as u8].into()
        })
    }

    #[test]
    fn views_have_the_size_and_are_reproducible() {
        let r = ViewRecipe::moco_v2(16);
        let a = r.views(&checker(), &mut item_rng(5, 1, 7));
        let b = r.views(&checker(), &mut item_rng(5, 1, 7));
        assert_eq!(a, b);
        assert_eq!(a[0].data.len(), 3 * 16 * 16);
        assert_ne!(a[0], a[1]);
        let c = r.views(&checker(), &mut item_rng(5, 1, 8));
        assert_ne!(a, c);
        let one = r.view(&checker(), &mut item_rng(5, 1, 7));
        assert_eq!(one, r.view(&checker(), &mut item_rng(5, 1, 7)));
        assert_eq!(one.data.len(), 3 * 16 * 16);
    }

    #[test]
    fn without_augmentations_a_view_is_the_normalised_crop() {
        let r = ViewRecipe {
            size: 8,
            jitter_p: 0.0,
            grayscale_p: 0.0,
            blur_p: 0.0,
            flip_p: 0.0,
            ..Default::default()
        };
        let img = RgbImage::from_pixel(10, 10, [124, 116, 104].into());
        let [v, _] = r.views(&img, &mut item_rng(0, 0, 0));
        // ImageNet's mean colour normalises to about zero.
        assert!(v.data.iter().all(|x| x.abs() < 0.01), "{:?}", &v.data[..3]);
    }

    #[test]
    fn grayscale_probability_is_respected() {
        let r = ViewRecipe { size: 4, jitter_p: 0.0, blur_p: 0.0, ..Default::default() };
        let img = RgbImage::from_pixel(8, 8, [200, 20, 20].into());
        let mut grey = 0;
        for i in 0..2000 {
            let [v, _] = r.views(&img, &mut item_rng(1, 0, i));
            // Grey views have equal unnormalised channels.
            let raw: Vec<f32> =
                (0..3).map(|c| v.data[c * 16] * IMAGENET_STD[c] + IMAGENET_MEAN[c]).collect();
            if (raw[0] - raw[1]).abs() < 1e-4 {
                grey += 1;
            }
        }
        assert!((320..480).contains(&grey), "{grey}");
    }
}
