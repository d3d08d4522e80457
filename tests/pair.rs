//! A client and a server `Connection` driven against each other in memory.

mod common;

use common::*;
use wsproto::{Config, Error, MessageKind, ProtocolViolation, Role, State, TransportAction};

#[test]
fn messages_both_ways() {
    let mut p = Pair::default_configs();
    p.client.send_text("hello server", &mut p.to_server).unwrap();
    p.client.send_binary(&[0, 1, 2, 255], &mut p.to_server).unwrap();
    p.server.send_text("hello client", &mut p.to_client).unwrap();
    p.server.send_binary(&vec![3; 70_000], &mut p.to_client).unwrap();
    let seen = p.pump();
    assert_eq!(seen.server, [Ev::text("hello server"), Ev::binary(&[0, 1, 2, 255])]);
    assert_eq!(
        logical(&seen.client),
        [
            Logical::Message(MessageKind::Text, b"hello client".to_vec()),
            Logical::Message(MessageKind::Binary, vec![3; 70_000])
        ]
    );
    assert_eq!((p.client.state(), p.server.state()), (State::Open, State::Open));
    assert_eq!(p.client.transport_action(), TransportAction::Continue);
    assert_eq!(p.server.transport_action(), TransportAction::Continue);
}

#[test]
fn ping_pong_both_ways() {
    let mut p = Pair::default_configs();
    p.client.ping(b"from client", &mut p.to_server).unwrap();
    p.server.ping(b"from server", &mut p.to_client).unwrap();
    let seen = p.pump();
    assert_eq!(seen.server, [Ev::Ping(b"from client".to_vec()), Ev::Pong(b"from server".to_vec())]);
    assert_eq!(seen.client, [Ev::Ping(b"from server".to_vec()), Ev::Pong(b"from client".to_vec())]);
    assert!(!p.client.wants_transmit() && !p.server.wants_transmit());
}

#[test]
fn interleaved_fragments_and_controls() {
    let mut p = Pair::default_configs();
    // Both sides stream a message at once, piece by piece, with pings in between, and each
    // piece is delivered before the next is sent.
    let client_pieces: [&[u8]; 4] = [b"The ", "quick €".as_bytes(), b"", b" fox"];
    let server_pieces: [&[u8]; 3] = [&[1, 2], &[], &[3]];
    let mut client_seen = Vec::new();
    let mut server_seen = Vec::new();
    for i in 0..4 {
        if let Some(piece) = client_pieces.get(i) {
            p.client.send_fragment(MessageKind::Text, piece, i == 3, &mut p.to_server).unwrap();
        }
        if let Some(piece) = server_pieces.get(i) {
            p.server.send_fragment(MessageKind::Binary, piece, i == 2, &mut p.to_client).unwrap();
        }
        if i == 1 {
            p.client.ping(b"c", &mut p.to_server).unwrap();
            p.server.ping(b"s", &mut p.to_client).unwrap();
        }
        let seen = p.pump();
        client_seen.extend(seen.client);
        server_seen.extend(seen.server);
    }
    assert_eq!(
        logical(&server_seen),
        [
            Logical::Ping(b"c".to_vec()),
            Logical::Pong(b"s".to_vec()),
            Logical::Message(MessageKind::Text, "The quick € fox".as_bytes().to_vec()),
        ]
    );
    assert_eq!(
        logical(&client_seen),
        [
            Logical::Ping(b"s".to_vec()),
            Logical::Pong(b"c".to_vec()),
            Logical::Message(MessageKind::Binary, vec![1, 2, 3])
        ]
    );
    // The first pieces arrived before the messages were finished.
    assert_eq!(server_seen[0], Ev::piece(MessageKind::Text, b"The ", true, false));
    assert_eq!(client_seen[0], Ev::piece(MessageKind::Binary, &[1, 2], true, false));
}

#[test]
fn close_handshake_to_completion() {
    let mut p = Pair::default_configs();
    p.client.send_text("last message", &mut p.to_server).unwrap();
    p.client.close(close_frame(1000, "done"), &mut p.to_server).unwrap();
    assert_eq!(p.client.state(), State::ClosingLocal);
    // The server may still send before it sees the Close.
    p.server.send_text("reply", &mut p.to_client).unwrap();
    let seen = p.pump();
    assert_eq!(seen.server, [Ev::text("last message"), Ev::close(1000, "done")]);
    assert_eq!(seen.client, [Ev::text("reply"), Ev::close(1000, "")]);
    assert_eq!((p.client.state(), p.server.state()), (State::Closed, State::Closed));
    // The server closes the transport first; the client waits for that.
    assert_eq!(p.server.transport_action(), TransportAction::Close);
    assert_eq!(p.client.transport_action(), TransportAction::AwaitPeerClose);
    assert_eq!(p.client.receive_eof(), Ok(()));
    assert_eq!(p.client.transport_action(), TransportAction::Close);
    assert_eq!(p.client.error(), None);
    assert_eq!(p.server.error(), None);
}

