//! CleanCLIP's two views of an image (the reference's `ImageCaptionDataset` with
//! `inmodal`): the image as CLIP's processor shows it (shorter side resized to the view
//! size, centre-cropped), and the same after torchvision's `AutoAugment()` on the image as
//! loaded.
use corruptencoder_augment::{FloatImage, auto_augment};
use corruptencoder_core::Rng;
use image::RgbImage;

use crate::error::Result;
use crate::features::extract::EvalTransform;
use crate::run::batches::ViewSource;

/// The clean view and the AutoAugment view, both `size` pixels square.
pub(crate) struct CleanClipViews {
    pub(crate) size: u32,
}

impl CleanClipViews {
    fn shown(&self, image: &RgbImage, source: &str) -> Result<FloatImage> {
        let transform = EvalTransform { resize: self.size, crop: self.size };
        let side = self.size as usize;
        Ok(FloatImage { width: side, height: side, data: transform.apply(image, source)? })
    }
}

impl ViewSource for CleanClipViews {
    fn count(&self) -> usize {
        2
    }

    fn size(&self) -> u32 {
        self.size
    }

    fn draw(&self, image: &RgbImage, source: &str, rng: &mut Rng) -> Result<Vec<FloatImage>> {
        let augmented = auto_augment(image, rng);
        Ok(vec![self.shown(image, source)?, self.shown(&augmented, source)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    #[test]
    fn the_first_view_is_the_test_transform_and_the_second_is_augmented() {
        let image = RgbImage::from_fn(40, 30, |x, y| [(x * 6) as u8, (y * 8) as u8, 77].into());
        let views = CleanClipViews { size: 16 };
        let eval = EvalTransform { resize: 16, crop: 16 }.apply(&image, "img").unwrap();
        let mut changed = 0;
        for i in 0..20 {
            let drawn = views.draw(&image, "img", &mut item_rng(1, 1, i)).unwrap();
            assert_eq!(drawn[0].data, eval);
            assert_eq!(drawn[1].data.len(), 3 * 16 * 16);
            changed += usize::from(drawn[1].data != eval);
        }
        assert!(changed > 10, "{changed}");
        let again = views.draw(&image, "img", &mut item_rng(1, 1, 3)).unwrap();
        assert_eq!(again, views.draw(&image, "img", &mut item_rng(1, 1, 3)).unwrap());
    }
}
