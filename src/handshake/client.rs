//! The client side: the request builder (shared with extended CONNECT) and the HTTP/1.1 response
//! reader.

use alloc::string::String;
use alloc::vec::Vec;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::extensions::ExtensionOffer;
use super::headers::{Headers, check_extra, single, trim_ows};
use super::http::{HeadBuffer, HttpResponse, parse_response, write_all};
use super::negotiate::{FieldNames, Offer};
use super::uri::WsUri;
use super::{AcceptKey, DEFAULT_MAX_HEADERS, HandshakeError, Negotiated, accept_key};
use crate::{KeySource, OutBuf};

/// The default limit on the size of a response head read by [`ClientHandshake`]: 16 KiB.
pub const DEFAULT_MAX_RESPONSE_SIZE: usize = 16 * 1024;

/// Header fields the request builder writes itself; extra headers may not repeat them.
const CLIENT_MANAGED: [&str; 8] = [
    "Host",
    "Upgrade",
    "Connection",
    "Origin",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
];

/// Builds and writes a client's opening handshake request (RFC 6455 §4.1) from a `ws://` or
/// `wss://` URI.
///
/// The same request serves a WebSocket over HTTP/2 or HTTP/3:
/// [`extended_connect::request`](super::extended_connect::request) makes its extended CONNECT
/// field list and [`extended_connect::check_response`](super::extended_connect::check_response)
/// checks the answer, with the same subprotocols, extensions and permessage-deflate offer.
///
/// The request carries `Host` (without the port when it is the scheme's default), `Upgrade`,
/// `Connection`, a fresh `Sec-WebSocket-Key` of 16 unpredictable bytes from the
/// [`KeySource`] (the operating system's by default, with feature `getrandom`),
/// `Sec-WebSocket-Version: 13`, and the optional `Origin`, offered subprotocols, offered
/// extensions and extra headers. [`write`](Self::write) returns the [`ClientHandshake`] that
/// reads the server's answer.
///
/// The crate opens no connection: connect to [`host`](Self::host) and [`port`](Self::port)
/// yourself (with TLS when [`is_secure`](Self::is_secure)).
///
/// ```
/// use wsproto::KeySource;
/// use wsproto::handshake::{ClientRequest, ClientStatus};
///
/// let mut request = ClientRequest::new("ws://[::1]:9000/chat?room=1")?
///     .with_origin("https://example.com")
///     .with_protocol("chat")
///     .with_key_source(KeySource::seeded(1)); // tests only: the default is the OS
/// assert_eq!((request.host(), request.port()), ("::1", 9000));
///
/// let mut out = Vec::new();
/// let mut handshake = request.write(&mut out)?;
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.starts_with("GET /chat?room=1 HTTP/1.1\r\nHost: [::1]:9000\r\n"));
///
/// // Bytes from the server may arrive in any number of pieces.
/// let mut response = format!(
///     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///      Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
///     handshake.expected_accept()
/// )
/// .into_bytes();
/// response.extend_from_slice(b"\x81\x02hi"); // a text frame in the same read
/// let (head, rest) = response.split_at(20);
/// assert!(matches!(handshake.feed(head)?, ClientStatus::NeedMore));
/// match handshake.feed(rest)? {
///     ClientStatus::Upgraded { negotiated, leftover, .. } => {
///         assert_eq!(negotiated.protocol.as_deref(), Some("chat"));
///         // A frame came in the same read: pass it to `Connection::receive` first.
///         assert_eq!(&rest[leftover..], b"\x81\x02hi");
///     }
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), wsproto::handshake::HandshakeError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientRequest {
    pub(crate) uri: WsUri,
    pub(crate) origin: Option<String>,
    pub(crate) offer: Offer,
    /// The extra headers, unchecked.
    pub(crate) headers: Headers,
    keys: Option<KeySource>,
    max_response_size: usize,
    max_headers: usize,
}

