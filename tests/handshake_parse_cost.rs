//! The handshake readers parse a head a bounded number of times, however it is cut into reads
//! (issue 13): a head that arrives a byte at a time is parsed when its request or status line
//! ends, and again only when it can have ended (an empty line arrived), one line too many has
//! arrived, or the buffer is full. Leading empty lines are counted by the reader itself and
//! capped at 8, so the parser never skips them one byte at a time.
//!
//! No clock is read: every parse allocates its header slots, so a counting global allocator
//! shows how often the head was parsed. The buffer grows by doubling (256 bytes, then up to the
//! cap: 6 growths for 8 KiB, 7 for 16 KiB); anything beyond that is a parse.

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

use counting_alloc::{Measured, measure};
use wsproto::KeySource;
use wsproto::handshake::{
    ClientHandshake, ClientRequest, ClientStatus, DEFAULT_MAX_REQUEST_SIZE, DEFAULT_MAX_RESPONSE_SIZE, HandshakeError,
    ServerHandshake, ServerStatus,
};

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

/// Growths of a head buffer from 256 bytes by doubling until it holds `cap` bytes.
fn growths(cap: usize) -> usize {
    let mut n = 1;
    let mut size = 256;
    while size < cap {
        size = (size * 2).min(cap);
        n += 1;
    }
    n
}

const UPGRADE: &str = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// A valid upgrade request of exactly `len` bytes: the required lines, then `lines` padding
/// header lines sharing the rest, then the empty line.
fn upgrade_request(len: usize, lines: usize) -> Vec<u8> {
    let mut head = String::from(UPGRADE);
    let room = len - head.len() - 2;
    let per_line = room / lines;
    for i in 0..lines {
        let this = if i + 1 == lines { room - per_line * (lines - 1) } else { per_line };
        let name = format!("X-Pad-{i}: ");
        head.push_str(&name);
        head.push_str(&"a".repeat(this - name.len() - 2));
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    assert_eq!(head.len(), len);
    head.into_bytes()
}

/// Feeds `head` to `reader` one byte at a time; returns the result of the last byte and the
/// allocations made while feeding all the bytes before it (every one answered `NeedMore`).
fn server_bytewise(reader: &mut ServerHandshake, head: &[u8]) -> (Result<ServerStatus, HandshakeError>, usize) {
    let (last, body) = head.split_last().unwrap();
    let Measured { allocations, .. } = measure(|| {
        for &b in body {
            assert_eq!(reader.feed(&[b]), Ok(ServerStatus::NeedMore));
        }
    });
    (reader.feed(&[*last]), allocations)
}

#[test]
fn maximal_request_head_byte_by_byte_is_parsed_twice() {
    let cap = DEFAULT_MAX_REQUEST_SIZE;
    for lines in [1, 8, 58] {
        let head = upgrade_request(cap, lines);
        let mut reader = ServerHandshake::new();
        let (last, allocations) = server_bytewise(&mut reader, &head);
        match last {
            Ok(ServerStatus::Upgrade(u)) => assert_eq!(u.leftover(), 1),
            other => panic!("{other:?}"),
        }
        // The buffer's growths, and one parse when the request line ended; none per header line.
        assert_eq!(allocations, growths(cap) + 1, "{lines} header lines");
        // The same reader takes the next head the same way (its buffer starts again).
        let (last, allocations) = server_bytewise(&mut reader, &head);
        assert!(matches!(last, Ok(ServerStatus::Upgrade(_))));
        assert!(allocations <= growths(cap) + 1, "{allocations}");
    }
}

#[test]
fn request_head_without_an_end_is_not_reparsed() {
    // 8 KiB of header bytes that never end: the request line is parsed once, then nothing until
    // the buffer is full (one more parse, which finds the head too large).
    let mut reader = ServerHandshake::new();
    let mut head = upgrade_request(DEFAULT_MAX_REQUEST_SIZE + 2, 40);
    head.truncate(DEFAULT_MAX_REQUEST_SIZE);
    let (last, allocations) = server_bytewise(&mut reader, &head);
    assert_eq!(last, Err(HandshakeError::HeadTooLarge { limit: DEFAULT_MAX_REQUEST_SIZE }));
    assert_eq!(allocations, growths(DEFAULT_MAX_REQUEST_SIZE) + 1);
}

#[test]
fn leading_empty_lines_are_capped_and_never_parsed() {
    // Up to 8 empty lines (CRLF or LF) before the request line are ignored (RFC 9112 §2.2).
    for empty in ["\r\n", "\n"] {
        let mut head = empty.repeat(8).into_bytes();
        head.extend_from_slice(&upgrade_request(1024, 2));
        let mut reader = ServerHandshake::new();
        let (last, allocations) = server_bytewise(&mut reader, &head);
        match last {
            Ok(ServerStatus::Upgrade(u)) => {
                assert_eq!(u.path(), "/chat");
                assert_eq!(u.leftover(), 1);
            }
            other => panic!("{other:?}"),
        }
        assert!(allocations <= growths(head.len()) + 1, "{allocations}");
        // Whole, with bytes after it.
        head.extend_from_slice(b"rest");
        match ServerHandshake::new().feed(&head) {
            Ok(ServerStatus::Upgrade(u)) => assert_eq!(&head[u.leftover()..], b"rest"),
            other => panic!("{other:?}"),
        }
    }

    // The hostile head of issue 13: 8 KiB of LFs a byte at a time. The ninth empty line is
    // refused (400) before the parser sees any of them.
    let mut reader = ServerHandshake::new();
    let Measured { value: result, allocations, .. } = measure(|| {
        for (i, _) in (0..DEFAULT_MAX_REQUEST_SIZE).enumerate() {
            match reader.feed(b"\n") {
                Ok(ServerStatus::NeedMore) => {}
                Err(e) => return (i + 1, e),
                Ok(other) => panic!("{other:?}"),
            }
        }
        panic!("8 KiB of empty lines were taken");
    });
    assert_eq!(result, (9, HandshakeError::MalformedHttp("too many empty lines before the head")));
    assert_eq!(result.1.status_hint(), 400);
    assert!(allocations <= 1, "{allocations} allocations for 9 bytes");
    // In one piece, and as CRLFs.
    assert_eq!(
        ServerHandshake::new().feed(&[b'\n'; DEFAULT_MAX_REQUEST_SIZE]),
        Err(HandshakeError::MalformedHttp("too many empty lines before the head"))
    );
    let mut crlfs = "\r\n".repeat(9).into_bytes();
    crlfs.extend_from_slice(&upgrade_request(512, 1));
    assert_eq!(
        ServerHandshake::new().feed(&crlfs),
        Err(HandshakeError::MalformedHttp("too many empty lines before the head"))
    );
    // A CR that does not end a line is an invalid line ending, as the parser would say.
    assert_eq!(ServerHandshake::new().feed(b"\r\rGET"), Err(HandshakeError::MalformedHttp("invalid line ending")));
    assert_eq!(ServerHandshake::new().feed(b"\r"), Ok(ServerStatus::NeedMore));
}

#[test]
fn a_bad_request_line_is_refused_when_it_ends() {
    let mut reader = ServerHandshake::new();
    for &b in b"GET /chat HTTP/9.1\r" {
        assert_eq!(reader.feed(&[b]), Ok(ServerStatus::NeedMore));
    }
    assert_eq!(reader.feed(b"\n"), Err(HandshakeError::MalformedHttp("invalid HTTP version")));
}

#[test]
fn one_header_line_too_many_is_refused_when_it_ends() {
    let mut reader = ServerHandshake::new().with_max_headers(4);
    let head = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n";
    let (body, last) = head.split_at(head.len() - 1);
    for &b in body {
        assert_eq!(reader.feed(&[b]), Ok(ServerStatus::NeedMore));
    }
    assert_eq!(reader.feed(last), Err(HandshakeError::TooManyHeaders { limit: 4 }));
}

fn client() -> ClientHandshake {
    ClientRequest::new("ws://example.com/")
        .unwrap()
        .with_key_source(KeySource::seeded(7))
        .write(&mut Vec::new())
        .unwrap()
}

/// A valid 101 response for `hs` of exactly `len` bytes, its padding spread over `lines` lines.
fn switching(hs: &ClientHandshake, len: usize, lines: usize) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        hs.expected_accept()
    );
    let room = len - head.len() - 2;
    let per_line = room / lines;
    for i in 0..lines {
        let this = if i + 1 == lines { room - per_line * (lines - 1) } else { per_line };
        let name = format!("X-Pad-{i}: ");
        head.push_str(&name);
        head.push_str(&"b".repeat(this - name.len() - 2));
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    assert_eq!(head.len(), len);
    head.into_bytes()
}

