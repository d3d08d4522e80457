//! The send path: messages, fragments, control frames and the automatic replies.

use super::Connection;
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, encode_header};
use crate::mask::apply_mask;
use crate::utf8::Utf8Validator;
use crate::{CloseFrame, Error, MAX_CONTROL_PAYLOAD, MessageKind, Misuse, OutBuf};

/// Send-side state: the fragmented message we are in the middle of, if any.
#[derive(Clone, Debug, Default)]
pub(super) struct SendState {
    message: Option<MessageKind>,
    utf8: Utf8Validator,
}

/// An encoded frame header, for vectored writes (see [`Connection::encode_frame_head`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHead {
    bytes: [u8; MAX_HEADER_LEN],
    len: u8,
}

impl FrameHead {
    /// The header bytes to write before the payload.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl AsRef<[u8]> for FrameHead {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// How a data send is checked.
#[derive(Clone, Copy)]
struct Mode {
    /// May continue an open fragmented message.
    fragment: bool,
    /// Text must be checked (it did not come as `&str`).
    check_utf8: bool,
}

impl Mode {
    const WHOLE_STR: Self = Self { fragment: false, check_utf8: false };
    const WHOLE: Self = Self { fragment: false, check_utf8: true };
    const FRAGMENT: Self = Self { fragment: true, check_utf8: true };
}

const fn length_field_len(payload: usize) -> usize {
    match payload {
        0..=125 => 2,
        126..=0xffff => 4,
        _ => 10,
    }
}

impl Connection {
    /// Sends a whole text message (split into frames of at most
    /// [`Config::max_outgoing_frame`](crate::Config::max_outgoing_frame) bytes).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when a [`SliceBuf`](crate::SliceBuf) cannot hold the frames
    /// (nothing is written), [`Misuse::SendAfterClose`] after our Close frame,
    /// [`Misuse::MessageInProgress`] while a fragmented message is open, or the error that failed
    /// the connection.
    pub fn send_text(&mut self, text: &str, out: &mut impl OutBuf) -> Result<(), Error> {
        self.send_message(MessageKind::Text, text.as_bytes(), true, out, Mode::WHOLE_STR)
    }

    /// Sends a whole binary message. Errors as for [`send_text`](Self::send_text).
    ///
    /// # Errors
    /// As for [`send_text`](Self::send_text).
    pub fn send_binary(&mut self, data: &[u8], out: &mut impl OutBuf) -> Result<(), Error> {
        self.send_message(MessageKind::Binary, data, true, out, Mode::WHOLE_STR)
    }

    /// Sends a whole message of either kind. Text must be valid UTF-8.
    ///
    /// # Errors
    /// As for [`send_text`](Self::send_text), and [`Misuse::InvalidUtf8`] for text that is not
    /// UTF-8.
    pub fn send(&mut self, kind: MessageKind, data: &[u8], out: &mut impl OutBuf) -> Result<(), Error> {
        self.send_message(kind, data, true, out, Mode::WHOLE)
    }

    /// Sends the next piece of a message that is streamed out in several frames. The first call
    /// starts a message of `kind`; later calls must give the same kind; the call with `fin`
    /// ends it. Control frames may be sent between pieces.
    ///
    /// ```
    /// use wsproto::{Config, Connection, MessageKind, Role};
    /// let mut server = Connection::new(Role::Server, Config::new());
    /// let mut out = Vec::new();
    /// server.send_fragment(MessageKind::Text, "Hel".as_bytes(), false, &mut out).unwrap();
    /// server.ping(b"", &mut out).unwrap();
    /// server.send_fragment(MessageKind::Text, "lo".as_bytes(), true, &mut out).unwrap();
    /// assert_eq!(out, b"\x01\x03Hel\x89\x00\x80\x02lo");
    /// ```
    ///
    /// # Errors
    /// As for [`send`](Self::send). Text pieces are checked as a stream: a character may be
    /// split between pieces, but the message must be valid UTF-8 when it ends.
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
        out: &mut impl OutBuf,
    ) -> Result<(), Error> {
        self.send_message(kind, data, fin, out, Mode::FRAGMENT)
    }

