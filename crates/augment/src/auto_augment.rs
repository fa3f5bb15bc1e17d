//! torchvision's `AutoAugment` with its ImageNet policy (Cubuk et al. 2019), on PIL images
//! with nearest-neighbour geometry and black fill: the augmentation CleanCLIP draws for the
//! second view of each image.
use corruptencoder_core::{Rng, uniform, uniform_int};
use image::RgbImage;

use crate::auto_augment_ops::{
    autocontrast, color, contrast, equalize, invert, posterize, rotate, sharpness, shear_x,
    solarize,
};

/// One operation of the ImageNet policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Posterize,
    Rotate,
    Solarize,
    AutoContrast,
    Equalize,
    Color,
    Contrast,
    Sharpness,
    ShearX,
    Invert,
}

/// An operation, its probability and its magnitude bin (of 10; `None` for the operations
/// without a magnitude).
type Step = (Op, f64, Option<u8>);

/// torchvision's `AutoAugmentPolicy.IMAGENET`: 25 sub-policies of two steps.
const IMAGENET_POLICY: [[Step; 2]; 25] = {
    use Op::*;
    [
        [(Posterize, 0.4, Some(8)), (Rotate, 0.6, Some(9))],
        [(Solarize, 0.6, Some(5)), (AutoContrast, 0.6, None)],
        [(Equalize, 0.8, None), (Equalize, 0.6, None)],
        [(Posterize, 0.6, Some(7)), (Posterize, 0.6, Some(6))],
        [(Equalize, 0.4, None), (Solarize, 0.2, Some(4))],
        [(Equalize, 0.4, None), (Rotate, 0.8, Some(8))],
        [(Solarize, 0.6, Some(3)), (Equalize, 0.6, None)],
        [(Posterize, 0.8, Some(5)), (Equalize, 1.0, None)],
        [(Rotate, 0.2, Some(3)), (Solarize, 0.6, Some(8))],
        [(Equalize, 0.6, None), (Posterize, 0.4, Some(6))],
        [(Rotate, 0.8, Some(8)), (Color, 0.4, Some(0))],
        [(Rotate, 0.4, Some(9)), (Equalize, 0.6, None)],
        [(Equalize, 0.0, None), (Equalize, 0.8, None)],
        [(Invert, 0.6, None), (Equalize, 1.0, None)],
        [(Color, 0.6, Some(4)), (Contrast, 1.0, Some(8))],
        [(Rotate, 0.8, Some(8)), (Color, 1.0, Some(2))],
        [(Color, 0.8, Some(8)), (Solarize, 0.8, Some(7))],
        [(Sharpness, 0.4, Some(7)), (Invert, 0.6, None)],
        [(ShearX, 0.6, Some(5)), (Equalize, 1.0, None)],
        [(Color, 0.4, Some(0)), (Equalize, 0.6, None)],
        [(Equalize, 0.4, None), (Solarize, 0.2, Some(4))],
        [(Solarize, 0.6, Some(5)), (AutoContrast, 0.6, None)],
        [(Invert, 0.6, None), (Equalize, 1.0, None)],
        [(Color, 0.6, Some(4)), (Contrast, 1.0, Some(8))],
        [(Equalize, 0.8, None), (Equalize, 0.6, None)],
    ]
};

/// Magnitude bins (torchvision's `_augmentation_space(10, ...)`).
const BINS: f64 = 9.0;

impl Op {
    /// The magnitude of bin `bin`, and whether a random sign applies to it.
    fn magnitude(self, bin: u8) -> (f64, bool) {
        let b = f64::from(bin);
        match self {
            Self::ShearX => (0.3 * b / BINS, true),
            Self::Rotate => (30.0 * b / BINS, true),
            Self::Color | Self::Contrast | Self::Sharpness => (0.9 * b / BINS, true),
            // `8 - round(bin / (9 / 4))`: no bin falls on a half, so rounding mode is moot.
            Self::Posterize => (8.0 - (b / (BINS / 4.0)).round(), false),
            Self::Solarize => (255.0 - 255.0 * b / BINS, false),
            Self::AutoContrast | Self::Equalize | Self::Invert => (0.0, false),
        }
    }

    fn apply(self, image: &RgbImage, magnitude: f64) -> RgbImage {
        match self {
            Self::Posterize => posterize(image, magnitude as u32),
            Self::Rotate => rotate(image, magnitude),
            Self::Solarize => solarize(image, magnitude),
            Self::AutoContrast => autocontrast(image),
            Self::Equalize => equalize(image),
            Self::Color => color(image, 1.0 + magnitude),
            Self::Contrast => contrast(image, 1.0 + magnitude),
            Self::Sharpness => sharpness(image, 1.0 + magnitude),
            Self::ShearX => shear_x(image, magnitude),
            Self::Invert => invert(image),
        }
    }
}

/// AutoAugment's ImageNet policy on `image`, as torchvision's `AutoAugment()` draws it: a
/// sub-policy uniformly, then for each of its two steps a uniform draw that applies the
/// step when at most its probability, and a sign (negative half the time) for the signed
/// magnitudes. Every draw is made, in that order, whether or not a step applies.
pub fn auto_augment(image: &RgbImage, rng: &mut Rng) -> RgbImage {
    let policy = &IMAGENET_POLICY[uniform_int(rng, 0, IMAGENET_POLICY.len() as i64 - 1) as usize];
    let probs = [uniform(rng, 0.0, 1.0), uniform(rng, 0.0, 1.0)];
    let negative = [uniform_int(rng, 0, 1) == 0, uniform_int(rng, 0, 1) == 0];
    let mut out = image.clone();
    for (i, &(op, p, bin)) in policy.iter().enumerate() {
        if probs[i] <= p {
            let (mut magnitude, signed) = bin.map_or((0.0, false), |b| op.magnitude(b));
            if signed && negative[i] {
                magnitude = -magnitude;
            }
            out = op.apply(&out, magnitude);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    #[test]
    fn magnitudes_are_torchvisions_bins() {
        assert_eq!(Op::Posterize.magnitude(8).0, 4.0);
        assert_eq!(Op::Posterize.magnitude(5).0, 6.0);
        assert!((Op::Rotate.magnitude(9).0 - 30.0).abs() < 1e-12);
        assert!((Op::Solarize.magnitude(5).0 - 113.333_333).abs() < 1e-3);
        assert!((Op::Contrast.magnitude(8).0 - 0.8).abs() < 1e-12);
        assert!((Op::ShearX.magnitude(5).0 - 0.3 * 5.0 / 9.0).abs() < 1e-12);
        assert_eq!(Op::Color.magnitude(0), (0.0, true));
    }

    #[test]
    fn draws_are_seeded_and_keep_the_size() {
        let img = RgbImage::from_fn(12, 9, |x, y| [(x * 20) as u8, (y * 25) as u8, 90].into());
        let a = auto_augment(&img, &mut item_rng(3, 5, 1));
        assert_eq!(a, auto_augment(&img, &mut item_rng(3, 5, 1)));
        assert_eq!(a.dimensions(), img.dimensions());
        let changed = (0..40).filter(|&i| auto_augment(&img, &mut item_rng(3, 5, i)) != img);
        // A step applies in about 86 % of the draws (the policy's probabilities), though
        // some leave this image as it is (posterizing values already on the grid, colour
        // at factor 1): most draws still change it.
        assert!(changed.count() > 15);
    }
}
