//! Shared helpers for the integration tests: an event collector, a raw frame builder for
//! hostile-peer tests, and an in-memory client/server pair. permessage-deflate helpers are in
//! [`deflate`].
#![allow(dead_code, unreachable_pub)]

#[cfg(feature = "deflate")]
pub mod deflate;

use wsproto::{CloseCode, CloseFrame, Config, Connection, Error, Event, KeySource, MessageKind, Role};

/// A fixed masking key for frames that the tests build by hand.
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// An owned copy of an [`Event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Data { kind: MessageKind, data: Vec<u8>, first: bool, last: bool },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close { code: Option<u16>, reason: String },
}

impl Ev {
    pub fn from_event(e: &Event<'_>) -> Self {
        match *e {
            Event::Data { kind, data, first, last, .. } => Ev::Data { kind, data: data.to_vec(), first, last },
            Event::Ping(p) => Ev::Ping(p.as_bytes().to_vec()),
            Event::Pong(p) => Ev::Pong(p.as_bytes().to_vec()),
            Event::Close(c) => Ev::Close { code: c.code().map(|c| c.0), reason: c.reason().to_owned() },
            ref other => panic!("unknown event {other:?}"),
        }
    }

    pub fn text(s: &str) -> Self {
        Ev::Data { kind: MessageKind::Text, data: s.as_bytes().to_vec(), first: true, last: true }
    }

    pub fn binary(b: &[u8]) -> Self {
        Ev::Data { kind: MessageKind::Binary, data: b.to_vec(), first: true, last: true }
    }

    pub fn piece(kind: MessageKind, data: &[u8], first: bool, last: bool) -> Self {
        Ev::Data { kind, data: data.to_vec(), first, last }
    }

    pub fn close(code: u16, reason: &str) -> Self {
        Ev::Close { code: Some(code), reason: reason.to_owned() }
    }
}

/// What feeding a buffer produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fed {
    pub events: Vec<Ev>,
    pub error: Option<Error>,
    /// Bytes consumed before the error (or all of them).
    pub consumed: usize,
}

impl Fed {
    /// The events, panicking if there was an error.
    #[track_caller]
    pub fn ok(self) -> Vec<Ev> {
        if let Some(e) = self.error {
            panic!("unexpected error {e:?} after events {:?}", self.events);
        }
        self.events
    }

    /// The error, panicking if there was none.
    #[track_caller]
    pub fn err(&self) -> Error {
        match self.error {
            Some(e) => e,
            None => panic!("expected an error, got events {:?}", self.events),
        }
    }
}

/// Feeds `input` through `conn.receive` until it is all consumed or an error occurs. The input
/// is unmasked in place.
pub fn feed(conn: &mut Connection, input: &mut [u8]) -> Fed {
    let mut pos = 0;
    let total = input.len();
    let mut events = Vec::new();
    // Every event consumes bytes or ends a message, so this bounds the loop generously.
    let mut guard = 0usize;
    loop {
        guard += 1;
        assert!(guard <= 4 * total + 16, "receive loop does not make progress");
        match conn.receive(&mut input[pos..]) {
            Ok(r) => {
                assert!(r.consumed <= total - pos, "consumed more than given");
                pos += r.consumed;
                match r.event {
                    Some(e) => events.push(Ev::from_event(&e)),
                    None => {
                        assert_eq!(pos, total, "event None must mean all input was consumed");
                        return Fed { events, error: None, consumed: pos };
                    }
                }
            }
            Err(e) => return Fed { events, error: Some(e), consumed: pos },
        }
    }
}

/// Feeds a copy of `bytes`.
pub fn feed_copy(conn: &mut Connection, bytes: &[u8]) -> Fed {
    let mut buf = bytes.to_vec();
    feed(conn, &mut buf)
}

/// Feeds a copy of `bytes` in pieces cut at `cuts` (sorted positions; out-of-range ones are
/// clamped), stopping at the first error.
pub fn feed_split(conn: &mut Connection, bytes: &[u8], cuts: &[usize]) -> Fed {
    let mut buf = bytes.to_vec();
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(buf.len())).collect();
    cuts.sort_unstable();
    cuts.push(buf.len());
    let mut start = 0;
    let mut out = Fed { events: Vec::new(), error: None, consumed: 0 };
    for cut in cuts {
        let r = feed(conn, &mut buf[start..cut]);
        out.events.extend(r.events);
        out.consumed += r.consumed;
        if r.error.is_some() {
            out.error = r.error;
            return out;
        }
        start = cut;
    }
    out
}

