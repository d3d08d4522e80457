//! The public receive buffers, `ReceiveBuffer` (growing) and `SliceReceiveBuffer` (a caller's
//! fixed slice): however the transport's reads cut the stream, they hand out the same whole
//! messages, control frames and replies as the streaming events; a message too large for a
//! fixed buffer fails the connection with 1009; invalid UTF-8 fails it with 1007 at the same
//! offset, before the rest of a message is waited for; memory comes back after a large message.

mod common;

use common::traffic::{self, Op};
use common::*;
use proptest::prelude::*;
use wsproto::{
    BufferTooSmall, CloseCode, Config, Connection, Error, Found, Limit, Message, MessageKind, ReceiveBuffer, Role,
    SliceReceiveBuffer, State,
};

fn logical_of(m: Message<'_>) -> Logical {
    match m {
        Message::Text(t) => Logical::Message(MessageKind::Text, t.as_bytes().to_vec()),
        Message::Binary(b) => Logical::Message(MessageKind::Binary, b.to_vec()),
        Message::Ping(p) => Logical::Ping(p.as_bytes().to_vec()),
        Message::Pong(p) => Logical::Pong(p.as_bytes().to_vec()),
        Message::Close(c) => Logical::Close { code: c.code().map(|c| c.0), reason: c.reason().to_owned() },
        other => panic!("unexpected {other:?}"),
    }
}

/// What a receiver saw: the whole messages, the error that stopped it, what it queued.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    messages: Vec<Logical>,
    error: Option<Error>,
    out: Vec<u8>,
    state: State,
}

/// The reference: the whole wire through `receive` at once, pieces joined.
fn by_events(role: Role, config: Config, wire: &[u8]) -> Seen {
    let mut rx = conn(role, config);
    let fed = feed_copy(&mut rx, wire);
    let messages = finished_messages(&fed.events);
    Seen { messages, error: fed.error, out: transmit(&mut rx), state: rx.state() }
}

/// The messages whose last piece arrived and the control frames, in order (a message cut
/// short by an error does not count).
fn finished_messages(events: &[Ev]) -> Vec<Logical> {
    let mut out = Vec::new();
    let mut open: Option<(MessageKind, Vec<u8>)> = None;
    for e in events {
        match e {
            Ev::Data { kind, data, first, last } => {
                if *first {
                    open = Some((*kind, Vec::new()));
                }
                open.as_mut().expect("a first piece").1.extend_from_slice(data);
                if *last {
                    let (kind, bytes) = open.take().unwrap();
                    out.push(Logical::Message(kind, bytes));
                }
            }
            Ev::Ping(p) => out.push(Logical::Ping(p.clone())),
            Ev::Pong(p) => out.push(Logical::Pong(p.clone())),
            Ev::Close { code, reason } => out.push(Logical::Close { code: *code, reason: reason.clone() }),
        }
    }
    out
}

/// A source of reads: cycles through `sizes` (each at least 1).
struct Reads<'a> {
    wire: &'a [u8],
    pos: usize,
    sizes: &'a [usize],
    turn: usize,
}

impl<'a> Reads<'a> {
    fn new(wire: &'a [u8], sizes: &'a [usize]) -> Self {
        Self { wire, pos: 0, sizes, turn: 0 }
    }

    /// Reads into `free`; 0 at the end.
    fn read(&mut self, free: &mut [u8]) -> usize {
        assert!(!free.is_empty(), "free_space is never empty after next returned None");
        let size = self.sizes.get(self.turn % self.sizes.len().max(1)).copied().unwrap_or(usize::MAX).max(1);
        self.turn += 1;
        let n = size.min(free.len()).min(self.wire.len() - self.pos);
        free[..n].copy_from_slice(&self.wire[self.pos..self.pos + n]);
        self.pos += n;
        n
    }
}

/// The wire through a growing buffer, read in pieces of `sizes`.
fn by_buffer(role: Role, config: Config, wire: &[u8], sizes: &[usize], read_size: usize) -> Seen {
    let mut rx = conn(role, config);
    let mut buf = ReceiveBuffer::with_read_size(read_size);
    let mut reads = Reads::new(wire, sizes);
    let mut messages = Vec::new();
    let error = loop {
        match buf.next_message(&mut rx) {
            Ok(Some(m)) => {
                messages.push(logical_of(m));
                continue;
            }
            Ok(None) => {}
            Err(e) => break Some(e),
        }
        let n = reads.read(buf.free_space());
        if n == 0 {
            break None;
        }
        buf.filled(n);
    };
    Seen { messages, error, out: transmit(&mut rx), state: rx.state() }
}

