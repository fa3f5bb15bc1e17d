//! Image resizing through fast_image_resize (SIMD convolution), with the filters PIL and
//! torchvision use. Its u8 kernels work in fixed point, so results do not depend on the
//! thread count.
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::{GrayImage, RgbImage};

/// Resampling filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Nearest neighbour (masks).
    Nearest,
    /// Bilinear with antialiasing on downscale (torchvision `Resize`, PIL BILINEAR).
    Bilinear,
    /// Bicubic, a = -0.5 (PIL BICUBIC).
    Bicubic,
}

impl Filter {
    fn alg(self) -> ResizeAlg {
        match self {
            Self::Nearest => ResizeAlg::Nearest,
            Self::Bilinear => ResizeAlg::Convolution(FilterType::Bilinear),
            Self::Bicubic => ResizeAlg::Convolution(FilterType::CatmullRom),
        }
    }
}

fn resize_raw(
    raw: &[u8],
    (w, h): (u32, u32),
    (dw, dh): (u32, u32),
    pt: PixelType,
    f: Filter,
) -> Vec<u8> {
    let src = ImageRef::new(w, h, raw, pt).expect("buffer matches its image size");
    let mut dst = Image::new(dw, dh, pt);
    Resizer::new()
        .resize(&src, &mut dst, &ResizeOptions::new().resize_alg(f.alg()))
        .expect("same pixel type on both sides");
    dst.into_vec()
}

/// Resizes an RGB image to `w x h` (both at least 1).
pub fn resize_rgb(img: &RgbImage, w: u32, h: u32, filter: Filter) -> RgbImage {
    if img.dimensions() == (w, h) {
        return img.clone();
    }
    let raw = resize_raw(img.as_raw(), img.dimensions(), (w, h), PixelType::U8x3, filter);
    RgbImage::from_raw(w, h, raw).expect("resizer returns w*h pixels")
}

/// Resizes a grey image (e.g. a mask) to `w x h`.
pub fn resize_gray(img: &GrayImage, w: u32, h: u32, filter: Filter) -> GrayImage {
    if img.dimensions() == (w, h) {
        return img.clone();
    }
    let raw = resize_raw(img.as_raw(), img.dimensions(), (w, h), PixelType::U8, filter);
    GrayImage::from_raw(w, h, raw).expect("resizer returns w*h pixels")
}

/// torchvision `Resize(size)`: the shorter side becomes `size`, the longer
/// `int(size * long / short)`; bilinear with antialiasing on downscale (PIL's).
pub fn resize_shorter(img: &RgbImage, size: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let (short, long) = if w <= h { (w, h) } else { (h, w) };
    if short == size {
        return img.clone();
    }
    let new_long = ((f64::from(size) * f64::from(long) / f64::from(short)) as u32).max(1);
    let (nw, nh) = if w <= h { (size, new_long) } else { (new_long, size) };
    resize_rgb(img, nw, nh, Filter::Bilinear)
}

/// torchvision `CenterCrop`: offsets `int(round((side - crop) / 2))` (Python rounds half to
/// even). `None` when the image is smaller than the crop, where torchvision would pad.
pub fn center_crop(img: &RgbImage, crop: u32) -> Option<RgbImage> {
    let (w, h) = img.dimensions();
    if w < crop || h < crop {
        return None;
    }
    let off = |side: u32| (f64::from(side - crop) / 2.0).round_ties_even() as u32;
    Some(image::imageops::crop_imm(img, off(w), off(h), crop, crop).to_image())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Luma, Rgb};

    #[test]
    fn flat_images_stay_flat_and_nearest_keeps_values() {
        let img = RgbImage::from_pixel(37, 21, Rgb([10, 200, 30]));
        for f in [Filter::Bilinear, Filter::Bicubic, Filter::Nearest] {
            let r = resize_rgb(&img, 80, 9, f);
            assert_eq!(r.dimensions(), (80, 9));
            assert!(r.pixels().all(|p| *p == Rgb([10, 200, 30])), "{f:?}");
        }
        let m = GrayImage::from_fn(4, 4, |x, _| Luma([if x < 2 { 0 } else { 255 }]));
        let r = resize_gray(&m, 8, 8, Filter::Nearest);
        assert!(r.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255));
        assert_eq!(r.get_pixel(0, 0).0[0], 0);
        assert_eq!(r.get_pixel(7, 7).0[0], 255);
    }

    #[test]
    fn bicubic_matches_image_crate_closely() {
        // A smooth gradient: any correct bicubic gives nearly the same values.
        let img = RgbImage::from_fn(64, 48, |x, y| Rgb([(x * 4) as u8, (y * 5) as u8, 128]));
        let ours = resize_rgb(&img, 100, 30, Filter::Bicubic);
        let theirs =
            image::imageops::resize(&img, 100, 30, image::imageops::FilterType::CatmullRom);
        let max = ours.as_raw().iter().zip(theirs.as_raw()).map(|(a, b)| a.abs_diff(*b)).max();
        assert!(max.unwrap() <= 2, "{max:?}");
    }
}
