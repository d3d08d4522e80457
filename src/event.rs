//! What the connection reports after reading input.

use crate::{CloseFrame, ControlPayload};

/// The kind of a data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text (opcode 0x1). Received text is validated before it is handed out.
    Text,
    /// Arbitrary bytes (opcode 0x2).
    Binary,
}

/// One thing the peer sent, lent by [`Connection::receive`](crate::Connection::receive).
///
/// Data is delivered as it arrives: a message may come as many [`Event::Data`] pieces, the
/// first with `first == true` and the last with `last == true` (a message that arrived whole
/// in one read is one piece with both set). The bytes are the caller's own input buffer,
/// unmasked in place: nothing is copied and nothing is allocated. To get whole messages, pass
/// the events to a [`MessageAssembler`](crate::MessageAssembler).
///
/// Control frame payloads are copied (they are at most 125 bytes), so they do not borrow the
/// input buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A piece of a data message. Text pieces are valid UTF-8 *up to the last complete
    /// character*: a character split between two pieces is checked when its last byte
    /// arrives, and the message as a whole is valid UTF-8 when its last piece is handed out.
    ///
    /// A text message that comes whole in one piece (`first && last`) is also lent as
    /// `text`, the `&str` that the connection's one UTF-8 check of it returned, so that
    /// nobody has to check it again.
    Data {
        /// Text or binary, as set by the message's first frame.
        kind: MessageKind,
        /// The payload bytes, unmasked, borrowed from the input buffer.
        data: &'a [u8],
        /// Whether this is the first piece of the message.
        first: bool,
        /// Whether this is the last piece of the message.
        last: bool,
        /// The same bytes as `data`, as text: `Some` exactly when `kind` is
        /// [`MessageKind::Text`] and the piece is the whole message (`first && last`);
        /// `None` for binary data and for pieces of a message that came in several pieces.
        text: Option<&'a str>,
    },
    /// The peer sent a Ping. With [`Config::auto_pong`](crate::Config::auto_pong) on (the
    /// default) a Pong is already queued for [`Connection::poll_transmit`](crate::Connection::poll_transmit).
    Ping(ControlPayload),
    /// The peer sent a Pong.
    Pong(ControlPayload),
    /// The peer sent a Close frame. With [`Config::auto_close_reply`](crate::Config::auto_close_reply)
    /// on (the default), the reply is queued for [`Connection::poll_transmit`](crate::Connection::poll_transmit)
    /// if we had not sent a Close frame already. Nothing after it is read.
    Close(CloseFrame),
}

/// The result of one call to [`Connection::receive`](crate::Connection::receive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "the consumed count says where the next call must start"]
pub struct Received<'a> {
    /// How many bytes from the front of the input were used. Call again with the input after
    /// them.
    pub consumed: usize,
    /// The event, or `None` when all the input was consumed and more bytes are needed (never
    /// an error: partial frames are kept inside the connection).
    pub event: Option<Event<'a>>,
}
