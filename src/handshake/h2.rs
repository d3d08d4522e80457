//! WebSocket over HTTP/2 (RFC 8441) and HTTP/3 (RFC 9220): the extended CONNECT handshake.
//!
//! On HTTP/2 and HTTP/3 a WebSocket is one request stream opened by an *extended CONNECT*
//! request: `:method CONNECT` with the pseudo-header `:protocol websocket`. A `2xx` response
//! (normally `200`) opens the tunnel, and from then on the stream's DATA frames carry the
//! WebSocket frames, byte for byte as on a TCP connection. This module builds and checks the
//! header lists of that request and response; it depends on no HTTP/2 or HTTP/3 library. The
//! caller moves the lists in and out of its stack (`h2`, `h3`, `quiche`, …) and then drives a
//! [`Connection`](crate::Connection) over the stream's bytes.
//!
//! The same helpers serve HTTP/3 (RFC 9220) unchanged: the header lists, the checks and the
//! mapping of the stream are the same; only the framing underneath differs.
//!
//! # What differs from HTTP/1.1 (RFC 8441 §5)
//!
//! * No `Upgrade`, `Connection`, `Sec-WebSocket-Key` or `Sec-WebSocket-Accept`: `:protocol`
//!   replaces the upgrade, and the stream itself proves that the server understood it. Field
//!   names are lowercase, as HTTP/2 and HTTP/3 require.
//! * `sec-websocket-version`, `sec-websocket-protocol`, `sec-websocket-extensions` and `origin`
//!   mean what they mean in RFC 6455 (subprotocols and extensions, permessage-deflate included,
//!   are negotiated exactly as over HTTP/1.1).
//! * The client may send the request only after the server's SETTINGS announced
//!   `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1` (RFC 8441 §3; the same setting, `0x08`, in HTTP/3 by
//!   RFC 9220 §3). A server must send that setting. The HTTP library handles SETTINGS; with the
//!   `h2` crate that is `server::Builder::enable_connect_protocol` and
//!   `client::SendRequest::is_extended_connect_protocol_enabled`.
//!
//! # Once the stream is open
//!
//! * [`Connection::from_negotiated`](crate::Connection::from_negotiated) starts the state
//!   machine directly on the stream's bytes: feed received DATA payloads to
//!   [`receive`](crate::Connection::receive) (or
//!   [`receive_into`](crate::Connection::receive_into) with permessage-deflate), send what it
//!   writes as DATA. There is no leftover to hand over: the response has no body before the
//!   WebSocket frames.
//! * Masking stays exactly as in RFC 6455: the client masks every frame it sends, the server
//!   never does, and each side fails a peer that breaks the rule.
//! * Closing maps to the stream (RFC 8441 §5): an orderly TCP close is `END_STREAM`, a TCP reset
//!   is `RST_STREAM` with `CANCEL` (HTTP/3: the stream's FIN, and a reset with
//!   `H3_REQUEST_CANCELLED`). When [`transport_action`](crate::Connection::transport_action) says
//!   [`Close`](crate::TransportAction::Close) (a server after the close handshake, or either
//!   side after a failure), send the remaining output with `END_STREAM`. A client told
//!   [`AwaitPeerClose`](crate::TransportAction::AwaitPeerClose) may end its side of the stream
//!   at once (a stream has no TIME_WAIT to leave to the server) and then reads until the
//!   server's `END_STREAM`. The peer's `END_STREAM` (or a reset) is end of input: call
//!   [`receive_eof`](crate::Connection::receive_eof). A server should keep reading until the
//!   client's `END_STREAM` too, so that the stream closes cleanly on both sides.
//! * Respect the stream's flow control: release receive capacity as the connection consumes
//!   bytes (with `h2`, `RecvStream::flow_control().release_capacity`), and send no more than
//!   the capacity granted.
//!
//! # Call order
//!
//! | role | build | send / receive | check | then |
//! |---|---|---|---|---|
//! | client | [`ExtendedConnectRequest::headers`] | send the request, receive the response headers | [`ExtendedConnectRequest::check_response`] → [`ConnectOutcome`] | [`Connection::from_negotiated`](crate::Connection::from_negotiated) |
//! | server | receive the request headers | [`ExtendedConnect::parse`] (on error: [`error_response`]) | [`ExtendedConnect::accept`] → response headers and [`Negotiated`] | send the response, then [`Connection::from_negotiated`](crate::Connection::from_negotiated) |
//!
//! ```
//! use wsproto::handshake::h2::{ConnectOutcome, ExtendedConnect, ExtendedConnectRequest, H2Accept};
//! use wsproto::{Config, Connection, Event};
//!
//! // Client: the request's header list (wait for SETTINGS_ENABLE_CONNECT_PROTOCOL first).
//! let request = ExtendedConnectRequest::new("example.com", "/chat").with_protocol("chat");
//! let request_headers = request.headers()?;
//! assert_eq!(request_headers.get(":protocol"), Some(&b"websocket"[..]));
//!
//! // Server: check the received list, choose, and build the response's list.
//! let connect = ExtendedConnect::parse(&request_headers)?;
//! assert_eq!((connect.authority(), connect.path()), ("example.com", "/chat"));
//! let protocol = connect.select_protocol(&["chat"]).unwrap();
//! let (response_headers, negotiated) = connect.accept(&H2Accept::new().with_protocol(protocol))?;
//! assert_eq!(response_headers.status(), Some(200));
//! let mut server = Connection::from_negotiated(&negotiated, Config::new());
//! let mut stream = Vec::new(); // stands for the stream's DATA frames
//! server.send_text("welcome", &mut stream).unwrap();
//!
//! // Client: check the response, then speak WebSocket on the stream.
//! let ConnectOutcome::Accepted(negotiated) = request.check_response(&response_headers)? else {
//!     panic!("rejected")
//! };
//! assert_eq!(negotiated.protocol.as_deref(), Some("chat"));
//! let mut client = Connection::from_negotiated(&negotiated, Config::new());
//! let received = client.receive(&mut stream).unwrap();
//! assert!(matches!(received.event, Some(Event::Data { data: b"welcome", .. })));
//! # Ok::<(), wsproto::handshake::HandshakeError>(())
//! ```
//!
//! Header lists go in as any `IntoIterator` of [`HeaderField`]s, that is `(name, value)` pairs
//! (or references to them) whose names are `AsRef<str>` and values `AsRef<[u8]>`:
//! `&HeaderList`, `&Vec<(String, Vec<u8>)>`, `[(&str, &[u8]); N]`, or an `http::HeaderMap`'s
//! iterator chained after the pseudo-headers.
//! Pseudo-header names compare exactly, regular names case-insensitively. Lists come out as a
//! [`HeaderList`], pseudo-headers first, every name lowercase.

use alloc::borrow::ToOwned;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::client::{check_offer, negotiate_response};
use super::extensions::ExtensionOffer;
use super::headers::{FieldNames, Headers, check_field, trim_ows};
use super::server::read_offer;
use super::uri::WsUri;
use super::{Accept, HandshakeError, Negotiated};

/// The `:protocol` value that asks for a WebSocket (RFC 8441 §4).
pub const PROTOCOL: &str = "websocket";

/// The WebSocket version, sent and required in `sec-websocket-version`.
pub const VERSION: &str = "13";

/// Field names that are connection-specific, which HTTP/2 (RFC 9113 §8.2.2) and HTTP/3
/// (RFC 9114 §4.2) forbid. `te` is allowed with the value `trailers` only.
const CONNECTION_SPECIFIC: [&str; 5] = ["connection", "upgrade", "keep-alive", "proxy-connection", "transfer-encoding"];

/// Fields the request builder writes itself (or that a CONNECT request cannot carry).
const REQUEST_MANAGED: [&str; 8] = [
    "host",
    "origin",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "sec-websocket-key",
    "content-length",
    "te",
];

/// Fields the response builder writes itself (or that a 2xx answer to CONNECT cannot carry).
const RESPONSE_MANAGED: [&str; 5] =
    ["sec-websocket-protocol", "sec-websocket-extensions", "sec-websocket-accept", "content-length", "te"];

/// The pseudo-headers of a request, in the order they are written.
const REQUEST_PSEUDO: [&str; 5] = [":method", ":protocol", ":scheme", ":path", ":authority"];

/// The pseudo-header of a response.
const RESPONSE_PSEUDO: [&str; 1] = [":status"];

// ---------------------------------------------------------------------------------------------
// Header lists.
// ---------------------------------------------------------------------------------------------

