//! What a handshake head costs in memory (issue 12): a head of at most the configured cap holds
//! at most twice the cap plus a fixed amount, however its lists are packed. Before the caps, an
//! 8 KiB request with `Sec-WebSocket-Extensions: a,a,a,…` held about 4,000 extension offers
//! (217 KB of live heap), and a 16 KiB response about 8,000 parameters (434 KB).
//!
//! A counting global allocator records the peak of live heap bytes (the sizes asked for; the
//! allocator's own rounding is not counted) on the measuring thread while a head is read,
//! checked and, for a request, accepted.
//!
//! Where the memory goes: the head buffer (at most the cap) and the owned copy of the head's
//! names and values (less than the cap) while the head is parsed; then, the buffer given back,
//! that copy and the strings of the offer lists (copies of bytes of the head, so together less
//! than twice the cap). On top of that, [`SLACK`] with the default limits (64 header lines): the
//! parser's header slots (64 × 32 bytes) and the header list's entries (64 × 48 bytes), the
//! entries of the capped offer lists (32 extensions × 48 bytes, 64 parameters × 48 bytes, 32
//! subprotocols × 24 bytes: 5,376 bytes), and the 101 response. Measured: at most 6.7 KB over
//! twice the cap for a request, 4.8 KB for a response.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Measured, measure};
use wsproto::KeySource;
use wsproto::handshake::{
    Accept, ClientHandshake, ClientRequest, ClientStatus, DEFAULT_MAX_REQUEST_SIZE, DEFAULT_MAX_RESPONSE_SIZE,
    ExtensionOffer, HandshakeError, MAX_EXTENSION_OFFERS, MAX_EXTENSION_PARAMS, MAX_PROTOCOLS, ServerHandshake,
    ServerStatus,
};

/// What a head may cost beyond twice its cap, with the default limits (see the file's
/// documentation): 64 header lines × (a 32-byte parser slot + a 48-byte list entry), the entries
/// of the capped offer lists, and 1 KiB for the 101 response being written: 11,520 bytes.
const SLACK: usize = 64 * (32 + 48) + (32 * 48 + 64 * 48 + 32 * 24) + 1024;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

const UPGRADE: &str = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// `start`, then one `field` line of `first` and as many `unit`s as fit in `cap` bytes, then the
/// empty line.
fn flood(start: &str, field: &str, first: &str, unit: &str, cap: usize) -> Vec<u8> {
    let mut head = format!("{start}{field}: {first}");
    while head.len() + unit.len() + 4 <= cap {
        head.push_str(unit);
    }
    head.push_str("\r\n\r\n");
    assert!(head.len() > cap - unit.len() - 4 && head.len() <= cap);
    head.into_bytes()
}

/// Reads `head` with a fresh server reader, whole or a byte at a time, and accepts it if it is
/// an upgrade; returns the outcome and the peak of live heap bytes.
fn serve(head: &[u8], bytewise: bool) -> (Result<(usize, usize), HandshakeError>, usize) {
    let Measured { value, peak, .. } = measure(|| {
        let mut reader = ServerHandshake::new();
        let status = if bytewise {
            let mut status = Ok(ServerStatus::NeedMore);
            for b in head.chunks(1) {
                status = reader.feed(b);
                if !matches!(status, Ok(ServerStatus::NeedMore)) {
                    break;
                }
            }
            status
        } else {
            reader.feed(head)
        };
        match status? {
            ServerStatus::Upgrade(u) => {
                let mut out = Vec::with_capacity(256);
                u.accept(&Accept::new(), &mut out)?;
                Ok((u.protocols().len(), u.extensions().len()))
            }
            other => panic!("{other:?}"),
        }
    });
    (value, peak)
}

