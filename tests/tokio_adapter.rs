//! The tokio adapter: a full session over an in-memory duplex stream, automatic pongs after a
//! split, `recv` cancel safety, and the unsplit path (round trips over small pipes and loopback
//! TCP, `recv_with_sender`, cancelled sends, vectored writes next to permessage-deflate).
#![cfg(feature = "tokio")]

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{sleep, timeout};
use wsproto::adapters::WsError;
#[cfg(feature = "deflate")]
use wsproto::adapters::tokio::accept_with;
use wsproto::adapters::tokio::{WebSocket, accept, client};
#[cfg(feature = "deflate")]
use wsproto::deflate::DeflateConfig;
#[cfg(feature = "deflate")]
use wsproto::handshake::Accept;
use wsproto::handshake::ClientRequest;
use wsproto::{CloseCode, Config, Connection, Event, KeySource, Message, MessageKind, Role};

#[tokio::test]
async fn handshake_messages_and_close_over_a_duplex_stream() {
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    let server = tokio::spawn(async move {
        let ws = accept(server_io, Config::new()).await.unwrap();
        let (mut rx, tx) = ws.split();
        let mut echoed = 0;
        loop {
            match rx.recv().await {
                Ok(Message::Text(t)) => tx.send_text(t).await.unwrap(),
                Ok(Message::Binary(b)) => tx.send_binary(b).await.unwrap(),
                Ok(_) => continue,
                Err(WsError::Closed) => return echoed,
                Err(e) => panic!("{e}"),
            }
            echoed += 1;
        }
    });
    let request = ClientRequest::new("ws://localhost/echo").unwrap();
    let (mut ws, negotiated) = client(client_io, request, Config::new()).await.unwrap();
    assert_eq!(negotiated.protocol, None);
    ws.send_text("hello").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::Text("hello"));
    let big = vec![7u8; 200_000];
    ws.send_binary(&big).await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::Binary(&big[..]));
    ws.ping(b"p").await.unwrap();
    assert!(matches!(ws.recv().await.unwrap(), Message::Pong(p) if p.as_bytes() == b"p"));
    let reply = ws.close(CloseCode::NORMAL, "bye").await.unwrap().expect("the server's Close");
    assert_eq!(reply.code(), Some(CloseCode::NORMAL));
    assert_eq!(server.await.unwrap(), 2);
}

/// After a split, the reader task still answers pings while the writer half sits idle in
/// another task.
#[tokio::test]
async fn split_halves_keep_automatic_pongs() {
    let (server_io, mut peer) = tokio::io::duplex(4096);
    let ws = WebSocket::from_connection(server_io, Connection::new(Role::Server, Config::new()), &[]);
    let (mut rx, tx) = ws.split();
    let _writer = tokio::spawn(async move {
        sleep(Duration::from_secs(30)).await;
        drop(tx);
    });
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(4));
    let mut wire = Vec::new();
    client.ping(b"are you there", &mut wire).unwrap();
    peer.write_all(&wire).await.unwrap();
    assert!(matches!(rx.recv().await.unwrap(), Message::Ping(_)));
    let mut buf = vec![0u8; 256];
    let n = timeout(Duration::from_secs(5), peer.read(&mut buf)).await.unwrap().unwrap();
    let r = client.receive(&mut buf[..n]).unwrap();
    assert!(matches!(r.event, Some(Event::Pong(p)) if p.as_bytes() == b"are you there"));
}

/// A `recv` dropped while it waits loses nothing: the message it had found comes out of the
/// next call. The reader is cancelled while a Pong it must write is stuck behind a slow peer.
#[tokio::test]
async fn cancelled_recv_loses_no_message() {
    let (server_io, client_io) = tokio::io::duplex(1024);
    let (mut client_rd, mut client_wr) = tokio::io::split(client_io);
    let ws = WebSocket::from_connection(server_io, Connection::new(Role::Server, Config::new()), &[]);
    let (mut rx, tx) = ws.split();
    // Fill the pipe: the peer reads nothing yet, so this send cannot finish.
    assert!(timeout(Duration::from_millis(50), tx.send_binary(&[0u8; 8192])).await.is_err());
    // The peer sends a Ping (whose Pong must wait behind the stuck bytes) and then "hello".
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(1));
    let mut wire = Vec::new();
    client.ping(b"x", &mut wire).unwrap();
    client.send_text("hello", &mut wire).unwrap();
    client_wr.write_all(&wire).await.unwrap();
    // The Ping is found, then recv waits to write the Pong: cancel it there.
    let first = timeout(Duration::from_millis(100), rx.recv()).await;
    assert!(first.is_err() || matches!(first, Ok(Ok(Message::Ping(_)))), "{first:?}");
    // Let the peer read again; every message arrives, in order.
    tokio::spawn(async move {
        let mut sink = vec![0u8; 1 << 16];
        while let Ok(n) = client_rd.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    });
    let mut got = Vec::new();
    if first.is_err() {
        got.push(format!("{:?}", timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap()));
    }
    got.push(format!("{:?}", timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap()));
    assert_eq!(got.last().unwrap(), "Text(\"hello\")");
    assert!(got[0].starts_with("Ping"), "{got:?}");
}

