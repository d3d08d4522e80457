//! The close handshake (RFC 6455 §5.5.1, §7): states, automatic replies, status codes, end of
//! input, transport actions, and what a failed connection does afterwards.

mod common;

use common::*;
use wsproto::{
    CloseCode, CloseFrame, Config, Error, Fault, Limit, MessageKind, Misuse, ProtocolViolation, Role, State,
    TransportAction,
};

#[test]
fn server_initiated_close_in_a_pair() {
    let mut p = Pair::default_configs();
    p.server.close(close_frame(1000, "bye"), &mut p.to_client).unwrap();
    assert_eq!(p.to_client, b"\x88\x05\x03\xe8bye");
    assert_eq!(p.server.state(), State::ClosingLocal);
    assert_eq!(p.server.transport_action(), TransportAction::Continue);

    // The client sees the Close, queues the reply and is closed.
    let mut wire = core::mem::take(&mut p.to_client);
    let events = feed(&mut p.client, &mut wire).ok();
    assert_eq!(events, [Ev::close(1000, "bye")]);
    assert_eq!(p.client.state(), State::Closed);
    assert!(p.client.wants_transmit());
    assert_eq!(p.client.transport_action(), TransportAction::Continue, "the reply is still to be written");
    let reply = transmit(&mut p.client);
    assert_one_close(&reply, Role::Client, 1000);
    assert_eq!(p.client.transport_action(), TransportAction::AwaitPeerClose);

    // The server gets the reply and closes the transport first.
    p.to_server = reply;
    assert_eq!(p.deliver_to_server(), [Ev::close(1000, "")]);
    assert_eq!(p.server.state(), State::Closed);
    assert!(p.to_client.is_empty(), "nothing answers the reply");
    assert_eq!(p.server.transport_action(), TransportAction::Close);

    // The client then sees end of input: the normal end.
    assert_eq!(p.client.receive_eof(), Ok(()));
    assert_eq!(p.client.state(), State::Closed);
    assert_eq!(p.client.transport_action(), TransportAction::Close);
    assert_eq!(p.server.receive_eof(), Ok(()));
    assert_eq!(p.server.transport_action(), TransportAction::Close);
}

#[test]
fn client_initiated_close_in_a_pair() {
    let mut p = Pair::default_configs();
    p.client.close(close_frame(1001, "going"), &mut p.to_server).unwrap();
    assert_eq!(p.client.state(), State::ClosingLocal);
    let seen = p.pump();
    assert_eq!(seen.server, [Ev::close(1001, "going")]);
    assert_eq!(seen.client, [Ev::close(1001, "")]);
    assert_eq!(p.server.state(), State::Closed);
    assert_eq!(p.client.state(), State::Closed);
    assert_eq!(p.server.transport_action(), TransportAction::Close);
    assert_eq!(p.client.transport_action(), TransportAction::AwaitPeerClose);
}

#[test]
fn auto_reply_echoes_the_code() {
    for code in [1000u16, 1001, 1003, 1011, 3000, 4999] {
        let mut s = server(Config::new());
        let events = feed_copy(&mut s, &frame_from(Role::Client, 0x8, &close_payload(code, b"why"))).ok();
        assert_eq!(events, [Ev::close(code, "why")]);
        assert_eq!(s.state(), State::Closed);
        let mut expected = vec![0x88, 0x02];
        expected.extend_from_slice(&code.to_be_bytes());
        assert_eq!(transmit(&mut s), expected);
        assert_eq!(s.transport_action(), TransportAction::Close);
    }
    // A Close without a code is answered without one.
    let mut s = server(Config::new());
    let events = feed_copy(&mut s, &frame_from(Role::Client, 0x8, b"")).ok();
    assert_eq!(events, [Ev::Close { code: None, reason: String::new() }]);
    assert_eq!(transmit(&mut s), [0x88, 0x00]);
    // And the event reports 1005 for it.
    let mut s = server(Config::new());
    let mut wire = frame_from(Role::Client, 0x8, b"");
    let r = s.receive(&mut wire).unwrap();
    let Some(wsproto::Event::Close(frame)) = r.event else { panic!("{:?}", r.event) };
    assert_eq!(frame.reported_code(), CloseCode::NO_STATUS);
    assert_eq!(frame, CloseFrame::EMPTY);
}

