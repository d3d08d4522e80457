//! A tokio adapter over any `AsyncRead + AsyncWrite` stream (feature `tokio`).
//!
//! * [`WebSocket::recv`] is cancel-safe: dropping a pending `recv` (in `select!`, on a timeout)
//!   loses no data; the next call picks up where it stopped.
//! * Buffers are bounded: a fixed read buffer, and output that is written before the next
//!   command returns (automatic replies wait in the connection's two fixed slots).
//! * [`WebSocket::split`] gives a reader and a writer for two tasks; the reader writes automatic
//!   Pong and Close replies through the same writer lock, so they keep working after a split.
//! * Timers configured in [`Config`] (keepalive, close and idle deadlines) run on
//!   tokio's clock inside `recv`: keep a `recv` pending (as any reader loop does) and keepalive
//!   Pings go out and dead peers are detected. The runtime needs its time driver then.
//!
//! All protocol decisions are the [`Connection`]'s; this file only moves bytes.

use std::sync::{Arc, Mutex, PoisonError};
use std::vec::Vec;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use ::tokio::sync::Mutex as AsyncMutex;

use super::WsError;
use super::handshake::{
    Decision, Done, READ_CHUNK, client_step, compressed, default_accept, offer_deflate, server_step,
};
use super::inbox::{Inbox, Ready};
use crate::handshake::{ClientRequest, Negotiated, ServerHandshake, UpgradeRequest};
use crate::{CloseCode, CloseFrame, Config, Connection, Message, MessageKind, State, Timestamp, TransportAction};

/// Connects to a `ws://` URL over TCP and runs the opening handshake.
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
    let request = offer_deflate(ClientRequest::new(url)?);
    if request.is_secure() {
        let e = std::io::Error::new(std::io::ErrorKind::Unsupported, "wss:// needs a TLS stream: use `client`");
        return Err(e.into());
    }
    let stream = ::tokio::net::TcpStream::connect((request.host(), request.port())).await?;
    stream.set_nodelay(true)?;
    client(stream, request, Config::new()).await
}

/// Runs the client handshake over `stream` with `request`.
///
/// # Errors
/// As for [`connect`].
pub async fn client<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    mut request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let mut out = Vec::new();
    let mut hs = request.write(&mut out)?;
    stream.write_all(&out).await?;
    stream.flush().await?;
    let mut buf = [0; READ_CHUNK];
    loop {
        let n = read_some(&mut stream, &mut buf).await?;
        if let Some(done) = client_step(&mut hs, &buf[..n], config) {
            return finish(stream, done, &buf[..n]).await;
        }
    }
}

/// Runs the server handshake over `stream`, accepting any WebSocket upgrade without a
/// subprotocol (and with permessage-deflate when the client offers it and the crate has the
/// `deflate` feature).
///
/// # Errors
/// [`WsError::Handshake`] for an invalid request (the error response was sent),
/// [`WsError::NotWebSocket`] for a plain HTTP request (426 was sent), [`WsError::Io`].
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(stream: S, config: Config) -> Result<WebSocket<S>, WsError> {
    accept_with(stream, config, |_| Ok(default_accept())).await.map(|(ws, _)| ws)
}

