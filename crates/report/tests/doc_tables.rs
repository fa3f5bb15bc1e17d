//! Every marked table in README.md and docs/ is what its committed results file gives (the
//! marker syntax is in the report crate's `doc_tables` module).
use std::path::Path;

use corruptencoder_report::{markdown_documents, marked_tables, stale_tables};

#[test]
fn every_marked_table_in_the_docs_is_what_its_committed_results_give() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut problems = Vec::new();
    for doc in markdown_documents(&root).unwrap() {
        let text = std::fs::read_to_string(&doc).unwrap();
        let name = doc.strip_prefix(&root).unwrap_or(&doc).display().to_string();
        match stale_tables(&text, &root) {
            Ok(stale) => problems.extend(stale.into_iter().map(|s| {
                format!(
                    "{name}:{}: the table differs from {}; it gives:\n{}",
                    s.table.line,
                    s.table.source.display(),
                    s.expected
                )
            })),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\nRegenerate with `cargo run -p corruptencoder-report --example refresh-doc-tables` \
         once the results files are the ones to show.",
        problems.join("\n\n")
    );
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        marked_tables(&readme).unwrap().len() >= 2,
        "README's demo tables are marked with their results files"
    );
}
