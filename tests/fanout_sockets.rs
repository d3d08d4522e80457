//! `WsWriter::try_send_prepared` on tokio's own sockets, which it writes with a system call
//! straight away (no readiness check, see `src/adapters/send_now.rs`): a receiver that stops
//! reading makes the socket full, the message is `Queued` (then `Full` at the limit), and a
//! flush delivers everything in order once it reads again (a receiver that is gone:
//! tests/fanout_gone_receiver.rs). Over loopback TCP and a Unix socket pair; how much the
//! kernel buffers decides when `Queued` comes, so the tests only assert the order of outcomes
//! and what arrives.
#![cfg(all(feature = "tokio", unix))]

#[path = "support/socket_pairs.rs"]
mod socket_pairs;

use std::time::Duration;

use socket_pairs::{check, message, tcp_pair, websockets};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::UnixStream;
use tokio::time::timeout;
use wsproto::Message;
use wsproto::adapters::async_ws::TrySend;
use wsproto::adapters::tokio::{WebSocket, WsWriter};

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
    // After a `Queued`, a later message may be `Sent` again (the kernel moves bytes on to the
    // receiver's buffer and makes room; then what waited went out first, in the same write):
    // what arrives, below, shows that nothing was reordered.

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
