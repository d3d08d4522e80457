//! Masking by role (RFC 6455 §5.1, §5.3): clients mask everything with fresh keys, servers
//! never mask, and each side rejects frames that break the rule.

mod common;

use common::*;
use wsproto::{Config, Connection, Error, KeySource, MessageKind, Misuse, ProtocolViolation, Role};

#[test]
fn server_rejects_unmasked_frames() {
    for opcode in [0x0, 0x1, 0x2, 0x8, 0x9, 0xa] {
        let wire = FrameBuilder::new(opcode).payload(b"").build();
        let mut s = server(Config::new());
        let err = feed_copy(&mut s, &wire).err();
        assert_eq!(err, Error::Protocol(ProtocolViolation::UnmaskedFrame), "opcode {opcode}");
        assert_failed_with(&mut s, err, 1002);
    }
    // In the middle of a message.
    let mut wire = frame_from_fin(Role::Client, 0x1, false, b"ok");
    wire.extend(FrameBuilder::new(0x0).payload(b"plain").build());
    let mut s = server(Config::new());
    let fed = feed_copy(&mut s, &wire);
    assert_eq!(fed.events, [Ev::piece(MessageKind::Text, b"ok", true, false)]);
    assert_eq!(fed.error, Some(Error::Protocol(ProtocolViolation::UnmaskedFrame)));
}

#[test]
fn client_rejects_masked_frames() {
    for opcode in [0x0, 0x1, 0x2, 0x8, 0x9, 0xa] {
        let wire = FrameBuilder::new(opcode).mask(KEY).payload(b"").build();
        let mut c = client(Config::new());
        let err = feed_copy(&mut c, &wire).err();
        assert_eq!(err, Error::Protocol(ProtocolViolation::MaskedFrame), "opcode {opcode}");
        assert_failed_with(&mut c, err, 1002);
    }
    // A zero key still counts as masked.
    let mut c = client(Config::new());
    let err = feed_copy(&mut c, &FrameBuilder::new(0x1).mask([0; 4]).payload(b"x").build()).err();
    assert_eq!(err, Error::Protocol(ProtocolViolation::MaskedFrame));
}

#[test]
fn server_accepts_zero_mask_key() {
    let mut s = server(Config::new());
    let wire = FrameBuilder::new(0x1).mask([0; 4]).payload(b"clear").build();
    assert_eq!(&wire[..6], [0x81, 0x85, 0, 0, 0, 0]);
    assert_eq!(feed_copy(&mut s, &wire).ok(), [Ev::text("clear")]);
}

#[test]
fn client_masks_every_frame_with_fresh_keys() {
    let seed = 0xdead_beef;
    let mut c = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(seed));
    let mut out = Vec::new();
    for i in 0..102u32 {
        match i % 6 {
            0 => c.send_text("text", &mut out).unwrap(),
            1 => c.send_binary(&i.to_be_bytes(), &mut out).unwrap(),
            2 => c.ping(b"ping", &mut out).unwrap(),
            3 => c.send_fragment(MessageKind::Binary, b"frag", false, &mut out).unwrap(),
            4 => c.pong(b"", &mut out).unwrap(),
            _ => c.send_fragment(MessageKind::Binary, b"ment", true, &mut out).unwrap(),
        }
    }
    c.close(close_frame(1000, "bye"), &mut out).unwrap();
    let frames = parse_frames(&out);
    assert_eq!(frames.len(), 103);
    // The keys are drawn from the source in order, one per frame.
    let mut expected = KeySource::seeded(seed);
    let keys: Vec<[u8; 4]> = frames.iter().map(|f| f.mask.expect("client frames are masked")).collect();
    let expected_keys: Vec<[u8; 4]> = (0..103).map(|_| expected.mask_key()).collect();
    assert_eq!(keys, expected_keys);
    let mut distinct = keys.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > 95, "keys repeat: {} distinct of 103", distinct.len());
    assert!(keys.windows(2).all(|w| w[0] != w[1]), "consecutive frames share a key");
    // The payloads were really masked (the wire does not carry them in clear).
    assert!(!out.windows(4).any(|w| w == b"text"));
    // And a server reads them all back.
    let mut s = server(Config::new());
    let events = feed(&mut s, &mut out).ok();
    assert_eq!(events.len(), 103);
    assert_eq!(events[0], Ev::text("text"));
    assert_eq!(events[5], Ev::piece(MessageKind::Binary, b"ment", false, true));
    assert_eq!(events[102], Ev::close(1000, "bye"));
}

#[test]
fn server_never_masks() {
    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.send_text("text", &mut out).unwrap();
    s.send_binary(&[1; 70_000], &mut out).unwrap();
    s.send_fragment(MessageKind::Text, b"a", false, &mut out).unwrap();
    s.send_fragment(MessageKind::Text, b"b", true, &mut out).unwrap();
    s.ping(b"p", &mut out).unwrap();
    s.pong(b"q", &mut out).unwrap();
    s.close(close_frame(1000, ""), &mut out).unwrap();
    let frames = parse_frames(&out);
    assert_eq!(frames.len(), 7);
    assert!(frames.iter().all(|f| f.mask.is_none()), "{frames:?}");
    assert!(out.windows(4).any(|w| w == b"text"));
}