    /// Sends a Ping with up to 125 bytes of payload.
    ///
    /// # Errors
    /// [`Misuse::ControlPayloadTooLong`], [`Misuse::SendAfterClose`], [`Error::BufferTooSmall`],
    /// [`Error::Backpressure`] when a [`WriteQueue`](crate::WriteQueue) has no room for it under
    /// its high-water mark (nothing is written), or the error that failed the connection.
    pub fn ping(&mut self, payload: &[u8], out: &mut impl OutBuf) -> Result<(), Error> {
        self.send_control(OpCode::Ping, payload, out)
    }

    /// Sends an unsolicited Pong (a heartbeat), or answers a Ping by hand when
    /// [`Config::auto_pong`](crate::Config::auto_pong) is off.
    ///
    /// # Errors
    /// As for [`ping`](Self::ping).
    pub fn pong(&mut self, payload: &[u8], out: &mut impl OutBuf) -> Result<(), Error> {
        self.send_control(OpCode::Pong, payload, out)
    }

    /// Starts the close handshake, or answers the peer's Close when
    /// [`Config::auto_close_reply`](crate::Config::auto_close_reply) is off. Calling it after
    /// our Close was already sent or queued only writes what is pending.
    ///
    /// ```
    /// use wsproto::{CloseCode, CloseFrame, Config, Connection, Role, State};
    /// let mut server = Connection::new(Role::Server, Config::new());
    /// let mut out = Vec::new();
    /// server.close(CloseFrame::new(CloseCode::NORMAL, "bye"), &mut out).unwrap();
    /// assert_eq!(out, b"\x88\x05\x03\xe8bye");
    /// assert_eq!(server.state(), State::ClosingLocal);
    /// ```
    ///
    /// A [`WriteQueue`](crate::WriteQueue) always takes our Close frame, even over its
    /// high-water mark.
    ///
    /// # Errors
    /// [`Misuse::InvalidCloseCode`] for a code that may not be sent, [`Error::BufferTooSmall`],
    /// or the error that failed the connection.
    pub fn close(&mut self, frame: CloseFrame, out: &mut impl OutBuf) -> Result<(), Error> {
        // A failed connection repeats its error (its Close frame goes out by `poll_transmit`).
        if let Some(e) = self.close.failed {
            return Err(e);
        }
        if let Some(code) = frame.code() {
            if !code.is_valid_on_wire() {
                return Err(Misuse::InvalidCloseCode(code.0).into());
            }
        }
        if self.close.sent {
            return self.poll_transmit(out).map(drop);
        }
        self.check_keys()?;
        let mut payload = [0; MAX_CONTROL_PAYLOAD];
        let n = frame.encode(&mut payload);
        let need = self.pending_len() + self.control_len(n);
        out.reserve_close(need)?;
        self.write_pending(out);
        self.write_frame(out, OpCode::Close, true, &payload[..n]);
        self.mark_close_sent();
        Ok(())
    }

    /// Writes the automatic replies that are waiting (a Pong, a Close reply, or the Close
    /// frame that answers a failure) and returns how many bytes were written. Call it after
    /// handling received events; it works after a failure too, so that the Close frame
    /// reaches the peer.
    ///
    /// When the buffer refuses, nothing is written and the replies stay in their fixed slots
    /// (a later Ping's Pong replaces a waiting one): call it again once there is room.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] when a fixed buffer cannot hold the frames, or
    /// [`Error::Backpressure`] when a [`WriteQueue`](crate::WriteQueue) has no room for a
    /// Pong or keepalive Ping under its high-water mark (a batch with our Close frame is always
    /// taken). Nothing is written then.
    pub fn poll_transmit(&mut self, out: &mut impl OutBuf) -> Result<usize, Error> {
        let need = self.pending_len();
        if need == 0 {
            return Ok(0);
        }
        self.check_keys()?;
        if self.pending_close.is_some() {
            // Our one Close frame: a bounded queue takes it even over its high-water mark.
            out.reserve_close(need)?;
        } else {
            out.reserve_control(need)?;
        }
        self.write_pending(out);
        Ok(need)
    }