/// An ordered list of HTTP/2 or HTTP/3 header fields, pseudo-headers (`:method`, `:status`, …)
/// included: what [`ExtendedConnectRequest::headers`], [`ExtendedConnect::accept`] and
/// [`error_response`] produce, to be moved into an HTTP library. Names are lowercase;
/// pseudo-headers come first.
///
/// ```
/// use wsproto::handshake::h2::ExtendedConnectRequest;
/// let headers = ExtendedConnectRequest::new("example.com", "/").headers()?;
/// let pseudo: Vec<&str> = headers.pseudo().map(|(name, _)| name).collect();
/// assert_eq!(pseudo, [":method", ":protocol", ":scheme", ":path", ":authority"]);
/// for (name, value) in &headers {
///     // hand (name, value) to the HTTP/2 or HTTP/3 library
///     # let _ = (name, value);
/// }
/// let owned: Vec<(String, Vec<u8>)> = headers.into();
/// # let _ = owned;
/// # Ok::<(), wsproto::handshake::HandshakeError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderList {
    fields: Vec<(String, Vec<u8>)>,
}

impl HeaderList {
    /// An empty list.
    #[must_use]
    pub const fn new() -> Self {
        Self { fields: Vec::new() }
    }

    /// Number of fields.
    #[must_use]
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Appends a field as given (no check: the lists this module builds are checked when they
    /// are built).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) {
        self.fields.push((name.into(), value.into()));
    }

    /// Every field as `(name, value)`, in order.
    #[must_use]
    pub fn iter(&self) -> HeaderIter<'_> {
        HeaderIter { inner: self.fields.iter() }
    }

    /// The pseudo-header fields (names starting with `:`), in order.
    pub fn pseudo(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.iter().filter(|(n, _)| n.starts_with(':'))
    }

    /// The regular fields (every field but the pseudo-headers), in order.
    pub fn regular(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.iter().filter(|(n, _)| !n.starts_with(':'))
    }

    /// The value of the first field named `name`: pseudo-header names compare exactly, other
    /// names case-insensitively.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter().find(|(n, _)| name_matches(n, name)).map(|(_, v)| v)
    }

    /// The value of the first field named `name`, if it is UTF-8.
    #[must_use]
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The `:status` of a response list, if it has a valid one.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        self.get(":status").and_then(parse_status)
    }

    /// The fields as a slice.
    #[must_use]
    pub fn as_slice(&self) -> &[(String, Vec<u8>)] {
        &self.fields
    }

    /// The fields, owned.
    #[must_use]
    pub fn into_vec(self) -> Vec<(String, Vec<u8>)> {
        self.fields
    }
}

impl From<HeaderList> for Vec<(String, Vec<u8>)> {
    fn from(list: HeaderList) -> Self {
        list.fields
    }
}

impl<'a> IntoIterator for &'a HeaderList {
    type Item = (&'a str, &'a [u8]);
    type IntoIter = HeaderIter<'a>;

    fn into_iter(self) -> HeaderIter<'a> {
        self.iter()
    }
}

impl IntoIterator for HeaderList {
    type Item = (String, Vec<u8>);
    type IntoIter = alloc::vec::IntoIter<(String, Vec<u8>)>;

    fn into_iter(self) -> Self::IntoIter {
        self.fields.into_iter()
    }
}

/// The iterator of [`HeaderList::iter`]: `(name, value)` pairs, in order.
#[derive(Clone, Debug)]
pub struct HeaderIter<'a> {
    inner: core::slice::Iter<'a, (String, Vec<u8>)>,
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for HeaderIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(n, v)| (n.as_str(), v.as_slice()))
    }
}

impl ExactSizeIterator for HeaderIter<'_> {}

/// One received header field, as the inputs of this module take them: `(name, value)` pairs
/// (or references to pairs) whose name is `AsRef<str>` and value `AsRef<[u8]>`, such as
/// `(&str, &[u8])`, `(String, Vec<u8>)`, `&(String, Vec<u8>)` or the
/// `(&HeaderName, &HeaderValue)` items of an `http::HeaderMap`. Implement it for the field type
/// of another HTTP library to pass its lists as they are.
pub trait HeaderField {
    /// The field's name.
    fn name(&self) -> &str;
    /// The field's value.
    fn value(&self) -> &[u8];
}

impl<K: AsRef<str>, V: AsRef<[u8]>> HeaderField for (K, V) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }

    fn value(&self) -> &[u8] {
        self.1.as_ref()
    }
}

impl<K: AsRef<str>, V: AsRef<[u8]>> HeaderField for &(K, V) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }

    fn value(&self) -> &[u8] {
        self.1.as_ref()
    }
}

/// Pseudo-header names compare exactly, other names case-insensitively.
fn name_matches(have: &str, want: &str) -> bool {
    if have.starts_with(':') || want.starts_with(':') { have == want } else { have.eq_ignore_ascii_case(want) }
}

