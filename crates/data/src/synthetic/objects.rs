//! The "objects" world: classes that differ in surface texture, its orientation and the
//! outline while sharing colour statistics, on cluttered backgrounds, at varied scale,
//! position and rotation.
//!
//! The "patterns" world gives each class its own hue, orientation and period, so random
//! convolutions already separate it (73.6 % CA for an untrained encoder, docs/study/world.md). Here
//! every image draws its colours, outline rotation, texture period and phase, scale and
//! position from one distribution shared by all classes; what tells classes apart is the
//! texture family (stripes, checker, dots, grid, rings, plain) and its orientation in the
//! image, and the outline's geometry (disc, triangle, square, star, cross): cues an encoder
//! has to read past colour, which random filters entangle with them.
use std::f32::consts::{PI, TAU};

use corruptencoder_core::{Rng, uniform};
use image::RgbImage;
use rand::Rng as _;

use super::scene::{Canvas, Scene, paint_background_with, paint_region};

use super::shape::point_in_polygon;
use super::texture::hsv;

/// The outline of an object class, drawn inside the unit disc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Silhouette {
    /// A slightly elongated ellipse: no corners.
    Disc,
    /// An equilateral triangle: three sharp convex corners.
    Triangle,
    /// A square: four right-angled convex corners.
    Square,
    /// A five-pointed star: sharp convex and concave corners in turn.
    Star,
    /// A plus sign: right-angled convex and concave corners.
    Cross,
}

const SILHOUETTES: [Silhouette; 5] = [
    Silhouette::Disc,
    Silhouette::Triangle,
    Silhouette::Square,
    Silhouette::Star,
    Silhouette::Cross,
];

impl Silhouette {
    fn name(self) -> &'static str {
        match self {
            Self::Disc => "disc",
            Self::Triangle => "triangle",
            Self::Square => "square",
            Self::Star => "star",
            Self::Cross => "cross",
        }
    }

    /// Whether the point `(u, v)` of the object's own frame (unit circumradius) is inside.
    /// `aspect` squashes the disc into an ellipse; the other outlines ignore it.
    fn contains(self, u: f32, v: f32, aspect: f32) -> bool {
        match self {
            Self::Disc => (u / aspect).powi(2) + v * v <= 1.0,
            Self::Triangle => (0..3).all(|k| {
                let a = PI / 2.0 + TAU * k as f32 / 3.0;
                u * a.cos() + v * a.sin() <= 0.5
            }),
            Self::Square => u.abs().max(v.abs()) <= std::f32::consts::FRAC_1_SQRT_2,
            Self::Star => point_in_polygon(&STAR, u, v),
            Self::Cross => {
                let (a, b) = (u.abs(), v.abs());
                (a <= 0.33 && b <= 0.94) || (b <= 0.33 && a <= 0.94)
            }
        }
    }
}

/// A five-pointed star with circumradius 1 and inner radius 0.45.
const STAR: [(f32, f32); 10] = {
    // cos/sin of 90 deg + k * 36 deg, k = 0..10, scaled by 1 or 0.45 alternately.
    [
        (0.0, 1.0),
        (-0.264_503, 0.364_058),
        (-0.951_057, 0.309_017),
        (-0.427_975, -0.139_058),
        (-0.587_785, -0.809_017),
        (0.0, -0.45),
        (0.587_785, -0.809_017),
        (0.427_975, -0.139_058),
        (0.951_057, 0.309_017),
        (0.264_503, 0.364_058),
    ]
};

/// The surface texture family of an object class; its colours, period and phase are drawn
/// per image from distributions shared by every class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Surface {
    /// Parallel sinusoidal stripes.
    Stripes,
    /// A checkerboard.
    Checker,
    /// A grid of round dots.
    Dots,
    /// Thin lines in two directions.
    Grid,
    /// Rings around the object's centre.
    Rings,
    /// One colour with soft mottling.
    Plain,
}

impl Surface {
    fn name(self) -> &'static str {
        match self {
            Self::Stripes => "stripes",
            Self::Checker => "checker",
            Self::Dots => "dots",
            Self::Grid => "grid",
            Self::Rings => "rings",
            Self::Plain => "plain",
        }
    }

    /// Mix between the dark (0) and bright (1) colour at pattern coordinates `(u, v)` in
    /// periods, `r` periods from the object's centre.
    fn mix(self, u: f32, v: f32, r: f32) -> f32 {
        let frac = |x: f32| x - x.round();
        match self {
            Self::Stripes => 0.5 + 0.5 * (TAU * u).sin(),
            Self::Checker => ((u.floor() as i64 + v.floor() as i64).rem_euclid(2)) as f32,
            Self::Dots => {
                let (du, dv) = (frac(u), frac(v));
                if du * du + dv * dv < 0.09 { 1.0 } else { 0.0 }
            }
            Self::Grid => {
                if frac(u).abs() < 0.2 || frac(v).abs() < 0.2 {
                    0.0
                } else {
                    1.0
                }
            }
            Self::Rings => 0.5 + 0.5 * (TAU * r).cos(),
            // Two low-frequency waves: shading, no repeating pattern.
            Self::Plain => 0.5 + 0.25 * ((0.37 * TAU * u).sin() + (0.29 * TAU * v).sin()),
        }
    }
}