/// The wire through a fixed buffer of `storage` bytes, in two steps (`next`, then `message`).
fn by_slice(role: Role, config: Config, wire: &[u8], sizes: &[usize], storage: usize) -> Seen {
    let mut rx = conn(role, config);
    let mut storage = vec![0u8; storage];
    let mut buf = SliceReceiveBuffer::new(&mut storage);
    let mut reads = Reads::new(wire, sizes);
    let mut messages = Vec::new();
    let error = loop {
        match buf.next(&mut rx) {
            Ok(Some(found)) => match buf.message(found, &mut rx) {
                Ok(m) => {
                    messages.push(logical_of(m));
                    continue;
                }
                Err(e) => break Some(e),
            },
            Ok(None) => {}
            Err(e) => break Some(e),
        }
        let n = reads.read(buf.free_space());
        if n == 0 {
            break None;
        }
        buf.filled(n);
    };
    Seen { messages, error, out: transmit(&mut rx), state: rx.state() }
}

fn read_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        prop::collection::vec(1usize..8, 1..6),
        prop::collection::vec(1usize..200, 1..6),
        prop::collection::vec(1usize..70_000, 1..4),
        Just(vec![usize::MAX]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the reads, both buffers hand out exactly the messages and control frames that
    /// were sent, and queue the same replies, as the streaming events of the whole input.
    #[test]
    fn any_reads_give_the_same_messages(
        sender in prop_oneof![Just(Role::Client), Just(Role::Server)],
        ops in prop::collection::vec(traffic::op(), 0..8),
        close in traffic::close(),
        max_out in traffic::max_outgoing(),
        sizes in read_sizes(),
        read_size in prop::sample::select(vec![256usize, 1000, 64 * 1024]),
    ) {
        // Keep the one-frame-per-byte cases small enough to run quickly.
        let max_out = if ops.iter().any(|op| matches!(op, Op::Binary(b) if b.len() > 1000)) { max_out.max(125) } else { max_out };
        let mut tx = conn(sender, Config::new().max_outgoing_frame(max_out));
        let mut wire = Vec::new();
        let expected = traffic::send_all(&mut tx, &ops, &close, &mut wire);
        let rx = sender.peer();

        let reference = by_events(rx, Config::new(), &wire);
        prop_assert_eq!(&reference.messages, &expected);
        prop_assert_eq!(reference.error, None);

        let buffered = by_buffer(rx, Config::new(), &wire, &sizes, read_size);
        prop_assert_eq!(&buffered, &reference);
        // A fixed buffer as large as the input holds any message in it.
        let sliced = by_slice(rx, Config::new(), &wire, &sizes, wire.len() + 1);
        prop_assert_eq!(&sliced, &reference);
    }

    /// Hostile input after valid traffic: the same error (the same offset for UTF-8), the same
    /// messages before it and the same Close frame queued, whatever the reads.
    #[test]
    fn any_reads_give_the_same_error(
        prefix in prop::collection::vec(traffic::op(), 0..3),
        garbage in prop::collection::vec(any::<u8>(), 1..40),
        sizes in read_sizes(),
    ) {
        let mut tx = client(Config::new());
        let mut wire = Vec::new();
        traffic::send_all(&mut tx, &prefix, &None, &mut wire);
        wire.extend_from_slice(&garbage);

        let reference = by_events(Role::Server, Config::new(), &wire);
        let buffered = by_buffer(Role::Server, Config::new(), &wire, &sizes, 256);
        prop_assert_eq!(&buffered, &reference);
        // A fixed buffer holds messages of up to its size: with the connection's limit set to
        // that size too, a larger announced frame is refused at its header either way.
        let storage = wire.len() + 1;
        let limited = Config::new().max_message_size(storage as u64);
        let sliced = by_slice(Role::Server, limited, &wire, &sizes, storage);
        prop_assert_eq!(&sliced, &by_events(Role::Server, limited, &wire));
    }

    /// Text that is not UTF-8, whole or cut anywhere into fragments and reads: 1007 at the
    /// offset of the first bad sequence, as the streaming events report it.
    #[test]
    fn invalid_text_fails_with_1007_at_the_same_offset(
        text in "\\PC{0,60}",
        bad in prop::sample::select(vec![vec![0xffu8], vec![0xc0, 0x80], vec![0xed, 0xa0, 0x80], vec![0xe2, 0x82], vec![0xf4, 0x90]]),
        at in any::<prop::sample::Index>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        sizes in read_sizes(),
    ) {
        let mut bytes = text.into_bytes();
        // Insert at a character boundary, so that the bad sequence itself is the first error.
        let mut i = at.index(bytes.len() + 1);
        while i < bytes.len() && bytes[i] & 0xc0 == 0x80 { i += 1; }
        bytes.splice(i..i, bad.iter().copied());
        let mut wire = Vec::new();
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        at.sort_unstable();
        at.push(bytes.len());
        let mut start = 0;
        for (n, &c) in at.iter().enumerate() {
            let fin = n == at.len() - 1;
            wire.extend(frame_from_fin(Role::Client, if n == 0 { 1 } else { 0 }, fin, &bytes[start..c]));
            start = c;
        }
        let reference = by_events(Role::Server, Config::new(), &wire);
        let Some(Error::InvalidUtf8 { offset }) = reference.error else {
            panic!("not rejected: {reference:?}")
        };
        prop_assert_eq!(offset, i as u64);
        prop_assert_eq!(parse_frames(&reference.out).last().map(|f| f.payload[..2].to_vec()), Some(1007u16.to_be_bytes().to_vec()));
        prop_assert_eq!(&by_buffer(Role::Server, Config::new(), &wire, &sizes, 256), &reference);
        prop_assert_eq!(&by_slice(Role::Server, Config::new(), &wire, &sizes, wire.len() + 1), &reference);
    }
}

