//! Differential: the receive buffers (`ReceiveBuffer`, growing; `SliceReceiveBuffer`, over a
//! fixed slice) against the streaming events, on any bytes, read in any sizes.
//!
//! Input: a flags byte (bit 0: the receiver is a client, reading unmasked frames; bit 1:
//! permessage-deflate; bit 2: take messages in two steps, `next` then `message`; bit 3, with
//! bit 2: also hand `message` the `Found` before the current one, which must be refused as
//! stale and change nothing), four read
//! sizes, a scratch-size byte for the fixed buffer, then the bytes the transport delivers.
//!
//! Checked: both buffers hand out exactly the whole messages and control frames that the
//! connection's events give for the same bytes read at once (joined, in order), stop at the
//! same error (the same UTF-8 offset, the same limit), leave the connection in the same state
//! with the same replies queued; `free_space` is never empty after `None`; a fixed buffer that
//! the connection's message limit fits never reports a message too large for it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use wsproto::{
    Config, Connection, Error, Event, KeySource, Message, MessageKind, Misuse, ReceiveBuffer, Role, SliceReceiveBuffer,
    State,
};

fuzz_target!(|data: &[u8]| {
    let Some((head, wire)) = data.split_first_chunk::<6>() else { return };
    let [flags, r0, r1, r2, r3, scratch] = *head;
    let role = if flags & 1 == 0 { Role::Server } else { Role::Client };
    let deflate = flags & 2 != 0;
    let two_steps = flags & 4 != 0;
    let stale_probe = two_steps && flags & 8 != 0;
    let reads = [r0, r1, r2, r3].map(read_size);
    // Small limits keep a hostile length from allocating much.
    let config = Config::new().max_frame_payload(1 << 20).max_message_size(1 << 20);

    let reference = by_events(role, config, deflate, wire);
    let buffered = by_buffer(role, config, deflate, wire, &reads, two_steps, stale_probe);
    assert_eq!(buffered, reference, "ReceiveBuffer");

    // A fixed buffer as large as the input, and a fixed scratch space: the connection's
    // message limit is set to what they hold, so both sides refuse the same messages.
    let storage = wire.len() + 1;
    let scratch = if deflate { (usize::from(scratch) + 1) * 16 } else { 0 };
    let limit = if deflate { storage.min(scratch - 1) } else { storage };
    let config = config.max_message_size(limit as u64);
    let reference = by_events(role, config, deflate, wire);
    let sliced = by_slice(role, config, deflate, wire, &reads, storage, scratch);
    assert_eq!(sliced, reference, "SliceReceiveBuffer of {storage} bytes, scratch {scratch}");
});

fn read_size(b: u8) -> usize {
    match b {
        0 => 64 * 1024,
        1..=127 => usize::from(b),
        _ => usize::from(b - 127) * 512,
    }
}

