//! The send commands: argument checks, all-or-nothing writes, automatic replies written first,
//! and `wants_transmit`.

mod common;

use common::*;
use wsproto::{
    BufferTooSmall, CloseCode, CloseFrame, Config, Connection, Error, Fault, MessageKind, Misuse, OutBuf, Role,
    SliceBuf, State,
};

#[test]
fn control_payload_too_long_is_misuse() {
    for role in [Role::Client, Role::Server] {
        let mut tx = conn(role, Config::new());
        let mut out = Vec::new();
        let too_long = [b'x'; 126];
        assert_eq!(tx.ping(&too_long, &mut out), Err(Error::Misuse(Misuse::ControlPayloadTooLong)));
        assert_eq!(tx.pong(&too_long, &mut out), Err(Error::Misuse(Misuse::ControlPayloadTooLong)));
        assert!(out.is_empty());
        assert_eq!(tx.state(), State::Open);
        let e = Error::Misuse(Misuse::ControlPayloadTooLong);
        assert_eq!((e.fault(), e.is_fatal(), e.close_code()), (Fault::Caller, false, None));
        // 125 bytes is fine.
        tx.ping(&too_long[..125], &mut out).unwrap();
        tx.pong(&too_long[..125], &mut out).unwrap();
        let frames = parse_frames(&out);
        assert_eq!(frames.iter().map(|f| (f.opcode, f.payload.len())).collect::<Vec<_>>(), [(0x9, 125), (0xa, 125)]);
    }
}

#[test]
fn invalid_close_code_is_misuse() {
    for code in [0u16, 999, 1004, 1005, 1006, 1012, 1015, 1016, 2999, 5000, 65535] {
        let mut s = server(Config::new());
        let mut out = Vec::new();
        assert_eq!(
            s.close(close_frame(code, "x"), &mut out),
            Err(Error::Misuse(Misuse::InvalidCloseCode(code))),
            "{code}"
        );
        assert!(out.is_empty());
        assert_eq!(s.state(), State::Open);
        // The connection can still be closed properly.
        s.close(close_frame(1000, ""), &mut out).unwrap();
        assert_eq!(out, [0x88, 0x02, 0x03, 0xe8]);
    }
    for code in [1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999] {
        let mut s = server(Config::new());
        let mut out = Vec::new();
        s.close(CloseFrame::with_code(CloseCode(code)), &mut out).unwrap();
        let mut expected = vec![0x88, 0x02];
        expected.extend_from_slice(&code.to_be_bytes());
        assert_eq!(out, expected);
    }
}

#[test]
fn close_payload_forms() {
    // No code at all.
    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.close(CloseFrame::EMPTY, &mut out).unwrap();
    assert_eq!(out, [0x88, 0x00]);
    assert_eq!(s.state(), State::ClosingLocal);
    // A reason longer than 123 bytes is cut at a character boundary.
    let mut c = client(Config::new());
    let mut out = Vec::new();
    let long = "€".repeat(50);
    c.close(CloseFrame::new(CloseCode::NORMAL, &long), &mut out).unwrap();
    let frames = parse_frames(&out);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].payload.len(), 2 + 123);
    assert_eq!(&frames[0].payload[2..], "€".repeat(41).as_bytes());
    let mut s = server(Config::new());
    assert_eq!(feed(&mut s, &mut out).ok(), [Ev::close(1000, &"€".repeat(41))]);
}

#[test]
fn buffer_too_small_is_all_or_nothing() {
    let mut s = server(Config::new());
    feed_copy(&mut s, &frame_from(Role::Client, 0x9, b"ping")).ok();
    assert!(s.wants_transmit());
    // The pong (6 bytes) and the text frame (7 bytes) need 13 bytes together.
    for size in 0..13 {
        let mut storage = vec![0xee; size];
        let mut buf = SliceBuf::new(&mut storage);
        assert_eq!(
            s.send_text("hello", &mut buf),
            Err(Error::BufferTooSmall(BufferTooSmall { required: 13 })),
            "size {size}"
        );
        assert!(buf.is_empty());
        assert!(storage.iter().all(|&b| b == 0xee), "nothing written");
        assert!(s.wants_transmit(), "the pong still waits");
    }
    let mut storage = [0u8; 13];
    let mut buf = SliceBuf::new(&mut storage);
    s.send_text("hello", &mut buf).unwrap();
    assert_eq!(buf.filled(), b"\x8a\x04ping\x81\x05hello");
    assert!(!s.wants_transmit());
    let e = Error::BufferTooSmall(BufferTooSmall { required: 13 });
    assert_eq!((e.fault(), e.is_fatal(), e.close_code()), (Fault::Caller, false, None));
}

