//! `ws://` and `wss://` URIs (RFC 6455 §3): scheme, host, port and resource name.

use alloc::format;
use alloc::string::String;

use super::HandshakeError;

/// The parts of a WebSocket URI that the handshake needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WsUri {
    pub(crate) secure: bool,
    /// The host without IPv6 brackets (what to connect to).
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Path and query, never empty (`/` at least).
    pub(crate) resource: String,
    /// The `Host` header value: the host (bracketed when IPv6) and the port unless it is the
    /// scheme's default.
    pub(crate) host_header: String,
}

const fn bad(what: &'static str) -> HandshakeError {
    HandshakeError::InvalidUri(what)
}

/// Characters of a `reg-name` or IPv4 address (RFC 3986 §3.2.2): unreserved, sub-delims, `%`.
const fn is_host_char(b: u8) -> bool {
    matches!(b,
        b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~'
        | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b'%')
}

impl WsUri {
    pub(crate) fn parse(uri: &str) -> Result<Self, HandshakeError> {
        let (scheme, rest) = uri.split_once("://").ok_or(bad("expected ws:// or wss://"))?;
        let secure = if scheme.eq_ignore_ascii_case("ws") {
            false
        } else if scheme.eq_ignore_ascii_case("wss") {
            true
        } else {
            return Err(bad("the scheme must be ws or wss"));
        };
        if rest.contains('#') {
            return Err(bad("a WebSocket URI cannot have a fragment"));
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        if authority.contains('@') {
            return Err(bad("user information in the URI is not supported"));
        }

        let (host, host_for_header, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (inner, after) = v6.split_once(']').ok_or(bad("unterminated IPv6 literal"))?;
            if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
                return Err(bad("invalid IPv6 literal"));
            }
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or(bad("unexpected characters after the IPv6 literal"))?),
            };
            (inner, authority.get(..inner.len() + 2).unwrap_or(authority), port)
        } else {
            let (host, port) = match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            };
            if !host.bytes().all(is_host_char) {
                return Err(bad("invalid character in the host"));
            }
            (host, host, port)
        };
        if host.is_empty() {
            return Err(bad("the host is empty"));
        }
        let default_port = if secure { 443 } else { 80 };
        let port = match port {
            None | Some("") => default_port,
            Some(p) => {
                if !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad("invalid port"));
                }
                match p.parse::<u16>() {
                    Ok(0) | Err(_) => return Err(bad("invalid port")),
                    Ok(n) => n,
                }
            }
        };

        if !resource.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad("the path and query must be printable ASCII (percent-encode other characters)"));
        }
        let resource = if resource.starts_with('/') { String::from(resource) } else { format!("/{resource}") };
        let host_header =
            if port == default_port { String::from(host_for_header) } else { format!("{host_for_header}:{port}") };
        Ok(Self { secure, host: String::from(host), port, resource, host_header })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(uri: &str) -> (bool, String, u16, String, String) {
        let u = WsUri::parse(uri).unwrap();
        (u.secure, u.host, u.port, u.resource, u.host_header)
    }

    #[test]
    fn good_uris() {
        let s = String::from;
        assert_eq!(ok("ws://example.com"), (false, s("example.com"), 80, s("/"), s("example.com")));
        assert_eq!(ok("wss://example.com/"), (true, s("example.com"), 443, s("/"), s("example.com")));
        assert_eq!(ok("WSS://Example.com:443/a"), (true, s("Example.com"), 443, s("/a"), s("Example.com")));
        assert_eq!(
            ok("ws://example.com:80/chat?x=1&y"),
            (false, s("example.com"), 80, s("/chat?x=1&y"), s("example.com"))
        );
        assert_eq!(ok("ws://example.com:8080/"), (false, s("example.com"), 8080, s("/"), s("example.com:8080")));
        assert_eq!(ok("wss://example.com:80"), (true, s("example.com"), 80, s("/"), s("example.com:80")));
        assert_eq!(ok("ws://example.com?q"), (false, s("example.com"), 80, s("/?q"), s("example.com")));
        assert_eq!(ok("ws://[::1]:9000/x"), (false, s("::1"), 9000, s("/x"), s("[::1]:9000")));
        assert_eq!(ok("ws://[::1]/x"), (false, s("::1"), 80, s("/x"), s("[::1]")));
        assert_eq!(ok("wss://[2001:db8::7]"), (true, s("2001:db8::7"), 443, s("/"), s("[2001:db8::7]")));
        assert_eq!(ok("ws://127.0.0.1:1/%20"), (false, s("127.0.0.1"), 1, s("/%20"), s("127.0.0.1:1")));
        assert_eq!(ok("ws://h:/"), (false, s("h"), 80, s("/"), s("h")));
    }

    #[test]
    fn bad_uris() {
        for uri in [
            "",
            "example.com",
            "http://example.com/",
            "ws:/example.com",
            "ws://",
            "ws:///path",
            "ws://example.com/#frag",
            "ws://user:pw@example.com/",
            "ws://example.com:0/",
            "ws://example.com:65536/",
            "ws://example.com:-1/",
            "ws://example.com:+80/",
            "ws://example.com:8a/",
            "ws://a:1:2/",
            "ws://[::1/",
            "ws://[]/",
            "ws://[::1]x/",
            "ws://[zz::1]/",
            "ws://exa mple.com/",
            "ws://example.com/a b",
            "ws://example.com/\r\nX: y",
            "ws://example.com/é",
            "ws://ex\u{e9}.com/",
        ] {
            assert!(matches!(WsUri::parse(uri), Err(HandshakeError::InvalidUri(_))), "{uri:?}");
        }
    }
}
