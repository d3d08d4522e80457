//! The server side: the HTTP/1.1 request reader, the upgrade request (shared with extended
//! CONNECT), and the accept or reject response.

use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::extensions::ExtensionOffer;
use super::headers::{Headers, check_extra, single, trim_ows};
use super::http::{HeadBuffer, HttpRequest, HttpResponse, parse_request, write_all};
use super::negotiate::{FieldNames, read_offer};
use super::{Accept, DEFAULT_MAX_HEADERS, HandshakeError, Negotiated, accept_key};
use crate::OutBuf;

/// The default limit on the size of a request head read by [`ServerHandshake`]: 8 KiB.
pub const DEFAULT_MAX_REQUEST_SIZE: usize = 8 * 1024;

/// Header fields the 101 response writer sets itself; extra headers may not repeat them.
const SERVER_MANAGED: [&str; 6] = [
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Content-Length",
];

/// Reads a client's opening handshake request (RFC 6455 §4.2.1) from bytes that arrive in
/// pieces, and tells an upgrade request from a plain HTTP request.
///
/// * A request that asks for no WebSocket upgrade (no `Upgrade: websocket` and no
///   `Sec-WebSocket-Key` or `Sec-WebSocket-Version`) is handed back as
///   [`ServerStatus::Http`]: one port can serve HTTP and WebSocket.
/// * A WebSocket upgrade request is checked (method `GET`, HTTP/1.1, one `Host`,
///   `Upgrade: websocket`, `Connection: upgrade`, a `Sec-WebSocket-Key` that is base64 of 16
///   bytes, `Sec-WebSocket-Version: 13`, well-formed subprotocol and extension lists) and
///   handed back as [`ServerStatus::Upgrade`]; the caller inspects it and calls
///   [`UpgradeRequest::accept`] or [`UpgradeRequest::reject`].
/// * Anything else is a [`HandshakeError`]: answer it with
///   [`HandshakeError::write_response`] and close the transport.
///
/// After a request is handed back (or an error), the reader is empty again, holds no memory,
/// and can read the next request on the same connection (feed it the bytes from `leftover` on,
/// once any body has been consumed).
///
/// Limits: the head may be at most [`with_max_request_size`](Self::with_max_request_size)
/// bytes (431), with at most [`with_max_headers`](Self::with_max_headers) header lines (431),
/// after at most 8 empty lines (400, RFC 9112 §2.2); an upgrade request may offer at most
/// [`MAX_PROTOCOLS`](super::MAX_PROTOCOLS) subprotocols,
/// [`MAX_EXTENSION_OFFERS`](super::MAX_EXTENSION_OFFERS) extensions and
/// [`MAX_EXTENSION_PARAMS`](super::MAX_EXTENSION_PARAMS) extension parameters (400). The cost is linear in the bytes fed
/// however they are cut: the head is parsed when the request line ends, and again only when an
/// empty line ends (the head may be complete), a header line past the limit ends, or the size
/// limit is reached. So a malformed request line is refused as soon as it ends, and any other
/// malformed line when the head ends. With the default limits a request holds at most about
/// twice the size limit plus 11 KiB of memory while it is read and answered.
///
/// ```
/// use wsproto::handshake::{Accept, ServerHandshake, ServerStatus};
///
/// let mut reader = ServerHandshake::new();
/// let request = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
///     Sec-WebSocket-Version: 13\r\n\r\n";
/// let (a, b) = request.split_at(40);
/// assert!(matches!(reader.feed(a)?, ServerStatus::NeedMore));
/// let ServerStatus::Upgrade(upgrade) = reader.feed(b)? else { panic!() };
/// assert_eq!(upgrade.path(), "/chat");
/// assert_eq!(upgrade.origin(), Some("http://example.com"));
/// assert_eq!(upgrade.protocols(), ["chat", "superchat"]);
///
/// let mut out = Vec::new();
/// let negotiated = upgrade.accept(&Accept::new().with_protocol("chat"), &mut out)?;
/// assert_eq!(negotiated.protocol.as_deref(), Some("chat"));
/// assert_eq!(
///     out,
///     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///       Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
/// );
/// # Ok::<(), wsproto::handshake::HandshakeError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ServerHandshake {
    head: HeadBuffer,
    max_headers: usize,
}