#[test]
fn buffer_too_small_for_each_command() {
    let mut s = server(Config::new());
    let mut storage = [0u8; 4];
    let mut buf = SliceBuf::new(&mut storage);
    let small = |need| Err(Error::BufferTooSmall(BufferTooSmall { required: need }));
    assert_eq!(s.send_binary(&[0; 3], &mut buf), small(5));
    assert_eq!(s.send(MessageKind::Text, b"abc", &mut buf), small(5));
    assert_eq!(s.send_fragment(MessageKind::Binary, b"abc", false, &mut buf), small(5));
    assert_eq!(s.ping(b"abc", &mut buf), small(5));
    assert_eq!(s.pong(b"abc", &mut buf), small(5));
    assert_eq!(s.close(close_frame(1000, "x"), &mut buf), small(5));
    assert!(buf.is_empty());
    // No state moved: no message is open and no Close was sent.
    assert_eq!(s.state(), State::Open);
    s.send_text("ab", &mut buf).unwrap();
    assert_eq!(buf.filled(), b"\x81\x02ab");

    // poll_transmit: the pending reply stays queued until it fits.
    let mut s = server(Config::new());
    feed_copy(&mut s, &frame_from(Role::Client, 0x8, &close_payload(1000, b""))).ok();
    let mut storage = [0u8; 3];
    let mut buf = SliceBuf::new(&mut storage);
    assert_eq!(s.poll_transmit(&mut buf), Err(Error::BufferTooSmall(BufferTooSmall { required: 4 })));
    assert!(buf.is_empty());
    assert!(s.wants_transmit());
    assert_eq!(s.transport_action(), wsproto::TransportAction::Continue);
    let mut storage = [0u8; 4];
    let mut buf = SliceBuf::new(&mut storage);
    assert_eq!(s.poll_transmit(&mut buf), Ok(4));
    assert_eq!(buf.filled(), b"\x88\x02\x03\xe8");
    assert_eq!(s.transport_action(), wsproto::TransportAction::Close);
}

#[test]
fn buffer_too_small_leaves_fragment_and_utf8_state_alone() {
    let mut s = server(Config::new());
    let euro = "€".as_bytes();
    let mut storage = [0u8; 2];
    let mut buf = SliceBuf::new(&mut storage);
    // Refused: so no message was opened and the validator did not take the lead byte.
    assert_eq!(
        s.send_fragment(MessageKind::Text, &euro[..1], false, &mut buf),
        Err(Error::BufferTooSmall(BufferTooSmall { required: 3 }))
    );
    let mut out = Vec::new();
    assert_eq!(
        s.send_fragment(MessageKind::Text, &euro[1..], true, &mut out),
        Err(Error::Misuse(Misuse::InvalidUtf8)),
        "continuation bytes alone are not text"
    );
    s.send_text("fresh", &mut out).unwrap();
    assert_eq!(out, b"\x81\x05fresh");
}

#[test]
fn pending_replies_are_written_before_each_command() {
    type Command = fn(&mut Connection, &mut Vec<u8>) -> Result<(), Error>;
    let commands: [(&str, Command, &[u8]); 7] = [
        ("send_text", |c, o| c.send_text("t", o), b"\x81\x01t"),
        ("send_binary", |c, o| c.send_binary(b"b", o), b"\x82\x01b"),
        ("send", |c, o| c.send(MessageKind::Text, b"s", o), b"\x81\x01s"),
        ("send_fragment", |c, o| c.send_fragment(MessageKind::Binary, b"f", false, o), b"\x02\x01f"),
        ("ping", |c, o| c.ping(b"p", o), b"\x89\x01p"),
        ("pong", |c, o| c.pong(b"q", o), b"\x8a\x01q"),
        ("close", |c, o| c.close(close_frame(1000, ""), o), b"\x88\x02\x03\xe8"),
    ];
    for (name, command, frame) in commands {
        let mut s = server(Config::new());
        feed_copy(&mut s, &frame_from(Role::Client, 0x9, b"ping!")).ok();
        let mut out = Vec::new();
        command(&mut s, &mut out).unwrap();
        let mut expected = b"\x8a\x05ping!".to_vec();
        expected.extend_from_slice(frame);
        assert_eq!(out, expected, "{name}");
        assert!(!s.wants_transmit(), "{name}");
    }
}

