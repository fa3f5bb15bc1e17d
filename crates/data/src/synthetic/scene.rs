//! Painting one synthetic picture: a procedural background, optionally with one textured
//! object on it and the object's exact mask.
use corruptencoder_core::{Rng, uniform};
use image::{Rgb, RgbImage};
use rand::Rng as _;

use super::shape::Shape;
use super::texture::{ClassTexture, TextureDraw, hsv};
use crate::mask::{Mask, PixelBox};

/// A linear-light float canvas, channels in `[0, 1]`, converted to 8 bits once at the end.
pub(crate) struct Canvas {
    pub(crate) w: u32,
    pub(crate) h: u32,
    pub(crate) px: Vec<[f32; 3]>,
}

impl Canvas {
    pub(crate) fn into_image(self) -> RgbImage {
        let to8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        let mut img = RgbImage::new(self.w, self.h);
        for (p, c) in img.pixels_mut().zip(&self.px) {
            *p = Rgb([to8(c[0]), to8(c[1]), to8(c[2])]);
        }
        img
    }
}

/// Background: a two-colour gradient, modulated by coarse value noise, with a few clutter
/// patches of class-free textures. Scale-free: proportions follow the image size.
pub(crate) fn paint_background(rng: &mut Rng, w: u32, h: u32) -> Canvas {
    paint_background_with(rng, w, h, 2..=5, 0.5)
}

/// [`paint_background`] with `patches` clutter patches and colours of saturation up to
/// `max_sat`.
pub(crate) fn paint_background_with(
    rng: &mut Rng,
    w: u32,
    h: u32,
    patches: std::ops::RangeInclusive<u32>,
    max_sat: f64,
) -> Canvas {
    let side = w.min(h) as f32;
    let pick = |rng: &mut Rng| {
        hsv(rng.random(), uniform(rng, 0.05, max_sat) as f32, uniform(rng, 0.3, 0.9) as f32)
    };
    let (c0, c1) = (pick(rng), pick(rng));
    let dir = uniform(rng, 0.0, std::f64::consts::TAU) as f32;
    let (dx, dy) = (dir.cos(), dir.sin());
    // Coarse value noise: a 5x5 lattice interpolated bilinearly.
    const G: usize = 5;
    let lattice: Vec<f32> = (0..G * G).map(|_| uniform(rng, -0.12, 0.12) as f32).collect();
    let mut px = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            let (u, v) = (x as f32 / w as f32, y as f32 / h as f32);
            let t = (0.5 + (u - 0.5) * dx + (v - 0.5) * dy).clamp(0.0, 1.0);
            let n = bilinear(&lattice, G, u * (G - 1) as f32, v * (G - 1) as f32);
            px.push(std::array::from_fn(|k| c0[k] + t * (c1[k] - c0[k]) + n));
        }
    }
    let mut canvas = Canvas { w, h, px };
    for _ in 0..rng.random_range(patches) {
        let texture = TextureDraw::distractor(rng, w.min(h));
        let r = side * uniform(rng, 0.06, 0.16) as f32;
        let (cx, cy) = (uniform(rng, 0.0, w as f64) as f32, uniform(rng, 0.0, h as f64) as f32);
        let patch = Shape::random(rng, cx, cy, r);
        paint_region(
            &mut canvas,
            (cx, cy),
            r,
            |x, y| patch.contains(x, y),
            |x, y| texture.colour(x, y),
        );
    }
    canvas
}

