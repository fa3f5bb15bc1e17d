use image::{RgbImage, imageops};

use crate::crop_box::CropBox;

/// torchvision `F.resized_crop(img, i, j, h, w, (size, size), BILINEAR)` on a PIL image:
/// cut `crop` out of `image` and resize it to `size x size`.
///
/// `image`'s Triangle filter widens its support when shrinking, which is what PIL's
/// antialiased BILINEAR does (torchvision on PIL images), so downscaled views are not
/// aliased the way plain 2x2 bilinear sampling would be.
pub fn resized_crop(image: &RgbImage, crop: CropBox, size: u32) -> RgbImage {
    let view = imageops::crop_imm(image, crop.x, crop.y, crop.w, crop.h).to_image();
    if view.width() == size && view.height() == size {
        return view;
    }
    imageops::resize(&view, size, size, imageops::FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_the_box_and_resizes() {
        // Left half red, right half blue.
        let img =
            RgbImage::from_fn(
                8,
                4,
                |x, _| if x < 4 { [255, 0, 0].into() } else { [0, 0, 255].into() },
            );
        let right = resized_crop(&img, CropBox { x: 4, y: 0, w: 4, h: 4 }, 2);
        assert_eq!(right.dimensions(), (2, 2));
        assert!(right.pixels().all(|p| p.0 == [0, 0, 255]));
        let all = resized_crop(&img, CropBox { x: 0, y: 0, w: 8, h: 4 }, 16);
        assert_eq!(all.get_pixel(0, 0).0, [255, 0, 0]);
        assert_eq!(all.get_pixel(15, 15).0, [0, 0, 255]);
    }
}
