//! A small driver for profiling and for noise-resistant timing of the same workloads as
//! `benches/workloads.rs`.
//!
//! ```text
//! driver run ROW WORKLOAD ITERS     # ITERS timed iterations of one row (for callgrind / perf)
//! driver verify                    # every row of every workload delivers every payload byte
//! driver interleaved [ROUNDS]       # every row of every workload, round-robin, ROUNDS times;
//!                                   # prints the median and minimum per row and the target ratios
//! ```
//!
//! ROW is one of: memcpy, memcpy-chunked-64k, wsproto, wsproto-no-restore, wsproto-chunked-64k,
//! wsproto-assembler-64k, wsproto-buffer-64k, wsproto-slice-buffer-64k, wsproto-seeded-keys,
//! wsproto-whole-output, tungstenite, fastwebsockets, fastwebsockets-raw, fastwebsockets-borrowed, tokio-websockets.
//! WORKLOAD is W1 … W5. `interleaved` runs the rows of one workload one after the other within
//! each round, so slow drifts of machine load hit every row alike; ratios are computed per round
//! and their median is reported. Times are the thread's CPU time (waiting for a shared core is
//! not counted); the wall-clock median is shown beside it.

use std::hint::black_box;
use std::time::Instant;

use wsproto::{Config, Connection, KeySource, Role};
use wsproto_compare::*;

const DECODE_ROWS: &[&str] = &[
    "memcpy",
    "memcpy-chunked-64k",
    "wsproto",
    "wsproto-no-restore",
    "wsproto-chunked-64k",
    "wsproto-assembler-64k",
    "wsproto-buffer-64k",
    "wsproto-slice-buffer-64k",
    "tungstenite",
    "fastwebsockets",
    "fastwebsockets-raw",
    "tokio-websockets",
];
const ENCODE_ROWS: &[&str] = &[
    "memcpy",
    "wsproto",
    "wsproto-seeded-keys",
    "wsproto-whole-output",
    "tungstenite",
    "fastwebsockets",
    "fastwebsockets-borrowed",
    "tokio-websockets",
];
const PEERS: &[&str] =
    &["tungstenite", "fastwebsockets", "fastwebsockets-raw", "fastwebsockets-borrowed", "tokio-websockets"];

fn nothing(_: &[u8], _: bool) {}

/// Buffers reused across iterations of a row.
struct Ctx {
    rt: tokio::runtime::Runtime,
    work: Vec<u8>,
    chunk: Vec<u8>,
    out: Vec<u8>,
    scratch: Vec<u8>,
    bytes: bytes::Bytes,
    os: Connection,
    seeded: Connection,
    rb: wsproto::ReceiveBuffer,
    slice: Vec<u8>,
}

impl Ctx {
    fn new(w: &Workload) -> Self {
        let mut work = w.wire.clone();
        work.copy_from_slice(&w.wire);
        Self {
            rt: runtime(),
            work,
            chunk: vec![0; 64 * 1024],
            out: Vec::with_capacity(w.wire.len()),
            scratch: w.payload.clone(),
            bytes: bytes::Bytes::from(w.payload.clone()),
            os: Connection::new(Role::Client, Config::new()),
            seeded: Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(5)),
            rb: wsproto::ReceiveBuffer::new(),
            slice: vec![0; SLICE_BUFFER],
        }
    }
}

/// One iteration of `row` on `w`, with the same checks as the criterion bench. Not inlined, so
/// that `valgrind --tool=callgrind --toggle-collect='driver::once*'` counts just the iterations.
#[inline(never)]
fn once(row: &str, w: &Workload, c: &mut Ctx) {
    let wire = black_box(&w.wire[..]);
    if w.name == "W5" {
        let n = match row {
            "memcpy" => {
                c.work.copy_from_slice(wire);
                black_box(&mut c.work);
                wire.len()
            }
            "wsproto" => ours_encode(&mut c.os, black_box(&w.payload), w.count, &mut c.out, OUT_FLUSH),
            "wsproto-seeded-keys" => ours_encode(&mut c.seeded, black_box(&w.payload), w.count, &mut c.out, OUT_FLUSH),
            "wsproto-whole-output" => ours_encode(&mut c.os, black_box(&w.payload), w.count, &mut c.out, usize::MAX),
            "tungstenite" => tungstenite_encode(&c.bytes, w.count, MemStream::new(&[])).written,
            "fastwebsockets" => {
                c.rt.block_on(fastwebsockets_encode(&w.payload, w.count, &mut c.scratch, MemStream::new(&[]))).written
            }
            "fastwebsockets-borrowed" => {
                c.rt.block_on(fastwebsockets_encode_borrowed(&w.payload, w.count, MemStream::new(&[]))).written
            }
            "tokio-websockets" => {
                c.rt.block_on(tokio_websockets_encode(&c.bytes, w.count, MemStream::new(&[]))).written
            }
            _ => panic!("unknown row {row}"),
        };
        assert_eq!(n, w.wire.len());
        return;
    }
    let t = match row {
        "memcpy" => {
            c.work.copy_from_slice(wire);
            black_box(&mut c.work);
            return;
        }
        "memcpy-chunked-64k" => {
            memcpy_chunked(wire, &mut c.chunk);
            return;
        }
        "wsproto" => ours_decode(wire, &mut c.work, w.text, nothing),
        "wsproto-no-restore" => ours_decode_in_place(black_box(&mut c.work), w.text, nothing),
        "wsproto-chunked-64k" => ours_decode_chunked(wire, &mut c.chunk, w.text, nothing),
        "wsproto-assembler-64k" => ours_assemble_chunked(wire, &mut c.chunk, w.text, nothing),
        "wsproto-buffer-64k" => ours_receive_buffer(wire, &mut c.rb, 64 * 1024, w.text, nothing),
        "wsproto-slice-buffer-64k" => ours_slice_buffer(wire, &mut c.slice, 64 * 1024, w.text, nothing),
        "tungstenite" => tungstenite_decode(wire, w.count, w.text, nothing),
        "fastwebsockets" => c.rt.block_on(fastwebsockets_decode(wire, w.count, w.text, nothing)),
        "fastwebsockets-raw" => c.rt.block_on(fastwebsockets_decode_raw(wire, w.count, w.text, nothing)),
        "tokio-websockets" => c.rt.block_on(tokio_websockets_decode(wire, w.count, w.text, nothing)),
        _ => panic!("unknown row {row}"),
    };
    w.check(t);
}

