//! The binary's global allocator: mimalloc, told to keep the pages it frees.
//!
//! burn's flex backend allocates and frees buffers of tens of megabytes per operation.
//! glibc's malloc returns such blocks to the kernel at once and mimalloc after a second;
//! either way every training step faults its pages in again (27 M minor faults and a quarter
//! of the CPU time in the kernel in one demo run). Never purging trades a higher resident
//! peak (about 1.6 GB instead of 1.1 GB in `bench/pretrain_step.sh`) for ~25 % more views/s.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (the Rust bindings name no
/// constant for it); libmimalloc-sys is pinned exactly, and a test checks the index by the
/// option's documented default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory stays with the process for reuse (`purge_delay = -1`).
pub(crate) fn keep_freed_pages() {
    #[allow(unsafe_code)]
    // SAFETY: `mi_option_set` stores an integer in mimalloc's option table; it takes no
    // pointer, is thread-safe, and any value is valid for this option (-1 = never purge).
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, -1)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_delay_index_names_the_purge_delay_option() {
        #[allow(unsafe_code)]
        // SAFETY: reads an integer from mimalloc's option table (see keep_freed_pages).
        let get = || unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        // mimalloc v3 documents a purge delay of 1000 ms by default.
        assert_eq!(get(), 1000);
        keep_freed_pages();
        assert_eq!(get(), -1);
    }
}
