//! The blocking adapter's deadlines over real loopback sockets, with short configured
//! deadlines: the opening handshake (server and client), writes to a peer that never reads
//! (sticky failure, nothing written after it), a deadline checked while a flood keeps every
//! read busy (over a transport that never makes a read wait), and the close deadline, both
//! while the Close frame cannot be written and when the peer reads but never answers. Only
//! lower bounds on time are asserted (timings belong in benches).

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use wsproto::adapters::WsError;
use wsproto::adapters::blocking::{Timeouts, WebSocket, accept, client, connect};
use wsproto::handshake::ClientRequest;
use wsproto::{CloseCode, Config, Connection, Error, Message, Role, Timer};

/// How long a helper thread waits for the test to tell it to go on (a bound, never reached
/// when the test works).
const BOUND: Duration = Duration::from_secs(30);

fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", l.local_addr().unwrap());
    (l, url)
}

fn is_timeout(e: &WsError, timer: Timer) -> bool {
    matches!(e, WsError::Protocol(Error::Timeout(t)) if *t == timer)
}

/// Reads until end of input or an error, at most `limit` bytes, and returns what was read.
fn read_all(stream: &mut TcpStream, limit: usize) -> Vec<u8> {
    stream.set_read_timeout(Some(BOUND)).unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while got.len() < limit {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

/// A client that signals once its handshake is done, then neither reads nor writes until `go`
/// fires (or [`BOUND`] passes), then runs `then` on its socket. It runs `client` without
/// offering permessage-deflate (`connect` offers it when the crate has the feature), so that
/// the bytes on the wire are the messages as sent.
fn held_peer<T: Send + 'static>(
    url: String,
    then: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> (mpsc::Receiver<()>, mpsc::Sender<()>, thread::JoinHandle<T>) {
    let (ready_tx, ready_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        let stream = TcpStream::connect(url.trim_start_matches("ws://").trim_end_matches('/')).unwrap();
        let (ws, negotiated) = client(stream, ClientRequest::new(&url).unwrap(), Config::new()).unwrap();
        assert!(negotiated.extensions.is_empty());
        ready_tx.send(()).unwrap();
        let _ = go_rx.recv_timeout(BOUND);
        then(ws.into_inner())
    });
    (ready_rx, go_tx, peer)
}

/// A peer that sends the first line of a request and then nothing: `accept` fails with
/// `Timeout(Handshake)` at the configured deadline.
#[test]
fn server_handshake_times_out() {
    let (l, _) = listener();
    let addr = l.local_addr().unwrap();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    // The peer holds its socket open until told (bounded: should the deadline not hold, the
    // handshake ends with end of input instead of hanging).
    let peer = thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        let _ = go_rx.recv_timeout(BOUND);
    });
    let (stream, _) = l.accept().unwrap();
    let start = Instant::now();
    let err = accept(stream, Config::new().handshake_timeout(Duration::from_millis(300))).unwrap_err();
    assert!(is_timeout(&err, Timer::Handshake), "{err}");
    assert!(start.elapsed() >= Duration::from_millis(300), "{:?}", start.elapsed());
    go_tx.send(()).unwrap();
    peer.join().unwrap();
}

/// A client that trickles its request, a byte every 50 ms: every read makes progress, but the
/// handshake deadline (300 ms) is one deadline for the whole handshake, not one per read.
#[test]
fn server_handshake_deadline_holds_against_a_trickling_client() {
    const REQUEST: &str = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let (l, _) = listener();
    let addr = l.local_addr().unwrap();
    let peer = thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        let mut sent = 0;
        for &b in REQUEST.as_bytes() {
            if stream.write_all(&[b]).is_err() {
                break;
            }
            sent += 1;
            thread::sleep(Duration::from_millis(50));
        }
        sent
    });
    let (stream, _) = l.accept().unwrap();
    let start = Instant::now();
    let result = accept(stream, Config::new().handshake_timeout(Duration::from_millis(300)));
    let elapsed = start.elapsed();
    let err = result.map(|_| ()).unwrap_err();
    assert!(is_timeout(&err, Timer::Handshake), "{err}");
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    let sent = peer.join().unwrap();
    assert!(sent < REQUEST.len(), "the whole request went out ({sent} bytes)");
}

