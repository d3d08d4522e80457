//! Conversions from and to the `http` crate's types (feature `http`): the requests and
//! responses of hyper, axum, h2 and other stacks built on `http` 1.x.
//!
//! Nothing here checks anything itself: a request is turned into the same [`HttpRequest`] (or
//! the field list of an extended CONNECT) that the byte path reads, and goes through the same
//! checks; a response is made by the same code that writes it as bytes, then copied into an
//! `http::Response`.

use alloc::string::{String, ToString as _};

use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri, Version};

use super::client::{ClientHandshake, ClientRequest, ClientStatus};
use super::extended_connect;
use super::http::{HttpRequest, HttpResponse};
use super::negotiate::{Accept, Negotiated};
use super::server::{ServerHandshake, ServerStatus, UpgradeRequest, classify};
use super::{HandshakeError, Headers};

/// Every field of `map`, in the map's order (the values of a name together, in the order they
/// were added; names lowercase).
fn headers_from(map: &HeaderMap) -> Headers {
    let mut headers = Headers::with_capacity(map.len());
    for (name, value) in map {
        headers.push(name.as_str(), value.as_bytes());
    }
    headers
}

/// `fields` as a header map.
fn header_map<'a>(fields: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Result<HeaderMap, HandshakeError> {
    let mut map = HeaderMap::new();
    for (name, value) in fields {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HandshakeError::InvalidInput("header name is not a token"))?;
        let value = HeaderValue::from_bytes(value)
            .map_err(|_| HandshakeError::InvalidInput("header value contains a control character"))?;
        map.append(name, value);
    }
    Ok(map)
}

/// The request target as it would appear on an HTTP/1.1 request line: the path and query of
/// an origin-form URI, the whole URI otherwise.
fn request_target(uri: &Uri) -> String {
    match (uri.scheme(), uri.authority(), uri.path_and_query()) {
        (None, None, Some(path)) => String::from(path.as_str()),
        _ => uri.to_string(),
    }
}

/// The HTTP/1 minor version of `version`: 1 for HTTP/1.1, 0 for anything else (which the
/// checks refuse as [`HandshakeError::HttpVersion`], as they refuse HTTP/1.0).
fn minor_version(version: Version) -> u8 {
    u8::from(version == Version::HTTP_11)
}

impl ServerHandshake {
    /// Reads a request that an HTTP stack already parsed (feature `http`; the `Parts` of an
    /// `http::Request` as hyper or axum hand it over) and checks it exactly as
    /// [`feed`](Self::feed) checks the same request read from bytes: the same
    /// [`ServerStatus`] (never `NeedMore`; `leftover` is 0) or the same [`HandshakeError`].
    ///
    /// The HTTP/1.1 upgrade only (`GET`, `Version::HTTP_11`, `Upgrade`, `Connection`,
    /// `Sec-WebSocket-Key`, …): read an HTTP/2 or HTTP/3 extended CONNECT request with
    /// [`extended_connect::parse_http_request`]. The request's size limits are the HTTP stack's.
    /// The request target is the URI's path and query (the whole URI when it is absolute);
    /// [`UpgradeRequest::headers`] holds the header map's fields, names lowercase, the values
    /// of one name together.
    ///
    /// ```
    /// use wsproto::handshake::{Accept, ServerHandshake, ServerStatus};
    ///
    /// let request = http::Request::get("/chat")
    ///     .header("host", "server.example.com")
    ///     .header("upgrade", "websocket")
    ///     .header("connection", "Upgrade")
    ///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .header("sec-websocket-version", "13")
    ///     .body(())
    ///     .unwrap();
    /// let ServerStatus::Upgrade(upgrade) = ServerHandshake::read_http(&request)? else { panic!() };
    /// assert_eq!(upgrade.path(), "/chat");
    /// let (response, negotiated) = upgrade.accept_http(&Accept::new())?;
    /// assert_eq!(response.status(), 101);
    /// assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /// assert!(negotiated.protocol.is_none());
    /// # Ok::<(), wsproto::handshake::HandshakeError>(())
    /// ```
    ///
    /// # Errors
    /// The errors of [`feed`](Self::feed) for a request that is not a valid upgrade; answer
    /// them with [`HandshakeError::response`] and [`HttpResponse::to_http`].
    pub fn read_http_parts(parts: &http::request::Parts) -> Result<ServerStatus, HandshakeError> {
        classify(HttpRequest {
            method: String::from(parts.method.as_str()),
            path: request_target(&parts.uri),
            version: minor_version(parts.version),
            headers: headers_from(&parts.headers),
            leftover: 0,
        })
    }

