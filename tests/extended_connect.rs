//! WebSocket over HTTP/2 and HTTP/3 (RFC 8441, RFC 9220): the extended CONNECT handshake of
//! `handshake::extended_connect`, both roles, through the public API only. The request is built
//! from the same `ClientRequest`, read into the same `UpgradeRequest`, decided with the same
//! `Accept` and ends with the same `Negotiated` as over HTTP/1.1. (`tests/h2_websocket.rs`
//! runs it on a real HTTP/2 stack.)
#![cfg(feature = "alloc")]

use wsproto::handshake::{
    Accept, ClientRequest, ClientStatus, ExtensionOffer, HandshakeError, Headers, MAX_PROTOCOLS, Negotiated,
    ServerHandshake, ServerStatus, UpgradeRequest, extended_connect,
};
use wsproto::{Config, Connection, Event, KeySource, Role};

type Fields = Vec<(String, Vec<u8>)>;

fn fields(list: &[(&str, &str)]) -> Fields {
    list.iter().map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec())).collect()
}

fn good_request() -> Fields {
    fields(&[
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "https"),
        (":path", "/chat"),
        (":authority", "example.com"),
        ("sec-websocket-version", "13"),
    ])
}

fn with(mut base: Fields, extra: &[(&str, &str)]) -> Fields {
    base.extend(fields(extra));
    base
}

fn without(base: Fields, name: &str) -> Fields {
    base.into_iter().filter(|(n, _)| n != name).collect()
}

fn replace(base: Fields, name: &str, value: &str) -> Fields {
    base.into_iter().map(|(n, v)| if n == name { (n, value.as_bytes().to_vec()) } else { (n, v) }).collect()
}

fn before(first: &[(&str, &str)], rest: Fields) -> Fields {
    let mut f = fields(first);
    f.extend(rest);
    f
}

fn pairs(list: &Headers) -> Vec<(&str, &str)> {
    list.iter().map(|(n, v)| (n, std::str::from_utf8(v).unwrap())).collect()
}

fn client(uri: &str) -> ClientRequest {
    ClientRequest::new(uri).unwrap()
}

fn parse(request: Fields) -> UpgradeRequest {
    extended_connect::parse_request(request).unwrap()
}

fn upgraded(status: Result<ClientStatus, HandshakeError>) -> Negotiated {
    match status {
        Ok(ClientStatus::Upgraded { negotiated, leftover: 0, .. }) => negotiated,
        other => panic!("{other:?}"),
    }
}

fn rejected(status: Result<ClientStatus, HandshakeError>) -> u16 {
    match status {
        Ok(ClientStatus::Rejected(response)) => response.status,
        other => panic!("{other:?}"),
    }
}

#[test]
fn request_fields() {
    let request = client("wss://example.com:8443/chat?x=1")
        .with_origin("https://example.com")
        .with_protocol("a")
        .with_protocol("b")
        .with_extension(ExtensionOffer::new("x").with_flag("y"))
        .with_header("Cookie", "k=v");
    let list = extended_connect::request(&request).unwrap();
    assert_eq!(
        pairs(&list),
        [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":path", "/chat?x=1"),
            (":authority", "example.com:8443"),
            ("sec-websocket-version", "13"),
            ("origin", "https://example.com"),
            ("sec-websocket-protocol", "a, b"),
            ("sec-websocket-extensions", "x; y"),
            ("cookie", "k=v"),
        ]
    );
    assert_eq!(list.regular().count(), 5);
    assert_eq!(list.get("Cookie"), Some(&b"k=v"[..]));
    assert_eq!(list.get(":Path"), None);
    assert!(list.iter().all(|(n, _)| !n.bytes().any(|b| b.is_ascii_uppercase())));
    for forbidden in ["sec-websocket-key", "upgrade", "connection", "host"] {
        assert_eq!(list.get(forbidden), None);
    }
    let minimal = extended_connect::request(&client("WS://a")).unwrap();
    assert_eq!(
        pairs(&minimal),
        [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "http"),
            (":path", "/"),
            (":authority", "a"),
            ("sec-websocket-version", "13"),
        ]
    );
}

