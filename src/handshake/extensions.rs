//! `Sec-WebSocket-Extensions` values (RFC 6455 §9.1): parsing and writing, independent of what
//! any extension means.
//!
//! ```text
//! extension-list = 1#extension
//! extension      = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//! ```
//!
//! A quoted value must be a token once unquoted (RFC 6455 §9.1), so values are always written as
//! bare tokens.

use alloc::string::String;
use alloc::vec::Vec;

use super::HandshakeError;
use super::headers::{is_tchar, is_token};

/// One element of a `Sec-WebSocket-Extensions` header: an extension a client offers, or one a
/// server accepts, with its parameters in order. Parameter values are stored unquoted.
///
/// The representation is generic: what the parameters mean is up to the extension (for
/// example permessage-deflate's `client_max_window_bits`). The same extension may be offered
/// several times with different parameters, in order of preference.
///
/// ```
/// use wsproto::handshake::{ExtensionOffer, format_extensions, parse_extensions};
///
/// let offers = parse_extensions([&b"permessage-deflate; client_max_window_bits, x-foo; a=\"1\""[..]]).unwrap();
/// assert_eq!(offers[0].name, "permessage-deflate");
/// assert_eq!(offers[0].param("client_max_window_bits"), Some(None));
/// assert_eq!(offers[1].param("a"), Some(Some("1")));
///
/// let offer = ExtensionOffer::new("permessage-deflate").with_param("server_max_window_bits", "10");
/// assert_eq!(format_extensions(&[offer]).unwrap(), "permessage-deflate; server_max_window_bits=10");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExtensionOffer {
    /// The extension's name (a token), such as `permessage-deflate`.
    pub name: String,
    /// The parameters in order: a name (a token) and an optional value (a token, unquoted).
    pub params: Vec<(String, Option<String>)>,
}

impl ExtensionOffer {
    /// An extension without parameters.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), params: Vec::new() }
    }

    /// Adds a parameter with a value (`name=value`).
    #[must_use]
    pub fn with_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), Some(value.into())));
        self
    }

    /// Adds a parameter without a value (`name`).
    #[must_use]
    pub fn with_flag(mut self, name: impl Into<String>) -> Self {
        self.params.push((name.into(), None));
        self
    }

    /// The first parameter named `name` (case-insensitive): `Some(Some(value))`, `Some(None)` for
    /// one without a value, `None` when absent.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_deref())
    }

    /// Whether this extension is named `name` (case-insensitive).
    #[must_use]
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// Parses one `Sec-WebSocket-Extensions` header value (a comma-separated list).
    ///
    /// # Errors
    /// [`HandshakeError::InvalidExtensions`] when the value does not follow the grammar, or holds
    /// no extension at all.
    pub fn parse_list(value: &[u8]) -> Result<Vec<Self>, HandshakeError> {
        parse_capped([value], Caps::NONE)
    }

    /// Appends this extension in header form (`name; param=value; flag`) to `out`.
    ///
    /// # Errors
    /// [`HandshakeError::InvalidInput`] when the name, a parameter name or a value is not a token.
    pub fn write_to(&self, out: &mut String) -> Result<(), HandshakeError> {
        self.validate()?;
        out.push_str(&self.name);
        for (name, value) in &self.params {
            out.push_str("; ");
            out.push_str(name);
            if let Some(value) = value {
                out.push('=');
                out.push_str(value);
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<(), HandshakeError> {
        if !is_token(self.name.as_bytes()) {
            return Err(HandshakeError::InvalidInput("extension name is not a token"));
        }
        for (name, value) in &self.params {
            if !is_token(name.as_bytes()) {
                return Err(HandshakeError::InvalidInput("extension parameter name is not a token"));
            }
            if value.as_ref().is_some_and(|v| !is_token(v.as_bytes())) {
                return Err(HandshakeError::InvalidInput("extension parameter value is not a token"));
            }
        }
        Ok(())
    }
}

impl core::fmt::Display for ExtensionOffer {
    /// The header form, `name; param=value; flag`, as written without validation.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.name)?;
        for (name, value) in &self.params {
            write!(f, "; {name}")?;
            if let Some(value) = value {
                write!(f, "={value}")?;
            }
        }
        Ok(())
    }
}

/// Parses every `Sec-WebSocket-Extensions` header line of a request or response into one list,
/// in order (several lines combine as one comma-separated list).
///
/// This holds every element found, however many; the handshake readers parse with caps
/// instead ([`MAX_EXTENSION_OFFERS`](super::MAX_EXTENSION_OFFERS) offers and
/// [`MAX_EXTENSION_PARAMS`](super::MAX_EXTENSION_PARAMS) parameters in a request).
///
/// # Errors
/// [`HandshakeError::InvalidExtensions`] when any line is malformed.
pub fn parse_extensions<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<ExtensionOffer>, HandshakeError> {
    parse_capped(lines, Caps::NONE)
}

/// How much one parse of extension lines may hold.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Caps {
    /// The most extensions held.
    pub(crate) offers: usize,
    /// The most parameters held, in all extensions together.
    pub(crate) params: usize,
    /// The error for one extension too many.
    pub(crate) too_many_offers: HandshakeError,
}