/// A `:status` value: exactly three digits, 100 to 999.
fn parse_status(value: &[u8]) -> Option<u16> {
    match value {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// The values of the expected pseudo-headers, by position in the list of allowed names.
type PseudoValues<const N: usize> = [Option<Vec<u8>>; N];

/// A received header list split into the expected pseudo-headers (by position in `allowed`)
/// and the regular fields. Rejects unknown or repeated pseudo-headers, pseudo-headers after
/// regular fields, and connection-specific fields.
fn split<const N: usize, I>(
    fields: I,
    allowed: &[&'static str; N],
) -> Result<(PseudoValues<N>, Headers), HandshakeError>
where
    I: IntoIterator,
    I::Item: HeaderField,
{
    let mut pseudo: PseudoValues<N> = core::array::from_fn(|_| None);
    let mut regular = Headers::new();
    for field in fields {
        let (name, value) = (field.name(), field.value());
        if name.starts_with(':') {
            if !regular.is_empty() {
                return Err(HandshakeError::MalformedHttp("pseudo-header field after a regular field"));
            }
            let Some(i) = allowed.iter().position(|a| *a == name) else {
                return Err(HandshakeError::MalformedHttp("unknown pseudo-header field"));
            };
            if pseudo[i].is_some() {
                return Err(HandshakeError::DuplicateHeader(allowed[i]));
            }
            pseudo[i] = Some(value.to_vec());
        } else {
            if name.is_empty() {
                return Err(HandshakeError::MalformedHttp("empty field name"));
            }
            if is_connection_specific(name, value) {
                return Err(HandshakeError::MalformedHttp("connection-specific field in HTTP/2 or HTTP/3"));
            }
            regular.push(name, value);
        }
    }
    Ok((pseudo, regular))
}

/// Whether a field is connection-specific (`te` is allowed as `trailers`).
fn is_connection_specific(name: &str, value: &[u8]) -> bool {
    CONNECTION_SPECIFIC.iter().any(|c| c.eq_ignore_ascii_case(name))
        || (name.eq_ignore_ascii_case("te") && !trim_ows(value).eq_ignore_ascii_case(b"trailers"))
}

/// Checks caller-supplied extra fields and appends them with lowercase names.
fn push_extra(list: &mut HeaderList, extra: &Headers, managed: &[&str]) -> Result<(), HandshakeError> {
    for (name, value) in extra.iter() {
        check_field(name, value)?;
        if managed.iter().any(|m| m.eq_ignore_ascii_case(name)) {
            return Err(HandshakeError::InvalidInput("header is managed by the handshake"));
        }
        if is_connection_specific(name, value) {
            return Err(HandshakeError::InvalidInput("connection-specific header is not allowed in HTTP/2 or HTTP/3"));
        }
    }
    for (name, value) in extra.iter() {
        list.push(name.to_ascii_lowercase(), value);
    }
    Ok(())
}

/// Whether every byte is visible ASCII (no space, no control, no obs-text).
fn is_visible_ascii(s: &[u8]) -> bool {
    s.iter().all(|b| (0x21..0x7f).contains(b))
}

/// A `:path` for a WebSocket: `/`, then visible ASCII without a fragment.
fn is_valid_path(path: &[u8]) -> bool {
    path.first() == Some(&b'/') && is_visible_ascii(path) && !path.contains(&b'#')
}

/// An `:authority`: `host[:port]`, visible ASCII, without user information or path.
fn is_valid_authority(authority: &[u8]) -> bool {
    !authority.is_empty() && is_visible_ascii(authority) && !authority.iter().any(|b| b"@/?#".contains(b))
}

// ---------------------------------------------------------------------------------------------
// Client.
// ---------------------------------------------------------------------------------------------

/// A client's extended CONNECT request (RFC 8441 §4, §5; RFC 9220): builds the header list to
/// send and checks the server's response.
///
/// The list is, in order: `:method CONNECT`, `:protocol websocket`, `:scheme` (`https` unless
/// [`with_scheme`](Self::with_scheme) says `http`), `:path`, `:authority`,
/// `sec-websocket-version: 13`, then when set `sec-websocket-protocol` (the offered
/// subprotocols, comma-separated), `sec-websocket-extensions`, `origin`, and the extra headers
/// (names lowercased). There is no `sec-websocket-key`: nothing needs a nonce.
///
/// ```
/// use wsproto::handshake::h2::{ConnectOutcome, ExtendedConnectRequest};
///
/// let request = ExtendedConnectRequest::new("example.com:8443", "/chat?room=1")
///     .with_origin("https://example.com")
///     .with_protocol("chat")
///     .with_header("Authorization", "Bearer x");
/// let headers = request.headers()?;
/// let fields: Vec<(&str, &[u8])> = headers.iter().collect();
/// assert_eq!(
///     fields,
///     [
///         (":method", &b"CONNECT"[..]),
///         (":protocol", b"websocket"),
///         (":scheme", b"https"),
///         (":path", b"/chat?room=1"),
///         (":authority", b"example.com:8443"),
///         ("sec-websocket-version", b"13"),
///         ("sec-websocket-protocol", b"chat"),
///         ("origin", b"https://example.com"),
///         ("authorization", b"Bearer x"),
///     ]
/// );
///
/// // The server's answer: a 2xx accepts, anything else is handed back with its status.
/// let accepted = request.check_response([(":status", "200"), ("sec-websocket-protocol", "chat")])?;
/// assert!(matches!(accepted, ConnectOutcome::Accepted(n) if n.protocol.as_deref() == Some("chat")));
/// let rejected = request.check_response_parts(403, [("content-type", "text/plain")])?;
/// assert_eq!(rejected, ConnectOutcome::Rejected { status: 403 });
/// # Ok::<(), wsproto::handshake::HandshakeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtendedConnectRequest {
    scheme: String,
    authority: String,
    path: String,
    origin: Option<String>,
    protocols: Vec<String>,
    extensions: Vec<ExtensionOffer>,
    headers: Headers,
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::DeflateConfig>,
}

impl ExtendedConnectRequest {
    /// A request for `path` (path and query, starting with `/`) on `authority` (`host[:port]`,
    /// IPv6 literals in brackets), with scheme `https`. Both are checked by
    /// [`headers`](Self::headers).
    #[must_use]
    pub fn new(authority: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            scheme: String::from("https"),
            authority: authority.into(),
            path: path.into(),
            origin: None,
            protocols: Vec::new(),
            extensions: Vec::new(),
            headers: Headers::new(),
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// A request for a `ws://` or `wss://` URI: `wss` becomes scheme `https`, `ws` becomes
    /// `http` (RFC 8441 §5), the authority is the host with the port unless it is the scheme's
    /// default, the path is the URI's path and query.
    ///
    /// ```
    /// use wsproto::handshake::h2::ExtendedConnectRequest;
    /// let request = ExtendedConnectRequest::from_ws_uri("ws://[::1]:9000/chat?x=1")?;
    /// assert_eq!((request.scheme(), request.authority(), request.path()), ("http", "[::1]:9000", "/chat?x=1"));
    /// let request = ExtendedConnectRequest::from_ws_uri("wss://example.com:443/")?;
    /// assert_eq!((request.scheme(), request.authority()), ("https", "example.com"));
    /// # Ok::<(), wsproto::handshake::HandshakeError>(())
    /// ```
    ///
    /// # Errors
    /// [`HandshakeError::InvalidUri`] as for
    /// [`ClientRequest::new`](super::ClientRequest::new).
    pub fn from_ws_uri(uri: &str) -> Result<Self, HandshakeError> {
        let uri = WsUri::parse(uri)?;
        let request = Self::new(uri.host_header, uri.resource);
        Ok(if uri.secure { request } else { request.with_scheme("http") })
    }

    /// Sets the `:scheme`: `https` (the default, for `wss` WebSockets) or `http` (for `ws`
    /// WebSockets, such as HTTP/2 over cleartext TCP). Checked by [`headers`](Self::headers).
    #[must_use]
    pub fn with_scheme(mut self, scheme: impl Into<String>) -> Self {
        self.scheme = scheme.into().to_ascii_lowercase();
        self
    }

    /// Sends `origin` (browsers always do; servers may check it).
    #[must_use]
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Offers a subprotocol (a token), after those offered already: the order is the order of
    /// preference.
    #[must_use]
    pub fn with_protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocols.push(protocol.into());
        self
    }

    /// Offers an extension, after those offered already.
    #[must_use]
    pub fn with_extension(mut self, extension: ExtensionOffer) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Offers permessage-deflate (RFC 7692, feature `deflate`) as configured
    /// ([`DeflateConfig::offer`](crate::deflate::DeflateConfig::offer)), after the extensions
    /// offered already. When the server accepts, [`check_response`](Self::check_response)
    /// checks the parameters and [`Negotiated::deflate`] says what is in force.
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn with_deflate(mut self, config: crate::deflate::DeflateConfig) -> Self {
        self.extensions.push(config.offer());
        self.deflate = Some(config);
        self
    }

    /// Adds an extra header (cookies, authorization, …); its name is lowercased when written.
    /// Fields the builder writes itself (`origin`, `sec-websocket-*`), `host`,
    /// `content-length`, `te` and connection-specific fields are refused by
    /// [`headers`](Self::headers).
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push(name, value);
        self
    }

    /// The `:scheme` written: `https` or `http` (lowercase; anything else is refused by
    /// [`headers`](Self::headers)).
    #[must_use]
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The `:authority` written.
    #[must_use]
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The `:path` written.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The subprotocols offered, in order of preference.
    #[must_use]
    pub fn offered_protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The extensions offered.
    #[must_use]
    pub fn offered_extensions(&self) -> &[ExtensionOffer] {
        &self.extensions
    }

    /// The request's header list, pseudo-headers first (see the type's documentation for the
    /// exact list). Send it once the server has announced `SETTINGS_ENABLE_CONNECT_PROTOCOL`.
    /// The builder can be used again.
    ///
    /// # Errors
    /// [`HandshakeError::InvalidUri`] for a scheme other than `http` or `https`, an empty or
    /// invalid authority (user information, path, spaces), or a path that does not start with
    /// `/` or is not printable ASCII; [`HandshakeError::InvalidInput`] for a subprotocol that
    /// is not a token or is offered twice, an extension that cannot be written, an `origin`
    /// with control characters, or an extra header that is invalid or managed by the builder.
    pub fn headers(&self) -> Result<HeaderList, HandshakeError> {
        if self.scheme != "https" && self.scheme != "http" {
            return Err(HandshakeError::InvalidUri("the scheme must be http or https"));
        }
        if !is_valid_authority(self.authority.as_bytes()) {
            return Err(HandshakeError::InvalidUri("the authority is empty or not host[:port]"));
        }
        if !is_valid_path(self.path.as_bytes()) {
            return Err(HandshakeError::InvalidUri("the path must start with / and be printable ASCII"));
        }
        let extensions = check_offer(&self.protocols, &self.extensions, self.origin.as_deref())?;
        let mut list = HeaderList::new();
        list.push(":method", "CONNECT");
        list.push(":protocol", PROTOCOL);
        list.push(":scheme", self.scheme.as_str());
        list.push(":path", self.path.as_str());
        list.push(":authority", self.authority.as_str());
        list.push("sec-websocket-version", VERSION);
        if !self.protocols.is_empty() {
            list.push("sec-websocket-protocol", self.protocols.join(", "));
        }
        if !extensions.is_empty() {
            list.push("sec-websocket-extensions", extensions);
        }
        if let Some(origin) = &self.origin {
            list.push("origin", origin.as_str());
        }
        push_extra(&mut list, &self.headers, &REQUEST_MANAGED)?;
        Ok(list)
    }

    /// Checks the server's response, given as a header list with its `:status` (as HTTP/3
    /// libraries hand it over).
    ///
    /// A `2xx` status accepts (RFC 8441 §5 allows any 2xx; `200` is the norm): the result is
    /// [`ConnectOutcome::Accepted`] with what was negotiated, for
    /// [`Connection::from_negotiated`](crate::Connection::from_negotiated). Any other final
    /// status is [`ConnectOutcome::Rejected`] with that status (read the body from the stream
    /// if you want it). `content-length` in a 2xx response is ignored (RFC 9110 §9.3.6).
    ///
    /// # Errors
    /// [`HandshakeError::MissingHeader`] without `:status`; [`HandshakeError::MalformedHttp`]
    /// for an invalid `:status`, status 101 (not allowed in HTTP/2 and HTTP/3), an unknown or
    /// misplaced pseudo-header or a connection-specific field; [`HandshakeError::DuplicateHeader`]
    /// for a repeated `:status` or `sec-websocket-protocol`; in a 2xx response,
    /// [`HandshakeError::InvalidProtocols`] / [`HandshakeError::UnofferedProtocol`] for a
    /// subprotocol that is not one token or was not offered,
    /// [`HandshakeError::InvalidExtensions`] for a malformed extension list or unacceptable
    /// permessage-deflate parameters, [`HandshakeError::UnofferedExtension`] for an extension
    /// that was not offered or is accepted twice. [`HandshakeError::InvalidInput`] for an
    /// informational status other than 101 (pass the final response, not a 1xx). On error,
    /// reset the stream (`RST_STREAM` with `CANCEL`).
    pub fn check_response<I>(&self, response: I) -> Result<ConnectOutcome, HandshakeError>
    where
        I: IntoIterator,
        I::Item: HeaderField,
    {
        let ([status], headers) = split(response, &RESPONSE_PSEUDO)?;
        let status = status.ok_or(HandshakeError::MissingHeader(":status"))?;
        let status = parse_status(&status).ok_or(HandshakeError::MalformedHttp("invalid :status"))?;
        self.check(status, &headers)
    }

    /// As [`check_response`](Self::check_response), with the status apart from the regular
    /// header fields (as the `h2` crate hands them over: `response.status().as_u16()` and
    /// `response.headers()`). `headers` may not hold pseudo-headers.
    ///
    /// # Errors
    /// As for [`check_response`](Self::check_response); [`HandshakeError::MalformedHttp`] for a
    /// status outside 100–999 or a pseudo-header in `headers`.
    pub fn check_response_parts<I>(&self, status: u16, headers: I) -> Result<ConnectOutcome, HandshakeError>
    where
        I: IntoIterator,
        I::Item: HeaderField,
    {
        if !(100..=999).contains(&status) {
            return Err(HandshakeError::MalformedHttp("invalid :status"));
        }
        let ([], headers) = split(headers, &[])?;
        self.check(status, &headers)
    }

    fn check(&self, status: u16, h: &Headers) -> Result<ConnectOutcome, HandshakeError> {
        if status == 101 {
            return Err(HandshakeError::MalformedHttp("status 101 is not allowed in HTTP/2 and HTTP/3"));
        }
        if status < 200 {
            return Err(HandshakeError::InvalidInput("an informational (1xx) response is not the final response"));
        }
        if status >= 300 {
            return Ok(ConnectOutcome::Rejected { status });
        }
        #[cfg(feature = "deflate")]
        let deflate = self.deflate.as_ref();
        #[cfg(not(feature = "deflate"))]
        let deflate = None;
        negotiate_response(h, &FieldNames::H2, &self.protocols, &self.extensions, deflate).map(ConnectOutcome::Accepted)
    }
}

/// What a client's [`ExtendedConnectRequest::check_response`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectOutcome {
    /// A 2xx response: the stream is a WebSocket. Build the connection with
    /// [`Connection::from_negotiated`](crate::Connection::from_negotiated) and exchange frames
    /// in the stream's DATA frames.
    Accepted(Negotiated),
    /// Any other final status (a redirect, an authentication challenge, an error, …): no
    /// WebSocket. The body, if any, follows on the stream.
    Rejected {
        /// The response's status.
        status: u16,
    },
}

