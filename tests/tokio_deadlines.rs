//! The tokio adapter's deadlines, on tokio's paused (virtual) clock over in-memory duplex
//! pipes: the opening handshake (server and client), keepalive on by default, writes to a peer
//! that never reads (sticky failure), deadlines checked while a flood keeps every read busy
//! (one test on the real clock, over a transport that never makes a read wait),
//! the close deadline while the Close frame cannot be written, and cancelled sends that never
//! pile up output. No wall-clock bound is asserted: virtual time is deterministic.
#![cfg(feature = "tokio")]

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf, duplex};
use tokio::time::{Instant, sleep, timeout};
use wsproto::adapters::WsError;
use wsproto::adapters::tokio::{WebSocket, accept, client, connect};
use wsproto::handshake::ClientRequest;
use wsproto::{CloseCode, Config, Connection, Error, KeySource, Message, MessageAssembler, Role, State, Timer};

/// A complete, valid upgrade request (RFC 6455 §1.3's sample key).
const REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// An empty Ping from a client (masked).
const CLIENT_PING: [u8; 6] = [0x89, 0x80, 0x01, 0x02, 0x03, 0x04];

fn is_timeout(e: &WsError, timer: Timer) -> bool {
    matches!(e, WsError::Protocol(Error::Timeout(t)) if *t == timer)
}

/// `op`, which must end by a deadline of its own: a test fails (instead of hanging) when it
/// has not ended after an hour of virtual time.
async fn bounded<T>(op: impl Future<Output = T>) -> T {
    match timeout(Duration::from_secs(3600), op).await {
        Ok(v) => v,
        Err(_) => panic!("no deadline fired within an hour"),
    }
}

/// Reads an HTTP response head byte by byte (so no frame byte after it is consumed).
async fn read_head(peer: &mut DuplexStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 4096, "no end of the response head");
        let n = peer.read(&mut byte).await.unwrap();
        assert_eq!(n, 1, "the pipe closed inside the response head");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// A server `accept`ed over a duplex pipe of `buffer` bytes with `config`; the other end is
/// a hand-written client that has sent its request and read the 101 response, nothing more.
async fn open(buffer: usize, config: Config) -> (WebSocket<DuplexStream>, DuplexStream) {
    let (server_io, mut peer) = duplex(buffer);
    let (ws, head) = tokio::join!(accept(server_io, config), async {
        peer.write_all(REQUEST.as_bytes()).await.unwrap();
        read_head(&mut peer).await
    });
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    (ws.unwrap(), peer)
}

/// What the peer reads until the server drops the pipe (a bounded loop).
async fn read_to_end<R: AsyncRead + Unpin>(mut peer: R) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..1_000_000 {
        match peer.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => wire.extend_from_slice(&buf[..n]),
        }
    }
    wire
}

/// Decodes a server's frames as a client would: (kind, payload) per message, kind one of
/// `T`ext, `B`inary, P`i`ng, P`o`ng, `C`lose (payload: the code, big-endian). Stops at an
/// incomplete frame.
fn decode(wire: &mut [u8]) -> Vec<(char, Vec<u8>)> {
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(9));
    let mut assembler = MessageAssembler::new();
    let mut got = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let r = client.receive(&mut wire[at..]).unwrap();
        at += r.consumed;
        let Some(event) = r.event else {
            if r.consumed == 0 {
                break;
            }
            continue;
        };
        if let Some(m) = assembler.push(event).unwrap() {
            got.push(match m {
                Message::Text(t) => ('T', t.as_bytes().to_vec()),
                Message::Binary(b) => ('B', b.to_vec()),
                Message::Ping(p) => ('i', p.as_bytes().to_vec()),
                Message::Pong(p) => ('o', p.as_bytes().to_vec()),
                Message::Close(c) => ('C', c.code().map(|c| c.0.to_be_bytes().to_vec()).unwrap_or_default()),
                _ => ('?', Vec::new()),
            });
        }
    }
    got
}

// ---------------------------------------------------------------------------------------------
// The opening handshake.

