//! Control frames (RFC 6455 §5.5): Ping, Pong, their automatic replies and their rules.

mod common;

use common::*;
use wsproto::{Config, Error, ProtocolViolation, Role, State};

#[test]
fn server_answers_ping_with_unmasked_pong() {
    let mut s = server(Config::new());
    assert!(!s.wants_transmit());
    let events = feed_copy(&mut s, &frame_from(Role::Client, 0x9, b"Hello")).ok();
    assert_eq!(events, [Ev::Ping(b"Hello".to_vec())]);
    assert!(s.wants_transmit());
    assert_eq!(transmit(&mut s), b"\x8a\x05Hello");
    assert!(!s.wants_transmit());
    assert!(transmit(&mut s).is_empty(), "the pong is written once");
}

#[test]
fn client_answers_ping_with_masked_pong() {
    let mut c = client(Config::new());
    let events = feed_copy(&mut c, b"\x89\x05Hello").ok();
    assert_eq!(events, [Ev::Ping(b"Hello".to_vec())]);
    let out = transmit(&mut c);
    assert_eq!(out.len(), 2 + 4 + 5);
    assert_eq!(&out[..2], [0x8a, 0x85]);
    let key: [u8; 4] = out[2..6].try_into().unwrap();
    let mut payload = out[6..].to_vec();
    mask_bytes(&mut payload, key);
    assert_eq!(payload, b"Hello");
    // The pong reaches a server as a Pong event.
    let mut s = server(Config::new());
    assert_eq!(feed_copy(&mut s, &out).ok(), [Ev::Pong(b"Hello".to_vec())]);
}

#[test]
fn empty_and_maximal_ping_payloads() {
    let mut s = server(Config::new());
    assert_eq!(feed_copy(&mut s, &frame_from(Role::Client, 0x9, b"")).ok(), [Ev::Ping(vec![])]);
    assert_eq!(transmit(&mut s), [0x8a, 0x00]);

    let big: Vec<u8> = (0..125).collect();
    assert_eq!(feed_copy(&mut s, &frame_from(Role::Client, 0x9, &big)).ok(), [Ev::Ping(big.clone())]);
    let mut expected = vec![0x8a, 125];
    expected.extend_from_slice(&big);
    assert_eq!(transmit(&mut s), expected);
}

#[test]
fn only_latest_ping_is_answered() {
    let mut wire = Vec::new();
    for p in [&b"one"[..], b"two", b"three"] {
        wire.extend(frame_from(Role::Server, 0x9, p));
    }
    let mut c = client(Config::new());
    let events = feed_copy(&mut c, &wire).ok();
    assert_eq!(events, [Ev::Ping(b"one".to_vec()), Ev::Ping(b"two".to_vec()), Ev::Ping(b"three".to_vec())]);
    let frames = parse_frames(&transmit(&mut c));
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!((frames[0].opcode, &frames[0].payload[..]), (0xa, &b"three"[..]));
    assert!(frames[0].mask.is_some());

    // A ping after the pong was written is answered again.
    feed_copy(&mut c, &frame_from(Role::Server, 0x9, b"four")).ok();
    let frames = parse_frames(&transmit(&mut c));
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].payload, b"four");
}

#[test]
fn auto_pong_off_queues_nothing() {
    let mut s = server(Config::new().auto_pong(false));
    let events = feed_copy(&mut s, &frame_from(Role::Client, 0x9, b"hi")).ok();
    assert_eq!(events, [Ev::Ping(b"hi".to_vec())]);
    assert!(!s.wants_transmit());
    assert_eq!(s.poll_transmit(&mut Vec::new()), Ok(0));
    // The application answers by hand.
    let mut out = Vec::new();
    s.pong(b"hi", &mut out).unwrap();
    assert_eq!(out, b"\x8a\x02hi");
}

#[test]
fn pong_event_queues_nothing() {
    let mut c = client(Config::new());
    let events = feed_copy(&mut c, &frame_from(Role::Server, 0xa, b"beat")).ok();
    assert_eq!(events, [Ev::Pong(b"beat".to_vec())]);
    assert!(!c.wants_transmit());
    assert!(transmit(&mut c).is_empty());
}

#[test]
fn control_payload_over_125_is_rejected() {
    for opcode in [0x8, 0x9, 0xa] {
        for from in [Role::Client, Role::Server] {
            for len in [126usize, 127, 65536] {
                let wire = FrameBuilder::new(opcode)
                    .maybe_mask((from == Role::Client).then_some(KEY))
                    .payload(&vec![b'x'; len])
                    .build();
                let mut rx = conn(from.peer(), Config::new());
                let err = feed_copy(&mut rx, &wire).err();
                assert_eq!(err, Error::Protocol(ProtocolViolation::ControlFrameTooLong), "op {opcode} len {len}");
                assert_failed_with(&mut rx, err, 1002);
            }
        }
    }
    // Detected from the first two bytes, before the extended length or payload arrives.
    let mut s = server(Config::new());
    let mut head = [0x89, 0x80 | 126];
    assert_eq!(s.receive(&mut head), Err(Error::Protocol(ProtocolViolation::ControlFrameTooLong)));
}