    /// The kind of the fragmented message being sent, while one is open: begun with
    /// [`send_fragment`](Self::send_fragment) (or [`encode_frame_head`](Self::encode_frame_head))
    /// with `fin == false` and not yet finished. Whole messages are refused meanwhile
    /// ([`Misuse::MessageInProgress`]).
    ///
    /// ```
    /// use wsproto::{Config, Connection, MessageKind, Role};
    /// let mut server = Connection::new(Role::Server, Config::new());
    /// let mut out = Vec::new();
    /// server.send_fragment(MessageKind::Text, b"par", false, &mut out).unwrap();
    /// assert_eq!(server.outgoing_fragmented(), Some(MessageKind::Text));
    /// server.send_fragment(MessageKind::Text, b"ts", true, &mut out).unwrap();
    /// assert_eq!(server.outgoing_fragmented(), None);
    /// ```
    #[must_use]
    pub fn outgoing_fragmented(&self) -> Option<MessageKind> {
        self.send.message
    }

    /// Encodes the header of one data frame carrying `payload` and, for a client, masks
    /// `payload` in place. Write the returned header, then `payload`, with one vectored write:
    /// the payload is never copied. Write [`poll_transmit`](Self::poll_transmit)'s output
    /// first. `kind` and `fin` follow the rules of [`send_fragment`](Self::send_fragment); no
    /// splitting is done.
    ///
    /// ```
    /// use wsproto::{Config, Connection, MessageKind, Role};
    /// let mut server = Connection::new(Role::Server, Config::new());
    /// let mut payload = *b"zero-copy";
    /// let head = server.encode_frame_head(MessageKind::Binary, &mut payload, true).unwrap();
    /// assert_eq!(head.as_bytes(), &[0x82, 9]);
    /// ```
    ///
    /// # Errors
    /// As for [`send_fragment`](Self::send_fragment), except `BufferTooSmall`.
    pub fn encode_frame_head(&mut self, kind: MessageKind, payload: &mut [u8], fin: bool) -> Result<FrameHead, Error> {
        let (head, mask) = self.frame_head(kind, payload, fin)?;
        if let Some(key) = mask {
            apply_mask(payload, key, 0);
        }
        Ok(head)
    }

    /// As [`encode_frame_head`](Self::encode_frame_head), for a server, whose frames are not
    /// masked: `payload` is only read, so it can be written as it is, straight from where it
    /// lies (a received message being echoed, shared data). Write the returned header, then
    /// `payload`, with one vectored write, after [`poll_transmit`](Self::poll_transmit)'s
    /// output. `kind` and `fin` follow the rules of [`send_fragment`](Self::send_fragment).
    ///
    /// The frame is never compressed and never split: with permessage-deflate in force, or for
    /// a payload over [`Config::max_outgoing_frame`](crate::Config::max_outgoing_frame), send
    /// whole messages with [`send`](Self::send) to have them compressed or split as configured.
    ///
    /// ```
    /// use std::io::{IoSlice, Write};
    /// use wsproto::{Config, Connection, Error, MessageKind, Misuse, Role};
    /// let mut server = Connection::new(Role::Server, Config::new());
    /// let payload = vec![7u8; 300];
    /// let head = server.encode_frame_head_unmasked(MessageKind::Binary, &payload, true).unwrap();
    /// assert_eq!(head.as_bytes(), &[0x82, 126, 0x01, 0x2c]);
    /// // One vectored write (to a socket, here to a `Vec`) sends the frame.
    /// let frame = [IoSlice::new(head.as_bytes()), IoSlice::new(&payload)];
    /// let mut wire = Vec::new();
    /// assert_eq!(wire.write_vectored(&frame).unwrap(), 304);
    ///
    /// // A client must mask its frames: it uses `encode_frame_head`.
    /// let mut client = Connection::new(Role::Client, Config::new());
    /// let err = client.encode_frame_head_unmasked(MessageKind::Binary, &payload, true);
    /// assert_eq!(err, Err(Error::Misuse(Misuse::MaskRequired)));
    /// ```
    ///
    /// # Errors
    /// [`Misuse::MaskRequired`] for a client (it must mask; this method leaves the payload as
    /// it is), and otherwise as for [`encode_frame_head`](Self::encode_frame_head).
    pub fn encode_frame_head_unmasked(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        fin: bool,
    ) -> Result<FrameHead, Error> {
        if self.role.masks_outgoing() {
            return Err(Misuse::MaskRequired.into());
        }
        self.frame_head(kind, payload, fin).map(|(head, _)| head)
    }