impl ClientRequest {
    /// A request for `uri` (`ws://host[:port][/path][?query]` or `wss://…`; IPv6 literals in
    /// brackets). The path and query must be printable ASCII (percent-encode anything else).
    ///
    /// # Errors
    /// [`HandshakeError::InvalidUri`] for another scheme, a fragment, user information, an
    /// empty or invalid host, an invalid port, or a path with spaces or non-ASCII characters.
    pub fn new(uri: &str) -> Result<Self, HandshakeError> {
        Ok(Self {
            uri: WsUri::parse(uri)?,
            origin: None,
            offer: Offer::default(),
            headers: Headers::new(),
            #[cfg(feature = "getrandom")]
            keys: Some(KeySource::os()),
            #[cfg(not(feature = "getrandom"))]
            keys: None,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            max_headers: DEFAULT_MAX_HEADERS,
        })
    }

    /// Sends `Origin: origin` (browsers always do; servers may check it).
    #[must_use]
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Offers a subprotocol (a token), after those offered already: the order is the order of
    /// preference.
    #[must_use]
    pub fn with_protocol(mut self, protocol: impl Into<String>) -> Self {
        self.offer.protocols.push(protocol.into());
        self
    }

    /// Offers permessage-deflate (RFC 7692, feature `deflate`) as configured, after the
    /// extensions offered already. When the server accepts, the response's parameters are
    /// checked and [`Negotiated::deflate`] says what is in force.
    ///
    /// ```
    /// use wsproto::deflate::DeflateConfig;
    /// use wsproto::handshake::ClientRequest;
    /// let mut out = Vec::new();
    /// ClientRequest::new("ws://localhost/")?.with_deflate(DeflateConfig::new()).write(&mut out)?;
    /// let request = String::from_utf8(out).unwrap();
    /// assert!(request.contains("\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"));
    /// # Ok::<(), wsproto::handshake::HandshakeError>(())
    /// ```
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn with_deflate(mut self, config: crate::deflate::DeflateConfig) -> Self {
        self.offer.extensions.push(config.offer());
        self.offer.deflate = Some(config);
        self
    }

    /// Offers an extension, after those offered already. An extension may be offered several
    /// times with different parameters.
    #[must_use]
    pub fn with_extension(mut self, extension: ExtensionOffer) -> Self {
        self.offer.extensions.push(extension);
        self
    }

    /// Adds an extra header line (cookies, authorization, …). Headers that the builder writes
    /// itself (`Host`, `Upgrade`, `Connection`, `Origin`, `Sec-WebSocket-*`) are refused when
    /// the request is written. In an extended CONNECT request the name is lowercased, and
    /// `content-length`, `te` and connection-specific fields are refused too.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push(name, value);
        self
    }

    /// Draws the `Sec-WebSocket-Key` nonce from `keys` instead of the operating system.
    #[must_use]
    pub fn with_key_source(mut self, keys: KeySource) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Sets the largest response head the [`ClientHandshake`] accepts
    /// (default [`DEFAULT_MAX_RESPONSE_SIZE`]).
    #[must_use]
    pub fn with_max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// Sets the most header lines the response may have (default
    /// [`DEFAULT_MAX_HEADERS`](super::DEFAULT_MAX_HEADERS)).
    #[must_use]
    pub fn with_max_headers(mut self, headers: usize) -> Self {
        self.max_headers = headers;
        self
    }

    /// The host to connect to (an IPv6 address without brackets).
    #[must_use]
    pub fn host(&self) -> &str {
        &self.uri.host
    }

    /// The port to connect to (80 for `ws`, 443 for `wss` unless the URI gives one).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.uri.port
    }

    /// Whether the URI is `wss` (the transport must be TLS).
    #[must_use]
    pub fn is_secure(&self) -> bool {
        self.uri.secure
    }

    /// The resource name: path and query, such as `/chat?room=1`.
    #[must_use]
    pub fn resource(&self) -> &str {
        &self.uri.resource
    }

    /// The `Host` header value written.
    #[must_use]
    pub fn host_header(&self) -> &str {
        &self.uri.host_header
    }

    /// Draws a fresh key, writes the request into `out` and returns the reader for the
    /// response. The builder can be used again (each request gets a new key).
    ///
    /// # Errors
    /// [`HandshakeError::InvalidInput`] for a subprotocol that is not a token or is offered
    /// twice, an extension that cannot be written, an `Origin` with control characters, or an
    /// extra header that is invalid or managed by the builder;
    /// [`HandshakeError::NoKeySource`] without a key source;
    /// [`HandshakeError::BufferTooSmall`] when a fixed buffer cannot hold the request. Nothing is
    /// written on error.
    pub fn write(&mut self, out: &mut impl OutBuf) -> Result<ClientHandshake, HandshakeError> {
        let (lines, key) = self.head()?;
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(b"GET ");
        buf.extend_from_slice(self.uri.resource.as_bytes());
        buf.extend_from_slice(b" HTTP/1.1\r\n");
        lines.write_into(&mut buf);
        buf.extend_from_slice(b"\r\n");
        write_all(out, &buf)?;
        Ok(self.handshake(key))
    }

    /// Checks the request and draws a fresh key: the header lines of the request (`Host`,
    /// `Upgrade`, `Connection`, `Sec-WebSocket-Key`, the offer's fields, the extra headers, in
    /// that order) and the key. Shared by [`write`](Self::write) and the `http` types' path.
    pub(crate) fn head(&mut self) -> Result<(Headers, [u8; 24]), HandshakeError> {
        let mut fields = Headers::new();
        self.offer.push_fields(self.origin.as_deref(), &FieldNames::HTTP1, &mut fields)?;
        check_extra(&self.headers, &CLIENT_MANAGED)?;
        let keys = self.keys.as_mut().ok_or(HandshakeError::NoKeySource)?;
        let mut nonce = [0u8; 16];
        keys.fill(&mut nonce);
        let mut key = [0u8; 24];
        // 16 bytes always encode to exactly 24 characters.
        let _ = STANDARD.encode_slice(nonce, &mut key);
        let mut lines = Headers::with_capacity(4 + fields.len() + self.headers.len())
            .with("Host", self.uri.host_header.as_str())
            .with("Upgrade", "websocket")
            .with("Connection", "Upgrade")
            .with("Sec-WebSocket-Key", key);
        lines.append(fields);
        lines.append(self.headers.clone());
        Ok((lines, key))
    }

    /// The reader of the response to a request sent with `key`.
    pub(crate) fn handshake(&self, key: [u8; 24]) -> ClientHandshake {
        ClientHandshake {
            key,
            accept: accept_key(&key),
            offer: self.offer.clone(),
            head: HeadBuffer::new(self.max_response_size),
            max_headers: self.max_headers,
            finished: false,
        }
    }
}