/// Keepalive on tokio's (paused, simulated) clock: a silent peer gets one Ping and is declared
/// dead exactly when the timeout passes; `recv` reports it.
#[tokio::test(start_paused = true)]
async fn keepalive_detects_a_silent_peer() {
    let (server_io, mut peer) = tokio::io::duplex(4096);
    let config = Config::new().keepalive(Duration::from_secs(10), Duration::from_secs(5));
    let mut ws = WebSocket::from_connection(server_io, Connection::new(Role::Server, config), &[]);
    let start = tokio::time::Instant::now();
    let err = ws.recv().await.unwrap_err();
    assert!(matches!(err, WsError::Protocol(wsproto::Error::Timeout(wsproto::Timer::KeepAlive))), "{err}");
    assert_eq!(start.elapsed(), Duration::from_secs(15));
    // The peer was sent exactly one Ping (an unmasked empty Ping from a server).
    let mut buf = [0u8; 16];
    let n = peer.read(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], &[0x89, 0x00]);
}

/// A peer that sends a message every 3 s is never pinged.
#[tokio::test(start_paused = true)]
async fn keepalive_leaves_a_chatty_peer_alone() {
    let (server_io, peer) = tokio::io::duplex(1 << 16);
    let (mut peer_rd, mut peer_wr) = tokio::io::split(peer);
    let config = Config::new().keepalive(Duration::from_secs(10), Duration::from_secs(5));
    let mut ws = WebSocket::from_connection(server_io, Connection::new(Role::Server, config), &[]);
    let talker = tokio::spawn(async move {
        let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(2));
        for _ in 0..20 {
            sleep(Duration::from_secs(3)).await;
            let mut wire = Vec::new();
            client.send_text("tick", &mut wire).unwrap();
            peer_wr.write_all(&wire).await.unwrap();
        }
        peer_wr
    });
    for _ in 0..20 {
        assert_eq!(ws.recv().await.unwrap(), Message::Text("tick"));
    }
    let _peer_wr = talker.await.unwrap();
    // Nothing at all was written to the peer in those 60 s.
    let mut buf = [0u8; 16];
    assert!(timeout(Duration::from_millis(1), peer_rd.read(&mut buf)).await.is_err());
}

// ---------------------------------------------------------------------------------------------
// The unsplit path: owned stream, no locks, vectored writes of large server payloads.

/// A stream wrapper: caps every write at `max_write` bytes (so writes are partial), says whether
/// it takes vectored writes, and counts the bytes read through it.
struct Tap<S> {
    inner: S,
    max_write: usize,
    vectored: bool,
    read: Arc<AtomicUsize>,
}

