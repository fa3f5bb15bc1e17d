//! Target-class captions for the CLIP attacks (method.md section 5).
use std::path::Path;

use corruptencoder_core::{IoError, Rng, SettingError};
use rand::Rng as _;

use crate::error::{Error, Result};

/// Caption templates; `{class}` is replaced by the target class name. The defaults are
/// CLIP's zero-shot prompt style that Carlini & Terzis pair with poisoned images.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CaptionTemplates(pub Vec<String>);

impl Default for CaptionTemplates {
    fn default() -> Self {
        Self(
            [
                "a photo of a {class}.",
                "a bad photo of a {class}.",
                "a close-up photo of a {class}.",
                "a photo of the {class}.",
                "a good photo of a {class}.",
            ]
            .map(String::from)
            .to_vec(),
        )
    }
}

impl CaptionTemplates {
    /// Reads templates from a file, one per line (blank lines and `#` comments skipped).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = fs_err::read_to_string(path).map_err(|source| {
            Error::Io(IoError::new("read caption templates", path.to_path_buf(), source))
        })?;
        let t = Self(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(String::from)
                .collect(),
        );
        t.validate().map_err(|e| match e {
            Error::Setting(s) => SettingError { value: path.display().to_string(), ..s }.into(),
            e => e,
        })?;
        Ok(t)
    }

    /// Every template must name the class, and there must be at least one.
    pub fn validate(&self) -> Result<()> {
        let value = || format!("{:?}", self.0);
        let bad = |problem: String| Err(SettingError::new("templates", value(), problem).into());
        if self.0.is_empty() {
            return bad("no templates".into());
        }
        if let Some(t) = self.0.iter().find(|t| !t.contains("{class}")) {
            return bad(format!("template `{t}` lacks `{{class}}`"));
        }
        Ok(())
    }

    /// A random template filled with `class`.
    pub fn caption(&self, class: &str, rng: &mut Rng) -> String {
        self.0[rng.random_range(0..self.0.len())].replace("{class}", class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_from_file_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.txt");
        fs_err::write(&p, "# mine\nthe {class} here\n\n").unwrap();
        let t = CaptionTemplates::from_file(&p).unwrap();
        let mut rng = corruptencoder_core::item_rng(0, 0, 0);
        assert_eq!(t.caption("lorikeet", &mut rng), "the lorikeet here");
        fs_err::write(&p, "no class\n").unwrap();
        let err = CaptionTemplates::from_file(&p).unwrap_err().to_string();
        assert!(err.contains("t.txt") && err.contains("{class}"), "{err}");
        let err = CaptionTemplates::from_file(&dir.path().join("none.txt")).unwrap_err();
        assert!(err.to_string().contains("none.txt"), "{err}");
    }
}