/// What [`ClientHandshake::feed`] found, or
/// [`extended_connect::check_response`](super::extended_connect::check_response).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientStatus {
    /// The response head has not ended yet: read more bytes and feed them.
    NeedMore,
    /// The server accepted the upgrade. Build the connection with
    /// `Connection::new(negotiated.role, config)`[`.with_negotiated(&negotiated)`](crate::Connection::with_negotiated),
    /// then pass the bytes from `leftover` on (frames that came in the same read) to
    /// [`Connection::receive`](crate::Connection::receive) before anything read later.
    Upgraded {
        /// Role, chosen subprotocol and accepted extensions.
        negotiated: Negotiated,
        /// The accepting response (for headers such as `Set-Cookie`): the 101 over HTTP/1.1, the
        /// 2xx over extended CONNECT. Its body is empty.
        response: HttpResponse,
        /// Offset into the input of this `feed` call where WebSocket frames start (0 over
        /// extended CONNECT, where the stream's DATA are the frames).
        leftover: usize,
    },
    /// The server answered with another status (over HTTP/1.1 anything but 101, over extended
    /// CONNECT anything but 2xx): a redirect, an authentication challenge, an error, … Over
    /// HTTP/1.1 the response carries the body bytes that arrived with the head; over extended
    /// CONNECT the body, if any, follows on the stream.
    Rejected(HttpResponse),
}

/// Reads and checks the server's response to a [`ClientRequest`] (RFC 6455 §4.1, §4.2.2).
///
/// Feed it bytes as they arrive, in pieces of any size: a response that has not ended is
/// [`ClientStatus::NeedMore`], never an error. The head may be at most
/// [`ClientRequest::with_max_response_size`] bytes, after at most 8 empty lines; it is parsed
/// when the status line ends and again only when it can have ended (an empty line ended), a
/// header line past the limit ended, or the size limit was reached. A 101 response must have
/// `Upgrade: websocket`, `Connection: upgrade` (case-insensitive, in comma-separated lists), the expected
/// `Sec-WebSocket-Accept`, at most a subprotocol that was offered, and only extensions that
/// were offered (each once, with at most
/// [`MAX_EXTENSION_PARAMS`](super::MAX_EXTENSION_PARAMS) parameters in all).
#[derive(Clone, Debug)]
pub struct ClientHandshake {
    key: [u8; 24],
    accept: AcceptKey,
    offer: Offer,
    head: HeadBuffer,
    max_headers: usize,
    pub(crate) finished: bool,
}

