//! Broadcast benchmark client: opens a control connection and N WebSocket connections to
//! `broadcast_server`, sends the start signal, and only reads: it counts the messages on every
//! connection and checks them, and reports on the control connection when all N×M arrived.
//!
//! ```text
//! broadcast_client ADDR --connections N --messages M [--size BYTES] [--deflate]
//!                  [--concurrency C] [--timeout SECS]
//! ```
//!
//! * Raw frames on a `current_thread` tokio runtime (run it on a core of its own), a 64 KiB
//!   read buffer per connection, frames parsed in place: the client's cost per message is a
//!   header parse, so the server is what is measured.
//! * `--deflate` offers `permessage-deflate; client_max_window_bits` (and fails if the server
//!   does not agree). Compressed messages (RSV1) are inflated when they are checked.
//! * Checks: every frame is an unmasked, unfragmented text frame; each connection gets exactly
//!   M messages; the first and the last are inflated (when compressed) and compared byte for
//!   byte with the tick the server sent (`wsproto_loadgen::tick`); every uncompressed message
//!   also has the right length and sequence number. When the server keeps its compression
//!   context between messages (no `server_no_context_takeover`), every compressed message is
//!   inflated, as it must be.
//! * Connections are opened `--concurrency` at a time (default 64, under the listen backlog),
//!   each retried up to 5 times. The whole run is bounded by `--timeout` (default 300 s).
//!
//! The report line sent to the server: `received COUNT ok` or `received COUNT fail REASON`. The
//! client prints a JSON line too, and exits non-zero on failure.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use flate2::{Decompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::timeout;
use wsproto_loadgen::client_handshake_offer;
use wsproto_loadgen::tick::tick_json;

const OFFER: &str = "permessage-deflate; client_max_window_bits";
const READ_BUFFER: usize = 64 * 1024;

#[derive(Clone)]
struct Args {
    addr: String,
    connections: usize,
    messages: usize,
    size: usize,
    deflate: bool,
    concurrency: usize,
    timeout: f64,
}

fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:9010".into(),
        connections: 1000,
        messages: 200,
        size: 1024,
        deflate: false,
        concurrency: 64,
        timeout: 300.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--connections" | "-c" => a.connections = val().parse().unwrap(),
            "--messages" | "-m" => a.messages = val().parse().unwrap(),
            "--size" | "-s" => a.size = val().parse().unwrap(),
            "--deflate" => a.deflate = true,
            "--concurrency" => a.concurrency = val().parse().unwrap(),
            "--timeout" => a.timeout = val().parse().unwrap(),
            s if !s.starts_with('-') => a.addr = s.to_owned(),
            s => panic!("unknown option {s}"),
        }
    }
    a
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// What every connection expects: the first and last message's text.
struct Expected {
    messages: usize,
    size: usize,
    first: Vec<u8>,
    last: Vec<u8>,
}

#[derive(Default)]
struct Totals {
    messages: AtomicU64,
    wire_bytes: AtomicU64,
    compressed: AtomicU64,
}

/// The agreed permessage-deflate, as the client reads messages.
struct Inflater {
    d: Decompress,
    /// The server resets its context after each message: a message can be inflated without
    /// the ones before it.
    no_context_takeover: bool,
    out: Vec<u8>,
}

impl Inflater {
    fn new(answer: &str) -> io::Result<Self> {
        let mut parts = answer.split(';').map(str::trim);
        if parts.next() != Some("permessage-deflate") {
            return Err(bad(format!("unexpected extension answer {answer:?}")));
        }
        let no_context_takeover = parts.any(|p| p == "server_no_context_takeover");
        // The server's window is at most 15 bits; a 15-bit inflater reads any.
        Ok(Self { d: Decompress::new_with_window_bits(false, 15), no_context_takeover, out: Vec::new() })
    }

    /// Inflates one message (one frame's payload), with the removed `00 00 ff ff` tail put back.
    fn inflate(&mut self, payload: &[u8], hint: usize) -> io::Result<&[u8]> {
        self.out.clear();
        self.out.reserve(hint + 64);
        for input in [payload, &[0, 0, 0xff, 0xff][..]] {
            let mut pos = 0;
            while pos < input.len() {
                if self.out.capacity() == self.out.len() {
                    self.out.reserve(4096);
                }
                let before = self.d.total_in();
                self.d
                    .decompress_vec(&input[pos..], &mut self.out, FlushDecompress::Sync)
                    .map_err(|e| bad(e.to_string()))?;
                pos += (self.d.total_in() - before) as usize;
            }
        }
        Ok(&self.out)
    }
}