#[test]
fn closing_local_then_closed() {
    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.close(CloseFrame::with_code(CloseCode::GOING_AWAY), &mut out).unwrap();
    assert_eq!(out, b"\x88\x02\x03\xe9");
    assert_eq!(s.state(), State::ClosingLocal);
    // Data still arrives while we wait for the peer's Close.
    let mut wire = frame_from(Role::Client, 0x1, b"late");
    wire.extend(frame_from(Role::Client, 0x8, &close_payload(1000, b"")));
    assert_eq!(feed(&mut s, &mut wire).ok(), [Ev::text("late"), Ev::close(1000, "")]);
    assert_eq!(s.state(), State::Closed);
    assert!(!s.wants_transmit(), "no second Close is sent");
    assert_eq!(s.transport_action(), TransportAction::Close);
}

#[test]
fn closing_remote_with_auto_reply_off() {
    let mut s = server(Config::new().auto_close_reply(false));
    let events = feed_copy(&mut s, &frame_from(Role::Client, 0x8, &close_payload(1000, b"done"))).ok();
    assert_eq!(events, [Ev::close(1000, "done")]);
    assert_eq!(s.state(), State::ClosingRemote);
    assert!(!s.wants_transmit());
    assert_eq!(s.transport_action(), TransportAction::Continue);
    // We may finish sending, then answer.
    let mut out = Vec::new();
    s.send_text("last words", &mut out).unwrap();
    s.close(close_frame(1000, "ok"), &mut out).unwrap();
    assert_eq!(out, b"\x81\x0alast words\x88\x04\x03\xe8ok");
    assert_eq!(s.state(), State::Closed);
    assert_eq!(s.transport_action(), TransportAction::Close);
    assert_eq!(s.send_text("more", &mut out), Err(Error::Misuse(Misuse::SendAfterClose)));

    // A client in ClosingRemote that sees end of input closes the transport.
    let mut c = client(Config::new().auto_close_reply(false));
    feed_copy(&mut c, &frame_from(Role::Server, 0x8, &close_payload(1000, b""))).ok();
    assert_eq!(c.state(), State::ClosingRemote);
    assert_eq!(c.receive_eof(), Ok(()));
    assert_eq!(c.transport_action(), TransportAction::Close);
}

#[test]
fn failed_connection_transport_action_is_close() {
    for role in [Role::Client, Role::Server] {
        let mut rx = conn(role, Config::new());
        let err = feed_copy(&mut rx, &FrameBuilder::new(0x3).build()).err();
        assert_eq!(rx.state(), State::Failed);
        assert_eq!(rx.transport_action(), TransportAction::Continue, "the Close frame must go out first");
        assert_one_close(&transmit(&mut rx), role, 1002);
        assert_eq!(rx.transport_action(), TransportAction::Close);
        assert_eq!(rx.error(), Some(err));
    }
}

#[test]
fn one_byte_close_payload_is_rejected() {
    for from in [Role::Client, Role::Server] {
        let mut rx = conn(from.peer(), Config::new());
        let err = feed_copy(&mut rx, &frame_from(from, 0x8, &[0x03])).err();
        assert_eq!(err, Error::Protocol(ProtocolViolation::CloseFrameOneByte));
        assert_failed_with(&mut rx, err, 1002);
    }
}

#[test]
fn invalid_close_codes_are_rejected() {
    for code in [0u16, 1, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 2000, 2999, 5000, 65535] {
        let mut s = server(Config::new());
        let err = feed_copy(&mut s, &frame_from(Role::Client, 0x8, &close_payload(code, b""))).err();
        assert_eq!(err, Error::Protocol(ProtocolViolation::InvalidCloseCode(code)), "{code}");
        assert_eq!(err.fault(), Fault::Peer);
        assert_failed_with(&mut s, err, 1002);
    }
}

#[test]
fn valid_close_codes_are_accepted() {
    for code in [1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999] {
        let mut c = client(Config::new());
        let events = feed_copy(&mut c, &frame_from(Role::Server, 0x8, &close_payload(code, b"r"))).ok();
        assert_eq!(events, [Ev::close(code, "r")], "{code}");
        assert_eq!(c.state(), State::Closed);
        assert_one_close(&transmit(&mut c), Role::Client, code);
    }
}

#[test]
fn maximal_close_reason() {
    let reason = "r".repeat(123);
    let mut c = client(Config::new());
    let events = feed_copy(&mut c, &frame_from(Role::Server, 0x8, &close_payload(4000, reason.as_bytes()))).ok();
    assert_eq!(events, [Ev::close(4000, &reason)]);
}

