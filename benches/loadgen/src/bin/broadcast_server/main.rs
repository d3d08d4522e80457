//! Broadcast benchmark server: accepts N WebSocket connections, then on the client's start
//! signal sends the same M text messages to every one of them and reports its own CPU time per
//! delivered message. One binary for every library (`--lib`); each library's connection task
//! is in its own file, written the way that library's documentation suggests.
//!
//! ```text
//! broadcast_server ADDR --lib LIB --mode burst|paced --compression none|deflate
//!                  --connections N --messages M [--size BYTES]
//! ```
//!
//! * `--lib`: `wsproto` (each message built once as a `PreparedMessage`, compressed once with
//!   `--compression deflate`, written without copying), `wsproto-send` (our `feed` on each
//!   connection, then one `flush`: encoded, and compressed, once per connection), `wsproto-fanout` (one task
//!   writes each prepared message to every connection with `WsWriter::try_send_prepared`, the
//!   way uWebSockets' `publish` does; a connection's own task flushes only what its stream did
//!   not take at once), `tungstenite`,
//!   `fastwebsockets`, `tokio-websockets` (no permessage-deflate in their versions used here).
//! * The runtime is tokio's `current_thread` (run it under `taskset -c 0`): one core, one
//!   thread, so `getrusage(RUSAGE_SELF)` is that core's work for the broadcast.
//! * One task per connection, fed by a `tokio::sync::broadcast` channel of capacity M (a
//!   burst loses nothing). A task waits for a message, then takes every message already
//!   waiting with `try_recv`, and sends them all before it waits again.
//! * `--mode burst`: all M messages are handed to the channel at once. `--mode paced`: message
//!   k+1 is handed out when every connection has written message k.
//! * The messages are 1 KiB market-data ticks in JSON (`wsproto_loadgen::tick`), made before
//!   the start; each library's message object (`PreparedMessage`, `Message`, `Bytes`) is built
//!   after the start, once per message, as a real broadcaster would.
//!
//! Protocol with `broadcast_client` (one process, another core): the client first opens a
//! control connection (plain TCP, the first connection accepted), then the N WebSocket
//! connections; when all N are open on both sides it sends `go\n` on the control connection.
//! The server measures from there until every connection has written every message (its own
//! user and system CPU time, and the wall time), then waits for the client's report line
//! (`received COUNT ok` or `received COUNT fail REASON`) and prints one JSON line with both.
//! The exit status is 0 only if the client received and checked everything.

mod fanout;
mod ours;
mod peer_fastwebsockets;
mod peer_tokio_websockets;
mod peer_tungstenite;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::sync::broadcast::{self, Receiver, error::TryRecvError};

/// How long the client may take to open its connections, and the broadcast to finish.
const PHASE_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Burst,
    Paced,
}

struct Args {
    addr: String,
    lib: String,
    mode: Mode,
    deflate: bool,
    connections: usize,
    messages: usize,
    size: usize,
}

fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:9010".into(),
        lib: "wsproto".into(),
        mode: Mode::Burst,
        deflate: false,
        connections: 1000,
        messages: 200,
        size: 1024,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--lib" => a.lib = val(),
            "--mode" => {
                a.mode = match val().as_str() {
                    "burst" => Mode::Burst,
                    "paced" => Mode::Paced,
                    m => panic!("--mode burst|paced, not {m}"),
                }
            }
            "--compression" => {
                a.deflate = match val().as_str() {
                    "none" => false,
                    "deflate" => true,
                    c => panic!("--compression none|deflate, not {c}"),
                }
            }
            "--connections" | "-c" => a.connections = val().parse().unwrap(),
            "--messages" | "-m" => a.messages = val().parse().unwrap(),
            "--size" | "-s" => a.size = val().parse().unwrap(),
            s if !s.starts_with('-') => a.addr = s.to_owned(),
            s => panic!("unknown option {s}"),
        }
    }
    assert!(a.messages > 0 && a.connections > 0, "--connections and --messages must be at least 1");
    a
}

/// What the connection tasks and the broadcaster share.
pub struct Shared {
    /// M: messages each connection sends.
    pub messages: usize,
    /// Whether permessage-deflate is to be negotiated.
    pub deflate: bool,
    /// Connections whose opening handshake is done.
    ready: AtomicUsize,
    ready_changed: Notify,
    /// Messages written, over all connections.
    delivered: AtomicUsize,
    /// The broadcaster is woken when `delivered` reaches this.
    target: AtomicUsize,
    progress: Notify,
    /// Connections that failed.
    failed: AtomicUsize,
}

impl Shared {
    /// A connection finished its opening handshake.
    pub fn ready(&self) {
        self.ready.fetch_add(1, Relaxed);
        self.ready_changed.notify_one();
    }

    /// A connection wrote `n` more messages.
    pub fn delivered(&self, n: usize) {
        let now = self.delivered.fetch_add(n, Relaxed) + n;
        if now >= self.target.load(Relaxed) {
            self.progress.notify_one();
        }
    }

