//! Tables in Markdown documents that are what a command printed: each is marked with the
//! committed `results.json` it comes from and the command that wrote it, and is regenerated
//! from that file, so a document's numbers can be checked against their source.
//!
//! A marked table in a document:
//!
//! ```text
//! <!-- table: docs/results/demo/results.json | command: corruptencoder demo -->
//! ...the block [`render_marked`] writes...
//! <!-- end table -->
//! ```
//!
//! The results path is relative to the repository root the caller names.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::results::Results;
use crate::summary::distinct_provenances;
use crate::table::render_table;

const OPEN: &str = "<!-- table:";
const CLOSE: &str = "<!-- end table -->";

/// One marked table of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedTable {
    /// The line of its opening marker (1-based).
    pub line: usize,
    /// The results file, relative to the repository root.
    pub source: PathBuf,
    /// The command that wrote the results, as the document states it.
    pub command: String,
    /// The line of its closing marker (1-based).
    pub end: usize,
    /// The text between the markers, as the document has it.
    pub found: String,
}

/// What is wrong with a document's marked tables.
#[derive(Debug, thiserror::Error)]
pub enum DocTableError {
    /// A marker is malformed or unclosed.
    #[error("line {line}: {problem}")]
    Marker {
        /// The marker's line (1-based).
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The results file cannot be read or parsed.
    #[error("line {line}: cannot read {}: {problem}", source_path.display())]
    Source {
        /// The marker's line (1-based).
        line: usize,
        /// The results file.
        source_path: PathBuf,
        /// Why.
        problem: String,
    },
}

/// The marked tables of a Markdown text, in order.
pub fn marked_tables(text: &str) -> Result<Vec<MarkedTable>, DocTableError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut tables = Vec::new();
    let mut i = 0;
    let mut fenced = false;
    while i < lines.len() {
        // A marker shown inside a fenced code block is an example, not a table.
        if lines[i].trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let Some(rest) = lines[i].trim().strip_prefix(OPEN).filter(|_| !fenced) else {
            i += 1;
            continue;
        };
        let line = i + 1;
        let (source, command) = parse_marker(rest).ok_or_else(|| DocTableError::Marker {
            line,
            problem: format!(
                "expected `{OPEN} PATH | command: COMMAND -->`, found `{}`",
                lines[i].trim()
            ),
        })?;
        let end = (i + 1..lines.len()).find(|&j| lines[j].trim() == CLOSE).ok_or_else(|| {
            DocTableError::Marker {
                line,
                problem: format!("no `{CLOSE}` after the table's marker"),
            }
        })?;
        let found = lines[i + 1..end].join("\n");
        tables.push(MarkedTable { line, source, command, end: end + 1, found });
        i = end + 1;
    }
    Ok(tables)
}

fn parse_marker(rest: &str) -> Option<(PathBuf, String)> {
    let inner = rest.trim().strip_suffix("-->")?.trim();
    let (path, command) = inner.split_once('|')?;
    let command = command.trim().strip_prefix("command:")?.trim();
    let path = path.trim();
    (!path.is_empty() && !command.is_empty()).then(|| (PathBuf::from(path), command.to_owned()))
}

/// The block a marked table holds: who made the numbers (command, commit, CPU), then the
/// table the command printed from the same results.
pub fn render_marked(results: &Results, command: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Printed by `{command}` ({}).", made_with(results));
    s.push('\n');
    s.push_str(render_table(results).trim_end());
    s
}

/// The distinct provenances of the runs, or a note that the runs predate their recording.
fn made_with(results: &Results) -> String {
    let kinds = distinct_provenances(&results.runs);
    if kinds.is_empty() {
        return "runs made before results recorded their commit and CPU".into();
    }
    format!(
        "{}; trained numbers are that commit's on that machine (README, Reproducibility)",
        kinds.join("; ")
    )
}

/// The Markdown files that may hold marked tables: `root/README.md`, then every `.md` under
/// `root/docs`, in sorted order.
pub fn markdown_documents(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries = fs_err::read_dir(dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<Vec<_>>>()?;
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out)?;
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = vec![root.join("README.md")];
    walk(&root.join("docs"), &mut out)?;
    Ok(out)
}