/// A peer that sends half an upgrade request and then nothing: `accept` fails with
/// `Timeout(Handshake)` at the adapters' default of 10 s.
#[tokio::test(start_paused = true)]
async fn server_handshake_times_out_by_default() {
    let (server_io, mut peer) = duplex(1024);
    peer.write_all(&REQUEST.as_bytes()[..40]).await.unwrap();
    let start = Instant::now();
    let err = bounded(accept(server_io, Config::new())).await.unwrap_err();
    assert!(is_timeout(&err, Timer::Handshake), "{err}");
    assert!(start.elapsed() >= Duration::from_secs(10), "{:?}", start.elapsed());
    drop(peer);
}

/// A configured handshake deadline is the one that holds (2 s, not the default 10 s).
#[tokio::test(start_paused = true)]
async fn server_handshake_times_out_at_the_configured_deadline() {
    let (server_io, mut peer) = duplex(1024);
    peer.write_all(&REQUEST.as_bytes()[..40]).await.unwrap();
    let start = Instant::now();
    let err = bounded(accept(server_io, Config::new().handshake_timeout(Duration::from_secs(2)))).await.unwrap_err();
    assert!(is_timeout(&err, Timer::Handshake), "{err}");
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(10), "{elapsed:?}");
    drop(peer);
}

/// A server that reads the client's request and never answers: `client` fails with
/// `Timeout(Handshake)`.
#[tokio::test(start_paused = true)]
async fn client_handshake_times_out_when_the_server_never_answers() {
    let (client_io, mut peer) = duplex(1024);
    let start = Instant::now();
    let request = ClientRequest::new("ws://x/").unwrap();
    let (result, seen) = tokio::join!(bounded(client(client_io, request, Config::new())), async {
        // Read the whole request, then keep the pipe open and silent.
        let mut seen = Vec::new();
        let mut buf = [0u8; 256];
        while !seen.ends_with(b"\r\n\r\n") {
            let n = peer.read(&mut buf).await.unwrap();
            assert!(n > 0 && seen.len() < 8192);
            seen.extend_from_slice(&buf[..n]);
        }
        seen
    });
    let err = result.unwrap_err();
    assert!(is_timeout(&err, Timer::Handshake), "{err}");
    assert!(start.elapsed() >= Duration::from_secs(10), "{:?}", start.elapsed());
    assert!(seen.starts_with(b"GET / HTTP/1.1\r\n"), "{}", String::from_utf8_lossy(&seen));
    drop(peer);
}

/// `connect` against a server that accepts the TCP connection (the kernel's backlog does) and
/// never answers: `Timeout(Handshake)` at the default 10 s. The deadline covers the whole of
/// `connect`, the TCP connection included, so this holds whichever phase it interrupts.
#[tokio::test(start_paused = true)]
async fn connect_times_out_against_a_silent_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let start = Instant::now();
    let err = bounded(connect(&url)).await.unwrap_err();
    assert!(is_timeout(&err, Timer::Handshake), "{err}");
    assert!(start.elapsed() >= Duration::from_secs(10), "{:?}", start.elapsed());
    drop(listener);
}

/// A client that trickles its request, one byte a second: every read makes progress, but the
/// handshake deadline is one deadline for the whole handshake, not one per read.
#[tokio::test(start_paused = true)]
async fn server_handshake_deadline_holds_against_a_trickling_client() {
    let (server_io, peer) = duplex(1024);
    let (_peer_rd, mut peer_wr) = tokio::io::split(peer);
    let trickle = tokio::spawn(async move {
        let mut sent = 0;
        for &b in REQUEST.as_bytes() {
            if peer_wr.write_all(&[b]).await.is_err() {
                break;
            }
            sent += 1;
            sleep(Duration::from_secs(1)).await;
        }
        sent
    });
    let start = Instant::now();
    let err = bounded(accept(server_io, Config::new())).await.unwrap_err();
    assert!(is_timeout(&err, Timer::Handshake), "{err}");
    assert!(start.elapsed() >= Duration::from_secs(10), "{:?}", start.elapsed());
    let sent = trickle.await.unwrap();
    assert!(sent < REQUEST.len(), "the whole request went out ({sent} bytes)");
}

/// A client that sends its whole request but never reads: the 101 response cannot be written
/// (a 16-byte pipe), and the handshake deadline covers that write too.
#[tokio::test(start_paused = true)]
async fn server_handshake_deadline_covers_writing_the_response() {
    let (server_io, mut peer) = duplex(16);
    let start = Instant::now();
    let (result, ()) = tokio::join!(bounded(accept(server_io, Config::new())), async {
        peer.write_all(REQUEST.as_bytes()).await.unwrap();
    });
    let err = result.unwrap_err();
    assert!(is_timeout(&err, Timer::Handshake), "{err}");
    assert!(start.elapsed() >= Duration::from_secs(10), "{:?}", start.elapsed());
    drop(peer);
}

