//! Receive limits from `Config`: frame payload, message size and fragment count, all answered
//! with close code 1009 and checked when a frame header arrives, before its payload.

mod common;

use common::*;
use wsproto::{Config, Error, Limit, MessageKind, Role};

#[test]
fn frame_payload_limit() {
    let config = Config::new().max_frame_payload(100);
    // At the limit: fine.
    let mut s = server(config);
    assert_eq!(feed_copy(&mut s, &frame_from(Role::Client, 0x2, &[1; 100])).ok(), [Ev::binary(&[1; 100])]);
    // One over: refused.
    for opcode in [0x1, 0x2] {
        for from in [Role::Client, Role::Server] {
            let mut rx = conn(from.peer(), config);
            let err = feed_copy(&mut rx, &frame_from(from, opcode, &[b'a'; 101])).err();
            assert_eq!(err, Error::LimitExceeded(Limit::FramePayload));
            assert_failed_with(&mut rx, err, 1009);
        }
    }
}

#[test]
fn frame_payload_limit_checked_at_header_time() {
    // Only the header of a huge frame is given: the error comes at once, no payload needed.
    let config = Config::new().max_frame_payload(1000);
    let head = FrameBuilder::new(0x2).mask(KEY).declared_len(1 << 40).build();
    assert_eq!(head.len(), 14);
    let mut s = server(config);
    let err = feed_copy(&mut s, &head).err();
    assert_eq!(err, Error::LimitExceeded(Limit::FramePayload));
    assert_failed_with(&mut s, err, 1009);

    // On a continuation frame, too.
    let mut wire = frame_from_fin(Role::Server, 0x1, false, b"ok");
    wire.extend(FrameBuilder::new(0x0).declared_len(1001).build());
    let mut c = client(config);
    let fed = feed_copy(&mut c, &wire);
    assert_eq!(fed.events, [Ev::piece(MessageKind::Text, b"ok", true, false)]);
    assert_eq!(fed.error, Some(Error::LimitExceeded(Limit::FramePayload)));
    assert_failed_with(&mut c, fed.error.unwrap(), 1009);
}

#[test]
fn message_size_limit_single_frame() {
    let config = Config::new().max_message_size(10);
    let mut s = server(config);
    assert_eq!(feed_copy(&mut s, &frame_from(Role::Client, 0x1, b"0123456789")).ok(), [Ev::text("0123456789")]);
    let mut s = server(config);
    let err = feed_copy(&mut s, &FrameBuilder::new(0x1).mask(KEY).declared_len(11).build()).err();
    assert_eq!(err, Error::LimitExceeded(Limit::MessageSize));
    assert_failed_with(&mut s, err, 1009);
}

#[test]
fn message_size_limit_across_fragments_at_header_time() {
    let config = Config::new().max_message_size(10);
    // 4 + 4 + 2 = 10 bytes: fine.
    let mut wire = frame_from_fin(Role::Client, 0x2, false, b"aaaa");
    wire.extend(frame_from_fin(Role::Client, 0x0, false, b"bbbb"));
    wire.extend(frame_from_fin(Role::Client, 0x0, true, b"cc"));
    let mut s = server(config);
    let events = feed_copy(&mut s, &wire).ok();
    assert_eq!(logical(&events), [Logical::Message(MessageKind::Binary, b"aaaabbbbcc".to_vec())]);

    // 4 + 4 + 3: the third header alone (without its payload) is refused.
    let mut wire = frame_from_fin(Role::Client, 0x2, false, b"aaaa");
    wire.extend(frame_from_fin(Role::Client, 0x0, false, b"bbbb"));
    let third = frame_from_fin(Role::Client, 0x0, true, b"ccc");
    wire.extend_from_slice(&third[..6]);
    let mut s = server(config);
    let fed = feed_copy(&mut s, &wire);
    assert_eq!(
        fed.events,
        [Ev::piece(MessageKind::Binary, b"aaaa", true, false), Ev::piece(MessageKind::Binary, b"bbbb", false, false)]
    );
    let err = fed.error.unwrap();
    assert_eq!(err, Error::LimitExceeded(Limit::MessageSize));
    assert_failed_with(&mut s, err, 1009);
}

