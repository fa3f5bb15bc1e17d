//! Integration tests of the data crate on the authors' kit and on generated files.
mod datasets;
mod fuzz;
mod references;
mod synthetic;

use std::path::PathBuf;

/// The authors' kit (`../shared/kit` from the repository root). Fails loudly when missing,
/// since these tests exist to check behaviour on the real inputs.
pub(crate) fn kit() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/kit");
    assert!(
        root.join("references").is_dir(),
        "the authors' kit is missing at {}: tests need ../shared/kit beside the repository",
        root.display()
    );
    root
}
