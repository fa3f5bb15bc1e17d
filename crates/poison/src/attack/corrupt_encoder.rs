//! CorruptEncoder and CorruptEncoder+ (method.md section 3), as the authors' released generator.
use std::path::PathBuf;

use corruptencoder_core::{Rng, SettingError, uniform};
use corruptencoder_data::{Filter, ImageLimits, PixelBox, Reference, load_rgb, resize_rgb};
use image::imageops;
use image::{GrayImage, Rgb, RgbImage};
use rand::Rng as _;

use super::base::{Attack, Layout, PoisonItem, PoisonKind};
use super::prepared_reference::PreparedReference;
pub use super::prepared_reference::resized_object_size;
// The options live in their own file; re-exported so `corrupt_encoder::…Config` paths work.
pub use super::corrupt_encoder_config::{
    AreaRatio, CorruptEncoderConfig, Layouts, TriggerPlacement,
};
use crate::error::{Error, Result};
use crate::trigger::paste;

/// A poison's geometry in layout coordinates: the object at `o_pos` (`o_u` long) near the
/// start of the `p_u x p_v` poison's axis or near its end.
#[derive(Debug, Clone, Copy)]
struct Placement {
    horizontal: bool,
    near_start: bool,
    o_pos: u32,
    o_u: u32,
    p_u: u32,
    p_v: u32,
}

/// A support photo for CorruptEncoder+ (method.md section 3), loaded once.
#[derive(Debug, Clone)]
struct Support {
    name: String,
    image: RgbImage,
}

/// The CorruptEncoder generator with its inputs loaded.
#[derive(Debug)]
pub struct CorruptEncoder {
    config: CorruptEncoderConfig,
    references: Vec<PreparedReference>,
    backgrounds: Vec<PathBuf>,
    supports: Vec<Support>,
    trigger: RgbImage,
    limits: ImageLimits,
}

impl CorruptEncoder {
    /// Prepares the generator. `backgrounds` are used in the given order, each once per
    /// cycle; `supports` are needed only when `support_ratio > 0`.
    pub fn new(
        config: CorruptEncoderConfig,
        references: &[Reference],
        backgrounds: Vec<PathBuf>,
        supports: Vec<(String, RgbImage)>,
        trigger: RgbImage,
        limits: ImageLimits,
    ) -> Result<Self> {
        config.validate()?;
        let n_ce = config.num_poisons - config.num_support();
        if n_ce > 0 && backgrounds.is_empty() {
            return Err(SettingError::new("backgrounds", "[]", "no background images given").into());
        }
        if config.num_support() > 0 && supports.is_empty() {
            let problem = "needs support images (`supports`)";
            return Err(SettingError::new("support_ratio", config.support_ratio, problem).into());
        }
        if references.is_empty() {
            return Err(SettingError::new("references", "[]", "no references").into());
        }
        let vertical = config.layouts == Layouts::All;
        let references = references
            .iter()
            .map(|r| {
                PreparedReference::new(r, config.max_size).with_ratios(
                    config.area_ratio,
                    config.trigger_size,
                    vertical,
                )
            })
            .collect::<Result<_>>()?;
        let supports = supports.into_iter().map(|(name, image)| Support { name, image }).collect();
        let attack = Self { config, references, backgrounds, supports, trigger, limits };
        if n_ce > 0 {
            attack.check_geometry()?;
        }
        Ok(attack)
    }