#[test]
fn hostile_request_lists_cost_at_most_twice_the_cap() {
    let cap = DEFAULT_MAX_REQUEST_SIZE;
    let offers = HandshakeError::InvalidExtensions("too many extension offers");
    let params = HandshakeError::InvalidExtensions("too many extension parameters");
    let protocols = HandshakeError::TooManyProtocols { limit: MAX_PROTOCOLS };
    for (field, first, unit, want) in [
        ("Sec-WebSocket-Extensions", "a", ", a", offers),
        ("Sec-WebSocket-Extensions", "a", ",a", offers),
        ("Sec-WebSocket-Extensions", "x", "; a", params),
        ("Sec-WebSocket-Extensions", "x", ";a", params),
        ("Sec-WebSocket-Extensions", "x", ";a=1", params),
        ("Sec-WebSocket-Extensions", "x", ";a, x", offers),
        ("Sec-WebSocket-Extensions", "x", ";a;a;a, x", params),
        ("Sec-WebSocket-Protocol", "a", ", a", protocols),
        ("Sec-WebSocket-Protocol", "a", ",a", protocols),
    ] {
        let head = flood(UPGRADE, field, first, unit, cap);
        for bytewise in [false, true] {
            let (got, peak) = serve(&head, bytewise);
            eprintln!(
                "{field}: {first}{unit}{unit}… ({} bytes, bytewise {bytewise}): {got:?}, peak {peak}",
                head.len()
            );
            assert_eq!(got, Err(want), "{field}: {first}{unit}…");
            assert_eq!(want.status_hint(), 400);
            assert!(peak <= 2 * cap + SLACK, "{field}: {first}{unit}…: {peak} bytes for an {cap}-byte head");
        }
    }
    // A malformed element after the cap is still a malformed list.
    let mut head = flood(UPGRADE, "Sec-WebSocket-Protocol", "a", ",a", 2000);
    head.truncate(head.len() - 4);
    head.extend_from_slice(b", a b\r\n\r\n");
    assert_eq!(ServerHandshake::new().feed(&head), Err(HandshakeError::InvalidProtocols));
    let mut head = flood(UPGRADE, "Sec-WebSocket-Extensions", "a", ",a", 2000);
    head.truncate(head.len() - 4);
    head.extend_from_slice(b", a;\r\n\r\n");
    assert_eq!(ServerHandshake::new().feed(&head), Err(HandshakeError::InvalidExtensions("expected a parameter name")));
}

/// An upgrade request of exactly `cap` bytes with 64 header lines: the caps' worth of
/// subprotocols, extensions and parameters, every token as long as the cap allows.
fn maximal_request(cap: usize) -> Vec<u8> {
    let build = |len: usize| {
        let token = |c: char| c.to_string().repeat(len);
        let mut head = String::from(UPGRADE);
        for i in 0..MAX_PROTOCOLS / 2 {
            head.push_str(&format!("Sec-WebSocket-Protocol: {}{i}a, {}{i}b\r\n", token('p'), token('p')));
        }
        let per_offer = MAX_EXTENSION_PARAMS / MAX_EXTENSION_OFFERS;
        for i in 0..MAX_EXTENSION_OFFERS {
            head.push_str(&format!("Sec-WebSocket-Extensions: {}{i}", token('e')));
            for j in 0..per_offer {
                head.push_str(&format!("; {}{j}={}", token('k'), token('v')));
            }
            head.push_str("\r\n");
        }
        let mut n = 0;
        while head.matches("\r\n").count() < 64 {
            head.push_str(&format!("X-{n}: {}\r\n", token('x')));
            n += 1;
        }
        head
    };
    let mut len = 1;
    while build(len + 1).len() + 2 <= cap {
        len += 1;
    }
    let mut head = build(len);
    // Pad the last line to the cap exactly.
    head.truncate(head.len() - 2);
    head.push_str(&"x".repeat(cap - head.len() - 4));
    head.push_str("\r\n\r\n");
    assert_eq!(head.len(), cap);
    head.into_bytes()
}

