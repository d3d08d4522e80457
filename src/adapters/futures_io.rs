//! The async adapter over futures-io streams (feature `futures-io`): the
//! [async WebSocket](super::async_ws) on `futures_io::{AsyncRead, AsyncWrite}` (smol,
//! async-std, async-net, `futures::io`), with async-io's timers (the reactor smol and async-std
//! run on; under another executor async-io drives its timers from a thread of its own) and
//! futures-util's mutex.
//!
//! Everything the tokio adapter guarantees holds here, by the same code: a cancel-safe
//! [`WebSocket::recv`], sends that a dropped future never half-writes, bounded buffers,
//! prepared messages written without copying, [`WebSocket::split`], and a deadline for every
//! stage ([`Config::with_adapter_deadlines`]).
//!
//! There is no `connect`: open the TCP stream with your runtime (`smol::net::TcpStream::connect`)
//! and run [`client`] over it.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # smol::block_on(async {
//! use wsproto::handshake::ClientRequest;
//! use wsproto::{Config, Message};
//! let stream = smol::net::TcpStream::connect("127.0.0.1:9002").await?;
//! let request = ClientRequest::new("ws://127.0.0.1:9002/")?;
//! let (mut ws, _) = wsproto::adapters::futures_io::client(stream, request, Config::new()).await?;
//! ws.send_text("hello").await?;
//! if let Message::Text(echo) = ws.recv().await? {
//!     println!("{echo}");
//! }
//! # Ok(()) })
//! # }
//! ```
//!
//! Vectored writes: futures-io has no way to ask a stream whether it writes several buffers
//! with one call, so this adapter always hands them over together (smol's and async-std's TCP
//! streams write them with one system call; a stream that takes only the first buffer per call
//! still gets every byte, in more calls).

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::io::{self, IoSlice};
use std::time::Instant;

use ::futures_io::{AsyncRead, AsyncWrite};

use super::async_ws::{self, AsyncStream, Runtime, sealed};
use super::{Decision, WsError};
use crate::Config;
use crate::handshake::{Accept, ClientRequest, Negotiated, UpgradeRequest};

pub use super::async_ws::DEFAULT_READ_BUFFER;

/// futures-io streams with async-io's clock and timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuturesIo;

/// A WebSocket over a futures-io stream (see [`async_ws::WebSocket`]).
pub type WebSocket<S> = async_ws::WebSocket<S, FuturesIo>;
/// Sends on a [`WebSocket`] while a message it received is borrowed (see
/// [`WebSocket::recv_with_sender`]).
pub type Sender<'a, S> = async_ws::Sender<'a, S, FuturesIo>;
/// The receiving half of a futures-io WebSocket (see [`WebSocket::split`]).
pub type WsReader<S> = async_ws::WsReader<S, FuturesIo>;
/// The sending half of a futures-io WebSocket (see [`WebSocket::split`]).
pub type WsWriter<S> = async_ws::WsWriter<S, FuturesIo>;
/// What [`accept_or_http`] found: a WebSocket, or a plain HTTP request to answer.
pub type Accepted<S> = async_ws::Accepted<S, FuturesIo>;

/// An async-io timer and the time it is set for.
#[derive(Debug)]
pub struct Timer {
    timer: async_io::Timer,
    at: Instant,
}

impl sealed::Sealed for FuturesIo {}

impl Runtime for FuturesIo {
    type Instant = Instant;
    type Timer = Timer;

    fn now() -> Instant {
        Instant::now()
    }

    fn since(earlier: Instant) -> Duration {
        earlier.elapsed()
    }

    fn timer(at: Instant) -> Timer {
        Timer { timer: async_io::Timer::at(at), at }
    }

    fn poll_timer(timer: &mut Timer, cx: &mut Context<'_>, at: Instant) -> Poll<()> {
        // A deadline already passed is ready at once, also when asked again (an async-io timer
        // fires once).
        if Instant::now() >= at {
            return Poll::Ready(());
        }
        if timer.at != at {
            timer.timer.set_at(at);
            timer.at = at;
        }
        Pin::new(&mut timer.timer).poll(cx).map(|_| ())
    }

    fn poll_now<T>(f: impl FnOnce(&mut Context<'_>) -> T) -> T {
        // futures-io streams have no scheduling budget.
        f(&mut Context::from_waker(core::task::Waker::noop()))
    }

    fn send_now<S: 'static>(_stream: &S, _bufs: &[IoSlice<'_>]) -> Option<io::Result<usize>> {
        // async-io's sockets try the system call before they look at their readiness.
        None
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + ?Sized> sealed::Stream<FuturesIo> for S {}

impl<S: AsyncRead + AsyncWrite + Unpin + ?Sized> AsyncStream<FuturesIo> for S {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        AsyncRead::poll_read(self, cx, buf)
    }

    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        AsyncWrite::poll_write(self, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        AsyncWrite::poll_write_vectored(self, cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_flush(self, cx)
    }
}

/// Runs the client handshake over `stream` (a TCP stream, a TLS stream for `wss://`, …) with
/// `request`, within [`Config::handshake_timeout`] (10 s with the adapters' defaults).
///
/// # Errors
/// [`WsError::Handshake`] for a bad response, [`WsError::Rejected`] for a non-101 response,
/// [`WsError::Protocol`] with [`Timeout`](crate::Error::Timeout) when the deadline passes,
/// [`WsError::Io`].
pub async fn client<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    async_ws::client(stream, request, config).await
}

/// Runs the server handshake over `stream`, accepting any WebSocket upgrade without a
/// subprotocol and without extensions (features are additive: turning `deflate` on changes
/// nothing until the caller asks). For permessage-deflate, subprotocols or an `Origin` check,
/// use [`accept_with`].
///
/// # Errors
/// [`WsError::Handshake`] for an invalid request (the error response was sent),
/// [`WsError::NotWebSocket`] for a plain HTTP request (426 was sent), [`WsError::Io`].
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(stream: S, config: Config) -> Result<WebSocket<S>, WsError> {
    accept_with(stream, config, |_| Ok(Accept::new())).await.map(|(ws, _)| ws)
}

/// Runs the server handshake over `stream`; `decide` accepts the request (choosing a
/// subprotocol, permessage-deflate, extra headers) or answers it with another response.
///
/// # Errors
/// As for [`accept`], and [`WsError::Rejected`] when `decide` rejected the request.
pub async fn accept_with<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    config: Config,
    decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    async_ws::accept_with(stream, config, decide).await
}

/// Runs the server handshake over `stream` like [`accept_with`], but hands a plain HTTP
/// request (one that asks for no upgrade) back with its stream instead of answering it with
/// 426: pages and WebSocket on one port (see the tokio adapter's `accept_or_http`).
///
/// # Errors
/// As for [`accept_with`] (never [`WsError::NotWebSocket`]).
pub async fn accept_or_http<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    config: Config,
    decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<Accepted<S>, WsError> {
    async_ws::accept_or_http(stream, config, decide).await
}