#[test]
fn pseudo_header_fields_from_the_uri() {
    let get = |uri: &str| {
        let list = extended_connect::request(&client(uri)).unwrap();
        let get = |name| list.get_str(name).unwrap().to_owned();
        (get(":scheme"), get(":authority"), get(":path"))
    };
    let s = String::from;
    assert_eq!(get("ws://example.com/"), (s("http"), s("example.com"), s("/")));
    assert_eq!(get("wss://example.com:8443"), (s("https"), s("example.com:8443"), s("/")));
    assert_eq!(get("wss://example.com:443/"), (s("https"), s("example.com"), s("/")));
    assert_eq!(get("ws://[::1]:9000/chat?x=1"), (s("http"), s("[::1]:9000"), s("/chat?x=1")));
    for bad in ["http://a/", "ws://", "ws://u@h/", "ws://h/a b", "ws://h/a#b"] {
        assert!(matches!(ClientRequest::new(bad), Err(HandshakeError::InvalidUri(_))), "{bad}");
    }
}

#[test]
fn request_builder_rejects_bad_input() {
    let r = || client("wss://example.com/");
    let cases = [
        (r().with_protocol("a b"), "subprotocol is not a token"),
        (r().with_protocol("a").with_protocol("a"), "subprotocol offered twice"),
        (r().with_origin("x\r\ny"), "origin is empty or contains a control character"),
        (r().with_origin(""), "origin is empty or contains a control character"),
        (r().with_extension(ExtensionOffer::new("a b")), "extension name is not a token"),
        (r().with_header(":path", "/"), "header name is not a token"),
        (r().with_header("x", "a\nb"), "header value contains a control character"),
    ];
    for (request, what) in cases {
        assert_eq!(extended_connect::request(&request), Err(HandshakeError::InvalidInput(what)), "{request:?}");
    }
    for managed in ["Host", "origin", "Sec-WebSocket-Key", "sec-websocket-version", "content-length", "te"] {
        assert_eq!(
            extended_connect::request(&r().with_header(managed, "x")),
            Err(HandshakeError::InvalidInput("header is managed by the handshake")),
            "{managed}"
        );
    }
    for specific in ["Connection", "upgrade", "keep-alive", "proxy-connection", "transfer-encoding"] {
        assert_eq!(
            extended_connect::request(&r().with_header(specific, "x")),
            Err(HandshakeError::InvalidInput("connection-specific header is not allowed in HTTP/2 or HTTP/3")),
            "{specific}"
        );
    }
}

#[test]
fn server_parses_a_good_request() {
    let request = with(
        good_request(),
        &[
            ("origin", "http://a"),
            ("sec-websocket-protocol", "a, b"),
            ("Sec-WebSocket-Protocol", "c"),
            ("sec-websocket-extensions", "x; p=1, y"),
            ("sec-websocket-key", "ignored"),
            ("te", "trailers"),
            ("cookie", "k=v"),
        ],
    );
    let u = parse(request);
    assert_eq!((u.host(), u.path()), (Some("example.com"), "/chat"));
    assert_eq!(u.headers().get_str(":scheme"), Some("https"));
    assert_eq!(u.origin(), Some("http://a"));
    assert_eq!(u.protocols(), ["a", "b", "c"]);
    assert_eq!(u.extensions().len(), 2);
    assert_eq!(u.select_protocol(&["c", "b"]), Some("b"));
    assert_eq!(u.select_protocol(&["z"]), None);
    assert_eq!(u.headers().get("cookie"), Some(&b"k=v"[..]));
    assert_eq!((u.headers().len(), u.headers().regular().count()), (13, 8));
    assert_eq!((u.key(), u.leftover()), (None, 0));
    // Case-insensitive :protocol and :scheme (kept in lowercase), tolerant version whitespace.
    let loose = replace(replace(good_request(), ":protocol", "WebSocket"), ":scheme", "HTTP");
    let u = parse(replace(loose, "sec-websocket-version", " 13 "));
    assert_eq!(u.headers().get_str(":scheme"), Some("http"));
    assert_eq!(u.headers().get_str(":protocol"), Some(extended_connect::PROTOCOL));
    // Borrowed pairs and our own list work as input too.
    let borrowed: [(&str, &[u8]); 6] = [
        (":method", b"CONNECT"),
        (":protocol", b"websocket"),
        (":scheme", b"https"),
        (":path", b"/"),
        (":authority", b"[::1]:443"),
        ("sec-websocket-version", b"13"),
    ];
    assert_eq!(extended_connect::parse_request(borrowed).unwrap().host(), Some("[::1]:443"));
    let ours = extended_connect::request(&client("ws://h/x")).unwrap();
    assert_eq!(extended_connect::parse_request(&ours).unwrap().path(), "/x");
}