// ---------------------------------------------------------------------------------------------
// Server.
// ---------------------------------------------------------------------------------------------

/// A valid extended CONNECT request for a WebSocket, received by a server (RFC 8441 §4, §5;
/// RFC 9220): inspect it, then answer with [`accept`](Self::accept) or with any other status
/// ([`error_response`] for the errors of [`parse`](Self::parse)).
///
/// ```
/// use wsproto::handshake::h2::{ExtendedConnect, H2Accept};
/// use wsproto::handshake::{ExtensionOffer, HandshakeError};
///
/// let request: [(&str, &[u8]); 8] = [
///     (":method", b"CONNECT"),
///     (":protocol", b"websocket"),
///     (":scheme", b"https"),
///     (":path", b"/chat"),
///     (":authority", b"server.example.com"),
///     ("sec-websocket-version", b"13"),
///     ("sec-websocket-protocol", b"chat, superchat"),
///     ("origin", b"http://example.com"),
/// ];
/// let connect = ExtendedConnect::parse(request)?;
/// assert_eq!(connect.path(), "/chat");
/// assert_eq!(connect.origin(), Some("http://example.com"));
/// assert_eq!(connect.protocols(), ["chat", "superchat"]);
///
/// let (response, negotiated) = connect.accept(&H2Accept::new().with_protocol("chat"))?;
/// let fields: Vec<(&str, &[u8])> = response.iter().collect();
/// assert_eq!(fields, [(":status", &b"200"[..]), ("sec-websocket-protocol", b"chat")]);
/// assert_eq!(negotiated.protocol.as_deref(), Some("chat"));
/// # Ok::<(), HandshakeError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtendedConnect {
    scheme: String,
    authority: String,
    path: String,
    headers: Headers,
    protocols: Vec<String>,
    extensions: Vec<ExtensionOffer>,
}

impl ExtendedConnect {
    /// Checks a received request header list, pseudo-headers included.
    ///
    /// The request must have, each once and before the regular fields, `:method CONNECT`,
    /// `:protocol websocket` (case-insensitive), `:scheme` `http` or `https`, a `:path`
    /// starting with `/` and an `:authority`, and no other pseudo-header; one
    /// `sec-websocket-version: 13`; at most one `origin`; well-formed subprotocol and
    /// extension lists; no connection-specific field (`connection`, `upgrade`, `keep-alive`,
    /// `proxy-connection`, `transfer-encoding`, `te` other than `trailers`). `host`,
    /// `sec-websocket-key` and anything else are kept in [`headers`](Self::headers) but play no
    /// part.
    ///
    /// # Errors
    /// Answer each with [`error_response`] (status [`error_status`]): 400 for all of them.
    /// [`HandshakeError::MissingHeader`] for a missing pseudo-header (its name is given);
    /// [`HandshakeError::MalformedHttp`] for a `:method` other than `CONNECT`, an invalid
    /// `:scheme`, `:path` or `:authority`, an unknown or misplaced pseudo-header, or a
    /// connection-specific field; [`HandshakeError::UpgradeNotWebSocket`] for a `:protocol`
    /// other than `websocket`; [`HandshakeError::DuplicateHeader`] for a repeated
    /// pseudo-header, `sec-websocket-version` or `origin`;
    /// [`HandshakeError::UnsupportedVersion`] for a missing or other version (answered with
    /// 400 and `sec-websocket-version: 13`, see [`error_status`]);
    /// [`HandshakeError::InvalidProtocols`] and [`HandshakeError::InvalidExtensions`] for
    /// malformed lists.
    pub fn parse<I>(request: I) -> Result<Self, HandshakeError>
    where
        I: IntoIterator,
        I::Item: HeaderField,
    {
        let ([method, protocol, scheme, path, authority], headers) = split(request, &REQUEST_PSEUDO)?;
        let method = method.ok_or(HandshakeError::MissingHeader(":method"))?;
        if method != b"CONNECT" {
            return Err(HandshakeError::MalformedHttp("a WebSocket over HTTP/2 or HTTP/3 needs :method CONNECT"));
        }
        let protocol = protocol.ok_or(HandshakeError::MissingHeader(":protocol"))?;
        if !protocol.eq_ignore_ascii_case(PROTOCOL.as_bytes()) {
            return Err(HandshakeError::UpgradeNotWebSocket);
        }
        let scheme = scheme.ok_or(HandshakeError::MissingHeader(":scheme"))?;
        let scheme = if scheme.eq_ignore_ascii_case(b"https") {
            "https"
        } else if scheme.eq_ignore_ascii_case(b"http") {
            "http"
        } else {
            return Err(HandshakeError::MalformedHttp(":scheme must be http or https"));
        };
        let path = path.ok_or(HandshakeError::MissingHeader(":path"))?;
        if !is_valid_path(&path) {
            return Err(HandshakeError::MalformedHttp("invalid :path"));
        }
        let authority = authority.ok_or(HandshakeError::MissingHeader(":authority"))?;
        if !is_valid_authority(&authority) {
            return Err(HandshakeError::MalformedHttp("invalid :authority"));
        }
        let (protocols, extensions) = read_offer(&headers, &FieldNames::H2)?;
        // Both were checked as visible ASCII.
        let text = |v: Vec<u8>| String::from_utf8(v).unwrap_or_default();
        Ok(Self {
            scheme: scheme.to_owned(),
            authority: text(authority),
            path: text(path),
            headers,
            protocols,
            extensions,
        })
    }

    /// The `:scheme`, lowercase: `https` (a `wss` WebSocket) or `http` (a `ws` one).
    #[must_use]
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The `:authority`: `host[:port]`.
    #[must_use]
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The `:path`: path and query, such as `/chat?room=1`.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The regular header fields (every field but the pseudo-headers), in order.
    #[must_use]
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The `origin` field (sent by browsers), if present and UTF-8.
    #[must_use]
    pub fn origin(&self) -> Option<&str> {
        self.headers.get_str("origin")
    }

