//! A tokio adapter over any `AsyncRead + AsyncWrite` stream (feature `tokio`).
//!
//! * A [`WebSocket`] owns its stream, connection and buffers: no lock and no shared state on
//!   the way of a message. [`WebSocket::recv_with_sender`] lets a single task answer a message
//!   while it still borrows it (an echo server needs no split and no copy).
//! * [`WebSocket::recv`] is cancel-safe: dropping a pending `recv` (in `select!`, on a timeout)
//!   loses no data; the next call picks up where it stopped. A dropped send has encoded its
//!   frame, and the next operation finishes writing it.
//! * Buffers are bounded: a fixed read buffer, and output that is written before the next
//!   command returns (automatic replies wait in the connection's two fixed slots).
//! * A server writes a large message's payload straight from the caller's buffer, after its
//!   header, with one vectored write (no copy), when the stream supports vectored writes and
//!   the message is not compressed. [`WebSocket::send_prepared`] writes a [`PreparedMessage`]
//!   (a broadcast, encoded once) straight from its shared frames, behind the output waiting
//!   ahead of them, with one vectored write.
//! * [`WebSocket::split`] gives a reader and a writer for two tasks; the reader writes automatic
//!   Pong and Close replies through the same writer lock, so they keep working after a split.
//! * Every stage has a deadline. [`accept`], [`accept_with`], [`client`] and [`connect`] run
//!   with [`Config::with_adapter_deadlines`]: the opening handshake must finish within 10 s,
//!   keepalive Pings go out after 20 s without traffic and the peer is dead 20 s later, the
//!   close handshake gets 10 s, and a write that makes no progress for 20 s fails the
//!   connection (all configurable in [`Config`]; [`WebSocket::from_connection`] runs exactly
//!   the timers of the connection it is given). The deadlines hold while reads and writes are
//!   in progress, and are checked on every turn of the receive loop, so neither a flood nor a
//!   peer that stops reading postpones them. Keep a `recv` pending (as any reader loop does)
//!   for keepalive Pings to go out. The runtime needs its time driver.
//!
//! All protocol decisions are the [`Connection`]'s; this file only moves bytes.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::boxed::Box;
use std::io::IoSlice;
use std::sync::{Arc, Mutex, PoisonError};
use std::vec::Vec;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf};
use ::tokio::sync::Mutex as AsyncMutex;
use ::tokio::time::Instant;

use super::WsError;
use super::error::WriteFailure;
use super::handshake::{Decision, Done, READ_CHUNK, client_step, server_step};
use super::inbox::{Inbox, Ready};
use super::pool;
use crate::handshake::{Accept, ClientRequest, Negotiated, ServerHandshake, UpgradeRequest};
use crate::{
    CloseCode, CloseFrame, Config, Connection, Message, MessageKind, PreparedMessage, State, Timer, Timestamp,
    TransportAction,
};

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
        let e = std::io::Error::new(std::io::ErrorKind::Unsupported, "wss:// needs a TLS stream: use `client`");
        return Err(e.into());
    }
    let config = config.with_adapter_deadlines();
    // The deadline covers the TCP connection too.
    // Boxed (here and in `client`, `accept_with`): the handshake's state is several KiB, and a
    // task that awaited it inline would keep that size for the connection's whole life.
    Box::pin(within_handshake_timeout(config, async {
        let stream = ::tokio::net::TcpStream::connect((request.host(), request.port())).await?;
        stream.set_nodelay(true)?;
        client_handshake(stream, request, config).await
    }))
    .await
}

/// Runs the client handshake over `stream` with `request`.
///
/// # Errors
/// As for [`connect`].
pub async fn client<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let config = config.with_adapter_deadlines();
    Box::pin(within_handshake_timeout(config, client_handshake(stream, request, config))).await
}

async fn client_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    mut request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let mut out = Vec::new();
    let mut hs = request.write(&mut out)?;
    stream.write_all(&out).await?;
    stream.flush().await?;
    // On the heap: a 4 KiB array would make every future that awaits this one 4 KiB larger.
    let mut buf = std::vec![0; READ_CHUNK];
    loop {
        let n = read_some(&mut stream, &mut buf).await?;
        if let Some(done) = client_step(&mut hs, &buf[..n], config) {
            return finish(stream, done, &buf[..n]).await;
        }
    }
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
    let config = config.with_adapter_deadlines();
    Box::pin(within_handshake_timeout(config, server_handshake(stream, config, decide))).await
}

async fn server_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    config: Config,
    mut decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let mut hs = ServerHandshake::new();
    // On the heap: a 4 KiB array would make every future that awaits this one 4 KiB larger.
    let mut buf = std::vec![0; READ_CHUNK];
    loop {
        let n = read_some(&mut stream, &mut buf).await?;
        if let Some(done) = server_step(&mut hs, &buf[..n], config, &mut decide) {
            return finish(stream, done, &buf[..n]).await;
        }
    }
}

/// Runs an opening handshake within [`Config::handshake_timeout`]; dropping it at the
/// deadline drops the stream.
async fn within_handshake_timeout<T>(
    config: Config,
    handshake: impl Future<Output = Result<T, WsError>>,
) -> Result<T, WsError> {
    match config.handshake_timeout {
        None => handshake.await,
        Some(limit) => match ::tokio::time::timeout(limit, handshake).await {
            Ok(result) => result,
            Err(_) => Err(crate::Error::Timeout(Timer::Handshake).into()),
        },
    }
}

