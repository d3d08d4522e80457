//! The negotiation both transports share, HTTP/1.1 upgrade and extended CONNECT: the fields a
//! client offers, a server's reading of them and its choice ([`Accept`]), the client's check of
//! the accepting response, and what both end with ([`Negotiated`]).
//!
//! Only the spelling of the fields differs between the transports ([`FieldNames`]): the
//! checks, the caps and the outcome are the same.

use alloc::string::String;
use alloc::vec::Vec;

use super::extensions::{Caps, ExtensionOffer, format_extensions, parse_capped};
use super::headers::{Headers, is_field_value, is_token, list_elements, single, trim_ows};
use super::{HandshakeError, MAX_EXTENSION_OFFERS, MAX_EXTENSION_PARAMS, MAX_PROTOCOLS};
use crate::{Connection, Role};

/// How a transport spells the WebSocket header fields, in the fields it writes and in errors:
/// HTTP/1.1 in the case RFC 6455 uses, HTTP/2 and HTTP/3 in lowercase. Lookups ignore case
/// either way.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldNames {
    /// `Sec-WebSocket-Version`.
    pub(crate) version: &'static str,
    /// `Origin`.
    pub(crate) origin: &'static str,
    /// `Sec-WebSocket-Protocol`.
    pub(crate) protocol: &'static str,
    /// `Sec-WebSocket-Extensions`.
    pub(crate) extensions: &'static str,
}

impl FieldNames {
    /// The HTTP/1.1 spelling (RFC 6455).
    pub(crate) const HTTP1: Self = Self {
        version: "Sec-WebSocket-Version",
        origin: "Origin",
        protocol: "Sec-WebSocket-Protocol",
        extensions: "Sec-WebSocket-Extensions",
    };

    /// The HTTP/2 and HTTP/3 spelling (RFC 8441, RFC 9220): lowercase.
    pub(crate) const EXTENDED_CONNECT: Self = Self {
        version: "sec-websocket-version",
        origin: "origin",
        protocol: "sec-websocket-protocol",
        extensions: "sec-websocket-extensions",
    };
}

// ---------------------------------------------------------------------------------------------
// Client: the offer, and the check of the accepting response.
// ---------------------------------------------------------------------------------------------

/// What a client offers, kept from the request to the check of the response: the subprotocols in
/// order of preference, the extensions, and permessage-deflate's configuration when it is one
/// of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Offer {
    pub(crate) protocols: Vec<String>,
    pub(crate) extensions: Vec<ExtensionOffer>,
    #[cfg(feature = "deflate")]
    pub(crate) deflate: Option<crate::deflate::DeflateConfig>,
}

impl Offer {
    /// Checks the offer and `origin` before they are sent, then appends `Sec-WebSocket-Version`,
    /// `Origin`, `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` (those that apply) to
    /// `fields`, spelled as `names` says.
    ///
    /// # Errors
    /// [`HandshakeError::InvalidInput`] for a subprotocol that is not a token or is offered
    /// twice, an extension that cannot be written, or an `origin` that is empty or has a
    /// control character. Nothing is appended on error.
    pub(crate) fn push_fields(
        &self,
        origin: Option<&str>,
        names: &FieldNames,
        fields: &mut Headers,
    ) -> Result<(), HandshakeError> {
        for (i, p) in self.protocols.iter().enumerate() {
            if !is_token(p.as_bytes()) {
                return Err(HandshakeError::InvalidInput("subprotocol is not a token"));
            }
            if self.protocols.iter().take(i).any(|q| q == p) {
                return Err(HandshakeError::InvalidInput("subprotocol offered twice"));
            }
        }
        let extensions = format_extensions(&self.extensions)?;
        if origin.is_some_and(|o| o.is_empty() || !is_field_value(o.as_bytes())) {
            return Err(HandshakeError::InvalidInput("origin is empty or contains a control character"));
        }
        fields.push(names.version, "13");
        if let Some(origin) = origin {
            fields.push(names.origin, origin);
        }
        if !self.protocols.is_empty() {
            fields.push(names.protocol, self.protocols.join(", "));
        }
        if !extensions.is_empty() {
            fields.push(names.extensions, extensions);
        }
        Ok(())
    }

