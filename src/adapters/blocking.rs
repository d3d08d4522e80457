//! A blocking adapter over any stream whose reads and writes can time out (feature `std`).
//!
//! Every stage has a deadline. [`accept`], [`accept_with`], [`accept_or_http`], [`client`] and [`connect`] run
//! with [`Config::with_adapter_deadlines`]: the opening handshake must finish within 10 s,
//! keepalive Pings go out after 20 s without traffic and the peer is dead 20 s later, the close
//! handshake gets 10 s, and a write that makes no progress for 20 s fails the connection (all
//! configurable in [`Config`]). The adapter enforces them with the stream's timeouts
//! ([`Timeouts`]), for writes as for reads: a peer that never reads cannot hold a thread.
//! The adapter owns the stream's timeouts whenever a deadline is set (a handshake deadline
//! included: the handshake resets them to none when it ends). Only a connection made with no
//! deadline at all (`Config::adapter_deadlines(false)` and no timer) leaves them as the caller
//! set them, and then a timed-out read or write is reported as [`WsError::Io`].
//!
//! A write that fails or stalls fails the connection: every later operation reports the same
//! error, and nothing more is written (the frame in progress may have been cut short).
//!
//! All protocol decisions are the [`Connection`]'s; this file only moves bytes.

use core::time::Duration;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;
use std::vec::Vec;

use super::WsError;
use super::error::WriteFailure;
use super::handshake::{Decision, Done, READ_CHUNK, client_step, server_step};
use super::inbox::Inbox;
use crate::handshake::{Accept, ClientRequest, Negotiated, ServerHandshake, UpgradeRequest};
use crate::{
    CloseCode, CloseFrame, Config, Connection, Error, Message, MessageKind, State, Timer, Timestamp, TransportAction,
};

/// A blocking stream whose reads and writes can be given a timeout, so that the adapter's
/// deadlines hold while it waits on the transport. Implemented for `TcpStream` (and
/// `UnixStream` on Unix); for a TLS stream, implement it on a wrapper by setting the timeouts
/// of the socket underneath.
pub trait Timeouts: Read + Write {
    /// Sets the timeout of every later read and write (`None`: wait without limit). A call
    /// that times out fails with `WouldBlock` or `TimedOut`.
    ///
    /// # Errors
    /// The operating system's, if it refused.
    fn set_timeouts(&mut self, timeout: Option<Duration>) -> io::Result<()>;
}

impl Timeouts for TcpStream {
    fn set_timeouts(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(timeout)?;
        self.set_write_timeout(timeout)
    }
}

#[cfg(unix)]
impl Timeouts for std::os::unix::net::UnixStream {
    fn set_timeouts(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(timeout)?;
        self.set_write_timeout(timeout)
    }
}

/// The deadline of an opening handshake, enforced with the stream's timeouts.
struct HandshakeDeadline(Option<Instant>);

impl HandshakeDeadline {
    fn new(config: &Config) -> Self {
        Self(config.handshake_timeout.map(|t| Instant::now() + t))
    }

    /// Runs one read or write on `stream` so that it returns by the deadline; a call cut short
    /// by it is [`Timer::Handshake`].
    fn io<S: Timeouts, T>(&self, stream: &mut S, f: impl FnOnce(&mut S) -> io::Result<T>) -> Result<T, WsError> {
        let timeout = Error::Timeout(Timer::Handshake);
        if let Some(at) = self.0 {
            let left = at.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timeout.into());
            }
            stream.set_timeouts(Some(left))?;
        }
        match f(stream) {
            Err(e) if self.0.is_some() && is_timeout(&e) => Err(timeout.into()),
            other => Ok(other?),
        }
    }
}