/// With `adapter_deadlines(false)` no handshake deadline is added: a silent peer holds
/// `accept` for at least 60 s of virtual time.
#[tokio::test(start_paused = true)]
async fn no_handshake_deadline_without_adapter_deadlines() {
    let (server_io, mut peer) = duplex(1024);
    peer.write_all(&REQUEST.as_bytes()[..40]).await.unwrap();
    let config = Config::new().adapter_deadlines(false);
    let result = timeout(Duration::from_secs(60), accept(server_io, config)).await;
    assert!(result.is_err(), "accept ended: {:?}", result.map(|r| r.map(|_| ())));
    drop(peer);
}

/// `from_connection` runs exactly the connection's timers: with `Config::new()` (none) a
/// silent peer is never pinged nor declared dead.
#[tokio::test(start_paused = true)]
async fn from_connection_adds_no_default_deadline() {
    let (server_io, mut peer) = duplex(1024);
    let mut ws = WebSocket::from_connection(server_io, Connection::new(Role::Server, Config::new()), &[]);
    assert!(timeout(Duration::from_secs(120), ws.recv()).await.is_err());
    let mut buf = [0u8; 16];
    assert!(timeout(Duration::from_millis(1), peer.read(&mut buf)).await.is_err(), "something was sent");
}

// ---------------------------------------------------------------------------------------------
// Keepalive.

/// After `accept` with the default configuration, a silent peer (that reads) gets a Ping at
/// 20 s and is declared dead at 40 s: `recv` fails with `Timeout(KeepAlive)`, and the Ping is
/// the only thing the peer received.
#[tokio::test(start_paused = true)]
async fn keepalive_is_on_by_default() {
    let (mut ws, peer) = open(1024, Config::new()).await;
    let reader = tokio::spawn(read_to_end(peer));
    let start = Instant::now();
    let err = bounded(ws.recv()).await.unwrap_err();
    assert!(is_timeout(&err, Timer::KeepAlive), "{err}");
    assert!(start.elapsed() >= Duration::from_secs(40), "{:?}", start.elapsed());
    drop(ws);
    let got = reader.await.unwrap();
    assert!(got.starts_with(&[0x89, 0x00]), "{got:02x?}");
    assert_eq!(got, [0x89, 0x00], "only the Ping was sent");
}

// ---------------------------------------------------------------------------------------------
// Writes.

/// A peer that never reads: a 1 MiB send fails with `Timeout(Write)` at the default 20 s
/// instead of hanging, and the failure is sticky: once the peer reads again, a later send and
/// `recv` still report it at once, and nothing more is written.
#[tokio::test(start_paused = true)]
async fn send_to_a_peer_that_never_reads_times_out_and_sticks() {
    let (mut ws, peer) = open(64, Config::new()).await;
    let start = Instant::now();
    let err = bounded(ws.send_binary(&vec![0u8; 1 << 20])).await.unwrap_err();
    assert!(is_timeout(&err, Timer::Write), "{err}");
    assert!(start.elapsed() >= Duration::from_secs(20), "{:?}", start.elapsed());

    // The peer reads again: the pipe could take more now, but the failure stands.
    let reader = tokio::spawn(read_to_end(peer));
    let at = Instant::now();
    let err = ws.send_text("x").await.unwrap_err();
    assert!(is_timeout(&err, Timer::Write), "sticky: {err}");
    let err = ws.recv().await.unwrap_err();
    assert!(is_timeout(&err, Timer::Write), "recv after the stall: {err}");
    assert_eq!(at.elapsed(), Duration::ZERO, "the sticky error took virtual time");
    drop(ws);
    // Nothing was written after the stall: the 1 MiB frame is cut short, and no "x" follows.
    let mut wire = reader.await.unwrap();
    assert!(wire.len() < (1 << 20) + 10, "{} bytes", wire.len());
    assert_eq!(decode(&mut wire), []);
}

