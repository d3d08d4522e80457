//! A WebSocket client written the way firmware is (embassy style), run on the host against an
//! echo server on 127.0.0.1. It exits 0 after its messages came back intact and the close
//! handshake ended.
//!
//! ```text
//! cargo run --example embedded_io --features tokio
//! ```
//!
//! The device's part is [`run_client`] and everything below it: generic over the
//! `embedded-io-async` traits (`Read + Write`, which embassy-net's `TcpSocket` implements), fixed
//! `[u8; N]` buffers, no heap, nothing from `std` or `alloc`: only `core`, the parts of this
//! crate that a `no_std` build without `alloc` has, and the `no_std` crates `httparse` and
//! `base64`. Masking keys and the `Sec-WebSocket-Key` nonce come from
//! [`KeySource::from_seed`] (feature `chacha`), seeded with 32 bytes from an RNG.
//!
//! * The crate's handshake types need `alloc`; [`handshake`] does the client side by hand in
//!   the fixed buffers (the request assembled in a [`SliceBuf`], the response parsed into 16
//!   `httparse` header slots, `Sec-WebSocket-Accept` checked with [`accept_key`], which needs
//!   no heap).
//! * [`send`] writes a message as fragments of at most [`FRAGMENT`] bytes, so the output
//!   buffer stays small whatever the message size.
//! * [`expect_echo`] hands what was read to [`Connection::receive`], which lends each piece of
//!   payload straight from the read buffer: a message larger than the buffer arrives in pieces
//!   and is checked as it arrives, never held whole.
//!
//! The host's part, in `main`, stands in for the board: tokio's `TcpStream` behind
//! `embedded-io-adapters`' `FromTokio` (the `embedded-io-async` traits over a real socket), the
//! operating system's randomness for the hardware RNG, and this crate's tokio adapter as the
//! echo server, on a port the system picks.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use embedded_io_adapters::tokio_1::FromTokio;
use embedded_io_async::{Read, Write};
use wsproto::adapters::WsError;
use wsproto::handshake::{AcceptKey, accept_key};
use wsproto::{CloseCode, CloseFrame, Config, Connection, Event, KeySource, MessageKind, OutBuf, Role, SliceBuf};
use wsproto::{Message, State, TransportAction};

/// The read buffer: frames larger than this arrive in pieces.
const RX: usize = 1024;
/// The output buffer: the handshake request, or one frame of at most [`FRAGMENT`] bytes (plus
/// its 8-byte header and any automatic reply the connection writes first, at most 131 bytes).
const TX: usize = 512;
/// The largest fragment [`send`] writes.
const FRAGMENT: usize = 256;

/// The messages the device sends; each must come back as it went.
const MESSAGES: [Payload; 3] = [
    Payload::Text("hello from a device with no heap"),
    // Three times the read buffer: sent as 12 fragments, echoed as one frame read in pieces.
    Payload::Pattern(3 * RX),
    Payload::Text("temperature 21.5 C, humidity 40 %"),
];

// ---------------------------------------------------------------------------------------------
// The device: no heap, no std.
// ---------------------------------------------------------------------------------------------

/// A message, described so that a large one need not be held in memory to be sent or checked.
#[derive(Clone, Copy)]
enum Payload {
    /// A text message.
    Text(&'static str),
    /// A binary message of this many bytes, a fixed pattern.
    Pattern(usize),
}

impl Payload {
    fn kind(self) -> MessageKind {
        match self {
            Self::Text(_) => MessageKind::Text,
            Self::Pattern(_) => MessageKind::Binary,
        }
    }

    fn len(self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Pattern(len) => len,
        }
    }

    fn byte_at(self, i: usize) -> u8 {
        match self {
            Self::Text(text) => text.as_bytes()[i],
            Self::Pattern(_) => (i.wrapping_mul(31) ^ (i >> 8)) as u8,
        }
    }
}

/// What went wrong on the device: the transport's error type is the stack's own.
enum DeviceError<E> {
    /// The transport failed.
    Io(E),
    /// The server closed TCP before the exchange ended.
    Eof,
    /// The server's answer to the upgrade request broke RFC 6455 §4.1.
    Handshake(&'static str),
    /// The connection failed (the error says whose fault and which close code).
    Ws(wsproto::Error),
    /// The echo was not what was sent.
    Echo(&'static str),
}

impl<E: core::fmt::Debug> core::fmt::Display for DeviceError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "transport: {e:?}"),
            Self::Eof => f.write_str("the server closed TCP early"),
            Self::Handshake(what) => write!(f, "handshake: {what}"),
            Self::Ws(e) => write!(f, "connection: {e}"),
            Self::Echo(what) => write!(f, "echo: {what}"),
        }
    }
}

