//! A counting global allocator shows that steady-state receiving and sending allocate nothing
//! per message, in both roles, with the borrowed API (and with `MessageAssembler` once warm),
//! nor does sending prepared messages (a broadcast) on server connections.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::measure;
use wsproto::{
    Config, Connection, Event, KeySource, Message, MessageAssembler, MessageKind, PreparedMessage, Role, SliceBuf,
};

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

const MESSAGES: usize = 10_000;

fn payload(i: usize) -> Vec<u8> {
    let len = if i % 500 == 7 { 65536 } else { [0, 16, 125, 126, 1024, 4000][i % 6] };
    (0..len).map(|j| b'a' + ((i + j) % 26) as u8).collect()
}

/// 10,000 masked client messages (text and binary, some fragmented, pings between).
fn client_wire() -> (Vec<u8>, usize) {
    let mut client =
        Connection::new(Role::Client, Config::new().max_outgoing_frame(4000)).with_key_source(KeySource::seeded(1));
    let mut wire = Vec::new();
    let mut bytes = 0;
    for i in 0..MESSAGES {
        let p = payload(i);
        bytes += p.len();
        let kind = if i % 2 == 0 { MessageKind::Binary } else { MessageKind::Text };
        client.send(kind, &p, &mut wire).unwrap();
        if i % 50 == 0 {
            client.ping(b"hb", &mut wire).unwrap();
        }
    }
    (wire, bytes)
}

#[test]
fn steady_state_allocates_nothing_per_message() {
    // Everything measured runs on this one thread, in sequence.

    // 1. A server receiving with the borrowed API, answering pings into a reserved buffer.
    let (mut wire, expected) = client_wire();
    let mut server = Connection::new(Role::Server, Config::new());
    let mut replies = Vec::with_capacity(1 << 16);
    let mut received = 0;
    let allocations = measure(|| {
        let mut pos = 0;
        loop {
            let r = server.receive(&mut wire[pos..]).unwrap();
            pos += r.consumed;
            match r.event {
                Some(Event::Data { data, .. }) => received += data.len(),
                Some(_) => {
                    server.poll_transmit(&mut replies).unwrap();
                }
                None => break,
            }
        }
    })
    .allocations;
    assert_eq!(received, expected);
    assert_eq!(allocations, 0, "receiving {MESSAGES} messages allocated");

    // 2. A client sending into a reserved Vec (masking keys drawn from the OS pool).
    let mut client = Connection::new(Role::Client, Config::new());
    let messages: Vec<Vec<u8>> = (0..MESSAGES).map(payload).collect();
    let mut out = Vec::with_capacity(messages.iter().map(|m| m.len() + 14).sum());
    let allocations = measure(|| {
        for m in &messages {
            client.send_binary(m, &mut out).unwrap();
        }
    })
    .allocations;
    assert_eq!(allocations, 0, "client sending {MESSAGES} messages allocated");

    // 3. A server sending into a fixed SliceBuf, reused per message.
    let mut server = Connection::new(Role::Server, Config::new());
    let mut storage = vec![0u8; 70_000];
    let allocations = measure(|| {
        for m in &messages {
            let mut buf = SliceBuf::new(&mut storage);
            server.send_binary(m, &mut buf).unwrap();
            assert_eq!(
                buf.len(),
                m.len()
                    + wsproto::frame::FrameHeader::new(wsproto::frame::OpCode::Binary, true, m.len() as u64, None)
                        .encoded_len()
            );
        }
    })
    .allocations;
    assert_eq!(allocations, 0, "server sending {MESSAGES} messages allocated");

    // 4. Whole messages through a warmed-up MessageAssembler, fragmented and not, with an echo
    //    into a reserved buffer.
    let (mut wire, expected) = client_wire();
    let mut server = Connection::new(Role::Server, Config::new());
    let mut assembler = MessageAssembler::with_capacity(1 << 17);
    let mut echo = Vec::with_capacity(expected + MESSAGES * 16 + (1 << 16));
    let mut whole = 0;
    let allocations = measure(|| {
        let mut pos = 0;
        loop {
            let r = server.receive(&mut wire[pos..]).unwrap();
            pos += r.consumed;
            let Some(event) = r.event else { break };
            match assembler.push(event).unwrap() {
                Some(Message::Binary(b)) => {
                    whole += b.len();
                    server.send_binary(b, &mut echo).unwrap();
                }
                Some(Message::Text(t)) => {
                    whole += t.len();
                    server.send_text(t, &mut echo).unwrap();
                }
                _ => {}
            }
        }
    })
    .allocations;
    assert_eq!(whole, expected);
    assert_eq!(allocations, 0, "assembling and echoing {MESSAGES} messages allocated");

    // 5. Prepared messages (a broadcast) sent on server connections into a reserved Vec, and
    //    their frames taken for a vectored write, with a Pong due now and then; with
    //    permessage-deflate, compressed ones too.
    let plain: Vec<PreparedMessage> = messages
        .iter()
        .take(100)
        .map(|m| PreparedMessage::new(MessageKind::Binary, m, &Config::new()).unwrap())
        .collect();
    let servers = || (0..10).map(|_| Connection::new(Role::Server, Config::new())).collect::<Vec<_>>();
    assert_eq!(broadcast(&plain, servers()), 0, "sending prepared messages allocated");
    #[cfg(feature = "deflate")]
    {
        use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
        let deflate = DeflateConfig::low_memory();
        let compressed: Vec<PreparedMessage> = messages
            .iter()
            .take(100)
            .map(|m| PreparedMessage::compressed(MessageKind::Binary, m, &Config::new(), &deflate).unwrap())
            .collect();
        let params = DeflateParams { server_no_context_takeover: true, ..DeflateParams::DEFAULT };
        let agreed = PerMessageDeflate::new(params, &deflate);
        let mut probe = Vec::new();
        Connection::new(Role::Server, Config::new())
            .with_deflate(agreed)
            .send_prepared(&compressed[4], &mut probe)
            .unwrap();
        assert_eq!(probe[0], 0xc2, "the compressed frames are sent");
        let servers = servers().into_iter().map(|s| s.with_deflate(agreed)).collect();
        assert_eq!(broadcast(&compressed, servers), 0, "sending compressed prepared messages allocated");
    }

    // The counter itself works.
    assert!(measure(|| drop(std::hint::black_box(vec![1u8; 10]))).allocations >= 1);
}

/// Sends every prepared message on every server, into a reserved Vec and as frames for a
/// vectored write, answering a Ping now and then, and returns how many allocations that made.
fn broadcast(prepared: &[PreparedMessage], mut servers: Vec<Connection>) -> usize {
    let mut ping = Vec::new();
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(2));
    client.ping(b"hb", &mut ping).unwrap();
    let ping = <[u8; 8]>::try_from(&ping[..]).unwrap();
    let mut out = Vec::with_capacity(prepared.iter().map(|m| m.len() + 64).sum::<usize>() * servers.len());
    let mut vectored = 0;
    let allocations = measure(|| {
        for (i, msg) in prepared.iter().enumerate() {
            for server in &mut servers {
                if i % 10 == 0 {
                    let (mut input, mut scratch) = (ping, [0u8; 64]);
                    assert!(server.receive_into(&mut input, &mut scratch).unwrap().event.is_some());
                }
                server.send_prepared(msg, &mut out).unwrap();
                vectored += server.prepare_send(msg).unwrap().len();
            }
        }
    })
    .allocations;
    assert!(vectored > 0 && !out.is_empty());
    allocations
}
