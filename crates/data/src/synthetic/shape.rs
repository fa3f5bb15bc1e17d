//! Object silhouettes: ellipses, smooth blobs and polygons, as inside-tests on pixels.
use std::f32::consts::{PI, TAU};

use corruptencoder_core::{Rng, uniform};
use rand::Rng as _;

/// A closed object outline centred at `(cx, cy)` in pixel coordinates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape {
    pub(crate) cx: f32,
    pub(crate) cy: f32,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    /// Semi-axes `a`, `b`, rotated by `angle`.
    Ellipse { a: f32, b: f32, angle: f32 },
    /// Radius `r * (1 + sum amp_k sin(k theta + phase_k))`: star-shaped and smooth.
    Blob { r: f32, harmonics: Vec<(f32, f32, f32)> },
    /// Vertices relative to the centre, counter-clockwise by angle.
    Polygon { vertices: Vec<(f32, f32)> },
}

impl Shape {
    /// A random shape of nominal radius `radius` centred at `(cx, cy)`. Every kind stays
    /// within `radius` of its centre, so the caller can keep it inside the image.
    pub(crate) fn random(rng: &mut Rng, cx: f32, cy: f32, radius: f32) -> Self {
        let kind = match rng.random_range(0..3) {
            0 => Kind::Ellipse {
                a: radius,
                b: radius * uniform(rng, 0.55, 1.0) as f32,
                angle: uniform(rng, 0.0, PI as f64) as f32,
            },
            1 => {
                // Amplitudes sum below 0.3, so the radius stays in [0.7 r, 1.3 r] before
                // the rescale to at most `radius`.
                let n = rng.random_range(2..=4);
                let harmonics = (0..n)
                    .map(|k| {
                        let amp = uniform(rng, 0.02, 0.3 / n as f64) as f32;
                        (k as f32 + 2.0, amp, uniform(rng, 0.0, TAU as f64) as f32)
                    })
                    .collect::<Vec<_>>();
                let total: f32 = harmonics.iter().map(|h| h.1).sum();
                Kind::Blob { r: radius / (1.0 + total), harmonics }
            }
            _ => {
                let n = rng.random_range(5..=8);
                let start = uniform(rng, 0.0, TAU as f64) as f32;
                let vertices = (0..n)
                    .map(|k| {
                        let theta =
                            start + TAU * (k as f32 + uniform(rng, -0.2, 0.2) as f32) / n as f32;
                        let r = radius * uniform(rng, 0.75, 1.0) as f32;
                        (r * theta.cos(), r * theta.sin())
                    })
                    .collect();
                Kind::Polygon { vertices }
            }
        };
        Self { cx, cy, kind }
    }

    /// Whether the pixel centre `(x + 0.5, y + 0.5)` lies inside the outline.
    pub(crate) fn contains(&self, x: u32, y: u32) -> bool {
        let (dx, dy) = (x as f32 + 0.5 - self.cx, y as f32 + 0.5 - self.cy);
        match &self.kind {
            Kind::Ellipse { a, b, angle } => {
                let (s, c) = angle.sin_cos();
                let (u, v) = (dx * c + dy * s, -dx * s + dy * c);
                (u / a).powi(2) + (v / b).powi(2) <= 1.0
            }
            Kind::Blob { r, harmonics } => {
                let theta = dy.atan2(dx);
                let wobble: f32 = harmonics.iter().map(|(k, a, p)| a * (k * theta + p).sin()).sum();
                dx * dx + dy * dy <= (r * (1.0 + wobble)).powi(2)
            }
            Kind::Polygon { vertices } => point_in_polygon(vertices, dx, dy),
        }
    }
}

/// Even-odd ray casting.
pub(crate) fn point_in_polygon(vertices: &[(f32, f32)], x: f32, y: f32) -> bool {
    let mut inside = false;
    let mut j = vertices.len() - 1;
    for (i, &(xi, yi)) in vertices.iter().enumerate() {
        let (xj, yj) = vertices[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use corruptencoder_core::item_rng;

    #[test]
    fn square_polygon() {
        let sq = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)];
        assert!(point_in_polygon(&sq, 0.0, 0.0));
        assert!(point_in_polygon(&sq, 0.9, -0.9));
        assert!(!point_in_polygon(&sq, 1.1, 0.0));
    }

    #[test]
    fn every_kind_holds_its_centre_and_stays_within_radius() {
        for i in 0..60 {
            let shape = Shape::random(&mut item_rng(3, 0, i), 20.0, 20.0, 10.0);
            assert!(shape.contains(19, 19) || shape.contains(20, 20), "{shape:?}");
            for (x, y) in [(8, 20), (32, 20), (20, 8), (20, 32), (9, 9)] {
                assert!(!shape.contains(x, y), "{shape:?} holds {x},{y}");
            }
        }
    }
}