/// What the device reports when it is done.
struct Report {
    messages: usize,
    bytes: usize,
    close_code: Option<CloseCode>,
}

/// The whole session: handshake, each message out and its echo back, close handshake. All of its
/// memory is the two buffers and the connection, on the stack (or in a `static` cell on a board).
async fn run_client<T: Read + Write>(
    io: &mut T,
    mut keys: KeySource,
    host: &str,
    path: &str,
) -> Result<Report, DeviceError<T::Error>> {
    let mut rx = [0u8; RX];
    let mut tx = [0u8; TX];
    let mut filled = handshake(io, &mut keys, host, path, &mut tx, &mut rx).await?;
    // The nonce was drawn from the stream; the masking keys are the rest of it.
    let mut conn = Connection::new(Role::Client, Config::new()).with_key_source(keys);

    let mut report = Report { messages: 0, bytes: 0, close_code: None };
    for message in MESSAGES {
        send(io, &mut conn, message, &mut tx).await?;
        expect_echo(io, &mut conn, &mut rx, &mut filled, &mut tx, message).await?;
        report.messages += 1;
        report.bytes += message.len();
    }
    report.close_code = close(io, &mut conn, &mut rx, &mut filled, &mut tx).await?;
    if conn.state() != State::Closed {
        return Err(DeviceError::Echo("the close handshake did not end"));
    }
    Ok(report)
}

/// The opening handshake (RFC 6455 §4.1) in the fixed buffers: the request is assembled in `tx`,
/// the response read into `rx`. Returns how many bytes after the response head are already in
/// `rx`, moved to its front: frames the server sent in the same read as its 101.
async fn handshake<T: Read + Write>(
    io: &mut T,
    keys: &mut KeySource,
    host: &str,
    path: &str,
    tx: &mut [u8],
    rx: &mut [u8],
) -> Result<usize, DeviceError<T::Error>> {
    let mut nonce = [0u8; 16];
    keys.fill(&mut nonce);
    let mut key = [0u8; 24];
    // 16 bytes always encode to 24 characters.
    let _ = STANDARD.encode_slice(nonce, &mut key);

    let mut out = SliceBuf::new(tx);
    for piece in [
        &b"GET "[..],
        path.as_bytes(),
        b" HTTP/1.1\r\nHost: ",
        host.as_bytes(),
        b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ",
        &key,
        b"\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ] {
        out.reserve(piece.len()).map_err(|_| DeviceError::Handshake("the request does not fit the output buffer"))?;
        out.append(piece);
    }
    io.write_all(out.filled()).await.map_err(DeviceError::Io)?;
    io.flush().await.map_err(DeviceError::Io)?;

    let expected = accept_key(&key);
    let mut filled = 0;
    loop {
        if filled == rx.len() {
            return Err(DeviceError::Handshake("the response head does not fit the read buffer"));
        }
        let n = io.read(&mut rx[filled..]).await.map_err(DeviceError::Io)?;
        if n == 0 {
            return Err(DeviceError::Eof);
        }
        // Parse only once the head can have ended (each byte is scanned once).
        let scan_from = filled.saturating_sub(3);
        filled += n;
        if !rx[scan_from..filled].windows(4).any(|w| w == b"\r\n\r\n") {
            continue;
        }
        let mut slots = [httparse::EMPTY_HEADER; 16];
        let mut response = httparse::Response::new(&mut slots);
        let head = match response.parse(&rx[..filled]) {
            Ok(httparse::Status::Complete(head)) => head,
            Ok(httparse::Status::Partial) => continue,
            Err(_) => return Err(DeviceError::Handshake("malformed response head")),
        };
        check_switching_protocols(&response, expected).map_err(DeviceError::Handshake)?;
        rx.copy_within(head..filled, 0);
        return Ok(filled - head);
    }
}

