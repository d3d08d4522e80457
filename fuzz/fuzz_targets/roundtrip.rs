//! Differential: messages chosen by the fuzzer go from our client to our server and from our
//! server to our client, read through arbitrary splits, with and without permessage-deflate,
//! or with the toy run-length extension of `examples/toy_extension.rs` (RSV2) running through
//! the `Extension` hook (its output is many times its input: pieces held inside the extension).
//!
//! Every message kind is covered: whole text and binary (`send_text`, `send_binary`, `send`),
//! streamed fragments (`send_fragment`, with a Ping between pieces), vectored frames
//! (`encode_frame_head`), Pings and Pongs. Small `max_outgoing_frame` values split messages
//! into many frames; small scratch buffers cut inflated output into many pieces.
//!
//! Checked: every send succeeds; each side receives exactly the messages (kind and bytes),
//! Pings and Pongs the other sent, in order, whatever the splits; the automatic Pong answers
//! the latest Ping; the close handshake started by either side ends `Closed` on both, the
//! Close frame carrying the code and reason and the reply echoing the code, with the server
//! told to close the transport and the client to await the server's close.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsproto::frame::{RSV1, RSV2};
use wsproto::{
    CloseCode, CloseFrame, Config, Connection, Error, KeySource, MessageKind, Misuse, Role, State, TransportAction,
};
use wsproto_fuzz::{
    Logical, Msg, RoundtripInput, WireChecker, cut, pieces, receive_all, scratch_len, text_of, toy_extension,
};

fuzz_target!(|input: RoundtripInput| run(&input));

fn connection(role: Role, input: &RoundtripInput, frame: u16) -> Connection {
    let mut config = Config::new();
    if frame != 0 {
        config = config.max_outgoing_frame(usize::from(frame));
    }
    let conn = Connection::new(role, config).with_key_source(KeySource::seeded(11));
    match (input.deflate, input.toy) {
        (Some(d), _) => conn.with_deflate(d.agreed()),
        (None, Some(min)) => conn.with_extension(toy_extension(usize::from(min))).unwrap(),
        (None, None) => conn,
    }
}

/// The reserved bits of the extension `input` runs.
fn extension_bits(input: &RoundtripInput) -> u8 {
    match (input.deflate, input.toy) {
        (Some(_), _) => RSV1,
        (None, Some(_)) => RSV2,
        (None, None) => 0,
    }
}

fn kind(text: bool) -> MessageKind {
    if text { MessageKind::Text } else { MessageKind::Binary }
}

fn payload(text: bool, data: &[u8]) -> Vec<u8> {
    if text { text_of(data).into_bytes() } else { data.to_vec() }
}

/// Sends `messages`; returns the bytes written, what the receiver must see, and the last Ping.
fn send_all(conn: &mut Connection, messages: &[Msg], bits: u8) -> (Vec<u8>, Vec<Logical>, Option<Vec<u8>>) {
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    let mut last_ping = None;
    for m in messages {
        match m {
            Msg::Whole { text: true, data } => {
                let s = text_of(data);
                conn.send_text(&s, &mut wire).unwrap();
                expected.push(Logical::Message(MessageKind::Text, s.into_bytes()));
            }
            Msg::Whole { text: false, data } => {
                conn.send_binary(data, &mut wire).unwrap();
                expected.push(Logical::Message(MessageKind::Binary, data.clone()));
            }
            Msg::Send { text, data } => {
                let data = payload(*text, data);
                conn.send(kind(*text), &data, &mut wire).unwrap();
                expected.push(Logical::Message(kind(*text), data));
            }
            Msg::Fragments { text, data, cuts, ping } => {
                let data = payload(*text, data);
                let parts = cut(&data, cuts);
                for (i, part) in parts.iter().enumerate() {
                    let fin = i + 1 == parts.len();
                    conn.send_fragment(kind(*text), part, fin, &mut wire).unwrap();
                    if *ping && i == 0 && !fin {
                        conn.ping(b"between", &mut wire).unwrap();
                        expected.push(Logical::Ping(b"between".to_vec()));
                        last_ping = Some(b"between".to_vec());
                    }
                }
                expected.push(Logical::Message(kind(*text), data));
            }
            Msg::Heads { text, data, cuts } => {
                let data = payload(*text, data);
                let parts = cut(&data, cuts);
                for (i, part) in parts.iter().enumerate() {
                    let mut part = part.clone();
                    let head = conn.encode_frame_head(kind(*text), &mut part, i + 1 == parts.len()).unwrap();
                    wire.extend_from_slice(head.as_bytes());
                    wire.extend_from_slice(&part);
                }
                expected.push(Logical::Message(kind(*text), data));
            }
            Msg::Ping(d) => {
                let d = &d[..d.len().min(125)];
                conn.ping(d, &mut wire).unwrap();
                expected.push(Logical::Ping(d.to_vec()));
                last_ping = Some(d.to_vec());
            }
            Msg::Pong(d) => {
                let d = &d[..d.len().min(125)];
                conn.pong(d, &mut wire).unwrap();
                expected.push(Logical::Pong(d.to_vec()));
            }
        }
    }
    // Our own decoder agrees that this is a valid frame sequence for the role.
    WireChecker::with_bits(conn.role(), bits).push(&wire);
    (wire, expected, last_ping)
}

