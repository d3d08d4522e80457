//! `WsWriter::try_send_prepared`, the broadcast fan-out from one task: a message the stream
//! takes at once is `Sent` with no await; one the stream cannot take (full pipe) is `Queued` and
//! a `flush` delivers it, in order behind what was queued before; while another send holds the
//! writer, the message queues behind it; a failed write is sticky. Checked on the tokio adapter
//! over duplex pipes (the pipe's capacity decides when the stream is full, not the machine).
#![cfg(feature = "tokio")]

use std::time::Duration;

use tokio::io::{DuplexStream, duplex};
use tokio::time::timeout;
use wsproto::adapters::WsError;
use wsproto::adapters::async_ws::TrySend;
use wsproto::adapters::tokio::WebSocket;
use wsproto::{Config, Connection, KeySource, Message, MessageKind, PreparedMessage, Role};

fn pair(capacity: usize) -> (WebSocket<DuplexStream>, WebSocket<DuplexStream>) {
    let (server_io, client_io) = duplex(capacity);
    let server = WebSocket::from_connection(server_io, Connection::new(Role::Server, Config::new()), &[]);
    let conn = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(7));
    (server, WebSocket::from_connection(client_io, conn, &[]))
}

fn text(i: usize, len: usize) -> PreparedMessage {
    let mut body = format!("message {i} ");
    body.extend(std::iter::repeat_n('x', len.saturating_sub(body.len())));
    PreparedMessage::new(MessageKind::Text, body.as_bytes(), &Config::new()).unwrap()
}

async fn receive(peer: &mut WebSocket<DuplexStream>, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    while got.len() < n {
        match timeout(Duration::from_secs(10), peer.recv()).await.expect("no message within 10 s").unwrap() {
            Message::Text(t) => got.push(t.split(' ').take(2).collect::<Vec<_>>().join(" ")),
            other => panic!("{other:?}"),
        }
    }
    got
}

fn names(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("message {i}")).collect()
}

#[tokio::test]
async fn a_message_the_stream_takes_is_sent_without_waiting() {
    let (server, mut peer) = pair(1 << 20);
    let (_reader, writer) = server.split();
    for i in 0..5 {
        assert_eq!(writer.try_send_prepared(&text(i, 100)).unwrap(), TrySend::Sent);
    }
    assert_eq!(receive(&mut peer, 5).await, names(0..5));
}

#[tokio::test]
async fn a_full_stream_queues_the_message_and_flush_delivers_everything_in_order() {
    // 4 KiB of pipe: the third 1,500-byte message does not fit.
    let (server, mut peer) = pair(4096);
    let (_reader, writer) = server.split();
    let mut outcomes = Vec::new();
    for i in 0..6 {
        outcomes.push(writer.try_send_prepared(&text(i, 1500)).unwrap());
    }
    assert_eq!(&outcomes[..2], &[TrySend::Sent, TrySend::Sent]);
    assert!(outcomes[2..].iter().all(|o| *o == TrySend::Queued), "{outcomes:?}");
    // The peer reads while the writer's task flushes.
    let flusher = tokio::spawn(async move {
        writer.flush().await.unwrap();
        writer
    });
    assert_eq!(receive(&mut peer, 6).await, names(0..6));
    let writer = flusher.await.unwrap();
    assert_eq!(writer.try_send_prepared(&text(6, 10)).unwrap(), TrySend::Sent);
    assert_eq!(receive(&mut peer, 1).await, names(6..7));
}

#[tokio::test]
async fn while_another_send_writes_the_message_queues_behind_it() {
    // A 64 KiB message into a 1 KiB pipe keeps `send_prepared` writing until the peer reads.
    let (server, mut peer) = pair(1024);
    let (_reader, writer) = server.split();
    let busy = writer.clone();
    let big = text(0, 64 * 1024);
    let sending = tokio::spawn(async move { busy.send_prepared(&big).await });
    // Let the spawned send take the writer and block on the full pipe.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(writer.try_send_prepared(&text(1, 10)).unwrap(), TrySend::Queued);
    let reading = tokio::spawn(async move { receive(&mut peer, 2).await });
    sending.await.unwrap().unwrap();
    writer.flush().await.unwrap();
    assert_eq!(reading.await.unwrap(), names(0..2));
}

#[tokio::test]
async fn a_failed_write_is_sticky() {
    let (server, peer) = pair(1024);
    let (_reader, writer) = server.split();
    drop(peer);
    let first = writer.try_send_prepared(&text(0, 10));
    assert!(matches!(first, Err(WsError::Io(_))), "{first:?}");
    let second = writer.try_send_prepared(&text(1, 10));
    assert!(matches!(second, Err(WsError::Io(_))), "{second:?}");
    assert!(writer.flush().await.is_err());
}

#[tokio::test]
async fn a_burst_goes_out_in_batches_and_what_does_not_fit_queues_in_order() {
    // 8 KiB of pipe: the first few of 40 messages of 1,000 bytes fit, the rest queue.
    let (server, mut peer) = pair(8192);
    let (_reader, writer) = server.split();
    let burst: Vec<PreparedMessage> = (0..40).map(|i| text(i, 1000)).collect();
    assert_eq!(writer.try_send_prepared_batch(&burst).unwrap(), TrySend::Queued);
    let flusher = tokio::spawn(async move { writer.flush().await });
    assert_eq!(receive(&mut peer, 40).await, names(0..40));
    flusher.await.unwrap().unwrap();
    // A batch that fits is sent whole.
    let (server, mut peer) = pair(1 << 20);
    let (_reader, writer) = server.split();
    assert_eq!(writer.try_send_prepared_batch(&burst).unwrap(), TrySend::Sent);
    assert_eq!(receive(&mut peer, 40).await, names(0..40));
}

#[tokio::test]
async fn a_receiver_that_does_not_read_gets_at_most_the_limit_queued() {
    use wsproto::adapters::async_ws::TRY_SEND_LIMIT;
    // The peer never reads: the pipe takes 4 KiB, then everything queues, up to the limit.
    let (server, _peer) = pair(4096);
    let (_reader, writer) = server.split();
    let message = text(0, 16 * 1024);
    let mut queued = 0;
    loop {
        match writer.try_send_prepared(&message).unwrap() {
            TrySend::Sent | TrySend::Queued => queued += 1,
            TrySend::Full => break,
            other => panic!("{other:?}"),
        }
        assert!(queued * 16 * 1024 <= TRY_SEND_LIMIT + 32 * 1024, "{queued} messages taken");
    }
    assert!(queued * 16 * 1024 >= TRY_SEND_LIMIT, "refused after only {queued} messages");
    // Refused messages are not counted as sent: still full.
    assert_eq!(writer.try_send_prepared(&message).unwrap(), TrySend::Full);
}
