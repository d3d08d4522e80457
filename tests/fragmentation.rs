//! Fragmented messages (RFC 6455 §5.4), on the receive and the send side.

mod common;

use common::*;
use wsproto::{Config, Error, MessageKind, Misuse, ProtocolViolation, Role, SliceBuf};

#[test]
fn fragmented_text_and_binary_with_markers() {
    for from in [Role::Client, Role::Server] {
        let mut wire = Vec::new();
        wire.extend(frame_from_fin(from, 0x1, false, b"Hel"));
        wire.extend(frame_from_fin(from, 0x0, false, b"lo, "));
        wire.extend(frame_from_fin(from, 0x0, true, b"world"));
        wire.extend(frame_from_fin(from, 0x2, false, &[0, 1]));
        wire.extend(frame_from_fin(from, 0x0, true, &[2, 3, 255]));
        let mut rx = conn(from.peer(), Config::new());
        let events = feed_copy(&mut rx, &wire).ok();
        assert_eq!(
            events,
            [
                Ev::piece(MessageKind::Text, b"Hel", true, false),
                Ev::piece(MessageKind::Text, b"lo, ", false, false),
                Ev::piece(MessageKind::Text, b"world", false, true),
                Ev::piece(MessageKind::Binary, &[0, 1], true, false),
                Ev::piece(MessageKind::Binary, &[2, 3, 255], false, true),
            ]
        );
        assert_eq!(
            logical(&events),
            [
                Logical::Message(MessageKind::Text, b"Hello, world".to_vec()),
                Logical::Message(MessageKind::Binary, vec![0, 1, 2, 3, 255]),
            ]
        );
    }
}

#[test]
fn control_frames_between_fragments_are_delivered_and_ponged() {
    for from in [Role::Client, Role::Server] {
        let mut wire = Vec::new();
        wire.extend(frame_from_fin(from, 0x1, false, b"Hel"));
        wire.extend(frame_from(from, 0x9, b"p1"));
        wire.extend(frame_from(from, 0xa, b"unsolicited"));
        wire.extend(frame_from_fin(from, 0x0, false, b"l"));
        wire.extend(frame_from(from, 0x9, b"p2"));
        wire.extend(frame_from_fin(from, 0x0, true, b"o"));
        let mut rx = conn(from.peer(), Config::new());
        let events = feed_copy(&mut rx, &wire).ok();
        assert_eq!(
            events,
            [
                Ev::piece(MessageKind::Text, b"Hel", true, false),
                Ev::Ping(b"p1".to_vec()),
                Ev::Pong(b"unsolicited".to_vec()),
                Ev::piece(MessageKind::Text, b"l", false, false),
                Ev::Ping(b"p2".to_vec()),
                Ev::piece(MessageKind::Text, b"o", false, true),
            ]
        );
        // Only the latest ping is answered.
        let out = transmit(&mut rx);
        let frames = parse_frames(&out);
        assert_eq!(frames.len(), 1);
        assert_eq!((frames[0].opcode, frames[0].fin, &frames[0].payload[..]), (0xa, true, &b"p2"[..]));
        assert_eq!(frames[0].mask.is_some(), from == Role::Server, "a client masks its pong");
    }
}

#[test]
fn continuation_without_message_is_rejected() {
    for fin in [true, false] {
        for from in [Role::Client, Role::Server] {
            let wire = frame_from_fin(from, 0x0, fin, b"orphan");
            let mut rx = conn(from.peer(), Config::new());
            let err = feed_copy(&mut rx, &wire).err();
            assert_eq!(err, Error::Protocol(ProtocolViolation::UnexpectedContinuation));
            assert_failed_with(&mut rx, err, 1002);
        }
    }
    // After a complete message, too.
    let mut wire = frame_from(Role::Client, 0x1, b"done");
    wire.extend(frame_from(Role::Client, 0x0, b"more"));
    let mut s = server(Config::new());
    let fed = feed_copy(&mut s, &wire);
    assert_eq!(fed.events, [Ev::text("done")]);
    assert_eq!(fed.error, Some(Error::Protocol(ProtocolViolation::UnexpectedContinuation)));
    // An empty orphan continuation is no different.
    let mut c = client(Config::new());
    let err = feed_copy(&mut c, &frame_from(Role::Server, 0x0, b"")).err();
    assert_eq!(err, Error::Protocol(ProtocolViolation::UnexpectedContinuation));
}

