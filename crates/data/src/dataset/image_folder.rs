//! torchvision's `ImageFolder`: one sub-folder per class, classes in sorted order.
use std::path::{Path, PathBuf};

use image::RgbImage;

use super::base::{Dataset, read_err};
use crate::error::{Error, Result};
use crate::image_io::{IMAGE_EXTENSIONS, ImageLimits, load_rgb};

/// A folder whose sub-folders are the classes (sorted by name, label = position), with the
/// images found anywhere below each, sorted by path. Images are loaded lazily.
#[derive(Debug, Clone)]
pub struct ImageFolder {
    root: PathBuf,
    classes: Vec<String>,
    samples: Vec<(PathBuf, i64)>,
}

impl ImageFolder {
    /// Lists `root`. Image files directly in `root` belong to no class and are ignored, as
    /// torchvision does; classes without images are kept so labels match torchvision's.
    pub fn open(root: &Path) -> Result<Self> {
        let mut class_dirs = Vec::new();
        for entry in fs_err::read_dir(root).map_err(read_err(root))? {
            let path = entry.map_err(read_err(root))?.path();
            if path.is_dir() {
                class_dirs.push(path);
            }
        }
        class_dirs.sort();
        if class_dirs.is_empty() {
            return Err(Error::Invalid {
                path: root.to_path_buf(),
                problem: "no class sub-folders (an image folder has one folder per class)".into(),
            });
        }
        let mut classes = Vec::with_capacity(class_dirs.len());
        let mut samples = Vec::new();
        for (label, dir) in class_dirs.iter().enumerate() {
            classes.push(
                dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            );
            let mut files = Vec::new();
            walk_images(dir, &mut files)?;
            samples.extend(files.into_iter().map(|f| (f, label as i64)));
        }
        Ok(Self { root: root.to_path_buf(), classes, samples })
    }

    /// The image path of sample `i`.
    pub fn image_path(&self, i: usize) -> &Path {
        &self.samples[i].0
    }
}

/// The images below `dir` in torchvision's order: folders sorted by their path string
/// (`sorted(os.walk(...))`, so a folder's own files precede its sub-folders'), files
/// sorted by name within each.
fn walk_images(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut dirs = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < dirs.len() {
        let mut sub = Vec::new();
        for entry in fs_err::read_dir(&dirs[i]).map_err(read_err(&dirs[i]))? {
            let path = entry.map_err(read_err(&dirs[i]))?.path();
            if path.is_dir() {
                sub.push(path);
            }
        }
        dirs.extend(sub);
        i += 1;
    }
    dirs.sort_by_key(|d| d.to_string_lossy().into_owned());
    for d in &dirs {
        let mut files = Vec::new();
        for entry in fs_err::read_dir(d).map_err(read_err(d))? {
            let path = entry.map_err(read_err(d))?.path();
            let is_image = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
            if is_image && path.is_file() {
                files.push(path);
            }
        }
        files.sort_by_key(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()));
        out.extend(files);
    }
    Ok(())
}

impl Dataset for ImageFolder {
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
        Some(&self.classes)
    }
    fn source(&self, i: usize) -> String {
        self.samples[i].0.display().to_string()
    }
    fn path(&self) -> &Path {
        &self.root
    }
}