#[test]
fn maximal_response_head_byte_by_byte_is_parsed_twice() {
    let cap = DEFAULT_MAX_RESPONSE_SIZE;
    for lines in [1, 16, 60] {
        let mut hs = client();
        let head = switching(&hs, cap, lines);
        let (body, last) = head.split_at(head.len() - 1);
        let Measured { allocations, .. } = measure(|| {
            for &b in body {
                assert_eq!(hs.feed(&[b]), Ok(ClientStatus::NeedMore));
            }
        });
        assert_eq!(allocations, growths(cap) + 1, "{lines} header lines");
        assert!(matches!(hs.feed(last), Ok(ClientStatus::Upgraded { leftover: 1, .. })));
    }

    // 16 KiB of leading LFs, a byte at a time: refused at the ninth.
    let mut hs = client();
    let Measured { value: result, allocations, .. } = measure(|| {
        for i in 0..DEFAULT_MAX_RESPONSE_SIZE {
            if let Err(e) = hs.feed(b"\n") {
                return (i + 1, e);
            }
        }
        panic!("16 KiB of empty lines were taken");
    });
    assert_eq!(result, (9, HandshakeError::MalformedHttp("too many empty lines before the head")));
    assert!(allocations <= 1, "{allocations}");
    assert_eq!(hs.feed(b"\n"), Err(HandshakeError::Finished));

    // Eight are fine.
    let mut hs = client();
    let mut head = b"\r\n\n\r\n\n\r\n\n\r\n\n".to_vec();
    head.extend_from_slice(&switching(&hs, 512, 1));
    assert!(matches!(hs.feed(&head), Ok(ClientStatus::Upgraded { .. })));
}