#[test]
fn simultaneous_close() {
    let mut p = Pair::default_configs();
    p.client.close(close_frame(1001, "client"), &mut p.to_server).unwrap();
    p.server.close(close_frame(1000, "server"), &mut p.to_client).unwrap();
    let seen = p.pump();
    assert_eq!(seen.server, [Ev::close(1001, "client")]);
    assert_eq!(seen.client, [Ev::close(1000, "server")]);
    assert!(p.to_server.is_empty() && p.to_client.is_empty(), "no second Close frames");
    assert_eq!((p.client.state(), p.server.state()), (State::Closed, State::Closed));
    assert_eq!(p.server.transport_action(), TransportAction::Close);
    assert_eq!(p.client.transport_action(), TransportAction::AwaitPeerClose);
}

#[test]
fn echo_conversation() {
    let mut p = Pair::new(Config::new().max_outgoing_frame(100), Config::new().max_outgoing_frame(333));
    let mut sent = Vec::new();
    for i in 0..200usize {
        let len = [0, 1, 125, 126, 300, 65536][i % 6] + i;
        let msg: Vec<u8> = (0..len).map(|j| (i + j) as u8).collect();
        p.client.send_binary(&msg, &mut p.to_server).unwrap();
        sent.push(msg);
        if i % 3 == 0 {
            p.client.ping(&i.to_be_bytes(), &mut p.to_server).unwrap();
        }
        // The server echoes each whole message back.
        let server_events = p.deliver_to_server();
        for m in logical(&server_events) {
            if let Logical::Message(kind, data) = m {
                p.server.send(kind, &data, &mut p.to_client).unwrap();
            }
        }
        let client_events = p.deliver_to_client();
        let echoed: Vec<Logical> =
            logical(&client_events).into_iter().filter(|l| matches!(l, Logical::Message(..))).collect();
        assert_eq!(echoed, [Logical::Message(MessageKind::Binary, sent[i].clone())], "message {i}");
        let pongs: Vec<Logical> =
            logical(&client_events).into_iter().filter(|l| matches!(l, Logical::Pong(..))).collect();
        let expected_pongs = if i % 3 == 0 { vec![Logical::Pong(i.to_be_bytes().to_vec())] } else { vec![] };
        assert_eq!(pongs, expected_pongs, "message {i}");
    }
    p.server.close(close_frame(1000, ""), &mut p.to_client).unwrap();
    p.pump();
    assert_eq!((p.client.state(), p.server.state()), (State::Closed, State::Closed));
}

#[test]
fn failure_reaches_the_peer_as_a_close_frame() {
    let mut p = Pair::default_configs();
    // A broken client frame (unmasked) reaches the server.
    let mut wire = FrameBuilder::new(0x1).payload(b"unmasked").build();
    let err = feed(&mut p.server, &mut wire).err();
    assert_eq!(err, Error::Protocol(ProtocolViolation::UnmaskedFrame));
    p.server.poll_transmit(&mut p.to_client).unwrap();
    assert_eq!(p.to_client, b"\x88\x02\x03\xea");
    assert_eq!(p.server.transport_action(), TransportAction::Close);
    // The client sees a Close with 1002 and answers it.
    let events = p.deliver_to_client();
    assert_eq!(events, [Ev::close(1002, "")]);
    assert_eq!(p.client.state(), State::Closed);
    assert_one_close(&p.to_server, Role::Client, 1002);
    assert_eq!(p.client.transport_action(), TransportAction::AwaitPeerClose);
    // The failed server reports its error for the reply, too.
    let mut reply = core::mem::take(&mut p.to_server);
    assert_eq!(p.server.receive(&mut reply), Err(err));
}

#[test]
fn eof_in_the_middle_of_a_conversation() {
    let mut p = Pair::default_configs();
    p.server.send_text("partial", &mut p.to_client).unwrap();
    // The transport drops after half the frame.
    let mut half = p.to_client[..4].to_vec();
    p.to_client.clear();
    let events = feed(&mut p.client, &mut half).ok();
    assert_eq!(events, [Ev::piece(MessageKind::Text, b"pa", true, false)]);
    assert_eq!(p.client.receive_eof(), Err(Error::UnexpectedEof));
    assert_eq!(p.client.state(), State::Failed);
    assert_eq!(p.client.transport_action(), TransportAction::Close);
    assert!(transmit(&mut p.client).is_empty(), "no Close frame after end of input");
}
