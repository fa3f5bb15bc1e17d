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

/// Removes what processes that no longer run left in `dir` when they were killed: staged
/// folders (`.<name>.staging-<pid>`, `.<name>.old-<pid>`) and half-written files
/// (`.<name>.part-<pid>`). Returns how many were removed. Only on Linux, where `/proc` tells
/// whether a process runs; elsewhere nothing is removed.
pub fn remove_stale(dir: &Path) -> Result<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(0) };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = stale_pid(&name) else { continue };
        if process_runs(pid) {
            continue;
        }
        let path = entry.path();
        let gone =
            if path.is_dir() { fs_err::remove_dir_all(&path) } else { fs_err::remove_file(&path) };
        gone.map_err(io("remove stale", &path))?;
        log::info!("removed {} left by stopped process {pid}", path.display());
        removed += 1;
    }
    Ok(removed)
}

/// The pid in a temporary name this module makes (`.x.part-123`), if it is one.
fn stale_pid(name: &str) -> Option<u32> {
    if !name.starts_with('.') {
        return None;
    }
    let (head, pid) = name.rsplit_once('-')?;
    let tagged = [".part", ".staging", ".old"].iter().any(|t| head.ends_with(t));
    if tagged { pid.parse().ok() } else { None }
}

fn process_runs(pid: u32) -> bool {
    if cfg!(target_os = "linux") { Path::new("/proc").join(pid.to_string()).exists() } else { true }
}

fn tmp_sibling(path: &Path, tag: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

/// An output folder built under a temporary name and renamed into place on
/// [`OutputDir::commit`]: the one output policy of every command. The old output, if any
/// and if replacing it was asked for, is removed only once the new one is in place.
///
/// Two kinds: [`OutputDir::create`] for one-shot outputs (staged under a per-process name,
/// removed when dropped uncommitted, so a failed run leaves nothing), and
/// [`OutputDir::resumable`] for runs that checkpoint (staged under the stable name
/// `.<name>.partial`, kept when dropped so that a resumed run continues it).
#[derive(Debug)]
pub struct OutputDir {
    staging: PathBuf,
    target: PathBuf,
    force: bool,
    committed: bool,
    keep_on_drop: bool,
    resumed: bool,
}

impl OutputDir {
    /// Fails if `target` exists and `force` is false: the check a command makes before it
    /// loads anything, so a refused run costs nothing.
    pub fn check(target: &Path, force: bool) -> Result<()> {
        if target.exists() && !target.is_dir() {
            return Err(Error::NotAFolder { path: target.to_path_buf() });
        }
        if target.exists() && !force {
            return Err(Error::OutputExists { path: target.to_path_buf() });
        }
        Ok(())
    }

    /// Starts a one-shot output folder that will become `target`. Fails if `target`
    /// exists and `force` is false, before any work is done.
    pub fn create(target: &Path, force: bool) -> Result<Self> {
        Self::check(target, force)?;
        create_parent(target)?;
        let staging = tmp_sibling(target, "staging");
        if staging.exists() {
            fs_err::remove_dir_all(&staging).map_err(io("remove stale", &staging))?;
        }
        fs_err::create_dir(&staging).map_err(io("create", &staging))?;
        Ok(Self::new(staging, target, force, false))
    }

    /// Starts or continues a resumable output that will become `target`, staged in
    /// `.<name>.partial` beside it. An unfinished run there is continued with `resume`,
    /// else discarded with `force`, else refused; a finished `target` is replaced (on
    /// commit) only with `force`.
    pub fn resumable(target: &Path, force: bool, resume: bool) -> Result<Self> {
        Self::check(target, force)?;
        create_parent(target)?;
        let staging = Self::partial_path(target);
        let mut resumed = false;
        if staging.exists() {
            if resume {
                resumed = true;
            } else if force {
                fs_err::remove_dir_all(&staging).map_err(io("remove", &staging))?;
            } else {
                return Err(Error::Unfinished { partial: staging });
            }
        }
        if !resumed {
            fs_err::create_dir(&staging).map_err(io("create", &staging))?;
        }
        let mut out = Self::new(staging, target, force, true);
        out.resumed = resumed;
        Ok(out)
    }

    /// Where [`OutputDir::resumable`] stages `target`.
    pub fn partial_path(target: &Path) -> PathBuf {
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        target.with_file_name(format!(".{name}.partial"))
    }

    fn new(staging: PathBuf, target: &Path, force: bool, keep_on_drop: bool) -> Self {
        let target = target.to_path_buf();
        Self { staging, target, force, committed: false, keep_on_drop, resumed: false }
    }

    /// The folder to write into now.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The final location.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Whether a resumable output continues an unfinished run.
    pub fn resumed(&self) -> bool {
        self.resumed
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

/// Creates the target's parent and clears what killed runs left there.
fn create_parent(target: &Path) -> Result<()> {
    let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs_err::create_dir_all(parent).map_err(io("create", parent))?;
    remove_stale(parent)?;
    Ok(())
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed && !self.keep_on_drop {
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
    fn resumable_output_is_kept_continued_and_replaced_only_on_request() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("run");
        {
            let out = OutputDir::resumable(&target, false, false).unwrap();
            assert!(!out.resumed());
            fs_err::write(out.path().join("ckpt"), "1").unwrap();
        }
        let partial = OutputDir::partial_path(&target);
        assert!(partial.join("ckpt").exists(), "an interrupted run keeps its checkpoints");
        let err = OutputDir::resumable(&target, false, false).unwrap_err().to_string();
        assert!(err.contains("`resume`") && err.contains("`force`"), "{err}");
        let out = OutputDir::resumable(&target, false, true).unwrap();
        assert!(out.resumed() && out.path().join("ckpt").exists());
        out.commit().unwrap();
        assert!(target.join("ckpt").exists() && !partial.exists());
        assert!(matches!(
            OutputDir::resumable(&target, false, true),
            Err(Error::OutputExists { .. })
        ));
        let out = OutputDir::resumable(&target, true, false).unwrap();
        assert!(target.join("ckpt").exists(), "the old output stays until the new one commits");
        fs_err::write(out.path().join("new"), "2").unwrap();
        out.commit().unwrap();
        assert!(target.join("new").exists() && !target.join("ckpt").exists());
    }

    #[test]
    fn leftovers_of_dead_processes_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dead = u32::MAX - 7; // above any real pid
        let live = std::process::id();
        fs_err::create_dir(dir.path().join(format!(".out.staging-{dead}"))).unwrap();
        fs_err::write(dir.path().join(format!(".ckpt.safetensors.part-{dead}")), "x").unwrap();
        fs_err::write(dir.path().join(format!(".ckpt.part-{live}")), "x").unwrap();
        fs_err::write(dir.path().join("keep-1"), "x").unwrap();
        let removed = remove_stale(dir.path()).unwrap();
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        if cfg!(target_os = "linux") {
            assert_eq!(removed, 2);
            assert_eq!(left.len(), 2, "{left:?}");
        }
        assert!(left.contains(&format!(".ckpt.part-{live}")) && left.contains(&"keep-1".into()));
    }

    #[test]
    fn a_file_where_the_folder_goes_is_refused_even_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        fs_err::write(&target, "a file").unwrap();
        assert!(matches!(OutputDir::create(&target, true), Err(Error::NotAFolder { .. })));
        assert_eq!(fs_err::read_to_string(&target).unwrap(), "a file");
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
