//! An interoperability check against any WebSocket echo server, over the blocking adapter: it
//! sends text, binary, empty, boundary-sized, large and fragmented messages, a Ping and a Close,
//! checks that each comes back exactly, prints one line per check and exits non-zero at the
//! first failure. `scripts/interop/run.sh` runs it against echo servers written with other
//! languages' WebSocket libraries.
//!
//! ```text
//! cargo run --release --example interop_client -- ws://127.0.0.1:9002/
//! ```
//!
//! Environment: `INTEROP_TIMEOUT_SECS` bounds every read and write (default 10).

use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use wsproto::adapters::blocking::{self, WebSocket};
use wsproto::handshake::ClientRequest;
use wsproto::{CloseCode, Config, Message, MessageKind};

/// The close code and reason we close with; the server must echo the code.
const CLOSE_CODE: CloseCode = CloseCode(4000);
const CLOSE_REASON: &str = "bye";

fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: interop_client ws://HOST:PORT/PATH");
        return ExitCode::from(2);
    };
    let timeout = std::env::var("INTEROP_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(10), Duration::from_secs);
    let started = Instant::now();
    match run(&url, timeout) {
        Ok(n) => {
            println!("interop_client: all {n} checks passed against {url} in {:.2?}", started.elapsed());
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("FAIL {e}");
            eprintln!("interop_client: FAILED against {url}: {e}");
            ExitCode::FAILURE
        }
    }
}

type Ws = WebSocket<TcpStream>;

/// Connects like [`blocking::connect`], with timeouts set before the handshake.
fn connect(url: &str, timeout: Duration) -> Result<Ws, String> {
    let request = ClientRequest::new(url).map_err(|e| format!("bad url {url}: {e}"))?;
    // With the `deflate` feature, offer permessage-deflate like a browser does.
    #[cfg(feature = "deflate")]
    let request = request.with_deflate(wsproto::deflate::DeflateConfig::new());
    let stream = TcpStream::connect((request.host(), request.port())).map_err(|e| format!("connect {url}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let (ws, negotiated) =
        blocking::client(stream, request, Config::new()).map_err(|e| format!("handshake with {url}: {e}"))?;
    let unexpected_extension = negotiated.extensions.iter().any(|e| !e.is("permessage-deflate"));
    if negotiated.protocol.is_some() || unexpected_extension {
        return Err(format!("unexpected negotiation: {negotiated:?}"));
    }
    Ok(ws)
}

/// Deterministic pseudo-random bytes (xorshift64*), so that a failure is reproducible.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

fn describe(data: &[u8]) -> String {
    if data.len() <= 32 {
        format!("{data:02x?}")
    } else {
        format!("{} bytes starting {:02x?}", data.len(), &data[..16])
    }
}

/// The first index where two byte strings differ (or the shorter length).
fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).position(|(x, y)| x != y).unwrap_or(a.len().min(b.len()))
}

/// Receives the next data message (skipping Pings, which the adapter answers) and checks it is
/// `kind` with exactly `want`.
fn expect_message(ws: &mut Ws, kind: MessageKind, want: &[u8], what: &str) -> Result<(), String> {
    loop {
        let got = ws.recv().map_err(|e| format!("{what}: waiting for the echo: {e}"))?;
        let (got_kind, data): (MessageKind, &[u8]) = match got {
            Message::Text(t) => (MessageKind::Text, t.as_bytes()),
            Message::Binary(b) => (MessageKind::Binary, b),
            Message::Ping(_) => continue,
            other => return Err(format!("{what}: expected a {kind:?} echo, got {other:?}")),
        };
        if got_kind != kind {
            return Err(format!("{what}: sent {kind:?}, echo came back as {got_kind:?} ({})", describe(data)));
        }
        if data != want {
            let at = first_difference(data, want);
            return Err(format!(
                "{what}: echo differs: got {} bytes, sent {} bytes, first difference at byte {at}",
                data.len(),
                want.len()
            ));
        }
        return Ok(());
    }
}

/// Receives the next frame and checks it is a Pong with `want`.
fn expect_pong(ws: &mut Ws, want: &[u8], what: &str) -> Result<(), String> {
    loop {
        match ws.recv().map_err(|e| format!("{what}: waiting for the pong: {e}"))? {
            Message::Pong(p) if p.as_bytes() == want => return Ok(()),
            Message::Pong(p) => return Err(format!("{what}: pong payload {:?}, sent {want:?}", p.as_bytes())),
            Message::Ping(_) => {}
            other => return Err(format!("{what}: expected a pong, got {other:?}")),
        }
    }
}

struct Checks {
    count: usize,
}

impl Checks {
    fn pass(&mut self, what: &str) {
        self.count += 1;
        println!("ok   {what}");
    }
}

fn echo(ws: &mut Ws, checks: &mut Checks, kind: MessageKind, data: &[u8], what: &str) -> Result<(), String> {
    ws.send(kind, data).map_err(|e| format!("{what}: send: {e}"))?;
    expect_message(ws, kind, data, what)?;
    checks.pass(what);
    Ok(())
}

