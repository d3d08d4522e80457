//! Header lists: case-insensitive lookup, comma-separated token lists (RFC 9110 §5.6.1), and the
//! checks applied to header names and values before they are written.

use alloc::string::String;
use alloc::vec::Vec;

use super::HandshakeError;

/// An ordered list of HTTP header fields, as received or to be written.
///
/// Names compare case-insensitively. Values are bytes: HTTP allows octets that are not UTF-8
/// (use [`get_str`](Self::get_str) for text). A field that appears on several lines keeps every
/// line, in order.
///
/// ```
/// use wsproto::handshake::Headers;
/// let mut headers = Headers::new();
/// headers.push("Connection", "keep-alive, Upgrade");
/// headers.push("Cookie", "a=1");
/// headers.push("cookie", "b=2");
/// assert!(headers.has_token("connection", "upgrade"));
/// assert_eq!(headers.get_all("Cookie").collect::<Vec<_>>(), [&b"a=1"[..], b"b=2"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    list: Vec<(String, Vec<u8>)>,
}

impl Headers {
    /// An empty list.
    #[must_use]
    pub const fn new() -> Self {
        Self { list: Vec::new() }
    }

    /// An empty list with room for `lines` header lines.
    pub(crate) fn with_capacity(lines: usize) -> Self {
        Self { list: Vec::with_capacity(lines) }
    }

    /// Number of header lines.
    #[must_use]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are no header lines.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Appends a header line. Names and values are checked when they are written (a name must be
    /// a token, a value may not hold control characters other than tab).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) {
        self.list.push((name.into(), value.into()));
    }

    /// Appends a header line and returns the list (builder style).
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.push(name, value);
        self
    }

    /// The value of the first line named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.list.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }

    /// The value of the first line named `name`, if it is UTF-8.
    #[must_use]
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The values of every line named `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.list.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }

    /// How many lines are named `name`.
    #[must_use]
    pub fn count(&self, name: &str) -> usize {
        self.get_all(name).count()
    }

    /// Whether a line named `name` exists.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Whether the comma-separated lists of every line named `name` hold `token`
    /// (case-insensitive, surrounding spaces and tabs ignored), as in
    /// `Connection: keep-alive, Upgrade`.
    #[must_use]
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name).flat_map(list_elements).any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
    }

    /// Every line as `(name, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.list.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// Checks every line for writing.
    pub(crate) fn validate(&self) -> Result<(), HandshakeError> {
        for (name, value) in &self.list {
            check_field(name, value)?;
        }
        Ok(())
    }

    /// Writes every line (already validated).
    pub(crate) fn write_into(&self, out: &mut Vec<u8>) {
        for (name, value) in &self.list {
            write_field(out, name, value);
        }
    }
}

/// How a transport spells the WebSocket header fields, in the fields it writes and in errors:
/// HTTP/1.1 in the case RFC 6455 uses, HTTP/2 and HTTP/3 in lowercase. Lookups ignore case
/// either way.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldNames {
    /// `Sec-WebSocket-Version`.
    pub(crate) version: &'static str,
    /// `Origin`.
    pub(crate) origin: &'static str,
    /// `Sec-WebSocket-Protocol`.
    pub(crate) protocol: &'static str,
    /// `Sec-WebSocket-Extensions`.
    pub(crate) extensions: &'static str,
}

impl FieldNames {
    /// The HTTP/1.1 spelling (RFC 6455).
    pub(crate) const HTTP1: Self = Self {
        version: "Sec-WebSocket-Version",
        origin: "Origin",
        protocol: "Sec-WebSocket-Protocol",
        extensions: "Sec-WebSocket-Extensions",
    };

    /// The HTTP/2 and HTTP/3 spelling (RFC 8441, RFC 9220): lowercase.
    pub(crate) const H2: Self = Self {
        version: "sec-websocket-version",
        origin: "origin",
        protocol: "sec-websocket-protocol",
        extensions: "sec-websocket-extensions",
    };
}

/// The value of a field that may appear at most once; a repeated one is
/// [`HandshakeError::DuplicateHeader`] with `name`.
pub(crate) fn single<'a>(h: &'a Headers, name: &'static str) -> Result<Option<&'a [u8]>, HandshakeError> {
    let mut all = h.get_all(name);
    let first = all.next();
    if all.next().is_some() {
        return Err(HandshakeError::DuplicateHeader(name));
    }
    Ok(first)
}

