//! The per-message compressor and decompressor over flate2 (zlib-rs engine).

use alloc::vec::Vec;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The four bytes a sync flush ends with, removed from each compressed message on the wire
/// and put back before inflating (RFC 7692 §7.2.1, §7.2.2).
pub(crate) const TRAILER: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Compresses outgoing messages into a reusable buffer.
pub(crate) struct Deflater {
    compress: Compress,
    reset_each_message: bool,
    min_size: usize,
    out: Vec<u8>,
    level: u32,
    window_bits: u8,
}

impl core::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Deflater").field("reset_each_message", &self.reset_each_message).finish_non_exhaustive()
    }
}

impl Clone for Deflater {
    /// A fresh compressor with the same settings (compression contexts cannot be copied); only
    /// meaningful before the first message.
    fn clone(&self) -> Self {
        Self::new(self.level, self.window_bits, self.reset_each_message, self.min_size)
    }
}

impl Deflater {
    pub(crate) fn new(level: u32, window_bits: u8, reset_each_message: bool, min_size: usize) -> Self {
        // zlib cannot compress with a 256-byte window; negotiation never agrees to one.
        let bits = window_bits.clamp(9, 15);
        Self {
            compress: Compress::new_with_window_bits(Compression::new(level), false, bits),
            reset_each_message,
            min_size,
            out: Vec::new(),
            level,
            window_bits: bits,
        }
    }

    /// Whether a message of `len` bytes is worth compressing.
    pub(crate) fn wants(&self, len: usize) -> bool {
        len >= self.min_size
    }

    /// Compresses a whole message; the result (without the trailer) is in the returned buffer,
    /// which the caller gives back with [`restore`](Self::restore).
    pub(crate) fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = core::mem::take(&mut self.out);
        out.clear();
        out.reserve(data.len() / 2 + 64);
        let start = self.compress.total_in();
        loop {
            let done = (self.compress.total_in() - start) as usize;
            // Compressing into a Vec's spare capacity cannot fail for valid parameters.
            let _ = self.compress.compress_vec(&data[done..], &mut out, FlushCompress::Sync);
            let consumed_all = (self.compress.total_in() - start) as usize == data.len();
            // A sync flush is complete once zlib stops with output space left over.
            if consumed_all && out.len() < out.capacity() {
                break;
            }
            out.reserve(out.capacity().max(64));
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
            write_stored(data, &mut out);
        }
        if self.reset_each_message {
            self.compress.reset();
        }
        out
    }

    /// Gives back the buffer from [`compress`](Self::compress), for reuse.
    pub(crate) fn restore(&mut self, out: Vec<u8>) {
        self.out = out;
    }
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
pub(crate) struct Inflater {
    decompress: Decompress,
    reset_each_message: bool,
    ended: bool,
}

impl core::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inflater").field("reset_each_message", &self.reset_each_message).finish_non_exhaustive()
    }
}

impl Clone for Inflater {
    /// A fresh decompressor with the same settings (contexts cannot be copied).
    fn clone(&self) -> Self {
        Self::new(self.reset_each_message)
    }
}

impl Inflater {
    pub(crate) fn new(reset_each_message: bool) -> Self {
        // The largest window reads data compressed with any smaller one.
        Self { decompress: Decompress::new(false), reset_each_message, ended: false }
    }

    /// Inflates from `input` into `out`.
    pub(crate) fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> Inflated {
        if self.ended {
            // Bytes after a final block belong to no stream; the trailer may follow it.
            return Inflated { consumed: input.len(), produced: 0, stream_end: true, corrupt: false };
        }
        let (in0, out0) = (self.decompress.total_in(), self.decompress.total_out());
        let status = self.decompress.decompress(input, out, FlushDecompress::Sync);
        let consumed = (self.decompress.total_in() - in0) as usize;
        let produced = (self.decompress.total_out() - out0) as usize;
        if matches!(status, Ok(Status::StreamEnd)) {
            self.ended = true;
        }
        Inflated { consumed, produced, stream_end: self.ended, corrupt: status.is_err() }
    }

    /// A message ended: reset the context when the peer does not keep it, or when its stream
    /// ended with a final block.
    pub(crate) fn end_message(&mut self) {
        if self.reset_each_message || self.ended {
            self.decompress.reset(false);
            self.ended = false;
        }
    }
}
