//! `Sec-WebSocket-Extensions` (RFC 6455 §9.1): the grammar, several lines and several offers,
//! negotiation both ways, and what the connection does with reserved bits afterwards.

use proptest::prelude::*;
use wsproto::frame::{RSV1, RSV2, RSV3};
use wsproto::handshake::{
    Accept, ClientRequest, ClientStatus, ExtensionOffer, HandshakeError, Negotiated, ServerHandshake, ServerStatus,
    format_extensions, parse_extensions,
};
use wsproto::{Config, Connection, Error, Event, KeySource, ProtocolViolation};

const HEAD: &str = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

fn offered(lines: &[&str]) -> Result<Vec<ExtensionOffer>, HandshakeError> {
    let extra: String = lines.iter().map(|l| format!("Sec-WebSocket-Extensions: {l}\r\n")).collect();
    match ServerHandshake::new().feed(format!("{HEAD}{extra}\r\n").as_bytes()) {
        Ok(ServerStatus::Upgrade(u)) => Ok(u.extensions().to_vec()),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e),
    }
}

fn pmd() -> ExtensionOffer {
    ExtensionOffer::new("permessage-deflate")
}

#[test]
fn several_lines_and_several_offers_combine_in_order() {
    let got = offered(&[
        "permessage-deflate; client_max_window_bits; server_max_window_bits=10",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate, x-webkit-deflate-frame",
    ])
    .unwrap();
    assert_eq!(
        got,
        [
            pmd().with_flag("client_max_window_bits").with_param("server_max_window_bits", "10"),
            pmd().with_flag("client_max_window_bits"),
            pmd(),
            ExtensionOffer::new("x-webkit-deflate-frame"),
        ]
    );
}

#[test]
fn quoted_values_and_whitespace() {
    let got = offered(&["  a ; p = \"15\" ;q=\"x\\yz\" ,\tb;r  "]).unwrap();
    assert_eq!(
        got,
        [
            ExtensionOffer::new("a").with_param("p", "15").with_param("q", "xyz"),
            ExtensionOffer::new("b").with_flag("r")
        ]
    );
    // Empty list elements are ignored.
    assert_eq!(offered(&[", a,,"]).unwrap(), [ExtensionOffer::new("a")]);
}

#[test]
fn malformed_values_are_400() {
    let cases = [
        ("", "no extension in the header field"),
        (";", "expected an extension name"),
        ("a;", "expected a parameter name"),
        ("a; b=", "expected a parameter value"),
        ("a b", "expected ';' or ','"),
        ("a; b=c d", "expected ';' or ','"),
        ("a; b=\"c", "unterminated quoted string"),
        ("a; b=\"c d\"", "quoted parameter value is not a token"),
        ("a; b=\"\"", "quoted parameter value is not a token"),
        ("a/b", "expected ';' or ','"),
        ("\"a\"", "expected an extension name"),
        ("a; b=(c)", "expected a parameter value"),
    ];
    for (value, what) in cases {
        let err = offered(&["x-ok", value]).unwrap_err();
        assert_eq!(err, HandshakeError::InvalidExtensions(what), "{value:?}");
        assert_eq!(err.status_hint(), 400);
    }
}

#[test]
fn parse_and_format_functions() {
    let list = parse_extensions([&b"a; x=1"[..], b"b"]).unwrap();
    assert_eq!(format_extensions(&list).unwrap(), "a; x=1, b");
    assert_eq!(ExtensionOffer::parse_list(b"c; y").unwrap(), [ExtensionOffer::new("c").with_flag("y")]);
    let mut s = String::from("prefix: ");
    ExtensionOffer::new("d").with_param("z", "2").write_to(&mut s).unwrap();
    assert_eq!(s, "prefix: d; z=2");
    assert_eq!(list[0].param("X"), Some(Some("1")));
    assert_eq!(list[1].param("x"), None);
    assert!(list[1].is("B"));
}

#[test]
fn negotiation_both_ways() {
    let mut to_server = Vec::new();
    let mut client_hs = ClientRequest::new("ws://h/")
        .unwrap()
        .with_key_source(KeySource::seeded(1))
        .with_extension(pmd().with_flag("client_max_window_bits").with_param("server_max_window_bits", "12"))
        .with_extension(pmd())
        .with_extension(ExtensionOffer::new("x-custom").with_param("mode", "fast"))
        .write(&mut to_server)
        .unwrap();
    let text = String::from_utf8(to_server.clone()).unwrap();
    assert!(text.contains(
        "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits=12, \
         permessage-deflate, x-custom; mode=fast\r\n"
    ));

    let Ok(ServerStatus::Upgrade(u)) = ServerHandshake::new().feed(&to_server) else { panic!() };
    assert_eq!(u.extensions(), client_hs.offered_extensions());
    // The server picks the first permessage-deflate offer and answers with its own parameters,
    // and the custom extension.
    let first = u.extensions().iter().find(|e| e.is("permessage-deflate")).unwrap();
    assert_eq!(first.param("server_max_window_bits"), Some(Some("12")));
    let accept = Accept::new()
        .with_extension(pmd().with_param("server_max_window_bits", "12").with_param("client_max_window_bits", "15"))
        .with_extension(ExtensionOffer::new("x-custom"));
    let mut to_client = Vec::new();
    let server_side = u.accept(&accept, &mut to_client).unwrap();
    assert!(String::from_utf8(to_client.clone()).unwrap().contains(
        "\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; client_max_window_bits=15, x-custom\r\n"
    ));

    let Ok(ClientStatus::Upgraded { negotiated, .. }) = client_hs.feed(&to_client) else { panic!() };
    assert_eq!(negotiated.extensions, server_side.extensions);
    assert!(negotiated.has_extension("permessage-deflate"));
    assert!(negotiated.has_extension("x-custom"));
    assert!(!negotiated.has_extension("x-other"));
}

