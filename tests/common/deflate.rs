//! permessage-deflate helpers (feature `deflate`): compressed payloads made by flate2 directly,
//! independent of the crate's compressor.

/// The empty stored block that ends a sync flush; RFC 7692 §7.2.1 drops it from each message.
pub const TRAILER: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// `data` compressed by flate2 at `level` (0 to 9) with a fresh context and a sync flush, the
/// trailer kept.
pub fn deflate_sync(data: &[u8], level: u32) -> Vec<u8> {
    let mut c = flate2::Compress::new(flate2::Compression::new(level), false);
    let mut out = Vec::with_capacity(data.len() / 512 + 64);
    loop {
        let done = c.total_in() as usize;
        c.compress_vec(&data[done..], &mut out, flate2::FlushCompress::Sync).unwrap();
        if c.total_in() as usize == data.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity().max(64));
    }
    assert!(out.ends_with(&TRAILER));
    out
}