impl<S> Tap<S> {
    fn new(inner: S, max_write: usize, vectored: bool) -> Self {
        Self { inner, max_write, vectored, read: Arc::default() }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.read.fetch_add(buf.filled().len() - before, Ordering::Relaxed);
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let n = buf.len().min(self.max_write);
        Pin::new(&mut self.inner).poll_write(cx, &buf[..n])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut left = self.max_write;
        let mut limited = Vec::new();
        for b in bufs {
            let n = b.len().min(left);
            limited.push(IoSlice::new(&b[..n]));
            left -= n;
        }
        Pin::new(&mut self.inner).poll_write_vectored(cx, &limited)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Bytes that tell their positions apart (a lost or repeated byte shows).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Sizes around the thresholds: header lengths (125/126), the vectored write (2048), the read
/// buffer (64 KiB), `max_outgoing_frame` (1 MiB).
const SIZES: [usize; 6] = [0, 125, 2047, 2048, 65536, 1 << 20];

/// A server that echoes with `recv_with_sender` until the client closes; returns the count.
async fn echo_server<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(io: S) -> usize {
    let mut ws = WebSocket::from_connection(io, Connection::new(Role::Server, Config::new()), &[]);
    let mut echoed = 0;
    loop {
        let (message, mut tx) = match ws.recv_with_sender().await {
            Ok(m) => m,
            Err(WsError::Closed) => return echoed,
            Err(e) => panic!("server: {e}"),
        };
        match message {
            Message::Text(t) => tx.send_text(t).await.unwrap(),
            Message::Binary(b) => tx.send_binary(b).await.unwrap(),
            _ => continue,
        }
        echoed += 1;
    }
}

/// An unsplit client sends binary and text messages of every size in `sizes` (with a Ping
/// between) to an unsplit echo server and checks every echo.
async fn round_trips<A, B>(server_io: A, client_io: B, sizes: &[usize])
where
    A: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let server = tokio::spawn(echo_server(server_io));
    let conn = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(7));
    let mut ws = WebSocket::from_connection(client_io, conn, &[]);
    for &size in sizes {
        let data = pattern(size);
        ws.send_binary(&data).await.unwrap();
        match ws.recv().await.unwrap() {
            Message::Binary(b) => assert!(b == &data[..], "binary echo of {size} bytes differs"),
            other => panic!("{other:?}"),
        }
        ws.ping(b"between").await.unwrap();
        assert!(matches!(ws.recv().await.unwrap(), Message::Pong(p) if p.as_bytes() == b"between"));
        let text: String = (0..size).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        ws.send(MessageKind::Text, text.as_bytes()).await.unwrap();
        match ws.recv().await.unwrap() {
            Message::Text(t) => assert!(t == text, "text echo of {size} bytes differs"),
            other => panic!("{other:?}"),
        }
    }
    let reply = ws.close(CloseCode::NORMAL, "done").await.unwrap().expect("the server's Close");
    assert_eq!(reply.code(), Some(CloseCode::NORMAL));
    assert_eq!(server.await.unwrap(), 2 * sizes.len());
}

#[tokio::test]
async fn unsplit_round_trips_over_a_small_duplex_buffer() {
    // A 64-byte pipe: every write of a large message is partial, vectored ones included.
    let (server_io, client_io) = tokio::io::duplex(64);
    round_trips(server_io, client_io, &SIZES).await;
}

#[tokio::test]
async fn unsplit_round_trips_over_loopback_tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client_io, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let (client_io, (server_io, _)) = (client_io.unwrap(), accepted.unwrap());
    server_io.set_nodelay(true).unwrap();
    round_trips(server_io, client_io, &SIZES).await;
}

/// Writes of at most 3 bytes: a vectored write stops inside the header, between header and
/// payload, inside the payload. A stream without vectored writes takes the copying path.
#[tokio::test]
async fn unsplit_round_trips_with_tiny_partial_writes() {
    for vectored in [true, false] {
        let (server_io, client_io) = tokio::io::duplex(1 << 16);
        let server_io = Tap::new(server_io, 3, vectored);
        round_trips(server_io, client_io, &[0, 125, 2048, 5000, 70_000]).await;
    }
}

/// A server's Sender answers while the message is borrowed: every method, and several replies
/// to one message.
#[tokio::test]
async fn recv_with_sender_replies_without_a_split() {
    let (server_io, client_io) = tokio::io::duplex(4096);
    let server = tokio::spawn(async move {
        let mut ws = accept(server_io, Config::new()).await.unwrap();
        loop {
            let (message, mut tx) = match ws.recv_with_sender().await {
                Ok(m) => m,
                Err(WsError::Closed) => return ws.state(),
                Err(e) => panic!("{e}"),
            };
            match message {
                Message::Text(t) => {
                    tx.send_text(t).await.unwrap();
                    tx.send(MessageKind::Binary, t.as_bytes()).await.unwrap();
                }
                Message::Binary(b) => {
                    tx.send_binary(b).await.unwrap();
                    tx.ping(&b[..b.len().min(10)]).await.unwrap();
                }
                _ => {}
            }
        }
    });
    let request = ClientRequest::new("ws://localhost/").unwrap();
    let (mut ws, _) = client(client_io, request, Config::new()).await.unwrap();
    ws.send_text("hello").await.unwrap();
    assert_eq!(ws.recv().await.unwrap(), Message::Text("hello"));
    assert_eq!(ws.recv().await.unwrap(), Message::Binary(b"hello"));
    let big = pattern(100_000);
    ws.send_binary(&big).await.unwrap();
    assert!(matches!(ws.recv().await.unwrap(), Message::Binary(b) if b == &big[..]));
    assert!(matches!(ws.recv().await.unwrap(), Message::Ping(p) if p.as_bytes() == &big[..10]));
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    assert_eq!(server.await.unwrap(), wsproto::State::Closed);
}