    /// Before any poison is made: each reference's poison must stay within the image limit
    /// (a huge `area_ratio` would allocate it), and the trigger must fit its free part
    /// at least with the object against the edge, or every poison with it would fail.
    fn check_geometry(&self) -> Result<()> {
        let (t_w, t_h) = self.trigger.dimensions();
        for r in &self.references {
            let mut shapes = vec![(&r.horizontal, r.ratios.0, true)];
            if self.config.layouts == Layouts::All {
                shapes.push((&r.vertical, r.ratios.1, false));
            }
            for (obj, ratio, horizontal) in shapes {
                let (o_w, o_h) = obj.image.dimensions();
                let (o_u, o_v) = if horizontal { (o_w, o_h) } else { (o_h, o_w) };
                let (t_u, t_v) = if horizontal { (t_w, t_h) } else { (t_h, t_w) };
                let p_u = ratio * f64::from(o_u);
                if p_u * f64::from(o_v) > self.limits.max_pixels as f64 {
                    let problem = format!(
                        "makes reference {}'s poisons {p_u:.0} px long, over the limit of {} \
                         pixels",
                        r.name, self.limits.max_pixels
                    );
                    return Err(SettingError::new("area_ratio", ratio, problem).into());
                }
                let free = (p_u as u32).saturating_sub(o_u);
                if free < t_u || o_v < t_v {
                    let problem = format!(
                        "a {t_w}x{t_h} trigger does not fit beside reference {} (a {o_w}x{o_h} \
                         object leaves at most {free} px by {o_v} px at area ratio {ratio:.2}); \
                         use a smaller `trigger_size` or a larger `area_ratio`",
                        r.name
                    );
                    return Err(SettingError::new("trigger_size", t_w, problem).into());
                }
            }
        }
        Ok(())
    }

    /// The resolved options.
    pub fn config(&self) -> &CorruptEncoderConfig {
        &self.config
    }

    /// The area ratio each reference uses: (name, horizontal, vertical).
    pub fn area_ratios(&self) -> Vec<(String, f64, f64)> {
        self.references.iter().map(|r| (r.name.clone(), r.ratios.0, r.ratios.1)).collect()
    }

    fn layout(&self, rng: &mut Rng) -> Layout {
        let all = [Layout::Left, Layout::Right, Layout::Top, Layout::Bottom];
        match self.config.layouts {
            Layouts::Horizontal => all[rng.random_range(0..2)],
            Layouts::All => all[rng.random_range(0..4)],
        }
    }

    fn corrupt(&self, index: usize, rng: &mut Rng) -> Result<PoisonItem> {
        let c = &self.config;
        let k = rng.random_range(0..self.references.len());
        let reference = &self.references[k];
        let layout = self.layout(rng);
        let horizontal = layout.is_horizontal();
        // Work in "layout coordinates" (u along the object-trigger axis, v across it) so the
        // four layouts share one geometry; transpose back at the end.
        let obj = if horizontal { &reference.horizontal } else { &reference.vertical };
        let (o_w, o_h) = obj.image.dimensions();
        let ratio = if horizontal { reference.ratios.0 } else { reference.ratios.1 };
        let (o_u, o_v) = if horizontal { (o_w, o_h) } else { (o_h, o_w) };
        let p_v = o_v;
        let p_u = (ratio * f64::from(o_u)) as u32;
        let (p_w, p_h) = if horizontal { (p_u, p_v) } else { (p_v, p_u) };

        let bg_path = &self.backgrounds[index % self.backgrounds.len()];
        let mut canvas = background_window(&load_rgb(bg_path, &self.limits)?, p_w, p_h, rng);

        // Object in a band at one end (method.md section 3, step 6).
        let near_start = matches!(layout, Layout::Left | Layout::Top);
        let band = c.object_marginal * f64::from(p_u);
        let o_pos = if near_start {
            uniform(rng, 0.0, band)
        } else {
            uniform(rng, f64::from(p_u - o_u) - band, f64::from(p_u - o_u))
        };
        let o_pos = (o_pos.max(0.0) as u32).min(p_u - o_u);
        let (o_x, o_y) = if horizontal { (o_pos, 0) } else { (0, o_pos) };
        composite(&mut canvas, &obj.image, &obj.mask, o_x, o_y);

        // Trigger in the free part (method.md section 3, step 7).
        let at = Placement { horizontal, near_start, o_pos, o_u, p_u, p_v };
        let (t_pos_u, t_pos_v) = self.trigger_position(&at, (index, &reference.name), rng)?;
        let (t_x, t_y) = if horizontal { (t_pos_u, t_pos_v) } else { (t_pos_v, t_pos_u) };
        let (t_w, t_h) = self.trigger.dimensions();
        paste(&mut canvas, &self.trigger, t_x, t_y);

        Ok(PoisonItem {
            image: canvas,
            kind: PoisonKind::new("corruptencoder"),
            reference: Some(reference.name.clone()),
            background: bg_path.file_name().map(|n| n.to_string_lossy().into_owned()),
            layout: Some(layout),
            object_box: Some(PixelBox { x: o_x, y: o_y, w: o_w, h: o_h }),
            trigger_box: Some(PixelBox { x: t_x, y: t_y, w: t_w, h: t_h }),
            caption: None,
        })
    }

