//! permessage-deflate (RFC 7692) on the connection: the RFC's examples under every split of the
//! input and several scratch sizes, random round trips under every parameter combination,
//! what goes on the wire (RSV1, `min_size`, frame splitting, context takeover), and a peer's
//! mistakes (RSV1 where it does not belong, bad compressed data, invalid UTF-8 once inflated).
//!
//! The wire is checked with an independent decoder (flate2 directly, with the sender's
//! negotiated window), so compressed data that only *our* inflater could read would fail.
#![cfg(feature = "deflate")]

mod common;

use common::deflate::{TRAILER, deflate_sync};
use common::{Ev, Fed, KEY, Logical, Rng, frame, logical, parse_frames};
use proptest::prelude::*;
use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use wsproto::{
    BufferTooSmall, Config, Connection, Error, Event, KeySource, MessageKind, Misuse, ProtocolViolation, Role, SliceBuf,
};

const FIN: u8 = 0x80;
const RSV1: u8 = 0x40;

// ---------------------------------------------------------------------------------------------
// Helpers: connections, feeding, frames, an independent inflater.
// ---------------------------------------------------------------------------------------------

fn agreed(params: DeflateParams, config: DeflateConfig) -> PerMessageDeflate {
    PerMessageDeflate::new(params, &config)
}

fn client_with(pmd: PerMessageDeflate, config: Config) -> Connection {
    Connection::new(Role::Client, config).with_key_source(KeySource::seeded(7)).with_deflate(pmd)
}

fn server_with(pmd: PerMessageDeflate, config: Config) -> Connection {
    Connection::new(Role::Server, config).with_deflate(pmd)
}

/// A client and a server with default parameters and `min_size` 0 (everything compressed).
fn pair() -> (Connection, Connection) {
    let pmd = agreed(DeflateParams::DEFAULT, DeflateConfig::new().min_size(0));
    (client_with(pmd, Config::new()), server_with(pmd, Config::new()))
}

/// Feeds all of `input` through `receive_into` until everything is consumed (returns `true`) or
/// an error (recorded in `fed`, returns `false`).
fn feed(conn: &mut Connection, input: &mut [u8], scratch: &mut [u8], fed: &mut Fed) -> bool {
    let total = input.len();
    let mut pos = 0;
    loop {
        match conn.receive_into(&mut input[pos..], scratch) {
            Ok(r) => {
                assert!(r.consumed <= total - pos, "consumed more than given");
                pos += r.consumed;
                fed.consumed += r.consumed;
                let Some(event) = r.event else {
                    assert_eq!(pos, total, "event None must mean all input was consumed");
                    assert!(!conn.has_pending_data(), "nothing may wait once the input is used up");
                    return true;
                };
                if let Event::Data { data, last, .. } = event {
                    // An event that neither consumes input, hands out data nor ends the
                    // message would let a receive loop spin.
                    assert!(r.consumed > 0 || !data.is_empty() || last, "an event without progress");
                }
                fed.events.push(Ev::from_event(&event));
            }
            Err(e) => {
                fed.error = Some(e);
                return false;
            }
        }
    }
}

/// Feeds a copy of `bytes` in chunks whose sizes cycle through `chunks` (all at once when
/// empty), with a scratch buffer of `scratch_len` bytes.
fn feed_chunks(conn: &mut Connection, bytes: &[u8], chunks: &[usize], scratch_len: usize) -> Fed {
    let mut buf = bytes.to_vec();
    let mut scratch = vec![0u8; scratch_len];
    let mut fed = Fed::default();
    let (mut start, mut i) = (0, 0);
    loop {
        let n = if chunks.is_empty() { buf.len() } else { chunks[i % chunks.len()].max(1) };
        i += 1;
        let end = (start + n).min(buf.len());
        if !feed(conn, &mut buf[start..end], &mut scratch, &mut fed) || end == buf.len() {
            return fed;
        }
        start = end;
    }
}

/// Feeds `bytes` cut in two at `cut`.
fn feed_split(conn: &mut Connection, bytes: &[u8], cut: usize, scratch_len: usize) -> Fed {
    let mut buf = bytes.to_vec();
    let mut scratch = vec![0u8; scratch_len];
    let mut fed = Fed::default();
    let (a, b) = buf.split_at_mut(cut);
    if feed(conn, a, &mut scratch, &mut fed) {
        feed(conn, b, &mut scratch, &mut fed);
    }
    fed
}

fn text(s: &str) -> Logical {
    Logical::Message(MessageKind::Text, s.as_bytes().to_vec())
}

/// Rebuilds unmasked frames as masked ones (what a client sends).
fn masked(wire: &[u8]) -> Vec<u8> {
    parse_frames(wire)
        .iter()
        .flat_map(|f| frame(u8::from(f.fin) << 7 | f.rsv << 4 | f.opcode, &f.payload, Some(KEY)))
        .collect()
}

/// Raw DEFLATE of `data` with a fresh context and a sync flush, trailer removed (what a peer
/// sends for one message).
fn deflate_raw(data: &[u8]) -> Vec<u8> {
    let mut out = deflate_sync(data, 6);
    out.truncate(out.len() - TRAILER.len());
    out
}

/// An independent DEFLATE decoder (after Mark Adler's puff.c, not zlib-rs) that checks what
/// is on the wire: every distance must stay within the sender's agreed window and within the
/// data the receiver has (the current message only, when the sender resets its context).
struct Checker {
    /// Output of earlier messages that distances may reach (the last 32 KiB).
    history: Vec<u8>,
    window: usize,
    reset_each_message: bool,
    /// The longest distance seen so far.
    max_distance: usize,
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u32,
    count: u32,
}

impl Bits<'_> {
    fn need(&mut self, n: u32) -> Result<u32, String> {
        while self.count < n {
            let &byte = self.data.get(self.pos).ok_or("compressed data ends in the middle of a block")?;
            self.pos += 1;
            self.buf |= u32::from(byte) << self.count;
            self.count += 8;
        }
        let v = self.buf & ((1u32 << n) - 1);
        self.buf >>= n;
        self.count -= n;
        Ok(v)
    }

    fn at_end(&self) -> bool {
        self.pos == self.data.len() && self.count < 8 && self.buf == 0
    }
}

