//! `ServerHandshake::feed` on arbitrary bytes, whole and in arbitrary pieces.
//!
//! Input: one selector byte (bit 0: small limits, 256 bytes and 4 header lines; bits 1-2: the
//! split style), then the bytes a client sent.
//!
//! Checked:
//! * no panic, and the same result (status, request, error, and where the bytes after the
//!   head start) for the whole input and for any split; a head still incomplete at the end is
//!   given one more `\n`, so both runs have parsed the same bytes;
//! * an upgrade request can be accepted with `Accept::new()`, and our own `ClientHandshake`,
//!   holding the same key, takes the 101 response (leftover at its end, nothing negotiated);
//!   with `Accept::with_deflate` too, when the request offers permessage-deflate: the response
//!   names what was agreed, a client takes it, and connections on both ends built from the
//!   agreement exchange compressed messages both ways;
//! * `reject` writes a response our client reads back with its status;
//! * an error's ready-made response is read back by our client with the status the error
//!   suggests.
#![no_main]

use std::cell::Cell;

use libfuzzer_sys::fuzz_target;
use wsproto::deflate::DeflateConfig;
use wsproto::handshake::{
    Accept, ClientRequest, ClientStatus, ExtensionOffer, HandshakeError, Headers, HttpRequest, HttpResponse,
    ServerHandshake, ServerStatus,
};
use wsproto::{Config, Connection, KeySource, MessageKind, Role};
use wsproto_fuzz::{Assembler, Logical, drain, one_piece, split_points};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let small = sel & 1 != 0;
    let whole = run(small, body, &one_piece(body.len()));
    let pieces = split_points(body.len(), sel >> 1, body.len() as u64 ^ u64::from(sel));
    let split = run(small, body, &pieces);
    assert_eq!(whole.0, split.0, "the split changed the result");
    check_result(whole.1);
});

/// A result with the leftover offset made absolute (from the start of the input).
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    NeedMore,
    Http(HttpRequest, usize),
    Upgrade {
        path: String,
        headers: Headers,
        leftover: usize,
        key: String,
        protocols: Vec<String>,
        extensions: Vec<ExtensionOffer>,
    },
    Error(HandshakeError),
}

fn reader(small: bool) -> ServerHandshake {
    let r = ServerHandshake::new();
    if small { r.with_max_request_size(256).with_max_headers(4) } else { r }
}

fn run(small: bool, body: &[u8], pieces: &[std::ops::Range<usize>]) -> (Seen, Result<ServerStatus, HandshakeError>) {
    let mut r = reader(small);
    let mut last = None;
    for p in pieces {
        let status = r.feed(&body[p.clone()]);
        if !matches!(status, Ok(ServerStatus::NeedMore)) {
            last = Some((p.start, status));
            break;
        }
    }
    let (start, status) = last.unwrap_or_else(|| (body.len(), r.feed(b"\n")));
    let seen = match &status {
        Ok(ServerStatus::NeedMore) => Seen::NeedMore,
        Ok(ServerStatus::Http(req)) => {
            let leftover = start + req.leftover;
            assert!(leftover <= body.len() + 1);
            let mut req = req.clone();
            req.leftover = 0;
            Seen::Http(req, leftover)
        }
        Ok(ServerStatus::Upgrade(u)) => {
            let leftover = start + u.leftover();
            assert!(leftover <= body.len() + 1);
            Seen::Upgrade {
                path: u.path().to_owned(),
                headers: u.headers().clone(),
                leftover,
                key: u.key().unwrap_or_default().to_owned(),
                protocols: u.protocols().to_vec(),
                extensions: u.extensions().to_vec(),
            }
        }
        Ok(other) => panic!("unknown status {other:?}"),
        Err(e) => Seen::Error(*e),
    };
    // The reader is empty again after a result: the same request reads the same way.
    (seen, status)
}

thread_local! {
    static NONCE: Cell<[u8; 16]> = const { Cell::new([0; 16]) };
}

/// Fills the key source's pool with the nonce of the request under test.
fn fill_nonce(pool: &mut [u8]) {
    let nonce = NONCE.with(Cell::get);
    for chunk in pool.chunks_mut(16) {
        chunk.copy_from_slice(&nonce[..chunk.len()]);
    }
}

fn base64_16(key: &str) -> [u8; 16] {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("a key that is not base64 was accepted: {key:?}"),
    };
    let k = key.as_bytes();
    assert_eq!((k.len(), &k[22..]), (24, &b"=="[..]), "a key that is not 16 bytes was accepted: {key:?}");
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::new();
    for &c in &k[..22] {
        bits = (bits << 6) | u32::from(value(c));
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
        }
    }
    out.try_into().expect("16 bytes")
}

