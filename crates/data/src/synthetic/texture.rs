//! Class textures: the local pattern and palette that carry a synthetic class's identity.
//!
//! A class is fixed by its index alone (pattern family, orientation, period, hue), so the
//! meaning of class `c` never depends on the seed; each image only jitters those
//! parameters. Because the cue is local, any crop inside an object carries its class, which
//! is what contrastive pre-training needs to learn anything from random crops.
use std::f32::consts::PI;

use corruptencoder_core::{Rng, uniform};
use rand::Rng as _;

/// The pattern family of a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    /// Parallel sinusoidal stripes.
    Stripes,
    /// A rotated checkerboard.
    Checker,
    /// A rotated grid of round dots.
    Dots,
}

impl Pattern {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Stripes => "stripes",
            Self::Checker => "checker",
            Self::Dots => "dots",
        }
    }
}

/// The nominal texture of a class, before per-image jitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ClassTexture {
    pub(crate) pattern: Pattern,
    /// Pattern orientation in radians, in `[0, pi)`.
    pub(crate) angle: f32,
    /// Pattern period as a fraction of the image side.
    pub(crate) period: f32,
    /// Hue in `[0, 1)`.
    pub(crate) hue: f32,
}

impl ClassTexture {
    /// The texture of class `class` out of `classes`. Hues are spread evenly around the
    /// colour wheel; orientations and periods follow low-discrepancy sequences so that
    /// neighbouring classes differ in more than one cue.
    pub(crate) fn of_class(class: usize, classes: usize) -> Self {
        let pattern = [Pattern::Stripes, Pattern::Checker, Pattern::Dots][class % 3];
        let golden = 0.618_034_f32;
        let angle = PI * ((class as f32 * golden) % 1.0);
        let period = 0.07 + 0.09 * ((class as f32 * 0.754_877_7 + 0.3) % 1.0);
        let hue = class as f32 / classes.max(1) as f32;
        Self { pattern, angle, period, hue }
    }

    /// This class's texture as one image draws it: orientation, period, phase and colours
    /// jittered, sized for an image of side `side` pixels. The hue jitter stays below half
    /// the gap between class hues so colour alone never swaps two classes.
    pub(crate) fn jitter(&self, rng: &mut Rng, side: u32, classes: usize) -> TextureDraw {
        let hue_gap = 1.0 / classes.max(1) as f32;
        let hue = (self.hue + uniform(rng, -0.3, 0.3) as f32 * hue_gap).rem_euclid(1.0);
        let sat = uniform(rng, 0.65, 0.95) as f32;
        let bright = hsv(hue, sat, uniform(rng, 0.8, 1.0) as f32);
        let dark = hsv(hue, sat, uniform(rng, 0.25, 0.4) as f32);
        TextureDraw {
            pattern: self.pattern,
            angle: self.angle + uniform(rng, -0.12, 0.12) as f32,
            period: self.period * side as f32 * uniform(rng, 0.9, 1.1) as f32,
            phase: (rng.random::<f32>(), rng.random::<f32>()),
            bright,
            dark,
        }
    }
}

/// A texture with every parameter fixed, ready to paint pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TextureDraw {
    pub(crate) pattern: Pattern,
    pub(crate) angle: f32,
    /// Period in pixels.
    pub(crate) period: f32,
    /// Phase offsets in periods, in `[0, 1)`.
    pub(crate) phase: (f32, f32),
    pub(crate) bright: [f32; 3],
    pub(crate) dark: [f32; 3],
}

impl TextureDraw {
    /// A texture unrelated to any class: a random pattern in washed-out colours, for
    /// background clutter. Its low saturation keeps it from imitating a class palette.
    pub(crate) fn distractor(rng: &mut Rng, side: u32) -> Self {
        let pattern = [Pattern::Stripes, Pattern::Checker, Pattern::Dots][rng.random_range(0..3)];
        let hue = rng.random::<f32>();
        let sat = uniform(rng, 0.0, 0.25) as f32;
        Self {
            pattern,
            angle: uniform(rng, 0.0, PI as f64) as f32,
            period: side as f32 * uniform(rng, 0.06, 0.18) as f32,
            phase: (rng.random::<f32>(), rng.random::<f32>()),
            bright: hsv(hue, sat, uniform(rng, 0.6, 0.95) as f32),
            dark: hsv(hue, sat, uniform(rng, 0.15, 0.5) as f32),
        }
    }

    /// The colour at pixel `(x, y)`, channels in `[0, 1]`.
    pub(crate) fn colour(&self, x: f32, y: f32) -> [f32; 3] {
        let (s, c) = self.angle.sin_cos();
        // Coordinates along and across the pattern, in periods.
        let u = (x * c + y * s) / self.period + self.phase.0;
        let v = (-x * s + y * c) / self.period + self.phase.1;
        let t = match self.pattern {
            Pattern::Stripes => 0.5 + 0.5 * (2.0 * PI * u).sin(),
            Pattern::Checker => {
                let parity = (u.floor() as i64 + v.floor() as i64).rem_euclid(2);
                parity as f32
            }
            Pattern::Dots => {
                let (du, dv) = (u - u.round(), v - v.round());
                if du * du + dv * dv < 0.09 { 1.0 } else { 0.0 }
            }
        };
        std::array::from_fn(|k| self.dark[k] + t * (self.bright[k] - self.dark[k]))
    }
}

/// HSV to RGB, all in `[0, 1]`.
pub(crate) fn hsv(h: f32, s: f32, v: f32) -> [f32; 3] {
    let h6 = h.rem_euclid(1.0) * 6.0;
    let f = h6 - h6.floor();
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    match h6 as u32 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsv_primaries() {
        assert_eq!(hsv(0.0, 1.0, 1.0), [1.0, 0.0, 0.0]);
        assert_eq!(hsv(1.0 / 3.0, 1.0, 1.0), [0.0, 1.0, 0.0]);
        assert_eq!(hsv(0.5, 0.0, 0.5), [0.5, 0.5, 0.5]);
    }

    #[test]
    fn classes_differ_in_pattern_or_angle() {
        let a = ClassTexture::of_class(0, 10);
        let b = ClassTexture::of_class(3, 10);
        assert_eq!(a.pattern, b.pattern);
        assert!((a.angle - b.angle).abs() > 0.2);
        assert_ne!(ClassTexture::of_class(1, 10).pattern, a.pattern);
    }

    #[test]
    fn stripes_run_along_their_angle() {
        let t = TextureDraw {
            pattern: Pattern::Stripes,
            angle: 0.0,
            period: 8.0,
            phase: (0.0, 0.0),
            bright: [1.0; 3],
            dark: [0.0; 3],
        };
        // Angle 0: colour varies with x only.
        assert_eq!(t.colour(3.0, 0.0), t.colour(3.0, 17.0));
        assert!((t.colour(2.0, 0.0)[0] - 1.0).abs() < 1e-5);
        assert!(t.colour(6.0, 0.0)[0] < 1e-5);
    }
}