/// Decodes a server's frames as a client: each message as (kind, payload), kind one of
/// `T`ext, `B`inary, P`i`ng, P`o`ng, `C`lose.
fn decode(wire: &mut [u8]) -> Vec<(char, Vec<u8>)> {
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(9));
    let mut assembler = wsproto::MessageAssembler::new();
    let mut got = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let r = client.receive(&mut wire[at..]).unwrap();
        at += r.consumed;
        let Some(event) = r.event else { continue };
        if let Some(m) = assembler.push(event).unwrap() {
            got.push(match m {
                Message::Text(t) => ('T', t.as_bytes().to_vec()),
                Message::Binary(b) => ('B', b.to_vec()),
                Message::Ping(p) => ('i', p.as_bytes().to_vec()),
                Message::Pong(p) => ('o', p.as_bytes().to_vec()),
                _ => ('C', Vec::new()),
            });
        }
    }
    got
}

/// Sends and a `recv` dropped midway on the unsplit path lose nothing and repeat nothing: a
/// copied frame cut short, a vectored frame cut inside its payload, and a Pong stuck behind
/// them all arrive whole and in order, and the message the `recv` had found comes out next.
#[tokio::test]
async fn cancelled_unsplit_sends_and_recv_lose_nothing() {
    let (server_io, client_io) = tokio::io::duplex(4096);
    let (mut peer_rd, mut peer_wr) = tokio::io::split(client_io);
    let mut ws = WebSocket::from_connection(server_io, Connection::new(Role::Server, Config::new()), &[]);
    let mut wire = vec![0u8; 4096];
    // Text takes the copying path: 4096 of its 6004 bytes fit in the pipe, then it is dropped.
    let text = "t".repeat(6000);
    assert!(timeout(Duration::from_millis(20), ws.send_text(&text)).await.is_err());
    peer_rd.read_exact(&mut wire).await.unwrap();
    // The vectored write takes the text's last 1908 bytes, the header and 2184 payload bytes.
    let big = pattern(100_000);
    assert!(timeout(Duration::from_millis(20), ws.send_binary(&big)).await.is_err());
    let mut more = vec![0u8; 4096];
    peer_rd.read_exact(&mut more).await.unwrap();
    wire.extend_from_slice(&more);
    // The peer sends a Ping and "hello"; the Pong waits behind the rest of the binary message.
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(1));
    let mut input = Vec::new();
    client.ping(b"x", &mut input).unwrap();
    client.send_text("hello", &mut input).unwrap();
    peer_wr.write_all(&input).await.unwrap();
    assert!(timeout(Duration::from_millis(20), ws.recv()).await.is_err());
    let reader = tokio::spawn(async move {
        let mut rest = Vec::new();
        peer_rd.read_to_end(&mut rest).await.unwrap();
        rest
    });
    assert!(matches!(ws.recv().await.unwrap(), Message::Ping(p) if p.as_bytes() == b"x"));
    assert_eq!(ws.recv().await.unwrap(), Message::Text("hello"));
    ws.send_text("after").await.unwrap();
    drop(ws);
    drop(peer_wr);
    wire.extend_from_slice(&reader.await.unwrap());
    let got = decode(&mut wire);
    let kinds: String = got.iter().map(|(k, _)| *k).collect();
    assert_eq!(kinds, "TBoT");
    assert!(got[0].1 == text.as_bytes());
    assert!(got[1].1 == big, "the binary message came out damaged");
    assert_eq!(got[2].1, b"x");
    assert_eq!(got[3].1, b"after");
}