/// A canonical Huffman code: how many codes of each length, and the symbols in code order.
struct Huffman {
    count: [u16; 16],
    symbol: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Self {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[usize::from(l)] += 1;
        }
        count[0] = 0;
        let mut offs = [0u16; 16];
        for len in 1..15 {
            offs[len + 1] = offs[len] + count[len];
        }
        let mut symbol = vec![0u16; lengths.len()];
        for (sym, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbol[usize::from(offs[usize::from(l)])] = sym as u16;
                offs[usize::from(l)] += 1;
            }
        }
        Self { count, symbol }
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Result<u16, String> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.need(1)? as i32;
            let count = i32::from(self.count[len]);
            if code - count < first {
                return Ok(self.symbol[(index + (code - first)) as usize]);
            }
            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }
        Err("invalid Huffman code".into())
    }
}

const LEN_BASE: [u16; 29] =
    [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] =
    [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

impl Checker {
    fn new(window_bits: u8, reset_each_message: bool) -> Self {
        Self { history: Vec::new(), window: 1 << window_bits, reset_each_message, max_distance: 0 }
    }

    /// Inflates one message's payload (the trailer is appended here).
    fn message(&mut self, payload: &[u8]) -> Result<Vec<u8>, String> {
        let mut input = payload.to_vec();
        input.extend_from_slice(&TRAILER);
        let keep = self.history.len().saturating_sub(32 * 1024);
        self.history.drain(..keep);
        let start = self.history.len();
        let mut bits = Bits { data: &input, pos: 0, buf: 0, count: 0 };
        while !bits.at_end() {
            if bits.need(1)? == 1 {
                return Err("a final block (a sender that flushes never writes one)".into());
            }
            match bits.need(2)? {
                0 => self.stored(&mut bits)?,
                1 => {
                    let mut lengths = [8u8; 288];
                    lengths[144..256].fill(9);
                    lengths[256..280].fill(7);
                    self.codes(&mut bits, &Huffman::new(&lengths), &Huffman::new(&[5; 30]), start)?;
                }
                2 => {
                    let (lit, dist) = Self::dynamic_tables(&mut bits)?;
                    self.codes(&mut bits, &lit, &dist, start)?;
                }
                _ => return Err("reserved block type".into()),
            }
        }
        let out = self.history[start..].to_vec();
        if self.reset_each_message {
            self.history.clear();
        }
        Ok(out)
    }

    fn stored(&mut self, bits: &mut Bits<'_>) -> Result<(), String> {
        bits.buf = 0;
        bits.count = 0;
        let header = bits.data.get(bits.pos..bits.pos + 4).ok_or("stored block header cut short")?;
        let len = u16::from_le_bytes([header[0], header[1]]);
        if len != !u16::from_le_bytes([header[2], header[3]]) {
            return Err("stored block lengths do not match".into());
        }
        bits.pos += 4;
        let data = bits.data.get(bits.pos..bits.pos + usize::from(len)).ok_or("stored block cut short")?;
        self.history.extend_from_slice(data);
        bits.pos += usize::from(len);
        Ok(())
    }

    fn dynamic_tables(bits: &mut Bits<'_>) -> Result<(Huffman, Huffman), String> {
        const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
        let nlen = bits.need(5)? as usize + 257;
        let ndist = bits.need(5)? as usize + 1;
        let ncode = bits.need(4)? as usize + 4;
        let mut code_lengths = [0u8; 19];
        for &i in &ORDER[..ncode] {
            code_lengths[i] = bits.need(3)? as u8;
        }
        let code = Huffman::new(&code_lengths);
        let mut lengths = Vec::with_capacity(nlen + ndist);
        while lengths.len() < nlen + ndist {
            let sym = code.decode(bits)?;
            let (value, repeat) = match sym {
                0..=15 => (sym as u8, 1),
                16 => (*lengths.last().ok_or("repeat with no length")?, 3 + bits.need(2)?),
                17 => (0, 3 + bits.need(3)?),
                _ => (0, 11 + bits.need(7)?),
            };
            lengths.extend(std::iter::repeat_n(value, repeat as usize));
        }
        if lengths.len() != nlen + ndist {
            return Err("code lengths overflow".into());
        }
        Ok((Huffman::new(&lengths[..nlen]), Huffman::new(&lengths[nlen..])))
    }

    fn codes(&mut self, bits: &mut Bits<'_>, lit: &Huffman, dist: &Huffman, start: usize) -> Result<(), String> {
        loop {
            let sym = usize::from(lit.decode(bits)?);
            match sym {
                0..=255 => self.history.push(sym as u8),
                256 => return Ok(()),
                257..=285 => {
                    let i = sym - 257;
                    let len = usize::from(LEN_BASE[i]) + bits.need(u32::from(LEN_EXTRA[i]))? as usize;
                    let d = usize::from(dist.decode(bits)?);
                    if d >= 30 {
                        return Err("invalid distance code".into());
                    }
                    let distance = usize::from(DIST_BASE[d]) + bits.need(u32::from(DIST_EXTRA[d]))? as usize;
                    if distance > self.window {
                        return Err(format!("distance {distance} beyond the agreed window of {}", self.window));
                    }
                    let reachable =
                        if self.reset_each_message { self.history.len() - start } else { self.history.len() };
                    if distance > reachable {
                        return Err(format!("distance {distance} reaches before the data ({reachable} bytes)"));
                    }
                    self.max_distance = self.max_distance.max(distance);
                    for _ in 0..len {
                        let b = self.history[self.history.len() - distance];
                        self.history.push(b);
                    }
                }
                _ => return Err("invalid literal/length code".into()),
            }
        }
    }
}

/// JSON-like text of about `len` bytes (compressible, but not trivially).
fn json_like(len: usize, seed: u64) -> String {
    let mut rng = Rng(seed | 1);
    let mut s = String::from("[");
    while s.len() < len {
        let id = rng.below(100_000);
        s.push_str(&format!(
            "{{\"id\":{id},\"name\":\"user_{}\",\"active\":{},\"score\":{}.{}}},",
            rng.below(1000),
            rng.below(2) == 0,
            rng.below(100),
            rng.below(10)
        ));
    }
    s.truncate(len);
    s
}

// ---------------------------------------------------------------------------------------------
// RFC 7692 §7.2.3 examples.
// ---------------------------------------------------------------------------------------------

const HELLO: &[u8] = &[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
const HELLO_AGAIN: &[u8] = &[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00];
const HELLO_FRAGMENTED: &[u8] = &[0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00];
const HELLO_STORED: &[u8] = &[0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00];
const HELLO_BFINAL: &[u8] = &[0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];

struct Example {
    name: &'static str,
    /// Fed first, whole (the context the example relies on).
    before: Vec<u8>,
    /// Fed cut in two at every position.
    input: Vec<u8>,
    expected: Vec<Logical>,
}

fn examples() -> Vec<Example> {
    let cat = |parts: &[&[u8]]| parts.concat();
    vec![
        Example { name: "single frame", before: vec![], input: HELLO.to_vec(), expected: vec![text("Hello")] },
        Example {
            name: "context takeover",
            before: HELLO.to_vec(),
            input: HELLO_AGAIN.to_vec(),
            expected: vec![text("Hello")],
        },
        Example {
            name: "both messages of the context takeover example",
            before: vec![],
            input: cat(&[HELLO, HELLO_AGAIN]),
            expected: vec![text("Hello"), text("Hello")],
        },
        Example { name: "fragmented", before: vec![], input: HELLO_FRAGMENTED.to_vec(), expected: vec![text("Hello")] },
        Example {
            name: "fragmented with a Ping between the fragments",
            before: vec![],
            input: cat(&[&HELLO_FRAGMENTED[..5], &[0x89, 0x01, b'x'], &HELLO_FRAGMENTED[5..]]),
            expected: vec![Logical::Ping(b"x".to_vec()), text("Hello")],
        },
        Example { name: "stored block", before: vec![], input: HELLO_STORED.to_vec(), expected: vec![text("Hello")] },
        Example {
            name: "BFINAL block, then a further compressed message",
            before: vec![],
            input: cat(&[HELLO_BFINAL, HELLO, HELLO_AGAIN]),
            expected: vec![text("Hello"), text("Hello"), text("Hello")],
        },
    ]
}

#[test]
fn rfc7692_examples_in_every_split_and_scratch_size() {
    for ex in examples() {
        for role in [Role::Client, Role::Server] {
            // A client reads the examples as they are; a server reads them masked.
            let (before, input) = match role {
                Role::Client => (ex.before.clone(), ex.input.clone()),
                _ => (masked(&ex.before), masked(&ex.input)),
            };
            for scratch in [1, 2, 3, 64] {
                for cut in 0..=input.len() {
                    let (mut client, mut server) = pair();
                    let conn = if role == Role::Client { &mut client } else { &mut server };
                    let prelude = feed_chunks(conn, &before, &[], scratch).ok();
                    assert_eq!(logical(&prelude).len(), usize::from(!before.is_empty()));
                    let fed = feed_split(conn, &input, cut, scratch);
                    let events = fed.ok();
                    assert_eq!(logical(&events), ex.expected, "{} ({role:?}, scratch {scratch}, cut {cut})", ex.name);
                    for e in &events {
                        if let Ev::Data { data, kind, .. } = e {
                            assert!(data.len() <= scratch, "{}: piece longer than the scratch buffer", ex.name);
                            assert_eq!(*kind, MessageKind::Text);
                        }
                    }
                    // The connection is still healthy, and answers the Ping if one came.
                    assert_eq!(conn.error(), None);
                    let pinged = ex.expected.iter().any(|m| matches!(m, Logical::Ping(_)));
                    assert_eq!(conn.wants_transmit(), pinged);
                }
            }
        }
    }
}

#[test]
fn a_small_message_with_a_large_scratch_is_one_event() {
    let (mut client, _) = pair();
    let events = feed_chunks(&mut client, HELLO, &[], 64).ok();
    assert_eq!(events, [Ev::Data { kind: MessageKind::Text, data: b"Hello".to_vec(), first: true, last: true }]);
}

#[test]
fn the_end_of_a_message_can_wait_for_an_empty_input() {
    // "Hello" fills a 5-byte scratch buffer exactly: the message's end (an empty last piece)
    // is handed out by a further call, which needs no input.
    let (mut client, _) = pair();
    let mut input = HELLO.to_vec();
    let mut scratch = [0u8; 5];
    let r = client.receive_into(&mut input, &mut scratch).unwrap();
    assert_eq!(r.consumed, HELLO.len());
    assert_eq!(
        r.event,
        Some(Event::Data { kind: MessageKind::Text, data: b"Hello", first: true, last: false, text: None })
    );
    assert!(client.has_pending_data());
    let r = client.receive_into(&mut [], &mut scratch).unwrap();
    assert_eq!(r.consumed, 0);
    assert_eq!(r.event, Some(Event::Data { kind: MessageKind::Text, data: b"", first: false, last: true, text: None }));
    assert!(!client.has_pending_data());
    let r = client.receive_into(&mut [], &mut scratch).unwrap();
    assert_eq!((r.consumed, r.event), (0, None));
}

#[test]
fn our_encoder_matches_the_rfc_examples() {
    // A server (unmasked output) compressing "Hello" twice with context takeover: zlib's
    // output differs from the RFC's bytes, but our own and flate2's inflaters must agree.
    let (mut client, mut server) = pair();
    let mut wire = Vec::new();
    server.send_text("Hello", &mut wire).unwrap();
    let first_len = wire.len();
    server.send_text("Hello", &mut wire).unwrap();
    let frames = parse_frames(&wire);
    assert_eq!(frames.len(), 2);
    assert!(frames.iter().all(|f| f.fin && f.rsv == 4 && f.opcode == 1 && f.mask.is_none()));
    let mut checker = Checker::new(15, false);
    assert_eq!(checker.message(&frames[0].payload).unwrap(), b"Hello");
    assert_eq!(checker.message(&frames[1].payload).unwrap(), b"Hello");
    assert!(wire.len() - first_len < first_len, "the second Hello refers to the first");
    let got = logical(&feed_chunks(&mut client, &wire, &[], 16).ok());
    assert_eq!(got, [text("Hello"), text("Hello")]);
}

// ---------------------------------------------------------------------------------------------
// Random round trips.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Spec {
    kind: MessageKind,
    len: usize,
    compressible: bool,
    seed: u64,
}

fn content(spec: &Spec) -> Vec<u8> {
    let mut rng = Rng(spec.seed | 1);
    match (spec.kind, spec.compressible) {
        (MessageKind::Text, true) => {
            const WORDS: [&str; 12] = [
                "the ",
                "quick ",
                "brown ",
                "fox ",
                "héllo ",
                "wörld ",
                "€uro ",
                "日本語 ",
                "🦀 ",
                "{\"id\": ",
                "\"name\": ",
                "ünïcödé ",
            ];
            let mut s = String::new();
            while s.len() < spec.len {
                s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
            }
            while s.len() > spec.len {
                s.pop();
            }
            s.into_bytes()
        }
        (MessageKind::Text, false) => {
            let mut s = String::new();
            loop {
                let (lo, hi) =
                    [(0x20, 0x7f), (0x80, 0x800), (0x800, 0xd800), (0xe000, 0x1_0000), (0x1_0000, 0x11_0000)]
                        [rng.below(5) as usize];
                let c = char::from_u32(lo + rng.below(u64::from(hi - lo)) as u32).unwrap();
                if s.len() + c.len_utf8() > spec.len {
                    break;
                }
                s.push(c);
            }
            s.into_bytes()
        }
        (MessageKind::Binary, true) => {
            let mut v = Vec::with_capacity(spec.len);
            while v.len() < spec.len {
                if v.len() > 16 && rng.below(2) == 0 {
                    // Repeat an earlier stretch.
                    let from = rng.below(v.len() as u64 - 8) as usize;
                    let n = (8 + rng.below(64) as usize).min(v.len() - from);
                    v.extend_from_within(from..from + n);
                } else {
                    let b = rng.next() as u8;
                    v.extend(std::iter::repeat_n(b, 1 + rng.below(20) as usize));
                }
            }
            v.truncate(spec.len);
            v
        }
        (MessageKind::Binary, false) => (0..spec.len).map(|_| rng.next() as u8).collect(),
    }
}

fn spec() -> impl Strategy<Value = Spec> {
    let len = prop_oneof![1 => Just(0usize), 6 => 0usize..300, 3 => 300usize..8192, 1 => 8192usize..200 * 1024];
    (any::<bool>(), len, any::<bool>(), any::<u64>()).prop_map(|(is_text, len, compressible, seed)| Spec {
        kind: if is_text { MessageKind::Text } else { MessageKind::Binary },
        len,
        compressible,
        seed,
    })
}

#[derive(Clone, Debug)]
struct Setup {
    params: DeflateParams,
    level: u32,
    min_size: usize,
    max_outgoing_frame: usize,
}

fn setup() -> impl Strategy<Value = Setup> {
    use proptest::sample::select;
    (
        any::<bool>(),
        any::<bool>(),
        select(vec![9u8, 12, 15]),
        select(vec![9u8, 12, 15]),
        select(vec![0u32, 1, 6, 9]),
        select(vec![0usize, 1, 64, 1000]),
        select(vec![1usize << 20, 16_384, 1000, 125]),
    )
        .prop_map(|(snct, cnct, sbits, cbits, level, min_size, max_outgoing_frame)| Setup {
            params: DeflateParams {
                server_no_context_takeover: snct,
                client_no_context_takeover: cnct,
                server_max_window_bits: sbits,
                client_max_window_bits: cbits,
            },
            level,
            min_size,
            max_outgoing_frame,
        })
}

fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![1usize..8, 8usize..1500, 1500usize..70_000], 1..6)
}