#[test]
fn message_size_is_per_message() {
    // Each message may use the whole limit; control frames do not count.
    let config = Config::new().max_message_size(8);
    let mut wire = Vec::new();
    for _ in 0..3 {
        wire.extend(frame_from_fin(Role::Server, 0x1, false, b"1234"));
        wire.extend(frame_from(Role::Server, 0x9, &[0; 100]));
        wire.extend(frame_from_fin(Role::Server, 0x0, true, b"5678"));
    }
    let mut c = client(config);
    let events = feed_copy(&mut c, &wire).ok();
    let messages = logical(&events).into_iter().filter(|l| matches!(l, Logical::Message(..))).count();
    assert_eq!(messages, 3);
}

#[test]
fn zero_message_size_allows_only_empty_messages() {
    let config = Config::new().max_message_size(0);
    let mut c = client(config);
    let mut wire = frame_from_fin(Role::Server, 0x1, false, b"");
    wire.extend(frame_from_fin(Role::Server, 0x0, true, b""));
    wire.extend(frame_from(Role::Server, 0x2, b""));
    let events = feed_copy(&mut c, &wire).ok();
    assert_eq!(
        logical(&events),
        [Logical::Message(MessageKind::Text, vec![]), Logical::Message(MessageKind::Binary, vec![])]
    );
    let err = feed_copy(&mut c, &frame_from(Role::Server, 0x2, b"x")).err();
    assert_eq!(err, Error::LimitExceeded(Limit::MessageSize));
}

#[test]
fn fragment_count_limit() {
    let config = Config::new().max_fragments(4);
    // Four frames: fine.
    let mut wire = frame_from_fin(Role::Client, 0x1, false, b"a");
    for _ in 0..2 {
        wire.extend(frame_from_fin(Role::Client, 0x0, false, b"b"));
    }
    wire.extend(frame_from_fin(Role::Client, 0x0, true, b"c"));
    // And the count starts again for the next message.
    wire.extend(frame_from_fin(Role::Client, 0x1, false, b"d"));
    for _ in 0..4 {
        wire.extend(frame_from_fin(Role::Client, 0x0, false, b"e"));
    }
    let mut s = server(config);
    let fed = feed_copy(&mut s, &wire);
    let err = fed.error.expect("the fifth frame of the second message is refused");
    assert_eq!(err, Error::LimitExceeded(Limit::Fragments));
    assert_eq!(logical(&fed.events[..4]), [Logical::Message(MessageKind::Text, b"abbc".to_vec())]);
    assert_eq!(
        fed.events[4..],
        [
            Ev::piece(MessageKind::Text, b"d", true, false),
            Ev::piece(MessageKind::Text, b"e", false, false),
            Ev::piece(MessageKind::Text, b"e", false, false),
            Ev::piece(MessageKind::Text, b"e", false, false),
        ]
    );
    assert_failed_with(&mut s, err, 1009);
}

#[test]
fn flood_of_empty_continuations_hits_default_limit() {
    let limit = Config::new().max_fragments as usize;
    assert_eq!(limit, 1 << 17);
    let empty_cont = frame_from_fin(Role::Client, 0x0, false, b"");
    let mut wire = frame_from_fin(Role::Client, 0x2, false, b"");
    // limit - 1 continuations are within the limit...
    for _ in 0..limit - 1 {
        wire.extend_from_slice(&empty_cont);
    }
    let mut s = server(Config::new());
    let fed = feed_copy(&mut s, &wire);
    assert_eq!(fed.error, None);
    assert_eq!(fed.events, [Ev::piece(MessageKind::Binary, b"", true, false)]);
    // ...and one more is refused.
    let err = feed_copy(&mut s, &empty_cont).err();
    assert_eq!(err, Error::LimitExceeded(Limit::Fragments));
    assert_failed_with(&mut s, err, 1009);
}

#[test]
fn limit_failure_from_client_sends_masked_1009() {
    let mut c = client(Config::new().max_frame_payload(1));
    let err = feed_copy(&mut c, &frame_from(Role::Server, 0x2, b"xy")).err();
    assert_eq!(err, Error::LimitExceeded(Limit::FramePayload));
    assert_failed_with(&mut c, err, 1009);
}
