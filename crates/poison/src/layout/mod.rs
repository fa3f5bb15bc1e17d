//! Layout theory (SPEC section 4): why the object goes at a corner, the trigger in the
//! remaining part, and how large the background should be.
//!
//! - `scene`: the four layouts as pixel boxes.
//! - `closed_form`: exact `p1`, `p2` for fixed square views and the optimal layout.
//! - `search`: exhaustive whole-pixel search, the check on the closed forms.
//! - `monte_carlo` and `heatmap`: the same events under the real crop samplers.
//! - `sweep`: tables over background size and trigger position, and
//!   [`optimal_area_ratio`] for the generator.
//! - `plot`: the heatmap as an image.
mod closed_form;
mod heatmap;
mod monte_carlo;
mod plot;
mod scene;
mod search;
mod sweep;

pub use closed_form::{
    SquareOptimum, SquareProbs, centred_square_background, optimal_square_layout, square_probs,
};
pub use heatmap::{TriggerGrid, TriggerMap, trigger_map};
pub use monte_carlo::{CHUNK, Estimate, McConfig, McEstimate, estimate};
pub use plot::render_trigger_map;
pub use scene::{Layout, Scene};
pub use search::{search_centred_background, search_square_optimum};
pub use sweep::{OptimalRatioOptions, Sweep, SweepConfig, SweepRow, optimal_area_ratio, sweep};

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
