/// Progress of a long job. Libraries call it; only the binary renders it.
pub trait Progress: Send + Sync {
    /// A new phase named `label` with `total` steps begins.
    fn start(&self, label: &str, total: u64);
    /// `n` more steps are done.
    fn advance(&self, n: u64);
    /// The current phase ended.
    fn finish(&self);
    /// Whether the user asked to stop (Ctrl-C, SIGTERM). Long loops check it between
    /// items and return [`crate::Error::Cancelled`], so staged outputs are cleaned up and
    /// checkpoints stay whole. Default: never.
    fn cancelled(&self) -> bool {
        false
    }
    /// [`crate::Error::Cancelled`] once [`Progress::cancelled`] holds.
    fn check_cancelled(&self) -> crate::Result<()> {
        if self.cancelled() { Err(crate::Error::Cancelled) } else { Ok(()) }
    }
}

/// A [`Progress`] that shows nothing (tests, library callers).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _label: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}
