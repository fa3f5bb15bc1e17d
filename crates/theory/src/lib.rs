//! Layout theory (method.md section 4): why the reference object goes at a corner, the
//! trigger in the remaining part, and how large the background should be. Its own crate so
//! the generator (`corruptencoder-poison`, for `area_ratio = "optimal"`), the `theory`
//! command and the report share it without pulling in the attacks.
//!
//! - `scene`: the four layouts as pixel boxes.
//! - `closed_form`: exact `p1`, `p2` for fixed square views and the optimal layout.
//! - `search`: exhaustive whole-pixel search, the check on the closed forms.
//! - `monte_carlo` and `heatmap`: the same events under the real crop samplers.
//! - `sweep`: tables over background size and trigger position, and
//!   [`optimal_area_ratio`] for the generator.
//! - `plot`: the heatmap as an image.
//!
//! ```
//! use corruptencoder_augment::SquareCrop;
//! use corruptencoder_theory::{Layout, McConfig, Scene, estimate, square_probs};
//! // The authors' geometry: a 400x300 object, an 800 px background, a 40 px trigger.
//! let scene = Scene::centred(Layout::Left, (400, 300), 800, 40)?;
//! let exact = square_probs(&scene, 150)?;
//! let cfg = McConfig { samples: 200_000, seed: 0, object_fraction: 0.5 };
//! let mc = estimate(&scene, &SquareCrop { size: 150 }, &cfg);
//! assert!((mc.p1.p - exact.p1).abs() < 0.01);
//! # Ok::<(), corruptencoder_theory::LayoutError>(())
//! ```
#![deny(missing_docs)]

mod closed_form;
mod error;
mod heatmap;
mod monte_carlo;
mod plot;
mod scene;
mod search;
mod sweep;

pub use closed_form::{
    SquareOptimum, SquareProbs, centred_square_background, optimal_square_layout, square_probs,
};
pub use error::LayoutError;
pub use heatmap::{TriggerGrid, TriggerMap, trigger_map};
pub use monte_carlo::{CHUNK, Estimate, McConfig, McEstimate, estimate};
pub use plot::render_trigger_map;
pub use scene::{Layout, Scene};
pub use search::{search_centred_background, search_square_optimum};
pub use sweep::{OptimalRatioOptions, Sweep, SweepConfig, SweepRow, optimal_area_ratio, sweep};
