//! Rewrites every marked table in README.md and docs/ from its committed results file
//! (`cargo run -p corruptencoder-report --example refresh-doc-tables`); the report crate's
//! `doc_tables` test checks them.
#![allow(clippy::print_stdout)]
use std::path::Path;

use corruptencoder_report::{markdown_documents, marked_tables, refresh_tables};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for doc in markdown_documents(&root)? {
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
