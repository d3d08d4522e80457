//! Negotiating permessage-deflate (RFC 7692 §5, §7.1) through full in-memory handshakes:
//! the exact `Sec-WebSocket-Extensions` values written by both sides for a matrix of client and
//! server configurations, both sides agreeing on the parameters, messages then flowing
//! compressed both ways with the agreed context and window rules; invalid offers declined with
//! a fallback to a later valid one; bad responses refused by the client; a server without
//! deflate ignoring the offer; browsers' offers.
#![cfg(feature = "deflate")]

mod common;

use common::deflate::TRAILER;
use common::{Rng, parse_frames};
use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use wsproto::handshake::{
    Accept, ClientHandshake, ClientRequest, ClientStatus, HandshakeError, Negotiated, ServerHandshake, ServerStatus,
};
use wsproto::{Config, Connection, Event, KeySource, MessageKind, Role};

// ---------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------

/// Every `Sec-WebSocket-Extensions` value in an HTTP head, in order.
fn extension_headers(head: &[u8]) -> Vec<String> {
    let head = std::str::from_utf8(head).unwrap();
    let head = &head[..head.find("\r\n\r\n").expect("a complete head")];
    head.split("\r\n")
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("Sec-WebSocket-Extensions").then(|| value.trim().to_owned())
        })
        .collect()
}

/// The outcome of a whole handshake.
struct Handshake {
    request_extensions: Vec<String>,
    response_extensions: Vec<String>,
    client: Negotiated,
    server: Negotiated,
}

/// Runs a handshake: a client offering `offer` (if any), a server accepting with `accept`.
fn handshake(offer: Option<DeflateConfig>, accept: &Accept) -> Handshake {
    let mut request = ClientRequest::new("ws://example.com/chat").unwrap().with_key_source(KeySource::seeded(3));
    if let Some(config) = offer {
        request = request.with_deflate(config);
    }
    let mut to_server = Vec::new();
    let mut client_hs = request.write(&mut to_server).unwrap();
    let ServerStatus::Upgrade(upgrade) = ServerHandshake::new().feed(&to_server).unwrap() else {
        panic!("not an upgrade")
    };
    let mut to_client = Vec::new();
    let server = upgrade.accept(accept, &mut to_client).unwrap();
    let ClientStatus::Upgraded { negotiated: client, leftover, .. } = client_hs.feed(&to_client).unwrap() else {
        panic!("not upgraded")
    };
    assert_eq!(leftover, to_client.len());
    Handshake {
        request_extensions: extension_headers(&to_server),
        response_extensions: extension_headers(&to_client),
        client,
        server,
    }
}

/// A raw upgrade request with these `Sec-WebSocket-Extensions` lines.
fn raw_request(extension_lines: &[&str]) -> Vec<u8> {
    let mut r = String::from(
        "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
    );
    for line in extension_lines {
        r.push_str(&format!("Sec-WebSocket-Extensions: {line}\r\n"));
    }
    r.push_str("\r\n");
    r.into_bytes()
}

/// What a server configured with `config` answers to a raw request with these extension
/// lines: its `Sec-WebSocket-Extensions` values and what it agreed.
fn server_answer(extension_lines: &[&str], config: Option<DeflateConfig>) -> (Vec<String>, Negotiated) {
    let ServerStatus::Upgrade(upgrade) = ServerHandshake::new().feed(&raw_request(extension_lines)).unwrap() else {
        panic!("not an upgrade")
    };
    let mut accept = Accept::new();
    if let Some(config) = config {
        accept = accept.with_deflate(config);
    }
    let mut out = Vec::new();
    let negotiated = upgrade.accept(&accept, &mut out).unwrap();
    (extension_headers(&out), negotiated)
}

/// A client that offered `config`, and the response head it reads (extension lines given).
fn client_reads(config: DeflateConfig, extension_lines: &[&str]) -> Result<Negotiated, HandshakeError> {
    let mut out = Vec::new();
    let mut hs: ClientHandshake = ClientRequest::new("ws://example.com/")
        .unwrap()
        .with_key_source(KeySource::seeded(5))
        .with_deflate(config)
        .write(&mut out)
        .unwrap();
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        hs.expected_accept()
    );
    for line in extension_lines {
        response.push_str(&format!("Sec-WebSocket-Extensions: {line}\r\n"));
    }
    response.push_str("\r\n");
    match hs.feed(response.as_bytes())? {
        ClientStatus::Upgraded { negotiated, .. } => Ok(negotiated),
        other => panic!("{other:?}"),
    }
}

