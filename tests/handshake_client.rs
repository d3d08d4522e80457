//! The client side of the opening handshake: the request builder, the response reader fed in
//! pieces, every rejection path with its status hint, non-101 answers handed back, and frames
//! after the 101 handed over to `Connection`.

use proptest::prelude::*;
use wsproto::handshake::{
    Accept, ClientHandshake, ClientRequest, ClientStatus, DEFAULT_MAX_RESPONSE_SIZE, ExtensionOffer, HandshakeError,
    ServerHandshake, ServerStatus, accept_key,
};
use wsproto::{CloseCode, CloseFrame, Config, Connection, Event, Fault, KeySource, MessageKind, Role, SliceBuf};

fn request(uri: &str) -> ClientRequest {
    ClientRequest::new(uri).unwrap().with_key_source(KeySource::seeded(42))
}

fn handshake(protocols: &[&str], extensions: &[&str]) -> ClientHandshake {
    let mut r = request("ws://example.com/chat");
    for p in protocols {
        r = r.with_protocol(*p);
    }
    for e in extensions {
        r = r.with_extension(ExtensionOffer::new(*e));
    }
    r.write(&mut Vec::new()).unwrap()
}

/// A 101 response for `hs` with `extra` header lines.
fn switching(hs: &ClientHandshake, extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n{extra}\r\n",
        hs.expected_accept()
    )
}

/// Feeds `bytes` in pieces of the given sizes; returns the final status and the absolute offset
/// of the leftover bytes.
fn feed_pieces(
    hs: &mut ClientHandshake,
    bytes: &[u8],
    sizes: &[usize],
) -> (Result<ClientStatus, HandshakeError>, usize) {
    let mut pos = 0;
    let mut sizes = sizes.iter().copied().cycle();
    loop {
        let n = sizes.next().unwrap_or(1).max(1).min(bytes.len() - pos);
        let r = hs.feed(&bytes[pos..pos + n]);
        match &r {
            Ok(ClientStatus::NeedMore) if pos + n < bytes.len() => pos += n,
            Ok(ClientStatus::Upgraded { leftover, .. }) => return (r.clone(), pos + leftover),
            _ => return (r, pos + n),
        }
    }
}

#[test]
fn request_bytes() {
    let mut out = Vec::new();
    let hs = request("ws://example.com/chat?room=1")
        .with_origin("http://example.com")
        .with_protocol("chat")
        .with_protocol("superchat")
        .with_extension(ExtensionOffer::new("permessage-deflate").with_flag("client_max_window_bits"))
        .with_header("Cookie", "session=abc")
        .with_header("Authorization", "Bearer t")
        .write(&mut out)
        .unwrap();
    let want = format!(
        "GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\
         Sec-WebSocket-Protocol: chat, superchat\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
         Cookie: session=abc\r\nAuthorization: Bearer t\r\n\r\n",
        hs.key()
    );
    assert_eq!(String::from_utf8(out).unwrap(), want);
    assert_eq!(hs.expected_accept(), accept_key(hs.key().as_bytes()));
}

#[test]
fn minimal_request_is_read_by_our_server() {
    let mut out = Vec::new();
    let hs = request("ws://example.com").write(&mut out).unwrap();
    let Ok(ServerStatus::Upgrade(u)) = ServerHandshake::new().feed(&out) else { panic!() };
    assert_eq!(u.path(), "/");
    assert_eq!(u.key(), Some(hs.key()));
    assert_eq!(u.origin(), None);
    assert!(u.protocols().is_empty());
}

