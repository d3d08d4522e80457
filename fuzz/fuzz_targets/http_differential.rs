//! Differential: one request read as HTTP/1.1 bytes by `ServerHandshake::feed` and as an
//! `http::Request` by `ServerHandshake::read_http` (feature `http`) gets the same verdict.
//!
//! Input: a request head in HTTP/1.1's text form, lines ended by `\n` (a `\r` before it is
//! dropped): `METHOD TARGET HTTP/1.x`, then `name: value` lines up to an empty line or the end.
//! Only requests both forms can carry are run: a method, a header name and a value the `http`
//! crate takes, values without leading or trailing spaces (an HTTP/1.1 parser drops those), a
//! target that is the same after parsing as a `Uri`, and a head within the byte reader's
//! default limits (the `http` path has its HTTP stack's limits). Both forms are then built
//! from the parsed pieces: canonical bytes (`\r\n` line ends, `name: value`) and an
//! `http::Request` with the same method, target, version and header lines.
//!
//! Checked: the same outcome from both paths, and
//! * for a plain HTTP request, the same method, target and version;
//! * for an upgrade request, the same path, key, host, origin, subprotocols and extensions,
//!   the same header lines (names compared in lowercase, lines of one name in order), and the
//!   same result of accepting it (with the first offered subprotocol, every offered extension
//!   but permessage-deflate once, permessage-deflate through `Accept::with_deflate`, an extra
//!   header): an identical `Negotiated` and the same 101 header lines, or the same error;
//!   the same for a rejection with 403;
//! * for an error, the same `HandshakeError`, so the same status, and the same header lines in
//!   its ready-made response.
#![no_main]

use http::header::{HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use wsproto::deflate::DeflateConfig;
use wsproto::handshake::{
    Accept, ExtensionOffer, HandshakeError, HttpResponse, Negotiated, ServerHandshake, ServerStatus, UpgradeRequest,
};

fuzz_target!(|data: &[u8]| {
    let Some((bytes, request)) = both_forms(data) else { return };
    let from_bytes = ServerHandshake::new().feed(&bytes);
    if matches!(from_bytes, Err(HandshakeError::HeadTooLarge { .. } | HandshakeError::TooManyHeaders { .. })) {
        return; // the byte reader's own limits; an HTTP stack has its own
    }
    let from_http = ServerHandshake::read_http(&request);
    let (parts, ()) = request.clone().into_parts();
    assert_eq!(ServerHandshake::read_http_parts(&parts), from_http, "Parts and Request differ");
    match (from_bytes, from_http) {
        (Ok(ServerStatus::Http(a)), Ok(ServerStatus::Http(b))) => {
            assert_eq!((&a.method, &a.path, a.version), (&b.method, &b.path, b.version));
            assert_eq!(normalized(&a.headers), normalized(&b.headers));
        }
        (Ok(ServerStatus::Upgrade(a)), Ok(ServerStatus::Upgrade(b))) => compare_upgrades(&a, &b),
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "different errors");
            let bytes_response = a.response();
            let http_response = b.response().to_http().expect("an error's response converts");
            assert_eq!(bytes_response.status, http_response.status().as_u16());
            assert_eq!(normalized(&bytes_response.headers), http_normalized(http_response.headers()));
        }
        (a, b) => panic!("different verdicts:\nbytes: {a:?}\nhttp:  {b:?}\n{}", String::from_utf8_lossy(&bytes)),
    }
});