impl ClientHandshake {
    /// The `Sec-WebSocket-Key` that was sent.
    #[must_use]
    pub fn key(&self) -> &str {
        core::str::from_utf8(&self.key).unwrap_or_default()
    }

    /// The `Sec-WebSocket-Accept` the server must answer with.
    #[must_use]
    pub fn expected_accept(&self) -> AcceptKey {
        self.accept
    }

    /// The subprotocols offered, in order of preference.
    #[must_use]
    pub fn offered_protocols(&self) -> &[String] {
        &self.offer.protocols
    }

    /// The extensions offered.
    #[must_use]
    pub fn offered_extensions(&self) -> &[ExtensionOffer] {
        &self.offer.extensions
    }

    /// Feeds bytes read from the transport.
    ///
    /// # Errors
    /// A [`HandshakeError`] when the response is malformed, too large, or a 101 response that
    /// breaks RFC 6455 (fail the connection: close the transport). After a final result or an
    /// error, every later call returns [`HandshakeError::Finished`].
    pub fn feed(&mut self, bytes: &[u8]) -> Result<ClientStatus, HandshakeError> {
        if self.finished {
            return Err(HandshakeError::Finished);
        }
        let fed = self.head.feed(bytes, self.max_headers, parse_response);
        // After a result or an error the reader is done (and its buffer is given back).
        self.finished = !matches!(fed, Ok(None));
        let Some(((mut response, version), leftover)) = fed? else {
            return Ok(ClientStatus::NeedMore);
        };
        if response.status != 101 {
            response.body = bytes.get(leftover..).unwrap_or_default().to_vec();
            return Ok(ClientStatus::Rejected(response));
        }
        let negotiated = self.check(&response, version)?;
        Ok(ClientStatus::Upgraded { negotiated, response, leftover })
    }

