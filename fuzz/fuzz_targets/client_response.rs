//! `ClientHandshake::feed` on arbitrary bytes, whole and in arbitrary pieces.
//!
//! The request is written with `KeySource::seeded(0)`, so its key (and the accept value a
//! server must answer with) is known. Input: one selector byte, then bytes from the "server":
//! * bit 0: the bytes follow a valid 101 head for that key that has not ended yet (status
//!   line, `Upgrade`, `Connection`, `Sec-WebSocket-Accept`), so that the fuzzer works on the
//!   subprotocol and extension checks and on permessage-deflate's response validation;
//! * bit 1: the request offers the subprotocols `chat` and `superchat`;
//! * bits 2-3: the request offers permessage-deflate (none, default, with
//!   `client_no_context_takeover` and `server_max_window_bits=10`, with
//!   `server_no_context_takeover` and `client_max_window_bits=9`);
//! * bits 4-5: the split style; bit 6: a 256-byte response limit.
//!
//! Checked: no panic; the same result (and the same absolute leftover offset) for the whole
//! input and any split; a rejection's body is the bytes after its head in the last read;
//! `Finished` after any result; an agreed permessage-deflate honours what was asked
//! (window limits) and works both ways with our own server; and the bytes after a 101 head go
//! through a connection built from the result without breaking its contract.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsproto::deflate::DeflateConfig;
use wsproto::handshake::{ClientHandshake, ClientRequest, ClientStatus, HandshakeError, HttpResponse, Negotiated};
use wsproto::{Config, Connection, KeySource, MessageKind, Role};
use wsproto_fuzz::{Assembler, Logical, check_failed, drain, one_piece, split_points};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, fuzz)) = data.split_first() else { return };
    let mut input = Vec::new();
    if sel & 1 != 0 {
        let accept = handshake(sel).expected_accept();
        input.extend_from_slice(
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
            )
            .as_bytes(),
        );
    }
    input.extend_from_slice(fuzz);
    let whole = run(sel, &input, &one_piece(input.len()));
    let pieces = split_points(input.len(), sel >> 4, input.len() as u64);
    let split = run(sel, &input, &pieces);
    assert_eq!(whole, split, "the split changed the result");
    if let Seen::Upgraded { negotiated, leftover, .. } = whole {
        check_upgraded(sel, &negotiated, &input[leftover.min(input.len())..]);
    }
});

fn deflate_config(sel: u8) -> Option<DeflateConfig> {
    match (sel >> 2) & 3 {
        0 => None,
        1 => Some(DeflateConfig::new()),
        2 => Some(DeflateConfig::new().client_no_context_takeover(true).server_max_window_bits(Some(10))),
        _ => Some(DeflateConfig::new().server_no_context_takeover(true).client_max_window_bits(Some(9))),
    }
}

fn handshake(sel: u8) -> ClientHandshake {
    let mut request = ClientRequest::new("ws://example.com/chat").unwrap().with_key_source(KeySource::seeded(0));
    if sel & 2 != 0 {
        request = request.with_protocol("chat").with_protocol("superchat");
    }
    if let Some(config) = deflate_config(sel) {
        request = request.with_deflate(config);
    }
    if sel & 64 != 0 {
        request = request.with_max_response_size(256);
    }
    request.write(&mut Vec::new()).expect("the request is written")
}

#[derive(Debug, PartialEq, Eq)]
enum Seen {
    NeedMore,
    Upgraded { negotiated: Negotiated, response: HttpResponse, leftover: usize },
    Rejected { response: HttpResponse, leftover: usize },
    Error(HandshakeError),
}

