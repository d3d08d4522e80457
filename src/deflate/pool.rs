//! Per-thread pools of zlib contexts.
//!
//! A direction whose agreement resets the context after each message (`*_no_context_takeover`)
//! needs no context between messages: its compressor or decompressor comes from the thread's
//! pool when a message starts and goes back when it ends. A connection that is not in the
//! middle of a compressed message then holds no zlib state at all (a compressor with 15-bit
//! windows is about 256 KiB), and a thread holds at most one context per kind for each message
//! it is compressing or inflating at the same moment (uWebSockets' shared compressor,
//! generalised to any number of connections per thread).

use alloc::vec::Vec;
use core::cell::RefCell;

use flate2::{Compress, Compression, Decompress};

/// Contexts kept per thread and kind; a thread that has more messages in progress at once
/// creates and frees the surplus.
const KEEP: usize = 8;

std::thread_local! {
    static COMPRESSORS: RefCell<Vec<(u32, u8, Compress)>> = const { RefCell::new(Vec::new()) };
    static DECOMPRESSORS: RefCell<Vec<(u8, Decompress)>> = const { RefCell::new(Vec::new()) };
}

/// A compressor at `level` with a window of `bits`, with no context.
pub(crate) fn compressor(level: u32, bits: u8) -> Compress {
    let pooled = COMPRESSORS.with_borrow_mut(|pool| {
        let i = pool.iter().rposition(|(l, b, _)| (*l, *b) == (level, bits))?;
        Some(pool.swap_remove(i).2)
    });
    pooled.unwrap_or_else(|| Compress::new_with_window_bits(Compression::new(level), false, bits))
}

/// Gives back a compressor taken with [`compressor`], after a message ended (its context reset).
pub(crate) fn give_compressor(level: u32, bits: u8, mut compress: Compress) {
    compress.reset();
    COMPRESSORS.with_borrow_mut(|pool| {
        if pool.len() < KEEP {
            pool.push((level, bits, compress));
        }
    });
}

/// A decompressor with a window of `bits`, with no context.
pub(crate) fn decompressor(bits: u8) -> Decompress {
    let pooled = DECOMPRESSORS.with_borrow_mut(|pool| {
        let i = pool.iter().rposition(|(b, _)| *b == bits)?;
        Some(pool.swap_remove(i).1)
    });
    pooled.unwrap_or_else(|| Decompress::new_with_window_bits(false, bits))
}

/// Gives back a decompressor taken with [`decompressor`], after a message ended.
pub(crate) fn give_decompressor(bits: u8, mut decompress: Decompress) {
    decompress.reset(false);
    DECOMPRESSORS.with_borrow_mut(|pool| {
        if pool.len() < KEEP {
            pool.push((bits, decompress));
        }
    });
}