async fn finish<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    done: Done,
    input: &[u8],
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    stream.write_all(&done.write).await?;
    stream.flush().await?;
    let (conn, negotiated, leftover) = done.outcome?;
    Ok((WebSocket::from_connection(stream, conn, &input[leftover..]), negotiated))
}

async fn read_some<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut [u8]) -> Result<usize, WsError> {
    match stream.read(buf).await? {
        0 => Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into()),
        n => Ok(n),
    }
}

/// Default size of the read buffer (frames larger than this are delivered in pieces).
pub const DEFAULT_READ_BUFFER: usize = 64 * 1024;

/// Payloads from this size up are written by a server straight from the caller's buffer, after
/// their header, with one vectored write; smaller ones are copied into the output buffer and go
/// out with one plain write.
///
/// Either way a message costs one system call, and the kernel copies the payload once. Below
/// 2 KiB the copy into the output buffer costs a few tens of nanoseconds, no more than the
/// vectored write's extra bookkeeping, and it lets small frames share one write; above, it
/// grows with the payload (about 4 % of an echo server's time at 16 KiB) while the vectored
/// write's cost does not. It also keeps a server's output buffer small: larger binary messages
/// never pass through it (without compression, on a stream with vectored writes).
const VECTORED_MIN: usize = 2048;

/// The stream, boxed so that streams that are not `Unpin` work without pinning the WebSocket.
type Stream<S> = Pin<Box<S>>;

/// The time on the clock that starts at `epoch`.
fn now(epoch: Instant) -> Timestamp {
    Timestamp::from_duration(epoch.elapsed())
}

/// Tells `conn` the time (stamping what it just did), reading the clock only when it has
/// timers (a clock read per message shows in profiles otherwise).
fn stamp(conn: &mut Connection, epoch: Instant) {
    if conn.uses_timers() {
        conn.set_time(now(epoch));
    }
}

/// Tells `conn` the time and runs its timers if a deadline has passed: called on every turn of
/// the receive loop, so that traffic that keeps the reads busy never postpones a deadline.
fn tick(conn: &mut Connection, epoch: Instant) -> Result<(), crate::Error> {
    if !conn.uses_timers() {
        return Ok(());
    }
    let now = now(epoch);
    conn.set_time(now);
    match conn.poll_timeout() {
        Some(deadline) if deadline <= now => conn.handle_timeout(now),
        _ => Ok(()),
    }
}

/// A WebSocket over an async stream.
///
/// ```no_run
/// use wsproto::adapters::tokio::WebSocket;
/// use wsproto::{Config, Connection, Message, Role};
/// # async fn demo(stream: tokio::net::TcpStream) -> Result<(), wsproto::adapters::WsError> {
/// let mut ws = WebSocket::from_connection(stream, Connection::new(Role::Server, Config::new()), &[]);
/// while let Ok(message) = ws.recv().await {
///     if let Message::Text(t) = message {
///         let reply = t.to_owned();
///         ws.send_text(&reply).await?;
///     }
/// }
/// # Ok(()) }
/// ```
///
/// To answer a message without copying it first, use
/// [`recv_with_sender`](Self::recv_with_sender).
#[derive(Debug)]
pub struct WebSocket<S> {
    core: Core<S>,
    incoming: Incoming,
}

/// Everything of an unsplit [`WebSocket`] but its receive buffers: the part a [`Sender`]
/// borrows.
#[derive(Debug)]
struct Core<S> {
    stream: Stream<S>,
    conn: Connection,
    /// Frames produced and not yet written; `out[..pos]` has been written.
    out: Vec<u8>,
    pos: usize,
    /// The connection's time zero: timers are driven by tokio's clock from here.
    epoch: Instant,
    /// A write failed or stalled: the stream takes no more frames.
    broken: Option<WriteFailure>,
    /// The timer for every deadline of this connection.
    alarm: Alarm,
}

/// Sends on a [`WebSocket`] while a message it received is still borrowed (see
/// [`WebSocket::recv_with_sender`]).
#[derive(Debug)]
pub struct Sender<'a, S> {
    core: &'a mut Core<S>,
}

/// The receiving half of a WebSocket (see [`WebSocket::split`]).
#[derive(Debug)]
pub struct WsReader<S> {
    link: ReadLink<S>,
    incoming: Incoming,
}

/// The sending half of a WebSocket (see [`WebSocket::split`]). Cloneable: every clone sends on
/// the same connection, and frames from different clones are never interleaved within a frame.
#[derive(Debug)]
pub struct WsWriter<S> {
    shared: Arc<Mutex<Shared>>,
    writer: Arc<AsyncMutex<Writer<S>>>,
}

impl<S> Clone for WsWriter<S> {
    fn clone(&self) -> Self {
        Self { shared: Arc::clone(&self.shared), writer: Arc::clone(&self.writer) }
    }
}

/// After a split: the connection and the bytes it produced that no one has started writing yet.
#[derive(Debug)]
struct Shared {
    conn: Connection,
    out: Vec<u8>,
    epoch: Instant,
}

