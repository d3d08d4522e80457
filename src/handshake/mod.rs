//! The opening handshake, both roles: the HTTP/1.1 upgrade (RFC 6455 §4), and the extended
//! CONNECT of HTTP/2 (RFC 8441) and HTTP/3 (RFC 9220) in [`extended_connect`].
//!
//! Like the rest of the crate it does no I/O: readers are fed bytes and builders write into an
//! [`OutBuf`](crate::OutBuf). Everything but [`accept_key`] needs the `alloc` feature.
//!
//! | role | write | read | then |
//! |---|---|---|---|
//! | client | [`ClientRequest::write`] | [`ClientHandshake::feed`] → [`ClientStatus`] | [`Connection::with_negotiated`](crate::Connection::with_negotiated) |
//! | server | [`UpgradeRequest::accept`] or [`UpgradeRequest::reject`] | [`ServerHandshake::feed`] → [`ServerStatus`] | [`Connection::with_negotiated`](crate::Connection::with_negotiated) |
//!
//! Both transports share the types of the negotiation: a client builds a [`ClientRequest`], a
//! server sees an [`UpgradeRequest`] and answers with an [`Accept`], and both end with a
//! [`Negotiated`]. Only the form of the request and the response differs, which
//! [`extended_connect`] handles (header fields handed to an HTTP/2 or HTTP/3 stack instead of
//! bytes).
//!
//! Both readers take input in pieces of any size (a head that has not ended is `NeedMore`,
//! never an error), cap the head's size and its header lines, and parse it a bounded number of
//! times however it is cut (at most twice for a head fed a byte at a time). A server reader
//! also caps the subprotocols and extensions a request may offer ([`MAX_PROTOCOLS`],
//! [`MAX_EXTENSION_OFFERS`], [`MAX_EXTENSION_PARAMS`]), so a head costs at most about twice its
//! size limit in memory. The result says where the bytes after the head
//! start in the input of the last `feed` call (`leftover`): a peer may send frames in the same
//! read as its request or 101 response, and those bytes **must be passed to
//! [`Connection::receive`](crate::Connection::receive) first**, before anything read later.
//!
//! With feature `http`, both roles also take and give the `http` crate's types (for hyper,
//! axum, h2, …) through the same checks: [`ServerHandshake::read_http`],
//! [`UpgradeRequest::accept_http`], [`HttpResponse::to_http`], [`ClientRequest::to_http`],
//! [`ClientHandshake::check_http`], and for extended CONNECT
//! [`extended_connect::parse_http_request`], [`extended_connect::http_request`] and
//! [`extended_connect::check_http_response`].
//!
//! Errors are [`HandshakeError`]s, distinct from [`crate::Error`]; each suggests the HTTP status
//! that answers it ([`HandshakeError::status_hint`]) and can write that answer.
//!
//! # A client and a server, in memory
//!
//! ```
//! use wsproto::handshake::{Accept, ClientRequest, ClientStatus, ServerHandshake, ServerStatus};
//! use wsproto::{Config, Connection, Event};
//!
//! // Client: write the request.
//! let mut to_server = Vec::new();
//! let mut client_hs = ClientRequest::new("ws://localhost:8080/chat")?
//!     .with_protocol("chat")
//!     .write(&mut to_server)?;
//!
//! // Server: read it, accept it, and build the connection.
//! let ServerStatus::Upgrade(request) = ServerHandshake::new().feed(&to_server)? else { panic!() };
//! let mut to_client = Vec::new();
//! let protocol = request.select_protocol(&["chat"]).unwrap();
//! let negotiated = request.accept(&Accept::new().with_protocol(protocol), &mut to_client)?;
//! let mut server = Connection::new(negotiated.role, Config::new()).with_negotiated(&negotiated);
//! server.send_text("welcome", &mut to_client).unwrap(); // in the same write as the 101
//!
//! // Client: read the response; the frame after it is not lost.
//! let ClientStatus::Upgraded { negotiated, leftover, .. } = client_hs.feed(&to_client)? else { panic!() };
//! assert_eq!(negotiated.protocol.as_deref(), Some("chat"));
//! let mut client = Connection::new(negotiated.role, Config::new()).with_negotiated(&negotiated);
//! let received = client.receive(&mut to_client[leftover..]).unwrap();
//! assert!(matches!(received.event, Some(Event::Data { data: b"welcome", .. })));
//! # Ok::<(), wsproto::handshake::HandshakeError>(())
//! ```

mod accept_key;
#[cfg(feature = "alloc")]
mod client;
#[cfg(feature = "alloc")]
mod error;
#[cfg(feature = "alloc")]
pub mod extended_connect;
#[cfg(feature = "alloc")]
mod extensions;
#[cfg(feature = "alloc")]
mod headers;
#[cfg(feature = "alloc")]
mod http;
#[cfg(feature = "http")]
mod http_types;
#[cfg(feature = "alloc")]
mod negotiate;
#[cfg(feature = "alloc")]
mod server;
#[cfg(feature = "alloc")]
mod uri;

pub use accept_key::{AcceptKey, WEBSOCKET_GUID, accept_key};
#[cfg(feature = "alloc")]
pub use client::{ClientHandshake, ClientRequest, ClientStatus, DEFAULT_MAX_RESPONSE_SIZE};
#[cfg(feature = "alloc")]
pub use error::HandshakeError;
#[cfg(feature = "alloc")]
pub use extensions::{ExtensionOffer, format_extensions, parse_extensions};
#[cfg(feature = "alloc")]
pub use headers::Headers;
#[cfg(feature = "alloc")]
pub use http::{HttpRequest, HttpResponse, reason_phrase};
#[cfg(feature = "alloc")]
pub use negotiate::{Accept, Negotiated};
#[cfg(feature = "alloc")]
pub use server::{DEFAULT_MAX_REQUEST_SIZE, ServerHandshake, ServerStatus, UpgradeRequest};

/// The default limit on header lines in a request or response head: 64.
pub const DEFAULT_MAX_HEADERS: usize = 64;

/// The most subprotocols a server reads from a request's `Sec-WebSocket-Protocol` lines, all
/// lines together: 32. More is [`HandshakeError::TooManyProtocols`] (status 400).
///
/// With [`MAX_EXTENSION_OFFERS`] and [`MAX_EXTENSION_PARAMS`] it bounds what a request costs
/// beyond its own bytes, however it packs its lists (`a,a,a,…` holds one subprotocol per two
/// bytes).
#[cfg(feature = "alloc")]
pub const MAX_PROTOCOLS: usize = 32;

/// The most extensions a server reads from a request's `Sec-WebSocket-Extensions` lines, all
/// lines together: 32. More is [`HandshakeError::InvalidExtensions`]`("too many extension
/// offers")` (status 400). A client reading a response takes no more extensions than it offered
/// (more is [`HandshakeError::UnofferedExtension`]).
#[cfg(feature = "alloc")]
pub const MAX_EXTENSION_OFFERS: usize = 32;

/// The most extension parameters read from a request's or a response's
/// `Sec-WebSocket-Extensions` lines, in all extensions together: 64. More is
/// [`HandshakeError::InvalidExtensions`]`("too many extension parameters")` (status 400).
#[cfg(feature = "alloc")]
pub const MAX_EXTENSION_PARAMS: usize = 64;