#[test]
fn a_message_larger_than_a_fixed_buffer_fails_with_1009() {
    for (size, fragmented) in [(256, false), (257, false), (256, true), (257, true)] {
        let mut tx = client(Config::new().max_outgoing_frame(if fragmented { 50 } else { 1 << 20 }));
        let mut wire = Vec::new();
        tx.send_binary(&vec![5; size], &mut wire).unwrap();
        tx.send_text("after", &mut wire).unwrap();
        let seen = by_slice(Role::Server, Config::new(), &wire, &[64], 256);
        if size <= 256 {
            // A message as large as the buffer fits: frame headers are not kept.
            assert_eq!(seen.error, None, "{size} {fragmented}");
            assert_eq!(seen.messages.len(), 2);
            continue;
        }
        assert_eq!(seen.error, Some(Error::LimitExceeded(Limit::MessageSize)), "{size} {fragmented}");
        assert_eq!(seen.error.unwrap().close_code(), Some(CloseCode(1009)));
        assert_eq!(seen.state, State::Failed);
        let close = parse_frames(&seen.out).pop().expect("a Close frame queued");
        assert_eq!(close.opcode, 8);
        assert_eq!(close.payload, 1009u16.to_be_bytes());
        assert!(seen.messages.is_empty());
    }
}

#[test]
fn a_frame_announcing_more_than_a_fixed_buffer_holds_fails_at_once() {
    // Only the header and 10 bytes of a 1000-byte frame have arrived: it cannot fit in 100.
    let frame = frame_from(Role::Client, 2, &[1; 1000]);
    let mut rx = server(Config::new());
    let mut storage = [0u8; 100];
    let mut buf = SliceReceiveBuffer::new(&mut storage);
    buf.extend_from_slice(&frame[..18]).unwrap();
    assert_eq!(buf.next(&mut rx), Err(Error::LimitExceeded(Limit::MessageSize)));
    assert_eq!(rx.state(), State::Failed);
}

#[test]
fn invalid_text_fails_before_the_rest_of_the_message_is_waited_for() {
    // A fragmented message whose second fragment breaks UTF-8; the third has not arrived.
    let mut wire = frame_from_fin(Role::Client, 1, false, "héllo ".as_bytes());
    wire.extend(frame_from_fin(Role::Client, 0, false, &[b'a', 0xff, b'b']));
    let mut rx = server(Config::new());
    let mut buf = ReceiveBuffer::new();
    buf.extend_from_slice(&wire);
    assert_eq!(buf.next_message(&mut rx), Err(Error::InvalidUtf8 { offset: 8 }));

    // One frame cut by a read after the bad byte: rejected with what has arrived.
    let frame = frame_from(Role::Client, 1, &[b'o', b'k', 0xc3, 0x28, b'x', b'y', b'z']);
    let mut rx = server(Config::new());
    let mut storage = [0u8; 64];
    let mut buf = SliceReceiveBuffer::new(&mut storage);
    buf.extend_from_slice(&frame[..frame.len() - 3]).unwrap();
    assert_eq!(buf.next_message(&mut rx), Err(Error::InvalidUtf8 { offset: 2 }));
    let close = parse_frames(&transmit(&mut rx)).pop().unwrap();
    assert_eq!(close.payload, 1007u16.to_be_bytes());
}

