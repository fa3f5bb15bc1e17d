//! The theory's one error type.

/// Errors of the layout theory: geometry that the model cannot handle.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LayoutError {
    /// The background leaves no room for the trigger beside the object.
    #[error(
        "a background of {background} px leaves no room for a {trigger} px trigger beside a \
         {object} px object"
    )]
    NoRoom {
        /// Object size along the layout axis.
        object: u32,
        /// Background size along the layout axis.
        background: u32,
        /// Trigger side.
        trigger: u32,
    },
    /// A trigger position outside the free part.
    #[error(
        "trigger offset {offset} exceeds the free slack {slack}, or a {trigger} px trigger \
         exceeds the {across} px across the layout"
    )]
    TriggerOutside {
        /// Requested offset from the object.
        offset: u32,
        /// Largest offset that fits.
        slack: u32,
        /// Trigger side.
        trigger: u32,
        /// Room across the layout axis.
        across: u32,
    },
    /// A square view that does not fit the image.
    #[error("a {view} px square view does not fit a {width}x{height} image")]
    ViewTooLarge {
        /// View side.
        view: u32,
        /// Image width.
        width: u32,
        /// Image height.
        height: u32,
    },
    /// Square views for which `p1 * p2` is zero (need `trigger <= view <= object sides`).
    #[error(
        "no layout works for {view} px square views, a {trigger} px trigger and a {}x{} \
         object (need trigger <= view <= both object sides)",
        object.0,
        object.1
    )]
    DegenerateSquare {
        /// View side.
        view: u32,
        /// Trigger side.
        trigger: u32,
        /// Object width and height.
        object: (u32, u32),
    },
    /// An empty or invalid ratio range.
    #[error("invalid ratio range {min}..={max} step {step}")]
    BadRange {
        /// Lower end.
        min: f64,
        /// Upper end.
        max: f64,
        /// Step.
        step: f64,
    },
}