    /// The subprotocols offered, in the client's order of preference.
    #[must_use]
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The extensions offered, in order (one extension may be offered several times).
    #[must_use]
    pub fn extensions(&self) -> &[ExtensionOffer] {
        &self.extensions
    }

    /// The first offered subprotocol, in the client's order of preference, that is in
    /// `supported`.
    #[must_use]
    pub fn select_protocol(&self, supported: &[&str]) -> Option<&str> {
        self.protocols.iter().map(String::as_str).find(|p| supported.contains(p))
    }

    /// Accepts the WebSocket: the response header list (`:status 200`, then when chosen
    /// `sec-websocket-protocol` and `sec-websocket-extensions`, then the extra headers of
    /// `accept` with lowercased names) and what was negotiated, for
    /// [`Connection::from_negotiated`](crate::Connection::from_negotiated). Send the response
    /// without `END_STREAM`: the stream carries the WebSocket from then on.
    ///
    /// # Errors
    /// [`HandshakeError::InvalidInput`] when the subprotocol or an extension was not offered,
    /// an extension is accepted twice, an extension cannot be written, or an extra header is
    /// invalid, managed by this method (`sec-websocket-*`, `content-length`, `te`) or
    /// connection-specific. The request can be accepted or rejected again.
    pub fn accept(&self, accept: &H2Accept) -> Result<(HeaderList, Negotiated), HandshakeError> {
        let mut fields = Headers::new();
        let negotiated = accept.inner.negotiate(&self.protocols, &self.extensions, &FieldNames::H2, &mut fields)?;
        let mut list = HeaderList::new();
        list.push(":status", "200");
        for (name, value) in fields.iter() {
            list.push(name, value);
        }
        push_extra(&mut list, accept.inner.headers(), &RESPONSE_MANAGED)?;
        Ok((list, negotiated))
    }
}

/// How a server accepts an extended CONNECT WebSocket request: the chosen subprotocol, the
/// accepted extensions (with the response's parameters), permessage-deflate, and extra response
/// headers. The HTTP/2 and HTTP/3 counterpart of [`Accept`], whose negotiation it runs.
///
/// ```
/// use wsproto::handshake::ExtensionOffer;
/// use wsproto::handshake::h2::H2Accept;
/// let accept = H2Accept::new()
///     .with_protocol("chat")
///     .with_extension(ExtensionOffer::new("x-custom").with_param("level", "2"))
///     .with_header("set-cookie", "session=1");
/// # let _ = accept;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct H2Accept {
    /// The choices; only the extra headers are written differently (lowercase names, checked
    /// against HTTP/2's rules).
    inner: Accept,
}

impl H2Accept {
    /// Accept with no subprotocol, no extension and no extra header.
    #[must_use]
    pub const fn new() -> Self {
        Self { inner: Accept::new() }
    }

    /// Selects a subprotocol (it must be one the client offered).
    #[must_use]
    pub fn with_protocol(self, protocol: impl Into<String>) -> Self {
        Self { inner: self.inner.with_protocol(protocol) }
    }

    /// Accepts an extension (one the client offered), with the response's parameters.
    #[must_use]
    pub fn with_extension(self, extension: ExtensionOffer) -> Self {
        Self { inner: self.inner.with_extension(extension) }
    }

    /// Accepts permessage-deflate (RFC 7692, feature `deflate`) if the client offered it in a
    /// form `config` can agree to, as [`Accept::with_deflate`](super::Accept::with_deflate)
    /// does; without an acceptable offer the WebSocket runs uncompressed.
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn with_deflate(self, config: crate::deflate::DeflateConfig) -> Self {
        Self { inner: self.inner.with_deflate(config) }
    }

    /// Adds an extra header to the response (its name is lowercased when written).
    #[must_use]
    pub fn with_header(self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        Self { inner: self.inner.with_header(name, value) }
    }
}

/// The status a server answers a [`HandshakeError`] with on HTTP/2 or HTTP/3: the error's
/// [`status_hint`](HandshakeError::status_hint), except
/// [`UnsupportedVersion`](HandshakeError::UnsupportedVersion), which is 400 here rather than
/// 426.
///
/// RFC 8441 §5 keeps RFC 6455's handling of `sec-websocket-version`: an unsupported version is
/// answered with an error status and `sec-websocket-version: 13`, 426 being RFC 6455's example.
/// But a 426 response must carry an `Upgrade` field (RFC 9110 §15.5.22), which HTTP/2 and
/// HTTP/3 forbid, so this module answers 400 (with `sec-websocket-version: 13`, see
/// [`error_response`]).
///
/// ```
/// use wsproto::handshake::HandshakeError;
/// use wsproto::handshake::h2::error_status;
/// assert_eq!(error_status(&HandshakeError::UnsupportedVersion), 400);
/// assert_eq!(error_status(&HandshakeError::MissingHeader(":path")), 400);
/// ```
#[must_use]
pub const fn error_status(err: &HandshakeError) -> u16 {
    match err {
        HandshakeError::UnsupportedVersion => 400,
        other => other.status_hint(),
    }
}

