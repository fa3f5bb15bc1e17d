//! Image-caption datasets for image-text pre-training: an `image,caption` CSV (what the
//! CLIP poisons write, and the usual layout of CC3M-style subsets) and a folder of images
//! with a `.txt` caption beside each.
use std::path::{Path, PathBuf};

use image::RgbImage;

use super::base::{Dataset, read_err, write_err};
use crate::error::{Error, Result};
use crate::image_io::{ImageLimits, list_images, load_rgb};

/// Image-caption pairs, images loaded lazily. Labels are unknown (`-1`): image-text
/// pre-training reads only the captions.
#[derive(Debug, Clone)]
pub struct CaptionedImages {
    source: PathBuf,
    samples: Vec<(PathBuf, String)>,
}

impl CaptionedImages {
    /// Reads an `image,caption` CSV (RFC 4180: fields may be quoted, `""` is a quote inside
    /// one). The header row must be `image,caption`; relative image paths resolve against
    /// the CSV's folder. Blank lines are skipped. Any other row that is not exactly two
    /// fields with a non-empty path and caption is an error naming the file and line.
    pub fn open_csv(path: &Path) -> Result<Self> {
        let text = fs_err::read_to_string(path).map_err(read_err(path))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let bad = |line: usize, problem: String| Error::CaptionLine {
            path: path.to_path_buf(),
            line,
            problem,
        };
        let records = parse_csv(&text).map_err(|(line, problem)| bad(line, problem))?;
        let mut records = records.into_iter();
        match records.next() {
            Some((_, h)) if h.len() == 2 && h[0].trim() == "image" && h[1].trim() == "caption" => {}
            Some((line, h)) => {
                return Err(bad(
                    line,
                    format!("header must be `image,caption`, got `{}`", h.join(",")),
                ));
            }
            None => return Err(Error::EmptyDataset { path: path.to_path_buf() }),
        }
        let mut samples = Vec::new();
        for (line, fields) in records {
            let [image, caption] = <[String; 2]>::try_from(fields).map_err(|f| {
                bad(line, format!("expected 2 fields (image,caption), got {}", f.len()))
            })?;
            if image.trim().is_empty() {
                return Err(bad(line, "empty image path".into()));
            }
            if caption.trim().is_empty() {
                return Err(bad(line, format!("empty caption for {image}")));
            }
            samples.push((base.join(image.trim()), caption));
        }
        Ok(Self { source: path.to_path_buf(), samples })
    }

    /// Reads a folder of images, each with its caption in a `.txt` file of the same stem
    /// (`0001.png` + `0001.txt`, the layout of img2dataset and many CLIP subsets). An image
    /// without a caption file is an error naming it.
    pub fn open_folder(dir: &Path) -> Result<Self> {
        let mut samples = Vec::new();
        for image in list_images(dir)? {
            let txt = image.with_extension("txt");
            let caption = fs_err::read_to_string(&txt).map_err(read_err(&txt))?;
            let caption = caption.trim();
            if caption.is_empty() {
                return Err(Error::Invalid { path: txt, problem: "empty caption".into() });
            }
            samples.push((image, caption.to_owned()));
        }
        Ok(Self { source: dir.to_path_buf(), samples })
    }

    /// Whether `dir` looks like a caption folder: no sub-folders, and a `.txt` beside its
    /// first image.
    pub(crate) fn is_caption_folder(dir: &Path) -> bool {
        let has_subdirs = fs_err::read_dir(dir)
            .map(|mut it| it.any(|e| e.is_ok_and(|e| e.path().is_dir())))
            .unwrap_or(true);
        !has_subdirs
            && list_images(dir)
                .ok()
                .and_then(|l| l.into_iter().next())
                .is_some_and(|first| first.with_extension("txt").is_file())
    }

    /// The resolved image path of sample `i`.
    pub fn image_path(&self, i: usize) -> &Path {
        &self.samples[i].0
    }
}

/// Writes pairs as an `image,caption` CSV, quoting fields that need it.
pub fn write_caption_csv(path: &Path, pairs: &[(PathBuf, String)]) -> Result<()> {
    let mut text = String::from("image,caption\n");
    for (image, caption) in pairs {
        text += &format!("{},{}\n", csv_field(&image.display().to_string()), csv_field(caption));
    }
    fs_err::write(path, text).map_err(write_err(path))
}

/// A CSV field, quoted when it holds a comma, quote or line break.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into()
    }
}

/// A CSV record's fields with the 1-based line it starts on.
type Record = (usize, Vec<String>);
/// A CSV syntax problem and its line.
type Problem = (usize, String);

