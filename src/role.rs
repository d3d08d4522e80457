//! Which end of the connection we are.

/// The side of a WebSocket connection this endpoint plays.
///
/// The role decides the masking rules (RFC 6455 §5.1): a client masks every frame it sends and
/// rejects masked frames from the server; a server rejects unmasked frames and never masks. It
/// also decides who closes the TCP connection first after the close handshake (the server).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The endpoint that sent the opening handshake request.
    Client,
    /// The endpoint that answered the opening handshake request.
    Server,
}

impl Role {
    /// The other side.
    #[must_use]
    pub const fn peer(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }

    /// Whether frames *sent* by this role carry a masking key.
    #[must_use]
    pub const fn masks_outgoing(self) -> bool {
        matches!(self, Self::Client)
    }
}