#[test]
fn new_data_frame_inside_fragmented_message_is_rejected() {
    for second in [0x1, 0x2] {
        for first in [0x1, 0x2] {
            let mut wire = frame_from_fin(Role::Client, first, false, b"ab");
            wire.extend(frame_from(Role::Client, second, b"cd"));
            let mut s = server(Config::new());
            let fed = feed_copy(&mut s, &wire);
            let kind = if first == 1 { MessageKind::Text } else { MessageKind::Binary };
            assert_eq!(fed.events, [Ev::piece(kind, b"ab", true, false)]);
            let err = fed.error.unwrap();
            assert_eq!(err, Error::Protocol(ProtocolViolation::ExpectedContinuation));
            assert_failed_with(&mut s, err, 1002);
        }
    }
}

#[test]
fn empty_fragments() {
    let mut wire = Vec::new();
    wire.extend(frame_from_fin(Role::Server, 0x1, false, b""));
    wire.extend(frame_from_fin(Role::Server, 0x0, false, b""));
    wire.extend(frame_from_fin(Role::Server, 0x0, false, b"a"));
    wire.extend(frame_from_fin(Role::Server, 0x0, false, b""));
    wire.extend(frame_from_fin(Role::Server, 0x0, true, b""));
    let mut c = client(Config::new());
    let events = feed_copy(&mut c, &wire).ok();
    assert_eq!(
        events,
        [
            Ev::piece(MessageKind::Text, b"", true, false),
            Ev::piece(MessageKind::Text, b"a", false, false),
            Ev::piece(MessageKind::Text, b"", false, true),
        ]
    );

    // A message made only of empty fragments.
    let mut wire = Vec::new();
    wire.extend(frame_from_fin(Role::Client, 0x2, false, b""));
    wire.extend(frame_from_fin(Role::Client, 0x0, false, b""));
    wire.extend(frame_from_fin(Role::Client, 0x0, true, b""));
    wire.extend(frame_from(Role::Client, 0x1, b"next"));
    let mut s = server(Config::new());
    let events = feed_copy(&mut s, &wire).ok();
    assert_eq!(
        logical(&events),
        [Logical::Message(MessageKind::Binary, vec![]), Logical::Message(MessageKind::Text, b"next".to_vec())]
    );
    assert_eq!(events.first(), Some(&Ev::piece(MessageKind::Binary, b"", true, false)));
}

#[test]
fn fragments_fed_one_byte_at_a_time() {
    let mut wire = Vec::new();
    wire.extend(frame_from_fin(Role::Client, 0x2, false, b"abc"));
    wire.extend(frame_from(Role::Client, 0x9, b"ping"));
    wire.extend(frame_from_fin(Role::Client, 0x0, true, b"def"));
    let cuts: Vec<usize> = (1..wire.len()).collect();
    let mut s = server(Config::new());
    let events = feed_split(&mut s, &wire, &cuts).ok();
    // Every data byte arrives on its own, yet no empty data piece is reported.
    assert!(events.iter().all(|e| !matches!(e, Ev::Data { data, .. } if data.is_empty())), "{events:?}");
    assert_eq!(
        logical(&events),
        [Logical::Ping(b"ping".to_vec()), Logical::Message(MessageKind::Binary, b"abcdef".to_vec())]
    );
}