#[test]
fn uri_forms() {
    let cases = [
        ("ws://example.com", "example.com", 80, "/", "example.com", false),
        ("wss://example.com", "example.com", 443, "/", "example.com", true),
        ("ws://example.com:80/a", "example.com", 80, "/a", "example.com", false),
        ("wss://example.com:443/a", "example.com", 443, "/a", "example.com", true),
        ("ws://example.com:443/a", "example.com", 443, "/a", "example.com:443", false),
        ("wss://example.com:8443/a/b?c=d&e", "example.com", 8443, "/a/b?c=d&e", "example.com:8443", true),
        ("ws://example.com?x", "example.com", 80, "/?x", "example.com", false),
        ("ws://[::1]:9000/x", "::1", 9000, "/x", "[::1]:9000", false),
        ("wss://[fe80::1]", "fe80::1", 443, "/", "[fe80::1]", true),
        ("ws://127.0.0.1:8080", "127.0.0.1", 8080, "/", "127.0.0.1:8080", false),
        ("WS://Example.COM/Path", "Example.COM", 80, "/Path", "Example.COM", false),
    ];
    for (uri, host, port, resource, host_header, secure) in cases {
        let mut r = request(uri);
        assert_eq!(
            (r.host(), r.port(), r.resource(), r.host_header(), r.is_secure()),
            (host, port, resource, host_header, secure),
            "{uri}"
        );
        let mut out = Vec::new();
        r.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(&format!("GET {resource} HTTP/1.1\r\nHost: {host_header}\r\n")), "{text}");
    }
}

#[test]
fn invalid_uris() {
    for uri in [
        "http://example.com",
        "example.com/chat",
        "ws://",
        "ws://:80/",
        "ws://example.com/#fragment",
        "ws://user@example.com/",
        "ws://example.com:99999/",
        "ws://example.com:0/",
        "ws://example.com:port/",
        "ws://[::1/",
        "ws://[::g]/",
        "ws://exa mple.com/",
        "ws://example.com/a b",
        "ws://example.com/\u{e9}",
        "ws://example.com/\r\nX-Injected: 1",
    ] {
        let err = ClientRequest::new(uri).unwrap_err();
        assert!(matches!(err, HandshakeError::InvalidUri(_)), "{uri}: {err:?}");
        assert_eq!(err.fault(), Fault::Caller);
    }
}

#[test]
fn key_is_16_bytes_from_the_key_source() {
    let mut out = Vec::new();
    let hs = ClientRequest::new("ws://a/")
        .unwrap()
        .with_key_source(KeySource::from_fn(|b| b.fill(0xab)))
        .write(&mut out)
        .unwrap();
    // base64 of sixteen 0xab bytes.
    assert_eq!(hs.key(), "q6urq6urq6urq6urq6urqw==");
    let mut r = request("ws://a/");
    let keys: Vec<String> = (0..20).map(|_| r.write(&mut Vec::new()).unwrap().key().to_owned()).collect();
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(k.len(), 24);
        assert!(k.ends_with("=="));
        assert!(!keys[..i].contains(k), "key repeated");
    }
}

#[cfg(feature = "getrandom")]
#[test]
fn default_key_source_is_the_os() {
    let mut r = ClientRequest::new("ws://a/").unwrap();
    let a = r.write(&mut Vec::new()).unwrap();
    let b = r.write(&mut Vec::new()).unwrap();
    assert_ne!(a.key(), b.key());
}

#[test]
fn builder_input_errors_write_nothing() {
    let cases = [
        request("ws://a/").with_protocol("has space"),
        request("ws://a/").with_protocol(""),
        request("ws://a/").with_protocol("a").with_protocol("a"),
        request("ws://a/").with_origin("http://a\r\nX: y"),
        request("ws://a/").with_header("Upgrade", "h2c"),
        request("ws://a/").with_header("sec-websocket-version", "8"),
        request("ws://a/").with_header("Bad Name", "v"),
        request("ws://a/").with_header("X", "line\nbreak"),
        request("ws://a/").with_extension(ExtensionOffer::new("x").with_param("p", "\"quoted\"")),
    ];
    for mut r in cases {
        let mut out = Vec::new();
        let err = r.write(&mut out).unwrap_err();
        assert!(matches!(err, HandshakeError::InvalidInput(_)), "{err:?}");
        assert_eq!(err.fault(), Fault::Caller);
        assert!(out.is_empty());
    }
    let mut storage = [0u8; 100];
    let mut small = SliceBuf::new(&mut storage);
    assert!(matches!(request("ws://a/").write(&mut small), Err(HandshakeError::BufferTooSmall(_))));
    assert!(small.is_empty());
}

