//! A counting global allocator shared by the memory tests. Each test file declares its own
//! `#[global_allocator] static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;`
//! (a global allocator belongs to one test crate) and includes this file with
//! `#[path = "support/counting_alloc.rs"] mod counting_alloc;`.
//!
//! The counters are per thread: the test harness runs other tests on other threads, and what
//! they allocate must not show up in a measurement. Every allocation, reallocation and free is
//! counted, always; [`measure`] reports the difference over a closure, so only what the closure
//! does on the calling thread counts. Bytes are the sizes asked for; the allocator's own
//! rounding is not counted.

// Each test crate includes this module separately and uses only part of it.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Forwards every call to [`System`], counting on the calling thread.
pub(crate) struct Counting;

thread_local! {
    /// Allocations (including reallocations) made by this thread.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    /// Bytes allocated and not yet freed by this thread (negative if it frees what another
    /// thread allocated).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The highest `LIVE` since the last [`reset_peak`] (or [`measure`]).
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize, allocation: bool) {
    if allocation {
        let _ = ALLOCATIONS.try_with(|a| a.set(a.get().wrapping_add(1)));
    }
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting has no effect on
// the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize, true);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize), false);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize, true);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as isize - layout.size() as isize, true);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations (including reallocations) made by this thread so far.
pub(crate) fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Bytes live on this thread.
pub(crate) fn live() -> isize {
    LIVE.with(Cell::get)
}

/// Starts a new peak measurement from the current live bytes.
pub(crate) fn reset_peak() {
    PEAK.with(|p| p.set(live()));
}

/// The most bytes live on this thread since [`reset_peak`] (or [`measure`]).
pub(crate) fn peak() -> isize {
    PEAK.with(Cell::get)
}

/// What a closure allocated on this thread.
pub(crate) struct Measured<T> {
    /// What the closure returned.
    pub(crate) value: T,
    /// Allocations (including reallocations) it made.
    pub(crate) allocations: usize,
    /// The peak of live bytes while it ran, counting from zero when it started.
    pub(crate) peak: usize,
}

/// Runs `f` and returns its value, how many allocations it made on this thread and the peak of
/// live heap bytes on this thread while it ran (counting from zero when it starts).
pub(crate) fn measure<T>(f: impl FnOnce() -> T) -> Measured<T> {
    let allocations_before = allocations();
    let live_before = live();
    reset_peak();
    let value = f();
    let allocations = allocations().wrapping_sub(allocations_before);
    let peak = (peak() - live_before).max(0) as usize;
    Measured { value, allocations, peak }
}