#[test]
fn fragmented_control_frames_are_rejected() {
    for opcode in [0x8, 0x9, 0xa] {
        for from in [Role::Client, Role::Server] {
            let wire = FrameBuilder::new(opcode)
                .fin(false)
                .maybe_mask((from == Role::Client).then_some(KEY))
                .payload(b"ab")
                .build();
            let mut rx = conn(from.peer(), Config::new());
            let err = feed_copy(&mut rx, &wire).err();
            assert_eq!(err, Error::Protocol(ProtocolViolation::FragmentedControlFrame), "op {opcode}");
            assert_failed_with(&mut rx, err, 1002);
        }
    }
}

#[test]
fn rsv_bits_on_control_frames_are_rejected() {
    for opcode in [0x8, 0x9, 0xa] {
        for rsv in 1..=7 {
            let wire = FrameBuilder::new(opcode).rsv(rsv).mask(KEY).build();
            let mut s = server(Config::new());
            let err = feed_copy(&mut s, &wire).err();
            assert_eq!(err, Error::Protocol(ProtocolViolation::ReservedBits), "op {opcode} rsv {rsv}");
            assert_failed_with(&mut s, err, 1002);
        }
    }
}

#[test]
fn ping_split_across_reads_is_one_event() {
    let wire = frame_from(Role::Client, 0x9, b"split ping");
    for cut in 0..=wire.len() {
        let mut s = server(Config::new());
        let events = feed_split(&mut s, &wire, &[cut]).ok();
        assert_eq!(events, [Ev::Ping(b"split ping".to_vec())], "cut {cut}");
        assert_eq!(transmit(&mut s), b"\x8a\x0asplit ping");
    }
    // One byte at a time.
    let mut s = server(Config::new());
    let cuts: Vec<usize> = (1..wire.len()).collect();
    assert_eq!(feed_split(&mut s, &wire, &cuts).ok(), [Ev::Ping(b"split ping".to_vec())]);
}

#[test]
fn ping_payload_is_owned() {
    // The payload is copied out of the input: it survives the input buffer being reused.
    let mut s = server(Config::new());
    let mut wire = frame_from(Role::Client, 0x9, b"copy");
    let len = wire.len();
    let r = s.receive(&mut wire).unwrap();
    assert_eq!(r.consumed, len);
    let Some(wsproto::Event::Ping(payload)) = r.event else { panic!("{:?}", r.event) };
    wire.fill(0);
    assert_eq!(payload.as_bytes(), b"copy");
    assert_eq!(payload.len(), 4);
}

#[test]
fn no_pong_after_our_close() {
    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.close(close_frame(1000, ""), &mut out).unwrap();
    assert_eq!(s.state(), State::ClosingLocal);
    let events = feed_copy(&mut s, &frame_from(Role::Client, 0x9, b"late")).ok();
    assert_eq!(events, [Ev::Ping(b"late".to_vec())]);
    assert!(!s.wants_transmit());
}

#[test]
fn pending_pong_then_close_reply() {
    let mut wire = frame_from(Role::Client, 0x9, b"p");
    wire.extend(frame_from(Role::Client, 0x8, &close_payload(1001, b"away")));
    let mut s = server(Config::new());
    let events = feed_copy(&mut s, &wire).ok();
    assert_eq!(events, [Ev::Ping(b"p".to_vec()), Ev::close(1001, "away")]);
    assert_eq!(transmit(&mut s), b"\x8a\x01p\x88\x02\x03\xe9");
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn sending_control_frames() {
    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.ping(b"", &mut out).unwrap();
    s.ping(b"abc", &mut out).unwrap();
    s.pong(b"d", &mut out).unwrap();
    assert_eq!(out, b"\x89\x00\x89\x03abc\x8a\x01d");

    let mut c = client(Config::new());
    let mut out = Vec::new();
    c.ping(&[0xaa; 125], &mut out).unwrap();
    let frames = parse_frames(&out);
    assert_eq!(frames.len(), 1);
    assert_eq!(out.len(), 2 + 4 + 125);
    assert_eq!((frames[0].opcode, frames[0].ext_len, &frames[0].payload[..]), (0x9, 0, &[0xaa; 125][..]));
}