#[test]
fn send_fragment_begin_continue_finish() {
    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.send_fragment(MessageKind::Binary, b"ab", false, &mut out).unwrap();
    s.send_fragment(MessageKind::Binary, b"", false, &mut out).unwrap();
    s.pong(b"hb", &mut out).unwrap();
    s.send_fragment(MessageKind::Binary, b"cd", false, &mut out).unwrap();
    s.send_fragment(MessageKind::Binary, b"e", true, &mut out).unwrap();
    assert_eq!(out, b"\x02\x02ab\x00\x00\x8a\x02hb\x00\x02cd\x80\x01e");

    // The client's fragments decode back to the same message.
    let mut c = client(Config::new());
    let mut wire = Vec::new();
    c.send_fragment(MessageKind::Text, "h€".as_bytes(), false, &mut wire).unwrap();
    c.send_fragment(MessageKind::Text, b"llo", true, &mut wire).unwrap();
    let frames = parse_frames(&wire);
    assert_eq!(frames.iter().map(|f| (f.opcode, f.fin)).collect::<Vec<_>>(), [(0x1, false), (0x0, true)]);
    let mut s = server(Config::new());
    let events = feed(&mut s, &mut wire).ok();
    assert_eq!(logical(&events), [Logical::Message(MessageKind::Text, "h€llo".as_bytes().to_vec())]);
}

#[test]
fn send_fragment_misuse() {
    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.send_fragment(MessageKind::Text, b"abc", false, &mut out).unwrap();
    let before = out.clone();

    let misuse = Err(Error::Misuse(Misuse::MessageInProgress));
    assert_eq!(s.send_fragment(MessageKind::Binary, b"x", false, &mut out), misuse);
    assert_eq!(s.send_fragment(MessageKind::Binary, b"x", true, &mut out), misuse);
    assert_eq!(s.send_text("whole", &mut out), misuse);
    assert_eq!(s.send_binary(b"whole", &mut out), misuse);
    assert_eq!(s.send(MessageKind::Text, b"whole", &mut out), misuse);
    let mut payload = *b"zz";
    assert_eq!(s.encode_frame_head(MessageKind::Binary, &mut payload, true).err(), misuse.err());
    assert_eq!(&payload, b"zz", "a refused payload is not masked or changed");
    assert_eq!(out, before, "nothing written by a refused call");
    assert_eq!(s.state(), wsproto::State::Open);
    assert_eq!(s.error(), None, "misuse does not fail the connection");

    // The message can still be finished, and then whole messages are allowed again.
    s.send_fragment(MessageKind::Text, b"def", true, &mut out).unwrap();
    s.send_text("next", &mut out).unwrap();
    assert_eq!(&out[before.len()..], b"\x80\x03def\x81\x04next");
}

#[test]
fn send_fragment_checks_utf8_as_a_stream() {
    let euro = "€".as_bytes();
    let mut s = server(Config::new());
    let mut out = Vec::new();
    // A character split between fragments is fine.
    s.send_fragment(MessageKind::Text, &euro[..1], false, &mut out).unwrap();
    s.send_fragment(MessageKind::Text, &euro[1..2], false, &mut out).unwrap();
    s.send_fragment(MessageKind::Text, &euro[2..], true, &mut out).unwrap();
    assert_eq!(out, [0x01, 0x01, 0xe2, 0x00, 0x01, 0x82, 0x80, 0x01, 0xac]);

    // Invalid bytes are refused at once, and nothing is written.
    let mut out = Vec::new();
    assert_eq!(s.send_fragment(MessageKind::Text, b"a\xff", false, &mut out), Err(Error::Misuse(Misuse::InvalidUtf8)));
    assert!(out.is_empty());
    // A message may not end inside a character.
    s.send_fragment(MessageKind::Text, &euro[..2], false, &mut out).unwrap();
    let len = out.len();
    assert_eq!(s.send_fragment(MessageKind::Text, b"", true, &mut out), Err(Error::Misuse(Misuse::InvalidUtf8)));
    assert_eq!(out.len(), len);
    // A refused piece does not advance the validator: the right byte still completes it.
    s.send_fragment(MessageKind::Text, &euro[2..], true, &mut out).unwrap();
    assert_eq!(&out[len..], [0x80, 0x01, 0xac]);
    // `send` checks whole text too.
    assert_eq!(s.send(MessageKind::Text, b"\xc0\x80", &mut out), Err(Error::Misuse(Misuse::InvalidUtf8)));
    assert_eq!(s.send(MessageKind::Text, &euro[..2], &mut out), Err(Error::Misuse(Misuse::InvalidUtf8)));
    // Binary is never checked.
    s.send(MessageKind::Binary, b"\xff", &mut out).unwrap();
}