#[test]
fn accepted_response() {
    let mut hs = handshake(&["chat", "superchat"], &["x-a", "x-b"]);
    let resp = switching(
        &hs,
        "Sec-WebSocket-Protocol: superchat\r\nSec-WebSocket-Extensions: x-b; p=\"7\"\r\nSet-Cookie: s=1\r\n",
    );
    match hs.feed(resp.as_bytes()).unwrap() {
        ClientStatus::Upgraded { negotiated, response, leftover } => {
            assert_eq!(negotiated.role, Role::Client);
            assert_eq!(negotiated.protocol.as_deref(), Some("superchat"));
            assert_eq!(negotiated.extensions, [ExtensionOffer::new("x-b").with_param("p", "7")]);
            assert_eq!(response.status, 101);
            assert_eq!(response.headers.get_str("set-cookie"), Some("s=1"));
            assert!(response.body.is_empty());
            assert_eq!(leftover, resp.len());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(hs.feed(b"more"), Err(HandshakeError::Finished));
}

#[test]
fn server_may_select_nothing() {
    let mut hs = handshake(&["chat"], &["x-a"]);
    let resp = switching(&hs, "");
    let Ok(ClientStatus::Upgraded { negotiated, .. }) = hs.feed(resp.as_bytes()) else { panic!() };
    assert_eq!(negotiated.protocol, None);
    assert!(negotiated.extensions.is_empty());
}

#[test]
fn every_rejection_path_has_its_status() {
    type Case = (&'static [&'static str], &'static [&'static str], &'static str, HandshakeError, u16);
    let upgrade = "Upgrade: websocket\r\n";
    let connection = "Connection: Upgrade\r\n";
    let cases: &[Case] = &[
        (&[], &[], "HTTP/1.0 101 Switching Protocols\r\n{U}{C}{A}", HandshakeError::HttpVersion, 400),
        (&[], &[], "HTTP/1.1 101 Switching Protocols\r\n{C}{A}", HandshakeError::MissingHeader("Upgrade"), 400),
        (
            &[],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: web-socket\r\n{C}{A}",
            HandshakeError::UpgradeNotWebSocket,
            400,
        ),
        (&[], &[], "HTTP/1.1 101 Switching Protocols\r\n{U}{A}", HandshakeError::MissingHeader("Connection"), 400),
        (
            &[],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}Connection: keep-alive\r\n{A}",
            HandshakeError::ConnectionNotUpgrade,
            400,
        ),
        (
            &[],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}",
            HandshakeError::MissingHeader("Sec-WebSocket-Accept"),
            400,
        ),
        (
            &[],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}{A}{A}",
            HandshakeError::DuplicateHeader("Sec-WebSocket-Accept"),
            400,
        ),
        (
            &[],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
            HandshakeError::AcceptMismatch,
            502,
        ),
        (
            &[],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}Sec-WebSocket-Accept: \r\n",
            HandshakeError::AcceptMismatch,
            502,
        ),
        (
            &["a"],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}{A}Sec-WebSocket-Protocol: b\r\n",
            HandshakeError::UnofferedProtocol,
            502,
        ),
        (
            &["a"],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}{A}Sec-WebSocket-Protocol: A\r\n",
            HandshakeError::UnofferedProtocol,
            502,
        ),
        (
            &[],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}{A}Sec-WebSocket-Protocol: a\r\n",
            HandshakeError::UnofferedProtocol,
            502,
        ),
        (
            &["a", "b"],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}{A}Sec-WebSocket-Protocol: a, b\r\n",
            HandshakeError::InvalidProtocols,
            400,
        ),
        (
            &["a"],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}{A}Sec-WebSocket-Protocol: \r\n",
            HandshakeError::InvalidProtocols,
            400,
        ),
        (
            &["a"],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}{A}Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: a\r\n",
            HandshakeError::DuplicateHeader("Sec-WebSocket-Protocol"),
            400,
        ),
        (
            &[],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}{A}Sec-WebSocket-Extensions: x-a\r\n",
            HandshakeError::UnofferedExtension,
            502,
        ),
        (
            &[],
            &["x-a"],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}{A}Sec-WebSocket-Extensions: x-a, x-a\r\n",
            HandshakeError::UnofferedExtension,
            502,
        ),
        (
            &[],
            &["x-a"],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}{A}Sec-WebSocket-Extensions: x-a; =\r\n",
            HandshakeError::InvalidExtensions("expected a parameter name"),
            400,
        ),
        (
            &[],
            &[],
            "HTTP/1.1 1O1 Switching Protocols\r\n{U}{C}{A}",
            HandshakeError::MalformedHttp("invalid status line"),
            400,
        ),
        (
            &[],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\nBad Header: 1\r\n",
            HandshakeError::MalformedHttp("invalid header name"),
            400,
        ),
        (
            &[],
            &[],
            "HTTP/1.1 101 Switching Protocols\r\n{U}{C}{A}X: a\rb\r\n",
            HandshakeError::MalformedHttp("invalid header value"),
            400,
        ),
        (&[], &[], "HTTP/2 101\r\n", HandshakeError::MalformedHttp("invalid HTTP version"), 400),
    ];
    for (protocols, extensions, template, want, status) in cases {
        let mut hs = handshake(protocols, extensions);
        let accept = format!("Sec-WebSocket-Accept: {}\r\n", hs.expected_accept());
        let resp = template.replace("{U}", upgrade).replace("{C}", connection).replace("{A}", &accept) + "\r\n";
        assert_eq!(hs.feed(resp.as_bytes()), Err(*want), "{resp}");
        assert_eq!(want.status_hint(), *status);
        assert_eq!(want.fault(), Fault::Peer);
        assert_eq!(hs.feed(b""), Err(HandshakeError::Finished));
    }
}

