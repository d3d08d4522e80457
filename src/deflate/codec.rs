//! The per-message compressor and decompressor over flate2 (zlib-rs engine).

use alloc::vec::Vec;

use flate2::{Compress, Decompress, FlushCompress, FlushDecompress, Status};

use super::pool;

/// The four bytes a sync flush ends with, removed from each compressed message on the wire
/// and put back before inflating (RFC 7692 §7.2.1, §7.2.2).
pub(crate) const TRAILER: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Compresses outgoing messages into the caller's buffer (the connection reuses one).
///
/// The zlib context is created when the first message is compressed. When it is reset after
/// each message, it lives in the thread's pool between messages (see [`pool`]).
pub(crate) struct Deflater {
    /// The context kept between messages (context takeover), once a message was compressed.
    compress: Option<Compress>,
    level: u32,
    bits: u8,
    reset_each_message: bool,
    min_size: usize,
}

impl core::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Deflater").field("reset_each_message", &self.reset_each_message).finish_non_exhaustive()
    }
}

impl Deflater {
    pub(crate) fn new(level: u32, window_bits: u8, reset_each_message: bool, min_size: usize) -> Self {
        // zlib cannot compress with a 256-byte window; negotiation never agrees to one.
        let bits = window_bits.clamp(9, 15);
        Self { compress: None, level, bits, reset_each_message, min_size }
    }

    /// Whether a message of `len` bytes is worth compressing.
    pub(crate) fn wants(&self, len: usize) -> bool {
        len >= self.min_size
    }

    /// Compresses a whole message into `out` (empty), without the trailer.
    ///
    /// The buffer grows with what zlib really produces: a message that compresses well never
    /// takes memory in proportion to its uncompressed size.
    pub(crate) fn compress(&mut self, data: &[u8], out: &mut Vec<u8>) {
        out.clear();
        // A first guess, capped: a reused buffer usually has room already (no allocation).
        out.reserve(first_guess(data.len()));
        let mut compress = match self.compress.take() {
            Some(kept) => kept,
            None => pool::compressor(self.level, self.bits),
        };
        let start = compress.total_in();
        loop {
            let done = (compress.total_in() - start) as usize;
            // Compressing into a Vec's spare capacity cannot fail for valid parameters.
            let _ = compress.compress_vec(&data[done..], out, FlushCompress::Sync);
            let consumed = (compress.total_in() - start) as usize;
            // A sync flush is complete once zlib stops with output space left over.
            if consumed == data.len() && out.len() < out.capacity() {
                break;
            }
            out.reserve_exact(more_room(data.len() - consumed, consumed, out.len(), out.capacity()));
        }
        if out.ends_with(&TRAILER) {
            out.truncate(out.len() - TRAILER.len());
        }
        if out.is_empty() || out.len() > stored_len(data.len()) {
            // Send stored blocks instead when zlib's output is larger (incompressible data: level
            // 1's fixed codes take up to 9 bits a byte, and a small window rules out zlib's own
            // stored blocks), so that the output never exceeds the bound the sender reserves.
            // Also for an empty message right after a flush, for which zlib writes nothing at
            // all. The peer's window holds the same bytes either way, and the sync flush left
            // zlib byte-aligned, so its context stays valid for the next message.
            out.clear();
            write_stored(data, out);
        }
        if self.reset_each_message {
            pool::give_compressor(self.level, self.bits, compress);
        } else {
            self.compress = Some(compress);
        }
    }

    /// The most bytes [`compress`](Self::compress) writes for `len` input bytes: zlib's bound
    /// for stored blocks, plus the sync flush.
    pub(crate) const fn bound(len: usize) -> usize {
        len + (len >> 12) + (len >> 14) + 64
    }

    /// Drops the compression context after a compressed message could not be sent after all:
    /// the next message refers to nothing before it, which any peer can read.
    pub(crate) fn forget_context(&mut self) {
        if let Some(compress) = &mut self.compress {
            compress.reset();
        }
    }
}

/// Output room to start compressing a message of `len` bytes with: half of it (most messages
/// compress at least that well), but no more than 16 KiB; more is added as zlib fills it.
fn first_guess(len: usize) -> usize {
    (len / 2 + 64).min(16 * 1024)
}

/// More output room, once zlib filled the buffer with `produced` bytes from `consumed` input
/// bytes and `rest` input bytes are left: the rest at the ratio seen so far, plus an eighth,
/// and at least a quarter of the capacity, so that a poor estimate still grows the buffer
/// geometrically.
fn more_room(rest: usize, consumed: usize, produced: usize, capacity: usize) -> usize {
    let estimate = if consumed == 0 {
        rest / 2
    } else {
        usize::try_from(rest as u128 * produced as u128 / consumed as u128).unwrap_or(usize::MAX)
    };
    estimate.saturating_add(estimate / 8).max(capacity / 4).max(64)
}

/// The size of `len` bytes as stored DEFLATE blocks, trailer removed (see [`write_stored`]).
const fn stored_len(len: usize) -> usize {
    len + 5 * len.div_ceil(0xffff) + 1
}