/// After a split: the write half, with the bytes being written and how far they got (so that a
/// cancelled write resumes instead of losing or repeating bytes).
#[derive(Debug)]
struct Writer<S> {
    half: WriteHalf<Stream<S>>,
    inflight: Vec<u8>,
    pos: usize,
    /// A write failed or stalled: the stream takes no more frames.
    broken: Option<WriteFailure>,
    /// The timer for the deadlines of writes.
    alarm: Alarm,
}

/// After a split: what the reader needs besides its buffers.
#[derive(Debug)]
struct ReadLink<S> {
    half: ReadHalf<Stream<S>>,
    epoch: Instant,
    shared: Arc<Mutex<Shared>>,
    writer: Arc<AsyncMutex<Writer<S>>>,
    /// The timer for the deadlines of reads.
    alarm: Alarm,
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    // The lock is never held across an await or a user callback; a poisoned lock means a panic
    // inside the connection, whose state is still the last consistent one.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<S: AsyncRead + AsyncWrite> WebSocket<S> {
    /// Wraps a stream whose opening handshake is done; `leftover` holds bytes read after the
    /// handshake, processed first.
    pub fn from_connection(stream: S, conn: Connection, leftover: &[u8]) -> Self {
        Self::with_read_buffer(stream, conn, leftover, DEFAULT_READ_BUFFER)
    }

    /// As [`from_connection`](Self::from_connection), with a read buffer of `capacity` bytes.
    pub fn with_read_buffer(stream: S, conn: Connection, leftover: &[u8], capacity: usize) -> Self {
        let inbox = Inbox::new(capacity, leftover, conn.needs_scratch());
        let epoch = Instant::now();
        let stream = Box::pin(stream);
        let core = Core { stream, conn, out: Vec::new(), pos: 0, epoch, broken: None, alarm: Alarm::default() };
        Self { core, incoming: Incoming { inbox, ready: None } }
    }

    /// Receives the next whole message or control frame. Cancel-safe.
    ///
    /// # Errors
    /// As for [`WsReader::recv`].
    pub async fn recv(&mut self) -> Result<Message<'_>, WsError> {
        self.incoming.recv(&mut self.core).await
    }

    /// Receives the next whole message or control frame, with a [`Sender`] to answer it while
    /// it is borrowed: no copy of the message, no split. Cancel-safe, as [`recv`](Self::recv).
    ///
    /// ```no_run
    /// use wsproto::Message;
    /// # async fn demo(stream: tokio::net::TcpStream) -> Result<(), wsproto::adapters::WsError> {
    /// let mut ws = wsproto::adapters::tokio::accept(stream, wsproto::Config::new()).await?;
    /// loop {
    ///     let (message, mut sender) = ws.recv_with_sender().await?;
    ///     match message {
    ///         Message::Text(text) => sender.send_text(text).await?,
    ///         Message::Binary(data) => sender.send_binary(data).await?,
    ///         // Pings are answered and the Close reply is sent by the connection itself.
    ///         _ => {}
    ///     }
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// As for [`WsReader::recv`].
    pub async fn recv_with_sender(&mut self) -> Result<(Message<'_>, Sender<'_, S>), WsError> {
        let message = self.incoming.recv(&mut self.core).await?;
        Ok((message, Sender { core: &mut self.core }))
    }

    /// Sends a text message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.core.send_text(text).await
    }

    /// Sends a binary message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.core.send(MessageKind::Binary, data).await
    }

    /// Sends a message of either kind.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        self.core.send(kind, data).await
    }

    /// Sends one piece of a streamed message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_fragment(&mut self, kind: MessageKind, data: &[u8], fin: bool) -> Result<(), WsError> {
        self.core.send_fragment(kind, data, fin).await
    }

    /// Sends a message encoded once for many connections (a server's broadcast; see
    /// [`PreparedMessage`]). Its frames are written straight from `msg`, behind the output
    /// waiting ahead of them, with one vectored write: no copy. Cancel-safe as the other
    /// sends: if the future is dropped midway, the rest of the frames is copied to the output
    /// buffer and written by the next operation.
    ///
    /// ```no_run
    /// use wsproto::adapters::tokio::WebSocket;
    /// use wsproto::{Config, MessageKind, PreparedMessage};
    /// # async fn demo(sockets: &mut [WebSocket<tokio::net::TcpStream>]) -> Result<(), wsproto::Error> {
    /// let message = PreparedMessage::new(MessageKind::Text, b"tick", &Config::new())?;
    /// for ws in sockets.iter_mut() {
    ///     // A receiver that is gone or closing does not stop the broadcast.
    ///     let _ = ws.send_prepared(&message).await;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As for [`WsWriter::send`]; [`Connection::send_prepared`] lists what the connection
    /// refuses (a client connection refuses every prepared message).
    pub async fn send_prepared(&mut self, msg: &PreparedMessage) -> Result<(), WsError> {
        self.core.send_prepared(msg).await
    }

    /// Sends a Ping.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        self.core.command(|c, o| c.ping(payload, o)).await
    }

    /// Runs the close handshake to its end (see the blocking adapter's `close`) and returns the
    /// peer's Close frame, if it sent one. [`Config::close_timeout`] bounds the wait (10 s with
    /// the adapters' defaults), also while our Close frame cannot be written.
    ///
    /// # Errors
    /// [`WsError::Protocol`] with [`crate::Error::Timeout`] when the close deadline passes, or
    /// if the peer fails the connection meanwhile; [`WsError::Io`] from the transport.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<Option<CloseFrame>, WsError> {
        self.core.command(close_command(CloseFrame::new(code, reason))).await?;
        let mut peer = None;
        loop {
            match self.recv().await {
                Ok(Message::Close(frame)) => peer = Some(frame),
                Ok(_) => {}
                Err(WsError::Closed) => return Ok(peer),
                Err(e) => return Err(e),
            }
            if self.core.conn.transport_action() == TransportAction::Close {
                return Ok(peer);
            }
        }
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        self.core.conn.state()
    }

    /// Splits into a reader and a writer that can live in different tasks. Output not yet
    /// written, and a message found but not yet returned, carry over.
    pub fn split(self) -> (WsReader<S>, WsWriter<S>) {
        let Core { stream, conn, out, pos, epoch, broken, alarm } = self.core;
        let (read, write) = ::tokio::io::split(stream);
        let shared = Arc::new(Mutex::new(Shared { conn, out: Vec::new(), epoch }));
        let writer = Arc::new(AsyncMutex::new(Writer { half: write, inflight: out, pos, broken, alarm }));
        let link = ReadLink {
            half: read,
            epoch,
            shared: Arc::clone(&shared),
            writer: Arc::clone(&writer),
            alarm: Alarm::default(),
        };
        (WsReader { link, incoming: self.incoming }, WsWriter { shared, writer })
    }
}