fn rows(w: &Workload) -> Vec<&'static str> {
    let all = if w.name == "W5" { ENCODE_ROWS } else { DECODE_ROWS };
    all.iter().copied().filter(|r| !(w.text && *r == "wsproto-no-restore")).collect()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn interleaved(rounds: usize) {
    for w in workloads() {
        let rows = rows(&w);
        let mut c = Ctx::new(&w);
        // Warm up every row (and the allocator) once.
        for r in &rows {
            once(r, &w, &mut c);
        }
        // Repetitions per sample, so that a sample lasts a few milliseconds at least.
        let reps = match w.name {
            "W1" => 3,
            "W3" => 1,
            _ => 5,
        };
        // CPU time of this thread (primary) and wall-clock time, per sample.
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
        let mut walls: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
        let mut shuffle_state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..rounds {
            // A fresh order every round (a seeded shuffle): a rotation keeps the cycle, so one row
            // would always follow `memcpy`, and that row was measured 15-25 % slower whichever
            // it was (W5: `wsproto` and `wsproto-seeded-keys` swapped places when their order
            // was swapped), even after a warm-up iteration.
            let mut order: Vec<usize> = (0..rows.len()).collect();
            for j in (1..order.len()).rev() {
                shuffle_state ^= shuffle_state << 13;
                shuffle_state ^= shuffle_state >> 7;
                shuffle_state ^= shuffle_state << 17;
                order.swap(j, (shuffle_state % (j as u64 + 1)) as usize);
            }
            for &i in &order {
                // One untimed iteration first, so that every row is timed with its data warm.
                once(rows[i], &w, &mut c);
                if rows[i] == "wsproto-no-restore" {
                    c.work.copy_from_slice(&w.wire);
                }
                let (c0, t0) = (thread_cpu_time(), Instant::now());
                for _ in 0..reps {
                    once(rows[i], &w, &mut c);
                }
                walls[i].push(t0.elapsed().as_secs_f64() / reps as f64);
                times[i].push((thread_cpu_time() - c0).as_secs_f64() / reps as f64);
            }
        }
        let idx = |name: &str| rows.iter().position(|r| *r == name);
        println!(
            "\n{}: {} messages x {} B, {rounds} rounds x {reps} iterations, thread CPU time",
            w.name,
            w.count,
            w.payload.len()
        );
        println!(
            "{:<26}{:>11}{:>11}{:>11}{:>10}{:>9}{:>9}{:>10}",
            "row", "median ms", "min ms", "wall ms", "M msg/s", "GB/s", "vs peer", "vs memcpy"
        );
        for (i, r) in rows.iter().enumerate() {
            let mut vs_peer: Vec<f64> = (0..rounds)
                .map(|k| {
                    let best = PEERS.iter().filter_map(|p| idx(p)).map(|j| times[j][k]).fold(f64::INFINITY, f64::min);
                    best / times[i][k]
                })
                .collect();
            let m = idx("memcpy").unwrap();
            let mut vs_mem: Vec<f64> = (0..rounds).map(|k| times[m][k] / times[i][k]).collect();
            let mut t = times[i].clone();
            let med = median(&mut t);
            let min = t[0];
            let wall = median(&mut walls[i].clone());
            println!(
                "{:<26}{:>11.3}{:>11.3}{:>11.3}{:>10.2}{:>9.2}{:>8.2}x{:>9.2}x",
                r,
                med * 1e3,
                min * 1e3,
                wall * 1e3,
                w.count as f64 / med / 1e6,
                w.payload_bytes() as f64 / med / 1e9,
                median(&mut vs_peer),
                median(&mut vs_mem)
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => {
            let row = &args[1];
            let w = workloads().into_iter().find(|w| w.name == args[2]).expect("workload W1..W5");
            let iters: usize = args.get(3).map_or(1, |s| s.parse().unwrap());
            let mut c = Ctx::new(&w);
            if row == "wsproto-no-restore" {
                c.work.copy_from_slice(&w.wire);
            }
            let t0 = Instant::now();
            for _ in 0..iters {
                once(row, &w, &mut c);
            }
            let dt = t0.elapsed().as_secs_f64() / iters.max(1) as f64;
            eprintln!("{row} {}: {:.3} ms/iteration over {iters}", w.name, dt * 1e3);
        }
        Some("verify") => {
            for w in workloads() {
                if w.name == "W5" {
                    verify_encoders(&w);
                } else {
                    verify_all(&w);
                }
                eprintln!("{}: every row delivers every byte", w.name);
            }
        }
        Some("interleaved") => interleaved(args.get(1).map_or(15, |s| s.parse().unwrap())),
        _ => {
            eprintln!("usage: driver run ROW WORKLOAD ITERS | driver verify | driver interleaved [ROUNDS]");
            std::process::exit(2);
        }
    }
}
