//! Shared code for the in-memory comparison (`benches/workloads.rs`) and the profiling driver
//! (`src/bin/driver.rs`): the workloads, one decoder and one encoder per crate, and in-memory
//! streams.
//!
//! Every decoder reads exactly the workload's messages, checks each message's kind, counts
//! messages and payload bytes, and returns the totals; callers assert them after every
//! iteration. [`verify_all`] additionally checks every delivered payload byte once, outside the
//! timed loops.
//!
//! Copies: our crate unmasks in place, so each iteration first restores the masked bytes from
//! a pristine copy (`work.copy_from_slice(wire)`) and that copy is *inside* the timed region.
//! The other crates read from a [`MemStream`] over the pristine bytes, which copies them into
//! the crate's own read buffer: every crate pays exactly one copy of the input per iteration,
//! as each would pay one `read()` copy from a socket.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wsproto::{
    Config, Connection, Event, KeySource, Message, MessageAssembler, MessageKind, ReceiveBuffer, Role,
    SliceReceiveBuffer,
};

/// One workload: `count` messages of `payload`, masked by a client.
pub struct Workload {
    /// Short name (`W1` … `W5`).
    pub name: &'static str,
    /// Number of messages.
    pub count: usize,
    /// The payload of every message.
    pub payload: Vec<u8>,
    /// Whether the messages are text.
    pub text: bool,
    /// The masked frames as a client sends them (the same bytes for every crate).
    pub wire: Vec<u8>,
}

impl Workload {
    /// Builds the workload and its masked input once, with our client and a seeded key source.
    #[must_use]
    pub fn new(name: &'static str, count: usize, payload: Vec<u8>, text: bool) -> Self {
        let wire = client_stream(count, &payload, text);
        Self { name, count, payload, text, wire }
    }

    /// Total payload bytes.
    #[must_use]
    pub fn payload_bytes(&self) -> usize {
        self.count * self.payload.len()
    }

    /// The totals a correct decoder must report.
    #[must_use]
    pub fn expected(&self) -> Totals {
        Totals { messages: self.count, bytes: self.payload_bytes() }
    }

    /// Asserts `t` are this workload's totals.
    pub fn check(&self, t: Totals) {
        assert_eq!(t, self.expected(), "{}: wrong totals", self.name);
    }
}

/// W1–W4 (decode) and W5 (encode), as in the issue.
#[must_use]
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload::new("W1", 100_000, binary_payload(16), false),
        Workload::new("W2", 10_000, binary_payload(1024), false),
        Workload::new("W3", 100, binary_payload(1 << 20), false),
        Workload::new("W4", 10_000, mixed_text(1024).into_bytes(), true),
        Workload::new("W5", 10_000, binary_payload(1024), false),
    ]
}

/// A payload that is not all one byte, so that a wrong mask phase shows up in [`verify_all`].
#[must_use]
pub fn binary_payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8).collect()
}

/// Mixed UTF-8 (1-, 2-, 3- and 4-byte sequences), the same text as `benches/micro.rs`.
#[must_use]
pub fn mixed_text(len: usize) -> String {
    let pieces = ["hello ", "wörld ", "€uro ", "日本語 ", "🦀 ", "plain ascii text "];
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        s.push_str(pieces[i % pieces.len()]);
        i += 1;
    }
    while s.len() > len {
        s.pop();
    }
    s
}

/// Masked frames as our client sends them (seeded keys: the same bytes on every run).
#[must_use]
pub fn client_stream(count: usize, payload: &[u8], text: bool) -> Vec<u8> {
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(9));
    let mut wire = Vec::new();
    for _ in 0..count {
        if text {
            client.send_text(std::str::from_utf8(payload).unwrap(), &mut wire).unwrap();
        } else {
            client.send_binary(payload, &mut wire).unwrap();
        }
    }
    wire
}

/// Messages and payload bytes delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Whole messages.
    pub messages: usize,
    /// Payload bytes.
    pub bytes: usize,
}

fn kind_ok(text: bool, kind: MessageKind) -> bool {
    kind == if text { MessageKind::Text } else { MessageKind::Binary }
}

// ---------------------------------------------------------------------------------------------
// Our crate.

