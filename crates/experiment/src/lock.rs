//! The experiment's lock: `.<name>.lock` beside the output folder `<name>`, held while a
//! process decides which folder the experiment lives in and changes what all processes
//! share (see `runner.rs` for what is done under it).
//!
//! The file sits beside the folder, not in it, because the folder is renamed from its
//! staging name while locked; it is never removed, since removing a lock file lets two
//! processes lock two different files of one name. It is an advisory `flock` lock
//! (`std::fs::File::lock`): processes on other machines see it where the shared filesystem
//! passes such locks on (NFS with its lock service, Lustre mounted with `flock`, GPFS).
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::Duration;

use corruptencoder_core::Progress;

use crate::error::{Result, io};

/// How long a waiting process sleeps between tries: short next to the minutes a shard
/// runs, long enough to cost nothing.
const POLL: Duration = Duration::from_millis(50);

/// The held lock of one experiment folder; released when dropped.
#[derive(Debug)]
pub(crate) struct Lock {
    file: File,
}

impl Lock {
    /// The lock file of the output folder `out`.
    pub(crate) fn path(out: &Path) -> PathBuf {
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        out.with_file_name(format!(".{name}.lock"))
    }

    /// Waits until this process holds the lock of `out`, creating the lock file (and the
    /// folder it lives in) if needed. Polled rather than blocking so that an interrupt
    /// ends the wait.
    pub(crate) fn acquire(out: &Path, progress: &dyn Progress) -> Result<Self> {
        let path = Self::path(out);
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs_err::create_dir_all(parent).map_err(io("create", parent))?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io("open the lock file", &path))?;
        let mut said = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self { file }),
                Err(TryLockError::WouldBlock) => {
                    if !said {
                        log::info!("waiting for {} (another shard holds it)", path.display());
                        said = true;
                    }
                    progress.check_cancelled()?;
                    std::thread::sleep(POLL);
                }
                Err(TryLockError::Error(e)) => return Err(io("lock", &path)(e)),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Closing the file releases the lock as well; unlocking first says so plainly.
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use corruptencoder_core::NoProgress;

    use super::*;

    #[test]
    fn one_holder_at_a_time_and_the_file_stays_beside_the_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("deep/study");
        let held = Lock::acquire(&out, &NoProgress).unwrap();
        let path = tmp.path().join("deep/.study.lock");
        assert!(path.is_file() && !out.exists());
        let other = File::options().write(true).open(&path).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        drop(held);
        other.try_lock().unwrap();
        other.unlock().unwrap();
        drop(Lock::acquire(&out, &NoProgress).unwrap());
        assert!(path.is_file(), "the lock file is kept");
    }
}
