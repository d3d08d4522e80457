//! Encode → decode: any message sequence, any size around the length-encoding boundaries, any
//! `max_outgoing_frame`, both roles, into a `Vec` or into exact-size `SliceBuf`s.

mod common;

use common::traffic::{self, Op};
use common::*;
use proptest::prelude::*;
use wsproto::{
    BufferTooSmall, CloseCode, CloseFrame, Config, Connection, Error, Message, MessageAssembler, MessageKind, OutBuf,
    Role, SliceBuf,
};

const SIZES: [usize; 13] = [0, 1, 124, 125, 126, 127, 128, 65534, 65535, 65536, 65537, 65538, 131_073];
const MAX_OUT: [usize; 7] = [1, 125, 126, 65535, 65536, 65537, 1 << 20];

fn roles() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Client), Just(Role::Server)]
}

/// One send call.
#[derive(Clone, Debug)]
enum Call {
    Text(String),
    Binary(Vec<u8>),
    Fragment(MessageKind, Vec<u8>, bool),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
}

fn calls(ops: &[Op], close: &Option<(u16, String)>) -> Vec<Call> {
    let mut out = Vec::new();
    for op in ops {
        match op {
            Op::Text(t) => out.push(Call::Text(t.clone())),
            Op::Binary(b) => out.push(Call::Binary(b.clone())),
            Op::Fragmented { kind, pieces, ping_after } => {
                for (i, p) in pieces.iter().enumerate() {
                    let last = i == pieces.len() - 1;
                    out.push(Call::Fragment(*kind, p.clone(), last));
                    if !last && ping_after.get(i).copied().unwrap_or(false) {
                        out.push(Call::Ping(traffic::mid_ping(i)));
                    }
                }
            }
            Op::Ping(p) => out.push(Call::Ping(p.clone())),
            Op::Pong(p) => out.push(Call::Pong(p.clone())),
        }
    }
    if let Some((code, reason)) = close {
        out.push(Call::Close(*code, reason.clone()));
    }
    out
}

fn run(tx: &mut Connection, call: &Call, out: &mut impl OutBuf) -> Result<(), Error> {
    match call {
        Call::Text(t) => tx.send_text(t, out),
        Call::Binary(b) => tx.send_binary(b, out),
        Call::Fragment(kind, data, fin) => tx.send_fragment(*kind, data, *fin, out),
        Call::Ping(p) => tx.ping(p, out),
        Call::Pong(p) => tx.pong(p, out),
        Call::Close(code, reason) => tx.close(CloseFrame::new(CloseCode(*code), reason), out),
    }
}

