//! The server side of extended CONNECT: the request's fields read into an [`UpgradeRequest`],
//! the accepting response, and the response to an error.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::super::http::HttpResponse;
use super::super::negotiate::{FieldNames, read_offer};
use super::super::{Accept, HandshakeError, Headers, Negotiated, UpgradeRequest};
use super::{PROTOCOL, push_extra, split};

/// The pseudo-header fields of a request, in the order they are kept.
const REQUEST_PSEUDO: [&str; 5] = [":method", ":protocol", ":scheme", ":path", ":authority"];

/// Fields the response builder writes itself (or that a 2xx answer to CONNECT cannot carry).
const RESPONSE_MANAGED: [&str; 5] =
    ["sec-websocket-protocol", "sec-websocket-extensions", "sec-websocket-accept", "content-length", "te"];

/// Reads a received extended CONNECT request for a WebSocket (RFC 8441 §4, §5; RFC 9220): its
/// fields, pseudo-header fields included and first, checked and read into the same
/// [`UpgradeRequest`] as an HTTP/1.1 upgrade. Decide on it as over HTTP/1.1, then answer with
/// [`accept`] or any other response ([`error_response`] for the errors of this function).
///
/// The request must have, each once and before the regular fields, `:method CONNECT`,
/// `:protocol websocket` (case-insensitive), `:scheme` `http` or `https` (case-insensitive), a
/// `:path` of visible ASCII starting with `/` and without a fragment, and an `:authority`
/// (visible ASCII, no user information or path), and no other pseudo-header field; one
/// `sec-websocket-version: 13`; at most one `origin`; well-formed subprotocol and extension
/// lists, within the same caps as over HTTP/1.1; no connection-specific field
/// (`connection`, `upgrade`, `keep-alive`, `proxy-connection`, `transfer-encoding`, `te` other
/// than `trailers`). `host`, `sec-websocket-key` and anything else are kept in
/// [`UpgradeRequest::headers`] but play no part.
///
/// ```
/// use wsproto::handshake::{Accept, HandshakeError, extended_connect};
///
/// let request = [
///     (":method", "CONNECT"),
///     (":protocol", "websocket"),
///     (":scheme", "https"),
///     (":path", "/chat"),
///     (":authority", "server.example.com"),
///     ("sec-websocket-version", "13"),
///     ("sec-websocket-protocol", "chat, superchat"),
///     ("origin", "http://example.com"),
/// ];
/// let upgrade = extended_connect::parse_request(request)?;
/// assert_eq!(upgrade.path(), "/chat");
/// assert_eq!(upgrade.host(), Some("server.example.com"));
/// assert_eq!(upgrade.origin(), Some("http://example.com"));
/// assert_eq!(upgrade.protocols(), ["chat", "superchat"]);
///
/// let (response, negotiated) = extended_connect::accept(&upgrade, &Accept::new().with_protocol("chat"))?;
/// assert_eq!(response.status, 200);
/// let fields: Vec<(&str, &[u8])> = response.headers.iter().collect();
/// assert_eq!(fields, [("sec-websocket-protocol", &b"chat"[..])]);
/// assert_eq!(negotiated.protocol.as_deref(), Some("chat"));
/// # Ok::<(), HandshakeError>(())
/// ```
///
/// # Errors
/// Answer each with [`error_response`]: status 400 for all of them.
/// [`HandshakeError::MissingHeader`] for a missing pseudo-header field (its name is given);
/// [`HandshakeError::MalformedHttp`] for a `:method` other than `CONNECT`, an invalid
/// `:scheme`, `:path` or `:authority`, an unknown or misplaced pseudo-header field, an empty
/// name or a connection-specific field; [`HandshakeError::UpgradeNotWebSocket`] for a
/// `:protocol` other than `websocket`; [`HandshakeError::DuplicateHeader`] for a repeated
/// pseudo-header field, `sec-websocket-version` or `origin`;
/// [`HandshakeError::UnsupportedVersion`] for a missing or other version;
/// [`HandshakeError::InvalidProtocols`], [`HandshakeError::TooManyProtocols`] and
/// [`HandshakeError::InvalidExtensions`] for malformed or oversized lists.
pub fn parse_request<K: AsRef<str>, V: AsRef<[u8]>>(
    fields: impl IntoIterator<Item = (K, V)>,
) -> Result<UpgradeRequest, HandshakeError> {
    let ([method, protocol, scheme, path, authority], regular) = split(fields, &REQUEST_PSEUDO)?;
    let method = method.ok_or(HandshakeError::MissingHeader(":method"))?;
    if method != b"CONNECT" {
        return Err(HandshakeError::MalformedHttp("a WebSocket over HTTP/2 or HTTP/3 needs :method CONNECT"));
    }
    let protocol = protocol.ok_or(HandshakeError::MissingHeader(":protocol"))?;
    if !protocol.eq_ignore_ascii_case(PROTOCOL.as_bytes()) {
        return Err(HandshakeError::UpgradeNotWebSocket);
    }
    let scheme = scheme.ok_or(HandshakeError::MissingHeader(":scheme"))?;
    let scheme = ["https", "http"].into_iter().find(|s| scheme.eq_ignore_ascii_case(s.as_bytes()));
    let scheme = scheme.ok_or(HandshakeError::MalformedHttp(":scheme must be http or https"))?;
    let path = path.ok_or(HandshakeError::MissingHeader(":path"))?;
    let path = visible_ascii(path).filter(|p| p.starts_with('/') && !p.contains('#'));
    let path = path.ok_or(HandshakeError::MalformedHttp("invalid :path"))?;
    let authority = authority.ok_or(HandshakeError::MissingHeader(":authority"))?;
    let authority = visible_ascii(authority).filter(|a| !a.is_empty() && !a.contains(['@', '/', '?', '#']));
    let authority = authority.ok_or(HandshakeError::MalformedHttp("invalid :authority"))?;
    let (protocols, extensions) = read_offer(&regular, &FieldNames::EXTENDED_CONNECT)?;
    let mut headers = Headers::with_capacity(REQUEST_PSEUDO.len() + regular.len())
        .with(":method", "CONNECT")
        .with(":protocol", PROTOCOL)
        .with(":scheme", scheme)
        .with(":path", path.as_str())
        .with(":authority", authority);
    headers.append(regular);
    Ok(UpgradeRequest { path, headers, leftover: 0, key: None, protocols, extensions })
}

