//! Draws a [`TriggerMap`] as a heatmap image: one coloured block per trigger position,
//! the object grey, the best position crossed, pixel ticks on both axes and a colour bar
//! labelled from 0 to the map's maximum. A 3x5 pixel font keeps it free of font files.
use image::{Rgb, RgbImage};

use crate::heatmap::TriggerMap;

const MARGIN_LEFT: u32 = 44;
const MARGIN_BOTTOM: u32 = 30;
const MARGIN: u32 = 10;
const BAR: u32 = 16;
const BAR_LABELS: u32 = 56;
const GREY: Rgb<u8> = Rgb([128, 128, 128]);
const INK: Rgb<u8> = Rgb([0, 0, 0]);

/// Renders `map` about `target_width` pixels wide (whole pixels per cell). Cells for which
/// `masked(i, j)` holds (trigger on the object) are grey; `mark` is crossed.
pub fn render_trigger_map(
    map: &TriggerMap,
    masked: impl Fn(u32, u32) -> bool,
    mark: Option<(u32, u32)>,
    target_width: u32,
) -> RgbImage {
    let g = map.grid;
    let cell = (target_width / g.nx).clamp(1, 400 / g.ny.max(1)).max(1);
    let (pw, ph) = (g.nx * cell, g.ny * cell);
    let width = MARGIN_LEFT + pw + MARGIN + BAR + BAR_LABELS;
    let height = MARGIN + ph + MARGIN_BOTTOM;
    let mut img = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let vmax = (0..g.ny)
        .flat_map(|j| (0..g.nx).map(move |i| (i, j)))
        .filter(|&(i, j)| !masked(i, j))
        .map(|(i, j)| map.at(i, j).p)
        .fold(0.0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    for j in 0..g.ny {
        for i in 0..g.nx {
            let c = if masked(i, j) { GREY } else { colour(map.at(i, j).p / vmax) };
            fill(&mut img, MARGIN_LEFT + i * cell, MARGIN + j * cell, cell, cell, c);
        }
    }
    if let Some((i, j)) = mark {
        let (cx, cy) = (MARGIN_LEFT + i * cell + cell / 2, MARGIN + j * cell + cell / 2);
        let arm = (cell * 2).max(6);
        fill(&mut img, cx.saturating_sub(arm), cy, 2 * arm, 1.max(cell / 3), Rgb([255, 255, 255]));
        fill(&mut img, cx, cy.saturating_sub(arm), 1.max(cell / 3), 2 * arm, Rgb([255, 255, 255]));
    }
    for k in 0..=4 {
        // Ticks at a fifth of each axis, labelled with the trigger's pixel position.
        let i = (g.nx - 1) * k / 4;
        let x = MARGIN_LEFT + i * cell + cell / 2;
        fill(&mut img, x, MARGIN + ph, 1, 4, INK);
        text(&mut img, x.saturating_sub(6), MARGIN + ph + 7, &g.position(i, 0).0.to_string());
        let j = (g.ny - 1) * k / 4;
        let y = MARGIN + j * cell + cell / 2;
        fill(&mut img, MARGIN_LEFT - 4, y, 4, 1, INK);
        text(&mut img, 2, y.saturating_sub(5), &g.position(0, j).1.to_string());
    }
    let bx = MARGIN_LEFT + pw + MARGIN;
    for y in 0..ph {
        fill(
            &mut img,
            bx,
            MARGIN + y,
            BAR,
            1,
            colour(1.0 - f64::from(y) / f64::from(ph.max(2) - 1)),
        );
    }
    text(&mut img, bx + BAR + 4, MARGIN, &format!("{vmax:.3}"));
    text(&mut img, bx + BAR + 4, MARGIN + ph - 10, "0");
    img
}

/// Viridis, by linear interpolation between five of its colours; `t` in 0..=1.
fn colour(t: f64) -> Rgb<u8> {
    const STOPS: [[f64; 3]; 5] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
        [253.0, 231.0, 37.0],
    ];
    let t = t.clamp(0.0, 1.0) * 4.0;
    let k = (t as usize).min(3);
    let f = t - k as f64;
    Rgb(std::array::from_fn(|c| (STOPS[k][c] * (1.0 - f) + STOPS[k + 1][c] * f).round() as u8))
}

fn fill(img: &mut RgbImage, x: u32, y: u32, w: u32, h: u32, c: Rgb<u8>) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, c);
        }
    }
}

/// Draws digits and '.' at twice the 3x5 font size.
fn text(img: &mut RgbImage, x: u32, y: u32, s: &str) {
    for (n, ch) in s.chars().enumerate() {
        let rows = glyph(ch);
        for (r, bits) in rows.iter().enumerate() {
            for col in 0..3 {
                if bits >> (2 - col) & 1 == 1 {
                    fill(img, x + n as u32 * 8 + col * 2, y + r as u32 * 2, 2, 2, INK);
                }
            }
        }
    }
}

fn glyph(ch: char) -> [u8; 5] {
    match ch {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        _ => [0; 5],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heatmap::TriggerGrid;

    #[test]
    fn colours_masks_and_marks_cells() {
        let grid = TriggerGrid { x0: 0, y0: 0, stride: 10, nx: 4, ny: 2 };
        let map = TriggerMap { grid, samples: 10, counts: vec![0, 5, 10, 2, 0, 0, 3, 4] };
        let img = render_trigger_map(&map, |i, _| i == 0, Some((3, 1)), 400);
        let cell = 100;
        let at = |i: u32, j: u32| *img.get_pixel(MARGIN_LEFT + i * cell + 5, MARGIN + j * cell + 5);
        assert_eq!(at(0, 0), GREY);
        assert_eq!(at(2, 0), colour(1.0));
        assert_eq!(at(1, 1), colour(0.0));
        let centre = *img.get_pixel(MARGIN_LEFT + 3 * cell + 50, MARGIN + cell + 50);
        assert_eq!(centre, Rgb([255, 255, 255]));
        assert_eq!(colour(0.0), Rgb([68, 1, 84]));
        assert_eq!(colour(1.0), Rgb([253, 231, 37]));
    }
}