#[test]
fn automatic_replies_follow_the_role() {
    let ping_from_server = frame_from(Role::Server, 0x9, b"p");
    let mut c = client(Config::new());
    feed_copy(&mut c, &ping_from_server).ok();
    let frames = parse_frames(&transmit(&mut c));
    assert!(frames[0].mask.is_some());
    let mut s = server(Config::new());
    feed_copy(&mut s, &frame_from(Role::Client, 0x9, b"p")).ok();
    assert_eq!(transmit(&mut s), b"\x8a\x01p");
}

#[test]
fn encode_frame_head_server() {
    for len in [0usize, 1, 125, 126, 65535, 65536] {
        let original: Vec<u8> = (0..len).map(|i| (i % 256) as u8).collect();
        let mut s = server(Config::new());
        let mut payload = original.clone();
        let head = s.encode_frame_head(MessageKind::Binary, &mut payload, true).unwrap();
        assert_eq!(payload, original, "a server leaves the payload alone");
        let mut wire = head.as_bytes().to_vec();
        assert_eq!(head.as_ref(), head.as_bytes());
        let expected_len = match len {
            0..=125 => 2,
            126..=65535 => 4,
            _ => 10,
        };
        assert_eq!(wire.len(), expected_len);
        assert_eq!(wire[0], 0x82);
        wire.extend_from_slice(&payload);
        let mut c = client(Config::new());
        assert_eq!(feed(&mut c, &mut wire).ok(), [Ev::binary(&original)], "len {len}");
    }
}

#[test]
fn encode_frame_head_client_masks_in_place() {
    for len in [0usize, 5, 125, 126, 65536] {
        let original: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        let mut c = client(Config::new());
        let mut payload = original.clone();
        let head = c.encode_frame_head(MessageKind::Text, &mut payload, true).unwrap();
        let h = head.as_bytes();
        let key: [u8; 4] = h[h.len() - 4..].try_into().unwrap();
        assert_eq!(h[0], 0x81);
        assert_eq!(h[1] & 0x80, 0x80, "mask bit");
        let mut unmasked = payload.clone();
        mask_bytes(&mut unmasked, key);
        assert_eq!(unmasked, original, "the payload was masked in place with the header's key");
        if len >= 4 {
            assert_ne!(payload, original);
        }
        let mut wire = h.to_vec();
        wire.extend_from_slice(&payload);
        let mut s = server(Config::new());
        assert_eq!(feed(&mut s, &mut wire).ok(), [Ev::piece(MessageKind::Text, &original, true, true)], "len {len}");
    }
}

#[test]
fn encode_frame_head_fragments_and_rules() {
    let mut c = client(Config::new());
    let mut wire = Vec::new();
    let mut p1 = "h€".as_bytes()[..2].to_vec();
    let head = c.encode_frame_head(MessageKind::Text, &mut p1, false).unwrap();
    wire.extend_from_slice(head.as_bytes());
    wire.extend_from_slice(&p1);
    // A whole message while the fragmented one is open is refused.
    assert_eq!(c.send_text("no", &mut wire), Err(Error::Misuse(Misuse::MessageInProgress)));
    // Invalid continuation of the split character: refused, payload untouched.
    let mut bad = b"\xff".to_vec();
    assert_eq!(c.encode_frame_head(MessageKind::Text, &mut bad, true).err(), Some(Error::Misuse(Misuse::InvalidUtf8)));
    assert_eq!(bad, b"\xff");
    let mut p2 = "h€".as_bytes()[2..].to_vec();
    let head = c.encode_frame_head(MessageKind::Text, &mut p2, true).unwrap();
    assert_eq!(head.as_bytes()[0], 0x80, "continuation with FIN");
    wire.extend_from_slice(head.as_bytes());
    wire.extend_from_slice(&p2);
    let mut s = server(Config::new());
    let events = feed(&mut s, &mut wire).ok();
    assert_eq!(logical(&events), [Logical::Message(MessageKind::Text, "h€".as_bytes().to_vec())]);
}

#[test]
fn encode_frame_head_leaves_pending_replies_for_poll_transmit() {
    let mut s = server(Config::new());
    feed_copy(&mut s, &frame_from(Role::Client, 0x9, b"p")).ok();
    let mut payload = *b"data";
    let head = s.encode_frame_head(MessageKind::Binary, &mut payload, true).unwrap();
    assert_eq!(head.as_bytes(), [0x82, 0x04]);
    assert!(s.wants_transmit(), "the pong is still pending");
    assert_eq!(transmit(&mut s), b"\x8a\x01p");
}

#[test]
fn masking_any_offset_matches_reference() {
    use wsproto::mask::apply_mask;
    let data: Vec<u8> = (0..200).map(|i| (i * 31 % 256) as u8).collect();
    for offset in 0..8 {
        for split in [0usize, 1, 3, 31, 32, 33, 100, 200] {
            let mut fast = data.clone();
            let (a, b) = fast.split_at_mut(split);
            apply_mask(a, KEY, offset);
            apply_mask(b, KEY, offset + split);
            let mut slow = data.clone();
            for (i, byte) in slow.iter_mut().enumerate() {
                *byte ^= KEY[(offset + i) % 4];
            }
            assert_eq!(fast, slow, "offset {offset} split {split}");
        }
    }
}
