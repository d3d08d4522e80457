//! A whole message, as [`MessageAssembler`](crate::MessageAssembler) and the receive buffers
//! ([`ReceiveBuffer`](crate::ReceiveBuffer), [`SliceReceiveBuffer`](crate::SliceReceiveBuffer))
//! lend it.

use crate::{CloseFrame, ControlPayload};

/// A whole message, or a control frame passed through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message<'a> {
    /// A complete text message.
    Text(&'a str),
    /// A complete binary message.
    Binary(&'a [u8]),
    /// A Ping (already answered when auto-pong is on).
    Ping(ControlPayload),
    /// A Pong.
    Pong(ControlPayload),
    /// The peer's Close frame.
    Close(CloseFrame),
}
