//! Memory per connection: opens N WebSocket connections to an echo server, exchanges one
//! message on each, holds them all open and idle, and reports how much the server's resident
//! memory (VmRSS in /proc/PID/status) grew, per connection.
//!
//! ```text
//! conns ADDR --connections N [--size BYTES] [--deflate] [--hold SECS] [--server-pid PID]
//!            [--label NAME] [--long-message BYTES] [--concurrency C] [--timeout SECS]
//! ```
//!
//! * Plain mode: each connection sends one binary message of `--size` bytes (default 1024) and
//!   checks its echo.
//! * `--deflate`: each connection offers `permessage-deflate; client_max_window_bits`; when the
//!   server accepts, it sends one compressed 1 KiB JSON-like text message (RSV1, raw DEFLATE
//!   with the trailing `00 00 ff ff` removed, RFC 7692 §7.2.1) and inflates and checks the echo.
//!   A server that declines gets the same text uncompressed (`deflate_accepted` counts). The
//!   client compresses at level 9 (zlib-rs reaches DEFLATE's ~1000:1 limit on the long message
//!   only there; at level 6 it stays near 230:1).
//! * Connections are opened `--concurrency` at a time (default 64), so that the server's accept
//!   backlog is not overrun: tokio's `TcpListener::bind` listens with a backlog of 128, Python's
//!   asyncio with 100, and at 200 in flight the kernel drops SYNs (`ListenOverflows`), which
//!   costs a 1 s SYN retransmission. A connect or handshake that fails is retried 5 times.
//! * After every connection has exchanged its message, all stay open for `--hold` seconds
//!   (default 5). A task per connection keeps reading: a server Ping is answered with a masked
//!   Pong (the servers run keepalive). Then the server's VmRSS is read again, one JSON line is
//!   printed, and every connection is closed (Close 1000, then a bounded wait for the server to
//!   end the TCP connection).
//! * `--long-message BYTES`: one connection sends one text message of BYTES of a highly
//!   compressible JSON (`[0,0,...,0]`; compressed with `--deflate`, else in 1 MiB fragments), checks
//!   the echo, holds idle for `--hold` seconds, and reports the server's RSS after the echo
//!   and after the hold against the baseline, and the peak (VmHWM, and VmRSS sampled every 2 ms
//!   by a thread).
//!
//! Everything is bounded in time: per-connection open and exchange 60 s, the whole opening
//! phase `--timeout` (default 600 s), closing 30 s.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::timeout;
use wsproto_loadgen::client_handshake_offer;

const OFFER: &str = "permessage-deflate; client_max_window_bits";
/// Largest frame this client sends (larger messages are fragmented).
const FRAGMENT: usize = 1 << 20;

#[derive(Clone)]
struct Args {
    addr: String,
    connections: usize,
    size: usize,
    deflate: bool,
    hold: f64,
    server_pid: Option<u32>,
    label: String,
    long_message: Option<usize>,
    concurrency: usize,
    timeout: f64,
}

fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:9002".into(),
        connections: 1000,
        size: 1024,
        deflate: false,
        hold: 5.0,
        server_pid: None,
        label: String::new(),
        long_message: None,
        concurrency: 64,
        timeout: 600.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--connections" | "-c" => a.connections = val().parse().unwrap(),
            "--size" | "-s" => a.size = val().parse().unwrap(),
            "--deflate" => a.deflate = true,
            "--hold" => a.hold = val().parse().unwrap(),
            "--server-pid" => a.server_pid = Some(val().parse().unwrap()),
            "--label" | "-l" => a.label = val(),
            "--long-message" => a.long_message = Some(val().parse().unwrap()),
            "--concurrency" => a.concurrency = val().parse().unwrap(),
            "--timeout" => a.timeout = val().parse().unwrap(),
            s if !s.starts_with('-') => a.addr = s.to_owned(),
            s => panic!("unknown option {s}"),
        }
    }
    a
}

