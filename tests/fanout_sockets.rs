//! `WsWriter::try_send_prepared` on tokio's own sockets, which it writes with a system call
//! straight away (no readiness check, see `src/adapters/send_now.rs`): a receiver that stops
//! reading makes the socket full, the message is `Queued` (then `Full` at the limit), and a
//! flush delivers everything in order once it reads again; a receiver that is gone makes the
//! writes fail, and the failure is sticky. Over loopback TCP and a Unix socket pair; how much
//! the kernel buffers decides when `Queued` comes, so the tests only assert the order of
//! outcomes and what arrives.
#![cfg(feature = "tokio")]

use std::io::ErrorKind;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::time::timeout;
use wsproto::adapters::WsError;
use wsproto::adapters::async_ws::TrySend;
use wsproto::adapters::tokio::{WebSocket, WsWriter};
use wsproto::{Config, Connection, KeySource, Message, MessageKind, PreparedMessage, Role};

/// 64 KiB messages: the kernel's socket buffers (a few MiB at most) fill after some dozens.
const SIZE: usize = 64 * 1024;

fn websockets<S: AsyncRead + AsyncWrite + Unpin>(server: S, client: S) -> (WebSocket<S>, WebSocket<S>) {
    let conn = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(3));
    let client = WebSocket::from_connection(client, conn, &[]);
    (WebSocket::from_connection(server, Connection::new(Role::Server, Config::new()), &[]), client)
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (server, client)
}

/// Message `i`: its number, then a byte pattern that depends on it.
fn message(i: u32) -> PreparedMessage {
    let mut body = i.to_be_bytes().to_vec();
    body.extend((0..SIZE - 4).map(|k| (k as u32).wrapping_mul(31).wrapping_add(i) as u8));
    PreparedMessage::new(MessageKind::Binary, &body, &Config::new()).unwrap()
}

fn check(i: u32, data: &[u8]) {
    assert_eq!(data.len(), SIZE, "message {i}: length");
    assert_eq!(u32::from_be_bytes(data[..4].try_into().unwrap()), i, "message {i} out of order");
    assert!(
        data[4..].iter().enumerate().all(|(k, &b)| b == (k as u32).wrapping_mul(31).wrapping_add(i) as u8),
        "message {i}: payload changed"
    );
}

/// Sends until the socket is full and the limit is reached (the peer does not read yet), then
/// reads everything with a flush running: all messages taken arrive, in order.
async fn queue_until_full_then_deliver<S>(server: WebSocket<S>, mut peer: WebSocket<S>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (_reader, writer): (_, WsWriter<S>) = server.split();
    let mut outcomes = Vec::new();
    let mut taken = 0u32;
    // The kernel takes a few MiB, then 1 MiB more queues: well within 4,096 messages.
    while taken < 4096 {
        let outcome = writer.try_send_prepared(&message(taken)).unwrap();
        outcomes.push(outcome);
        if outcome == TrySend::Full {
            break;
        }
        taken += 1;
    }
    assert_eq!(outcomes.last(), Some(&TrySend::Full), "1 MiB queued must end in Full");
    let first_queued = outcomes.iter().position(|o| *o == TrySend::Queued).expect("the socket never filled up");
    assert!(first_queued > 0, "the first message goes out at once");
    assert!(outcomes[..first_queued].iter().all(|o| *o == TrySend::Sent));
    // Once full, later messages queue behind (none jumps ahead as Sent).
    assert!(outcomes[first_queued..outcomes.len() - 1].iter().all(|o| *o == TrySend::Queued), "{outcomes:?}");

    let flusher = tokio::spawn(async move {
        writer.flush().await.unwrap();
        writer
    });
    for i in 0..taken {
        match timeout(Duration::from_secs(20), peer.recv()).await.expect("no message within 20 s").unwrap() {
            Message::Binary(data) => check(i, data),
            other => panic!("message {i}: {other:?}"),
        }
    }
    let writer = flusher.await.unwrap();
    // Drained: the next one goes out at once again.
    assert_eq!(writer.try_send_prepared(&message(taken)).unwrap(), TrySend::Sent);
    match timeout(Duration::from_secs(20), peer.recv()).await.unwrap().unwrap() {
        Message::Binary(data) => check(taken, data),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn tcp_a_full_socket_queues_and_a_flush_delivers_everything_in_order() {
    let (server, client) = tcp_pair().await;
    let (server, peer) = websockets(server, client);
    queue_until_full_then_deliver(server, peer).await;
}

#[tokio::test]
async fn unix_a_full_socket_queues_and_a_flush_delivers_everything_in_order() {
    let (server, client) = UnixStream::pair().unwrap();
    let (server, peer) = websockets(server, client);
    queue_until_full_then_deliver(server, peer).await;
}

/// SIGPIPE back to its default action (terminate), which Rust programs set to "ignore" before
/// `main`: a library's write to a closed connection must not raise it, for a host program that
/// is not written in Rust. Only the tests of a receiver that is gone write to a closed socket.
fn default_sigpipe() {
    // SAFETY: `signal` with a valid signal number and `SIG_DFL`; nothing else in this test
    // binary installs a SIGPIPE handler.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(previous, libc::SIG_ERR);
}

/// A receiver that went away: the writes fail (a reset or a broken pipe, not a signal: the
/// process would end with SIGPIPE otherwise) and the failure is sticky.
async fn gone_receiver_fails_and_stays_failed<S>(server: WebSocket<S>, peer: WebSocket<S>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    default_sigpipe();
    let (_reader, writer) = server.split();
    drop(peer);
    let mut failed = None;
    // The first write after the peer closed may still be taken (TCP learns of the close from
    // the reset it provokes), so a few tries.
    for i in 0..100 {
        match writer.try_send_prepared(&message(i)) {
            Ok(TrySend::Sent | TrySend::Queued) => tokio::time::sleep(Duration::from_millis(5)).await,
            Ok(other) => panic!("message {i}: {other:?}"),
            Err(WsError::Io(e)) => {
                failed = Some(e.kind());
                break;
            }
            Err(other) => panic!("message {i}: {other}"),
        }
    }
    let failed = failed.expect("writes to a closed connection kept succeeding");
    assert!(
        matches!(failed, ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
        "a closed connection fails with a broken pipe or a reset, not {failed:?}"
    );
    for i in 0..3 {
        match writer.try_send_prepared(&message(1000 + i)) {
            Err(WsError::Io(e)) => assert_eq!(e.kind(), failed, "a failed write is sticky"),
            other => panic!("a failed write is sticky, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn tcp_a_receiver_that_is_gone_makes_the_writes_fail_for_good() {
    let (server, client) = tcp_pair().await;
    let (server, peer) = websockets(server, client);
    gone_receiver_fails_and_stays_failed(server, peer).await;
}

#[tokio::test]
async fn unix_a_receiver_that_is_gone_makes_the_writes_fail_for_good() {
    let (server, client) = UnixStream::pair().unwrap();
    let (server, peer) = websockets(server, client);
    gone_receiver_fails_and_stays_failed(server, peer).await;
}
