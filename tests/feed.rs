//! `feed` + `flush` on the tokio adapter, counted at the stream: fed messages wait in the
//! output and go out together in one write (the unsplit socket, `recv_with_sender`'s `Sender`,
//! a split writer); a send or a receive writes what was fed ahead of its own frames; the output
//! that waits is bounded by `FEED_LIMIT`; a failed write makes feeding fail too.
#![cfg(feature = "tokio")]

use std::time::Duration;

use tokio::io::{DuplexStream, duplex};
use tokio::time::timeout;
use wsproto::adapters::WsError;
use wsproto::adapters::async_ws::FEED_LIMIT;
use wsproto::adapters::tokio::WebSocket;
use wsproto::{Config, Connection, KeySource, Message, MessageKind, Role};

#[path = "support/counting_stream.rs"]
mod counting_stream;
use counting_stream::{Counting, Counts, receive_texts};

/// A server over a counted duplex pipe of `capacity` bytes, and a client on the other end.
fn pair(capacity: usize) -> (WebSocket<Counting<DuplexStream>>, Counts, WebSocket<DuplexStream>) {
    let (server_io, client_io) = duplex(capacity);
    let (server_io, counts) = Counting::new(server_io);
    let server = WebSocket::from_connection(server_io, Connection::new(Role::Server, Config::new()), &[]);
    let conn = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(3));
    (server, counts, WebSocket::from_connection(client_io, conn, &[]))
}

fn text(i: usize) -> String {
    format!("tick {i} {}", "x".repeat(100))
}

/// All writes, vectored and plain.
fn writes(counts: &Counts) -> usize {
    let (vectored, plain) = counts.take();
    vectored + plain
}

#[tokio::test]
async fn fed_messages_go_out_together_on_flush() {
    let (mut ws, counts, mut peer) = pair(1 << 20);
    for i in 0..20 {
        ws.feed(MessageKind::Text, text(i).as_bytes()).await.unwrap();
    }
    assert_eq!(writes(&counts), 0, "feeding writes nothing");
    ws.flush().await.unwrap();
    assert_eq!(writes(&counts), 1, "one write for 20 messages");
    assert_eq!(receive_texts(&mut peer, 20).await, (0..20).map(text).collect::<Vec<_>>());
    // Nothing left: a second flush writes nothing.
    ws.flush().await.unwrap();
    assert_eq!(writes(&counts), 0);
}

#[tokio::test]
async fn a_send_writes_what_was_fed_ahead_of_it_in_the_same_write() {
    let (mut ws, counts, mut peer) = pair(1 << 20);
    ws.feed(MessageKind::Text, text(0).as_bytes()).await.unwrap();
    ws.feed(MessageKind::Binary, b"raw").await.unwrap();
    ws.send_text(&text(2)).await.unwrap();
    assert_eq!(writes(&counts), 1);
    assert_eq!(receive_texts(&mut peer, 1).await, [text(0)]);
    match peer.recv().await.unwrap() {
        Message::Binary(b) => assert_eq!(b, b"raw"),
        other => panic!("{other:?}"),
    }
    assert_eq!(receive_texts(&mut peer, 1).await, [text(2)]);
}

#[tokio::test]
async fn receiving_writes_what_was_fed() {
    let (mut ws, _counts, mut peer) = pair(1 << 20);
    ws.feed(MessageKind::Text, b"question").await.unwrap();
    // The peer answers only once it has the question: the server's receive must write it.
    let answer = tokio::spawn(async move {
        let got = receive_texts(&mut peer, 1).await;
        peer.send_text("answer").await.unwrap();
        (got, peer)
    });
    match timeout(Duration::from_secs(10), ws.recv()).await.expect("the fed message was not written").unwrap() {
        Message::Text(t) => assert_eq!(t, "answer"),
        other => panic!("{other:?}"),
    }
    assert_eq!(answer.await.unwrap().0, ["question"]);
}

#[tokio::test]
async fn what_waits_is_bounded_by_the_feed_limit() {
    let (mut ws, counts, mut peer) = pair(4 << 20);
    let chunk = vec![7u8; 1000];
    let n = 3 * FEED_LIMIT / 1000;
    for _ in 0..n {
        ws.feed(MessageKind::Binary, &chunk).await.unwrap();
    }
    // Every FEED_LIMIT bytes (about 65 messages of 1,004 bytes on the wire) went out.
    let done = writes(&counts);
    assert!((2..=3).contains(&done), "{done} writes for {n} messages");
    ws.flush().await.unwrap();
    let mut got = 0;
    while got < n {
        match peer.recv().await.unwrap() {
            Message::Binary(b) => assert_eq!(b.len(), 1000),
            other => panic!("{other:?}"),
        }
        got += 1;
    }
}