/// Records of an RFC 4180 text; blank lines skipped.
fn parse_csv(text: &str) -> std::result::Result<Vec<Record>, Problem> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while chars.peek().is_some() {
        let start = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted_field = false;
        loop {
            match chars.next() {
                None => break,
                Some('\r') if chars.peek() == Some(&'\n') => {}
                Some('\n') => {
                    line += 1;
                    break;
                }
                Some(',') => {
                    fields.push(std::mem::take(&mut field));
                    quoted_field = false;
                }
                Some('"') if field.is_empty() && !quoted_field => {
                    quoted_field = true;
                    loop {
                        match chars.next() {
                            None => return Err((start, "unterminated quoted field".into())),
                            Some('"') if chars.peek() == Some(&'"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some('"') => break,
                            Some(c) => {
                                line += usize::from(c == '\n');
                                field.push(c);
                            }
                        }
                    }
                    if !matches!(chars.peek(), None | Some(',' | '\n' | '\r')) {
                        return Err((line, "text after a closing quote".into()));
                    }
                }
                Some('"') => return Err((line, "stray quote inside an unquoted field".into())),
                Some(c) => field.push(c),
            }
        }
        fields.push(field);
        let blank = fields.len() == 1 && fields[0].trim().is_empty() && !quoted_field;
        if !blank {
            records.push((start, fields));
        }
    }
    Ok(records)
}

impl Dataset for CaptionedImages {
    fn len(&self) -> usize {
        self.samples.len()
    }
    fn label(&self, _i: usize) -> i64 {
        -1
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
        &self.source
    }
    fn caption(&self, i: usize) -> Option<&str> {
        Some(&self.samples[i].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_relative_paths_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("c.csv");
        let text =
            "image,caption\r\na.png,a photo of a dog.\n\n\"b, c.png\",\"say \"\"hi\"\", ok\"\n";
        fs_err::write(&csv, text).unwrap();
        let ds = CaptionedImages::open_csv(&csv).unwrap();
        assert_eq!(ds.len(), 2);
        assert_eq!(ds.image_path(0), dir.path().join("a.png"));
        assert_eq!(ds.caption(0), Some("a photo of a dog."));
        assert_eq!(ds.image_path(1), dir.path().join("b, c.png"));
        assert_eq!(ds.caption(1), Some("say \"hi\", ok"));
        assert_eq!(ds.label(0), -1);
        let pairs: Vec<_> = (0..2)
            .map(|i| (ds.image_path(i).to_path_buf(), ds.caption(i).unwrap().into()))
            .collect();
        let out = dir.path().join("out.csv");
        write_caption_csv(&out, &pairs).unwrap();
        let back = CaptionedImages::open_csv(&out).unwrap();
        assert_eq!(back.samples, ds.samples);
    }

    #[test]
    fn bad_rows_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("bad.csv");
        let cases = [
            ("path,text\na.png,x\n", 1, "header"),
            ("image,caption\na.png,x\nb.png\n", 3, "expected 2 fields"),
            ("image,caption\na.png,x,y\n", 2, "got 3"),
            ("image,caption\n,x\n", 2, "empty image"),
            ("image,caption\na.png,  \n", 2, "empty caption"),
            ("image,caption\na.png,x\nb.png,\"open\n", 3, "unterminated"),
            ("image,caption\na.png,\"x\"y\n", 2, "after a closing quote"),
            ("image,caption\na.png,x\"y\n", 2, "stray quote"),
        ];
        for (text, line, what) in cases {
            fs_err::write(&csv, text).unwrap();
            let err = CaptionedImages::open_csv(&csv).unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(err, Error::CaptionLine { line: l, .. } if l == line),
                "{text:?}: {msg}"
            );
            assert!(msg.contains("bad.csv") && msg.contains(what), "{text:?}: {msg}");
        }
        fs_err::write(&csv, "").unwrap();
        assert!(matches!(CaptionedImages::open_csv(&csv), Err(Error::EmptyDataset { .. })));
    }

    #[test]
    fn folder_pairs_images_with_txt_and_names_a_missing_caption() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b", "a"] {
            RgbImage::new(4, 4).save(dir.path().join(format!("{name}.png"))).unwrap();
        }
        fs_err::write(dir.path().join("a.txt"), "  first one\n").unwrap();
        fs_err::write(dir.path().join("b.txt"), "second").unwrap();
        assert!(CaptionedImages::is_caption_folder(dir.path()));
        let ds = CaptionedImages::open_folder(dir.path()).unwrap();
        assert_eq!((ds.caption(0), ds.caption(1)), (Some("first one"), Some("second")));
        assert_eq!(ds.load(1, &ImageLimits::default()).unwrap().dimensions(), (4, 4));
        fs_err::remove_file(dir.path().join("b.txt")).unwrap();
        let err = CaptionedImages::open_folder(dir.path()).unwrap_err().to_string();
        assert!(err.contains("b.txt"), "{err}");
    }
}