#[test]
fn data_after_close_is_ignored() {
    let mut wire = frame_from(Role::Client, 0x8, &close_payload(1000, b""));
    let close_len = wire.len();
    wire.extend(frame_from(Role::Client, 0x1, b"ignored"));
    wire.extend(frame_from(Role::Client, 0x9, b"ignored"));
    let mut s = server(Config::new());
    let r = s.receive(&mut wire).unwrap();
    assert_eq!(r.consumed, close_len, "the Close frame ends the event");
    assert!(matches!(r.event, Some(wsproto::Event::Close(_))));
    let rest = &mut wire[close_len..];
    let rest_len = rest.len();
    let r = s.receive(rest).unwrap();
    assert_eq!((r.consumed, r.event), (rest_len, None));
    // Even garbage is consumed and ignored.
    let mut garbage = [0xff; 32];
    let r = s.receive(&mut garbage).unwrap();
    assert_eq!((r.consumed, r.event), (32, None));
    assert_eq!(s.state(), State::Closed);
    // Only the Close reply is written, no pong.
    assert_one_close(&transmit(&mut s), Role::Server, 1000);
}

#[test]
fn close_split_across_reads() {
    let wire = frame_from(Role::Client, 0x8, &close_payload(1000, b"split"));
    for cut in 0..=wire.len() {
        let mut s = server(Config::new());
        assert_eq!(feed_split(&mut s, &wire, &[cut]).ok(), [Ev::close(1000, "split")], "cut {cut}");
        assert_eq!(s.state(), State::Closed);
    }
}

#[test]
fn sending_after_close_is_misuse() {
    for role in [Role::Client, Role::Server] {
        let mut tx = conn(role, Config::new());
        let mut out = Vec::new();
        tx.close(close_frame(1000, ""), &mut out).unwrap();
        let len = out.len();
        let after = Err(Error::Misuse(Misuse::SendAfterClose));
        assert_eq!(tx.send_text("x", &mut out), after);
        assert_eq!(tx.send_binary(b"x", &mut out), after);
        assert_eq!(tx.send(MessageKind::Binary, b"x", &mut out), after);
        assert_eq!(tx.send_fragment(MessageKind::Text, b"x", false, &mut out), after);
        assert_eq!(tx.ping(b"x", &mut out), after);
        assert_eq!(tx.pong(b"x", &mut out), after);
        let mut payload = *b"x";
        assert_eq!(tx.encode_frame_head(MessageKind::Binary, &mut payload, true).err(), after.err());
        assert_eq!(Error::Misuse(Misuse::SendAfterClose).fault(), Fault::Caller);
        // A second close writes nothing and is not an error.
        assert_eq!(tx.close(close_frame(1001, ""), &mut out), Ok(()));
        assert_eq!(out.len(), len, "nothing more written");
        assert_eq!(tx.state(), State::ClosingLocal, "misuse does not fail the connection");
        assert_eq!(tx.error(), None);
    }
}

#[test]
fn eof_before_close_fails() {
    for role in [Role::Client, Role::Server] {
        let mut rx = conn(role, Config::new());
        assert_eq!(rx.receive_eof(), Err(Error::UnexpectedEof));
        assert_eq!(rx.state(), State::Failed);
        assert_eq!(rx.error(), Some(Error::UnexpectedEof));
        assert_eq!(Error::UnexpectedEof.fault(), Fault::Transport);
        assert_eq!(Error::UnexpectedEof.close_code(), None, "1006 is never sent");
        assert!(!rx.wants_transmit());
        assert!(transmit(&mut rx).is_empty());
        assert_eq!(rx.transport_action(), TransportAction::Close);
        assert_eq!(rx.receive_eof(), Err(Error::UnexpectedEof));
        assert_eq!(rx.receive(&mut [0x81, 0x00]), Err(Error::UnexpectedEof));
        assert_eq!(rx.send_text("x", &mut Vec::new()), Err(Error::UnexpectedEof));
    }
    // In the middle of a message, and after our own Close: still unexpected.
    let mut s = server(Config::new());
    feed_copy(&mut s, &frame_from_fin(Role::Client, 0x1, false, b"half")).ok();
    assert_eq!(s.receive_eof(), Err(Error::UnexpectedEof));
    let mut s = server(Config::new());
    s.close(close_frame(1000, ""), &mut Vec::new()).unwrap();
    assert_eq!(s.receive_eof(), Err(Error::UnexpectedEof));
    assert_eq!(s.transport_action(), TransportAction::Close);
}

#[test]
fn eof_with_pending_pong_drops_it() {
    let mut s = server(Config::new());
    feed_copy(&mut s, &frame_from(Role::Client, 0x9, b"p")).ok();
    assert!(s.wants_transmit());
    assert_eq!(s.receive_eof(), Err(Error::UnexpectedEof));
    assert!(!s.wants_transmit());
    assert_eq!(s.transport_action(), TransportAction::Close);
}

