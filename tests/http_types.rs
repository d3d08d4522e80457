//! The `http` feature: requests and responses as `http` crate types go through the same checks
//! and come out the same as over bytes.
//!
//! * Server parity: a table of requests (valid, each required header missing or wrong, bad
//!   versions answered with 426, wrong method, HTTP/1.0, duplicates, malformed lists, plain
//!   HTTP, subprotocol and extension negotiation, permessage-deflate with parameters) read as
//!   bytes by `ServerHandshake::feed` and as an `http::Request` by `ServerHandshake::read_http`
//!   gets the same verdict: the same request, the same `Negotiated` and the same 101 headers
//!   when accepted, the same error and the same status and headers when refused.
//! * Client round trip: `ClientRequest::to_http` → `read_http` → `accept_http` →
//!   `ClientHandshake::check_http`, both sides agreeing on what was negotiated, and the same
//!   request as `ClientRequest::write` writes.
//! * Extended CONNECT: `extended_connect::http_request` → `parse_http_request` → `accept` →
//!   `HttpResponse::to_http` → `check_http_response`.
#![cfg(all(feature = "http", feature = "getrandom"))]

use wsproto::KeySource;
use wsproto::handshake::{
    Accept, ClientRequest, ClientStatus, ExtensionOffer, HandshakeError, HttpResponse, Negotiated, ServerHandshake,
    ServerStatus, UpgradeRequest, extended_connect,
};

const GOOD: &str = "GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
    Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// The same request as an `http::Request`: method, target and version of the request line,
/// every header line (values trimmed, as an HTTP/1.1 parser hands them over).
fn to_http(raw: &str) -> http::Request<()> {
    let mut lines = raw.split("\r\n");
    let mut start = lines.next().unwrap().split(' ');
    let (method, target, version) = (start.next().unwrap(), start.next().unwrap(), start.next().unwrap());
    let version = match version {
        "HTTP/1.1" => http::Version::HTTP_11,
        "HTTP/1.0" => http::Version::HTTP_10,
        other => panic!("{other}"),
    };
    let mut builder = http::Request::builder().method(method).uri(target).version(version);
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').unwrap();
        builder = builder.header(name, value.trim_matches([' ', '\t']));
    }
    builder.body(()).unwrap()
}

/// Header lines, names lowercase, sorted by name (stably: the lines of one name keep their
/// order), as a header map holds them.
fn normalized<'a>(fields: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Vec<(String, Vec<u8>)> {
    let mut list: Vec<_> = fields.into_iter().map(|(n, v)| (n.to_ascii_lowercase(), v.to_vec())).collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list
}

fn http_fields(map: &http::HeaderMap) -> Vec<(String, Vec<u8>)> {
    normalized(map.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
}

/// The header lines of a response written as bytes.
fn byte_fields(response: &[u8]) -> (u16, Vec<(String, Vec<u8>)>) {
    let text = std::str::from_utf8(response).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let fields: Vec<(&str, &[u8])> =
        lines.map(|l| l.split_once(": ").unwrap()).map(|(n, v)| (n, v.as_bytes())).collect();
    (status, normalized(fields))
}

/// What a request came to, comparable between the two paths.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Http {
        method: String,
        path: String,
        version: u8,
    },
    Accepted {
        path: String,
        key: Option<String>,
        protocols: Vec<String>,
        negotiated: Negotiated,
        fields: Vec<(String, Vec<u8>)>,
    },
    AcceptRefused(HandshakeError),
    Refused {
        error: HandshakeError,
        status: u16,
        fields: Vec<(String, Vec<u8>)>,
    },
}

/// The choice the server makes for a request: the first offered subprotocol among `chat` and
/// `superchat`, `x-ext` when offered, permessage-deflate (feature `deflate`), an extra header.
fn choice(u: &UpgradeRequest) -> Accept {
    let mut accept = Accept::new().with_header("Set-Cookie", "session=1");
    if let Some(p) = u.select_protocol(&["chat", "superchat"]) {
        accept = accept.with_protocol(p);
    }
    if u.extensions().iter().any(|e| e.is("x-ext")) {
        accept = accept.with_extension(ExtensionOffer::new("x-ext").with_param("level", "2"));
    }
    #[cfg(feature = "deflate")]
    {
        accept = accept.with_deflate(wsproto::deflate::DeflateConfig::new());
    }
    accept
}

