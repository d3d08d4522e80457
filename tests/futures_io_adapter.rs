//! The futures-io adapter on smol, over loopback TCP, with the guarantees the tokio adapter's
//! tests check (tests/tokio_adapter.rs, tests/tokio_deadlines.rs): both handshakes, echo and
//! the close handshake; a split reader and cloned writers in different tasks, automatic Pongs
//! after the split; cancel safety of `recv` and of sends; the deadlines on async-io's real
//! clock (each test asserts which deadline fired, never how long it took); prepared messages,
//! a batch in one vectored write.
#![cfg(feature = "futures-io")]

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use smol::Timer as SmolTimer;
use smol::future::{or, poll_once, zip};
use smol::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use smol::net::{TcpListener, TcpStream};
use wsproto::adapters::WsError;
use wsproto::adapters::futures_io::{WebSocket, WsReader, WsWriter, accept, accept_with, client};
use wsproto::handshake::{Accept, ClientRequest};
use wsproto::{
    CloseCode, Config, Connection, Error, KeySource, Message, MessageAssembler, MessageKind, Misuse, PreparedMessage,
    Role, State, Timer,
};

/// A complete, valid upgrade request (RFC 6455 §1.3's sample key).
const REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn is_timeout(e: &WsError, timer: Timer) -> bool {
    matches!(e, WsError::Protocol(Error::Timeout(t)) if *t == timer)
}

/// `op`, which must end (at a deadline of a few hundred milliseconds, or when the peer
/// answers): the test fails instead of hanging when it has not ended after 30 s.
async fn bounded<T>(op: impl Future<Output = T>) -> T {
    or(op, async {
        SmolTimer::after(Duration::from_secs(30)).await;
        panic!("not done within 30 s: a deadline did not fire");
    })
    .await
}

/// Whether `op` is still pending after `wait` (it is then dropped).
async fn still_pending_after<T>(wait: Duration, op: impl Future<Output = T>) -> bool {
    or(
        async {
            let _ = op.await;
            false
        },
        async {
            SmolTimer::after(wait).await;
            true
        },
    )
    .await
}

/// Both ends of a loopback TCP connection (Nagle off on both).
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (a, b) = zip(TcpStream::connect(addr), listener.accept()).await;
    let (a, (b, _)) = (a.unwrap(), b.unwrap());
    a.set_nodelay(true).unwrap();
    b.set_nodelay(true).unwrap();
    (a, b)
}

/// Reads an HTTP response head byte by byte (so no frame byte after it is consumed).
async fn read_head(peer: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 4096, "no end of the response head");
        let n = peer.read(&mut byte).await.unwrap();
        assert_eq!(n, 1, "the connection closed inside the response head");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// A server `accept`ed over loopback TCP with `config`; the other end is a hand-written client
/// that has sent its request and read the 101 response, nothing more.
async fn open(config: Config) -> (WebSocket<TcpStream>, TcpStream) {
    let (server_io, mut peer) = tcp_pair().await;
    let (ws, head) = zip(accept(server_io, config), async {
        peer.write_all(REQUEST.as_bytes()).await.unwrap();
        read_head(&mut peer).await
    })
    .await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    (ws.unwrap(), peer)
}

/// What the peer reads until the other end closes the connection (a bounded loop).
async fn read_to_end(mut peer: TcpStream) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for _ in 0..1_000_000 {
        match peer.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => wire.extend_from_slice(&buf[..n]),
        }
    }
    wire
}

/// A message as (kind, payload), kind one of `T`ext, `B`inary, P`i`ng, P`o`ng, `C`lose
/// (payload: the code, big-endian).
fn owned(m: Message<'_>) -> (char, Vec<u8>) {
    match m {
        Message::Text(t) => ('T', t.as_bytes().to_vec()),
        Message::Binary(b) => ('B', b.to_vec()),
        Message::Ping(p) => ('i', p.as_bytes().to_vec()),
        Message::Pong(p) => ('o', p.as_bytes().to_vec()),
        Message::Close(c) => ('C', c.code().map(|c| c.0.to_be_bytes().to_vec()).unwrap_or_default()),
        _ => ('?', Vec::new()),
    }
}

