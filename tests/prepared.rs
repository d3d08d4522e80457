//! Broadcast: a `PreparedMessage` is encoded once and sent on many server connections. Its
//! bytes are what `send` writes; each connection checks its state and counts the message as
//! `send` does; automatic replies go out ahead of it; compressed forms go only where the
//! agreement can read them; the tokio adapter writes it without copying, to many connections
//! and through cancellation.

mod common;

use core::time::Duration;

use common::{FrameBuilder, Logical, client, feed_copy, frame_from, logical, server, transmit};
use wsproto::{
    BufferTooSmall, CloseCode, CloseFrame, Config, Connection, Error, MessageKind, Misuse, PreparedMessage,
    ProtocolViolation, Role, SliceBuf, State, Timer, Timestamp, WriteQueue,
};

fn text_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

fn binary_of(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn data_of(kind: MessageKind, len: usize) -> Vec<u8> {
    match kind {
        MessageKind::Text => text_of(len),
        MessageKind::Binary => binary_of(len),
    }
}

fn prepared(kind: MessageKind, data: &[u8], config: &Config) -> PreparedMessage {
    PreparedMessage::new(kind, data, config).unwrap()
}

/// What `send` writes for the message on a fresh server connection.
fn sent(kind: MessageKind, data: &[u8], config: Config) -> Vec<u8> {
    let mut out = Vec::new();
    server(config).send(kind, data, &mut out).unwrap();
    out
}

/// What `send_prepared` writes on a fresh server connection.
fn sent_prepared(msg: &PreparedMessage, config: Config) -> Vec<u8> {
    let mut out = Vec::new();
    server(config).send_prepared(msg, &mut out).unwrap();
    out
}

/// The messages a client reads from `wire`.
fn received(wire: &[u8]) -> Vec<Logical> {
    logical(&feed_copy(&mut client(Config::new()), wire).ok())
}

#[test]
fn prepared_bytes_are_what_send_writes() {
    let one_frame = [0, 1, 125, 126, 65535, 65536];
    let split = Config::new().max_outgoing_frame(1000);
    for kind in [MessageKind::Text, MessageKind::Binary] {
        let cases = one_frame.iter().map(|&len| (len, Config::new()));
        let cases = cases.chain([999, 1000, 1001, 2000, 2500, 65536].iter().map(|&len| (len, split)));
        for (len, config) in cases {
            let data = data_of(kind, len);
            let msg = prepared(kind, &data, &config);
            assert_eq!((msg.kind(), msg.len(), msg.is_empty()), (kind, len, len == 0));
            let expected = sent(kind, &data, config);
            assert!(sent_prepared(&msg, config) == expected, "{kind:?} {len}");
            // The zero-copy form returns the same frames.
            let mut conn = server(config);
            assert!(conn.prepare_send(&msg).unwrap() == &expected[..], "{kind:?} {len}");
            // And the message is sent again, unchanged, on any number of connections.
            assert!(sent_prepared(&msg.clone(), config) == expected);
            assert_eq!(received(&expected), [Logical::Message(kind, data)]);
        }
    }
    // Text split between the bytes of a character, as `send` splits it.
    let text = "é€".repeat(300);
    let msg = prepared(MessageKind::Text, text.as_bytes(), &split);
    assert_eq!(sent_prepared(&msg, split), sent(MessageKind::Text, text.as_bytes(), split));
}

#[test]
fn text_is_checked_once_when_prepared() {
    let err = PreparedMessage::new(MessageKind::Text, b"ok \xff", &Config::new()).unwrap_err();
    assert_eq!(err, Error::Misuse(Misuse::InvalidUtf8));
    let err = PreparedMessage::new(MessageKind::Text, "é".as_bytes().split_at(1).0, &Config::new()).unwrap_err();
    assert_eq!(err, Error::Misuse(Misuse::InvalidUtf8));
    assert!(PreparedMessage::new(MessageKind::Binary, b"ok \xff", &Config::new()).is_ok());
}

#[test]
fn a_client_refuses_prepared_messages() {
    let msg = prepared(MessageKind::Binary, b"shared", &Config::new());
    let mut conn = client(Config::new());
    let mut out = Vec::new();
    assert_eq!(conn.send_prepared(&msg, &mut out), Err(Error::Misuse(Misuse::MaskRequired)));
    assert_eq!(conn.prepare_send(&msg), Err(Error::Misuse(Misuse::MaskRequired)));
    assert!(out.is_empty());
    // Nothing changed: the client sends on as usual.
    conn.send_binary(b"own", &mut out).unwrap();
    assert_eq!(
        logical(&feed_copy(&mut server(Config::new()), &out).ok()),
        [Logical::Message(MessageKind::Binary, b"own".to_vec())]
    );
}

/// Runs `setup` on two fresh server connections, then sends the same message with `send` on one
/// and with `send_prepared` and `prepare_send` on twins of the other: the results agree.
#[track_caller]
fn same_outcome_as_send(config: Config, setup: impl Fn(&mut Connection)) -> Result<(), Error> {
    let data = b"broadcast";
    let msg = prepared(MessageKind::Text, data, &config);
    let mut plain = server(config);
    setup(&mut plain);
    let expected = plain.send(MessageKind::Text, data, &mut Vec::new());
    let mut conn = server(config);
    setup(&mut conn);
    assert_eq!(conn.send_prepared(&msg, &mut Vec::new()), expected);
    assert_eq!(conn.state(), plain.state());
    let mut conn = server(config);
    setup(&mut conn);
    assert_eq!(conn.prepare_send(&msg).map(drop), expected);
    expected
}

#[test]
fn state_checks_are_those_of_send() {
    let config = Config::new();
    assert_eq!(same_outcome_as_send(config, |_| {}), Ok(()));
    // After our Close frame.
    let closed = |c: &mut Connection| c.close(CloseFrame::with_code(CloseCode::NORMAL), &mut Vec::new()).unwrap();
    assert_eq!(same_outcome_as_send(config, closed), Err(Error::Misuse(Misuse::SendAfterClose)));
    // While a fragmented message is open, of either kind; after it ends, again.
    for kind in [MessageKind::Text, MessageKind::Binary] {
        let open = move |c: &mut Connection| c.send_fragment(kind, b"part", false, &mut Vec::new()).unwrap();
        assert_eq!(same_outcome_as_send(config, open), Err(Error::Misuse(Misuse::MessageInProgress)));
        let ended = move |c: &mut Connection| {
            c.send_fragment(kind, b"part", false, &mut Vec::new()).unwrap();
            c.send_fragment(kind, b"s", true, &mut Vec::new()).unwrap();
        };
        assert_eq!(same_outcome_as_send(config, ended), Ok(()));
    }
    // After a failure: the error that failed the connection.
    let failed = |c: &mut Connection| {
        let unmasked = FrameBuilder::new(0x1).payload(b"x").build();
        feed_copy(c, &unmasked).err();
    };
    assert_eq!(same_outcome_as_send(config, failed), Err(Error::Protocol(ProtocolViolation::UnmaskedFrame)));
    // The peer closed and we have not answered yet: data may still go out.
    let peer_closed = |c: &mut Connection| {
        feed_copy(c, &frame_from(Role::Client, 0x8, &[0x03, 0xe8])).ok();
        assert_eq!(c.state(), State::ClosingRemote);
    };
    assert_eq!(same_outcome_as_send(config.auto_close_reply(false), peer_closed), Ok(()));
    // With the automatic reply, the connection closed: nothing more.
    let replied = |c: &mut Connection| {
        feed_copy(c, &frame_from(Role::Client, 0x8, &[0x03, 0xe8])).ok();
    };
    assert_eq!(same_outcome_as_send(config, replied), Err(Error::Misuse(Misuse::SendAfterClose)));
}

/// A server that received a Ping with `payload` and has not answered it yet.
fn with_pong_due(payload: &[u8]) -> Connection {
    let mut conn = server(Config::new());
    feed_copy(&mut conn, &frame_from(Role::Client, 0x9, payload)).ok();
    assert!(conn.wants_transmit());
    conn
}

#[test]
fn pending_replies_go_out_first() {
    let data = binary_of(300);
    let msg = prepared(MessageKind::Binary, &data, &Config::new());
    // A Pong waiting in its slot: `send` and `send_prepared` write it first, alike.
    let mut expected = Vec::new();
    with_pong_due(b"are you there").send_binary(&data, &mut expected).unwrap();
    let mut conn = with_pong_due(b"are you there");
    let mut out = Vec::new();
    conn.send_prepared(&msg, &mut out).unwrap();
    assert_eq!(out, expected);
    assert!(!conn.wants_transmit());
    assert_eq!(received(&out), [Logical::Pong(b"are you there".to_vec()), Logical::Message(MessageKind::Binary, data)]);
    // The zero-copy form leaves the Pong to `poll_transmit`, written ahead of the frames.
    let mut conn = with_pong_due(b"are you there");
    let frames = conn.prepare_send(&msg).unwrap();
    assert!(conn.wants_transmit());
    let mut wire = transmit(&mut conn);
    wire.extend_from_slice(frames);
    assert_eq!(wire, expected);

    // A keepalive Ping due.
    let config = Config::new().keepalive(Duration::from_secs(10), Duration::from_secs(5));
    let mut conn = server(config);
    conn.set_time(Timestamp::from_millis(0));
    conn.handle_timeout(Timestamp::from_millis(10_000)).unwrap();
    assert!(conn.wants_transmit());
    let mut out = Vec::new();
    conn.send_prepared(&msg, &mut out).unwrap();
    assert_eq!(&out[..2], [0x89, 0x00]);
    assert_eq!(received(&out[2..]), [Logical::Message(MessageKind::Binary, binary_of(300))]);

    // A Close frame waiting (the answer to a failure): the send fails as `send` does, and the
    // Close frame still goes out with `poll_transmit`.
    let mut conn = server(Config::new());
    let err = feed_copy(&mut conn, &FrameBuilder::new(0x2).build()).err();
    assert_eq!(conn.send_prepared(&msg, &mut Vec::new()), Err(err));
    assert_eq!(received(&transmit(&mut conn)), [Logical::Close { code: Some(1002), reason: String::new() }]);
}

#[test]
fn a_refused_write_writes_nothing_and_keeps_the_replies() {
    let data = binary_of(100);
    let msg = prepared(MessageKind::Binary, &data, &Config::new());
    // A fixed buffer too small for the Pong and the message: the same refusal as `send`.
    let mut storage = [0u8; 50];
    let expected = with_pong_due(b"p").send_binary(&data, &mut SliceBuf::new(&mut storage));
    assert_eq!(expected, Err(Error::BufferTooSmall(BufferTooSmall { required: 3 + 102 })));
    let mut conn = with_pong_due(b"p");
    let mut buf = SliceBuf::new(&mut storage);
    assert_eq!(conn.send_prepared(&msg, &mut buf), expected);
    assert!(buf.is_empty());
    assert!(conn.wants_transmit());
    // A queue over its high-water mark refuses data: backpressure, nothing written.
    let mut queue = WriteQueue::new(150, 10);
    conn.send_binary(&data, &mut queue).unwrap();
    let queued = queue.len();
    assert_eq!(conn.send_prepared(&msg, &mut queue), Err(Error::Backpressure));
    assert_eq!(queue.len(), queued);
    queue.consume(queued);
    conn.send_prepared(&msg, &mut queue).unwrap();
    assert_eq!(received(queue.pending()), [Logical::Message(MessageKind::Binary, data)]);
}

#[test]
fn frames_larger_than_the_connections_max_outgoing_frame_are_refused() {
    let wide = Config::new();
    let narrow = Config::new().max_outgoing_frame(1000);
    let big = prepared(MessageKind::Binary, &binary_of(2000), &wide);
    let mut conn = server(narrow);
    let mut out = Vec::new();
    assert_eq!(conn.send_prepared(&big, &mut out), Err(Error::Misuse(Misuse::PreparedFrameTooLarge)));
    assert_eq!(conn.prepare_send(&big), Err(Error::Misuse(Misuse::PreparedFrameTooLarge)));
    assert!(out.is_empty());
    // Prepared with the connection's configuration, it goes out in frames of 1000 bytes; a
    // message of one small frame fits whatever it was prepared with.
    conn.send_prepared(&prepared(MessageKind::Binary, &binary_of(2000), &narrow), &mut out).unwrap();
    conn.send_prepared(&prepared(MessageKind::Binary, &binary_of(1000), &wide), &mut out).unwrap();
    assert_eq!(
        out,
        [sent(MessageKind::Binary, &binary_of(2000), narrow), sent(MessageKind::Binary, &binary_of(1000), narrow)]
            .concat()
    );
}

#[test]
fn prepared_messages_count_as_data_for_the_idle_timer() {
    let config = Config::new().idle_timeout(Duration::from_secs(10));
    let msg = prepared(MessageKind::Text, b"still here", &config);
    let ms = Timestamp::from_millis;
    let senders: [fn(&mut Connection, &PreparedMessage); 3] = [
        |c, m| c.send_prepared(m, &mut Vec::new()).unwrap(),
        |c, m| assert!(!c.prepare_send(m).unwrap().is_empty()),
        |c, m| c.send(m.kind(), b"still here", &mut Vec::new()).unwrap(),
    ];
    for send in senders {
        let mut conn = server(config);
        conn.set_time(ms(0));
        assert_eq!(conn.poll_timeout(), Some(ms(10_000)));
        send(&mut conn, &msg);
        // Stamped by the next time input, as the contract says.
        conn.set_time(ms(8_000));
        assert_eq!(conn.poll_timeout(), Some(ms(18_000)));
        conn.handle_timeout(ms(17_999)).unwrap();
        assert_eq!(conn.handle_timeout(ms(18_000)), Err(Error::Timeout(Timer::Idle)));
    }
}

#[test]
fn a_broadcast_reaches_many_connections_with_one_encoding() {
    let config = Config::new();
    let data = text_of(70_000);
    let msg = prepared(MessageKind::Text, &data, &config);
    let mut conns: Vec<Connection> = (0..50).map(|_| server(config)).collect();
    // Some are busy with their own traffic: a fragmented message open, a Pong due, closed.
    conns[1].send_fragment(MessageKind::Binary, b"own", false, &mut Vec::new()).unwrap();
    conns[2] = with_pong_due(b"hb");
    conns[3].close(CloseFrame::with_code(CloseCode::GOING_AWAY), &mut Vec::new()).unwrap();
    let mut delivered = 0;
    for (i, conn) in conns.iter_mut().enumerate() {
        let mut out = Vec::new();
        match (i, conn.send_prepared(&msg, &mut out)) {
            (1, Err(Error::Misuse(Misuse::MessageInProgress))) | (3, Err(Error::Misuse(Misuse::SendAfterClose))) => {}
            (_, Ok(())) => {
                let got = received(&out);
                assert_eq!(got.last(), Some(&Logical::Message(MessageKind::Text, data.clone())));
                delivered += 1;
            }
            (i, other) => panic!("connection {i}: {other:?}"),
        }
    }
    assert_eq!(delivered, 48);
}

/// permessage-deflate: compressed forms, one per window, where the agreement can read them.
#[cfg(feature = "deflate")]
mod deflate {
    use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
    use wsproto::{Config, Connection, Event, KeySource, MessageAssembler, MessageKind, PreparedMessage, Role};

    use super::{sent_prepared, text_of};

    fn params(server_no_context_takeover: bool, server_max_window_bits: u8) -> DeflateParams {
        DeflateParams { server_no_context_takeover, server_max_window_bits, ..DeflateParams::DEFAULT }
    }

    fn server_with(params: DeflateParams, deflate: &DeflateConfig, config: Config) -> Connection {
        Connection::new(Role::Server, config).with_deflate(PerMessageDeflate::new(params, deflate))
    }

    fn client_with(params: DeflateParams, config: Config) -> Connection {
        let agreed = PerMessageDeflate::new(params, &DeflateConfig::new());
        Connection::new(Role::Client, config).with_key_source(KeySource::seeded(3)).with_deflate(agreed)
    }

    /// The messages a client reads from `wire`, inflating into a scratch buffer.
    fn read(client: &mut Connection, wire: &[u8]) -> Result<Vec<(MessageKind, Vec<u8>)>, wsproto::Error> {
        let mut input = wire.to_vec();
        let mut scratch = vec![0u8; 4096];
        let mut assembler = MessageAssembler::new();
        let mut messages = Vec::new();
        let mut pos = 0;
        loop {
            let r = client.receive_into(&mut input[pos..], &mut scratch)?;
            pos += r.consumed;
            let Some(event) = r.event else { return Ok(messages) };
            if let Event::Data { .. } = event {
                match assembler.push(event).unwrap() {
                    Some(wsproto::Message::Text(t)) => messages.push((MessageKind::Text, t.as_bytes().to_vec())),
                    Some(wsproto::Message::Binary(b)) => messages.push((MessageKind::Binary, b.to_vec())),
                    _ => {}
                }
            }
        }
    }

    /// Data with repeats at three distances: 10 000 bytes (only a 15-bit window reaches
    /// them), 3000 bytes (a 12-bit window too), and a few bytes (any window).
    fn repeats() -> Vec<u8> {
        let noise = noise(13_000);
        let (far, near) = noise.split_at(10_000);
        [far, far, near, near, &text_of(3000)].concat()
    }

    /// Bytes that do not compress.
    fn noise(len: usize) -> Vec<u8> {
        let mut rng = super::common::Rng(0x9e37_79b9_7f4a_7c15);
        (0..len).map(|_| (rng.next() >> 56) as u8).collect()
    }

    #[test]
    fn each_window_gets_its_own_compressed_frames() {
        let deflate = DeflateConfig::low_memory();
        let data = repeats();
        for config in [Config::new(), Config::new().max_outgoing_frame(1000)] {
            let msg = PreparedMessage::compressed(MessageKind::Binary, &data, &config, &deflate).unwrap();
            let plain = sent_prepared(&msg, config);
            let mut sizes = Vec::new();
            for bits in [15, 12, 9] {
                let agreed = params(true, bits);
                let mut out = Vec::new();
                server_with(agreed, &deflate, config).send_prepared(&msg, &mut out).unwrap();
                assert_eq!(out[0] & 0x70, 0x40, "RSV1 on the first frame, window {bits}");
                assert!(out.len() < plain.len(), "window {bits}");
                // What a connection with that agreement writes for the message itself.
                let mut expected = Vec::new();
                server_with(agreed, &deflate, config).send_binary(&data, &mut expected).unwrap();
                assert_eq!(out, expected, "window {bits}");
                // The zero-copy form picks the same frames.
                assert_eq!(server_with(agreed, &deflate, config).prepare_send(&msg).unwrap(), &out[..]);
                let got = read(&mut client_with(agreed, config), &out).unwrap();
                assert_eq!(got, [(MessageKind::Binary, data.clone())], "window {bits}");
                sizes.push(out.len());
            }
            // Compressed with each window (tests/deflate.rs checks that the compressor keeps
            // to it): the smaller the window, the fewer repeats it reaches.
            assert!(sizes[0] < 14_000 && sizes[0] < sizes[1] && sizes[1] < sizes[2], "{sizes:?}");
        }
    }

    #[test]
    fn other_agreements_get_the_uncompressed_frames() {
        let deflate = DeflateConfig::new();
        let data = repeats();
        let config = Config::new();
        let msg = PreparedMessage::compressed(MessageKind::Binary, &data, &config, &deflate).unwrap();
        let plain = sent_prepared(&msg, config);
        assert_eq!(plain[0], 0x82);

        // Context takeover: the peer's window holds our earlier messages and our compressor's
        // context would miss this one. Compressed messages before and after it still read well.
        let takeover = params(false, 15);
        let mut conn = server_with(takeover, &deflate, config);
        let mut client = client_with(takeover, config);
        let mut wire = Vec::new();
        conn.send_binary(&data, &mut wire).unwrap();
        let start = wire.len();
        conn.send_prepared(&msg, &mut wire).unwrap();
        assert_eq!(wire[start..], plain[..]);
        conn.send_binary(&data, &mut wire).unwrap();
        assert!(wire.len() - start < 2 * plain.len(), "the messages around it are compressed");
        assert_eq!(read(&mut client, &wire).unwrap(), vec![(MessageKind::Binary, data.clone()); 3]);

        // No permessage-deflate at all.
        let mut out = Vec::new();
        Connection::new(Role::Server, config).send_prepared(&msg, &mut out).unwrap();
        assert_eq!(out, plain);

        // A message shorter than the connection's `min_size`.
        let short = PreparedMessage::compressed(MessageKind::Binary, &text_of(100), &config, &deflate).unwrap();
        let mut out = Vec::new();
        server_with(params(true, 15), &deflate, config).send_prepared(&short, &mut out).unwrap();
        assert_eq!(out[0], 0xc2, "compressed at the default min_size");
        let picky = DeflateConfig::low_memory().min_size(101);
        let mut out = Vec::new();
        server_with(params(true, 15), &picky, config).send_prepared(&short, &mut out).unwrap();
        assert_eq!(out, sent_prepared(&short, config));

        // A message prepared without compression.
        let uncompressed = PreparedMessage::new(MessageKind::Binary, &data, &config).unwrap();
        let mut out = Vec::new();
        server_with(params(true, 15), &deflate, config).send_prepared(&uncompressed, &mut out).unwrap();
        assert_eq!(out, plain);

        // Data that compressing does not make smaller.
        let noise = noise(5000);
        let msg = PreparedMessage::compressed(MessageKind::Binary, &noise, &config, &deflate).unwrap();
        let mut out = Vec::new();
        let mut conn = server_with(params(true, 15), &deflate, config);
        conn.send_prepared(&msg, &mut out).unwrap();
        assert_eq!(out, sent_prepared(&msg, config));
        assert_eq!(read(&mut client_with(params(true, 15), config), &out).unwrap(), [(MessageKind::Binary, noise)]);
    }

    #[test]
    fn compressed_text_reads_back_as_text() {
        let deflate = DeflateConfig::low_memory();
        let text = "{\"price\": 101.25, \"symbol\": \"WSP\"} ".repeat(50);
        let config = Config::new();
        let msg = PreparedMessage::compressed(MessageKind::Text, text.as_bytes(), &config, &deflate).unwrap();
        let agreed = params(true, 15);
        let mut out = Vec::new();
        server_with(agreed, &deflate, config).send_prepared(&msg, &mut out).unwrap();
        assert_eq!(out[0], 0xc1);
        assert_eq!(read(&mut client_with(agreed, config), &out).unwrap(), [(MessageKind::Text, text.into_bytes())]);
    }
}

/// The tokio adapter writes prepared messages straight from the shared bytes.
#[cfg(feature = "tokio")]
mod tokio_adapter {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::timeout;
    use wsproto::adapters::WsError;
    use wsproto::adapters::tokio::WebSocket;
    use wsproto::{CloseCode, Config, Connection, KeySource, Message, MessageKind, Misuse, PreparedMessage, Role};

    use super::{binary_of, text_of};

    fn server_ws(io: tokio::io::DuplexStream) -> WebSocket<tokio::io::DuplexStream> {
        WebSocket::from_connection(io, Connection::new(Role::Server, Config::new()), &[])
    }

    fn client_ws(io: tokio::io::DuplexStream, seed: u64) -> WebSocket<tokio::io::DuplexStream> {
        let conn = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(seed));
        WebSocket::from_connection(io, conn, &[])
    }

    /// Receives the next data message as (kind, bytes).
    async fn next_message(ws: &mut WebSocket<tokio::io::DuplexStream>) -> (MessageKind, Vec<u8>) {
        loop {
            match ws.recv().await.unwrap() {
                Message::Text(t) => return (MessageKind::Text, t.as_bytes().to_vec()),
                Message::Binary(b) => return (MessageKind::Binary, b.to_vec()),
                _ => {}
            }
        }
    }

    /// 100 connections receive the same two prepared messages: through the unsplit
    /// `WebSocket`, the writer half of a split one, and the `Sender` of `recv_with_sender`.
    #[tokio::test]
    async fn a_hundred_connections_receive_one_prepared_message() {
        let big = PreparedMessage::new(MessageKind::Binary, &binary_of(200_000), &Config::new()).unwrap();
        let small = PreparedMessage::new(MessageKind::Text, b"tick", &Config::new()).unwrap();
        let mut servers = Vec::new();
        let mut clients = Vec::new();
        for i in 0..100u64 {
            let (server_io, client_io) = tokio::io::duplex(16 * 1024);
            let (big, small) = (big.clone(), small.clone());
            servers.push(tokio::spawn(async move {
                let mut ws = server_ws(server_io);
                match i % 3 {
                    0 => {
                        ws.send_prepared(&big).await.unwrap();
                        ws.send_prepared(&small).await.unwrap();
                    }
                    1 => {
                        let (_rx, tx) = ws.split();
                        tx.send_prepared(&big).await.unwrap();
                        tx.send_prepared(&small).await.unwrap();
                        // Keep the stream open until the client has read everything.
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        return;
                    }
                    _ => {
                        let (message, mut tx) = ws.recv_with_sender().await.unwrap();
                        assert_eq!(message, Message::Text("go"));
                        tx.send_prepared(&big).await.unwrap();
                        tx.send_prepared(&small).await.unwrap();
                    }
                }
                // Run the close handshake the client starts.
                while ws.recv().await.is_ok() {}
            }));
            clients.push(tokio::spawn(async move {
                let mut ws = client_ws(client_io, i);
                if i % 3 == 2 {
                    ws.send_text("go").await.unwrap();
                }
                let first = next_message(&mut ws).await;
                let second = next_message(&mut ws).await;
                if i % 3 != 1 {
                    ws.close(CloseCode::NORMAL, "").await.unwrap();
                }
                (first, second)
            }));
        }
        for client in clients {
            let (first, second) = timeout(Duration::from_secs(30), client).await.unwrap().unwrap();
            assert!(first == (MessageKind::Binary, binary_of(200_000)), "the large message came out damaged");
            assert_eq!(second, (MessageKind::Text, b"tick".to_vec()));
        }
        for (i, server) in servers.into_iter().enumerate() {
            if i % 3 == 1 {
                server.abort();
            } else {
                timeout(Duration::from_secs(30), server).await.unwrap().unwrap();
            }
        }
    }

    /// A `send_prepared` dropped midway (its frames stuck behind a slow peer) leaves the rest
    /// of them for the next operation: every message arrives whole and in order, on both the
    /// unsplit socket and the writer half of a split one.
    #[tokio::test]
    async fn a_cancelled_send_prepared_leaves_the_stream_consistent() {
        let big = PreparedMessage::new(MessageKind::Binary, &binary_of(100_000), &Config::new()).unwrap();
        let text = text_of(3000);
        for split in [false, true] {
            let (server_io, client_io) = tokio::io::duplex(4096);
            let mut ws = server_ws(server_io);
            let (mut client_rd, mut client_wr) = tokio::io::split(client_io);
            // A Ping from the peer: its Pong goes out first.
            let mut ping = Vec::new();
            let mut peer = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(5));
            peer.ping(b"x", &mut ping).unwrap();
            client_wr.write_all(&ping).await.unwrap();
            assert!(matches!(ws.recv().await.unwrap(), Message::Ping(_)));
            let reader = tokio::spawn(async move {
                // Read slowly at first, so that the first send is stuck and dropped.
                tokio::time::sleep(Duration::from_millis(100)).await;
                let mut wire = Vec::new();
                client_rd.read_to_end(&mut wire).await.unwrap();
                wire
            });
            if split {
                let (_rx, tx) = ws.split();
                assert!(timeout(Duration::from_millis(20), tx.send_prepared(&big)).await.is_err());
                tx.send_prepared(&big).await.unwrap();
                tx.send_text(std::str::from_utf8(&text).unwrap()).await.unwrap();
            } else {
                assert!(timeout(Duration::from_millis(20), ws.send_prepared(&big)).await.is_err());
                ws.send_prepared(&big).await.unwrap();
                ws.send_text(std::str::from_utf8(&text).unwrap()).await.unwrap();
                drop(ws);
            }
            drop(client_wr);
            let wire = timeout(Duration::from_secs(10), reader).await.unwrap().unwrap();
            let got = super::received(&wire);
            use super::Logical;
            assert_eq!(got.len(), 4, "split: {split}");
            assert_eq!(got[0], Logical::Pong(b"x".to_vec()));
            assert!(got[1] == Logical::Message(MessageKind::Binary, binary_of(100_000)), "split: {split}");
            assert!(got[2] == got[1], "split: {split}");
            assert_eq!(got[3], Logical::Message(MessageKind::Text, text.clone()));
        }
    }

    #[tokio::test]
    async fn a_client_socket_refuses_and_writes_nothing() {
        let msg = PreparedMessage::new(MessageKind::Binary, b"shared", &Config::new()).unwrap();
        let (server_io, client_io) = tokio::io::duplex(4096);
        let mut ws = client_ws(client_io, 1);
        let err = ws.send_prepared(&msg).await.unwrap_err();
        assert!(matches!(err, WsError::Protocol(wsproto::Error::Misuse(Misuse::MaskRequired))), "{err}");
        ws.send_binary(b"own").await.unwrap();
        let mut server = server_ws(server_io);
        assert_eq!(server.recv().await.unwrap(), Message::Binary(b"own"));
    }
}