/// The ten textures of classes `0..10`: a family and its orientation in degrees, fixed in
/// the image frame (the outline rotates freely), so orientation is a class cue as in
/// photos of upright objects.
const TEXTURES: [(Surface, f32); 10] = [
    (Surface::Stripes, 0.0),
    (Surface::Stripes, 45.0),
    (Surface::Stripes, 90.0),
    (Surface::Stripes, 135.0),
    (Surface::Checker, 0.0),
    (Surface::Checker, 45.0),
    (Surface::Dots, 0.0),
    (Surface::Grid, 30.0),
    (Surface::Rings, 0.0),
    (Surface::Plain, 0.0),
];

/// The identity of an object class: silhouette, surface texture and its orientation.
/// Classes `0..10` have ten textures and the five silhouettes twice; classes `10..20` repeat
/// the textures with other silhouettes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ObjectClass {
    pub(crate) silhouette: Silhouette,
    pub(crate) surface: Surface,
    /// Texture orientation in degrees.
    pub(crate) angle: f32,
}

impl ObjectClass {
    /// Most distinct classes this world has.
    pub(crate) const MAX_CLASSES: usize = 2 * TEXTURES.len();

    /// The class of index `class` (`< MAX_CLASSES`; larger indices wrap around).
    pub(crate) fn of_class(class: usize) -> Self {
        let class = class % Self::MAX_CLASSES;
        let (surface, angle) = TEXTURES[class % TEXTURES.len()];
        let shift = class / TEXTURES.len();
        Self { silhouette: SILHOUETTES[(class + shift) % SILHOUETTES.len()], surface, angle }
    }

    /// A short name such as `star-stripes45`.
    pub(crate) fn name(self) -> String {
        let angle = match self.surface {
            Surface::Stripes | Surface::Checker | Surface::Grid => format!("{}", self.angle),
            Surface::Dots | Surface::Rings | Surface::Plain => String::new(),
        };
        format!("{}-{}{angle}", self.silhouette.name(), self.surface.name())
    }
}

/// Object colours: any hue, from greyish to saturated, so colour says nothing of the class
/// (clutter patches stay below 0.25 saturation, so they rarely look like objects).
fn object_colours(rng: &mut Rng) -> ([f32; 3], [f32; 3]) {
    let hue = rng.random::<f32>();
    let sat = uniform(rng, 0.3, 0.95) as f32;
    let second_hue = hue + uniform(rng, -0.12, 0.12) as f32;
    let bright = hsv(hue, sat, uniform(rng, 0.7, 1.0) as f32);
    let dark = hsv(second_hue, sat, uniform(rng, 0.15, 0.45) as f32);
    (bright, dark)
}

/// A background of `w x h`: the patterns world's gradient and noise in paler colours, two
/// textured clutter patches and two thin strokes, whose straight edges and corners resemble
/// object outlines. More clutter (2-5 patches, 2-4 strokes, saturation up to 0.5) hid the
/// objects from untrained and pre-trained encoders alike in an early screen
/// (docs/study/world.md).
pub(crate) fn paint_cluttered(rng: &mut Rng, w: u32, h: u32) -> Canvas {
    let mut canvas = paint_background_with(rng, w, h, 2..=2, 0.3);
    let side = w.min(h) as f32;
    for _ in 0..2 {
        let (x0, y0) = (uniform(rng, 0.0, w as f64) as f32, uniform(rng, 0.0, h as f64) as f32);
        let angle = uniform(rng, 0.0, TAU as f64) as f32;
        let len = side * uniform(rng, 0.15, 0.5) as f32;
        let half_width = (side * uniform(rng, 0.01, 0.025) as f32).max(0.5);
        let (dx, dy) = (angle.cos(), angle.sin());
        let colour =
            hsv(rng.random(), uniform(rng, 0.0, 0.5) as f32, uniform(rng, 0.1, 0.95) as f32);
        let (cx, cy) = (x0 + dx * len / 2.0, y0 + dy * len / 2.0);
        paint_region(
            &mut canvas,
            (cx, cy),
            len / 2.0 + half_width,
            |x, y| {
                let (px, py) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
                let along = px * dx + py * dy;
                let across = -px * dy + py * dx;
                along.abs() <= len / 2.0 && across.abs() <= half_width
            },
            |_, _| colour,
        );
    }
    canvas
}