impl Default for ServerHandshake {
    fn default() -> Self {
        Self::new()
    }
}

/// What [`ServerHandshake::feed`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerStatus {
    /// The request head has not ended yet: read more bytes and feed them.
    NeedMore,
    /// A valid WebSocket upgrade request: accept or reject it.
    Upgrade(UpgradeRequest),
    /// A plain HTTP request (no WebSocket upgrade asked for), handed back to be served as HTTP.
    Http(HttpRequest),
}

impl ServerHandshake {
    /// A reader with the default limits ([`DEFAULT_MAX_REQUEST_SIZE`],
    /// [`DEFAULT_MAX_HEADERS`](super::DEFAULT_MAX_HEADERS)).
    #[must_use]
    pub const fn new() -> Self {
        Self { head: HeadBuffer::new(DEFAULT_MAX_REQUEST_SIZE), max_headers: DEFAULT_MAX_HEADERS }
    }

    /// Sets the largest request head accepted; a longer one is
    /// [`HandshakeError::HeadTooLarge`] (status 431).
    #[must_use]
    pub fn with_max_request_size(mut self, bytes: usize) -> Self {
        self.head.set_limit(bytes);
        self
    }

    /// Sets the most header lines accepted; more is [`HandshakeError::TooManyHeaders`]
    /// (status 431).
    #[must_use]
    pub fn with_max_headers(mut self, headers: usize) -> Self {
        self.max_headers = headers;
        self
    }

    /// Feeds bytes read from the transport. At most the size limit is copied; the offset of the
    /// bytes after the head is given in the result (`leftover`).
    ///
    /// # Errors
    /// A [`HandshakeError`] whose [`status_hint`](HandshakeError::status_hint) is the answer
    /// (400, 405, 426, 431): write [`HandshakeError::write_response`], then close the
    /// transport.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<ServerStatus, HandshakeError> {
        let Some((mut request, leftover)) = self.head.feed(bytes, self.max_headers, parse_request)? else {
            return Ok(ServerStatus::NeedMore);
        };
        request.leftover = leftover;
        classify(request)
    }
}

/// Hands back a plain request, or checks an upgrade request: the one implementation of
/// RFC 6455 §4.2.1's checks, for requests read from bytes and for `http` types (feature `http`).
pub(crate) fn classify(request: HttpRequest) -> Result<ServerStatus, HandshakeError> {
    let h = &request.headers;
    let wants_websocket =
        h.has_token("Upgrade", "websocket") || h.contains("Sec-WebSocket-Key") || h.contains("Sec-WebSocket-Version");
    if !wants_websocket {
        return Ok(ServerStatus::Http(request));
    }
    if request.method != "GET" {
        return Err(HandshakeError::MethodNotAllowed);
    }
    if request.version != 1 {
        return Err(HandshakeError::HttpVersion);
    }
    single(h, "Host")?.ok_or(HandshakeError::MissingHeader("Host"))?;
    if !h.contains("Upgrade") {
        return Err(HandshakeError::MissingHeader("Upgrade"));
    }
    if !h.has_token("Upgrade", "websocket") {
        return Err(HandshakeError::UpgradeNotWebSocket);
    }
    if !h.contains("Connection") {
        return Err(HandshakeError::MissingHeader("Connection"));
    }
    if !h.has_token("Connection", "upgrade") {
        return Err(HandshakeError::ConnectionNotUpgrade);
    }
    let key = single(h, "Sec-WebSocket-Key")?.ok_or(HandshakeError::MissingHeader("Sec-WebSocket-Key"))?;
    let key = valid_key(trim_ows(key)).ok_or(HandshakeError::InvalidKey)?;
    let (protocols, extensions) = read_offer(h, &FieldNames::HTTP1)?;
    let HttpRequest { path, headers, leftover, .. } = request;
    Ok(ServerStatus::Upgrade(UpgradeRequest { path, headers, leftover, key: Some(key), protocols, extensions }))
}

/// The key if it is base64 of exactly 16 bytes (24 characters, canonical padding).
fn valid_key(key: &[u8]) -> Option<[u8; 24]> {
    let key: [u8; 24] = key.try_into().ok()?;
    let mut decoded = [0u8; 24];
    matches!(STANDARD.decode_slice(key, &mut decoded), Ok(16)).then_some(key)
}