/// A `kB` field of /proc/PID/status (VmRSS, VmHWM), in KiB; 0 without a PID.
fn status_kib(pid: Option<u32>, field: &str) -> u64 {
    let Some(pid) = pid else { return 0 };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[derive(Default)]
struct Counters {
    pings: AtomicU64,
    pongs: AtomicU64,
    conns_pinged: AtomicU64,
    dropped: AtomicU64,
    unexpected: AtomicU64,
    retries: AtomicU64,
    deflate_accepted: AtomicU64,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// A masked client frame with first byte `b0` (FIN, RSV1, opcode).
fn frame(b0: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    wsproto_loadgen::masked_frame_with(b0, payload, key)
}

/// A JSON-like text of exactly `len` bytes: records with varying fields (compresses about 4:1).
fn json_like(len: usize) -> Vec<u8> {
    let mut s = String::from("[");
    let mut i = 0usize;
    loop {
        let rec = format!(
            "{{\"id\":{i},\"user\":\"user-{:04}\",\"active\":{},\"score\":{}.{},\"tags\":[\"t{}\",\"t{}\"]}},",
            i * 7919 % 10000,
            i.is_multiple_of(3),
            i * 37 % 100,
            i * 13 % 10,
            i % 5,
            i % 7
        );
        if s.len() + rec.len() + 1 > len {
            break;
        }
        s.push_str(&rec);
        i += 1;
    }
    s.push(']');
    while s.len() < len {
        s.insert(s.len() - 1, ' ');
    }
    s.truncate(len);
    s.into_bytes()
}

/// A JSON array `[0,0,0,...,0]` of exactly `len` bytes (at least 2): compresses about 1000:1,
/// DEFLATE's limit (a 64 MiB message is about 65 KB on the wire).
fn json_repeated(len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    v.push(b'[');
    while v.len() + 2 < len {
        v.extend_from_slice(b"0,");
    }
    while v.len() + 1 < len {
        v.push(b'0');
    }
    v.push(b']');
    v
}

/// Raw DEFLATE of one message with a sync flush, the trailing `00 00 ff ff` removed.
fn compress(c: &mut Compress, data: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 64 + 1024);
    let mut pos = 0;
    loop {
        if out.capacity() - out.len() < 4096 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let before = c.total_in();
        c.compress_vec(&data[pos..], &mut out, FlushCompress::Sync).map_err(|e| bad(e.to_string()))?;
        pos += (c.total_in() - before) as usize;
        if pos >= data.len() && out.len() < out.capacity() {
            break;
        }
    }
    if !out.ends_with(&[0, 0, 0xff, 0xff]) {
        return Err(bad("compressed message does not end with 00 00 ff ff"));
    }
    out.truncate(out.len() - 4);
    Ok(out)
}

/// Inflates one message (its frames' payloads concatenated), with the tail put back.
fn inflate(d: &mut Decompress, mut data: Vec<u8>, hint: usize) -> io::Result<Vec<u8>> {
    data.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(hint + 1024);
    let mut pos = 0;
    loop {
        if out.capacity() - out.len() < 4096 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let before = d.total_in();
        d.decompress_vec(&data[pos..], &mut out, FlushDecompress::Sync).map_err(|e| bad(e.to_string()))?;
        pos += (d.total_in() - before) as usize;
        if pos >= data.len() && out.len() < out.capacity() {
            break;
        }
    }
    Ok(out)
}

/// The negotiated `client_max_window_bits` of a permessage-deflate answer (15 when absent).
fn client_window_bits(answer: &str) -> io::Result<u8> {
    let mut parts = answer.split(';').map(str::trim);
    if parts.next() != Some("permessage-deflate") {
        return Err(bad(format!("unexpected extension answer {answer:?}")));
    }
    let mut bits = 15;
    for p in parts {
        if let Some(v) = p.strip_prefix("client_max_window_bits") {
            let v = v.trim().trim_start_matches('=').trim().trim_matches('"');
            bits = v.parse().map_err(|_| bad(format!("bad client_max_window_bits in {answer:?}")))?;
        }
    }
    if !(9..=15).contains(&bits) {
        return Err(bad(format!("client_max_window_bits={bits} (zlib needs 9..=15)")));
    }
    Ok(bits)
}

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    key: [u8; 4],
    /// Set when permessage-deflate was negotiated.
    codec: Option<(Compress, Decompress)>,
    pings: u64,
}