    pub fn fail(&self) {
        self.failed.fetch_add(1, Relaxed);
        self.progress.notify_one();
        self.ready_changed.notify_one();
    }

    /// Waits until `delivered` reaches `target` (or a connection failed).
    async fn wait_delivered(&self, target: usize) -> Result<(), String> {
        self.target.store(target, Relaxed);
        while self.delivered.load(Relaxed) < target {
            if self.failed.load(Relaxed) > 0 {
                return Err(format!("{} connection(s) failed", self.failed.load(Relaxed)));
            }
            self.progress.notified().await;
        }
        Ok(())
    }
}

impl Shared {
    fn new(a: &Args) -> Arc<Self> {
        Arc::new(Shared {
            messages: a.messages,
            deflate: a.deflate,
            ready: AtomicUsize::new(0),
            ready_changed: Notify::new(),
            delivered: AtomicUsize::new(0),
            target: AtomicUsize::new(usize::MAX),
            progress: Notify::new(),
            failed: AtomicUsize::new(0),
        })
    }
}

/// Accepts the N WebSocket connections, each served by the task `serve` makes, waits until all
/// have finished their opening handshake, then for the client's start signal.
async fn open_all<F>(
    a: &Args,
    listener: TcpListener,
    control: &mut BufReader<TcpStream>,
    shared: &Arc<Shared>,
    mut serve: impl FnMut(TcpStream) -> F,
) -> Result<(), String>
where
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    let opening = async {
        for _ in 0..a.connections {
            let (stream, _) = listener.accept().await.map_err(|e| format!("accept: {e}"))?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let task = serve(stream);
            let shared = Arc::clone(shared);
            tokio::spawn(async move {
                if let Err(e) = task.await {
                    eprintln!("connection: {e}");
                    shared.fail();
                }
            });
        }
        while shared.ready.load(Relaxed) < a.connections {
            if shared.failed.load(Relaxed) > 0 {
                return Err("a connection failed during the opening handshake".to_owned());
            }
            shared.ready_changed.notified().await;
        }
        let mut line = String::new();
        control.read_line(&mut line).await.map_err(|e| format!("control: {e}"))?;
        if line.trim() != "go" {
            return Err(format!("control: expected go, got {line:?}"));
        }
        Ok::<_, String>(())
    };
    tokio::time::timeout(PHASE_TIMEOUT, opening).await.map_err(|_| "opening timed out".to_owned())?
}

/// Waits for the next message, then takes every message already waiting: whatever is pending
/// for a connection goes out together.
pub async fn next_batch<T: Clone>(rx: &mut Receiver<T>, batch: &mut Vec<T>) -> Result<(), String> {
    batch.push(rx.recv().await.map_err(|e| format!("broadcast channel: {e}"))?);
    loop {
        match rx.try_recv() {
            Ok(m) => batch.push(m),
            Err(TryRecvError::Empty) => return Ok(()),
            Err(e) => return Err(format!("broadcast channel: {e}")),
        }
    }
}

/// This process's user and system CPU time, in seconds.
fn cpu_times() -> (f64, f64) {
    // SAFETY: `getrusage` only writes the struct it is given, which is plain data.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a `rusage` that lives across the call.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed");
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    (secs(usage.ru_utime), secs(usage.ru_stime))
}

/// CLOCK_MONOTONIC in seconds: the clock `perf record -k CLOCK_MONOTONIC` stamps its samples
/// with, so a profile can be cut to the measured window (`benches/loadgen/broadcast_profile.sh`).
fn monotonic() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: a valid pointer to a `timespec` that lives across the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
    assert_eq!(rc, 0, "clock_gettime failed");
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// What the broadcast cost.
struct Measured {
    /// The measured window on CLOCK_MONOTONIC.
    window: (f64, f64),
    wall: f64,
    user: f64,
    sys: f64,
    delivered: usize,
}

/// Accepts the control connection and N WebSocket connections (each served by `serve`), waits
/// for the start signal, broadcasts the M messages (each turned into the library's message
/// object by `prepare`) and measures.
async fn broadcast<I, P, S, F>(
    a: &Args,
    listener: TcpListener,
    control: &mut BufReader<TcpStream>,
    prepare: P,
    serve: S,
) -> Result<Measured, String>
where
    I: Clone + Send + 'static,
    P: Fn(&str) -> I,
    S: Fn(TcpStream, Receiver<I>, Arc<Shared>) -> F,
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    let shared = Shared::new(a);
    let (tx, _) = broadcast::channel::<I>(a.messages);
    open_all(a, listener, control, &shared, |stream| serve(stream, tx.subscribe(), Arc::clone(&shared))).await?;

    let n = a.connections;
    let (shared, tx) = (&shared, &tx);
    measure(a, shared, |texts| async move {
        match a.mode {
            Mode::Burst => {
                for text in texts {
                    tx.send(prepare(text)).map_err(|_| "no receivers".to_owned())?;
                }
                shared.wait_delivered(n * a.messages).await
            }
            Mode::Paced => {
                for (k, text) in texts.iter().enumerate() {
                    tx.send(prepare(text)).map_err(|_| "no receivers".to_owned())?;
                    shared.wait_delivered(n * (k + 1)).await?;
                }
                Ok(())
            }
        }
    })
    .await
}

