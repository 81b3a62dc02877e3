//! Handing freed memory back to the system.
//!
//! The allocator (mimalloc, the binary's global allocator) keeps what a
//! thread frees for a while before it returns it: it purges freed pages
//! only when that thread next allocates, once they are older than a delay.
//! At 10,000 services the checks free about 30 MB (the parse tree, the
//! typed spec) and compose's large buffers another few; kept until chance
//! purged them, the render's peak resident memory ranged from 88 to 110 MiB
//! from one run to the next. [`release_freed`] returns them at the points
//! where a large amount has just been freed.
//!
//! [`Allocator`] is the binary's global allocator: mimalloc, called the
//! way its own C interface is fastest for what Rust asks of it.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether [`release_freed`] hands memory back (see [`release_only_if`]).
static RELEASING: AtomicBool = AtomicBool::new(true);

/// Sets whether [`release_freed`] hands memory back from now on. A process
/// working on a small spec frees too little for it to pay: a render of the
/// root platform made 33 `madvise` calls for it, 3% of its samples, and
/// faulted the pages in again after them.
pub fn release_only_if(worth_it: bool) {
    RELEASING.store(worth_it, Ordering::Relaxed);
}

/// Returns to the system the memory this thread has freed and the
/// allocator still holds (unless [`release_only_if`] said it is not worth
/// it).
#[allow(unsafe_code)]
pub fn release_freed() {
    if !RELEASING.load(Ordering::Relaxed) {
        return;
    }
    // SAFETY: `mi_collect` takes a flag and has no preconditions: it walks
    // the calling thread's heap (initializing the allocator if it was not)
    // and purges its free pages. Nothing of ours is read or written.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

/// mimalloc as the global allocator, with the alignment Rust asks for
/// checked here rather than inside the allocator.
///
/// The `mimalloc` crate hands every request to `mi_malloc_aligned`, which
/// checks the alignment and the free block's address on every call: about
/// 4% of the instructions of a 1,000-service render were in the aligned
/// calls' own frames (517.6 M before, 497.9 M after). Nearly everything
/// Rust allocates needs
/// at most 8-byte alignment, which every mimalloc block has (its blocks are
/// multiples of 8 bytes from 8-byte aligned pages), so those take
/// `mi_malloc`, `mi_zalloc` and `mi_realloc`, mimalloc's fast paths; the
/// rest take the aligned calls as before.
pub struct Allocator;

/// The alignment every block `mi_malloc` returns has.
const PLAIN_ALIGN: usize = 8;

// SAFETY: each call is the mimalloc call for the same request (the plain
// ones only where their guaranteed alignment is enough); mimalloc returns
// null when out of memory, as `GlobalAlloc` requires, and `mi_free` and
// `mi_realloc` take any block of either kind.
#[allow(unsafe_code)]
unsafe impl std::alloc::GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: no preconditions beyond a valid size and alignment.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                libmimalloc_sys::mi_malloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                libmimalloc_sys::mi_zalloc(layout.size()).cast()
            } else {
                libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: `ptr` came from this allocator (the caller's promise).
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; the new
        // block keeps the alignment, as for `alloc`.
        unsafe {
            if layout.align() <= PLAIN_ALIGN {
                libmimalloc_sys::mi_realloc(ptr.cast(), new_size).cast()
            } else {
                libmimalloc_sys::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{GlobalAlloc, Layout};

    /// Every block has the alignment asked for, keeps it when grown, and
    /// holds what was written into it; zeroed blocks are zero.
    #[test]
    #[allow(unsafe_code)]
    fn blocks_have_the_asked_alignment_through_alloc_and_realloc() {
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 7, 8, 24, 40, 100, 1000, 5000, 100_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero size; each block is freed once, with
                // its layout.
                unsafe {
                    let p = Allocator.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "alloc {size}/{align}");
                    p.write_bytes(0xA5, size);
                    let q = Allocator.realloc(p, layout, size * 3);
                    assert_eq!(q as usize % align, 0, "realloc {size}/{align}");
                    assert!((0..size).all(|i| *q.add(i) == 0xA5));
                    Allocator.dealloc(q, Layout::from_size_align(size * 3, align).unwrap());
                    let z = Allocator.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0, "alloc_zeroed {size}/{align}");
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    Allocator.dealloc(z, layout);
                }
            }
        }
    }
}