/// Connects to a `ws://` URL over TCP and runs the opening handshake, offering no subprotocol
/// and no extension (for permessage-deflate, use [`connect_with`] with a request made with
/// [`ClientRequest::with_deflate`](crate::handshake::ClientRequest::with_deflate)).
///
/// ```no_run
/// let (mut ws, _negotiated) = wsproto::adapters::blocking::connect("ws://127.0.0.1:9002/")?;
/// ws.send_text("hello")?;
/// println!("{:?}", ws.recv()?);
/// # Ok::<(), wsproto::adapters::WsError>(())
/// ```
///
/// # Errors
/// [`WsError::Handshake`] for a bad URL (a `wss://` URL needs a TLS stream: use [`client`]
/// over it) or a bad response, [`WsError::Rejected`] for a non-101 response, [`WsError::Io`].
pub fn connect(url: &str) -> Result<(WebSocket<TcpStream>, Negotiated), WsError> {
    connect_with(ClientRequest::new(url)?, Config::new())
}

/// Connects over TCP to the host of `request` (subprotocols, extensions such as
/// permessage-deflate, headers) and runs the opening handshake with `config`.
///
/// # Errors
/// As for [`connect`].
pub fn connect_with(request: ClientRequest, config: Config) -> Result<(WebSocket<TcpStream>, Negotiated), WsError> {
    if request.is_secure() {
        return Err(io::Error::new(io::ErrorKind::Unsupported, "wss:// needs a TLS stream: use `client`").into());
    }
    let config = config.with_adapter_deadlines();
    let deadline = HandshakeDeadline::new(&config);
    // The handshake deadline covers the TCP connection too.
    let mut last = io::Error::from(io::ErrorKind::NotFound);
    for addr in std::net::ToSocketAddrs::to_socket_addrs(&(request.host(), request.port()))? {
        let connected = match deadline.0 {
            None => TcpStream::connect(addr),
            Some(at) => match at.saturating_duration_since(Instant::now()) {
                left if left.is_zero() => return Err(Error::Timeout(Timer::Handshake).into()),
                left => TcpStream::connect_timeout(&addr, left),
            },
        };
        match connected {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return handshake_client(stream, request, config, &deadline);
            }
            Err(e) => last = e,
        }
    }
    Err(last.into())
}

/// Runs the client handshake over `stream` with `request`.
///
/// # Errors
/// As for [`connect`].
pub fn client<S: Timeouts>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let config = config.with_adapter_deadlines();
    handshake_client(stream, request, config, &HandshakeDeadline::new(&config))
}

