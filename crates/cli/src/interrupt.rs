//! SIGINT and SIGTERM: the first sets a flag that the libraries poll through
//! `Progress::cancelled`, so a run stops between items, removes its staged output (or
//! keeps a resumable run's checkpoints) and exits with 128 + the signal; a second signal
//! ends the process at once.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

/// The signal received, 0 while none.
static RECEIVED: LazyLock<Arc<AtomicUsize>> = LazyLock::new(|| Arc::new(AtomicUsize::new(0)));

/// Installs the handlers (at the start of main).
pub(crate) fn install() {
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // Handlers run in registration order: the shutdown check sees `seen` still false
        // on the first signal, which then sets it, so only a second signal exits at once.
        let seen = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let installed = signal_hook::flag::register_conditional_shutdown(
            signal,
            128 + signal,
            Arc::clone(&seen),
        )
        .and_then(|_| signal_hook::flag::register(signal, seen))
        .and_then(|_| {
            signal_hook::flag::register_usize(signal, Arc::clone(&RECEIVED), signal as usize)
        });
        if let Err(e) = installed {
            log::warn!("cannot install the handler of signal {signal}: {e}");
        }
    }
}

/// The signal that asked the process to stop, if any.
pub(crate) fn received() -> Option<i32> {
    match RECEIVED.load(Ordering::Relaxed) {
        0 => None,
        s => Some(s as i32),
    }
}
