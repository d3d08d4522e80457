//! HTTP heads: the request and response types (parsed from or written as HTTP/1.1, and the
//! responses of extended CONNECT), the response writer, and the buffer that gathers an HTTP/1.1
//! head arriving in pieces.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::HandshakeError;
use super::headers::{Headers, is_field_value};
use crate::{BufferTooSmall, OutBuf};

/// An HTTP/1.x request head as received by [`ServerHandshake`](super::ServerHandshake).
///
/// A request that is not a WebSocket upgrade is handed back as
/// [`ServerStatus::Http`](super::ServerStatus::Http), so one port can serve plain HTTP too.
/// (Named so as not to clash with `http::Request`.)
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpRequest {
    /// The method, such as `GET`.
    pub method: String,
    /// The request target, such as `/chat?room=1`.
    pub path: String,
    /// The minor HTTP version: `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub version: u8,
    /// Every header line, in order.
    pub headers: Headers,
    /// Where the bytes after the head start, as an offset into the input of the
    /// [`feed`](super::ServerHandshake::feed) call that completed the request: a body, a
    /// pipelined request, or WebSocket frames sent without waiting for the 101 response.
    pub leftover: usize,
}

/// An HTTP response: received by a client ([`ClientStatus`](super::ClientStatus)), or built by a
/// server to answer a request (a rejection, a plain HTTP answer, or an error's ready-made
/// response). (Named so as not to clash with `http::Response`.)
///
/// Over extended CONNECT (HTTP/2 and HTTP/3, [`extended_connect`](super::extended_connect)) it
/// is the status and the regular fields that the caller's HTTP stack sends or received:
/// `headers` then holds no pseudo-header field (the status is `status`), and `reason` plays no
/// part.
///
/// ```
/// use wsproto::handshake::HttpResponse;
/// let response = HttpResponse::new(403).with_header("Content-Type", "text/plain").with_body("go away");
/// let mut out = Vec::new();
/// response.write(&mut out).unwrap();
/// assert_eq!(
///     out,
///     b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\ngo away"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpResponse {
    /// The status code, such as `101` or `404`.
    pub status: u16,
    /// The reason phrase, such as `Not Found` (may be empty).
    pub reason: String,
    /// Every header line (over extended CONNECT: every regular field), in order.
    pub headers: Headers,
    /// The body. In a received response: the body bytes that arrived with the head (compare
    /// with its `Content-Length` and read the rest from the transport yourself). In a response
    /// to write: the whole body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with `status`, its usual reason phrase, no headers and no body.
    #[must_use]
    pub fn new(status: u16) -> Self {
        Self { status, reason: String::from(reason_phrase(status)), headers: Headers::new(), body: Vec::new() }
    }

    /// 426 Upgrade Required, with `Upgrade: websocket`, `Connection: Upgrade` and
    /// `Sec-WebSocket-Version: 13`: the answer to a plain HTTP request on a WebSocket-only
    /// endpoint (what the adapters send; RFC 6455 §4.2.2 and RFC 9110 §15.5.22).
    ///
    /// ```
    /// let response = wsproto::handshake::HttpResponse::upgrade_required();
    /// assert_eq!(response.status, 426);
    /// assert_eq!(response.headers.get("upgrade"), Some(&b"websocket"[..]));
    /// ```
    #[must_use]
    pub fn upgrade_required() -> Self {
        Self::new(426)
            .with_header("Upgrade", "websocket")
            .with_header("Connection", "Upgrade")
            .with_header("Sec-WebSocket-Version", "13")
    }

    /// Replaces the reason phrase.
    #[must_use]
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = reason.into();
        self
    }

    /// Adds a header line.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push(name, value);
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Writes the status line, the headers and the body into `out`.
    ///
    /// A `Content-Length` header is added unless the headers already have `Content-Length` or
    /// `Transfer-Encoding`, or the status is 1xx, 204 or 304.
    ///
    /// # Errors
    /// [`HandshakeError::InvalidInput`] for a status outside 100–999, or a reason phrase or header
    /// that cannot be written; [`HandshakeError::BufferTooSmall`] when a fixed buffer cannot hold
    /// the response. Nothing is written on error.
    pub fn write(&self, out: &mut impl OutBuf) -> Result<(), HandshakeError> {
        let bytes = self.to_bytes()?;
        write_all(out, &bytes)
    }

    /// The bytes of the whole response.
    pub(crate) fn to_bytes(&self) -> Result<Vec<u8>, HandshakeError> {
        let mut buf = Vec::with_capacity(128 + self.body.len());
        self.write_head_into(&mut buf, &Headers::new())?;
        buf.extend_from_slice(&self.body);
        Ok(buf)
    }

    /// Writes the status line, `first` (headers the crate sets), the caller's headers, the
    /// automatic `Content-Length` and the blank line.
    pub(crate) fn write_head_into(&self, buf: &mut Vec<u8>, first: &Headers) -> Result<(), HandshakeError> {
        if !(100..=999).contains(&self.status) {
            return Err(HandshakeError::InvalidInput("status code outside 100-999"));
        }
        if !is_field_value(self.reason.as_bytes()) {
            return Err(HandshakeError::InvalidInput("reason phrase contains a control character"));
        }
        first.validate()?;
        self.headers.validate()?;
        buf.extend_from_slice(b"HTTP/1.1 ");
        push_decimal(buf, usize::from(self.status));
        buf.push(b' ');
        buf.extend_from_slice(self.reason.as_bytes());
        buf.extend_from_slice(b"\r\n");
        first.write_into(buf);
        self.headers.write_into(buf);
        let bodyless = self.status < 200 || self.status == 204 || self.status == 304;
        if !bodyless && !self.headers.contains("Content-Length") && !self.headers.contains("Transfer-Encoding") {
            buf.extend_from_slice(b"Content-Length: ");
            push_decimal(buf, self.body.len());
            buf.extend_from_slice(b"\r\n");
        }
        buf.extend_from_slice(b"\r\n");
        Ok(())
    }
}

