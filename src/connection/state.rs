//! The close handshake as a small state table (RFC 6455 §7).
//!
//! | state | close sent | close received | failed | data may be sent | frames are read |
//! |---|---|---|---|---|---|
//! | `Open` | no | no | no | yes | yes |
//! | `ClosingLocal` | yes | no | no | no | yes |
//! | `ClosingRemote` | no | yes | no | yes | no |
//! | `Closed` | yes | yes | no | no | no |
//! | `Failed` | — | — | yes | no | no (the error repeats) |
//!
//! | event | from | to |
//! |---|---|---|
//! | we send or queue a Close | `Open` | `ClosingLocal` |
//! | we send or queue a Close | `ClosingRemote` | `Closed` |
//! | a Close arrives, auto-reply on | `Open` | `Closed` (reply queued) |
//! | a Close arrives, auto-reply off | `Open` | `ClosingRemote` |
//! | a Close arrives | `ClosingLocal` | `Closed` |
//! | a peer violation or end of input before a Close arrived | any but `Closed` | `Failed` |

use crate::{Error, Role};

/// Where a connection is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Data flows both ways.
    Open,
    /// We sent (or queued) a Close frame and wait for the peer's. Received data is still
    /// delivered; we may not send data.
    ClosingLocal,
    /// The peer sent a Close frame that we have not answered (only with
    /// [`Config::auto_close_reply`](crate::Config::auto_close_reply) off). We may finish sending
    /// and must then call [`Connection::close`](crate::Connection::close).
    ClosingRemote,
    /// Both Close frames have been exchanged.
    Closed,
    /// The connection failed; [`Connection::error`](crate::Connection::error) says why.
    Failed,
}

/// What the caller should do with the transport (TCP connection) now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportAction {
    /// Keep the transport open: keep reading, and write what the connection produces.
    Continue,
    /// Write out everything already produced (including [`Connection::poll_transmit`](crate::Connection::poll_transmit)),
    /// then close the transport. Given to a server once the close handshake is done (RFC 6455
    /// §7.1.1: the server closes TCP first), and to either role after a failure or end of input.
    Close,
    /// A client whose close handshake is done: write out what was produced, then wait for the
    /// server to close the transport (read until end of input), and close it yourself if that
    /// takes longer than a timeout ([`SUGGESTED_CLOSE_TIMEOUT`] is a sensible one).
    AwaitPeerClose,
}

/// A sensible time for a client to wait for the server to close TCP, and for either side to
/// wait for the peer's Close frame, before giving up on the transport.
pub const SUGGESTED_CLOSE_TIMEOUT: core::time::Duration = core::time::Duration::from_secs(5);

/// The close-handshake bookkeeping.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CloseState {
    pub(crate) sent: bool,
    pub(crate) received: bool,
    pub(crate) failed: Option<Error>,
    pub(crate) eof: bool,
}

impl CloseState {
    pub(crate) fn state(&self) -> State {
        match (self.failed.is_some(), self.sent, self.received) {
            (true, _, _) => State::Failed,
            (false, false, false) => State::Open,
            (false, true, false) => State::ClosingLocal,
            (false, false, true) => State::ClosingRemote,
            (false, true, true) => State::Closed,
        }
    }

    pub(crate) fn transport_action(&self, role: Role, output_pending: bool, gave_up: bool) -> TransportAction {
        if output_pending {
            return TransportAction::Continue;
        }
        match self.state() {
            State::Failed => TransportAction::Close,
            State::Closed if self.eof || gave_up => TransportAction::Close,
            State::Closed => match role {
                Role::Server => TransportAction::Close,
                Role::Client => TransportAction::AwaitPeerClose,
            },
            State::ClosingRemote if self.eof => TransportAction::Close,
            _ => TransportAction::Continue,
        }
    }
}