/// The request as canonical bytes and as an `http::Request`, if both forms can carry it.
fn both_forms(data: &[u8]) -> Option<(Vec<u8>, http::Request<()>)> {
    let mut lines = data.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let start = lines.next()?;
    let mut words = start.split(|&b| b == b' ');
    let (method, target, version) = (words.next()?, words.next()?, words.next()?);
    if words.next().is_some() {
        return None;
    }
    let version = match version {
        b"HTTP/1.1" => http::Version::HTTP_11,
        b"HTTP/1.0" => http::Version::HTTP_10,
        _ => return None,
    };
    let method = http::Method::from_bytes(method).ok()?;
    let target = std::str::from_utf8(target).ok()?;
    let uri: http::Uri = target.parse().ok()?;
    if uri.to_string() != target || uri.scheme().is_some() || !target.starts_with('/') {
        return None;
    }
    let mut builder = http::Request::builder().method(method.clone()).uri(uri).version(version);
    let mut bytes =
        format!("{method} {target} HTTP/1.{}\r\n", u8::from(version == http::Version::HTTP_11)).into_bytes();
    for line in lines.take_while(|l| !l.is_empty()) {
        let colon = line.iter().position(|&b| b == b':')?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let value = value.strip_prefix(b" ").unwrap_or(value);
        let space = |b: Option<&u8>| b.is_some_and(|&b| b == b' ' || b == b'\t');
        if space(value.first()) || space(value.last()) {
            return None;
        }
        let name = HeaderName::from_bytes(name).ok()?;
        let header_value = HeaderValue::from_bytes(value).ok()?;
        bytes.extend_from_slice(&line[..colon]);
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value);
        bytes.extend_from_slice(b"\r\n");
        builder = builder.header(name, header_value);
    }
    bytes.extend_from_slice(b"\r\n");
    Some((bytes, builder.body(()).ok()?))
}

/// Header lines with lowercase names, sorted stably by name.
fn normalized(headers: &wsproto::handshake::Headers) -> Vec<(String, Vec<u8>)> {
    let mut list: Vec<_> = headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.to_vec())).collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list
}

fn http_normalized(map: &http::HeaderMap) -> Vec<(String, Vec<u8>)> {
    let mut list: Vec<_> = map.iter().map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec())).collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list
}

/// What the server chooses for a request, the same for both paths.
fn choice(u: &UpgradeRequest) -> Accept {
    let mut accept = Accept::new().with_header("Set-Cookie", "s=1").with_deflate(DeflateConfig::new());
    if let Some(p) = u.protocols().first() {
        accept = accept.with_protocol(p.as_str());
    }
    let mut taken: Vec<&str> = Vec::new();
    for e in u.extensions() {
        if !e.is("permessage-deflate") && !taken.iter().any(|t| e.is(t)) {
            taken.push(&e.name);
            accept = accept.with_extension(ExtensionOffer::new(e.name.as_str()));
        }
    }
    accept
}

fn compare_upgrades(a: &UpgradeRequest, b: &UpgradeRequest) {
    assert_eq!(a.path(), b.path());
    assert_eq!(a.key(), b.key());
    assert_eq!(a.host(), b.host());
    assert_eq!(a.origin(), b.origin());
    assert_eq!(a.protocols(), b.protocols());
    assert_eq!(a.extensions(), b.extensions());
    assert_eq!(normalized(a.headers()), normalized(b.headers()));

    let accept = choice(a);
    let mut out = Vec::new();
    let over_bytes: Result<(Vec<(String, Vec<u8>)>, Negotiated), HandshakeError> =
        a.accept(&accept, &mut out).map(|n| (written_fields(&out, 101), n));
    let over_http = b.accept_http(&accept).map(|(response, n)| {
        assert_eq!(response.status(), 101);
        (http_normalized(response.headers()), n)
    });
    assert_eq!(over_bytes, over_http, "different accepts");

    let reject = HttpResponse::new(403).with_header("X-Why", "no").with_body("no");
    let mut out = Vec::new();
    a.reject(&reject, &mut out).expect("a 403 rejection is written");
    let mut fields = written_fields(&out, 403);
    fields.retain(|(n, _)| n != "content-length");
    let http_reject = b.reject_http(&reject).expect("a 403 rejection converts");
    assert_eq!(http_reject.body(), b"no");
    assert_eq!(fields, http_normalized(http_reject.headers()));
}

/// The header lines of a response we wrote, normalized; checks its status.
fn written_fields(out: &[u8], status: u16) -> Vec<(String, Vec<u8>)> {
    let end = out.windows(4).position(|w| w == b"\r\n\r\n").expect("a whole head");
    let mut lines = out[..end].split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next().unwrap();
    assert_eq!(&status_line[9..12], status.to_string().as_bytes());
    let mut headers = wsproto::handshake::Headers::new();
    for line in lines {
        let colon = line.iter().position(|&b| b == b':').unwrap();
        headers.push(String::from_utf8(line[..colon].to_vec()).unwrap(), &line[colon + 2..]);
    }
    normalized(&headers)
}