/// Appends `bytes` to `out` as one all-or-nothing write.
pub(crate) fn write_all(out: &mut impl OutBuf, bytes: &[u8]) -> Result<(), HandshakeError> {
    out.reserve(bytes.len()).map_err(|full| match full {
        crate::Full::TooSmall(too_small) => too_small,
        // A bounded queue that refuses now cannot take the head either: the same answer.
        _ => BufferTooSmall { required: bytes.len() },
    })?;
    out.append(bytes);
    Ok(())
}

/// Appends `n` in decimal.
pub(crate) fn push_decimal(buf: &mut Vec<u8>, n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// The usual reason phrase for a status code (RFC 9110 §15), or `""` for one without.
#[must_use]
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// The most empty lines accepted before the request or status line. RFC 9112 §2.2 asks a
/// server to ignore at least one; more is [`HandshakeError::MalformedHttp`] (status 400).
pub(crate) const MAX_LEADING_EMPTY_LINES: usize = 8;

/// Gathers an HTTP head that arrives in pieces, up to a size limit, and parses it a bounded
/// number of times however it is cut.
///
/// Every byte is looked at once, as it arrives. The head is handed to the parser only when its
/// first line (the request or status line) ends, when one line more than the header limit
/// allows has ended, when an empty line has ended (the head can be complete), or when the
/// buffer is full: at most twice for a head that fits, never once per line or per read. The
/// parser is given the bytes up to that point, so the outcome does not depend on how the input
/// was cut. Empty lines before the first line are counted here, not by the parser, and at most
/// [`MAX_LEADING_EMPTY_LINES`] are accepted.
#[derive(Clone, Debug)]
pub(crate) struct HeadBuffer {
    buf: Vec<u8>,
    limit: usize,
    /// Where the first line starts, once a byte other than an empty line's has arrived.
    start: Option<usize>,
    /// Empty lines before the first line.
    empty_lines: usize,
    /// Lines ended since `start`.
    lines: usize,
    /// Parse attempts since the buffer was made.
    #[cfg(test)]
    parses: usize,
}

impl HeadBuffer {
    pub(crate) const fn new(limit: usize) -> Self {
        Self {
            buf: Vec::new(),
            limit,
            start: None,
            empty_lines: 0,
            lines: 0,
            #[cfg(test)]
            parses: 0,
        }
    }

    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// Appends `bytes` (as much as the limit allows) and, when the head can have ended or can be
    /// judged, parses it with `parse` (given the head without leading empty lines and
    /// `max_headers`). Returns `None` while more bytes are needed, or the parsed head and the
    /// offset into `bytes` where the bytes after it start.
    ///
    /// After a result or an error the buffer is empty again and holds no memory.
    ///
    /// # Errors
    /// The parser's error; [`HandshakeError::HeadTooLarge`] when the buffer is full and the head
    /// has not ended; [`HandshakeError::MalformedHttp`] for more than
    /// [`MAX_LEADING_EMPTY_LINES`] empty lines before the head.
    pub(crate) fn feed<T>(
        &mut self,
        bytes: &[u8],
        max_headers: usize,
        parse: impl FnOnce(&[u8], usize) -> Result<Parsed<T>, HandshakeError>,
    ) -> Result<Option<(T, usize)>, HandshakeError> {
        let before = self.buf.len();
        match self.step(bytes, max_headers, parse) {
            Ok(None) => Ok(None),
            Ok(Some((value, len))) => {
                self.reset();
                Ok(Some((value, len.saturating_sub(before).min(bytes.len()))))
            }
            Err(e) => {
                self.reset();
                Err(e)
            }
        }
    }

    fn step<T>(
        &mut self,
        bytes: &[u8],
        max_headers: usize,
        parse: impl FnOnce(&[u8], usize) -> Result<Parsed<T>, HandshakeError>,
    ) -> Result<Option<(T, usize)>, HandshakeError> {
        let before = self.append(bytes);
        let full = self.buf.len() >= self.limit;
        let Some(upto) = self.scan(before, max_headers)?.or(full.then_some(self.buf.len())) else {
            return Ok(None);
        };
        // A full buffer is parsed whole: the last line may hold the error.
        let upto = if full { self.buf.len() } else { upto };
        let start = self.start.unwrap_or(upto);
        #[cfg(test)]
        {
            self.parses += 1;
        }
        match parse(self.buf.get(start..upto).unwrap_or_default(), max_headers)? {
            Parsed::Complete(value, len) => Ok(Some((value, start + len))),
            Parsed::Partial if full => Err(HandshakeError::HeadTooLarge { limit: self.limit }),
            Parsed::Partial => Ok(None),
        }
    }

    /// Appends as much of `bytes` as the limit allows; returns how many bytes were held before.
    fn append(&mut self, bytes: &[u8]) -> usize {
        let before = self.buf.len();
        let room = self.limit.saturating_sub(before);
        let taken = bytes.get(..room.min(bytes.len())).unwrap_or_default();
        let need = before + taken.len();
        if need > self.buf.capacity() {
            // Grow by doubling, but never past the limit: a head read byte by byte holds at
            // most `limit` bytes of capacity, not the next power of two above it.
            let target = need.max(self.buf.capacity() * 2).max(256).min(self.limit);
            self.buf.reserve_exact(target - before);
        }
        self.buf.extend_from_slice(taken);
        before
    }

    /// Looks at the bytes from `from` on, once each. Returns how far to parse when a point worth
    /// parsing at was reached: the end of the first line, the end of the line one past
    /// `max_headers` header lines, or (where the scan stops) the end of an empty line.
    fn scan(&mut self, from: usize, max_headers: usize) -> Result<Option<usize>, HandshakeError> {
        let mut upto = None;
        let too_many = max_headers.saturating_add(2);
        for (i, &b) in self.buf.iter().enumerate().skip(from) {
            let back = |n: usize| i.checked_sub(n).and_then(|j| self.buf.get(j)).copied();
            let Some(_) = self.start else {
                // Empty lines before the head: LF or CRLF, nothing else.
                match b {
                    b'\n' => {
                        self.empty_lines += 1;
                        if self.empty_lines > MAX_LEADING_EMPTY_LINES {
                            return Err(HandshakeError::MalformedHttp("too many empty lines before the head"));
                        }
                    }
                    _ if back(1) == Some(b'\r') => return Err(HandshakeError::MalformedHttp("invalid line ending")),
                    b'\r' => {}
                    _ => self.start = Some(i),
                }
                continue;
            };
            if b != b'\n' {
                continue;
            }
            self.lines += 1;
            // The first line is not empty, so a LF before this one (alone or before a CR) ends a
            // line of the head, and this one an empty line: the end of the head.
            if back(1) == Some(b'\n') || (back(1) == Some(b'\r') && back(2) == Some(b'\n')) {
                return Ok(Some(i + 1));
            }
            if self.lines == 1 || self.lines == too_many {
                upto = Some(i + 1);
            }
        }
        Ok(upto)
    }

    /// Empties the buffer and gives its memory back.
    fn reset(&mut self) {
        *self = Self {
            buf: Vec::new(),
            limit: self.limit,
            start: None,
            empty_lines: 0,
            lines: 0,
            #[cfg(test)]
            parses: self.parses,
        };
    }
}

/// What parsing the buffered bytes found.
pub(crate) enum Parsed<T> {
    /// The head has not ended yet.
    Partial,
    /// The head and its length in bytes.
    Complete(T, usize),
}

fn map_httparse(e: httparse::Error, max_headers: usize) -> HandshakeError {
    match e {
        httparse::Error::TooManyHeaders => HandshakeError::TooManyHeaders { limit: max_headers },
        httparse::Error::HeaderName => HandshakeError::MalformedHttp("invalid header name"),
        httparse::Error::HeaderValue => HandshakeError::MalformedHttp("invalid header value"),
        httparse::Error::NewLine => HandshakeError::MalformedHttp("invalid line ending"),
        httparse::Error::Status => HandshakeError::MalformedHttp("invalid status line"),
        httparse::Error::Token => HandshakeError::MalformedHttp("invalid request line"),
        httparse::Error::Version => HandshakeError::MalformedHttp("invalid HTTP version"),
    }
}

/// The parsed header lines, owned, in a list of exactly their number.
fn own_headers(parsed: &[httparse::Header<'_>]) -> Headers {
    let mut headers = Headers::with_capacity(parsed.len());
    for h in parsed {
        headers.push(h.name, h.value);
    }
    headers
}

/// How many header slots to give httparse: the limit, but never more than `buf` can hold (a
/// header line takes at least 3 bytes, `a:\n`), so a huge limit allocates nothing extra.
fn header_slots(buf: &[u8], max_headers: usize) -> usize {
    max_headers.min(buf.len() / 3 + 1)
}

/// Parses a request head from `buf`.
pub(crate) fn parse_request(buf: &[u8], max_headers: usize) -> Result<Parsed<HttpRequest>, HandshakeError> {
    let mut headers = vec![httparse::EMPTY_HEADER; header_slots(buf, max_headers)];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Partial) => Ok(Parsed::Partial),
        Ok(httparse::Status::Complete(n)) => Ok(Parsed::Complete(
            HttpRequest {
                method: String::from(req.method.unwrap_or_default()),
                path: String::from(req.path.unwrap_or_default()),
                version: req.version.unwrap_or_default(),
                headers: own_headers(req.headers),
                leftover: 0,
            },
            n,
        )),
        Err(e) => Err(map_httparse(e, max_headers)),
    }
}