#[test]
fn tolerant_forms() {
    let mut hs = handshake(&["chat"], &[]);
    let resp = format!(
        "HTTP/1.1 101 Whatever\r\nUPGRADE:  WebSocket  \r\nconnection: keep-alive,upgrade\r\n\
         sec-websocket-accept:   {}  \r\nsec-websocket-protocol:  chat \r\n\r\n",
        hs.expected_accept()
    );
    assert!(matches!(hs.feed(resp.as_bytes()), Ok(ClientStatus::Upgraded { .. })));
    // Bare LF line endings.
    let mut hs = handshake(&[], &[]);
    let resp = switching(&hs, "").replace("\r\n", "\n");
    assert!(matches!(hs.feed(resp.as_bytes()), Ok(ClientStatus::Upgraded { .. })));
}

#[test]
fn non_101_responses_are_handed_back_with_body() {
    let mut hs = handshake(&[], &[]);
    let resp = b"HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\nContent-Length: 12\r\n\r\nmoved, sorry";
    let (r, _) = feed_pieces(&mut hs, resp, &[5, 17]);
    match r.unwrap() {
        ClientStatus::Rejected(response) => {
            assert_eq!(response.status, 302);
            assert_eq!(response.reason, "Found");
            assert_eq!(response.headers.get_str("location"), Some("ws://elsewhere/"));
            // The body bytes that came in the same piece as the end of the head.
            assert!(b"moved, sorry".starts_with(&response.body));
        }
        other => panic!("{other:?}"),
    }

    // Whole, the body is all there; a 426 from our own server says which version to use.
    let mut hs = handshake(&[], &[]);
    let mut wire = Vec::new();
    HandshakeError::UnsupportedVersion.write_response(&mut wire).unwrap();
    let Ok(ClientStatus::Rejected(response)) = hs.feed(&wire) else { panic!() };
    assert_eq!(response.status, 426);
    assert_eq!(response.headers.get_str("Sec-WebSocket-Version"), Some("13"));
    assert_eq!(response.body, b"Sec-WebSocket-Version must be 13\n");

    // A 200 without a body, and an empty reason phrase.
    let mut hs = handshake(&[], &[]);
    let Ok(ClientStatus::Rejected(response)) = hs.feed(b"HTTP/1.1 200 \r\n\r\n") else { panic!() };
    assert_eq!((response.status, response.reason.as_str(), response.body.len()), (200, "", 0));
}

