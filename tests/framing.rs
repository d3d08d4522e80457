//! Frame layout (RFC 6455 §5.2, §5.7): opcodes, FIN/RSV bits, the three length encodings, and
//! the header rules a peer can break.

mod common;

use common::*;
use wsproto::{Config, Connection, Error, KeySource, MessageKind, ProtocolViolation, Role, SliceBuf};

const BOUNDARY_LENGTHS: [usize; 7] = [0, 125, 126, 127, 65535, 65536, 65537];

fn rfc_key_source() -> KeySource {
    // Always hands out the RFC 6455 §5.7 example key 37 fa 21 3d.
    KeySource::from_fn(|buf| {
        for chunk in buf.chunks_mut(4) {
            chunk.copy_from_slice(&[0x37, 0xfa, 0x21, 0x3d][..chunk.len()]);
        }
    })
}

fn expected_header(len: usize, mask: Option<[u8; 4]>, first_byte: u8) -> Vec<u8> {
    let m = if mask.is_some() { 0x80 } else { 0 };
    let mut h = vec![first_byte];
    if len < 126 {
        h.push(m | len as u8);
    } else if len <= 0xffff {
        h.push(m | 126);
        h.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        h.push(m | 127);
        h.extend_from_slice(&(len as u64).to_be_bytes());
    }
    if let Some(k) = mask {
        h.extend_from_slice(&k);
    }
    h
}

#[test]
fn rfc_5_7_single_frame_unmasked_text() {
    let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let mut c = client(Config::new());
    assert_eq!(feed_copy(&mut c, &wire).ok(), [Ev::text("Hello")]);

    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.send_text("Hello", &mut out).unwrap();
    assert_eq!(out, wire);
}

#[test]
fn rfc_5_7_single_frame_masked_text() {
    let wire = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    let mut s = server(Config::new());
    let mut buf = wire;
    let fed = feed(&mut s, &mut buf);
    assert_eq!(fed.ok(), [Ev::text("Hello")]);
    // The payload was unmasked in place in the caller's buffer.
    assert_eq!(&buf[6..], b"Hello");

    let mut c = Connection::new(Role::Client, Config::new()).with_key_source(rfc_key_source());
    let mut out = Vec::new();
    c.send_text("Hello", &mut out).unwrap();
    assert_eq!(out, wire);
}

#[test]
fn rfc_5_7_fragmented_unmasked_text() {
    let wire = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    let mut c = client(Config::new());
    assert_eq!(
        feed_copy(&mut c, &wire).ok(),
        [Ev::piece(MessageKind::Text, b"Hel", true, false), Ev::piece(MessageKind::Text, b"lo", false, true)]
    );

    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.send_fragment(MessageKind::Text, b"Hel", false, &mut out).unwrap();
    s.send_fragment(MessageKind::Text, b"lo", true, &mut out).unwrap();
    assert_eq!(out, wire);
}

