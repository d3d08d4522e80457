//! The receive path: frame headers, unmasking in place, validation, control frames.

use super::Connection;
use crate::frame::{FrameHeader, HeaderStatus, MAX_HEADER_LEN, OpCode, decode_header};
use crate::mask::apply_mask;
use crate::utf8::Utf8Validator;
use crate::{CloseFrame, ControlPayload, Error, Event, Limit, MessageKind, ProtocolViolation, Received, Role};

/// Receive-side state: a partial header, the frame and message in progress.
#[derive(Clone, Debug, Default)]
pub(super) struct RecvState {
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    pub(super) frame: Option<Frame>,
    pub(super) message: Option<Message>,
    utf8: Utf8Validator,
    control: ControlPayload,
    /// The last frame of a transformed message has been read; its decoded end is still due.
    #[cfg(feature = "alloc")]
    pub(super) draining: bool,
    /// The last decode step filled the scratch buffer: output may wait inside the extension.
    #[cfg(feature = "alloc")]
    pub(super) held: bool,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Frame {
    pub(super) opcode: OpCode,
    pub(super) fin: bool,
    pub(super) mask: Option<[u8; 4]>,
    pub(super) remaining: u64,
    /// Payload bytes of this frame already processed (the masking phase).
    pub(super) offset: u64,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Message {
    kind: MessageKind,
    /// Payload bytes announced by the frame headers so far.
    pub(super) announced: u64,
    /// Payload bytes handed out so far (decoded bytes for a transformed message).
    pub(super) delivered: u64,
    fragments: u32,
    started: bool,
    /// The message is decoded by the extension in force (its bits on the first frame).
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    pub(super) transformed: bool,
}

/// What one step of the receive loop found; data is described by indices so that the borrow of
/// the input is taken only once, in [`Connection::receive`].
pub(super) enum Step {
    NeedMore,
    Control(usize, Event<'static>),
    Data { source: Source, start: usize, end: usize, consumed: usize, kind: MessageKind, first: bool, last: bool },
}

/// Where the bytes of a data piece are.
#[derive(Clone, Copy)]
pub(super) enum Source {
    /// In the input, unmasked in place.
    Input,
    /// In the caller's scratch buffer (decoded by an extension).
    #[cfg_attr(not(feature = "alloc"), allow(dead_code))]
    Scratch,
}

impl Connection {
    /// The payload of the last control frame received, until the next one starts: lets an
    /// adapter that keeps a found event across an await remember only its kind.
    pub(crate) fn last_control_payload(&self) -> ControlPayload {
        self.recv.control
    }

    /// Feeds bytes read from the transport and returns at most one event.
    ///
    /// Consumes bytes from the front of `input` and reports how many in
    /// [`Received::consumed`]. When [`Received::event`] is `None`, all of `input` was consumed
    /// (partial headers and control frames are kept inside the connection, so any split of
    /// the input gives the same events). Otherwise call again with `&mut input[consumed..]`
    /// after handling the event. Data payloads are unmasked in place in `input` and lent as
    /// [`Event::Data`].
    ///
    /// ```
    /// use wsproto::{Config, Connection, Event, Role};
    /// let mut client = Connection::new(Role::Client, Config::new());
    /// // Two unmasked server frames: Ping "a", then Text "hi".
    /// let mut input = *b"\x89\x01a\x81\x02hi";
    /// let mut pos = 0;
    /// let mut events = Vec::new();
    /// loop {
    ///     let r = client.receive(&mut input[pos..]).unwrap();
    ///     pos += r.consumed;
    ///     match r.event {
    ///         Some(Event::Ping(p)) => events.push(format!("ping {:?}", p.as_bytes())),
    ///         Some(Event::Data { data, .. }) => events.push(format!("data {:?}", data)),
    ///         Some(other) => events.push(format!("{other:?}")),
    ///         None => break,
    ///     }
    /// }
    /// assert_eq!(events, ["ping [97]", "data [104, 105]"]);
    /// assert!(client.wants_transmit()); // the automatic Pong
    /// ```
    ///
    /// Once a Close frame has been received, later input is consumed and ignored.
    ///
    /// This is for connections that do not [`need scratch`](Self::needs_scratch) space, which
    /// is every connection without an extension that transforms payloads (permessage-deflate,
    /// or one added with [`with_extension`](Self::with_extension)); the others take input
    /// through [`receive_into`](Self::receive_into).
    ///
    /// # Errors
    /// A fatal [`Error`] when the peer breaks the protocol or a limit. The Close frame that
    /// answers it is queued for [`poll_transmit`](Self::poll_transmit), and every later call
    /// returns the same error.
    /// [`Misuse::ScratchRequired`](crate::Misuse::ScratchRequired) (nothing consumed, nothing
    /// changes) when [`needs_scratch`](Self::needs_scratch) is true and the connection has not
    /// failed.
    #[inline]
    pub fn receive<'b>(&mut self, input: &'b mut [u8]) -> Result<Received<'b>, Error> {
        if let Some((consumed, start, kind)) = self.whole_frame(input, true) {
            return self.whole_received(input, consumed, start, kind);
        }
        // Refuses with `ScratchRequired` when the connection needs scratch.
        self.receive_general(input, &mut [], true)
    }

    /// [`receive`](Self::receive) for every connection, including those that
    /// [`need scratch`](Self::needs_scratch) space (an extension that transforms payloads in
    /// force, such as permessage-deflate): decoded (inflated) data is written into `scratch`
    /// and lent from there, at most `scratch.len()` bytes per event, so memory stays bounded
    /// whatever the compression ratio. Messages the extension did not transform are still lent
    /// from `input`, unmasked in place. A scratch buffer of 16 to 64 KiB suits most uses;
    /// `scratch` is not used, and may be empty, when `needs_scratch()` is false.
    ///
    /// # Errors
    /// As for [`receive`](Self::receive): [`Misuse::ScratchRequired`](crate::Misuse::ScratchRequired)
    /// (nothing consumed) when [`needs_scratch`](Self::needs_scratch) is true and `scratch` is
    /// empty.
    #[inline]
    pub fn receive_into<'b>(&mut self, input: &'b mut [u8], scratch: &'b mut [u8]) -> Result<Received<'b>, Error> {
        if let Some((consumed, start, kind)) = self.whole_frame(input, scratch.is_empty()) {
            return self.whole_received(input, consumed, start, kind);
        }
        self.receive_general(input, scratch, true)
    }

    /// The event for a whole frame that [`whole_frame`](Self::whole_frame) found: its text is
    /// checked here, in one call, and lent as the `&str` that call returned.
    #[inline]
    fn whole_received<'b>(
        &mut self,
        input: &'b [u8],
        consumed: usize,
        start: usize,
        kind: MessageKind,
    ) -> Result<Received<'b>, Error> {
        let data = &input[start..consumed];
        let text = self.whole_text(kind, data)?;
        Ok(Received { consumed, event: Some(Event::Data { kind, data, first: true, last: true, text }) })
    }

    /// Checks a message that came whole in one piece (text only), once, and fails the
    /// connection with 1007 when it is not UTF-8. [`check_piece`](Self::check_piece) leaves
    /// such a piece to this, so that it is checked by one call that also yields the `&str`.
    #[inline]
    fn whole_text<'b>(&mut self, kind: MessageKind, data: &'b [u8]) -> Result<Option<&'b str>, Error> {
        if kind == MessageKind::Binary {
            return Ok(None);
        }
        match crate::utf8::check_whole(data) {
            Ok(text) => Ok(Some(text)),
            Err(offset) => Err(self.fail(Error::InvalidUtf8 { offset })),
        }
    }

    /// The fast path: nothing in progress and a whole unfragmented data frame at the front of
    /// `input`, which breaks no rule. Unmasks it and returns (consumed, payload start, kind);
    /// anything else (including every violation) is left to the general path. Its text is
    /// checked by the caller ([`whole_text`](Self::whole_text)): the frame is the whole message.
    /// Its reserved bits are clear, so no extension transformed it: with an extension in force
    /// too, its payload is lent from `input`, unless the call came without the scratch buffer
    /// such a connection needs (refused by the general path, nothing consumed).
    #[inline]
    fn whole_frame(&mut self, input: &mut [u8], no_scratch: bool) -> Option<(usize, usize, MessageKind)> {
        if self.close.failed.is_some()
            || self.close.received
            || self.recv.frame.is_some()
            || self.recv.message.is_some()
            || self.recv.header_len != 0
            || (no_scratch && self.needs_scratch())
        {
            return None;
        }
        let [b0, b1, ..] = *input else { return None };
        let kind = match b0 {
            0x81 => MessageKind::Text,
            0x82 => MessageKind::Binary,
            _ => return None,
        };
        let masked = b1 & 0x80 != 0;
        if masked != (self.role == Role::Server) {
            return None;
        }
        let (len, mut head) = match b1 & 0x7f {
            126 => match input.get(2..4) {
                Some(&[a, b]) if u16::from_be_bytes([a, b]) >= 126 => (usize::from(u16::from_be_bytes([a, b])), 4),
                _ => return None,
            },
            127 => return None,
            n => (usize::from(n), 2),
        };
        let key = if masked {
            let Some(&[a, b, c, d]) = input.get(head..head + 4) else { return None };
            head += 4;
            Some([a, b, c, d])
        } else {
            None
        };
        let end = head + len;
        if end > input.len() || len as u64 > self.config.max_frame_payload || len as u64 > self.config.max_message_size
        {
            return None;
        }
        if let Some(key) = key {
            apply_mask(&mut input[head..end], key, 0);
        }
        self.note_activity();
        self.note_data();
        Some((end, head, kind))
    }

    /// Everything but the fast path. `check_text`: check a text message that comes whole in
    /// one piece here (otherwise the caller checks it, see
    /// [`receive_unchecked`](Self::receive_unchecked)).
    #[inline(never)]
    fn receive_general<'b>(
        &mut self,
        input: &'b mut [u8],
        scratch: &'b mut [u8],
        check_text: bool,
    ) -> Result<Received<'b>, Error> {
        if let Some(e) = self.close.failed {
            return Err(e);
        }
        // The caller's mistake comes before anything else, even once a Close was received.
        if scratch.is_empty() && self.needs_scratch() {
            return Err(crate::Misuse::ScratchRequired.into());
        }
        if self.close.received {
            return Ok(Received { consumed: input.len(), event: None });
        }
        if !input.is_empty() {
            self.note_activity();
        }
        match self.step(input, scratch) {
            Ok(Step::NeedMore) => Ok(Received { consumed: input.len(), event: None }),
            Ok(Step::Control(consumed, event)) => Ok(Received { consumed, event: Some(event) }),
            Ok(Step::Data { source, start, end, consumed, kind, first, last }) => {
                let data = match source {
                    Source::Input => &input[start..end],
                    Source::Scratch => &scratch[start..end],
                };
                let text = if first && last && check_text { self.whole_text(kind, data)? } else { None };
                Ok(Received { consumed, event: Some(Event::Data { kind, data, first, last, text }) })
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Reports that the transport ended (a read returned 0 bytes).
    ///
    /// # Errors
    /// [`Error::UnexpectedEof`] (reported to applications as close code 1006, abnormal closure)
    /// when no Close frame had been received: the connection fails. After a received Close
    /// frame, end of input is the normal end and this returns `Ok`.
    pub fn receive_eof(&mut self) -> Result<(), Error> {
        if let Some(e) = self.close.failed {
            self.close.eof = true;
            return Err(e);
        }
        self.close.eof = true;
        if self.close.received {
            self.pending_pong = None;
            return Ok(());
        }
        // Nothing can be written to a transport whose peer is gone.
        self.pending_pong = None;
        Err(self.fail(Error::UnexpectedEof))
    }

    #[cfg_attr(not(feature = "alloc"), allow(unused_variables))]
    fn step(&mut self, input: &mut [u8], scratch: &mut [u8]) -> Result<Step, Error> {
        let mut pos = 0;
        loop {
            #[cfg(feature = "alloc")]
            if self.recv.draining {
                return self.step_transformed(input, pos, scratch).map(|(_, step)| step.unwrap_or(Step::NeedMore));
            }
            #[cfg(feature = "alloc")]
            if self.recv.held {
                // Decoded output left from the last call comes before anything read later.
                let (next, step) = self.step_transformed(input, pos, scratch)?;
                pos = next;
                match step {
                    Some(step) => return Ok(step),
                    None if self.recv.frame.is_none() => continue,
                    None => return Ok(Step::NeedMore),
                }
            }
            if self.recv.frame.is_none() {
                let Some(used) = self.read_header(&input[pos..])? else {
                    return Ok(Step::NeedMore);
                };
                pos += used;
            }
            let Some(frame) = self.recv.frame.as_mut() else { unreachable!("a frame was started above") };

            #[cfg(feature = "alloc")]
            if !frame.opcode.is_control() && self.recv.message.is_some_and(|m| m.transformed) {
                let (next, step) = self.step_transformed(input, pos, scratch)?;
                pos = next;
                match step {
                    Some(step) => return Ok(step),
                    // The frame ended without output: read the next header.
                    None if self.recv.frame.is_none() => continue,
                    None => return Ok(Step::NeedMore),
                }
            }

            let avail = (input.len() - pos).min(usize::try_from(frame.remaining).unwrap_or(usize::MAX));
            let chunk = &mut input[pos..pos + avail];
            if let Some(key) = frame.mask {
                apply_mask(chunk, key, frame.offset as usize);
            }
            frame.remaining -= avail as u64;
            frame.offset += avail as u64;
            pos += avail;
            let frame = *frame;
            let frame_done = frame.remaining == 0;
            if frame_done {
                self.recv.frame = None;
            }

            if frame.opcode.is_control() {
                self.recv.control.extend(chunk);
                if !frame_done {
                    return Ok(Step::NeedMore);
                }
                // Kept until the next control frame starts (see `last_control_payload`).
                let payload = self.recv.control;
                return self.finish_control(frame.opcode, payload).map(|e| Step::Control(pos, e));
            }

            let last = frame_done && frame.fin;
            self.check_piece(chunk, last)?;
            let Some(msg) = self.recv.message.as_mut() else { unreachable!("data frames start or continue a message") };
            if avail == 0 && !last && (msg.started || !frame_done) {
                // Nothing new to report: an empty frame in the middle of a message, or a
                // payload that has not arrived yet.
                if pos == input.len() && !frame_done {
                    return Ok(Step::NeedMore);
                }
                continue;
            }
            return Ok(self.piece(Source::Input, pos - avail, pos, pos, last));
        }
    }

    /// Checks a piece of message data before it is handed out (UTF-8 for text, failing at the
    /// first bad byte) and counts it. A piece that is a whole message (the first and the last)
    /// is left to [`whole_text`](Self::whole_text), which checks it with the one call that
    /// also yields its `&str`; nothing else happens in between.
    pub(super) fn check_piece(&mut self, data: &[u8], last: bool) -> Result<(), Error> {
        let Some(msg) = self.recv.message.as_mut() else { unreachable!("data belongs to a message") };
        let whole = last && !msg.started;
        if msg.kind == MessageKind::Text && !whole {
            // Offsets count from the start of the message, and a bad sequence begins where
            // its first byte is, even when that byte came in an earlier piece.
            let carried = self.recv.utf8.pending_len() as u64;
            if let Err(e) = self.recv.utf8.feed(data) {
                let offset = match e.valid_up_to {
                    0 => msg.delivered - carried,
                    n => msg.delivered + n as u64,
                };
                return Err(Error::InvalidUtf8 { offset });
            }
        }
        msg.delivered += data.len() as u64;
        if last && !self.recv.utf8.is_complete() {
            let unfinished = self.recv.utf8.pending_len() as u64;
            return Err(Error::InvalidUtf8 { offset: msg.delivered - unfinished });
        }
        Ok(())
    }

    /// Describes a checked piece, and ends the message after its last one.
    pub(super) fn piece(&mut self, source: Source, start: usize, end: usize, consumed: usize, last: bool) -> Step {
        let Some(msg) = self.recv.message.as_mut() else { unreachable!("data belongs to a message") };
        let first = !msg.started;
        msg.started = true;
        let kind = msg.kind;
        if last {
            self.recv.message = None;
            self.recv.utf8.reset();
        }
        self.note_data();
        Step::Data { source, start, end, consumed, kind, first, last }
    }

    /// Reads a frame header from the front of `input` (completing a partial one kept from an
    /// earlier call) and starts the frame. Returns the input bytes used, or `None` when the
    /// header is still incomplete (all of `input` was kept).
    fn read_header(&mut self, input: &[u8]) -> Result<Option<usize>, Error> {
        let have = usize::from(self.recv.header_len);
        let (header, used) = if have == 0 {
            match decode_header(input)? {
                HeaderStatus::Complete(h, n) => (h, n),
                HeaderStatus::Partial { .. } => {
                    // A partial header is shorter than the longest one.
                    self.recv.header[..input.len()].copy_from_slice(input);
                    self.recv.header_len = input.len() as u8;
                    return Ok(None);
                }
            }
        } else {
            let take = (MAX_HEADER_LEN - have).min(input.len());
            self.recv.header[have..have + take].copy_from_slice(&input[..take]);
            match decode_header(&self.recv.header[..have + take])? {
                HeaderStatus::Complete(h, n) => {
                    self.recv.header_len = 0;
                    (h, n - have)
                }
                HeaderStatus::Partial { .. } => {
                    self.recv.header_len = (have + take) as u8;
                    return Ok(None);
                }
            }
        };
        self.start_frame(header)?;
        Ok(Some(used))
    }

    /// Applies every rule that a frame header must meet in this state, then starts the frame.
    fn start_frame(&mut self, h: FrameHeader) -> Result<(), Error> {
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolViolation::UnmaskedFrame.into()),
            (Role::Client, true) => return Err(ProtocolViolation::MaskedFrame.into()),
            _ => {}
        }
        if h.rsv & !self.rsv_allowed != 0 || (h.rsv != 0 && h.opcode.is_control()) {
            return Err(ProtocolViolation::ReservedBits.into());
        }
        // The bits of the extension that transforms payloads, if one is in force.
        #[cfg(feature = "alloc")]
        let ext_bits = self.ext_bits;
        #[cfg(not(feature = "alloc"))]
        let ext_bits = 0;
        let cfg = &self.config;
        match h.opcode {
            OpCode::Continuation => {
                let Some(msg) = self.recv.message.as_mut() else {
                    return Err(ProtocolViolation::UnexpectedContinuation.into());
                };
                if h.rsv & ext_bits != 0 {
                    // An extension that transforms payloads marks only a message's first frame.
                    return Err(ProtocolViolation::ReservedBits.into());
                }
                if h.payload_len > cfg.max_frame_payload {
                    return Err(Error::LimitExceeded(Limit::FramePayload));
                }
                msg.announced = msg.announced.saturating_add(h.payload_len);
                if msg.announced > cfg.max_message_size {
                    return Err(Error::LimitExceeded(Limit::MessageSize));
                }
                msg.fragments = msg.fragments.saturating_add(1);
                if msg.fragments > cfg.max_fragments {
                    return Err(Error::LimitExceeded(Limit::Fragments));
                }
            }
            OpCode::Text | OpCode::Binary => {
                if self.recv.message.is_some() {
                    return Err(ProtocolViolation::ExpectedContinuation.into());
                }
                if h.payload_len > cfg.max_frame_payload {
                    return Err(Error::LimitExceeded(Limit::FramePayload));
                }
                if h.payload_len > cfg.max_message_size {
                    return Err(Error::LimitExceeded(Limit::MessageSize));
                }
                let kind = if h.opcode == OpCode::Text { MessageKind::Text } else { MessageKind::Binary };
                let transformed = h.rsv & ext_bits != 0;
                #[cfg(feature = "alloc")]
                if transformed {
                    self.start_transformed(kind, h.rsv & ext_bits)?;
                }
                self.recv.message = Some(Message {
                    kind,
                    announced: h.payload_len,
                    delivered: 0,
                    fragments: 1,
                    started: false,
                    transformed,
                });
            }
            OpCode::Close | OpCode::Ping | OpCode::Pong => self.recv.control = ControlPayload::EMPTY,
        }
        self.recv.frame =
            Some(Frame { opcode: h.opcode, fin: h.fin, mask: h.mask, remaining: h.payload_len, offset: 0 });
        Ok(())
    }

    fn finish_control(&mut self, opcode: OpCode, payload: ControlPayload) -> Result<Event<'static>, Error> {
        Ok(match opcode {
            OpCode::Ping => {
                if self.config.auto_pong && !self.close.sent {
                    // Only the latest Ping needs an answer (RFC 6455 §5.5.3).
                    self.pending_pong = Some(payload);
                }
                Event::Ping(payload)
            }
            OpCode::Pong => Event::Pong(payload),
            _ => {
                let frame = CloseFrame::parse(payload.as_bytes())?;
                self.close.received = true;
                if self.config.auto_close_reply && !self.close.sent {
                    self.pending_close = Some(frame.code());
                    self.mark_close_sent();
                }
                Event::Close(frame)
            }
        })
    }
}

