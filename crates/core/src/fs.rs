use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result, io};

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so a
/// crash never leaves a half-written file under the final name.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = tmp_sibling(path, "part");
    fs_err::write(&tmp, bytes).map_err(io("write", &tmp))?;
    fs_err::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("rename", path)(e)
    })
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn tmp_sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

/// An output folder built under a temporary name and renamed into place on
/// [`OutputDir::commit`]. Dropped without a commit, it removes itself, so a failed run
/// leaves no partial output folder.
#[derive(Debug)]
pub struct OutputDir {
    staging: PathBuf,
    target: PathBuf,
    force: bool,
    committed: bool,
}

impl OutputDir {
    /// Starts an output folder that will become `target`. Fails if `target` exists and
    /// `force` is false, before any work is done.
    pub fn create(target: &Path, force: bool) -> Result<Self> {
        if target.exists() && !force {
            return Err(Error::OutputExists { path: target.to_path_buf() });
        }
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs_err::create_dir_all(parent).map_err(io("create", parent))?;
        }
        let staging = tmp_sibling(target, "staging");
        if staging.exists() {
            fs_err::remove_dir_all(&staging).map_err(io("remove stale", &staging))?;
        }
        fs_err::create_dir(&staging).map_err(io("create", &staging))?;
        Ok(Self { staging, target: target.to_path_buf(), force, committed: false })
    }

    /// The folder to write into now.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The final location.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Moves the finished folder into place (replacing an old one only with `force`).
    pub fn commit(mut self) -> Result<PathBuf> {
        if self.target.exists() {
            if !self.force {
                return Err(Error::OutputExists { path: self.target.clone() });
            }
            let old = tmp_sibling(&self.target, "old");
            fs_err::rename(&self.target, &old).map_err(io("move aside", &self.target))?;
            fs_err::rename(&self.staging, &self.target).map_err(io("rename", &self.target))?;
            fs_err::remove_dir_all(&old).map_err(io("remove", &old))?;
        } else {
            fs_err::rename(&self.staging, &self.target).map_err(io("rename", &self.target))?;
        }
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_output_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        {
            let out = OutputDir::create(&target, false).unwrap();
            fs_err::write(out.path().join("a.txt"), "x").unwrap();
        }
        assert!(!target.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn existing_output_is_refused_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        fs_err::create_dir(&target).unwrap();
        fs_err::write(target.join("old.txt"), "old").unwrap();
        assert!(matches!(OutputDir::create(&target, false), Err(Error::OutputExists { .. })));
        let out = OutputDir::create(&target, true).unwrap();
        fs_err::write(out.path().join("new.txt"), "new").unwrap();
        out.commit().unwrap();
        assert!(target.join("new.txt").exists());
        assert!(!target.join("old.txt").exists());
    }

    #[test]
    fn atomic_write_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs_err::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