/// Decodes the frames a `sender` wrote, as its peer would, into messages (see [`owned`]);
/// stops at an incomplete frame.
fn decode(wire: &mut [u8], sender: Role) -> Vec<(char, Vec<u8>)> {
    let reader = if sender == Role::Server { Role::Client } else { Role::Server };
    let mut conn = Connection::new(reader, Config::new()).with_key_source(KeySource::seeded(9));
    let mut assembler = MessageAssembler::new();
    let mut got = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let r = conn.receive(&mut wire[at..]).unwrap();
        at += r.consumed;
        let Some(event) = r.event else {
            if r.consumed == 0 {
                break;
            }
            continue;
        };
        if let Some(m) = assembler.push(event).unwrap() {
            got.push(owned(m));
        }
    }
    got
}

/// Bytes that tell their positions apart (a lost or repeated byte shows).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Message `i` of a numbered series: `len` bytes, the first eight `i`.
fn numbered(i: usize, len: usize) -> Vec<u8> {
    let mut data = pattern(len);
    data[..8].copy_from_slice(&(i as u64).to_be_bytes());
    data
}

fn server_ws<S: AsyncRead + AsyncWrite + Unpin>(io: S, config: Config) -> WebSocket<S> {
    WebSocket::from_connection(io, Connection::new(Role::Server, config), &[])
}

fn client_ws<S: AsyncRead + AsyncWrite + Unpin>(io: S, seed: u64) -> WebSocket<S> {
    let conn = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(seed));
    WebSocket::from_connection(io, conn, &[])
}

// ---------------------------------------------------------------------------------------------
// Handshakes, echo, close.

/// `client` and `accept` over TCP; an unsplit server echoes with `recv_with_sender`: text
/// (multi-byte), binary of sizes around every threshold, a Ping's Pong; the client's `close`
/// returns the server's Close frame, and `recv` then reports `Closed`.
#[test]
fn handshake_echo_and_close_handshake_over_tcp() {
    smol::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = smol::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = accept(stream, Config::new()).await.unwrap();
            let mut echoed = 0;
            loop {
                let (message, mut tx) = match ws.recv_with_sender().await {
                    Ok(m) => m,
                    Err(WsError::Closed) => return (echoed, ws.state()),
                    Err(e) => panic!("server: {e}"),
                };
                match message {
                    Message::Text(t) => tx.send_text(t).await.unwrap(),
                    Message::Binary(b) => tx.send_binary(b).await.unwrap(),
                    _ => continue,
                }
                echoed += 1;
            }
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let request = ClientRequest::new(&format!("ws://{addr}/echo")).unwrap();
        let (mut ws, negotiated) = bounded(client(stream, request, Config::new())).await.unwrap();
        assert_eq!(negotiated.protocol, None);
        assert_eq!(ws.state(), State::Open);
        ws.send_text("hello").await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::Text("hello"));
        let text = "grüße, €uro ✓ ".repeat(1000);
        ws.send_text(&text).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Message::Text(&text));
        let sizes = [0, 125, 126, 2047, 2048, 65535, 65536, 200_000, 1 << 20];
        for size in sizes {
            let data = pattern(size);
            ws.send_binary(&data).await.unwrap();
            match ws.recv().await.unwrap() {
                Message::Binary(b) => assert!(b == &data[..], "binary echo of {size} bytes differs"),
                other => panic!("{other:?}"),
            }
        }
        ws.ping(b"are you there").await.unwrap();
        assert!(matches!(ws.recv().await.unwrap(), Message::Pong(p) if p.as_bytes() == b"are you there"));
        let reply = bounded(ws.close(CloseCode::NORMAL, "bye")).await.unwrap().expect("the server's Close frame");
        assert_eq!(reply.code(), Some(CloseCode::NORMAL));
        assert_eq!(ws.state(), State::Closed);
        assert!(matches!(ws.recv().await, Err(WsError::Closed)));
        assert!(matches!(ws.recv().await, Err(WsError::Closed)), "Closed again on the next call");
        let (echoed, state) = bounded(server).await;
        assert_eq!(echoed, 2 + sizes.len());
        assert_eq!(state, State::Closed);
    });
}