/// A valid request to open a WebSocket, handed to the caller to accept or reject: an HTTP/1.1
/// upgrade request read by [`ServerHandshake`], or an extended CONNECT request (HTTP/2, HTTP/3)
/// read by [`extended_connect::parse_request`](super::extended_connect::parse_request).
///
/// Inspect what matters to you ([`path`](Self::path), [`origin`](Self::origin), cookies and any
/// other header through [`headers`](Self::headers), [`protocols`](Self::protocols),
/// [`extensions`](Self::extensions)); the same code serves both transports. Then answer: over
/// HTTP/1.1 with [`accept`](Self::accept) or [`reject`](Self::reject), over extended CONNECT
/// with [`extended_connect::accept`](super::extended_connect::accept) or any other response
/// through the HTTP/2 or HTTP/3 stack. Either way the choice is an [`Accept`] and the outcome a
/// [`Negotiated`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpgradeRequest {
    pub(crate) path: String,
    pub(crate) headers: Headers,
    pub(crate) leftover: usize,
    /// `Sec-WebSocket-Key`: HTTP/1.1 only.
    pub(crate) key: Option<[u8; 24]>,
    pub(crate) protocols: Vec<String>,
    pub(crate) extensions: Vec<ExtensionOffer>,
}

impl UpgradeRequest {
    /// The request target: path and query, such as `/chat?room=1` (the `:path` over extended
    /// CONNECT).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Every header line as received. Over extended CONNECT: every field, the pseudo-header
    /// fields first (`:method CONNECT`, `:protocol websocket`, `:scheme` in lowercase, `:path`,
    /// `:authority`).
    #[must_use]
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The host the request is for, if it is UTF-8: the `Host` header value, or over extended
    /// CONNECT the `:authority`.
    #[must_use]
    pub fn host(&self) -> Option<&str> {
        self.headers.get_str(":authority").or_else(|| self.headers.get_str("Host"))
    }

    /// The `Origin` header value (sent by browsers), if present and UTF-8.
    #[must_use]
    pub fn origin(&self) -> Option<&str> {
        self.headers.get_str("Origin")
    }

    /// The `Sec-WebSocket-Key` sent; `None` over extended CONNECT, which has no key.
    #[must_use]
    pub fn key(&self) -> Option<&str> {
        self.key.as_ref().and_then(|k| core::str::from_utf8(k).ok())
    }

