//! Errors: whose fault, and which close code to send.

use core::fmt;

use crate::{BufferTooSmall, CloseCode};

/// Who caused an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The remote endpoint sent something that breaks the protocol or our limits.
    Peer,
    /// The caller used the API in a way the protocol or the current state does not allow.
    Caller,
    /// The transport ended (end of input) before the close handshake finished.
    Transport,
    /// A deadline set in [`Config`](crate::Config) passed (see [`Timer`](crate::Timer)).
    Timeout,
    /// Our side failed: an [`Extension`](crate::Extension) could not process a message that
    /// was not the peer's fault. Close code 1011 (internal error).
    Local,
}

/// A rule of RFC 6455 that the peer broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolViolation {
    /// A client sent a frame without a masking key (§5.1).
    UnmaskedFrame,
    /// A server sent a frame with a masking key (§5.1).
    MaskedFrame,
    /// RSV1, RSV2 or RSV3 was set without an extension that owns the bit (§5.2).
    ReservedBits,
    /// The opcode is one of the reserved values 3–7 or 0xB–0xF (§5.2).
    ReservedOpcode(u8),
    /// A control frame had a payload longer than 125 bytes (§5.5).
    ControlFrameTooLong,
    /// A control frame had FIN clear (§5.5).
    FragmentedControlFrame,
    /// A continuation frame arrived with no message in progress (§5.4).
    UnexpectedContinuation,
    /// A new Text or Binary frame arrived while a fragmented message was in progress (§5.4).
    ExpectedContinuation,
    /// The payload length was not encoded in the minimal number of bytes (§5.2).
    NonMinimalLength,
    /// The most significant bit of a 64-bit payload length was set (§5.2).
    LengthTopBitSet,
    /// A Close frame had a one-byte payload (§5.5.1).
    CloseFrameOneByte,
    /// A Close frame carried a status code that may not be sent (§7.4).
    InvalidCloseCode(u16),
    /// A Close frame's reason was not UTF-8 (§5.5.1); answered with 1007.
    CloseReasonNotUtf8,
    /// An extension rejected a frame (for example a compressed frame that does not inflate).
    Extension(&'static str),
    /// An extension decoded a payload that is inconsistent with its message, for example one
    /// that fails the extension's integrity check (see [`Extension`](crate::Extension));
    /// answered with 1007.
    InvalidExtensionData(&'static str),
}

impl fmt::Display for ProtocolViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnmaskedFrame => f.write_str("client frame is not masked"),
            Self::MaskedFrame => f.write_str("server frame is masked"),
            Self::ReservedBits => f.write_str("reserved bits set without a negotiated extension"),
            Self::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            Self::ControlFrameTooLong => f.write_str("control frame payload longer than 125 bytes"),
            Self::FragmentedControlFrame => f.write_str("fragmented control frame"),
            Self::UnexpectedContinuation => f.write_str("continuation frame without a message in progress"),
            Self::ExpectedContinuation => f.write_str("new data frame inside a fragmented message"),
            Self::NonMinimalLength => f.write_str("payload length not minimally encoded"),
            Self::LengthTopBitSet => f.write_str("64-bit payload length has its top bit set"),
            Self::CloseFrameOneByte => f.write_str("close frame with a one-byte payload"),
            Self::InvalidCloseCode(c) => write!(f, "invalid close code {c}"),
            Self::CloseReasonNotUtf8 => f.write_str("close reason is not UTF-8"),
            Self::Extension(what) => write!(f, "extension error: {what}"),
            Self::InvalidExtensionData(what) => write!(f, "invalid data from extension: {what}"),
        }
    }
}

/// A limit from [`Config`](crate::Config) that the peer went over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// [`Config::max_frame_payload`](crate::Config::max_frame_payload).
    FramePayload,
    /// [`Config::max_message_size`](crate::Config::max_message_size).
    MessageSize,
    /// [`Config::max_fragments`](crate::Config::max_fragments).
    Fragments,
}