    /// Checks a 101 response (its HTTP minor version is `version`): shared by
    /// [`feed`](Self::feed) and the `http` types' path.
    pub(crate) fn check(&self, response: &HttpResponse, version: u8) -> Result<Negotiated, HandshakeError> {
        if version != 1 {
            return Err(HandshakeError::HttpVersion);
        }
        let h = &response.headers;
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
        let accept = single(h, "Sec-WebSocket-Accept")?.ok_or(HandshakeError::MissingHeader("Sec-WebSocket-Accept"))?;
        if trim_ows(accept) != self.accept.as_bytes() {
            return Err(HandshakeError::AcceptMismatch);
        }
        self.offer.check_response(h, &FieldNames::HTTP1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;
    use alloc::format;

    fn request() -> ClientRequest {
        ClientRequest::new("ws://example.com/chat").unwrap().with_key_source(KeySource::seeded(9))
    }

    fn ok_response(hs: &ClientHandshake, extra: &str) -> String {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
            hs.expected_accept()
        )
    }

    #[test]
    fn writes_the_request() {
        let mut out = Vec::new();
        let hs = request()
            .with_origin("http://example.com")
            .with_protocol("a")
            .with_protocol("b")
            .with_extension(ExtensionOffer::new("x").with_flag("y"))
            .with_header("Cookie", "k=v")
            .write(&mut out)
            .unwrap();
        let want = format!(
            "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\
             Sec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Extensions: x; y\r\nCookie: k=v\r\n\r\n",
            hs.key()
        );
        assert_eq!(String::from_utf8(out).unwrap(), want);
        let mut decoded = [0u8; 18];
        assert_eq!(STANDARD.decode_slice(hs.key(), &mut decoded), Ok(16));
        assert_eq!(hs.expected_accept(), accept_key(hs.key().as_bytes()));
        assert_eq!(hs.offered_protocols(), ["a", "b"]);
        assert_eq!(hs.offered_extensions().len(), 1);
    }

    #[test]
    fn each_request_gets_a_new_key() {
        let mut r = request();
        let a = r.write(&mut Vec::new()).unwrap();
        let b = r.write(&mut Vec::new()).unwrap();
        assert_ne!(a.key(), b.key());
    }

    #[test]
    fn builder_rejects_bad_input() {
        let cases = [
            (request().with_protocol("a b"), "subprotocol is not a token"),
            (request().with_protocol("a").with_protocol("a"), "subprotocol offered twice"),
            (request().with_origin("x\r\ny: z"), "origin is empty or contains a control character"),
            (request().with_origin(""), "origin is empty or contains a control character"),
            (request().with_header("Sec-WebSocket-Key", "x"), "header is managed by the handshake"),
            (request().with_header("host", "x"), "header is managed by the handshake"),
            (request().with_header("X", "a\nb"), "header value contains a control character"),
            (request().with_extension(ExtensionOffer::new("a b")), "extension name is not a token"),
        ];
        for (mut r, what) in cases {
            let mut out = Vec::new();
            assert_eq!(r.write(&mut out).err(), Some(HandshakeError::InvalidInput(what)));
            assert!(out.is_empty());
        }
    }

    #[cfg(not(feature = "getrandom"))]
    #[test]
    fn no_key_source() {
        let mut r = ClientRequest::new("ws://a/").unwrap();
        assert_eq!(r.write(&mut Vec::new()).err(), Some(HandshakeError::NoKeySource));
    }

    #[test]
    fn buffer_too_small_writes_nothing() {
        let mut storage = [0u8; 32];
        let mut buf = crate::SliceBuf::new(&mut storage);
        assert!(matches!(request().write(&mut buf), Err(HandshakeError::BufferTooSmall(_))));
        assert!(buf.is_empty());
    }

    fn hs(protocols: &[&str], extensions: &[&str]) -> ClientHandshake {
        let mut r = request();
        for p in protocols {
            r = r.with_protocol(*p);
        }
        for e in extensions {
            r = r.with_extension(ExtensionOffer::new(*e));
        }
        r.write(&mut Vec::new()).unwrap()
    }

    fn feed_all(hs: &mut ClientHandshake, bytes: &[u8]) -> Result<ClientStatus, HandshakeError> {
        hs.feed(bytes)
    }

    #[test]
    fn accepts_a_good_response() {
        let mut h = hs(&["a", "b"], &["x", "y"]);
        let resp = ok_response(&h, "Sec-WebSocket-Protocol: b\r\nSec-WebSocket-Extensions: y; p=1\r\n");
        match feed_all(&mut h, resp.as_bytes()).unwrap() {
            ClientStatus::Upgraded { negotiated, leftover, response } => {
                assert_eq!(negotiated.role, Role::Client);
                assert_eq!(negotiated.protocol.as_deref(), Some("b"));
                assert_eq!(negotiated.extensions, [ExtensionOffer::new("y").with_param("p", "1")]);
                assert_eq!(leftover, resp.len());
                assert_eq!(response.status, 101);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(h.feed(b"x"), Err(HandshakeError::Finished));
    }

    #[test]
    fn tolerant_header_forms() {
        let mut h = hs(&[], &[]);
        let resp = format!(
            "HTTP/1.1 101 OK\r\nupgrade:  WebSocket \r\nconnection: keep-alive, UPGRADE\r\n\
             sec-websocket-accept:\t{} \r\n\r\n",
            h.expected_accept()
        );
        assert!(matches!(h.feed(resp.as_bytes()), Ok(ClientStatus::Upgraded { .. })));
    }

    #[test]
    fn rejection_paths() {
        let accept = |h: &ClientHandshake| String::from(h.expected_accept().as_str());
        type Case = (&'static [&'static str], &'static [&'static str], fn(&str) -> String, HandshakeError);
        let cases: &[Case] = &[
            (
                &[],
                &[],
                |a| {
                    format!(
                        "HTTP/1.0 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {a}\r\n\r\n"
                    )
                },
                HandshakeError::HttpVersion,
            ),
            (
                &[],
                &[],
                |a| format!("HTTP/1.1 101 X\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {a}\r\n\r\n"),
                HandshakeError::MissingHeader("Upgrade"),
            ),
            (
                &[],
                &[],
                |a| {
                    format!(
                        "HTTP/1.1 101 X\r\nUpgrade: h2c\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {a}\r\n\r\n"
                    )
                },
                HandshakeError::UpgradeNotWebSocket,
            ),
            (
                &[],
                &[],
                |a| format!("HTTP/1.1 101 X\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {a}\r\n\r\n"),
                HandshakeError::MissingHeader("Connection"),
            ),
            (
                &[],
                &[],
                |a| {
                    format!(
                        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: close\r\nSec-WebSocket-Accept: {a}\r\n\r\n"
                    )
                },
                HandshakeError::ConnectionNotUpgrade,
            ),
            (
                &[],
                &[],
                |_| "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n".into(),
                HandshakeError::MissingHeader("Sec-WebSocket-Accept"),
            ),
            (
                &[],
                &[],
                |a| {
                    format!(
                        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {a}\r\nSec-WebSocket-Accept: {a}\r\n\r\n"
                    )
                },
                HandshakeError::DuplicateHeader("Sec-WebSocket-Accept"),
            ),
            (
                &[],
                &[],
                |_| {
                    "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".into()
                },
                HandshakeError::AcceptMismatch,
            ),
            (
                &["a"],
                &[],
                |a| {
                    format!(
                        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {a}\r\nSec-WebSocket-Protocol: b\r\n\r\n"
                    )
                },
                HandshakeError::UnofferedProtocol,
            ),
            (
                &[],
                &[],
                |a| {
                    format!(
                        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {a}\r\nSec-WebSocket-Protocol: a\r\n\r\n"
                    )
                },
                HandshakeError::UnofferedProtocol,
            ),
            (
                &["a", "b"],
                &[],
                |a| {
                    format!(
                        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {a}\r\nSec-WebSocket-Protocol: a, b\r\n\r\n"
                    )
                },
                HandshakeError::InvalidProtocols,
            ),
            (
                &["a"],
                &[],
                |a| {
                    format!(
                        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {a}\r\nSec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: a\r\n\r\n"
                    )
                },
                HandshakeError::DuplicateHeader("Sec-WebSocket-Protocol"),
            ),
            (
                &[],
                &["x"],
                |a| {
                    format!(
                        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {a}\r\nSec-WebSocket-Extensions: y\r\n\r\n"
                    )
                },
                HandshakeError::UnofferedExtension,
            ),
            (
                &[],
                &["x"],
                |a| {
                    format!(
                        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {a}\r\nSec-WebSocket-Extensions: x\r\nSec-WebSocket-Extensions: x\r\n\r\n"
                    )
                },
                HandshakeError::UnofferedExtension,
            ),
            (
                &[],
                &["x"],
                |a| {
                    format!(
                        "HTTP/1.1 101 X\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: {a}\r\nSec-WebSocket-Extensions: x;\r\n\r\n"
                    )
                },
                HandshakeError::InvalidExtensions("expected a parameter name"),
            ),
        ];
        for (protocols, extensions, make, want) in cases {
            let mut h = hs(protocols, extensions);
            let resp = make(&accept(&h));
            assert_eq!(h.feed(resp.as_bytes()), Err(*want), "{resp}");
            assert_eq!(h.feed(b""), Err(HandshakeError::Finished));
        }
    }

    #[test]
    fn non_101_is_handed_back_with_body() {
        let mut h = hs(&[], &[]);
        let resp = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 10\r\n\r\nlogin";
        assert_eq!(h.feed(&resp[..10]), Ok(ClientStatus::NeedMore));
        match h.feed(&resp[10..]).unwrap() {
            ClientStatus::Rejected(r) => {
                assert_eq!((r.status, r.reason.as_str()), (401, "Unauthorized"));
                assert_eq!(r.headers.get("www-authenticate"), Some(&b"Basic"[..]));
                assert_eq!(r.body, b"login");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn size_cap() {
        let mut h = request().with_max_response_size(64).write(&mut Vec::new()).unwrap();
        let mut resp = Vec::from(&b"HTTP/1.1 101 Switching Protocols\r\nX: "[..]);
        resp.resize(200, b'a');
        assert_eq!(h.feed(&resp), Err(HandshakeError::HeadTooLarge { limit: 64 }));
        let mut h = request().with_max_headers(1).write(&mut Vec::new()).unwrap();
        assert_eq!(h.feed(b"HTTP/1.1 101 X\r\nA: 1\r\nB: 2\r\n\r\n"), Err(HandshakeError::TooManyHeaders { limit: 1 }));
    }
}
