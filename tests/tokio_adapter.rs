#![cfg(feature = "tokio")]
//! The tokio adapter: a full session over an in-memory duplex stream, automatic pongs after a
//! split, and `recv` cancel safety.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{sleep, timeout};
use wsproto::adapters::WsError;
use wsproto::adapters::tokio::{WebSocket, accept, client};
use wsproto::handshake::ClientRequest;
use wsproto::{CloseCode, Config, Connection, Event, KeySource, Message, Role};

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
    let mut client = Connection::with_key_source(Role::Client, Config::new(), KeySource::seeded(4));
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
    let mut client = Connection::with_key_source(Role::Client, Config::new(), KeySource::seeded(1));
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
        let mut client = Connection::with_key_source(Role::Client, Config::new(), KeySource::seeded(2));
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