/// The response header list that answers a [`HandshakeError`] on HTTP/2 or HTTP/3:
/// `:status` [`error_status`], `sec-websocket-version: 13` for
/// [`UnsupportedVersion`](HandshakeError::UnsupportedVersion), and
/// `content-type: text/plain; charset=utf-8` for a body that says what went wrong (send the
/// error's `Display` text, or nothing, then `END_STREAM`).
///
/// ```
/// use wsproto::handshake::HandshakeError;
/// use wsproto::handshake::h2::error_response;
/// let response = error_response(&HandshakeError::UnsupportedVersion);
/// let fields: Vec<(&str, &[u8])> = response.iter().collect();
/// assert_eq!(
///     fields,
///     [
///         (":status", &b"400"[..]),
///         ("sec-websocket-version", b"13"),
///         ("content-type", b"text/plain; charset=utf-8"),
///     ]
/// );
/// ```
#[must_use]
pub fn error_response(err: &HandshakeError) -> HeaderList {
    let mut list = HeaderList::new();
    list.push(":status", error_status(err).to_string());
    if matches!(err, HandshakeError::UnsupportedVersion) {
        list.push("sec-websocket-version", VERSION);
    }
    list.push("content-type", "text/plain; charset=utf-8");
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;
    use alloc::vec;

    type Fields = Vec<(String, Vec<u8>)>;

    fn fields(list: &[(&str, &str)]) -> Fields {
        list.iter().map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec())).collect()
    }

    fn good_request() -> Fields {
        fields(&[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":path", "/chat"),
            (":authority", "example.com"),
            ("sec-websocket-version", "13"),
        ])
    }

    fn with(mut base: Fields, extra: &[(&str, &str)]) -> Fields {
        base.extend(fields(extra));
        base
    }

    fn without(base: Fields, name: &str) -> Fields {
        base.into_iter().filter(|(n, _)| n != name).collect()
    }

    fn replace(base: Fields, name: &str, value: &str) -> Fields {
        base.into_iter().map(|(n, v)| if n == name { (n, value.as_bytes().to_vec()) } else { (n, v) }).collect()
    }

    fn pairs(list: &HeaderList) -> Vec<(&str, &str)> {
        list.iter().map(|(n, v)| (n, core::str::from_utf8(v).unwrap())).collect()
    }

    #[test]
    fn request_header_list() {
        let request = ExtendedConnectRequest::new("example.com:8443", "/chat?x=1")
            .with_origin("https://example.com")
            .with_protocol("a")
            .with_protocol("b")
            .with_extension(ExtensionOffer::new("x").with_flag("y"))
            .with_header("Cookie", "k=v");
        let list = request.headers().unwrap();
        assert_eq!(
            pairs(&list),
            [
                (":method", "CONNECT"),
                (":protocol", "websocket"),
                (":scheme", "https"),
                (":path", "/chat?x=1"),
                (":authority", "example.com:8443"),
                ("sec-websocket-version", "13"),
                ("sec-websocket-protocol", "a, b"),
                ("sec-websocket-extensions", "x; y"),
                ("origin", "https://example.com"),
                ("cookie", "k=v"),
            ]
        );
        assert_eq!(list.pseudo().count(), 5);
        assert_eq!(list.regular().count(), 5);
        assert_eq!(list.get("Cookie"), Some(&b"k=v"[..]));
        assert_eq!(list.get(":Path"), None);
        assert_eq!(list.status(), None);
        assert!(list.iter().all(|(n, _)| !n.bytes().any(|b| b.is_ascii_uppercase())));
        for forbidden in ["sec-websocket-key", "upgrade", "connection", "host"] {
            assert_eq!(list.get(forbidden), None);
        }
        assert_eq!((request.scheme(), request.authority(), request.path()), ("https", "example.com:8443", "/chat?x=1"));
        assert_eq!(request.offered_protocols(), ["a", "b"]);
        assert_eq!(request.offered_extensions().len(), 1);
        let upper = ExtendedConnectRequest::new("a", "/").with_scheme("HTTP");
        assert_eq!(upper.scheme(), "http");
        let minimal = upper.headers().unwrap();
        assert_eq!(
            pairs(&minimal),
            [
                (":method", "CONNECT"),
                (":protocol", "websocket"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "a"),
                ("sec-websocket-version", "13"),
            ]
        );
    }

    #[test]
    fn from_ws_uri() {
        let r = ExtendedConnectRequest::from_ws_uri("ws://example.com/").unwrap();
        assert_eq!((r.scheme(), r.authority(), r.path()), ("http", "example.com", "/"));
        let r = ExtendedConnectRequest::from_ws_uri("wss://example.com:8443").unwrap();
        assert_eq!((r.scheme(), r.authority(), r.path()), ("https", "example.com:8443", "/"));
        assert!(matches!(ExtendedConnectRequest::from_ws_uri("http://a/"), Err(HandshakeError::InvalidUri(_))));
    }

    #[test]
    fn request_builder_rejects_bad_input() {
        let r = || ExtendedConnectRequest::new("example.com", "/");
        let cases = [
            (r().with_scheme("ftp"), HandshakeError::InvalidUri("the scheme must be http or https")),
            (
                ExtendedConnectRequest::new("", "/"),
                HandshakeError::InvalidUri("the authority is empty or not host[:port]"),
            ),
            (
                ExtendedConnectRequest::new("u@h", "/"),
                HandshakeError::InvalidUri("the authority is empty or not host[:port]"),
            ),
            (
                ExtendedConnectRequest::new("h/x", "/"),
                HandshakeError::InvalidUri("the authority is empty or not host[:port]"),
            ),
            (
                ExtendedConnectRequest::new("h", "x"),
                HandshakeError::InvalidUri("the path must start with / and be printable ASCII"),
            ),
            (
                ExtendedConnectRequest::new("h", "/a b"),
                HandshakeError::InvalidUri("the path must start with / and be printable ASCII"),
            ),
            (
                ExtendedConnectRequest::new("h", "/a#b"),
                HandshakeError::InvalidUri("the path must start with / and be printable ASCII"),
            ),
            (r().with_protocol("a b"), HandshakeError::InvalidInput("subprotocol is not a token")),
            (r().with_protocol("a").with_protocol("a"), HandshakeError::InvalidInput("subprotocol offered twice")),
            (
                r().with_origin("x\r\ny"),
                HandshakeError::InvalidInput("origin is empty or contains a control character"),
            ),
            (r().with_origin(""), HandshakeError::InvalidInput("origin is empty or contains a control character")),
            (
                r().with_extension(ExtensionOffer::new("a b")),
                HandshakeError::InvalidInput("extension name is not a token"),
            ),
            (r().with_header(":path", "/"), HandshakeError::InvalidInput("header name is not a token")),
            (r().with_header("x", "a\nb"), HandshakeError::InvalidInput("header value contains a control character")),
        ];
        for (request, err) in cases {
            assert_eq!(request.headers(), Err(err), "{request:?}");
        }
        for managed in ["Host", "origin", "Sec-WebSocket-Key", "sec-websocket-version", "content-length", "te"] {
            assert_eq!(
                r().with_header(managed, "x").headers(),
                Err(HandshakeError::InvalidInput("header is managed by the handshake")),
                "{managed}"
            );
        }
        for specific in ["Connection", "upgrade", "keep-alive", "proxy-connection", "transfer-encoding"] {
            assert_eq!(
                r().with_header(specific, "x").headers(),
                Err(HandshakeError::InvalidInput("connection-specific header is not allowed in HTTP/2 or HTTP/3")),
                "{specific}"
            );
        }
    }

    #[test]
    fn server_parses_a_good_request() {
        let request = with(
            good_request(),
            &[
                ("origin", "http://a"),
                ("sec-websocket-protocol", "a, b"),
                ("Sec-WebSocket-Protocol", "c"),
                ("sec-websocket-extensions", "x; p=1, y"),
                ("sec-websocket-key", "ignored"),
                ("te", "trailers"),
                ("cookie", "k=v"),
            ],
        );
        let c = ExtendedConnect::parse(&request).unwrap();
        assert_eq!((c.scheme(), c.authority(), c.path()), ("https", "example.com", "/chat"));
        assert_eq!(c.origin(), Some("http://a"));
        assert_eq!(c.protocols(), ["a", "b", "c"]);
        assert_eq!(c.extensions().len(), 2);
        assert_eq!(c.select_protocol(&["c", "b"]), Some("b"));
        assert_eq!(c.select_protocol(&["z"]), None);
        assert_eq!(c.headers().get("cookie"), Some(&b"k=v"[..]));
        assert_eq!(c.headers().len(), 8);
        // Case-insensitive :protocol and :scheme, tolerant version whitespace.
        let loose = replace(replace(good_request(), ":protocol", "WebSocket"), ":scheme", "HTTP");
        let loose = replace(loose, "sec-websocket-version", " 13 ");
        let c = ExtendedConnect::parse(loose).unwrap();
        assert_eq!(c.scheme(), "http");
        // Borrowed pairs work as input too.
        let borrowed: [(&str, &[u8]); 6] = [
            (":method", b"CONNECT"),
            (":protocol", b"websocket"),
            (":scheme", b"https"),
            (":path", b"/"),
            (":authority", b"[::1]:443"),
            ("sec-websocket-version", b"13"),
        ];
        assert_eq!(ExtendedConnect::parse(borrowed).unwrap().authority(), "[::1]:443");
    }

    #[test]
    fn server_rejection_paths() {
        let g = good_request;
        let cases: Vec<(Fields, HandshakeError)> = vec![
            (without(g(), ":method"), HandshakeError::MissingHeader(":method")),
            (
                replace(g(), ":method", "GET"),
                HandshakeError::MalformedHttp("a WebSocket over HTTP/2 or HTTP/3 needs :method CONNECT"),
            ),
            (
                replace(g(), ":method", "connect"),
                HandshakeError::MalformedHttp("a WebSocket over HTTP/2 or HTTP/3 needs :method CONNECT"),
            ),
            (without(g(), ":protocol"), HandshakeError::MissingHeader(":protocol")),
            (replace(g(), ":protocol", "h3-datagram"), HandshakeError::UpgradeNotWebSocket),
            (without(g(), ":scheme"), HandshakeError::MissingHeader(":scheme")),
            (replace(g(), ":scheme", "ws"), HandshakeError::MalformedHttp(":scheme must be http or https")),
            (without(g(), ":path"), HandshakeError::MissingHeader(":path")),
            (replace(g(), ":path", ""), HandshakeError::MalformedHttp("invalid :path")),
            (replace(g(), ":path", "chat"), HandshakeError::MalformedHttp("invalid :path")),
            (replace(g(), ":path", "/a b"), HandshakeError::MalformedHttp("invalid :path")),
            (without(g(), ":authority"), HandshakeError::MissingHeader(":authority")),
            (replace(g(), ":authority", ""), HandshakeError::MalformedHttp("invalid :authority")),
            (replace(g(), ":authority", "user@host"), HandshakeError::MalformedHttp("invalid :authority")),
            (with(g(), &[(":path", "/x")]), HandshakeError::MalformedHttp("pseudo-header field after a regular field")),
            (
                {
                    let mut f = fields(&[(":path", "/x")]);
                    f.extend(g());
                    f
                },
                HandshakeError::DuplicateHeader(":path"),
            ),
            (
                {
                    let mut f = fields(&[(":status", "200")]);
                    f.extend(g());
                    f
                },
                HandshakeError::MalformedHttp("unknown pseudo-header field"),
            ),
            (
                {
                    let mut f = fields(&[(":Method", "CONNECT")]);
                    f.extend(without(g(), ":method"));
                    f
                },
                HandshakeError::MalformedHttp("unknown pseudo-header field"),
            ),
            (without(g(), "sec-websocket-version"), HandshakeError::UnsupportedVersion),
            (replace(g(), "sec-websocket-version", "8"), HandshakeError::UnsupportedVersion),
            (replace(g(), "sec-websocket-version", "13, 8"), HandshakeError::UnsupportedVersion),
            (with(g(), &[("Sec-WebSocket-Version", "13")]), HandshakeError::DuplicateHeader("sec-websocket-version")),
            (with(g(), &[("origin", "a"), ("origin", "b")]), HandshakeError::DuplicateHeader("origin")),
            (with(g(), &[("sec-websocket-protocol", "a b")]), HandshakeError::InvalidProtocols),
            (with(g(), &[("sec-websocket-protocol", "")]), HandshakeError::InvalidProtocols),
            (
                with(g(), &[("sec-websocket-extensions", "x;;")]),
                HandshakeError::InvalidExtensions("expected a parameter name"),
            ),
            (with(g(), &[("", "x")]), HandshakeError::MalformedHttp("empty field name")),
        ];
        for (request, err) in &cases {
            assert_eq!(ExtendedConnect::parse(request).as_ref().err(), Some(err), "{request:?}");
            assert_eq!(error_status(err), 400, "{err:?}");
        }
        for specific in ["connection", "Upgrade", "keep-alive", "proxy-connection", "transfer-encoding", "te"] {
            let request = with(g(), &[(specific, "x")]);
            assert_eq!(
                ExtendedConnect::parse(request),
                Err(HandshakeError::MalformedHttp("connection-specific field in HTTP/2 or HTTP/3")),
                "{specific}"
            );
        }
        assert!(ExtendedConnect::parse(g()).is_ok());
    }

    #[test]
    fn error_responses() {
        let version = error_response(&HandshakeError::UnsupportedVersion);
        assert_eq!(version.status(), Some(400));
        assert_eq!(version.get("sec-websocket-version"), Some(&b"13"[..]));
        let missing = error_response(&HandshakeError::MissingHeader(":protocol"));
        assert_eq!(pairs(&missing), [(":status", "400"), ("content-type", "text/plain; charset=utf-8")]);
        assert_eq!(error_response(&HandshakeError::InvalidInput("x")).status(), Some(500));
    }

    #[test]
    fn accept_builds_the_response() {
        let c = ExtendedConnect::parse(with(
            good_request(),
            &[("sec-websocket-protocol", "a, b"), ("sec-websocket-extensions", "x, y; q")],
        ))
        .unwrap();
        let accept = H2Accept::new()
            .with_protocol("b")
            .with_extension(ExtensionOffer::new("y").with_flag("q"))
            .with_header("Set-Cookie", "s=1");
        let (list, n) = c.accept(&accept).unwrap();
        assert_eq!(
            pairs(&list),
            [
                (":status", "200"),
                ("sec-websocket-protocol", "b"),
                ("sec-websocket-extensions", "y; q"),
                ("set-cookie", "s=1")
            ]
        );
        assert_eq!(n.role, Role::Server);
        assert_eq!(n.protocol.as_deref(), Some("b"));
        assert_eq!(n.extensions, [ExtensionOffer::new("y").with_flag("q")]);
        assert_eq!(n.reserved_bits, 0);
        let (list, n) = c.accept(&H2Accept::new()).unwrap();
        assert_eq!(pairs(&list), [(":status", "200")]);
        assert_eq!(n.protocol, None);
    }

    #[test]
    fn accept_rejects_bad_choices() {
        let c = ExtendedConnect::parse(with(
            good_request(),
            &[("sec-websocket-protocol", "a"), ("sec-websocket-extensions", "x")],
        ))
        .unwrap();
        let cases = [
            (H2Accept::new().with_protocol("b"), "subprotocol was not offered"),
            (H2Accept::new().with_extension(ExtensionOffer::new("y")), "extension was not offered"),
            (
                H2Accept::new().with_extension(ExtensionOffer::new("x")).with_extension(ExtensionOffer::new("X")),
                "extension accepted twice",
            ),
            (
                H2Accept::new().with_extension(ExtensionOffer::new("x").with_param("a", "b c")),
                "extension parameter value is not a token",
            ),
            (H2Accept::new().with_header("sec-websocket-accept", "x"), "header is managed by the handshake"),
            (H2Accept::new().with_header("Sec-WebSocket-Protocol", "a"), "header is managed by the handshake"),
            (H2Accept::new().with_header("content-length", "0"), "header is managed by the handshake"),
            (
                H2Accept::new().with_header("connection", "close"),
                "connection-specific header is not allowed in HTTP/2 or HTTP/3",
            ),
            (H2Accept::new().with_header(":status", "201"), "header name is not a token"),
            (H2Accept::new().with_header("x", "\r\n"), "header value contains a control character"),
        ];
        for (accept, what) in cases {
            assert_eq!(c.accept(&accept), Err(HandshakeError::InvalidInput(what)), "{accept:?}");
        }
    }

    fn offered(protocols: &[&str], extensions: &[&str]) -> ExtendedConnectRequest {
        let mut r = ExtendedConnectRequest::new("example.com", "/");
        for p in protocols {
            r = r.with_protocol(*p);
        }
        for e in extensions {
            r = r.with_extension(ExtensionOffer::new(*e));
        }
        r
    }

    #[test]
    fn client_accepts_good_responses() {
        let r = offered(&["a", "b"], &["x", "y"]);
        let response = fields(&[
            (":status", "200"),
            ("sec-websocket-protocol", "b"),
            ("sec-websocket-extensions", "y; p=1"),
            ("content-length", "0"),
            ("set-cookie", "s=1"),
        ]);
        let ConnectOutcome::Accepted(n) = r.check_response(response).unwrap() else { panic!() };
        assert_eq!(n.role, Role::Client);
        assert_eq!(n.protocol.as_deref(), Some("b"));
        assert_eq!(n.extensions, [ExtensionOffer::new("y").with_param("p", "1")]);
        assert_eq!(n.reserved_bits, 0);
        // Any 2xx accepts; the status may come apart from the fields.
        let outcome = r.check_response_parts(204, [("Sec-WebSocket-Protocol", " a ")]).unwrap();
        assert!(matches!(outcome, ConnectOutcome::Accepted(n) if n.protocol.as_deref() == Some("a")));
        let outcome = r.check_response([(":status", "299")]).unwrap();
        assert!(matches!(outcome, ConnectOutcome::Accepted(n) if n.protocol.is_none() && n.extensions.is_empty()));
    }

    #[test]
    fn client_reports_rejections_with_their_status() {
        let r = offered(&["a"], &[]);
        for status in [300u16, 302, 400, 401, 403, 404, 426, 500, 503, 999] {
            let s = status.to_string();
            assert_eq!(
                r.check_response([(":status", s.as_str()), ("www-authenticate", "Basic")]),
                Ok(ConnectOutcome::Rejected { status })
            );
            assert_eq!(r.check_response_parts(status, [("x", "y")]), Ok(ConnectOutcome::Rejected { status }));
        }
        // A rejection's fields are not held to the WebSocket rules.
        assert_eq!(
            r.check_response([(":status", "400"), ("sec-websocket-protocol", "zzz")]),
            Ok(ConnectOutcome::Rejected { status: 400 })
        );
    }

    #[test]
    fn client_rejection_paths() {
        let r = offered(&["a", "b"], &["x"]);
        let cases: Vec<(Vec<(&str, &str)>, HandshakeError)> = vec![
            (vec![], HandshakeError::MissingHeader(":status")),
            (vec![("sec-websocket-protocol", "a")], HandshakeError::MissingHeader(":status")),
            (vec![(":status", "20")], HandshakeError::MalformedHttp("invalid :status")),
            (vec![(":status", "2000")], HandshakeError::MalformedHttp("invalid :status")),
            (vec![(":status", "099")], HandshakeError::MalformedHttp("invalid :status")),
            (vec![(":status", "ok!")], HandshakeError::MalformedHttp("invalid :status")),
            (vec![(":status", "200"), (":status", "200")], HandshakeError::DuplicateHeader(":status")),
            (
                vec![("x", "y"), (":status", "200")],
                HandshakeError::MalformedHttp("pseudo-header field after a regular field"),
            ),
            (vec![(":status", "200"), (":path", "/")], HandshakeError::MalformedHttp("unknown pseudo-header field")),
            (vec![(":status", "101")], HandshakeError::MalformedHttp("status 101 is not allowed in HTTP/2 and HTTP/3")),
            (
                vec![(":status", "103")],
                HandshakeError::InvalidInput("an informational (1xx) response is not the final response"),
            ),
            (
                vec![(":status", "200"), ("connection", "upgrade")],
                HandshakeError::MalformedHttp("connection-specific field in HTTP/2 or HTTP/3"),
            ),
            (
                vec![(":status", "200"), ("upgrade", "websocket")],
                HandshakeError::MalformedHttp("connection-specific field in HTTP/2 or HTTP/3"),
            ),
            (vec![(":status", "200"), ("sec-websocket-protocol", "c")], HandshakeError::UnofferedProtocol),
            (vec![(":status", "200"), ("sec-websocket-protocol", "a, b")], HandshakeError::InvalidProtocols),
            (vec![(":status", "200"), ("sec-websocket-protocol", "")], HandshakeError::InvalidProtocols),
            (
                vec![(":status", "200"), ("sec-websocket-protocol", "a"), ("sec-websocket-protocol", "a")],
                HandshakeError::DuplicateHeader("sec-websocket-protocol"),
            ),
            (vec![(":status", "200"), ("sec-websocket-extensions", "y")], HandshakeError::UnofferedExtension),
            (
                vec![(":status", "200"), ("sec-websocket-extensions", "x"), ("sec-websocket-extensions", "X")],
                HandshakeError::UnofferedExtension,
            ),
            (
                vec![(":status", "200"), ("sec-websocket-extensions", "x;")],
                HandshakeError::InvalidExtensions("expected a parameter name"),
            ),
        ];
        for (response, err) in cases {
            assert_eq!(r.check_response(response.clone()), Err(err), "{response:?}");
        }
        let no_protocols = offered(&[], &[]);
        assert_eq!(
            no_protocols.check_response([(":status", "200"), ("sec-websocket-protocol", "a")]),
            Err(HandshakeError::UnofferedProtocol)
        );
        assert_eq!(r.check_response_parts(99, [("x", "y")]), Err(HandshakeError::MalformedHttp("invalid :status")));
        assert_eq!(r.check_response_parts(1000, [("x", "y")]), Err(HandshakeError::MalformedHttp("invalid :status")));
        assert_eq!(
            r.check_response_parts(200, [(":status", "200")]),
            Err(HandshakeError::MalformedHttp("unknown pseudo-header field"))
        );
    }

    #[test]
    fn round_trip_and_frames() {
        let request = ExtendedConnectRequest::new("example.com", "/chat")
            .with_scheme("http")
            .with_origin("http://example.com")
            .with_protocol("chat")
            .with_protocol("superchat")
            .with_extension(ExtensionOffer::new("x-ext").with_flag("f"))
            .with_header("authorization", "Bearer t");
        let request_headers = request.headers().unwrap();
        let connect = ExtendedConnect::parse(&request_headers).unwrap();
        assert_eq!((connect.scheme(), connect.authority(), connect.path()), ("http", "example.com", "/chat"));
        assert_eq!(connect.origin(), Some("http://example.com"));
        assert_eq!(connect.headers().get("authorization"), Some(&b"Bearer t"[..]));
        let protocol = connect.select_protocol(&["superchat"]).unwrap();
        let accept = H2Accept::new().with_protocol(protocol).with_extension(ExtensionOffer::new("x-ext"));
        let (response_headers, server_n) = connect.accept(&accept).unwrap();
        let ConnectOutcome::Accepted(client_n) = request.check_response(&response_headers).unwrap() else { panic!() };
        // The parts form sees the same thing.
        let parts = request.check_response_parts(response_headers.status().unwrap(), response_headers.regular());
        assert_eq!(parts, Ok(ConnectOutcome::Accepted(client_n.clone())));
        assert_eq!(client_n.role, Role::Client);
        assert_eq!(server_n.role, Role::Server);
        assert_eq!(client_n.protocol, server_n.protocol);
        assert_eq!(client_n.extensions, server_n.extensions);
        assert!(client_n.has_extension("X-EXT"));

        // The stream's bytes are RFC 6455 frames; the client masks.
        let mut client = crate::Connection::from_negotiated_with_key_source(
            &client_n,
            crate::Config::new(),
            crate::KeySource::seeded(7),
        );
        let mut server = crate::Connection::from_negotiated(&server_n, crate::Config::new());
        let mut to_server = Vec::new();
        client.send_text("hello", &mut to_server).unwrap();
        assert_eq!(to_server[1] & 0x80, 0x80, "client frames are masked");
        let received = server.receive(&mut to_server).unwrap();
        assert!(matches!(received.event, Some(crate::Event::Data { data: b"hello", .. })));
        let mut to_client = Vec::new();
        server.send_binary(b"hi", &mut to_client).unwrap();
        assert_eq!(to_client, [0x82, 0x02, b'h', b'i'], "server frames are not masked");
        let received = client.receive(&mut to_client).unwrap();
        assert!(matches!(received.event, Some(crate::Event::Data { data: b"hi", .. })));
    }

    #[test]
    fn header_list_api() {
        let mut list = HeaderList::new();
        assert!(list.is_empty());
        list.push(":status", "200");
        list.push("X-A", "1");
        list.push("x-a", vec![0xff]);
        assert_eq!(list.len(), 3);
        assert_eq!(list.status(), Some(200));
        assert_eq!(list.get("x-A"), Some(&b"1"[..]));
        assert_eq!(list.get_str(":status"), Some("200"));
        assert_eq!(list.iter().len(), 3);
        assert_eq!(list.iter().next_back(), Some(("x-a", &[0xff][..])));
        assert_eq!((&list).into_iter().count(), 3);
        assert_eq!(list.as_slice().len(), 3);
        let owned: Vec<(String, Vec<u8>)> = list.clone().into();
        assert_eq!(owned, list.clone().into_vec());
        assert_eq!(list.into_iter().count(), 3);
        for bad in [&b"20"[..], b"2000", b"abc", b"099", b""] {
            assert_eq!(parse_status(bad), None, "{bad:?}");
        }
        assert_eq!(parse_status(b"100"), Some(100));
        assert_eq!(parse_status(b"999"), Some(999));
    }

    #[cfg(feature = "deflate")]
    mod deflate {
        use super::*;
        use crate::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};

        #[test]
        fn negotiated_over_h2() {
            let request = ExtendedConnectRequest::new("example.com", "/").with_deflate(DeflateConfig::new());
            let request_headers = request.headers().unwrap();
            assert_eq!(
                request_headers.get_str("sec-websocket-extensions"),
                Some("permessage-deflate; client_max_window_bits")
            );
            let connect = ExtendedConnect::parse(&request_headers).unwrap();
            let config = DeflateConfig::new().client_max_window_bits(Some(12)).server_no_context_takeover(true);
            let (response, server_n) = connect.accept(&H2Accept::new().with_deflate(config)).unwrap();
            assert_eq!(
                response.get_str("sec-websocket-extensions"),
                Some("permessage-deflate; server_no_context_takeover; client_max_window_bits=12")
            );
            let ConnectOutcome::Accepted(client_n) = request.check_response(&response).unwrap() else { panic!() };
            assert_eq!(client_n.reserved_bits, crate::handshake::RSV1);
            assert_eq!(server_n.reserved_bits, crate::handshake::RSV1);
            let params = DeflateParams {
                server_no_context_takeover: true,
                client_no_context_takeover: false,
                server_max_window_bits: 15,
                client_max_window_bits: 12,
            };
            assert_eq!(client_n.deflate, Some(PerMessageDeflate::new(params, &DeflateConfig::new())));
            assert_eq!(server_n.deflate, Some(PerMessageDeflate::new(params, &config)));

            // A compressed message crosses.
            let mut client = crate::Connection::from_negotiated_with_key_source(
                &client_n,
                crate::Config::new(),
                crate::KeySource::seeded(3),
            );
            let mut server = crate::Connection::from_negotiated(&server_n, crate::Config::new());
            let text = "compress me ".repeat(40);
            let mut wire = Vec::new();
            client.send_text(&text, &mut wire).unwrap();
            assert!(wire.len() < text.len() / 2);
            assert_eq!(wire[0] & 0x40, 0x40, "RSV1 set");
            let mut scratch = vec![0u8; 4096];
            let received = server.receive_into(&mut wire, &mut scratch).unwrap();
            let Some(crate::Event::Data { data, last: true, .. }) = received.event else { panic!() };
            assert_eq!(data, text.as_bytes());
        }

        #[test]
        fn without_server_deflate_no_compression() {
            let request = ExtendedConnectRequest::new("example.com", "/").with_deflate(DeflateConfig::new());
            let connect = ExtendedConnect::parse(request.headers().unwrap()).unwrap();
            let (response, server_n) = connect.accept(&H2Accept::new()).unwrap();
            assert_eq!(response.get("sec-websocket-extensions"), None);
            let ConnectOutcome::Accepted(client_n) = request.check_response(&response).unwrap() else { panic!() };
            assert_eq!((client_n.deflate, server_n.deflate), (None, None));
            assert_eq!(client_n.reserved_bits, 0);
        }

        #[test]
        fn bad_deflate_response_is_refused() {
            let request = ExtendedConnectRequest::new("example.com", "/")
                .with_deflate(DeflateConfig::new().server_no_context_takeover(true));
            let response = [(":status", "200"), ("sec-websocket-extensions", "permessage-deflate")];
            assert_eq!(
                request.check_response(response),
                Err(HandshakeError::InvalidExtensions("server_no_context_takeover was asked for but not granted"))
            );
            let response = [(":status", "200"), ("sec-websocket-extensions", "permessage-deflate; bogus")];
            assert!(matches!(request.check_response(response), Err(HandshakeError::InvalidExtensions(_))));
        }
    }
}