/// A whole message while a streamed one is open is refused on the vectored path too, and the
/// streamed message (written with vectored writes) still ends well.
#[tokio::test]
async fn unsplit_whole_message_during_a_fragmented_one_is_refused() {
    let (server_io, mut peer) = tokio::io::duplex(1 << 20);
    let mut ws = WebSocket::from_connection(server_io, Connection::new(Role::Server, Config::new()), &[]);
    let big = pattern(10_000);
    ws.send_binary(&big).await.unwrap();
    ws.send_fragment(MessageKind::Binary, &big, false).await.unwrap();
    let err = ws.send_binary(&big).await.unwrap_err();
    assert!(matches!(err, WsError::Protocol(wsproto::Error::Misuse(wsproto::Misuse::MessageInProgress))), "{err}");
    ws.send_fragment(MessageKind::Binary, &big, true).await.unwrap();
    ws.send_binary(&big).await.unwrap();
    drop(ws);
    let mut wire = Vec::new();
    peer.read_to_end(&mut wire).await.unwrap();
    let got = decode(&mut wire);
    assert_eq!(got.len(), 3);
    assert!(got[0].1 == big && got[1].1 == [&big[..], &big[..]].concat() && got[2].1 == big);
}

/// With permessage-deflate agreed, a server's large whole messages are compressed (they take
/// the copying path) and its large fragments go out uncompressed (vectored); a client decodes
/// both.
#[cfg(feature = "deflate")]
#[tokio::test]
async fn deflate_server_large_messages_decode() {
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    let client_io = Tap::new(client_io, usize::MAX, true);
    let wire_bytes = Arc::clone(&client_io.read);
    let zeros = vec![0u8; 1 << 20];
    let noise = pattern(100_000);
    let (z, n) = (zeros.clone(), noise.clone());
    let server = tokio::spawn(async move {
        let decide = |_: &_| Ok(Accept::new().with_deflate(DeflateConfig::low_memory()));
        let (mut ws, _) = accept_with(server_io, Config::new(), decide).await.unwrap();
        ws.send_binary(&z).await.unwrap();
        ws.send_binary(&n).await.unwrap();
        ws.send_fragment(MessageKind::Binary, &n[..50_000], false).await.unwrap();
        ws.send_fragment(MessageKind::Binary, &n[50_000..], true).await.unwrap();
        ws.send(MessageKind::Text, &[b'z'; 70_000]).await.unwrap();
        assert!(matches!(ws.recv().await, Ok(Message::Close(_))));
        assert!(matches!(ws.recv().await, Err(WsError::Closed)));
    });
    let request = ClientRequest::new("ws://localhost/").unwrap().with_deflate(DeflateConfig::new());
    let (mut ws, negotiated) = client(client_io, request, Config::new()).await.unwrap();
    assert_eq!(negotiated.extensions.len(), 1, "permessage-deflate was agreed");
    assert!(matches!(ws.recv().await.unwrap(), Message::Binary(b) if b == &zeros[..]));
    assert!(matches!(ws.recv().await.unwrap(), Message::Binary(b) if b == &noise[..]));
    assert!(matches!(ws.recv().await.unwrap(), Message::Binary(b) if b == &noise[..]));
    assert!(matches!(ws.recv().await.unwrap(), Message::Text(t) if t.len() == 70_000 && t.bytes().all(|b| b == b'z')));
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    server.await.unwrap();
    // The megabyte of zeros and the text were compressed; the noise (sent twice) much less so.
    let read = wire_bytes.load(Ordering::Relaxed);
    assert!(read < 2 * 100_000 + 50_000, "{read} bytes crossed the wire");
}

/// The vectored frame is the frame the copying path writes.
#[test]
fn unmasked_frame_head_matches_the_copying_path() {
    for size in [0, 1, 125, 126, 65535, 65536, 100_000] {
        let data = pattern(size);
        let mut copying = Connection::new(Role::Server, Config::new());
        let mut expected = Vec::new();
        copying.send_fragment(MessageKind::Binary, &data, size % 2 == 0, &mut expected).unwrap();
        let mut server = Connection::new(Role::Server, Config::new());
        let head = server.encode_frame_head_unmasked(MessageKind::Binary, &data, size % 2 == 0).unwrap();
        assert_eq!([head.as_bytes(), &data[..]].concat(), expected, "{size}");
    }
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(3));
    let err = client.encode_frame_head_unmasked(MessageKind::Binary, b"x", true).unwrap_err();
    assert_eq!(err, wsproto::Error::Misuse(wsproto::Misuse::MaskRequired));
}
