//! Broadcast: a message encoded once and sent on any number of server connections.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::{Config, Connection, Error, MessageKind, Role};

/// A whole message encoded once, to be sent on any number of server connections: a broadcast
/// (a chat room, a ticker) encodes and, with permessage-deflate, compresses each message once
/// instead of once per receiver.
///
/// A server's frames are not masked, so a message's frames are the same bytes for every
/// receiver. `PreparedMessage` holds them behind an [`Arc`]: a clone costs a reference count,
/// and it can be shared with tasks on other threads. Send it with
/// [`Connection::send_prepared`] (into an [`OutBuf`](crate::OutBuf), copied) or
/// [`Connection::prepare_send`] (the bytes, to be written from where they lie); each connection
/// still checks that it may send (its state, no fragmented message open) and counts the message
/// as sent data, as [`Connection::send`] does. Clients mask every frame with a key of their own,
/// so only a server can send one.
///
/// The frames are split as [`Connection::send`] splits them, at the
/// [`max_outgoing_frame`](Config::max_outgoing_frame) of the [`Config`] given here: prepare
/// with the configuration the connections are built with. A connection whose own
/// `max_outgoing_frame` is smaller than a prepared frame refuses the message
/// ([`Misuse::PreparedFrameTooLarge`](crate::Misuse::PreparedFrameTooLarge)).
///
/// ```
/// use wsproto::{Config, Connection, MessageKind, PreparedMessage, Role};
/// let config = Config::new();
/// let message = PreparedMessage::new(MessageKind::Text, b"tick", &config).unwrap();
/// let mut servers: Vec<Connection> = (0..3).map(|_| Connection::new(Role::Server, config)).collect();
/// for server in &mut servers {
///     let mut out = Vec::new();
///     server.send_prepared(&message, &mut out).unwrap();
///     assert_eq!(out, b"\x81\x04tick");
/// }
/// ```
///
/// Needs feature `alloc` and a target with pointer-sized atomics (for [`Arc`]).
#[derive(Clone)]
pub struct PreparedMessage(Arc<Inner>);

struct Inner {
    kind: MessageKind,
    /// The payload's length.
    len: usize,
    /// The largest payload of one frame ([`Config::max_outgoing_frame`], at least 1).
    max_frame: usize,
    /// The uncompressed frames, exactly as [`Connection::send`] writes them.
    frames: Box<[u8]>,
    #[cfg(feature = "deflate")]
    deflate: Option<compressed::Variants>,
}

impl PreparedMessage {
    /// Encodes a whole message of `kind` as a server sends it, split into frames of at most
    /// `config.max_outgoing_frame` bytes of payload.
    ///
    /// # Errors
    /// [`Misuse::InvalidUtf8`](crate::Misuse::InvalidUtf8) for text that is not UTF-8 (checked
    /// once, here).
    pub fn new(kind: MessageKind, data: &[u8], config: &Config) -> Result<Self, Error> {
        Ok(Self(Arc::new(Inner::new(kind, data, config)?)))
    }

    /// The kind of the message.
    #[must_use]
    pub fn kind(&self) -> MessageKind {
        self.0.kind
    }

    /// The length of the message's payload (uncompressed).
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len
    }

    /// Whether the payload is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.len == 0
    }

    /// The uncompressed frames.
    pub(crate) fn frames(&self) -> &[u8] {
        &self.0.frames
    }

    /// The largest payload one of its frames carries: at most the `max_outgoing_frame` it was
    /// prepared with (compressed frames carry no more than uncompressed ones, which are used
    /// when compressing does not make the message smaller).
    pub(crate) fn largest_frame(&self) -> usize {
        self.0.len.min(self.0.max_frame)
    }
}

impl Inner {
    fn new(kind: MessageKind, data: &[u8], config: &Config) -> Result<Self, Error> {
        let max_frame = config.max_outgoing_frame.max(1);
        // Encoded by a server connection of its own: the bytes are what `send` writes.
        let mut server = Connection::new(Role::Server, Config::new().max_outgoing_frame(max_frame));
        let mut frames = Vec::new();
        server.send(kind, data, &mut frames)?;
        Ok(Self {
            kind,
            len: data.len(),
            max_frame,
            frames: frames.into_boxed_slice(),
            #[cfg(feature = "deflate")]
            deflate: None,
        })
    }
}

impl core::fmt::Debug for PreparedMessage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut s = f.debug_struct("PreparedMessage");
        s.field("kind", &self.0.kind).field("len", &self.0.len).field("frames_len", &self.0.frames.len());
        #[cfg(feature = "deflate")]
        s.field("compressed", &self.0.deflate.is_some());
        s.finish()
    }
}

/// The compressed variants (feature `deflate`).
#[cfg(feature = "deflate")]
mod compressed {
    use alloc::borrow::Cow;
    use alloc::boxed::Box;
    use alloc::sync::Arc;
    use alloc::vec::Vec;
    use std::sync::OnceLock;

    use super::{Inner, PreparedMessage};
    use crate::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
    use crate::frame::{HeaderStatus, decode_header};
    use crate::{Config, Connection, Error, MessageKind, Role};