#[test]
fn server_rejection_paths() {
    let g = good_request;
    let not_connect = HandshakeError::MalformedHttp("a WebSocket over HTTP/2 or HTTP/3 needs :method CONNECT");
    let cases: Vec<(Fields, HandshakeError)> = vec![
        (without(g(), ":method"), HandshakeError::MissingHeader(":method")),
        (replace(g(), ":method", "GET"), not_connect),
        (replace(g(), ":method", "connect"), not_connect),
        (without(g(), ":protocol"), HandshakeError::MissingHeader(":protocol")),
        (replace(g(), ":protocol", "h3-datagram"), HandshakeError::UpgradeNotWebSocket),
        (without(g(), ":scheme"), HandshakeError::MissingHeader(":scheme")),
        (replace(g(), ":scheme", "ws"), HandshakeError::MalformedHttp(":scheme must be http or https")),
        (without(g(), ":path"), HandshakeError::MissingHeader(":path")),
        (replace(g(), ":path", ""), HandshakeError::MalformedHttp("invalid :path")),
        (replace(g(), ":path", "chat"), HandshakeError::MalformedHttp("invalid :path")),
        (replace(g(), ":path", "/a b"), HandshakeError::MalformedHttp("invalid :path")),
        (replace(g(), ":path", "/a#b"), HandshakeError::MalformedHttp("invalid :path")),
        (without(g(), ":authority"), HandshakeError::MissingHeader(":authority")),
        (replace(g(), ":authority", ""), HandshakeError::MalformedHttp("invalid :authority")),
        (replace(g(), ":authority", "user@host"), HandshakeError::MalformedHttp("invalid :authority")),
        (with(g(), &[(":path", "/x")]), HandshakeError::MalformedHttp("pseudo-header field after a regular field")),
        (before(&[(":path", "/x")], g()), HandshakeError::DuplicateHeader(":path")),
        (before(&[(":status", "200")], g()), HandshakeError::MalformedHttp("unknown pseudo-header field")),
        (
            before(&[(":Method", "CONNECT")], without(g(), ":method")),
            HandshakeError::MalformedHttp("unknown pseudo-header field"),
        ),
        (without(g(), "sec-websocket-version"), HandshakeError::UnsupportedVersion),
        (replace(g(), "sec-websocket-version", "8"), HandshakeError::UnsupportedVersion),
        (replace(g(), "sec-websocket-version", "13, 8"), HandshakeError::UnsupportedVersion),
        (with(g(), &[("Sec-WebSocket-Version", "13")]), HandshakeError::DuplicateHeader("sec-websocket-version")),
        (with(g(), &[("origin", "a"), ("origin", "b")]), HandshakeError::DuplicateHeader("origin")),
        (with(g(), &[("sec-websocket-protocol", "a b")]), HandshakeError::InvalidProtocols),
        (with(g(), &[("sec-websocket-protocol", "")]), HandshakeError::InvalidProtocols),
        (
            with(g(), &[("sec-websocket-extensions", "x;;")]),
            HandshakeError::InvalidExtensions("expected a parameter name"),
        ),
        (with(g(), &[("", "x")]), HandshakeError::MalformedHttp("empty field name")),
    ];
    for (request, err) in &cases {
        assert_eq!(extended_connect::parse_request(request.clone()).as_ref().err(), Some(err), "{request:?}");
        assert_eq!(extended_connect::error_response(err).status, 400, "{err:?}");
    }
    for specific in ["connection", "Upgrade", "keep-alive", "proxy-connection", "transfer-encoding", "te"] {
        assert_eq!(
            extended_connect::parse_request(with(g(), &[(specific, "x")])),
            Err(HandshakeError::MalformedHttp("connection-specific field in HTTP/2 or HTTP/3")),
            "{specific}"
        );
    }
    // The same caps as over HTTP/1.1.
    let many = vec!["p"; MAX_PROTOCOLS + 1].join(",");
    assert_eq!(
        extended_connect::parse_request(with(g(), &[("sec-websocket-protocol", &many)])),
        Err(HandshakeError::TooManyProtocols { limit: MAX_PROTOCOLS })
    );
    assert!(extended_connect::parse_request(g()).is_ok());
}

