//! The connection state machine: bytes and commands in, events and bytes out.

#[cfg(feature = "alloc")]
mod decode;
#[cfg(feature = "alloc")]
mod extension_slot;
mod recv;
mod send;
mod state;
mod timer;

pub use send::FrameHead;
pub use state::{SUGGESTED_CLOSE_TIMEOUT, State, TransportAction};
pub use timer::{Timer, Timestamp};

use crate::{CloseCode, Config, ControlPayload, Error, KeySource, Role};

/// One WebSocket connection after the opening handshake, in either role.
///
/// It owns no socket, clock or thread. The caller moves bytes:
///
/// 1. **Input.** Read from the transport into a buffer and pass it to [`receive`](Self::receive)
///    until it reports `event: None` (everything consumed). Each call consumes bytes from the
///    front and may lend one [`Event`](crate::Event); data is unmasked in place and borrowed
///    from the buffer. At end of input call [`receive_eof`](Self::receive_eof).
///
///    A connection with an extension that transforms payloads in force (permessage-deflate or
///    one added with [`with_extension`](Self::with_extension);
///    [`needs_scratch`](Self::needs_scratch), known once it is built) writes decoded data into
///    a buffer of the caller's: give it input with [`receive_into`](Self::receive_into) and a
///    non-empty scratch buffer instead (`receive` refuses, nothing consumed). `receive_into`
///    takes input on every connection, so code that may run with an extension calls only it.
/// 2. **Commands.** [`send_text`](Self::send_text), [`send_binary`](Self::send_binary),
///    [`send_fragment`](Self::send_fragment), [`ping`](Self::ping), [`pong`](Self::pong) and
///    [`close`](Self::close) write frames into the caller's [`OutBuf`](crate::OutBuf) (a `Vec<u8>` or a
///    [`SliceBuf`](crate::SliceBuf)).
/// 3. **Output.** Automatic replies (Pong, the Close reply, the Close frame after a failure)
///    wait in fixed slots: after handling input, call [`poll_transmit`](Self::poll_transmit)
///    (every send command also writes them first). Write the output to the transport.
/// 4. **Transport.** [`transport_action`](Self::transport_action) says when to close it.
///
/// ```
/// use wsproto::{Config, Connection, Event, KeySource, MessageKind, Role};
///
/// let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(1));
/// let mut server = Connection::new(Role::Server, Config::new());
///
/// let mut wire = Vec::new();
/// client.send_text("hello", &mut wire).unwrap();
///
/// let len = wire.len();
/// let received = server.receive(&mut wire).unwrap();
/// assert_eq!(received.consumed, len);
/// match received.event {
///     Some(Event::Data { kind: MessageKind::Text, data, first: true, last: true, .. }) => {
///         assert_eq!(data, b"hello")
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug)]
pub struct Connection {
    role: Role,
    config: Config,
    /// Client masking keys (boxed with `alloc`: a server, which never masks, holds a pointer
    /// instead of the key pool).
    keys: Option<Keys>,
    /// Reserved bits owned by negotiated extensions: received frames may carry them.
    rsv_allowed: u8,
    /// The reserved bits of the extension in force that transforms payloads (0 when none):
    /// a received message whose first frame sets some of them is decoded by it.
    #[cfg(feature = "alloc")]
    ext_bits: u8,
    close: state::CloseState,
    recv: recv::RecvState,
    send: send::SendState,
    pending_pong: Option<ControlPayload>,
    /// A Close frame due to be written (the reply to the peer's Close, or the answer to a
    /// failure): its code, if any. Neither carries a reason, so the slot needs no room for one.
    pending_close: Option<Option<CloseCode>>,
    /// A keepalive Ping (empty) due to be written.
    pending_ping: bool,
    timers: timer::Timers,
    /// The extension that transforms payloads (permessage-deflate or one added with
    /// `with_extension`), when one is in force.
    #[cfg(feature = "alloc")]
    extension: Option<alloc::boxed::Box<extension_slot::ExtensionSlot>>,
}

/// Where a client's masking keys live.
#[cfg(feature = "alloc")]
type Keys = alloc::boxed::Box<KeySource>;
#[cfg(not(feature = "alloc"))]
type Keys = KeySource;

impl Connection {
    /// A connection in the open state: the one constructor. Chained methods set what the
    /// defaults leave out: [`with_key_source`](Self::with_key_source) (a client's masking
    /// keys), [`with_negotiated`](Self::with_negotiated) (what the opening handshake agreed,
    /// feature `alloc`) or [`with_deflate`](Self::with_deflate) (permessage-deflate agreed
    /// elsewhere).
    ///
    /// A client draws masking keys from the operating system (feature `getrandom`, on by
    /// default); without that feature give it a source with
    /// [`with_key_source`](Self::with_key_source), or its sends fail with
    /// [`Misuse::NoKeySource`](crate::Misuse::NoKeySource).
    #[must_use]
    #[cfg_attr(not(feature = "alloc"), allow(clippy::useless_conversion))] // `Keys` is `KeySource` then
    pub fn new(role: Role, config: Config) -> Self {
        #[cfg(feature = "getrandom")]
        let keys = role.masks_outgoing().then(|| KeySource::os().into());
        #[cfg(not(feature = "getrandom"))]
        let keys = None;
        Self {
            role,
            config,
            keys,
            rsv_allowed: 0,
            #[cfg(feature = "alloc")]
            ext_bits: 0,
            close: state::CloseState::default(),
            recv: recv::RecvState::default(),
            send: send::SendState::default(),
            pending_pong: None,
            pending_close: None,
            pending_ping: false,
            timers: timer::Timers::default(),
            #[cfg(feature = "alloc")]
            extension: None,
        }
    }

