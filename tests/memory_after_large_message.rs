//! After a large message the memory comes back: the buffers that grew for it (the message
//! assembler's, the compressor's output buffer) shrink within one message of going back to
//! small traffic, and sending a compressed message takes memory for what it compresses to, not
//! for its uncompressed size.
//!
//! A global allocator counts the bytes live on each thread (every test runs on its own thread
//! and frees what it allocates there), so the bounds are byte counts, not timings.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{live, peak, reset_peak};
use wsproto::{Config, Connection, KeySource, Message, MessageAssembler, MessageKind, Role};

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// Runs `wire` through `server` and `assembler`; returns each whole message's size with the
/// assembler's capacity right after it was handed out. `scratch` is for inflated data (empty
/// without permessage-deflate).
fn receive_all(
    server: &mut Connection,
    assembler: &mut MessageAssembler,
    wire: &mut [u8],
    scratch: &mut [u8],
) -> Vec<(usize, usize)> {
    let mut got = Vec::new();
    let mut pos = 0;
    loop {
        let r = if scratch.is_empty() {
            server.receive(&mut wire[pos..]).unwrap()
        } else {
            server.receive_into(&mut wire[pos..], scratch).unwrap()
        };
        pos += r.consumed;
        let Some(event) = r.event else { return got };
        let len = match assembler.push(event).unwrap() {
            Some(Message::Binary(b)) => b.len(),
            Some(Message::Text(t)) => t.len(),
            _ => continue,
        };
        got.push((len, assembler.capacity()));
    }
}

fn client(config: Config) -> Connection {
    Connection::new(Role::Client, config).with_key_source(KeySource::seeded(12))
}

#[test]
fn the_assembler_gives_back_the_memory_of_a_large_fragmented_message() {
    let mut tx = client(Config::new().max_outgoing_frame(64 * KIB));
    let mut wire = Vec::new();
    // A fragmented 8 MiB message, then a small fragmented one.
    tx.send_binary(&vec![1; 8 * MIB], &mut wire).unwrap();
    tx.send_fragment(MessageKind::Text, b"small ", false, &mut wire).unwrap();
    tx.send_fragment(MessageKind::Text, b"message", true, &mut wire).unwrap();

    let mut server = Connection::new(Role::Server, Config::new());
    let mut assembler = MessageAssembler::new();
    let before = live();
    reset_peak();
    let got = receive_all(&mut server, &mut assembler, &mut wire, &mut []);
    let (grew, held) = ((peak() - before) as usize, (live() - before) as usize);
    assert!(grew >= 8 * MIB, "{grew}");
    assert!(held <= MessageAssembler::DEFAULT_RETAIN + 4 * KIB, "{held}");
    assert_eq!(got.len(), 2);
    let (large, small) = (got[0], got[1]);
    assert_eq!(large.0, 8 * MIB);
    assert!(large.1 >= 8 * MIB, "{large:?}");
    assert_eq!(small.0, 13);
    // Within one message of going back to small traffic: under the retain limit again.
    assert!(small.1 <= MessageAssembler::DEFAULT_RETAIN, "capacity {} after {small:?}", small.1);
    eprintln!(
        "assembler capacity: {} after 8 MiB, {} after the small message; heap +{grew} at the peak, +{held} after",
        large.1, small.1
    );
}

#[test]
fn the_assembler_shrinks_after_a_large_message_followed_by_a_whole_small_one() {
    let mut tx = client(Config::new().max_outgoing_frame(64 * KIB));
    let mut wire = Vec::new();
    tx.send_binary(&vec![1; 8 * MIB], &mut wire).unwrap();
    // Arrives in one frame: lent from the input, the assembler's buffer is not used for it.
    tx.send_binary(b"one frame", &mut wire).unwrap();
    let mut server = Connection::new(Role::Server, Config::new());
    let mut assembler = MessageAssembler::new();
    let got = receive_all(&mut server, &mut assembler, &mut wire, &mut []);
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), [8 * MIB, 9]);
    assert!(got[1].1 <= MessageAssembler::DEFAULT_RETAIN, "{got:?}");
}