/// Our server over the whole buffer with the borrowed streaming API: restores the masked bytes
/// into `work` (the one copy), then `Connection::receive` until all input is consumed.
/// `seen` is called with every piece of payload (for [`verify_all`]).
pub fn ours_decode(wire: &[u8], work: &mut [u8], text: bool, mut seen: impl FnMut(&[u8], bool)) -> Totals {
    work.copy_from_slice(wire);
    ours_decode_in_place(work, text, &mut seen)
}

/// As [`ours_decode`] without the restore copy: decodes `work` as it is. For binary payloads
/// the work is the same whatever the bytes are (unmasking is a data-independent XOR, and
/// unmasking twice gives the masked bytes back), so repeated calls on the same buffer measure
/// the decoder alone. Not for text (the second pass would see masked bytes).
pub fn ours_decode_in_place(work: &mut [u8], text: bool, mut seen: impl FnMut(&[u8], bool)) -> Totals {
    let mut server = Connection::new(Role::Server, Config::new());
    let mut t = Totals::default();
    let mut pos = 0;
    loop {
        let r = server.receive(&mut work[pos..]).expect("valid input");
        pos += r.consumed;
        match r.event {
            Some(Event::Data { kind, data, last, .. }) => {
                assert!(kind_ok(text, kind));
                seen(data, last);
                t.bytes += data.len();
                t.messages += usize::from(last);
            }
            Some(other) => panic!("unexpected {other:?}"),
            None => break,
        }
    }
    t
}

/// Our server reading the input in `buf.len()`-byte chunks, as the tokio adapter does with its
/// 64 KiB read buffer: copy a chunk (the `read()`), decode it in place, repeat. Large messages
/// are delivered in pieces (streaming); nothing is reassembled.
pub fn ours_decode_chunked(wire: &[u8], buf: &mut [u8], text: bool, mut seen: impl FnMut(&[u8], bool)) -> Totals {
    let mut server = Connection::new(Role::Server, Config::new());
    let mut t = Totals::default();
    let mut rest = wire;
    while !rest.is_empty() {
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        rest = &rest[n..];
        let mut pos = 0;
        loop {
            let r = server.receive(&mut buf[pos..n]).expect("valid input");
            pos += r.consumed;
            match r.event {
                Some(Event::Data { kind, data, last, .. }) => {
                    assert!(kind_ok(text, kind));
                    seen(data, last);
                    t.bytes += data.len();
                    t.messages += usize::from(last);
                }
                Some(other) => panic!("unexpected {other:?}"),
                // Everything consumed (a partial header is kept inside the connection).
                None => break,
            }
        }
    }
    t
}

/// Whole messages the way `MessageAssembler`'s docs show: read `buf.len()` bytes at a time
/// (the `read()` copy), `Connection::receive` until consumed, and `MessageAssembler::push` for
/// whole messages. A message split by a read boundary is gathered in the assembler's buffer.
pub fn ours_assemble_chunked(wire: &[u8], buf: &mut [u8], text: bool, mut seen: impl FnMut(&[u8], bool)) -> Totals {
    let mut server = Connection::new(Role::Server, Config::new());
    let mut assembler = MessageAssembler::new();
    let mut t = Totals::default();
    let mut rest = wire;
    while !rest.is_empty() {
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        rest = &rest[n..];
        let mut pos = 0;
        loop {
            let r = server.receive(&mut buf[pos..n]).expect("valid input");
            pos += r.consumed;
            let Some(event) = r.event else { break };
            let data = match assembler.push(event).expect("valid input") {
                None => continue,
                Some(Message::Binary(b)) if !text => b,
                Some(Message::Text(s)) if text => s.as_bytes(),
                Some(other) => panic!("unexpected {other:?}"),
            };
            seen(data, true);
            t.bytes += data.len();
            t.messages += 1;
        }
    }
    t
}

