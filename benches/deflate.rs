//! permessage-deflate throughput: compress + send and receive + inflate of 1 KiB JSON-like text
//! messages and 64 KiB messages (JSON-like and random), against the same work done by flate2
//! alone (raw `Compress` / `Decompress` with a sync flush). Throughput counts uncompressed
//! bytes. Run with `cargo bench --features deflate --bench deflate`.
//!
//! Each benchmark cycles through a set of distinct messages, with context takeover (the
//! default), so that no message is compressed against an identical copy of itself.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use wsproto::{Config, Connection, Event, KeySource, MessageKind, Role};

const TRAILER: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
const SCRATCH: usize = 64 * 1024;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// JSON-like records with varying values, `len` bytes.
fn json_like(len: usize, seed: u64) -> Vec<u8> {
    const NAMES: [&str; 8] = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
    let mut rng = Rng(seed | 1);
    let mut s = String::from("[");
    while s.len() < len {
        let n = rng.next();
        s.push_str(&format!(
            "{{\"id\":{},\"user\":\"{}\",\"active\":{},\"score\":{}.{},\"tags\":[\"t{}\",\"t{}\"],\"ts\":{}}},",
            n % 1_000_000,
            NAMES[(n >> 20) as usize % NAMES.len()],
            n & 1 == 0,
            (n >> 24) % 1000,
            (n >> 34) % 100,
            (n >> 40) % 50,
            (n >> 46) % 50,
            1_700_000_000 + (n >> 8) % 10_000_000,
        ));
    }
    s.truncate(len);
    s.into_bytes()
}

fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// A set of distinct messages of one shape.
struct Case {
    name: &'static str,
    kind: MessageKind,
    messages: Vec<Vec<u8>>,
}

impl Case {
    fn bytes(&self) -> u64 {
        self.messages.iter().map(|m| m.len() as u64).sum()
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case { name: "json_1KiB", kind: MessageKind::Text, messages: (0..64).map(|i| json_like(1024, i)).collect() },
        Case {
            name: "json_64KiB",
            kind: MessageKind::Text,
            messages: (0..16).map(|i| json_like(64 * 1024, 100 + i)).collect(),
        },
        Case {
            name: "random_64KiB",
            kind: MessageKind::Binary,
            messages: (0..16).map(|i| random(64 * 1024, 200 + i)).collect(),
        },
    ]
}

fn agreed() -> PerMessageDeflate {
    PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new())
}

/// What a client sends for all the messages of `case`, one after another.
fn client_wire(case: &Case) -> Vec<u8> {
    let mut client =
        Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(1)).with_deflate(agreed());
    let mut wire = Vec::new();
    for m in &case.messages {
        client.send(case.kind, m, &mut wire).unwrap();
    }
    wire
}

/// flate2 alone: each message compressed with a sync flush (context kept), trailer removed.
fn flate2_compress_all(case: &Case) -> Vec<Vec<u8>> {
    let mut c = Compress::new(Compression::new(DeflateConfig::new().level), false);
    case.messages
        .iter()
        .map(|m| {
            let mut out = Vec::new();
            flate2_compress(&mut c, m, &mut out);
            out.truncate(out.len() - TRAILER.len());
            out
        })
        .collect()
}

/// Compresses `data` into `out` with a sync flush (trailer kept).
fn flate2_compress(c: &mut Compress, data: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(data.len() / 2 + 64);
    let start = c.total_in();
    loop {
        let done = (c.total_in() - start) as usize;
        c.compress_vec(&data[done..], out, FlushCompress::Sync).unwrap();
        if (c.total_in() - start) as usize == data.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity().max(64));
    }
}

/// Compressed payload bytes in a wire of frames (headers and masks not counted).
fn payload_bytes(wire: &[u8]) -> usize {
    message_payloads(wire).iter().map(Vec::len).sum()
}

/// The payload of each message in a wire of single-frame messages, unmasked.
fn message_payloads(mut wire: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !wire.is_empty() {
        assert_eq!(wire[0] & 0x80, 0x80, "single-frame messages");
        let mut at = 2;
        let len = match wire[1] & 0x7f {
            126 => {
                at += 2;
                usize::from(u16::from_be_bytes([wire[2], wire[3]]))
            }
            127 => {
                at += 8;
                u64::from_be_bytes(wire[2..10].try_into().unwrap()) as usize
            }
            n => usize::from(n),
        };
        let mut key = [0; 4];
        if wire[1] & 0x80 != 0 {
            key.copy_from_slice(&wire[at..at + 4]);
            at += 4;
        }
        out.push(wire[at..at + len].iter().enumerate().map(|(i, b)| b ^ key[i % 4]).collect());
        wire = &wire[at + len..];
    }
    out
}

