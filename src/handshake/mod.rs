//! The opening handshake (RFC 6455 §4): HTTP/1.1 upgrade request and response, both roles.
//!
//! Like the rest of the crate it does no I/O: readers are fed bytes and builders write into an
//! [`OutBuf`](crate::OutBuf). Everything but [`accept_key`] needs the `alloc` feature.
//!
//! | role | write | read | then |
//! |---|---|---|---|
//! | client | [`ClientRequest::write`] | [`ClientHandshake::feed`] → [`ClientStatus`] | [`Connection::from_negotiated`](crate::Connection::from_negotiated) |
//! | server | [`UpgradeRequest::accept`] or [`UpgradeRequest::reject`] | [`ServerHandshake::feed`] → [`ServerStatus`] | [`Connection::from_negotiated`](crate::Connection::from_negotiated) |
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
//! let mut server = Connection::from_negotiated(&negotiated, Config::new());
//! server.send_text("welcome", &mut to_client).unwrap(); // in the same write as the 101
//!
//! // Client: read the response; the frame after it is not lost.
//! let ClientStatus::Upgraded { negotiated, leftover, .. } = client_hs.feed(&to_client)? else { panic!() };
//! assert_eq!(negotiated.protocol.as_deref(), Some("chat"));
//! let mut client = Connection::from_negotiated(&negotiated, Config::new());
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
mod extensions;
#[cfg(feature = "alloc")]
pub mod h2;
#[cfg(feature = "alloc")]
mod headers;
#[cfg(feature = "alloc")]
mod http;
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
pub use http::{Request, Response, reason_phrase};
#[cfg(feature = "alloc")]
pub use server::{Accept, DEFAULT_MAX_REQUEST_SIZE, ServerHandshake, ServerStatus, UpgradeRequest};

#[cfg(feature = "alloc")]
use alloc::{string::String, vec::Vec};

#[cfg(feature = "alloc")]
use crate::{Config, Connection, KeySource, Role};

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

/// The reserved bit RSV1 in [`Negotiated::reserved_bits`] (used by permessage-deflate).
#[cfg(feature = "alloc")]
pub const RSV1: u8 = 0b100;
/// The reserved bit RSV2 in [`Negotiated::reserved_bits`].
#[cfg(feature = "alloc")]
pub const RSV2: u8 = 0b010;
/// The reserved bit RSV3 in [`Negotiated::reserved_bits`].
#[cfg(feature = "alloc")]
pub const RSV3: u8 = 0b001;

/// What the opening handshake settled: our role, the subprotocol and the extensions in force.
/// Made by [`ClientHandshake::feed`] and [`UpgradeRequest::accept`]; turned into a connection
/// by [`Connection::from_negotiated`].
#[cfg(feature = "alloc")]
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Negotiated {
    /// Our role.
    pub role: Role,
    /// The subprotocol the server selected, if any.
    pub protocol: Option<String>,
    /// The extensions in force, in the order of the server's response, with the response's
    /// parameters.
    pub extensions: Vec<ExtensionOffer>,
    /// The frame header's reserved bits that the extensions own ([`RSV1`], [`RSV2`],
    /// [`RSV3`]); received frames may set these bits.
    ///
    /// permessage-deflate (feature `deflate`) sets [`RSV1`] when it is agreed. A frame with
    /// any other reserved bit set fails the connection (close code 1002), as RFC 6455 §5.2
    /// requires. A caller that implements another extension itself, on the payloads it is
    /// handed, may set the bits that extension owns before calling
    /// [`Connection::from_negotiated`]: the connection then lets received frames carry those
    /// bits, and hands their payloads over untransformed.
    pub reserved_bits: u8,
    /// permessage-deflate, when it was negotiated through
    /// [`ClientRequest::with_deflate`] or [`Accept::with_deflate`] (feature `deflate`).
    #[cfg(feature = "deflate")]
    pub deflate: Option<crate::deflate::PerMessageDeflate>,
}

#[cfg(feature = "alloc")]
impl Negotiated {
    /// Whether the extension `name` is in force (case-insensitive).
    #[must_use]
    pub fn has_extension(&self, name: &str) -> bool {
        self.extensions.iter().any(|e| e.is(name))
    }
}

#[cfg(feature = "alloc")]
impl Connection {
    /// The connection that follows a successful handshake: role from `negotiated`, reserved
    /// bits owned by its extensions allowed. A client draws masking keys from the operating
    /// system (feature `getrandom`); without that feature use
    /// [`from_negotiated_with_key_source`](Self::from_negotiated_with_key_source).
    ///
    /// Pass the bytes after the handshake head (`leftover`) to
    /// [`receive`](Self::receive) before anything read later.
    #[must_use]
    pub fn from_negotiated(negotiated: &Negotiated, config: Config) -> Self {
        let mut connection = Self::new(negotiated.role, config);
        connection.allow_reserved_bits(negotiated.reserved_bits);
        connection.apply_extensions(negotiated)
    }

    /// As [`from_negotiated`](Self::from_negotiated), with client masking keys drawn from
    /// `keys` (a server never uses them).
    #[must_use]
    pub fn from_negotiated_with_key_source(negotiated: &Negotiated, config: Config, keys: KeySource) -> Self {
        let mut connection = Self::with_key_source(negotiated.role, config, keys);
        connection.allow_reserved_bits(negotiated.reserved_bits);
        connection.apply_extensions(negotiated)
    }

    /// Turns on the extensions the crate implements.
    #[cfg_attr(not(feature = "deflate"), allow(clippy::unused_self))]
    fn apply_extensions(self, negotiated: &Negotiated) -> Self {
        #[cfg(feature = "deflate")]
        if let Some(agreed) = negotiated.deflate {
            return self.with_deflate(agreed);
        }
        let _ = negotiated;
        self
    }
}