#[test]
fn eof_after_close_is_ok() {
    let mut c = client(Config::new());
    feed_copy(&mut c, &frame_from(Role::Server, 0x8, &close_payload(1000, b""))).ok();
    assert_eq!(c.receive_eof(), Ok(()));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.error(), None);
    // The reply is still written (the transport may be half-closed), then the transport closes.
    assert!(c.wants_transmit());
    assert_eq!(c.transport_action(), TransportAction::Continue);
    assert_one_close(&transmit(&mut c), Role::Client, 1000);
    assert_eq!(c.transport_action(), TransportAction::Close);
    assert_eq!(c.receive_eof(), Ok(()), "repeating end of input is harmless");
}

/// Every call on a failed connection reports the error that failed it.
#[track_caller]
fn assert_every_call_repeats(conn: &mut wsproto::Connection, error: Error) {
    let mut out = Vec::new();
    let mut input = frame_from(conn.role().peer(), 0x1, b"x");
    assert_eq!(conn.receive(&mut input), Err(error));
    assert_eq!(conn.receive(&mut []), Err(error));
    assert_eq!(conn.send_text("x", &mut out), Err(error));
    assert_eq!(conn.send_binary(b"x", &mut out), Err(error));
    assert_eq!(conn.send(MessageKind::Text, b"x", &mut out), Err(error));
    assert_eq!(conn.send_fragment(MessageKind::Binary, b"x", false, &mut out), Err(error));
    assert_eq!(conn.ping(b"x", &mut out), Err(error));
    assert_eq!(conn.pong(b"x", &mut out), Err(error));
    let mut payload = *b"x";
    assert_eq!(conn.encode_frame_head(MessageKind::Binary, &mut payload, true).err(), Some(error));
    assert_eq!(conn.close(close_frame(1000, ""), &mut out), Err(error));
    assert!(out.is_empty(), "no call wrote anything: {out:?}");
    assert_eq!(conn.state(), State::Failed);
    assert_eq!(conn.error(), Some(error));
}

#[test]
fn after_a_fatal_error_every_call_repeats_it() {
    let cases: [(Vec<u8>, Error, u16, Config); 4] = [
        (
            FrameBuilder::new(0x1).payload(b"unmasked").build(),
            Error::Protocol(ProtocolViolation::UnmaskedFrame),
            1002,
            Config::new(),
        ),
        (frame_from(Role::Client, 0x1, b"\xff"), Error::InvalidUtf8 { offset: 0 }, 1007, Config::new()),
        (
            frame_from(Role::Client, 0x2, b"too long"),
            Error::LimitExceeded(Limit::FramePayload),
            1009,
            Config::new().max_frame_payload(4),
        ),
        (
            frame_from(Role::Client, 0x8, &close_payload(1000, b"\xc3")),
            Error::Protocol(ProtocolViolation::CloseReasonNotUtf8),
            1007,
            Config::new(),
        ),
    ];
    for (wire, error, code, config) in cases {
        let mut s = server(config);
        assert_eq!(feed_copy(&mut s, &wire).err(), error);
        assert!(s.wants_transmit());
        assert_every_call_repeats(&mut s, error);
        assert_eq!(s.receive_eof(), Err(error), "end of input repeats the first error");
        assert!(s.wants_transmit(), "the Close frame still waits");
        let out = transmit(&mut s);
        assert_one_close(&out, Role::Server, code);
        assert!(transmit(&mut s).is_empty(), "exactly one Close frame");
        assert_every_call_repeats(&mut s, error);
        assert_eq!(s.transport_action(), TransportAction::Close);
    }
}

#[test]
fn fatal_error_after_our_close_queues_no_second_close() {
    let mut s = server(Config::new());
    let mut out = Vec::new();
    s.close(close_frame(1000, ""), &mut out).unwrap();
    let err = feed_copy(&mut s, &frame_from(Role::Client, 0x0, b"orphan")).err();
    assert_eq!(err, Error::Protocol(ProtocolViolation::UnexpectedContinuation));
    assert_eq!(s.state(), State::Failed);
    assert!(!s.wants_transmit(), "a Close frame was already sent");
    assert!(transmit(&mut s).is_empty());
    assert_eq!(s.transport_action(), TransportAction::Close);
    assert_every_call_repeats(&mut s, err);
}

#[test]
fn client_failure_close_is_masked() {
    let mut c = client(Config::new());
    let err = feed_copy(&mut c, &FrameBuilder::new(0x1).mask(KEY).payload(b"masked").build()).err();
    assert_eq!(err, Error::Protocol(ProtocolViolation::MaskedFrame));
    assert_every_call_repeats(&mut c, err);
    assert_failed_with(&mut c, err, 1002);
}