fn scratch_size() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..16, 16usize..4096, 4096usize..70_000]
}

/// Sends `messages` from `sender` and checks the wire frame by frame, then feeds it to
/// `receiver` and checks the messages that come out.
#[allow(clippy::too_many_arguments)]
fn one_direction(
    sender: &mut Connection,
    receiver: &mut Connection,
    checker: &mut Checker,
    min_size: usize,
    messages: &[(MessageKind, Vec<u8>)],
    chunks: &[usize],
    scratch: usize,
) {
    let mut wire = Vec::new();
    for (kind, data) in messages {
        let start = wire.len();
        match kind {
            MessageKind::Text => sender.send_text(std::str::from_utf8(data).unwrap(), &mut wire).unwrap(),
            MessageKind::Binary => sender.send_binary(data, &mut wire).unwrap(),
        }
        let frames = parse_frames(&wire[start..]);
        let compressed = data.len() >= min_size;
        let opcode = if *kind == MessageKind::Text { 1 } else { 2 };
        assert_eq!(frames[0].opcode, opcode);
        assert_eq!(frames[0].rsv, if compressed { 4 } else { 0 }, "RSV1 iff {} >= min_size {min_size}", data.len());
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(f.fin, i + 1 == frames.len());
            assert_eq!(f.mask.is_some(), sender.role() == Role::Client);
            if i > 0 {
                assert_eq!((f.opcode, f.rsv), (0, 0), "continuation frames have opcode 0 and RSV1 clear");
            }
            let max = sender.config().max_outgoing_frame;
            assert!(f.payload.len() <= max);
        }
        let payload: Vec<u8> = frames.iter().flat_map(|f| f.payload.iter().copied()).collect();
        if compressed {
            assert!(payload.len() <= data.len() + 5 * data.len().div_ceil(0xffff) + 1, "never above stored blocks");
            assert_eq!(&checker.message(&payload).unwrap(), data, "the independent inflater disagrees");
        } else {
            assert_eq!(&payload, data);
        }
    }
    let fed = feed_chunks(receiver, &wire, chunks, scratch);
    assert_eq!(fed.consumed, wire.len());
    let got = logical(&fed.ok());
    let want: Vec<Logical> = messages.iter().map(|(k, d)| Logical::Message(*k, d.clone())).collect();
    assert_eq!(got.len(), want.len(), "message count");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(g == w, "message {i} differs");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, max_shrink_iters: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_round_trips(
        setup in setup(),
        specs in prop::collection::vec(spec(), 1..6),
        chunks in chunk_sizes(),
        scratch in scratch_size(),
    ) {
        let messages: Vec<(MessageKind, Vec<u8>)> = specs.iter().map(|s| (s.kind, content(s))).collect();
        let deflate = DeflateConfig::new().level(setup.level).min_size(setup.min_size);
        let pmd = agreed(setup.params, deflate);
        let config = Config::new().max_outgoing_frame(setup.max_outgoing_frame);
        let mut client = client_with(pmd, config);
        let mut server = server_with(pmd, config);
        let p = setup.params;

        let mut checker = Checker::new(p.client_max_window_bits, p.client_no_context_takeover);
        one_direction(&mut client, &mut server, &mut checker, setup.min_size, &messages, &chunks, scratch);
        let mut checker = Checker::new(p.server_max_window_bits, p.server_no_context_takeover);
        one_direction(&mut server, &mut client, &mut checker, setup.min_size, &messages, &chunks, scratch);
    }
}