fn over_bytes(raw: &str) -> Verdict {
    match ServerHandshake::new().feed(raw.as_bytes()) {
        Ok(ServerStatus::Http(r)) => Verdict::Http { method: r.method, path: r.path, version: r.version },
        Ok(ServerStatus::Upgrade(u)) => {
            let mut out = Vec::new();
            match u.accept(&choice(&u), &mut out) {
                Ok(negotiated) => {
                    let (status, fields) = byte_fields(&out);
                    assert_eq!(status, 101);
                    Verdict::Accepted {
                        path: u.path().to_owned(),
                        key: u.key().map(str::to_owned),
                        protocols: u.protocols().to_vec(),
                        negotiated,
                        fields,
                    }
                }
                Err(e) => Verdict::AcceptRefused(e),
            }
        }
        Ok(other) => panic!("{other:?}"),
        Err(error) => {
            let mut out = Vec::new();
            error.write_response(&mut out).unwrap();
            let (status, mut fields) = byte_fields(&out);
            // The HTTP stack frames the body itself: `to_http` leaves Content-Length out.
            fields.retain(|(n, _)| n != "content-length");
            Verdict::Refused { error, status, fields }
        }
    }
}

fn over_http(request: &http::Request<()>) -> Verdict {
    let (parts, ()) = request.clone().into_parts();
    let from_parts = ServerHandshake::read_http_parts(&parts);
    let status = ServerHandshake::read_http(request);
    assert_eq!(from_parts, status, "Parts and Request read alike");
    match status {
        Ok(ServerStatus::Http(r)) => Verdict::Http { method: r.method, path: r.path, version: r.version },
        Ok(ServerStatus::Upgrade(u)) => match u.accept_http(&choice(&u)) {
            Ok((response, negotiated)) => {
                assert_eq!(response.status(), 101);
                Verdict::Accepted {
                    path: u.path().to_owned(),
                    key: u.key().map(str::to_owned),
                    protocols: u.protocols().to_vec(),
                    negotiated,
                    fields: http_fields(response.headers()),
                }
            }
            Err(e) => Verdict::AcceptRefused(e),
        },
        Ok(other) => panic!("{other:?}"),
        Err(error) => {
            let response = error.response().to_http().unwrap();
            Verdict::Refused { error, status: response.status().as_u16(), fields: http_fields(response.headers()) }
        }
    }
}