/// Makes the application's data (before the start), then measures `run` over it: wall time
/// and this process's CPU time until it returns.
async fn measure<'a, F>(a: &Args, shared: &Shared, run: impl FnOnce(&'a [String]) -> F) -> Result<Measured, String>
where
    F: Future<Output = Result<(), String>> + 'a,
{
    let texts: Vec<String> = (0..a.messages as u64).map(|k| wsproto_loadgen::tick::tick_json(k, a.size)).collect();
    // Leaked: the texts live as long as the process (one run per process).
    let texts: &'a [String] = Vec::leak(texts);
    let (user0, sys0) = cpu_times();
    let mono0 = monotonic();
    let start = Instant::now();
    tokio::time::timeout(PHASE_TIMEOUT, run(texts)).await.map_err(|_| "broadcast timed out".to_owned())??;
    let wall = start.elapsed().as_secs_f64();
    let mono1 = monotonic();
    let (user1, sys1) = cpu_times();
    let delivered = shared.delivered.load(Relaxed);
    Ok(Measured { window: (mono0, mono1), wall, user: user1 - user0, sys: sys1 - sys0, delivered })
}

async fn run(a: &Args) -> Result<(Measured, String), String> {
    let listener = TcpListener::bind(&a.addr).await.map_err(|e| format!("bind {}: {e}", a.addr))?;
    eprintln!("broadcast server ({}) on ws://{}", a.lib, listener.local_addr().map_err(|e| e.to_string())?);
    let (control, _) = listener.accept().await.map_err(|e| format!("control: {e}"))?;
    let mut control = BufReader::new(control);
    let deflate = a.deflate;
    if deflate && !matches!(a.lib.as_str(), "wsproto" | "wsproto-send" | "wsproto-fanout") {
        return Err(format!("{} has no permessage-deflate", a.lib));
    }
    let m = match a.lib.as_str() {
        "wsproto" => broadcast(a, listener, &mut control, |t| ours::prepare(t, deflate), ours::serve_prepared).await?,
        "wsproto-send" => broadcast(a, listener, &mut control, ours::text, ours::serve_send).await?,
        "wsproto-fanout" => fanout::broadcast(a, listener, &mut control).await?,
        "tungstenite" => {
            broadcast(a, listener, &mut control, peer_tungstenite::prepare, peer_tungstenite::serve).await?
        }
        "fastwebsockets" => {
            broadcast(a, listener, &mut control, peer_fastwebsockets::prepare, peer_fastwebsockets::serve).await?
        }
        "tokio-websockets" => {
            broadcast(a, listener, &mut control, peer_tokio_websockets::prepare, peer_tokio_websockets::serve).await?
        }
        l => return Err(format!("unknown --lib {l}")),
    };
    // The client's report: everything arrived and checked.
    let mut line = String::new();
    let report = tokio::time::timeout(PHASE_TIMEOUT, control.read_line(&mut line)).await;
    if !matches!(report, Ok(Ok(n)) if n > 0) {
        line = "no report".to_owned();
    }
    let _ = control.get_mut().shutdown().await;
    Ok((m, line.trim().to_owned()))
}

fn main() {
    let a = args();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let result = runtime.block_on(run(&a));
    let (m, report) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("broadcast_server: {e}");
            std::process::exit(1);
        }
    };
    let mut words = report.split_whitespace();
    let received: usize = match (words.next(), words.next()) {
        (Some("received"), Some(n)) => n.parse().unwrap_or(0),
        _ => 0,
    };
    let ok = words.next() == Some("ok");
    let per = |s: f64| s / m.delivered.max(1) as f64 * 1e6;
    let mode = match a.mode {
        Mode::Burst => "burst",
        Mode::Paced => "paced",
    };
    println!(
        "{{\"library\":\"{}\",\"mode\":\"{mode}\",\"compression\":\"{}\",\"n\":{},\"m\":{},\"size\":{},\
         \"wall_s\":{:.6},\"user_s\":{:.6},\"sys_s\":{:.6},\"cpu_us_per_msg\":{:.4},\"user_us_per_msg\":{:.4},\
         \"sys_us_per_msg\":{:.4},\"delivered\":{},\"client_received\":{received},\"client_ok\":{ok},\
         \"client_report\":\"{}\",\"window_mono_s\":[{:.6},{:.6}]}}",
        a.lib,
        if a.deflate { "deflate" } else { "none" },
        a.connections,
        a.messages,
        a.size,
        m.wall,
        m.user,
        m.sys,
        per(m.user + m.sys),
        per(m.user),
        per(m.sys),
        m.delivered,
        report.replace(['"', '\\'], "'"),
        m.window.0,
        m.window.1,
    );
    // Ends the process without waiting for the connection tasks (they hold their sockets).
    drop(runtime);
    std::process::exit(if ok && received == m.delivered { 0 } else { 3 });
}