/// Reassembles received events with a `MessageAssembler`.
fn assemble(rx: &mut Connection, wire: &mut [u8]) -> Vec<Logical> {
    let mut assembler = MessageAssembler::new();
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        let r = rx.receive(&mut wire[pos..]).unwrap();
        pos += r.consumed;
        let Some(event) = r.event else { break };
        match assembler.push(event).unwrap() {
            None => {}
            Some(Message::Text(t)) => out.push(Logical::Message(MessageKind::Text, t.as_bytes().to_vec())),
            Some(Message::Binary(b)) => out.push(Logical::Message(MessageKind::Binary, b.to_vec())),
            Some(Message::Ping(p)) => out.push(Logical::Ping(p.as_bytes().to_vec())),
            Some(Message::Pong(p)) => out.push(Logical::Pong(p.as_bytes().to_vec())),
            Some(Message::Close(c)) => {
                out.push(Logical::Close { code: c.code().map(|c| c.0), reason: c.reason().to_owned() })
            }
            Some(other) => panic!("unexpected {other:?}"),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn messages_survive_encode_decode(
        sender in roles(),
        ops in prop::collection::vec(traffic::op(), 0..8),
        close in traffic::close(),
        max_out in traffic::max_outgoing(),
    ) {
        let max_out = if ops.iter().any(|op| matches!(op, Op::Binary(b) if b.len() > 1000)) { max_out.max(125) } else { max_out };
        let mut tx = conn(sender, Config::new().max_outgoing_frame(max_out));
        let mut wire = Vec::new();
        let expected = traffic::send_all(&mut tx, &ops, &close, &mut wire);
        // Every frame respects the size limit and the masking rule.
        for f in parse_frames(&wire) {
            prop_assert_eq!(f.mask.is_some(), sender == Role::Client);
            if f.opcode < 8 {
                prop_assert!(f.payload.len() <= max_out.max(1));
            }
        }
        let mut copy = wire.clone();
        let mut rx = conn(sender.peer(), Config::new());
        prop_assert_eq!(logical(&feed(&mut rx, &mut wire).ok()), expected.clone());
        let mut rx = conn(sender.peer(), Config::new());
        prop_assert_eq!(assemble(&mut rx, &mut copy), expected);
    }

    /// Each call into a `SliceBuf` one byte too small fails with the exact size and writes
    /// nothing (not even a masking key is used up); into an exact-size buffer it succeeds and
    /// writes the same bytes as into a `Vec`.
    #[test]
    fn slice_buf_exact_and_one_short(
        sender in roles(),
        ops in prop::collection::vec(traffic::op(), 0..6),
        close in traffic::close(),
        max_out in traffic::max_outgoing(),
        pending_ping in prop::option::of(prop::collection::vec(any::<u8>(), 0..=125)),
    ) {
        let max_out = if ops.iter().any(|op| matches!(op, Op::Binary(b) if b.len() > 1000)) { max_out.max(125) } else { max_out };
        let mut tx = conn(sender, Config::new().max_outgoing_frame(max_out));
        // A twin in lockstep (same seeded keys, same calls) writes each call's reference bytes.
        let mut twin = conn(sender, Config::new().max_outgoing_frame(max_out));
        if let Some(p) = &pending_ping {
            // A pong waits, and must be counted in the size of the first call.
            let mut ping = frame_from(sender.peer(), 0x9, p);
            feed(&mut tx, &mut ping.clone()).ok();
            feed(&mut twin, &mut ping).ok();
        }
        let mut wire = Vec::new();
        let mut expected = Vec::new();
        for call in calls(&ops, &close) {
            let mut reference = Vec::new();
            run(&mut twin, &call, &mut reference).unwrap();
            let need = reference.len();
            prop_assert!(need > 0);

            let mut short = vec![0xa5u8; need - 1];
            let mut buf = SliceBuf::new(&mut short);
            prop_assert_eq!(run(&mut tx, &call, &mut buf), Err(Error::BufferTooSmall(BufferTooSmall { required: need })));
            prop_assert_eq!(buf.len(), 0);
            prop_assert!(short.iter().all(|&b| b == 0xa5), "nothing written");

            let mut exact = vec![0u8; need];
            let mut buf = SliceBuf::new(&mut exact);
            run(&mut tx, &call, &mut buf).unwrap();
            prop_assert_eq!(buf.remaining(), 0);
            prop_assert_eq!(&exact, &reference);
            wire.extend_from_slice(&exact);
            expected.push(call);
        }
        prop_assert!(!tx.wants_transmit() || expected.is_empty());
        // The whole stream decodes to the messages sent.
        let mut rx = conn(sender.peer(), Config::new());
        let mut want = traffic::send_all(&mut conn(sender, Config::new()), &ops, &close, &mut Vec::new());
        if let (Some(p), false) = (&pending_ping, expected.is_empty()) {
            want.insert(0, Logical::Pong(p.clone()));
        }
        prop_assert_eq!(logical(&feed(&mut rx, &mut wire).ok()), want);
    }
}

#[test]
fn every_size_with_every_frame_limit() {
    for role in [Role::Client, Role::Server] {
        for max in MAX_OUT {
            for size in SIZES {
                if max == 1 && size > 200 {
                    continue; // Covered by the larger limits; one frame per byte is slow.
                }
                let data: Vec<u8> = (0..size).map(|i| (i % 241) as u8).collect();
                let mut tx = conn(role, Config::new().max_outgoing_frame(max));
                let mut wire = Vec::new();
                tx.send_binary(&data, &mut wire).unwrap();
                let frames = parse_frames(&wire);
                let expected_frames = if size == 0 { 1 } else { size.div_ceil(max) };
                assert_eq!(frames.len(), expected_frames, "{role:?} max {max} size {size}");
                for (i, f) in frames.iter().enumerate() {
                    let first = i == 0;
                    let last = i == frames.len() - 1;
                    assert_eq!(f.opcode, if first { 0x2 } else { 0x0 });
                    assert_eq!(f.fin, last);
                    let len = f.payload.len();
                    assert_eq!(len, if last { size - max * i } else { max });
                    let minimal = match len {
                        0..=125 => 0,
                        126..=65535 => 2,
                        _ => 8,
                    };
                    assert_eq!(f.ext_len, minimal, "minimal length encoding");
                }
                let mut rx = conn(role.peer(), Config::new());
                let events = feed(&mut rx, &mut wire).ok();
                assert_eq!(logical(&events), [Logical::Message(MessageKind::Binary, data)]);
            }
        }
    }
}

#[test]
fn buffer_too_small_reports_exact_size_for_each_encoding() {
    for role in [Role::Client, Role::Server] {
        let mask = if role == Role::Client { 4 } else { 0 };
        for size in SIZES {
            let header = match size {
                0..=125 => 2,
                126..=65535 => 4,
                _ => 10,
            } + mask;
            let need = header + size;
            let data = vec![b'z'; size];
            let mut tx = conn(role, Config::new());
            let mut short = vec![0u8; need - 1];
            let mut buf = SliceBuf::new(&mut short);
            assert_eq!(tx.send_binary(&data, &mut buf), Err(Error::BufferTooSmall(BufferTooSmall { required: need })));
            assert!(buf.is_empty());
            let mut exact = vec![0u8; need];
            let mut buf = SliceBuf::new(&mut exact);
            tx.send_binary(&data, &mut buf).unwrap();
            assert_eq!(buf.len(), need);
        }
    }
}

#[test]
fn slice_buf_reuse_after_clear() {
    let mut s = server(Config::new());
    let mut storage = [0u8; 8];
    let mut buf = SliceBuf::new(&mut storage);
    s.send_text("abcdef", &mut buf).unwrap();
    assert_eq!(buf.filled(), b"\x81\x06abcdef");
    assert_eq!(s.send_text("a", &mut buf), Err(Error::BufferTooSmall(BufferTooSmall { required: 3 })));
    buf.clear();
    s.send_text("a", &mut buf).unwrap();
    assert_eq!(buf.filled(), b"\x81\x01a");
}

/// An in-memory byte pipe for driving tungstenite, an independent implementation.
mod interop {
    use std::io::{self, Read, Write};

    #[derive(Default)]
    pub(crate) struct Pipe {
        pub(crate) incoming: Vec<u8>,
        pub(crate) read_pos: usize,
        pub(crate) outgoing: Vec<u8>,
    }

    impl Read for Pipe {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let rest = &self.incoming[self.read_pos..];
            if rest.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.read_pos += n;
            Ok(n)
        }
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.outgoing.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}

#[test]
fn tungstenite_reads_what_we_write() {
    use tungstenite::protocol::{Role as TRole, WebSocket};
    for (ours, theirs) in [(Role::Client, TRole::Server), (Role::Server, TRole::Client)] {
        let mut tx = conn(ours, Config::new().max_outgoing_frame(1000));
        let mut wire = Vec::new();
        let big = vec![b'q'; 70_000];
        tx.send_text("héllo", &mut wire).unwrap();
        tx.send_binary(&big, &mut wire).unwrap();
        tx.send_fragment(MessageKind::Text, "h€".as_bytes(), false, &mut wire).unwrap();
        tx.ping(b"p", &mut wire).unwrap();
        tx.send_fragment(MessageKind::Text, b"!", true, &mut wire).unwrap();
        tx.close(close_frame(1000, "bye"), &mut wire).unwrap();
        let pipe = interop::Pipe { incoming: wire, ..Default::default() };
        let mut ws = WebSocket::from_raw_socket(pipe, theirs, None);
        let mut got = Vec::new();
        loop {
            match ws.read() {
                Ok(m) => got.push(m),
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(e) => panic!("tungstenite rejected our {ours:?} output: {e}"),
            }
            if matches!(got.last(), Some(tungstenite::Message::Close(_))) {
                break;
            }
        }
        use tungstenite::Message as M;
        assert_eq!(got.len(), 5, "{ours:?}");
        assert_eq!(got[0], M::Text("héllo".into()));
        assert_eq!(got[1], M::Binary(big.into()));
        assert_eq!(got[2], M::Ping(b"p".to_vec().into()));
        assert_eq!(got[3], M::Text("h€!".into()));
        match &got[4] {
            M::Close(Some(frame)) => {
                assert_eq!(u16::from(frame.code), 1000);
                assert_eq!(frame.reason.as_str(), "bye");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn we_read_what_tungstenite_writes() {
    use tungstenite::Message as M;
    use tungstenite::protocol::{Role as TRole, WebSocket};
    for (ours, theirs) in [(Role::Client, TRole::Server), (Role::Server, TRole::Client)] {
        let mut ws = WebSocket::from_raw_socket(interop::Pipe::default(), theirs, None);
        let big = vec![7u8; 65536];
        ws.send(M::Text("héllo".into())).unwrap();
        ws.send(M::Binary(big.clone().into())).unwrap();
        ws.send(M::Ping(b"ping".to_vec().into())).unwrap();
        ws.send(M::Pong(b"pong".to_vec().into())).unwrap();
        ws.send(M::Binary(vec![].into())).unwrap();
        ws.close(Some(tungstenite::protocol::CloseFrame { code: 4000.into(), reason: "done".into() })).unwrap();
        ws.flush().unwrap();
        let mut wire = core::mem::take(&mut ws.get_mut().outgoing);
        let mut rx = conn(ours, Config::new());
        let events = feed(&mut rx, &mut wire).ok();
        assert_eq!(
            logical(&events),
            [
                Logical::Message(MessageKind::Text, "héllo".as_bytes().to_vec()),
                Logical::Message(MessageKind::Binary, big),
                Logical::Ping(b"ping".to_vec()),
                Logical::Pong(b"pong".to_vec()),
                Logical::Message(MessageKind::Binary, vec![]),
                Logical::Close { code: Some(4000), reason: "done".into() },
            ],
            "{ours:?}"
        );
        // Our automatic replies (the pong and the close echo) are accepted by tungstenite.
        let reply = transmit(&mut rx);
        ws.get_mut().incoming = reply;
        let mut got = Vec::new();
        loop {
            match ws.read() {
                Ok(m) => got.push(m),
                Err(tungstenite::Error::ConnectionClosed) => break,
                // A tungstenite client waits for the server to close the transport.
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("tungstenite rejected our {ours:?} replies: {e} after {got:?}"),
            }
        }
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], M::Pong(b"ping".to_vec().into()));
        assert!(matches!(&got[1], M::Close(Some(f)) if u16::from(f.code) == 4000), "{got:?}");
    }
}
