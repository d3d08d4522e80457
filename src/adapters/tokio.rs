//! The async adapter over tokio streams (feature `tokio`): the [async WebSocket](super::async_ws)
//! on tokio's `AsyncRead + AsyncWrite` and tokio's timers, plus
//! [`connect`], which opens the TCP connection.
//!
//! * [`WebSocket::recv`] is cancel-safe (use it in `select!` and under timeouts); a dropped
//!   send has encoded its frame and the next operation finishes writing it.
//! * [`WebSocket::recv_with_sender`] answers a message while it is borrowed (no split, no
//!   copy); [`WebSocket::split`] gives a reader and a cloneable writer for two tasks.
//! * [`WebSocket::send_prepared`] and [`WebSocket::send_prepared_batch`] write a broadcast
//!   encoded once, without copying it, several pending messages in one write.
//! * Every stage has a deadline ([`Config::with_adapter_deadlines`]); the runtime needs its
//!   time driver.
//!
//! The details are on [`async_ws`] and its [`WebSocket`].

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::boxed::Box;
use std::io::{self, IoSlice};

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::async_ws::{self, AsyncStream, Runtime, sealed};
use super::{Decision, WsError};
use crate::Config;
use crate::handshake::{Accept, ClientRequest, Negotiated, UpgradeRequest};

pub use super::async_ws::DEFAULT_READ_BUFFER;

/// The tokio runtime: its clock (paused test clock included) and timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tokio;

/// A WebSocket over a tokio stream (see [`async_ws::WebSocket`]).
pub type WebSocket<S> = async_ws::WebSocket<S, Tokio>;
/// Sends on a [`WebSocket`] while a message it received is borrowed (see
/// [`WebSocket::recv_with_sender`]).
pub type Sender<'a, S> = async_ws::Sender<'a, S, Tokio>;
/// The receiving half of a tokio WebSocket (see [`WebSocket::split`]).
pub type WsReader<S> = async_ws::WsReader<S, Tokio>;
/// The sending half of a tokio WebSocket (see [`WebSocket::split`]).
pub type WsWriter<S> = async_ws::WsWriter<S, Tokio>;
/// What [`accept_or_http`] found: a WebSocket, or a plain HTTP request to answer.
pub type Accepted<S> = async_ws::Accepted<S, Tokio>;

impl sealed::Sealed for Tokio {}

impl Runtime for Tokio {
    type Instant = ::tokio::time::Instant;
    type Timer = Pin<Box<::tokio::time::Sleep>>;

    fn now() -> Self::Instant {
        ::tokio::time::Instant::now()
    }

    fn since(earlier: Self::Instant) -> Duration {
        earlier.elapsed()
    }

    fn timer(at: Self::Instant) -> Self::Timer {
        Box::pin(::tokio::time::sleep_until(at))
    }

    fn poll_timer(timer: &mut Self::Timer, cx: &mut Context<'_>, at: Self::Instant) -> Poll<()> {
        if timer.deadline() != at {
            timer.as_mut().reset(at);
        }
        timer.as_mut().poll(cx)
    }

    fn poll_now<T>(f: impl FnOnce(&mut Context<'_>) -> T) -> T {
        let mut f = Some(f);
        // `unconstrained` lifts tokio's budget for the length of this one poll.
        let once = core::future::poll_fn(|cx| Poll::Ready(f.take().map(|f| f(cx))));
        let mut cx = Context::from_waker(core::task::Waker::noop());
        match core::pin::pin!(::tokio::task::coop::unconstrained(once)).poll(&mut cx) {
            Poll::Ready(Some(t)) => t,
            _ => unreachable!("a poll_fn that is always ready runs `f` at its first poll"),
        }
    }

    fn send_now<S: 'static>(stream: &S, bufs: &[IoSlice<'_>]) -> Option<io::Result<usize>> {
        super::send_now::send_now(stream, bufs)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + ?Sized> sealed::Stream<Tokio> for S {}

impl<S: AsyncRead + AsyncWrite + Unpin + ?Sized> AsyncStream<Tokio> for S {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        match AsyncRead::poll_read(self, cx, &mut buf) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
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
        AsyncWrite::is_write_vectored(self)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_flush(self, cx)
    }
}

/// Connects to a `ws://` URL over TCP and runs the opening handshake, offering no subprotocol
/// and no extension (for permessage-deflate, use [`connect_with`] with a request made with
/// [`ClientRequest::with_deflate`](crate::handshake::ClientRequest::with_deflate)).
///
/// ```no_run
/// # async fn demo() -> Result<(), wsproto::adapters::WsError> {
/// let (mut ws, _negotiated) = wsproto::adapters::tokio::connect("ws://127.0.0.1:9002/").await?;
/// ws.send_text("hello").await?;
/// println!("{:?}", ws.recv().await?);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`WsError::Handshake`] for a bad URL (a `wss://` URL needs a TLS stream: use [`client`]
/// over it) or a bad response, [`WsError::Rejected`] for a non-101 response, [`WsError::Io`].
pub async fn connect(url: &str) -> Result<(WebSocket<::tokio::net::TcpStream>, Negotiated), WsError> {
    connect_with(ClientRequest::new(url)?, Config::new()).await
}

