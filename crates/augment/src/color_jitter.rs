use corruptencoder_core::{Rng, uniform};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::FloatImage;

/// torchvision `ColorJitter(brightness, contrast, saturation, hue)`: each factor is drawn
/// uniformly (`[1 - s, 1 + s]`, hue `[-h, h]`) and the four adjustments run in a random
/// order (`get_params`'s `randperm(4)`). Defaults: method.md section 6, (0.4, 0.4, 0.4, 0.1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ColorJitter {
    /// Brightness strength (method.md section 6: 0.4).
    pub brightness: f32,
    /// Contrast strength (method.md section 6: 0.4).
    pub contrast: f32,
    /// Saturation strength (method.md section 6: 0.4).
    pub saturation: f32,
    /// Hue strength, at most 0.5 (method.md section 6: 0.1).
    pub hue: f32,
}

impl Default for ColorJitter {
    fn default() -> Self {
        Self { brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 }
    }
}

impl ColorJitter {
    /// Applies a jitter drawn from `rng` to `image` in place.
    pub fn apply(&self, image: &mut FloatImage, rng: &mut Rng) {
        let mut order = [0usize, 1, 2, 3];
        order.shuffle(rng);
        let factor =
            |rng: &mut Rng, s: f32| uniform(rng, f64::from(1.0 - s), f64::from(1.0 + s)) as f32;
        // Factors are drawn in torchvision's order (b, c, s, h) whatever the apply order.
        let b = factor(rng, self.brightness);
        let c = factor(rng, self.contrast);
        let s = factor(rng, self.saturation);
        let h = uniform(rng, f64::from(-self.hue), f64::from(self.hue)) as f32;
        for op in order {
            match op {
                0 => adjust_brightness(image, b),
                1 => adjust_contrast(image, c),
                2 => adjust_saturation(image, s),
                _ => adjust_hue(image, h),
            }
        }
    }
}

/// torchvision `_blend(img, other, ratio)`: `ratio * img + (1 - ratio) * other`, clamped.
fn blend(value: f32, other: f32, ratio: f32) -> f32 {
    (ratio * value + (1.0 - ratio) * other).clamp(0.0, 1.0)
}

/// torchvision `adjust_brightness`: blend with black.
pub fn adjust_brightness(image: &mut FloatImage, factor: f32) {
    image.data.iter_mut().for_each(|v| *v = blend(*v, 0.0, factor));
}

/// torchvision `adjust_contrast`: blend with the mean grey level of the whole image.
pub fn adjust_contrast(image: &mut FloatImage, factor: f32) {
    let luma = image.luma();
    let mean = luma.iter().sum::<f32>() / luma.len().max(1) as f32;
    image.data.iter_mut().for_each(|v| *v = blend(*v, mean, factor));
}

/// torchvision `adjust_saturation`: blend with the image's own greyscale.
pub fn adjust_saturation(image: &mut FloatImage, factor: f32) {
    let luma = image.luma();
    let n = image.plane();
    for (i, v) in image.data.iter_mut().enumerate() {
        *v = blend(*v, luma[i % n], factor);
    }
}

/// torchvision `adjust_hue`: rotate the hue in HSV space by `factor` turns.
pub fn adjust_hue(image: &mut FloatImage, factor: f32) {
    let n = image.plane();
    for i in 0..n {
        let (r, g, b) = (image.data[i], image.data[n + i], image.data[2 * n + i]);
        let (h, s, v) = rgb_to_hsv(r, g, b);
        let (r, g, b) = hsv_to_rgb((h + factor).rem_euclid(1.0), s, v);
        (image.data[i], image.data[n + i], image.data[2 * n + i]) = (r, g, b);
    }
}

fn rgb_to_hsv(r: f32, g: f32, b: f32) -> (f32, f32, f32) {
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let delta = max - min;
    let s = if max > 0.0 { delta / max } else { 0.0 };
    if delta == 0.0 {
        return (0.0, s, max);
    }
    let h = if max == r {
        ((g - b) / delta).rem_euclid(6.0)
    } else if max == g {
        (b - r) / delta + 2.0
    } else {
        (r - g) / delta + 4.0
    };
    (h / 6.0, s, max)
}

fn hsv_to_rgb(h: f32, s: f32, v: f32) -> (f32, f32, f32) {
    let h6 = h * 6.0;
    let sector = (h6.floor() as i32).rem_euclid(6);
    let f = h6 - h6.floor();
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    match sector {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    fn pixel(r: f32, g: f32, b: f32) -> FloatImage {
        FloatImage { width: 1, height: 1, data: vec![r, g, b] }
    }

    #[test]
    fn brightness_scales_and_clamps() {
        let mut img = pixel(0.2, 0.6, 1.0);
        adjust_brightness(&mut img, 1.5);
        assert_eq!(img.data, vec![0.3, 0.90000004, 1.0]);
    }

    #[test]
    fn contrast_zero_gives_mean_grey_and_saturation_zero_gives_luma() {
        let mut img = FloatImage { width: 2, height: 1, data: vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0] };
        adjust_contrast(&mut img, 0.0);
        // The luma weights sum to 0.9999, not 1.
        assert!(img.data.iter().all(|v| (v - 0.5).abs() < 1e-4), "{:?}", img.data);
        let mut red = pixel(1.0, 0.0, 0.0);
        adjust_saturation(&mut red, 0.0);
        assert!(red.data.iter().all(|v| (v - 0.2989).abs() < 1e-6));
    }

    #[test]
    fn hue_shift_by_a_third_turns_red_into_green() {
        let mut img = pixel(1.0, 0.0, 0.0);
        adjust_hue(&mut img, 1.0 / 3.0);
        assert!((img.data[0]).abs() < 1e-5 && (img.data[1] - 1.0).abs() < 1e-5, "{:?}", img.data);
        let mut back = img.clone();
        adjust_hue(&mut back, -1.0 / 3.0);
        assert!((back.data[0] - 1.0).abs() < 1e-5);
    }

    #[test]
    fn jitter_is_reproducible_and_changes_the_image() {
        let img =
            FloatImage { width: 2, height: 2, data: (0..12).map(|i| i as f32 / 12.0).collect() };
        let (mut a, mut b) = (img.clone(), img.clone());
        ColorJitter::default().apply(&mut a, &mut item_rng(3, 0, 0));
        ColorJitter::default().apply(&mut b, &mut item_rng(3, 0, 0));
        assert_eq!(a, b);
        assert_ne!(a, img);
        assert!(a.data.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