fn run(sel: u8, input: &[u8], pieces: &[std::ops::Range<usize>]) -> Seen {
    let mut hs = handshake(sel);
    let mut last = None;
    for p in pieces {
        let status = hs.feed(&input[p.clone()]);
        if !matches!(status, Ok(ClientStatus::NeedMore)) {
            last = Some((p.clone(), status));
            break;
        }
    }
    let (piece, status) = last.unwrap_or_else(|| (input.len()..input.len(), hs.feed(b"\n")));
    let seen = match status {
        Ok(ClientStatus::NeedMore) => return Seen::NeedMore,
        Ok(ClientStatus::Upgraded { negotiated, response, leftover }) => {
            assert_eq!(negotiated.role, Role::Client);
            assert!(response.body.is_empty());
            Seen::Upgraded { negotiated, response, leftover: piece.start + leftover }
        }
        Ok(ClientStatus::Rejected(mut response)) => {
            assert_ne!(response.status, 101);
            // The body is what came after the head in the same read.
            let body = std::mem::take(&mut response.body);
            let leftover = piece.end.saturating_sub(body.len()).max(piece.start);
            if piece.end > piece.start {
                assert!(body.len() <= piece.len());
                assert_eq!(body, input[leftover..piece.end], "the body is not the rest of the read");
            }
            Seen::Rejected { response, leftover }
        }
        Ok(other) => panic!("unknown status {other:?}"),
        Err(e) => Seen::Error(e),
    };
    assert_eq!(hs.feed(b"HTTP/1.1 101 X\r\n\r\n"), Err(HandshakeError::Finished), "a finished handshake read more");
    seen
}

fn check_upgraded(sel: u8, negotiated: &Negotiated, rest: &[u8]) {
    if let Some(p) = &negotiated.protocol {
        assert!(sel & 2 != 0 && (p == "chat" || p == "superchat"), "unoffered subprotocol {p:?} accepted");
    }
    let config = deflate_config(sel);
    if let Some(agreed) = negotiated.deflate {
        let config = config.expect("permessage-deflate agreed without an offer");
        assert_eq!(negotiated.reserved_bits & wsproto::frame::RSV1, wsproto::frame::RSV1);
        let p = agreed.params;
        assert!((9..=15).contains(&p.client_max_window_bits), "client window {} agreed", p.client_max_window_bits);
        assert!((8..=15).contains(&p.server_max_window_bits));
        if let Some(bits) = config.server_max_window_bits {
            assert!(
                p.server_max_window_bits <= bits,
                "server window {} over the {bits} asked",
                p.server_max_window_bits
            );
        }
        if let Some(bits) = config.client_max_window_bits {
            assert!(
                p.client_max_window_bits <= bits,
                "client window {} over the {bits} offered",
                p.client_max_window_bits
            );
        }
        if config.client_no_context_takeover {
            assert!(p.client_no_context_takeover, "our own client_no_context_takeover is not in force");
        }
        if config.server_no_context_takeover {
            assert!(p.server_no_context_takeover, "server_no_context_takeover was asked for and not agreed");
        }
        let mut client = Connection::new(negotiated.role, Config::new())
            .with_key_source(KeySource::seeded(2))
            .with_negotiated(negotiated);
        let mut server = Connection::new(Role::Server, Config::new()).with_deflate(agreed);
        exchange(&mut client, &mut server);
        exchange(&mut server, &mut client);
    } else {
        assert_eq!(negotiated.reserved_bits, 0);
    }
    // Whatever followed the head goes to a connection built from the result.
    let mut conn = Connection::new(negotiated.role, Config::new().max_message_size(1 << 16))
        .with_key_source(KeySource::seeded(1))
        .with_negotiated(negotiated);
    let mut scratch = [0; 64];
    let mut asm = Assembler::new(1 << 16);
    let mut buf = rest.to_vec();
    if let Err(e) = drain(&mut conn, &mut buf, &mut scratch, |ev| asm.push(ev)) {
        check_failed(&mut conn, e, true, &mut scratch);
    }
}

/// Messages from `from` reach `to` intact.
fn exchange(from: &mut Connection, to: &mut Connection) {
    let long = b"compress me, compress me, compress me, compress me, compress me, compress me!".repeat(3);
    let messages: [&[u8]; 3] = [&long, b"", &long];
    let mut wire = Vec::new();
    for m in messages {
        from.send_binary(m, &mut wire).unwrap();
    }
    let mut asm = Assembler::new(u64::MAX);
    drain(to, &mut wire, &mut [0; 9], |ev| asm.push(ev)).expect("our own messages are read");
    let expected: Vec<_> = messages.iter().map(|m| Logical::Message(MessageKind::Binary, m.to_vec())).collect();
    assert_eq!(asm.done, expected);
}
