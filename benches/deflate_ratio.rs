//! What permessage-deflate's settings cost in compression ratio on a JSON stream: the bytes
//! on the wire for the same stream of small JSON messages under context takeover with 15-bit
//! windows (the most compression, the most memory), 12-bit windows, and no context takeover
//! (the default server direction: nothing held between messages).
//!
//! ```text
//! cargo bench --features deflate --bench deflate_ratio
//! ```
//!
//! Deterministic (seeded data, no timing): it prints one table.

use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use wsproto::{Config, Connection, Role};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// A stream of `count` JSON messages shaped like market data or chat events, about
/// 120–400 bytes each, with varying values.
fn json_stream(count: usize, seed: u64) -> Vec<Vec<u8>> {
    const SYMBOLS: [&str; 6] = ["BTC-USD", "ETH-USD", "SOL-USD", "EUR-USD", "AAPL", "MSFT"];
    const USERS: [&str; 8] = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
    let mut rng = Rng(seed | 1);
    (0..count)
        .map(|i| {
            let n = rng.next();
            let s = if n % 3 == 0 {
                format!(
                    "{{\"type\":\"chat\",\"seq\":{i},\"room\":\"general\",\"user\":\"{}\",\"text\":\"message number {} from the room, with some words\",\"ts\":{}}}",
                    USERS[(n >> 8) as usize % USERS.len()],
                    n % 10_000,
                    1_700_000_000_000u64 + i as u64 * 37,
                )
            } else {
                format!(
                    "{{\"type\":\"ticker\",\"seq\":{i},\"symbol\":\"{}\",\"bid\":{}.{:02},\"ask\":{}.{:02},\"volume\":{},\"book\":[[{},{}],[{},{}],[{},{}]],\"ts\":{}}}",
                    SYMBOLS[(n >> 8) as usize % SYMBOLS.len()],
                    (n >> 16) % 70_000,
                    (n >> 32) % 100,
                    (n >> 16) % 70_000 + 1,
                    (n >> 40) % 100,
                    (n >> 20) % 1_000_000,
                    (n >> 3) % 1000,
                    (n >> 13) % 100,
                    (n >> 23) % 1000,
                    (n >> 33) % 100,
                    (n >> 43) % 1000,
                    (n >> 53) % 100,
                    1_700_000_000_000u64 + i as u64 * 37,
                )
            };
            s.into_bytes()
        })
        .collect()
}

/// Wire bytes for `messages` sent by a server under `params`.
fn wire_bytes(messages: &[Vec<u8>], params: DeflateParams) -> usize {
    let agreed = PerMessageDeflate::new(params, &DeflateConfig::new());
    let mut server = Connection::new(Role::Server, Config::new()).with_deflate(agreed);
    let mut wire = Vec::new();
    for m in messages {
        server.send_binary(m, &mut wire).unwrap();
    }
    wire.len()
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is ignored: this bench is one table.
    let messages = json_stream(10_000, 7);
    let raw: usize = messages.iter().map(Vec::len).sum();
    let framed = raw + messages.iter().map(|m| if m.len() < 126 { 2 } else { 4 }).sum::<usize>();
    let rows = [
        ("context takeover, 15-bit window", DeflateParams::DEFAULT),
        ("context takeover, 12-bit window", DeflateParams { server_max_window_bits: 12, ..DeflateParams::DEFAULT }),
        ("context takeover, 9-bit window", DeflateParams { server_max_window_bits: 9, ..DeflateParams::DEFAULT }),
        (
            "no context takeover (`DeflateConfig::low_memory`)",
            DeflateParams { server_no_context_takeover: true, ..DeflateParams::DEFAULT },
        ),
    ];
    println!("JSON stream: {} messages, {raw} bytes of payload ({framed} bytes framed uncompressed)", messages.len());
    println!();
    println!("| server compresses with | wire bytes | of uncompressed | vs 15-bit takeover |");
    println!("|---|---:|---:|---:|");
    let best = wire_bytes(&messages, DeflateParams::DEFAULT);
    for (name, params) in rows {
        let n = wire_bytes(&messages, params);
        println!("| {name} | {n} | {:.1} % | {:.2}× |", 100.0 * n as f64 / framed as f64, n as f64 / best as f64);
    }
}