/// A data message or control frame, after joining the pieces of each message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Logical {
    Message(MessageKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close { code: Option<u16>, reason: String },
}

/// Joins data pieces into whole messages, checking that the first/last markers and kinds are
/// consistent. Control frames keep their position relative to the messages' last pieces.
#[track_caller]
pub fn logical(events: &[Ev]) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut open: Option<(MessageKind, Vec<u8>)> = None;
    for e in events {
        match e {
            Ev::Data { kind, data, first, last } => {
                match (&mut open, first) {
                    (None, true) => open = Some((*kind, data.clone())),
                    (Some((k, buf)), false) => {
                        assert_eq!(k, kind, "kind changed inside a message");
                        buf.extend_from_slice(data);
                    }
                    (None, false) => panic!("continuation piece without a first piece: {events:?}"),
                    (Some(_), true) => panic!("first piece inside an open message: {events:?}"),
                }
                if *last {
                    let (k, buf) = open.take().unwrap();
                    out.push(Logical::Message(k, buf));
                }
            }
            Ev::Ping(p) => out.push(Logical::Ping(p.clone())),
            Ev::Pong(p) => out.push(Logical::Pong(p.clone())),
            Ev::Close { code, reason } => out.push(Logical::Close { code: *code, reason: reason.clone() }),
        }
    }
    assert!(open.is_none(), "message left open: {events:?}");
    out
}

/// How the payload length is written in a hand-built frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LenEnc {
    /// The shortest form (what RFC 6455 requires).
    Minimal,
    /// Always the 16-bit form (non-minimal below 126).
    Ext16,
    /// Always the 64-bit form (non-minimal below 65536).
    Ext64,
}

/// Builds raw frames byte by byte, valid or not, for hostile-peer tests.
#[derive(Clone, Debug)]
pub struct FrameBuilder {
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    enc: LenEnc,
    declared: Option<u64>,
    payload: Vec<u8>,
}

impl FrameBuilder {
    /// A final, unmasked frame with opcode `opcode` (any 4-bit value) and no payload.
    pub fn new(opcode: u8) -> Self {
        Self { fin: true, rsv: 0, opcode, mask: None, enc: LenEnc::Minimal, declared: None, payload: Vec::new() }
    }

    pub fn fin(mut self, fin: bool) -> Self {
        self.fin = fin;
        self
    }

    /// The three RSV bits (0..=7, RSV1 is 4).
    pub fn rsv(mut self, rsv: u8) -> Self {
        self.rsv = rsv;
        self
    }

    pub fn mask(mut self, key: [u8; 4]) -> Self {
        self.mask = Some(key);
        self
    }

    pub fn maybe_mask(mut self, key: Option<[u8; 4]>) -> Self {
        self.mask = key;
        self
    }

    pub fn payload(mut self, payload: &[u8]) -> Self {
        self.payload = payload.to_vec();
        self
    }

    pub fn enc(mut self, enc: LenEnc) -> Self {
        self.enc = enc;
        self
    }

    /// Writes `len` as the payload length instead of the real one (the 7-bit value 126/127
    /// selects the extended field as usual).
    pub fn declared_len(mut self, len: u64) -> Self {
        self.declared = Some(len);
        self
    }

    pub fn build(&self) -> Vec<u8> {
        let mut out = vec![(u8::from(self.fin) << 7) | ((self.rsv & 7) << 4) | (self.opcode & 0x0f)];
        let len = self.declared.unwrap_or(self.payload.len() as u64);
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let enc = match self.enc {
            LenEnc::Minimal if len < 126 => LenEnc::Minimal,
            LenEnc::Minimal if len <= 0xffff => LenEnc::Ext16,
            LenEnc::Minimal => LenEnc::Ext64,
            other => other,
        };
        match enc {
            LenEnc::Minimal => out.push(mask_bit | len as u8),
            LenEnc::Ext16 => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&u16::try_from(len).expect("fits in 16 bits").to_be_bytes());
            }
            LenEnc::Ext64 => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&len.to_be_bytes());
            }
        }
        let mut payload = self.payload.clone();
        if let Some(key) = self.mask {
            out.extend_from_slice(&key);
            mask_bytes(&mut payload, key);
        }
        out.extend_from_slice(&payload);
        out
    }
}

