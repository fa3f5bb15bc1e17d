//! The image operations of AutoAugment's ImageNet policy with PIL's semantics (torchvision
//! runs them on PIL images through `ImageOps`, `ImageEnhance` and `Image.transform`): each
//! works on 8-bit RGB and rounds as PIL does.
use image::{Rgb, RgbImage};

/// A per-value table applied to every channel (PIL's `Image.point` with a 256-entry LUT
/// repeated for each band, values clipped to a byte).
fn map_values(image: &RgbImage, lut: impl Fn(u8) -> i64) -> RgbImage {
    let table: Vec<u8> = (0..=255u8).map(|v| lut(v).clamp(0, 255) as u8).collect();
    map_channels(image, |_| table.clone())
}

/// A table per channel, made from that channel's histogram.
fn map_channels(image: &RgbImage, table: impl Fn(&[u64; 256]) -> Vec<u8>) -> RgbImage {
    let tables: Vec<Vec<u8>> = (0..3)
        .map(|c| {
            let mut histogram = [0u64; 256];
            image.pixels().for_each(|p| histogram[usize::from(p.0[c])] += 1);
            table(&histogram)
        })
        .collect();
    let mut out = image.clone();
    for p in out.pixels_mut() {
        for c in 0..3 {
            p.0[c] = tables[c][usize::from(p.0[c])];
        }
    }
    out
}

/// `ImageOps.posterize`: keeps the top `bits` bits of each value.
pub(crate) fn posterize(image: &RgbImage, bits: u32) -> RgbImage {
    let mask = !((1i64 << (8 - bits.min(8))) - 1);
    map_values(image, |v| i64::from(v) & mask)
}

/// `ImageOps.solarize`: values at or above `threshold` are inverted.
pub(crate) fn solarize(image: &RgbImage, threshold: f64) -> RgbImage {
    map_values(image, |v| if f64::from(v) < threshold { i64::from(v) } else { 255 - i64::from(v) })
}

/// `ImageOps.invert`.
pub(crate) fn invert(image: &RgbImage) -> RgbImage {
    map_values(image, |v| 255 - i64::from(v))
}

/// `ImageOps.autocontrast` with no cutoff: each channel's range stretched to 0-255, values
/// truncated; a channel of one value is left as it is.
pub(crate) fn autocontrast(image: &RgbImage) -> RgbImage {
    map_channels(image, |h| {
        let lo = h.iter().position(|&n| n > 0).unwrap_or(0);
        let hi = h.iter().rposition(|&n| n > 0).unwrap_or(0);
        if hi <= lo {
            return (0..=255u8).collect();
        }
        let scale = 255.0 / (hi - lo) as f64;
        let offset = -(lo as f64) * scale;
        (0..256).map(|v| ((v as f64 * scale + offset) as i64).clamp(0, 255) as u8).collect()
    })
}

/// `ImageOps.equalize`: each channel's values spread by their cumulative histogram, with
/// PIL's step `(pixels - count of the top value) // 255` and its half-step offset.
pub(crate) fn equalize(image: &RgbImage) -> RgbImage {
    map_channels(image, |h| {
        let used: Vec<u64> = h.iter().copied().filter(|&n| n > 0).collect();
        let step = match used.last() {
            Some(top) if used.len() > 1 => (used.iter().sum::<u64>() - top) / 255,
            _ => 0,
        };
        if step == 0 {
            return (0..=255u8).collect();
        }
        let mut n = step / 2;
        h.iter()
            .map(|&count| {
                let v = (n / step).min(255) as u8;
                n += count;
                v
            })
            .collect()
    })
}

/// PIL's `convert("L")`: ITU-R 601 luma in 16-bit fixed point, rounded.
fn luma(p: &Rgb<u8>) -> u8 {
    let [r, g, b] = p.0.map(u32::from);
    ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) as u8
}

/// `Image.blend(degenerate, image, factor)`: `degenerate + factor * (image - degenerate)`
/// in single precision, clipped and truncated to a byte.
fn blend(degenerate: &RgbImage, image: &RgbImage, factor: f64) -> RgbImage {
    let alpha = factor as f32;
    let mut out = image.clone();
    for (o, d) in out.pixels_mut().zip(degenerate.pixels()) {
        for c in 0..3 {
            let (a, b) = (f32::from(d.0[c]), f32::from(o.0[c]));
            let t = a + alpha * (b - a);
            o.0[c] = if t <= 0.0 {
                0
            } else if t >= 255.0 {
                255
            } else {
                t as u8
            };
        }
    }
    out
}

/// `ImageEnhance.Color`: a blend with the image's grey version (1 keeps the image).
pub(crate) fn color(image: &RgbImage, factor: f64) -> RgbImage {
    let grey = RgbImage::from_fn(image.width(), image.height(), |x, y| {
        Rgb([luma(image.get_pixel(x, y)); 3])
    });
    blend(&grey, image, factor)
}