/// Runs the server handshake over `stream`; `decide` accepts the request or answers it with
/// another response.
///
/// # Errors
/// As for [`accept`], and [`WsError::Rejected`] when `decide` rejected the request.
pub async fn accept_with<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    config: Config,
    mut decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let mut hs = ServerHandshake::new();
    let mut buf = [0; READ_CHUNK];
    loop {
        let n = read_some(&mut stream, &mut buf).await?;
        if let Some(done) = server_step(&mut hs, &buf[..n], config, &mut decide) {
            return finish(stream, done, &buf[..n]).await;
        }
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

/// The connection and the bytes it produced that no one has started writing yet.
#[derive(Debug)]
struct Shared {
    conn: Connection,
    out: Vec<u8>,
    /// The connection's time zero: timers are driven by tokio's clock from here.
    epoch: ::tokio::time::Instant,
}

impl Shared {
    fn now(&self) -> Timestamp {
        Timestamp::from_duration(self.epoch.elapsed())
    }
}

/// The write half, with the bytes being written and how far they got (so that a cancelled
/// write resumes instead of losing or repeating bytes).
#[derive(Debug)]
struct Writer<S> {
    half: WriteHalf<S>,
    inflight: Vec<u8>,
    pos: usize,
}

/// The receiving half of a WebSocket (see [`WebSocket::split`]).
#[derive(Debug)]
pub struct WsReader<S> {
    half: ReadHalf<S>,
    inbox: Inbox,
    ready: Option<Ready>,
    shared: Arc<Mutex<Shared>>,
    writer: Arc<AsyncMutex<Writer<S>>>,
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
#[derive(Debug)]
pub struct WebSocket<S> {
    reader: WsReader<S>,
    writer: WsWriter<S>,
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
        let inbox = Inbox::new(capacity, leftover, compressed(&conn));
        let (read, write) = ::tokio::io::split(stream);
        let epoch = ::tokio::time::Instant::now();
        let shared = Arc::new(Mutex::new(Shared { conn, out: Vec::new(), epoch }));
        let writer = Arc::new(AsyncMutex::new(Writer { half: write, inflight: Vec::new(), pos: 0 }));
        Self {
            reader: WsReader {
                half: read,
                inbox,
                ready: None,
                shared: Arc::clone(&shared),
                writer: Arc::clone(&writer),
            },
            writer: WsWriter { shared, writer },
        }
    }

    /// Receives the next whole message or control frame. Cancel-safe.
    ///
    /// # Errors
    /// As for [`WsReader::recv`].
    pub async fn recv(&mut self) -> Result<Message<'_>, WsError> {
        self.reader.recv().await
    }

    /// Sends a text message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.writer.send_text(text).await
    }

    /// Sends a binary message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.writer.send_binary(data).await
    }

    /// Sends a message of either kind.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        self.writer.send(kind, data).await
    }

    /// Sends one piece of a streamed message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_fragment(&mut self, kind: MessageKind, data: &[u8], fin: bool) -> Result<(), WsError> {
        self.writer.send_fragment(kind, data, fin).await
    }

    /// Sends a Ping.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        self.writer.ping(payload).await
    }

    /// Runs the close handshake to its end (see the blocking adapter's `close`) and returns the
    /// peer's Close frame, if it sent one; wrap it in a timeout to bound the wait for the peer.
    ///
    /// # Errors
    /// [`WsError::Io`] or [`WsError::Protocol`] if the transport or the peer fails meanwhile.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<Option<CloseFrame>, WsError> {
        self.writer.close(code, reason).await?;
        let mut peer = None;
        loop {
            match self.reader.recv().await {
                Ok(Message::Close(frame)) => peer = Some(frame),
                Ok(_) => {}
                Err(WsError::Closed) => return Ok(peer),
                Err(e) => return Err(e),
            }
            if self.writer.transport_action() == TransportAction::Close {
                return Ok(peer);
            }
        }
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        lock(&self.writer.shared).conn.state()
    }

    /// Splits into a reader and a writer that can live in different tasks.
    pub fn split(self) -> (WsReader<S>, WsWriter<S>) {
        (self.reader, self.writer)
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
        loop {
            if self.ready.is_none() {
                let (next, replies) = {
                    let mut s = lock(&self.shared);
                    let now = s.now();
                    let Shared { conn, out, .. } = &mut *s;
                    conn.set_time(now);
                    let next = self.inbox.next(conn);
                    // Only automatic replies found now are written here; a sender writes its own
                    // frames, so the reader never waits on another task's slow write.
                    let replies = conn.poll_transmit(out).is_ok_and(|n| n > 0);
                    (next, replies)
                };
                // Keep what was found before the first await, so that a cancelled call loses
                // nothing: the next call returns it.
                let failed = match next {
                    Ok(ready) => {
                        self.ready = ready;
                        None
                    }
                    Err(e) => Some(e),
                };
                if replies {
                    match flush(&self.shared, &self.writer).await {
                        // A peer that closed the transport right after its Close frame cannot
                        // take our reply; the close handshake is over all the same.
                        Err(WsError::Io(_)) if lock(&self.shared).conn.state() == State::Closed => {}
                        other => other?,
                    }
                }
                if let Some(e) = failed {
                    return Err(e.into());
                }
            } else {
                // A cancelled call left a message and perhaps a reply half written.
                flush(&self.shared, &self.writer).await?;
            }
            if let Some(ready) = self.ready.take() {
                return Ok(self.inbox.message(ready));
            }
            let deadline = {
                let s = lock(&self.shared);
                if s.conn.state() == State::Closed && s.conn.transport_action() == TransportAction::Close {
                    return Err(WsError::Closed);
                }
                s.conn.poll_timeout().map(|t| s.epoch + t.as_duration())
            };
            let read = self.half.read(self.inbox.free_space());
            let read = async {
                match read.await {
                    Ok(n) => Ok(n),
                    // After the close handshake a reset transport is just the end.
                    Err(_) if lock(&self.shared).conn.state() == State::Closed => Ok(0),
                    Err(e) => Err(e),
                }
            };
            let n = match deadline {
                None => read.await?,
                // The timers (keepalive, close and idle deadlines; only when configured) run on
                // tokio's clock. A read cut short by the deadline loses nothing.
                Some(at) => match ::tokio::time::timeout_at(at, read).await {
                    Ok(n) => n?,
                    Err(_) => {
                        let (result, replies) = {
                            let mut s = lock(&self.shared);
                            let now = s.now();
                            let Shared { conn, out, .. } = &mut *s;
                            let result = conn.handle_timeout(now);
                            (result, conn.poll_transmit(out).is_ok_and(|n| n > 0))
                        };
                        if replies {
                            flush(&self.shared, &self.writer).await?;
                        }
                        result?;
                        continue;
                    }
                },
            };
            if n == 0 {
                let eof = lock(&self.shared).conn.receive_eof();
                return match eof {
                    Ok(()) => Err(WsError::Closed),
                    Err(e) => Err(e.into()),
                };
            }
            self.inbox.filled(n);
        }
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
            let now = s.now();
            let Shared { conn, out, .. } = &mut *s;
            conn.set_time(now);
            f(conn, out)?;
        }
        flush(&self.shared, &self.writer).await
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
        let frame = CloseFrame::new(code, reason);
        self.command(|c, o| if c.state() == State::Failed { Ok(()) } else { c.close(frame, o) }).await
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
        flush(&self.shared, &self.writer).await
    }
}

/// Moves produced bytes to the in-flight buffer and writes them, resuming a cancelled write.
async fn flush<S: AsyncWrite>(shared: &Mutex<Shared>, writer: &AsyncMutex<Writer<S>>) -> Result<(), WsError> {
    let mut w = writer.lock().await;
    let w = &mut *w;
    loop {
        if w.pos == w.inflight.len() {
            w.inflight.clear();
            w.pos = 0;
            core::mem::swap(&mut lock(shared).out, &mut w.inflight);
            if w.inflight.is_empty() {
                break;
            }
        }
        let n = w.half.write(&w.inflight[w.pos..]).await?;
        if n == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into());
        }
        w.pos += n;
    }
    w.half.flush().await?;
    Ok(())
}