impl<S: AsyncWrite> Sender<'_, S> {
    /// Sends a text message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.core.send_text(text).await
    }

    /// Sends a binary message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.core.send(MessageKind::Binary, data).await
    }

    /// Sends a message of either kind (text must be UTF-8).
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        self.core.send(kind, data).await
    }

    /// Sends a prepared message without copying it (see [`WebSocket::send_prepared`]).
    ///
    /// # Errors
    /// As for [`WebSocket::send_prepared`].
    pub async fn send_prepared(&mut self, msg: &PreparedMessage) -> Result<(), WsError> {
        self.core.send_prepared(msg).await
    }

    /// Sends a Ping.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        self.core.command(|c, o| c.ping(payload, o)).await
    }
}

impl<S: AsyncWrite> Core<S> {
    /// Encodes with `f` and writes out what the connection produced.
    async fn command(
        &mut self,
        f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error>,
    ) -> Result<(), WsError> {
        self.writable()?;
        self.take_output_buffer();
        f(&mut self.conn, &mut self.out)?;
        stamp(&mut self.conn, self.epoch);
        self.flush().await
    }

    /// Takes an output buffer from the thread's pool when the connection holds none (it gave
    /// its own back while it waited for input).
    fn take_output_buffer(&mut self) {
        if self.out.capacity() == 0 {
            self.out = pool::output_buffer();
        }
    }

    /// Fails when a write failed before.
    fn writable(&self) -> Result<(), WsError> {
        self.broken.map_or(Ok(()), |f| Err(f.error()))
    }

    async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        // Text given as `str` is not checked again by the copying path; a frame head would be.
        self.send_data(MessageKind::Text, text.as_bytes(), true, false, |c, o| c.send_text(text, o)).await
    }

    async fn send(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        // A message that permessage-deflate would compress takes the copying path (compressing
        // writes a new payload anyway).
        // While a fragmented message is open, the connection's `send` refuses whole messages,
        // as it must (a frame head would continue the open message instead).
        let vectored = self.conn.outgoing_fragmented().is_none() && !self.conn.needs_scratch();
        self.send_data(kind, data, true, vectored, |c, o| c.send(kind, data, o)).await
    }

    async fn send_fragment(&mut self, kind: MessageKind, data: &[u8], fin: bool) -> Result<(), WsError> {
        // Fragments are never compressed.
        self.send_data(kind, data, fin, true, |c, o| c.send_fragment(kind, data, fin, o)).await
    }

    /// Sends a data frame, or a message: a server writes a large payload that goes out as one
    /// unchanged frame (`vectored`: not compressed) straight from `data`; anything else is
    /// encoded by `copy` into the output buffer.
    async fn send_data(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
        vectored: bool,
        copy: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error>,
    ) -> Result<(), WsError> {
        self.begin_send().await?;
        let vectored = vectored
            && data.len() >= VECTORED_MIN
            && data.len() <= self.conn.config().max_outgoing_frame.max(1)
            && !self.conn.role().masks_outgoing()
            // Without vectored writes the header would go out alone, in its own system call.
            && self.stream.is_write_vectored();
        if !vectored {
            copy(&mut self.conn, &mut self.out)?;
            stamp(&mut self.conn, self.epoch);
            return self.flush().await;
        }
        let head = self.conn.encode_frame_head_unmasked(kind, data, fin)?;
        self.write_behind_replies(head.as_bytes(), data).await
    }

    /// Sends a prepared message: its frames go out from where they lie, after the output
    /// waiting ahead of them, in one vectored write.
    async fn send_prepared(&mut self, msg: &PreparedMessage) -> Result<(), WsError> {
        self.begin_send().await?;
        let frames = self.conn.prepare_send(msg)?;
        self.write_behind_replies(&[], frames).await
    }

    /// What every data send does first: fails when a write failed before, and writes what a
    /// send that was dropped midway left behind before taking more, so that cancelled sends
    /// never pile up output.
    async fn begin_send(&mut self) -> Result<(), WsError> {
        self.writable()?;
        if self.pos < self.out.len() {
            self.flush().await?;
        }
        self.take_output_buffer();
        Ok(())
    }

    /// After a send command that leaves its frame to the caller (`head`, then `payload`):
    /// stamps it, and writes the automatic replies waiting in the connection, then the frame,
    /// in one vectored write.
    async fn write_behind_replies(&mut self, head: &[u8], payload: &[u8]) -> Result<(), WsError> {
        stamp(&mut self.conn, self.epoch);
        self.conn.poll_transmit(&mut self.out)?;
        self.write_with(head, payload).await
    }

    /// Writes out everything produced, under the connection's deadlines. Cancel-safe.
    async fn flush(&mut self) -> Result<(), WsError> {
        self.write_with(&[], &[]).await
    }

    /// Writes out everything produced, then `head` and `payload` (a frame written from where
    /// it lies), with vectored writes, under the connection's deadlines. Cancel-safe: what a
    /// dropped write leaves of the frame is copied to the output buffer (see [`Unwritten`]).
    async fn write_with(&mut self, head: &[u8], payload: &[u8]) -> Result<(), WsError> {
        self.writable()?;
        let Self { stream, conn, out, pos, epoch, broken, alarm } = self;
        let stall = conn.config().write_timeout;
        let mut guard = Guard { deadlines: ConnDeadlines { conn, epoch: *epoch }, stall, alarm };
        let result = write_out(stream.as_mut(), Unwritten::new(out, pos, head, payload), &mut guard).await;
        record(broken, result)
    }
}