/// `ImageEnhance.Contrast`: a blend with a flat image of the grey version's mean, rounded.
pub(crate) fn contrast(image: &RgbImage, factor: f64) -> RgbImage {
    let n = (image.width() * image.height()).max(1);
    let sum: u64 = image.pixels().map(|p| u64::from(luma(p))).sum();
    let mean = (sum as f64 / f64::from(n) + 0.5) as u8;
    let flat = RgbImage::from_pixel(image.width(), image.height(), Rgb([mean; 3]));
    blend(&flat, image, factor)
}

/// `ImageEnhance.Sharpness`: a blend with the image under PIL's `SMOOTH` filter (3 x 3,
/// weights 1 around a centre 5, over 13, rounded), whose one-pixel border is the image's.
pub(crate) fn sharpness(image: &RgbImage, factor: f64) -> RgbImage {
    let (w, h) = image.dimensions();
    let mut smooth = image.clone();
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            for c in 0..3 {
                let mut sum = 0u32;
                for (dx, dy) in (0..3).flat_map(|dy| (0..3).map(move |dx| (dx, dy))) {
                    let v = u32::from(image.get_pixel(x + dx - 1, y + dy - 1).0[c]);
                    sum += if (dx, dy) == (1, 1) { 5 * v } else { v };
                }
                smooth.get_pixel_mut(x, y).0[c] = ((sum as f32 / 13.0 + 0.5) as u32).min(255) as u8;
            }
        }
    }
    blend(&smooth, image, factor)
}

/// PIL's `Image.transform(AFFINE, matrix, NEAREST)` with black outside: output pixel
/// `(x, y)` takes the input pixel under `matrix` applied to its centre `(x + 0.5, y + 0.5)`,
/// in PIL's 16.16 fixed point (`affine_fixed`, which it uses for any image under 32,768
/// pixels a side), the coordinates floored.
fn affine_nearest(image: &RgbImage, m: [f64; 6]) -> RgbImage {
    let fix = |v: f64| (v * 65536.0 + 0.5).floor() as i64;
    let [a0, a1, a3, a4] = [fix(m[0]), fix(m[1]), fix(m[3]), fix(m[4])];
    let a2 = fix(m[2] + m[1] * 0.5 + m[0] * 0.5);
    let a5 = fix(m[5] + m[4] * 0.5 + m[3] * 0.5);
    let (w, h) = image.dimensions();
    RgbImage::from_fn(w, h, |x, y| {
        let (x, y) = (i64::from(x), i64::from(y));
        let xin = (a2 + y * a1 + x * a0) >> 16;
        let yin = (a5 + y * a4 + x * a3) >> 16;
        if (0..i64::from(w)).contains(&xin) && (0..i64::from(h)).contains(&yin) {
            *image.get_pixel(xin as u32, yin as u32)
        } else {
            Rgb([0, 0, 0])
        }
    })
}

/// `Image.rotate(degrees, NEAREST)`: counter-clockwise about the image's centre, the same
/// size, black where nothing lands. PIL's exact shortcuts are kept: 0 and 180 degrees, and
/// 90 and 270 on a square image.
pub(crate) fn rotate(image: &RgbImage, degrees: f64) -> RgbImage {
    let turned = degrees.rem_euclid(360.0);
    let square = image.width() == image.height();
    match turned {
        0.0 => return image.clone(),
        180.0 => return image::imageops::rotate180(image),
        // `image` turns clockwise, PIL counter-clockwise.
        90.0 if square => return image::imageops::rotate270(image),
        270.0 if square => return image::imageops::rotate90(image),
        _ => {}
    }
    // PIL rounds the matrix to 15 decimals.
    let round = |v: f64| (v * 1e15).round() / 1e15;
    let angle = -turned.to_radians();
    let (cos, sin) = (round(angle.cos()), round(angle.sin()));
    let (cx, cy) = (f64::from(image.width()) / 2.0, f64::from(image.height()) / 2.0);
    let c = cos * -cx + sin * -cy + cx;
    let f = -sin * -cx + cos * -cy + cy;
    affine_nearest(image, [cos, sin, c, -sin, cos, f])
}