    /// [`read_http_parts`](Self::read_http_parts) for a whole `http::Request` (feature `http`);
    /// the body plays no part.
    ///
    /// # Errors
    /// As [`read_http_parts`](Self::read_http_parts).
    pub fn read_http<B>(request: &http::Request<B>) -> Result<ServerStatus, HandshakeError> {
        // `Parts` cannot be built from a borrowed request; the fields are read the same way.
        classify(HttpRequest {
            method: String::from(request.method().as_str()),
            path: request_target(request.uri()),
            version: minor_version(request.version()),
            headers: headers_from(request.headers()),
            leftover: 0,
        })
    }
}

impl UpgradeRequest {
    /// Accepts an HTTP/1.1 upgrade as an `http::Response` (feature `http`): the same 101
    /// response that [`accept`](Self::accept) writes as bytes (`Upgrade`, `Connection`,
    /// `Sec-WebSocket-Accept`, the chosen subprotocol, the accepted extensions, the extra
    /// headers of `accept`), and what was negotiated. Hand the response to the HTTP stack
    /// (with hyper: then take the upgraded connection with `hyper::upgrade::on`).
    ///
    /// # Errors
    /// As [`accept`](Self::accept) (no buffer is involved).
    pub fn accept_http(&self, accept: &Accept) -> Result<(http::Response<()>, Negotiated), HandshakeError> {
        let (response, negotiated) = self.switching_protocols(accept)?;
        Ok((response.to_http()?, negotiated))
    }

    /// Rejects an HTTP/1.1 upgrade with `response` as an `http::Response` (feature `http`):
    /// the same checks as [`reject`](Self::reject); the body is `response.body`.
    ///
    /// # Errors
    /// As [`reject`](Self::reject), and as [`HttpResponse::to_http`].
    pub fn reject_http(&self, response: &HttpResponse) -> Result<http::Response<alloc::vec::Vec<u8>>, HandshakeError> {
        self.check_rejection(response)?;
        response.clone().into_http()
    }
}

impl HttpResponse {
    /// The status and the headers as an `http::Response` without a body (feature `http`), in
    /// order: the same fields [`write`](Self::write) writes, except the `Content-Length` it
    /// adds (the HTTP stack frames the body). Send `self.body` as the body.
    ///
    /// Works for every response of the crate: a 101 from
    /// [`UpgradeRequest::accept_http`], an error's
    /// [`HandshakeError::response`] (400, 405 with `Allow: GET`, 426 with
    /// `Sec-WebSocket-Version: 13`, 431), an extended CONNECT
    /// [`accept`](extended_connect::accept) or [`error_response`](extended_connect::error_response).
    ///
    /// ```
    /// use wsproto::handshake::HandshakeError;
    /// let response = HandshakeError::UnsupportedVersion.response().to_http()?;
    /// assert_eq!(response.status(), 426);
    /// assert_eq!(response.headers()["sec-websocket-version"], "13");
    /// # Ok::<(), HandshakeError>(())
    /// ```
    ///
    /// # Errors
    /// [`HandshakeError::InvalidInput`] for a status outside 100–999 or a header that cannot be
    /// written.
    pub fn to_http(&self) -> Result<http::Response<()>, HandshakeError> {
        let status = http::StatusCode::from_u16(self.status)
            .map_err(|_| HandshakeError::InvalidInput("status code outside 100-999"))?;
        self.headers.validate()?;
        let mut response = http::Response::new(());
        *response.status_mut() = status;
        *response.headers_mut() = header_map(&self.headers)?;
        Ok(response)
    }

    /// [`to_http`](Self::to_http) with the body.
    ///
    /// # Errors
    /// As [`to_http`](Self::to_http).
    pub fn into_http(self) -> Result<http::Response<alloc::vec::Vec<u8>>, HandshakeError> {
        let head = self.to_http()?;
        Ok(head.map(|()| self.body))
    }
}