#[test]
fn a_found_text_message_is_checked_even_when_not_taken() {
    // Two steps: `next` finds a whole text message (not checked yet); the caller never takes
    // it and asks for the next one: the check happens before anything after it is read.
    let mut wire = frame_from(Role::Client, 1, &[b'a', 0xfe]);
    wire.extend(frame_from(Role::Client, 2, b"binary after"));
    let mut rx = server(Config::new());
    let mut buf = ReceiveBuffer::new();
    buf.extend_from_slice(&wire);
    let found: Found = buf.next(&mut rx).unwrap().unwrap();
    assert_eq!(found.kind(), Some(MessageKind::Text));
    assert_eq!(found.len(), 2);
    assert_eq!(buf.next(&mut rx), Err(Error::InvalidUtf8 { offset: 1 }));
    assert_eq!(rx.state(), State::Failed);

    // Taken: the same error from `message`, and the connection fails there.
    let mut rx = server(Config::new());
    let mut buf = ReceiveBuffer::new();
    buf.extend_from_slice(&wire);
    let found = buf.next(&mut rx).unwrap().unwrap();
    assert_eq!(buf.message(found, &mut rx), Err(Error::InvalidUtf8 { offset: 1 }));
    assert_eq!(rx.state(), State::Failed);
    assert_eq!(buf.next(&mut rx), Err(Error::InvalidUtf8 { offset: 1 }), "the error repeats");
}

#[test]
fn the_buffer_gives_memory_back_after_a_large_message() {
    const LARGE: usize = 8 << 20;
    for max_out in [64 * 1024, 1 << 24] {
        let mut tx = client(Config::new().max_outgoing_frame(max_out));
        let mut large = Vec::new();
        tx.send_binary(&vec![3; LARGE], &mut large).unwrap();
        let mut small = Vec::new();
        tx.send_binary(b"small", &mut small).unwrap();
        let mut rx = server(Config::new());
        let mut buf = ReceiveBuffer::new();
        let mut got = Vec::new();
        for wire in [&large, &small] {
            let mut reads = Reads::new(wire, &[64 * 1024]);
            loop {
                while let Some(m) = buf.next_message(&mut rx).unwrap() {
                    let Message::Binary(b) = m else { panic!() };
                    got.push(b.len());
                }
                let n = reads.read(buf.free_space());
                if n == 0 {
                    break;
                }
                buf.filled(n);
            }
            got.push(buf.capacity());
        }
        assert_eq!(got[0], LARGE);
        // One frame: its size and a header; fragmented: at most twice.
        assert!(got[1] >= LARGE && got[1] <= 2 * LARGE + 128 * 1024, "{max_out}: {got:?}");
        assert_eq!(got[2], 5);
        assert!(got[3] <= ReceiveBuffer::DEFAULT_READ_SIZE, "{max_out}: {got:?}");
        buf.release();
        assert_eq!(buf.capacity(), 0);
    }
}

#[test]
fn leftover_bytes_are_read_first_and_free_space_is_never_empty() {
    let mut tx = client(Config::new());
    let mut wire = Vec::new();
    for i in 0..50u8 {
        tx.send_binary(&[i; 300], &mut wire).unwrap();
    }
    // A buffer for reads of 256 bytes, given 15 KiB at once (what came with the handshake).
    let mut rx = server(Config::new());
    let mut buf = ReceiveBuffer::with_read_size(256);
    buf.extend_from_slice(&wire);
    let mut n = 0;
    while let Some(m) = buf.next_message(&mut rx).unwrap() {
        assert_eq!(m, Message::Binary(&[n; 300]));
        n += 1;
    }
    assert_eq!(n, 50);
    assert!(!buf.free_space().is_empty());

    // A fixed buffer refuses what does not fit, and takes nothing.
    let mut storage = [0u8; 100];
    let mut buf = SliceReceiveBuffer::new(&mut storage);
    assert_eq!(buf.extend_from_slice(&[0; 60]), Ok(()));
    assert_eq!(buf.extend_from_slice(&[0; 60]), Err(BufferTooSmall { required: 20 }));
}

