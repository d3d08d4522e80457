//! The error type of the I/O adapters.

use std::boxed::Box;
use std::io;

/// An error from an adapter: the transport, the protocol, or the end of the connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum WsError {
    /// The transport failed.
    Io(io::Error),
    /// The protocol failed (see [`crate::Error::fault`] and [`crate::Error::close_code`]); the
    /// Close frame that answers it was sent when possible.
    Protocol(crate::Error),
    /// The opening handshake failed (a server has sent the response that answers it).
    Handshake(crate::handshake::HandshakeError),
    /// The handshake ended with a response other than 101: the server's answer to our request
    /// (a client), or the rejection we sent (a server).
    Rejected(Box<crate::handshake::HttpResponse>),
    /// A server received a plain HTTP request, not a WebSocket upgrade; it answered 426
    /// Upgrade Required. To serve plain HTTP on the same port, use the async adapters'
    /// `accept_or_http` (the request comes back with its stream) or
    /// [`ServerHandshake`](crate::handshake::ServerHandshake) directly.
    NotWebSocket(Box<crate::handshake::HttpRequest>),
    /// The connection is over: the close handshake finished (the peer's Close frame was
    /// reported earlier as [`Message::Close`](crate::Message::Close)) or the peer closed the
    /// transport after it; there is nothing more to read.
    Closed,
}

impl core::fmt::Display for WsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "transport error: {e}"),
            Self::Protocol(e) => write!(f, "{e}"),
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
            Self::Rejected(r) => write!(f, "handshake rejected with status {}", r.status),
            Self::NotWebSocket(r) => write!(f, "not a WebSocket request: {} {}", r.method, r.path),
            Self::Closed => f.write_str("connection closed"),
        }
    }
}

impl core::error::Error for WsError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Protocol(e) => Some(e),
            Self::Handshake(e) => Some(e),
            Self::Closed | Self::Rejected(_) | Self::NotWebSocket(_) => None,
        }
    }
}

impl From<io::Error> for WsError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<crate::Error> for WsError {
    fn from(e: crate::Error) -> Self {
        Self::Protocol(e)
    }
}

impl From<crate::handshake::HandshakeError> for WsError {
    fn from(e: crate::handshake::HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

/// Why the transport can take no more frames: a write failed or made no progress. Sticky:
/// once recorded, every later operation reports it again, because a frame may have been cut
/// short and nothing written after it could be read as WebSocket frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WriteFailure {
    /// The write failed with this error.
    Io(io::ErrorKind),
    /// The write made no progress for [`Config::write_timeout`](crate::Config::write_timeout).
    Stalled,
}

impl WriteFailure {
    /// The failure a write error means.
    pub(crate) fn of(e: &WsError) -> Option<Self> {
        match e {
            WsError::Io(e) => Some(Self::Io(e.kind())),
            WsError::Protocol(crate::Error::Timeout(crate::Timer::Write)) => Some(Self::Stalled),
            _ => None,
        }
    }

    /// The error to report.
    pub(crate) fn error(self) -> WsError {
        match self {
            Self::Io(kind) => WsError::Io(kind.into()),
            Self::Stalled => WsError::Protocol(crate::Error::Timeout(crate::Timer::Write)),
        }
    }
}