/// A client request holding `key`, with `extensions` offered, as our client would send it.
fn client_for(key: &str, extensions: &[ExtensionOffer]) -> wsproto::handshake::ClientHandshake {
    NONCE.with(|n| n.set(base64_16(key)));
    let mut request = ClientRequest::new("ws://example.com/").unwrap().with_key_source(KeySource::from_fn(fill_nonce));
    for e in extensions {
        request = request.with_extension(e.clone());
    }
    let hs = request.write(&mut Vec::new()).expect("the request is written");
    assert_eq!(hs.key(), key);
    hs
}

fn check_result(status: Result<ServerStatus, HandshakeError>) {
    match status {
        Ok(ServerStatus::Upgrade(u)) => {
            let mut out = Vec::new();
            let negotiated = u.accept(&Accept::new(), &mut out).expect("Accept::new() is always possible");
            assert_eq!(negotiated.role, Role::Server);
            assert!(negotiated.protocol.is_none() && negotiated.extensions.is_empty());
            let mut client = client_for(u.key().unwrap_or_default(), &[]);
            match client.feed(&out) {
                Ok(ClientStatus::Upgraded { negotiated, leftover, .. }) => {
                    assert_eq!(leftover, out.len());
                    assert!(negotiated.protocol.is_none() && negotiated.extensions.is_empty());
                }
                other => panic!("our client refuses our 101 response: {other:?}\n{}", String::from_utf8_lossy(&out)),
            }

            let mut rejected = Vec::new();
            u.reject(&HttpResponse::new(403).with_body("no"), &mut rejected).expect("reject");
            match client_for(u.key().unwrap_or_default(), &[]).feed(&rejected) {
                Ok(ClientStatus::Rejected(r)) => assert_eq!((r.status, r.body.as_slice()), (403, &b"no"[..])),
                other => panic!("{other:?}"),
            }

            if u.extensions().iter().any(|e| e.is("permessage-deflate")) {
                check_deflate(&u);
            }
        }
        Ok(ServerStatus::Http(req)) => {
            assert!(!req.headers.has_token("Upgrade", "websocket"));
            assert!(!req.headers.contains("Sec-WebSocket-Key") && !req.headers.contains("Sec-WebSocket-Version"));
        }
        Ok(_) => {}
        Err(e) => {
            let status = e.status_hint();
            assert!((400..=599).contains(&status), "{e:?} suggests {status}");
            let mut out = Vec::new();
            e.write_response(&mut out).expect("an error's response can be written");
            match client_for("dGhlIHNhbXBsZSBub25jZQ==", &[]).feed(&out) {
                Ok(ClientStatus::Rejected(r)) => assert_eq!(r.status, status),
                other => panic!("{e:?}: our client reads {other:?} from {:?}", String::from_utf8_lossy(&out)),
            }
        }
    }
}

fn check_deflate(u: &wsproto::handshake::UpgradeRequest) {
    let mut out = Vec::new();
    let negotiated =
        u.accept(&Accept::new().with_deflate(DeflateConfig::new().min_size(0)), &mut out).expect("accept with deflate");
    let Some(agreed) = negotiated.deflate else {
        // Every offer was declined: the response names no extension.
        assert!(negotiated.extensions.is_empty());
        return;
    };
    assert_eq!(negotiated.reserved_bits, wsproto::frame::RSV1);
    assert!(negotiated.has_extension("permessage-deflate"));
    // Our client, offering the extension by name, reads back exactly the extensions written.
    let mut client = client_for(u.key().unwrap_or_default(), &[ExtensionOffer::new("permessage-deflate")]);
    match client.feed(&out) {
        Ok(ClientStatus::Upgraded { negotiated: seen, .. }) => assert_eq!(seen.extensions, negotiated.extensions),
        other => panic!("our client refuses our 101 response: {other:?}\n{}", String::from_utf8_lossy(&out)),
    }
    // Both ends of the agreement exchange compressed messages.
    let mut server = Connection::new(negotiated.role, Config::new()).with_negotiated(&negotiated);
    let mut client =
        Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(3)).with_deflate(agreed);
    exchange(&mut client, &mut server);
    exchange(&mut server, &mut client);
}

/// Messages from `from` reach `to` intact (compressed or not, as `from` decides).
fn exchange(from: &mut Connection, to: &mut Connection) {
    let messages: [&[u8]; 3] = [b"hello hello hello hello", b"", b"hello again, hello again, hello"];
    let mut wire = Vec::new();
    for m in messages {
        from.send_binary(m, &mut wire).unwrap();
    }
    let mut asm = Assembler::new(u64::MAX);
    drain(to, &mut wire, &mut [0; 5], |ev| asm.push(ev)).expect("our own compressed messages are read");
    let expected: Vec<_> = messages.iter().map(|m| Logical::Message(MessageKind::Binary, m.to_vec())).collect();
    assert_eq!(asm.done, expected);
}
