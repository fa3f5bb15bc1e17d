//! The crop window every sampler returns.
use serde::{Deserialize, Serialize};

/// A crop window in pixel coordinates: columns `x..x+w`, rows `y..y+h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CropBox {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Width in pixels (at least 1).
    pub w: u32,
    /// Height in pixels (at least 1).
    pub h: u32,
}

impl CropBox {
    /// Area in pixels.
    #[inline]
    pub fn area(&self) -> u64 {
        u64::from(self.w) * u64::from(self.h)
    }

    /// Whether `other` lies entirely inside this box.
    #[inline]
    pub fn contains(&self, other: &CropBox) -> bool {
        // `&`, not `&&`: the layout Monte Carlo calls this per view, and one branch on the
        // combined test predicts better than four.
        (other.x >= self.x)
            & (other.y >= self.y)
            & (other.x + other.w <= self.x + self.w)
            & (other.y + other.h <= self.y + self.h)
    }

    /// Area of the intersection with `other`.
    #[inline]
    pub fn overlap(&self, other: &CropBox) -> u64 {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = (self.x + self.w).min(other.x + other.w);
        let y1 = (self.y + self.h).min(other.y + other.h);
        // Saturating: an empty side gives 0 without a branch.
        u64::from(x1.saturating_sub(x0)) * u64::from(y1.saturating_sub(y0))
    }
}