#[test]
fn control_frames_between_fragments_come_out_in_order() {
    let mut tx = client(Config::new());
    let mut wire = Vec::new();
    tx.send_fragment(MessageKind::Text, "un ".as_bytes(), false, &mut wire).unwrap();
    tx.ping(b"p1", &mut wire).unwrap();
    tx.send_fragment(MessageKind::Text, "deux ".as_bytes(), false, &mut wire).unwrap();
    tx.pong(b"p2", &mut wire).unwrap();
    tx.send_fragment(MessageKind::Text, "trois".as_bytes(), true, &mut wire).unwrap();
    tx.close(wsproto::CloseFrame::new(CloseCode::NORMAL, "bye"), &mut wire).unwrap();
    for sizes in [[1usize], [3], [1000]] {
        let seen = by_buffer(Role::Server, Config::new(), &wire, &sizes, 256);
        assert_eq!(
            seen.messages,
            [
                Logical::Ping(b"p1".to_vec()),
                Logical::Pong(b"p2".to_vec()),
                Logical::Message(MessageKind::Text, b"un deux trois".to_vec()),
                Logical::Close { code: Some(1000), reason: "bye".into() },
            ]
        );
        assert_eq!(seen.state, State::Closed);
    }
}

#[cfg(feature = "deflate")]
mod deflate {
    use super::*;
    use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};

    fn pair() -> (Connection, Connection) {
        let pmd = PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new().min_size(0));
        let tx = client(Config::new()).with_deflate(pmd);
        let rx = server(Config::new()).with_deflate(pmd);
        (tx, rx)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(60))]

        /// Compressed messages, whatever the reads, through both buffers: the same messages.
        #[test]
        fn compressed_messages_through_any_reads(
            ops in prop::collection::vec(traffic::op(), 0..6),
            sizes in read_sizes(),
            scratch in prop::sample::select(vec![1usize, 7, 300, 70_000]),
        ) {
            let (mut tx, _) = pair();
            let mut wire = Vec::new();
            let expected = traffic::send_all(&mut tx, &ops, &None, &mut wire);

            let (_, mut rx) = pair();
            let mut buf = ReceiveBuffer::with_read_size(256);
            let mut reads = Reads::new(&wire, &sizes);
            let mut messages = Vec::new();
            loop {
                while let Some(m) = buf.next_message(&mut rx).unwrap() {
                    messages.push(logical_of(m));
                }
                let n = reads.read(buf.free_space());
                if n == 0 { break; }
                buf.filled(n);
            }
            prop_assert_eq!(&messages, &expected);

            // A fixed buffer and a fixed scratch space: large enough, or 1009.
            let (_, mut rx) = pair();
            let mut storage = vec![0u8; wire.len() + 1];
            let largest = expected.iter().map(|l| match l { Logical::Message(_, b) => b.len(), _ => 0 }).max().unwrap_or(0);
            let mut scratch_space = vec![0u8; scratch];
            let mut buf = SliceReceiveBuffer::with_scratch(&mut storage, &mut scratch_space);
            let mut reads = Reads::new(&wire, &sizes);
            let mut messages = Vec::new();
            let error = 'feed: loop {
                loop {
                    match buf.next_message(&mut rx) {
                        Ok(Some(m)) => messages.push(logical_of(m)),
                        Ok(None) => break,
                        Err(e) => break 'feed Some(e),
                    }
                }
                let n = reads.read(buf.free_space());
                if n == 0 { break None; }
                buf.filled(n);
            };
            if largest < scratch {
                prop_assert_eq!(error, None);
                prop_assert_eq!(&messages, &expected);
            } else if let Some(e) = error {
                prop_assert_eq!(e, Error::LimitExceeded(Limit::MessageSize));
                prop_assert!(expected.starts_with(&messages));
            }
        }
    }

    #[test]
    fn a_large_compressed_message_in_small_reads() {
        let (mut tx, mut rx) = pair();
        let json: Vec<u8> = br#"{"id":7,"v":[1,2,3]},"#.iter().copied().cycle().take(3 << 20).collect();
        let text = String::from_utf8(json).unwrap();
        let mut wire = Vec::new();
        tx.send_text(&text, &mut wire).unwrap();
        tx.send_binary(b"next", &mut wire).unwrap();
        assert!(wire.len() < 64 * 1024, "{}", wire.len());
        let mut buf = ReceiveBuffer::with_read_size(4096);
        let mut reads = Reads::new(&wire, &[777]);
        let mut got = Vec::new();
        loop {
            while let Some(m) = buf.next_message(&mut rx).unwrap() {
                got.push(logical_of(m));
            }
            let n = reads.read(buf.free_space());
            if n == 0 {
                break;
            }
            buf.filled(n);
        }
        assert_eq!(
            got,
            [
                Logical::Message(MessageKind::Text, text.into_bytes()),
                Logical::Message(MessageKind::Binary, b"next".to_vec())
            ]
        );
        // The scratch space grew for the 3 MiB message and shrank back after the small one.
        assert!(buf.capacity() <= 2 * 64 * 1024, "{}", buf.capacity());
    }
}