/// A server that reads the request and never answers: `client` fails with
/// `Timeout(Handshake)` at the configured deadline.
#[test]
fn client_handshake_times_out() {
    let (l, url) = listener();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (mut stream, _) = l.accept().unwrap();
        stream.set_read_timeout(Some(BOUND)).unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        while !seen.ends_with(b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(n) if n > 0 && seen.len() < 8192 => seen.extend_from_slice(&buf[..n]),
                other => panic!("{other:?}"),
            }
        }
        let _ = done_rx.recv_timeout(BOUND);
        seen
    });
    let addr = url.trim_start_matches("ws://").trim_end_matches('/');
    let stream = TcpStream::connect(addr).unwrap();
    let start = Instant::now();
    let request = ClientRequest::new(&url).unwrap();
    let err = client(stream, request, Config::new().handshake_timeout(Duration::from_millis(300))).unwrap_err();
    assert!(is_timeout(&err, Timer::Handshake), "{err}");
    assert!(start.elapsed() >= Duration::from_millis(300), "{:?}", start.elapsed());
    done_tx.send(()).unwrap();
    assert!(server.join().unwrap().starts_with(b"GET / HTTP/1.1\r\n"));
}

/// A peer that never reads: 1 MiB sends fill the kernel's buffers, then one fails with
/// `Timeout(Write)`. The failure is sticky: once the peer reads again, a later send and `recv`
/// still report it, and nothing is written after it: the peer gets exactly the messages whose
/// sends succeeded, then a cut frame, and no "x".
#[test]
fn send_to_a_peer_that_never_reads_times_out_and_sticks() {
    let (l, url) = listener();
    let (ready, go, peer) = held_peer(url, |mut s| read_all(&mut s, 1 << 30));
    let (stream, _) = l.accept().unwrap();
    let mut ws = accept(stream, Config::new().write_timeout(Duration::from_millis(300))).unwrap();
    ready.recv_timeout(BOUND).unwrap();
    let message = vec![0x5au8; 1 << 20];
    let mut sent = 0usize;
    let mut failure = None;
    for _ in 0..200 {
        match ws.send_binary(&message) {
            Ok(()) => sent += 1,
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let err = failure.expect("200 MiB went to a peer that never reads");
    assert!(is_timeout(&err, Timer::Write), "{err}");

    // The peer reads again: the stream could take more now, but the failure stands.
    go.send(()).unwrap();
    let err = ws.send_text("x").unwrap_err();
    assert!(is_timeout(&err, Timer::Write), "sticky: {err}");
    let err = ws.recv().unwrap_err();
    assert!(is_timeout(&err, Timer::Write), "recv after the stall: {err}");
    drop(ws);
    let wire = peer.join().unwrap();

    // Each message is one frame: a 10-byte header and 1 MiB of 0x5a.
    let frame = 10 + (1 << 20);
    assert!(wire.len() >= sent * frame, "{} bytes for {sent} messages", wire.len());
    assert!(wire.len() < (sent + 1) * frame, "{} bytes for {sent} messages: more was written", wire.len());
    for (i, f) in wire.chunks(frame).enumerate() {
        assert_eq!(&f[..2], &[0x82, 127], "frame {i}");
        assert!(f[10..].iter().all(|&b| b == 0x5a), "frame {i} damaged");
    }
}

/// Bytes that do not compress (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The same through `connect` (which offers permessage-deflate when the crate has it, so the
/// messages may be compressed: their bytes are noise, so they still fill the buffers).
#[test]
fn send_to_a_connect_peer_that_never_reads_times_out() {
    let (l, url) = listener();
    let (ready_tx, ready_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let peer = thread::spawn(move || {
        let (ws, _) = connect(&url).unwrap();
        ready_tx.send(()).unwrap();
        let _ = go_rx.recv_timeout(BOUND);
        drop(ws);
    });
    let (stream, _) = l.accept().unwrap();
    let mut ws = accept(stream, Config::new().write_timeout(Duration::from_millis(300))).unwrap();
    ready_rx.recv_timeout(BOUND).unwrap();
    let message = noise(1 << 20);
    let err = (0..200).find_map(|_| ws.send_binary(&message).err()).expect("200 MiB went to a peer that never reads");
    assert!(is_timeout(&err, Timer::Write), "{err}");
    let err = ws.send_binary(b"x").unwrap_err();
    assert!(is_timeout(&err, Timer::Write), "sticky: {err}");
    drop(ws);
    go_tx.send(()).unwrap();
    peer.join().unwrap();
}

/// A transport that always has another client Ping ready (up to `limit` bytes, then end of
/// input) and takes every write at once, keeping the last bytes written: a read never waits,
/// so its timeout never fires, and a deadline can only be noticed on the turns of the receive
/// loop. Implements [`Timeouts`] (a wrapper's way into the adapter) and records the calls.
struct PingFlood {
    pos: usize,
    limit: usize,
    tail: Vec<u8>,
    timeouts_set: usize,
}

/// An empty Ping from a client (masked).
const CLIENT_PING: [u8; 6] = [0x89, 0x80, 0x01, 0x02, 0x03, 0x04];

impl Read for PingFlood {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let at = self.pos % CLIENT_PING.len();
        let n = buf.len().min(self.limit - self.pos).min(CLIENT_PING.len() - at);
        buf[..n].copy_from_slice(&CLIENT_PING[at..at + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for PingFlood {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tail.extend_from_slice(buf);
        let excess = self.tail.len().saturating_sub(64);
        self.tail.drain(..excess);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Timeouts for PingFlood {
    fn set_timeouts(&mut self, _: Option<Duration>) -> std::io::Result<()> {
        self.timeouts_set += 1;
        Ok(())
    }
}

/// A flood that never lets a read wait: `recv` returns Ping after Ping, and the idle deadline
/// (50 ms) still ends the loop with `Timeout(Idle)` long before the flood's million Pings run
/// out; the last frame written is Close 1001.
#[test]
fn idle_deadline_holds_when_reads_never_wait() {
    const PINGS: usize = 1_000_000;
    let flood = PingFlood { pos: 0, limit: PINGS * CLIENT_PING.len(), tail: Vec::new(), timeouts_set: 0 };
    let config = Config::new().idle_timeout(Duration::from_millis(50)).with_adapter_deadlines();
    let mut ws = WebSocket::from_connection(flood, Connection::new(Role::Server, config), &[]);
    let mut pings = 0;
    let err = loop {
        match ws.recv() {
            Ok(Message::Ping(_)) => pings += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(e) => break e,
        }
    };
    assert!(is_timeout(&err, Timer::Idle), "{err} after {pings} pings");
    assert!(pings < PINGS, "{pings} pings");
    let flood = ws.into_inner();
    assert!(flood.tail.ends_with(&[0x88, 0x02, 0x03, 0xe9]), "{:02x?}", flood.tail);
    assert!(flood.timeouts_set > 0, "the adapter never set the stream's timeouts");
}

/// Writes junk without blocking until the socket takes nothing more, not even one byte.
fn fill(stream: &mut TcpStream) {
    let junk = vec![0u8; 64 * 1024];
    for size in [junk.len(), 4096, 1] {
        let mut filled = false;
        for _ in 0..1_000_000 {
            match stream.write(&junk[..size]) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    filled = true;
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert!(filled, "the socket never filled up");
    }
}

/// The peer stopped reading and the socket is full: `close` cannot write its Close frame and
/// fails with `Timeout(CloseHandshake)` at the close deadline (300 ms), not `Timeout(Write)`
/// at the write deadline (60 s).
#[test]
fn close_deadline_holds_while_the_close_frame_cannot_be_written() {
    let (l, url) = listener();
    let (ready, go, peer) = held_peer(url, drop);
    let (stream, _) = l.accept().unwrap();
    let config = Config::new().close_timeout(Duration::from_millis(300)).write_timeout(Duration::from_secs(60));
    let mut ws = accept(stream, config).unwrap();
    ready.recv_timeout(BOUND).unwrap();
    // Fill the socket behind the adapter's back (the peer never parses it) until the kernel
    // takes nothing more, not even one byte; again once in-flight data settled (the peer's
    // window closed), and right before the close.
    ws.get_mut().set_nonblocking(true).unwrap();
    for round in 0..4 {
        if round > 0 {
            thread::sleep(Duration::from_millis(50));
        }
        fill(ws.get_mut());
    }
    ws.get_mut().set_nonblocking(false).unwrap();
    let start = Instant::now();
    let err = ws.close(CloseCode::NORMAL, "").unwrap_err();
    assert!(is_timeout(&err, Timer::CloseHandshake), "{err}");
    assert!(start.elapsed() >= Duration::from_millis(300), "{:?}", start.elapsed());
    drop(ws);
    go.send(()).unwrap();
    peer.join().unwrap();
}

/// A peer that reads but never answers our Close: `close` fails with
/// `Timeout(CloseHandshake)` after the close deadline; the peer got our Close frame (1000).
#[test]
fn close_deadline_holds_when_the_peer_never_answers() {
    let (l, url) = listener();
    let (ready, go, peer) = held_peer(url, |mut s| read_all(&mut s, 1 << 20));
    let (stream, _) = l.accept().unwrap();
    let config = Config::new().close_timeout(Duration::from_millis(300)).write_timeout(Duration::from_secs(60));
    let mut ws = accept(stream, config).unwrap();
    ready.recv_timeout(BOUND).unwrap();
    // The peer starts reading (and discarding) now, and never writes.
    go.send(()).unwrap();
    let start = Instant::now();
    let err = ws.close(CloseCode::NORMAL, "").unwrap_err();
    assert!(is_timeout(&err, Timer::CloseHandshake), "{err}");
    assert!(start.elapsed() >= Duration::from_millis(300), "{:?}", start.elapsed());
    drop(ws);
    let wire = peer.join().unwrap();
    assert_eq!(wire, [0x88, 0x02, 0x03, 0xe8], "our Close frame, and nothing else");
}

/// Without any deadline (`adapter_deadlines(false)`), the adapter leaves the stream's timeouts
/// as the caller set them: a read timeout of the caller's surfaces as `WsError::Io`.
#[test]
fn without_deadlines_the_callers_timeouts_are_left_alone() {
    let (l, url) = listener();
    let (ready, go, peer) = held_peer(url, drop);
    let (stream, _) = l.accept().unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut ws = accept(stream, Config::new().adapter_deadlines(false)).unwrap();
    ready.recv_timeout(BOUND).unwrap();
    let err = ws.recv().unwrap_err();
    assert!(matches!(&err, WsError::Io(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)), "{err}");
    go.send(()).unwrap();
    peer.join().unwrap();
}

/// A handshake deadline alone (`adapter_deadlines(false)`, no timer after the handshake): once
/// the handshake is done, `recv` waits for the peer as long as it takes; the timeouts the
/// handshake deadline put on the stream do not outlive the handshake.
#[test]
fn handshake_deadline_does_not_outlive_the_handshake() {
    let (l, url) = listener();
    let (ready, go, peer) = held_peer(url, |mut s| {
        // Speak only well after the handshake deadline (300 ms) would have passed: a masked
        // "late" text frame.
        let mask = [1u8, 2, 3, 4];
        let mut frame = vec![0x81, 0x80 | 4];
        frame.extend_from_slice(&mask);
        frame.extend(b"late".iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        thread::sleep(Duration::from_millis(900));
        s.write_all(&frame).unwrap();
        s
    });
    let (stream, _) = l.accept().unwrap();
    let config = Config::new().adapter_deadlines(false).handshake_timeout(Duration::from_millis(300));
    let mut ws = accept(stream, config).unwrap();
    ready.recv_timeout(BOUND).unwrap();
    go.send(()).unwrap();
    let got = ws.recv().map(|m| format!("{m:?}"));
    drop(ws);
    let _peer_socket = peer.join().unwrap();
    assert_eq!(got.map_err(|e| format!("{e:?}")), Ok("Text(\"late\")".to_owned()));
}

/// A client's close deadline also bounds the wait for the server to close the transport: the
/// server answers our Close but keeps the socket open, and the client's `close` gives up at
/// the close deadline and returns the server's Close frame.
#[test]
fn client_close_gives_up_on_a_server_that_keeps_the_transport_open() {
    let (l, url) = listener();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (stream, _) = l.accept().unwrap();
        let mut ws = accept(stream, Config::new()).unwrap();
        let close = loop {
            if let Message::Close(frame) = ws.recv().unwrap() {
                break frame;
            }
        };
        // The reply went out; keep the socket open until the client is done (bounded).
        let _ = go_rx.recv_timeout(BOUND);
        close
    });
    let addr = url.trim_start_matches("ws://").trim_end_matches('/');
    let stream = TcpStream::connect(addr).unwrap();
    let config = Config::new().close_timeout(Duration::from_millis(300));
    let (mut ws, _) = client(stream, ClientRequest::new(&url).unwrap(), config).unwrap();
    let start = Instant::now();
    let reply = ws.close(CloseCode::GOING_AWAY, "bye");
    let elapsed = start.elapsed();
    go_tx.send(()).unwrap();
    let reply = reply.unwrap();
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert_eq!(reply.and_then(|f| f.code()), Some(CloseCode::GOING_AWAY));
    assert_eq!(server.join().unwrap().code(), Some(CloseCode::GOING_AWAY));
}

/// `Timeouts` for `UnixStream`: a peer that never reads makes a send fail with
/// `Timeout(Write)` (from `from_connection`, which honours the connection's `write_timeout`).
#[cfg(unix)]
#[test]
fn unix_stream_send_to_a_peer_that_never_reads_times_out() {
    let (server_io, peer) = std::os::unix::net::UnixStream::pair().unwrap();
    let config = Config::new().write_timeout(Duration::from_millis(300));
    let mut ws = WebSocket::from_connection(server_io, Connection::new(Role::Server, config), &[]);
    let message = vec![0u8; 1 << 20];
    let err = (0..200).find_map(|_| ws.send_binary(&message).err()).expect("200 MiB went to a peer that never reads");
    assert!(is_timeout(&err, Timer::Write), "{err}");
    let err = ws.send_text("x").unwrap_err();
    assert!(is_timeout(&err, Timer::Write), "sticky: {err}");
    drop(peer);
}