    /// Where the trigger goes in the free part beside the object, along (`u`) and across
    /// (`v`) the layout axis; an error naming poison `index` and its reference when the
    /// trigger cannot fit.
    fn trigger_position(
        &self,
        at: &Placement,
        (index, reference): (usize, &str),
        rng: &mut Rng,
    ) -> Result<(u32, u32)> {
        let c = &self.config;
        let Placement { horizontal, near_start, o_pos, o_u, p_u, p_v } = *at;
        let (t_w, t_h) = self.trigger.dimensions();
        let (t_u, t_v) = if horizontal { (t_w, t_h) } else { (t_h, t_w) };
        let (free_lo, free_hi) = if near_start { (o_pos + o_u, p_u) } else { (0, o_pos) };
        if free_hi.saturating_sub(free_lo) < t_u || p_v < t_v {
            let (fu, fv) = (free_hi.saturating_sub(free_lo), p_v);
            let (free_w, free_h) = if horizontal { (fu, fv) } else { (fv, fu) };
            return Err(Error::TriggerDoesNotFit {
                index,
                reference: reference.to_owned(),
                trigger_w: t_w,
                trigger_h: t_h,
                free_w,
                free_h,
            });
        }
        Ok(match c.trigger_placement {
            TriggerPlacement::Centred => {
                let du = c.trigger_marginal / 2.0 * f64::from(p_u);
                let dv = c.trigger_marginal * f64::from(p_v);
                let (lo, hi) = if near_start {
                    (f64::from(o_pos + o_u) + du, f64::from(p_u) - du - f64::from(t_u))
                } else {
                    (du, f64::from(o_pos) - du - f64::from(t_u))
                };
                let t_pos_u = uniform(rng, lo, hi);
                let t_pos_v = uniform(rng, dv, f64::from(p_v) - dv - f64::from(t_v));
                // U(a, b) with a > b (narrow free part) can leave the free part; the
                // fallback keeps the trigger inside it instead of pasting out of bounds.
                let t_pos_u = (t_pos_u.max(0.0) as u32).clamp(free_lo, free_hi - t_u);
                (t_pos_u, (t_pos_v.max(0.0) as u32).min(p_v - t_v))
            }
            // The free part starts (or ends) at the object's box, and holds the trigger.
            TriggerPlacement::AgainstObject => {
                let t_pos_u = if near_start { free_lo } else { free_hi - t_u };
                (t_pos_u, (p_v - t_v) / 2)
            }
        })
    }

    /// CorruptEncoder+ support image: a support photo beside a whole reference photo of the
    /// same size, in random order, on a white canvas.
    fn support(&self, rng: &mut Rng) -> PoisonItem {
        let s = &self.supports[rng.random_range(0..self.supports.len())];
        let r = &self.references[rng.random_range(0..self.references.len())];
        let (w, h) = s.image.dimensions();
        let n_w = w.clamp(1, 400);
        let n_h = ((f64::from(n_w) / f64::from(w) * f64::from(h)) as u32).max(1);
        let support = resize_rgb(&s.image, n_w, n_h, Filter::Bicubic);
        let whole = resize_rgb(&r.whole, n_w, n_h, Filter::Bicubic);
        let mut canvas = RgbImage::from_pixel(2 * n_w, n_h, Rgb([255, 255, 255]));
        let support_first = rng.random_bool(0.5);
        let (left, right) = if support_first { (&support, &whole) } else { (&whole, &support) };
        paste(&mut canvas, left, 0, 0);
        paste(&mut canvas, right, n_w, 0);
        let ref_x = if support_first { n_w } else { 0 };
        PoisonItem {
            image: canvas,
            kind: PoisonKind::new("support"),
            reference: Some(format!("{}+{}", r.name, s.name)),
            background: None,
            layout: None,
            object_box: Some(PixelBox { x: ref_x, y: 0, w: n_w, h: n_h }),
            trigger_box: None,
            caption: None,
        }
    }
}