fn handshake_client<S: Timeouts>(
    mut stream: S,
    mut request: ClientRequest,
    config: Config,
    deadline: &HandshakeDeadline,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let mut out = Vec::new();
    let mut hs = request.write(&mut out)?;
    deadline.io(&mut stream, |s| s.write_all(&out).and_then(|()| s.flush()))?;
    let mut buf = [0; READ_CHUNK];
    loop {
        let n = deadline.io(&mut stream, |s| read_some(s, &mut buf))?;
        if let Some(done) = client_step(&mut hs, &buf[..n], config) {
            return finish(stream, done, &buf[..n], deadline);
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
pub fn accept<S: Timeouts>(stream: S, config: Config) -> Result<WebSocket<S>, WsError> {
    accept_with(stream, config, |_| Ok(Accept::new())).map(|(ws, _)| ws)
}

/// Runs the server handshake over `stream`; `decide` looks at the request (path, `Origin`,
/// offered subprotocols and extensions, any header) and accepts it or answers it with another
/// response.
///
/// # Errors
/// As for [`accept`], and [`WsError::Rejected`] when `decide` rejected the request (the
/// response was sent).
pub fn accept_with<S: Timeouts>(
    stream: S,
    config: Config,
    decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    match read_request(stream, config, decide, true)? {
        Accepted::WebSocket(ws, negotiated) => Ok((ws, negotiated)),
        Accepted::Http { request, .. } => Err(WsError::NotWebSocket(std::boxed::Box::new(request))),
    }
}

/// Runs the server handshake over `stream` as [`accept_with`] does, but hands a request that
/// asks for no upgrade back with its stream instead of answering it with 426: HTTP pages and
/// WebSocket on one port with no HTTP server (a page, a health check, a 404 written by the
/// caller). The stream comes back with its timeouts reset to none when the handshake set them.
///
/// ```no_run
/// use std::io::Write;
/// use wsproto::adapters::blocking::{Accepted, accept_or_http};
/// use wsproto::handshake::{Accept, HttpResponse};
/// use wsproto::Config;
/// # fn demo(stream: std::net::TcpStream) -> Result<(), wsproto::adapters::WsError> {
/// match accept_or_http(stream, Config::new(), |_| Ok(Accept::new()))? {
///     Accepted::WebSocket(mut ws, _negotiated) => ws.send_text("hello")?,
///     Accepted::Http { mut stream, request, .. } => {
///         let status = if request.path == "/" { 200 } else { 404 };
///         let mut head = Vec::new();
///         HttpResponse::new(status).with_body("hello\n").write(&mut head)?;
///         stream.write_all(&head)?;
///     }
///     _ => {}
/// }
/// # Ok(()) }
/// ```
///
/// # Errors
/// As for [`accept_with`], except that a plain request is not an error.
pub fn accept_or_http<S: Timeouts>(
    stream: S,
    config: Config,
    decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<Accepted<S>, WsError> {
    read_request(stream, config, decide, false)
}

/// Reads a request head and answers it: accepts or refuses an upgrade, and answers a plain
/// request with 426 (`answer_plain`) or hands it back.
fn read_request<S: Timeouts>(
    mut stream: S,
    config: Config,
    mut decide: impl FnMut(&UpgradeRequest) -> Decision,
    answer_plain: bool,
) -> Result<Accepted<S>, WsError> {
    let config = config.with_adapter_deadlines();
    let deadline = HandshakeDeadline::new(&config);
    let mut hs = ServerHandshake::new();
    let mut buf = [0; READ_CHUNK];
    loop {
        let n = deadline.io(&mut stream, |s| read_some(s, &mut buf))?;
        let Some(done) = server_step(&mut hs, &buf[..n], config, &mut decide, answer_plain) else { continue };
        return match done.outcome {
            Err(WsError::NotWebSocket(request)) if !answer_plain => {
                if deadline.0.is_some() {
                    stream.set_timeouts(None)?;
                }
                let read_ahead = buf[request.leftover.min(n)..n].to_vec();
                Ok(Accepted::Http { stream, request: *request, read_ahead })
            }
            _ => finish(stream, done, &buf[..n], &deadline).map(|(ws, negotiated)| Accepted::WebSocket(ws, negotiated)),
        };
    }
}

/// What [`accept_or_http`] found on a connection: a WebSocket it accepted, or a plain HTTP
/// request for the caller to answer on the same stream.
#[derive(Debug)]
#[non_exhaustive]
// Returned once per connection and matched at once: boxing the WebSocket would cost an
// allocation per connection for no gain.
#[allow(clippy::large_enum_variant)]
pub enum Accepted<S> {
    /// The upgrade was accepted (the 101 response is written).
    WebSocket(WebSocket<S>, Negotiated),
    /// A request that asks for no upgrade; nothing has been written.
    Http {
        /// The connection, to write the response to.
        stream: S,
        /// The request head.
        request: crate::handshake::HttpRequest,
        /// Bytes read after the head: the start of a body, or of the next request.
        read_ahead: Vec<u8>,
    },
}

fn finish<S: Timeouts>(
    mut stream: S,
    done: Done,
    input: &[u8],
    deadline: &HandshakeDeadline,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    deadline.io(&mut stream, |s| s.write_all(&done.write).and_then(|()| s.flush()))?;
    if deadline.0.is_some() {
        // The handshake's timeout is over; the WebSocket sets its own when it has deadlines.
        stream.set_timeouts(None)?;
    }
    let (conn, negotiated, leftover) = done.outcome?;
    Ok((WebSocket::from_connection(stream, conn, &input[leftover..]), negotiated))
}

/// Whether a read error is a read timeout (`WouldBlock` on Unix, `TimedOut` on Windows).
fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// Reads at least one byte; end of input during the handshake is an error.
fn read_some(stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match stream.read(buf) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Default size of the read buffer: frames larger than this are delivered in pieces and
/// reassembled, so it bounds memory, not message size.
pub const DEFAULT_READ_BUFFER: usize = 64 * 1024;

/// A WebSocket over a blocking stream.
///
/// ```no_run
/// use wsproto::adapters::blocking::WebSocket;
/// use wsproto::{Config, Connection, Message, Role};
/// # fn demo(stream: std::net::TcpStream) -> Result<(), wsproto::adapters::WsError> {
/// // After the opening handshake, with any bytes that followed it:
/// let mut ws = WebSocket::from_connection(stream, Connection::new(Role::Server, Config::new()), &[]);
/// loop {
///     let reply = match ws.recv()? {
///         Message::Text(t) => t.to_owned(),
///         _ => continue,
///     };
///     ws.send_text(&reply)?;
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct WebSocket<S> {
    link: Link<S>,
    /// Received bytes and the messages lent from them.
    inbox: Inbox,
}

/// Everything of a [`WebSocket`] but its received bytes: a message lent from the inbox leaves
/// the connection and the stream free to write the reply to a failure (the Close frame of a
/// 1007) in the same call.
#[derive(Debug)]
struct Link<S> {
    stream: S,
    conn: Connection,
    /// Frames produced and not yet written; `out[..pos]` has been written.
    out: Vec<u8>,
    pos: usize,
    /// The connection's time zero, for its timers.
    epoch: Instant,
    /// The stream's timeout as last set (`None`: not set by us yet).
    timeout: Option<Option<Duration>>,
    /// A write failed or stalled: the stream takes no more frames.
    broken: Option<WriteFailure>,
}

impl<S: Timeouts> WebSocket<S> {
    /// Wraps a stream whose opening handshake is done. `leftover` holds bytes that were read
    /// after the handshake (frames sent right behind it); they are processed first. The
    /// connection's own timers and [`Config::write_timeout`] are enforced; no adapter default
    /// is added (see [`Config::with_adapter_deadlines`]).
    pub fn from_connection(stream: S, conn: Connection, leftover: &[u8]) -> Self {
        Self::with_read_buffer(stream, conn, leftover, DEFAULT_READ_BUFFER)
    }

    /// As [`from_connection`](Self::from_connection), with a read buffer of `capacity` bytes.
    pub fn with_read_buffer(stream: S, conn: Connection, leftover: &[u8], capacity: usize) -> Self {
        let inbox = Inbox::new(capacity, leftover);
        let epoch = Instant::now();
        let link = Link { stream, conn, out: Vec::new(), pos: 0, epoch, timeout: None, broken: None };
        Self { link, inbox }
    }

    /// Receives the next whole message or control frame. Pings are answered and a Close is
    /// replied to automatically (with the default [`Config`]); they are still
    /// reported.
    ///
    /// # Errors
    /// [`WsError::Closed`] once the connection is over (the close handshake is complete or the
    /// peer closed the transport after its Close frame), [`WsError::Protocol`] when the peer broke
    /// the protocol (the answering Close frame has been sent), [`WsError::Io`] from the stream.
    pub fn recv(&mut self) -> Result<Message<'_>, WsError> {
        let found = loop {
            let next = self.inbox.next(&mut self.link.conn);
            // After the input: stamps what arrived, and runs a deadline that passed (also while
            // traffic keeps every read busy).
            let timers = self.link.tick();
            match self.link.flush_replies() {
                // A peer that closed the transport right after its Close frame cannot take our
                // reply; the close handshake is over all the same.
                Err(WsError::Io(_)) if self.link.conn.state() == State::Closed => {}
                other => other?,
            }
            timers?;
            match next {
                Ok(Some(found)) => break found,
                Ok(None) => {}
                Err(e) => return Err(e.into()),
            }
            if matches!(self.link.conn.state(), State::Closed)
                && self.link.conn.transport_action() == TransportAction::Close
            {
                return Err(WsError::Closed);
            }
            self.link.arm(None)?;
            let n = match self.link.stream.read(self.inbox.free_space()) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The next turn runs the timers.
                Err(e) if self.link.timed_out(&e) => continue,
                // After the close handshake a reset transport is just the end.
                Err(_) if self.link.conn.state() == State::Closed => return Err(WsError::Closed),
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                return match self.link.conn.receive_eof() {
                    Ok(()) => Err(WsError::Closed),
                    Err(e) => Err(e.into()),
                };
            }
            self.inbox.filled(n);
        };
        // Text is checked once, as it is lent. A failure (1007) has queued the connection's
        // Close frame, which goes out before the error is returned (the message borrows only
        // the inbox).
        let Self { link, inbox } = self;
        match inbox.message(found, &mut link.conn) {
            Ok(message) => Ok(message),
            Err(e) => {
                let _ = link.flush_replies();
                Err(e.into())
            }
        }
    }

    /// Sends a text message.
    ///
    /// # Errors
    /// [`WsError::Protocol`] for a send the connection refuses (after close, after a failure),
    /// [`WsError::Io`] from the stream.
    pub fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.link.command(|c, o| c.send_text(text, o))
    }

    /// Sends a binary message.
    ///
    /// # Errors
    /// As for [`send_text`](Self::send_text).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.link.command(|c, o| c.send_binary(data, o))
    }

    /// Sends a message of either kind (text must be UTF-8).
    ///
    /// # Errors
    /// As for [`send_text`](Self::send_text).
    pub fn send(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        self.link.command(|c, o| c.send(kind, data, o))
    }

    /// Sends one piece of a streamed message (see [`Connection::send_fragment`]).
    ///
    /// # Errors
    /// As for [`send_text`](Self::send_text).
    pub fn send_fragment(&mut self, kind: MessageKind, data: &[u8], fin: bool) -> Result<(), WsError> {
        self.link.command(|c, o| c.send_fragment(kind, data, fin, o))
    }

    /// Sends a message encoded once for many connections (a server's broadcast; see
    /// [`PreparedMessage`](crate::PreparedMessage)): its frames are copied into the output
    /// buffer behind the automatic replies and go out with one write.
    ///
    /// # Errors
    /// As for [`send_text`](Self::send_text); [`Connection::send_prepared`] lists what the
    /// connection refuses (a client connection refuses every prepared message).
    pub fn send_prepared(&mut self, msg: &crate::PreparedMessage) -> Result<(), WsError> {
        self.link.command(|c, o| c.send_prepared(msg, o))
    }

    /// Sends a Ping.
    ///
    /// # Errors
    /// As for [`send_text`](Self::send_text).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        self.link.command(|c, o| c.ping(payload, o))
    }

    /// Runs the close handshake to its end: sends our Close frame (unless one was sent),
    /// discards incoming data until the peer's Close arrives, and then, as a client, waits for
    /// the server to close the transport (a server returns at once; drop the stream to close
    /// it). Returns the peer's Close frame, if it sent one. [`Config::close_timeout`] bounds
    /// the wait (10 s with the adapters' defaults), also while our Close frame cannot be
    /// written.
    ///
    /// # Errors
    /// [`WsError::Protocol`] with [`Error::Timeout`] when the close deadline passes, or if the
    /// peer fails the connection meanwhile; [`WsError::Io`] from the stream.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<Option<CloseFrame>, WsError> {
        if !matches!(self.link.conn.state(), State::Failed) {
            self.link.command(|c, o| c.close(CloseFrame::new(code, reason), o))?;
        }
        let mut peer = None;
        loop {
            match self.recv() {
                Ok(Message::Close(frame)) => peer = Some(frame),
                Ok(_) => {}
                Err(WsError::Closed) => return Ok(peer),
                Err(e) => return Err(e),
            }
            if self.link.conn.transport_action() == TransportAction::Close {
                return Ok(peer);
            }
        }
    }

    /// The connection state machine, for the streaming API and for inspection.
    pub fn connection(&self) -> &Connection {
        &self.link.conn
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.link.stream
    }

    /// The stream, mutably (to set timeouts, for example).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.link.stream
    }

    /// Gives back the stream.
    pub fn into_inner(self) -> S {
        self.link.stream
    }
}

