//! labelme JSON annotations rasterised into masks.
use std::path::{Path, PathBuf};

use image::{GrayImage, Luma};
use imageproc::drawing::draw_polygon_mut;
use imageproc::point::Point;
use serde::Deserialize;

use corruptencoder_core::IoError;

use crate::error::{Error, Result};
use crate::mask::Mask;

/// Label names that never mean "object": labelme's background, and the authors' `nmask`
/// (holes cut out of the object).
pub(crate) const NOT_OBJECT: &[&str] = &["_background_", "nmask"];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LabelmeFile {
    shapes: Vec<Shape>,
    image_path: Option<String>,
    image_width: Option<u32>,
    image_height: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct Shape {
    label: String,
    points: Vec<[f64; 2]>,
    #[serde(default)]
    shape_type: Option<String>,
}

/// A parsed labelme file: the image it names and its object mask.
#[derive(Debug)]
pub(crate) struct Labelme {
    file: LabelmeFile,
    path: PathBuf,
}

impl Labelme {
    pub(crate) fn read(path: &Path) -> Result<Self> {
        let text = fs_err::read_to_string(path)
            .map_err(|source| Error::Io(IoError::new("read", path.to_path_buf(), source)))?;
        let file = serde_json::from_str(&text)
            .map_err(|source| Error::Labelme { path: path.to_path_buf(), source })?;
        Ok(Self { file, path: path.to_path_buf() })
    }

    /// The image the annotation belongs to, resolved next to the JSON file.
    pub(crate) fn image_path(&self) -> Option<PathBuf> {
        let name = self.file.image_path.as_deref()?;
        Some(self.path.with_file_name(Path::new(name).file_name()?))
    }

    /// Rasterises the shapes in file order: object labels paint 255, `nmask` and
    /// background paint 0, so a later hole cuts an earlier object as labelme renders it.
    pub(crate) fn mask(&self, width: u32, height: u32) -> Result<Mask> {
        let invalid = |problem: String| Error::Invalid { path: self.path.clone(), problem };
        if let (Some(w), Some(h)) = (self.file.image_width, self.file.image_height)
            && (w, h) != (width, height)
        {
            return Err(invalid(format!(
                "annotation is for a {w}x{h} image but the image is {width}x{height}"
            )));
        }
        let mut img = GrayImage::new(width, height);
        for shape in &self.file.shapes {
            let value = if NOT_OBJECT.contains(&shape.label.as_str()) { 0 } else { 255 };
            let kind = shape.shape_type.as_deref().unwrap_or("polygon");
            let pts: Vec<Point<i32>> = match kind {
                "polygon" => shape
                    .points
                    .iter()
                    .map(|p| Point::new(p[0].round() as i32, p[1].round() as i32))
                    .collect(),
                "rectangle" if shape.points.len() == 2 => {
                    let [a, b] = [shape.points[0], shape.points[1]];
                    let (x0, x1) = (a[0].min(b[0]).round() as i32, a[0].max(b[0]).round() as i32);
                    let (y0, y1) = (a[1].min(b[1]).round() as i32, a[1].max(b[1]).round() as i32);
                    vec![
                        Point::new(x0, y0),
                        Point::new(x1, y0),
                        Point::new(x1, y1),
                        Point::new(x0, y1),
                    ]
                }
                other => {
                    return Err(invalid(format!(
                        "shape `{}` has type `{other}`; only polygon and rectangle are supported",
                        shape.label
                    )));
                }
            };
            let mut pts = pts;
            // imageproc rejects a closed ring (first == last) and degenerate polygons.
            if pts.len() > 1 && pts.first() == pts.last() {
                pts.pop();
            }
            pts.dedup();
            if pts.len() < 3 {
                return Err(invalid(format!("shape `{}` has fewer than 3 points", shape.label)));
            }
            draw_polygon_mut(&mut img, &pts, Luma([value]));
        }
        Ok(Mask(img))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_cut_objects_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        fs_err::write(
            &p,
            r#"{"shapes":[
                {"label":"mask","points":[[2,2],[17,2],[17,17],[2,17]],"shape_type":"polygon"},
                {"label":"nmask","points":[[8,8],[11,8],[11,11],[8,11]],"shape_type":"polygon"}],
              "imagePath":"a.JPEG","imageWidth":20,"imageHeight":20}"#,
        )
        .unwrap();
        let lm = Labelme::read(&p).unwrap();
        assert_eq!(lm.image_path().unwrap(), dir.path().join("a.JPEG"));
        let m = lm.mask(20, 20).unwrap();
        assert_eq!(m.0.get_pixel(3, 3).0[0], 255);
        assert_eq!(m.0.get_pixel(9, 9).0[0], 0);
        assert_eq!(m.0.get_pixel(0, 0).0[0], 0);
        assert!(lm.mask(30, 20).is_err());
    }
}
