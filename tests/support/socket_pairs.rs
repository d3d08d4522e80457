//! WebSockets over tokio's real sockets (loopback TCP, a Unix socket pair), no handshake, and
//! large numbered binary messages whose payload says which message they are.
// Not every test binary uses every helper.
#![allow(dead_code)]

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use wsproto::adapters::tokio::WebSocket;
use wsproto::{Config, Connection, KeySource, MessageKind, PreparedMessage, Role};

/// 64 KiB messages: the kernel's socket buffers (a few MiB at most) fill after some dozens.
pub(crate) const SIZE: usize = 64 * 1024;

/// A server and a client WebSocket over the two ends of a stream.
pub(crate) fn websockets<S: AsyncRead + AsyncWrite + Unpin>(server: S, client: S) -> (WebSocket<S>, WebSocket<S>) {
    let conn = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(3));
    let client = WebSocket::from_connection(client, conn, &[]);
    (WebSocket::from_connection(server, Connection::new(Role::Server, Config::new()), &[]), client)
}

/// Both ends of a loopback TCP connection: (server, client).
pub(crate) async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (server, client)
}

fn pattern(i: u32, k: usize) -> u8 {
    (k as u32).wrapping_mul(31).wrapping_add(i) as u8
}

/// Message `i`: its number, then a byte pattern that depends on it.
pub(crate) fn message(i: u32) -> PreparedMessage {
    let mut body = i.to_be_bytes().to_vec();
    body.extend((0..SIZE - 4).map(|k| pattern(i, k)));
    PreparedMessage::new(MessageKind::Binary, &body, &Config::new()).unwrap()
}

/// Panics unless `data` is message `i`, intact.
pub(crate) fn check(i: u32, data: &[u8]) {
    assert_eq!(data.len(), SIZE, "message {i}: length");
    assert_eq!(u32::from_be_bytes(data[..4].try_into().unwrap()), i, "message {i} out of order");
    assert!(data[4..].iter().enumerate().all(|(k, &b)| b == pattern(i, k)), "message {i}: payload changed");
}