/// A mistake by the caller, reported without harming the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Misuse {
    /// Data or a ping was sent after our Close frame.
    SendAfterClose,
    /// A control frame payload longer than 125 bytes was requested.
    ControlPayloadTooLong,
    /// A [`Found`](crate::Found) given to `message` after its receive buffer moved on (asked
    /// for the next message, moved what it keeps to make room, or released): what it pointed
    /// at may have moved.
    StaleFound,
    /// A close code that may not be sent on the wire (see [`CloseCode::is_valid_on_wire`]).
    InvalidCloseCode(u16),
    /// A fragment continued a message of another kind, or a whole message was sent while a
    /// fragmented one was still open.
    MessageInProgress,
    /// Text given as bytes ([`Connection::send`](crate::Connection::send),
    /// [`send_fragment`](crate::Connection::send_fragment),
    /// [`encode_frame_head`](crate::Connection::encode_frame_head)) is not UTF-8: it holds a
    /// byte sequence that no UTF-8 text can hold (found in the piece that brings it, even
    /// when the message goes on), or the message ends in the middle of a character. Nothing
    /// was sent.
    InvalidUtf8,
    /// Data was given with `Role::Client` but no masking key source exists.
    NoKeySource,
    /// A client called a method for unmasked frames; clients mask every frame
    /// ([`Connection::encode_frame_head`](crate::Connection::encode_frame_head) masks in place).
    MaskRequired,
    /// Input was given without a scratch buffer to a connection that
    /// [`needs_scratch`](crate::Connection::needs_scratch) (permessage-deflate in force): give it
    /// input through [`Connection::receive_into`](crate::Connection::receive_into) with a
    /// non-empty scratch buffer for inflated data. Nothing was consumed.
    ScratchRequired,
    /// A [`PreparedMessage`](crate::PreparedMessage) has frames larger than this connection's
    /// [`Config::max_outgoing_frame`](crate::Config::max_outgoing_frame): prepare it with the
    /// configuration the connection was built with. Nothing was sent.
    PreparedFrameTooLarge,
    /// [`Connection::with_extension`](crate::Connection::with_extension) was refused: the
    /// connection already runs an extension that transforms payloads (permessage-deflate or
    /// another; one per connection), or the extension claims a reserved bit that another
    /// extension owns ([`Negotiated::reserved_bits`](crate::handshake::Negotiated::reserved_bits)),
    /// or it claims no reserved bit (or one that is not RSV1, RSV2 or RSV3).
    ExtensionConflict,
}

impl fmt::Display for Misuse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SendAfterClose => f.write_str("cannot send after the close frame was sent"),
            Self::StaleFound => f.write_str("a Found was given to message after its buffer moved on"),
            Self::ControlPayloadTooLong => f.write_str("control frame payload longer than 125 bytes"),
            Self::InvalidCloseCode(c) => write!(f, "close code {c} may not be sent"),
            Self::MessageInProgress => f.write_str("a fragmented message of another kind is in progress"),
            Self::InvalidUtf8 => f.write_str("text message is not valid UTF-8"),
            Self::NoKeySource => f.write_str("no source of masking keys"),
            Self::MaskRequired => f.write_str("a client must mask its frames: use encode_frame_head"),
            Self::ScratchRequired => f.write_str("compressed messages need a scratch buffer: use receive_into"),
            Self::PreparedFrameTooLarge => {
                f.write_str("prepared message's frames exceed this connection's max_outgoing_frame")
            }
            Self::ExtensionConflict => {
                f.write_str("the extension's reserved bits are taken, or the connection already runs an extension")
            }
        }
    }
}

