//! Rewrites every marked table in README.md and docs/ from its committed results file
//! (`cargo run -p corruptencoder-report --example refresh-doc-tables`); the report crate's
//! `doc_tables` test checks them.
#![allow(clippy::print_stdout)]
use std::path::{Path, PathBuf};

use corruptencoder_report::{marked_tables, refresh_tables};

fn documents(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries =
        std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<Vec<_>, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            documents(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut docs = vec![root.join("README.md")];
    documents(&root.join("docs"), &mut docs)?;
    for doc in docs {
        let text = std::fs::read_to_string(&doc)?;
        if marked_tables(&text)?.is_empty() {
            continue;
        }
        let fresh = refresh_tables(&text, &root).map_err(|e| format!("{}: {e}", doc.display()))?;
        if fresh != text {
            std::fs::write(&doc, fresh)?;
            println!("refreshed {}", doc.display());
        }
    }
    Ok(())
}
