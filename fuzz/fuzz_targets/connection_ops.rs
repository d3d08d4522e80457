//! Structure-aware: a sequence of operations on one connection, in either role, with optional
//! permessage-deflate, against a model of what each operation must do.
//!
//! The connection under test talks to a well-behaved peer (our own `Connection` in the other
//! role): everything it writes is read by the peer, and the peer's own messages and replies are
//! fed back in pieces. Hostile bytes and hand-built frames can be fed in between.
//!
//! Checked after every operation:
//! * no panic;
//! * every byte written parses, with our own decoder playing the peer, as a valid frame
//!   sequence for the role (client frames masked, server frames not, control frames ≤ 125
//!   bytes and final, RSV1 only on compressed first frames, no frame at all after our Close),
//!   and each call writes whole frames, pending automatic replies (the Pong for the latest
//!   Ping, then the queued Close) first;
//! * the peer reads exactly the messages, pings, pongs and Close frames that were sent, in
//!   order (compressed or not), and never fails;
//! * each command's result class matches the model (`Ok`, `SendAfterClose`,
//!   `MessageInProgress`, `InvalidUtf8`, `ControlPayloadTooLong`, `InvalidCloseCode`, the
//!   connection's fatal error), a failed command writes nothing and changes nothing, and a
//!   fixed buffer that is too small gives `BufferTooSmall` with nothing written;
//! * once an error is returned, every later `receive`, `receive_eof` and command returns the
//!   same error (`poll_transmit` still works);
//! * `state()` equals the model's, never goes backwards (Open → Closing → Closed/Failed), and
//!   `wants_transmit`, `error` and `transport_action` agree with it;
//! * while only the peer's bytes were fed, the connection sees the same events as a second
//!   connection that reads the peer's bytes whole (or fails only on one of its limits).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsproto::frame::OpCode;
use wsproto::{
    BufferTooSmall, CloseCode, CloseFrame, Config, Connection, Error, KeySource, MessageKind, Misuse, OutBuf, Role,
    SliceBuf, State, TransportAction,
};
use wsproto_fuzz::{
    Assembler, Ev, Logical, Op, OpsInput, PeerOp, WireChecker, WriteOp, close_code, drain, pieces, raw_frame,
    scratch_len, text_of,
};

fuzz_target!(|input: OpsInput| {
    let mut h = Harness::new(&input);
    for op in &input.ops {
        h.op(op);
        h.check();
    }
});

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

struct Harness {
    role: Role,
    config: Config,
    conn: Connection,
    scratch: Vec<u8>,
    /// Our output, read back.
    wire: WireChecker,
    last_state: State,

    // The model.
    failed: Option<Error>,
    close_sent: bool,
    close_received: bool,
    eof: bool,
    pending_pong: Option<Vec<u8>>,
    pending_close: Option<Option<u16>>,
    /// The fragmented message we are sending, and the unfinished UTF-8 character at its end.
    open_fragment: Option<(MessageKind, Vec<u8>)>,
    /// What we received.
    asm: Assembler,

    // The peer, and what it must read.
    peer: Connection,
    peer_scratch: Vec<u8>,
    peer_asm: Assembler,
    peer_wire: WireChecker,
    intent: Vec<Logical>,
    intent_partial: Option<(MessageKind, Vec<u8>)>,

    /// A connection like ours reading only the peer's bytes, whole, while nothing else was fed.
    mirror: Option<(Connection, Assembler)>,
}

fn rank(s: State) -> u8 {
    match s {
        State::Open => 0,
        State::ClosingLocal | State::ClosingRemote => 1,
        _ => 2,
    }
}

impl Harness {
    fn new(input: &OpsInput) -> Self {
        let role = if input.client { Role::Client } else { Role::Server };
        let config = input.config.config();
        let agreed = input.deflate.map(|d| d.agreed());
        let make = |role: Role, config: Config, seed: u64| {
            let c = Connection::new(role, config).with_key_source(KeySource::seeded(seed));
            match agreed {
                Some(a) => c.with_deflate(a),
                None => c,
            }
        };
        let peer_config = Config::new();
        Self {
            role,
            config,
            conn: make(role, config, 1),
            scratch: vec![0; scratch_len(input.scratch)],
            wire: WireChecker::new(role, agreed.is_some()),
            last_state: State::Open,
            failed: None,
            close_sent: false,
            close_received: false,
            eof: false,
            pending_pong: None,
            pending_close: None,
            open_fragment: None,
            asm: Assembler::new(config.max_message_size),
            peer: make(role.peer(), peer_config, 2),
            peer_scratch: vec![0; 4096],
            peer_asm: Assembler::new(peer_config.max_message_size),
            peer_wire: WireChecker::new(role.peer(), agreed.is_some()),
            intent: Vec::new(),
            intent_partial: None,
            mirror: Some((make(role, peer_config, 3), Assembler::new(peer_config.max_message_size))),
        }
    }