/// Every error the connection reports.
///
/// Errors with [`Error::fault`] `Peer` or `Transport` are *fatal*: the connection has failed, a
/// Close frame with [`Error::close_code`] is queued for [`Connection::poll_transmit`]
/// (when one may still be sent), and every later call returns the same error. Errors with fault
/// `Caller` leave the connection as it was.
///
/// [`Connection::poll_transmit`]: crate::Connection::poll_transmit
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke a rule of RFC 6455 (close code 1002, or 1007 for a close reason that is not
    /// UTF-8 and for [`ProtocolViolation::InvalidExtensionData`]).
    Protocol(ProtocolViolation),
    /// The peer sent text that is not UTF-8 (close code 1007). `offset` is the position of the
    /// first bad byte within the message.
    InvalidUtf8 {
        /// Offset of the first invalid byte from the start of the message.
        offset: u64,
    },
    /// The peer went over a configured limit (close code 1009).
    LimitExceeded(Limit),
    /// The transport ended before the close handshake finished (close code 1006, never sent).
    UnexpectedEof,
    /// A deadline passed: a dead peer (report 1006), an idle connection (close code 1001 sent),
    /// a close handshake that did not finish in time, and in the I/O adapters an opening
    /// handshake that did not finish in time or a write that made no progress.
    Timeout(crate::Timer),
    /// A fixed output buffer cannot hold what must be written; nothing was written.
    BufferTooSmall(BufferTooSmall),
    /// The caller asked for something the protocol or the current state does not allow.
    Misuse(Misuse),
    /// A [`WriteQueue`](crate::WriteQueue) is over its high-water mark: write out and
    /// [`consume`](crate::WriteQueue::consume) some of it, then send again. Nothing was written.
    Backpressure,
    /// Our side failed, not the peer and not the caller: what an
    /// [`Extension`](crate::Extension) returns when it cannot encode or decode a message for a
    /// reason of its own (lost state, an engine error). Close code 1011 (internal error); the
    /// text says what failed.
    Internal(&'static str),
}

impl Error {
    /// Whose fault the error is.
    #[must_use]
    pub const fn fault(&self) -> Fault {
        match self {
            Self::Protocol(_) | Self::InvalidUtf8 { .. } | Self::LimitExceeded(_) => Fault::Peer,
            Self::UnexpectedEof => Fault::Transport,
            Self::Timeout(_) => Fault::Timeout,
            Self::BufferTooSmall(_) | Self::Misuse(_) | Self::Backpressure => Fault::Caller,
            Self::Internal(_) => Fault::Local,
        }
    }

    /// Whether the connection has failed (every later call reports this error again).
    #[must_use]
    pub const fn is_fatal(&self) -> bool {
        !matches!(self.fault(), Fault::Caller)
    }

    /// The close code that answers this error on the wire, if any.
    ///
    /// ```
    /// use wsproto::{CloseCode, Error, Limit};
    /// assert_eq!(Error::LimitExceeded(Limit::MessageSize).close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    /// ```
    #[must_use]
    pub const fn close_code(&self) -> Option<CloseCode> {
        match self {
            Self::Protocol(ProtocolViolation::CloseReasonNotUtf8 | ProtocolViolation::InvalidExtensionData(_))
            | Self::InvalidUtf8 { .. } => Some(CloseCode::INVALID_PAYLOAD),
            Self::Protocol(_) => Some(CloseCode::PROTOCOL_ERROR),
            Self::LimitExceeded(_) => Some(CloseCode::MESSAGE_TOO_BIG),
            Self::Internal(_) => Some(CloseCode::INTERNAL_ERROR),
            Self::Timeout(crate::Timer::Idle) => Some(CloseCode::GOING_AWAY),
            Self::UnexpectedEof | Self::Timeout(_) | Self::BufferTooSmall(_) | Self::Misuse(_) | Self::Backpressure => {
                None
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(v) => write!(f, "peer protocol violation: {v}"),
            Self::InvalidUtf8 { offset } => write!(f, "peer sent invalid UTF-8 at message offset {offset}"),
            Self::LimitExceeded(l) => write!(f, "peer exceeded limit {l:?}"),
            Self::UnexpectedEof => f.write_str("transport closed before the close handshake finished"),
            Self::Timeout(t) => write!(f, "deadline passed: {t:?}"),
            Self::BufferTooSmall(too_small) => fmt::Display::fmt(too_small, f),
            Self::Misuse(m) => write!(f, "API misuse: {m}"),
            Self::Backpressure => f.write_str("output queue over its high-water mark"),
            Self::Internal(what) => write!(f, "internal error: {what}"),
        }
    }
}

impl core::error::Error for Error {}

impl From<ProtocolViolation> for Error {
    fn from(v: ProtocolViolation) -> Self {
        Self::Protocol(v)
    }
}

impl From<BufferTooSmall> for Error {
    fn from(too_small: BufferTooSmall) -> Self {
        Self::BufferTooSmall(too_small)
    }
}

impl From<Misuse> for Error {
    fn from(m: Misuse) -> Self {
        Self::Misuse(m)
    }
}