/// Whole messages through the public receive buffer (`ReceiveBuffer`), fed by reads of at most
/// `read` bytes (the `read()` copy into `free_space()`), taken with `next_message`. `rb` is
/// reused from iteration to iteration, as a server reuses its buffers; it is idle between
/// iterations (everything consumed).
pub fn ours_receive_buffer(
    wire: &[u8],
    rb: &mut ReceiveBuffer,
    read: usize,
    text: bool,
    mut seen: impl FnMut(&[u8], bool),
) -> Totals {
    let mut server = Connection::new(Role::Server, Config::new());
    let mut t = Totals::default();
    let mut rest = wire;
    loop {
        while let Some(message) = rb.next_message(&mut server).expect("valid input") {
            let data = match message {
                Message::Binary(b) if !text => b,
                Message::Text(s) if text => s.as_bytes(),
                other => panic!("unexpected {other:?}"),
            };
            seen(data, true);
            t.bytes += data.len();
            t.messages += 1;
        }
        if rest.is_empty() {
            return t;
        }
        let free = rb.free_space();
        let n = rest.len().min(free.len()).min(read);
        free[..n].copy_from_slice(&rest[..n]);
        rb.filled(n);
        rest = &rest[n..];
    }
}

/// As [`ours_receive_buffer`] over a fixed buffer of the caller's (`SliceReceiveBuffer`, no
/// allocation): `storage` must hold the largest message plus a read.
pub fn ours_slice_buffer(
    wire: &[u8],
    storage: &mut [u8],
    read: usize,
    text: bool,
    mut seen: impl FnMut(&[u8], bool),
) -> Totals {
    let mut server = Connection::new(Role::Server, Config::new());
    let mut rb = SliceReceiveBuffer::new(storage);
    let mut t = Totals::default();
    let mut rest = wire;
    loop {
        while let Some(message) = rb.next_message(&mut server).expect("valid input") {
            let data = match message {
                Message::Binary(b) if !text => b,
                Message::Text(s) if text => s.as_bytes(),
                other => panic!("unexpected {other:?}"),
            };
            seen(data, true);
            t.bytes += data.len();
            t.messages += 1;
        }
        if rest.is_empty() {
            return t;
        }
        let free = rb.free_space();
        let n = rest.len().min(free.len()).min(read);
        free[..n].copy_from_slice(&rest[..n]);
        rb.filled(n);
        rest = &rest[n..];
    }
}

/// Our client encoding `count` messages with `send_binary` into `out`, which is handed to the
/// transport (counted and dropped, like [`MemStream`]'s writes) and cleared whenever it holds
/// `flush_at` bytes or more, and at the end. Returns the bytes written.
///
/// With `flush_at` = 128 KiB (tungstenite's default write buffer) the output stays in cache, as
/// the peers' outputs do; `usize::MAX` keeps the whole output in `out` (10 MB for W5).
pub fn ours_encode(conn: &mut Connection, payload: &[u8], count: usize, out: &mut Vec<u8>, flush_at: usize) -> usize {
    out.clear();
    let mut written = 0;
    for _ in 0..count {
        conn.send_binary(payload, out).unwrap();
        if out.len() >= flush_at {
            written += std::hint::black_box(&*out).len();
            out.clear();
        }
    }
    written + std::hint::black_box(&*out).len()
}

/// The size of the fixed buffer of the `wsproto-slice-buffer-64k` row: the largest message
/// (1 MiB) plus a 64 KiB read and its frame header.
pub const SLICE_BUFFER: usize = (1 << 20) + 64 * 1024 + 14;

/// The write-side flush threshold used for our W5 row (tungstenite's default write buffer).
pub const OUT_FLUSH: usize = 128 * 1024;

/// Copies `wire` through a `buf.len()`-byte buffer, piece by piece: the copy part of
/// [`ours_decode_chunked`] alone (the floor for any decoder that reads through such a buffer).
pub fn memcpy_chunked(wire: &[u8], buf: &mut [u8]) {
    for piece in wire.chunks(buf.len()) {
        buf[..piece.len()].copy_from_slice(piece);
        std::hint::black_box(&mut *buf);
    }
}

// ---------------------------------------------------------------------------------------------
// In-memory transports.

/// A transport whose reads copy from `input` (as a socket read copies from the kernel) and
/// whose writes are counted and dropped.
pub struct MemStream<'a> {
    input: &'a [u8],
    pos: usize,
    /// Bytes written.
    pub written: usize,
    /// When set, written bytes are kept here (verification only; the timed runs drop them).
    pub capture: Option<Vec<u8>>,
}

