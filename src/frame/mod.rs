//! The frame codec (RFC 6455 §5.2): opcodes and headers, decoded from partial input and encoded
//! in the minimal form.
//!
//! The [`Connection`](crate::Connection) uses this module; it is public for tools that work on
//! raw frames (proxies, fuzzers, test peers).

mod decode;
mod encode;

pub use decode::{HeaderStatus, decode_header};
pub use encode::{MAX_HEADER_LEN, encode_header};

/// A frame opcode (RFC 6455 §5.2). Reserved opcodes are rejected when decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: first frame of a text message.
    Text,
    /// 0x2: first frame of a binary message.
    Binary,
    /// 0x8: starts or answers the close handshake.
    Close,
    /// 0x9: asks for a Pong.
    Ping,
    /// 0xA: answers a Ping, or a unidirectional heartbeat.
    Pong,
}

impl OpCode {
    /// The 4-bit wire value.
    #[must_use]
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xa,
        }
    }

    /// The opcode for a 4-bit wire value, or `None` for a reserved one.
    #[must_use]
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xa => Self::Pong,
            _ => return None,
        })
    }

    /// Whether this is a control opcode (Close, Ping, Pong).
    #[must_use]
    pub const fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// RSV1 in [`FrameHeader::rsv`] and
/// [`Negotiated::reserved_bits`](crate::handshake::Negotiated::reserved_bits): the bit
/// permessage-deflate uses to mark a compressed message.
pub const RSV1: u8 = 0b100;
/// RSV2 in [`FrameHeader::rsv`] and
/// [`Negotiated::reserved_bits`](crate::handshake::Negotiated::reserved_bits).
pub const RSV2: u8 = 0b010;
/// RSV3 in [`FrameHeader::rsv`] and
/// [`Negotiated::reserved_bits`](crate::handshake::Negotiated::reserved_bits).
pub const RSV3: u8 = 0b001;

/// A decoded or to-be-encoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameHeader {
    /// Whether this is the last frame of its message.
    pub fin: bool,
    /// The three reserved bits, as [`RSV1`] | [`RSV2`] | [`RSV3`].
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, present on every frame a client sends.
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// A header for one frame.
    #[must_use]
    pub const fn new(opcode: OpCode, fin: bool, payload_len: u64, mask: Option<[u8; 4]>) -> Self {
        Self { fin, rsv: 0, opcode, mask, payload_len }
    }

    /// How many bytes this header takes on the wire (2 to 14).
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        let len = match self.payload_len {
            0..=125 => 2,
            126..=0xffff => 4,
            _ => 10,
        };
        if self.mask.is_some() { len + 4 } else { len }
    }
}
