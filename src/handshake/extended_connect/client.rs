//! The client side of extended CONNECT: the request's fields from a [`ClientRequest`], and the
//! check of the server's response.

use super::super::http::HttpResponse;
use super::super::negotiate::FieldNames;
use super::super::{ClientRequest, ClientStatus, HandshakeError, Headers};
use super::{PROTOCOL, push_extra, split};

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

/// The extended CONNECT request for `request` (RFC 8441 §4, §5; RFC 9220): the fields to send,
/// pseudo-header fields first. Send them once the server has announced
/// `SETTINGS_ENABLE_CONNECT_PROTOCOL`; the request can be used again.
///
/// The list is, in order: `:method CONNECT`, `:protocol websocket`, `:scheme` (`https` for a
/// `wss` URI, `http` for `ws`), `:path` (the resource), `:authority` (the `Host` value of
/// HTTP/1.1), `sec-websocket-version: 13`, then when set `origin`, `sec-websocket-protocol`
/// (the offered subprotocols, comma-separated), `sec-websocket-extensions`, and the extra
/// headers (names lowercased). There is no `sec-websocket-key`: nothing needs a nonce, so the
/// request's [`KeySource`](crate::KeySource) and response limits play no part.
///
/// ```
/// use wsproto::handshake::{ClientRequest, extended_connect};
///
/// let request = ClientRequest::new("wss://example.com:8443/chat?room=1")?
///     .with_origin("https://example.com")
///     .with_protocol("chat")
///     .with_header("Authorization", "Bearer x");
/// let fields = extended_connect::request(&request)?;
/// let fields: Vec<(&str, &[u8])> = fields.iter().collect();
/// assert_eq!(
///     fields,
///     [
///         (":method", &b"CONNECT"[..]),
///         (":protocol", b"websocket"),
///         (":scheme", b"https"),
///         (":path", b"/chat?room=1"),
///         (":authority", b"example.com:8443"),
///         ("sec-websocket-version", b"13"),
///         ("origin", b"https://example.com"),
///         ("sec-websocket-protocol", b"chat"),
///         ("authorization", b"Bearer x"),
///     ]
/// );
/// # Ok::<(), wsproto::handshake::HandshakeError>(())
/// ```
///
/// # Errors
/// [`HandshakeError::InvalidInput`] for a subprotocol that is not a token or is offered twice,
/// an extension that cannot be written, an `origin` with control characters, or an extra
/// header that is invalid, managed by the builder (`host`, `origin`, `sec-websocket-*`,
/// `content-length`, `te`) or connection-specific.
pub fn request(request: &ClientRequest) -> Result<Headers, HandshakeError> {
    let uri = &request.uri;
    let mut fields = Headers::new()
        .with(":method", "CONNECT")
        .with(":protocol", PROTOCOL)
        .with(":scheme", if uri.secure { "https" } else { "http" })
        .with(":path", uri.resource.as_str())
        .with(":authority", uri.host_header.as_str());
    request.offer.push_fields(request.origin.as_deref(), &FieldNames::EXTENDED_CONNECT, &mut fields)?;
    push_extra(&mut fields, &request.headers, &REQUEST_MANAGED)?;
    Ok(fields)
}

/// Checks the server's response to the extended CONNECT [`request`] of `request`: its
/// `status` and its regular fields (no pseudo-header field; as the `h2` crate hands them over,
/// `response.status().as_u16()` and `response.headers()`).
///
/// A `2xx` status accepts (RFC 8441 §5 allows any 2xx; `200` is the norm):
/// [`ClientStatus::Upgraded`] with what was negotiated (by the same rules as over HTTP/1.1),
/// for [`Connection::with_negotiated`](crate::Connection::with_negotiated), and `leftover` 0.
/// Any other final status is [`ClientStatus::Rejected`] with the status and the fields (read
/// the body from the stream if you want it). `content-length` in a 2xx response is ignored
/// (RFC 9110 §9.3.6).
///
/// ```
/// use wsproto::handshake::{ClientRequest, ClientStatus, extended_connect};
///
/// let request = ClientRequest::new("wss://example.com/chat")?.with_protocol("chat");
/// let accepted = extended_connect::check_response(&request, 200, [("sec-websocket-protocol", "chat")])?;
/// assert!(matches!(accepted, ClientStatus::Upgraded { negotiated, .. } if negotiated.protocol.as_deref() == Some("chat")));
/// let rejected = extended_connect::check_response(&request, 403, [("content-type", "text/plain")])?;
/// assert!(matches!(rejected, ClientStatus::Rejected(response) if response.status == 403));
/// # Ok::<(), wsproto::handshake::HandshakeError>(())
/// ```
///
/// # Errors
/// [`HandshakeError::MalformedHttp`] for a status outside 100–999, status 101 (not allowed in
/// HTTP/2 and HTTP/3), a pseudo-header field, an empty name or a connection-specific field;
/// [`HandshakeError::InvalidInput`] for an informational status other than 101 (pass the final
/// response, not a 1xx). In a 2xx response, [`HandshakeError::InvalidProtocols`] /
/// [`HandshakeError::UnofferedProtocol`] for a subprotocol that is not one token or was not
/// offered, [`HandshakeError::DuplicateHeader`] for a repeated `sec-websocket-protocol`,
/// [`HandshakeError::InvalidExtensions`] for a malformed extension list or unacceptable
/// permessage-deflate parameters, [`HandshakeError::UnofferedExtension`] for an extension that
/// was not offered or is accepted twice. On error, reset the stream (`RST_STREAM` with
/// `CANCEL`).
pub fn check_response<K: AsRef<str>, V: AsRef<[u8]>>(
    request: &ClientRequest,
    status: u16,
    fields: impl IntoIterator<Item = (K, V)>,
) -> Result<ClientStatus, HandshakeError> {
    if !(100..=999).contains(&status) {
        return Err(HandshakeError::MalformedHttp("invalid :status"));
    }
    let ([], headers) = split(fields, &[])?;
    if status == 101 {
        return Err(HandshakeError::MalformedHttp("status 101 is not allowed in HTTP/2 and HTTP/3"));
    }
    if status < 200 {
        return Err(HandshakeError::InvalidInput("an informational (1xx) response is not the final response"));
    }
    let mut response = HttpResponse::new(status);
    response.headers = headers;
    if status >= 300 {
        return Ok(ClientStatus::Rejected(response));
    }
    let negotiated = request.offer.check_response(&response.headers, &FieldNames::EXTENDED_CONNECT)?;
    Ok(ClientStatus::Upgraded { negotiated, response, leftover: 0 })
}