/// Receives every message in `wire` (with a scratch buffer when `scratch` is non-zero).
fn receive_all(conn: &mut Connection, wire: &[u8], scratch: usize) -> Vec<(MessageKind, Vec<u8>)> {
    let mut input = wire.to_vec();
    let mut scratch = vec![0u8; scratch];
    let mut pos = 0;
    let mut out = Vec::new();
    let mut open: Option<(MessageKind, Vec<u8>)> = None;
    loop {
        let r = if scratch.is_empty() {
            conn.receive(&mut input[pos..]).unwrap()
        } else {
            conn.receive_into(&mut input[pos..], &mut scratch).unwrap()
        };
        pos += r.consumed;
        match r.event {
            None => break,
            Some(Event::Data { kind, data, first, last, .. }) => {
                if first {
                    assert!(open.is_none());
                    open = Some((kind, Vec::new()));
                }
                open.as_mut().unwrap().1.extend_from_slice(data);
                if last {
                    out.push(open.take().unwrap());
                }
            }
            Some(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(pos, wire.len());
    assert!(open.is_none());
    out
}

fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    (0..len).map(|_| rng.next() as u8).collect()
}

fn json_like(len: usize, seed: u64) -> String {
    let mut rng = Rng(seed | 1);
    let mut s = String::from("[");
    while s.len() < len {
        let n = rng.next();
        s.push_str(&format!(
            "{{\"id\":{},\"name\":\"user_{}\",\"ok\":{}}},",
            n % 100_000,
            (n >> 20) % 1000,
            n & 1 == 0
        ));
    }
    s.truncate(len);
    s
}

// ---------------------------------------------------------------------------------------------
// A model of what RFC 7692 says the headers and parameters must be.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Side {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<u8>,
}

impl Side {
    fn config(self) -> DeflateConfig {
        DeflateConfig::new()
            .server_no_context_takeover(self.server_no_context_takeover)
            .client_no_context_takeover(self.client_no_context_takeover)
            .server_max_window_bits(self.server_max_window_bits)
            .client_max_window_bits(self.client_max_window_bits)
    }
}

fn sides(windows: &[Option<u8>]) -> Vec<Side> {
    let mut out = Vec::new();
    for snct in [false, true] {
        for cnct in [false, true] {
            for &smwb in windows {
                for &cmwb in windows {
                    out.push(Side {
                        server_no_context_takeover: snct,
                        client_no_context_takeover: cnct,
                        server_max_window_bits: smwb,
                        client_max_window_bits: cmwb,
                    });
                }
            }
        }
    }
    out
}

/// The client's offer: what it asks for, and `client_max_window_bits` always (with its own
/// limit as the value, if it has one) so that the server may limit it.
fn expected_offer(c: Side) -> String {
    let mut s = String::from("permessage-deflate");
    if c.server_no_context_takeover {
        s.push_str("; server_no_context_takeover");
    }
    if c.client_no_context_takeover {
        s.push_str("; client_no_context_takeover");
    }
    if let Some(b) = c.server_max_window_bits {
        s.push_str(&format!("; server_max_window_bits={b}"));
    }
    match c.client_max_window_bits {
        Some(b) => s.push_str(&format!("; client_max_window_bits={b}")),
        None => s.push_str("; client_max_window_bits"),
    }
    s
}

/// The server's response and the agreed parameters: each side's no_context_takeover if either
/// asks for it; each window the smaller of the two limits; a window limit the client asked
/// for is always answered (§7.1.2.1), and a limit of the server's own is stated.
fn expected_response(c: Side, s: Side) -> (String, DeflateParams) {
    let snct = c.server_no_context_takeover || s.server_no_context_takeover;
    let cnct = c.client_no_context_takeover || s.client_no_context_takeover;
    let sbits = c.server_max_window_bits.unwrap_or(15).min(s.server_max_window_bits.unwrap_or(15));
    let cbits = c.client_max_window_bits.unwrap_or(15).min(s.client_max_window_bits.unwrap_or(15));
    let mut r = String::from("permessage-deflate");
    if snct {
        r.push_str("; server_no_context_takeover");
    }
    if cnct {
        r.push_str("; client_no_context_takeover");
    }
    if sbits < 15 || c.server_max_window_bits.is_some() {
        r.push_str(&format!("; server_max_window_bits={sbits}"));
    }
    if cbits < 15 || c.client_max_window_bits.is_some() {
        r.push_str(&format!("; client_max_window_bits={cbits}"));
    }
    let params = DeflateParams {
        server_no_context_takeover: snct,
        client_no_context_takeover: cnct,
        server_max_window_bits: sbits,
        client_max_window_bits: cbits,
    };
    (r, params)
}

/// Sends `messages` from `sender` to `receiver` (each twice in a row), checking that they go
/// compressed (RSV1), read back, and that the second copy is as large as the first exactly when
/// the sender resets its context.
fn flow(sender: &mut Connection, receiver: &mut Connection, msg: &str, sender_resets: bool) {
    let mut wire = Vec::new();
    sender.send_text(msg, &mut wire).unwrap();
    sender.send_text(msg, &mut wire).unwrap();
    let frames = parse_frames(&wire);
    assert_eq!(frames.len(), 2);
    for f in &frames {
        assert!(f.fin && f.opcode == 1);
        assert_eq!(f.rsv, 4, "compressed (RSV1)");
        assert!(f.payload.len() < msg.len());
    }
    if sender_resets {
        assert_eq!(frames[0].payload, frames[1].payload, "no context takeover: both start afresh");
    } else {
        assert!(
            frames[1].payload.len() * 4 < frames[0].payload.len(),
            "context takeover: {} then {}",
            frames[0].payload.len(),
            frames[1].payload.len()
        );
    }
    let got = receive_all(receiver, &wire, 1024);
    assert_eq!(got, [(MessageKind::Text, msg.as_bytes().to_vec()), (MessageKind::Text, msg.as_bytes().to_vec())]);
}

fn connections(hs: &Handshake) -> (Connection, Connection) {
    let client = Connection::new(hs.client.role, Config::new())
        .with_key_source(KeySource::seeded(11))
        .with_negotiated(&hs.client);
    let server = Connection::new(hs.server.role, Config::new()).with_negotiated(&hs.server);
    (client, server)
}

// ---------------------------------------------------------------------------------------------
// The matrix.
// ---------------------------------------------------------------------------------------------

fn check_pair(c: Side, s: Side, msg: &str) {
    let hs = handshake(Some(c.config()), &Accept::new().with_deflate(s.config()));
    let ctx = format!("client {c:?}, server {s:?}");
    assert_eq!(hs.request_extensions, [expected_offer(c)], "{ctx}");
    let (response, params) = expected_response(c, s);
    assert_eq!(hs.response_extensions, [response], "{ctx}");
    let (cd, sd) = (hs.client.deflate.expect("client agreed"), hs.server.deflate.expect("server agreed"));
    assert_eq!(cd.params, params, "{ctx}");
    assert_eq!(sd.params, params, "{ctx}");
    assert_eq!(hs.client.reserved_bits, 0b100);
    assert_eq!(hs.server.reserved_bits, 0b100);
    assert!(hs.client.has_extension("permessage-deflate") && hs.server.has_extension("permessage-deflate"));

    let (mut client, mut server) = connections(&hs);
    assert_eq!(client.deflate().map(|d| d.params), Some(params));
    assert_eq!(server.deflate().map(|d| d.params), Some(params));
    flow(&mut client, &mut server, msg, params.client_no_context_takeover);
    flow(&mut server, &mut client, msg, params.server_no_context_takeover);
}

#[test]
fn matrix_of_client_and_server_configs() {
    let windows = [None, Some(9), Some(12), Some(15)];
    // Short enough for the second copy to reach the first within the smallest window (9 bits
    // reach 2^9 - 262 bytes back).
    let msg = json_like(240, 1);
    let all = sides(&windows);
    assert_eq!(all.len(), 64);
    for &c in &all {
        for &s in &all {
            check_pair(c, s, &msg);
        }
    }
}

#[test]
fn every_window_size_on_both_sides() {
    let windows: Vec<Option<u8>> = std::iter::once(None).chain((9..=15).map(Some)).collect();
    let msg = json_like(240, 2);
    let plain = Side {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: None,
        client_max_window_bits: None,
    };
    for &a in &windows {
        for &b in &windows {
            check_pair(Side { server_max_window_bits: a, ..plain }, Side { server_max_window_bits: b, ..plain }, &msg);
            check_pair(Side { client_max_window_bits: a, ..plain }, Side { client_max_window_bits: b, ..plain }, &msg);
            check_pair(
                Side { server_max_window_bits: a, client_max_window_bits: b, ..plain },
                Side { server_max_window_bits: b, client_max_window_bits: a, ..plain },
                &msg,
            );
        }
    }
}

/// Whether `sender` compresses two copies of a random block of `block` bytes well, that is
/// whether the second copy is within its window.
fn reaches(sender: &mut Connection, block: usize, seed: u64) -> bool {
    let data = [random_bytes(block, seed), random_bytes(block, seed)].concat();
    let mut wire = Vec::new();
    sender.send_binary(&data, &mut wire).unwrap();
    let payload: usize = parse_frames(&wire).iter().map(|f| f.payload.len()).sum();
    if payload < data.len() * 3 / 4 {
        true
    } else {
        assert!(payload > data.len() * 95 / 100, "{payload} of {}", data.len());
        false
    }
}

#[test]
fn the_agreed_windows_are_the_ones_used() {
    // zlib matches at most 2^bits - 262 bytes back: a repeat just inside that reach is found,
    // one just beyond the window is not. Both directions, for each agreed size.
    for bits in 9..=15u8 {
        let c = DeflateConfig::new().server_max_window_bits(Some(bits)).client_max_window_bits(Some(bits));
        let hs = handshake(Some(c), &Accept::new().with_deflate(DeflateConfig::new()));
        let params = hs.client.deflate.unwrap().params;
        assert_eq!((params.server_max_window_bits, params.client_max_window_bits), (bits, bits));
        let (mut client, mut server) = connections(&hs);
        let near = (1usize << bits) - 300;
        let far = (1usize << bits) + 50;
        for (name, conn) in [("client", &mut client), ("server", &mut server)] {
            assert!(reaches(conn, near, u64::from(bits)), "{name}, {bits} bits: a repeat {near} bytes back");
            assert!(!reaches(conn, far, u64::from(bits) + 100), "{name}, {bits} bits: a repeat {far} bytes back");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Offers the server declines.
// ---------------------------------------------------------------------------------------------

const INVALID_OFFERS: &[&str] = &[
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
    "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
    "permessage-deflate; server_max_window_bits=10; server_max_window_bits=11",
    "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
    "permessage-deflate; client_max_window_bits=10; client_max_window_bits=10",
    "permessage-deflate; server_max_window_bits",
    "permessage-deflate; server_max_window_bits=16",
    "permessage-deflate; server_max_window_bits=7",
    "permessage-deflate; server_max_window_bits=0",
    "permessage-deflate; server_max_window_bits=08",
    "permessage-deflate; server_max_window_bits=1a",
    "permessage-deflate; server_max_window_bits=\"16\"",
    "permessage-deflate; client_max_window_bits=16",
    "permessage-deflate; client_max_window_bits=7",
    "permessage-deflate; client_max_window_bits=010",
    "permessage-deflate; server_no_context_takeover=1",
    "permessage-deflate; client_no_context_takeover=true",
    "permessage-deflate; unknown",
    "permessage-deflate; x-param=1",
    "permessage-deflate; server_max_window_bits=8",
];

#[test]
fn the_server_declines_invalid_offers() {
    for offer in INVALID_OFFERS {
        let (headers, negotiated) = server_answer(&[offer], Some(DeflateConfig::new()));
        assert!(headers.is_empty(), "{offer}: {headers:?}");
        assert_eq!(negotiated.deflate, None, "{offer}");
        assert_eq!(negotiated.reserved_bits, 0);
        assert!(negotiated.extensions.is_empty());
    }
}

#[test]
fn the_server_falls_back_to_a_later_valid_offer() {
    for offer in INVALID_OFFERS {
        let fallback = "permessage-deflate; client_no_context_takeover; server_max_window_bits=12";
        let want = ["permessage-deflate; client_no_context_takeover; server_max_window_bits=12".to_owned()];
        let mut params = DeflateParams::DEFAULT;
        params.client_no_context_takeover = true;
        params.server_max_window_bits = 12;
        // In the same header line, and in a later line.
        for lines in [vec![format!("{offer}, {fallback}")], vec![offer.to_string(), fallback.to_string()]] {
            let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
            let (headers, negotiated) = server_answer(&lines, Some(DeflateConfig::new()));
            assert_eq!(headers, want, "{lines:?}");
            assert_eq!(negotiated.deflate.map(|d| d.params), Some(params), "{lines:?}");
            assert_eq!(negotiated.reserved_bits, 0b100);
        }
    }
}

#[test]
fn the_first_acceptable_offer_wins() {
    let cases: &[(&[&str], &str)] = &[
        // Preference order: the first valid one, even if a later one asks for less.
        (
            &["permessage-deflate; server_max_window_bits=10, permessage-deflate"],
            "permessage-deflate; server_max_window_bits=10",
        ),
        (&["permessage-deflate, permessage-deflate; server_max_window_bits=10"], "permessage-deflate"),
        // Other extensions are skipped; a quoted value is its token.
        (&["x-webkit-deflate-frame, permessage-deflate"], "permessage-deflate"),
        (&["permessage-deflate; server_max_window_bits=\"10\""], "permessage-deflate; server_max_window_bits=10"),
        // The client's window limit offered without a value: the server may pick one.
        (&["permessage-deflate; client_max_window_bits"], "permessage-deflate"),
    ];
    for (lines, want) in cases {
        let (headers, negotiated) = server_answer(lines, Some(DeflateConfig::new()));
        assert_eq!(headers, [want.to_string()], "{lines:?}");
        assert!(negotiated.deflate.is_some());
    }
}

#[test]
fn the_servers_own_limits() {
    let strict = DeflateConfig::new()
        .server_no_context_takeover(true)
        .server_max_window_bits(Some(11))
        .client_max_window_bits(Some(10));
    // The client can limit its window: the server asks it to.
    let (headers, n) = server_answer(&["permessage-deflate; client_max_window_bits"], Some(strict));
    assert_eq!(
        headers,
        ["permessage-deflate; server_no_context_takeover; server_max_window_bits=11; client_max_window_bits=10"]
    );
    let p = n.deflate.unwrap().params;
    assert_eq!((p.server_max_window_bits, p.client_max_window_bits), (11, 10));
    // It did not say so: it compresses with 15 bits, which the server reads anyway.
    let (headers, n) = server_answer(&["permessage-deflate"], Some(strict));
    assert_eq!(headers, ["permessage-deflate; server_no_context_takeover; server_max_window_bits=11"]);
    assert_eq!(n.deflate.unwrap().params.client_max_window_bits, 15);
    // A smaller limit asked by the client wins over the server's own.
    let (headers, _) = server_answer(&["permessage-deflate; server_max_window_bits=9"], Some(strict));
    assert_eq!(headers, ["permessage-deflate; server_no_context_takeover; server_max_window_bits=9"]);
    // Levels and minimum sizes are each side's own.
    let mine = DeflateConfig::new().level(9).min_size(10);
    let (_, n) = server_answer(&["permessage-deflate"], Some(mine));
    let d = n.deflate.unwrap();
    assert_eq!((d.level, d.min_size), (9, 10));
}

#[test]
fn browsers_offers() {
    // Chrome and Safari offer this; Firefox leaves out client_max_window_bits.
    for offer in ["permessage-deflate; client_max_window_bits", "permessage-deflate"] {
        let (headers, negotiated) = server_answer(&[offer], Some(DeflateConfig::new()));
        assert_eq!(headers, ["permessage-deflate"]);
        let agreed = negotiated.deflate.unwrap();
        assert_eq!(agreed.params, DeflateParams::DEFAULT);

        // The browser's side, played by flate2 directly: a compressed masked message in, and
        // the server's compressed answer out, with context takeover both ways.
        let mut server = Connection::new(negotiated.role, Config::new()).with_negotiated(&negotiated);
        let mut compress = flate2::Compress::new(flate2::Compression::default(), false);
        let mut decompress = flate2::Decompress::new(false);
        for round in 0..3 {
            let text = json_like(2000, round);
            let mut payload = Vec::with_capacity(text.len() + 64);
            compress.compress_vec(text.as_bytes(), &mut payload, flate2::FlushCompress::Sync).unwrap();
            assert!(payload.ends_with(&TRAILER));
            payload.truncate(payload.len() - 4);
            let key = [1, 2, 3, 4];
            let mut frame = vec![0xc1];
            match payload.len() {
                n @ 0..=125 => frame.push(0x80 | n as u8),
                n => {
                    frame.push(0x80 | 126);
                    frame.extend_from_slice(&(n as u16).to_be_bytes());
                }
            }
            frame.extend_from_slice(&key);
            frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
            assert_eq!(receive_all(&mut server, &frame, 4096), [(MessageKind::Text, text.as_bytes().to_vec())]);

            let mut wire = Vec::new();
            server.send_text(&text, &mut wire).unwrap();
            let frames = parse_frames(&wire);
            assert_eq!((frames.len(), frames[0].rsv), (1, 4));
            let mut input = frames[0].payload.clone();
            input.extend_from_slice(&TRAILER);
            let mut out = Vec::with_capacity(text.len() + 16);
            decompress.decompress_vec(&input, &mut out, flate2::FlushDecompress::Sync).unwrap();
            assert_eq!(out, text.as_bytes());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Responses the client refuses.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_client_refuses_bad_responses() {
    #[derive(Clone, Copy, Debug)]
    enum Refusal {
        Invalid,
        Unoffered,
    }
    use Refusal::{Invalid, Unoffered};
    let d = DeflateConfig::new();
    let cases: Vec<(DeflateConfig, Vec<&str>, Refusal)> = vec![
        (d, vec!["permessage-deflate; client_max_window_bits"], Invalid),
        (d, vec!["permessage-deflate; server_max_window_bits"], Invalid),
        (d, vec!["permessage-deflate; client_max_window_bits=8"], Invalid),
        (d, vec!["permessage-deflate; server_max_window_bits=16"], Invalid),
        (d, vec!["permessage-deflate; server_max_window_bits=09"], Invalid),
        (d, vec!["permessage-deflate; bogus"], Invalid),
        (d, vec!["permessage-deflate; server_no_context_takeover=1"], Invalid),
        (d, vec!["permessage-deflate; server_no_context_takeover; server_no_context_takeover"], Invalid),
        (d, vec!["permessage-deflate; server_max_window_bits=10; server_max_window_bits=10"], Invalid),
        (d, vec!["permessage-deflate, permessage-deflate"], Unoffered),
        (d, vec!["permessage-deflate", "permessage-deflate"], Unoffered),
        (d, vec!["x-other"], Unoffered),
        // Not what was asked for.
        (d.server_no_context_takeover(true), vec!["permessage-deflate"], Invalid),
        (d.server_max_window_bits(Some(10)), vec!["permessage-deflate"], Invalid),
        (d.server_max_window_bits(Some(10)), vec!["permessage-deflate; server_max_window_bits=12"], Invalid),
        (d.client_max_window_bits(Some(10)), vec!["permessage-deflate; client_max_window_bits=12"], Invalid),
    ];
    for (config, lines, expected) in cases {
        match (client_reads(config, &lines), expected) {
            (Err(HandshakeError::InvalidExtensions(_)), Invalid)
            | (Err(HandshakeError::UnofferedExtension), Unoffered) => {}
            (other, _) => panic!("{lines:?}: expected {expected:?}, got {other:?}"),
        }
    }
    // A client that offered nothing refuses a permessage-deflate it did not offer.
    let mut out = Vec::new();
    let mut hs =
        ClientRequest::new("ws://example.com/").unwrap().with_key_source(KeySource::seeded(5)).write(&mut out).unwrap();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        hs.expected_accept()
    );
    assert_eq!(hs.feed(response.as_bytes()).unwrap_err(), HandshakeError::UnofferedExtension);
}

#[test]
fn the_client_accepts_valid_responses() {
    let d = DeflateConfig::new();
    let cases: Vec<(DeflateConfig, &str, DeflateParams)> = vec![
        (d, "permessage-deflate", DeflateParams::DEFAULT),
        (
            d,
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
            DeflateParams { server_max_window_bits: 10, client_max_window_bits: 9, ..DeflateParams::DEFAULT },
        ),
        // The server may add no_context_takeover flags nobody asked for.
        (
            d,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            DeflateParams {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                ..DeflateParams::DEFAULT
            },
        ),
        // A client that limits its own window keeps to it even if the server says nothing.
        (
            d.client_max_window_bits(Some(11)),
            "permessage-deflate",
            DeflateParams { client_max_window_bits: 11, ..DeflateParams::DEFAULT },
        ),
        // The client's own no_context_takeover holds even if the response leaves it out.
        (
            d.client_no_context_takeover(true),
            "permessage-deflate",
            DeflateParams { client_no_context_takeover: true, ..DeflateParams::DEFAULT },
        ),
        // A server window of 8 bits is fine to read (we inflate with 15).
        (
            d,
            "permessage-deflate; server_max_window_bits=8",
            DeflateParams { server_max_window_bits: 8, ..DeflateParams::DEFAULT },
        ),
        // A quoted value is its token.
        (
            d,
            "permessage-deflate; server_max_window_bits=\"12\"",
            DeflateParams { server_max_window_bits: 12, ..DeflateParams::DEFAULT },
        ),
    ];
    for (config, line, params) in cases {
        let n = client_reads(config, &[line]).unwrap_or_else(|e| panic!("{line}: {e:?}"));
        assert_eq!(n.deflate.map(|d| d.params), Some(params), "{line}");
        assert_eq!(n.reserved_bits, 0b100);
    }
    // The server may decline: no header, no compression.
    let n = client_reads(d, &[]).unwrap();
    assert_eq!((n.deflate, n.reserved_bits), (None, 0));
}

// ---------------------------------------------------------------------------------------------
// A server without deflate.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_server_without_deflate_ignores_the_offer() {
    let hs = handshake(Some(DeflateConfig::new()), &Accept::new());
    assert_eq!(hs.request_extensions, ["permessage-deflate; client_max_window_bits"]);
    assert!(hs.response_extensions.is_empty());
    assert_eq!(hs.client.deflate, None);
    assert_eq!(hs.server.deflate, None);
    assert_eq!((hs.client.reserved_bits, hs.server.reserved_bits), (0, 0));

    let (mut client, mut server) = connections(&hs);
    assert!(client.deflate().is_none() && server.deflate().is_none());
    let msg = json_like(5000, 3);
    let mut wire = Vec::new();
    client.send_text(&msg, &mut wire).unwrap();
    let frames = parse_frames(&wire);
    assert_eq!((frames[0].rsv, frames[0].payload.len()), (0, msg.len()), "sent uncompressed");
    // Plain `receive` works: no scratch needed without compression.
    assert_eq!(receive_all(&mut server, &wire, 0), [(MessageKind::Text, msg.as_bytes().to_vec())]);
    let mut wire = Vec::new();
    server.send_text(&msg, &mut wire).unwrap();
    assert_eq!(wire[0], 0x81);
    assert_eq!(receive_all(&mut client, &wire, 0), [(MessageKind::Text, msg.as_bytes().to_vec())]);
    // A compressed frame is now a protocol error (RSV1 belongs to no extension).
    let mut bad = vec![0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    assert!(client.receive(&mut bad).is_err());

    // And a server that accepted deflate, for a client that did not offer it, agrees nothing.
    let hs = handshake(None, &Accept::new().with_deflate(DeflateConfig::new()));
    assert!(hs.request_extensions.is_empty() && hs.response_extensions.is_empty());
    assert_eq!((hs.client.deflate, hs.server.deflate), (None, None));
}

#[test]
fn per_message_deflate_new_matches_the_handshake() {
    // For streams negotiated elsewhere (RFC 8441): the same agreement built by hand.
    let config = DeflateConfig::new().level(3).min_size(7);
    let hs = handshake(Some(config), &Accept::new().with_deflate(config));
    let agreed = hs.client.deflate.unwrap();
    assert_eq!(agreed, PerMessageDeflate::new(DeflateParams::DEFAULT, &config));
    let client =
        Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(1)).with_deflate(agreed);
    assert_eq!(client.deflate(), Some(&agreed));
}