#[test]
fn close_writes_the_pending_close_reply() {
    // With the reply already queued, close() writes it rather than a second Close.
    let mut s = server(Config::new());
    feed_copy(&mut s, &frame_from(Role::Client, 0x8, &close_payload(1001, b""))).ok();
    assert_eq!(s.state(), State::Closed);
    let mut out = Vec::new();
    s.close(close_frame(1000, "ignored"), &mut out).unwrap();
    assert_eq!(out, b"\x88\x02\x03\xe9");
    assert!(!s.wants_transmit());
    // Sending data is refused while the reply waits, and the reply is not lost.
    let mut s = server(Config::new());
    feed_copy(&mut s, &frame_from(Role::Client, 0x8, &close_payload(1000, b""))).ok();
    let mut out = Vec::new();
    assert_eq!(s.send_text("x", &mut out), Err(Error::Misuse(Misuse::SendAfterClose)));
    assert!(out.is_empty());
    assert!(s.wants_transmit());
    assert_eq!(transmit(&mut s), b"\x88\x02\x03\xe8");
}

#[test]
fn wants_transmit_tracks_pending_replies() {
    let mut s = server(Config::new());
    assert!(!s.wants_transmit());
    feed_copy(&mut s, &frame_from(Role::Client, 0x2, b"data")).ok();
    assert!(!s.wants_transmit(), "data needs no reply");
    feed_copy(&mut s, &frame_from(Role::Client, 0x9, b"")).ok();
    assert!(s.wants_transmit());
    let mut out = Vec::new();
    assert_eq!(s.poll_transmit(&mut out), Ok(2));
    assert!(!s.wants_transmit());
    assert_eq!(s.poll_transmit(&mut out), Ok(0));
    feed_copy(&mut s, &frame_from(Role::Client, 0x8, &close_payload(1000, b""))).ok();
    assert!(s.wants_transmit());
    assert_eq!(s.poll_transmit(&mut out), Ok(4));
    assert!(!s.wants_transmit());
    assert_eq!(out, b"\x8a\x00\x88\x02\x03\xe8");

    // A failure queues its Close frame.
    let mut c = client(Config::new());
    feed_copy(&mut c, &[0x8f, 0x00]).err();
    assert!(c.wants_transmit());
    assert_eq!(c.poll_transmit(&mut Vec::new()), Ok(2 + 4 + 2));
    assert!(!c.wants_transmit());
}

#[test]
fn out_buf_through_a_reference() {
    // `&mut` of an OutBuf is an OutBuf, including a trait object.
    let mut s = server(Config::new());
    let mut vec = Vec::new();
    {
        let dynamic: &mut dyn OutBuf = &mut vec;
        s.send_text("dyn", &mut &mut *dynamic).unwrap();
    }
    let mut storage = [0u8; 8];
    let mut slice = SliceBuf::new(&mut storage);
    s.send_binary(b"ref", &mut &mut slice).unwrap();
    assert_eq!(vec, b"\x81\x03dyn");
    assert_eq!(slice.filled(), b"\x82\x03ref");
    assert_eq!(slice.remaining(), 3);
}

#[test]
fn config_defaults_and_setters() {
    let c = Config::new();
    assert_eq!(c, Config::default());
    assert_eq!(
        (
            c.max_frame_payload,
            c.max_message_size,
            c.max_fragments,
            c.max_outgoing_frame,
            c.auto_pong,
            c.auto_close_reply
        ),
        (16 << 20, 64 << 20, 1 << 17, 1 << 20, true, true)
    );
    let c = Config::new()
        .max_frame_payload(1)
        .max_message_size(2)
        .max_fragments(3)
        .max_outgoing_frame(4)
        .auto_pong(false)
        .auto_close_reply(false);
    assert_eq!(
        (
            c.max_frame_payload,
            c.max_message_size,
            c.max_fragments,
            c.max_outgoing_frame,
            c.auto_pong,
            c.auto_close_reply
        ),
        (1, 2, 3, 4, false, false)
    );
    let conn = Connection::new(Role::Server, c);
    assert_eq!(conn.config(), &c);
    assert_eq!(conn.role(), Role::Server);
}
