//! Minimal image-list and ImageFolder readers.
//!
//! TO BE REPLACED by `corruptencoder-data`'s `dataset/` readers once they land; kept
//! private to this crate and small on purpose.
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One image of the pre-training set. Labels are unused by pre-training; -1 marks a poison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Image file.
    pub path: PathBuf,
    /// Class index, or -1 for a poisoned image.
    pub label: i64,
}

/// Reads `source`: a folder is an ImageFolder (one sub-folder per class, sorted), a file a
/// list of `path label` lines as the poison generator writes them (relative paths resolve
/// against the list's folder; blank lines and `#` comments are skipped).
pub fn read_dataset(source: &Path) -> Result<Vec<Sample>> {
    let samples =
        if source.is_dir() { read_image_folder(source)? } else { read_file_list(source)? };
    if samples.is_empty() {
        return Err(Error::EmptyDataset { path: source.to_path_buf() });
    }
    Ok(samples)
}

fn read_file_list(list: &Path) -> Result<Vec<Sample>> {
    let text = fs_err::read_to_string(list)
        .map_err(|source| Error::ReadDataset { path: list.to_path_buf(), source })?;
    let base = list.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Split at the last blank so paths with spaces survive.
        let parsed = line
            .rsplit_once(char::is_whitespace)
            .and_then(|(p, l)| Some((p.trim_end(), l.parse::<i64>().ok()?)));
        let Some((path, label)) = parsed else {
            return Err(Error::ListSyntax {
                path: list.to_path_buf(),
                line: i + 1,
                text: line.to_owned(),
            });
        };
        out.push(Sample { path: base.join(path), label });
    }
    Ok(out)
}

fn read_image_folder(root: &Path) -> Result<Vec<Sample>> {
    let io = |source| Error::ReadDataset { path: root.to_path_buf(), source };
    let mut classes: Vec<PathBuf> = fs_err::read_dir(root)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    classes.sort();
    let mut out = Vec::new();
    for (label, class) in classes.iter().enumerate() {
        let mut files: Vec<PathBuf> = fs_err::read_dir(class)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|path| Sample { path, label: label as i64 }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lists_with_poison_labels_and_reports_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("train.txt");
        fs_err::write(&list, "# header\na/x 1.png 3\n\n/abs/p.png -1\n").unwrap();
        let got = read_dataset(&list).unwrap();
        assert_eq!(got[0], Sample { path: dir.path().join("a/x 1.png"), label: 3 });
        assert_eq!(got[1], Sample { path: PathBuf::from("/abs/p.png"), label: -1 });
        fs_err::write(&list, "ok.png 1\nbroken\n").unwrap();
        assert!(matches!(read_dataset(&list), Err(Error::ListSyntax { line: 2, .. })));
        fs_err::write(&list, "\n").unwrap();
        assert!(matches!(read_dataset(&list), Err(Error::EmptyDataset { .. })));
    }

    #[test]
    fn image_folder_labels_follow_sorted_class_names() {
        let dir = tempfile::tempdir().unwrap();
        for (class, file) in [("b", "1.png"), ("a", "2.png"), ("a", "1.png")] {
            fs_err::create_dir_all(dir.path().join(class)).unwrap();
            fs_err::write(dir.path().join(class).join(file), "").unwrap();
        }
        let got = read_dataset(dir.path()).unwrap();
        let labels: Vec<(String, i64)> = got
            .iter()
            .map(|s| (s.path.strip_prefix(dir.path()).unwrap().display().to_string(), s.label))
            .collect();
        assert_eq!(labels, [("a/1.png".into(), 0), ("a/2.png".into(), 0), ("b/1.png".into(), 1)]);
    }
}