/// `accept_with` picks a subprotocol the client offered; both sides see it. The server, as
/// the side that closes: its `close` gets the client's reply and ends the connection.
#[test]
fn accept_with_negotiates_a_subprotocol_and_the_server_closes() {
    smol::block_on(async {
        let (client_io, server_io) = tcp_pair().await;
        let server = smol::spawn(async move {
            let decide = |r: &wsproto::handshake::UpgradeRequest| {
                let chosen = r.select_protocol(&["v2.chat", "v1.chat"]).expect("an offered protocol").to_owned();
                Ok(Accept::new().with_protocol(chosen))
            };
            let (mut ws, negotiated) = accept_with(server_io, Config::new(), decide).await.unwrap();
            assert_eq!(ws.recv().await.unwrap(), Message::Text("hi"));
            let reply = ws.close(CloseCode::GOING_AWAY, "restart").await.unwrap();
            (negotiated.protocol, reply.and_then(|f| f.code()), ws.state())
        });
        let request = ClientRequest::new("ws://localhost/").unwrap().with_protocol("v1.chat").with_protocol("v2.chat");
        let (mut ws, negotiated) = bounded(client(client_io, request, Config::new())).await.unwrap();
        assert_eq!(negotiated.protocol.as_deref(), Some("v1.chat"));
        ws.send_text("hi").await.unwrap();
        let close = bounded(ws.recv()).await.unwrap();
        assert!(
            matches!(close, Message::Close(f) if f.code() == Some(CloseCode::GOING_AWAY) && f.reason() == "restart")
        );
        assert!(matches!(bounded(ws.recv()).await, Err(WsError::Closed)));
        let (protocol, reply, state) = bounded(server).await;
        assert_eq!(protocol.as_deref(), Some("v1.chat"));
        assert_eq!(reply, Some(CloseCode::GOING_AWAY));
        assert_eq!(state, State::Closed);
    });
}

// ---------------------------------------------------------------------------------------------
// Split.