impl<'a> MemStream<'a> {
    /// A stream that will read `input`.
    #[must_use]
    pub fn new(input: &'a [u8]) -> Self {
        Self { input, pos: 0, written: 0, capture: None }
    }

    /// A write-only stream that keeps what is written (for verification).
    #[must_use]
    pub fn capturing() -> Self {
        Self { input: &[], pos: 0, written: 0, capture: Some(Vec::new()) }
    }

    fn wrote(&mut self, buf: &[u8]) {
        self.written += buf.len();
        if let Some(c) = self.capture.as_mut() {
            c.extend_from_slice(buf);
        }
    }

    /// Whether all input was read.
    #[must_use]
    pub fn drained(&self) -> bool {
        self.pos == self.input.len()
    }

    fn read_into(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.input.len() - self.pos);
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        n
    }
}

impl io::Read for MemStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.read_into(buf))
    }
}

impl io::Write for MemStream<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.wrote(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for MemStream<'_> {
    fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let n = buf.remaining().min(self.input.len() - self.pos);
        let pos = self.pos;
        buf.put_slice(&self.input[pos..pos + n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemStream<'_> {
    fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.wrote(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut n = 0;
        for b in bufs {
            self.wrote(b);
            n += b.len();
        }
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// CPU time consumed by the calling thread (`CLOCK_THREAD_CPUTIME_ID`). The machine this was
/// written for has two cores shared with other jobs: wall-clock time includes the time the
/// benchmark thread waits for the core, CPU time does not. Every crate runs on the calling thread
/// (the async ones on a current-thread runtime), so this covers all their work.
#[must_use]
pub fn thread_cpu_time() -> std::time::Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-pointer for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The runtime that drives the async crates: current-thread, no I/O driver needed.
#[must_use]
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().unwrap()
}

// ---------------------------------------------------------------------------------------------
// tungstenite 0.30: `WebSocket` over a blocking in-memory stream, server role.

/// tungstenite server reading `count` messages.
pub fn tungstenite_decode(wire: &[u8], count: usize, text: bool, mut seen: impl FnMut(&[u8], bool)) -> Totals {
    use tungstenite::Message;
    use tungstenite::protocol::{Role as TRole, WebSocket};
    let mut ws = WebSocket::from_raw_socket(MemStream::new(wire), TRole::Server, None);
    let mut t = Totals::default();
    for _ in 0..count {
        let data = match ws.read().expect("valid input") {
            Message::Binary(b) if !text => b,
            Message::Text(s) if text => s.into(),
            other => panic!("unexpected {other:?}"),
        };
        seen(&data, true);
        t.bytes += data.len();
        t.messages += 1;
    }
    assert!(ws.get_ref().drained());
    t
}

/// tungstenite client writing `count` binary messages (masked), then flushing.
pub fn tungstenite_encode(payload: &bytes::Bytes, count: usize, sink: MemStream<'static>) -> MemStream<'static> {
    use tungstenite::Message;
    use tungstenite::protocol::{Role as TRole, WebSocket};
    let mut ws = WebSocket::from_raw_socket(sink, TRole::Client, None);
    for _ in 0..count {
        ws.write(Message::Binary(payload.clone())).unwrap();
    }
    ws.flush().unwrap();
    ws.into_inner()
}

// ---------------------------------------------------------------------------------------------
// fastwebsockets 0.10: `WebSocket::after_handshake`, server role.

/// fastwebsockets server with `FragmentCollector` (whole messages, continuation rules checked:
/// the API its docs give for spec-compliant message reading).
pub async fn fastwebsockets_decode(wire: &[u8], count: usize, text: bool, mut seen: impl FnMut(&[u8], bool)) -> Totals {
    use fastwebsockets::{FragmentCollector, OpCode, Role as FRole, WebSocket};
    let mut ws = FragmentCollector::new(WebSocket::after_handshake(MemStream::new(wire), FRole::Server));
    let mut t = Totals::default();
    for _ in 0..count {
        let frame = ws.read_frame().await.expect("valid input");
        assert!(frame.fin && frame.opcode == if text { OpCode::Text } else { OpCode::Binary });
        seen(&frame.payload, true);
        t.bytes += frame.payload.len();
        t.messages += 1;
    }
    assert!(ws.into_inner().drained());
    t
}

/// fastwebsockets server with the raw frame reader `WebSocket::read_frame` (no fragment
/// collection, so no continuation-sequence checks; text frames are still validated).
pub async fn fastwebsockets_decode_raw(
    wire: &[u8],
    count: usize,
    text: bool,
    mut seen: impl FnMut(&[u8], bool),
) -> Totals {
    use fastwebsockets::{OpCode, Role as FRole, WebSocket};
    let mut ws = WebSocket::after_handshake(MemStream::new(wire), FRole::Server);
    let mut t = Totals::default();
    for _ in 0..count {
        let frame = ws.read_frame().await.expect("valid input");
        assert!(frame.fin && frame.opcode == if text { OpCode::Text } else { OpCode::Binary });
        seen(&frame.payload, true);
        t.bytes += frame.payload.len();
        t.messages += 1;
    }
    assert!(ws.into_inner().drained());
    t
}

/// fastwebsockets client writing `count` binary frames. The payload is masked in place, so
/// each frame gets its own copy in a reused scratch buffer (`Payload::BorrowedMut`; a
/// `Payload::Borrowed` would allocate a copy per frame instead).
pub async fn fastwebsockets_encode(
    payload: &[u8],
    count: usize,
    scratch: &mut [u8],
    sink: MemStream<'static>,
) -> MemStream<'static> {
    use fastwebsockets::{Frame, Payload, Role as FRole, WebSocket};
    let mut ws = WebSocket::after_handshake(sink, FRole::Client);
    for _ in 0..count {
        scratch.copy_from_slice(payload);
        ws.write_frame(Frame::binary(Payload::BorrowedMut(&mut *scratch))).await.unwrap();
    }
    ws.flush().await.unwrap();
    ws.into_inner()
}

/// fastwebsockets client as a plain user writes it: `Payload::Borrowed` (copied and masked by
/// the crate, one allocation per frame).
pub async fn fastwebsockets_encode_borrowed(
    payload: &[u8],
    count: usize,
    sink: MemStream<'static>,
) -> MemStream<'static> {
    use fastwebsockets::{Frame, Payload, Role as FRole, WebSocket};
    let mut ws = WebSocket::after_handshake(sink, FRole::Client);
    for _ in 0..count {
        ws.write_frame(Frame::binary(Payload::Borrowed(payload))).await.unwrap();
    }
    ws.flush().await.unwrap();
    ws.into_inner()
}

// ---------------------------------------------------------------------------------------------
// tokio-websockets 0.13: `ServerBuilder::serve` / `ClientBuilder::take_over`.

/// tokio-websockets server reading `count` messages.
pub async fn tokio_websockets_decode(
    wire: &[u8],
    count: usize,
    text: bool,
    mut seen: impl FnMut(&[u8], bool),
) -> Totals {
    let mut ws = tokio_websockets::ServerBuilder::new().serve(MemStream::new(wire));
    let mut t = Totals::default();
    for _ in 0..count {
        let msg = ws.next().await.expect("a message").expect("valid input");
        if text {
            let s = msg.as_text().expect("text");
            seen(s.as_bytes(), true);
            t.bytes += s.len();
        } else {
            assert!(msg.is_binary());
            let p = msg.as_payload();
            seen(p, true);
            t.bytes += p.len();
        }
        t.messages += 1;
    }
    assert!(ws.get_ref().drained());
    t
}

/// tokio-websockets client: `feed` every message (flushing when 8 KiB are queued, its default),
/// then `flush`.
pub async fn tokio_websockets_encode(
    payload: &bytes::Bytes,
    count: usize,
    sink: MemStream<'static>,
) -> MemStream<'static> {
    let mut ws = tokio_websockets::ClientBuilder::new().take_over(sink);
    for _ in 0..count {
        ws.feed(tokio_websockets::Message::binary(payload.clone())).await.unwrap();
    }
    ws.flush().await.unwrap();
    ws.into_inner()
}

// ---------------------------------------------------------------------------------------------
// Verification.

/// A decoder run with a callback that sees every delivered piece (`data`, `last`).
type Run<'a> = dyn FnMut(&mut dyn FnMut(&[u8], bool)) -> Totals + 'a;

/// Checks, once and outside any timing, that every decoder delivers every payload byte of every
/// message of `w` correctly.
pub fn verify_all(w: &Workload) {
    let rt = runtime();
    let check = |name: &str, run: &mut Run<'_>| {
        let mut msg = Vec::new();
        let mut whole = 0;
        let t = run(&mut |piece: &[u8], last: bool| {
            msg.extend_from_slice(piece);
            if last {
                assert!(msg == w.payload, "{name}: {}: wrong payload", w.name);
                msg.clear();
                whole += 1;
            }
        });
        assert_eq!(whole, w.count, "{name}: {}", w.name);
        assert_eq!(t, w.expected(), "{name}: {}", w.name);
    };
    let mut work = vec![0; w.wire.len()];
    check("ours", &mut |f| ours_decode(&w.wire, &mut work, w.text, f));
    let mut buf = vec![0; 64 * 1024];
    check("ours-chunked", &mut |f| ours_decode_chunked(&w.wire, &mut buf, w.text, f));
    check("ours-assembler", &mut |f| ours_assemble_chunked(&w.wire, &mut buf, w.text, f));
    let mut rb = ReceiveBuffer::new();
    check("ours-receive-buffer", &mut |f| ours_receive_buffer(&w.wire, &mut rb, 64 * 1024, w.text, f));
    // Odd read sizes too: frames cut anywhere.
    check("ours-receive-buffer-odd", &mut |f| ours_receive_buffer(&w.wire, &mut rb, 1000, w.text, f));
    let mut storage = vec![0; SLICE_BUFFER];
    check("ours-slice-buffer", &mut |f| ours_slice_buffer(&w.wire, &mut storage, 64 * 1024, w.text, f));
    check("tungstenite", &mut |f| tungstenite_decode(&w.wire, w.count, w.text, f));
    check("fastwebsockets", &mut |f| rt.block_on(fastwebsockets_decode(&w.wire, w.count, w.text, f)));
    check("fastwebsockets-raw", &mut |f| rt.block_on(fastwebsockets_decode_raw(&w.wire, w.count, w.text, f)));
    check("tokio-websockets", &mut |f| rt.block_on(tokio_websockets_decode(&w.wire, w.count, w.text, f)));
}