#[test]
fn error_responses() {
    let version = extended_connect::error_response(&HandshakeError::UnsupportedVersion);
    assert_eq!(version.status, 400);
    assert_eq!(version.headers.get("sec-websocket-version"), Some(&b"13"[..]));
    let missing = extended_connect::error_response(&HandshakeError::MissingHeader(":protocol"));
    assert_eq!((missing.status, pairs(&missing.headers)), (400, vec![("content-type", "text/plain; charset=utf-8")]));
    assert_eq!(missing.body, b"missing header field :protocol\n");
    assert_eq!(extended_connect::error_response(&HandshakeError::InvalidInput("x")).status, 500);
}

#[test]
fn accept_builds_the_response() {
    let u = parse(with(good_request(), &[("sec-websocket-protocol", "a, b"), ("sec-websocket-extensions", "x, y; q")]));
    let accept = Accept::new()
        .with_protocol("b")
        .with_extension(ExtensionOffer::new("y").with_flag("q"))
        .with_header("Set-Cookie", "s=1");
    let (response, n) = extended_connect::accept(&u, &accept).unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        pairs(&response.headers),
        [("sec-websocket-protocol", "b"), ("sec-websocket-extensions", "y; q"), ("set-cookie", "s=1")]
    );
    assert!(response.body.is_empty());
    assert_eq!(n.role, Role::Server);
    assert_eq!(n.protocol.as_deref(), Some("b"));
    assert_eq!(n.extensions, [ExtensionOffer::new("y").with_flag("q")]);
    assert_eq!(n.reserved_bits, 0);
    let (response, n) = extended_connect::accept(&u, &Accept::new()).unwrap();
    assert!(response.headers.is_empty());
    assert_eq!(n.protocol, None);
}

#[test]
fn accept_rejects_bad_choices() {
    let u = parse(with(good_request(), &[("sec-websocket-protocol", "a"), ("sec-websocket-extensions", "x")]));
    let cases = [
        (Accept::new().with_protocol("b"), "subprotocol was not offered"),
        (Accept::new().with_extension(ExtensionOffer::new("y")), "extension was not offered"),
        (
            Accept::new().with_extension(ExtensionOffer::new("x")).with_extension(ExtensionOffer::new("X")),
            "extension accepted twice",
        ),
        (
            Accept::new().with_extension(ExtensionOffer::new("x").with_param("a", "b c")),
            "extension parameter value is not a token",
        ),
        (Accept::new().with_header("sec-websocket-accept", "x"), "header is managed by the handshake"),
        (Accept::new().with_header("Sec-WebSocket-Protocol", "a"), "header is managed by the handshake"),
        (Accept::new().with_header("content-length", "0"), "header is managed by the handshake"),
        (
            Accept::new().with_header("connection", "close"),
            "connection-specific header is not allowed in HTTP/2 or HTTP/3",
        ),
        (Accept::new().with_header(":status", "201"), "header name is not a token"),
        (Accept::new().with_header("x", "\r\n"), "header value contains a control character"),
    ];
    for (accept, what) in cases {
        assert_eq!(extended_connect::accept(&u, &accept), Err(HandshakeError::InvalidInput(what)), "{accept:?}");
    }
}

/// Each request is answered the way its transport answers: the other way is a caller error.
#[test]
fn transports_are_not_mixed() {
    let connect = parse(good_request());
    assert_eq!(
        connect.accept(&Accept::new(), &mut Vec::new()),
        Err(HandshakeError::InvalidInput("an extended CONNECT request is answered through the HTTP/2 or HTTP/3 stack"))
    );
    let rejection = wsproto::handshake::HttpResponse::new(403);
    assert!(matches!(connect.reject(&rejection, &mut Vec::new()), Err(HandshakeError::InvalidInput(_))));
    let mut out = Vec::new();
    let mut request = client("ws://example.com/chat").with_key_source(KeySource::seeded(1));
    request.write(&mut out).unwrap();
    let Ok(ServerStatus::Upgrade(http1)) = ServerHandshake::new().feed(&out) else { panic!() };
    assert_eq!(
        extended_connect::accept(&http1, &Accept::new()),
        Err(HandshakeError::InvalidInput("an HTTP/1.1 upgrade request is accepted with UpgradeRequest::accept"))
    );
}

