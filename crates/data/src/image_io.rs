use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{ImageReader, RgbImage, RgbaImage};

use corruptencoder_core::{IoError, SettingError};

use crate::error::{Error, Result};

/// Limits applied before decoding, so a tiny file declaring a huge image cannot exhaust
/// memory, and whether files cut short are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest accepted width x height (default 100 megapixels, about 400 MB as RGBA).
    pub max_pixels: u64,
    /// Accept images whose file ends early (a JPEG without its end marker, a PNG without
    /// its IEND chunk). Off by default: decoders fill the missing rows with grey, which
    /// would silently become poisons or test images.
    pub allow_truncated: bool,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self { max_pixels: (Self::DEFAULT_MEGAPIXELS * 1e6) as u64, allow_truncated: false }
    }
}

impl ImageLimits {
    /// The highest `max_megapixels` accepted (1 gigapixel, 4 GB as RGBA): above it one
    /// image alone could exhaust a workstation's memory and abort without a message.
    pub const MAX_MEGAPIXELS: f64 = 1000.0;

    /// The largest image by default, in megapixels (100, about 400 MB as RGBA).
    pub const DEFAULT_MEGAPIXELS: f64 = 100.0;

    /// The limits for a `max_megapixels` value, which must be a number in
    /// (0, [`Self::MAX_MEGAPIXELS`]].
    pub fn from_megapixels(megapixels: f64) -> Result<Self> {
        if !(megapixels.is_finite() && megapixels > 0.0 && megapixels <= Self::MAX_MEGAPIXELS) {
            let problem = format!("must be a number above 0 and at most {}", Self::MAX_MEGAPIXELS);
            return Err(SettingError::new("max_megapixels", megapixels, problem).into());
        }
        Ok(Self { max_pixels: (megapixels * 1e6) as u64, ..Self::default() })
    }

    /// Checks that a `width x height` image the user asks for (through the setting `key`)
    /// stays within the pixel limit, before anything that size is allocated.
    pub fn check_size(&self, key: &'static str, width: u32, height: u32) -> Result<()> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            let value =
                if width == height { width.to_string() } else { format!("{width}x{height}") };
            let problem = format!(
                "a {width}x{height} image ({pixels} pixels) is over the limit of {} pixels \
                 (`max_megapixels`)",
                self.max_pixels
            );
            return Err(SettingError::new(key, value, problem).into());
        }
        Ok(())
    }
}

/// How far a file's own structure says it is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Completeness {
    Complete,
    /// The file ends before its end marker; the text says what is missing.
    Truncated(&'static str),
    /// The structure could not be followed; the decoder has the last word.
    Unknown,
}

/// Follows a JPEG's segments to its end-of-image marker (FFD9). Inside entropy-coded data
/// an FF is followed only by 00 (stuffing), FF (fill) or a restart marker, so the next
/// other marker is found without decoding.
fn jpeg_completeness(b: &[u8]) -> Completeness {
    const CUT: Completeness = Completeness::Truncated("the JPEG ends before its end marker (FFD9)");
    let mut i = 2; // after SOI
    loop {
        if i >= b.len() {
            return CUT;
        }
        if b[i] != 0xFF {
            return Completeness::Unknown;
        }
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        let Some(&marker) = b.get(i) else { return CUT };
        i += 1;
        match marker {
            0xD9 => return Completeness::Complete,
            0x01 | 0xD0..=0xD7 => continue,
            0x00 => return Completeness::Unknown,
            _ => {
                let Some(len) = b.get(i..i + 2) else { return CUT };
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                if len < 2 {
                    return Completeness::Unknown;
                }
                i += len;
                if marker == 0xDA {
                    loop {
                        if i + 1 >= b.len() {
                            return CUT;
                        }
                        if b[i] == 0xFF && !matches!(b[i + 1], 0x00 | 0xFF | 0xD0..=0xD7) {
                            break;
                        }
                        i += 1;
                    }
                }
            }
        }
    }
}

