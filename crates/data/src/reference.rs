//! Reference objects: target-class photos with the mask of the object to paste.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use image::{Rgb, RgbImage};
use serde::Serialize;

use corruptencoder_core::IoError;

use crate::error::{Error, Result};
use crate::image_io::{ImageLimits, list_images, load_rgb, load_rgba};
use crate::labelme::{Labelme, NOT_OBJECT};
use crate::mask::{Mask, PixelBox};

/// Where a reference's mask came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MaskSource {
    /// The authors' layout: `<k>/img.png` + palette `<k>/label.png`.
    AuthorsLabel,
    /// labelme polygons in `<k>.json` beside the image.
    Labelme,
    /// `name.mask.png` beside `name.<ext>`, non-zero = object.
    MaskImage,
    /// The image's alpha channel, alpha > 127 = object.
    Alpha,
    /// No mask: the whole image is the object.
    WholeImage,
}

/// One reference image with its object mask.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Short name (file stem or folder name), used in manifests.
    pub name: String,
    /// The image file.
    pub path: PathBuf,
    /// How the mask was found.
    pub source: MaskSource,
    /// The photo.
    pub image: RgbImage,
    /// Object mask of the photo's size.
    pub mask: Mask,
    /// Bounding box of the largest connected object component (method.md section 3, step 2).
    pub object_box: PixelBox,
}

/// The references found in a folder, with warnings for the caller to show.
#[derive(Debug, Clone)]
pub struct ReferenceSet {
    /// References in name order.
    pub references: Vec<Reference>,
    /// Things the user should know (e.g. a reference without a mask).
    pub warnings: Vec<String>,
}

