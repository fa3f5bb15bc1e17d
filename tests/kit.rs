//! The authors' kit for the integration tests (docs/method.md section 9), included by each
//! crate's test binary that reads it (`#[path]`): found through the `CORRUPTENCODER_KIT`
//! environment variable, else at `../shared/kit` beside the repository. The first use says
//! which one it is; a missing kit fails the test with a message naming
//! `scripts/fetch-kit.sh`, since these tests exist to check behaviour on the real inputs.
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The kit's folder.
pub(crate) fn kit() -> PathBuf {
    static KIT: OnceLock<PathBuf> = OnceLock::new();
    KIT.get_or_init(find).clone()
}

#[expect(clippy::print_stderr, reason = "the tests say which kit they read")]
fn find() -> PathBuf {
    let (root, origin) = match std::env::var_os("CORRUPTENCODER_KIT") {
        Some(dir) => (PathBuf::from(dir), "CORRUPTENCODER_KIT"),
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/kit"),
            "../shared/kit beside the repository",
        ),
    };
    assert!(
        root.join("references").is_dir(),
        "the authors' kit is missing at {} ({origin}): build it with scripts/fetch-kit.sh, or \
         set CORRUPTENCODER_KIT to its folder",
        root.display()
    );
    eprintln!("kit: {} ({origin})", root.display());
    root
}