/// The server splits: its reader echoes through the writer in one task while a cloned writer
/// sends ticks from another. The client's Ping is answered by the reader after the split;
/// every echo and every tick arrives, each series in order.
#[test]
fn split_reader_and_cloned_writer_in_different_tasks() {
    smol::block_on(async {
        let (client_io, server_io) = tcp_pair().await;
        let server = smol::spawn(async move {
            let ws = accept(server_io, Config::new()).await.unwrap();
            let (mut rx, tx) = ws.split();
            let ticker_tx = tx.clone();
            let ticker = smol::spawn(async move {
                for i in 0..20 {
                    ticker_tx.send_text(&format!("tick {i}")).await.unwrap();
                }
            });
            let reader = smol::spawn(async move {
                let (mut echoed, mut pings) = (0, 0);
                loop {
                    match rx.recv().await {
                        Ok(Message::Text(t)) => tx.send_text(t).await.unwrap(),
                        Ok(Message::Binary(b)) => tx.send_binary(b).await.unwrap(),
                        Ok(Message::Ping(_)) => {
                            pings += 1;
                            continue;
                        }
                        Ok(_) => continue,
                        Err(WsError::Closed) => return (echoed, pings),
                        Err(e) => panic!("server reader: {e}"),
                    }
                    echoed += 1;
                }
            });
            ticker.await;
            reader.await
        });
        let request = ClientRequest::new("ws://localhost/").unwrap();
        let (mut ws, _) = bounded(client(client_io, request, Config::new())).await.unwrap();
        let big = pattern(300_000);
        ws.send_text("one").await.unwrap();
        ws.ping(b"are you there").await.unwrap();
        ws.send_binary(&big).await.unwrap();
        ws.send_text("two").await.unwrap();
        let (mut ticks, mut echoes, mut pongs) = (Vec::new(), Vec::new(), Vec::new());
        while ticks.len() < 20 || echoes.len() < 3 || pongs.is_empty() {
            match bounded(ws.recv()).await.unwrap() {
                Message::Text(t) if t.starts_with("tick ") => ticks.push(t.to_owned()),
                Message::Text(t) => echoes.push(t.as_bytes().to_vec()),
                Message::Binary(b) => echoes.push(b.to_vec()),
                Message::Pong(p) => pongs.push(p.as_bytes().to_vec()),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(ticks, (0..20).map(|i| format!("tick {i}")).collect::<Vec<_>>());
        assert_eq!(echoes.len(), 3);
        assert_eq!(echoes[0], b"one");
        assert!(echoes[1] == big, "the binary echo differs");
        assert_eq!(echoes[2], b"two");
        assert_eq!(pongs, [b"are you there".to_vec()]);
        let reply = bounded(ws.close(CloseCode::NORMAL, "")).await.unwrap();
        assert_eq!(reply.and_then(|f| f.code()), Some(CloseCode::NORMAL));
        assert_eq!(bounded(server).await, (3, 1));
    });
}

// ---------------------------------------------------------------------------------------------
// Cancel safety.

/// A client's text message (10,000 bytes of 3-byte characters and one `x`) as it goes on the
/// wire, and where to cut it: inside the extended length, and inside a character.
fn text_in_pieces() -> (String, Vec<u8>, [usize; 2]) {
    let text = "€".repeat(3333) + "x";
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(3));
    let mut wire = Vec::new();
    client.send_text(&text, &mut wire).unwrap();
    client.send_text("next", &mut wire).unwrap();
    // Header: 2 bytes, 2 of extended length, 4 of mask; payload offset 5000 is inside a `€`.
    (text, wire, [3, 8 + 5000])
}

/// `recv` dropped while a message is half arrived (twice: cut inside the header, then inside
/// a character), loses nothing: the next `recv` returns the whole message, then the next one.
async fn recv_survives_cancellation(
    mut recv: impl AsyncFnMut() -> Result<(char, Vec<u8>), WsError>,
    peer: &mut TcpStream,
) {
    let (text, wire, cuts) = text_in_pieces();
    let pieces = [&wire[..cuts[0]], &wire[cuts[0]..cuts[1]], &wire[cuts[1]..]];
    for piece in &pieces[..2] {
        peer.write_all(piece).await.unwrap();
        peer.flush().await.unwrap();
        // The piece is read and fed to the connection; no message is complete, and the
        // pending `recv` is dropped at the timer.
        assert!(still_pending_after(Duration::from_millis(150), recv()).await, "recv returned on a partial frame");
    }
    peer.write_all(pieces[2]).await.unwrap();
    let got = bounded(recv()).await.unwrap();
    assert!(got == ('T', text.into_bytes()), "the message came out damaged: {} bytes", got.1.len());
    assert_eq!(bounded(recv()).await.unwrap(), ('T', b"next".to_vec()));
}

#[test]
fn cancelled_recv_loses_no_data() {
    smol::block_on(async {
        let (server_io, mut peer) = tcp_pair().await;
        let mut ws = server_ws(server_io, Config::new());
        recv_survives_cancellation(async || ws.recv().await.map(owned), &mut peer).await;
    });
}

#[test]
fn cancelled_split_recv_loses_no_data() {
    smol::block_on(async {
        let (server_io, mut peer) = tcp_pair().await;
        let (mut rx, _tx) = server_ws(server_io, Config::new()).split();
        recv_survives_cancellation(async || rx.recv().await.map(owned), &mut peer).await;
    });
}

/// How a test sends on the connection under test.
#[derive(Clone, Copy, Debug)]
enum Path {
    /// An unsplit server: large binary messages take the vectored path (written from the
    /// caller's buffer).
    Server,
    /// An unsplit client: every message is masked into the output buffer.
    Client,
    /// A split server's writer.
    SplitServer,
}

/// Sends 1 MiB messages `numbered(0..)` to a peer that does not read until the kernel's
/// buffers are full and a send is stuck mid-write; that send is dropped at the timer. The
/// peer then reads: the next send finishes the dropped one first, so the peer receives every
/// message begun, whole and in order, then the next one.
async fn dropped_send_is_finished_by_the_next(path: Path) {
    const SIZE: usize = 1 << 20;
    let (local, peer) = tcp_pair().await;
    let mut started = 0;
    enum Ws {
        Whole(Box<WebSocket<TcpStream>>),
        /// The reader is kept (unused) so that the connection stays whole.
        Split {
            _rx: Box<WsReader<TcpStream>>,
            tx: WsWriter<TcpStream>,
        },
    }
    let mut ws = match path {
        Path::Server => Ws::Whole(Box::new(server_ws(local, Config::new()))),
        Path::Client => Ws::Whole(Box::new(client_ws(local, 1))),
        Path::SplitServer => {
            let (rx, tx) = server_ws(local, Config::new()).split();
            Ws::Split { _rx: Box::new(rx), tx }
        }
    };
    // At most 200 MiB: far more than loopback buffers hold.
    let ran_out = or(
        async {
            for i in 0..200 {
                started = i + 1;
                let data = numbered(i, SIZE);
                match &mut ws {
                    Ws::Whole(ws) => ws.send_binary(&data).await.unwrap(),
                    Ws::Split { tx, .. } => tx.send_binary(&data).await.unwrap(),
                }
            }
            true
        },
        async {
            SmolTimer::after(Duration::from_millis(300)).await;
            false
        },
    )
    .await;
    assert!(!ran_out, "{path:?}: 200 MiB went out to a peer that does not read");
    let reader = smol::spawn(read_to_end(peer));
    match &mut ws {
        Ws::Whole(ws) => bounded(ws.send_text("after")).await.unwrap(),
        Ws::Split { tx, .. } => bounded(tx.send_text("after")).await.unwrap(),
    }
    drop(ws);
    let mut wire = bounded(reader).await;
    let sender = if matches!(path, Path::Client) { Role::Client } else { Role::Server };
    let got = decode(&mut wire, sender);
    assert_eq!(got.len(), started + 1, "{path:?}: {} messages for {started} begun", got.len());
    for (i, (kind, data)) in got[..started].iter().enumerate() {
        assert!(*kind == 'B' && *data == numbered(i, SIZE), "{path:?}: message {i} came out damaged");
    }
    assert_eq!(got[started], ('T', b"after".to_vec()), "{path:?}");
}

#[test]
fn dropped_unsplit_server_send_is_finished_by_the_next() {
    smol::block_on(dropped_send_is_finished_by_the_next(Path::Server));
}

#[test]
fn dropped_unsplit_client_send_is_finished_by_the_next() {
    smol::block_on(dropped_send_is_finished_by_the_next(Path::Client));
}

#[test]
fn dropped_split_writer_send_is_finished_by_the_next() {
    smol::block_on(dropped_send_is_finished_by_the_next(Path::SplitServer));
}

// ---------------------------------------------------------------------------------------------
// Deadlines on async-io's clock.

/// A client that connects and sends nothing: `accept` fails with `Timeout(Handshake)`.
#[test]
fn server_handshake_times_out_against_a_silent_client() {
    smol::block_on(async {
        let (server_io, peer) = tcp_pair().await;
        let config = Config::new().handshake_timeout(Duration::from_millis(200));
        let err = bounded(accept(server_io, config)).await.unwrap_err();
        assert!(is_timeout(&err, Timer::Handshake), "{err}");
        drop(peer);
    });
}

/// A server that reads the request and never answers: `client` fails with
/// `Timeout(Handshake)`.
#[test]
fn client_handshake_times_out_against_a_silent_server() {
    smol::block_on(async {
        let (client_io, mut peer) = tcp_pair().await;
        let request = ClientRequest::new("ws://localhost/").unwrap();
        let config = Config::new().handshake_timeout(Duration::from_millis(200));
        let (result, seen) = zip(bounded(client(client_io, request, config)), async {
            // Read the whole request, then keep the connection open and silent.
            let mut seen = Vec::new();
            let mut buf = [0u8; 256];
            while !seen.ends_with(b"\r\n\r\n") {
                let n = peer.read(&mut buf).await.unwrap();
                assert!(n > 0 && seen.len() < 8192);
                seen.extend_from_slice(&buf[..n]);
            }
            seen
        })
        .await;
        let err = result.unwrap_err();
        assert!(is_timeout(&err, Timer::Handshake), "{err}");
        assert!(seen.starts_with(b"GET / HTTP/1.1\r\n"), "{}", String::from_utf8_lossy(&seen));
        drop(peer);
    });
}

/// A peer that reads but never answers Pings: `recv` fails with `Timeout(KeepAlive)`, and
/// the one Ping is all the peer received.
#[test]
fn keepalive_declares_a_silent_peer_dead() {
    smol::block_on(async {
        let config = Config::new().keepalive(Duration::from_millis(100), Duration::from_millis(200));
        let (mut ws, peer) = open(config).await;
        let reader = smol::spawn(read_to_end(peer));
        let err = bounded(ws.recv()).await.unwrap_err();
        assert!(is_timeout(&err, Timer::KeepAlive), "{err}");
        drop(ws);
        let wire = bounded(reader).await;
        assert_eq!(wire, [0x89, 0x00], "exactly one empty Ping");
    });
}

/// A peer that answers every Ping (a futures-io client with automatic Pongs) stays alive
/// through many keepalive rounds: the Pongs move the deadline each time.
#[test]
fn keepalive_keeps_a_peer_that_answers() {
    smol::block_on(async {
        let (client_io, server_io) = tcp_pair().await;
        let peer = smol::spawn(async move {
            let request = ClientRequest::new("ws://localhost/").unwrap();
            let (mut ws, _) = client(client_io, request, Config::new()).await.unwrap();
            let mut pings = 0;
            loop {
                match ws.recv().await {
                    Ok(Message::Ping(_)) => pings += 1,
                    Ok(Message::Close(_)) => {}
                    Ok(other) => panic!("{other:?}"),
                    Err(WsError::Closed) => return pings,
                    Err(e) => panic!("peer: {e}"),
                }
            }
        });
        // A Ping 100 ms after the last traffic; the peer is dead 1 s after an unanswered one.
        let config = Config::new().keepalive(Duration::from_millis(100), Duration::from_secs(1));
        let mut ws = accept(server_io, config).await.unwrap();
        // 2.5 s: more than twice what a peer that never answered would get. Each Pong is
        // returned by `recv`.
        let mut pongs = 0;
        let failed = or(
            async {
                loop {
                    match ws.recv().await {
                        Ok(Message::Pong(p)) => {
                            assert!(p.as_bytes().is_empty(), "{p:?}");
                            pongs += 1;
                        }
                        Ok(other) => panic!("{other:?}"),
                        Err(e) => break Some(e),
                    }
                }
            },
            async {
                SmolTimer::after(Duration::from_millis(2500)).await;
                None
            },
        )
        .await;
        assert!(failed.is_none(), "the peer was declared dead although it answered: {failed:?}");
        assert!(pongs >= 2, "{pongs} Pongs: the keepalive ran fewer than two rounds");
        bounded(ws.close(CloseCode::NORMAL, "")).await.unwrap();
        drop(ws);
        let pings = bounded(peer).await;
        assert!(pings >= 2, "{pings} Pings: the keepalive ran fewer than two rounds");
    });
}

/// A peer that reads but never answers our Close: `close` fails with
/// `Timeout(CloseHandshake)`; the peer received our Close frame and nothing else.
#[test]
fn close_deadline_holds_when_the_peer_never_answers() {
    smol::block_on(async {
        let (mut ws, peer) = open(Config::new().close_timeout(Duration::from_millis(200))).await;
        let reader = smol::spawn(read_to_end(peer));
        let err = bounded(ws.close(CloseCode::NORMAL, "")).await.unwrap_err();
        assert!(is_timeout(&err, Timer::CloseHandshake), "{err}");
        drop(ws);
        let mut wire = bounded(reader).await;
        assert_eq!(decode(&mut wire, Role::Server), [('C', 1000u16.to_be_bytes().to_vec())]);
    });
}

/// The peer stopped reading and the kernel's buffers are full: our Close frame cannot be
/// written, and `close` fails at the close deadline (300 ms), not the write deadline (20 s).
#[test]
fn close_deadline_holds_while_the_close_frame_cannot_be_written() {
    smol::block_on(async {
        let (mut ws, peer) = open(Config::new().close_timeout(Duration::from_millis(300))).await;
        let payload = vec![0u8; 1 << 20];
        let filled = or(
            async {
                for _ in 0..200 {
                    ws.send_binary(&payload).await.unwrap();
                }
                false
            },
            async {
                SmolTimer::after(Duration::from_millis(300)).await;
                true
            },
        )
        .await;
        assert!(filled, "200 MiB went out to a peer that does not read");
        let err = bounded(ws.close(CloseCode::NORMAL, "")).await.unwrap_err();
        assert!(is_timeout(&err, Timer::CloseHandshake), "{err}");
        assert_eq!(ws.state(), State::Failed);
        drop(peer);
    });
}

/// Sends 1 MiB messages to a peer that never reads, until one fails; returns how many went
/// out and the error.
macro_rules! send_until_stalled {
    ($tx:expr) => {
        bounded(async {
            let payload = numbered(0, 1 << 20);
            for sent in 0..200 {
                if let Err(e) = $tx.send_binary(&payload).await {
                    return (sent, e);
                }
            }
            panic!("200 MiB went out to a peer that does not read");
        })
        .await
    };
}

/// A peer that never reads: a send fails with `Timeout(Write)` at the write deadline instead
/// of hanging, and the failure is sticky: the next send and `recv` fail on their first poll,
/// and nothing more is written (the peer, reading at last, gets the messages that went out and
/// a cut frame, no `x`).
#[test]
fn write_stall_times_out_and_sticks() {
    smol::block_on(async {
        let (mut ws, peer) = open(Config::new().write_timeout(Duration::from_millis(200))).await;
        let (sent, err) = send_until_stalled!(ws);
        assert!(is_timeout(&err, Timer::Write), "{err}");
        let reader = smol::spawn(read_to_end(peer));
        match poll_once(ws.send_text("x")).await {
            Some(Err(e)) => assert!(is_timeout(&e, Timer::Write), "sticky: {e}"),
            other => panic!("the send after the stall did not fail at once: {:?}", other.map(|r| r.is_ok())),
        }
        match poll_once(ws.recv()).await {
            Some(Err(e)) => assert!(is_timeout(&e, Timer::Write), "recv after the stall: {e}"),
            other => panic!("recv after the stall did not fail at once: {other:?}"),
        }
        drop(ws);
        let mut wire = bounded(reader).await;
        assert!(wire.len() < (sent + 1) * ((1 << 20) + 10), "{} bytes for {sent} messages", wire.len());
        let got = decode(&mut wire, Role::Server);
        assert_eq!(got.len(), sent);
        assert!(got.iter().all(|(k, _)| *k == 'B'), "something followed the cut frame");
    });
}

/// The same after a split: the writer's send fails with `Timeout(Write)`, so does the next
/// one on its first poll, from another clone too.
#[test]
fn split_writer_stall_times_out_and_sticks() {
    smol::block_on(async {
        let (ws, peer) = open(Config::new().write_timeout(Duration::from_millis(200))).await;
        let (_rx, tx) = ws.split();
        let (_, err) = send_until_stalled!(tx);
        assert!(is_timeout(&err, Timer::Write), "{err}");
        let other = tx.clone();
        match poll_once(other.send_text("x")).await {
            Some(Err(e)) => assert!(is_timeout(&e, Timer::Write), "sticky: {e}"),
            r => panic!("the send after the stall did not fail at once: {:?}", r.map(|r| r.is_ok())),
        }
        drop(peer);
    });
}

// ---------------------------------------------------------------------------------------------
// Prepared messages: a batch in one write.

/// A futures-io stream wrapper that counts the write calls made on it: `vectored` counts
/// `poll_write_vectored`, `plain` counts `poll_write` (the adapter should make none).
struct Counting<S> {
    inner: S,
    vectored: Arc<AtomicUsize>,
    plain: Arc<AtomicUsize>,
}

#[derive(Clone)]
struct Counts {
    vectored: Arc<AtomicUsize>,
    plain: Arc<AtomicUsize>,
}

impl Counts {
    /// (vectored, plain) write calls since the last call; resets them.
    fn take(&self) -> (usize, usize) {
        (self.vectored.swap(0, Ordering::SeqCst), self.plain.swap(0, Ordering::SeqCst))
    }
}

impl<S> Counting<S> {
    fn new(inner: S) -> (Self, Counts) {
        let counts = Counts { vectored: Arc::default(), plain: Arc::default() };
        (Self { inner, vectored: Arc::clone(&counts.vectored), plain: Arc::clone(&counts.plain) }, counts)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counting<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counting<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.plain.fetch_add(1, Ordering::SeqCst);
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.vectored.fetch_add(1, Ordering::SeqCst);
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

fn prepared_texts(range: std::ops::Range<usize>, config: &Config) -> Vec<PreparedMessage> {
    range.map(|i| PreparedMessage::new(MessageKind::Text, format!("message {i}").as_bytes(), config).unwrap()).collect()
}

/// Receives `n` messages, as owned (kind, payload).
async fn receive_n<S: AsyncRead + AsyncWrite + Unpin>(ws: &mut WebSocket<S>, n: usize) -> Vec<(char, Vec<u8>)> {
    let mut got = Vec::new();
    while got.len() < n {
        got.push(owned(bounded(ws.recv()).await.unwrap()));
    }
    got
}

fn texts(range: std::ops::Range<usize>) -> Vec<(char, Vec<u8>)> {
    range.map(|i| ('T', format!("message {i}").into_bytes())).collect()
}

/// `send_prepared` writes one message with one plain write; `send_prepared_batch` writes
/// 10 with one, and 40 with two (32 per write): unsplit, through `recv_with_sender`'s
/// `Sender`, and through a split writer. The peer receives them all, in order.
#[test]
fn prepared_batches_go_out_in_one_vectored_write_each() {
    smol::block_on(async {
        let (server_io, client_io) = tcp_pair().await;
        let (server_io, counts) = Counting::new(server_io);
        let mut ws = server_ws(server_io, Config::new());
        let mut peer = client_ws(client_io, 2);
        let msgs = prepared_texts(0..40, &Config::new());

        ws.send_prepared(&msgs[0]).await.unwrap();
        assert_eq!(counts.take(), (0, 1), "one prepared message: one plain write");
        assert_eq!(receive_n(&mut peer, 1).await, texts(0..1));

        ws.send_prepared_batch(&msgs[..10]).await.unwrap();
        assert_eq!(counts.take(), (1, 0), "a batch of 10");
        assert_eq!(receive_n(&mut peer, 10).await, texts(0..10));

        ws.send_prepared_batch(&msgs).await.unwrap();
        assert_eq!(counts.take(), (2, 0), "a batch of 40");
        assert_eq!(receive_n(&mut peer, 40).await, texts(0..40));

        // Through the Sender of `recv_with_sender` (the batch takes `Arc`s or references).
        peer.send_text("go").await.unwrap();
        let (message, mut tx) = bounded(ws.recv_with_sender()).await.unwrap();
        assert_eq!(message, Message::Text("go"));
        counts.take();
        let refs: Vec<&PreparedMessage> = msgs[..10].iter().collect();
        tx.send_prepared_batch(&refs).await.unwrap();
        assert_eq!(counts.take(), (1, 0), "a batch of 10 through the Sender");
        assert_eq!(receive_n(&mut peer, 10).await, texts(0..10));

        // After a split.
        let (_rx, tx) = ws.split();
        tx.send_prepared_batch(&msgs[..10]).await.unwrap();
        assert_eq!(counts.take(), (1, 0), "a batch of 10 after a split");
        tx.send_prepared_batch(&msgs).await.unwrap();
        assert_eq!(counts.take(), (2, 0), "a batch of 40 after a split");
        assert_eq!(receive_n(&mut peer, 50).await, [texts(0..10), texts(0..40)].concat());
    });
}

/// A message the connection refuses (frames larger than its `max_outgoing_frame`) ends the
/// batch: the messages before it go out (one write), the error is returned, the ones after
/// it are not sent. After our Close the connection refuses every message: nothing is written.
#[test]
fn a_refused_prepared_message_ends_the_batch() {
    smol::block_on(async {
        let (server_io, client_io) = tcp_pair().await;
        let (server_io, counts) = Counting::new(server_io);
        let narrow = Config::new().max_outgoing_frame(1000);
        let mut ws = server_ws(server_io, narrow);
        let mut peer = client_ws(client_io, 3);
        let mut batch = prepared_texts(0..10, &narrow);
        batch[5] = PreparedMessage::new(MessageKind::Binary, &pattern(2000), &Config::new()).unwrap();
        let err = ws.send_prepared_batch(&batch).await.unwrap_err();
        assert!(matches!(err, WsError::Protocol(Error::Misuse(Misuse::PreparedFrameTooLarge))), "{err}");
        assert_eq!(counts.take(), (1, 0));
        ws.send_text("after").await.unwrap();
        let mut want = texts(0..5);
        want.push(('T', b"after".to_vec()));
        assert_eq!(receive_n(&mut peer, 6).await, want);

        // Our close handshake (the peer answers), then a batch: refused, nothing written.
        let closing = smol::spawn(async move { (receive_n(&mut peer, 1).await, peer) });
        bounded(ws.close(CloseCode::NORMAL, "")).await.unwrap();
        let (got, mut peer) = bounded(closing).await;
        assert_eq!(got, [('C', 1000u16.to_be_bytes().to_vec())]);
        counts.take();
        let err = ws.send_prepared_batch(&batch[..3]).await.unwrap_err();
        assert!(matches!(err, WsError::Protocol(Error::Misuse(Misuse::SendAfterClose))), "{err}");
        assert_eq!(counts.take(), (0, 0), "a refused batch wrote something");
        drop(ws);
        assert!(matches!(bounded(peer.recv()).await, Err(WsError::Closed)), "the peer saw more than the close");
    });
}