    /// Draws a client's masking keys from `keys` instead of the operating system (a server
    /// never masks, and ignores them).
    ///
    /// ```
    /// use wsproto::{Config, Connection, KeySource, Role};
    /// // Deterministic keys, for tests only.
    /// let client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(1));
    /// # let _ = client;
    /// ```
    #[must_use]
    #[cfg_attr(not(feature = "alloc"), allow(clippy::useless_conversion))] // `Keys` is `KeySource` then
    pub fn with_key_source(mut self, keys: KeySource) -> Self {
        self.keys = self.role.masks_outgoing().then(|| keys.into());
        self
    }

    /// Turns on permessage-deflate with what the handshake agreed (feature `deflate`):
    /// compresses whole messages we send, inflates compressed messages we receive (so
    /// [`needs_scratch`](Self::needs_scratch) becomes true: receive with
    /// [`receive_into`](Self::receive_into)), and lets received first frames carry RSV1.
    /// [`with_negotiated`](Self::with_negotiated) calls it; call it directly for a stream
    /// negotiated elsewhere. It runs as the connection's [`Extension`](crate::Extension),
    /// replacing an earlier permessage-deflate agreement.
    ///
    /// # Panics
    /// If an extension added with [`with_extension`](Self::with_extension) is in force (a
    /// connection runs one extension that transforms payloads). Call `with_negotiated` or
    /// `with_deflate` first: `with_extension` then reports the clash as
    /// [`Misuse::ExtensionConflict`](crate::Misuse::ExtensionConflict).
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn with_deflate(mut self, agreed: crate::deflate::PerMessageDeflate) -> Self {
        assert!(
            self.extension.as_ref().is_none_or(|slot| slot.deflate().is_some()),
            "with_deflate on a connection that runs another extension"
        );
        let codec = crate::deflate::DeflateExtension::new(self.role, &agreed);
        self.extension = None;
        self.ext_bits = 0;
        self.install(extension_slot::Running::Deflate(codec, agreed))
    }

    /// The permessage-deflate agreement in force, if any.
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn deflate(&self) -> Option<&crate::deflate::PerMessageDeflate> {
        self.extension.as_ref().and_then(|slot| slot.deflate())
    }

    /// Runs `extension`, a negotiated extension that transforms payloads (feature `alloc`; see
    /// [`Extension`](crate::Extension)): received messages whose first frame carries its
    /// reserved bits are decoded by it into the caller's scratch buffer (so
    /// [`needs_scratch`](Self::needs_scratch) becomes true: receive with
    /// [`receive_into`](Self::receive_into)), and whole messages sent with
    /// [`send`](Self::send), [`send_text`](Self::send_text) and
    /// [`send_binary`](Self::send_binary) are encoded by it.
    ///
    /// A connection runs one such extension. Build the connection from the handshake first
    /// (`Connection::new(negotiated.role, config).with_negotiated(&negotiated)`), then add the
    /// extension built from what [`Negotiated::extensions`](crate::handshake::Negotiated::extensions)
    /// says was agreed.
    ///
    /// ```
    /// # use wsproto::{Config, Connection, Decoded, Error, Extension, MessageKind, Misuse, Role};
    /// # #[derive(Debug)]
    /// # struct Toy;
    /// # impl Extension for Toy {
    /// #     fn reserved_bits(&self) -> u8 { wsproto::frame::RSV2 }
    /// #     fn start_decoding(&mut self, _: MessageKind, _: u8) -> Result<(), Error> { Ok(()) }
    /// #     fn decode(&mut self, i: &[u8], o: &mut [u8]) -> Decoded {
    /// #         let n = i.len().min(o.len()); o[..n].copy_from_slice(&i[..n]); Decoded::new(n, n)
    /// #     }
    /// #     fn finish_decoding(&mut self, _: &mut [u8]) -> Decoded { Decoded::complete(0) }
    /// #     fn encoded_len_bound(&self, _: MessageKind, _: usize) -> Option<usize> { None }
    /// #     fn encode(&mut self, _: MessageKind, d: &[u8], o: &mut Vec<u8>) -> Result<u8, Error> {
    /// #         o.extend_from_slice(d); Ok(wsproto::frame::RSV2)
    /// #     }
    /// # }
    /// let server = Connection::new(Role::Server, Config::new()).with_extension(Box::new(Toy))?;
    /// assert!(server.needs_scratch());
    /// // A second extension is refused.
    /// let again = server.with_extension(Box::new(Toy));
    /// assert_eq!(again.err(), Some(Error::Misuse(Misuse::ExtensionConflict)));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Misuse::ExtensionConflict`](crate::Misuse::ExtensionConflict) when the connection
    /// already runs an extension that transforms payloads (permessage-deflate or another),
    /// when the extension claims a reserved bit that received frames may already carry for
    /// another extension ([`Negotiated::reserved_bits`](crate::handshake::Negotiated::reserved_bits)),
    /// or when it claims none of RSV1, RSV2 and RSV3 (or anything else).
    #[cfg(feature = "alloc")]
    pub fn with_extension(self, extension: alloc::boxed::Box<dyn crate::Extension>) -> Result<Self, Error> {
        let bits = extension.reserved_bits();
        if self.extension.is_some() || bits == 0 || bits & !0b111 != 0 || bits & self.rsv_allowed != 0 {
            return Err(crate::Misuse::ExtensionConflict.into());
        }
        Ok(self.install(extension_slot::Running::Other(extension)))
    }