fn bilinear(lattice: &[f32], g: usize, x: f32, y: f32) -> f32 {
    let (x0, y0) = ((x as usize).min(g - 2), (y as usize).min(g - 2));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |i: usize, j: usize| lattice[j * g + i];
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
    let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Paints `colour` over the pixels where `contains` holds; the region lies within `radius`
/// of `centre`, which bounds the loop. Returns the pixels painted.
pub(crate) fn paint_region(
    canvas: &mut Canvas,
    (cx, cy): (f32, f32),
    radius: f32,
    contains: impl Fn(u32, u32) -> bool,
    mut colour: impl FnMut(f32, f32) -> [f32; 3],
) -> Vec<(u32, u32)> {
    let lo = |c: f32| (c - radius - 1.0).max(0.0) as u32;
    let hi = |c: f32, n: u32| ((c + radius + 1.0).max(0.0) as u32).min(n);
    let mut painted = Vec::new();
    for y in lo(cy)..hi(cy, canvas.h) {
        for x in lo(cx)..hi(cx, canvas.w) {
            if contains(x, y) {
                canvas.px[(y * canvas.w + x) as usize] = colour(x as f32, y as f32);
                painted.push((x, y));
            }
        }
    }
    painted
}

/// A background image of `w x h`.
pub(crate) fn background(rng: &mut Rng, w: u32, h: u32) -> RgbImage {
    paint_background(rng, w, h).into_image()
}

/// One picture of a class-`class` object on a background, with the object's mask.
pub(crate) struct Scene {
    pub(crate) image: RgbImage,
    pub(crate) mask: Mask,
    pub(crate) object_box: PixelBox,
}

/// Paints a `w x h` scene holding one object of `class` whose radius is `radius_frac`
/// (a range) of the shorter side. The background is drawn from `rng` first, so a clone of
/// the RNG taken before this call reproduces the bare background.
pub(crate) fn scene(
    rng: &mut Rng,
    w: u32,
    h: u32,
    class: usize,
    classes: usize,
    radius_frac: (f64, f64),
) -> Scene {
    let mut canvas = paint_background(rng, w, h);
    let side = w.min(h);
    let radius = side as f32 * uniform(rng, radius_frac.0, radius_frac.1) as f32;
    // Keep the whole outline (within `radius` of the centre) inside the image.
    let place = |rng: &mut Rng, n: u32| uniform(rng, radius as f64, (n as f32 - radius) as f64);
    let (cx, cy) = (place(rng, w) as f32, place(rng, h) as f32);
    let shape = Shape::random(rng, cx, cy, radius);
    let texture = ClassTexture::of_class(class, classes).jitter(rng, side, classes);
    // Soft directional shading and sensor noise make the object less of a flat decal
    // without hiding the texture.
    let light = uniform(rng, 0.0, std::f64::consts::TAU) as f32;
    let (lx, ly) = (light.cos() / radius, light.sin() / radius);
    let noise = 0.03f32;
    let painted = paint_region(
        &mut canvas,
        (cx, cy),
        radius,
        |x, y| shape.contains(x, y),
        |x, y| {
            let shade = 1.0 + 0.15 * ((x - cx) * lx + (y - cy) * ly);
            let c = texture.colour(x, y);
            std::array::from_fn(|k| c[k] * shade + noise * (2.0 * rng.random::<f32>() - 1.0))
        },
    );
    Scene::from_painted(canvas, &painted)
}

impl Scene {
    /// The finished picture and the mask of exactly the `painted` pixels.
    pub(crate) fn from_painted(canvas: Canvas, painted: &[(u32, u32)]) -> Self {
        let (w, h) = (canvas.w, canvas.h);
        let mut mask = Mask::from_fn(w, h, |_, _| false);
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for &(x, y) in painted {
            mask.0.put_pixel(x, y, image::Luma([255]));
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
        // An object always covers its centre pixel, so `painted` is never empty for radius >= 1.
        let object_box = if painted.is_empty() {
            PixelBox { x: 0, y: 0, w: 0, h: 0 }
        } else {
            PixelBox { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 }
        };
        Scene { image: canvas.into_image(), mask, object_box }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    #[test]
    fn mask_marks_exactly_the_painted_object() {
        for i in 0..20 {
            let mut rng = item_rng(5, 0, i);
            let bare = background(&mut rng.clone(), 64, 48);
            let s = scene(&mut rng, 64, 48, i as usize % 10, 10, (0.25, 0.4));
            assert_eq!(s.mask.largest_component_box(), Some(s.object_box));
            let (mut inside, mut changed) = (0, 0);
            for (x, y, m) in s.mask.0.enumerate_pixels() {
                let same = s.image.get_pixel(x, y) == bare.get_pixel(x, y);
                if m.0[0] == 0 {
                    assert!(same, "pixel {x},{y} outside the mask was painted");
                } else {
                    inside += 1;
                    changed += u32::from(!same);
                }
            }
            // Radius >= 0.25 * 48 px: the object covers a fair area, nearly all repainted.
            assert!(inside > 150, "{inside}");
            assert!(changed * 10 > inside * 9, "{changed}/{inside}");
        }
    }

    #[test]
    fn object_stays_inside_the_image() {
        for i in 0..50 {
            let s = scene(&mut item_rng(6, 0, i), 32, 32, 0, 10, (0.3, 0.45));
            let b = s.object_box;
            assert!(b.x + b.w <= 32 && b.y + b.h <= 32 && b.w > 0);
        }
    }
}
