//! WebSocket over HTTP/2 (RFC 8441) and HTTP/3 (RFC 9220): the extended CONNECT handshake.
//!
//! On HTTP/2 and HTTP/3 a WebSocket is one request stream opened by an *extended CONNECT*
//! request: `:method CONNECT` with the pseudo-header field `:protocol websocket`. A `2xx`
//! response (normally `200`) opens the tunnel, and from then on the stream's DATA frames carry
//! the WebSocket frames, byte for byte as on a TCP connection. HTTP/3 (RFC 9220) uses the same
//! fields, checks and mapping of the stream; only the framing underneath differs.
//!
//! This module builds and checks the fields of that request and response; it depends on no
//! HTTP/2 or HTTP/3 library. The caller's stack (`h2`, `h3`, `quiche`, …) sends and receives
//! them, announces or waits for the SETTINGS, and carries the stream; a
//! [`Connection`](crate::Connection) then runs over the stream's bytes.
//!
//! Everything but the form of the request and the response is the HTTP/1.1 path's: the client
//! builds a [`ClientRequest`] (subprotocols, extensions, permessage-deflate), the server sees an
//! [`UpgradeRequest`] and decides with an [`Accept`], both end with a [`Negotiated`], and the
//! subprotocol and extension rules (caps included) are the same.
//!
//! # What differs from HTTP/1.1 (RFC 8441 §4, §5)
//!
//! * The request's pseudo-header fields: `:method CONNECT`, `:protocol websocket`, `:scheme`
//!   (`https` for a `wss` URI, `http` for `ws`), `:path` (path and query) and `:authority`
//!   (host, and port unless it is the scheme's default). They come first in the field list.
//! * No `Upgrade`, `Connection`, `Sec-WebSocket-Key` or `Sec-WebSocket-Accept`: `:protocol`
//!   replaces the upgrade, and the stream itself proves that the server understood it.
//!   Connection-specific fields (`connection`, `upgrade`, `keep-alive`, `proxy-connection`,
//!   `transfer-encoding`, `te` other than `trailers`) are malformed in HTTP/2 and HTTP/3. Field
//!   names are lowercase.
//! * The server accepts with a `2xx` status (this module answers `200`), not `101`.
//! * `sec-websocket-version`, `sec-websocket-protocol`, `sec-websocket-extensions` and `origin`
//!   mean what they mean in RFC 6455.
//! * An unsupported version is answered with 400 and `sec-websocket-version: 13`, not 426
//!   (whose required `Upgrade` field HTTP/2 and HTTP/3 forbid): see [`error_response`].
//!
//! # What the caller's HTTP/2 or HTTP/3 stack does
//!
//! * **SETTINGS.** A client may send the request only after the server's SETTINGS announced
//!   `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1` (RFC 8441 §3; the same setting, `0x08`, in HTTP/3
//!   by RFC 9220 §3), and a server must announce it. With the `h2` crate that is
//!   `server::Builder::enable_connect_protocol` and
//!   `client::SendRequest::is_extended_connect_protocol_enabled`.
//! * **Moving fields.** The request is a [`Headers`] list, pseudo-header fields first (with
//!   `h2`: the method, the URI built from `:scheme`, `:authority` and `:path`, the
//!   `h2::ext::Protocol` extension, then [`Headers::regular`]). A response is an
//!   [`HttpResponse`]: its `status` and its `headers` (regular fields only). Received fields go
//!   in as any `IntoIterator` of `(name, value)` pairs with `AsRef<str>` names and `AsRef<[u8]>`
//!   values: `&Headers`, an `http::HeaderMap` by reference, `[(&str, &str); N]`, … Pseudo-header
//!   names compare exactly, other names case-insensitively.
//! * **The stream.** Send the accepting response without `END_STREAM`. Then
//!   `Connection::new(negotiated.role, config)`[`.with_negotiated(&negotiated)`](crate::Connection::with_negotiated)
//!   starts the state machine directly on the stream's bytes: feed received DATA payloads to
//!   [`receive`](crate::Connection::receive) (or
//!   [`receive_into`](crate::Connection::receive_into) when it
//!   [`needs_scratch`](crate::Connection::needs_scratch): permessage-deflate), send what it
//!   writes as DATA. There is no leftover to hand over: the response has no body before the
//!   WebSocket frames. Masking stays exactly as in RFC 6455.
//! * **Flow control.** Release receive capacity as the connection consumes bytes (with `h2`,
//!   `RecvStream::flow_control().release_capacity`), and send no more than the capacity granted.
//! * **Closing** maps to the stream (RFC 8441 §5): an orderly TCP close is `END_STREAM`, a TCP
//!   reset is `RST_STREAM` with `CANCEL` (HTTP/3: the stream's FIN, and a reset with
//!   `H3_REQUEST_CANCELLED`). When [`transport_action`](crate::Connection::transport_action)
//!   says [`Close`](crate::TransportAction::Close) (a server after the close handshake, or
//!   either side after a failure), send the remaining output with `END_STREAM`. A client told
//!   [`AwaitPeerClose`](crate::TransportAction::AwaitPeerClose) may end its side of the stream
//!   at once (a stream has no TIME_WAIT to leave to the server) and then reads until the
//!   server's `END_STREAM`. The peer's `END_STREAM` (or a reset) is end of input: call
//!   [`receive_eof`](crate::Connection::receive_eof). A server should keep reading until the
//!   client's `END_STREAM` too, so that the stream closes cleanly on both sides. On a handshake
//!   error a client resets the stream (`RST_STREAM` with `CANCEL`).
//!
//! # Call order
//!
//! | role | build | send / receive | check | then |
//! |---|---|---|---|---|
//! | client | [`request`] from a [`ClientRequest`] | send the request, receive the response | [`check_response`] → [`ClientStatus`] | [`Connection::with_negotiated`](crate::Connection::with_negotiated) |
//! | server | receive the request | [`parse_request`] → [`UpgradeRequest`] (on error: [`error_response`]) | [`accept`] with an [`Accept`] → [`HttpResponse`] and [`Negotiated`] | send the response, then [`Connection::with_negotiated`](crate::Connection::with_negotiated) |
//!
//! ```
//! use wsproto::handshake::{Accept, ClientRequest, ClientStatus, extended_connect};
//! use wsproto::{Config, Connection, Event};
//!
//! // Client: the request's fields (send them once the server enabled extended CONNECT).
//! let request = ClientRequest::new("wss://example.com/chat")?.with_protocol("chat");
//! let fields = extended_connect::request(&request)?;
//! assert_eq!(fields.get_str(":protocol"), Some("websocket"));
//!
//! // Server: read the received fields, decide as over HTTP/1.1, make the response.
//! let upgrade = extended_connect::parse_request(&fields)?;
//! assert_eq!((upgrade.host(), upgrade.path()), (Some("example.com"), "/chat"));
//! let protocol = upgrade.select_protocol(&["chat"]).unwrap();
//! let (response, negotiated) = extended_connect::accept(&upgrade, &Accept::new().with_protocol(protocol))?;
//! assert_eq!(response.status, 200);
//! let mut server = Connection::new(negotiated.role, Config::new()).with_negotiated(&negotiated);
//! let mut stream = Vec::new(); // stands for the stream's DATA frames
//! server.send_text("welcome", &mut stream).unwrap();
//!
//! // Client: check the response's status and fields, then speak WebSocket on the stream.
//! let status = extended_connect::check_response(&request, response.status, &response.headers)?;
//! let ClientStatus::Upgraded { negotiated, .. } = status else { panic!("rejected") };
//! assert_eq!(negotiated.protocol.as_deref(), Some("chat"));
//! let mut client = Connection::new(negotiated.role, Config::new()).with_negotiated(&negotiated);
//! let received = client.receive(&mut stream).unwrap();
//! assert!(matches!(received.event, Some(Event::Data { data: b"welcome", .. })));
//! # Ok::<(), wsproto::handshake::HandshakeError>(())
//! ```
//!
//! [`ClientRequest`]: super::ClientRequest
//! [`ClientStatus`]: super::ClientStatus
//! [`UpgradeRequest`]: super::UpgradeRequest
//! [`Accept`]: super::Accept
//! [`Negotiated`]: super::Negotiated
//! [`Headers`]: super::Headers
//! [`Headers::regular`]: super::Headers::regular
//! [`HttpResponse`]: super::HttpResponse