/// `from_connection` honours the connection's own `write_timeout` (no adapter default added).
#[tokio::test(start_paused = true)]
async fn from_connection_honours_the_configured_write_timeout() {
    let (server_io, peer) = duplex(64);
    let config = Config::new().write_timeout(Duration::from_secs(3));
    let mut ws = WebSocket::from_connection(server_io, Connection::new(Role::Server, config), &[]);
    let start = Instant::now();
    let err = bounded(ws.send_binary(&vec![0u8; 1 << 20])).await.unwrap_err();
    assert!(is_timeout(&err, Timer::Write), "{err}");
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_secs(3) && elapsed < Duration::from_secs(20), "{elapsed:?}");
    drop(peer);
}

/// The same after a split: the writer's stalled send fails with `Timeout(Write)`, and so does
/// the next one, at once.
#[tokio::test(start_paused = true)]
async fn split_writer_to_a_peer_that_never_reads_times_out_and_sticks() {
    let (ws, peer) = open(64, Config::new().write_timeout(Duration::from_secs(5))).await;
    let (_rx, tx) = ws.split();
    let start = Instant::now();
    let err = bounded(tx.send_binary(&vec![0u8; 1 << 20])).await.unwrap_err();
    assert!(is_timeout(&err, Timer::Write), "{err}");
    assert!(start.elapsed() >= Duration::from_secs(5), "{:?}", start.elapsed());
    let at = Instant::now();
    let err = tx.send_text("x").await.unwrap_err();
    assert!(is_timeout(&err, Timer::Write), "sticky: {err}");
    assert_eq!(at.elapsed(), Duration::ZERO, "the sticky error took virtual time");
    drop(peer);
}

/// After a split writer's send stalled, the reader's next reply (a Pong) cannot go out either:
/// its `recv` reports the same `Timeout(Write)` at once.
#[tokio::test(start_paused = true)]
async fn split_reader_reports_the_writers_stall_when_it_must_reply() {
    let (ws, peer) = open(64, Config::new().write_timeout(Duration::from_secs(5))).await;
    let (mut rx, tx) = ws.split();
    let err = bounded(tx.send_binary(&vec![0u8; 1 << 20])).await.unwrap_err();
    assert!(is_timeout(&err, Timer::Write), "{err}");
    let (peer_rd, mut peer_wr) = tokio::io::split(peer);
    peer_wr.write_all(&CLIENT_PING).await.unwrap();
    let reader = tokio::spawn(read_to_end(peer_rd));
    let at = Instant::now();
    // The Ping itself may be returned first; the Pong's write then fails on the next call.
    let err = match bounded(rx.recv()).await {
        Ok(Message::Ping(_)) => bounded(rx.recv()).await.unwrap_err(),
        other => other.unwrap_err(),
    };
    assert!(is_timeout(&err, Timer::Write), "{err}");
    assert_eq!(at.elapsed(), Duration::ZERO, "the sticky error took virtual time");
    drop((rx, tx, peer_wr));
    // No Pong (and nothing else) after the cut frame.
    let mut wire = reader.await.unwrap();
    assert!(wire.len() < (1 << 20) + 10, "{} bytes", wire.len());
    assert_eq!(decode(&mut wire), []);
}

/// After a split, the writer's `close` against a full pipe fails with
/// `Timeout(CloseHandshake)` at the close deadline too, before the write deadline.
#[tokio::test(start_paused = true)]
async fn split_writer_close_deadline_holds_while_the_close_frame_cannot_be_written() {
    let (ws, peer) = open(64, Config::new()).await;
    let (_rx, tx) = ws.split();
    assert!(timeout(Duration::from_millis(1), tx.send_binary(&[0u8; 4096])).await.is_err());
    let start = Instant::now();
    let err = bounded(tx.close(CloseCode::NORMAL, "")).await.unwrap_err();
    assert!(is_timeout(&err, Timer::CloseHandshake), "{err}");
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_secs(10) && elapsed < Duration::from_secs(20), "{elapsed:?}");
    drop(peer);
}