    /// Puts `running` in the empty slot and lets received frames carry its bits.
    #[cfg(feature = "alloc")]
    fn install(mut self, running: extension_slot::Running) -> Self {
        let slot = extension_slot::ExtensionSlot::new(running);
        let bits = slot.reserved_bits() & 0b111;
        self.extension = Some(alloc::boxed::Box::new(slot));
        self.ext_bits = bits;
        self.rsv_allowed |= bits;
        self
    }

    /// Whether received data must be written into a scratch buffer of the caller's, so that
    /// input has to go through [`receive_into`](Self::receive_into) with a non-empty `scratch`:
    /// true exactly when an extension that transforms payloads is in force (permessage-deflate,
    /// turned on by [`with_negotiated`](Self::with_negotiated) or
    /// [`with_deflate`](Self::with_deflate), or one added with
    /// [`with_extension`](Self::with_extension)). Only those builder methods change it
    /// (receiving and sending never do), so check it once, after building the connection.
    ///
    /// When it is false, [`receive`](Self::receive) takes every input; when it is true,
    /// [`receive`](Self::receive) and an empty `scratch` are refused with
    /// [`Misuse::ScratchRequired`](crate::Misuse::ScratchRequired) (nothing consumed).
    ///
    /// ```
    /// use wsproto::{Config, Connection, Role};
    /// let mut server = Connection::new(Role::Server, Config::new());
    /// let mut input = *b"\x89\x80\0\0\0\0"; // a masked, empty Ping
    /// let mut scratch = vec![0; if server.needs_scratch() { 16 * 1024 } else { 0 }];
    /// let received = server.receive_into(&mut input, &mut scratch).unwrap();
    /// assert_eq!(received.consumed, 6);
    /// ```
    #[inline]
    #[must_use]
    pub fn needs_scratch(&self) -> bool {
        #[cfg(feature = "alloc")]
        return self.ext_bits != 0;
        #[cfg(not(feature = "alloc"))]
        false
    }

    /// Lets received frames carry the reserved bits in `rsv` (an extension negotiated in the
    /// handshake owns them), besides those of the extension in force.
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    pub(crate) fn allow_reserved_bits(&mut self, rsv: u8) {
        #[cfg(feature = "alloc")]
        let running = self.ext_bits;
        #[cfg(not(feature = "alloc"))]
        let running = 0;
        self.rsv_allowed = (rsv & 0b111) | running;
    }

    /// Our role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration in force.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the connection is in its life.
    #[must_use]
    pub fn state(&self) -> State {
        self.close.state()
    }

    /// The error that failed the connection, if it failed.
    #[must_use]
    pub fn error(&self) -> Option<Error> {
        self.close.failed
    }

    /// Whether received data may still be waiting to be handed out without any new input:
    /// decoded bytes of a transformed message (inflated, with permessage-deflate) that did
    /// not fit in the last scratch buffer (only when [`needs_scratch`](Self::needs_scratch)).
    /// Keep calling [`receive_into`](Self::receive_into) (with empty input if need be) while
    /// this is true.
    #[must_use]
    pub fn has_pending_data(&self) -> bool {
        #[cfg(feature = "alloc")]
        return (self.recv.draining || self.recv.held) && self.close.failed.is_none();
        #[cfg(not(feature = "alloc"))]
        false
    }

    /// Whether automatic replies wait for [`poll_transmit`](Self::poll_transmit).
    #[must_use]
    pub fn wants_transmit(&self) -> bool {
        self.pending_pong.is_some() || self.pending_close.is_some() || self.pending_ping
    }

    /// What to do with the transport now (see [`TransportAction`]).
    #[must_use]
    pub fn transport_action(&self) -> TransportAction {
        self.close.transport_action(self.role, self.wants_transmit(), self.timers.gave_up)
    }

    /// Records a fatal error (once) and queues the Close frame that answers it.
    fn fail(&mut self, e: Error) -> Error {
        if let Some(first) = self.close.failed {
            return first;
        }
        self.close.failed = Some(e);
        self.pending_pong = None;
        self.pending_ping = false;
        if let Some(code) = e.close_code() {
            if !self.close.sent && !self.close.eof {
                self.pending_close = Some(Some(code));
                self.mark_close_sent();
            }
        }
        e
    }
}