/// A cluttered background image of `w x h`.
pub(crate) fn background(rng: &mut Rng, w: u32, h: u32) -> RgbImage {
    paint_cluttered(rng, w, h).into_image()
}

/// Paints a `w x h` scene holding one object of `class`, whose circumradius is
/// `radius_frac` (a range) of the shorter side. The background is drawn from `rng` first,
/// so a clone of the RNG taken before this call reproduces the bare background.
pub(crate) fn scene(rng: &mut Rng, w: u32, h: u32, class: usize, radius_frac: (f64, f64)) -> Scene {
    let ObjectClass { silhouette, surface, angle } = ObjectClass::of_class(class);
    let mut canvas = paint_cluttered(rng, w, h);
    let side = w.min(h);
    let radius = side as f32 * uniform(rng, radius_frac.0, radius_frac.1) as f32;
    let place = |rng: &mut Rng, n: u32| uniform(rng, radius as f64, (n as f32 - radius) as f64);
    let (cx, cy) = (place(rng, w) as f32, place(rng, h) as f32);
    let (sin, cos) = (uniform(rng, 0.0, TAU as f64) as f32).sin_cos();
    let aspect = uniform(rng, 0.7, 0.9) as f32;
    // Texture scales with the object, as the surface of a real object does, but never
    // below 4 px a period, so it survives a 32 px image; its orientation is the class's,
    // give or take 8 degrees.
    let period = (radius * uniform(rng, 0.4, 0.6) as f32).max(4.0);
    let texture_angle = (f64::from(angle) + uniform(rng, -8.0, 8.0)).to_radians() as f32;
    let (tsin, tcos) = texture_angle.sin_cos();
    let phase = (rng.random::<f32>(), rng.random::<f32>());
    let (bright, dark) = object_colours(rng);
    let light = uniform(rng, 0.0, TAU as f64) as f32;
    let (lx, ly) = (light.cos() / radius, light.sin() / radius);
    let noise = 0.03f32;
    let contains = |x: u32, y: u32| {
        let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
        let (u, v) = ((dx * cos + dy * sin) / radius, (-dx * sin + dy * cos) / radius);
        silhouette.contains(u, v, aspect)
    };
    let painted = paint_region(&mut canvas, (cx, cy), radius, contains, |x, y| {
        let (dx, dy) = (x - cx, y - cy);
        let u = (dx * tcos + dy * tsin) / period + phase.0;
        let v = (-dx * tsin + dy * tcos) / period + phase.1;
        let t = surface.mix(u, v, (dx * dx + dy * dy).sqrt() / period + phase.0);
        let shade = 1.0 + 0.15 * (dx * lx + dy * ly);
        std::array::from_fn(|k| {
            let c = dark[k] + t * (bright[k] - dark[k]);
            c * shade + noise * (2.0 * rng.random::<f32>() - 1.0)
        })
    });
    Scene::from_painted(canvas, &painted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    #[test]
    fn outlines_hold_their_centre_and_stay_in_the_unit_disc() {
        for s in SILHOUETTES {
            assert!(s.contains(0.0, 0.0, 0.8), "{s:?}");
            for k in 0..64 {
                let a = TAU * k as f32 / 64.0;
                assert!(!s.contains(1.01 * a.cos(), 1.01 * a.sin(), 1.0), "{s:?} at {a}");
            }
        }
        // The concave corners: the star's notch and the cross's inner corner are outside.
        assert!(!Silhouette::Star.contains(0.0, -0.5, 1.0));
        assert!(!Silhouette::Cross.contains(0.5, 0.5, 1.0));
        assert!(Silhouette::Square.contains(0.6, 0.6, 1.0));
    }

    #[test]
    fn classes_pair_textures_with_silhouettes() {
        let names: Vec<String> = (0..20).map(|c| ObjectClass::of_class(c).name()).collect();
        assert_eq!(names[0], "disc-stripes0");
        assert_eq!(names[7], "square-grid30");
        assert_eq!(names[10], "triangle-stripes0");
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), 20);
        assert_eq!(ObjectClass::of_class(ObjectClass::MAX_CLASSES), ObjectClass::of_class(0));
    }

    #[test]
    fn mask_marks_exactly_the_painted_object() {
        for i in 0..30 {
            let mut rng = item_rng(7, 0, i);
            let bare = background(&mut rng.clone(), 48, 40);
            let s = scene(&mut rng, 48, 40, i as usize % 10, (0.3, 0.45));
            assert_eq!(s.mask.largest_component_box(), Some(s.object_box));
            let b = s.object_box;
            assert!(b.x + b.w <= 48 && b.y + b.h <= 40 && b.w > 0);
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
            // Circumradius >= 12 px; the thinnest outline (the star) still covers ~100 px.
            assert!(inside > 80, "{inside}");
            assert!(changed * 10 > inside * 8, "{changed}/{inside}");
        }
    }
}