#[test]
fn server_verdicts_match_the_byte_path() {
    let swap = |from: &str, to: &str| format!("{}\r\n", GOOD.replacen(from, to, 1));
    let add = |extra: &str| format!("{GOOD}{extra}\r\n");
    let cases: Vec<(String, &str)> = vec![
        (add(""), "accept"),
        (add("Origin: http://example.com\r\nSec-WebSocket-Protocol: superchat, chat\r\n"), "accept"),
        (add("Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: chat\r\n"), "accept"),
        (add("Sec-WebSocket-Extensions: x-ext; a=1, x-other\r\n"), "accept"),
        (
            add("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits=10\r\n"),
            "accept",
        ),
        (
            add(
                "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\nSec-WebSocket-Extensions: x-ext\r\n",
            ),
            "accept",
        ),
        (add("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7\r\n"), "accept"),
        (swap("GET", "POST"), "405"),
        (swap("HTTP/1.1", "HTTP/1.0"), "400"),
        (swap("Host: example.com\r\n", ""), "400"),
        (add("Host: other\r\n"), "400"),
        (swap("Upgrade: websocket\r\n", ""), "400"),
        (swap("Upgrade: websocket", "Upgrade: h2c"), "400"),
        (swap("Connection: keep-alive, Upgrade\r\n", ""), "400"),
        (swap("Connection: keep-alive, Upgrade", "Connection: close"), "400"),
        (swap("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), "400"),
        (swap("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ"), "400"),
        (add("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), "400"),
        (swap("Sec-WebSocket-Version: 13\r\n", ""), "426"),
        (swap("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), "426"),
        (swap("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 13, 8"), "426"),
        (add("Sec-WebSocket-Version: 13\r\n"), "400"),
        (add("Origin: a\r\nOrigin: b\r\n"), "400"),
        (add("Sec-WebSocket-Protocol: a b\r\n"), "400"),
        (add("Sec-WebSocket-Protocol:\r\n"), "400"),
        (add("Sec-WebSocket-Extensions: x;;\r\n"), "400"),
        ("GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n".to_owned(), "http"),
        ("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n".to_owned(), "http"),
        ("POST /form HTTP/1.0\r\nContent-Length: 0\r\n\r\n".to_owned(), "http"),
    ];
    for (raw, want) in &cases {
        let bytes = over_bytes(raw);
        let typed = over_http(&to_http(raw));
        assert_eq!(bytes, typed, "{raw}");
        let got = match &bytes {
            Verdict::Http { .. } => "http".to_owned(),
            Verdict::Accepted { .. } => "accept".to_owned(),
            Verdict::AcceptRefused(e) => panic!("{raw}: {e}"),
            Verdict::Refused { status, .. } => status.to_string(),
        };
        assert_eq!(got, *want, "{raw}");
    }
}

#[test]
fn the_426_and_405_answers_carry_their_headers() {
    let bad_version = to_http(&format!("{}\r\n", GOOD.replace("Version: 13", "Version: 8")));
    let error = ServerHandshake::read_http(&bad_version).unwrap_err();
    let response = error.response().to_http().unwrap();
    assert_eq!(response.status(), http::StatusCode::UPGRADE_REQUIRED);
    assert_eq!(response.headers()["sec-websocket-version"], "13");
    assert_eq!(response.headers()["upgrade"], "websocket");
    let post = to_http(&format!("{}\r\n", GOOD.replace("GET", "POST")));
    let response = ServerHandshake::read_http(&post).unwrap_err().response().into_http().unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
    assert_eq!(response.body(), b"a WebSocket upgrade must use GET\n");
}

#[test]
fn rejections_and_accept_errors() {
    let Ok(ServerStatus::Upgrade(u)) = ServerHandshake::read_http(&to_http(&format!("{GOOD}\r\n"))) else { panic!() };
    let response = u.reject_http(&HttpResponse::new(403).with_header("X-Why", "private").with_body("no")).unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.headers()["x-why"], "private");
    assert_eq!(response.body(), b"no");
    assert_eq!(
        u.reject_http(&HttpResponse::new(101)).err(),
        Some(HandshakeError::InvalidInput("a rejection needs a final status (200-999)"))
    );
    for (accept, what) in [
        (Accept::new().with_protocol("chat"), "subprotocol was not offered"),
        (Accept::new().with_header("Sec-WebSocket-Accept", "x"), "header is managed by the handshake"),
        (Accept::new().with_header("X", "a\r\nb"), "header value contains a control character"),
    ] {
        assert_eq!(u.accept_http(&accept).err(), Some(HandshakeError::InvalidInput(what)));
        assert_eq!(u.accept(&accept, &mut Vec::new()).err(), Some(HandshakeError::InvalidInput(what)));
    }
    // An extended CONNECT request is answered through `extended_connect`, not with a 101.
    let connect = extended_connect::request(&ClientRequest::new("ws://a/").unwrap()).unwrap();
    let connect = extended_connect::parse_request(&connect).unwrap();
    assert!(matches!(connect.accept_http(&Accept::new()), Err(HandshakeError::InvalidInput(_))));
}

fn client_request(seed: u64) -> ClientRequest {
    #[allow(unused_mut)]
    let mut request = ClientRequest::new("ws://example.com:8080/chat?room=1")
        .unwrap()
        .with_origin("http://example.com")
        .with_protocol("superchat")
        .with_protocol("chat")
        .with_extension(ExtensionOffer::new("x-ext").with_flag("fast"))
        .with_header("Cookie", "a=1")
        .with_key_source(KeySource::seeded(seed));
    #[cfg(feature = "deflate")]
    {
        request = request.with_deflate(wsproto::deflate::DeflateConfig::new().server_max_window_bits(Some(12)));
    }
    request
}

#[test]
fn client_round_trip_through_http_types() {
    let (request, mut handshake) = client_request(7).to_http().unwrap();
    assert_eq!((request.method(), request.version()), (&http::Method::GET, http::Version::HTTP_11));
    assert_eq!(request.uri(), "/chat?room=1");
    assert_eq!(request.headers()["host"], "example.com:8080");
    assert_eq!(request.headers()["sec-websocket-key"], handshake.key());

    // The same request as `write` writes, byte for byte in its fields.
    let mut bytes = Vec::new();
    let byte_handshake = client_request(7).write(&mut bytes).unwrap();
    assert_eq!(byte_handshake.key(), handshake.key());
    let Ok(ServerStatus::Upgrade(from_bytes)) = ServerHandshake::new().feed(&bytes) else { panic!() };
    let Ok(ServerStatus::Upgrade(upgrade)) = ServerHandshake::read_http(&request) else { panic!() };
    assert_eq!(upgrade.path(), from_bytes.path());
    assert_eq!(upgrade.key(), from_bytes.key());
    assert_eq!(upgrade.protocols(), from_bytes.protocols());
    assert_eq!(upgrade.extensions(), from_bytes.extensions());
    assert_eq!(normalized(upgrade.headers()), normalized(from_bytes.headers()));

    let (response, server) = upgrade.accept_http(&choice(&upgrade)).unwrap();
    let (parts, ()) = response.into_parts();
    let ClientStatus::Upgraded { negotiated: client, leftover, response } = handshake.check_http(&parts).unwrap()
    else {
        panic!()
    };
    assert_eq!(leftover, 0);
    assert_eq!(response.headers.get_str("set-cookie"), Some("session=1"));
    assert_eq!(client.protocol.as_deref(), Some("superchat"));
    assert_eq!(
        (client.protocol.clone(), client.extensions.clone()),
        (server.protocol.clone(), server.extensions.clone())
    );
    assert_eq!(client.reserved_bits, server.reserved_bits);
    #[cfg(feature = "deflate")]
    {
        let (c, s) = (client.deflate.expect("agreed"), server.deflate.expect("agreed"));
        assert_eq!(c.params, s.params);
    }
    // One result per handshake.
    assert_eq!(handshake.check_http(&parts), Err(HandshakeError::Finished));
}

#[test]
fn client_checks_of_http_responses() {
    let mut request = ClientRequest::new("ws://example.com/").unwrap().with_key_source(KeySource::seeded(1));
    let accepting = |accept: &str| {
        http::Response::builder()
            .status(101)
            .header("upgrade", "websocket")
            .header("connection", "upgrade")
            .header("sec-websocket-accept", accept)
            .body(())
            .unwrap()
            .into_parts()
            .0
    };
    let (_, mut hs) = request.to_http().unwrap();
    let good = accepting(hs.expected_accept().as_str());
    assert!(matches!(hs.check_http(&good), Ok(ClientStatus::Upgraded { .. })));
    let (_, mut hs) = request.to_http().unwrap();
    assert_eq!(hs.check_http(&good), Err(HandshakeError::AcceptMismatch), "each request has its own key");
    let (_, mut hs) = request.to_http().unwrap();
    let mut old = accepting(hs.expected_accept().as_str());
    old.version = http::Version::HTTP_10;
    assert_eq!(hs.check_http(&old), Err(HandshakeError::HttpVersion));
    let (_, mut hs) = request.to_http().unwrap();
    let mut no_upgrade = accepting(hs.expected_accept().as_str());
    no_upgrade.headers.remove("upgrade");
    assert_eq!(hs.check_http(&no_upgrade), Err(HandshakeError::MissingHeader("Upgrade")));
    let (_, mut hs) = request.to_http().unwrap();
    let (forbidden, ()) = http::Response::builder().status(403).body(()).unwrap().into_parts();
    assert!(
        matches!(hs.check_http(&forbidden), Ok(ClientStatus::Rejected(r)) if r.status == 403 && r.reason == "Forbidden")
    );
}

#[test]
fn extended_connect_through_http_types() {
    let request = client_request(3);
    let connect = extended_connect::http_request(&request).unwrap();
    assert_eq!(connect.method(), http::Method::CONNECT);
    assert_eq!(connect.uri(), "http://example.com:8080/chat?room=1");
    assert!(connect.headers().get("sec-websocket-key").is_none());
    // The server's HTTP/2 stack hands over the request and, apart, `:protocol`.
    let upgrade = extended_connect::parse_http_request(&connect, Some(extended_connect::PROTOCOL)).unwrap();
    let fields = extended_connect::request(&request).unwrap();
    assert_eq!(upgrade, extended_connect::parse_request(&fields).unwrap(), "the same request as from fields");
    assert_eq!(
        extended_connect::parse_http_request(&connect, None).err(),
        Some(HandshakeError::MissingHeader(":protocol"))
    );
    let (parts, ()) = connect.clone().into_parts();
    assert_eq!(extended_connect::parse_http_parts(&parts, Some("websocket")).as_ref(), Ok(&upgrade));

    let (response, server) = extended_connect::accept(&upgrade, &choice(&upgrade)).unwrap();
    let (parts, ()) = response.to_http().unwrap().into_parts();
    assert_eq!(parts.status, 200);
    let ClientStatus::Upgraded { negotiated: client, .. } =
        extended_connect::check_http_response(&request, &parts).unwrap()
    else {
        panic!()
    };
    assert_eq!((client.protocol, client.extensions), (server.protocol, server.extensions));

    // A bad version: 400 with `sec-websocket-version: 13` over HTTP/2.
    let mut bad = connect;
    bad.headers_mut().insert("sec-websocket-version", http::HeaderValue::from_static("8"));
    let error = extended_connect::parse_http_request(&bad, Some("websocket")).unwrap_err();
    let response = extended_connect::error_response(&error).into_http().unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["sec-websocket-version"], "13");
}
