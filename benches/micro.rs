//! Micro-benchmarks of the core: masking, header codec, UTF-8 validation, message decode and
//! encode. Run with `cargo bench --bench micro`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use wsproto::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, decode_header, encode_header};
use wsproto::mask::{apply_mask, copy_masked};
use wsproto::utf8::Utf8Validator;
use wsproto::{Config, Connection, Event, KeySource, Role};

fn masking(c: &mut Criterion) {
    let mut g = c.benchmark_group("mask");
    for size in [16usize, 1024, 64 * 1024, 1 << 20] {
        let mut data = vec![0x5a_u8; size + 3];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("aligned", size), &size, |b, &size| {
            b.iter(|| apply_mask(black_box(&mut data[..size]), [1, 2, 3, 4], 0))
        });
        g.bench_with_input(BenchmarkId::new("unaligned", size), &size, |b, &size| {
            b.iter(|| apply_mask(black_box(&mut data[3..size + 3]), [1, 2, 3, 4], 1))
        });
        // What a client send does: copy the payload into the output and mask it, in one pass
        // (`copy_masked`) or as a copy followed by an in-place mask.
        let src = vec![0x33_u8; size];
        let mut dst = vec![0_u8; size];
        g.bench_with_input(BenchmarkId::new("copy_masked", size), &size, |b, _| {
            b.iter(|| copy_masked(black_box(&mut dst), black_box(&src), [1, 2, 3, 4], 0))
        });
        g.bench_with_input(BenchmarkId::new("copy_then_mask", size), &size, |b, _| {
            b.iter(|| {
                dst.copy_from_slice(black_box(&src));
                apply_mask(black_box(&mut dst), [1, 2, 3, 4], 0)
            })
        });
    }
    g.finish();
}

fn header(c: &mut Criterion) {
    let h = FrameHeader::new(OpCode::Binary, true, 70_000, Some([1, 2, 3, 4]));
    let mut buf = [0; MAX_HEADER_LEN];
    let n = encode_header(&h, &mut buf);
    c.bench_function("header/decode", |b| b.iter(|| decode_header(black_box(&buf[..n]))));
    c.bench_function("header/encode", |b| b.iter(|| encode_header(black_box(&h), &mut buf)));
}

fn mixed_text(len: usize) -> String {
    let pieces = ["hello ", "wörld ", "€uro ", "日本語 ", "🦀 ", "plain ascii text "];
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        s.push_str(pieces[i % pieces.len()]);
        i += 1;
    }
    while s.len() > len {
        s.pop();
    }
    s
}

fn utf8(c: &mut Criterion) {
    let mut g = c.benchmark_group("utf8");
    let ascii = "a".repeat(64 * 1024);
    let mixed = mixed_text(64 * 1024);
    for (name, text) in [("ascii", &ascii), ("mixed", &mixed)] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                v.feed(black_box(text.as_bytes())).unwrap();
                v.is_complete()
            })
        });
    }
    g.finish();
}

/// Masked frames as a client sends them.
fn client_stream(count: usize, payload: &[u8], text: bool) -> Vec<u8> {
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(9));
    let mut wire = Vec::new();
    for _ in 0..count {
        if text {
            client.send_text(std::str::from_utf8(payload).unwrap(), &mut wire).unwrap();
        } else {
            client.send_binary(payload, &mut wire).unwrap();
        }
    }
    wire
}

fn decode_all(wire: &mut [u8]) -> usize {
    let mut server = Connection::new(Role::Server, Config::new());
    let mut pos = 0;
    let mut bytes = 0;
    loop {
        let r = server.receive(&mut wire[pos..]).unwrap();
        pos += r.consumed;
        match r.event {
            Some(Event::Data { data, .. }) => bytes += data.len(),
            Some(_) => {}
            None => return bytes,
        }
    }
}

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    let text = mixed_text(1024);
    for (name, count, payload, is_text) in [
        ("16B", 100_000, vec![7u8; 16], false),
        ("1KiB", 10_000, vec![7u8; 1024], false),
        ("1MiB", 100, vec![7u8; 1 << 20], false),
        ("text_1KiB", 10_000, text.into_bytes(), true),
    ] {
        let wire = client_stream(count, &payload, is_text);
        let mut work = wire.clone();
        g.throughput(Throughput::Elements(count as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                // Unmasking is in place: restore the masked bytes for every iteration.
                work.copy_from_slice(&wire);
                decode_all(black_box(&mut work))
            })
        });
    }
    g.finish();
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode");
    let payload = vec![7u8; 1024];
    for role in [Role::Client, Role::Server] {
        let mut conn = Connection::new(role, Config::new()).with_key_source(KeySource::seeded(5));
        let mut out = Vec::with_capacity(1100 * 10_000);
        g.throughput(Throughput::Elements(10_000));
        g.bench_function(format!("{role:?}_1KiB"), |b| {
            b.iter(|| {
                out.clear();
                for _ in 0..10_000 {
                    conn.send_binary(black_box(&payload), &mut out).unwrap();
                }
                out.len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, masking, header, utf8, decode, encode);
criterion_main!(benches);
