//! The server side of the opening handshake: reading requests in pieces, every rejection path
//! with its status hint, hostile input, plain HTTP hand-back, and the hand-over to `Connection`.

use proptest::prelude::*;
use wsproto::handshake::{
    Accept, DEFAULT_MAX_REQUEST_SIZE, ExtensionOffer, HandshakeError, HttpResponse, ServerHandshake, ServerStatus,
};
use wsproto::{BufferTooSmall, Config, Connection, Event, Fault, KeySource, MessageKind, Role, SliceBuf};

/// The request of RFC 6455 §1.2, without its final blank line.
const HEAD: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
    Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n";

fn request(extra: &str) -> String {
    format!("{HEAD}{extra}\r\n")
}

fn feed(bytes: &[u8]) -> Result<ServerStatus, HandshakeError> {
    ServerHandshake::new().feed(bytes)
}

fn upgrade(bytes: &[u8]) -> wsproto::handshake::UpgradeRequest {
    match feed(bytes) {
        Ok(ServerStatus::Upgrade(u)) => u,
        other => panic!("{other:?}"),
    }
}

/// Feeds `bytes` in pieces of the given sizes; returns the final status and the absolute offset
/// of the leftover bytes.
fn feed_pieces(
    reader: &mut ServerHandshake,
    bytes: &[u8],
    sizes: &[usize],
) -> (Result<ServerStatus, HandshakeError>, usize) {
    let mut pos = 0;
    let mut sizes = sizes.iter().copied().cycle();
    loop {
        let n = sizes.next().unwrap_or(1).max(1).min(bytes.len() - pos);
        let piece = &bytes[pos..pos + n];
        let r = reader.feed(piece);
        match &r {
            Ok(ServerStatus::NeedMore) if pos + n < bytes.len() => pos += n,
            Ok(ServerStatus::Upgrade(u)) => return (r.clone(), pos + u.leftover()),
            Ok(ServerStatus::Http(h)) => return (r.clone(), pos + h.leftover),
            _ => return (r, pos + n),
        }
    }
}

#[test]
fn rfc_example_is_accepted_and_answered() {
    let req = request("");
    let u = upgrade(req.as_bytes());
    assert_eq!(u.path(), "/chat");
    assert_eq!(u.host(), Some("server.example.com"));
    assert_eq!(u.origin(), Some("http://example.com"));
    assert_eq!(u.protocols(), ["chat", "superchat"]);
    assert!(u.extensions().is_empty());
    assert_eq!(u.leftover(), req.len());
    let mut out = Vec::new();
    let negotiated = u.accept(&Accept::new().with_protocol("chat"), &mut out).unwrap();
    assert_eq!(negotiated.role, Role::Server);
    assert_eq!(negotiated.protocol.as_deref(), Some("chat"));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
    );
}

