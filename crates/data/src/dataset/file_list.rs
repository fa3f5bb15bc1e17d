//! The authors' `path label` file lists (method.md section 3, step 8).
use std::path::{Path, PathBuf};

use image::RgbImage;

use super::base::{Dataset, read_err, write_err};
use crate::error::{Error, Result};
use crate::image_io::{ImageLimits, load_rgb};

/// A text file with one `path label` per line. Relative paths are resolved against the
/// list's folder, so a list can travel with its images. Label `-1` marks poisons. The path
/// is everything before the last run of whitespace, so paths may contain spaces. Blank
/// lines and lines starting with `#` are skipped.
#[derive(Debug, Clone)]
pub struct FileList {
    list: PathBuf,
    samples: Vec<(PathBuf, i64)>,
}

impl FileList {
    /// Reads and checks every line. Image files are not opened.
    pub fn open(list: &Path) -> Result<Self> {
        let text = fs_err::read_to_string(list).map_err(read_err(list))?;
        let base = list.parent().unwrap_or(Path::new("."));
        let mut samples = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad =
                || Error::ListLine { path: list.to_path_buf(), line: i + 1, content: line.into() };
            let (p, l) = line.rsplit_once(char::is_whitespace).ok_or_else(bad)?;
            let label: i64 = l.parse().map_err(|_| bad())?;
            let p = p.trim_end();
            if p.is_empty() || label < -1 {
                return Err(bad());
            }
            samples.push((base.join(p), label));
        }
        Ok(Self { list: list.to_path_buf(), samples })
    }

    /// The resolved image path of sample `i`.
    pub fn image_path(&self, i: usize) -> &Path {
        &self.samples[i].0
    }
}

/// `path` (absolute) as a list in `dir` names it: relative to `dir` when both lie under
/// `root` (a folder that may be renamed as a whole, such as a staged experiment), else as
/// given.
pub fn list_entry(path: &Path, dir: &Path, root: Option<&Path>) -> PathBuf {
    let Some(root) = root else { return path.to_path_buf() };
    match (path.strip_prefix(root), dir.strip_prefix(root)) {
        (Ok(rest), Ok(down)) => {
            let (rest, down): (Vec<_>, Vec<_>) =
                (rest.components().collect(), down.components().collect());
            let common = rest.iter().zip(&down).take_while(|(a, b)| a == b).count();
            let mut entry: PathBuf = down[common..].iter().map(|_| "..").collect();
            entry.extend(&rest[common..]);
            entry
        }
        _ => path.to_path_buf(),
    }
}

/// Writes `entries` as a `path label` list to `path` (paths written as given).
pub fn write_file_list(path: &Path, entries: &[(PathBuf, i64)]) -> Result<()> {
    let mut text = String::new();
    for (p, label) in entries {
        text.push_str(&format!("{} {label}\n", p.display()));
    }
    fs_err::write(path, text).map_err(write_err(path))
}

impl Dataset for FileList {
    fn len(&self) -> usize {
        self.samples.len()
    }
    fn label(&self, i: usize) -> i64 {
        self.samples[i].1
    }
    fn load(&self, i: usize, limits: &ImageLimits) -> Result<RgbImage> {
        load_rgb(&self.samples[i].0, limits)
    }
    fn class_names(&self) -> Option<&[String]> {
        None
    }
    fn source(&self, i: usize) -> String {
        self.samples[i].0.display().to_string()
    }
    fn path(&self) -> &Path {
        &self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_spaces_relative_paths_and_poison_labels() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("l.txt");
        fs_err::write(&list, "# made by hand\na b/c.png 3\n\n/abs/p.png -1\n").unwrap();
        let fl = FileList::open(&list).unwrap();
        assert_eq!(fl.len(), 2);
        assert_eq!(fl.image_path(0), dir.path().join("a b/c.png"));
        assert_eq!(fl.label(0), 3);
        assert_eq!(fl.image_path(1), Path::new("/abs/p.png"));
        assert_eq!(fl.label(1), -1);
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("l.txt");
        for bad in ["x.png 1\nnolabel\n", "x.png cat\n", "x.png -2\n"] {
            fs_err::write(&list, bad).unwrap();
            let err = FileList::open(&list).unwrap_err();
            assert!(matches!(err, Error::ListLine { .. }), "{err}");
            assert!(err.to_string().contains("l.txt line"), "{err}");
        }
    }
}