#[test]
fn frames_after_the_101_are_handed_over() {
    let mut hs = handshake(&[], &[]);
    let mut server = Connection::new(Role::Server, Config::new());
    let mut wire = switching(&hs, "").into_bytes();
    let head_len = wire.len();
    server.send_text("hello", &mut wire).unwrap();
    server.ping(b"p", &mut wire).unwrap();
    server.close(CloseFrame::new(CloseCode::NORMAL, "done"), &mut wire).unwrap();

    // Head and frames in two awkward pieces.
    let (a, b) = wire.split_at(head_len - 1);
    assert_eq!(hs.feed(a), Ok(ClientStatus::NeedMore));
    let mut b = b.to_vec();
    let Ok(ClientStatus::Upgraded { negotiated, leftover, .. }) = hs.feed(&b) else { panic!() };
    assert_eq!(leftover, 1);
    let mut client = Connection::new(negotiated.role, Config::new())
        .with_key_source(KeySource::seeded(3))
        .with_negotiated(&negotiated);
    let mut pos = leftover;
    let mut events = Vec::new();
    loop {
        let r = client.receive(&mut b[pos..]).unwrap();
        pos += r.consumed;
        match r.event {
            Some(Event::Data { kind: MessageKind::Text, data, .. }) => {
                events.push(format!("text {}", String::from_utf8_lossy(data)))
            }
            Some(Event::Ping(p)) => events.push(format!("ping {:?}", p.as_bytes())),
            Some(Event::Close(c)) => events.push(format!("close {:?} {}", c.code(), c.reason())),
            Some(other) => panic!("{other:?}"),
            None => break,
        }
    }
    assert_eq!(events, ["text hello", "ping [112]", "close Some(CloseCode(1000)) done"]);
}

#[test]
fn response_size_cap() {
    let mut hs = handshake(&[], &[]);
    let big = format!("X-Big: {}\r\n", "a".repeat(DEFAULT_MAX_RESPONSE_SIZE));
    let resp = switching(&hs, &big);
    let want = HandshakeError::HeadTooLarge { limit: DEFAULT_MAX_RESPONSE_SIZE };
    let (r, _) = feed_pieces(&mut hs, resp.as_bytes(), &[1000]);
    assert_eq!(r, Err(want));
    assert_eq!(want.status_hint(), 431);

    let mut hs = request("ws://a/").with_max_response_size(300).write(&mut Vec::new()).unwrap();
    let resp = switching(&hs, &format!("X: {}\r\n", "b".repeat(200)));
    assert_eq!(hs.feed(resp.as_bytes()), Err(HandshakeError::HeadTooLarge { limit: 300 }));

    let mut hs = request("ws://a/").with_max_headers(3).write(&mut Vec::new()).unwrap();
    let resp = switching(&hs, "X: 1\r\n");
    assert_eq!(hs.feed(resp.as_bytes()), Err(HandshakeError::TooManyHeaders { limit: 3 }));
}

#[test]
fn partial_input_is_never_an_error() {
    let mut hs = handshake(&[], &[]);
    let resp = switching(&hs, "");
    for (i, b) in resp.as_bytes().iter().enumerate() {
        let r = hs.feed(core::slice::from_ref(b)).unwrap();
        if i + 1 < resp.len() {
            assert_eq!(r, ClientStatus::NeedMore);
        } else {
            assert!(matches!(r, ClientStatus::Upgraded { leftover: 1, .. }));
        }
    }
    // Empty input too.
    let mut hs = handshake(&[], &[]);
    assert_eq!(hs.feed(b""), Ok(ClientStatus::NeedMore));
}

