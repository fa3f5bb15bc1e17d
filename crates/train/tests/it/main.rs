//! Integration tests of corruptencoder-train on tiny generated data.
mod backend_parity;
mod bad_input;
mod cleanclip;
mod clip;
mod export;
mod fuzz;
mod icutmix;
mod import;
mod monitor;
mod parallel;
mod resume;
mod tensorboard;
mod training;
mod util;
#[cfg(feature = "wgpu")]
mod wgpu;