impl ClientRequest {
    /// The HTTP/1.1 upgrade request as an `http::Request` (feature `http`), and the reader
    /// that checks the answer: the same request [`write`](Self::write) writes as bytes (`GET`,
    /// the resource as an origin-form URI, `Host`, `Upgrade`, `Connection`, a fresh
    /// `Sec-WebSocket-Key`, `Sec-WebSocket-Version`, the offer and the extra headers, in that
    /// order). Check the response with [`ClientHandshake::check_http`].
    ///
    /// The URI is the resource only, as on the request line: an HTTP client that needs an
    /// absolute URI to connect (`http://host:port/…`) is given [`host`](Self::host) and
    /// [`port`](Self::port) separately, or a URI built from them.
    ///
    /// # Errors
    /// As [`write`](Self::write) (no buffer is involved).
    pub fn to_http(&mut self) -> Result<(http::Request<()>, ClientHandshake), HandshakeError> {
        let (lines, key) = self.head()?;
        let uri = Uri::try_from(self.uri.resource.as_str()).map_err(|_| HandshakeError::InvalidUri("invalid path"))?;
        let mut request = http::Request::new(());
        *request.method_mut() = Method::GET;
        *request.uri_mut() = uri;
        *request.version_mut() = Version::HTTP_11;
        *request.headers_mut() = header_map(&lines)?;
        Ok((request, self.handshake(key)))
    }
}

impl ClientHandshake {
    /// Checks the server's response as an HTTP stack handed it over (feature `http`; the
    /// `Parts` of an `http::Response`), by the same rules as [`feed`](Self::feed): a 101 must
    /// be HTTP/1.1 with `Upgrade: websocket`, `Connection: upgrade`, the expected
    /// `Sec-WebSocket-Accept` and only what was offered. [`ClientStatus::Upgraded`] has
    /// `leftover` 0 (the stack holds the upgraded connection); [`ClientStatus::Rejected`] has
    /// no body (read it from the stack).
    ///
    /// ```
    /// use wsproto::KeySource;
    /// use wsproto::handshake::{Accept, ClientRequest, ClientStatus, ServerHandshake, ServerStatus};
    ///
    /// let mut request = ClientRequest::new("ws://example.com/chat")?.with_protocol("chat");
    /// # let mut request = request.with_key_source(KeySource::seeded(1));
    /// let (http_request, mut handshake) = request.to_http()?;
    /// // … sent by the HTTP client, read by a server:
    /// let ServerStatus::Upgrade(upgrade) = ServerHandshake::read_http(&http_request)? else { panic!() };
    /// let (response, _) = upgrade.accept_http(&Accept::new().with_protocol("chat"))?;
    /// let (parts, ()) = response.into_parts();
    /// let ClientStatus::Upgraded { negotiated, .. } = handshake.check_http(&parts)? else { panic!() };
    /// assert_eq!(negotiated.protocol.as_deref(), Some("chat"));
    /// # Ok::<(), wsproto::handshake::HandshakeError>(())
    /// ```
    ///
    /// # Errors
    /// As [`feed`](Self::feed); after a result or an error, every later call returns
    /// [`HandshakeError::Finished`].
    pub fn check_http(&mut self, parts: &http::response::Parts) -> Result<ClientStatus, HandshakeError> {
        if self.finished {
            return Err(HandshakeError::Finished);
        }
        self.finished = true;
        let mut response = HttpResponse::new(parts.status.as_u16());
        if let Some(reason) = parts.status.canonical_reason() {
            response.reason = String::from(reason);
        }
        response.headers = headers_from(&parts.headers);
        if response.status != 101 {
            return Ok(ClientStatus::Rejected(response));
        }
        let negotiated = self.check(&response, minor_version(parts.version))?;
        Ok(ClientStatus::Upgraded { negotiated, response, leftover: 0 })
    }
}

