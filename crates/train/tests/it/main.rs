//! Integration tests of corruptencoder-train on tiny generated data.
mod bad_input;
mod import;
mod resume;
mod training;
mod util;
