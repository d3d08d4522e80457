//! What can go wrong in the opening handshake, and which HTTP status answers it.

use core::fmt;

use crate::{BufferTooSmall, Fault};

/// Every error of the opening handshake. Distinct from [`crate::Error`], which is about frames
/// after the handshake.
///
/// [`fault`](Self::fault) says whose fault it is (the peer's, or the caller's for bad input to a
/// builder). [`status_hint`](Self::status_hint) is the HTTP status a server answers it with
/// (400, 405, 426, 431, …), and [`response`](Self::response) /
/// [`write_response`](Self::write_response) make that answer. Errors that only a client finds, in
/// a server's response, suggest 502 (what a gateway would answer its own client); errors of the
/// caller suggest 500.
///
/// ```
/// use wsproto::handshake::{HandshakeError, ServerHandshake, ServerStatus};
/// let mut reader = ServerHandshake::new();
/// let request = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Version: 8\r\n\r\n";
/// let err = reader.feed(request).unwrap_err();
/// assert_eq!(err, HandshakeError::UnsupportedVersion);
/// assert_eq!(err.status_hint(), 426);
/// let mut out = Vec::new();
/// err.write_response(&mut out).unwrap();
/// assert!(out.starts_with(b"HTTP/1.1 426 Upgrade Required\r\n"));
/// assert!(out.windows(25).any(|w| w == b"Sec-WebSocket-Version: 13"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The bytes are not a valid HTTP/1.x request or response head (bad request line, header
    /// name, line ending, …), or an extended CONNECT field list breaks the rules of HTTP/2 and
    /// HTTP/3 (pseudo-header fields, connection-specific fields, …). Status 400.
    MalformedHttp(&'static str),
    /// The head (request or status line and headers) did not end within `limit` bytes. Status
    /// 431.
    HeadTooLarge {
        /// The configured size limit, in bytes.
        limit: usize,
    },
    /// The head has more than `limit` header lines. Status 431.
    TooManyHeaders {
        /// The configured limit on header lines.
        limit: usize,
    },
    /// A WebSocket upgrade request used a method other than `GET`. Status 405.
    MethodNotAllowed,
    /// A WebSocket upgrade request, or a 101 response, was not HTTP/1.1. Status 400.
    HttpVersion,
    /// A header field the handshake requires is missing (its name is given). Status 400.
    MissingHeader(&'static str),
    /// A header field that may appear only once appeared on several lines (its name is given).
    /// Status 400.
    DuplicateHeader(&'static str),
    /// The `Upgrade` header field does not list `websocket`. Status 400.
    UpgradeNotWebSocket,
    /// The `Connection` header field does not list `upgrade`. Status 400.
    ConnectionNotUpgrade,
    /// `Sec-WebSocket-Key` is not the base64 encoding of exactly 16 bytes. Status 400.
    InvalidKey,
    /// `Sec-WebSocket-Version` is missing or is not `13`. Status 426; the
    /// [`response`](Self::response) carries `Sec-WebSocket-Version: 13`. (Over extended CONNECT
    /// 400, see [`extended_connect::error_response`](super::extended_connect::error_response).)
    UnsupportedVersion,
    /// `Sec-WebSocket-Protocol` is not a list of tokens (in a request) or not a single token (in a
    /// response). Status 400.
    InvalidProtocols,
    /// A request lists more than [`MAX_PROTOCOLS`](super::MAX_PROTOCOLS) subprotocols in its
    /// `Sec-WebSocket-Protocol` lines. Status 400.
    TooManyProtocols {
        /// The cap on subprotocols.
        limit: usize,
    },
    /// `Sec-WebSocket-Extensions` does not follow the grammar of RFC 6455 §9.1, or holds more
    /// extensions or parameters than a reader takes
    /// ([`MAX_EXTENSION_OFFERS`](super::MAX_EXTENSION_OFFERS),
    /// [`MAX_EXTENSION_PARAMS`](super::MAX_EXTENSION_PARAMS)); what is wrong is given. Status
    /// 400.
    InvalidExtensions(&'static str),
    /// The server's `Sec-WebSocket-Accept` does not match the key the client sent. Status 502.
    AcceptMismatch,
    /// The server selected a subprotocol the client did not offer. Status 502.
    UnofferedProtocol,
    /// The server accepted an extension the client did not offer, or accepted one extension
    /// twice. Status 502.
    UnofferedExtension,
    /// A caller-supplied URI is not a valid `ws://` or `wss://` URI (what is wrong is given).
    /// Caller fault, status 500.
    InvalidUri(&'static str),
    /// A caller-supplied value cannot be written: a header name that is not a token, a value with
    /// a control character, a subprotocol or extension that was not offered, a status code out of
    /// range, … (what is wrong is given). Caller fault, status 500.
    InvalidInput(&'static str),
    /// A fixed output buffer cannot hold the request or response; nothing was written. Caller
    /// fault, status 500.
    BufferTooSmall(BufferTooSmall),
    /// A client request was written without a [`KeySource`](crate::KeySource) (feature
    /// `getrandom` is off and none was given). Caller fault, status 500.
    NoKeySource,
    /// A reader that already returned a final result was fed again. Caller fault, status 500.
    Finished,
}

impl HandshakeError {
    /// Whose fault the error is: [`Fault::Peer`] for what the remote endpoint sent,
    /// [`Fault::Caller`] for bad input from the application.
    #[must_use]
    pub const fn fault(&self) -> Fault {
        match self {
            Self::InvalidUri(_)
            | Self::InvalidInput(_)
            | Self::BufferTooSmall(_)
            | Self::NoKeySource
            | Self::Finished => Fault::Caller,
            _ => Fault::Peer,
        }
    }

    /// The HTTP status a server answers this error with.
    ///
    /// ```
    /// use wsproto::handshake::HandshakeError;
    /// assert_eq!(HandshakeError::DuplicateHeader("Sec-WebSocket-Key").status_hint(), 400);
    /// assert_eq!(HandshakeError::HeadTooLarge { limit: 8192 }.status_hint(), 431);
    /// ```
    #[must_use]
    pub const fn status_hint(&self) -> u16 {
        match self {
            Self::MalformedHttp(_)
            | Self::HttpVersion
            | Self::MissingHeader(_)
            | Self::DuplicateHeader(_)
            | Self::UpgradeNotWebSocket
            | Self::ConnectionNotUpgrade
            | Self::InvalidKey
            | Self::InvalidProtocols
            | Self::TooManyProtocols { .. }
            | Self::InvalidExtensions(_) => 400,
            Self::MethodNotAllowed => 405,
            Self::UnsupportedVersion => 426,
            Self::HeadTooLarge { .. } | Self::TooManyHeaders { .. } => 431,
            Self::AcceptMismatch | Self::UnofferedProtocol | Self::UnofferedExtension => 502,
            Self::InvalidUri(_)
            | Self::InvalidInput(_)
            | Self::BufferTooSmall(_)
            | Self::NoKeySource
            | Self::Finished => 500,
        }
    }

    /// The ready-made HTTP response for this error: status [`status_hint`](Self::status_hint),
    /// `Connection: close`, a short plain-text body saying what went wrong, and the headers the
    /// status calls for (`Sec-WebSocket-Version: 13` and `Upgrade: websocket` with 426,
    /// `Allow: GET` with 405). Add headers to it before writing it if you need to.
    #[must_use]
    pub fn response(&self) -> super::HttpResponse {
        use alloc::string::ToString as _;
        let mut response = super::HttpResponse::new(self.status_hint()).with_header("Connection", "close");
        match self {
            Self::UnsupportedVersion => {
                response = response.with_header("Upgrade", "websocket").with_header("Sec-WebSocket-Version", "13");
            }
            Self::MethodNotAllowed => response = response.with_header("Allow", "GET"),
            _ => {}
        }
        let mut body = self.to_string();
        body.push('\n');
        response.with_header("Content-Type", "text/plain; charset=utf-8").with_body(body)
    }

    /// Writes [`response`](Self::response) into `out`.
    ///
    /// # Errors
    /// [`HandshakeError::BufferTooSmall`] when a fixed buffer cannot hold it (nothing is written).
    pub fn write_response(&self, out: &mut impl crate::OutBuf) -> Result<(), HandshakeError> {
        self.response().write(out)
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedHttp(what) => write!(f, "malformed HTTP: {what}"),
            Self::HeadTooLarge { limit } => write!(f, "HTTP head larger than {limit} bytes"),
            Self::TooManyHeaders { limit } => write!(f, "more than {limit} header fields"),
            Self::MethodNotAllowed => f.write_str("a WebSocket upgrade must use GET"),
            Self::HttpVersion => f.write_str("a WebSocket handshake must use HTTP/1.1"),
            Self::MissingHeader(name) => write!(f, "missing header field {name}"),
            Self::DuplicateHeader(name) => write!(f, "header field {name} appears more than once"),
            Self::UpgradeNotWebSocket => f.write_str("Upgrade header field does not list websocket"),
            Self::ConnectionNotUpgrade => f.write_str("Connection header field does not list upgrade"),
            Self::InvalidKey => f.write_str("Sec-WebSocket-Key is not base64 of 16 bytes"),
            Self::UnsupportedVersion => f.write_str("Sec-WebSocket-Version must be 13"),
            Self::InvalidProtocols => f.write_str("malformed Sec-WebSocket-Protocol"),
            Self::TooManyProtocols { limit } => write!(f, "more than {limit} subprotocols in Sec-WebSocket-Protocol"),
            Self::InvalidExtensions(what) => write!(f, "malformed Sec-WebSocket-Extensions: {what}"),
            Self::AcceptMismatch => f.write_str("Sec-WebSocket-Accept does not match the key sent"),
            Self::UnofferedProtocol => f.write_str("server selected a subprotocol that was not offered"),
            Self::UnofferedExtension => f.write_str("server accepted an extension that was not offered"),
            Self::InvalidUri(what) => write!(f, "invalid WebSocket URI: {what}"),
            Self::InvalidInput(what) => write!(f, "invalid handshake input: {what}"),
            Self::BufferTooSmall(too_small) => fmt::Display::fmt(too_small, f),
            Self::NoKeySource => f.write_str("no key source for the Sec-WebSocket-Key nonce"),
            Self::Finished => f.write_str("the handshake reader already returned its result"),
        }
    }
}

impl core::error::Error for HandshakeError {}

impl From<BufferTooSmall> for HandshakeError {
    fn from(too_small: BufferTooSmall) -> Self {
        Self::BufferTooSmall(too_small)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString as _;

    #[test]
    fn hints_and_faults() {
        assert_eq!(HandshakeError::MethodNotAllowed.status_hint(), 405);
        assert_eq!(HandshakeError::UnsupportedVersion.status_hint(), 426);
        assert_eq!(HandshakeError::TooManyHeaders { limit: 1 }.status_hint(), 431);
        assert_eq!(HandshakeError::TooManyProtocols { limit: 32 }.status_hint(), 400);
        assert_eq!(HandshakeError::TooManyProtocols { limit: 32 }.fault(), Fault::Peer);
        assert_eq!(
            HandshakeError::TooManyProtocols { limit: 32 }.to_string(),
            "more than 32 subprotocols in Sec-WebSocket-Protocol"
        );
        assert_eq!(HandshakeError::AcceptMismatch.status_hint(), 502);
        assert_eq!(HandshakeError::InvalidInput("x").fault(), Fault::Caller);
        assert_eq!(HandshakeError::InvalidInput("x").status_hint(), 500);
        assert_eq!(HandshakeError::InvalidKey.fault(), Fault::Peer);
        assert_eq!(HandshakeError::Finished.fault(), Fault::Caller);
        assert_eq!(HandshakeError::DuplicateHeader("Host").to_string(), "header field Host appears more than once");
    }

    #[test]
    fn ready_made_responses() {
        let r = HandshakeError::MethodNotAllowed.response();
        assert_eq!(r.status, 405);
        assert_eq!(r.headers.get("Allow"), Some(&b"GET"[..]));
        let r = HandshakeError::InvalidKey.response();
        assert_eq!(r.status, 400);
        assert_eq!(r.reason, "Bad Request");
        assert_eq!(r.headers.get("connection"), Some(&b"close"[..]));
        assert!(r.body.starts_with(b"Sec-WebSocket-Key"));
        let mut out = alloc::vec::Vec::new();
        HandshakeError::HeadTooLarge { limit: 10 }.write_response(&mut out).unwrap();
        assert!(out.starts_with(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    }
}