#[test]
fn the_assembler_keeps_its_buffer_for_steady_traffic_and_with_capacity() {
    // Large messages of the same size: the buffer grows once and is reused.
    let mut tx = client(Config::new().max_outgoing_frame(64 * KIB));
    let mut wire = Vec::new();
    for i in 0..8u8 {
        tx.send_binary(&vec![i; MIB], &mut wire).unwrap();
    }
    let mut server = Connection::new(Role::Server, Config::new());
    let mut assembler = MessageAssembler::new();
    let got = receive_all(&mut server, &mut assembler, &mut wire, &mut []);
    assert_eq!(got.len(), 8);
    assert!(got.iter().all(|&(len, cap)| len == MIB && cap == got[0].1), "{got:?}");

    // A capacity asked for with `with_capacity` is kept through small messages.
    let mut wire = Vec::new();
    for _ in 0..10 {
        tx.send_fragment(MessageKind::Binary, &[1; 10], false, &mut wire).unwrap();
        tx.send_fragment(MessageKind::Binary, &[2; 10], true, &mut wire).unwrap();
        tx.send_binary(&[3; 10], &mut wire).unwrap();
    }
    let mut assembler = MessageAssembler::with_capacity(256 * KIB);
    let got = receive_all(&mut server, &mut assembler, &mut wire, &mut []);
    assert_eq!(got.len(), 20);
    assert!(got.iter().all(|&(_, cap)| cap == 256 * KIB), "{got:?}");
}

#[cfg(feature = "deflate")]
#[test]
fn a_large_compressed_message_leaves_no_large_buffers_behind() {
    use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};

    const LARGE: usize = 16 * MIB;
    let pmd = PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new().min_size(0));
    // Highly compressible: a short JSON record over and over.
    let data: Vec<u8> = br#"{"id":42,"name":"wsproto","ok":true},"#.iter().copied().cycle().take(LARGE).collect();
    let mut tx = client(Config::new()).with_deflate(pmd);
    let mut server = Connection::new(Role::Server, Config::new()).with_deflate(pmd);
    let mut scratch = vec![0u8; 64 * KIB];
    let mut assembler = MessageAssembler::new();

    // Warm up (zlib allocates its state on first use), then take the idle footprint.
    let mut wire = Vec::new();
    tx.send_binary(b"warm up, warm up, warm up", &mut wire).unwrap();
    receive_all(&mut server, &mut assembler, &mut wire, &mut scratch);
    drop(wire);
    let idle = live();

    // Sending 16 MiB: the output takes what the message compresses to, and the whole send
    // needs memory in proportion to that, not to 16 MiB.
    reset_peak();
    let mut wire = Vec::new();
    tx.send_binary(&data, &mut wire).unwrap();
    let send_peak = (peak() - idle) as usize;
    let compressed = wire.len();
    assert!(compressed < 256 * KIB, "{compressed}");
    assert!(wire.capacity() <= 2 * compressed + 64 * KIB, "{compressed} bytes in {}", wire.capacity());
    assert!(send_peak <= 4 * compressed + 256 * KIB, "{send_peak} bytes to send {compressed}");
    let after_send = (live() - idle) as usize - wire.capacity();

    // The receiver gathers the whole message (that is what an assembler is for).
    let got = receive_all(&mut server, &mut assembler, &mut wire, &mut scratch);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, LARGE);
    assert!(got[0].1 >= LARGE);
    drop(wire);

    // One small message each way back to small traffic, and both ends are near idle again.
    let mut wire = Vec::new();
    tx.send_binary(b"small again, small again", &mut wire).unwrap();
    let got = receive_all(&mut server, &mut assembler, &mut wire, &mut scratch);
    assert_eq!(got, [(24, assembler.capacity())]);
    assert!(assembler.capacity() <= MessageAssembler::DEFAULT_RETAIN);
    drop(wire);
    let held = (live() - idle) as usize;
    // At most the retained capacities of the compressor's output buffer and the assembler
    // (64 KiB each), and a few small allocations.
    assert!(held <= 2 * MessageAssembler::DEFAULT_RETAIN + 4 * KIB, "{held} bytes more than idle");
    eprintln!(
        "compressed {compressed} bytes; peak during the send +{send_peak}; held by the sender after it \
         +{after_send}; held by both ends after one small message +{held}"
    );
}

