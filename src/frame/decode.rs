//! Decoding a frame header from the start of a buffer that may hold only part of it.

use super::{FrameHeader, OpCode};
use crate::ProtocolViolation;

/// The outcome of [`decode_header`] on input that broke no rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderStatus {
    /// A whole header, and how many bytes it took.
    Complete(FrameHeader, usize),
    /// The buffer holds part of a header: at least `needed` more bytes are required. Not an
    /// error.
    Partial {
        /// The least number of additional bytes that could complete the header.
        needed: usize,
    },
}

/// Decodes the frame header at the start of `buf`.
///
/// Checks the rules that need no connection state: reserved opcodes, the top bit of a 64-bit
/// length, minimal length encoding, and that control frames are short and unfragmented.
/// Masking direction and reserved bits depend on the role and extensions and are checked by
/// the connection.
///
/// ```
/// use wsproto::frame::{decode_header, HeaderStatus, OpCode};
/// // An unmasked text frame "Hi" from a server.
/// let bytes = [0x81, 0x02, b'H', b'i'];
/// let HeaderStatus::Complete(h, len) = decode_header(&bytes).unwrap() else { panic!() };
/// assert_eq!((h.opcode, h.fin, h.payload_len, len), (OpCode::Text, true, 2, 2));
/// assert_eq!(decode_header(&bytes[..1]).unwrap(), HeaderStatus::Partial { needed: 1 });
/// ```
///
/// # Errors
/// The [`ProtocolViolation`] the header commits; the whole header need not be present for a
/// violation in its first bytes to be reported.
#[inline]
pub fn decode_header(buf: &[u8]) -> Result<HeaderStatus, ProtocolViolation> {
    let [b0, b1, ..] = *buf else {
        return Ok(HeaderStatus::Partial { needed: 2 - buf.len() });
    };
    let fin = b0 & 0x80 != 0;
    let rsv = (b0 >> 4) & 0b111;
    let opcode = OpCode::from_u8(b0 & 0x0f).ok_or(ProtocolViolation::ReservedOpcode(b0 & 0x0f))?;
    let masked = b1 & 0x80 != 0;
    let len7 = b1 & 0x7f;
    if opcode.is_control() {
        if !fin {
            return Err(ProtocolViolation::FragmentedControlFrame);
        }
        if len7 > 125 {
            return Err(ProtocolViolation::ControlFrameTooLong);
        }
    }
    let ext = match len7 {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let total = 2 + ext + if masked { 4 } else { 0 };
    if buf.len() < total {
        // Report a bad extended length as soon as its first byte is here.
        if len7 == 127 && buf.len() > 2 && buf[2] & 0x80 != 0 {
            return Err(ProtocolViolation::LengthTopBitSet);
        }
        return Ok(HeaderStatus::Partial { needed: total - buf.len() });
    }
    let payload_len = match len7 {
        126 => {
            let n = u64::from(u16::from_be_bytes([buf[2], buf[3]]));
            if n < 126 {
                return Err(ProtocolViolation::NonMinimalLength);
            }
            n
        }
        127 => {
            let n = u64::from_be_bytes([buf[2], buf[3], buf[4], buf[5], buf[6], buf[7], buf[8], buf[9]]);
            if n >> 63 != 0 {
                return Err(ProtocolViolation::LengthTopBitSet);
            }
            if n <= 0xffff {
                return Err(ProtocolViolation::NonMinimalLength);
            }
            n
        }
        n => u64::from(n),
    };
    let mask = if masked {
        let m = 2 + ext;
        match buf.get(m..m + 4) {
            Some(&[a, b, c, d]) => Some([a, b, c, d]),
            _ => None,
        }
    } else {
        None
    };
    Ok(HeaderStatus::Complete(FrameHeader { fin, rsv, opcode, mask, payload_len }, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{MAX_HEADER_LEN, encode_header};
    use proptest::prelude::*;

    #[test]
    fn rfc_examples() {
        // RFC 6455 §5.7.
        let unmasked = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
        let HeaderStatus::Complete(h, 2) = decode_header(&unmasked).unwrap() else { panic!() };
        assert_eq!(h, FrameHeader::new(OpCode::Text, true, 5, None));
        let masked = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
        let HeaderStatus::Complete(h, 6) = decode_header(&masked).unwrap() else { panic!() };
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        let fragment = [0x01, 0x03, 0x48, 0x65, 0x6c];
        let HeaderStatus::Complete(h, 2) = decode_header(&fragment).unwrap() else { panic!() };
        assert!(!h.fin);
        let big = [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0];
        let HeaderStatus::Complete(h, 10) = decode_header(&big).unwrap() else { panic!() };
        assert_eq!(h.payload_len, 65536);
        let mid = [0x82, 0x7e, 0x01, 0x00];
        let HeaderStatus::Complete(h, 4) = decode_header(&mid).unwrap() else { panic!() };
        assert_eq!(h.payload_len, 256);
    }

    #[test]
    fn violations() {
        assert_eq!(decode_header(&[0x83, 0]), Err(ProtocolViolation::ReservedOpcode(3)));
        assert_eq!(decode_header(&[0x8b, 0]), Err(ProtocolViolation::ReservedOpcode(0xb)));
        assert_eq!(decode_header(&[0x09, 0]), Err(ProtocolViolation::FragmentedControlFrame));
        assert_eq!(decode_header(&[0x89, 126]), Err(ProtocolViolation::ControlFrameTooLong));
        assert_eq!(decode_header(&[0x82, 126, 0, 125]), Err(ProtocolViolation::NonMinimalLength));
        assert_eq!(decode_header(&[0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), Err(ProtocolViolation::NonMinimalLength));
        assert_eq!(decode_header(&[0x82, 127, 0x80]), Err(ProtocolViolation::LengthTopBitSet));
    }

    #[test]
    fn partial_reports_needed() {
        let h = FrameHeader::new(OpCode::Binary, true, 70_000, Some([1, 2, 3, 4]));
        let mut buf = [0; MAX_HEADER_LEN];
        let n = encode_header(&h, &mut buf);
        assert_eq!(n, 14);
        for cut in 0..n {
            match decode_header(&buf[..cut]).unwrap() {
                HeaderStatus::Partial { needed } => assert!(needed >= 1 && cut + needed <= n),
                HeaderStatus::Complete(..) => panic!("complete at {cut}"),
            }
        }
        assert_eq!(decode_header(&buf[..n]).unwrap(), HeaderStatus::Complete(h, n));
    }

    fn opcode() -> impl Strategy<Value = OpCode> {
        prop_oneof![
            Just(OpCode::Continuation),
            Just(OpCode::Text),
            Just(OpCode::Binary),
            Just(OpCode::Close),
            Just(OpCode::Ping),
            Just(OpCode::Pong)
        ]
    }

    fn length() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..=127,
            Just(65535u64),
            Just(65536u64),
            124u64..=128,
            65530u64..=65540,
            any::<u64>().prop_map(|n| n >> 1),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(op in opcode(), fin: bool, rsv in 0u8..8, mask: Option<[u8; 4]>, len in length()) {
            let control = op.is_control();
            let h = FrameHeader { fin: fin || control, rsv, opcode: op, mask, payload_len: if control { len % 126 } else { len } };
            let mut buf = [0; MAX_HEADER_LEN];
            let n = encode_header(&h, &mut buf);
            prop_assert_eq!(n, h.encoded_len());
            prop_assert_eq!(decode_header(&buf[..n]).unwrap(), HeaderStatus::Complete(h, n));
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
            let _ = decode_header(&bytes);
        }
    }
}