/// One received data message.
struct Msg {
    text: bool,
    payload: Vec<u8>,
}

impl Conn {
    async fn fill(&mut self, need: usize) -> io::Result<()> {
        while self.buf.len() < need {
            let want = (need - self.buf.len()).clamp(4096, 4 << 20);
            self.buf.reserve(want);
            let n = self.stream.read_buf(&mut self.buf).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(())
    }

    /// The next frame: its first byte and its payload. Only reads (cancel-safe: a partly read
    /// frame stays in the buffer).
    async fn next_frame(&mut self) -> io::Result<(u8, Vec<u8>)> {
        self.fill(2).await?;
        let (b0, b1) = (self.buf[0], self.buf[1]);
        if b1 & 0x80 != 0 {
            return Err(bad("masked server frame"));
        }
        let (hl, len) = match b1 & 0x7f {
            126 => {
                self.fill(4).await?;
                (4, usize::from(u16::from_be_bytes([self.buf[2], self.buf[3]])))
            }
            127 => {
                self.fill(10).await?;
                let mut b = [0u8; 8];
                b.copy_from_slice(&self.buf[2..10]);
                (10, u64::from_be_bytes(b) as usize)
            }
            n => (2, usize::from(n)),
        };
        self.fill(hl + len).await?;
        let payload = self.buf[hl..hl + len].to_vec();
        self.buf.drain(..hl + len);
        Ok((b0, payload))
    }

    async fn pong(&mut self, payload: &[u8], c: &Counters) -> io::Result<()> {
        c.pings.fetch_add(1, Relaxed);
        if self.pings == 0 {
            c.conns_pinged.fetch_add(1, Relaxed);
        }
        self.pings += 1;
        self.stream.write_all(&frame(0x8A, payload, self.key)).await?;
        c.pongs.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Sends one message (text or binary), compressed when `compressed`, in frames of at most
    /// `FRAGMENT` bytes.
    async fn send(&mut self, text: bool, compressed: bool, payload: &[u8]) -> io::Result<()> {
        let opcode = if text { 0x1 } else { 0x2 };
        let chunks: Vec<&[u8]> = if payload.is_empty() { vec![payload] } else { payload.chunks(FRAGMENT).collect() };
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let mut b0 = if i == 0 { opcode } else { 0x0 };
            if i == 0 && compressed {
                b0 |= 0x40;
            }
            if i == last {
                b0 |= 0x80;
            }
            self.stream.write_all(&frame(b0, chunk, self.key)).await?;
        }
        Ok(())
    }

    /// The next data message (Pings answered on the way), inflated when it was compressed.
    async fn message(&mut self, c: &Counters, hint: usize) -> io::Result<Msg> {
        let mut msg: Option<(bool, bool, Vec<u8>)> = None; // text, compressed, payload
        loop {
            let (b0, payload) = self.next_frame().await?;
            let fin = b0 & 0x80 != 0;
            match b0 & 0x0f {
                0x9 => self.pong(&payload, c).await?,
                0xA => {}
                0x8 => return Err(bad(format!("server closed: {payload:?}"))),
                op @ (0x1 | 0x2) if msg.is_none() => msg = Some((op == 0x1, b0 & 0x40 != 0, payload)),
                0x0 if msg.is_some() => msg.as_mut().unwrap().2.extend_from_slice(&payload),
                _ => return Err(bad(format!("unexpected frame 0x{b0:02x}"))),
            }
            if fin && msg.is_some() && b0 & 0x08 == 0 {
                let (text, compressed, payload) = msg.take().unwrap();
                let payload = if compressed {
                    let Some((_, d)) = self.codec.as_mut() else {
                        return Err(bad("RSV1 without permessage-deflate"));
                    };
                    inflate(d, payload, hint)?
                } else {
                    payload
                };
                return Ok(Msg { text, payload });
            }
        }
    }

    /// Exchanges one message and checks the echo.
    async fn exchange(&mut self, text: bool, payload: &[u8], c: &Counters) -> io::Result<usize> {
        let wire = if let Some((comp, _)) = self.codec.as_mut() {
            let z = compress(comp, payload)?;
            self.send(text, true, &z).await?;
            z.len()
        } else {
            self.send(text, false, payload).await?;
            payload.len()
        };
        let echo = self.message(c, payload.len()).await?;
        if echo.text != text || echo.payload != payload {
            return Err(bad(format!("echo differs ({} bytes back, {} sent)", echo.payload.len(), payload.len())));
        }
        Ok(wire)
    }

    /// Holds the connection idle until `stop`, answering Pings. Returns false when the
    /// connection ended (or broke) before.
    async fn hold(&mut self, stop: &mut watch::Receiver<bool>, c: &Counters) -> bool {
        loop {
            tokio::select! {
                biased;
                () = async { let _ = stop.wait_for(|s| *s).await; } => return true,
                r = self.next_frame() => match r {
                    Ok((b0, payload)) => match b0 & 0x0f {
                        0x9 => {
                            if self.pong(&payload, c).await.is_err() {
                                return false;
                            }
                        }
                        0xA => {}
                        0x8 => return false,
                        _ => {
                            c.unexpected.fetch_add(1, Relaxed);
                        }
                    },
                    Err(_) => return false,
                },
            }
        }
    }

    /// Close 1000, then waits (bounded) for the server's Close and the end of the connection.
    async fn close(mut self) {
        let _ = self.stream.write_all(&frame(0x88, &1000u16.to_be_bytes(), self.key)).await;
        let mut sink = [0u8; 1024];
        let _ = timeout(Duration::from_secs(5), async {
            while let Ok(n) = self.stream.read(&mut sink).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
    }
}

/// Connects and upgrades (retried), offering permessage-deflate when `deflate`.
async fn open(i: usize, addr: &str, deflate: bool, c: &Counters) -> io::Result<Conn> {
    let key = (0x9e37_79b9u32.wrapping_mul(i as u32 + 1)).to_be_bytes();
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
                let codec = match answer {
                    Some(a) => {
                        let bits = client_window_bits(&a)?;
                        c.deflate_accepted.fetch_add(1, Relaxed);
                        Some((
                            Compress::new_with_window_bits(Compression::best(), false, bits),
                            Decompress::new_with_window_bits(false, 15),
                        ))
                    }
                    None => None,
                };
                return Ok(Conn { stream, buf: Vec::new(), key, codec, pings: 0 });
            }
            Err(e) if attempt < 5 && e.kind() != io::ErrorKind::InvalidData => {
                attempt += 1;
                c.retries.fetch_add(1, Relaxed);
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn json_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

async fn many(a: Args) {
    let c = Arc::new(Counters::default());
    let (text, payload): (bool, Arc<Vec<u8>>) = if a.deflate {
        (true, Arc::new(json_like(1024)))
    } else {
        (false, Arc::new((0..a.size).map(|i| (i * 7 + 1) as u8).collect()))
    };
    let size = payload.len();
    let rss_before = status_kib(a.server_pid, "VmRSS");
    let sem = Arc::new(Semaphore::new(a.concurrency.max(1)));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let (stop_tx, stop_rx) = watch::channel(false);
    let t0 = Instant::now();
    let mut tasks = Vec::with_capacity(a.connections);
    for i in 0..a.connections {
        let (c, sem, done_tx, mut stop, payload, addr) =
            (Arc::clone(&c), Arc::clone(&sem), done_tx.clone(), stop_rx.clone(), Arc::clone(&payload), a.addr.clone());
        let deflate = a.deflate;
        tasks.push(tokio::spawn(async move {
            let permit = sem.acquire_owned().await.unwrap();
            let r = timeout(Duration::from_secs(60), async {
                let mut conn = open(i, &addr, deflate, &c).await?;
                conn.exchange(text, &payload, &c).await?;
                // Idle connections keep no read buffer and no zlib context in the client (15,000
                // level-9 deflaters would take gigabytes): nothing but Pings is expected now.
                conn.buf = Vec::new();
                conn.codec = None;
                Ok::<_, io::Error>(conn)
            })
            .await;
            drop(permit);
            let mut conn = match r {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => return drop(done_tx.send(Err(e.to_string()))),
                Err(_) => return drop(done_tx.send(Err("open and exchange timed out (60 s)".into()))),
            };
            let _ = done_tx.send(Ok(()));
            drop(done_tx);
            if conn.hold(&mut stop, &c).await {
                conn.close().await;
            } else {
                c.dropped.fetch_add(1, Relaxed);
            }
        }));
    }
    drop(done_tx);
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(a.timeout);
    let (mut ok, mut failed) = (0usize, 0usize);
    let mut errors: Vec<String> = Vec::new();
    while ok + failed < a.connections {
        match tokio::time::timeout_at(deadline, done_rx.recv()).await {
            Ok(Some(Ok(()))) => ok += 1,
            Ok(Some(Err(e))) => {
                failed += 1;
                if errors.len() < 5 {
                    errors.push(e);
                }
            }
            Ok(None) => break,
            Err(_) => {
                eprintln!("opening phase timed out after {} s", a.timeout);
                break;
            }
        }
    }
    let unfinished = a.connections - ok - failed;
    let open_s = t0.elapsed().as_secs_f64();
    for e in &errors {
        eprintln!("connection failed: {e}");
    }
    eprintln!(
        "{}: {ok} connections open and echoed in {open_s:.1} s ({failed} failed, {unfinished} unfinished); holding {} s",
        a.label, a.hold
    );
    tokio::time::sleep(Duration::from_secs_f64(a.hold)).await;
    let rss_after = status_kib(a.server_pid, "VmRSS");
    let per = (rss_after as f64 - rss_before as f64) / a.connections.max(1) as f64;
    println!(
        "{{\"label\":{},\"mode\":\"{}\",\"connections\":{},\"deflate\":{},\"deflate_accepted\":{},\"size\":{},\
         \"hold_s\":{},\"rss_before_kib\":{},\"rss_after_kib\":{},\"kib_per_connection\":{:.2},\"ok\":{},\
         \"failed\":{},\"retries\":{},\"open_s\":{:.2},\"pings_received\":{},\"pongs_sent\":{},\
         \"conns_pinged\":{},\"dropped\":{},\"unexpected_frames\":{}}}",
        json_str(&a.label),
        if a.deflate { "deflate" } else { "plain" },
        a.connections,
        a.deflate,
        c.deflate_accepted.load(Relaxed),
        size,
        a.hold,
        rss_before,
        rss_after,
        per,
        ok,
        failed + unfinished,
        c.retries.load(Relaxed),
        open_s,
        c.pings.load(Relaxed),
        c.pongs.load(Relaxed),
        c.conns_pinged.load(Relaxed),
        c.dropped.load(Relaxed),
        c.unexpected.load(Relaxed),
    );
    let _ = stop_tx.send(true);
    let all = async {
        for t in tasks {
            let _ = t.await;
        }
    };
    if timeout(Duration::from_secs(30), all).await.is_err() {
        eprintln!("closing timed out after 30 s");
    }
}

async fn long(a: Args, bytes: usize) {
    let c = Counters::default();
    let message = json_repeated(bytes);
    let rss_before = status_kib(a.server_pid, "VmRSS");
    let hwm_before = status_kib(a.server_pid, "VmHWM");
    // A sampling thread: the client's own runtime is busy masking and compressing.
    let sampling = Arc::new(AtomicBool::new(true));
    let sampled_peak = Arc::new(AtomicU64::new(rss_before));
    let sampler = {
        let (sampling, peak, pid) = (Arc::clone(&sampling), Arc::clone(&sampled_peak), a.server_pid);
        std::thread::spawn(move || {
            while sampling.load(Relaxed) {
                peak.fetch_max(status_kib(pid, "VmRSS"), Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let t0 = Instant::now();
    let r = timeout(Duration::from_secs(120), async {
        let mut conn = open(0, &a.addr, a.deflate, &c).await?;
        let wire = conn.exchange(true, &message, &c).await?;
        Ok::<_, io::Error>((conn, wire))
    })
    .await;
    let echo_ms = t0.elapsed().as_secs_f64() * 1e3;
    let (mut conn, wire, failed) = match r {
        Ok(Ok((conn, wire))) => (Some(conn), wire, 0),
        Ok(Err(e)) => {
            eprintln!("long message failed: {e}");
            (None, 0, 1)
        }
        Err(_) => {
            eprintln!("long message timed out (120 s)");
            (None, 0, 1)
        }
    };
    drop(message);
    // Let the server settle, then read RSS right after the echo and after the idle hold.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_after_echo = status_kib(a.server_pid, "VmRSS");
    let (stop_tx, mut stop_rx) = watch::channel(false);
    let mut dropped = false;
    if let Some(conn) = conn.as_mut() {
        let hold = async {
            tokio::time::sleep(Duration::from_secs_f64(a.hold)).await;
            let _ = stop_tx.send(true);
        };
        let (_, alive) = tokio::join!(hold, conn.hold(&mut stop_rx, &c));
        dropped = !alive;
    } else {
        tokio::time::sleep(Duration::from_secs_f64(a.hold)).await;
    }
    let rss_after = status_kib(a.server_pid, "VmRSS");
    let hwm = status_kib(a.server_pid, "VmHWM");
    sampling.store(false, Relaxed);
    let _ = sampler.join();
    let peak = sampled_peak.load(Relaxed);
    println!(
        "{{\"label\":{},\"mode\":\"long-{}\",\"connections\":1,\"deflate\":{},\"deflate_accepted\":{},\"size\":{},\
         \"wire_bytes\":{},\"hold_s\":{},\"rss_before_kib\":{},\"rss_after_echo_kib\":{},\"rss_after_kib\":{},\
         \"growth_after_echo_kib\":{},\"growth_idle_kib\":{},\"hwm_before_kib\":{},\"hwm_kib\":{},\
         \"peak_growth_kib\":{},\"sampled_peak_kib\":{},\"sampled_peak_growth_kib\":{},\"echo_ms\":{:.1},\
         \"failed\":{},\"dropped\":{},\"pings_received\":{}}}",
        json_str(&a.label),
        if a.deflate { "deflate" } else { "plain" },
        a.deflate,
        c.deflate_accepted.load(Relaxed),
        bytes,
        wire,
        a.hold,
        rss_before,
        rss_after_echo,
        rss_after,
        rss_after_echo as i64 - rss_before as i64,
        rss_after as i64 - rss_before as i64,
        hwm_before,
        hwm,
        hwm as i64 - rss_before as i64,
        peak,
        peak as i64 - rss_before as i64,
        echo_ms,
        failed,
        u8::from(dropped),
        c.pings.load(Relaxed),
    );
    if let Some(conn) = conn
        && !dropped
    {
        conn.close().await;
    }
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    match a.long_message {
        Some(bytes) => rt.block_on(long(a.clone(), bytes)),
        None => rt.block_on(many(a)),
    }
}