/// torchvision's `ShearX` on a PIL image: `F.affine` with shear `atan(magnitude)` about
/// the top-left corner, whose inverse map is `x + magnitude * y`.
pub(crate) fn shear_x(image: &RgbImage, magnitude: f64) -> RgbImage {
    affine_nearest(image, [1.0, magnitude, 0.0, 0.0, 1.0, 0.0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pixels(image: &RgbImage) -> Vec<[u8; 3]> {
        image.pixels().map(|p| p.0).collect()
    }

    fn row(values: &[u8]) -> RgbImage {
        RgbImage::from_fn(values.len() as u32, 1, |x, _| Rgb([values[x as usize]; 3]))
    }

    #[test]
    fn tables_match_pil_by_hand() {
        let img = row(&[0, 15, 16, 100, 200, 255]);
        let first = |i: &RgbImage| pixels(i).iter().map(|p| p[0]).collect::<Vec<u8>>();
        assert_eq!(first(&posterize(&img, 4)), [0, 0, 16, 96, 192, 240]);
        assert_eq!(first(&solarize(&img, 113.3)), [0, 15, 16, 100, 55, 0]);
        assert_eq!(first(&invert(&img)), [255, 240, 239, 155, 55, 0]);
        // Range 50..150 stretched: scale 2.55, offset -127.5.
        let narrow = row(&[50, 100, 150]);
        assert_eq!(first(&autocontrast(&narrow)), [0, 127, 255]);
        assert_eq!(first(&autocontrast(&row(&[7, 7]))), [7, 7]);
    }

    #[test]
    fn equalize_follows_pils_cumulative_steps() {
        // 510 pixels: 255 of value 10, 255 of 20. step = (510 - 255) / 255 = 1, n starts at
        // 0: values up to 10 map to 0, 11..=20 to 255.
        let values: Vec<u8> = (0..510).map(|i| if i < 255 { 10 } else { 20 }).collect();
        let out = equalize(&row(&values));
        assert_eq!(out.get_pixel(0, 0).0, [0; 3]);
        assert_eq!(out.get_pixel(300, 0).0, [255; 3]);
        // One value only: unchanged.
        assert_eq!(pixels(&equalize(&row(&[9, 9, 9]))), vec![[9; 3]; 3]);
    }

    #[test]
    fn enhancements_blend_as_pil_does() {
        let img = RgbImage::from_fn(3, 1, |x, _| {
            Rgb([[200, 10, 10], [10, 200, 10], [0, 0, 0]][x as usize])
        });
        assert_eq!(color(&img, 1.0), img);
        // Luma of (200, 10, 10): (200 * 19595 + 10 * 38470 + 10 * 7471 + 32768) >> 16 = 67.
        assert_eq!(color(&img, 0.0).get_pixel(0, 0).0, [67; 3]);
        // Factor 2: 67 + 2 * (200 - 67) = 333 -> 255; 67 + 2 * (10 - 67) = -47 -> 0.
        assert_eq!(color(&img, 2.0).get_pixel(0, 0).0, [255, 0, 0]);
        // Lumas 67, 122 and 0: mean 63 (63.5 truncated); factor 0.5 halves the distance to
        // it, truncated: 63 + 68.5 and 63 - 26.5.
        assert_eq!(contrast(&img, 0.5).get_pixel(0, 0).0, [131, 36, 36]);
        let flat = RgbImage::from_pixel(4, 4, Rgb([90, 90, 90]));
        assert_eq!(sharpness(&flat, 1.8), flat);
        let mut spot = flat.clone();
        spot.put_pixel(1, 1, Rgb([220, 220, 220]));
        // Smoothed centre: (8 * 90 + 5 * 220) / 13 = 140; factor 0 takes it.
        assert_eq!(sharpness(&spot, 0.0).get_pixel(1, 1).0, [140; 3]);
        assert_eq!(sharpness(&spot, 0.0).get_pixel(0, 0).0, [90; 3]);
    }

    #[test]
    fn geometry_moves_pixels_and_fills_black() {
        let img = RgbImage::from_fn(4, 4, |x, y| Rgb([(10 * x + 50 * y) as u8, 0, 0]));
        assert_eq!(rotate(&img, 0.0), img);
        assert_eq!(rotate(&img, 180.0).get_pixel(0, 0).0, img.get_pixel(3, 3).0);
        // 90 degrees counter-clockwise: the top-right corner comes to the top-left.
        assert_eq!(rotate(&img, 90.0).get_pixel(0, 0).0, img.get_pixel(3, 0).0);
        // Rotated by 45 degrees the corners leave the picture.
        assert_eq!(rotate(&img, 45.0).get_pixel(0, 0).0, [0, 0, 0]);
        // Shear 0.5: row y samples x + 0.5 * (y + 0.5), shifted left by its row.
        let sheared = shear_x(&img, 0.5);
        assert_eq!(sheared.get_pixel(0, 0).0, img.get_pixel(0, 0).0);
        assert_eq!(sheared.get_pixel(0, 3).0, img.get_pixel(2, 3).0);
        assert_eq!(sheared.get_pixel(3, 3).0, [0, 0, 0]);
    }
}