    /// What the offer became in a server's accepting response (HTTP/1.1 101 or the 2xx of an
    /// extended CONNECT): the selected subprotocol must have been offered, each accepted
    /// extension offered and accepted once, and permessage-deflate's parameters must fit the
    /// offer. `names` spell the fields as the transport does, in errors.
    ///
    /// # Errors
    /// [`HandshakeError::InvalidProtocols`], [`HandshakeError::UnofferedProtocol`],
    /// [`HandshakeError::DuplicateHeader`], [`HandshakeError::InvalidExtensions`] or
    /// [`HandshakeError::UnofferedExtension`].
    pub(crate) fn check_response(&self, h: &Headers, names: &FieldNames) -> Result<Negotiated, HandshakeError> {
        let protocol = match single(h, names.protocol)? {
            None => None,
            Some(value) => {
                let value = trim_ows(value);
                if !is_token(value) {
                    return Err(HandshakeError::InvalidProtocols);
                }
                let offered = self.protocols.iter().find(|p| p.as_bytes() == value);
                Some(offered.ok_or(HandshakeError::UnofferedProtocol)?.clone())
            }
        };
        // Each extension accepted must have been offered, and accepted once: more than were
        // offered is an error, so no more are held.
        let caps = Caps {
            offers: self.extensions.len(),
            params: MAX_EXTENSION_PARAMS,
            too_many_offers: HandshakeError::UnofferedExtension,
        };
        let extensions = parse_capped(h.get_all(names.extensions), caps)?;
        for (i, ext) in extensions.iter().enumerate() {
            let was_offered = self.extensions.iter().any(|o| o.is(&ext.name));
            let repeated = extensions.iter().take(i).any(|e| e.is(&ext.name));
            if !was_offered || repeated {
                return Err(HandshakeError::UnofferedExtension);
            }
        }
        #[cfg(feature = "deflate")]
        let deflate = match (&self.deflate, extensions.iter().find(|e| e.is(crate::deflate::PERMESSAGE_DEFLATE))) {
            (Some(config), Some(response)) => Some(config.accept_response(response)?),
            _ => None,
        };
        Ok(Negotiated::new(
            Role::Client,
            protocol,
            extensions,
            #[cfg(feature = "deflate")]
            deflate,
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Server: reading the offer, and the choice.
// ---------------------------------------------------------------------------------------------

/// Checks the WebSocket fields of a client's request (over HTTP/1.1 or extended CONNECT): one
/// `Sec-WebSocket-Version: 13`, at most one `Origin`, well-formed subprotocol and extension
/// lists of at most [`MAX_PROTOCOLS`] subprotocols, [`MAX_EXTENSION_OFFERS`] extensions and
/// [`MAX_EXTENSION_PARAMS`] parameters. Returns the subprotocols and the extensions offered;
/// `names` spell the fields as the transport does, in errors.
pub(crate) fn read_offer(
    h: &Headers,
    names: &FieldNames,
) -> Result<(Vec<String>, Vec<ExtensionOffer>), HandshakeError> {
    let version = single(h, names.version)?.ok_or(HandshakeError::UnsupportedVersion)?;
    if trim_ows(version) != b"13" {
        return Err(HandshakeError::UnsupportedVersion);
    }
    single(h, names.origin)?;
    let mut protocols = Vec::new();
    let mut too_many = false;
    for line in h.get_all(names.protocol) {
        let mut found = false;
        for p in list_elements(line) {
            // Tokens are ASCII.
            let p = core::str::from_utf8(p).ok().filter(|p| is_token(p.as_bytes()));
            let p = p.ok_or(HandshakeError::InvalidProtocols)?;
            found = true;
            // Past the cap the list is still checked, but nothing more is held.
            if protocols.len() < MAX_PROTOCOLS {
                protocols.push(String::from(p));
            } else {
                too_many = true;
            }
        }
        if !found {
            return Err(HandshakeError::InvalidProtocols);
        }
    }
    if too_many {
        return Err(HandshakeError::TooManyProtocols { limit: MAX_PROTOCOLS });
    }
    let caps = Caps {
        offers: MAX_EXTENSION_OFFERS,
        params: MAX_EXTENSION_PARAMS,
        too_many_offers: HandshakeError::InvalidExtensions("too many extension offers"),
    };
    let extensions = parse_capped(h.get_all(names.extensions), caps)?;
    Ok((protocols, extensions))
}

/// How a server accepts an upgrade, over HTTP/1.1 or extended CONNECT: the chosen subprotocol,
/// the accepted extensions (with the parameters of the response), permessage-deflate, and extra
/// response headers (such as `Set-Cookie`).
///
/// Pass it to [`UpgradeRequest::accept`](super::UpgradeRequest::accept) (HTTP/1.1) or
/// [`extended_connect::accept`](super::extended_connect::accept) (HTTP/2 and HTTP/3).
///
/// ```
/// use wsproto::handshake::{Accept, ExtensionOffer};
/// let accept = Accept::new()
///     .with_protocol("chat")
///     .with_extension(ExtensionOffer::new("x-custom").with_param("level", "2"))
///     .with_header("Set-Cookie", "session=1");
/// # let _ = accept;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accept {
    protocol: Option<String>,
    extensions: Vec<ExtensionOffer>,
    headers: Headers,
    #[cfg(feature = "deflate")]
    deflate: Option<crate::deflate::DeflateConfig>,
}

impl Accept {
    /// Accept with no subprotocol, no extension and no extra header.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            protocol: None,
            extensions: Vec::new(),
            headers: Headers::new(),
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// Accepts permessage-deflate (RFC 7692, feature `deflate`) if the client offered it in a
    /// form `config` can agree to: the first acceptable offer wins, invalid offers are
    /// declined, and without an acceptable offer the connection simply runs uncompressed.
    /// [`Negotiated::deflate`] says what was agreed.
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn with_deflate(mut self, config: crate::deflate::DeflateConfig) -> Self {
        self.deflate = Some(config);
        self
    }

    /// Selects a subprotocol (it must be one the client offered).
    #[must_use]
    pub fn with_protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = Some(protocol.into());
        self
    }

    /// Accepts an extension (one the client offered), with the response's parameters.
    #[must_use]
    pub fn with_extension(mut self, extension: ExtensionOffer) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Adds an extra header to the accepting response (over extended CONNECT its name is
    /// lowercased). Headers the handshake writes itself are refused when the response is made.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push(name, value);
        self
    }

    /// The extra headers, unchecked.
    pub(crate) fn headers(&self) -> &Headers {
        &self.headers
    }

    /// Settles what this accepts of a client's offer (over HTTP/1.1 or extended CONNECT): the
    /// subprotocol and each extension must have been offered, no extension is accepted twice,
    /// and permessage-deflate is agreed when `with_deflate` was given and an offer fits.
    /// Appends the response's subprotocol and extension fields to `fields`, spelled as `names`
    /// says.
    ///
    /// # Errors
    /// [`HandshakeError::InvalidInput`] for a choice that was not offered, an extension
    /// accepted twice or one that cannot be written.
    pub(crate) fn negotiate(
        &self,
        protocols: &[String],
        offered: &[ExtensionOffer],
        names: &FieldNames,
        fields: &mut Headers,
    ) -> Result<Negotiated, HandshakeError> {
        if let Some(p) = &self.protocol {
            if !protocols.contains(p) {
                return Err(HandshakeError::InvalidInput("subprotocol was not offered"));
            }
            fields.push(names.protocol, p.as_str());
        }
        #[cfg_attr(not(feature = "deflate"), allow(unused_mut))]
        let mut extensions = self.extensions.clone();
        #[cfg(feature = "deflate")]
        let deflate = self.deflate.as_ref().and_then(|config| config.negotiate(offered));
        #[cfg(feature = "deflate")]
        let deflate = deflate.map(|(response, agreed)| {
            extensions.push(response);
            agreed
        });
        for (i, ext) in extensions.iter().enumerate() {
            if !offered.iter().any(|o| o.is(&ext.name)) {
                return Err(HandshakeError::InvalidInput("extension was not offered"));
            }
            if extensions.iter().take(i).any(|e| e.is(&ext.name)) {
                return Err(HandshakeError::InvalidInput("extension accepted twice"));
            }
        }
        if !extensions.is_empty() {
            fields.push(names.extensions, format_extensions(&extensions)?);
        }
        Ok(Negotiated::new(
            Role::Server,
            self.protocol.clone(),
            extensions,
            #[cfg(feature = "deflate")]
            deflate,
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// The outcome.
// ---------------------------------------------------------------------------------------------

/// What the opening handshake settled, over HTTP/1.1 or extended CONNECT: our role, the
/// subprotocol and the extensions in force. Made by [`ClientHandshake::feed`],
/// [`UpgradeRequest::accept`], [`extended_connect::check_response`] and
/// [`extended_connect::accept`]; applied to a connection by [`Connection::with_negotiated`].
///
/// [`ClientHandshake::feed`]: super::ClientHandshake::feed
/// [`UpgradeRequest::accept`]: super::UpgradeRequest::accept
/// [`extended_connect::check_response`]: super::extended_connect::check_response
/// [`extended_connect::accept`]: super::extended_connect::accept
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
    /// The frame header's reserved bits that the extensions own
    /// ([`frame::RSV1`](crate::frame::RSV1), [`RSV2`](crate::frame::RSV2),
    /// [`RSV3`](crate::frame::RSV3)); received frames may set these bits.
    ///
    /// permessage-deflate (feature `deflate`) sets `RSV1` when it is agreed. A frame with
    /// any other reserved bit set fails the connection (close code 1002), as RFC 6455 §5.2
    /// requires. A caller that implements another extension itself, on the payloads it is
    /// handed, may set the bits that extension owns before calling
    /// [`Connection::with_negotiated`]: the connection then lets received frames carry those
    /// bits, and hands their payloads over untransformed.
    pub reserved_bits: u8,
    /// permessage-deflate, when it was negotiated through
    /// [`ClientRequest::with_deflate`](super::ClientRequest::with_deflate) or
    /// [`Accept::with_deflate`] (feature `deflate`).
    #[cfg(feature = "deflate")]
    pub deflate: Option<crate::deflate::PerMessageDeflate>,
}

impl Negotiated {
    /// The outcome for `role`; permessage-deflate, when agreed, owns `RSV1`.
    fn new(
        role: Role,
        protocol: Option<String>,
        extensions: Vec<ExtensionOffer>,
        #[cfg(feature = "deflate")] deflate: Option<crate::deflate::PerMessageDeflate>,
    ) -> Self {
        Self {
            role,
            protocol,
            extensions,
            #[cfg(feature = "deflate")]
            reserved_bits: if deflate.is_some() { crate::frame::RSV1 } else { 0 },
            #[cfg(not(feature = "deflate"))]
            reserved_bits: 0,
            #[cfg(feature = "deflate")]
            deflate,
        }
    }

    /// Whether the extension `name` is in force (case-insensitive).
    #[must_use]
    pub fn has_extension(&self, name: &str) -> bool {
        self.extensions.iter().any(|e| e.is(name))
    }
}

impl Connection {
    /// Applies what the handshake agreed: received frames may carry the reserved bits its
    /// extensions own ([`Negotiated::reserved_bits`]), and permessage-deflate is turned on when
    /// it was agreed (feature `deflate`; see [`with_deflate`](Self::with_deflate), and
    /// [`needs_scratch`](Self::needs_scratch) for how to receive then).
    ///
    /// ```
    /// # use wsproto::handshake::{Accept, ClientRequest, ServerHandshake, ServerStatus};
    /// # use wsproto::{Config, Connection};
    /// # let mut request = Vec::new();
    /// # ClientRequest::new("ws://localhost/")?.write(&mut request)?;
    /// # let ServerStatus::Upgrade(upgrade) = ServerHandshake::new().feed(&request)? else { panic!() };
    /// let negotiated = upgrade.accept(&Accept::new(), &mut Vec::new())?;
    /// let server = Connection::new(negotiated.role, Config::new()).with_negotiated(&negotiated);
    /// assert!(!server.needs_scratch());
    /// # Ok::<(), wsproto::handshake::HandshakeError>(())
    /// ```
    ///
    /// Pass the bytes after the handshake head (`leftover`) to the connection before anything
    /// read later.
    ///
    /// # Panics
    /// If `negotiated.role` is not the connection's role (make the connection with
    /// `Connection::new(negotiated.role, config)`).
    #[must_use]
    pub fn with_negotiated(mut self, negotiated: &Negotiated) -> Self {
        assert_eq!(self.role(), negotiated.role, "the handshake was negotiated for the other role");
        self.allow_reserved_bits(negotiated.reserved_bits);
        #[cfg(feature = "deflate")]
        if let Some(agreed) = negotiated.deflate {
            return self.with_deflate(agreed);
        }
        self
    }
}