impl<S: AsyncRead + AsyncWrite> WsReader<S> {
    /// Receives the next whole message or control frame, answering Pings and Close frames
    /// through the shared writer. Cancel-safe: a message found but not yet returned is kept
    /// for the next call, and a reply whose write was interrupted is resumed.
    ///
    /// # Errors
    /// [`WsError::Closed`] once the connection is over, [`WsError::Protocol`] when the peer broke
    /// the protocol (the answering Close frame has been sent), [`WsError::Io`] from the stream.
    pub async fn recv(&mut self) -> Result<Message<'_>, WsError> {
        self.incoming.recv(&mut self.link).await
    }
}

impl<S: AsyncWrite> WsWriter<S> {
    /// Encodes with `f` and writes out what the connection produced.
    async fn command(
        &self,
        f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error>,
    ) -> Result<(), WsError> {
        {
            let mut s = lock(&self.shared);
            let Shared { conn, out, epoch } = &mut *s;
            f(conn, out)?;
            stamp(conn, *epoch);
        }
        flush_shared(&self.shared, &self.writer).await
    }

    /// Sends a message of either kind (text must be UTF-8).
    ///
    /// If the returned future is dropped before it completes, the message has been encoded
    /// and is written by the next operation on either half.
    ///
    /// # Errors
    /// [`WsError::Protocol`] for a send the connection refuses, [`WsError::Io`] from the stream.
    pub async fn send(&self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        self.command(|c, o| c.send(kind, data, o)).await
    }

    /// Sends a text message.
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn send_text(&self, text: &str) -> Result<(), WsError> {
        self.command(|c, o| c.send_text(text, o)).await
    }

    /// Sends a binary message.
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn send_binary(&self, data: &[u8]) -> Result<(), WsError> {
        self.command(|c, o| c.send_binary(data, o)).await
    }

    /// Sends one piece of a streamed message.
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn send_fragment(&self, kind: MessageKind, data: &[u8], fin: bool) -> Result<(), WsError> {
        self.command(|c, o| c.send_fragment(kind, data, fin, o)).await
    }

    /// Sends a prepared message without copying it (see [`WebSocket::send_prepared`]): once
    /// this writer has the stream, its frames are written straight from `msg`, behind the
    /// frames produced before them, with one vectored write. If the future is dropped while it
    /// waits for the stream, nothing was sent; once it writes, the rest of the frames is
    /// written by the next operation on either half.
    ///
    /// # Errors
    /// As for [`WebSocket::send_prepared`].
    pub async fn send_prepared(&self, msg: &PreparedMessage) -> Result<(), WsError> {
        write_shared(&self.shared, &self.writer, |s| {
            let Shared { conn, out, epoch } = s;
            let frames = conn.prepare_send(msg)?;
            stamp(conn, *epoch);
            conn.poll_transmit(out)?;
            Ok(frames)
        })
        .await
    }

    /// Sends a Ping.
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn ping(&self, payload: &[u8]) -> Result<(), WsError> {
        self.command(|c, o| c.ping(payload, o)).await
    }

    /// Sends our Close frame (the reader then sees the peer's reply as [`Message::Close`]).
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn close(&self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        self.command(close_command(CloseFrame::new(code, reason))).await
    }

    /// What to do with the transport now.
    pub fn transport_action(&self) -> TransportAction {
        lock(&self.shared).conn.transport_action()
    }