/// Whether `b` is a `tchar` (RFC 9110 §5.6.2).
pub(crate) const fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// Whether `s` is a non-empty `token`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// `s` without leading and trailing optional whitespace (spaces and tabs).
pub(crate) fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(s.len());
    let end = s.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or_default()
}

/// The non-empty elements of a comma-separated list, trimmed.
pub(crate) fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(trim_ows).filter(|e| !e.is_empty())
}

/// Whether a field value may be written: no control characters other than tab (so no CR or LF).
pub(crate) fn is_field_value(v: &[u8]) -> bool {
    v.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Checks a caller-supplied header line.
pub(crate) fn check_field(name: &str, value: &[u8]) -> Result<(), HandshakeError> {
    if !is_token(name.as_bytes()) {
        return Err(HandshakeError::InvalidInput("header name is not a token"));
    }
    if !is_field_value(value) {
        return Err(HandshakeError::InvalidInput("header value contains a control character"));
    }
    Ok(())
}

/// Writes `name: value\r\n` (already checked).
pub(crate) fn write_field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn token_lists() {
        let cases: &[(&[u8], &[&[u8]])] = &[
            (b"Upgrade", &[b"Upgrade"]),
            (b"keep-alive, Upgrade", &[b"keep-alive", b"Upgrade"]),
            (b" ,, keep-alive ,\tUpgrade\t, ", &[b"keep-alive", b"Upgrade"]),
            (b"", &[]),
            (b" , ", &[]),
            (b"a b, c", &[b"a b", b"c"]),
        ];
        for (value, want) in cases {
            let got: Vec<&[u8]> = list_elements(value).collect();
            assert_eq!(&got, want, "{:?}", core::str::from_utf8(value));
        }
    }

    #[test]
    fn has_token_is_case_insensitive_and_combines_lines() {
        let h = Headers::new().with("CONNECTION", "keep-alive").with("connection", " UPGRADE ");
        assert!(h.has_token("Connection", "upgrade"));
        assert!(!h.has_token("Connection", "close"));
        // A token must be a whole element, not a substring.
        let h = Headers::new().with("Connection", "upgrade-insecure, notupgrade");
        assert!(!h.has_token("Connection", "upgrade"));
        let h = Headers::new().with("Upgrade", "websocket upgrade");
        assert!(!h.has_token("Upgrade", "websocket"));
    }

    #[test]
    fn trimming() {
        assert_eq!(trim_ows(b" \t x y \t"), b"x y");
        assert_eq!(trim_ows(b"   "), b"");
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(trim_ows(b"\r x \n"), b"\r x \n");
    }

    #[test]
    fn tokens() {
        assert!(is_token(b"permessage-deflate"));
        assert!(is_token(b"x!#$%&'*+-.^_`|~09"));
        assert!(!is_token(b""));
        for bad in [&b"a b"[..], b"a,b", b"a;b", b"a=b", b"\"a\"", b"a\x7f", b"\xc3\xa9", b"a/b", b"(a)"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn field_checks() {
        assert!(check_field("X-Ok", b"value with\ttab and \xff obs-text").is_ok());
        for bad in [&b"a\r\nInjected: 1"[..], b"a\nb", b"a\rb", b"\0", b"\x7f"] {
            assert_eq!(
                check_field("X", bad),
                Err(HandshakeError::InvalidInput("header value contains a control character"))
            );
        }
        for bad in ["", "X Y", "X:", "X\r\n", "é"] {
            assert_eq!(check_field(bad, b"v"), Err(HandshakeError::InvalidInput("header name is not a token")));
        }
    }

    #[test]
    fn lookup() {
        let h = Headers::new().with("A", "1").with("b", vec![0xff]).with("a", "2");
        assert_eq!(h.len(), 3);
        assert_eq!(h.get("a"), Some(&b"1"[..]));
        assert_eq!(h.count("A"), 2);
        assert_eq!(h.get_str("B"), None);
        assert_eq!(h.get("B"), Some(&[0xff][..]));
        assert!(!h.contains("c"));
        assert_eq!(h.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["A", "b", "a"]);
        let mut out = Vec::new();
        Headers::new().with("X", "y").write_into(&mut out);
        assert_eq!(out, b"X: y\r\n");
        assert!(Headers::new().is_empty());
    }
}