impl Attack for CorruptEncoder {
    fn name(&self) -> &'static str {
        "corruptencoder"
    }

    fn len(&self) -> usize {
        self.config.num_poisons
    }

    fn poison(&self, index: usize, rng: &mut Rng) -> Result<PoisonItem> {
        // Support images come last, so background i serves CorruptEncoder image i.
        if index >= self.config.num_poisons - self.config.num_support() {
            Ok(self.support(rng))
        } else {
            self.corrupt(index, rng)
        }
    }
}

/// method.md section 3, step 5: enlarge the background only if it is too small, then cut a `p_w x
/// p_h` window at a uniform x, bottom-aligned. The authors' int truncation can leave the enlarged
/// image a pixel short; the window is clamped (and the image enlarged to at least the window) so
/// that never fails.
fn background_window(bg: &RgbImage, p_w: u32, p_h: u32, rng: &mut Rng) -> RgbImage {
    let (b_w, b_h) = (f64::from(bg.width()), f64::from(bg.height()));
    let scale = (f64::from(p_h) / b_h).max(f64::from(p_w) / b_w).max(1.0);
    let l_h = ((scale * b_h) as u32).max(p_h);
    let l_w = (((f64::from(l_h) / b_h) * b_w) as u32).max(p_w);
    let large;
    let src = if (l_w, l_h) == bg.dimensions() {
        bg
    } else {
        large = resize_rgb(bg, l_w, l_h, Filter::Bicubic);
        &large
    };
    let x = (uniform(rng, 0.0, f64::from(l_w - p_w)) as u32).min(l_w - p_w);
    let y = l_h - p_h;
    imageops::crop_imm(src, x, y, p_w, p_h).to_image()
}

/// `out = (m * object + (255 - m) * background) / 255` at (`x`, `y`).
fn composite(canvas: &mut RgbImage, object: &RgbImage, mask: &GrayImage, x: u32, y: u32) {
    for (ox, oy, px) in object.enumerate_pixels() {
        let (cx, cy) = (x + ox, y + oy);
        if cx >= canvas.width() || cy >= canvas.height() {
            continue;
        }
        let m = u32::from(mask.get_pixel(ox, oy).0[0]);
        if m == 0 {
            continue;
        }
        let bg = canvas.get_pixel_mut(cx, cy);
        for c in 0..3 {
            let v = m * u32::from(px.0[c]) + (255 - m) * u32::from(bg.0[c]);
            bg.0[c] = (v / 255) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_blends_by_mask() {
        let mut canvas = RgbImage::from_pixel(2, 1, Rgb([0, 0, 0]));
        let obj = RgbImage::from_pixel(2, 1, Rgb([255, 255, 255]));
        let mask = GrayImage::from_raw(2, 1, vec![255, 51]).unwrap();
        composite(&mut canvas, &obj, &mask, 0, 0);
        assert_eq!(canvas.get_pixel(0, 0), &Rgb([255, 255, 255]));
        assert_eq!(canvas.get_pixel(1, 0), &Rgb([51, 51, 51]));
    }

    #[test]
    fn small_background_is_enlarged_and_bottom_aligned() {
        let bg = RgbImage::from_fn(10, 10, |_, y| Rgb([y as u8 * 10, 0, 0]));
        let mut rng = corruptencoder_core::item_rng(0, 0, 0);
        let w = background_window(&bg, 30, 7, &mut rng);
        assert_eq!(w.dimensions(), (30, 7));
        let big = RgbImage::from_fn(100, 50, |x, y| Rgb([(y * 5) as u8, x as u8, 0]));
        let w = background_window(&big, 40, 20, &mut rng);
        // Bottom-aligned: the window's last row is the image's last row.
        assert_eq!(w.get_pixel(0, 19).0[0], 245);
    }
}
