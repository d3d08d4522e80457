//! A blocking adapter over any `Read + Write` stream (feature `std`).
//!
//! All protocol decisions are the [`Connection`]'s; this file only moves bytes.

use core::time::Duration;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;
use std::vec::Vec;

use super::WsError;
use super::handshake::{
    Decision, Done, READ_CHUNK, client_step, compressed, default_accept, offer_deflate, server_step,
};
use super::inbox::Inbox;
use crate::handshake::{ClientRequest, Negotiated, ServerHandshake, UpgradeRequest};
use crate::{CloseCode, CloseFrame, Config, Connection, Message, MessageKind, State, Timestamp, TransportAction};

/// Connects to a `ws://` URL over TCP and runs the opening handshake.
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
    let request = offer_deflate(ClientRequest::new(url)?);
    if request.is_secure() {
        return Err(io::Error::new(io::ErrorKind::Unsupported, "wss:// needs a TLS stream: use `client`").into());
    }
    let stream = TcpStream::connect((request.host(), request.port()))?;
    stream.set_nodelay(true)?;
    let (ws, negotiated) = client(stream, request, Config::new())?;
    Ok((ws.with_timeout_hook(|s, t| s.set_read_timeout(t)), negotiated))
}

/// Runs the client handshake over `stream` with `request`.
///
/// # Errors
/// As for [`connect`].
pub fn client<S: Read + Write>(
    mut stream: S,
    mut request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let mut out = Vec::new();
    let mut hs = request.write(&mut out)?;
    stream.write_all(&out)?;
    stream.flush()?;
    let mut buf = [0; READ_CHUNK];
    loop {
        let n = read_some(&mut stream, &mut buf)?;
        if let Some(done) = client_step(&mut hs, &buf[..n], config) {
            return finish(stream, done, &buf[..n]);
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
pub fn accept<S: Read + Write>(stream: S, config: Config) -> Result<WebSocket<S>, WsError> {
    accept_with(stream, config, |_| Ok(default_accept())).map(|(ws, _)| ws)
}

/// Runs the server handshake over `stream`; `decide` looks at the request (path, `Origin`,
/// offered subprotocols and extensions, any header) and accepts it or answers it with another
/// response.
///
/// # Errors
/// As for [`accept`], and [`WsError::Rejected`] when `decide` rejected the request (the
/// response was sent).
pub fn accept_with<S: Read + Write>(
    mut stream: S,
    config: Config,
    mut decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let mut hs = ServerHandshake::new();
    let mut buf = [0; READ_CHUNK];
    loop {
        let n = read_some(&mut stream, &mut buf)?;
        if let Some(done) = server_step(&mut hs, &buf[..n], config, &mut decide) {
            return finish(stream, done, &buf[..n]);
        }
    }
}

fn finish<S: Read + Write>(mut stream: S, done: Done, input: &[u8]) -> Result<(WebSocket<S>, Negotiated), WsError> {
    stream.write_all(&done.write)?;
    stream.flush()?;
    let (conn, negotiated, leftover) = done.outcome?;
    Ok((WebSocket::from_connection(stream, conn, &input[leftover..]), negotiated))
}

/// Whether a read error is a read timeout (`WouldBlock` on Unix, `TimedOut` on Windows).
fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// Reads at least one byte; end of input during the handshake is an error.
fn read_some(stream: &mut impl Read, buf: &mut [u8]) -> Result<usize, WsError> {
    loop {
        match stream.read(buf) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
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
    stream: S,
    conn: Connection,
    inbox: Inbox,
    out: Vec<u8>,
    /// The connection's time zero, for its timers.
    epoch: Instant,
    /// Sets the stream's read timeout, so that reads return at the connection's deadlines.
    timeout_hook: Option<TimeoutHook<S>>,
}

/// Sets a stream's read timeout (`None`: block); see [`WebSocket::with_timeout_hook`].
pub type TimeoutHook<S> = fn(&mut S, Option<Duration>) -> io::Result<()>;

impl<S: Read + Write> WebSocket<S> {
    /// Wraps a stream whose opening handshake is done. `leftover` holds bytes that were read
    /// after the handshake (frames sent right behind it); they are processed first.
    pub fn from_connection(stream: S, conn: Connection, leftover: &[u8]) -> Self {
        Self::with_read_buffer(stream, conn, leftover, DEFAULT_READ_BUFFER)
    }

    /// As [`from_connection`](Self::from_connection), with a read buffer of `capacity` bytes.
    pub fn with_read_buffer(stream: S, conn: Connection, leftover: &[u8], capacity: usize) -> Self {
        let inbox = Inbox::new(capacity, leftover, compressed(&conn));
        Self { stream, conn, inbox, out: Vec::new(), epoch: Instant::now(), timeout_hook: None }
    }

    /// Drives the connection's timers (keepalive, close and idle deadlines from
    /// [`Config`]) with the system clock: before each read, `hook` sets the
    /// stream's read timeout to the next deadline, and a read that times out runs the timers.
    /// [`connect`] installs it for its `TcpStream`; for an accepted `TcpStream`:
    ///
    /// ```no_run
    /// # fn demo(stream: std::net::TcpStream) -> Result<(), wsproto::adapters::WsError> {
    /// use core::time::Duration;
    /// use wsproto::adapters::blocking::accept;
    /// let config = wsproto::Config::new().keepalive(Duration::from_secs(20), Duration::from_secs(10));
    /// let mut ws = accept(stream, config)?.with_timeout_hook(|s, t| s.set_read_timeout(t));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn with_timeout_hook(mut self, hook: TimeoutHook<S>) -> Self {
        self.timeout_hook = Some(hook);
        self
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_duration(self.epoch.elapsed())
    }

    /// Tells the connection the time, reading the clock only when it has timers.
    fn stamp(&mut self) {
        if self.conn.uses_timers() {
            self.conn.set_time(self.now());
        }
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
        let ready = loop {
            self.stamp();
            let next = self.inbox.next(&mut self.conn);
            match self.flush_replies() {
                // A peer that closed the transport right after its Close frame cannot take our
                // reply; the close handshake is over all the same.
                Err(WsError::Io(_)) if self.conn.state() == State::Closed => {}
                other => other?,
            }
            match next {
                Ok(Some(ready)) => break ready,
                Ok(None) => {}
                Err(e) => return Err(e.into()),
            }
            if matches!(self.conn.state(), State::Closed) && self.conn.transport_action() == TransportAction::Close {
                return Err(WsError::Closed);
            }
            if let Some(hook) = self.timeout_hook {
                let now = self.now();
                let wait = self.conn.poll_timeout().map(|d| {
                    // A zero timeout means "block" to the OS: wait at least a millisecond.
                    d.as_duration().saturating_sub(now.as_duration()).max(Duration::from_millis(1))
                });
                hook(&mut self.stream, wait)?;
            }
            let n = match self.stream.read(self.inbox.free_space()) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if self.timeout_hook.is_some() && is_timeout(&e) => {
                    let result = self.conn.handle_timeout(self.now());
                    self.flush_replies()?;
                    result?;
                    continue;
                }
                // After the close handshake a reset transport is just the end.
                Err(_) if self.conn.state() == State::Closed => return Err(WsError::Closed),
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                return match self.conn.receive_eof() {
                    Ok(()) => Err(WsError::Closed),
                    Err(e) => Err(e.into()),
                };
            }
            self.inbox.filled(n);
        };
        Ok(self.inbox.message(ready))
    }

    /// Sends a text message.
    ///
    /// # Errors
    /// [`WsError::Protocol`] for a send the connection refuses (after close, after a failure),
    /// [`WsError::Io`] from the stream.
    pub fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.command(|c, o| c.send_text(text, o))
    }

    /// Sends a binary message.
    ///
    /// # Errors
    /// As for [`send_text`](Self::send_text).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.command(|c, o| c.send_binary(data, o))
    }

    /// Sends a message of either kind (text must be UTF-8).
    ///
    /// # Errors
    /// As for [`send_text`](Self::send_text).
    pub fn send(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        self.command(|c, o| c.send(kind, data, o))
    }

    /// Sends one piece of a streamed message (see [`Connection::send_fragment`]).
    ///
    /// # Errors
    /// As for [`send_text`](Self::send_text).
    pub fn send_fragment(&mut self, kind: MessageKind, data: &[u8], fin: bool) -> Result<(), WsError> {
        self.command(|c, o| c.send_fragment(kind, data, fin, o))
    }

    /// Sends a Ping.
    ///
    /// # Errors
    /// As for [`send_text`](Self::send_text).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        self.command(|c, o| c.ping(payload, o))
    }

    /// Runs the close handshake to its end: sends our Close frame (unless one was sent),
    /// discards incoming data until the peer's Close arrives, and then, as a client, waits for
    /// the server to close the transport (a server returns at once; drop the stream to close
    /// it). Returns the peer's Close frame, if it sent one. Set a read timeout on the stream
    /// to bound the wait.
    ///
    /// # Errors
    /// [`WsError::Io`] from the stream (including a read timeout), [`WsError::Protocol`] if the
    /// peer fails the connection meanwhile.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<Option<CloseFrame>, WsError> {
        if !matches!(self.conn.state(), State::Failed) {
            self.command(|c, o| c.close(CloseFrame::new(code, reason), o))?;
        }
        let mut peer = None;
        loop {
            match self.recv() {
                Ok(Message::Close(frame)) => peer = Some(frame),
                Ok(_) => {}
                Err(WsError::Closed) => return Ok(peer),
                Err(e) => return Err(e),
            }
            if self.conn.transport_action() == TransportAction::Close {
                return Ok(peer);
            }
        }
    }

    /// The connection state machine, for the streaming API and for inspection.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream, mutably (to set timeouts, for example).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Gives back the stream.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// Runs a command at the current time and writes what it produced.
    fn command(
        &mut self,
        f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error>,
    ) -> Result<(), WsError> {
        self.stamp();
        f(&mut self.conn, &mut self.out)?;
        self.flush()
    }

    /// Writes automatic replies and anything buffered.
    fn flush_replies(&mut self) -> Result<(), WsError> {
        self.conn.poll_transmit(&mut self.out)?;
        self.flush()
    }

    fn flush(&mut self) -> Result<(), WsError> {
        if !self.out.is_empty() {
            let result = self.stream.write_all(&self.out).and_then(|()| self.stream.flush());
            self.out.clear();
            result?;
        }
        Ok(())
    }
}
