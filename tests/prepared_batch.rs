//! `send_prepared_batch` on the tokio adapter counted at the stream: a batch goes out in one
//! vectored write per 32 messages (10 messages: one write; 40: two), on the unsplit socket,
//! through `recv_with_sender`'s `Sender` and through a split writer; a message the connection
//! refuses ends the batch after the messages before it, which are written; after our Close
//! nothing is written. The fan-out's `try_send_prepared_batch` takes 256 messages per write. The
//! futures-io adapter's counts are in tests/futures_io_adapter.rs.
#![cfg(feature = "tokio")]

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{DuplexStream, duplex};
use tokio::time::timeout;
use wsproto::adapters::WsError;
use wsproto::adapters::tokio::WebSocket;
use wsproto::{CloseCode, Config, Connection, Error, KeySource, Message, MessageKind, Misuse, PreparedMessage, Role};

#[path = "support/counting_stream.rs"]
mod counting_stream;
use counting_stream::{Counting, Counts, receive_texts};

/// A server over a counted duplex pipe (1 MiB: every batch here fits at once), and a client
/// on the other end.
fn pair(config: Config) -> (WebSocket<Counting<DuplexStream>>, Counts, WebSocket<DuplexStream>) {
    let (server_io, client_io) = duplex(1 << 20);
    let (server_io, counts) = Counting::new(server_io);
    let server = WebSocket::from_connection(server_io, Connection::new(Role::Server, config), &[]);
    let conn = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(1));
    (server, counts, WebSocket::from_connection(client_io, conn, &[]))
}

fn prepared_texts(range: std::ops::Range<usize>, config: &Config) -> Vec<PreparedMessage> {
    range.map(|i| PreparedMessage::new(MessageKind::Text, format!("message {i}").as_bytes(), config).unwrap()).collect()
}

fn texts(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("message {i}")).collect()
}

#[tokio::test]
async fn ten_prepared_messages_go_out_in_one_write() {
    let (mut ws, counts, mut peer) = pair(Config::new());
    let msgs = prepared_texts(0..10, &Config::new());
    ws.send_prepared_batch(&msgs).await.unwrap();
    assert_eq!(counts.take(), (1, 0));
    assert_eq!(receive_texts(&mut peer, 10).await, texts(0..10));
    // One message: one plain write (`send` on a socket), as `send_prepared`.
    ws.send_prepared_batch(&msgs[..1]).await.unwrap();
    ws.send_prepared(&msgs[1]).await.unwrap();
    assert_eq!(counts.take(), (0, 2));
    assert_eq!(receive_texts(&mut peer, 2).await, texts(0..2));
    // An empty batch writes nothing.
    ws.send_prepared_batch::<PreparedMessage>(&[]).await.unwrap();
    assert_eq!(counts.take(), (0, 0));
}

#[tokio::test]
async fn forty_prepared_messages_take_two_writes() {
    let (mut ws, counts, mut peer) = pair(Config::new());
    let msgs = prepared_texts(0..40, &Config::new());
    ws.send_prepared_batch(&msgs).await.unwrap();
    assert_eq!(counts.take(), (2, 0), "32 messages per write");
    assert_eq!(receive_texts(&mut peer, 40).await, texts(0..40));
    // 64 messages: two full writes; 65: a third, of one buffer, so a plain write.
    let many = prepared_texts(0..65, &Config::new());
    ws.send_prepared_batch(&many[..64]).await.unwrap();
    assert_eq!(counts.take(), (2, 0));
    ws.send_prepared_batch(&many).await.unwrap();
    assert_eq!(counts.take(), (2, 1));
    assert_eq!(receive_texts(&mut peer, 129).await, [texts(0..64), texts(0..65)].concat());
}

/// The same counts through `recv_with_sender`'s `Sender` (with references, as a broadcast
/// receiver holding `Arc`s or borrowing would pass them) and through a split writer.
#[tokio::test]
async fn batches_through_the_sender_and_a_split_writer() {
    let (mut ws, counts, mut peer) = pair(Config::new());
    let msgs = prepared_texts(0..40, &Config::new());
    peer.send_text("go").await.unwrap();
    let (message, mut tx) = ws.recv_with_sender().await.unwrap();
    assert_eq!(message, Message::Text("go"));
    let refs: Vec<&PreparedMessage> = msgs[..10].iter().collect();
    tx.send_prepared_batch(&refs).await.unwrap();
    assert_eq!(counts.take(), (1, 0), "Sender, 10 messages");
    let shared: Vec<Arc<PreparedMessage>> = msgs.iter().cloned().map(Arc::new).collect();
    tx.send_prepared_batch(&shared).await.unwrap();
    assert_eq!(counts.take(), (2, 0), "Sender, 40 messages");
    assert_eq!(receive_texts(&mut peer, 50).await, [texts(0..10), texts(0..40)].concat());

    let (_rx, writer) = ws.split();
    let other = writer.clone();
    writer.send_prepared_batch(&msgs[..10]).await.unwrap();
    assert_eq!(counts.take(), (1, 0), "split writer, 10 messages");
    other.send_prepared_batch(&msgs).await.unwrap();
    assert_eq!(counts.take(), (2, 0), "split writer clone, 40 messages");
    assert_eq!(receive_texts(&mut peer, 50).await, [texts(0..10), texts(0..40)].concat());
}