mod client;
mod server;

pub use client::{check_response, request};
pub use server::{accept, error_response, parse_request};

#[cfg(feature = "http")]
pub use super::http_types::{check_http_response, http_request, parse_http_parts, parse_http_request};

use alloc::vec::Vec;

use super::HandshakeError;
use super::headers::{Headers, check_extra, trim_ows};

/// The `:protocol` value that asks for a WebSocket (RFC 8441 §4), lowercase.
pub const PROTOCOL: &str = "websocket";

/// Field names that are connection-specific, which HTTP/2 (RFC 9113 §8.2.2) and HTTP/3
/// (RFC 9114 §4.2) forbid. `te` is allowed with the value `trailers` only.
const CONNECTION_SPECIFIC: [&str; 5] = ["connection", "upgrade", "keep-alive", "proxy-connection", "transfer-encoding"];

/// Whether a field is connection-specific (`te` is allowed as `trailers`).
fn is_connection_specific(name: &str, value: &[u8]) -> bool {
    CONNECTION_SPECIFIC.iter().any(|c| c.eq_ignore_ascii_case(name))
        || (name.eq_ignore_ascii_case("te") && !trim_ows(value).eq_ignore_ascii_case(b"trailers"))
}

/// Checks caller-supplied extra fields (valid, not in `managed`, not connection-specific) and
/// appends them to `list` with lowercase names.
fn push_extra(list: &mut Headers, extra: &Headers, managed: &[&str]) -> Result<(), HandshakeError> {
    check_extra(extra, managed)?;
    if extra.iter().any(|(name, value)| is_connection_specific(name, value)) {
        return Err(HandshakeError::InvalidInput("connection-specific header is not allowed in HTTP/2 or HTTP/3"));
    }
    for (name, value) in extra {
        list.push(name.to_ascii_lowercase(), value);
    }
    Ok(())
}

/// The values of the expected pseudo-header fields, by position in the list of allowed names.
type PseudoValues<const N: usize> = [Option<Vec<u8>>; N];

/// A received field list split into the expected pseudo-header fields (by position in
/// `allowed`) and the regular fields. Rejects unknown or repeated pseudo-header fields,
/// pseudo-header fields after regular ones, empty names and connection-specific fields.
fn split<const N: usize, K: AsRef<str>, V: AsRef<[u8]>>(
    fields: impl IntoIterator<Item = (K, V)>,
    allowed: &[&'static str; N],
) -> Result<(PseudoValues<N>, Headers), HandshakeError> {
    let mut pseudo: PseudoValues<N> = core::array::from_fn(|_| None);
    let mut regular = Headers::new();
    for (name, value) in fields {
        let (name, value) = (name.as_ref(), value.as_ref());
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