/// A connection that agreed to permessage-deflate but has not compressed or inflated anything
/// holds no zlib state (the contexts are created on first use), and with the low-memory
/// agreement (`server_no_context_takeover`) a server gives its compressor back to the thread's
/// pool after every message: a hundred connections that each sent and received one compressed
/// message hold no compressor each.
#[cfg(feature = "deflate")]
#[test]
fn deflate_contexts_are_created_on_first_use_and_pooled_without_context_takeover() {
    use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};

    const CONNECTIONS: usize = 100;
    let low = DeflateConfig::low_memory();
    let params =
        DeflateParams { server_no_context_takeover: true, client_max_window_bits: 12, ..DeflateParams::DEFAULT };
    let pmd = PerMessageDeflate::new(params, &low.min_size(0));

    let before = live();
    let mut servers: Vec<Connection> =
        (0..CONNECTIONS).map(|_| Connection::new(Role::Server, Config::new()).with_deflate(pmd)).collect();
    // Beyond the connections themselves (in the vector), each holds only its box for the
    // agreement and the codec handles: no zlib context (a compressor is about 256 KiB, a
    // decompressor several KiB).
    let negotiated_only = (live() - before) as usize / CONNECTIONS - std::mem::size_of::<Connection>();
    assert!(negotiated_only <= 512, "{negotiated_only} bytes per connection before any message");

    // Each server inflates one compressed message from its client and compresses one reply.
    let mut scratch = vec![0u8; 64 * KIB];
    let mut assembler = MessageAssembler::new();
    let json = br#"{"type":"ticker","symbol":"BTC-USD","bid":67000.5,"ask":67001.0}"#.repeat(8);
    let mut used = 0usize;
    for (i, server) in servers.iter_mut().enumerate() {
        let mut client = Connection::new(Role::Client, Config::new())
            .with_key_source(KeySource::seeded(i as u64 + 1))
            .with_deflate(pmd);
        let mut wire = Vec::new();
        client.send_binary(&json, &mut wire).unwrap();
        let got = receive_all(server, &mut assembler, &mut wire, &mut scratch);
        assert_eq!(got.len(), 1);
        let mut reply = Vec::new();
        let at = live();
        server.send_binary(&json, &mut reply).unwrap();
        assert!(reply.len() < json.len(), "the reply was compressed");
        // The first send on this thread creates the pooled compressor: not counted.
        if i > 0 {
            used += (live() - at) as usize - reply.capacity();
        }
        drop(client);
    }
    // What a server still holds after its compressed reply: its reused output buffer, no
    // compressor (it went back to the pool).
    let per_connection_after_first = used / (CONNECTIONS - 1);
    assert!(
        per_connection_after_first <= 4 * KIB,
        "{per_connection_after_first} bytes per connection kept after compressing one message"
    );
}

/// After a split, sends on a writer whose stream failed keep failing, and what they leave in
/// the shared output is bounded by `FEED_LIMIT` plus one message, however many the caller makes
/// (a broadcaster that ignores each receiver's errors must not grow a dead connection's memory).
#[cfg(feature = "tokio")]
#[test]
fn sends_on_a_failed_split_writer_do_not_pile_up_output() {
    use wsproto::adapters::async_ws::FEED_LIMIT;
    use wsproto::adapters::tokio::WebSocket;
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        let (server_io, client_io) = tokio::io::duplex(4096);
        let ws = WebSocket::from_connection(server_io, Connection::new(Role::Server, Config::new()), &[]);
        let (_reader, writer) = ws.split();
        drop(client_io);
        let text = "x".repeat(KIB);
        assert!(writer.send_text(&text).await.is_err(), "the stream is closed");
        let before = live();
        for _ in 0..1000 {
            assert!(writer.send_text(&text).await.is_err());
        }
        let grown = live() - before;
        assert!(grown <= (FEED_LIMIT + 4 * KIB) as isize, "{grown} bytes kept after 1,000 failed sends");
    });
}

/// Sends cancelled midway while the peer reads slowly (each polled once, then dropped) keep
/// only what waits, not everything they ever wrote: the output buffer drops its written part
/// before a new message goes behind the unwritten rest.
#[cfg(feature = "tokio")]
#[test]
fn cancelled_sends_to_a_slow_reader_keep_only_what_waits() {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    use tokio::io::{AsyncRead, ReadBuf};
    use wsproto::adapters::async_ws::FEED_LIMIT;
    use wsproto::adapters::tokio::WebSocket;

    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(async {
        let (server_io, mut peer) = tokio::io::duplex(4 * KIB);
        let mut ws = WebSocket::from_connection(server_io, Connection::new(Role::Server, Config::new()), &[]);
        let payload = vec![7u8; 16 * KIB];
        let mut cx = Context::from_waker(Waker::noop());
        let mut sink = [0u8; 4 * KIB];
        let mut peak_growth = 0;
        let before = live();
        for _ in 0..300 {
            // One poll: the pipe takes what fits, the rest waits; then the send is dropped.
            let _ = pin!(ws.send_binary(&payload)).as_mut().poll(&mut cx);
            // The peer reads what the pipe holds.
            loop {
                let mut buf = ReadBuf::new(&mut sink);
                match std::pin::Pin::new(&mut peer).poll_read(&mut cx, &mut buf) {
                    Poll::Ready(Ok(())) if !buf.filled().is_empty() => {}
                    _ => break,
                }
            }
            peak_growth = peak_growth.max(live() - before);
        }
        // 300 sends wrote about 1.2 MB; what waits is at most FEED_LIMIT plus a message, in a
        // buffer that may have doubled once.
        assert!(peak_growth <= (3 * FEED_LIMIT) as isize, "{peak_growth} bytes held");
    });
}