/// XORs `data` with `key` from offset 0 (reference implementation, byte at a time).
pub fn mask_bytes(data: &mut [u8], key: [u8; 4]) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

/// A final frame as `from` would send it: masked with [`KEY`] for a client, unmasked for a
/// server.
pub fn frame_from(from: Role, opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame_from_fin(from, opcode, true, payload)
}

/// A frame as `from` would send it, with FIN given.
pub fn frame_from_fin(from: Role, opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let b = FrameBuilder::new(opcode).fin(fin).payload(payload);
    match from {
        Role::Client => b.mask(KEY).build(),
        Role::Server => b.build(),
    }
}

/// One frame from its first header byte `b0` (FIN, RSV and opcode bits), with the shortest
/// length encoding, masked with `mask` if given.
pub fn frame(b0: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    FrameBuilder::new(b0 & 0x0f).fin(b0 & 0x80 != 0).rsv((b0 >> 4) & 7).maybe_mask(mask).payload(payload).build()
}

/// A Close frame payload: the code big-endian, then the reason.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

/// One decoded frame of an output stream (the tests' own parser, independent of the crate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    /// The length field's size in bytes (0, 2 or 8).
    pub ext_len: usize,
    /// The unmasked payload.
    pub payload: Vec<u8>,
}

/// Splits `bytes` into frames (panics on a truncated stream), unmasking the payloads.
#[track_caller]
pub fn parse_frames(bytes: &[u8]) -> Vec<RawFrame> {
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let b0 = bytes[pos];
        let b1 = bytes[pos + 1];
        pos += 2;
        let (len, ext_len) = match b1 & 0x7f {
            126 => {
                let n = u16::from_be_bytes([bytes[pos], bytes[pos + 1]]) as u64;
                pos += 2;
                (n, 2)
            }
            127 => {
                let n = u64::from_be_bytes(bytes[pos..pos + 8].try_into().unwrap());
                pos += 8;
                (n, 8)
            }
            n => (u64::from(n), 0),
        };
        let mask = if b1 & 0x80 != 0 {
            let k = [bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]];
            pos += 4;
            Some(k)
        } else {
            None
        };
        let len = len as usize;
        let mut payload = bytes[pos..pos + len].to_vec();
        pos += len;
        if let Some(k) = mask {
            mask_bytes(&mut payload, k);
        }
        frames.push(RawFrame { fin: b0 & 0x80 != 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, mask, ext_len, payload });
    }
    frames
}

/// Pseudo-random numbers for message contents (xorshift64*), the same for a given seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A client with a seeded key source.
pub fn client(config: Config) -> Connection {
    Connection::new(Role::Client, config).with_key_source(KeySource::seeded(0x5eed))
}

/// A server.
pub fn server(config: Config) -> Connection {
    Connection::new(Role::Server, config)
}

/// A connection of `role` (clients get a seeded key source).
pub fn conn(role: Role, config: Config) -> Connection {
    match role {
        Role::Client => client(config),
        Role::Server => server(config),
    }
}

/// Everything `conn.poll_transmit` writes now.
pub fn transmit(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    let n = conn.poll_transmit(&mut out).expect("poll_transmit into a Vec");
    assert_eq!(n, out.len(), "poll_transmit reports the bytes written");
    out
}

/// A Close frame with a code and reason.
pub fn close_frame(code: u16, reason: &str) -> CloseFrame {
    CloseFrame::new(CloseCode(code), reason)
}

/// An in-memory client and server connected back to back.
pub struct Pair {
    pub client: Connection,
    pub server: Connection,
    /// Bytes written by the client, not yet read by the server.
    pub to_server: Vec<u8>,
    /// Bytes written by the server, not yet read by the client.
    pub to_client: Vec<u8>,
    /// Whether each side's transport write end is closed (the other then sees end of input).
    pub client_eof_sent: bool,
    pub server_eof_sent: bool,
}

/// Events seen by each side during [`Pair::pump`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    pub client: Vec<Ev>,
    pub server: Vec<Ev>,
}

impl Pair {
    pub fn new(client_config: Config, server_config: Config) -> Self {
        Self {
            client: client(client_config),
            server: server(server_config),
            to_server: Vec::new(),
            to_client: Vec::new(),
            client_eof_sent: false,
            server_eof_sent: false,
        }
    }