/// Ten sends of 64 KiB, each cancelled after 1 ms while the peer does not read, leave at most
/// `FEED_LIMIT` plus one message of output (a send writes what waits first once `FEED_LIMIT`
/// bytes wait; less goes out in one write with its own frame): the peer, reading at last, gets
/// two messages whole and then the next one, nothing else.
#[tokio::test(start_paused = true)]
async fn cancelled_sends_do_not_pile_up_output() {
    use wsproto::adapters::async_ws::FEED_LIMIT;
    let (mut ws, peer) = open(64, Config::new()).await;
    let payload = vec![0xabu8; 64 * 1024];
    for _ in 0..10 {
        assert!(timeout(Duration::from_millis(1), ws.send_binary(&payload)).await.is_err());
    }
    let reader = tokio::spawn(read_to_end(peer));
    ws.send_text("end").await.unwrap();
    drop(ws);
    let mut wire = reader.await.unwrap();
    // At most FEED_LIMIT + one 64 KiB message (10-byte headers), then the 5-byte "end" frame.
    assert!(wire.len() <= FEED_LIMIT + 64 * 1024 + 2 * 14 + 16 + 64, "{} bytes written", wire.len());
    let got = decode(&mut wire);
    let kinds: String = got.iter().map(|(k, _)| *k).collect();
    assert_eq!(kinds, "BBT");
    assert!(got[0].1 == payload && got[1].1 == payload);
    assert_eq!(got[2].1, b"end");
}

// ---------------------------------------------------------------------------------------------
// Deadlines while traffic flows, and the close deadline.

/// A peer floods Pings every 10 ms (and reads the Pongs): `recv` returns each Ping, and the
/// 1 s idle deadline still ends the loop with `Timeout(Idle)` long before the flood ends; the
/// peer gets Close 1001.
#[tokio::test(start_paused = true)]
async fn idle_deadline_holds_during_a_ping_flood() {
    let (mut ws, peer) = open(1024, Config::new().idle_timeout(Duration::from_secs(1))).await;
    let (peer_rd, mut peer_wr) = tokio::io::split(peer);
    let reader = tokio::spawn(read_to_end(peer_rd));
    let flooder = tokio::spawn(async move {
        let mut sent = 0;
        for _ in 0..1000 {
            if peer_wr.write_all(&CLIENT_PING).await.is_err() {
                break;
            }
            sent += 1;
            sleep(Duration::from_millis(10)).await;
        }
        sent
    });
    let start = Instant::now();
    let mut pings = 0;
    let err = bounded(async {
        loop {
            match ws.recv().await {
                Ok(Message::Ping(_)) => pings += 1,
                Ok(other) => panic!("unexpected {other:?}"),
                Err(e) => break e,
            }
        }
    })
    .await;
    assert!(is_timeout(&err, Timer::Idle), "{err}");
    assert!(start.elapsed() >= Duration::from_secs(1), "{:?}", start.elapsed());
    assert!(pings > 10 && pings < 200, "{pings} pings received");
    drop(ws);
    let sent = flooder.await.unwrap();
    assert!(sent < 1000, "the flood ran to its end ({sent} pings)");
    let mut wire = reader.await.unwrap();
    let got = decode(&mut wire);
    assert_eq!(got.last().map(|(k, p)| (*k, p.clone())), Some(('C', 1001u16.to_be_bytes().to_vec())));
    assert!(got[..got.len() - 1].iter().all(|(k, _)| *k == 'o'), "{got:?}");
}

/// A transport that always has another client Ping ready (up to `limit` bytes, then end of
/// input) and takes every write at once, keeping the last bytes written. Unlike a tokio pipe it
/// never makes a read wait (no cooperative budget either): a deadline cannot be noticed
/// through a read that timed out, only on the turns of the receive loop.
struct PingFlood {
    pos: usize,
    limit: usize,
    tail: Arc<Mutex<Vec<u8>>>,
}

impl PingFlood {
    fn new(pings: usize) -> (Self, Arc<Mutex<Vec<u8>>>) {
        let tail = Arc::new(Mutex::new(Vec::new()));
        (Self { pos: 0, limit: pings * CLIENT_PING.len(), tail: Arc::clone(&tail) }, tail)
    }
}