/// The field list of a received extended CONNECT request, pseudo-header fields first.
fn connect_fields(method: &Method, uri: &Uri, headers: &HeaderMap, protocol: Option<&str>) -> Headers {
    let mut fields = Headers::with_capacity(5 + headers.len()).with(":method", method.as_str());
    if let Some(protocol) = protocol {
        fields.push(":protocol", protocol);
    }
    if let Some(scheme) = uri.scheme_str() {
        fields.push(":scheme", scheme);
    }
    if let Some(path) = uri.path_and_query() {
        fields.push(":path", path.as_str());
    }
    if let Some(authority) = uri.authority() {
        fields.push(":authority", authority.as_str());
    }
    for (name, value) in headers {
        fields.push(name.as_str(), value.as_bytes());
    }
    fields
}

/// Reads an extended CONNECT request (HTTP/2, HTTP/3) as its HTTP stack hands it over
/// (feature `http`): method, URI (`:scheme`, `:authority`, `:path`) and header map, with the
/// `:protocol` pseudo-header field, which `http` has no place for, passed as `protocol` (with
/// `h2`: `request.extensions().get::<h2::ext::Protocol>().map(|p| p.as_str())`). The fields go
/// through [`parse_request`](extended_connect::parse_request), with the same checks.
///
/// # Errors
/// As [`parse_request`](extended_connect::parse_request); answer them with
/// [`error_response`](extended_connect::error_response) and [`HttpResponse::to_http`].
pub fn parse_http_request<B>(
    request: &http::Request<B>,
    protocol: Option<&str>,
) -> Result<UpgradeRequest, HandshakeError> {
    extended_connect::parse_request(&connect_fields(request.method(), request.uri(), request.headers(), protocol))
}

/// [`parse_http_request`] from the request's `Parts` (feature `http`).
///
/// # Errors
/// As [`parse_http_request`].
pub fn parse_http_parts(
    parts: &http::request::Parts,
    protocol: Option<&str>,
) -> Result<UpgradeRequest, HandshakeError> {
    extended_connect::parse_request(&connect_fields(&parts.method, &parts.uri, &parts.headers, protocol))
}

/// The extended CONNECT request of `request` (RFC 8441 §4) as an `http::Request` (feature
/// `http`): method `CONNECT`, the URI made of `:scheme`, `:authority` and `:path`, and the
/// regular fields of [`request`](extended_connect::request), in order. `http` has no place for
/// `:protocol`: add the HTTP/2 or HTTP/3 stack's own extension for it, with the value
/// [`PROTOCOL`](extended_connect::PROTOCOL) (with `h2`:
/// `.extensions_mut().insert(h2::ext::Protocol::from(extended_connect::PROTOCOL))`).
///
/// ```
/// use wsproto::handshake::{ClientRequest, extended_connect};
/// let request = ClientRequest::new("wss://example.com/chat")?.with_protocol("chat");
/// let connect = extended_connect::http_request(&request)?;
/// assert_eq!(connect.method(), http::Method::CONNECT);
/// assert_eq!(connect.uri(), "https://example.com/chat");
/// assert_eq!(connect.headers()["sec-websocket-protocol"], "chat");
/// # Ok::<(), wsproto::handshake::HandshakeError>(())
/// ```
///
/// # Errors
/// As [`request`](extended_connect::request).
pub fn http_request(request: &ClientRequest) -> Result<http::Request<()>, HandshakeError> {
    let fields = extended_connect::request(request)?;
    let get = |name| fields.get_str(name).unwrap_or_default();
    let uri = alloc::format!("{}://{}{}", get(":scheme"), get(":authority"), get(":path"));
    let uri = Uri::try_from(uri).map_err(|_| HandshakeError::InvalidUri("not a valid http URI"))?;
    let mut out = http::Request::new(());
    *out.method_mut() = Method::CONNECT;
    *out.uri_mut() = uri;
    *out.headers_mut() = header_map(fields.regular())?;
    Ok(out)
}

/// Checks the response to an extended CONNECT [`http_request`] as its HTTP stack hands it
/// over (feature `http`): [`check_response`](extended_connect::check_response) with its
/// status and header map.
///
/// # Errors
/// As [`check_response`](extended_connect::check_response).
pub fn check_http_response(
    request: &ClientRequest,
    parts: &http::response::Parts,
) -> Result<ClientStatus, HandshakeError> {
    extended_connect::check_response(request, parts.status.as_u16(), &parts.headers)
}