#[test]
fn rfc_5_7_ping_and_masked_pong() {
    let ping = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let mut c = client(Config::new());
    assert_eq!(feed_copy(&mut c, &ping).ok(), [Ev::Ping(b"Hello".to_vec())]);
    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.ping(b"Hello", &mut out).unwrap();
    assert_eq!(out, ping);

    let pong = [0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    let mut s = server(Config::new());
    assert_eq!(feed_copy(&mut s, &pong).ok(), [Ev::Pong(b"Hello".to_vec())]);
    let mut c = Connection::new(Role::Client, Config::new()).with_key_source(rfc_key_source());
    let mut out = Vec::new();
    c.pong(b"Hello", &mut out).unwrap();
    assert_eq!(out, pong);
}

#[test]
fn rfc_5_7_256_and_64k_binary() {
    let payload256: Vec<u8> = (0..256).map(|i| i as u8).collect();
    let mut wire = vec![0x82, 0x7e, 0x01, 0x00];
    wire.extend_from_slice(&payload256);
    let mut c = client(Config::new());
    assert_eq!(feed_copy(&mut c, &wire).ok(), [Ev::binary(&payload256)]);
    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.send_binary(&payload256, &mut out).unwrap();
    assert_eq!(out, wire);

    let payload64k: Vec<u8> = (0..65536).map(|i| (i * 7) as u8).collect();
    let mut wire = vec![0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0];
    wire.extend_from_slice(&payload64k);
    let mut c = client(Config::new());
    assert_eq!(feed_copy(&mut c, &wire).ok(), [Ev::binary(&payload64k)]);
    let mut out = Vec::new();
    s.send_binary(&payload64k, &mut out).unwrap();
    assert_eq!(out, wire);
}

#[test]
fn every_opcode_received_by_both_roles() {
    for from in [Role::Client, Role::Server] {
        let mut wire = Vec::new();
        wire.extend(frame_from(from, 0x1, b"text"));
        wire.extend(frame_from(from, 0x2, b"\x00\xffbin"));
        wire.extend(frame_from_fin(from, 0x2, false, b"ab"));
        wire.extend(frame_from_fin(from, 0x0, false, b"cd"));
        wire.extend(frame_from_fin(from, 0x0, true, b"ef"));
        wire.extend(frame_from(from, 0x9, b"ping"));
        wire.extend(frame_from(from, 0xa, b"pong"));
        wire.extend(frame_from(from, 0x8, &close_payload(1000, b"bye")));
        let mut rx = conn(from.peer(), Config::new());
        assert_eq!(
            feed_copy(&mut rx, &wire).ok(),
            [
                Ev::text("text"),
                Ev::binary(b"\x00\xffbin"),
                Ev::piece(MessageKind::Binary, b"ab", true, false),
                Ev::piece(MessageKind::Binary, b"cd", false, false),
                Ev::piece(MessageKind::Binary, b"ef", false, true),
                Ev::Ping(b"ping".to_vec()),
                Ev::Pong(b"pong".to_vec()),
                Ev::close(1000, "bye"),
            ],
            "from {from:?}"
        );
    }
}

#[test]
fn receive_lengths_at_encoding_boundaries() {
    for from in [Role::Client, Role::Server] {
        for len in BOUNDARY_LENGTHS {
            for (opcode, kind) in [(0x1, MessageKind::Text), (0x2, MessageKind::Binary)] {
                let payload: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                let wire = frame_from(from, opcode, &payload);
                let head = expected_header(len, (from == Role::Client).then_some(KEY), 0x80 | opcode);
                assert_eq!(&wire[..head.len()], head, "builder header for {len}");
                let mut rx = conn(from.peer(), Config::new());
                let events = feed_copy(&mut rx, &wire).ok();
                assert_eq!(events, [Ev::piece(kind, &payload, true, true)], "from {from:?} len {len}");
            }
        }
    }
}

#[test]
fn send_uses_minimal_length_encoding() {
    for len in BOUNDARY_LENGTHS {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();

        let mut s = server(Config::new());
        let mut out = Vec::new();
        s.send_binary(&payload, &mut out).unwrap();
        let head = expected_header(len, None, 0x82);
        assert_eq!(&out[..head.len()], head, "server header for {len}");
        assert_eq!(&out[head.len()..], payload);

        let mut c = client(Config::new());
        let mut out = Vec::new();
        c.send_binary(&payload, &mut out).unwrap();
        let frames = parse_frames(&out);
        assert_eq!(frames.len(), 1);
        let key = frames[0].mask.expect("client frames are masked");
        let head = expected_header(len, Some(key), 0x82);
        assert_eq!(&out[..head.len()], head, "client header for {len}");
        assert_eq!(frames[0].payload, payload);
        assert_eq!(out.len(), head.len() + len);
    }
}

#[test]
fn send_text_at_boundaries_has_exact_size() {
    for len in BOUNDARY_LENGTHS {
        let text = "x".repeat(len);
        let header = match len {
            0..=125 => 2,
            126..=65535 => 4,
            _ => 10,
        };
        let mut s = server(Config::new());
        let mut exact = vec![0u8; header + len];
        let mut out = SliceBuf::new(&mut exact);
        s.send_text(&text, &mut out).unwrap();
        assert_eq!(out.remaining(), 0);
        assert_eq!(out.filled()[0], 0x81);
    }
}

#[test]
fn reserved_opcodes_are_rejected_with_1002() {
    for op in (3..=7).chain(0xb..=0xf) {
        for from in [Role::Client, Role::Server] {
            for fin in [true, false] {
                let wire = FrameBuilder::new(op)
                    .fin(fin)
                    .maybe_mask((from == Role::Client).then_some(KEY))
                    .payload(b"x")
                    .build();
                let mut rx = conn(from.peer(), Config::new());
                let err = feed_copy(&mut rx, &wire).err();
                assert_eq!(err, Error::Protocol(ProtocolViolation::ReservedOpcode(op)));
                assert_failed_with(&mut rx, err, 1002);
            }
        }
    }
}

#[test]
fn reserved_opcode_detected_from_first_two_bytes() {
    // The error does not wait for the payload (or even the whole header).
    let mut s = server(Config::new());
    let mut partial = [0x83, 0xff];
    assert_eq!(s.receive(&mut partial), Err(Error::Protocol(ProtocolViolation::ReservedOpcode(3))));
    // A reserved opcode after a valid frame in the same buffer: the valid frame is delivered.
    let mut s = server(Config::new());
    let mut wire = frame_from(Role::Client, 0x1, b"ok");
    wire.extend(FrameBuilder::new(0xb).mask(KEY).build());
    let fed = feed_copy(&mut s, &wire);
    assert_eq!(fed.events, [Ev::text("ok")]);
    assert_eq!(fed.error, Some(Error::Protocol(ProtocolViolation::ReservedOpcode(0xb))));
}

#[test]
fn length_with_top_bit_is_rejected() {
    for top in [0x8000_0000_0000_0000u64, u64::MAX, 0x8000_0000_0001_0000] {
        let wire = FrameBuilder::new(0x2).mask(KEY).enc(LenEnc::Ext64).declared_len(top).build();
        let mut s = server(Config::new());
        let err = feed_copy(&mut s, &wire).err();
        assert_eq!(err, Error::Protocol(ProtocolViolation::LengthTopBitSet));
        assert_failed_with(&mut s, err, 1002);
    }
    // Reported as soon as the first length byte arrives.
    let mut c = client(Config::new());
    let mut head = [0x82, 0x7f, 0x80];
    assert_eq!(c.receive(&mut head), Err(Error::Protocol(ProtocolViolation::LengthTopBitSet)));
    // Also when the header trickles in one byte at a time.
    let mut c = client(Config::new());
    let fed = feed_split(&mut c, &[0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1], &[1, 2, 3, 4]);
    assert_eq!(fed.error, Some(Error::Protocol(ProtocolViolation::LengthTopBitSet)));
    assert!(fed.events.is_empty());
}

#[test]
fn largest_legal_length_header_is_accepted_then_limited() {
    // 2^63 - 1 is a legal length; the default limits reject it with 1009, not 1002.
    let wire = FrameBuilder::new(0x2).enc(LenEnc::Ext64).declared_len(u64::MAX >> 1).build();
    let mut c = client(Config::new());
    let err = feed_copy(&mut c, &wire).err();
    assert_eq!(err, Error::LimitExceeded(wsproto::Limit::FramePayload));
    assert_failed_with(&mut c, err, 1009);
}

#[test]
fn non_minimal_lengths_are_rejected() {
    let cases: [(LenEnc, usize); 6] = [
        (LenEnc::Ext16, 0),
        (LenEnc::Ext16, 125),
        (LenEnc::Ext64, 0),
        (LenEnc::Ext64, 125),
        (LenEnc::Ext64, 126),
        (LenEnc::Ext64, 65535),
    ];
    for (enc, len) in cases {
        for from in [Role::Client, Role::Server] {
            let wire = FrameBuilder::new(0x2)
                .maybe_mask((from == Role::Client).then_some(KEY))
                .enc(enc)
                .payload(&vec![0x55; len])
                .build();
            let mut rx = conn(from.peer(), Config::new());
            let err = feed_copy(&mut rx, &wire).err();
            assert_eq!(err, Error::Protocol(ProtocolViolation::NonMinimalLength), "{enc:?} {len}");
            assert_failed_with(&mut rx, err, 1002);
        }
    }
    // The smallest lengths of each extended form are minimal and accepted.
    for (enc, len) in [(LenEnc::Ext16, 126), (LenEnc::Ext16, 65535), (LenEnc::Ext64, 65536)] {
        let wire = FrameBuilder::new(0x2).enc(enc).payload(&vec![1; len]).build();
        let mut c = client(Config::new());
        assert_eq!(feed_copy(&mut c, &wire).ok(), [Ev::binary(&vec![1; len])]);
    }
}

#[test]
fn rsv_bits_without_extension_are_rejected() {
    for rsv in 1..=7 {
        for opcode in [0x1, 0x2] {
            let wire = FrameBuilder::new(opcode).rsv(rsv).mask(KEY).payload(b"abc").build();
            let mut s = server(Config::new());
            let err = feed_copy(&mut s, &wire).err();
            assert_eq!(err, Error::Protocol(ProtocolViolation::ReservedBits));
            assert_failed_with(&mut s, err, 1002);
        }
        // On a continuation frame too.
        let mut wire = frame_from_fin(Role::Server, 0x1, false, b"ab");
        wire.extend(FrameBuilder::new(0x0).rsv(rsv).payload(b"cd").build());
        let mut c = client(Config::new());
        let fed = feed_copy(&mut c, &wire);
        assert_eq!(fed.events, [Ev::piece(MessageKind::Text, b"ab", true, false)]);
        assert_eq!(fed.error, Some(Error::Protocol(ProtocolViolation::ReservedBits)));
    }
}

#[test]
fn fin_bit_marks_message_end() {
    // FIN clear on a data frame starts a fragmented message; the data is delivered as a first
    // piece that is not last.
    let mut c = client(Config::new());
    let wire = FrameBuilder::new(0x1).fin(false).payload(b"start").build();
    assert_eq!(feed_copy(&mut c, &wire).ok(), [Ev::piece(MessageKind::Text, b"start", true, false)]);
    let wire = FrameBuilder::new(0x0).fin(true).payload(b"end").build();
    assert_eq!(feed_copy(&mut c, &wire).ok(), [Ev::piece(MessageKind::Text, b"end", false, true)]);
}

#[test]
fn empty_data_frames() {
    let mut c = client(Config::new());
    let mut wire = FrameBuilder::new(0x1).build();
    wire.extend(FrameBuilder::new(0x2).build());
    assert_eq!(feed_copy(&mut c, &wire).ok(), [Ev::text(""), Ev::binary(b"")]);

    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.send_text("", &mut out).unwrap();
    s.send_binary(b"", &mut out).unwrap();
    assert_eq!(out, [0x81, 0x00, 0x82, 0x00]);
}

#[test]
fn header_split_at_every_byte() {
    // A 14-byte header (64-bit length and a mask) followed by its payload, fed in two pieces cut
    // at every position.
    let payload: Vec<u8> = (0..65536 + 3).map(|i| (i % 253) as u8).collect();
    let wire = frame_from(Role::Client, 0x2, &payload);
    assert_eq!(wire.len(), 14 + payload.len());
    for cut in 0..=20 {
        let mut s = server(Config::new());
        let fed = feed_split(&mut s, &wire, &[cut]);
        let events = fed.ok();
        let joined = logical(&events);
        assert_eq!(joined, [Logical::Message(MessageKind::Binary, payload.clone())], "cut {cut}");
    }
}