/// Sends `pieces` as one fragmented message, checks the echo is their concatenation.
fn echo_fragmented(
    ws: &mut Ws,
    checks: &mut Checks,
    kind: MessageKind,
    pieces: &[&[u8]],
    what: &str,
) -> Result<(), String> {
    for (i, piece) in pieces.iter().enumerate() {
        let fin = i + 1 == pieces.len();
        ws.send_fragment(kind, piece, fin).map_err(|e| format!("{what}: send piece {i}: {e}"))?;
    }
    let whole = pieces.concat();
    expect_message(ws, kind, &whole, what)?;
    checks.pass(what);
    Ok(())
}

fn run(url: &str, timeout: Duration) -> Result<usize, String> {
    let mut ws = connect(url, timeout)?;
    let mut checks = Checks { count: 0 };
    #[cfg(feature = "deflate")]
    let extensions = if ws.connection().deflate().is_some() { "permessage-deflate" } else { "none" };
    #[cfg(not(feature = "deflate"))]
    let extensions = "none";
    checks.pass(&format!("handshake with {url} (no subprotocol, extensions in force: {extensions})"));

    echo(&mut ws, &mut checks, MessageKind::Text, b"hello", "text \"hello\"")?;
    let utf8 = "héllo wörld — 你好 🌍 ñ€";
    echo(
        &mut ws,
        &mut checks,
        MessageKind::Text,
        utf8.as_bytes(),
        &format!("text multi-byte UTF-8 ({} bytes)", utf8.len()),
    )?;
    echo(&mut ws, &mut checks, MessageKind::Text, b"", "text empty")?;
    for (i, size) in [0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20].into_iter().enumerate() {
        let data = pseudo_random(size, i as u64 + 1);
        echo(&mut ws, &mut checks, MessageKind::Binary, &data, &format!("binary {size} bytes"))?;
    }
    let long_text: String = "0123456789abcdef".repeat(4096 + 1); // 65552 bytes: 64-bit length
    echo(&mut ws, &mut checks, MessageKind::Text, long_text.as_bytes(), &format!("text {} bytes", long_text.len()))?;

    // A fragmented text message whose pieces split multi-byte characters: "€" (3 bytes) is
    // split 1+2, "🌍" (4 bytes) is split 2+2, and one piece is empty.
    let text = "frag: a€b🌍c end";
    let b = text.as_bytes();
    let euro = text.find('€').expect("euro");
    let globe = text.find('🌍').expect("globe");
    let pieces: [&[u8]; 5] = [&b[..euro + 1], &b[euro + 1..globe + 2], &b[globe + 2..globe + 2], &b[globe + 2..], b""];
    echo_fragmented(
        &mut ws,
        &mut checks,
        MessageKind::Text,
        &pieces,
        "text fragmented in 5 pieces, characters split across pieces",
    )?;

    let data = pseudo_random(70_000, 99);
    let pieces: [&[u8]; 4] = [&data[..1], &data[1..1000], &data[1000..66_000], &data[66_000..]];
    echo_fragmented(&mut ws, &mut checks, MessageKind::Binary, &pieces, "binary fragmented in 4 pieces (70000 bytes)")?;

    // A Ping with a payload: the Pong must carry it back.
    let payload = b"interop-ping \xf0\x9f\x8f\x93";
    ws.ping(payload).map_err(|e| format!("ping: {e}"))?;
    expect_pong(&mut ws, payload, "ping with payload")?;
    checks.pass("ping with payload -> pong with the same payload");

    // A Ping between the pieces of a fragmented message: the Pong comes before the echo.
    let what = "ping between the pieces of a fragmented binary message";
    ws.send_fragment(MessageKind::Binary, b"before-", false).map_err(|e| format!("{what}: {e}"))?;
    ws.ping(b"mid").map_err(|e| format!("{what}: {e}"))?;
    ws.send_fragment(MessageKind::Binary, b"after", true).map_err(|e| format!("{what}: {e}"))?;
    expect_pong(&mut ws, b"mid", what)?;
    expect_message(&mut ws, MessageKind::Binary, b"before-after", what)?;
    checks.pass(what);

    // Close: run the close handshake to its end (as a client, until the server closes TCP) and
    // check the server's Close frame.
    let frame = ws
        .close(CLOSE_CODE, CLOSE_REASON)
        .map_err(|e| format!("close: {e}"))?
        .ok_or("close: the server closed TCP without a Close frame")?;
    if frame.code() != Some(CLOSE_CODE) {
        return Err(format!(
            "close: sent code {} reason {CLOSE_REASON:?}, server replied with code {:?} reason {:?}",
            CLOSE_CODE.0,
            frame.code().map(|c| c.0),
            frame.reason()
        ));
    }
    checks.pass(&format!(
        "close {} {CLOSE_REASON:?} -> server replied {} {:?} and closed TCP",
        CLOSE_CODE.0,
        frame.reported_code().0,
        frame.reason()
    ));
    Ok(checks.count)
}