#[test]
fn every_rejection_path_has_its_status() {
    let without = |line: &str| format!("{}\r\n", HEAD.replacen(line, "", 1));
    let with = |from: &str, to: &str| format!("{}\r\n", HEAD.replacen(from, to, 1));
    let cases: Vec<(String, HandshakeError, u16)> = vec![
        (with("GET", "POST"), HandshakeError::MethodNotAllowed, 405),
        (with("GET", "PUT"), HandshakeError::MethodNotAllowed, 405),
        (with("HTTP/1.1", "HTTP/1.0"), HandshakeError::HttpVersion, 400),
        (without("Host: server.example.com\r\n"), HandshakeError::MissingHeader("Host"), 400),
        (request("Host: other\r\n"), HandshakeError::DuplicateHeader("Host"), 400),
        (without("Upgrade: websocket\r\n"), HandshakeError::MissingHeader("Upgrade"), 400),
        (with("Upgrade: websocket", "Upgrade: websocket2"), HandshakeError::UpgradeNotWebSocket, 400),
        (without("Connection: Upgrade\r\n"), HandshakeError::MissingHeader("Connection"), 400),
        (with("Connection: Upgrade", "Connection: close"), HandshakeError::ConnectionNotUpgrade, 400),
        (with("Connection: Upgrade", "Connection: Upgrade2"), HandshakeError::ConnectionNotUpgrade, 400),
        (
            without("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"),
            HandshakeError::MissingHeader("Sec-WebSocket-Key"),
            400,
        ),
        (
            request("Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\n"),
            HandshakeError::DuplicateHeader("Sec-WebSocket-Key"),
            400,
        ),
        (with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ="), HandshakeError::InvalidKey, 400),
        (with("dGhlIHNhbXBsZSBub25jZQ==", "AQIDBAUGBwgJCgsMDQ4PEBES"), HandshakeError::InvalidKey, 400),
        (with("dGhlIHNhbXBsZSBub25jZQ==", "AQIDBAUGBwgJCgsMDQ4P"), HandshakeError::InvalidKey, 400),
        (with("dGhlIHNhbXBsZSBub25jZQ==", ""), HandshakeError::InvalidKey, 400),
        (with("dGhlIHNhbXBsZSBub25jZQ==", "dGhl IHNhbXBsZSBub25jZQ="), HandshakeError::InvalidKey, 400),
        (without("Sec-WebSocket-Version: 13\r\n"), HandshakeError::UnsupportedVersion, 426),
        (with("Version: 13", "Version: 12"), HandshakeError::UnsupportedVersion, 426),
        (with("Version: 13", "Version: 013"), HandshakeError::UnsupportedVersion, 426),
        (request("Sec-WebSocket-Version: 13\r\n"), HandshakeError::DuplicateHeader("Sec-WebSocket-Version"), 400),
        (request("Origin: http://evil.example\r\n"), HandshakeError::DuplicateHeader("Origin"), 400),
        (with("chat, superchat", "chat superchat"), HandshakeError::InvalidProtocols, 400),
        (with("chat, superchat", "chat, sup/erchat"), HandshakeError::InvalidProtocols, 400),
        (with("chat, superchat", ""), HandshakeError::InvalidProtocols, 400),
        (
            request("Sec-WebSocket-Extensions: permessage-deflate; x=\"a b\"\r\n"),
            HandshakeError::InvalidExtensions("quoted parameter value is not a token"),
            400,
        ),
        (
            request("Sec-WebSocket-Extensions: \r\n"),
            HandshakeError::InvalidExtensions("no extension in the header field"),
            400,
        ),
        (with("GET /chat", "GET  /chat"), HandshakeError::MalformedHttp("invalid request line"), 400),
        (request("X-Bad : 1\r\n"), HandshakeError::MalformedHttp("invalid header name"), 400),
        (request("X-Bad\r\n"), HandshakeError::MalformedHttp("invalid header name"), 400),
        (with("HTTP/1.1", "HTTP/2.0"), HandshakeError::MalformedHttp("invalid HTTP version"), 400),
    ];
    for (req, want, status) in &cases {
        let got = feed(req.as_bytes());
        assert_eq!(got.as_ref().err(), Some(want), "{req}");
        assert_eq!(want.status_hint(), *status, "{want}");
        assert_eq!(want.fault(), Fault::Peer);
        let mut out = Vec::new();
        want.write_response(&mut out).unwrap();
        let status_line = format!("HTTP/1.1 {status} ");
        assert!(out.starts_with(status_line.as_bytes()), "{}", String::from_utf8_lossy(&out));
        assert!(String::from_utf8_lossy(&out).contains("\r\nConnection: close\r\n"));
    }
}

#[test]
fn version_426_response_carries_the_supported_version() {
    let req = format!("{}\r\n", HEAD.replacen("Version: 13", "Version: 8", 1));
    let err = feed(req.as_bytes()).unwrap_err();
    let response = err.response();
    assert_eq!(response.status, 426);
    assert_eq!(response.headers.get("Sec-WebSocket-Version"), Some(&b"13"[..]));
    let mut out = Vec::new();
    err.write_response(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"), "{text}");
    assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    assert!(text.contains("\r\nUpgrade: websocket\r\n"));
    let body = text.split("\r\n\r\n").nth(1).unwrap();
    assert!(text.contains(&format!("Content-Length: {}\r\n", body.len())));
}

#[test]
fn method_405_response_allows_get() {
    let req = format!("{}\r\n", HEAD.replacen("GET", "POST", 1));
    let err = feed(req.as_bytes()).unwrap_err();
    assert_eq!(err.response().headers.get("Allow"), Some(&b"GET"[..]));
}

#[test]
fn huge_header_is_431() {
    let big = format!("X-Big: {}\r\n", "a".repeat(DEFAULT_MAX_REQUEST_SIZE));
    let req = request(&big);
    let want = HandshakeError::HeadTooLarge { limit: DEFAULT_MAX_REQUEST_SIZE };
    assert_eq!(feed(req.as_bytes()).err(), Some(want));
    assert_eq!(want.status_hint(), 431);
    // In small pieces too, and without ever seeing the end of the head.
    let (r, _) = feed_pieces(&mut ServerHandshake::new(), req.as_bytes(), &[7, 1, 100]);
    assert_eq!(r.err(), Some(want));
    let endless = "GET / HTTP/1.1\r\nX: ".to_owned() + &"b".repeat(20_000);
    assert_eq!(feed(endless.as_bytes()).err(), Some(want));
}

#[test]
fn head_exactly_at_the_limit_is_accepted() {
    let base = request("X-Pad: \r\n");
    let pad = DEFAULT_MAX_REQUEST_SIZE - base.len();
    let req = request(&format!("X-Pad: {}\r\n", "p".repeat(pad)));
    assert_eq!(req.len(), DEFAULT_MAX_REQUEST_SIZE);
    assert!(matches!(feed(req.as_bytes()), Ok(ServerStatus::Upgrade(_))));
    let over = request(&format!("X-Pad: {}\r\n", "p".repeat(pad + 1)));
    assert_eq!(feed(over.as_bytes()).err(), Some(HandshakeError::HeadTooLarge { limit: DEFAULT_MAX_REQUEST_SIZE }));
    // The limit is configurable.
    let mut small = ServerHandshake::new().with_max_request_size(100);
    assert_eq!(small.feed(request("").as_bytes()).err(), Some(HandshakeError::HeadTooLarge { limit: 100 }));
}

#[test]
fn too_many_headers_is_431() {
    let many: String = (0..100).map(|i| format!("X-{i}: v\r\n")).collect();
    let err = feed(request(&many).as_bytes()).unwrap_err();
    assert_eq!(err, HandshakeError::TooManyHeaders { limit: 64 });
    assert_eq!(err.status_hint(), 431);
    let mut few = ServerHandshake::new().with_max_headers(200);
    assert!(matches!(few.feed(request(&many).as_bytes()), Ok(ServerStatus::Upgrade(_))));
}

#[test]
fn missing_blank_line_is_not_complete() {
    // No final CRLF: the head has not ended, so the reader waits (and a peer that never ends
    // it runs into the size limit).
    let mut reader = ServerHandshake::new();
    assert_eq!(reader.feed(HEAD.as_bytes()), Ok(ServerStatus::NeedMore));
    assert!(matches!(reader.feed(b"\r\n"), Ok(ServerStatus::Upgrade(_))));
}

#[test]
fn line_endings() {
    // A bare CR is malformed.
    let bare_cr = HEAD.replacen("Upgrade: websocket\r\n", "Upgrade: websocket\r", 1) + "\r\n";
    assert!(matches!(feed(bare_cr.as_bytes()), Err(HandshakeError::MalformedHttp(_))));
    // Bare LF line endings are tolerated (RFC 9112 §2.2 allows a recipient to accept them).
    let lf = request("").replace("\r\n", "\n");
    let u = upgrade(lf.as_bytes());
    assert_eq!(u.leftover(), lf.len());
}

#[test]
fn non_utf8_header_values() {
    let mut req = HEAD.as_bytes().to_vec();
    req.extend_from_slice(b"Cookie: name=\xff\xfe\r\nOrigin2: \xc3\x28\r\n\r\n");
    let u = upgrade(&req);
    assert_eq!(u.headers().get("cookie"), Some(&b"name=\xff\xfe"[..]));
    assert_eq!(u.headers().get_str("cookie"), None);

    let mut bad_origin = HEAD.replacen("Origin: http://example.com\r\n", "", 1).into_bytes();
    bad_origin.extend_from_slice(b"Origin: http://\xe9.example\r\n\r\n");
    let u = upgrade(&bad_origin);
    assert_eq!(u.origin(), None);
    assert_eq!(u.headers().get("Origin"), Some(&b"http://\xe9.example"[..]));

    let mut bad_key = HEAD.replacen("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", 1).into_bytes();
    bad_key.extend_from_slice(b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\xff\xff==\r\n\r\n");
    assert_eq!(feed(&bad_key).err(), Some(HandshakeError::InvalidKey));

    let mut bad_proto = HEAD.replacen("Sec-WebSocket-Protocol: chat, superchat\r\n", "", 1).into_bytes();
    bad_proto.extend_from_slice(b"Sec-WebSocket-Protocol: ch\xe4t\r\n\r\n");
    assert_eq!(feed(&bad_proto).err(), Some(HandshakeError::InvalidProtocols));

    let mut bad_ext = HEAD.as_bytes().to_vec();
    bad_ext.extend_from_slice(b"Sec-WebSocket-Extensions: d\xe9flate\r\n\r\n");
    assert!(matches!(feed(&bad_ext), Err(HandshakeError::InvalidExtensions(_))));
}

#[test]
fn extra_spaces_in_values_are_tolerated() {
    let req = "GET /chat HTTP/1.1\r\nHost:   server.example.com   \r\nUpgrade:\t websocket \t\r\n\
        Connection:  keep-alive ,  Upgrade  \r\nSec-WebSocket-Key:   dGhlIHNhbXBsZSBub25jZQ==  \r\n\
        Sec-WebSocket-Version:  13 \r\nSec-WebSocket-Protocol:  chat ,superchat , \r\n\
        Sec-WebSocket-Extensions:  a ;  b = 1 ; c ,  d \r\n\r\n";
    let u = upgrade(req.as_bytes());
    assert_eq!(u.key(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
    assert_eq!(u.protocols(), ["chat", "superchat"]);
    assert_eq!(
        u.extensions(),
        [ExtensionOffer::new("a").with_param("b", "1").with_flag("c"), ExtensionOffer::new("d")]
    );
    let mut out = Vec::new();
    u.accept(&Accept::new(), &mut out).unwrap();
    assert!(String::from_utf8(out).unwrap().contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
}

#[test]
fn header_names_and_tokens_are_case_insensitive() {
    let req = "GET / HTTP/1.1\r\nHOST: h\r\nupgrade: WEBSOCKET\r\nCONNECTION: UPGRADE\r\n\
        sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n";
    assert!(matches!(feed(req.as_bytes()), Ok(ServerStatus::Upgrade(_))));
    // Connection and Upgrade may be split over several lines.
    let req = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n\
        Connection: upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    assert!(matches!(feed(req.as_bytes()), Ok(ServerStatus::Upgrade(_))));
}

#[test]
fn plain_http_requests_are_handed_back() {
    let req = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nAccept: text/html\r\n\r\n";
    match feed(req) {
        Ok(ServerStatus::Http(r)) => {
            assert_eq!(r.method, "GET");
            assert_eq!(r.path, "/index.html");
            assert_eq!(r.version, 1);
            assert_eq!(r.headers.get_str("accept"), Some("text/html"));
            assert_eq!(r.leftover, req.len());
        }
        other => panic!("{other:?}"),
    }
    // With a body: the body starts at `leftover`.
    let req = b"POST /form HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello";
    let Ok(ServerStatus::Http(r)) = feed(req) else { panic!() };
    assert_eq!((r.method.as_str(), r.version), ("POST", 0));
    assert_eq!(&req[r.leftover..], b"hello");
    // An upgrade to something else is not ours to refuse.
    let req = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n";
    assert!(matches!(feed(req), Ok(ServerStatus::Http(_))));
    // A plain request can be answered with any response.
    let mut out = Vec::new();
    HttpResponse::new(200).with_header("Content-Type", "text/plain").with_body("ok").write(&mut out).unwrap();
    assert_eq!(out, b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");
}

#[test]
fn keep_alive_then_upgrade_on_the_same_connection() {
    let mut wire = b"GET /health HTTP/1.1\r\nHost: h\r\n\r\n".to_vec();
    wire.extend_from_slice(request("").as_bytes());
    let mut reader = ServerHandshake::new();
    let Ok(ServerStatus::Http(first)) = reader.feed(&wire) else { panic!() };
    assert_eq!(first.path, "/health");
    let rest = &wire[first.leftover..];
    let Ok(ServerStatus::Upgrade(u)) = reader.feed(rest) else { panic!() };
    assert_eq!(u.leftover(), rest.len());
}

#[test]
fn frames_after_the_request_are_handed_over() {
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(5));
    let mut wire = request("").into_bytes();
    let head_len = wire.len();
    client.send_text("early", &mut wire).unwrap();
    client.send_binary(&[1, 2, 3], &mut wire).unwrap();

    // The head and the frames arrive split in an awkward place.
    let mut reader = ServerHandshake::new();
    let (first, second) = wire.split_at(head_len - 3);
    assert_eq!(reader.feed(first), Ok(ServerStatus::NeedMore));
    let mut second = second.to_vec();
    let Ok(ServerStatus::Upgrade(u)) = reader.feed(&second) else { panic!() };
    assert_eq!(u.leftover(), 3);

    let negotiated = u.accept(&Accept::new(), &mut Vec::new()).unwrap();
    let mut server = Connection::new(negotiated.role, Config::new()).with_negotiated(&negotiated);
    let mut pos = u.leftover();
    let mut got = Vec::new();
    loop {
        let r = server.receive(&mut second[pos..]).unwrap();
        pos += r.consumed;
        match r.event {
            Some(Event::Data { kind, data, .. }) => got.push((kind, data.to_vec())),
            Some(other) => panic!("{other:?}"),
            None => break,
        }
    }
    assert_eq!(got, [(MessageKind::Text, b"early".to_vec()), (MessageKind::Binary, vec![1, 2, 3])]);
}

#[test]
fn negotiation_of_subprotocols_and_extensions() {
    let req = request("Sec-WebSocket-Extensions: x-a; p=1, x-b\r\nSec-WebSocket-Extensions: x-a\r\n");
    let u = upgrade(req.as_bytes());
    assert_eq!(u.select_protocol(&["superchat", "chat"]), Some("chat"));
    assert_eq!(u.select_protocol(&["other"]), None);
    assert_eq!(u.extensions().len(), 3);
    let accept = Accept::new()
        .with_protocol("superchat")
        .with_extension(ExtensionOffer::new("x-b").with_param("q", "2"))
        .with_header("Set-Cookie", "id=1");
    let mut out = Vec::new();
    let n = u.accept(&accept, &mut out).unwrap();
    assert_eq!(n.protocol.as_deref(), Some("superchat"));
    assert!(n.has_extension("X-B"));
    assert_eq!(n.reserved_bits, 0);
    let text = String::from_utf8(out).unwrap();
    assert!(text.ends_with(
        "Sec-WebSocket-Protocol: superchat\r\nSec-WebSocket-Extensions: x-b; q=2\r\nSet-Cookie: id=1\r\n\r\n"
    ));

    // Choices the client did not offer are the caller's mistake; nothing is written.
    for (accept, what) in [
        (Accept::new().with_protocol("nope"), "subprotocol was not offered"),
        (Accept::new().with_extension(ExtensionOffer::new("x-c")), "extension was not offered"),
        (Accept::new().with_header("Sec-WebSocket-Protocol", "chat"), "header is managed by the handshake"),
    ] {
        let mut out = Vec::new();
        let err = u.accept(&accept, &mut out).unwrap_err();
        assert_eq!(err, HandshakeError::InvalidInput(what));
        assert_eq!((err.fault(), err.status_hint()), (Fault::Caller, 500));
        assert!(out.is_empty());
    }
}

#[test]
fn reject_writes_status_headers_and_body() {
    let u = upgrade(request("").as_bytes());
    let mut out = Vec::new();
    let response = HttpResponse::new(401).with_header("WWW-Authenticate", "Bearer").with_body("who are you?");
    u.reject(&response, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 12\r\n\r\nwho are you?"
    );
    assert!(u.reject(&HttpResponse::new(101), &mut Vec::new()).is_err());
}

#[test]
fn fixed_buffers() {
    let u = upgrade(request("").as_bytes());
    let mut storage = [0u8; 64];
    let mut small = SliceBuf::new(&mut storage);
    let err = u.accept(&Accept::new(), &mut small).unwrap_err();
    assert_eq!(err, HandshakeError::BufferTooSmall(BufferTooSmall { required: 129 }));
    assert!(small.is_empty());
    let mut storage = [0u8; 129];
    let mut exact = SliceBuf::new(&mut storage);
    u.accept(&Accept::new(), &mut exact).unwrap();
    assert_eq!(exact.len(), 129);
}

#[test]
fn byte_by_byte() {
    let req = request("Sec-WebSocket-Extensions: a; b=\"1\"\r\n");
    let (r, leftover) = feed_pieces(&mut ServerHandshake::new(), req.as_bytes(), &[1]);
    let Ok(ServerStatus::Upgrade(u)) = r else { panic!("{r:?}") };
    assert_eq!(leftover, req.len());
    assert_eq!(u.leftover(), 1);
    assert_eq!(u.extensions()[0].param("b"), Some(Some("1")));
}

/// Optional request lines that a generated request may carry.
fn extras() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("User-Agent: test/1.0\r\n".to_owned()),
        Just("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n".to_owned()),
        Just("Cookie: a=b; c=d\r\n".to_owned()),
        "[a-z]{1,10}".prop_map(|v| format!("X-Custom: {v}\r\n")),
        "[a-z]{1,8}".prop_map(|v| format!("Sec-WebSocket-Extensions: x-{v}; a=\"{v}\"\r\n")),
    ];
    proptest::collection::vec(line, 0..5).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn any_split_parses_the_same(
        extra in extras(),
        trailing in proptest::collection::vec(any::<u8>(), 0..40),
        sizes in proptest::collection::vec(1usize..64, 1..10),
        plain in any::<bool>(),
    ) {
        let mut wire = if plain {
            format!("GET /page HTTP/1.1\r\nHost: h\r\n{extra}\r\n").into_bytes()
        } else {
            request(&extra).into_bytes()
        };
        let head_len = wire.len();
        wire.extend_from_slice(&trailing);
        let whole = ServerHandshake::new().feed(&wire);
        let (pieces, leftover) = feed_pieces(&mut ServerHandshake::new(), &wire, &sizes);
        prop_assert_eq!(leftover, head_len);
        // Apart from `leftover` (relative to the last piece), the results are the same.
        let strip = |r: Result<ServerStatus, HandshakeError>| match r {
            Ok(ServerStatus::Upgrade(u)) => format!("{:?} {:?} {:?} {:?}", u.path(), u.headers(), u.protocols(), u.extensions()),
            Ok(ServerStatus::Http(mut h)) => { h.leftover = 0; format!("{h:?}") }
            other => format!("{other:?}"),
        };
        prop_assert!(matches!(whole, Ok(ServerStatus::Upgrade(_)) | Ok(ServerStatus::Http(_))));
        prop_assert_eq!(strip(whole), strip(pieces));
    }

    #[test]
    fn hostile_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        sizes in proptest::collection::vec(1usize..50, 1..5),
        prefix in any::<bool>(),
    ) {
        let mut wire = if prefix { HEAD.as_bytes().to_vec() } else { Vec::new() };
        wire.extend_from_slice(&bytes);
        if wire.is_empty() { return Ok(()); }
        let mut reader = ServerHandshake::new().with_max_request_size(512);
        let (r, _) = feed_pieces(&mut reader, &wire, &sizes);
        if let Err(e) = r {
            prop_assert_eq!(e.fault(), Fault::Peer);
            prop_assert!(matches!(e.status_hint(), 400 | 405 | 426 | 431));
            let mut out = Vec::new();
            prop_assert!(e.write_response(&mut out).is_ok());
        }
    }
}
