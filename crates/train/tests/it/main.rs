//! Integration tests of corruptencoder-train on tiny generated data.
mod bad_input;
mod resume;
mod training;
mod util;