    pub fn default_configs() -> Self {
        Self::new(Config::new(), Config::new())
    }

    /// Delivers what the client wrote to the server, then lets the server write its replies.
    #[track_caller]
    pub fn deliver_to_server(&mut self) -> Vec<Ev> {
        let mut wire = core::mem::take(&mut self.to_server);
        let events = feed(&mut self.server, &mut wire).ok();
        self.server.poll_transmit(&mut self.to_client).unwrap();
        events
    }

    /// Delivers what the server wrote to the client, then lets the client write its replies.
    #[track_caller]
    pub fn deliver_to_client(&mut self) -> Vec<Ev> {
        let mut wire = core::mem::take(&mut self.to_client);
        let events = feed(&mut self.client, &mut wire).ok();
        self.client.poll_transmit(&mut self.to_server).unwrap();
        events
    }

    /// Moves bytes both ways until neither side has anything to say.
    #[track_caller]
    pub fn pump(&mut self) -> Seen {
        let mut seen = Seen::default();
        for _ in 0..100 {
            if self.to_server.is_empty() && self.to_client.is_empty() {
                return seen;
            }
            seen.server.extend(self.deliver_to_server());
            seen.client.extend(self.deliver_to_client());
        }
        panic!("pair does not settle");
    }
}

/// Checks that `bytes` is exactly one Close frame carrying `code` (and no reason), masked iff
/// `from` is a client.
#[track_caller]
pub fn assert_one_close(bytes: &[u8], from: Role, code: u16) {
    let frames = parse_frames(bytes);
    assert_eq!(frames.len(), 1, "expected one Close frame, got {frames:?}");
    let f = &frames[0];
    assert!(f.fin, "{f:?}");
    assert_eq!(f.rsv, 0, "{f:?}");
    assert_eq!(f.opcode, 0x8, "{f:?}");
    assert_eq!(f.payload, code.to_be_bytes(), "{f:?}");
    assert_eq!(f.mask.is_some(), from == Role::Client, "masking of {from:?} output: {f:?}");
}

/// Checks that `conn` failed with `error`: the state, the stored error, the close code, that a
/// later `receive` repeats the error, and that `poll_transmit` writes exactly one Close frame
/// with `code` (then nothing more).
#[track_caller]
pub fn assert_failed_with(conn: &mut Connection, error: Error, code: u16) {
    assert_eq!(conn.state(), wsproto::State::Failed);
    assert_eq!(conn.error(), Some(error));
    assert_eq!(error.close_code(), Some(CloseCode(code)));
    assert!(error.is_fatal());
    assert!(conn.wants_transmit());
    assert_eq!(conn.transport_action(), wsproto::TransportAction::Continue, "the Close frame is not written yet");
    let mut more = frame_from(conn.role().peer(), 0x2, b"more");
    assert_eq!(conn.receive(&mut more), Err(error));
    let role = conn.role();
    assert_one_close(&transmit(conn), role, code);
    assert!(!conn.wants_transmit());
    assert!(transmit(conn).is_empty());
    assert_eq!(conn.transport_action(), wsproto::TransportAction::Close);
}

/// Random traffic for the property tests: what a sender does, and what the receiver should see.
pub mod traffic {
    use super::Logical;
    use proptest::prelude::*;
    use wsproto::{CloseCode, CloseFrame, Connection, MessageKind};

    /// One thing the sender does.
    #[derive(Clone, Debug)]
    pub enum Op {
        Text(String),
        Binary(Vec<u8>),
        /// A message sent with `send_fragment`, one call per piece, with a Ping after the
        /// pieces marked `true` (except after the last one).
        Fragmented {
            kind: MessageKind,
            pieces: Vec<Vec<u8>>,
            ping_after: Vec<bool>,
        },
        Ping(Vec<u8>),
        Pong(Vec<u8>),
    }