/// Follows a PNG's chunks to IEND.
fn png_completeness(b: &[u8]) -> Completeness {
    let mut i = 8; // after the signature
    loop {
        let Some(head) = b.get(i..i + 8) else {
            return Completeness::Truncated("the PNG ends before its IEND chunk");
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if &head[4..8] == b"IEND" {
            return Completeness::Complete;
        }
        i = i.saturating_add(12).saturating_add(len);
        if i > b.len() {
            return Completeness::Truncated("the PNG ends inside a chunk");
        }
    }
}

fn completeness(format: Option<image::ImageFormat>, bytes: &[u8]) -> Completeness {
    match format {
        Some(image::ImageFormat::Jpeg) => jpeg_completeness(bytes),
        Some(image::ImageFormat::Png) => png_completeness(bytes),
        _ => Completeness::Unknown,
    }
}

fn decode(path: &Path, limits: &ImageLimits) -> Result<image::DynamicImage> {
    let bytes = fs_err::read(path)
        .map_err(|source| Error::Io(IoError::new("read", path.to_path_buf(), source)))?;
    let decode_err = |source| Error::Decode { path: path.to_path_buf(), source };
    let reader = ImageReader::new(Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|e| Error::Io(IoError::new("read", path.to_path_buf(), e)))?;
    // Before the header is read: a file cut inside its header tables fails in the decoder
    // with a message about Huffman tables, not about the file being cut short.
    if !limits.allow_truncated
        && let Completeness::Truncated(problem) = completeness(reader.format(), &bytes)
    {
        return Err(Error::Truncated { path: path.to_path_buf(), problem: problem.into() });
    }
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
        .map_err(|e| Error::Io(IoError::new("read", path.to_path_buf(), e)))?;
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
    let read_err = |source| Error::Io(IoError::new("read", dir.to_path_buf(), source));
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
        let err = load_rgb(&p, &ImageLimits { max_pixels: 10_000, ..ImageLimits::default() })
            .unwrap_err();
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
        assert!(matches!(load_rgb(&missing, &ImageLimits::default()), Err(Error::Io(_))));
    }

    fn jpeg_bytes(img: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(img).unwrap();
        out
    }

    #[test]
    fn files_cut_short_are_refused_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let img = RgbImage::from_fn(64, 48, |x, y| image::Rgb([(x * 3) as u8, (y * 5) as u8, 7]));
        let jpeg = jpeg_bytes(&img);
        let png = png_bytes(&img);
        let strict = ImageLimits::default();
        let lenient = ImageLimits { allow_truncated: true, ..strict };
        // Whole files load; trailing bytes after the end marker are harmless.
        let whole = dir.path().join("whole.jpg");
        fs_err::write(&whole, [&jpeg[..], b"\0\0trailer"].concat()).unwrap();
        assert_eq!(load_rgb(&whole, &strict).unwrap().dimensions(), (64, 48));
        // 40 % of a JPEG: the decoder alone would fill the rest with grey.
        let cut = dir.path().join("cut.jpg");
        fs_err::write(&cut, &jpeg[..jpeg.len() * 2 / 5]).unwrap();
        let err = load_rgb(&cut, &strict).unwrap_err();
        assert!(matches!(err, Error::Truncated { .. }), "{err}");
        assert!(err.to_string().contains("cut.jpg") && err.to_string().contains("FFD9"), "{err}");
        // Cut inside the header tables: named as cut short too, not as a decoder failure.
        fs_err::write(&cut, &jpeg[..200]).unwrap();
        let err = load_rgb(&cut, &strict).unwrap_err();
        assert!(matches!(err, Error::Truncated { .. }), "{err}");
        // Just the end marker missing.
        fs_err::write(&cut, &jpeg[..jpeg.len() - 2]).unwrap();
        assert!(matches!(load_rgb(&cut, &strict), Err(Error::Truncated { .. })));
        assert!(load_rgb(&cut, &lenient).is_ok());
        // A PNG missing only its IEND chunk is refused as cut short; allowed, it goes to the
        // decoder, which decides (the png crate 0.18 refuses it too, with its own message).
        let p = dir.path().join("noend.png");
        fs_err::write(&p, &png[..png.len() - 12]).unwrap();
        let err = load_rgb(&p, &strict).unwrap_err();
        assert!(err.to_string().contains("noend.png") && err.to_string().contains("IEND"), "{err}");
        assert!(!matches!(load_rgb(&p, &lenient), Err(Error::Truncated { .. })));
    }

    #[test]
    fn megapixel_flag_and_requested_sizes_are_checked() {
        assert_eq!(ImageLimits::from_megapixels(100.0).unwrap(), ImageLimits::default());
        for bad in [f64::NAN, 0.0, -1.0, f64::INFINITY, 1e6] {
            let err = ImageLimits::from_megapixels(bad).unwrap_err().to_string();
            assert!(err.starts_with("max_megapixels = "), "{err}");
        }
        let l = ImageLimits::default();
        assert!(l.check_size("trigger_size", 10_000, 10_000).is_ok());
        let err = l.check_size("trigger_size", 100_000, 100_000).unwrap_err().to_string();
        assert!(err.starts_with("trigger_size = 100000: a 100000x100000 image"), "{err}");
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