impl<S: Timeouts> Link<S> {
    fn now(&self) -> Timestamp {
        Timestamp::from_duration(self.epoch.elapsed())
    }

    /// Tells the connection the time (stamping what it just did), reading the clock only when
    /// a deadline depends on it ([`Connection::wants_time`]).
    fn stamp(&mut self) {
        if self.conn.wants_time() {
            self.conn.set_time(self.now());
        }
    }

    /// Tells the connection the time and runs its timers if a deadline passed.
    fn tick(&mut self) -> Result<(), Error> {
        if !self.conn.uses_timers() {
            return Ok(());
        }
        let now = self.now();
        self.conn.set_time(now);
        match self.conn.poll_timeout() {
            Some(deadline) if deadline <= now => self.conn.handle_timeout(now),
            _ => Ok(()),
        }
    }

    /// Sets the stream's timeout so that the next read or write returns by the connection's
    /// next deadline, or by `stall_at` (a write). Leaves the stream alone while there is no
    /// deadline and never was one. Keeps a timeout already set while it ends between half the
    /// time left and the deadline, so that most calls cost no extra system call.
    fn arm(&mut self, stall_at: Option<Instant>) -> io::Result<()> {
        let deadline = self.conn.poll_timeout().map(|t| self.epoch + t.as_duration());
        let at = match (deadline, stall_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let wanted = at.map(|at| {
            // A zero timeout means "block" to the OS: wait at least a millisecond.
            at.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))
        });
        let keep = match (self.timeout, wanted) {
            (None, None) => true,
            (Some(set), None) => set.is_none(),
            (Some(Some(set)), Some(left)) => set <= left && set >= left / 2,
            _ => false,
        };
        if !keep {
            self.stream.set_timeouts(wanted)?;
            self.timeout = Some(wanted);
        }
        Ok(())
    }

    /// Whether an error from the stream is a timeout the adapter set.
    fn timed_out(&self, e: &io::Error) -> bool {
        self.timeout.is_some_and(|t| t.is_some()) && is_timeout(e)
    }

    /// Runs a command and writes what it produced.
    fn command(
        &mut self,
        f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error>,
    ) -> Result<(), WsError> {
        if let Some(f) = self.broken {
            return Err(f.error());
        }
        f(&mut self.conn, &mut self.out)?;
        self.stamp();
        self.flush()
    }

    /// Writes automatic replies and anything buffered.
    fn flush_replies(&mut self) -> Result<(), WsError> {
        if self.broken.is_none() {
            self.conn.poll_transmit(&mut self.out)?;
        }
        self.flush()
    }

    /// Writes out everything produced, under the connection's deadlines and
    /// [`Config::write_timeout`]. A failure is sticky.
    fn flush(&mut self) -> Result<(), WsError> {
        if let Some(f) = self.broken {
            return Err(f.error());
        }
        let result = self.write_out();
        if let Err(e) = &result {
            self.broken = WriteFailure::of(e);
        }
        result
    }

    fn write_out(&mut self) -> Result<(), WsError> {
        if self.pos == self.out.len() {
            return Ok(());
        }
        let stall = self.conn.config().write_timeout;
        let mut progress = stall.map(|_| Instant::now());
        while self.pos < self.out.len() {
            self.arm(progress.zip(stall).map(|(p, s)| p + s))?;
            match self.stream.write(&self.out[self.pos..]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => {
                    self.pos += n;
                    if progress.is_some() {
                        progress = Some(Instant::now());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if self.timed_out(&e) => {
                    if progress.zip(stall).is_some_and(|(p, s)| p.elapsed() >= s) {
                        return Err(Error::Timeout(Timer::Write).into());
                    }
                    // A deadline of the connection: a Ping it queues waits in its slot.
                    self.tick()?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        // Written: after a large message, give most of its memory back.
        let used = self.out.len();
        self.out.clear();
        crate::buf::release_excess(&mut self.out, used, crate::buf::RETAIN_CAPACITY);
        self.pos = 0;
        self.stream.flush()?;
        Ok(())
    }
}