    /// The message compressed with each LZ77 window zlib can compress with (9 to 15 bits),
    /// made when a connection first needs it. `None`: compressing does not make it smaller.
    pub(super) struct Variants {
        level: u32,
        by_window: [OnceLock<Option<Box<[u8]>>>; 7],
    }

    impl PreparedMessage {
        /// As [`new`](Self::new), and compressed for permessage-deflate at `deflate`'s
        /// [`level`](DeflateConfig::level) (feature `deflate`).
        ///
        /// A compressed message is compressed on its own, with a fresh context, so it fits
        /// any connection whose agreement has `server_no_context_takeover` (every message
        /// starts afresh there; [`DeflateConfig::low_memory`] asks for it): such a connection
        /// sends it with RSV1 set. The LZ77 window matters too: data compressed with a 15-bit
        /// window cannot be inflated by a peer that agreed to `server_max_window_bits=12`. So
        /// the message is compressed once per window in use: here for
        /// `deflate.server_max_window_bits` (15 when `None`), the largest window a connection
        /// accepted with `deflate` can have, and for a smaller window when the first
        /// connection that agreed to it sends the message (kept for the others).
        ///
        /// Every other connection sends the uncompressed frames, which RFC 7692 allows for any
        /// message: no permessage-deflate, context takeover (its peer's window holds our
        /// earlier messages, which a message compressed on its own does not refer to; our
        /// compressor's context would then miss this one), a message shorter than the
        /// connection's [`min_size`](PerMessageDeflate::min_size), or a message that
        /// compressing does not make smaller.
        ///
        /// ```
        /// use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
        /// use wsproto::{Config, Connection, MessageKind, PreparedMessage, Role};
        /// let deflate = DeflateConfig::low_memory();
        /// let text = "all the news that fits ".repeat(20);
        /// let message = PreparedMessage::compressed(MessageKind::Text, text.as_bytes(), &Config::new(), &deflate).unwrap();
        /// let params = DeflateParams { server_no_context_takeover: true, ..DeflateParams::DEFAULT };
        /// let mut server =
        ///     Connection::new(Role::Server, Config::new()).with_deflate(PerMessageDeflate::new(params, &deflate));
        /// let mut out = Vec::new();
        /// server.send_prepared(&message, &mut out).unwrap();
        /// assert_eq!(out[0], 0xc1); // FIN, RSV1, text
        /// assert!(out.len() < text.len());
        /// ```
        ///
        /// # Errors
        /// As for [`new`](Self::new).
        pub fn compressed(
            kind: MessageKind,
            data: &[u8],
            config: &Config,
            deflate: &DeflateConfig,
        ) -> Result<Self, Error> {
            let mut inner = Inner::new(kind, data, config)?;
            let variants = Variants { level: deflate.level, by_window: Default::default() };
            let bits = deflate.server_max_window_bits.unwrap_or(15);
            let _ = variants.get(&inner, bits);
            inner.deflate = Some(variants);
            Ok(Self(Arc::new(inner)))
        }

        /// The frames compressed for a connection whose server window is `window_bits`, unless
        /// compressing does not make them smaller (or the message was not prepared
        /// compressed).
        pub(crate) fn compressed_frames(&self, window_bits: u8) -> Option<&[u8]> {
            self.0.deflate.as_ref()?.get(&self.0, window_bits)
        }
    }

    impl Variants {
        fn get<'a>(&'a self, inner: &Inner, window_bits: u8) -> Option<&'a [u8]> {
            // As the compressor of a connection clamps it: zlib has no 8-bit window.
            let bits = window_bits.clamp(9, 15);
            self.by_window[usize::from(bits - 9)].get_or_init(|| self.compress(inner, bits)).as_deref()
        }

        /// Compresses as a connection that agreed to `server_no_context_takeover` and a
        /// `bits` window sends a whole message.
        fn compress(&self, inner: &Inner, bits: u8) -> Option<Box<[u8]>> {
            let params = DeflateParams {
                server_no_context_takeover: true,
                server_max_window_bits: bits,
                ..DeflateParams::DEFAULT
            };
            let agreed = PerMessageDeflate { params, level: self.level, min_size: 0 };
            let config = Config::new().max_outgoing_frame(inner.max_frame);
            let mut server = Connection::new(Role::Server, config).with_deflate(agreed);
            let mut frames = Vec::new();
            server.send(inner.kind, &inner.payload(), &mut frames).ok()?;
            (frames.len() < inner.frames.len()).then(|| frames.into_boxed_slice())
        }
    }

    impl Inner {
        /// The payload, read back from the uncompressed frames: borrowed when it is one frame.
        fn payload(&self) -> Cow<'_, [u8]> {
            let frames = &self.frames[..];
            if self.len <= self.max_frame {
                return Cow::Borrowed(&frames[frames.len() - self.len..]);
            }
            let mut payload = Vec::with_capacity(self.len);
            let mut at = 0;
            while let Ok(HeaderStatus::Complete(header, n)) = decode_header(&frames[at..]) {
                let end = at + n + header.payload_len as usize;
                payload.extend_from_slice(&frames[at + n..end]);
                at = end;
            }
            Cow::Owned(payload)
        }
    }
}