#[test]
fn maximal_request_within_the_caps_costs_at_most_twice_the_cap() {
    let cap = DEFAULT_MAX_REQUEST_SIZE;
    let head = maximal_request(cap);
    for bytewise in [false, true] {
        let (got, peak) = serve(&head, bytewise);
        eprintln!("maximal request (bytewise {bytewise}): {got:?}, peak {peak}");
        assert_eq!(got, Ok((MAX_PROTOCOLS, MAX_EXTENSION_OFFERS)));
        assert!(peak <= 2 * cap + SLACK, "{peak} bytes for an {cap}-byte head");
    }
    // The caps are exact: one more subprotocol, extension or parameter is refused.
    let one_more = |line: &str| {
        let mut more = head.clone();
        more.truncate(more.len() - 2);
        more.extend_from_slice(line.as_bytes());
        more.extend_from_slice(b"\r\n\r\n");
        ServerHandshake::new().with_max_request_size(2 * cap).with_max_headers(65).feed(&more).map(|_| ())
    };
    assert_eq!(one_more("Sec-WebSocket-Protocol: one-more\r\n"), Err(HandshakeError::TooManyProtocols { limit: 32 }));
    assert_eq!(
        one_more("Sec-WebSocket-Extensions: one-more\r\n"),
        Err(HandshakeError::InvalidExtensions("too many extension offers"))
    );
    let mut more = String::from_utf8(head.clone()).unwrap();
    let line = more.find("Sec-WebSocket-Extensions: ").unwrap();
    more.insert_str(line + more[line..].find("\r\n").unwrap(), "; one-more");
    assert_eq!(
        ServerHandshake::new().with_max_request_size(2 * cap).feed(more.as_bytes()).map(|_| ()),
        Err(HandshakeError::InvalidExtensions("too many extension parameters"))
    );
}

fn client(offers: &[&str]) -> ClientHandshake {
    let mut request = ClientRequest::new("ws://example.com/").unwrap().with_key_source(KeySource::seeded(7));
    for o in offers {
        request = request.with_extension(ExtensionOffer::new(*o));
    }
    request.write(&mut Vec::new()).unwrap()
}

fn switching(hs: &ClientHandshake) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        hs.expected_accept()
    )
}

#[test]
fn hostile_response_lists_cost_at_most_twice_the_cap() {
    let cap = DEFAULT_MAX_RESPONSE_SIZE;
    let params = HandshakeError::InvalidExtensions("too many extension parameters");
    for (first, unit, want) in [
        ("a", ", a", HandshakeError::UnofferedExtension),
        ("a", ",a", HandshakeError::UnofferedExtension),
        ("x", "; a", params),
        ("x", ";a", params),
        ("x", ";a=1", params),
    ] {
        for bytewise in [false, true] {
            let mut hs = client(&["a", "x"]);
            let head = flood(&switching(&hs), "Sec-WebSocket-Extensions", first, unit, cap);
            let Measured { value: got, peak, .. } = measure(|| {
                if bytewise {
                    for b in head.chunks(1) {
                        match hs.feed(b) {
                            Ok(ClientStatus::NeedMore) => {}
                            other => return other.map(|_| ()),
                        }
                    }
                    unreachable!()
                } else {
                    hs.feed(&head).map(|_| ())
                }
            });
            eprintln!(
                "response {first}{unit}{unit}… ({} bytes, bytewise {bytewise}): {got:?}, peak {peak}",
                head.len()
            );
            assert_eq!(got, Err(want));
            assert!(peak <= 2 * cap + SLACK, "{first}{unit}…: {peak} bytes for a {cap}-byte head");
        }
    }
}

#[test]
fn maximal_response_costs_at_most_twice_the_cap() {
    let cap = DEFAULT_MAX_RESPONSE_SIZE;
    let mut hs = client(&["x"]);
    let mut head = switching(&hs);
    head.push_str("Sec-WebSocket-Extensions: x");
    for j in 0..MAX_EXTENSION_PARAMS {
        head.push_str(&format!("; k{j}={}", "v".repeat(100)));
    }
    head.push_str("\r\n");
    let mut n = 0;
    while head.matches("\r\n").count() < 64 {
        head.push_str(&format!("X-{n}: {}\r\n", "y".repeat(120)));
        n += 1;
    }
    head.truncate(head.len() - 2);
    head.push_str(&"y".repeat(cap - head.len() - 4));
    head.push_str("\r\n\r\n");
    assert_eq!(head.len(), cap);
    let Measured { value: got, peak, .. } = measure(|| match hs.feed(head.as_bytes()) {
        Ok(ClientStatus::Upgraded { negotiated, leftover, .. }) => (negotiated.extensions[0].params.len(), leftover),
        other => panic!("{other:?}"),
    });
    eprintln!("maximal response: {got:?}, peak {peak}");
    assert_eq!(got, (MAX_EXTENSION_PARAMS, cap));
    assert!(peak <= 2 * cap + SLACK, "{peak} bytes for a {cap}-byte head");
}