/// Checks that every encoder's output is the workload's messages, masked: decodes it with our
/// server and compares every payload.
pub fn verify_encoders(w: &Workload) {
    let rt = runtime();
    let check = |name: &str, mut wire: Vec<u8>| {
        assert_eq!(wire.len(), w.wire.len(), "{name}: same frame layout as our client");
        assert_ne!(wire, w.payload, "{name}: masked");
        let t = ours_decode_in_place(&mut wire, false, |d, last| assert!(last && d == w.payload, "{name}"));
        assert_eq!(t, w.expected(), "{name}");
    };
    let mut conn = Connection::new(Role::Client, Config::new());
    let mut out = Vec::new();
    ours_encode(&mut conn, &w.payload, w.count, &mut out, usize::MAX);
    check("ours", out.clone());
    assert_eq!(ours_encode(&mut conn, &w.payload, w.count, &mut out, OUT_FLUSH), w.wire.len());
    let bytes = bytes::Bytes::from(w.payload.clone());
    let cap = |s: MemStream<'static>| s.capture.unwrap();
    check("tungstenite", cap(tungstenite_encode(&bytes, w.count, MemStream::capturing())));
    let mut scratch = w.payload.clone();
    check(
        "fastwebsockets",
        cap(rt.block_on(fastwebsockets_encode(&w.payload, w.count, &mut scratch, MemStream::capturing()))),
    );
    check(
        "fastwebsockets-borrowed",
        cap(rt.block_on(fastwebsockets_encode_borrowed(&w.payload, w.count, MemStream::capturing()))),
    );
    check("tokio-websockets", cap(rt.block_on(tokio_websockets_encode(&bytes, w.count, MemStream::capturing()))));
}