/// One policy, written once against `UpgradeRequest`, serves both transports and negotiates the
/// same thing.
#[test]
fn one_decision_for_both_transports() {
    fn decide(request: &UpgradeRequest) -> Accept {
        assert_eq!((request.path(), request.origin()), ("/chat", Some("https://example.com")));
        let accept = Accept::new().with_header("x-served-by", "wsproto");
        match request.select_protocol(&["superchat"]) {
            Some(p) => accept.with_protocol(p),
            None => accept,
        }
    }
    let request = client("ws://example.com/chat")
        .with_origin("https://example.com")
        .with_protocol("chat")
        .with_protocol("superchat")
        .with_key_source(KeySource::seeded(2));

    // HTTP/1.1.
    let mut to_server = Vec::new();
    let mut handshake = request.clone().write(&mut to_server).unwrap();
    let Ok(ServerStatus::Upgrade(http1)) = ServerHandshake::new().feed(&to_server) else { panic!() };
    let mut to_client = Vec::new();
    let server_1 = http1.accept(&decide(&http1), &mut to_client).unwrap();
    let Ok(ClientStatus::Upgraded { negotiated: client_1, .. }) = handshake.feed(&to_client) else { panic!() };

    // Extended CONNECT.
    let connect = extended_connect::parse_request(&extended_connect::request(&request).unwrap()).unwrap();
    let (response, server_2) = extended_connect::accept(&connect, &decide(&connect)).unwrap();
    assert_eq!(response.headers.get("X-Served-By"), Some(&b"wsproto"[..]));
    let client_2 = upgraded(extended_connect::check_response(&request, response.status, &response.headers));

    assert_eq!((&server_1, &client_1), (&server_2, &client_2));
    assert_eq!(client_2.protocol.as_deref(), Some("superchat"));
}

fn offered(protocols: &[&str], extensions: &[&str]) -> ClientRequest {
    let r = protocols.iter().fold(client("wss://example.com/"), |r, p| r.with_protocol(*p));
    extensions.iter().fold(r, |r, e| r.with_extension(ExtensionOffer::new(*e)))
}

#[test]
fn client_accepts_good_responses() {
    let r = offered(&["a", "b"], &["x", "y"]);
    let response = fields(&[
        ("sec-websocket-protocol", "b"),
        ("sec-websocket-extensions", "y; p=1"),
        ("content-length", "0"),
        ("set-cookie", "s=1"),
    ]);
    match extended_connect::check_response(&r, 200, response).unwrap() {
        ClientStatus::Upgraded { negotiated: n, response, leftover } => {
            assert_eq!((n.role, n.protocol.as_deref()), (Role::Client, Some("b")));
            assert_eq!(n.extensions, [ExtensionOffer::new("y").with_param("p", "1")]);
            assert_eq!(n.reserved_bits, 0);
            assert_eq!((response.status, response.headers.get_str("Set-Cookie"), leftover), (200, Some("s=1"), 0));
        }
        other => panic!("{other:?}"),
    }
    // Any 2xx accepts.
    let n = upgraded(extended_connect::check_response(&r, 204, [("Sec-WebSocket-Protocol", " a ")]));
    assert_eq!(n.protocol.as_deref(), Some("a"));
    let n = upgraded(extended_connect::check_response(&r, 299, Headers::new().iter()));
    assert!(n.protocol.is_none() && n.extensions.is_empty());
}