    // -----------------------------------------------------------------------------------------
    // The model

    fn state(&self) -> State {
        if self.failed.is_some() {
            return State::Failed;
        }
        match (self.close_sent, self.close_received) {
            (false, false) => State::Open,
            (true, false) => State::ClosingLocal,
            (false, true) => State::ClosingRemote,
            (true, true) => State::Closed,
        }
    }

    fn fail(&mut self, e: Error) {
        if let Some(f) = self.failed {
            assert_eq!(e, f, "a second error after the first");
            return;
        }
        assert!(e.is_fatal(), "receive returned a caller error {e:?}");
        self.failed = Some(e);
        self.pending_pong = None;
        if let Some(code) = e.close_code()
            && !self.close_sent
            && !self.eof
        {
            self.pending_close = Some(Some(code.0));
            self.close_sent = true;
        }
    }

    fn on_event(&mut self, ev: Ev) {
        match &ev {
            Ev::Ping(p) if self.config.auto_pong && !self.close_sent => self.pending_pong = Some(p.clone()),
            Ev::Close(code, _) => {
                self.close_received = true;
                if self.config.auto_close_reply && !self.close_sent {
                    self.pending_close = Some(*code);
                    self.close_sent = true;
                }
            }
            _ => {}
        }
        self.asm.push(ev);
    }

    fn check(&mut self) {
        let state = self.conn.state();
        assert_eq!(state, self.state(), "state differs from the model");
        assert!(rank(state) >= rank(self.last_state), "state went back from {:?} to {state:?}", self.last_state);
        if matches!(self.last_state, State::Closed | State::Failed) {
            assert_eq!(state, self.last_state, "left a final state");
        }
        self.last_state = state;
        assert_eq!(self.conn.error(), self.failed);
        let wants = self.pending_pong.is_some() || self.pending_close.is_some();
        assert_eq!(self.conn.wants_transmit(), wants, "wants_transmit differs from the model");
        assert!(!self.conn.has_pending_data());
        let expected = if wants {
            TransportAction::Continue
        } else {
            match state {
                State::Failed => TransportAction::Close,
                State::Closed if self.eof => TransportAction::Close,
                State::Closed if self.role == Role::Server => TransportAction::Close,
                State::Closed => TransportAction::AwaitPeerClose,
                State::ClosingRemote if self.eof => TransportAction::Close,
                _ => TransportAction::Continue,
            }
        };
        assert_eq!(self.conn.transport_action(), expected);
    }

    // -----------------------------------------------------------------------------------------
    // Input

    fn receive(&mut self, bytes: &[u8], spec: &[u8]) {
        for r in pieces(bytes.len(), spec) {
            let mut buf = bytes[r].to_vec();
            let mut events = Vec::new();
            let result = drain(&mut self.conn, &mut buf, &mut self.scratch, |ev| events.push(ev));
            for ev in events {
                self.on_event(ev);
            }
            if let Err(e) = result {
                self.fail(e);
            }
        }
    }

    fn not_clean(&mut self) {
        self.mirror = None;
    }

