//! Integration tests of the poison generators on the authors' kit.
mod corrupt_encoder;
mod proptests;

use std::path::PathBuf;

/// The authors' kit at `../shared/kit` from the repository root; fails loudly if missing.
pub(crate) fn kit() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/kit");
    assert!(
        root.join("references").is_dir(),
        "the authors' kit is missing at {}: tests need ../shared/kit beside the repository",
        root.display()
    );
    root
}
