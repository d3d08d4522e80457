//! Encoding a frame header in the minimal form.

use super::FrameHeader;

/// The longest header: 2 bytes, an 8-byte length and a 4-byte masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// Writes `header` into `out` using the shortest length encoding (RFC 6455 §5.2) and returns
/// the number of bytes written.
///
/// ```
/// use wsproto::frame::{encode_header, FrameHeader, OpCode, MAX_HEADER_LEN};
/// let mut out = [0; MAX_HEADER_LEN];
/// let n = encode_header(&FrameHeader::new(OpCode::Binary, true, 65535, None), &mut out);
/// assert_eq!(&out[..n], &[0x82, 126, 0xff, 0xff]);
/// ```
///
/// A payload length with the top bit set cannot be represented; it is written with the top
/// bit cleared, and the [`Connection`](crate::Connection) never produces one (slices are
/// shorter than 2^63 bytes).
#[inline]
pub fn encode_header(header: &FrameHeader, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
    out[0] = (u8::from(header.fin) << 7) | ((header.rsv & 0b111) << 4) | header.opcode.as_u8();
    let mask_bit = if header.mask.is_some() { 0x80 } else { 0 };
    let len = header.payload_len & (u64::MAX >> 1);
    let mut n = match len {
        0..=125 => {
            out[1] = mask_bit | len as u8;
            2
        }
        126..=0xffff => {
            out[1] = mask_bit | 126;
            out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            4
        }
        _ => {
            out[1] = mask_bit | 127;
            out[2..10].copy_from_slice(&len.to_be_bytes());
            10
        }
    };
    if let Some(key) = header.mask {
        out[n..n + 4].copy_from_slice(&key);
        n += 4;
    }
    n
}
