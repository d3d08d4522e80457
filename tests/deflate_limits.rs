//! `Config::max_message_size` counts inflated bytes (RFC 7692 §8 warns of decompression
//! bombs): a small compressed frame that would inflate to tens or hundreds of MiB fails with
//! 1009 after at most the limit has been handed out, whole or fragmented, and a message
//! exactly at the limit passes.
//!
//! DEFLATE cannot do better than about 1032:1 (a 258-byte match in two bits), so the bombs are
//! ~48 KiB of compressed data inflating to 48 MiB, and ~256 KiB inflating to 256 MiB.
#![cfg(feature = "deflate")]

mod common;

use common::deflate::TRAILER;
use common::{KEY, frame};
use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use wsproto::{Config, Connection, Error, Event, KeySource, Limit, MessageKind, Role};

const MIB: usize = 1 << 20;
const LIMIT: usize = MIB;
const SCRATCH: usize = 16 * 1024;

fn agreed() -> PerMessageDeflate {
    PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new())
}

fn receiver(role: Role) -> Connection {
    let config = Config::new().max_message_size(LIMIT as u64);
    Connection::new(role, config).with_key_source(KeySource::seeded(1)).with_deflate(agreed())
}

/// `data` compressed by flate2 at the best level with a sync flush, the trailer kept.
fn deflate_sync(data: &[u8]) -> Vec<u8> {
    common::deflate::deflate_sync(data, 9)
}

/// The compressed payload of a bomb: a sync-flushed stream of 1 MiB of zeros, `mib` times in a
/// row (each piece ends byte-aligned, and its matches reach only zeros), without the final
/// trailer, as a peer sends it. It inflates to `mib` MiB of zeros.
fn bomb(mib: usize) -> Vec<u8> {
    let chunk = deflate_sync(&vec![0u8; MIB]);
    assert!(chunk.len() < 1100, "about 1000:1 ({} bytes)", chunk.len());
    let mut payload = chunk.repeat(mib);
    payload.truncate(payload.len() - TRAILER.len());
    payload
}

/// Frames carrying `payload` as one message (RSV1 on the first frame), split into frames of
/// `frame_size` bytes, with a Ping after each frame when `pings`; masked when `mask`.
fn frames(opcode: u8, payload: &[u8], frame_size: usize, pings: bool, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut wire = Vec::new();
    let chunks: Vec<&[u8]> = payload.chunks(frame_size).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let fin = if i + 1 == chunks.len() { 0x80 } else { 0 };
        let (op, rsv1) = if i == 0 { (opcode, 0x40) } else { (0, 0) };
        wire.extend(frame(fin | rsv1 | op, chunk, mask));
        if pings && fin == 0 {
            wire.extend(frame(0x89, b"p", mask));
        }
    }
    wire
}

/// What receiving produced.
#[derive(Debug, Default)]
struct Outcome {
    /// Data bytes handed out, and whether all were zeros.
    handed_out: usize,
    all_zero: bool,
    largest_piece: usize,
    messages: Vec<(MessageKind, usize)>,
    pings: usize,
    /// Input consumed by the calls that returned `Ok`.
    consumed: usize,
    error: Option<Error>,
}

/// Feeds `wire` in chunks of `chunk` bytes through `receive_into` with a `scratch`-byte buffer,
/// until everything is consumed or an error.
fn receive(conn: &mut Connection, wire: &[u8], chunk: usize, scratch: usize) -> Outcome {
    let mut input = wire.to_vec();
    let mut scratch = vec![0u8; scratch];
    let mut out = Outcome { all_zero: true, ..Outcome::default() };
    let mut current = 0;
    let mut start = 0;
    while start < input.len() {
        let end = (start + chunk).min(input.len());
        let mut pos = start;
        loop {
            match conn.receive_into(&mut input[pos..end], &mut scratch) {
                Ok(r) => {
                    pos += r.consumed;
                    out.consumed += r.consumed;
                    match r.event {
                        None => break,
                        Some(Event::Data { kind, data, last, .. }) => {
                            out.handed_out += data.len();
                            out.all_zero &= data.iter().all(|&b| b == 0);
                            out.largest_piece = out.largest_piece.max(data.len());
                            current += data.len();
                            if last {
                                out.messages.push((kind, current));
                                current = 0;
                            }
                        }
                        Some(Event::Ping(_)) => out.pings += 1,
                        Some(other) => panic!("{other:?}"),
                    }
                }
                Err(e) => {
                    out.error = Some(e);
                    return out;
                }
            }
        }
        assert_eq!(pos, end);
        start = end;
    }
    out
}

