//! placeholder
#![deny(missing_docs)]

mod layout;
pub use layout::{
    CHUNK, Estimate, Layout, LayoutError, McConfig, McEstimate, OptimalRatioOptions, Scene,
    SquareOptimum, SquareProbs, Sweep, SweepConfig, SweepRow, TriggerGrid, TriggerMap,
    centred_square_background, estimate, optimal_area_ratio, optimal_square_layout,
    render_trigger_map, search_centred_background, search_square_optimum, square_probs, sweep,
    trigger_map,
};