#[tokio::test]
async fn the_sender_and_a_split_writer_feed_too() {
    let (mut ws, counts, mut peer) = pair(1 << 20);
    peer.send_text("go").await.unwrap();
    let (message, mut tx) = ws.recv_with_sender().await.unwrap();
    assert_eq!(message, Message::Text("go"));
    counts.take();
    for i in 0..5 {
        tx.feed(MessageKind::Text, text(i).as_bytes()).await.unwrap();
    }
    tx.flush().await.unwrap();
    assert_eq!(writes(&counts), 1);
    assert_eq!(receive_texts(&mut peer, 5).await, (0..5).map(text).collect::<Vec<_>>());

    let (_reader, writer) = ws.split();
    for i in 5..15 {
        writer.feed(MessageKind::Text, text(i).as_bytes()).await.unwrap();
    }
    assert_eq!(writes(&counts), 0);
    writer.flush().await.unwrap();
    assert_eq!(writes(&counts), 1);
    assert_eq!(receive_texts(&mut peer, 10).await, (5..15).map(text).collect::<Vec<_>>());
}

#[tokio::test]
async fn feeding_invalid_text_is_refused_and_feeding_after_a_failed_write_fails() {
    let (mut ws, _counts, peer) = pair(1 << 20);
    assert!(matches!(ws.feed(MessageKind::Text, b"\xff").await, Err(WsError::Protocol(_))));
    drop(peer);
    ws.feed(MessageKind::Text, b"into a closed pipe").await.unwrap();
    assert!(matches!(ws.flush().await, Err(WsError::Io(_))));
    assert!(ws.feed(MessageKind::Text, b"again").await.is_err(), "a failed write is sticky");
    assert!(ws.flush().await.is_err());
}

#[tokio::test]
async fn feeding_a_split_writer_after_a_failed_write_fails() {
    let (ws, _counts, peer) = pair(1 << 20);
    let (_reader, writer) = ws.split();
    drop(peer);
    assert!(matches!(writer.send_text("into a closed pipe").await, Err(WsError::Io(_))));
    assert!(writer.feed(MessageKind::Text, b"again").await.is_err(), "a failed write is sticky");
    assert!(writer.flush().await.is_err());
}

/// `feed_text` takes a `str`: nothing is checked for UTF-8 again on the way out (counted by
/// `bytes_checked_on_this_thread`, debug builds only), on the socket, its `Sender` and a split
/// writer, and the texts arrive as fed.
#[cfg(debug_assertions)]
#[tokio::test]
async fn feed_text_does_not_check_the_text_again() {
    use wsproto::utf8::bytes_checked_on_this_thread as checked;
    let (mut ws, counts, mut peer) = pair(1 << 20);
    let before = checked();
    for i in 0..3 {
        ws.feed_text(&text(i)).await.unwrap();
    }
    assert_eq!(checked(), before, "feed_text checks nothing");
    ws.feed(MessageKind::Text, text(3).as_bytes()).await.unwrap();
    assert_eq!(checked(), before + text(3).len() as u64, "feed checks its bytes once");
    ws.flush().await.unwrap();
    assert_eq!(writes(&counts), 1);
    assert_eq!(receive_texts(&mut peer, 4).await, (0..4).map(text).collect::<Vec<_>>());

    peer.send_text("go").await.unwrap();
    let (message, mut tx) = ws.recv_with_sender().await.unwrap();
    assert_eq!(message, Message::Text("go"));
    let before = checked();
    tx.feed_text(&text(4)).await.unwrap();
    tx.flush().await.unwrap();
    assert_eq!(checked(), before);

    let (_reader, writer) = ws.split();
    let before = checked();
    writer.feed_text(&text(5)).await.unwrap();
    writer.flush().await.unwrap();
    assert_eq!(checked(), before);
    assert_eq!(receive_texts(&mut peer, 2).await, (4..6).map(text).collect::<Vec<_>>());
}