#[test]
fn client_refuses_extensions_it_did_not_offer() {
    for (offers, answer) in [
        (vec![], "x-a"),
        (vec![ExtensionOffer::new("x-a")], "x-b"),
        (vec![ExtensionOffer::new("x-a")], "x-a, x-a"),
        (vec![pmd(), pmd()], "permessage-deflate, permessage-deflate"),
    ] {
        let mut request = ClientRequest::new("ws://h/").unwrap().with_key_source(KeySource::seeded(2));
        for o in offers {
            request = request.with_extension(o);
        }
        let mut hs = request.write(&mut Vec::new()).unwrap();
        let resp = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {answer}\r\n\r\n",
            hs.expected_accept()
        );
        let err = hs.feed(resp.as_bytes()).unwrap_err();
        assert_eq!(err, HandshakeError::UnofferedExtension, "{answer}");
        assert_eq!(err.status_hint(), 502);
    }
}

#[test]
fn server_cannot_accept_what_was_not_offered() {
    let Ok(ServerStatus::Upgrade(u)) =
        ServerHandshake::new().feed(format!("{HEAD}Sec-WebSocket-Extensions: x-a\r\n\r\n").as_bytes())
    else {
        panic!()
    };
    let mut out = Vec::new();
    assert_eq!(
        u.accept(&Accept::new().with_extension(ExtensionOffer::new("x-b")), &mut out),
        Err(HandshakeError::InvalidInput("extension was not offered"))
    );
    assert!(out.is_empty());
    // Names compare case-insensitively.
    assert!(u.accept(&Accept::new().with_extension(ExtensionOffer::new("X-A")), &mut out).is_ok());
}

/// A masked client frame with the given reserved bits: text "hi", masking key 0.
fn frame_with_rsv(rsv: u8) -> [u8; 8] {
    [0x81 | (rsv << 4), 0x82, 0, 0, 0, 0, b'h', b'i']
}

fn server_side(reserved_bits: u8) -> Negotiated {
    let Ok(ServerStatus::Upgrade(u)) = ServerHandshake::new().feed(format!("{HEAD}\r\n").as_bytes()) else { panic!() };
    let mut n = u.accept(&Accept::new(), &mut Vec::new()).unwrap();
    n.reserved_bits = reserved_bits;
    n
}

#[test]
fn negotiated_extensions_own_no_reserved_bits_by_default() {
    let n = server_side(0);
    let mut server = Connection::new(n.role, Config::new()).with_negotiated(&n);
    let mut frame = frame_with_rsv(RSV1);
    assert_eq!(server.receive(&mut frame), Err(Error::Protocol(ProtocolViolation::ReservedBits)));
}

#[test]
fn reserved_bits_declared_by_the_caller_are_allowed() {
    for bits in [RSV1, RSV2, RSV3, RSV1 | RSV3] {
        let n = server_side(bits);
        let mut server = Connection::new(n.role, Config::new()).with_negotiated(&n);
        let mut frame = frame_with_rsv(bits);
        let r = server.receive(&mut frame).unwrap();
        assert!(matches!(r.event, Some(Event::Data { data: b"hi", .. })), "{bits:#05b}");
        // A bit that was not declared still fails the connection.
        let other = !bits & 0b111;
        let mut server = Connection::new(n.role, Config::new()).with_negotiated(&n);
        let mut frame = frame_with_rsv(other);
        assert!(server.receive(&mut frame).is_err(), "{other:#05b}");
    }
}

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,12}"
}

fn extension() -> impl Strategy<Value = ExtensionOffer> {
    (token(), proptest::collection::vec((token(), proptest::option::of(token())), 0..4))
        .prop_map(|(name, params)| ExtensionOffer { name, params })
}

proptest! {
    #[test]
    fn format_then_parse_round_trips(list in proptest::collection::vec(extension(), 1..5)) {
        let value = format_extensions(&list).unwrap();
        prop_assert_eq!(ExtensionOffer::parse_list(value.as_bytes()).unwrap(), list);
    }

    #[test]
    fn quoting_and_spacing_do_not_change_the_meaning(
        list in proptest::collection::vec(extension(), 1..5),
        spaces in proptest::collection::vec(0usize..3, 8),
    ) {
        // Rewrite with quoted values and irregular whitespace.
        let sp = |i: usize| " ".repeat(spaces[i % spaces.len()]);
        let mut value = String::new();
        for (i, e) in list.iter().enumerate() {
            if i > 0 {
                value += &format!("{},{}", sp(i), sp(i + 1));
            }
            value += &e.name;
            for (j, (n, v)) in e.params.iter().enumerate() {
                value += &format!("{};{}{}", sp(j), sp(j + 2), n);
                if let Some(v) = v {
                    value += &format!("{}={}\"{}\"", sp(j + 3), sp(j + 4), v);
                }
            }
        }
        prop_assert_eq!(ExtensionOffer::parse_list(value.as_bytes()).unwrap(), list);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = ExtensionOffer::parse_list(&bytes);
    }
}