impl AsyncRead for PingFlood {
    fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let at = self.pos % CLIENT_PING.len();
        let n = buf.remaining().min(self.limit - self.pos).min(CLIENT_PING.len() - at);
        buf.put_slice(&CLIENT_PING[at..at + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for PingFlood {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut tail = self.tail.lock().unwrap();
        tail.extend_from_slice(buf);
        let excess = tail.len().saturating_sub(64);
        tail.drain(..excess);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A flood that never lets a read wait (on the real clock: nothing here waits for time to
/// pass): `recv` returns Ping after Ping, and the idle deadline (50 ms, adapter defaults on)
/// still ends the loop with `Timeout(Idle)` long before the flood's million Pings run out;
/// the last frame written is Close 1001.
#[tokio::test]
async fn idle_deadline_holds_when_reads_never_wait() {
    const PINGS: usize = 1_000_000;
    let (flood, tail) = PingFlood::new(PINGS);
    let config = Config::new().idle_timeout(Duration::from_millis(50)).with_adapter_deadlines();
    let mut ws = WebSocket::from_connection(flood, Connection::new(Role::Server, config), &[]);
    let mut pings = 0;
    let err = loop {
        match ws.recv().await {
            Ok(Message::Ping(_)) => pings += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(e) => break e,
        }
    };
    assert!(is_timeout(&err, Timer::Idle), "{err} after {pings} pings");
    assert!(pings < PINGS, "{pings} pings");
    assert!(tail.lock().unwrap().ends_with(&[0x88, 0x02, 0x03, 0xe9]), "{:02x?}", tail.lock().unwrap());
}

/// The peer stopped reading and the pipe is full: `close` cannot write its Close frame, and
/// fails with `Timeout(CloseHandshake)` at the default 10 s (before the 20 s write deadline)
/// instead of hanging.
#[tokio::test(start_paused = true)]
async fn close_deadline_holds_while_the_close_frame_cannot_be_written() {
    let (mut ws, peer) = open(64, Config::new()).await;
    // Fill the pipe: this send cannot finish; its frame stays in the output.
    assert!(timeout(Duration::from_millis(1), ws.send_binary(&[0u8; 4096])).await.is_err());
    let start = Instant::now();
    let err = bounded(ws.close(CloseCode::NORMAL, "")).await.unwrap_err();
    assert!(is_timeout(&err, Timer::CloseHandshake), "{err}");
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_secs(10) && elapsed < Duration::from_secs(20), "{elapsed:?}");
    assert_eq!(ws.state(), State::Failed);
    drop(peer);
}

/// A peer that reads but never answers our Close: `close` fails with `Timeout(CloseHandshake)`
/// at the configured deadline.
#[tokio::test(start_paused = true)]
async fn close_deadline_holds_when_the_peer_never_answers() {
    let (mut ws, peer) = open(1024, Config::new().close_timeout(Duration::from_secs(3))).await;
    let reader = tokio::spawn(read_to_end(peer));
    let start = Instant::now();
    let err = bounded(ws.close(CloseCode::NORMAL, "")).await.unwrap_err();
    assert!(is_timeout(&err, Timer::CloseHandshake), "{err}");
    assert!(start.elapsed() >= Duration::from_secs(3), "{:?}", start.elapsed());
    drop(ws);
    let mut wire = reader.await.unwrap();
    let got = decode(&mut wire);
    assert_eq!(got, [('C', 1000u16.to_be_bytes().to_vec())]);
}

/// A client's close deadline also bounds the wait for the server to close the transport: the
/// server answers our Close but keeps the pipe open, and the client's `close` gives up at the
/// default 10 s and returns the server's Close frame.
#[tokio::test(start_paused = true)]
async fn client_close_gives_up_on_a_server_that_keeps_the_transport_open() {
    let (client_io, server_io) = duplex(1024);
    let (release, held) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let mut ws = accept(server_io, Config::new()).await.unwrap();
        let close = loop {
            if let Message::Close(frame) = ws.recv().await.unwrap() {
                break frame;
            }
        };
        // The reply went out; keep the transport open until the client is done.
        let _ = held.await;
        drop(ws);
        close
    });
    let request = ClientRequest::new("ws://x/").unwrap();
    let (mut ws, _) = client(client_io, request, Config::new()).await.unwrap();
    let start = Instant::now();
    let reply = bounded(ws.close(CloseCode::GOING_AWAY, "bye")).await.unwrap();
    assert!(start.elapsed() >= Duration::from_secs(10), "{:?}", start.elapsed());
    assert_eq!(reply.and_then(|f| f.code()), Some(CloseCode::GOING_AWAY));
    assert_eq!(ws.state(), State::Closed);
    release.send(()).unwrap();
    assert_eq!(server.await.unwrap().code(), Some(CloseCode::GOING_AWAY));
}