#[test]
fn round_trip_with_our_server() {
    let mut to_server = Vec::new();
    let mut hs = request("ws://[::1]:9001/room?id=7")
        .with_origin("https://app.example")
        .with_protocol("v2.chat")
        .with_protocol("v1.chat")
        .with_extension(ExtensionOffer::new("x-a").with_param("level", "3"))
        .with_extension(ExtensionOffer::new("x-a"))
        .with_extension(ExtensionOffer::new("x-b"))
        .write(&mut to_server)
        .unwrap();
    let Ok(ServerStatus::Upgrade(u)) = ServerHandshake::new().feed(&to_server) else { panic!() };
    assert_eq!(u.path(), "/room?id=7");
    assert_eq!(u.host(), Some("[::1]:9001"));
    assert_eq!(u.origin(), Some("https://app.example"));
    assert_eq!(u.extensions(), hs.offered_extensions());
    let protocol = u.select_protocol(&["v1.chat", "v2.chat"]).unwrap();
    let mut to_client = Vec::new();
    let server_side = u
        .accept(
            &Accept::new().with_protocol(protocol).with_extension(ExtensionOffer::new("x-a").with_param("level", "3")),
            &mut to_client,
        )
        .unwrap();
    let Ok(ClientStatus::Upgraded { negotiated, .. }) = hs.feed(&to_client) else { panic!() };
    assert_eq!(negotiated.protocol.as_deref(), Some("v2.chat"));
    assert_eq!(negotiated.protocol, server_side.protocol);
    assert_eq!(negotiated.extensions, server_side.extensions);
    assert_eq!((negotiated.role, server_side.role), (Role::Client, Role::Server));
}

fn extras() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("Sec-WebSocket-Protocol: chat\r\n".to_owned()),
        Just("Set-Cookie: a=b; Path=/\r\n".to_owned()),
        Just("Sec-WebSocket-Extensions: x-a; p=1\r\n".to_owned()),
        "[a-z]{1,12}".prop_map(|v| format!("X-Custom: {v}\r\n")),
    ];
    proptest::collection::vec(line, 0..4).prop_map(|mut v| {
        // Each of these may appear at most once.
        v.dedup();
        let mut seen = Vec::new();
        v.retain(|l| {
            let name = l.split(':').next().unwrap_or_default().to_owned();
            if name.starts_with("Sec-") && seen.contains(&name) {
                return false;
            }
            seen.push(name);
            true
        });
        v.concat()
    })
}

proptest! {
    #[test]
    fn any_split_parses_the_same(
        extra in extras(),
        status in prop_oneof![Just(101u16), Just(200), Just(404), Just(503)],
        trailing in proptest::collection::vec(any::<u8>(), 0..40),
        sizes in proptest::collection::vec(1usize..64, 1..10),
    ) {
        let hs = handshake(&["chat"], &["x-a"]);
        let mut wire = switching(&hs, &extra).replacen("101 Switching Protocols", &format!("{status} S"), 1).into_bytes();
        let head_len = wire.len();
        wire.extend_from_slice(&trailing);
        let whole = hs.clone().feed(&wire);
        let (pieces, leftover) = feed_pieces(&mut hs.clone(), &wire, &sizes);
        match (whole, pieces) {
            (Ok(ClientStatus::Upgraded { negotiated: a, response: ra, .. }), Ok(ClientStatus::Upgraded { negotiated: b, response: rb, .. })) => {
                prop_assert_eq!(status, 101);
                prop_assert_eq!(a, b);
                prop_assert_eq!(ra, rb);
                prop_assert_eq!(leftover, head_len);
            }
            (Ok(ClientStatus::Rejected(a)), Ok(ClientStatus::Rejected(b))) => {
                prop_assert_ne!(status, 101);
                prop_assert_eq!((a.status, &a.reason, &a.headers), (b.status, &b.reason, &b.headers));
                prop_assert_eq!(&a.body[..], &trailing[..]);
                prop_assert!(trailing.starts_with(&b.body));
            }
            (a, b) => prop_assert!(false, "{a:?} vs {b:?}"),
        }
    }

    #[test]
    fn hostile_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        sizes in proptest::collection::vec(1usize..50, 1..5),
        prefix in any::<bool>(),
    ) {
        let mut hs = request("ws://a/").with_max_response_size(512).write(&mut Vec::new()).unwrap();
        let mut wire = if prefix { b"HTTP/1.1 101 Switching Protocols\r\n".to_vec() } else { Vec::new() };
        wire.extend_from_slice(&bytes);
        if wire.is_empty() { return Ok(()); }
        let (r, _) = feed_pieces(&mut hs, &wire, &sizes);
        if let Err(e) = r {
            prop_assert_eq!(e.fault(), Fault::Peer);
        }
    }
}