/// The Close frame queued after a failure: its code.
fn queued_close(conn: &mut Connection) -> u16 {
    let mut out = Vec::new();
    conn.poll_transmit(&mut out).unwrap();
    let masked = out[1] & 0x80 != 0;
    assert_eq!(out[0], 0x88, "a Close frame");
    assert_eq!(out[1] & 0x7f, 2, "with a code and no reason");
    let mut code = if masked { [out[6], out[7]] } else { [out[2], out[3]] };
    if masked {
        code[0] ^= out[2];
        code[1] ^= out[3];
    }
    assert!(!conn.wants_transmit());
    u16::from_be_bytes(code)
}

#[track_caller]
fn assert_stopped_by_the_limit(conn: &mut Connection, got: &Outcome, scratch: usize) {
    assert_eq!(got.error, Some(Error::LimitExceeded(Limit::MessageSize)), "{got:?}");
    assert_eq!(got.error.unwrap().close_code().map(|c| c.0), Some(1009));
    assert!(got.handed_out <= LIMIT + scratch, "{} bytes handed out", got.handed_out);
    assert!(got.handed_out <= LIMIT, "never more than the limit: {}", got.handed_out);
    assert!(got.all_zero);
    assert!(got.largest_piece <= scratch);
    assert!(got.messages.is_empty(), "no message completed");
    assert_eq!(queued_close(conn), 1009);
    assert_eq!(conn.error(), Some(Error::LimitExceeded(Limit::MessageSize)));
    // Every later call repeats the error.
    let mut more = vec![0x81, 0x00];
    assert_eq!(conn.receive_into(&mut more, &mut [0; 16]), Err(Error::LimitExceeded(Limit::MessageSize)));
}

#[test]
fn the_bomb_is_what_it_claims() {
    // Inflate the 48 MiB bomb with flate2 alone, into a reused buffer.
    let mut payload = bomb(48);
    assert!((40_000..50_000).contains(&payload.len()), "{} bytes", payload.len());
    payload.extend_from_slice(&TRAILER);
    let mut d = flate2::Decompress::new(false);
    let mut buf = vec![0u8; MIB];
    let mut total = 0usize;
    loop {
        let (i0, o0) = (d.total_in(), d.total_out());
        d.decompress(&payload[d.total_in() as usize..], &mut buf, flate2::FlushDecompress::Sync).unwrap();
        let made = (d.total_out() - o0) as usize;
        assert!(buf[..made].iter().all(|&b| b == 0));
        total += made;
        if d.total_in() as usize == payload.len() && made < buf.len() {
            break;
        }
        assert!(d.total_in() > i0 || made > 0);
    }
    assert_eq!(total, 48 * MIB);
}

#[test]
fn a_decompression_bomb_in_one_frame_fails_with_1009() {
    for (mib, role) in [(48, Role::Server), (48, Role::Client), (256, Role::Server)] {
        let payload = bomb(mib);
        let mask = (role == Role::Server).then_some(KEY);
        let wire = frames(2, &payload, usize::MAX, false, mask);
        for chunk in [usize::MAX, 1000] {
            let mut conn = receiver(role);
            let got = receive(&mut conn, &wire, chunk, SCRATCH);
            assert_stopped_by_the_limit(&mut conn, &got, SCRATCH);
            // It did inflate up to the limit before stopping, and read little of the input.
            assert!(got.handed_out + SCRATCH > LIMIT, "{}", got.handed_out);
            assert!(got.consumed < 16 * 1024, "stopped early: {} of {} bytes read", got.consumed, wire.len());
        }
    }
}

#[test]
fn a_fragmented_decompression_bomb_fails_with_1009() {
    let payload = bomb(48);
    for role in [Role::Server, Role::Client] {
        let mask = (role == Role::Server).then_some(KEY);
        // 8 KiB frames: the first one alone is over the limit. 256-byte frames: about 256 KiB
        // each, so the limit is crossed in the fifth, with Pings between the frames.
        for (frame_size, pings) in [(8 * 1024, false), (256, false), (256, true)] {
            let wire = frames(2, &payload, frame_size, pings, mask);
            for (chunk, scratch) in [(usize::MAX, SCRATCH), (700, SCRATCH), (usize::MAX, 1000)] {
                let mut conn = receiver(role);
                let got = receive(&mut conn, &wire, chunk, scratch);
                assert_stopped_by_the_limit(&mut conn, &got, scratch);
                assert!(got.handed_out + scratch > LIMIT, "{}", got.handed_out);
                if pings {
                    assert!(got.pings >= 3, "the Pings between the first frames came through");
                }
            }
        }
    }
}