/// RFC 6455 §4.1's checks of the server's answer to a request that offered no subprotocol and
/// no extension.
fn check_switching_protocols(response: &httparse::Response<'_, '_>, expected: AcceptKey) -> Result<(), &'static str> {
    let header = |name: &str| {
        let mut lines = response.headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name));
        lines.next().map(|h| h.value.trim_ascii())
    };
    let has_token = |name: &str, token: &[u8]| {
        response
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .any(|h| h.value.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token)))
    };
    if response.code != Some(101) {
        return Err("the server did not switch protocols");
    }
    if !has_token("Upgrade", b"websocket") {
        return Err("no Upgrade: websocket");
    }
    if !has_token("Connection", b"upgrade") {
        return Err("no Connection: upgrade");
    }
    if header("Sec-WebSocket-Accept") != Some(&expected.as_bytes()[..]) {
        return Err("wrong Sec-WebSocket-Accept");
    }
    if header("Sec-WebSocket-Extensions").is_some() || header("Sec-WebSocket-Protocol").is_some() {
        return Err("the server chose an extension or subprotocol that was not offered");
    }
    Ok(())
}

/// Sends `message` as fragments of at most [`FRAGMENT`] bytes, each written as soon as it is
/// encoded, so `tx` never holds more than one frame.
async fn send<T: Write>(
    io: &mut T,
    conn: &mut Connection,
    message: Payload,
    tx: &mut [u8],
) -> Result<(), DeviceError<T::Error>> {
    let mut chunk = [0u8; FRAGMENT];
    let mut at = 0;
    loop {
        let n = (message.len() - at).min(FRAGMENT);
        for (i, byte) in chunk[..n].iter_mut().enumerate() {
            *byte = message.byte_at(at + i);
        }
        at += n;
        let last = at == message.len();
        let mut out = SliceBuf::new(tx);
        conn.send_fragment(message.kind(), &chunk[..n], last, &mut out).map_err(DeviceError::Ws)?;
        io.write_all(out.filled()).await.map_err(DeviceError::Io)?;
        if last {
            return io.flush().await.map_err(DeviceError::Io);
        }
    }
}

/// Reads until `expected` has come back whole. Each piece the connection lends (from `rx`,
/// without a copy) is compared as it arrives; automatic replies (Pong) are written between
/// reads. Bytes after the echo stay in `rx` (`filled`) for the next call.
async fn expect_echo<T: Read + Write>(
    io: &mut T,
    conn: &mut Connection,
    rx: &mut [u8],
    filled: &mut usize,
    tx: &mut [u8],
    expected: Payload,
) -> Result<(), DeviceError<T::Error>> {
    let mut checked = 0;
    loop {
        let mut pos = 0;
        let mut done = false;
        while !done {
            let received = conn.receive(&mut rx[pos..*filled]).map_err(DeviceError::Ws)?;
            pos += received.consumed;
            match received.event {
                // Everything read so far is consumed (a partial frame is kept in `conn`).
                None => break,
                Some(Event::Data { kind, data, last, .. }) => {
                    if kind != expected.kind() || checked + data.len() > expected.len() {
                        return Err(DeviceError::Echo("another message came back"));
                    }
                    if data.iter().enumerate().any(|(i, &b)| b != expected.byte_at(checked + i)) {
                        return Err(DeviceError::Echo("the echo differs from what was sent"));
                    }
                    checked += data.len();
                    if last && checked != expected.len() {
                        return Err(DeviceError::Echo("the echo is shorter than what was sent"));
                    }
                    done = last;
                }
                Some(Event::Close(_)) => return Err(DeviceError::Echo("the server closed before echoing")),
                // Pings are answered by the connection (see `poll_transmit` below); Pongs need
                // nothing.
                Some(_) => {}
            }
        }
        rx.copy_within(pos..*filled, 0);
        *filled -= pos;
        write_replies(io, conn, tx).await?;
        if done {
            return Ok(());
        }
        read_more(io, conn, rx, filled).await?;
    }
}