/// Message 5 of 10 has frames larger than the connection's `max_outgoing_frame`: the batch
/// writes messages 0 to 4 (in one write), returns the refusal, and sends nothing after it; the
/// connection goes on. The same on a split writer.
#[tokio::test]
async fn a_refused_message_ends_the_batch_after_the_messages_before_it() {
    let narrow = Config::new().max_outgoing_frame(1000);
    let mut batch = prepared_texts(0..10, &narrow);
    batch[5] = PreparedMessage::new(MessageKind::Binary, &[7u8; 2000], &Config::new()).unwrap();
    let refused = |e: &WsError| matches!(e, WsError::Protocol(Error::Misuse(Misuse::PreparedFrameTooLarge)));

    let (mut ws, counts, mut peer) = pair(narrow);
    let err = ws.send_prepared_batch(&batch).await.unwrap_err();
    assert!(refused(&err), "{err}");
    assert_eq!(counts.take(), (1, 0));
    ws.send_text("after").await.unwrap();
    let mut want = texts(0..5);
    want.push("after".to_owned());
    assert_eq!(receive_texts(&mut peer, 6).await, want);

    // A batch whose first message is refused writes nothing.
    counts.take();
    let err = ws.send_prepared_batch(&batch[5..]).await.unwrap_err();
    assert!(refused(&err), "{err}");
    assert_eq!(counts.take(), (0, 0));

    let (_rx, writer) = ws.split();
    let err = writer.send_prepared_batch(&batch).await.unwrap_err();
    assert!(refused(&err), "split: {err}");
    assert_eq!(counts.take(), (1, 0), "split");
    writer.send_text("after").await.unwrap();
    assert_eq!(receive_texts(&mut peer, 6).await, want, "split");
}

/// After our Close the connection refuses every message: a batch returns `SendAfterClose`
/// and writes nothing (the peer sees our Close frame and nothing after it), unsplit and
/// split.
#[tokio::test]
async fn after_our_close_a_batch_is_refused_and_writes_nothing() {
    let msgs = prepared_texts(0..10, &Config::new());
    let after_close = |e: &WsError| matches!(e, WsError::Protocol(Error::Misuse(Misuse::SendAfterClose)));

    // Unsplit: the whole close handshake (the peer answers), then a batch.
    let (mut ws, counts, mut peer) = pair(Config::new());
    let closing = tokio::spawn(async move {
        let got = peer.recv().await.map(|m| matches!(m, Message::Close(f) if f.code() == Some(CloseCode::NORMAL)));
        (got.unwrap(), peer)
    });
    timeout(Duration::from_secs(10), ws.close(CloseCode::NORMAL, "")).await.unwrap().unwrap();
    let (saw_close, mut peer) = closing.await.unwrap();
    assert!(saw_close);
    counts.take();
    let err = ws.send_prepared_batch(&msgs).await.unwrap_err();
    assert!(after_close(&err), "{err}");
    assert_eq!(counts.take(), (0, 0));
    drop(ws);
    assert!(matches!(peer.recv().await, Err(WsError::Closed)), "the peer saw more than the close");

    // Split: the writer sends our Close; the batch after it is refused.
    let (ws, counts, mut peer) = pair(Config::new());
    let (_rx, writer) = ws.split();
    writer.close(CloseCode::NORMAL, "").await.unwrap();
    counts.take();
    let err = writer.send_prepared_batch(&msgs).await.unwrap_err();
    assert!(after_close(&err), "split: {err}");
    assert_eq!(counts.take(), (0, 0), "split");
    drop((_rx, writer));
    let close = peer.recv().await.unwrap();
    assert!(matches!(close, Message::Close(f) if f.code() == Some(CloseCode::NORMAL)), "{close:?}");
    assert!(peer.recv().await.is_err(), "the peer saw more than the close");
}

#[tokio::test]
async fn a_fan_out_burst_takes_one_write_per_256_messages_and_one_message_one_write() {
    use wsproto::adapters::async_ws::TrySend;
    let (ws, counts, mut peer) = pair(Config::new());
    let (_reader, writer) = ws.split();
    // 600 messages: 256 + 256 + 88, each write taken whole by the 1 MiB pipe.
    let msgs = prepared_texts(0..600, &Config::new());
    assert_eq!(writer.try_send_prepared_batch(&msgs).unwrap(), TrySend::Sent);
    assert_eq!(counts.take(), (3, 0));
    assert_eq!(receive_texts(&mut peer, 600).await, texts(0..600));
    // One message, alone or as a batch of one: one plain write.
    assert_eq!(writer.try_send_prepared(&msgs[7]).unwrap(), TrySend::Sent);
    assert_eq!(writer.try_send_prepared_batch(&msgs[8..9]).unwrap(), TrySend::Sent);
    assert_eq!(counts.take(), (0, 2));
    assert_eq!(receive_texts(&mut peer, 2).await, texts(7..9));
}
