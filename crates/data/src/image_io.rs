use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{ImageReader, RgbImage, RgbaImage};

use crate::error::{Error, Result};

/// Limits applied before decoding, so a tiny file declaring a huge image cannot exhaust
/// memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest accepted width x height (default 100 megapixels, about 400 MB as RGBA).
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self { max_pixels: 100_000_000 }
    }
}

fn decode(path: &Path, limits: &ImageLimits) -> Result<image::DynamicImage> {
    let bytes =
        fs_err::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    let decode_err = |source| Error::Decode { path: path.to_path_buf(), source };
    let reader = ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|e| Error::Read { path: path.to_path_buf(), source: e })?;
    let (width, height) = reader.into_dimensions().map_err(decode_err)?;
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    let mut reader = ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|e| Error::Read { path: path.to_path_buf(), source: e })?;
    // The pixel check above covers the buffer; image's own limits would reject large
    // valid photos by default allocation caps, so only ours apply.
    reader.no_limits();
    reader.decode().map_err(|source| Error::Decode { path: path.to_path_buf(), source })
}

/// Loads an image as 8-bit RGB (palette and grey images are expanded).
pub fn load_rgb(path: &Path, limits: &ImageLimits) -> Result<RgbImage> {
    Ok(decode(path, limits)?.into_rgb8())
}

/// Loads an image as 8-bit RGBA, and tells whether the file had an alpha channel.
pub fn load_rgba(path: &Path, limits: &ImageLimits) -> Result<(RgbaImage, bool)> {
    let img = decode(path, limits)?;
    let has_alpha = img.color().has_alpha();
    Ok((img.into_rgba8(), has_alpha))
}

/// Encodes an RGB image as PNG (lossless; fast compression, since poisons are written by
/// the hundred).
pub fn png_bytes(img: &RgbImage) -> Vec<u8> {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let mut out = Vec::with_capacity(img.as_raw().len() / 2);
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8)
        .expect("encoding to memory cannot fail");
    out
}

pub(crate) const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "bmp", "webp"];

/// The image files of a folder (not recursive), sorted by name so every run sees the
/// same order.
pub fn list_images(dir: &Path) -> Result<Vec<PathBuf>> {
    let read_err = |source| Error::Read { path: dir.to_path_buf(), source };
    let mut files = Vec::new();
    for entry in fs_err::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        let is_image = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if is_image && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bomb_guard_rejects_before_decoding() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.png");
        RgbImage::new(200, 100).save(&p).unwrap();
        let err = load_rgb(&p, &ImageLimits { max_pixels: 10_000 }).unwrap_err();
        assert!(matches!(err, Error::TooLarge { width: 200, height: 100, .. }), "{err}");
        assert_eq!(load_rgb(&p, &ImageLimits::default()).unwrap().dimensions(), (200, 100));
    }

    #[test]
    fn truncated_and_garbage_files_are_decode_errors() {
        let dir = tempfile::tempdir().unwrap();
        let good = png_bytes(&RgbImage::from_pixel(64, 64, image::Rgb([9, 8, 7])));
        let p = dir.path().join("cut.png");
        fs_err::write(&p, &good[..good.len() / 2]).unwrap();
        let err = load_rgb(&p, &ImageLimits::default()).unwrap_err();
        assert!(err.to_string().contains("cut.png"), "{err}");
        let q = dir.path().join("junk.jpg");
        fs_err::write(&q, b"not an image at all").unwrap();
        assert!(load_rgb(&q, &ImageLimits::default()).is_err());
        let missing = dir.path().join("none.png");
        assert!(matches!(load_rgb(&missing, &ImageLimits::default()), Err(Error::Read { .. })));
    }

    #[test]
    fn listing_is_sorted_and_filters_extensions() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["b.JPG", "a.png", "c.txt"] {
            fs_err::write(dir.path().join(n), b"x").unwrap();
        }
        let names: Vec<_> = list_images(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.png", "b.JPG"]);
    }
}