/// The value as text if every byte is visible ASCII (no space, no control, no obs-text).
fn visible_ascii(value: Vec<u8>) -> Option<String> {
    if value.iter().all(|b| (0x21..0x7f).contains(b)) { String::from_utf8(value).ok() } else { None }
}

/// Accepts an extended CONNECT request read by [`parse_request`]: the response (status `200`,
/// then when chosen `sec-websocket-protocol` and `sec-websocket-extensions`, then the extra
/// headers of `accept` with lowercased names) and what was negotiated, by the same rules as
/// [`UpgradeRequest::accept`] over HTTP/1.1, for
/// [`Connection::with_negotiated`](crate::Connection::with_negotiated). Send the response
/// without `END_STREAM`: the stream carries the WebSocket from then on.
///
/// # Errors
/// [`HandshakeError::InvalidInput`] when the subprotocol or an extension was not offered, an
/// extension is accepted twice or cannot be written, an extra header is invalid, managed by
/// this function (`sec-websocket-*`, `content-length`, `te`) or connection-specific, or the
/// request came over HTTP/1.1 (accept it with [`UpgradeRequest::accept`]). The request can be
/// accepted or rejected again.
pub fn accept(request: &UpgradeRequest, accept: &Accept) -> Result<(HttpResponse, Negotiated), HandshakeError> {
    if request.key.is_some() {
        return Err(HandshakeError::InvalidInput(
            "an HTTP/1.1 upgrade request is accepted with UpgradeRequest::accept",
        ));
    }
    let mut response = HttpResponse::new(200);
    let negotiated = accept.negotiate(
        &request.protocols,
        &request.extensions,
        &FieldNames::EXTENDED_CONNECT,
        &mut response.headers,
    )?;
    push_extra(&mut response.headers, accept.headers(), &RESPONSE_MANAGED)?;
    Ok((response, negotiated))
}

/// The response that answers a [`HandshakeError`] over HTTP/2 or HTTP/3: status
/// [`status_hint`](HandshakeError::status_hint), `content-type: text/plain; charset=utf-8` and
/// a short body saying what went wrong (send it, then `END_STREAM`).
///
/// [`UnsupportedVersion`](HandshakeError::UnsupportedVersion) is 400 here, with
/// `sec-websocket-version: 13`, rather than HTTP/1.1's 426: RFC 8441 §5 keeps RFC 6455's
/// handling (an error status and the supported version, 426 being RFC 6455's example), but a
/// 426 response must carry an `Upgrade` field (RFC 9110 §15.5.22), which HTTP/2 and HTTP/3
/// forbid.
///
/// ```
/// use wsproto::handshake::{HandshakeError, extended_connect};
/// let response = extended_connect::error_response(&HandshakeError::UnsupportedVersion);
/// assert_eq!(response.status, 400);
/// let fields: Vec<(&str, &[u8])> = response.headers.iter().collect();
/// assert_eq!(
///     fields,
///     [("sec-websocket-version", &b"13"[..]), ("content-type", b"text/plain; charset=utf-8")]
/// );
/// assert_eq!(response.body, b"Sec-WebSocket-Version must be 13\n");
/// ```
#[must_use]
pub fn error_response(err: &HandshakeError) -> HttpResponse {
    let mut response = HttpResponse::new(err.status_hint());
    if matches!(err, HandshakeError::UnsupportedVersion) {
        response = HttpResponse::new(400).with_header("sec-websocket-version", "13");
    }
    response.with_header("content-type", "text/plain; charset=utf-8").with_body(format!("{err}\n"))
}
