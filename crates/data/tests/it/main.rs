//! Integration tests of the data crate on the authors' kit and on generated files.
mod datasets;
mod fuzz;
mod references;
mod synthetic;

#[path = "../../../../tests/kit.rs"]
mod kit;
pub(crate) use kit::kit;
