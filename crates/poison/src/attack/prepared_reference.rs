//! A reference object prepared for CorruptEncoder's poisons (method.md section 3, steps 2
//! and 3): cut to its box, resized for the horizontal and the vertical layouts with its
//! blurred mask, and its area ratio resolved.
use corruptencoder_data::{Filter, Reference, resize_gray, resize_rgb};
use corruptencoder_theory::{OptimalRatioOptions, optimal_area_ratio};
use image::imageops;
use image::{GrayImage, RgbImage};

use super::base::Layout;
use super::corrupt_encoder_config::AreaRatio;
use crate::error::Result;

/// The size `(w, h)` the generator resizes a reference object to, from its box `object`
/// (width, height) in the photo (method.md section 3): horizontal layouts cap the width at
/// `max_size / 2`, vertical ones the height, and the other side keeps the aspect ratio
/// (truncated, as the authors' code). The layout theory's object size for a real reference.
pub fn resized_object_size(object: (u32, u32), max_size: u32, layout: Layout) -> (u32, u32) {
    let (w, h) = object;
    let half = max_size / 2;
    // Vertical layouts are horizontal ones with the roles of width and height swapped.
    let scaled = |side: u32, other: u32| {
        let s = side.min(half);
        (s, ((f64::from(s) / f64::from(side)) * f64::from(other)) as u32)
    };
    let (w, h) = if layout.is_horizontal() {
        scaled(w, h)
    } else {
        let (h, w) = scaled(h, w);
        (w, h)
    };
    (w.max(1), h.max(1))
}

/// A reference object cut to its box and resized for one orientation, with its blurred
/// mask. Computed once per reference, since it does not depend on the poison.
#[derive(Debug, Clone)]
pub(crate) struct PreparedObject {
    pub(crate) image: RgbImage,
    pub(crate) mask: GrayImage,
}

/// A reference with its object prepared for both orientations.
#[derive(Debug, Clone)]
pub(crate) struct PreparedReference {
    pub(crate) name: String,
    /// The whole photo (CorruptEncoder+'s support images show it).
    pub(crate) whole: RgbImage,
    pub(crate) horizontal: PreparedObject,
    pub(crate) vertical: PreparedObject,
    /// Area ratio of the horizontal and the vertical layouts.
    pub(crate) ratios: (f64, f64),
}

impl PreparedReference {
    pub(crate) fn new(r: &Reference, max_size: u32) -> Self {
        let b = r.object_box;
        let image = imageops::crop_imm(&r.image, b.x, b.y, b.w, b.h).to_image();
        let mask = imageops::crop_imm(&r.mask.0, b.x, b.y, b.w, b.h).to_image();
        let (o_w, o_h) = resized_object_size((b.w, b.h), max_size, Layout::Left);
        let (v_w, v_h) = resized_object_size((b.w, b.h), max_size, Layout::Top);
        Self {
            name: r.name.clone(),
            whole: r.image.clone(),
            horizontal: PreparedObject::new(&image, &mask, o_w, o_h),
            vertical: PreparedObject::new(&image, &mask, v_w, v_h),
            ratios: (2.0, 2.0),
        }
    }

    /// Resolves the area ratio of both orientations; the optimum is computed in layout
    /// coordinates (long axis first), and only for the orientations in use.
    pub(crate) fn with_ratios(
        mut self,
        area: AreaRatio,
        trigger: u32,
        vertical: bool,
    ) -> Result<Self> {
        self.ratios = match area {
            AreaRatio::Fixed(r) => (r, r),
            AreaRatio::Optimal { crops } => {
                let opts = OptimalRatioOptions::default();
                let (w, h) = self.horizontal.image.dimensions();
                let h_ratio = optimal_area_ratio(w, h, trigger, &crops, &opts)?;
                let v_ratio = if vertical {
                    let (w, h) = self.vertical.image.dimensions();
                    optimal_area_ratio(h, w, trigger, &crops, &opts)?
                } else {
                    h_ratio
                };
                (h_ratio, v_ratio)
            }
        };
        Ok(self)
    }
}

impl PreparedObject {
    fn new(image: &RgbImage, mask: &GrayImage, w: u32, h: u32) -> Self {
        let image = resize_rgb(image, w, h, Filter::Bicubic);
        let mask = resize_gray(mask, w, h, Filter::Nearest);
        // PIL's GaussianBlur(radius=1) is a Gaussian of standard deviation 1.
        let mask = imageproc::filter::gaussian_blur_f32(&mask, 1.0);
        Self { image, mask }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_capped_at_half_the_max_size_along_the_layout() {
        // A 1000x600 box: horizontal layouts cap the width at 400, keeping 5:3.
        assert_eq!(resized_object_size((1000, 600), 800, Layout::Left), (400, 240));
        assert_eq!(resized_object_size((1000, 600), 800, Layout::Right), (400, 240));
        // Vertical ones cap the height: 600 -> 400, width 1000 * 400 / 600 truncated.
        assert_eq!(resized_object_size((1000, 600), 800, Layout::Top), (666, 400));
        // Small objects keep their size; sides never reach 0.
        assert_eq!(resized_object_size((120, 90), 800, Layout::Bottom), (120, 90));
        assert_eq!(resized_object_size((1000, 1), 800, Layout::Left), (400, 1));
    }
}