/// Loads every reference in `dir`, detecting each one's mask source. The sources, in the
/// order preferred when one reference has several: the authors' folder layout, labelme
/// JSON, a `.mask.` image, an alpha channel, and finally the whole image (with a warning).
pub fn load_references(dir: &Path, limits: &ImageLimits) -> Result<ReferenceSet> {
    let read_err = |source| Error::Io(IoError::new("read", dir.to_path_buf(), source));
    let mut candidates: BTreeMap<String, Candidate> = BTreeMap::new();
    let mut entries: Vec<PathBuf> = fs_err::read_dir(dir)
        .map_err(read_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(read_err)?;
    entries.sort();
    for path in &entries {
        if path.is_dir() && path.join("img.png").is_file() && path.join("label.png").is_file() {
            candidates.insert(file_name(path), Candidate::Authors(path.clone()));
        }
    }
    for path in entries.iter().filter(|p| has_ext(p, &["json"])) {
        let stem = stem(path);
        candidates.entry(stem).or_insert_with(|| Candidate::Labelme(path.clone()));
    }
    let images = list_images(dir)?;
    for path in &images {
        let stem = stem(path);
        if stem.ends_with(".mask") {
            continue;
        }
        let mask = images.iter().find(|m| self::stem(m) == format!("{stem}.mask")).cloned();
        let path = path.clone();
        candidates.entry(stem).or_insert(Candidate::Image { image: path, mask });
    }
    let mut references = Vec::new();
    let mut warnings = Vec::new();
    for (name, candidate) in candidates {
        let reference = candidate.load(name, limits)?;
        if reference.source == MaskSource::WholeImage {
            warnings.push(format!(
                "{} has no mask (no labelme JSON, .mask image or alpha): the whole image is \
                 used as the object",
                reference.path.display()
            ));
        }
        references.push(reference);
    }
    if references.is_empty() {
        return Err(Error::Invalid {
            path: dir.to_path_buf(),
            problem: "no reference images found (expected <k>/img.png + <k>/label.png, \
                      labelme JSON, image + .mask image, RGBA or plain images)"
                .into(),
        });
    }
    Ok(ReferenceSet { references, warnings })
}

enum Candidate {
    Authors(PathBuf),
    Labelme(PathBuf),
    Image { image: PathBuf, mask: Option<PathBuf> },
}

impl Candidate {
    fn load(self, name: String, limits: &ImageLimits) -> Result<Reference> {
        let (path, source, image, mask, mask_path) = match self {
            Candidate::Authors(dir) => {
                let img_path = dir.join("img.png");
                let image = load_rgb(&img_path, limits)?;
                let label_path = dir.join("label.png");
                let label = load_rgb(&label_path, limits)?;
                check_size(&label_path, label.dimensions(), &img_path, image.dimensions())?;
                let colours = object_colours(&dir)?;
                let mask = Mask::from_fn(label.width(), label.height(), |x, y| {
                    colours.contains(label.get_pixel(x, y))
                });
                (img_path, MaskSource::AuthorsLabel, image, mask, label_path)
            }
            Candidate::Labelme(json) => {
                let lm = Labelme::read(&json)?;
                let img_path = lm.image_path().filter(|p| p.is_file()).or_else(|| {
                    ["JPEG", "jpg", "jpeg", "png", "JPG", "PNG"]
                        .iter()
                        .map(|e| json.with_extension(e))
                        .find(|p| p.is_file())
                });
                let Some(img_path) = img_path else {
                    return Err(Error::Invalid {
                        path: json,
                        problem: "labelme file whose image is not beside it".into(),
                    });
                };
                let image = load_rgb(&img_path, limits)?;
                let mask = lm.mask(image.width(), image.height())?;
                (img_path, MaskSource::Labelme, image, mask, json)
            }
            Candidate::Image { image: img_path, mask: Some(mask_path) } => {
                let image = load_rgb(&img_path, limits)?;
                let m = load_rgb(&mask_path, limits)?;
                check_size(&mask_path, m.dimensions(), &img_path, image.dimensions())?;
                let mask = Mask::from_fn(m.width(), m.height(), |x, y| {
                    m.get_pixel(x, y).0.iter().any(|c| *c > 0)
                });
                (img_path, MaskSource::MaskImage, image, mask, mask_path)
            }
            Candidate::Image { image: img_path, mask: None } => {
                let (rgba, has_alpha) = load_rgba(&img_path, limits)?;
                let image = image::DynamicImage::ImageRgba8(rgba.clone()).into_rgb8();
                if has_alpha {
                    let mask = Mask::from_fn(rgba.width(), rgba.height(), |x, y| {
                        rgba.get_pixel(x, y).0[3] > 127
                    });
                    (img_path.clone(), MaskSource::Alpha, image, mask, img_path)
                } else {
                    let mask = Mask::from_fn(image.width(), image.height(), |_, _| true);
                    (img_path.clone(), MaskSource::WholeImage, image, mask, img_path)
                }
            }
        };
        let object_box =
            mask.largest_component_box().ok_or(Error::EmptyMask { path: mask_path })?;
        Ok(Reference { name, path, source, image, mask, object_box })
    }
}

/// Palette colours of the object labels in an authors' label.png. labelme's palette gives
/// index `i` a colour by spreading its bits over R, G, B from the high bit down; the
/// names in `label_names.txt` (index order) say which indices are object. Without the
/// names file, index 1 alone is object, as in the authors' generator.
fn object_colours(dir: &Path) -> Result<Vec<Rgb<u8>>> {
    let names_path = dir.join("label_names.txt");
    let indices: Vec<usize> = if names_path.is_file() {
        let text = fs_err::read_to_string(&names_path)
            .map_err(|source| Error::Io(IoError::new("read", names_path.clone(), source)))?;
        text.lines()
            .enumerate()
            .filter(|(_, n)| !n.trim().is_empty() && !NOT_OBJECT.contains(&n.trim()))
            .map(|(i, _)| i)
            .collect()
    } else {
        vec![1]
    };
    Ok(indices.into_iter().map(labelme_colour).collect())
}

fn labelme_colour(index: usize) -> Rgb<u8> {
    let (mut r, mut g, mut b) = (0u8, 0u8, 0u8);
    let mut id = index;
    for j in 0..8 {
        r |= ((id & 1) as u8) << (7 - j);
        g |= (((id >> 1) & 1) as u8) << (7 - j);
        b |= (((id >> 2) & 1) as u8) << (7 - j);
        id >>= 3;
    }
    Rgb([r, g, b])
}

fn check_size(mask: &Path, m: (u32, u32), image: &Path, i: (u32, u32)) -> Result<()> {
    if m == i {
        return Ok(());
    }
    Err(Error::MaskSize {
        mask: mask.to_path_buf(),
        mask_w: m.0,
        mask_h: m.1,
        image: image.to_path_buf(),
        image_w: i.0,
        image_h: i.1,
    })
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn stem(p: &Path) -> String {
    p.file_stem().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn has_ext(p: &Path, exts: &[&str]) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.contains(&e.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelme_palette_matches_known_colours() {
        assert_eq!(labelme_colour(0), Rgb([0, 0, 0]));
        assert_eq!(labelme_colour(1), Rgb([128, 0, 0]));
        assert_eq!(labelme_colour(2), Rgb([0, 128, 0]));
        assert_eq!(labelme_colour(3), Rgb([128, 128, 0]));
        assert_eq!(labelme_colour(8), Rgb([64, 0, 0]));
    }
}
