//! The geometry the theory reasons about: a background with the reference object at a corner
//! and the trigger somewhere in the remaining part (method.md sections 3 and 4).
use corruptencoder_augment::CropBox;
use serde::{Deserialize, Serialize};

use crate::error::LayoutError;

/// Where the reference object sits; the trigger goes in the remaining part.
///
/// The released generator only uses `Left` and `Right`; the paper's analysis covers all four.
/// Vertical layouts are the horizontal ones with width and height swapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Object at the left edge, trigger to its right.
    Left,
    /// Object at the right edge, trigger to its left.
    Right,
    /// Object at the top edge, trigger below it.
    Top,
    /// Object at the bottom edge, trigger above it.
    Bottom,
}

impl Layout {
    /// All four layouts.
    pub const ALL: [Layout; 4] = [Layout::Left, Layout::Right, Layout::Top, Layout::Bottom];

    /// Whether object and trigger sit side by side (the generator's layouts).
    pub fn is_horizontal(self) -> bool {
        matches!(self, Layout::Left | Layout::Right)
    }
}

/// A poisoned image's layout: background size, object box and trigger box, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scene {
    /// Background (= poisoned image) width.
    pub width: u32,
    /// Background height.
    pub height: u32,
    /// The reference object's bounding box.
    pub object: CropBox,
    /// The trigger's box (a square of side `e`).
    pub trigger: CropBox,
}

impl Scene {
    /// Builds a scene. `background` is the size along the layout axis (width for
    /// horizontal layouts); across it the background is as large as the object, which the
    /// theory shows is optimal. `offset` is the gap in pixels between the object and the
    /// trigger's near edge; `across` is the trigger's position across the axis (`None`:
    /// centred).
    pub fn new(
        layout: Layout,
        object: (u32, u32),
        background: u32,
        trigger: u32,
        offset: u32,
        across: Option<u32>,
    ) -> Result<Self, LayoutError> {
        let (o_along, o_across) = along_across(layout, object);
        let slack = free_slack(o_along, background, trigger)?;
        if offset > slack || trigger > o_across {
            return Err(LayoutError::TriggerOutside { offset, slack, trigger, across: o_across });
        }
        let across = across.unwrap_or((o_across - trigger) / 2).min(o_across - trigger);
        // Positions along the axis measured from the start of the background.
        let (obj_at, trig_at) = match layout {
            Layout::Left | Layout::Top => (0, o_along + offset),
            Layout::Right | Layout::Bottom => (background - o_along, slack - offset),
        };
        let boxed = |along: u32, across: u32, len_along: u32, len_across: u32| {
            if layout.is_horizontal() {
                CropBox { x: along, y: across, w: len_along, h: len_across }
            } else {
                CropBox { x: across, y: along, w: len_across, h: len_along }
            }
        };
        let (width, height) =
            if layout.is_horizontal() { (background, o_across) } else { (o_across, background) };
        Ok(Self {
            width,
            height,
            object: boxed(obj_at, 0, o_along, o_across),
            trigger: boxed(trig_at, across, trigger, trigger),
        })
    }

    /// The scene with the trigger centred in the remaining part (method.md section 3's rule).
    pub fn centred(
        layout: Layout,
        object: (u32, u32),
        background: u32,
        trigger: u32,
    ) -> Result<Self, LayoutError> {
        let (o_along, _) = along_across(layout, object);
        let slack = free_slack(o_along, background, trigger)?;
        Self::new(layout, object, background, trigger, slack / 2, None)
    }
}

/// (size along the layout axis, size across it).
pub(crate) fn along_across(layout: Layout, (w, h): (u32, u32)) -> (u32, u32) {
    if layout.is_horizontal() { (w, h) } else { (h, w) }
}

/// Room left for the trigger's offset: `background - object - trigger`.
pub(crate) fn free_slack(object: u32, background: u32, trigger: u32) -> Result<u32, LayoutError> {
    background
        .checked_sub(object)
        .and_then(|free| free.checked_sub(trigger))
        .ok_or(LayoutError::NoRoom { object, background, trigger })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_place_object_at_a_corner_and_trigger_beside_it() {
        let s = Scene::new(Layout::Left, (40, 30), 100, 10, 5, None).unwrap();
        assert_eq!((s.width, s.height), (100, 30));
        assert_eq!(s.object, CropBox { x: 0, y: 0, w: 40, h: 30 });
        assert_eq!(s.trigger, CropBox { x: 45, y: 10, w: 10, h: 10 });
        let r = Scene::new(Layout::Right, (40, 30), 100, 10, 5, None).unwrap();
        assert_eq!(r.object.x, 60);
        assert_eq!(r.trigger.x + r.trigger.w + 5, 60);
        let b = Scene::new(Layout::Bottom, (30, 40), 100, 10, 0, Some(3)).unwrap();
        assert_eq!((b.width, b.height), (30, 100));
        assert_eq!(b.object, CropBox { x: 0, y: 60, w: 30, h: 40 });
        assert_eq!(b.trigger, CropBox { x: 3, y: 50, w: 10, h: 10 });
        let c = Scene::centred(Layout::Top, (30, 40), 100, 10).unwrap();
        assert_eq!(c.trigger, CropBox { x: 10, y: 65, w: 10, h: 10 });
    }

    #[test]
    fn a_trigger_that_cannot_fit_is_an_error() {
        assert!(matches!(
            Scene::centred(Layout::Left, (40, 30), 45, 10),
            Err(LayoutError::NoRoom { .. })
        ));
        assert!(Scene::new(Layout::Left, (40, 30), 100, 10, 51, None).is_err());
        assert!(Scene::new(Layout::Left, (40, 8), 100, 10, 0, None).is_err());
    }
}