    /// The subprotocols offered, in the client's order of preference (at most
    /// [`MAX_PROTOCOLS`](super::MAX_PROTOCOLS)).
    #[must_use]
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The extensions offered, in order (one extension may be offered several times; at most
    /// [`MAX_EXTENSION_OFFERS`](super::MAX_EXTENSION_OFFERS), with at most
    /// [`MAX_EXTENSION_PARAMS`](super::MAX_EXTENSION_PARAMS) parameters in all).
    #[must_use]
    pub fn extensions(&self) -> &[ExtensionOffer] {
        &self.extensions
    }

    /// Offset into the input of the [`ServerHandshake::feed`] call that completed the request,
    /// where the bytes after the head start. A client may send frames right after its request;
    /// after accepting, pass these bytes to [`Connection::receive`](crate::Connection::receive)
    /// before anything read later. Always 0 over extended CONNECT.
    #[must_use]
    pub fn leftover(&self) -> usize {
        self.leftover
    }

    /// The first offered subprotocol, in the client's order of preference, that is in
    /// `supported`.
    #[must_use]
    pub fn select_protocol(&self, supported: &[&str]) -> Option<&str> {
        self.protocols.iter().map(String::as_str).find(|p| supported.contains(p))
    }

    /// Accepts an HTTP/1.1 upgrade: writes the 101 response (with `Sec-WebSocket-Accept`, the
    /// chosen subprotocol, the accepted extensions and the extra headers of `accept`) into
    /// `out`, and returns what was negotiated for
    /// [`Connection::with_negotiated`](crate::Connection::with_negotiated).
    ///
    /// # Errors
    /// [`HandshakeError::InvalidInput`] when the subprotocol or an extension was not offered, an
    /// extension is accepted twice, an extra header is invalid or set by this method, or the
    /// request came over extended CONNECT (accept it with
    /// [`extended_connect::accept`](super::extended_connect::accept));
    /// [`HandshakeError::BufferTooSmall`] when a fixed buffer cannot hold the response. Nothing
    /// is written on error, and the request can be accepted or rejected again.
    pub fn accept(&self, accept: &Accept, out: &mut impl OutBuf) -> Result<Negotiated, HandshakeError> {
        let (response, negotiated) = self.switching_protocols(accept)?;
        let mut buf = Vec::with_capacity(256);
        response.write_head_into(&mut buf, &Headers::new())?;
        write_all(out, &buf)?;
        Ok(negotiated)
    }

    /// The 101 response that accepts an HTTP/1.1 upgrade as `accept` says (its headers checked
    /// for writing), and what was negotiated: shared by [`accept`](Self::accept) and the `http`
    /// types' path.
    pub(crate) fn switching_protocols(&self, accept: &Accept) -> Result<(HttpResponse, Negotiated), HandshakeError> {
        let key = self.http1_key()?;
        let mut headers = Headers::new()
            .with("Upgrade", "websocket")
            .with("Connection", "Upgrade")
            .with("Sec-WebSocket-Accept", accept_key(key).as_str());
        let negotiated = accept.negotiate(&self.protocols, &self.extensions, &FieldNames::HTTP1, &mut headers)?;
        check_extra(accept.headers(), &SERVER_MANAGED)?;
        headers.append(accept.headers().clone());
        headers.validate()?;
        let response =
            HttpResponse { status: 101, reason: String::from("Switching Protocols"), headers, body: Vec::new() };
        Ok((response, negotiated))
    }

    /// Checks a rejection of an HTTP/1.1 upgrade (see [`reject`](Self::reject)).
    pub(crate) fn check_rejection(&self, response: &HttpResponse) -> Result<(), HandshakeError> {
        self.http1_key()?;
        if response.status < 200 {
            return Err(HandshakeError::InvalidInput("a rejection needs a final status (200-999)"));
        }
        Ok(())
    }

    /// Rejects an HTTP/1.1 upgrade: writes `response` (any final status, such as 401, 403 or
    /// 404, with its headers and body) into `out`. Close the transport after writing it, or
    /// keep reading HTTP requests with the [`ServerHandshake`]. (Over extended CONNECT, send
    /// any other response through the HTTP/2 or HTTP/3 stack.)
    ///
    /// # Errors
    /// [`HandshakeError::InvalidInput`] for a status below 200 (use [`accept`](Self::accept) to
    /// upgrade), a response that cannot be written, or a request that came over extended
    /// CONNECT; [`HandshakeError::BufferTooSmall`] when a fixed buffer cannot hold it.
    pub fn reject(&self, response: &HttpResponse, out: &mut impl OutBuf) -> Result<(), HandshakeError> {
        self.check_rejection(response)?;
        response.write(out)
    }

    /// The key of an HTTP/1.1 request; an extended CONNECT request is answered otherwise.
    fn http1_key(&self) -> Result<&[u8; 24], HandshakeError> {
        self.key.as_ref().ok_or(HandshakeError::InvalidInput(
            "an extended CONNECT request is answered through the HTTP/2 or HTTP/3 stack",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    const GOOD: &str = "GET /chat?x=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

    fn feed(s: &str) -> Result<ServerStatus, HandshakeError> {
        ServerHandshake::new().feed(s.as_bytes())
    }

    fn upgrade(extra: &str) -> UpgradeRequest {
        match feed(&format!("{GOOD}{extra}\r\n")) {
            Ok(ServerStatus::Upgrade(u)) => u,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn accepts_a_good_request() {
        let extra = "Origin: http://a\r\nSec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Protocol: c\r\nSec-WebSocket-Extensions: x; p=1, y\r\n";
        let u = upgrade(extra);
        assert_eq!(u.path(), "/chat?x=1");
        assert_eq!(u.host(), Some("example.com"));
        assert_eq!(u.origin(), Some("http://a"));
        assert_eq!(u.key(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(u.protocols(), ["a", "b", "c"]);
        assert_eq!(u.extensions().len(), 2);
        assert_eq!(u.select_protocol(&["c", "b"]), Some("b"));
        assert_eq!(u.select_protocol(&["z"]), None);
        assert_eq!(u.leftover(), GOOD.len() + extra.len() + 2);
        assert_eq!(u.headers().count("sec-websocket-protocol"), 2);
    }

    #[test]
    fn plain_http_is_handed_back() {
        let req = "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\nrest";
        match feed(req) {
            Ok(ServerStatus::Http(r)) => {
                assert_eq!((r.method.as_str(), r.path.as_str(), r.version), ("GET", "/index.html", 1));
                assert_eq!(&req.as_bytes()[r.leftover..], b"rest");
            }
            other => panic!("{other:?}"),
        }
        // An upgrade to another protocol is not a WebSocket request.
        assert!(matches!(
            feed("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"),
            Ok(ServerStatus::Http(_))
        ));
        assert!(matches!(feed("POST /form HTTP/1.0\r\nContent-Length: 0\r\n\r\n"), Ok(ServerStatus::Http(_))));
    }

    #[test]
    fn rejection_paths() {
        let swap = |from: &str, to: &str| format!("{}\r\n", GOOD.replacen(from, to, 1));
        let cases: &[(String, HandshakeError, u16)] = &[
            (swap("GET", "POST"), HandshakeError::MethodNotAllowed, 405),
            (swap("HTTP/1.1", "HTTP/1.0"), HandshakeError::HttpVersion, 400),
            (swap("Host: example.com\r\n", ""), HandshakeError::MissingHeader("Host"), 400),
            (format!("{GOOD}Host: b\r\n\r\n"), HandshakeError::DuplicateHeader("Host"), 400),
            (swap("Upgrade: websocket\r\n", ""), HandshakeError::MissingHeader("Upgrade"), 400),
            (swap("Upgrade: websocket", "Upgrade: h2c"), HandshakeError::UpgradeNotWebSocket, 400),
            (swap("Connection: Upgrade\r\n", ""), HandshakeError::MissingHeader("Connection"), 400),
            (swap("Connection: Upgrade", "Connection: keep-alive"), HandshakeError::ConnectionNotUpgrade, 400),
            (
                swap("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
                HandshakeError::MissingHeader("Sec-WebSocket-Key"),
                400,
            ),
            (
                format!("{GOOD}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
                HandshakeError::DuplicateHeader("Sec-WebSocket-Key"),
                400,
            ),
            (swap("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ"), HandshakeError::InvalidKey, 400),
            (swap("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZR=="), HandshakeError::InvalidKey, 400),
            (swap("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZXh4"), HandshakeError::InvalidKey, 400),
            (swap("dGhlIHNhbXBsZSBub25jZQ==", "????????????????????????"), HandshakeError::InvalidKey, 400),
            (swap("Sec-WebSocket-Version: 13\r\n", ""), HandshakeError::UnsupportedVersion, 426),
            (swap("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), HandshakeError::UnsupportedVersion, 426),
            (
                swap("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 13, 8"),
                HandshakeError::UnsupportedVersion,
                426,
            ),
            (
                format!("{GOOD}Sec-WebSocket-Version: 13\r\n\r\n"),
                HandshakeError::DuplicateHeader("Sec-WebSocket-Version"),
                400,
            ),
            (format!("{GOOD}Origin: a\r\nOrigin: b\r\n\r\n"), HandshakeError::DuplicateHeader("Origin"), 400),
            (format!("{GOOD}Sec-WebSocket-Protocol: a b\r\n\r\n"), HandshakeError::InvalidProtocols, 400),
            (format!("{GOOD}Sec-WebSocket-Protocol: a, \"b\"\r\n\r\n"), HandshakeError::InvalidProtocols, 400),
            (format!("{GOOD}Sec-WebSocket-Protocol: \r\n\r\n"), HandshakeError::InvalidProtocols, 400),
            (
                format!("{GOOD}Sec-WebSocket-Extensions: x;;\r\n\r\n"),
                HandshakeError::InvalidExtensions("expected a parameter name"),
                400,
            ),
            (format!("{GOOD}Bad Header: x\r\n\r\n"), HandshakeError::MalformedHttp("invalid header name"), 400),
        ];
        for (req, err, status) in cases {
            assert_eq!(feed(req).as_ref().err(), Some(err), "{req}");
            assert_eq!(err.status_hint(), *status);
        }
        assert!(matches!(feed(&format!("{GOOD}\r\n")), Ok(ServerStatus::Upgrade(_))));
    }

    #[test]
    fn key_validation() {
        assert!(valid_key(b"dGhlIHNhbXBsZSBub25jZQ==").is_some());
        assert!(valid_key(b"AAAAAAAAAAAAAAAAAAAAAA==").is_some());
        for bad in [
            &b""[..],
            b"dGhlIHNhbXBsZSBub25jZQ=",
            b"dGhlIHNhbXBsZSBub25jZQ===",
            b"AAAAAAAAAAAAAAAAAAAAAAAA",
            b"AAAAAAAAAAAAAAAAAAAAAB==",
            b"AAAAAAAAAAAAAAAAAAAAA-==",
        ] {
            assert!(valid_key(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn accept_writes_the_response() {
        let u = upgrade("Sec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Extensions: x, y; q\r\n");
        let mut out = Vec::new();
        let accept = Accept::new()
            .with_protocol("b")
            .with_extension(ExtensionOffer::new("y").with_flag("q"))
            .with_header("Set-Cookie", "s=1");
        let n = u.accept(&accept, &mut out).unwrap();
        assert_eq!(n.role, crate::Role::Server);
        assert_eq!(n.protocol.as_deref(), Some("b"));
        assert_eq!(n.extensions, [ExtensionOffer::new("y").with_flag("q")]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: b\r\n\
             Sec-WebSocket-Extensions: y; q\r\nSet-Cookie: s=1\r\n\r\n"
        );
    }

    #[test]
    fn accept_rejects_bad_choices() {
        let u = upgrade("Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Extensions: x\r\n");
        let cases = [
            (Accept::new().with_protocol("b"), "subprotocol was not offered"),
            (Accept::new().with_extension(ExtensionOffer::new("y")), "extension was not offered"),
            (
                Accept::new().with_extension(ExtensionOffer::new("x")).with_extension(ExtensionOffer::new("X")),
                "extension accepted twice",
            ),
            (Accept::new().with_header("sec-websocket-accept", "x"), "header is managed by the handshake"),
            (Accept::new().with_header("X", "\r\n"), "header value contains a control character"),
            (
                Accept::new().with_extension(ExtensionOffer::new("x").with_param("a", "b c")),
                "extension parameter value is not a token",
            ),
        ];
        for (accept, what) in cases {
            let mut out = Vec::new();
            assert_eq!(u.accept(&accept, &mut out), Err(HandshakeError::InvalidInput(what)));
            assert!(out.is_empty());
        }
        let mut storage = [0u8; 16];
        let mut small = crate::SliceBuf::new(&mut storage);
        assert!(matches!(u.accept(&Accept::new(), &mut small), Err(HandshakeError::BufferTooSmall(_))));
    }

    #[test]
    fn reject_writes_the_response() {
        let u = upgrade("");
        let mut out = Vec::new();
        u.reject(&HttpResponse::new(403).with_body("no"), &mut out).unwrap();
        assert_eq!(out, b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno");
        assert_eq!(
            u.reject(&HttpResponse::new(101), &mut Vec::new()),
            Err(HandshakeError::InvalidInput("a rejection needs a final status (200-999)"))
        );
    }

    #[test]
    fn limits() {
        let mut r = ServerHandshake::new().with_max_request_size(32);
        assert_eq!(r.feed(GOOD.as_bytes()), Err(HandshakeError::HeadTooLarge { limit: 32 }));
        let mut r = ServerHandshake::new().with_max_headers(2);
        assert_eq!(r.feed(GOOD.as_bytes()), Err(HandshakeError::TooManyHeaders { limit: 2 }));
    }

    #[test]
    fn pipelined_requests() {
        let two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut r = ServerHandshake::new();
        let Ok(ServerStatus::Http(a)) = r.feed(two.as_bytes()) else { panic!() };
        assert_eq!(a.path, "/a");
        let Ok(ServerStatus::Http(b)) = r.feed(&two.as_bytes()[a.leftover..]) else { panic!() };
        assert_eq!(b.path, "/b");
        assert_eq!(a.leftover + b.leftover, two.len());
    }
}
