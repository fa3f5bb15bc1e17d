use image::{GrayImage, Luma};
use imageproc::region_labelling::{Connectivity, connected_components};
use serde::{Deserialize, Serialize};

/// An axis-aligned box in pixels: columns `x..x+w`, rows `y..y+h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PixelBox {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

impl PixelBox {
    /// `[x, y, w, h]`, the manifest's form.
    pub fn to_array(self) -> [u32; 4] {
        [self.x, self.y, self.w, self.h]
    }
}

/// A binary object mask: 255 = object, 0 = not object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask(pub GrayImage);

impl Mask {
    /// A mask from a predicate on pixel positions.
    pub fn from_fn(width: u32, height: u32, f: impl Fn(u32, u32) -> bool) -> Self {
        Self(GrayImage::from_fn(width, height, |x, y| Luma([if f(x, y) { 255 } else { 0 }])))
    }

    /// Width and height.
    pub fn dimensions(&self) -> (u32, u32) {
        self.0.dimensions()
    }

    /// Number of object pixels.
    pub fn count(&self) -> u64 {
        self.0.pixels().filter(|p| p.0[0] > 0).count() as u64
    }

    /// The bounding box of the largest 8-connected object component, as the authors'
    /// `cv2.findContours(RETR_EXTERNAL)` + `boundingRect` of the largest contour give
    /// (holes inside a component do not split it). `None` for an empty mask.
    pub fn largest_component_box(&self) -> Option<PixelBox> {
        let labels = connected_components(&self.0, Connectivity::Eight, Luma([0u8]));
        let n = labels.pixels().map(|p| p.0[0]).max()? as usize;
        if n == 0 {
            return None;
        }
        // Per label: pixel count and extent.
        let mut stats = vec![(0u64, u32::MAX, u32::MAX, 0u32, 0u32); n + 1];
        for (x, y, p) in labels.enumerate_pixels() {
            let s = &mut stats[p.0[0] as usize];
            s.0 += 1;
            s.1 = s.1.min(x);
            s.2 = s.2.min(y);
            s.3 = s.3.max(x);
            s.4 = s.4.max(y);
        }
        // Ties go to the first label in raster order, which is deterministic.
        let (_, x0, y0, x1, y1) = stats[1..]
            .iter()
            .copied()
            .max_by(|a, b| a.0.cmp(&b.0).then(std::cmp::Ordering::Greater))?;
        Some(PixelBox { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(rows: &[&str]) -> Mask {
        Mask::from_fn(rows[0].len() as u32, rows.len() as u32, |x, y| {
            rows[y as usize].as_bytes()[x as usize] == b'#'
        })
    }

    #[test]
    fn largest_component_wins_and_diagonals_connect() {
        let m = mask(&[
            "#.......", //
            ".#..###.", //
            "..#.#.#.", // a ring with a hole stays one component
            "....###.",
        ]);
        // The diagonal has 3 pixels, the ring 8.
        assert_eq!(m.largest_component_box(), Some(PixelBox { x: 4, y: 1, w: 3, h: 3 }));
        let d = mask(&["#...", ".#..", "..#.", "...#", "##.."]);
        // 8-connectivity joins the diagonal into 4 pixels, larger than the pair below.
        assert_eq!(d.largest_component_box(), Some(PixelBox { x: 0, y: 0, w: 4, h: 4 }));
    }

    #[test]
    fn empty_mask_has_no_box() {
        assert_eq!(mask(&["...", "..."]).largest_component_box(), None);
        assert_eq!(mask(&["..#"]).count(), 1);
    }
}
