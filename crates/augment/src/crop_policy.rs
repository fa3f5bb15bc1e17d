//! How the two views of an image are cropped: the training policies behind one enum, and the
//! [`PairSampler`] trait the layout theory's Monte Carlo is generic over.
use corruptencoder_core::Rng;
use serde::{Deserialize, Serialize};

use crate::crop_box::CropBox;
use crate::draws::up_to;
use crate::localized_crop::{LocalizedCrop, PreparedLocalized};
use crate::random_resized_crop::RandomResizedCrop;

/// How the two views of an image are cropped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CropPolicy {
    /// Two independent RandomResizedCrop views (standard CL).
    Standard(RandomResizedCrop),
    /// The localized cropping defense.
    Localized(LocalizedCrop),
}

impl Default for CropPolicy {
    fn default() -> Self {
        Self::Standard(RandomResizedCrop::default())
    }
}

impl CropPolicy {
    /// Samples the two views of a `width x height` image.
    pub fn sample_pair(&self, width: u32, height: u32, rng: &mut Rng) -> (CropBox, CropBox) {
        match self {
            Self::Standard(c) => (c.sample(width, height, rng), c.sample(width, height, rng)),
            Self::Localized(c) => c.sample_pair(width, height, rng),
        }
    }
}

/// Anything that samples the two views of an image. The layout theory's Monte Carlo is
/// generic over it, so it runs the very samplers the training pipeline uses.
pub trait PairSampler: Sync {
    /// Samples (view 1, view 2) of a `width x height` image.
    fn sample_pair(&self, width: u32, height: u32, rng: &mut Rng) -> (CropBox, CropBox);

    /// Draws `n` pairs in a row and hands each to `f`; the same pairs as `n` calls of
    /// [`Self::sample_pair`], but samplers may hoist per-call set-up out of the loop.
    fn for_each_pair(
        &self,
        width: u32,
        height: u32,
        rng: &mut Rng,
        n: u64,
        mut f: impl FnMut(CropBox, CropBox),
    ) where
        Self: Sized,
    {
        for _ in 0..n {
            let (a, b) = self.sample_pair(width, height, rng);
            f(a, b);
        }
    }
}

impl PairSampler for CropPolicy {
    fn sample_pair(&self, width: u32, height: u32, rng: &mut Rng) -> (CropBox, CropBox) {
        CropPolicy::sample_pair(self, width, height, rng)
    }

    fn for_each_pair(
        &self,
        width: u32,
        height: u32,
        rng: &mut Rng,
        n: u64,
        mut f: impl FnMut(CropBox, CropBox),
    ) {
        match self {
            Self::Standard(c) => {
                let prepared = c.prepare(width, height);
                for _ in 0..n {
                    let a = prepared.sample(rng);
                    f(a, prepared.sample(rng));
                }
            }
            Self::Localized(c) => {
                let prepared = PreparedLocalized::new(c, width, height);
                for _ in 0..n {
                    let (a, b) = prepared.sample_pair(rng);
                    f(a, b);
                }
            }
        }
    }
}

/// Fixed `size x size` views at a uniform whole-pixel position: the simplified view model of
/// the layout theory (method.md section 4). Theory and tests only; not a training policy, which
/// is why it is not a [`CropPolicy`] variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SquareCrop {
    /// Side of the square view in pixels. A side larger than the image is clipped to it.
    pub size: u32,
}

impl SquareCrop {
    /// Samples one view: `x ~ U{0..=width-size}`, `y ~ U{0..=height-size}`.
    pub fn sample(&self, width: u32, height: u32, rng: &mut Rng) -> CropBox {
        let (w, h) = (self.size.clamp(1, width), self.size.clamp(1, height));
        let x = up_to(rng, width - w);
        let y = up_to(rng, height - h);
        CropBox { x, y, w, h }
    }
}

impl PairSampler for SquareCrop {
    /// Two independent views, as the theory assumes.
    fn sample_pair(&self, width: u32, height: u32, rng: &mut Rng) -> (CropBox, CropBox) {
        (self.sample(width, height, rng), self.sample(width, height, rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    #[test]
    fn square_views_cover_every_position_and_clip() {
        let c = SquareCrop { size: 3 };
        let mut rng = item_rng(3, 0, 0);
        let mut seen = [[false; 3]; 2];
        for _ in 0..500 {
            let b = c.sample(5, 4, &mut rng);
            assert_eq!((b.w, b.h), (3, 3));
            seen[b.y as usize][b.x as usize] = true;
        }
        assert!(seen.iter().flatten().all(|s| *s));
        let big = SquareCrop { size: 10 }.sample(5, 4, &mut rng);
        assert_eq!(big, CropBox { x: 0, y: 0, w: 5, h: 4 });
    }

    #[test]
    fn batched_pairs_equal_single_pairs() {
        for policy in [
            CropPolicy::Standard(RandomResizedCrop::default()),
            CropPolicy::Localized(LocalizedCrop::default()),
        ] {
            let (mut r1, mut r2) = (item_rng(4, 0, 0), item_rng(4, 0, 0));
            let mut batched = Vec::new();
            policy.for_each_pair(640, 300, &mut r1, 300, |a, b| batched.push((a, b)));
            let single: Vec<_> = (0..300).map(|_| policy.sample_pair(640, 300, &mut r2)).collect();
            assert_eq!(batched, single);
        }
    }
}