    /// Writes out everything the connection produced. Cancel-safe.
    ///
    /// # Errors
    /// [`WsError::Io`] from the stream.
    pub async fn flush(&self) -> Result<(), WsError> {
        flush_shared(&self.shared, &self.writer).await
    }
}

/// Our Close frame, unless the connection failed (its Close frame is already queued).
fn close_command(frame: CloseFrame) -> impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error> {
    move |c, o| if c.state() == State::Failed { Ok(()) } else { c.close(frame, o) }
}

/// What the receive loop needs from either path: the connection with its output buffer, the
/// reads and the writes. An unsplit [`WebSocket`] has them at hand; after a split they sit
/// behind the shared locks.
trait Link {
    /// The connection's time zero.
    fn epoch(&self) -> Instant;
    /// Runs `f` on the connection and the output buffer it writes frames into.
    fn with<R>(&mut self, f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> R) -> R;
    /// Whether output is waiting for a write (a send was dropped midway).
    fn has_output(&self) -> bool;
    /// Writes out all output. Cancel-safe: an interrupted write resumes where it stopped.
    async fn flush(&mut self) -> Result<(), WsError>;
    /// Reads into `buf` what the stream has.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>>;
    /// The read is waiting: give back buffers that hold nothing.
    fn idle(&mut self);
    /// The timer for the read's deadline.
    fn alarm(&mut self) -> &mut Alarm;
}

/// Reads into `buf` with `poll_read`, counting the bytes read.
fn poll_read_into<R: AsyncRead + ?Sized>(
    stream: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<std::io::Result<usize>> {
    let mut buf = ReadBuf::new(buf);
    match stream.poll_read(cx, &mut buf) {
        Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.filled().len())),
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

impl<S: AsyncRead + AsyncWrite> Link for Core<S> {
    fn epoch(&self) -> Instant {
        self.epoch
    }

    fn with<R>(&mut self, f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> R) -> R {
        self.take_output_buffer();
        f(&mut self.conn, &mut self.out)
    }

    fn has_output(&self) -> bool {
        self.pos < self.out.len()
    }

    async fn flush(&mut self) -> Result<(), WsError> {
        Core::flush(self).await
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
        poll_read_into(self.stream.as_mut(), cx, buf)
    }

    fn alarm(&mut self) -> &mut Alarm {
        &mut self.alarm
    }

    fn idle(&mut self) {
        if self.pos == self.out.len() {
            self.pos = 0;
            pool::give_output_buffer(core::mem::take(&mut self.out));
        }
    }
}

impl<S: AsyncRead + AsyncWrite> Link for ReadLink<S> {
    fn epoch(&self) -> Instant {
        self.epoch
    }

    fn with<R>(&mut self, f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> R) -> R {
        let mut s = lock(&self.shared);
        let Shared { conn, out, .. } = &mut *s;
        f(conn, out)
    }

    fn has_output(&self) -> bool {
        // Senders write their own frames, so the reader never waits on another task's slow
        // write unless it has a reply of its own.
        false
    }

    async fn flush(&mut self) -> Result<(), WsError> {
        flush_shared(&self.shared, &self.writer).await
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
        poll_read_into(Pin::new(&mut self.half), cx, buf)
    }

    fn idle(&mut self) {
        // The writers own the output buffers after a split.
    }

    fn alarm(&mut self) -> &mut Alarm {
        &mut self.alarm
    }
}

/// The receive buffers, and a message found but not yet returned.
#[derive(Debug)]
struct Incoming {
    inbox: Inbox,
    ready: Option<Ready>,
}

impl Incoming {
    /// The receive loop of both paths: feeds the connection, writes its automatic replies,
    /// runs its timers and reads, until a message is found.
    async fn recv(&mut self, link: &mut impl Link) -> Result<Message<'_>, WsError> {
        loop {
            if self.ready.is_none() {
                let epoch = link.epoch();
                let inbox = &mut self.inbox;
                let (next, timers, replies) = link.with(|conn, out| {
                    let next = inbox.next(conn);
                    // After the input: stamps what arrived, and runs a deadline that passed.
                    let timers = tick(conn, epoch);
                    (next, timers, conn.poll_transmit(out).is_ok_and(|n| n > 0))
                });
                // Keep what was found before the first await, so that a cancelled call loses
                // nothing: the next call returns it.
                let failed = match (next, timers) {
                    (Ok(ready), Ok(())) => {
                        self.ready = ready;
                        None
                    }
                    (Err(e), _) | (_, Err(e)) => Some(e),
                };
                if replies || link.has_output() {
                    match link.flush().await {
                        // A peer that closed the transport right after its Close frame cannot
                        // take our reply; the close handshake is over all the same.
                        Err(WsError::Io(_)) if link.with(|conn, _| conn.state()) == State::Closed => {}
                        other => other?,
                    }
                }
                if let Some(e) = failed {
                    return Err(e.into());
                }
            } else {
                // A cancelled call left a message and perhaps a reply half written.
                link.flush().await?;
            }
            if let Some(ready) = self.ready.take() {
                let control = match ready {
                    Ready::Message { .. } => crate::ControlPayload::EMPTY,
                    _ => link.with(|conn, _| conn.last_control_payload()),
                };
                return Ok(self.inbox.message(ready, control));
            }
            let deadline = link.with(|conn, _| {
                if conn.state() == State::Closed && conn.transport_action() == TransportAction::Close {
                    return Err(WsError::Closed);
                }
                Ok(conn.poll_timeout())
            })?;
            let deadline = deadline.map(|t| link.epoch() + t.as_duration());
            let inbox = &mut self.inbox;
            let read = core::future::poll_fn(|cx| {
                let read = link.poll_read(cx, inbox.free_space());
                if read.is_ready() {
                    return read.map(Some);
                }
                // Waiting for input: an idle connection holds no read or output buffer.
                inbox.release();
                link.idle();
                // The timers (keepalive, close and idle deadlines; only when configured) run
                // on tokio's clock. A read cut short by the deadline loses nothing.
                match deadline {
                    Some(at) => link.alarm().poll_at(cx, at).map(|()| None),
                    None => Poll::Pending,
                }
            })
            .await;
            // The deadline passed: the next turn runs the timers (`tick`) and writes what they
            // queued.
            let Some(read) = read else { continue };
            let n = match read {
                Ok(n) => n,
                // After the close handshake a reset transport is just the end.
                Err(_) if link.with(|conn, _| conn.state()) == State::Closed => 0,
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                return match link.with(|conn, _| conn.receive_eof()) {
                    Ok(()) => Err(WsError::Closed),
                    Err(e) => Err(e.into()),
                };
            }
            self.inbox.filled(n);
        }
    }
}