/// Connects and upgrades (retried), offering permessage-deflate when `deflate`.
async fn open(addr: &str, deflate: bool) -> io::Result<(TcpStream, Option<Inflater>)> {
    let mut attempt = 0;
    loop {
        let r = async {
            let mut s = timeout(Duration::from_secs(10), TcpStream::connect(addr))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
            s.set_nodelay(true)?;
            let answer =
                timeout(Duration::from_secs(10), client_handshake_offer(&mut s, addr, deflate.then_some(OFFER)))
                    .await
                    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "handshake timed out"))??;
            Ok::<_, io::Error>((s, answer))
        }
        .await;
        match r {
            Ok((stream, answer)) => {
                let inflater = match (deflate, answer) {
                    (true, Some(a)) => Some(Inflater::new(&a)?),
                    (true, None) => return Err(bad("the server did not agree to permessage-deflate")),
                    (false, _) => None,
                };
                return Ok((stream, inflater));
            }
            Err(e) if attempt < 5 && e.kind() != io::ErrorKind::InvalidData => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Checks message `index` (its payload, RSV1 telling whether it is compressed).
fn check(
    index: usize,
    compressed: bool,
    payload: &[u8],
    inflater: &mut Option<Inflater>,
    want: &Expected,
) -> io::Result<()> {
    let full = index == 0 || index + 1 == want.messages;
    let text: &[u8] = if compressed {
        let Some(inf) = inflater.as_mut() else { return Err(bad("RSV1 without permessage-deflate")) };
        if !full && inf.no_context_takeover {
            return Ok(());
        }
        inf.inflate(payload, want.size)?
    } else {
        payload
    };
    if text.len() != want.size {
        return Err(bad(format!("message {index}: {} bytes, expected {}", text.len(), want.size)));
    }
    if full {
        let expected = if index == 0 { &want.first } else { &want.last };
        if text != &expected[..] {
            return Err(bad(format!("message {index} differs from the tick sent")));
        }
    } else {
        let prefix = format!("{{\"type\":\"tick\",\"seq\":{index},");
        if !text.starts_with(prefix.as_bytes()) {
            return Err(bad(format!("message {index} out of order")));
        }
    }
    Ok(())
}

/// Reads one connection until it has all its messages; returns the stream, to be kept open.
async fn receive(
    mut stream: TcpStream,
    mut inflater: Option<Inflater>,
    want: Arc<Expected>,
    totals: Arc<Totals>,
) -> io::Result<TcpStream> {
    let mut buf = vec![0u8; READ_BUFFER];
    let (mut start, mut end) = (0, 0);
    let mut count = 0;
    let mut wire = 0u64;
    let mut compressed_count = 0u64;
    while count < want.messages {
        // Parse every whole frame in buf[start..end].
        loop {
            let avail = &buf[start..end];
            if avail.len() < 2 {
                break;
            }
            let (b0, b1) = (avail[0], avail[1]);
            if b1 & 0x80 != 0 {
                return Err(bad("masked server frame"));
            }
            let (hl, len) = match b1 & 0x7f {
                126 if avail.len() >= 4 => (4, usize::from(u16::from_be_bytes([avail[2], avail[3]]))),
                127 if avail.len() >= 10 => {
                    let mut b = [0u8; 8];
                    b.copy_from_slice(&avail[2..10]);
                    (10, usize::try_from(u64::from_be_bytes(b)).map_err(|_| bad("frame too long"))?)
                }
                126 | 127 => break,
                n => (2, usize::from(n)),
            };
            if hl + len > READ_BUFFER {
                return Err(bad(format!("frame of {len} bytes is larger than the read buffer")));
            }
            if avail.len() < hl + len {
                break;
            }
            let payload = &avail[hl..hl + len];
            match b0 & 0x0f {
                0x1 if b0 & 0x80 != 0 && b0 & 0x30 == 0 => {
                    let compressed = b0 & 0x40 != 0;
                    compressed_count += u64::from(compressed);
                    check(count, compressed, payload, &mut inflater, &want)?;
                    count += 1;
                    if count > want.messages {
                        return Err(bad("more messages than sent"));
                    }
                }
                0x9 | 0xA => {} // a Ping (not answered: the run is shorter than any keepalive)
                0x8 => return Err(bad(format!("server closed after {count} messages"))),
                _ => return Err(bad(format!("unexpected frame 0x{b0:02x} after {count} messages"))),
            }
            wire += (hl + len) as u64;
            start += hl + len;
        }
        if count == want.messages {
            break;
        }
        if start == end {
            (start, end) = (0, 0);
        } else if READ_BUFFER - end < 16 * 1024 {
            buf.copy_within(start..end, 0);
            (start, end) = (0, end - start);
        }
        let n = stream.read(&mut buf[end..]).await?;
        if n == 0 {
            return Err(bad(format!("server closed the connection after {count} messages")));
        }
        end += n;
    }
    if start != end {
        return Err(bad("bytes after the last message"));
    }
    totals.messages.fetch_add(count as u64, Relaxed);
    totals.wire_bytes.fetch_add(wire, Relaxed);
    totals.compressed.fetch_add(compressed_count, Relaxed);
    Ok(stream)
}

async fn run(a: &Args, control: &mut TcpStream) -> Result<(), String> {
    let want = Arc::new(Expected {
        messages: a.messages,
        size: a.size,
        first: tick_json(0, a.size).into_bytes(),
        last: tick_json(a.messages as u64 - 1, a.size).into_bytes(),
    });
    let totals = Arc::new(Totals::default());
    let gate = Arc::new(Semaphore::new(a.concurrency.max(1)));
    let opened = Instant::now();
    let mut openings = Vec::with_capacity(a.connections);
    for _ in 0..a.connections {
        let (gate, addr, deflate) = (Arc::clone(&gate), a.addr.clone(), a.deflate);
        openings.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            open(&addr, deflate).await
        }));
    }
    let mut readers = Vec::with_capacity(a.connections);
    for opening in openings {
        let (stream, inflater) = opening.await.unwrap().map_err(|e| format!("open: {e}"))?;
        readers.push(tokio::spawn(receive(stream, inflater, Arc::clone(&want), Arc::clone(&totals))));
    }
    let open_s = opened.elapsed().as_secs_f64();
    control.write_all(b"go\n").await.map_err(|e| format!("control: {e}"))?;
    let started = Instant::now();
    let mut first_error = None;
    // Every connection stays open until the server is done.
    let mut done = Vec::with_capacity(readers.len());
    for reader in readers {
        match reader.await.unwrap() {
            Ok(stream) => done.push(stream),
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let received = totals.messages.load(Relaxed);
    let expected = (a.connections * a.messages) as u64;
    let verdict = match &first_error {
        None if received == expected => "ok".to_owned(),
        None => format!("fail {received} of {expected}"),
        Some(e) => format!("fail {e}"),
    };
    let report = format!("received {received} {verdict}\n");
    control.write_all(report.as_bytes()).await.map_err(|e| format!("control: {e}"))?;
    let wire = totals.wire_bytes.load(Relaxed);
    println!(
        "{{\"client\":true,\"n\":{},\"m\":{},\"deflate\":{},\"open_s\":{open_s:.3},\"receive_wall_s\":{wall:.6},\
         \"received\":{received},\"compressed\":{},\"wire_bytes_per_msg\":{:.1},\"ok\":{}}}",
        a.connections,
        a.messages,
        a.deflate,
        totals.compressed.load(Relaxed),
        wire as f64 / received.max(1) as f64,
        first_error.is_none() && received == expected,
    );
    // Wait for the server to finish (it closes the control connection), so that no side closes
    // a connection with unread data in it.
    let mut sink = [0u8; 64];
    let _ = timeout(Duration::from_secs(30), control.read(&mut sink)).await;
    drop(done);
    match first_error {
        None if received == expected => Ok(()),
        _ => Err(verdict),
    }
}

fn main() {
    let a = args();
    assert!(a.messages > 0 && a.connections > 0, "--connections and --messages must be at least 1");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let result = runtime.block_on(async {
        let limit = Duration::from_secs_f64(a.timeout);
        timeout(limit, async {
            let mut control = TcpStream::connect(&a.addr).await.map_err(|e| format!("control: {e}"))?;
            control.set_nodelay(true).map_err(|e| e.to_string())?;
            run(&a, &mut control).await
        })
        .await
        .unwrap_or_else(|_| Err("timed out".to_owned()))
    });
    if let Err(e) = result {
        eprintln!("broadcast_client: {e}");
        std::process::exit(1);
    }
}
