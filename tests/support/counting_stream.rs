//! A tokio stream wrapper that counts the writes made on it, and a bounded receive, shared by
//! the tests that count system calls (`prepared_batch.rs`, `feed.rs`); included with
//! `#[path = "support/counting_stream.rs"] mod counting_stream;`.

// Each test crate includes this module separately and uses only part of it.
#![allow(dead_code)]

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::time::timeout;
use wsproto::Message;
use wsproto::adapters::tokio::WebSocket;

/// A tokio stream wrapper that takes vectored writes (a duplex pipe does not: it would write
/// the first buffer only) and counts the write calls made on it: vectored ones, and plain ones
/// (the adapter writes a single buffer with a plain write, `send` on a socket).
pub(crate) struct Counting<S> {
    inner: S,
    /// `poll_write_vectored` calls.
    vectored: Arc<AtomicUsize>,
    /// `poll_write` calls (a write of one buffer).
    plain: Arc<AtomicUsize>,
}

/// The counters of a [`Counting`] stream.
#[derive(Clone)]
pub(crate) struct Counts {
    vectored: Arc<AtomicUsize>,
    plain: Arc<AtomicUsize>,
}

impl Counts {
    /// (vectored, plain) write calls since the last call; resets them.
    pub(crate) fn take(&self) -> (usize, usize) {
        (self.vectored.swap(0, Ordering::SeqCst), self.plain.swap(0, Ordering::SeqCst))
    }
}

impl<S> Counting<S> {
    pub(crate) fn new(inner: S) -> (Self, Counts) {
        let counts = Counts { vectored: Arc::default(), plain: Arc::default() };
        (Self { inner, vectored: Arc::clone(&counts.vectored), plain: Arc::clone(&counts.plain) }, counts)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counting<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counting<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.plain.fetch_add(1, Ordering::SeqCst);
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    /// All the buffers, in order, in one write to the inner stream (which may take part of
    /// them: the count it returns is of the joined bytes, so nothing is lost or repeated).
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.vectored.fetch_add(1, Ordering::SeqCst);
        let joined: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
        Pin::new(&mut self.inner).poll_write(cx, &joined)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Receives `n` text messages (a test fails instead of hanging when they do not come).
pub(crate) async fn receive_texts(ws: &mut WebSocket<DuplexStream>, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    while got.len() < n {
        match timeout(Duration::from_secs(10), ws.recv()).await.expect("no message within 10 s").unwrap() {
            Message::Text(t) => got.push(t.to_owned()),
            other => panic!("{other:?}"),
        }
    }
    got
}