/// Moves produced bytes to the in-flight buffer and writes them, resuming a cancelled write
/// (after a split).
async fn flush_shared<S: AsyncWrite>(shared: &Mutex<Shared>, writer: &AsyncMutex<Writer<S>>) -> Result<(), WsError> {
    write_shared(shared, writer, |_| Ok(&[])).await
}

/// As [`flush_shared`], with a frame written from where it lies: once the writer is ours,
/// `frame` runs a send command on the shared connection (writing the replies due ahead of the
/// frame) and returns the frame, which goes out behind everything produced before it, in the
/// same vectored write.
async fn write_shared<'f, S: AsyncWrite>(
    shared: &Mutex<Shared>,
    writer: &AsyncMutex<Writer<S>>,
    frame: impl FnOnce(&mut Shared) -> Result<&'f [u8], crate::Error>,
) -> Result<(), WsError> {
    let mut w = writer.lock().await;
    let Writer { half, inflight, pos, broken, alarm } = &mut *w;
    if let Some(f) = broken {
        return Err(f.error());
    }
    let (stall, mut payload) = {
        let mut s = lock(shared);
        let payload = frame(&mut s)?;
        // What the connection produced before the frame (other senders' frames, the replies)
        // goes out ahead of it.
        if !payload.is_empty() {
            if *pos == inflight.len() {
                *pos = 0;
                inflight.clear();
                core::mem::swap(&mut s.out, inflight);
            } else {
                inflight.append(&mut s.out);
            }
        }
        (s.conn.config().write_timeout, payload)
    };
    let mut guard = Guard { deadlines: shared, stall, alarm };
    let result = async {
        loop {
            write_out(Pin::new(&mut *half), Unwritten::new(inflight, pos, &[], payload), &mut guard).await?;
            payload = &[];
            core::mem::swap(&mut lock(shared).out, inflight);
            if inflight.is_empty() {
                return Ok(());
            }
        }
    }
    .await;
    record(broken, result)
}

/// Records a write that failed or stalled: the stream takes no more frames.
fn record(broken: &mut Option<WriteFailure>, result: Result<(), WsError>) -> Result<(), WsError> {
    if let Err(e) = &result {
        *broken = broken.or(WriteFailure::of(e));
    }
    result
}

/// The connection's deadlines on tokio's clock, watched while a read or write is in progress.
trait Deadlines {
    /// The connection's next deadline.
    fn next_deadline(&mut self) -> Option<Instant>;
    /// Runs the connection's timers (a deadline passed); an error has failed the connection.
    fn expire(&mut self) -> Result<(), crate::Error>;
}

/// The deadlines of a connection at hand.
struct ConnDeadlines<'a> {
    conn: &'a mut Connection,
    epoch: Instant,
}

impl Deadlines for ConnDeadlines<'_> {
    fn next_deadline(&mut self) -> Option<Instant> {
        self.conn.poll_timeout().map(|t| self.epoch + t.as_duration())
    }

    fn expire(&mut self) -> Result<(), crate::Error> {
        self.conn.handle_timeout(now(self.epoch))
    }
}

/// After a split: the deadlines of the shared connection.
impl Deadlines for &Mutex<Shared> {
    fn next_deadline(&mut self) -> Option<Instant> {
        let s = lock(self);
        s.conn.poll_timeout().map(|t| s.epoch + t.as_duration())
    }

    fn expire(&mut self) -> Result<(), crate::Error> {
        let mut s = lock(self);
        let now = now(s.epoch);
        s.conn.handle_timeout(now)
    }
}

/// One tokio timer per connection (per half after a split), reused for every deadline: on
/// the heap, created when first needed. Futures that waited on a timer of their own would each
/// carry one (about 100 bytes), and a task is as large as its largest future for its whole
/// life, so this keeps an idle connection small.
#[derive(Debug, Default)]
struct Alarm(Option<Pin<Box<::tokio::time::Sleep>>>);