#[test]
fn automatic_fragmentation_at_max_outgoing_frame() {
    let data: Vec<u8> = (0..25).collect();
    // (max_outgoing_frame, [(opcode, fin, payload length)])
    type Shape = &'static [(u8, bool, usize)];
    let cases: [(usize, Shape); 6] = [
        (10, &[(0x2, false, 10), (0x0, false, 10), (0x0, true, 5)]),
        (5, &[(0x2, false, 5), (0x0, false, 5), (0x0, false, 5), (0x0, false, 5), (0x0, true, 5)]),
        (25, &[(0x2, true, 25)]),
        (24, &[(0x2, false, 24), (0x0, true, 1)]),
        (1000, &[(0x2, true, 25)]),
        (13, &[(0x2, false, 13), (0x0, true, 12)]),
    ];
    for (max, expected) in cases {
        for role in [Role::Client, Role::Server] {
            let mut tx = conn(role, Config::new().max_outgoing_frame(max));
            let mut out = Vec::new();
            tx.send_binary(&data, &mut out).unwrap();
            let frames = parse_frames(&out);
            let shape: Vec<(u8, bool, usize)> = frames.iter().map(|f| (f.opcode, f.fin, f.payload.len())).collect();
            assert_eq!(shape, expected, "max {max} {role:?}");
            let joined: Vec<u8> = frames.iter().flat_map(|f| f.payload.clone()).collect();
            assert_eq!(joined, data);
            for f in &frames {
                assert_eq!(f.mask.is_some(), role == Role::Client);
            }
            let mut rx = conn(role.peer(), Config::new());
            let events = feed(&mut rx, &mut out).ok();
            assert_eq!(logical(&events), [Logical::Message(MessageKind::Binary, data.clone())]);
        }
    }
}

#[test]
fn max_outgoing_frame_zero_means_one_byte() {
    let mut s = server(Config::new().max_outgoing_frame(0));
    let mut out = Vec::new();
    s.send_text("abc", &mut out).unwrap();
    assert_eq!(out, b"\x01\x01a\x00\x01b\x80\x01c");
    // An empty message is still one frame.
    let mut out = Vec::new();
    s.send_text("", &mut out).unwrap();
    assert_eq!(out, b"\x81\x00");
}

#[test]
fn automatic_fragmentation_of_a_fragment() {
    // A piece longer than max_outgoing_frame is split, and only the last frame of the final
    // piece has FIN.
    let mut s = server(Config::new().max_outgoing_frame(2));
    let mut out = Vec::new();
    s.send_fragment(MessageKind::Text, b"abc", false, &mut out).unwrap();
    s.send_fragment(MessageKind::Text, b"def", true, &mut out).unwrap();
    assert_eq!(out, b"\x01\x02ab\x00\x01c\x00\x02de\x80\x01f");
}

#[test]
fn automatic_fragmentation_large_boundaries_exact_size() {
    // Frames of 65536 bytes take a 10-byte header; the reserved size is exact.
    let data = vec![7u8; 65536 * 2 + 126];
    for role in [Role::Client, Role::Server] {
        let mut tx = conn(role, Config::new().max_outgoing_frame(65536));
        let mask = if role == Role::Client { 4 } else { 0 };
        let need = (10 + mask) * 2 + (4 + mask) + data.len();
        let mut storage = vec![0u8; need];
        let mut buf = SliceBuf::new(&mut storage);
        assert_eq!(tx.send_binary(&data, &mut buf), Ok(()));
        assert_eq!(buf.remaining(), 0);
        let frames = parse_frames(&storage);
        let shape: Vec<(u8, bool, usize, usize)> =
            frames.iter().map(|f| (f.opcode, f.fin, f.ext_len, f.payload.len())).collect();
        assert_eq!(shape, [(0x2, false, 8, 65536), (0x0, false, 8, 65536), (0x0, true, 2, 126)]);
    }
}