/// Connects over TCP to the host of `request` (subprotocols, extensions such as
/// permessage-deflate, headers) and runs the opening handshake with `config`.
///
/// ```no_run
/// # #[cfg(feature = "deflate")]
/// # async fn demo() -> Result<(), wsproto::adapters::WsError> {
/// use wsproto::deflate::DeflateConfig;
/// use wsproto::handshake::ClientRequest;
/// let request = ClientRequest::new("ws://127.0.0.1:9002/")?.with_deflate(DeflateConfig::new());
/// let (mut ws, negotiated) = wsproto::adapters::tokio::connect_with(request, wsproto::Config::new()).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// As for [`connect`].
pub async fn connect_with(
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<::tokio::net::TcpStream>, Negotiated), WsError> {
    if request.is_secure() {
        let e = io::Error::new(io::ErrorKind::Unsupported, "wss:// needs a TLS stream: use `client`");
        return Err(e.into());
    }
    let config = config.with_adapter_deadlines();
    // The deadline covers the TCP connection too.
    // Boxed (here and in `client`, `accept_with`): the handshake's state is several KiB, and a
    // task that awaited it inline would keep that size for the connection's whole life.
    Box::pin(async_ws::within_handshake_timeout::<Tokio, _>(config, async {
        let stream = ::tokio::net::TcpStream::connect((request.host(), request.port())).await?;
        stream.set_nodelay(true)?;
        async_ws::client_handshake(stream, request, config).await
    }))
    .await
}

/// Runs the client handshake over `stream` (a TCP stream, a TLS stream for `wss://`, …) with
/// `request`, within [`Config::handshake_timeout`].
///
/// # Errors
/// As for [`connect`].
pub async fn client<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    async_ws::client(stream, request, config).await
}

/// Runs the server handshake over `stream`, accepting any WebSocket upgrade without a
/// subprotocol and without extensions, whatever features the crate has (features are
/// additive: turning `deflate` on changes nothing until the caller asks). For
/// permessage-deflate, subprotocols or an `Origin` check, use [`accept_with`].
///
/// # Errors
/// [`WsError::Handshake`] for an invalid request (the error response was sent),
/// [`WsError::NotWebSocket`] for a plain HTTP request (426 was sent), [`WsError::Io`].
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(stream: S, config: Config) -> Result<WebSocket<S>, WsError> {
    accept_with(stream, config, |_| Ok(Accept::new())).await.map(|(ws, _)| ws)
}

/// Runs the server handshake over `stream`; `decide` accepts the request or answers it with
/// another response.
///
/// Accepting permessage-deflate when the client offers it, with the configuration that keeps
/// the least memory per connection:
///
/// ```no_run
/// # #[cfg(feature = "deflate")]
/// # async fn demo(stream: tokio::net::TcpStream) -> Result<(), wsproto::adapters::WsError> {
/// use wsproto::deflate::DeflateConfig;
/// use wsproto::handshake::Accept;
/// let (ws, negotiated) = wsproto::adapters::tokio::accept_with(stream, wsproto::Config::new(), |_| {
///     Ok(Accept::new().with_deflate(DeflateConfig::low_memory()))
/// })
/// .await?;
/// # Ok(()) }
/// ```
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
/// 426: pages and WebSocket on one port with no HTTP server in front (see `examples/chat.rs`).
/// An upgrade request is accepted or refused by `decide`, as with [`accept_with`].
///
/// ```no_run
/// use tokio::io::AsyncWriteExt;
/// use wsproto::adapters::tokio::{Accepted, accept_or_http};
/// use wsproto::handshake::{Accept, HttpResponse};
/// # async fn demo(stream: tokio::net::TcpStream) -> Result<(), wsproto::adapters::WsError> {
/// match accept_or_http(stream, wsproto::Config::new(), |_| Ok(Accept::new())).await? {
///     Accepted::WebSocket(mut ws, _) => ws.send_text("hello").await?,
///     Accepted::Http { mut stream, request, .. } => {
///         let page = if request.path == "/" { HttpResponse::new(200).with_body("<h1>hi</h1>") } else { HttpResponse::new(404) };
///         let mut out = Vec::new();
///         page.with_header("Connection", "close").write(&mut out)?;
///         stream.write_all(&out).await?;
///     }
///     _ => {}
/// }
/// # Ok(()) }
/// ```
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