    /// Payload lengths, biased towards the length-encoding boundaries.
    pub fn payload_len() -> impl Strategy<Value = usize> {
        prop_oneof![
            8 => 0usize..40,
            3 => 120usize..132,
            1 => prop::sample::select(vec![65535usize, 65536, 65537]),
        ]
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => prop::collection::vec(any::<u8>(), 0..40),
            1 => (any::<u8>(), payload_len())
                .prop_map(|(seed, n)| (0..n).map(|i| seed.wrapping_add((i * 7 % 251) as u8)).collect()),
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "\\PC{0,30}",
            1 => payload_len().prop_map(|n| {
                // Multi-byte characters across the boundaries, padded to exactly n bytes.
                let mut s = "€".repeat(n / 3);
                s.push_str(&"a".repeat(n % 3));
                s
            }),
        ]
    }

    fn control() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(any::<u8>(), 0..=125)
    }

    /// Cuts `data` into pieces at the given positions (pieces may be empty).
    fn cut(data: &[u8], cuts: &[prop::sample::Index]) -> Vec<Vec<u8>> {
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        at.sort_unstable();
        at.push(data.len());
        let mut start = 0;
        at.into_iter()
            .map(|c| {
                let p = data[start..c].to_vec();
                start = c;
                p
            })
            .collect()
    }

    fn fragmented() -> impl Strategy<Value = Op> {
        let cuts = prop::collection::vec(any::<prop::sample::Index>(), 0..5);
        let pings = prop::collection::vec(any::<bool>(), 6);
        prop_oneof![
            (text(), cuts.clone(), pings.clone()).prop_map(|(t, c, p)| Op::Fragmented {
                kind: MessageKind::Text,
                pieces: cut(t.as_bytes(), &c),
                ping_after: p,
            }),
            (bytes(), cuts, pings).prop_map(|(b, c, p)| Op::Fragmented {
                kind: MessageKind::Binary,
                pieces: cut(&b, &c),
                ping_after: p,
            }),
        ]
    }

    pub fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => text().prop_map(Op::Text),
            3 => bytes().prop_map(Op::Binary),
            2 => fragmented(),
            1 => control().prop_map(Op::Ping),
            1 => control().prop_map(Op::Pong),
        ]
    }

    /// An optional Close at the end: a valid code and a short reason.
    pub fn close() -> impl Strategy<Value = Option<(u16, String)>> {
        prop::option::of((prop::sample::select(vec![1000u16, 1001, 1003, 1008, 1011, 3000, 4999]), "\\PC{0,20}"))
    }

    /// Sending `max_outgoing_frame` values.
    pub fn max_outgoing() -> impl Strategy<Value = usize> {
        prop::sample::select(vec![1usize, 2, 7, 125, 126, 127, 65535, 65536, 1 << 20])
    }

    /// The Ping payload sent between the pieces of a fragmented message.
    pub fn mid_ping(index: usize) -> Vec<u8> {
        format!("mid {index}").into_bytes()
    }

    /// Sends `ops` (then the Close) from `tx` into `out` and returns what the peer should see.
    pub fn send_all(
        tx: &mut Connection,
        ops: &[Op],
        close: &Option<(u16, String)>,
        out: &mut impl wsproto::OutBuf,
    ) -> Vec<Logical> {
        let mut expected = Vec::new();
        for op in ops {
            match op {
                Op::Text(t) => {
                    tx.send_text(t, out).unwrap();
                    expected.push(Logical::Message(MessageKind::Text, t.as_bytes().to_vec()));
                }
                Op::Binary(b) => {
                    tx.send_binary(b, out).unwrap();
                    expected.push(Logical::Message(MessageKind::Binary, b.clone()));
                }
                Op::Fragmented { kind, pieces, ping_after } => {
                    let mut whole = Vec::new();
                    for (i, piece) in pieces.iter().enumerate() {
                        let last = i == pieces.len() - 1;
                        tx.send_fragment(*kind, piece, last, out).unwrap();
                        whole.extend_from_slice(piece);
                        if !last && ping_after.get(i).copied().unwrap_or(false) {
                            tx.ping(&mid_ping(i), out).unwrap();
                            expected.push(Logical::Ping(mid_ping(i)));
                        }
                    }
                    expected.push(Logical::Message(*kind, whole));
                }
                Op::Ping(p) => {
                    tx.ping(p, out).unwrap();
                    expected.push(Logical::Ping(p.clone()));
                }
                Op::Pong(p) => {
                    tx.pong(p, out).unwrap();
                    expected.push(Logical::Pong(p.clone()));
                }
            }
        }
        if let Some((code, reason)) = close {
            tx.close(CloseFrame::new(CloseCode(*code), reason), out).unwrap();
            expected.push(Logical::Close { code: Some(*code), reason: reason.clone() });
        }
        expected
    }
}
