//! The broadcast benchmark's message: a market-data tick as JSON text, padded to an exact size,
//! made the same way by the server (to send it) and the client (to check what arrived).

use std::fmt::Write as _;

/// The text of tick number `seq`: a market-data update (quote, last trade, the first levels of
/// the order book) in JSON, exactly `size` bytes long (at least 512). Prices and sizes vary
/// with `seq`, so every message differs and compresses as real ticks do (at level 1, on its
/// own, 1 KiB becomes about 630 bytes).
#[must_use]
pub fn tick_json(seq: u64, size: usize) -> String {
    assert!(size >= 512, "a tick needs at least 512 bytes");
    // A small deterministic generator, so that the client can rebuild any message.
    let mut state = seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x2545_f491_4f6c_dd1d;
    let mut next = move |modulo: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % modulo
    };
    let symbols = ["ACME", "GLOBEX", "INITECH", "UMBRELLA", "HOOLI", "STARK", "WAYNE", "TYRELL"];
    let symbol = symbols[(seq % symbols.len() as u64) as usize];
    let mid = 10_000 + next(5_000); // cents
    let (bid, ask) = (mid - 1 - next(3), mid + 1 + next(3));
    let mut s = String::with_capacity(size);
    let _ = write!(
        s,
        "{{\"type\":\"tick\",\"seq\":{seq},\"symbol\":\"{symbol}\",\"exchange\":\"XNAS\",\
         \"ts\":{},\"bid\":{}.{:02},\"ask\":{}.{:02},\"last\":{{\"price\":{}.{:02},\"size\":{},\
         \"side\":\"{}\"}},\"volume\":{},\"book\":{{\"bids\":[",
        1_700_000_000_000u64 + seq * 7,
        bid / 100,
        bid % 100,
        ask / 100,
        ask % 100,
        mid / 100,
        mid % 100,
        1 + next(900),
        if next(2) == 0 { "buy" } else { "sell" },
        1_000_000 + seq * 113 + next(1000),
    );
    // Order book levels until the text nears `size` (each level is at most 28 bytes), then the
    // asks, then a padding field.
    let tail = "]},\"pad\":\"\"}";
    let mut level = 0u64;
    let budget = size - tail.len() - 40;
    while s.len() + 28 < budget / 2 + 120 {
        let price = bid - level * (1 + next(4));
        let _ =
            write!(s, "{}[{}.{:02},{}]", if level > 0 { "," } else { "" }, price / 100, price % 100, 1 + next(5000));
        level += 1;
    }
    s.push_str("],\"asks\":[");
    level = 0;
    while s.len() + 28 < budget {
        let price = ask + level * (1 + next(4));
        let _ =
            write!(s, "{}[{}.{:02},{}]", if level > 0 { "," } else { "" }, price / 100, price % 100, 1 + next(5000));
        level += 1;
    }
    s.push_str("]},\"pad\":\"");
    while s.len() + 2 < size {
        s.push(' ');
    }
    s.push_str("\"}");
    assert_eq!(s.len(), size);
    s
}

#[cfg(test)]
mod tests {
    use super::tick_json;

    #[test]
    fn exact_size_and_distinct() {
        for seq in [0, 1, 199, 123_456] {
            for size in [512, 1024, 4096] {
                assert_eq!(tick_json(seq, size).len(), size);
            }
        }
        assert_ne!(tick_json(0, 1024), tick_json(1, 1024));
        assert_eq!(tick_json(7, 1024), tick_json(7, 1024));
    }
}