fn connection(role: Role, config: Config, deflate: bool) -> Connection {
    // Seeded keys: a client's Close frames are masked the same way in every run.
    let conn = Connection::new(role, config).with_key_source(KeySource::seeded(1));
    if deflate {
        conn.with_deflate(PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new().min_size(0)))
    } else {
        conn
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Logical {
    Message(MessageKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<u16>, String),
}

fn logical(m: Message<'_>) -> Logical {
    match m {
        Message::Text(t) => Logical::Message(MessageKind::Text, t.as_bytes().to_vec()),
        Message::Binary(b) => Logical::Message(MessageKind::Binary, b.to_vec()),
        Message::Ping(p) => Logical::Ping(p.as_bytes().to_vec()),
        Message::Pong(p) => Logical::Pong(p.as_bytes().to_vec()),
        Message::Close(c) => Logical::Close(c.code().map(|c| c.0), c.reason().to_owned()),
        other => panic!("unexpected {other:?}"),
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Seen {
    messages: Vec<Logical>,
    error: Option<Error>,
    out: Vec<u8>,
    state: State,
}

fn finish(mut conn: Connection, messages: Vec<Logical>, error: Option<Error>) -> Seen {
    let mut out = Vec::new();
    let _ = conn.poll_transmit(&mut out);
    Seen { messages, error, out, state: conn.state() }
}

/// The reference: everything at once through `receive_into`, pieces joined; a message cut
/// short by an error does not count.
fn by_events(role: Role, config: Config, deflate: bool, wire: &[u8]) -> Seen {
    let mut conn = connection(role, config, deflate);
    let mut input = wire.to_vec();
    let mut scratch = vec![0u8; if deflate { 4096 } else { 0 }];
    let mut messages = Vec::new();
    let mut open: Option<(MessageKind, Vec<u8>)> = None;
    let mut pos = 0;
    let error = loop {
        let r = match conn.receive_into(&mut input[pos..], &mut scratch) {
            Ok(r) => r,
            Err(e) => break Some(e),
        };
        pos += r.consumed;
        match r.event {
            None => break None,
            Some(Event::Data { kind, data, first, last, text }) => {
                assert_eq!(text.is_some(), kind == MessageKind::Text && first && last);
                if let Some(text) = text {
                    assert_eq!(text.as_bytes(), data);
                }
                if first {
                    open = Some((kind, Vec::new()));
                }
                open.as_mut().expect("a first piece").1.extend_from_slice(data);
                if last {
                    let (kind, bytes) = open.take().unwrap();
                    messages.push(Logical::Message(kind, bytes));
                }
            }
            Some(Event::Ping(p)) => messages.push(Logical::Ping(p.as_bytes().to_vec())),
            Some(Event::Pong(p)) => messages.push(Logical::Pong(p.as_bytes().to_vec())),
            Some(Event::Close(c)) => messages.push(Logical::Close(c.code().map(|c| c.0), c.reason().to_owned())),
            Some(other) => panic!("unexpected {other:?}"),
        }
    };
    finish(conn, messages, error)
}

/// Cycles through the read sizes.
struct Reads<'a> {
    wire: &'a [u8],
    pos: usize,
    sizes: &'a [usize; 4],
    turn: usize,
}

impl Reads<'_> {
    fn read(&mut self, free: &mut [u8]) -> usize {
        assert!(!free.is_empty(), "free_space is empty after next returned None");
        let n = self.sizes[self.turn % 4].min(free.len()).min(self.wire.len() - self.pos);
        self.turn += 1;
        free[..n].copy_from_slice(&self.wire[self.pos..self.pos + n]);
        self.pos += n;
        n
    }
}

fn by_buffer(
    role: Role,
    config: Config,
    deflate: bool,
    wire: &[u8],
    sizes: &[usize; 4],
    two_steps: bool,
    stale_probe: bool,
) -> Seen {
    let mut conn = connection(role, config, deflate);
    let mut buf = ReceiveBuffer::with_read_size(sizes[0].min(8192));
    let mut reads = Reads { wire, pos: 0, sizes, turn: 0 };
    let mut messages = Vec::new();
    let mut previous = None;
    let error = loop {
        let next = if two_steps {
            match buf.next(&mut conn) {
                Ok(Some(found)) => {
                    if let Some(stale) = previous.replace(found).filter(|_| stale_probe) {
                        // Taken before this `next`: refused, and nothing changes (the
                        // comparison with the events below would see it).
                        assert_eq!(buf.message(stale, &mut conn), Err(Error::Misuse(Misuse::StaleFound)));
                    }
                    buf.message(found, &mut conn).map(|m| Some(logical(m)))
                }
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            }
        } else {
            buf.next_message(&mut conn).map(|m| m.map(logical))
        };
        match next {
            Ok(Some(m)) => {
                messages.push(m);
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
    finish(conn, messages, error)
}

fn by_slice(
    role: Role,
    config: Config,
    deflate: bool,
    wire: &[u8],
    sizes: &[usize; 4],
    storage: usize,
    scratch: usize,
) -> Seen {
    let mut conn = connection(role, config, deflate);
    let mut storage = vec![0u8; storage];
    let mut scratch = vec![0u8; scratch];
    let mut buf = SliceReceiveBuffer::with_scratch(&mut storage, &mut scratch);
    let mut reads = Reads { wire, pos: 0, sizes, turn: 0 };
    let mut messages = Vec::new();
    let error = loop {
        match buf.next_message(&mut conn) {
            Ok(Some(m)) => {
                messages.push(logical(m));
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
    finish(conn, messages, error)
}
