//! Header lists: case-insensitive lookup, comma-separated token lists (RFC 9110 §5.6.1), and the
//! checks applied to header names and values before they are written.

use alloc::string::String;
use alloc::vec::Vec;

use super::HandshakeError;

/// An ordered list of header fields: the header lines of an HTTP/1.1 head, or the field list of
/// an HTTP/2 or HTTP/3 request or response (RFC 8441, RFC 9220), pseudo-header fields such as
/// `:path` included, first.
///
/// Regular names compare case-insensitively, pseudo-header names (starting with `:`) exactly.
/// Values are bytes: HTTP allows octets that are not UTF-8 (use [`get_str`](Self::get_str) for
/// text). A field that appears on several lines keeps every line, in order.
///
/// ```
/// use wsproto::handshake::Headers;
/// let mut headers = Headers::new();
/// headers.push("Connection", "keep-alive, Upgrade");
/// headers.push("Cookie", "a=1");
/// headers.push("cookie", "b=2");
/// assert!(headers.has_token("connection", "upgrade"));
/// assert_eq!(headers.get_all("Cookie").collect::<Vec<_>>(), [&b"a=1"[..], b"b=2"]);
///
/// // An HTTP/2 field list: pseudo-header fields first.
/// let fields = Headers::new().with(":method", "CONNECT").with(":path", "/").with("cookie", "a=1");
/// assert_eq!(fields.get_str(":path"), Some("/"));
/// assert_eq!(fields.get(":PATH"), None);
/// assert_eq!(fields.regular().collect::<Vec<_>>(), [("cookie", &b"a=1"[..])]);
/// for (name, value) in &fields {
///     // hand (name, value) to an HTTP/2 or HTTP/3 library
///     # let _ = (name, value);
/// }
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

    /// Number of fields (header lines).
    #[must_use]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are no fields.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Appends a field. Names and values are checked when they are written (a name must be a
    /// token, a value may not hold control characters other than tab).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) {
        self.list.push((name.into(), value.into()));
    }

    /// Moves every field of `other` to the end of this list.
    pub(crate) fn append(&mut self, mut other: Self) {
        self.list.append(&mut other.list);
    }

    /// Appends a field and returns the list (builder style).
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.push(name, value);
        self
    }

    /// The value of the first field named `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter().find(|(n, _)| name_matches(n, name)).map(|(_, v)| v)
    }

    /// The value of the first field named `name`, if it is UTF-8.
    #[must_use]
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The values of every field named `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.iter().filter(move |(n, _)| name_matches(n, name)).map(|(_, v)| v)
    }

    /// How many fields are named `name`.
    #[must_use]
    pub fn count(&self, name: &str) -> usize {
        self.get_all(name).count()
    }

    /// Whether a field named `name` exists.
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Whether the comma-separated lists of every field named `name` hold `token`
    /// (case-insensitive, surrounding spaces and tabs ignored), as in
    /// `Connection: keep-alive, Upgrade`.
    #[must_use]
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name).flat_map(list_elements).any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
    }

    /// Every field as `(name, value)`, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &[u8])> + ExactSizeIterator {
        self.into_iter()
    }

    /// The regular fields: every field but the pseudo-header fields (names starting with `:`),
    /// in order.
    pub fn regular(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.iter().filter(|(n, _)| !n.starts_with(':'))
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

/// The iterator of `&Headers`: `(name, value)` pairs, in order.
type Iter<'a> =
    core::iter::Map<core::slice::Iter<'a, (String, Vec<u8>)>, fn(&'a (String, Vec<u8>)) -> (&'a str, &'a [u8])>;

impl<'a> IntoIterator for &'a Headers {
    type Item = (&'a str, &'a [u8]);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.list.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }
}

/// Pseudo-header names compare exactly, other names case-insensitively.
fn name_matches(have: &str, want: &str) -> bool {
    if have.starts_with(':') || want.starts_with(':') { have == want } else { have.eq_ignore_ascii_case(want) }
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

/// Checks caller-supplied extra header lines: each one valid, none of those in `managed` (which
/// the handshake writes itself; case-insensitive).
pub(crate) fn check_extra(extra: &Headers, managed: &[&str]) -> Result<(), HandshakeError> {
    for (name, value) in extra {
        check_field(name, value)?;
        if managed.iter().any(|m| m.eq_ignore_ascii_case(name)) {
            return Err(HandshakeError::InvalidInput("header is managed by the handshake"));
        }
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