/// `data` as stored (uncompressed) blocks of at most 65535 bytes, then the first byte of the
/// empty stored block whose LEN and NLEN are the trailer the peer appends (so an empty message
/// is a lone `0x00`, RFC 7692 §7.2.3.6).
fn write_stored(data: &[u8], out: &mut Vec<u8>) {
    out.reserve(stored_len(data.len()));
    for block in data.chunks(0xffff) {
        let len = block.len() as u16;
        // BFINAL 0, BTYPE 00, then padding to the byte boundary.
        out.push(0x00);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.push(0x00);
}

/// What one inflate step did.
pub(crate) struct Inflated {
    pub(crate) consumed: usize,
    pub(crate) produced: usize,
    /// The deflate stream ended (a block with BFINAL set): nothing more comes out of it.
    pub(crate) stream_end: bool,
    /// The input is not valid DEFLATE data. `consumed` and `produced` still count what came
    /// before the fault, so the caller can check that output first and report faults in the
    /// order of the stream, whatever the read split.
    pub(crate) corrupt: bool,
}

/// Inflates incoming compressed messages.
///
/// The zlib context is created when the first compressed message arrives, with the window the
/// peer agreed to. When it is reset after each message, it lives in the thread's pool between
/// messages (see [`pool`]).
pub(crate) struct Inflater {
    /// The context, while a message is inflated or kept between messages.
    decompress: Option<Decompress>,
    bits: u8,
    reset_each_message: bool,
    ended: bool,
}

impl core::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inflater").field("reset_each_message", &self.reset_each_message).finish_non_exhaustive()
    }
}

impl Inflater {
    /// An inflater for a peer that compresses with windows of at most `bits` (a larger window
    /// reads data compressed with any smaller one; 9 is the least zlib takes).
    pub(crate) fn new(bits: u8, reset_each_message: bool) -> Self {
        Self { decompress: None, bits: bits.clamp(9, 15), reset_each_message, ended: false }
    }

    /// Inflates from `input` into `out`.
    pub(crate) fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> Inflated {
        if self.ended {
            // Bytes after a final block belong to no stream; the trailer may follow it.
            return Inflated { consumed: input.len(), produced: 0, stream_end: true, corrupt: false };
        }
        let bits = self.bits;
        let decompress = self.decompress.get_or_insert_with(|| pool::decompressor(bits));
        let (in0, out0) = (decompress.total_in(), decompress.total_out());
        let status = decompress.decompress(input, out, FlushDecompress::Sync);
        let consumed = (decompress.total_in() - in0) as usize;
        let produced = (decompress.total_out() - out0) as usize;
        if matches!(status, Ok(Status::StreamEnd)) {
            self.ended = true;
        }
        Inflated { consumed, produced, stream_end: self.ended, corrupt: status.is_err() }
    }

    /// A message ended: reset the context when the peer does not keep it, or when its stream
    /// ended with a final block.
    pub(crate) fn end_message(&mut self) {
        if self.reset_each_message {
            if let Some(decompress) = self.decompress.take() {
                pool::give_decompressor(self.bits, decompress);
            }
        } else if self.ended {
            if let Some(decompress) = &mut self.decompress {
                decompress.reset(false);
            }
        }
        self.ended = false;
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;

    /// Inflates one compressed message (trailer removed) with a fresh context.
    fn inflate(compressed: &[u8], len: usize) -> Vec<u8> {
        let mut input = compressed.to_vec();
        input.extend_from_slice(&TRAILER);
        let mut out = vec![0; len + 1];
        let mut inflater = Inflater::new(15, true);
        let r = inflater.inflate(&input, &mut out);
        assert!(!r.corrupt);
        out.truncate(r.produced);
        out
    }

    #[test]
    fn a_compressible_message_takes_memory_for_its_compressed_size_only() {
        let data: Vec<u8> = b"{\"id\":1,\"name\":\"wsproto\"},".iter().copied().cycle().take(16 << 20).collect();
        let mut d = Deflater::new(6, 15, false, 0);
        let mut out = Vec::new();
        d.compress(&data, &mut out);
        let (len, cap) = (out.len(), out.capacity());
        assert!(len < 256 * 1024, "{len}");
        assert!(len <= Deflater::bound(data.len()));
        // Grown with what zlib produced: not in proportion to the 16 MiB input.
        assert!(cap <= 2 * len + 64 * 1024, "{len} bytes in {cap}");
        assert_eq!(inflate(&out, data.len()), data);
    }

    #[test]
    fn incompressible_data_stays_within_the_bound() {
        // Pseudo-random bytes do not compress: stored blocks are sent instead.
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let noise: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut d = Deflater::new(1, 9, false, 0);
        let mut out = Vec::new();
        for len in [0, 1, 100, 65535, 65536, noise.len()] {
            d.compress(&noise[..len], &mut out);
            assert!(out.len() <= Deflater::bound(len), "{len}: {}", out.len());
        }
    }
}
