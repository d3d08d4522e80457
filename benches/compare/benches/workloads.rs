//! W1–W5 on our crate, tungstenite, fastwebsockets and tokio-websockets, plus a memcpy of the
//! same bytes. See `docs/performance.md` for what each row measures and how to run it:
//!
//! ```text
//! cd benches/compare && CARGO_BUILD_JOBS=1 taskset -c 1 cargo bench --bench workloads
//! ```
//!
//! Times are the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), so that time spent
//! waiting for a shared core is not counted; set `WALL_CLOCK=1` to measure wall-clock time.
//!
//! Every iteration asserts the message and byte totals; `verify_all` / `verify_encoders` check
//! every payload byte once before timing starts.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, Throughput};
use wsproto::{Config, Connection, KeySource, Role};
use wsproto_compare::*;

fn nothing(_: &[u8], _: bool) {}

fn decode<M: Measurement>(c: &mut Criterion<M>, w: &Workload) {
    verify_all(w);
    let rt = runtime();
    let mut g = c.benchmark_group(w.name);
    g.throughput(Throughput::Bytes(w.payload_bytes() as u64));
    let mut work = vec![0u8; w.wire.len()];

    g.bench_function("memcpy", |b| {
        b.iter(|| {
            work.copy_from_slice(black_box(&w.wire));
            black_box(&mut work);
        })
    });
    let mut chunk = vec![0u8; 64 * 1024];
    g.bench_function("memcpy-chunked-64k", |b| b.iter(|| memcpy_chunked(black_box(&w.wire), &mut chunk)));
    g.bench_function("wsproto", |b| b.iter(|| w.check(ours_decode(black_box(&w.wire), &mut work, w.text, nothing))));
    if !w.text {
        // Unmasking twice restores the input; the decode work does not depend on the bytes.
        work.copy_from_slice(&w.wire);
        g.bench_function("wsproto-no-restore", |b| {
            b.iter(|| w.check(ours_decode_in_place(black_box(&mut work), w.text, nothing)))
        });
    }
    g.bench_function("wsproto-chunked-64k", |b| {
        b.iter(|| w.check(ours_decode_chunked(black_box(&w.wire), &mut chunk, w.text, nothing)))
    });
    // Whole messages through 64 KiB reads: the documented `receive` + `MessageAssembler::push`
    // loop, and the receive buffers (growing, and over a fixed slice).
    g.bench_function("wsproto-assembler-64k", |b| {
        b.iter(|| w.check(ours_assemble_chunked(black_box(&w.wire), &mut chunk, w.text, nothing)))
    });
    let mut rb = wsproto::ReceiveBuffer::new();
    g.bench_function("wsproto-buffer-64k", |b| {
        b.iter(|| w.check(ours_receive_buffer(black_box(&w.wire), &mut rb, 64 * 1024, w.text, nothing)))
    });
    let mut slice = vec![0u8; SLICE_BUFFER];
    g.bench_function("wsproto-slice-buffer-64k", |b| {
        b.iter(|| w.check(ours_slice_buffer(black_box(&w.wire), &mut slice, 64 * 1024, w.text, nothing)))
    });
    g.bench_function("tungstenite", |b| {
        b.iter(|| w.check(tungstenite_decode(black_box(&w.wire), w.count, w.text, nothing)))
    });
    g.bench_function("fastwebsockets", |b| {
        b.iter(|| w.check(rt.block_on(fastwebsockets_decode(black_box(&w.wire), w.count, w.text, nothing))))
    });
    g.bench_function("fastwebsockets-raw", |b| {
        b.iter(|| w.check(rt.block_on(fastwebsockets_decode_raw(black_box(&w.wire), w.count, w.text, nothing))))
    });
    g.bench_function("tokio-websockets", |b| {
        b.iter(|| w.check(rt.block_on(tokio_websockets_decode(black_box(&w.wire), w.count, w.text, nothing))))
    });
    g.finish();
}

