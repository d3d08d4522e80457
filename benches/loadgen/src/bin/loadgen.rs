//! Echo load generator: N connections, each sending one binary message at a time and waiting
//! for its echo (closed loop), for a fixed duration after a warm-up. Reports round trips per
//! second and round-trip latency percentiles.
//!
//! The client is raw frames on tokio: one pre-masked frame per connection, written with one
//! `write_all`, and a buffered frame reader that checks every echoed byte. It is the same client
//! for every server and does not offer permessage-deflate.
//!
//! ```text
//! loadgen ADDR [--connections N] [--size BYTES] [--duration SECS] [--warmup SECS]
//!              [--threads T] [--label NAME]
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsproto_loadgen::{client_handshake, masked_frame, quantile};

struct Args {
    addr: String,
    connections: usize,
    size: usize,
    duration: f64,
    warmup: f64,
    threads: usize,
    label: String,
}

fn args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:9002".into(),
        connections: 100,
        size: 20,
        duration: 10.0,
        warmup: 1.0,
        threads: 1,
        label: String::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--connections" | "-c" => a.connections = val().parse().unwrap(),
            "--size" | "-s" => a.size = val().parse().unwrap(),
            "--duration" | "-d" => a.duration = val().parse().unwrap(),
            "--warmup" | "-w" => a.warmup = val().parse().unwrap(),
            "--threads" | "-t" => a.threads = val().parse().unwrap(),
            "--label" | "-l" => a.label = val(),
            s if !s.starts_with('-') => a.addr = s.to_owned(),
            s => panic!("unknown option {s}"),
        }
    }
    a
}

/// Results of one connection.
#[derive(Default)]
struct Stats {
    /// Round trips in the measured window.
    round_trips: u64,
    /// Round trips including the warm-up (for the server's CPU time per message).
    all_round_trips: u64,
    bytes: u64,
    rtts_ns: Vec<u64>,
}

/// A read buffer that hands out whole server frames (unmasked, FIN, binary).
struct Reader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Reader {
    fn new(cap: usize) -> Self {
        Self { buf: vec![0; cap], start: 0, end: 0 }
    }

    async fn ensure(&mut self, stream: &mut TcpStream, n: usize) -> std::io::Result<()> {
        if self.end - self.start >= n {
            return Ok(());
        }
        if self.buf.len() - self.start < n {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < n {
            let got = stream.read(&mut self.buf[self.end..]).await?;
            if got == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.end += got;
        }
        Ok(())
    }

    /// Reads one echoed frame and checks it is `expected`, unmasked, binary, FIN.
    async fn echo(&mut self, stream: &mut TcpStream, expected: &[u8]) -> std::io::Result<()> {
        self.ensure(stream, 2).await?;
        let (b0, b1) = (self.buf[self.start], self.buf[self.start + 1]);
        assert_eq!(b0, 0x82, "expected a final binary frame");
        assert_eq!(b1 & 0x80, 0, "server frames are not masked");
        let (ext, len) = match b1 & 0x7f {
            126 => {
                self.ensure(stream, 4).await?;
                (2, usize::from(u16::from_be_bytes([self.buf[self.start + 2], self.buf[self.start + 3]])))
            }
            127 => panic!("no 64-bit lengths in this benchmark"),
            n => (0, usize::from(n)),
        };
        let total = 2 + ext + len;
        self.ensure(stream, total).await?;
        assert!(self.buf[self.start + 2 + ext..self.start + total] == *expected, "echo differs");
        self.start += total;
        Ok(())
    }
}

async fn run_connection(
    mut stream: TcpStream,
    payload: Arc<Vec<u8>>,
    key: [u8; 4],
    measure_from: Instant,
    end: Instant,
) -> std::io::Result<Stats> {
    let frame = masked_frame(0x2, &payload, key);
    let mut reader = Reader::new(64 * 1024 + payload.len() + 16);
    let mut stats = Stats::default();
    loop {
        let t0 = Instant::now();
        if t0 >= end {
            break;
        }
        stream.write_all(&frame).await?;
        reader.echo(&mut stream, &payload).await?;
        stats.all_round_trips += 1;
        if t0 >= measure_from {
            stats.round_trips += 1;
            stats.bytes += payload.len() as u64;
            stats.rtts_ns.push(t0.elapsed().as_nanos() as u64);
        }
    }
    // Close cleanly: our Close (1000), then wait briefly for the server to end the connection.
    let _ = stream.write_all(&masked_frame(0x8, &1000u16.to_be_bytes(), key)).await;
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
    Ok(stats)
}

async fn run(a: Args) {
    let payload: Arc<Vec<u8>> = Arc::new((0..a.size).map(|i| (i * 7 + 1) as u8).collect());
    // Connect and upgrade every connection before the clock starts.
    let mut streams = Vec::with_capacity(a.connections);
    for _ in 0..a.connections {
        let mut s = TcpStream::connect(&a.addr).await.expect("connect");
        s.set_nodelay(true).unwrap();
        client_handshake(&mut s, &a.addr).await.expect("handshake");
        streams.push(s);
    }
    let measure_from = Instant::now() + Duration::from_secs_f64(a.warmup);
    let end = measure_from + Duration::from_secs_f64(a.duration);
    let tasks: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let key = (0x9e37_79b9u32.wrapping_mul(i as u32 + 1)).to_be_bytes();
            tokio::spawn(run_connection(s, Arc::clone(&payload), key, measure_from, end))
        })
        .collect();
    let mut all = Stats::default();
    for t in tasks {
        let s = t.await.expect("task").expect("connection failed");
        all.round_trips += s.round_trips;
        all.all_round_trips += s.all_round_trips;
        all.bytes += s.bytes;
        all.rtts_ns.extend(s.rtts_ns);
    }
    all.rtts_ns.sort_unstable();
    let rate = all.round_trips as f64 / a.duration;
    let p50 = quantile(&all.rtts_ns, 0.50) as f64 / 1e3;
    let p99 = quantile(&all.rtts_ns, 0.99) as f64 / 1e3;
    let mean = all.rtts_ns.iter().sum::<u64>() as f64 / all.rtts_ns.len().max(1) as f64 / 1e3;
    println!(
        "{label}: {c} conns x {s} B, {d} s: {rt} round trips, {rate:.0} msg/s, {mbps:.1} MB/s each way, \
         p50 {p50:.1} us, p99 {p99:.1} us, mean {mean:.1} us",
        label = if a.label.is_empty() { &a.addr } else { &a.label },
        c = a.connections,
        s = a.size,
        d = a.duration,
        rt = all.round_trips,
        mbps = all.bytes as f64 / a.duration / 1e6,
    );
    println!(
        "{{\"label\":\"{}\",\"connections\":{},\"size\":{},\"duration_s\":{},\"round_trips\":{},\"all_round_trips\":{},\
         \"msgs_per_s\":{:.1},\"p50_us\":{:.1},\"p99_us\":{:.1},\"mean_us\":{:.1}}}",
        a.label, a.connections, a.size, a.duration, all.round_trips, all.all_round_trips, rate, p50, p99, mean
    );
}

fn main() {
    let a = args();
    let rt = if a.threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(a.threads).enable_all().build().unwrap()
    };
    rt.block_on(run(a));
}
