//! Shared pieces of the loopback benchmark: the HTTP/1.1 upgrade for the load generator (and
//! for the fastwebsockets server, whose own upgrade needs a hyper server), the frame builder,
//! and a small latency summary.

pub mod tick;

use std::io;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2).
#[must_use]
pub fn accept_key(key: &str) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.digest().bytes())
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads an HTTP head (up to the blank line). The peer sends nothing after it before our
/// answer, so nothing is over-read.
async fn read_head(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    let mut byte = [0u8; 256];
    loop {
        let n = stream.read(&mut byte).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&byte[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            if end + 4 != head.len() {
                return Err(bad("bytes after the HTTP head"));
            }
            return Ok(head);
        }
        if head.len() > 16 * 1024 {
            return Err(bad("HTTP head too long"));
        }
    }
}

/// Client side of the opening handshake. Offers no extension (no permessage-deflate) and no
/// subprotocol, and checks the 101 answer and its accept key.
pub async fn client_handshake(stream: &mut TcpStream, host: &str) -> io::Result<()> {
    match client_handshake_offer(stream, host, None).await? {
        None => Ok(()),
        Some(_) => Err(bad("server negotiated an extension")),
    }
}

/// Client side of the opening handshake, offering `extensions` (a `Sec-WebSocket-Extensions`
/// value) when given. Checks the 101 answer and its accept key, and returns the server's
/// `Sec-WebSocket-Extensions` answer, if any (an answer to an offer that was not made is an
/// error).
pub async fn client_handshake_offer(
    stream: &mut TcpStream,
    host: &str,
    extensions: Option<&str>,
) -> io::Result<Option<String>> {
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let offer = extensions.map(|e| format!("Sec-WebSocket-Extensions: {e}\r\n")).unwrap_or_default();
    let req = format!(
        "GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{offer}\r\n"
    );
    stream.write_all(req.as_bytes()).await?;
    let head = read_head(stream).await?;
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut res = httparse::Response::new(&mut headers);
    res.parse(&head).map_err(|e| bad(e.to_string()))?;
    if res.code != Some(101) {
        return Err(bad(format!("status {:?}", res.code)));
    }
    let want = accept_key(key);
    let mut ok = false;
    let mut answer = None;
    for h in res.headers.iter() {
        if h.name.eq_ignore_ascii_case("sec-websocket-accept") {
            ok = h.value == want.as_bytes();
        }
        if h.name.eq_ignore_ascii_case("sec-websocket-extensions") {
            if extensions.is_none() {
                return Err(bad("server negotiated an extension that was not offered"));
            }
            answer = Some(String::from_utf8_lossy(h.value).into_owned());
        }
    }
    if !ok {
        return Err(bad("bad Sec-WebSocket-Accept"));
    }
    Ok(answer)
}

/// Server side of the opening handshake, minimal (for the fastwebsockets server, which then
/// takes the plain `TcpStream` with `WebSocket::after_handshake`, its documented fast path).
pub async fn server_handshake(stream: &mut TcpStream) -> io::Result<()> {
    let head = read_head(stream).await?;
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    req.parse(&head).map_err(|e| bad(e.to_string()))?;
    let key = req
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("sec-websocket-key"))
        .ok_or_else(|| bad("no Sec-WebSocket-Key"))?;
    let key = std::str::from_utf8(key.value).map_err(|_| bad("key not UTF-8"))?;
    let res = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    );
    stream.write_all(res.as_bytes()).await
}

/// A masked client frame (FIN, `opcode`) carrying `payload`.
#[must_use]
pub fn masked_frame(opcode: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    masked_frame_with(0x80 | opcode, payload, key)
}

/// A masked client frame with first byte `b0` (FIN, RSV bits, opcode) carrying `payload`.
#[must_use]
pub fn masked_frame_with(b0: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut f = Vec::with_capacity(payload.len() + 14);
    f.push(b0);
    let len = payload.len();
    if len < 126 {
        f.push(0x80 | len as u8);
    } else if len <= 0xffff {
        f.push(0x80 | 126);
        f.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        f.push(0x80 | 127);
        f.extend_from_slice(&(len as u64).to_be_bytes());
    }
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i & 3]));
    f
}

/// The `q` quantile (0..=1) of sorted samples.
#[must_use]
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

/// Builds the server runtime the same way `#[tokio::main]` does in our `echo_server` example
/// (multi-threaded, one worker per core), so that every server runs on the same runtime.
pub fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()
}

/// The listen address from the first argument.
#[must_use]
pub fn listen_addr() -> String {
    std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9002".to_owned())
}