/// `to` reads `wire` in the pieces `reads` describes and must see exactly `expected`.
fn deliver(to: &mut Connection, wire: &[u8], reads: &[u8], scratch: usize, expected: &[Logical]) {
    let mut scratch = vec![0; scratch];
    let outcome = receive_all(to, wire, &pieces(wire.len(), reads), &mut scratch);
    assert_eq!(outcome.error, None, "our own frames were refused");
    assert_eq!(outcome.asm.done, expected, "the receiver saw something else than was sent");
    assert_eq!(outcome.asm.partial, None);
}

/// `from` owes a Pong for `ping` (if any); `to` receives it.
fn pong(from: &mut Connection, to: &mut Connection, ping: &Option<Vec<u8>>, reads: &[u8], scratch: usize) {
    assert_eq!(from.wants_transmit(), ping.is_some());
    let mut wire = Vec::new();
    from.poll_transmit(&mut wire).unwrap();
    let expected: Vec<_> = ping.iter().map(|p| Logical::Pong(p.clone())).collect();
    deliver(to, &wire, reads, scratch, &expected);
}

fn run(input: &RoundtripInput) {
    let mut client = connection(Role::Client, input, input.client_frame);
    let mut server = connection(Role::Server, input, input.server_frame);
    let (client_scratch, server_scratch) = (scratch_len(input.client_scratch), scratch_len(input.server_scratch));

    let bits = extension_bits(input);
    let (to_server, expect_server, client_ping) = send_all(&mut client, &input.to_server, bits);
    let (to_client, expect_client, server_ping) = send_all(&mut server, &input.to_client, bits);
    deliver(&mut server, &to_server, &input.server_reads, server_scratch, &expect_server);
    deliver(&mut client, &to_client, &input.client_reads, client_scratch, &expect_client);

    // The automatic Pongs answer the latest Ping of each side.
    pong(&mut server, &mut client, &client_ping, &input.client_reads, client_scratch);
    pong(&mut client, &mut server, &server_ping, &input.server_reads, server_scratch);
    assert_eq!((client.state(), server.state()), (State::Open, State::Open));

    let Some((by_client, code, reason)) = &input.close else {
        assert_eq!(client.transport_action(), TransportAction::Continue);
        assert_eq!(server.transport_action(), TransportAction::Continue);
        return;
    };
    let frame = match code.code() {
        Some(c) => CloseFrame::new(CloseCode(c), &text_of(reason)),
        None => CloseFrame::EMPTY,
    };
    let (closer, other, closer_reads, other_reads, closer_scratch, other_scratch) = if *by_client {
        (&mut client, &mut server, &input.client_reads, &input.server_reads, client_scratch, server_scratch)
    } else {
        (&mut server, &mut client, &input.server_reads, &input.client_reads, server_scratch, client_scratch)
    };
    let mut wire = Vec::new();
    if let Some(c) = frame.code().filter(|c| !c.is_valid_on_wire()) {
        assert_eq!(closer.close(frame, &mut wire), Err(Error::Misuse(Misuse::InvalidCloseCode(c.0))));
        assert!(wire.is_empty());
        assert_eq!(closer.state(), State::Open);
        return;
    }
    closer.close(frame, &mut wire).unwrap();
    assert_eq!(closer.state(), State::ClosingLocal);
    assert_eq!(closer.send_binary(b"late", &mut Vec::new()), Err(Error::Misuse(Misuse::SendAfterClose)));
    let code = frame.code().map(|c| c.0);
    deliver(other, &wire, other_reads, other_scratch, &[Logical::Close(code, frame.reason().to_owned())]);
    assert_eq!(other.state(), State::Closed);
    let mut reply = Vec::new();
    other.poll_transmit(&mut reply).unwrap();
    deliver(closer, &reply, closer_reads, closer_scratch, &[Logical::Close(code, String::new())]);
    assert_eq!((client.state(), server.state()), (State::Closed, State::Closed));
    assert_eq!(server.transport_action(), TransportAction::Close);
    assert_eq!(client.transport_action(), TransportAction::AwaitPeerClose);
    assert_eq!(client.receive_eof(), Ok(()));
    assert_eq!(client.transport_action(), TransportAction::Close);
}