fn print_ratios(cases: &[Case]) {
    eprintln!("compression ratios (uncompressed / compressed payload, level {}):", DeflateConfig::new().level);
    for case in cases {
        let ours = payload_bytes(&client_wire(case));
        let reference: usize = flate2_compress_all(case).iter().map(Vec::len).sum();
        let raw = case.bytes() as f64;
        eprintln!(
            "  {:<13} wsproto {:>6.2}x ({} -> {} bytes)   flate2 alone {:>6.2}x ({} bytes)",
            case.name,
            raw / ours as f64,
            case.bytes(),
            ours,
            raw / reference as f64,
            reference
        );
    }
}

fn send(c: &mut Criterion) {
    let cases = cases();
    print_ratios(&cases);
    let mut g = c.benchmark_group("deflate/send");
    for case in &cases {
        let per_message = case.messages[0].len() as u64;
        g.throughput(Throughput::Bytes(per_message));
        g.bench_function(BenchmarkId::new("wsproto", case.name), |b| {
            let mut server = Connection::new(Role::Server, Config::new()).with_deflate(agreed());
            let mut out = Vec::with_capacity(2 * per_message as usize);
            let mut i = 0;
            b.iter(|| {
                out.clear();
                server.send(case.kind, &case.messages[i % case.messages.len()], &mut out).unwrap();
                i += 1;
                black_box(out.len())
            })
        });
        g.bench_function(BenchmarkId::new("flate2", case.name), |b| {
            let mut compress = Compress::new(Compression::new(DeflateConfig::new().level), false);
            let mut out = Vec::with_capacity(2 * per_message as usize);
            let mut i = 0;
            b.iter(|| {
                flate2_compress(&mut compress, &case.messages[i % case.messages.len()], &mut out);
                i += 1;
                black_box(out.len())
            })
        });
    }
    g.finish();
}

fn receive(c: &mut Criterion) {
    let cases = cases();
    let mut g = c.benchmark_group("deflate/receive");
    for case in &cases {
        // One iteration reads the whole set, in order (context takeover links the messages).
        g.throughput(Throughput::Bytes(case.bytes()));
        let wire = client_wire(case);
        let fresh = || Connection::new(Role::Server, Config::new()).with_deflate(agreed());
        g.bench_function(BenchmarkId::new("wsproto", case.name), |b| {
            let mut scratch = vec![0u8; SCRATCH];
            b.iter_batched(
                // Each iteration starts with a fresh inflater.
                || (fresh(), wire.clone()),
                |(mut server, mut input)| {
                    let mut pos = 0;
                    let mut total = 0;
                    loop {
                        let r = server.receive_into(&mut input[pos..], &mut scratch).unwrap();
                        pos += r.consumed;
                        match r.event {
                            Some(Event::Data { data, .. }) => total += data.len(),
                            Some(_) => unreachable!(),
                            None => break,
                        }
                    }
                    assert_eq!(total as u64, case.bytes());
                    // Returned so that criterion drops them after timing.
                    (server, input)
                },
                BatchSize::LargeInput,
            )
        });
        // The reference inflates exactly the payloads wsproto received (unmasked), trailer
        // appended.
        let compressed: Vec<Vec<u8>> = message_payloads(&wire)
            .into_iter()
            .map(|mut p| {
                p.extend_from_slice(&TRAILER);
                p
            })
            .collect();
        assert_eq!(compressed.len(), case.messages.len());
        g.bench_function(BenchmarkId::new("flate2", case.name), |b| {
            let mut out = vec![0u8; SCRATCH];
            b.iter_batched(
                || Decompress::new(false),
                |mut d| {
                    let mut total = 0;
                    for input in &compressed {
                        let start = d.total_in();
                        loop {
                            let (i0, o0) = (d.total_in(), d.total_out());
                            let done = (i0 - start) as usize;
                            d.decompress(&input[done..], &mut out, FlushDecompress::Sync).unwrap();
                            let made = (d.total_out() - o0) as usize;
                            total += made;
                            if (d.total_in() - start) as usize == input.len() && made < out.len() {
                                break;
                            }
                        }
                    }
                    assert_eq!(total as u64, case.bytes());
                    d
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, send, receive);
criterion_main!(benches);
