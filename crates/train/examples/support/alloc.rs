//! The CLI binary's allocator and its setting (crates/cli/src/alloc.rs, where a test checks
//! the option index), so the benchmarks time what users run.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_e`.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory stays with the process for reuse (`purge_delay = -1`).
pub(crate) fn keep_freed_pages() {
    #[allow(unsafe_code)]
    // SAFETY: `mi_option_set` stores an integer in mimalloc's option table; it takes no
    // pointer, is thread-safe, and -1 is a valid value for this option (never purge).
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, -1)
    };
}