fn encode<M: Measurement>(c: &mut Criterion<M>, w: &Workload) {
    verify_encoders(w);
    let rt = runtime();
    let mut g = c.benchmark_group(w.name);
    g.throughput(Throughput::Bytes(w.payload_bytes() as u64));
    let expected = w.wire.len();
    let check = |n: usize| assert_eq!(n, expected);

    let mut dst = vec![0u8; expected];
    g.bench_function("memcpy", |b| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&w.wire));
            black_box(&mut dst);
        })
    });
    let mut out = Vec::with_capacity(expected);
    let mut os = Connection::new(Role::Client, Config::new());
    g.bench_function("wsproto", |b| {
        b.iter(|| check(ours_encode(&mut os, black_box(&w.payload), w.count, &mut out, OUT_FLUSH)))
    });
    let mut seeded = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(5));
    g.bench_function("wsproto-seeded-keys", |b| {
        b.iter(|| check(ours_encode(&mut seeded, black_box(&w.payload), w.count, &mut out, OUT_FLUSH)))
    });
    g.bench_function("wsproto-whole-output", |b| {
        b.iter(|| check(ours_encode(&mut os, black_box(&w.payload), w.count, &mut out, usize::MAX)))
    });
    let bytes = bytes::Bytes::from(w.payload.clone());
    g.bench_function("tungstenite", |b| {
        b.iter(|| check(tungstenite_encode(black_box(&bytes), w.count, MemStream::new(&[])).written))
    });
    let mut scratch = w.payload.clone();
    g.bench_function("fastwebsockets", |b| {
        b.iter(|| {
            let s =
                rt.block_on(fastwebsockets_encode(black_box(&w.payload), w.count, &mut scratch, MemStream::new(&[])));
            check(s.written)
        })
    });
    g.bench_function("fastwebsockets-borrowed", |b| {
        b.iter(|| {
            let s = rt.block_on(fastwebsockets_encode_borrowed(black_box(&w.payload), w.count, MemStream::new(&[])));
            check(s.written)
        })
    });
    g.bench_function("tokio-websockets", |b| {
        b.iter(|| check(rt.block_on(tokio_websockets_encode(black_box(&bytes), w.count, MemStream::new(&[]))).written))
    });
    g.finish();
}

fn all<M: Measurement>(c: &mut Criterion<M>) {
    for w in workloads() {
        if w.name == "W5" {
            encode(c, &w);
        } else {
            decode(c, &w);
        }
    }
}

/// The benchmark thread's CPU time, as a criterion measurement.
struct ThreadCpuTime;

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu_time()
    }

    fn end(&self, start: Duration) -> Duration {
        thread_cpu_time() - start
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

/// Nanoseconds shown as ns/µs/ms of CPU time; throughput as GB/s or M elements/s.
struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = if typical < 1e3 {
            (1.0, "ns cpu")
        } else if typical < 1e6 {
            (1e3, "us cpu")
        } else {
            (1e6, "ms cpu")
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }

    fn scale_throughputs(&self, _typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        // n per nanosecond, times `mult`.
        let (n, unit, mult) = match *t {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => (n as f64, "GB/s cpu", 1.0),
            Throughput::Elements(n) => (n as f64, "Melem/s cpu", 1e3),
            _ => (1.0, "iter/s cpu", 1e9),
        };
        values.iter_mut().for_each(|v| *v = n / *v * mult);
        unit
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn config<M: Measurement>(c: Criterion<M>) -> Criterion<M> {
    c.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

fn main() {
    if std::env::var_os("WALL_CLOCK").is_some() {
        let mut c = config(Criterion::default().with_measurement(WallTime));
        all(&mut c);
        c.final_summary();
    } else {
        let mut c = config(Criterion::default().with_measurement(ThreadCpuTime));
        all(&mut c);
        c.final_summary();
    }
}
