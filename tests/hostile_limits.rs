//! Hostile peers against the limits: floods of tiny and empty continuation frames, endless
//! continuation frames, pings at line rate, a handshake head that never ends (slowloris), and
//! a frame announcing 2^62 bytes. Each is refused at the documented limit with the documented
//! answer, and memory stays bounded: a counting allocator shows the receive path allocates
//! nothing, whatever the peer announces or repeats.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::measure;
use wsproto::handshake::{
    ClientRequest, DEFAULT_MAX_HEADERS, DEFAULT_MAX_REQUEST_SIZE, DEFAULT_MAX_RESPONSE_SIZE, HandshakeError,
    ServerHandshake, ServerStatus,
};
use wsproto::{
    Config, Connection, Error, Event, KeySource, Limit, MessageKind, ProtocolViolation, Role, State, TransportAction,
};

// A counting allocator: allocations and live bytes of the measuring thread only (the test
// harness runs other tests on other threads).

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

// ---------------------------------------------------------------------------------------------
// Frames from a hostile peer

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A frame header as a peer of `to` would send it (masked towards a server), announcing
/// `len` payload bytes.
fn header(to: Role, fin: bool, opcode: u8, len: u64) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    let mask = if to == Role::Server { 0x80 } else { 0 };
    match len {
        0..=125 => out.push(mask | len as u8),
        126..=0xffff => {
            out.push(mask | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(mask | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if to == Role::Server {
        out.extend_from_slice(&KEY);
    }
    out
}

/// `payload` masked with [`KEY`] from its first byte.
fn masked(payload: &[u8]) -> Vec<u8> {
    payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]).collect()
}

/// A whole frame as a peer of `to` would send it.
fn frame(to: Role, fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = header(to, fin, opcode, payload.len() as u64);
    if to == Role::Server {
        out.extend_from_slice(&masked(payload));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

fn conn(role: Role, config: Config) -> Connection {
    Connection::new(role, config).with_key_source(KeySource::seeded(9))
}

/// What feeding `input` to `conn` in one read produced: the number of data bytes and events
/// handed out, and the error that stopped it.
#[derive(Debug, Default)]
struct Fed {
    events: usize,
    data_bytes: usize,
    pings: usize,
    last_ping: wsproto::ControlPayload,
    error: Option<Error>,
}

fn feed(conn: &mut Connection, input: &mut [u8]) -> Fed {
    let mut fed = Fed::default();
    let mut pos = 0;
    loop {
        match conn.receive(&mut input[pos..]) {
            Ok(r) => {
                pos += r.consumed;
                match r.event {
                    None => return fed,
                    Some(Event::Data { data, .. }) => {
                        fed.events += 1;
                        fed.data_bytes += data.len();
                    }
                    Some(Event::Ping(p)) => {
                        fed.events += 1;
                        fed.pings += 1;
                        fed.last_ping = p;
                    }
                    Some(_) => fed.events += 1,
                }
            }
            Err(e) => {
                fed.error = Some(e);
                return fed;
            }
        }
    }
}

/// The connection failed with `e` and answers it with exactly one Close frame with `code`.
#[track_caller]
fn assert_closed_with(conn: &mut Connection, e: Error, code: u16) {
    assert_eq!(conn.state(), State::Failed);
    assert_eq!(conn.error(), Some(e));
    assert_eq!(e.close_code().map(|c| c.0), Some(code));
    let mut out = Vec::new();
    conn.poll_transmit(&mut out).unwrap();
    let (masked, offset) = if conn.role() == Role::Client { (0x80, 6) } else { (0, 2) };
    assert_eq!(&out[..2], &[0x88, masked | 2], "one Close frame with a code: {out:02x?}");
    assert_eq!(out.len(), offset + 2);
    let mut code_bytes = [out[offset], out[offset + 1]];
    if conn.role() == Role::Client {
        code_bytes[0] ^= out[2];
        code_bytes[1] ^= out[3];
    }
    assert_eq!(u16::from_be_bytes(code_bytes), code);
    assert_eq!(conn.transport_action(), TransportAction::Close);
    // Sticky: more input is refused with the same error.
    let mut more = frame(conn.role(), true, 0x2, b"x");
    assert_eq!(conn.receive(&mut more).err(), Some(e));
}

// ---------------------------------------------------------------------------------------------
// Fragment floods

#[test]
fn empty_continuation_flood_stops_at_max_fragments() {
    for role in [Role::Server, Role::Client] {
        for max in [1u32, 2, 1000, Config::new().max_fragments] {
            let mut c = conn(role, Config::new().max_fragments(max));
            // A first frame, then empty continuation frames up to the limit: accepted.
            let mut wire = frame(role, false, 0x2, b"a");
            for _ in 1..max {
                wire.extend(frame(role, false, 0x0, b""));
            }
            let fed = measure(|| feed(&mut c, &mut wire));
            assert_eq!(fed.value.error, None, "{max} frames are within the limit");
            assert_eq!((fed.value.events, fed.value.data_bytes), (1, 1), "empty frames hand out nothing");
            assert_eq!(fed.allocations, 0, "a fragment flood allocates nothing");
            // One more frame, even empty, is one too many: refused at its header.
            let mut extra = header(role, false, 0x0, 0);
            let fed = feed(&mut c, &mut extra);
            let e = Error::LimitExceeded(Limit::Fragments);
            assert_eq!(fed.error, Some(e), "frame {} of a {max}-frame limit", max + 1);
            assert_closed_with(&mut c, e, 1009);
        }
    }
}

#[test]
fn tiny_fragment_flood_is_streamed_not_buffered() {
    let max = 10_000;
    let mut c = conn(Role::Server, Config::new().max_fragments(max));
    let mut wire = frame(Role::Server, false, 0x1, b"a");
    for i in 1..max {
        wire.extend(frame(Role::Server, i + 1 == max, 0x0, b"b"));
    }
    let fed = measure(|| feed(&mut c, &mut wire));
    assert_eq!(fed.value.error, None);
    assert_eq!((fed.value.events, fed.value.data_bytes), (max as usize, max as usize));
    assert_eq!(fed.allocations, 0, "pieces are lent from the input, never gathered");
    // The count starts again with the next message.
    let mut next = frame(Role::Server, false, 0x2, b"c");
    next.extend(frame(Role::Server, true, 0x0, b"d"));
    assert_eq!(feed(&mut c, &mut next).error, None);
    // And the limit holds for it too.
    let mut flood = frame(Role::Server, false, 0x1, b"a");
    for _ in 0..max {
        flood.extend(frame(Role::Server, false, 0x0, b"b"));
    }
    let fed = feed(&mut c, &mut flood);
    assert_eq!(fed.error, Some(Error::LimitExceeded(Limit::Fragments)));
    assert_eq!(fed.data_bytes, max as usize, "every byte before the refused frame was handed out");
    assert_closed_with(&mut c, Error::LimitExceeded(Limit::Fragments), 1009);
}

#[test]
fn endless_continuation_frames_hit_the_message_limit_at_the_header() {
    for role in [Role::Server, Role::Client] {
        let config = Config::new().max_message_size(1 << 20);
        let mut c = conn(role, config);
        // 4 KiB frames, never final: 256 of them fill the 1 MiB limit exactly.
        let chunk = vec![b'z'; 4096];
        let mut wire = frame(role, false, 0x2, &chunk);
        for _ in 1..256 {
            wire.extend(frame(role, false, 0x0, &chunk));
        }
        let fed = measure(|| feed(&mut c, &mut wire));
        assert_eq!(fed.value.error, None);
        assert_eq!(fed.value.data_bytes, 1 << 20);
        assert_eq!(fed.allocations, 0, "a streamed message is never buffered");
        // The next header alone, before any of its payload, is refused.
        let mut next = header(role, false, 0x0, 1);
        let e = Error::LimitExceeded(Limit::MessageSize);
        assert_eq!(feed(&mut c, &mut next).error, Some(e));
        assert_closed_with(&mut c, e, 1009);
    }
}

#[test]
fn endless_continuation_frames_with_default_limits() {
    // With the defaults, 1000-byte frames reach 64 MiB (67 108 frames) before 131 072
    // fragments: the message limit stops them. 100-byte frames reach the fragment limit first.
    let defaults = Config::new();
    for (size, limit) in [(1000usize, Limit::MessageSize), (100, Limit::Fragments)] {
        let mut c = conn(Role::Client, defaults);
        let chunk = vec![0u8; size];
        let mut wire = frame(Role::Client, false, 0x2, &chunk);
        let one = frame(Role::Client, false, 0x0, &chunk);
        let mut frames = 0u64;
        let error = loop {
            // Feed a batch of 1000 frames at a time, as reads from a socket would be.
            for _ in 0..1000 {
                wire.extend_from_slice(&one);
            }
            let fed = feed(&mut c, &mut wire);
            wire.clear();
            frames += (fed.data_bytes / size) as u64;
            if let Some(e) = fed.error {
                break e;
            }
        };
        assert_eq!(error, Error::LimitExceeded(limit));
        let expected = match limit {
            Limit::MessageSize => defaults.max_message_size / size as u64,
            _ => u64::from(defaults.max_fragments),
        };
        assert_eq!(frames, expected, "frames accepted before the {limit:?} limit");
        assert_closed_with(&mut c, error, 1009);
    }
}

// ---------------------------------------------------------------------------------------------
// Ping floods

#[test]
fn ping_flood_queues_one_pong_for_the_latest_ping() {
    for role in [Role::Server, Role::Client] {
        let mut c = conn(role, Config::new());
        let pings = 10_000u32;
        let mut wire = Vec::new();
        for i in 0..pings {
            let mut payload = [0u8; 125];
            payload[..4].copy_from_slice(&i.to_be_bytes());
            wire.extend(frame(role, true, 0x9, &payload));
        }
        let fed = measure(|| feed(&mut c, &mut wire));
        assert_eq!(fed.value.error, None);
        assert_eq!(fed.value.pings, pings as usize);
        assert_eq!(fed.allocations, 0, "pings are answered from a fixed slot, never queued");
        assert!(c.wants_transmit());
        let mut out = Vec::new();
        let n = c.poll_transmit(&mut out).unwrap();
        // Exactly one Pong, answering the latest Ping.
        let mask_len = if role == Role::Client { 4 } else { 0 };
        assert_eq!(n, 2 + mask_len + 125, "one Pong of 125 bytes");
        assert_eq!(out[0], 0x8a);
        let mut payload = out[2 + mask_len..].to_vec();
        if role == Role::Client {
            let key = [out[2], out[3], out[4], out[5]];
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        assert_eq!(payload, fed.value.last_ping.as_bytes());
        assert_eq!(&payload[..4], &(pings - 1).to_be_bytes());
        assert!(!c.wants_transmit());
        assert_eq!(c.poll_transmit(&mut out).unwrap(), 0, "nothing more is owed");
    }
}

#[test]
fn ping_flood_between_fragments_and_one_read_at_a_time() {
    // Pings arriving one read at a time, inside a fragmented message, still leave one Pong.
    let mut c = conn(Role::Server, Config::new());
    let mut first = frame(Role::Server, false, 0x1, b"start");
    assert_eq!(feed(&mut c, &mut first).error, None);
    let mut pings: Vec<Vec<u8>> = (0..5000u16).map(|i| frame(Role::Server, true, 0x9, &i.to_be_bytes())).collect();
    let measured = measure(|| {
        for ping in &mut pings {
            assert_eq!(feed(&mut c, ping).error, None);
        }
    });
    assert_eq!(measured.allocations, 0);
    let mut last = frame(Role::Server, true, 0x0, b" end");
    assert_eq!(feed(&mut c, &mut last).error, None);
    let mut out = Vec::new();
    c.poll_transmit(&mut out).unwrap();
    assert_eq!(out, [0x8a, 0x02, 0x13, 0x87], "one Pong for Ping 4999");
}

#[test]
fn ping_flood_without_auto_pong_queues_nothing() {
    let mut c = conn(Role::Server, Config::new().auto_pong(false));
    let mut wire = Vec::new();
    for _ in 0..1000 {
        wire.extend(frame(Role::Server, true, 0x9, b"ping"));
    }
    assert_eq!(feed(&mut c, &mut wire).pings, 1000);
    assert!(!c.wants_transmit());
}

// ---------------------------------------------------------------------------------------------
// Slowloris handshakes

/// Feeds `start`, then `filler` one byte at a time until the reader answers; returns the
/// answer, the bytes fed in all, and the peak of live heap bytes while feeding.
fn slowloris_server(mut reader: ServerHandshake, start: &[u8], filler: &[u8]) -> (HandshakeError, usize, usize) {
    let measured = measure(|| {
        let mut fed = 0;
        for &b in start.iter().chain(filler.iter().cycle()) {
            fed += 1;
            match reader.feed(&[b]) {
                Ok(ServerStatus::NeedMore) => {}
                Ok(other) => panic!("a head that never ends was taken: {other:?}"),
                Err(e) => return (e, fed),
            }
            assert!(fed < 1 << 20, "the reader never gave up");
        }
        unreachable!()
    });
    let (e, fed) = measured.value;
    (e, fed, measured.peak)
}

#[test]
fn slowloris_request_head_is_capped_at_8_kib_with_431() {
    let start = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nX-Slow: ";
    let (e, fed, peak) = slowloris_server(ServerHandshake::new(), start, b"a");
    assert_eq!(e, HandshakeError::HeadTooLarge { limit: DEFAULT_MAX_REQUEST_SIZE });
    assert_eq!(DEFAULT_MAX_REQUEST_SIZE, 8192);
    assert_eq!(fed, DEFAULT_MAX_REQUEST_SIZE, "refused as soon as the cap is reached");
    // The head buffer (its capacity at most twice the cap) and 64 header slots for the parser.
    assert!(peak <= 2 * DEFAULT_MAX_REQUEST_SIZE + 4096, "{peak} bytes held for an 8 KiB cap");
    assert_eq!(e.status_hint(), 431);
    let mut out = Vec::new();
    e.write_response(&mut out).unwrap();
    assert!(out.starts_with(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), "{}", String::from_utf8_lossy(&out));

    // A request line that never ends, and a smaller cap.
    let (e, fed, peak) = slowloris_server(ServerHandshake::new().with_max_request_size(1000), b"GET /", b"a");
    assert_eq!((e, fed), (HandshakeError::HeadTooLarge { limit: 1000 }, 1000));
    assert!(peak <= 2 * 1000 + 4096, "{peak} bytes held for a 1000-byte cap");
    assert_eq!(e.status_hint(), 431);
}

#[test]
fn slowloris_header_lines_hit_the_header_count_with_431() {
    // Short header lines, one byte at a time: the 65th line is refused long before 8 KiB.
    let start = b"GET / HTTP/1.1\r\n";
    let (e, fed, _) = slowloris_server(ServerHandshake::new(), start, b"X: a\r\n");
    assert_eq!(e, HandshakeError::TooManyHeaders { limit: DEFAULT_MAX_HEADERS });
    assert_eq!(e.status_hint(), 431);
    assert!(fed <= start.len() + 6 * (DEFAULT_MAX_HEADERS + 1), "refused after {fed} bytes");
}

#[test]
fn slowloris_response_head_is_capped_at_16_kib() {
    let mut hs = ClientRequest::new("ws://example.com/")
        .unwrap()
        .with_key_source(KeySource::seeded(1))
        .write(&mut Vec::new())
        .unwrap();
    let start = b"HTTP/1.1 101 Switching Protocols\r\nX-Slow: ";
    let measured = measure(|| {
        let mut fed = 0;
        for &b in start.iter().chain([b'a'].iter().cycle()) {
            fed += 1;
            if let Err(e) = hs.feed(&[b]) {
                return (e, fed);
            }
            assert!(fed < 1 << 20);
        }
        unreachable!()
    });
    let (e, fed) = measured.value;
    assert_eq!(e, HandshakeError::HeadTooLarge { limit: DEFAULT_MAX_RESPONSE_SIZE });
    assert_eq!(fed, DEFAULT_MAX_RESPONSE_SIZE);
    assert!(measured.peak <= 2 * DEFAULT_MAX_RESPONSE_SIZE + 4096, "{} bytes held", measured.peak);
    // The reader is done: more bytes are not buffered.
    assert_eq!(hs.feed(b"\r\n\r\n"), Err(HandshakeError::Finished));
}

// ---------------------------------------------------------------------------------------------
// Huge announced lengths

#[test]
fn frame_announcing_2_pow_62_bytes_is_refused_at_the_header() {
    for role in [Role::Server, Role::Client] {
        for opcode in [0x1, 0x2] {
            let mut c = conn(role, Config::new());
            let mut head = header(role, true, opcode, 1 << 62);
            assert_eq!(head.len(), if role == Role::Server { 14 } else { 10 });
            let fed = measure(|| feed(&mut c, &mut head));
            let e = Error::LimitExceeded(Limit::FramePayload);
            assert_eq!(fed.value.error, Some(e), "refused on the header alone");
            assert_eq!(fed.allocations, 0, "nothing is allocated for an announced length");
            assert_closed_with(&mut c, e, 1009);
        }
        // On a continuation frame too.
        let mut c = conn(role, Config::new());
        let mut wire = frame(role, false, 0x2, b"first");
        wire.extend(header(role, true, 0x0, 1 << 62));
        let fed = feed(&mut c, &mut wire);
        assert_eq!((fed.data_bytes, fed.error), (5, Some(Error::LimitExceeded(Limit::FramePayload))));
        assert_closed_with(&mut c, Error::LimitExceeded(Limit::FramePayload), 1009);
    }
}

#[test]
fn huge_frames_against_each_limit() {
    // No frame limit: the message limit refuses it, still at the header.
    let mut c = conn(Role::Server, Config::new().max_frame_payload(u64::MAX));
    let mut head = header(Role::Server, true, 0x2, 1 << 62);
    let fed = measure(|| feed(&mut c, &mut head));
    assert_eq!(fed.value.error, Some(Error::LimitExceeded(Limit::MessageSize)));
    assert_eq!(fed.allocations, 0);
    assert_closed_with(&mut c, Error::LimitExceeded(Limit::MessageSize), 1009);

    // No limits at all: the header is taken and the payload streams through as it arrives,
    // still without allocating for the announced size.
    let mut c = conn(Role::Server, Config::new().max_frame_payload(u64::MAX).max_message_size(u64::MAX));
    let mut wire = header(Role::Server, true, 0x2, 1 << 62);
    wire.extend_from_slice(&masked(&[7u8; 4096]));
    let fed = measure(|| feed(&mut c, &mut wire));
    assert_eq!(fed.value.error, None);
    assert_eq!(fed.value.data_bytes, 4096);
    assert_eq!(fed.allocations, 0);
    assert_eq!(c.state(), State::Open);

    // The top bit of the 64-bit length may not be set: a protocol error (1002).
    let mut c = conn(Role::Client, Config::new().max_frame_payload(u64::MAX).max_message_size(u64::MAX));
    let mut head = header(Role::Client, true, 0x2, 1 << 63);
    let e = Error::Protocol(ProtocolViolation::LengthTopBitSet);
    assert_eq!(feed(&mut c, &mut head).error, Some(e));
    assert_closed_with(&mut c, e, 1002);
}

#[cfg(feature = "deflate")]
#[test]
fn huge_compressed_frame_is_refused_at_the_header() {
    use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
    let agreed = PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new());
    let mut c = conn(Role::Client, Config::new()).with_deflate(agreed);
    let mut head = header(Role::Client, true, 0x2, 1 << 62);
    head[0] |= 0x40; // RSV1: compressed
    let mut scratch = [0u8; 64];
    let measured = measure(|| c.receive_into(&mut head, &mut scratch).map(|r| r.consumed));
    assert_eq!(measured.value, Err(Error::LimitExceeded(Limit::FramePayload)));
    assert_eq!(measured.allocations, 0);
    assert_closed_with(&mut c, Error::LimitExceeded(Limit::FramePayload), 1009);
}

#[test]
fn defaults_are_the_documented_ones() {
    let c = Config::new();
    assert_eq!(c.max_frame_payload, 16 << 20);
    assert_eq!(c.max_message_size, 64 << 20);
    assert_eq!(c.max_fragments, 131_072);
    assert_eq!(c.max_outgoing_frame, 1 << 20);
    assert!(c.auto_pong && c.auto_close_reply);
    assert_eq!((DEFAULT_MAX_REQUEST_SIZE, DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_MAX_HEADERS), (8192, 16384, 64));
    // Text limits are enforced the same way: a kind does not change a limit.
    let _ = MessageKind::Text;
}
