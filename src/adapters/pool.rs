//! Per-thread pools of the adapters' I/O buffers.
//!
//! A connection of the tokio adapter that waits for input holds no read buffer and no output
//! buffer: it takes them from its thread's pool when bytes arrive or frames are produced, and
//! gives them back when its read waits again with nothing left in them. Buffer memory then
//! follows the connections that are busy at the same moment on a thread, not the connections
//! that are open. (uWebSockets reads every socket into one shared buffer and keeps only the
//! tail of a partial frame per socket; a pool does the same for an API that lends a received
//! message to the caller until its next call.)

use core::cell::RefCell;
use std::vec::Vec;

/// Buffers kept per thread and kind; more connections busy at once on one thread allocate
/// and free the surplus.
const KEEP: usize = 4;

/// Output buffers larger than this are freed instead of kept (after a large message).
#[cfg(any(feature = "tokio", feature = "futures-io"))]
const KEEP_OUTPUT_CAPACITY: usize = 64 * 1024;

std::thread_local! {
    /// Read buffers: `len()` is the buffer's size (their bytes are not cleared).
    static READ: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    /// Output buffers: empty, with capacity.
    #[cfg(any(feature = "tokio", feature = "futures-io"))]
    static OUTPUT: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A read buffer of `size` bytes (stale contents: only what is read into it counts).
pub(crate) fn read_buffer(size: usize) -> Vec<u8> {
    let pooled = READ.with_borrow_mut(|pool| {
        let i = pool.iter().rposition(|b| b.len() == size)?;
        Some(pool.swap_remove(i))
    });
    pooled.unwrap_or_else(|| std::vec![0; size])
}

/// Gives back a buffer from [`read_buffer`].
pub(crate) fn give_read_buffer(buf: Vec<u8>) {
    if buf.is_empty() {
        return;
    }
    READ.with_borrow_mut(|pool| {
        if pool.len() < KEEP {
            pool.push(buf);
        }
    });
}

/// An empty output buffer, with the capacity it had when it was given back.
#[cfg(any(feature = "tokio", feature = "futures-io"))]
pub(crate) fn output_buffer() -> Vec<u8> {
    OUTPUT.with_borrow_mut(Vec::pop).unwrap_or_default()
}

/// Gives back an output buffer (its contents are dropped).
#[cfg(any(feature = "tokio", feature = "futures-io"))]
pub(crate) fn give_output_buffer(mut buf: Vec<u8>) {
    if buf.capacity() == 0 {
        return;
    }
    buf.clear();
    if buf.capacity() > KEEP_OUTPUT_CAPACITY {
        return;
    }
    OUTPUT.with_borrow_mut(|pool| {
        if pool.len() < KEEP {
            pool.push(buf);
        }
    });
}