impl Caps {
    /// No cap.
    const NONE: Self =
        Self { offers: usize::MAX, params: usize::MAX, too_many_offers: err("too many extension offers") };
}

/// Parses every line into one list, holding at most what `caps` allow.
///
/// Past a cap nothing more is held, but the lines are still checked to the end, so a grammar
/// error anywhere is reported before the cap: the result is the same as parsing without caps
/// and checking the count afterwards, and the memory held is bounded by the caps (and by the
/// longest single token, transiently).
///
/// # Errors
/// [`HandshakeError::InvalidExtensions`] when a line is malformed; then `caps.too_many_offers`
/// for more than `caps.offers` extensions, or
/// `InvalidExtensions("too many extension parameters")` for more than `caps.params` parameters.
pub(crate) fn parse_capped<'a>(
    lines: impl IntoIterator<Item = &'a [u8]>,
    caps: Caps,
) -> Result<Vec<ExtensionOffer>, HandshakeError> {
    let mut sink = Sink { out: Vec::new(), params: 0, caps, over: None };
    for line in lines {
        Parser { s: line, pos: 0 }.list(&mut sink)?;
    }
    match sink.over {
        Some(e) => Err(e),
        None => Ok(sink.out),
    }
}

/// Where parsed extensions go, within the caps.
struct Sink {
    out: Vec<ExtensionOffer>,
    /// Parameters held so far, in all extensions.
    params: usize,
    caps: Caps,
    /// The first cap exceeded: from then on nothing more is held.
    over: Option<HandshakeError>,
}

impl Sink {
    /// Holds a parameter of the extension being parsed, if the caps allow.
    fn param(&mut self, params: &mut Vec<(String, Option<String>)>, param: (String, Option<String>)) {
        if self.over.is_some() {
            return;
        }
        if self.params >= self.caps.params {
            self.over = Some(err("too many extension parameters"));
            return;
        }
        self.params += 1;
        params.push(param);
    }

    /// Holds an extension, if the caps allow.
    fn offer(&mut self, name: String, mut params: Vec<(String, Option<String>)>) {
        if self.over.is_some() {
            return;
        }
        if self.out.len() >= self.caps.offers {
            self.over = Some(self.caps.too_many_offers);
            return;
        }
        // Parameter lists grow by doubling; hold only what they need.
        params.shrink_to_fit();
        self.out.push(ExtensionOffer { name, params });
    }
}