#[test]
fn the_checker_catches_a_too_large_window_and_our_compressor_keeps_to_its_window() {
    // Data that repeats at a distance of 4000 bytes, compressed with a 15-bit window, is
    // refused by a 9-bit checker: the window assertions above mean something.
    let spec = Spec { kind: MessageKind::Binary, len: 4000, compressible: false, seed: 5 };
    let block = content(&spec);
    let data = [&block[..], &block[..], &block[..]].concat();
    let payload = deflate_raw(&data);
    assert!(payload.len() < 6000);
    let err = Checker::new(9, false).message(&payload).unwrap_err();
    assert!(err.contains("beyond the agreed window"), "{err}");
    let mut wide = Checker::new(15, false);
    assert_eq!(wide.message(&payload).unwrap(), data);
    assert!(wide.max_distance >= 4000);

    // Our compressor, for each window size: the data round trips through the checker with
    // that window, and a window large enough for the repeats is used.
    for bits in 9..=15u8 {
        let mut params = DeflateParams::DEFAULT;
        params.server_max_window_bits = bits;
        let mut server = server_with(agreed(params, DeflateConfig::new()), Config::new());
        let mut wire = Vec::new();
        server.send_binary(&data, &mut wire).unwrap();
        let frames = parse_frames(&wire);
        let mut checker = Checker::new(bits, false);
        assert_eq!(checker.message(&frames[0].payload).unwrap(), data, "window {bits}");
        assert!(checker.max_distance <= 1 << bits);
        if 1 << bits > 4000 + 262 {
            assert!(checker.max_distance >= 4000, "window {bits} reaches the repeats");
            assert!(frames[0].payload.len() < 6000);
        } else {
            assert!(frames[0].payload.len() > 12_000, "window {bits} cannot reach the repeats");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What goes on the wire.
// ---------------------------------------------------------------------------------------------

#[test]
fn messages_below_min_size_go_uncompressed() {
    let pmd = agreed(DeflateParams::DEFAULT, DeflateConfig::new().min_size(100));
    let mut client = client_with(pmd, Config::new());
    let mut server = server_with(pmd, Config::new());
    let below = "a".repeat(99);
    let at = "a".repeat(100);
    for sender_is_client in [true, false] {
        let (sender, receiver) = if sender_is_client { (&mut client, &mut server) } else { (&mut server, &mut client) };
        let mut wire = Vec::new();
        sender.send_text(&below, &mut wire).unwrap();
        assert_eq!(wire[0], 0x81, "below min_size: FIN, RSV1 clear, text");
        assert_eq!(wire[1] & 0x7f, 99);
        let n = wire.len();
        sender.send_text(&at, &mut wire).unwrap();
        assert_eq!(wire[n], 0xc1, "at min_size: FIN, RSV1, text");
        assert!(wire.len() - n < 20, "100 'a's compress to a few bytes");
        let m = wire.len();
        sender.send_binary(&[7; 99], &mut wire).unwrap();
        assert_eq!(wire[m], 0x82);
        let k = wire.len();
        sender.send_binary(&[7; 1000], &mut wire).unwrap();
        assert_eq!(wire[k], 0xc2);
        // Streamed messages are never compressed, whatever their size.
        let s = wire.len();
        sender.send_fragment(MessageKind::Binary, &[1; 500], false, &mut wire).unwrap();
        sender.send_fragment(MessageKind::Binary, &[2; 500], true, &mut wire).unwrap();
        assert_eq!(wire[s], 0x02);
        let got = logical(&feed_chunks(receiver, &wire, &[], 1024).ok());
        let mut streamed = vec![1u8; 500];
        streamed.extend_from_slice(&[2; 500]);
        assert_eq!(
            got,
            [
                text(&below),
                text(&at),
                Logical::Message(MessageKind::Binary, vec![7; 99]),
                Logical::Message(MessageKind::Binary, vec![7; 1000]),
                Logical::Message(MessageKind::Binary, streamed),
            ]
        );
    }
}

#[test]
fn empty_messages_compress_and_round_trip() {
    let (mut client, mut server) = pair();
    let mut wire = Vec::new();
    server.send_text("", &mut wire).unwrap();
    server.send_binary(b"", &mut wire).unwrap();
    server.send_text("after the empty ones", &mut wire).unwrap();
    server.send_text("", &mut wire).unwrap();
    let frames = parse_frames(&wire);
    assert!(frames.iter().all(|f| f.rsv == 4 && f.fin));
    // An empty message is an empty stored block without its trailer (RFC 7692 §7.2.3.6),
    // also after earlier messages have been flushed.
    for i in [0, 1, 3] {
        assert_eq!(frames[i].payload, [0x00], "message {i}");
    }
    for scratch in [1, 7, 64] {
        let (mut client2, _) = pair();
        let got = logical(&feed_chunks(&mut client2, &wire, &[1], scratch).ok());
        assert_eq!(
            got,
            [text(""), Logical::Message(MessageKind::Binary, vec![]), text("after the empty ones"), text(""),]
        );
    }
    let got = logical(&feed_chunks(&mut client, &wire, &[], 64).ok());
    assert_eq!(got.len(), 4);
}

#[test]
fn split_compressed_messages_carry_rsv1_on_the_first_frame_only() {
    let pmd = agreed(DeflateParams::DEFAULT, DeflateConfig::new());
    let config = Config::new().max_outgoing_frame(100);
    let mut client = client_with(pmd, config);
    let mut server = server_with(pmd, config);
    let random = content(&Spec { kind: MessageKind::Binary, len: 5000, compressible: false, seed: 3 });
    let json = json_like(20_000, 4);
    for sender_is_client in [true, false] {
        let (sender, receiver) = if sender_is_client { (&mut client, &mut server) } else { (&mut server, &mut client) };
        let mut wire = Vec::new();
        sender.send_binary(&random, &mut wire).unwrap();
        let split = wire.len();
        sender.send_text(&json, &mut wire).unwrap();
        let mut checker = Checker::new(15, false);
        for (range, opcode, data) in [(0..split, 2, &random[..]), (split..wire.len(), 1, json.as_bytes())] {
            let frames = parse_frames(&wire[range]);
            assert!(frames.len() > 2, "split into several frames");
            assert_eq!((frames[0].opcode, frames[0].rsv, frames[0].fin), (opcode, 4, false));
            for f in &frames[1..] {
                assert_eq!((f.opcode, f.rsv), (0, 0), "continuation frames have RSV1 clear");
                assert!(f.payload.len() <= 100);
            }
            assert!(frames.last().unwrap().fin);
            assert!(frames[..frames.len() - 1].iter().all(|f| !f.fin && f.payload.len() == 100));
            let payload: Vec<u8> = frames.iter().flat_map(|f| f.payload.clone()).collect();
            assert_eq!(checker.message(&payload).unwrap(), data);
        }
        for scratch in [1, 100, 70_000] {
            let (mut c, mut s) = (client_with(pmd, config), server_with(pmd, config));
            let fresh = if sender_is_client { &mut s } else { &mut c };
            let got = logical(&feed_chunks(fresh, &wire, &[33, 1, 200], scratch).ok());
            assert_eq!(got, [Logical::Message(MessageKind::Binary, random.clone()), text(&json)]);
        }
        let got = logical(&feed_chunks(receiver, &wire, &[], 4096).ok());
        assert_eq!(got.len(), 2);
    }
}

#[test]
fn control_frames_between_the_frames_of_a_compressed_message() {
    let pmd = agreed(DeflateParams::DEFAULT, DeflateConfig::new());
    let config = Config::new().max_outgoing_frame(64);
    let mut server = server_with(pmd, config);
    let json = json_like(3000, 9);
    let mut wire = Vec::new();
    server.send_text(&json, &mut wire).unwrap();
    server.send_text(&json, &mut wire).unwrap();
    let frames = parse_frames(&wire);
    assert!(frames.len() > 6);
    // Put a Ping after the first frame, a Pong after the third, and a Ping before the last
    // frame of the first message.
    let first_msg_end = frames.iter().position(|f| f.fin).unwrap();
    assert!(first_msg_end > 3, "the first message takes more than four frames");
    let mut interleaved = Vec::new();
    let mut expected_controls = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        if i == 1 || i == first_msg_end {
            interleaved.extend(frame(0x89, &[i as u8], None));
            expected_controls.push(Logical::Ping(vec![i as u8]));
        }
        if i == 3 {
            interleaved.extend(frame(0x8a, b"pong", None));
            expected_controls.push(Logical::Pong(b"pong".to_vec()));
        }
        interleaved.extend(frame(u8::from(f.fin) << 7 | f.rsv << 4 | f.opcode, &f.payload, None));
    }
    for (chunks, scratch) in [(vec![], 4096), (vec![1], 1), (vec![5, 17], 3), (vec![64], 100)] {
        let pmd_c = agreed(DeflateParams::DEFAULT, DeflateConfig::new());
        let mut client = client_with(pmd_c, Config::new());
        let got = logical(&feed_chunks(&mut client, &interleaved, &chunks, scratch).ok());
        let mut want = expected_controls.clone();
        want.insert(3, text(&json));
        want.push(text(&json));
        // The second Ping comes before the first message ends, the Pong before too.
        assert_eq!(got, want, "chunks {chunks:?}, scratch {scratch}");
        // The latest Ping is answered.
        let mut out = Vec::new();
        client.poll_transmit(&mut out).unwrap();
        let pongs = parse_frames(&out);
        assert_eq!(pongs.len(), 1);
        assert_eq!((pongs[0].opcode, pongs[0].payload.clone()), (0xa, vec![first_msg_end as u8]));
    }
}

#[test]
fn context_takeover_makes_a_repeated_message_smaller() {
    let msg = json_like(2000, 21);
    for role in [Role::Client, Role::Server] {
        let sizes = |params: DeflateParams| {
            let pmd = agreed(params, DeflateConfig::new());
            let mut sender = match role {
                Role::Client => client_with(pmd, Config::new()),
                _ => server_with(pmd, Config::new()),
            };
            let mut receiver = match role {
                Role::Client => server_with(pmd, Config::new()),
                _ => client_with(pmd, Config::new()),
            };
            let mut wire = Vec::new();
            sender.send_text(&msg, &mut wire).unwrap();
            sender.send_text(&msg, &mut wire).unwrap();
            let frames = parse_frames(&wire);
            assert_eq!(frames.len(), 2);
            let got = logical(&feed_chunks(&mut receiver, &wire, &[], 512).ok());
            assert_eq!(got, [text(&msg), text(&msg)]);
            (frames[0].payload.clone(), frames[1].payload.clone())
        };
        let (first, second) = sizes(DeflateParams::DEFAULT);
        assert!(first.len() < msg.len());
        assert!(second.len() * 10 < first.len(), "{role:?}: {} then {}", first.len(), second.len());

        let mut no_takeover = DeflateParams::DEFAULT;
        match role {
            Role::Client => no_takeover.client_no_context_takeover = true,
            _ => no_takeover.server_no_context_takeover = true,
        }
        let (first, second) = sizes(no_takeover);
        assert_eq!(first.len(), second.len(), "{role:?}");
        assert_eq!(first, second, "{role:?}: each message starts from an empty context");

        // The other side's flag does not change how this side compresses.
        let mut other = DeflateParams::DEFAULT;
        match role {
            Role::Client => other.server_no_context_takeover = true,
            _ => other.client_no_context_takeover = true,
        }
        let (first, second) = sizes(other);
        assert!(second.len() * 10 < first.len(), "{role:?}");
    }
}

#[test]
fn a_slice_buf_too_small_for_the_bound_refuses_without_advancing_the_context() {
    let pmd = agreed(DeflateParams::DEFAULT, DeflateConfig::new());
    let msg = json_like(4096, 11);
    let other = json_like(4096, 12);

    // What a server writes for `msg` then `other`, into a Vec.
    let mut reference = server_with(pmd, Config::new());
    let (mut ref_a, mut ref_b) = (Vec::new(), Vec::new());
    reference.send_text(&msg, &mut ref_a).unwrap();
    reference.send_text(&msg, &mut ref_b).unwrap();
    reference.send_text(&other, &mut ref_b).unwrap();
    assert!(ref_a.len() < msg.len() / 2);

    let mut server = server_with(pmd, Config::new());
    // Room for the compressed frame, but not for the worst case.
    let mut storage = vec![0u8; ref_a.len()];
    let mut out = SliceBuf::new(&mut storage);
    let required = match server.send_text(&msg, &mut out) {
        Err(Error::BufferTooSmall(BufferTooSmall { required })) => required,
        other => panic!("{other:?}"),
    };
    assert!(out.is_empty(), "nothing written");
    assert!(required > msg.len(), "the bound covers incompressible data: {required}");
    // Again: the same answer, still nothing written.
    assert_eq!(server.send_text(&msg, &mut out), Err(Error::BufferTooSmall(BufferTooSmall { required })));
    assert!(out.is_empty());
    let mut storage = vec![0u8; required - 1];
    let mut out = SliceBuf::new(&mut storage);
    assert_eq!(server.send_text(&msg, &mut out), Err(Error::BufferTooSmall(BufferTooSmall { required })));
    assert!(out.is_empty());

    // With the required space: exactly what the reference wrote, so the context did not move.
    let mut storage = vec![0u8; required];
    let mut out = SliceBuf::new(&mut storage);
    server.send_text(&msg, &mut out).unwrap();
    assert_eq!(out.filled(), &ref_a[..]);
    let mut rest = Vec::new();
    server.send_text(&msg, &mut rest).unwrap();
    server.send_text(&other, &mut rest).unwrap();
    assert_eq!(rest, ref_b);

    // And the peer reads all three.
    let mut wire = ref_a.clone();
    wire.extend_from_slice(&rest);
    let (mut client, _) = pair();
    let got = logical(&feed_chunks(&mut client, &wire, &[], 300).ok());
    assert_eq!(got, [text(&msg), text(&msg), text(&other)]);

    // A client: refused sends draw no masking key and leave the context alone; the server
    // decodes what follows (a moved context would make the second message refer to bytes the
    // server never saw).
    let mut client = client_with(pmd, Config::new());
    let mut storage = vec![0u8; 64];
    let mut out = SliceBuf::new(&mut storage);
    assert!(matches!(client.send_text(&msg, &mut out), Err(Error::BufferTooSmall(_))));
    let mut wire = Vec::new();
    client.send_text(&msg, &mut wire).unwrap();
    assert!(matches!(client.send_text(&other, &mut out), Err(Error::BufferTooSmall(_))));
    client.send_text(&msg, &mut wire).unwrap();
    client.send_text(&other, &mut wire).unwrap();
    let mut server = server_with(pmd, Config::new());
    let got = logical(&feed_chunks(&mut server, &wire, &[], 1000).ok());
    assert_eq!(got, [text(&msg), text(&msg), text(&other)]);
    let mut checker = Checker::new(15, false);
    for f in parse_frames(&wire) {
        checker.message(&f.payload).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Receive errors.
// ---------------------------------------------------------------------------------------------

/// The Close frame the connection queued, as (code) — parsed from `poll_transmit`'s output.
fn queued_close(conn: &mut Connection) -> Option<u16> {
    let mut out = Vec::new();
    conn.poll_transmit(&mut out).unwrap();
    let frames = parse_frames(&out);
    assert_eq!(frames.len(), 1, "one Close frame");
    assert_eq!(frames[0].opcode, 8);
    let p = &frames[0].payload;
    (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]]))
}

/// A compressed text message carrying `bytes` (need not be UTF-8), as a server sends it
/// (unmasked) or a client sends it (masked).
fn compressed_text(bytes: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    frame(FIN | RSV1 | 1, &deflate_raw(bytes), mask)
}

#[test]
fn invalid_utf8_is_found_after_inflating() {
    // (message, offset of the first bad byte)
    let mut cases: Vec<(Vec<u8>, u64)> = Vec::new();
    for prefix in [0usize, 1, 2, 3, 5, 100, 1000] {
        let mut head = "aé€🦀".repeat(prefix / 10 + 1).into_bytes();
        head.truncate((0..=prefix.min(head.len())).rev().find(|&n| std::str::from_utf8(&head[..n]).is_ok()).unwrap());
        let at = head.len() as u64;
        // A continuation byte missing in a 3-byte sequence.
        cases.push(([&head[..], &[0xe2, 0x82, 0x28], b"tail".as_slice()].concat(), at));
        // A byte that is never valid.
        cases.push(([&head[..], &[0xff], b"tail".as_slice()].concat(), at));
        // A surrogate.
        cases.push(([&head[..], &[0xed, 0xa0, 0x80]].concat(), at));
        // An unfinished sequence at the end of the message.
        cases.push(([&head[..], &[0xf0, 0x9f, 0xa6]].concat(), at));
    }
    for (bytes, offset) in &cases {
        for role in [Role::Client, Role::Server] {
            let wire = compressed_text(bytes, (role == Role::Server).then_some(KEY));
            for scratch in [1, 2, 3, 4, 5, 7, 64, 4096] {
                for chunks in [vec![], vec![1], vec![3, 2]] {
                    let (mut client, mut server) = pair();
                    let conn = if role == Role::Client { &mut client } else { &mut server };
                    let fed = feed_chunks(conn, &wire, &chunks, scratch);
                    let err = fed.err();
                    assert_eq!(err, Error::InvalidUtf8 { offset: *offset }, "{bytes:x?} scratch {scratch}");
                    assert_eq!(err.close_code().map(|c| c.0), Some(1007));
                    // Only text before the bad sequence was handed out, plus at most the
                    // valid start of that sequence (it could still have been finished).
                    let handed: Vec<u8> = fed
                        .events
                        .iter()
                        .flat_map(|e| if let Ev::Data { data, .. } = e { data.clone() } else { vec![] })
                        .collect();
                    assert!(handed.len() as u64 <= *offset + 3, "{} bytes handed out", handed.len());
                    assert_eq!(handed, bytes[..handed.len()]);
                    assert_eq!(queued_close(conn), Some(1007));
                    assert_eq!(conn.error(), Some(err));
                }
            }
        }
    }
}

#[test]
fn multi_byte_characters_split_by_the_scratch_buffer_are_fine() {
    let msg = "é€🦀ab🦀".repeat(50);
    for scratch in 1..=9 {
        let (mut client, _) = pair();
        let got = logical(&feed_chunks(&mut client, &compressed_text(msg.as_bytes(), None), &[], scratch).ok());
        assert_eq!(got, [text(&msg)]);
    }
}

#[test]
fn rsv1_on_a_continuation_frame_is_refused() {
    for role in [Role::Client, Role::Server] {
        let mask = (role == Role::Server).then_some(KEY);
        let cases = [
            // The RFC's fragmented example with RSV1 on the continuation too.
            [frame(RSV1 | 1, &[0xf2, 0x48, 0xcd], mask), frame(FIN | RSV1, &[0xc9, 0xc9, 0x07, 0x00], mask)].concat(),
            // An uncompressed fragmented message with RSV1 on its continuation.
            [frame(1, b"Hel", mask), frame(FIN | RSV1, b"lo", mask)].concat(),
        ];
        for wire in cases {
            let (mut client, mut server) = pair();
            let conn = if role == Role::Client { &mut client } else { &mut server };
            let fed = feed_chunks(conn, &wire, &[], 64);
            assert_eq!(fed.err(), Error::Protocol(ProtocolViolation::ReservedBits));
            assert_eq!(queued_close(conn), Some(1002));
        }
    }
}

#[test]
fn rsv1_on_a_control_frame_is_refused() {
    for role in [Role::Client, Role::Server] {
        let mask = (role == Role::Server).then_some(KEY);
        for b0 in [FIN | RSV1 | 0x9, FIN | RSV1 | 0xa, FIN | RSV1 | 0x8] {
            let payload: &[u8] = if b0 & 0xf == 8 { &[0x03, 0xe8] } else { b"x" };
            let (mut client, mut server) = pair();
            let conn = if role == Role::Client { &mut client } else { &mut server };
            let fed = feed_chunks(conn, &frame(b0, payload, mask), &[], 64);
            assert_eq!(fed.err(), Error::Protocol(ProtocolViolation::ReservedBits), "{b0:#x}");
            assert!(fed.events.is_empty());
            assert_eq!(queued_close(conn), Some(1002));
        }
    }
}

#[test]
fn rsv1_without_deflate_is_refused() {
    for role in [Role::Client, Role::Server] {
        let mut conn = Connection::new(role, Config::new()).with_key_source(KeySource::seeded(1));
        let wire = if role == Role::Client { HELLO.to_vec() } else { masked(HELLO) };
        let mut input = wire.clone();
        let err = conn.receive(&mut input).unwrap_err();
        assert_eq!(err, Error::Protocol(ProtocolViolation::ReservedBits));
        assert_eq!(queued_close(&mut conn), Some(1002));
        // receive_into behaves the same without deflate.
        let mut conn = Connection::new(role, Config::new()).with_key_source(KeySource::seeded(1));
        let fed = feed_chunks(&mut conn, &wire, &[], 64);
        assert_eq!(fed.err(), Error::Protocol(ProtocolViolation::ReservedBits));
    }
}

#[test]
fn garbage_compressed_data_fails_with_1002() {
    let mut corrupted = deflate_raw(json_like(3000, 1).as_bytes());
    let mid = corrupted.len() / 2;
    corrupted[mid..mid + 8].copy_from_slice(&[0xff; 8]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("reserved block type", vec![0xff, 0xff, 0xff, 0xff]),
        ("stored block lengths that do not match", vec![0x00, 0x05, 0x00, 0x00, 0x00, b'x']),
        ("a distance into an empty window", HELLO_AGAIN[2..].to_vec()),
        ("corrupted in the middle", corrupted),
    ];
    for (name, payload) in &cases {
        for role in [Role::Client, Role::Server] {
            let wire = frame(FIN | RSV1 | 2, payload, (role == Role::Server).then_some(KEY));
            for scratch in [1, 64, 65_536] {
                let (mut client, mut server) = pair();
                let conn = if role == Role::Client { &mut client } else { &mut server };
                let fed = feed_chunks(conn, &wire, &[], scratch);
                let err = fed.err();
                assert!(matches!(err, Error::Protocol(ProtocolViolation::Extension(_))), "{name}: {err:?}");
                assert_eq!(err.close_code().map(|c| c.0), Some(1002));
                assert_eq!(queued_close(conn), Some(1002), "{name}");
                // Every later call repeats the error.
                let mut more = HELLO.to_vec();
                assert_eq!(conn.receive_into(&mut more, &mut [0; 8]).unwrap_err(), err);
            }
        }
    }
}

#[test]
fn receive_without_scratch_is_a_misuse_that_consumes_nothing() {
    let (mut client, mut server) = pair();
    let mut wire = Vec::new();
    client.send_text("compressed text compressed text compressed text", &mut wire).unwrap();
    assert_eq!(wire[0], 0xc1);
    let original = wire.clone();
    assert_eq!(server.receive(&mut wire), Err(Error::Misuse(Misuse::ScratchRequired)));
    assert_eq!(wire, original, "nothing unmasked or consumed");
    assert_eq!(server.receive_into(&mut wire, &mut []), Err(Error::Misuse(Misuse::ScratchRequired)));
    assert_eq!(wire, original);
    assert_eq!(server.error(), None, "a misuse does not fail the connection");
    assert!(!server.wants_transmit());
    // The same bytes, with a scratch buffer.
    let got = logical(&feed_chunks(&mut server, &wire, &[], 10).ok());
    assert_eq!(got, [text("compressed text compressed text compressed text")]);
}

#[test]
fn the_reserved_bound_covers_every_level_window_and_content() {
    // A send into a SliceBuf reserves a worst-case bound before compressing; the compressed
    // frames must never exceed it, whatever the level, window and content.
    let random = content(&Spec { kind: MessageKind::Binary, len: 300_000, compressible: false, seed: 8 });
    let mixed = content(&Spec { kind: MessageKind::Binary, len: 300_000, compressible: true, seed: 9 });
    for level in [0u32, 1, 6, 9] {
        for bits in [9u8, 12, 15] {
            for max_frame in [1usize << 20, 1000] {
                let mut params = DeflateParams::DEFAULT;
                params.server_max_window_bits = bits;
                let pmd = agreed(params, DeflateConfig::new().level(level).min_size(0));
                let config = Config::new().max_outgoing_frame(max_frame);
                let mut server = server_with(pmd, config);
                let mut client = client_with(pmd, config);
                for data in [&random[..70_000], &random[..], &mixed[..], &random[..1], &mixed[..5000]] {
                    let mut empty = [0u8; 0];
                    let required = match server.send_binary(data, &mut SliceBuf::new(&mut empty)) {
                        Err(Error::BufferTooSmall(BufferTooSmall { required })) => required,
                        other => panic!("{other:?}"),
                    };
                    let mut storage = vec![0u8; required];
                    let mut out = SliceBuf::new(&mut storage);
                    server.send_binary(data, &mut out).unwrap();
                    assert!(out.len() <= required);
                    // Never more than the data as stored blocks (5 bytes a block of up to
                    // 65535, and the byte before the trailer), even where zlib would expand it.
                    let payload: usize = parse_frames(out.filled()).iter().map(|f| f.payload.len()).sum();
                    let stored = data.len() + 5 * data.len().div_ceil(0xffff) + 1;
                    assert!(payload <= stored, "level {level}, {bits} bits: {payload} > {stored}");
                    let got = logical(&feed_chunks(&mut client, out.filled(), &[], 65_536).ok());
                    assert_eq!(got, [Logical::Message(MessageKind::Binary, data.to_vec())]);
                }
            }
        }
    }
}