#[test]
fn client_reports_rejections_with_their_status() {
    let r = offered(&["a"], &[]);
    for status in [300u16, 302, 400, 401, 403, 404, 426, 500, 503, 999] {
        let response = [("www-authenticate", "Basic")];
        match extended_connect::check_response(&r, status, response) {
            Ok(ClientStatus::Rejected(rejection)) => {
                assert_eq!(rejection.status, status);
                assert_eq!(rejection.headers.get_str("WWW-Authenticate"), Some("Basic"));
                assert!(rejection.body.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }
    // A rejection's fields are not held to the WebSocket rules.
    assert_eq!(rejected(extended_connect::check_response(&r, 400, [("sec-websocket-protocol", "zzz")])), 400);
}

#[test]
fn client_rejection_paths() {
    let r = offered(&["a", "b"], &["x"]);
    let specific = HandshakeError::MalformedHttp("connection-specific field in HTTP/2 or HTTP/3");
    type Case = (u16, Vec<(&'static str, &'static str)>, HandshakeError);
    let cases: Vec<Case> = vec![
        (99, vec![], HandshakeError::MalformedHttp("invalid :status")),
        (1000, vec![], HandshakeError::MalformedHttp("invalid :status")),
        (200, vec![(":status", "200")], HandshakeError::MalformedHttp("unknown pseudo-header field")),
        (200, vec![(":path", "/")], HandshakeError::MalformedHttp("unknown pseudo-header field")),
        (200, vec![("", "x")], HandshakeError::MalformedHttp("empty field name")),
        (101, vec![], HandshakeError::MalformedHttp("status 101 is not allowed in HTTP/2 and HTTP/3")),
        (103, vec![], HandshakeError::InvalidInput("an informational (1xx) response is not the final response")),
        (200, vec![("connection", "upgrade")], specific),
        (200, vec![("upgrade", "websocket")], specific),
        (403, vec![("te", "gzip")], specific),
        (200, vec![("sec-websocket-protocol", "c")], HandshakeError::UnofferedProtocol),
        (200, vec![("sec-websocket-protocol", "a, b")], HandshakeError::InvalidProtocols),
        (200, vec![("sec-websocket-protocol", "")], HandshakeError::InvalidProtocols),
        (
            200,
            vec![("sec-websocket-protocol", "a"), ("sec-websocket-protocol", "a")],
            HandshakeError::DuplicateHeader("sec-websocket-protocol"),
        ),
        (200, vec![("sec-websocket-extensions", "y")], HandshakeError::UnofferedExtension),
        (
            200,
            vec![("sec-websocket-extensions", "x"), ("sec-websocket-extensions", "X")],
            HandshakeError::UnofferedExtension,
        ),
        (200, vec![("sec-websocket-extensions", "x;")], HandshakeError::InvalidExtensions("expected a parameter name")),
    ];
    for (status, response, err) in cases {
        assert_eq!(extended_connect::check_response(&r, status, response.clone()), Err(err), "{status} {response:?}");
    }
    let no_protocols = offered(&[], &[]);
    assert_eq!(
        extended_connect::check_response(&no_protocols, 200, [("sec-websocket-protocol", "a")]),
        Err(HandshakeError::UnofferedProtocol)
    );
}

#[test]
fn round_trip_and_frames() {
    let request = client("ws://example.com/chat")
        .with_origin("http://example.com")
        .with_protocol("chat")
        .with_protocol("superchat")
        .with_extension(ExtensionOffer::new("x-ext").with_flag("f"))
        .with_header("authorization", "Bearer t");
    let request_fields = extended_connect::request(&request).unwrap();
    let u = extended_connect::parse_request(&request_fields).unwrap();
    assert_eq!((u.headers().get_str(":scheme"), u.host(), u.path()), (Some("http"), Some("example.com"), "/chat"));
    assert_eq!(u.origin(), Some("http://example.com"));
    assert_eq!(u.headers().get("authorization"), Some(&b"Bearer t"[..]));
    let protocol = u.select_protocol(&["superchat"]).unwrap();
    let accept = Accept::new().with_protocol(protocol).with_extension(ExtensionOffer::new("x-ext"));
    let (response, server_n) = extended_connect::accept(&u, &accept).unwrap();
    let client_n = upgraded(extended_connect::check_response(&request, response.status, &response.headers));
    assert_eq!((client_n.role, server_n.role), (Role::Client, Role::Server));
    assert_eq!(client_n.protocol, server_n.protocol);
    assert_eq!(client_n.extensions, server_n.extensions);
    assert!(client_n.has_extension("X-EXT"));

    // The stream's bytes are RFC 6455 frames; the client masks.
    let mut client =
        Connection::new(client_n.role, Config::new()).with_key_source(KeySource::seeded(7)).with_negotiated(&client_n);
    let mut server = Connection::new(server_n.role, Config::new()).with_negotiated(&server_n);
    let mut to_server = Vec::new();
    client.send_text("hello", &mut to_server).unwrap();
    assert_eq!(to_server[1] & 0x80, 0x80, "client frames are masked");
    let received = server.receive(&mut to_server).unwrap();
    assert!(matches!(received.event, Some(Event::Data { data: b"hello", .. })));
    let mut to_client = Vec::new();
    server.send_binary(b"hi", &mut to_client).unwrap();
    assert_eq!(to_client, [0x82, 0x02, b'h', b'i'], "server frames are not masked");
    let received = client.receive(&mut to_client).unwrap();
    assert!(matches!(received.event, Some(Event::Data { data: b"hi", .. })));
}

#[test]
fn one_header_container_for_both_transports() {
    let mut list = Headers::new();
    assert!(list.is_empty());
    list.push(":status", "200");
    list.push("X-A", "1");
    list.push("x-a", vec![0xff]);
    assert_eq!(list.len(), 3);
    assert_eq!(list.get_str(":status"), Some("200"));
    assert_eq!(list.get(":STATUS"), None, "pseudo-header names compare exactly");
    assert_eq!(list.get("x-A"), Some(&b"1"[..]));
    assert_eq!(list.count("X-a"), 2);
    assert_eq!(list.iter().len(), 3);
    assert_eq!(list.iter().next_back(), Some(("x-a", &[0xff][..])));
    assert_eq!((&list).into_iter().count(), 3);
    assert_eq!(list.regular().map(|(n, _)| n).collect::<Vec<_>>(), ["X-A", "x-a"]);
}

#[cfg(feature = "deflate")]
mod deflate {
    use super::*;
    use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
    use wsproto::frame::RSV1;

    #[test]
    fn negotiated_over_extended_connect() {
        let request = client("wss://example.com/").with_deflate(DeflateConfig::new());
        let request_fields = extended_connect::request(&request).unwrap();
        assert_eq!(
            request_fields.get_str("sec-websocket-extensions"),
            Some("permessage-deflate; client_max_window_bits")
        );
        let u = extended_connect::parse_request(&request_fields).unwrap();
        let config = DeflateConfig::new().client_max_window_bits(Some(12)).server_no_context_takeover(true);
        let (response, server_n) = extended_connect::accept(&u, &Accept::new().with_deflate(config)).unwrap();
        assert_eq!(
            response.headers.get_str("sec-websocket-extensions"),
            Some("permessage-deflate; server_no_context_takeover; client_max_window_bits=12")
        );
        let client_n = upgraded(extended_connect::check_response(&request, response.status, &response.headers));
        assert_eq!((client_n.reserved_bits, server_n.reserved_bits), (RSV1, RSV1));
        let params = DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 12,
        };
        assert_eq!(client_n.deflate, Some(PerMessageDeflate::new(params, &DeflateConfig::new())));
        assert_eq!(server_n.deflate, Some(PerMessageDeflate::new(params, &config)));

        // A compressed message crosses.
        let mut client = Connection::new(client_n.role, Config::new())
            .with_key_source(KeySource::seeded(3))
            .with_negotiated(&client_n);
        let mut server = Connection::new(server_n.role, Config::new()).with_negotiated(&server_n);
        let text = "compress me ".repeat(40);
        let mut wire = Vec::new();
        client.send_text(&text, &mut wire).unwrap();
        assert!(wire.len() < text.len() / 2);
        assert_eq!(wire[0] & 0x40, 0x40, "RSV1 set");
        let mut scratch = vec![0u8; 4096];
        let received = server.receive_into(&mut wire, &mut scratch).unwrap();
        let Some(Event::Data { data, last: true, .. }) = received.event else { panic!() };
        assert_eq!(data, text.as_bytes());
    }

    #[test]
    fn without_server_deflate_no_compression() {
        let request = client("wss://example.com/").with_deflate(DeflateConfig::new());
        let u = extended_connect::parse_request(&extended_connect::request(&request).unwrap()).unwrap();
        let (response, server_n) = extended_connect::accept(&u, &Accept::new()).unwrap();
        assert_eq!(response.headers.get("sec-websocket-extensions"), None);
        let client_n = upgraded(extended_connect::check_response(&request, response.status, &response.headers));
        assert_eq!((client_n.deflate, server_n.deflate), (None, None));
        assert_eq!(client_n.reserved_bits, 0);
    }

    #[test]
    fn bad_deflate_response_is_refused() {
        let request = client("wss://example.com/").with_deflate(DeflateConfig::new().server_no_context_takeover(true));
        assert_eq!(
            extended_connect::check_response(&request, 200, [("sec-websocket-extensions", "permessage-deflate")]),
            Err(HandshakeError::InvalidExtensions("server_no_context_takeover was asked for but not granted"))
        );
        let bogus = [("sec-websocket-extensions", "permessage-deflate; bogus")];
        assert!(matches!(
            extended_connect::check_response(&request, 200, bogus),
            Err(HandshakeError::InvalidExtensions(_))
        ));
    }
}