/// Writes a list of extensions as one `Sec-WebSocket-Extensions` value (`a; p=1, b`).
///
/// # Errors
/// [`HandshakeError::InvalidInput`] when a name, parameter name or value is not a token.
pub fn format_extensions(extensions: &[ExtensionOffer]) -> Result<String, HandshakeError> {
    let mut out = String::new();
    for (i, ext) in extensions.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        ext.write_to(&mut out)?;
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

const fn err(what: &'static str) -> HandshakeError {
    HandshakeError::InvalidExtensions(what)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        let t = self.s.get(start..self.pos)?;
        if t.is_empty() {
            return None;
        }
        // Token characters are ASCII.
        core::str::from_utf8(t).ok().map(String::from)
    }

    /// A quoted-string whose unescaped content must be a token.
    fn quoted(&mut self) -> Result<String, HandshakeError> {
        // The opening quote was seen.
        self.pos += 1;
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(err("unterminated quoted string")),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) if c == b'\t' || (c >= 0x20 && c != 0x7f) => value.push(c),
                        _ => return Err(err("invalid escape in quoted string")),
                    }
                    self.pos += 1;
                }
                Some(c) if c == b'\t' || (c >= 0x20 && c != 0x7f) => {
                    value.push(c);
                    self.pos += 1;
                }
                Some(_) => return Err(err("control character in quoted string")),
            }
        }
        if !is_token(&value) {
            return Err(err("quoted parameter value is not a token"));
        }
        String::from_utf8(value).map_err(|_| err("quoted parameter value is not a token"))
    }

    /// Parses a whole header value, handing its extensions to `sink`.
    fn list(&mut self, sink: &mut Sink) -> Result<(), HandshakeError> {
        let mut found = false;
        loop {
            self.skip_ows();
            match self.peek() {
                None => break,
                // Empty list elements are allowed and ignored (RFC 9110 §5.6.1).
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(_) => {}
            }
            let name = self.token().ok_or(err("expected an extension name"))?;
            let mut params = Vec::new();
            loop {
                self.skip_ows();
                match self.peek() {
                    None => break,
                    Some(b',') => {
                        self.pos += 1;
                        break;
                    }
                    Some(b';') => {
                        self.pos += 1;
                        self.skip_ows();
                        let pname = self.token().ok_or(err("expected a parameter name"))?;
                        self.skip_ows();
                        let value = if self.peek() == Some(b'=') {
                            self.pos += 1;
                            self.skip_ows();
                            Some(match self.peek() {
                                Some(b'"') => self.quoted()?,
                                _ => self.token().ok_or(err("expected a parameter value"))?,
                            })
                        } else {
                            None
                        };
                        sink.param(&mut params, (pname, value));
                    }
                    Some(_) => return Err(err("expected ';' or ','")),
                }
            }
            sink.offer(name, params);
            found = true;
        }
        if found { Ok(()) } else { Err(err("no extension in the header field")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn ext(name: &str, params: &[(&str, Option<&str>)]) -> ExtensionOffer {
        ExtensionOffer {
            name: name.into(),
            params: params.iter().map(|(n, v)| (String::from(*n), v.map(String::from))).collect(),
        }
    }

    #[test]
    fn parses_the_grammar() {
        let cases: &[(&[u8], Vec<ExtensionOffer>)] = &[
            (b"foo", vec![ext("foo", &[])]),
            (b"foo;a", vec![ext("foo", &[("a", None)])]),
            (b"foo; a=1; b", vec![ext("foo", &[("a", Some("1")), ("b", None)])]),
            (b" foo ; a = 1 ;b\t,\tbar ", vec![ext("foo", &[("a", Some("1")), ("b", None)]), ext("bar", &[])]),
            (b"foo; a=\"10\"", vec![ext("foo", &[("a", Some("10"))])]),
            (b"foo; a=\"1\\0\"", vec![ext("foo", &[("a", Some("10"))])]),
            (b"foo, foo; x", vec![ext("foo", &[]), ext("foo", &[("x", None)])]),
            (b",foo,,bar,", vec![ext("foo", &[]), ext("bar", &[])]),
            (
                b"permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate",
                vec![
                    ext(
                        "permessage-deflate",
                        &[("client_max_window_bits", None), ("server_max_window_bits", Some("10"))],
                    ),
                    ext("permessage-deflate", &[]),
                ],
            ),
        ];
        for (value, want) in cases {
            assert_eq!(&ExtensionOffer::parse_list(value).unwrap(), want, "{:?}", core::str::from_utf8(value));
        }
    }

    #[test]
    fn rejects_malformed() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "no extension in the header field"),
            (b" , ", "no extension in the header field"),
            (b";a", "expected an extension name"),
            (b"foo;", "expected a parameter name"),
            (b"foo; =1", "expected a parameter name"),
            (b"foo; a=", "expected a parameter value"),
            (b"foo; a=,", "expected a parameter value"),
            (b"foo bar", "expected ';' or ','"),
            (b"foo; a=1 2", "expected ';' or ','"),
            (b"foo; a=\"1", "unterminated quoted string"),
            (b"foo; a=\"a b\"", "quoted parameter value is not a token"),
            (b"foo; a=\"\"", "quoted parameter value is not a token"),
            (b"foo; a=\"\x01\"", "control character in quoted string"),
            (b"foo; a=\"x\\", "invalid escape in quoted string"),
            (b"f\xc3\xa9e", "expected ';' or ','"),
            (b"\xc3\xa9", "expected an extension name"),
            (b"foo; a=b=c", "expected ';' or ','"),
            (b"foo; a=\"1\"x", "expected ';' or ','"),
        ];
        for (value, what) in cases {
            assert_eq!(
                ExtensionOffer::parse_list(value),
                Err(HandshakeError::InvalidExtensions(what)),
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn lines_combine() {
        let got = parse_extensions([&b"a; x=1"[..], b"b, c"]).unwrap();
        assert_eq!(got, vec![ext("a", &[("x", Some("1"))]), ext("b", &[]), ext("c", &[])]);
        assert_eq!(parse_extensions([]).unwrap(), vec![]);
        assert!(parse_extensions([&b"a"[..], b""]).is_err());
    }

    #[test]
    fn writes_and_round_trips() {
        let list = vec![
            ExtensionOffer::new("permessage-deflate")
                .with_flag("client_max_window_bits")
                .with_param("server_max_window_bits", "10"),
            ExtensionOffer::new("x"),
        ];
        let s = format_extensions(&list).unwrap();
        assert_eq!(s, "permessage-deflate; client_max_window_bits; server_max_window_bits=10, x");
        assert_eq!(ExtensionOffer::parse_list(s.as_bytes()).unwrap(), list);
        assert_eq!(format_extensions(&[]).unwrap(), "");
        assert_eq!(list[0].param("SERVER_max_window_bits"), Some(Some("10")));
        assert_eq!(list[0].param("nope"), None);
        assert!(list[0].is("PERMESSAGE-DEFLATE"));
    }

    #[test]
    fn writer_rejects_non_tokens() {
        for bad in [
            ExtensionOffer::new(""),
            ExtensionOffer::new("a b"),
            ExtensionOffer::new("a").with_flag("b;c"),
            ExtensionOffer::new("a").with_param("b", "1 2"),
            ExtensionOffer::new("a").with_param("b", ""),
            ExtensionOffer::new("a\r\nX: y"),
        ] {
            assert!(matches!(format_extensions(&[bad]), Err(HandshakeError::InvalidInput(_))));
        }
    }
}