    /// Sends a [`PreparedMessage`](crate::PreparedMessage), a whole message encoded once for
    /// any number of server connections: writes the pending automatic replies, then the
    /// message's frames, all or nothing, and counts it as data sent (the idle timer), as
    /// [`send`](Self::send) does. The frames are the compressed ones when this connection's
    /// permessage-deflate agreement can take them (see
    /// [`PreparedMessage::compressed`](crate::PreparedMessage::compressed)), the uncompressed
    /// ones otherwise.
    ///
    /// The frames are copied into `out`, reserved together with the replies ahead of them, so
    /// that a [`SliceBuf`](crate::SliceBuf) or a [`WriteQueue`](crate::WriteQueue) refuses the
    /// whole write or takes it. To write them from where they lie instead (an adapter's
    /// vectored write), use [`prepare_send`](Self::prepare_send).
    ///
    /// ```
    /// use wsproto::{Config, Connection, Error, MessageKind, Misuse, PreparedMessage, Role};
    /// let message = PreparedMessage::new(MessageKind::Binary, &[1, 2, 3], &Config::new()).unwrap();
    /// let mut server = Connection::new(Role::Server, Config::new());
    /// let mut out = Vec::new();
    /// server.send_prepared(&message, &mut out).unwrap();
    /// assert_eq!(out, [0x82, 3, 1, 2, 3]);
    ///
    /// // A client masks every frame with a key of its own: it cannot send shared bytes.
    /// let mut client = Connection::new(Role::Client, Config::new());
    /// assert_eq!(client.send_prepared(&message, &mut out), Err(Error::Misuse(Misuse::MaskRequired)));
    /// ```
    ///
    /// # Errors
    /// [`Misuse::MaskRequired`] for a client, [`Misuse::PreparedFrameTooLarge`] for frames
    /// larger than this connection's
    /// [`max_outgoing_frame`](crate::Config::max_outgoing_frame), and otherwise as for
    /// [`send`](Self::send): [`Misuse::SendAfterClose`], [`Misuse::MessageInProgress`],
    /// [`Error::BufferTooSmall`], [`Error::Backpressure`] (nothing written), or the error that
    /// failed the connection.
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub fn send_prepared(&mut self, msg: &crate::PreparedMessage, out: &mut impl OutBuf) -> Result<(), Error> {
        let frames = self.prepared_frames(msg)?;
        out.reserve(self.pending_len() + frames.len())?;
        self.write_pending(out);
        out.append(frames);
        self.end_data(msg.kind(), true, Utf8Validator::new());
        Ok(())
    }