/// What a receive buffer ([`ReceiveBuffer`](crate::ReceiveBuffer),
/// [`SliceReceiveBuffer`](crate::SliceReceiveBuffer)) needs beyond the public calls: it checks
/// the text of a message that comes whole in one piece itself, when it lends the message, so
/// that the check that yields the `&str` is the only one.
impl Connection {
    /// The fast path alone: a whole unfragmented data frame at the front of `input`, unmasked
    /// in place; returns (consumed, payload start, kind). Its text is *not* checked: the caller
    /// checks it before it feeds the connection again, and reports a failure with
    /// [`fail_invalid_text`](Self::fail_invalid_text).
    #[inline]
    pub(crate) fn take_whole_frame(&mut self, input: &mut [u8]) -> Option<(usize, usize, MessageKind)> {
        self.whole_frame(input, false)
    }

    /// [`receive_into`](Self::receive_into) without its fast path, leaving the check of a text
    /// message that comes whole in one piece to the caller, as
    /// [`take_whole_frame`](Self::take_whole_frame) does (its event's `text` is `None`). Pieces
    /// of longer messages are checked here as they arrive (1007 at the first bad byte).
    pub(crate) fn receive_unchecked<'b>(
        &mut self,
        input: &'b mut [u8],
        scratch: &'b mut [u8],
    ) -> Result<Received<'b>, Error> {
        self.receive_general(input, scratch, false)
    }

    /// A text message lent unchecked is not UTF-8 at `offset`: fails the connection (1007).
    pub(crate) fn fail_invalid_text(&mut self, offset: u64) -> Error {
        self.fail(Error::InvalidUtf8 { offset })
    }

    /// The caller's fixed buffer cannot hold the message in progress: fails the connection as
    /// a message over the size limit (1009).
    pub(crate) fn fail_message_too_big(&mut self) -> Error {
        self.fail(Error::LimitExceeded(Limit::MessageSize))
    }

    /// Payload bytes of the data frame in progress that have not arrived yet (0 between
    /// frames), so that a buffer can make room for them at once.
    pub(crate) fn frame_remaining(&self) -> u64 {
        match self.recv.frame {
            Some(frame) if !frame.opcode.is_control() => frame.remaining,
            _ => 0,
        }
    }
}