    fn op(&mut self, op: &Op) {
        match op {
            Op::Feed { bytes, pieces } => {
                self.not_clean();
                self.receive(bytes, pieces);
            }
            Op::FeedFrame { frame, pieces } => {
                self.not_clean();
                let masked = (self.role == Role::Server) != frame.wrong_mask;
                let mut bytes = Vec::new();
                raw_frame(&mut bytes, frame.fin, frame.rsv, frame.opcode, masked.then_some(KEY), &frame.payload);
                self.receive(&bytes, pieces);
            }
            Op::FeedEof => {
                self.not_clean();
                let result = self.conn.receive_eof();
                if let Some(f) = self.failed {
                    assert_eq!(result, Err(f));
                } else if self.close_received {
                    assert_eq!(result, Ok(()));
                    self.pending_pong = None;
                } else {
                    assert_eq!(result, Err(Error::UnexpectedEof));
                    self.pending_pong = None;
                    self.eof = true;
                    self.fail(Error::UnexpectedEof);
                }
                self.eof = true;
            }
            Op::Peer { op, pieces } => self.peer_op(op, pieces),
            Op::Write(w) => self.write(w, None),
            Op::SmallBuf { cap, op } => self.write(op, Some(usize::from(*cap))),
            Op::ReceiveWithoutScratch => {
                if self.conn.needs_scratch() {
                    let mut input = *b"\x81\x00";
                    let result = self.conn.receive(&mut input);
                    match self.failed {
                        Some(f) => assert_eq!(result.err(), Some(f)),
                        None => assert_eq!(result.err(), Some(Error::Misuse(Misuse::ScratchRequired))),
                    }
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // The peer

    fn peer_op(&mut self, op: &PeerOp, spec: &[u8]) {
        let mut out = Vec::new();
        // The peer's own mistakes (sending after its Close, a message inside a fragmented one,
        // an invalid close code) write nothing; they are not what is under test here.
        let _ = match op {
            PeerOp::Text(d) => self.peer.send_text(&text_of(d), &mut out),
            PeerOp::Binary(d) => self.peer.send_binary(d, &mut out),
            PeerOp::Fragment { text, data, fin } => {
                let (kind, data) = if *text {
                    (MessageKind::Text, text_of(data).into_bytes())
                } else {
                    (MessageKind::Binary, data.clone())
                };
                self.peer.send_fragment(kind, &data, *fin, &mut out)
            }
            PeerOp::Ping(d) => self.peer.ping(&d[..d.len().min(125)], &mut out),
            PeerOp::Pong(d) => self.peer.pong(&d[..d.len().min(125)], &mut out),
            PeerOp::Close { code, reason } => {
                let frame = match code.code() {
                    Some(c) => CloseFrame::new(CloseCode(c), &text_of(reason)),
                    None => CloseFrame::EMPTY,
                };
                self.peer.close(frame, &mut out)
            }
            PeerOp::Poll => Ok(()),
        };
        self.peer.poll_transmit(&mut out).expect("poll_transmit into a Vec");
        self.peer_wire.push(&out);
        if let Some((mirror, asm)) = self.mirror.as_mut() {
            let mut buf = out.clone();
            let mut scratch = [0; 4096];
            drain(mirror, &mut buf, &mut scratch, |ev| asm.push(ev)).expect("our peer's output is valid");
        }
        self.receive(&out, spec);
        if self.mirror.is_some() {
            match self.failed {
                None => {
                    let (_, mirror) = self.mirror.as_ref().unwrap();
                    assert_eq!(self.asm.done, mirror.done, "the split or scratch size changed the events");
                }
                Some(Error::LimitExceeded(_)) => self.not_clean(),
                Some(e) => panic!("a valid stream from our own peer failed with {e:?}"),
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Commands

    /// What a command must return, whatever the buffer.
    fn expect(&self, op: &WriteOp) -> Result<(), Error> {
        if let Some(f) = self.failed
            && !matches!(op, WriteOp::PollTransmit)
        {
            return Err(f);
        }
        let (kind, data, fin, fragment, check): (MessageKind, &[u8], bool, bool, bool) = match op {
            WriteOp::PollTransmit => return Ok(()),
            WriteOp::Close { code, .. } => {
                return match code.code() {
                    Some(c) if !CloseCode(c).is_valid_on_wire() => Err(Misuse::InvalidCloseCode(c).into()),
                    _ => Ok(()),
                };
            }
            WriteOp::Ping(p) | WriteOp::Pong(p) => {
                return if self.close_sent {
                    Err(Misuse::SendAfterClose.into())
                } else if p.len() > 125 {
                    Err(Misuse::ControlPayloadTooLong.into())
                } else {
                    Ok(())
                };
            }
            // Text from `&str` is not checked again.
            WriteOp::SendText(d) => (MessageKind::Text, d, true, false, false),
            WriteOp::SendBinary(d) => (MessageKind::Binary, d, true, false, false),
            WriteOp::Send { text, data } => (kind(*text), data, true, false, true),
            WriteOp::SendFragment { text, data, fin } | WriteOp::FrameHead { text, data, fin } => {
                (kind(*text), data, *fin, true, true)
            }
        };
        if self.close_sent {
            return Err(Misuse::SendAfterClose.into());
        }
        let carried = match &self.open_fragment {
            None => &[][..],
            Some((k, carry)) if *k == kind && fragment => carry,
            Some(_) => return Err(Misuse::MessageInProgress.into()),
        };
        if kind == MessageKind::Text && check {
            let text = [carried, data].concat();
            match core::str::from_utf8(&text) {
                Ok(_) => {}
                Err(e) if e.error_len().is_some() || fin => return Err(Misuse::InvalidUtf8.into()),
                Err(_) => {}
            }
        }
        Ok(())
    }

    fn exec(&mut self, op: &WriteOp, out: &mut impl OutBuf) -> Result<(), Error> {
        match op {
            WriteOp::SendText(d) => self.conn.send_text(&text_of(d), out),
            WriteOp::SendBinary(d) => self.conn.send_binary(d, out),
            WriteOp::Send { text, data } => self.conn.send(kind(*text), data, out),
            WriteOp::SendFragment { text, data, fin } => self.conn.send_fragment(kind(*text), data, *fin, out),
            WriteOp::Ping(p) => self.conn.ping(p, out),
            WriteOp::Pong(p) => self.conn.pong(p, out),
            WriteOp::Close { code, reason } => self.conn.close(close_frame(*code, reason), out),
            WriteOp::PollTransmit => self.conn.poll_transmit(out).map(drop),
            WriteOp::FrameHead { .. } => unreachable!("handled by the caller"),
        }
    }

    fn write(&mut self, op: &WriteOp, cap: Option<usize>) {
        if let WriteOp::FrameHead { text, data, fin } = op {
            // The caller writes `poll_transmit`'s output first, then the header and payload.
            self.write(&WriteOp::PollTransmit, None);
            let expected = self.expect(op);
            let mut payload = data.clone();
            match (expected, self.conn.encode_frame_head(kind(*text), &mut payload, *fin)) {
                (Ok(()), Ok(head)) => {
                    let mut bytes = head.as_bytes().to_vec();
                    bytes.extend_from_slice(&payload);
                    self.written(op, &bytes, false);
                }
                (Err(e), Err(r)) => assert_eq!(e, r, "{op:?}"),
                (e, r) => panic!("{op:?}: the model expects {e:?}, got {r:?}"),
            }
            return;
        }
        let expected = self.expect(op);
        let before = (self.conn.state(), self.conn.wants_transmit(), self.conn.error());
        let (result, bytes) = match cap {
            None => {
                let mut out = Vec::new();
                let r = self.exec(op, &mut out);
                (r, out)
            }
            Some(cap) => {
                let mut storage = vec![0u8; cap];
                let mut out = SliceBuf::new(&mut storage);
                let r = self.exec(op, &mut out);
                let filled = out.filled().to_vec();
                (r, filled)
            }
        };
        let after = (self.conn.state(), self.conn.wants_transmit(), self.conn.error());
        match (expected, result) {
            (Ok(()), Ok(())) => self.written(op, &bytes, true),
            (Ok(()), Err(Error::BufferTooSmall(BufferTooSmall { required }))) if cap.is_some() => {
                let cap = cap.unwrap_or_default();
                assert!(required > cap, "BufferTooSmall asks for {required} bytes, {cap} were free");
                assert!(bytes.is_empty(), "a call that failed wrote {} bytes", bytes.len());
                assert_eq!(before, after, "a call that failed changed the connection");
            }
            (Err(e), Err(r)) => {
                assert_eq!(e, r, "{op:?}");
                assert!(bytes.is_empty(), "a call that failed wrote {} bytes", bytes.len());
                assert_eq!(before, after, "a call that failed changed the connection");
            }
            (e, r) => panic!("{op:?}: the model expects {e:?}, got {r:?}"),
        }
    }

    /// A command succeeded and wrote `bytes`: read them back, check them against the model,
    /// and pass them to the peer.
    fn written(&mut self, op: &WriteOp, bytes: &[u8], writes_pending: bool) {
        let frames = self.wire.push(bytes);
        let mut frames = frames.into_iter().peekable();
        if writes_pending {
            if let Some(p) = self.pending_pong.take() {
                let f = frames.next().expect("the pending Pong was not written");
                assert_eq!((f.opcode, &f.payload), (OpCode::Pong, &p), "the Pong does not answer the latest Ping");
                self.intent.push(Logical::Pong(p));
            }
            if let Some(code) = self.pending_close.take() {
                let f = frames.next().expect("the pending Close was not written");
                assert_eq!(f.opcode, OpCode::Close);
                assert_eq!(close_code(&f.payload), code, "the queued Close has another code");
                assert_eq!(f.payload.len(), if code.is_some() { 2 } else { 0 }, "the queued Close has a reason");
                self.intent.push(Logical::Close(code, String::new()));
            }
        }
        match op {
            WriteOp::PollTransmit => {}
            WriteOp::Close { code, reason } => {
                if !self.close_sent {
                    let frame = close_frame(*code, reason);
                    let f = frames.next().expect("the Close frame was not written");
                    assert_eq!(f.opcode, OpCode::Close);
                    assert_eq!(close_code(&f.payload), frame.code().map(|c| c.0));
                    self.intent.push(Logical::Close(frame.code().map(|c| c.0), frame.reason().to_owned()));
                    self.close_sent = true;
                }
            }
            WriteOp::Ping(p) | WriteOp::Pong(p) => {
                let f = frames.next().expect("the control frame was not written");
                let opcode = if matches!(op, WriteOp::Ping(_)) { OpCode::Ping } else { OpCode::Pong };
                assert_eq!((f.opcode, &f.payload), (opcode, p));
                self.intent.push(if opcode == OpCode::Ping {
                    Logical::Ping(p.clone())
                } else {
                    Logical::Pong(p.clone())
                });
            }
            WriteOp::SendText(d) => self.sent(MessageKind::Text, text_of(d).as_bytes(), true),
            WriteOp::SendBinary(d) => self.sent(MessageKind::Binary, d, true),
            WriteOp::Send { text, data } => self.sent(kind(*text), data, true),
            WriteOp::SendFragment { text, data, fin } | WriteOp::FrameHead { text, data, fin } => {
                self.sent(kind(*text), data, *fin)
            }
        }
        if matches!(
            op,
            WriteOp::SendText(_)
                | WriteOp::SendBinary(_)
                | WriteOp::Send { .. }
                | WriteOp::SendFragment { .. }
                | WriteOp::FrameHead { .. }
        ) {
            let mut data_frames = 0;
            for f in frames.by_ref() {
                assert!(!f.opcode.is_control(), "a control frame inside a data send: {f:?}");
                data_frames += 1;
            }
            assert!(data_frames >= 1, "a data send wrote no data frame");
        }
        assert_eq!(frames.next(), None, "{op:?} wrote more frames than it should");

        // The peer reads it all and sees exactly what was sent.
        let mut buf = bytes.to_vec();
        let (peer, asm) = (&mut self.peer, &mut self.peer_asm);
        drain(peer, &mut buf, &mut self.peer_scratch, |ev| asm.push(ev)).expect("the peer rejects what we wrote");
        assert_eq!(self.peer_asm.done, self.intent, "the peer read something else than was sent");
        assert_eq!(self.peer_asm.partial, self.intent_partial, "the peer read another partial message");
    }

    fn sent(&mut self, kind: MessageKind, data: &[u8], fin: bool) {
        let (k, mut buf) = self.intent_partial.take().unwrap_or((kind, Vec::new()));
        assert_eq!(k, kind);
        buf.extend_from_slice(data);
        if fin {
            self.intent.push(Logical::Message(kind, buf));
            self.open_fragment = None;
        } else {
            self.intent_partial = Some((kind, buf));
            // Keep the unfinished character at the end, for the next piece's UTF-8 check.
            let carry = match &self.open_fragment {
                Some((_, c)) => [c.as_slice(), data].concat(),
                None => data.to_vec(),
            };
            let keep = match core::str::from_utf8(&carry) {
                Ok(_) => Vec::new(),
                Err(e) => carry[e.valid_up_to()..].to_vec(),
            };
            self.open_fragment = Some((kind, if kind == MessageKind::Text { keep } else { Vec::new() }));
        }
    }
}

fn kind(text: bool) -> MessageKind {
    if text { MessageKind::Text } else { MessageKind::Binary }
}

fn close_frame(code: wsproto_fuzz::CodeSel, reason: &[u8]) -> CloseFrame {
    match code.code() {
        Some(c) => CloseFrame::new(CloseCode(c), &text_of(reason)),
        None => CloseFrame::EMPTY,
    }
}