    /// As [`send_prepared`](Self::send_prepared), for a caller that writes the frames itself,
    /// straight from the shared message: checks that `msg` may be sent now, counts it as sent,
    /// and returns the frames this connection sends (compressed or not). Write
    /// [`poll_transmit`](Self::poll_transmit)'s output first, then the frames, all of them
    /// (one vectored write sends both).
    ///
    /// ```
    /// use std::io::{IoSlice, Write};
    /// use wsproto::{Config, Connection, MessageKind, PreparedMessage, Role};
    /// let message = PreparedMessage::new(MessageKind::Text, b"news", &Config::new()).unwrap();
    /// let mut server = Connection::new(Role::Server, Config::new());
    /// let frames = server.prepare_send(&message).unwrap();
    /// let mut replies = Vec::new();
    /// server.poll_transmit(&mut replies).unwrap();
    /// let mut wire = Vec::new();
    /// wire.write_vectored(&[IoSlice::new(&replies), IoSlice::new(frames)]).unwrap();
    /// assert_eq!(wire, b"\x81\x04news");
    /// ```
    ///
    /// # Errors
    /// As for [`send_prepared`](Self::send_prepared), except `BufferTooSmall` and
    /// `Backpressure`.
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    pub fn prepare_send<'m>(&mut self, msg: &'m crate::PreparedMessage) -> Result<&'m [u8], Error> {
        let frames = self.prepared_frames(msg)?;
        self.end_data(msg.kind(), true, Utf8Validator::new());
        Ok(frames)
    }

    /// The checks of a prepared message, as for a whole message, and the frames this
    /// connection sends it as.
    #[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
    fn prepared_frames<'m>(&self, msg: &'m crate::PreparedMessage) -> Result<&'m [u8], Error> {
        if self.role.masks_outgoing() {
            return Err(Misuse::MaskRequired.into());
        }
        self.check_can_send()?;
        if self.send.message.is_some() {
            return Err(Misuse::MessageInProgress.into());
        }
        if msg.largest_frame() > self.config.max_outgoing_frame.max(1) {
            return Err(Misuse::PreparedFrameTooLarge.into());
        }
        // A message compressed on its own fits a server that starts every message afresh
        // (our context would miss it otherwise), with the window it agreed to.
        #[cfg(feature = "deflate")]
        if let Some(agreed) = self.deflate() {
            let params = agreed.params;
            if params.server_no_context_takeover && msg.len() >= agreed.min_size {
                if let Some(frames) = msg.compressed_frames(params.server_max_window_bits) {
                    return Ok(frames);
                }
            }
        }
        Ok(msg.frames())
    }

    /// The checks and the header of [`encode_frame_head`](Self::encode_frame_head), with the
    /// masking key the payload must be masked with (for a client).
    fn frame_head(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        fin: bool,
    ) -> Result<(FrameHead, Option<[u8; 4]>), Error> {
        let (opcode, utf8) = self.begin_data(kind, payload, fin, Mode::FRAGMENT)?;
        let mask = self.next_mask()?;
        let header = FrameHeader::new(opcode, fin, payload.len() as u64, mask);
        let mut head = FrameHead { bytes: [0; MAX_HEADER_LEN], len: 0 };
        head.len = encode_header(&header, &mut head.bytes) as u8;
        self.end_data(kind, fin, utf8);
        Ok((head, mask))
    }

    fn send_message(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
        out: &mut impl OutBuf,
        mode: Mode,
    ) -> Result<(), Error> {
        let (opcode, utf8) = self.begin_data(kind, data, fin, mode)?;
        #[cfg(feature = "alloc")]
        if !mode.fragment && self.ext_bits != 0 {
            if let Some(bound) = self.encoded_len_bound(kind, data.len()) {
                return self.send_encoded(opcode, kind, data, bound, out);
            }
        }
        let need = self.pending_len() + self.data_len(data.len());
        out.reserve(need)?;
        self.write_pending(out);
        self.write_data_frames(out, opcode, fin, 0, data);
        self.end_data(kind, fin, utf8);
        Ok(())
    }

    /// Writes `data` as frames of at most `max_outgoing_frame` bytes; `rsv` goes on the first.
    fn write_data_frames(&mut self, out: &mut impl OutBuf, opcode: OpCode, fin: bool, rsv: u8, data: &[u8]) {
        let max = self.config.max_outgoing_frame.max(1);
        if data.len() <= max {
            self.write_frame_rsv(out, opcode, fin, rsv, data);
            return;
        }
        let mut chunks = data.chunks(max).peekable();
        let (mut op, mut rsv) = (opcode, rsv);
        while let Some(chunk) = chunks.next() {
            let last = chunks.peek().is_none();
            self.write_frame_rsv(out, op, fin && last, rsv, chunk);
            op = OpCode::Continuation;
            rsv = 0;
        }
    }

    /// Whether the extension in force encodes a whole message of `len` bytes, and into how
    /// many bytes at most.
    #[cfg(feature = "alloc")]
    #[inline(never)]
    fn encoded_len_bound(&self, kind: MessageKind, len: usize) -> Option<usize> {
        self.extension.as_ref().and_then(|slot| slot.encoded_len_bound(kind, len))
    }

    /// Encodes a whole message with the extension in force (permessage-deflate compresses it)
    /// and writes it with the extension's reserved bits on its first frame. Encoding may move
    /// the extension's state forward for good (a compression context), so the buffer is first
    /// asked whether it could take frames of `bound` payload bytes, the most the extension
    /// writes ([`OutBuf::check_space`], which allocates nothing for a `Vec`); only the encoded
    /// frames' real size is reserved, once they are known.
    #[cfg(feature = "alloc")]
    #[inline(never)]
    fn send_encoded(
        &mut self,
        opcode: OpCode,
        kind: MessageKind,
        data: &[u8],
        bound: usize,
        out: &mut impl OutBuf,
    ) -> Result<(), Error> {
        out.check_space(self.pending_len() + self.data_len(bound))?;
        // Out of the connection while its frames are written (they take `&mut self`).
        let Some(mut slot) = self.extension.take() else { unreachable!("checked by the caller") };
        let mut encoded = core::mem::take(&mut slot.encoded);
        encoded.clear();
        let rsv = match slot.encode(kind, data, &mut encoded) {
            Ok(rsv) => rsv & self.ext_bits,
            Err(e) => {
                slot.encoded = encoded;
                self.extension = Some(slot);
                return Err(if e.is_fatal() { self.fail(e) } else { e });
            }
        };
        let need = self.pending_len() + self.data_len(encoded.len());
        let result = out.reserve(need);
        if result.is_ok() {
            self.write_pending(out);
            self.write_data_frames(out, opcode, true, rsv, &encoded);
        } else {
            // Only an `OutBuf` that breaks `check_space`'s promise (or an extension that
            // writes more than its bound) gets here. The peer never sees this message.
            slot.discard_encoded();
        }
        let used = encoded.len();
        encoded.clear();
        crate::buf::release_excess(&mut encoded, used, crate::buf::RETAIN_CAPACITY);
        slot.encoded = encoded;
        self.extension = Some(slot);
        result?;
        // A whole message: the outgoing UTF-8 state starts afresh.
        self.end_data(kind, true, Utf8Validator::new());
        Ok(())
    }

    /// Checks that a data frame may be sent now and returns its opcode and the outgoing UTF-8
    /// state after it; nothing changes until [`end_data`](Self::end_data).
    fn begin_data(
        &self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
        mode: Mode,
    ) -> Result<(OpCode, Utf8Validator), Error> {
        self.check_can_send()?;
        self.check_keys()?;
        let opcode = match self.send.message {
            None => match kind {
                MessageKind::Text => OpCode::Text,
                MessageKind::Binary => OpCode::Binary,
            },
            Some(open) if open == kind && mode.fragment => OpCode::Continuation,
            Some(_) => return Err(Misuse::MessageInProgress.into()),
        };
        let mut utf8 = self.send.utf8;
        if kind == MessageKind::Text && mode.check_utf8 && (utf8.feed(data).is_err() || (fin && !utf8.is_complete())) {
            return Err(Misuse::InvalidUtf8.into());
        }
        Ok((opcode, utf8))
    }

    fn end_data(&mut self, kind: MessageKind, fin: bool, utf8: Utf8Validator) {
        self.note_data();
        if fin {
            self.send.message = None;
            self.send.utf8 = Utf8Validator::new();
        } else {
            self.send.message = Some(kind);
            self.send.utf8 = utf8;
        }
    }

    /// A client cannot write a frame without a source of masking keys.
    fn check_keys(&self) -> Result<(), Error> {
        if self.role.masks_outgoing() && self.keys.is_none() {
            return Err(Misuse::NoKeySource.into());
        }
        Ok(())
    }

    fn check_can_send(&self) -> Result<(), Error> {
        if let Some(e) = self.close.failed {
            return Err(e);
        }
        if self.close.sent {
            return Err(Misuse::SendAfterClose.into());
        }
        Ok(())
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8], out: &mut impl OutBuf) -> Result<(), Error> {
        self.check_can_send()?;
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(Misuse::ControlPayloadTooLong.into());
        }
        self.check_keys()?;
        let need = self.pending_len() + self.control_len(payload.len());
        out.reserve_control(need)?;
        self.write_pending(out);
        self.write_frame(out, opcode, true, payload);
        Ok(())
    }

    /// Bytes the frames of a data payload of `len` bytes take, split as `send` splits them.
    fn data_len(&self, len: usize) -> usize {
        let mask = if self.role.masks_outgoing() { 4 } else { 0 };
        let max = self.config.max_outgoing_frame.max(1);
        if len <= max {
            // One frame (the common case): no division.
            return len + length_field_len(len) + mask;
        }
        let full = len / max;
        let rest = len % max;
        let mut total = len + full * (length_field_len(max) + mask);
        if rest > 0 {
            total += length_field_len(rest) + mask;
        }
        total
    }

    fn control_len(&self, payload: usize) -> usize {
        2 + payload + if self.role.masks_outgoing() { 4 } else { 0 }
    }

    fn pending_len(&self) -> usize {
        let ping = if self.pending_ping { self.control_len(0) } else { 0 };
        let pong = ping + self.pending_pong.map_or(0, |p| self.control_len(p.len()));
        let close = self.pending_close.map_or(0, |code| self.control_len(if code.is_some() { 2 } else { 0 }));
        pong + close
    }

    /// Writes the pending replies; the space was reserved.
    fn write_pending(&mut self, out: &mut impl OutBuf) {
        if core::mem::take(&mut self.pending_ping) {
            self.write_frame(out, OpCode::Ping, true, &[]);
        }
        if let Some(p) = self.pending_pong.take() {
            self.write_frame(out, OpCode::Pong, true, p.as_bytes());
        }
        if let Some(code) = self.pending_close.take() {
            let payload = code.map(|c| c.0.to_be_bytes());
            self.write_frame(out, OpCode::Close, true, payload.as_ref().map_or(&[], |p| &p[..]));
        }
    }

    #[inline]
    fn next_mask(&mut self) -> Result<Option<[u8; 4]>, Error> {
        if !self.role.masks_outgoing() {
            return Ok(None);
        }
        match self.keys.as_mut() {
            Some(keys) => Ok(Some(keys.mask_key())),
            None => Err(Misuse::NoKeySource.into()),
        }
    }

    /// Writes one frame; the space was reserved (and a client has a key source).
    fn write_frame(&mut self, out: &mut impl OutBuf, opcode: OpCode, fin: bool, payload: &[u8]) {
        self.write_frame_rsv(out, opcode, fin, 0, payload);
    }

    /// Writes one frame with reserved bits `rsv`.
    fn write_frame_rsv(&mut self, out: &mut impl OutBuf, opcode: OpCode, fin: bool, rsv: u8, payload: &[u8]) {
        let mask = self.next_mask().unwrap_or(None);
        let mut head = [0; MAX_HEADER_LEN];
        let header = FrameHeader { rsv, ..FrameHeader::new(opcode, fin, payload.len() as u64, mask) };
        let n = encode_header(&header, &mut head);
        out.append(&head[..n]);
        match mask {
            // One pass: copy and mask together.
            Some(key) => out.append_masked(payload, key),
            None => {
                out.append(payload);
            }
        }
    }
}