/// Parses a response head from `buf`; the result's `version` is the minor HTTP version.
pub(crate) fn parse_response(buf: &[u8], max_headers: usize) -> Result<Parsed<(HttpResponse, u8)>, HandshakeError> {
    let mut headers = vec![httparse::EMPTY_HEADER; header_slots(buf, max_headers)];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(buf) {
        Ok(httparse::Status::Partial) => Ok(Parsed::Partial),
        Ok(httparse::Status::Complete(n)) => Ok(Parsed::Complete(
            (
                HttpResponse {
                    status: resp.code.unwrap_or_default(),
                    reason: String::from(resp.reason.unwrap_or_default()),
                    headers: own_headers(resp.headers),
                    body: Vec::new(),
                },
                resp.version.unwrap_or_default(),
            ),
            n,
        )),
        Err(e) => Err(map_httparse(e, max_headers)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SliceBuf;
    use alloc::format;

    #[test]
    fn decimal() {
        for (n, s) in [(0usize, "0"), (7, "7"), (10, "10"), (65536, "65536"), (usize::MAX, "18446744073709551615")] {
            let mut v = Vec::new();
            push_decimal(&mut v, n);
            if usize::BITS == 64 || n != usize::MAX {
                assert_eq!(v, s.as_bytes());
            }
        }
    }

    #[test]
    fn response_writing() {
        let mut out = Vec::new();
        HttpResponse::new(204).with_header("X", "y").write(&mut out).unwrap();
        assert_eq!(out, b"HTTP/1.1 204 No Content\r\nX: y\r\n\r\n");
        let mut out = Vec::new();
        HttpResponse::new(299).with_header("Content-Length", "3").with_body("abc").write(&mut out).unwrap();
        assert_eq!(out, b"HTTP/1.1 299 \r\nContent-Length: 3\r\n\r\nabc");
        assert_eq!(
            HttpResponse::new(99).write(&mut Vec::new()),
            Err(HandshakeError::InvalidInput("status code outside 100-999"))
        );
        assert_eq!(
            HttpResponse::new(200).with_reason("OK\r\nX: y").write(&mut Vec::new()),
            Err(HandshakeError::InvalidInput("reason phrase contains a control character"))
        );
        assert_eq!(
            HttpResponse::new(200).with_header("X", "a\nb").write(&mut Vec::new()),
            Err(HandshakeError::InvalidInput("header value contains a control character"))
        );
        let mut small = [0u8; 10];
        let mut buf = SliceBuf::new(&mut small);
        assert_eq!(
            HttpResponse::new(200).write(&mut buf),
            Err(HandshakeError::BufferTooSmall(BufferTooSmall { required: 38 }))
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn head_buffer_caps() {
        let mut b = HeadBuffer::new(4);
        assert!(matches!(b.feed(b"GE", 4, parse_request), Ok(None)));
        assert_eq!(b.buf, b"GE");
        assert_eq!(b.feed(b"T /zzz", 4, parse_request).err(), Some(HandshakeError::HeadTooLarge { limit: 4 }));
        // Empty again, holding no memory, same limit.
        assert_eq!((b.buf.len(), b.buf.capacity(), b.limit), (0, 0, 4));
        assert!(matches!(b.feed(b"GET", 4, parse_request), Ok(None)));
    }

    #[test]
    fn head_buffer_capacity_never_exceeds_the_limit() {
        for limit in [1, 255, 256, 257, 5000, 8192, 16 * 1024 + 1] {
            let mut b = HeadBuffer::new(limit);
            for _ in 0..limit + 10 {
                b.append(b"x");
                assert!(b.buf.capacity() <= limit, "limit {limit}: {}", b.buf.capacity());
            }
            assert_eq!(b.buf.len(), limit);
        }
        let mut b = HeadBuffer::new(1000);
        b.append(&[b'y'; 600]);
        b.append(&[b'y'; 600]);
        assert_eq!(b.buf.capacity(), 1000);
        // Byte by byte through `feed`: the buffer is full at the limit, never above.
        let mut b = HeadBuffer::new(300);
        for _ in 0..299 {
            assert!(matches!(b.feed(b"a", 64, parse_request), Ok(None)));
            assert!(b.buf.capacity() <= 300);
        }
        assert_eq!(b.feed(b"a", 64, parse_request).err(), Some(HandshakeError::HeadTooLarge { limit: 300 }));
    }

    /// A head of exactly `len` bytes: `first` line, then `lines` header lines sharing the rest,
    /// then the empty line.
    fn head(first: &str, len: usize, lines: usize) -> Vec<u8> {
        let mut head = Vec::from(first.as_bytes());
        let room = len - head.len() - 2;
        for i in 0..lines {
            let this = if i + 1 == lines { room - room / lines * (lines - 1) } else { room / lines };
            let name = format!("X-{i}: ");
            head.extend_from_slice(name.as_bytes());
            head.resize(head.len() + this - name.len() - 2, b'v');
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        assert_eq!(head.len(), len);
        head
    }

    /// Feeds `bytes` in pieces of `piece` bytes until a result; returns it, the offset of the
    /// bytes after the head (from the start of `bytes`), and the parse attempts made.
    fn feed_pieces<T>(
        b: &mut HeadBuffer,
        bytes: &[u8],
        piece: usize,
        max_headers: usize,
        parse: fn(&[u8], usize) -> Result<Parsed<T>, HandshakeError>,
    ) -> (Result<Option<(T, usize)>, HandshakeError>, usize) {
        let parses = b.parses;
        let mut pos = 0;
        for chunk in bytes.chunks(piece.max(1)) {
            match b.feed(chunk, max_headers, parse) {
                Ok(None) => pos += chunk.len(),
                Ok(Some((value, leftover))) => return (Ok(Some((value, pos + leftover))), b.parses - parses),
                Err(e) => return (Err(e), b.parses - parses),
            }
        }
        (Ok(None), b.parses - parses)
    }

    #[test]
    fn a_maximal_head_byte_by_byte_is_parsed_at_most_twice() {
        // Server: 8 KiB requests, client: 16 KiB responses, with few and many header lines. Byte
        // by byte: once when the first line ends, once when the empty line ends. Whole: once.
        for lines in [1, 8, 63] {
            let request = head("GET /chat HTTP/1.1\r\n", 8192, lines);
            for (piece, parses) in [(1, 2), (7, 2), (8192, 1)] {
                let mut b = HeadBuffer::new(8192);
                let (got, n) = feed_pieces(&mut b, &request, piece, 64, parse_request);
                let Ok(Some((r, end))) = got else { panic!("{lines} lines, pieces of {piece}: {got:?}") };
                assert_eq!((r.headers.len(), end, n), (lines, 8192, parses), "{lines} lines, pieces of {piece}");
            }
            let response = head("HTTP/1.1 101 Switching Protocols\r\n", 16 * 1024, lines);
            for (piece, parses) in [(1, 2), (1000, 2), (16 * 1024, 1)] {
                let mut b = HeadBuffer::new(16 * 1024);
                let (got, n) = feed_pieces(&mut b, &response, piece, 64, parse_response);
                let Ok(Some(((r, 1), end))) = got else { panic!("{lines} lines, pieces of {piece}: {got:?}") };
                assert_eq!((r.status, end, n), (101, 16 * 1024, parses), "{lines} lines, pieces of {piece}");
            }
        }
        // No header limit and 2,700 three-byte lines: still twice.
        let mut many = Vec::from(&b"GET / HTTP/1.1\r\n"[..]);
        while many.len() < 8190 {
            many.extend_from_slice(b"a:\n");
        }
        many.extend_from_slice(b"\n");
        let mut b = HeadBuffer::new(8192);
        let (got, n) = feed_pieces(&mut b, &many, 1, usize::MAX, parse_request);
        assert!(matches!(got, Ok(Some((ref r, _))) if r.headers.len() == 2725), "{got:?}");
        assert_eq!(n, 2);
    }

    #[test]
    fn a_head_that_never_ends_is_parsed_twice() {
        // The first line, then nothing until the buffer is full.
        let mut request = head("GET / HTTP/1.1\r\n", 8194, 40);
        request.truncate(8192);
        let mut b = HeadBuffer::new(8192);
        let (got, n) = feed_pieces(&mut b, &request, 1, 64, parse_request);
        assert_eq!((got.err(), n), (Some(HandshakeError::HeadTooLarge { limit: 8192 }), 2));
        // A first line that never ends: once, when full.
        let mut status_line = Vec::from(&b"HTTP/1.1 101 "[..]);
        status_line.resize(16 * 1024, b'a');
        let mut b = HeadBuffer::new(16 * 1024);
        let (got, n) = feed_pieces(&mut b, &status_line, 1, 64, parse_response);
        assert_eq!((got.err(), n), (Some(HandshakeError::HeadTooLarge { limit: 16 * 1024 }), 1));
    }

    #[test]
    fn leading_empty_lines_never_reach_the_parser() {
        for (bytes, limit) in [(&b"\n"[..], 8192), (b"\r\n", 8192), (b"\n", 16 * 1024)] {
            let flood = bytes.repeat(limit / bytes.len());
            for piece in [1, 2, 3, limit] {
                let mut b = HeadBuffer::new(limit);
                let (got, n) = feed_pieces(&mut b, &flood, piece, 64, parse_request);
                assert_eq!(got.err(), Some(HandshakeError::MalformedHttp("too many empty lines before the head")));
                assert_eq!(n, 0);
            }
        }
        // Eight are skipped, and the head's length counts them.
        let mut request = b"\r\n\n".repeat(4);
        request.extend_from_slice(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest");
        for piece in [1, 2, 5, request.len()] {
            let mut b = HeadBuffer::new(8192);
            let (got, n) = feed_pieces(&mut b, &request, piece, 64, parse_request);
            let Ok(Some((r, end))) = got else { panic!("{got:?}") };
            assert_eq!((r.path.as_str(), &request[end..], n), ("/", &b"rest"[..], if piece == 1 { 2 } else { n }));
        }
    }

    #[test]
    fn any_cut_gives_the_same_outcome() {
        let mut heads: Vec<Vec<u8>> = [
            &b"GET / HTTP/1.1\r\nHost: a\r\n\r\nnext"[..],
            b"GET / HTTP/1.1\nHost: a\n\n",
            b"\r\nGET / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/9.1\r\nHost: a",
            b"GET / HTTP/1.1\r\nBad Name: 1\r\nX: y\r\n",
            b"GET / HTTP/1.1\r\nBad Name: 1\r\nX: y\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5",
            b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n",
            b"GET / HTTP/1.1\r\nA: 1\rB: 2\r\n\r\n",
            b"\r\r\nGET / HTTP/1.1\r\n\r\n",
            b"\n\n\n\n\n\n\n\n\n",
            b"\n\n\n\n\n\n\n\nGET",
            b"G\nET / HTTP/1.1\r\n\r\n",
        ]
        .iter()
        .map(|h| h.to_vec())
        .collect();
        heads.push(head("GET / HTTP/1.1\r\n", 300, 5));
        for h in &heads {
            let whole = feed_pieces(&mut HeadBuffer::new(64), h, h.len(), 4, parse_request).0;
            for piece in 1..h.len() {
                let cut = feed_pieces(&mut HeadBuffer::new(64), h, piece, 4, parse_request).0;
                assert_eq!(cut, whole, "{:?} in pieces of {piece}", String::from_utf8_lossy(h));
            }
        }
    }

    #[test]
    fn huge_header_limits_allocate_nothing_extra() {
        assert_eq!(header_slots(b"", usize::MAX), 1);
        assert_eq!(header_slots(&[b'x'; 30], usize::MAX), 11);
        assert_eq!(header_slots(&[b'x'; 30], 4), 4);
        assert!(matches!(parse_request(b"GET / HTTP/1.1\r\na:\nb:\nc:\n\r\n", usize::MAX), Ok(Parsed::Complete(..))));
        assert!(matches!(parse_response(b"HTTP/1.1 200 OK\na:1\nb:2\n\n", usize::MAX), Ok(Parsed::Complete(..))));
    }

    #[test]
    fn parse_errors_map() {
        assert!(matches!(parse_request(b"GET / HTTP/1.1\r\nHost: a\r\n", 4), Ok(Parsed::Partial)));
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", 1).err(),
            Some(HandshakeError::TooManyHeaders { limit: 1 })
        );
        assert_eq!(
            parse_request(b"GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n", 4).err(),
            Some(HandshakeError::MalformedHttp("invalid header name"))
        );
        assert_eq!(
            parse_request(b"GET / HTTP/9.1\r\n\r\n", 4).err(),
            Some(HandshakeError::MalformedHttp("invalid HTTP version"))
        );
        assert_eq!(
            parse_response(b"HTTP/1.1 abc OK\r\n\r\n", 4).err(),
            Some(HandshakeError::MalformedHttp("invalid status line"))
        );
        match parse_response(b"HTTP/1.1 404 Not Found\r\nA: b\r\n\r\nbody", 4) {
            Ok(Parsed::Complete((r, 1), n)) => {
                assert_eq!((r.status, r.reason.as_str(), n), (404, "Not Found", 32));
                assert_eq!(r.headers.get("a"), Some(&b"b"[..]));
            }
            _ => panic!(),
        }
    }
}