/// Reads a marked table's results file under `root`.
fn read_source(root: &Path, table: &MarkedTable) -> Result<Results, DocTableError> {
    let path = root.join(&table.source);
    let problem = |problem: String| DocTableError::Source {
        line: table.line,
        source_path: table.source.clone(),
        problem,
    };
    let text = fs_err::read_to_string(&path).map_err(|e| problem(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| problem(e.to_string()))
}

/// A marked table whose text is not what its results file gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The table as the document has it.
    pub table: MarkedTable,
    /// What its results file gives.
    pub expected: String,
}

/// The marked tables of `text` that differ from their results files under `root`.
pub fn stale_tables(text: &str, root: &Path) -> Result<Vec<Stale>, DocTableError> {
    let mut stale = Vec::new();
    for table in marked_tables(text)? {
        let expected = render_marked(&read_source(root, &table)?, &table.command);
        if table.found.trim() != expected.trim() {
            stale.push(Stale { table, expected });
        }
    }
    Ok(stale)
}

/// `text` with every marked table regenerated from its results file under `root`.
pub fn refresh_tables(text: &str, root: &Path) -> Result<String, DocTableError> {
    let tables = marked_tables(text)?;
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len());
    let mut next = 0;
    for table in &tables {
        for l in &lines[next..table.line] {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str(&render_marked(&read_source(root, table)?, &table.command));
        out.push('\n');
        next = table.end - 1;
    }
    for l in &lines[next..] {
        out.push_str(l);
        out.push('\n');
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::RunResult;
    use crate::summary::summarize;

    fn results_file(dir: &Path, asr: f64) {
        let run =
            RunResult { arm: "corruptencoder".into(), accuracy: 80.0, asr, ..Default::default() };
        let runs = vec![run];
        let results = Results { summary: summarize(&runs), runs, ..Default::default() };
        std::fs::create_dir_all(dir.join("r")).unwrap();
        std::fs::write(dir.join("r/results.json"), serde_json::to_string(&results).unwrap())
            .unwrap();
    }

    const DOC: &str = "# Title\n\nBefore.\n<!-- table: r/results.json | command: ce demo -->\nold\n<!-- end table -->\nAfter.\n";

    #[test]
    fn a_stale_table_is_found_and_refreshing_makes_it_current() {
        let tmp = tempfile::tempdir().unwrap();
        results_file(tmp.path(), 12.5);
        let stale = stale_tables(DOC, tmp.path()).unwrap();
        assert_eq!(stale.len(), 1);
        assert_eq!((stale[0].table.line, stale[0].table.end), (4, 6));
        assert!(
            stale[0].expected.contains("| corruptencoder | 0 | 80.0 | 12.5 |"),
            "{}",
            stale[0].expected
        );
        assert!(stale[0].expected.starts_with("Printed by `ce demo` (runs made before"));

        let fresh = refresh_tables(DOC, tmp.path()).unwrap();
        assert!(fresh.starts_with("# Title\n\nBefore.\n<!-- table: r/results.json"));
        assert!(fresh.ends_with("<!-- end table -->\nAfter.\n"), "{fresh}");
        assert!(stale_tables(&fresh, tmp.path()).unwrap().is_empty());
        assert_eq!(refresh_tables(&fresh, tmp.path()).unwrap(), fresh, "refreshing is idempotent");

        // A changed result makes the refreshed document stale again.
        results_file(tmp.path(), 13.0);
        assert_eq!(stale_tables(&fresh, tmp.path()).unwrap().len(), 1);
    }

    #[test]
    fn bad_markers_and_missing_sources_are_named_by_line() {
        let tmp = tempfile::tempdir().unwrap();
        let unclosed = "x\n<!-- table: r/results.json | command: ce -->\n| a |\n";
        let e = marked_tables(unclosed).unwrap_err().to_string();
        assert!(e.starts_with("line 2: no `<!-- end table -->`"), "{e}");
        let no_command = "<!-- table: r/results.json -->\n<!-- end table -->\n";
        let e = marked_tables(no_command).unwrap_err().to_string();
        assert!(e.starts_with("line 1: expected"), "{e}");
        let e = stale_tables(DOC, tmp.path()).unwrap_err().to_string();
        assert!(e.starts_with("line 4: cannot read r/results.json"), "{e}");
        assert!(marked_tables("no tables here\n").unwrap().is_empty());
        let fenced = "```text\n<!-- table: r/results.json | command: ce -->\n```\n";
        assert!(marked_tables(fenced).unwrap().is_empty(), "an example in a code block");
    }
}