impl Alarm {
    /// Ready once `at` has passed.
    fn poll_at(&mut self, cx: &mut Context<'_>, at: Instant) -> Poll<()> {
        let sleep = self.0.get_or_insert_with(|| Box::pin(::tokio::time::sleep_until(at)));
        if sleep.deadline() != at {
            sleep.as_mut().reset(at);
        }
        sleep.as_mut().poll(cx)
    }
}

/// What a write runs under: the connection's deadlines, the write-stall limit, and the
/// connection's alarm.
struct Guard<'a, D> {
    deadlines: D,
    stall: Option<Duration>,
    alarm: &'a mut Alarm,
}

/// Writes the output buffer's unwritten bytes, then a frame's header and payload (both empty
/// for buffered output only), with vectored writes (one system call when the stream takes it
/// all), then flushes the stream.
///
/// It runs under the connection's deadlines: when one passes, the connection's timers run (a
/// Ping they queue waits in its slot; a deadline that fails the connection ends the write),
/// and under the stall limit: when no byte goes out for that long, the write fails with
/// [`Timer::Write`]. Dropped or failed, it loses nothing and writes nothing twice (see
/// [`Unwritten`]). One `poll_fn` with no timer of its own, so the future stays small (a task
/// is as large as its largest future for its whole life).
async fn write_out<W: AsyncWrite + ?Sized>(
    mut stream: Pin<&mut W>,
    mut w: Unwritten<'_>,
    guard: &mut Guard<'_, impl Deadlines>,
) -> Result<(), WsError> {
    let mut flushing = false;
    // When the write started waiting without progress.
    let mut stalled_since: Option<Instant> = None;
    // A deadline that running the timers did not move is not watched again (no busy loop).
    let mut expired: Option<Instant> = None;
    core::future::poll_fn(|cx| {
        loop {
            let progress = if flushing {
                match stream.as_mut().poll_flush(cx) {
                    Poll::Ready(result) => return Poll::Ready(result.map_err(WsError::from)),
                    Poll::Pending => false,
                }
            } else {
                let mut slices = [IoSlice::new(&[]); 3];
                let mut count = 0;
                for part in w.parts() {
                    if !part.is_empty() {
                        slices[count] = IoSlice::new(part);
                        count += 1;
                    }
                }
                if count == 0 {
                    flushing = true;
                    continue;
                }
                match stream.as_mut().poll_write_vectored(cx, &slices[..count]) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into()));
                    }
                    Poll::Ready(Ok(n)) => {
                        w.advance(n);
                        true
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                    Poll::Pending => false,
                }
            };
            if progress {
                stalled_since = None;
                continue;
            }
            let stall_at = guard.stall.map(|d| *stalled_since.get_or_insert_with(Instant::now) + d);
            let deadline = guard.deadlines.next_deadline().filter(|d| Some(*d) != expired);
            let at = match (deadline, stall_at) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => return Poll::Pending,
            };
            if guard.alarm.poll_at(cx, at).is_pending() {
                return Poll::Pending;
            }
            if stall_at.is_some_and(|s| Instant::now() >= s) {
                return Poll::Ready(Err(crate::Error::Timeout(Timer::Write).into()));
            }
            expired = deadline;
            if let Err(e) = guard.deadlines.expire() {
                return Poll::Ready(Err(e.into()));
            }
        }
    })
    .await
}

/// The output buffer's unwritten bytes followed by a frame written from the caller's payload.
/// When it is dropped before all is written (the write failed, or its future was dropped), what
/// is left of the frame is copied to the output buffer, so that the next write finishes it: no
/// byte is lost or written twice.
struct Unwritten<'a> {
    out: &'a mut Vec<u8>,
    pos: &'a mut usize,
    head: &'a [u8],
    payload: &'a [u8],
    /// Bytes of `head` then `payload` written.
    done: usize,
}

impl<'a> Unwritten<'a> {
    fn new(out: &'a mut Vec<u8>, pos: &'a mut usize, head: &'a [u8], payload: &'a [u8]) -> Self {
        Self { out, pos, head, payload, done: 0 }
    }

    /// What is left to write: of the output buffer, the header and the payload.
    fn parts(&self) -> [&[u8]; 3] {
        let head = &self.head[self.done.min(self.head.len())..];
        let payload = &self.payload[self.done.saturating_sub(self.head.len())..];
        [&self.out[*self.pos..], head, payload]
    }

    /// Records `n` more bytes written.
    fn advance(&mut self, n: usize) {
        let from_out = n.min(self.out.len() - *self.pos);
        *self.pos += from_out;
        self.done += n - from_out;
    }
}

impl Drop for Unwritten<'_> {
    fn drop(&mut self) {
        if *self.pos == self.out.len() {
            // Written: after a large message, give most of its memory back.
            let used = self.out.len();
            self.out.clear();
            crate::buf::release_excess(self.out, used, crate::buf::RETAIN_CAPACITY);
            *self.pos = 0;
        }
        let head = self.done.min(self.head.len());
        let payload = self.done.saturating_sub(self.head.len());
        self.out.extend_from_slice(&self.head[head..]);
        self.out.extend_from_slice(&self.payload[payload..]);
        self.done = self.head.len() + self.payload.len();
    }
}