#[test]
fn a_scratch_buffer_larger_than_the_limit_still_stops_the_bomb() {
    let wire = frames(2, &bomb(48), usize::MAX, false, Some(KEY));
    let mut conn = receiver(Role::Server);
    let got = receive(&mut conn, &wire, usize::MAX, 4 * MIB);
    assert_eq!(got.error, Some(Error::LimitExceeded(Limit::MessageSize)));
    // The first piece would already be over the limit: nothing is handed out.
    assert_eq!(got.handed_out, 0);
    assert_eq!(queued_close(&mut conn), 1009);
}

/// What a client with deflate on sends for `data` (as `kind`), with frames of at most
/// `max_frame` bytes.
fn sent_by_client(kind: MessageKind, data: &[u8], max_frame: usize) -> Vec<u8> {
    let config = Config::new().max_outgoing_frame(max_frame);
    let mut client = Connection::new(Role::Client, config).with_key_source(KeySource::seeded(2)).with_deflate(agreed());
    let mut wire = Vec::new();
    client.send(kind, data, &mut wire).unwrap();
    assert_eq!(wire[0] & 0x40, 0x40, "compressed");
    wire
}

/// Valid UTF-8 text of exactly `len` bytes.
fn text_of(len: usize) -> Vec<u8> {
    let mut s = "permessage-deflate counts inflated bytes; ünïcödé 🦀 ".repeat(len / 40 + 1);
    while s.len() > len {
        s.pop();
    }
    while s.len() < len {
        s.push('.');
    }
    s.into_bytes()
}

#[test]
fn a_message_exactly_at_the_limit_passes() {
    for max_frame in [MIB, 100] {
        for (kind, data) in [(MessageKind::Binary, vec![0u8; LIMIT]), (MessageKind::Text, text_of(LIMIT))] {
            let wire = sent_by_client(kind, &data, max_frame);
            assert!(wire.len() < LIMIT / 20);
            for (chunk, scratch) in [(usize::MAX, SCRATCH), (333, 4096), (usize::MAX, LIMIT + 1)] {
                let mut server = receiver(Role::Server);
                let got = receive(&mut server, &wire, chunk, scratch);
                assert_eq!(got.error, None, "max_frame {max_frame}, scratch {scratch}");
                assert_eq!(got.messages, [(kind, LIMIT)]);
                assert_eq!(server.error(), None);
                // And the connection carries on.
                let small = if kind == MessageKind::Text { text_of(1000) } else { vec![0; 1000] };
                let got = receive(&mut server, &sent_by_client(kind, &small, max_frame), chunk, scratch);
                assert_eq!((got.error, got.messages), (None, vec![(kind, 1000)]));
            }
        }
    }
}

#[test]
fn one_byte_over_the_limit_fails() {
    for max_frame in [MIB, 100] {
        for (kind, data) in [(MessageKind::Binary, vec![0u8; LIMIT + 1]), (MessageKind::Text, text_of(LIMIT + 1))] {
            let wire = sent_by_client(kind, &data, max_frame);
            for (chunk, scratch) in [(usize::MAX, SCRATCH), (333, 4096), (usize::MAX, LIMIT + 1)] {
                let mut server = receiver(Role::Server);
                let got = receive(&mut server, &wire, chunk, scratch);
                assert_eq!(got.error, Some(Error::LimitExceeded(Limit::MessageSize)), "scratch {scratch}");
                assert!(got.handed_out <= LIMIT);
                assert!(got.messages.is_empty());
                assert_eq!(queued_close(&mut server), 1009);
            }
        }
    }
}

#[test]
fn compressed_frames_still_obey_the_frame_and_fragment_limits() {
    let payload = bomb(4);
    // The compressed frame itself is larger than max_frame_payload.
    let config = Config::new().max_frame_payload(1000);
    let mut conn = Connection::new(Role::Server, config).with_deflate(agreed());
    let got = receive(&mut conn, &frames(2, &payload, usize::MAX, false, Some(KEY)), usize::MAX, SCRATCH);
    assert_eq!(got.error, Some(Error::LimitExceeded(Limit::FramePayload)));
    assert_eq!(got.handed_out, 0);
    // Too many fragments.
    let config = Config::new().max_fragments(3);
    let mut conn = Connection::new(Role::Server, config).with_deflate(agreed());
    let got = receive(&mut conn, &frames(2, &payload, 100, false, Some(KEY)), usize::MAX, SCRATCH);
    assert_eq!(got.error, Some(Error::LimitExceeded(Limit::Fragments)));
    assert_eq!(queued_close(&mut conn), 1009);
}