/// Starts the close handshake and reads until it ends; returns the code of the server's Close.
/// A client then waits for the server to close TCP (RFC 6455 §7.1.1).
async fn close<T: Read + Write>(
    io: &mut T,
    conn: &mut Connection,
    rx: &mut [u8],
    filled: &mut usize,
    tx: &mut [u8],
) -> Result<Option<CloseCode>, DeviceError<T::Error>> {
    let mut out = SliceBuf::new(tx);
    conn.close(CloseFrame::new(CloseCode::NORMAL, "done"), &mut out).map_err(DeviceError::Ws)?;
    io.write_all(out.filled()).await.map_err(DeviceError::Io)?;
    io.flush().await.map_err(DeviceError::Io)?;
    let mut code = None;
    loop {
        let mut pos = 0;
        loop {
            let received = conn.receive(&mut rx[pos..*filled]).map_err(DeviceError::Ws)?;
            pos += received.consumed;
            match received.event {
                None => break,
                Some(Event::Close(frame)) => code = frame.code(),
                // Data still in flight when we closed is delivered; nothing to do with it here.
                Some(_) => {}
            }
        }
        *filled = 0;
        match conn.transport_action() {
            TransportAction::Continue => read_more(io, conn, rx, filled).await?,
            TransportAction::AwaitPeerClose => {
                // On a board, bound this wait with a timer (`SUGGESTED_CLOSE_TIMEOUT`).
                while io.read(rx).await.map_err(DeviceError::Io)? != 0 {}
                return Ok(code);
            }
            _ => return Ok(code),
        }
    }
}

/// Writes what the connection queued by itself: a Pong, the reply to a Close.
async fn write_replies<T: Write>(
    io: &mut T,
    conn: &mut Connection,
    tx: &mut [u8],
) -> Result<(), DeviceError<T::Error>> {
    let mut out = SliceBuf::new(tx);
    if conn.poll_transmit(&mut out).map_err(DeviceError::Ws)? > 0 {
        io.write_all(out.filled()).await.map_err(DeviceError::Io)?;
        io.flush().await.map_err(DeviceError::Io)?;
    }
    Ok(())
}

/// Reads more bytes after the `filled` ones; end of input is told to the connection.
async fn read_more<T: Read>(
    io: &mut T,
    conn: &mut Connection,
    rx: &mut [u8],
    filled: &mut usize,
) -> Result<(), DeviceError<T::Error>> {
    let n = io.read(&mut rx[*filled..]).await.map_err(DeviceError::Io)?;
    if n == 0 {
        conn.receive_eof().map_err(DeviceError::Ws)?;
        return Err(DeviceError::Eof);
    }
    *filled += n;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The host: a socket, an RNG and a peer, where a board would have its own.
// ---------------------------------------------------------------------------------------------

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The echo server: this crate's tokio adapter, on a port the system picks.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(echo_one_client(listener));

    // The board's hardware RNG fills the seed (`rng.fill_bytes(&mut seed)`); here the operating
    // system does.
    let mut seed = [0u8; 32];
    KeySource::os().fill(&mut seed);

    // The board's TCP socket: here tokio's, through the embedded-io-async traits.
    let mut socket = FromTokio::new(tokio::net::TcpStream::connect(addr).await?);
    let host = addr.to_string();
    let session = run_client(&mut socket, KeySource::from_seed(seed), &host, "/echo");
    let report = match tokio::time::timeout(Duration::from_secs(10), session).await {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => return Err(format!("device: {e}").into()),
        Err(_) => return Err("device: no answer within 10 s".into()),
    };
    // The server's loop ends when the client's Close arrives.
    match server.await? {
        Err(WsError::Closed) => {}
        other => return Err(format!("echo server: {other:?}").into()),
    }
    println!(
        "embedded_io: {} messages ({} bytes) echoed through fixed {RX}-byte and {TX}-byte buffers; \
         closed with {:?}",
        report.messages, report.bytes, report.close_code
    );
    if report.messages != MESSAGES.len() || report.close_code != Some(CloseCode::NORMAL) {
        return Err("the exchange did not finish".into());
    }
    Ok(())
}

/// The peer: accepts one client with this crate's tokio adapter and echoes every message until
/// the client closes (`WsError::Closed`).
async fn echo_one_client(listener: tokio::net::TcpListener) -> Result<(), WsError> {
    let (stream, _) = listener.accept().await?;
    let mut ws = wsproto::adapters::tokio::accept(stream, Config::new()).await?;
    loop {
        let (message, mut tx) = ws.recv_with_sender().await?;
        match message {
            Message::Text(text) => tx.send_text(text).await?,
            Message::Binary(data) => tx.send_binary(data).await?,
            _ => {}
        }
    }
}