#[test]
fn the_limit_is_exact_with_tiny_scratch_buffers() {
    const SMALL: usize = 1000;
    for kind in [MessageKind::Binary, MessageKind::Text] {
        for (len, passes) in [(SMALL - 1, true), (SMALL, true), (SMALL + 1, false), (SMALL + 100, false)] {
            let data = if kind == MessageKind::Text { text_of(len) } else { vec![0; len] };
            for max_frame in [MIB, 7] {
                let wire = sent_by_client(kind, &data, max_frame);
                for scratch in [1, 2, 3, 7, SMALL - 1, SMALL, SMALL + 1] {
                    let config = Config::new().max_message_size(SMALL as u64);
                    let mut server = Connection::new(Role::Server, config).with_deflate(agreed());
                    let got = receive(&mut server, &wire, 5, scratch);
                    let ctx = format!("{kind:?} of {len}, frames of {max_frame}, scratch {scratch}");
                    if passes {
                        assert_eq!((got.error, got.messages), (None, vec![(kind, len)]), "{ctx}");
                    } else {
                        assert_eq!(got.error, Some(Error::LimitExceeded(Limit::MessageSize)), "{ctx}");
                        assert!(got.handed_out <= SMALL, "{ctx}");
                        assert!(got.handed_out + scratch > SMALL, "{ctx}: stopped at {}", got.handed_out);
                        assert_eq!(queued_close(&mut server), 1009);
                    }
                }
            }
        }
    }
}

/// Compressed data that inflates to `data`, then a block of the reserved type 3 (invalid
/// DEFLATE, found only after `data` came out).
fn then_corrupt(data: &[u8]) -> Vec<u8> {
    let mut payload = deflate_sync(data);
    payload.push(0x07); // BFINAL = 1, BTYPE = 11: "invalid block type"
    payload.extend_from_slice(&[0; 8]);
    payload
}

/// Faults are reported in stream order: inflated bytes that break a rule (UTF-8, the size
/// limit) before the corruption decide the close code, whatever the read split and the scratch
/// size. (Before, one read of the whole frame said 1002 and byte-by-byte reads said 1007; and
/// invalid UTF-8 just under the limit said 1009 with a large scratch buffer.)
#[test]
fn a_fault_before_corrupt_data_decides_the_close_code_at_every_split() {
    let bad_text = then_corrupt(b"all fine until here \xff and then more text");
    let good_text = then_corrupt("all valid text, then corrupt data: \u{20ac}".as_bytes());
    let oversize = then_corrupt(&vec![b'a'; LIMIT + 100]);
    let mut bad_then_oversize = vec![b'a'; LIMIT + 100];
    bad_then_oversize[LIMIT - 1] = 0xff;
    let bad_then_oversize = deflate_sync(&bad_then_oversize);
    let cases: [(&[u8], Error, u16); 4] = [
        (&bad_then_oversize, Error::InvalidUtf8 { offset: LIMIT as u64 - 1 }, 1007),
        (&bad_text, Error::InvalidUtf8 { offset: 20 }, 1007),
        (&good_text, wsproto::ProtocolViolation::Extension("invalid compressed data").into(), 1002),
        (&oversize, Error::LimitExceeded(Limit::MessageSize), 1009),
    ];
    for (payload, error, code) in cases {
        let wire = frames(0x1, payload, payload.len(), false, Some(KEY));
        for chunk in [1, 2, 3, 7, 64, 1000, wire.len()] {
            for scratch in [7, 64, 4096, 2 * LIMIT] {
                if payload.len() > 10_000 && chunk < 64 && scratch < 64 {
                    continue; // a million calls each; the larger pieces cover the same paths
                }
                let mut conn = receiver(Role::Server);
                let got = receive(&mut conn, &wire, chunk, scratch);
                assert_eq!(got.error, Some(error), "chunk {chunk}, scratch {scratch}: {got:?}");
                assert_eq!(queued_close(&mut conn), code);
                assert!(got.messages.is_empty());
            }
        }
    }
}
