//! Writes the committed seed corpus: a handful of small, meaningful inputs per fuzz target,
//! named `seed-*` under `fuzz/corpus/<target>/` (the fuzzer's own finds are not committed).
//!
//! ```sh
//! cd fuzz && cargo run --example seeds            # every target
//! cd fuzz && cargo run --example seeds -- utf8    # one target
//! ```
//!
//! Frames, requests, responses and compressed payloads are made by the crate itself, so the
//! seeds stay valid as the crate changes. The structured inputs of `connection_ops`,
//! `roundtrip` and `timers` are written in `arbitrary`'s byte format and checked by decoding them
//! again; each `timers` seed is also run, and must make the timer it was written for fire.

use std::fs;
use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use wsproto::Timer;
use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use wsproto::handshake::ClientRequest;
use wsproto::{CloseCode, CloseFrame, Config, Connection, KeySource, MessageKind, Role};
use wsproto_fuzz::timers::{PeerAct, TimerOp, TimersInput, TimersOutcome};
use wsproto_fuzz::{
    CodeSel, ConfigSel, DeflateSel, FrameSpec, Msg, Op, OpsInput, PeerOp, RoundtripInput, WireChecker, WriteOp,
    raw_frame,
};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut total = 0;
    for (target, seeds) in [
        ("frame_decode", frame_decode()),
        ("utf8", utf8()),
        ("server_request", server_request()),
        ("http_differential", http_differential()),
        ("client_response", client_response()),
        ("inflate", inflate()),
        ("connection_ops", connection_ops()),
        ("roundtrip", roundtrip()),
        ("timers", timers()),
        ("receive_buffer", receive_buffer()),
    ] {
        // `cargo run --example seeds -- TARGET` writes one target's seeds only.
        if std::env::args().nth(1).is_some_and(|only| only != target) {
            continue;
        }
        let dir = root.join(target);
        fs::create_dir_all(&dir).unwrap();
        // Replace the seeds, leave anything else (a local fuzzing corpus) alone.
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("seed-")) {
                fs::remove_file(path).unwrap();
            }
        }
        for (name, bytes) in &seeds {
            let path: PathBuf = dir.join(format!("seed-{name}"));
            fs::write(&path, bytes).unwrap();
        }
        println!("{target}: {} seeds", seeds.len());
        total += seeds.len();
    }
    println!("{total} seeds written under {}", root.display());
}

type Seeds = Vec<(&'static str, Vec<u8>)>;

fn deflate() -> PerMessageDeflate {
    PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new().min_size(0))
}

/// What `conn` writes for `f`.
fn written(conn: &mut Connection, f: impl FnOnce(&mut Connection, &mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    f(conn, &mut out);
    out
}

fn frame_decode() -> Seeds {
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(1));
    let mut server = Connection::new(Role::Server, Config::new());
    // Server input: what a client writes (masked).
    let mut chat = written(&mut client, |c, o| {
        c.send_text("Hello", o).unwrap();
        c.send_fragment(MessageKind::Text, "frag".as_bytes(), false, o).unwrap();
        c.ping(b"are you there", o).unwrap();
        c.send_fragment(MessageKind::Text, "mented é".as_bytes(), true, o).unwrap();
        c.send_binary(&[7; 300], o).unwrap();
        c.pong(b"", o).unwrap();
        c.close(CloseFrame::new(CloseCode::NORMAL, "bye"), o).unwrap();
    });
    chat.insert(0, 0x00);
    // Client input: what a server writes (unmasked), including a 64-bit length.
    let mut from_server = written(&mut server, |c, o| {
        c.send_binary(&[1; 300][..], o).unwrap();
        c.ping(b"p", o).unwrap();
        c.send_text("done", o).unwrap();
        c.close(CloseFrame::new(CloseCode(4000), "app"), o).unwrap();
    });
    from_server.insert(0, 0x01);
    // A 64-bit length (70 000 bytes), of which the first few arrive.
    let mut long_frame = vec![0x01, 0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70];
    long_frame.extend_from_slice(b"the start of a long payload");
    // RFC 6455 §5.7 masked "Hello", to a server with small limits, split byte by byte.
    let rfc = [0x28, 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58].to_vec();
    // RFC 7692 §7.2.3.1 compressed "Hello" to a client with deflate, then the same message in
    // two frames, and an empty compressed message.
    let mut compressed = vec![0x01 | 0x10];
    compressed.extend_from_slice(&[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    compressed.extend_from_slice(&[0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00]);
    compressed.extend_from_slice(&[0xc1, 0x01, 0x00]);
    // A server with deflate reading a compressed message from our own client.
    let mut deflating =
        Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(2)).with_deflate(deflate());
    let mut compressed_in = written(&mut deflating, |c, o| {
        c.send_text(&"compressible text ".repeat(20), o).unwrap();
        c.send_text("é€😀", o).unwrap();
    });
    compressed_in.insert(0, 0x10 | 0x80);
    // Rule breakers: a reserved opcode, a non-minimal length, a fragmented ping, a flood of
    // empty continuation frames past the small limits' 8 fragments, bad UTF-8 across frames.
    let mut flood = vec![0x09];
    raw_frame(&mut flood, false, 0, 0x2, None, b"x");
    for _ in 0..10 {
        raw_frame(&mut flood, false, 0, 0x0, None, b"");
    }
    let mut bad_utf8 = vec![0x01];
    raw_frame(&mut bad_utf8, false, 0, 0x1, None, &[b'a', 0xe2, 0x82]);
    raw_frame(&mut bad_utf8, true, 0, 0x0, None, &[0x41]);
    vec![
        ("server-chat", chat),
        ("client-from-server", from_server),
        ("client-64-bit-length", long_frame),
        ("rfc-masked-hello", rfc),
        ("rfc7692-compressed", compressed),
        ("server-compressed", compressed_in),
        ("reserved-opcode", vec![0x00, 0x83, 0x80, 1, 2, 3, 4]),
        ("non-minimal-length", vec![0x01, 0x82, 0x7e, 0x00, 0x05, 1, 2, 3, 4, 5]),
        ("fragmented-ping", vec![0x01, 0x09, 0x00]),
        ("top-bit-length", vec![0x01, 0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1]),
        ("fragment-flood", flood),
        ("bad-utf8-split", bad_utf8),
    ]
}

fn utf8() -> Seeds {
    let with = |sel: u8, bytes: &[u8]| [&[sel][..], bytes].concat();
    vec![
        ("ascii", with(0, b"Hello, WebSocket")),
        ("multibyte-bytewise", with(1, "κόσμε € 😀 ü".as_bytes())),
        ("multibyte-pieces", with(2, "Привет, мир! 你好，世界 🌍🌎🌏".as_bytes())),
        ("surrogate", with(1, b"ok \xed\xa0\x80 no")),
        ("overlong", with(2, b"\xc0\xaf\xe0\x80\xaf")),
        ("beyond-max", with(1, b"\xf4\x90\x80\x80")),
        ("truncated-end", with(3, b"abc\xe2\x82")),
        ("bad-continuation", with(2, b"\xce\x41\xf0\x9f\x98")),
    ]
}

const REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\n\
    Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n";

fn server_request() -> Seeds {
    let with = |sel: u8, text: &str| [&[sel][..], text.as_bytes()].concat();
    let mut ours = Vec::new();
    ClientRequest::new("ws://localhost:9001/path?q=1")
        .unwrap()
        .with_key_source(KeySource::seeded(4))
        .with_deflate(DeflateConfig::new().client_no_context_takeover(true).server_max_window_bits(Some(12)))
        .with_protocol("chat")
        .write(&mut ours)
        .unwrap();
    ours.extend_from_slice(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2]);
    ours.insert(0, 0x02);
    let deflate_offers = format!(
        "{REQUEST}Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits=10, \
         permessage-deflate; server_no_context_takeover, x-custom; a=\"b\"\r\n\r\n"
    );
    vec![
        ("rfc-request", with(0, &format!("{REQUEST}\r\n"))),
        ("rfc-request-pieces", with(6, &format!("{REQUEST}\r\n"))),
        ("our-client-with-frame", ours),
        ("deflate-offers", with(4, &deflate_offers)),
        ("plain-http", with(0, "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\n\r\n")),
        ("post", with(0, "POST /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n")),
        (
            "bad-key",
            with(2, &format!("{}\r\n", REQUEST.replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZR=="))),
        ),
        ("too-large", with(1, &format!("{REQUEST}X-Filler: {}\r\n\r\n", "a".repeat(300)))),
        ("version-8", with(0, &format!("{}\r\n", REQUEST.replace("Version: 13", "Version: 8")))),
    ]
}

/// Request heads (no selector byte): our client's, with each offer, and refused ones.
fn http_differential() -> Seeds {
    let mut ours = Vec::new();
    ClientRequest::new("ws://localhost:9001/path?q=1")
        .unwrap()
        .with_key_source(KeySource::seeded(5))
        .with_origin("http://localhost")
        .with_deflate(DeflateConfig::new().client_no_context_takeover(true).server_max_window_bits(Some(12)))
        .with_protocol("chat")
        .with_protocol("superchat")
        .with_header("Cookie", "a=1")
        .write(&mut ours)
        .unwrap();
    let offers = format!(
        "{REQUEST}Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits=10, \
         permessage-deflate; server_no_context_takeover\r\nSec-WebSocket-Extensions: x-custom; a=\"b\"\r\n\
         Sec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Protocol: c\r\n\r\n"
    );
    let text = |s: String| s.into_bytes();
    vec![
        ("rfc-request", text(format!("{REQUEST}\r\n"))),
        ("our-client", ours),
        ("offers", text(offers)),
        ("plain-http", text("GET /index.html HTTP/1.1\nHost: a\n\n".to_owned())),
        ("post", text("POST /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n".to_owned())),
        ("http-1-0", text(format!("{}\r\n", REQUEST.replace("HTTP/1.1", "HTTP/1.0")))),
        ("version-8", text(format!("{}\r\n", REQUEST.replace("Version: 13", "Version: 8")))),
        ("no-version", text(format!("{}\r\n", REQUEST.replace("Sec-WebSocket-Version: 13\r\n", "")))),
        ("two-keys", text(format!("{REQUEST}Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n"))),
        ("no-host", text(format!("{}\r\n", REQUEST.replace("Host: server.example.com\r\n", "")))),
    ]
}

fn client_response() -> Seeds {
    // The accept value for the key `KeySource::seeded(0)` draws.
    let hs = ClientRequest::new("ws://example.com/chat")
        .unwrap()
        .with_key_source(KeySource::seeded(0))
        .write(&mut Vec::new())
        .unwrap();
    let accept = hs.expected_accept();
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
    );
    let with = |sel: u8, bytes: &[u8]| [&[sel][..], bytes].concat();
    let frames = [0x81, 0x02, b'h', b'i', 0x89, 0x00, 0x88, 0x02, 0x03, 0xe8];
    vec![
        ("upgraded", with(0, format!("{head}\r\n").as_bytes())),
        ("upgraded-with-frames", with(0x10, &[format!("{head}\r\n").as_bytes(), &frames].concat())),
        ("protocol", with(0x02 | 0x01, b"Sec-WebSocket-Protocol: superchat\r\n\r\n")),
        (
            "deflate-default",
            with(
                0x04 | 0x01,
                &[&b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"[..], &[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]]
                    .concat(),
            ),
        ),
        (
            "deflate-server-bits",
            with(0x08 | 0x01, b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9; client_no_context_takeover\r\n\r\n"),
        ),
        (
            "deflate-client-bits",
            with(
                0x0c | 0x01,
                b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9; server_no_context_takeover\r\n\r\n",
            ),
        ),
        ("rejected", with(0x20, b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 5\r\n\r\nlogin")),
        ("wrong-accept", with(0x30, b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")),
        ("too-large", with(0x40 | 0x01, format!("X-Filler: {}\r\n\r\n", "a".repeat(300)).as_bytes())),
    ]
}

/// An inflate-target input: flags, scratch size, then records.
fn inflate_input(flags: u8, scratch: u16, records: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![flags];
    out.extend_from_slice(&scratch.to_le_bytes());
    for (kind, payload) in records {
        out.push(*kind);
        out.extend_from_slice(&(payload.len() as u16).to_le_bytes());
        out.extend_from_slice(payload);
    }
    out
}

/// The compressed payloads our own server writes for `messages`, one per message.
fn compressed(messages: &[&[u8]], reset: bool, level: u32) -> Vec<Vec<u8>> {
    let params = DeflateParams { server_no_context_takeover: reset, ..DeflateParams::DEFAULT };
    let mut server = Connection::new(Role::Server, Config::new().max_outgoing_frame(1 << 30))
        .with_deflate(PerMessageDeflate::new(params, &DeflateConfig::new().min_size(0).level(level)));
    let mut wire = WireChecker::new(Role::Server, true);
    messages
        .iter()
        .map(|m| {
            let mut out = Vec::new();
            server.send_binary(m, &mut out).unwrap();
            let frames = wire.push(&out);
            assert_eq!(frames.len(), 1);
            frames[0].payload.clone()
        })
        .collect()
}

fn inflate() -> Seeds {
    const FIN: u8 = 1;
    const CONT: u8 = 2;
    const TEXT: u8 = 4;
    const PLAIN: u8 = 8;
    const PING: u8 = 16;
    let text = "compress me, compress me, ünïcödé text 😀 ".repeat(8);
    let takeover = compressed(&[text.as_bytes(), text.as_bytes(), b""], false, 1);
    let reset = compressed(&[text.as_bytes(), text.as_bytes()], true, 1);
    // 256 KiB of zeros in a few hundred bytes: four times the 64 KiB limit.
    let bomb = compressed(&[&vec![0u8; 1 << 18]], false, 9);
    let (half_a, half_b) = takeover[0].split_at(takeover[0].len() / 2);
    vec![
        ("rfc7692-hello", inflate_input(0, 4095, &[(FIN | TEXT, vec![0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])])),
        (
            "context-takeover",
            inflate_input(
                0,
                7,
                &[(FIN | TEXT, takeover[0].clone()), (FIN | TEXT, takeover[1].clone()), (FIN, takeover[2].clone())],
            ),
        ),
        (
            "no-context-takeover",
            inflate_input(1 | 0x20, 3, &[(FIN | TEXT, reset[0].clone()), (FIN | TEXT, reset[1].clone())]),
        ),
        (
            "fragmented-with-ping",
            inflate_input(
                0x04,
                100,
                &[(TEXT, half_a.to_vec()), (PING, b"ping".to_vec()), (CONT | FIN, half_b.to_vec())],
            ),
        ),
        (
            "mixed-plain",
            inflate_input(0x08, 16, &[(FIN | PLAIN | TEXT, b"plain text".to_vec()), (FIN | TEXT, takeover[0].clone())]),
        ),
        ("bomb", inflate_input(0x0c, 4095, &[(FIN, bomb[0].clone())])),
        ("bomb-small-scratch", inflate_input(0x20, 0, &[(FIN, bomb[0].clone())])),
        ("garbage", inflate_input(0, 64, &[(FIN, vec![0xff, 0xff, 0xff, 0x00, 0x12, 0x34])])),
        ("after-final-block", inflate_input(0, 64, &[(FIN, vec![0x03, 0x00, 0x01, 0x02, 0x03])])),
    ]
}

/// Checks that `bytes` decode to `value` with `arbitrary`, as the fuzz target will read them.
fn checked<'a, T: Arbitrary<'a> + PartialEq + std::fmt::Debug>(value: &T, bytes: &'a [u8]) {
    let decoded = T::arbitrary_take_rest(Unstructured::new(bytes)).expect("the seed decodes");
    assert_eq!(&decoded, value, "the seed does not decode to what it was made from");
}

fn config(outgoing: u16) -> ConfigSel {
    ConfigSel { frame_limit: 0, message_limit: 0, fragments: 0, outgoing, no_auto_pong: false, no_auto_close: false }
}

fn ops_seed(input: OpsInput) -> Vec<u8> {
    let bytes = input.encode();
    checked(&input, &bytes);
    bytes
}

fn connection_ops() -> Seeds {
    use Op::*;
    let sel =
        DeflateSel { server_reset: false, client_reset: true, server_bits: 7, client_bits: 7, level: 1, min_size: 0 };
    let long = b"a message long enough to be worth compressing, a message long enough".to_vec();
    let conversation = vec![
        Peer { op: PeerOp::Text(b"hello".to_vec()), pieces: vec![3, 1] },
        Write(WriteOp::SendText(b"hi there".to_vec())),
        Peer { op: PeerOp::Ping(b"ping?".to_vec()), pieces: vec![] },
        Write(WriteOp::SendFragment { text: true, data: "caf\u{e9}".as_bytes()[..4].to_vec(), fin: false }),
        Write(WriteOp::Ping(b"mid".to_vec())),
        Write(WriteOp::SendFragment { text: true, data: "\u{e9}!".as_bytes()[1..].to_vec(), fin: true }),
        Peer { op: PeerOp::Fragment { text: false, data: long.clone(), fin: false }, pieces: vec![5] },
        Peer { op: PeerOp::Fragment { text: false, data: b"end".to_vec(), fin: true }, pieces: vec![] },
        Write(WriteOp::Close { code: CodeSel::Table(0), reason: b"bye".to_vec() }),
        Peer { op: PeerOp::Poll, pieces: vec![] },
        Write(WriteOp::SendBinary(b"too late".to_vec())),
    ];
    let hostile = vec![
        Feed { bytes: vec![0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58], pieces: vec![1, 2] },
        FeedFrame {
            frame: FrameSpec { fin: false, rsv: 0, opcode: 1, wrong_mask: false, payload: vec![0xce] },
            pieces: vec![],
        },
        FeedFrame {
            frame: FrameSpec { fin: true, rsv: 0, opcode: 9, wrong_mask: false, payload: vec![1] },
            pieces: vec![],
        },
        SmallBuf { cap: 4, op: WriteOp::PollTransmit },
        FeedFrame {
            frame: FrameSpec { fin: true, rsv: 0, opcode: 0, wrong_mask: false, payload: vec![0x41] },
            pieces: vec![],
        },
        SmallBuf { cap: 3, op: WriteOp::PollTransmit },
        Write(WriteOp::PollTransmit),
        Write(WriteOp::SendText(b"after failure".to_vec())),
        FeedEof,
    ];
    let compressed = vec![
        Peer { op: PeerOp::Binary(long.clone()), pieces: vec![7, 0, 9] },
        Write(WriteOp::SendBinary(long.clone())),
        Peer { op: PeerOp::Text(long.clone()), pieces: vec![] },
        Write(WriteOp::Send { text: true, data: long.clone() }),
        ReceiveWithoutScratch,
        Write(WriteOp::FrameHead { text: false, data: b"vectored".to_vec(), fin: true }),
        Peer { op: PeerOp::Close { code: CodeSel::Raw(4321), reason: b"done".to_vec() }, pieces: vec![2] },
        Write(WriteOp::PollTransmit),
        FeedEof,
    ];
    let misuse = vec![
        Write(WriteOp::SendFragment { text: false, data: b"open".to_vec(), fin: false }),
        Write(WriteOp::SendText(b"whole inside".to_vec())),
        Write(WriteOp::SendFragment { text: true, data: b"other kind".to_vec(), fin: true }),
        Write(WriteOp::Send { text: true, data: vec![0xff] }),
        Write(WriteOp::Ping(vec![0; 126])),
        Write(WriteOp::Close { code: CodeSel::Table(12), reason: vec![] }),
        SmallBuf { cap: 2, op: WriteOp::SendBinary(b"xyz".to_vec()) },
        Write(WriteOp::SendFragment { text: false, data: vec![], fin: true }),
        Peer { op: PeerOp::Close { code: CodeSel::None, reason: vec![] }, pieces: vec![] },
        Write(WriteOp::Pong(b"still open".to_vec())),
        Write(WriteOp::Close { code: CodeSel::None, reason: vec![] }),
    ];
    let no_auto = ConfigSel { no_auto_pong: true, no_auto_close: true, ..config(0) };
    let limits = ConfigSel { frame_limit: 16, message_limit: 40, fragments: 3, outgoing: 5, ..config(5) };
    vec![
        (
            "server-conversation",
            ops_seed(OpsInput {
                client: false,
                config: config(0),
                deflate: None,
                scratch: 0,
                ops: conversation.clone(),
            }),
        ),
        (
            "client-conversation",
            ops_seed(OpsInput { client: true, config: config(4), deflate: None, scratch: 0, ops: conversation }),
        ),
        (
            "server-hostile",
            ops_seed(OpsInput { client: false, config: config(0), deflate: None, scratch: 0, ops: hostile.clone() }),
        ),
        (
            "client-deflate",
            ops_seed(OpsInput {
                client: true,
                config: config(0),
                deflate: Some(sel),
                scratch: 6,
                ops: compressed.clone(),
            }),
        ),
        (
            "server-deflate",
            ops_seed(OpsInput {
                client: false,
                config: config(16),
                deflate: Some(sel),
                scratch: 4095,
                ops: compressed,
            }),
        ),
        (
            "client-misuse",
            ops_seed(OpsInput { client: true, config: no_auto, deflate: None, scratch: 0, ops: misuse.clone() }),
        ),
        ("server-limits", ops_seed(OpsInput { client: false, config: limits, deflate: None, scratch: 0, ops: misuse })),
        (
            "client-hostile-deflate",
            ops_seed(OpsInput { client: true, config: limits, deflate: Some(sel), scratch: 1, ops: hostile }),
        ),
    ]
}

fn roundtrip() -> Seeds {
    let text = "Hello, wörld! 😀 ".repeat(5).into_bytes();
    let messages = vec![
        Msg::Whole { text: true, data: text.clone() },
        Msg::Whole { text: false, data: vec![0, 1, 2, 255] },
        Msg::Send { text: true, data: b"sent".to_vec() },
        Msg::Fragments { text: true, data: text.clone(), cuts: vec![3, 1, 7], ping: true },
        Msg::Heads { text: false, data: (0..=255).collect(), cuts: vec![100] },
        Msg::Ping(b"ping".to_vec()),
        Msg::Pong(b"heartbeat".to_vec()),
        Msg::Whole { text: false, data: vec![] },
    ];
    let sel =
        DeflateSel { server_reset: true, client_reset: false, server_bits: 2, client_bits: 1, level: 6, min_size: 8 };
    let make = |deflate, toy, frame, scratch, close| {
        let input = RoundtripInput {
            deflate,
            toy,
            client_frame: frame,
            server_frame: frame,
            client_scratch: scratch,
            server_scratch: scratch,
            server_reads: vec![5, 1, 200],
            client_reads: vec![],
            close,
            to_server: messages.clone(),
            to_client: messages.iter().rev().cloned().collect(),
        };
        let bytes = input.encode();
        checked(&input, &bytes);
        bytes
    };
    vec![
        ("plain", make(None, None, 0, 0, Some((true, CodeSel::Table(0), b"bye".to_vec())))),
        ("plain-small-frames", make(None, None, 3, 0, Some((false, CodeSel::Raw(3001), vec![])))),
        ("deflate", make(Some(sel), None, 0, 4095, Some((false, CodeSel::None, vec![])))),
        ("deflate-small", make(Some(sel), None, 7, 2, None)),
        ("toy-extension", make(None, Some(0), 0, 4095, Some((true, CodeSel::Table(0), vec![])))),
        ("toy-extension-small", make(None, Some(4), 5, 1, None)),
        ("invalid-close-code", make(None, None, 0, 0, Some((true, CodeSel::Raw(1005), vec![])))),
    ]
}

/// A timer setting of `ms` milliseconds (1..=60 000), as `TimersInput` maps it.
fn timer_ms(ms: u16) -> Option<u16> {
    assert!((1..=60_000).contains(&ms));
    Some(ms - 1)
}

fn at(ms: u32) -> TimerOp {
    TimerOp::Time { ms, back: false, handle: false }
}

fn handle_at(ms: u32) -> TimerOp {
    TimerOp::Time { ms, back: false, handle: true }
}

/// Encodes a `timers` input, checks that it decodes, runs it and checks what fired.
fn timers_seed(input: TimersInput, expected: TimersOutcome) -> Vec<u8> {
    let bytes = input.encode();
    checked(&input, &bytes);
    let outcome = wsproto_fuzz::timers::run(&input);
    assert_eq!(outcome.fired, expected.fired, "{input:?}");
    assert_eq!(outcome.gave_up, expected.gave_up, "{input:?}");
    assert!(outcome.keepalive_pings >= expected.keepalive_pings, "{input:?}: {outcome:?}");
    bytes
}

fn timers() -> Seeds {
    use TimerOp::*;
    let base = TimersInput {
        client: false,
        no_timers: false,
        keepalive_interval: None,
        keepalive_timeout: None,
        close_timeout: None,
        idle_timeout: None,
        no_auto_pong: false,
        no_auto_close: false,
        epoch: 3_600_000,
        ops: Vec::new(),
    };
    let fired = |timer| TimersOutcome { fired: Some(timer), ..TimersOutcome::default() };
    // Data both ways, then silence: the idle deadline runs from our last message's stamp.
    let idle = TimersInput {
        idle_timeout: timer_ms(1_000),
        keepalive_interval: timer_ms(30_000),
        ops: vec![
            at(0),
            Peer(PeerAct::Text(b"hello".to_vec())),
            Deliver { len: 0, pieces: vec![3, 1] },
            at(500),
            SendText(b"hi".to_vec()),
            PeerRead,
            handle_at(400),
            handle_at(999),
            AtDeadline { early: true },
            AtDeadline { early: false },
            PollTransmit,
            PeerRead,
            handle_at(10),
        ],
        ..base.clone()
    };
    // A peer that answers the first keepalive Ping, then goes silent: pinged, declared dead.
    let keepalive = TimersInput {
        client: true,
        keepalive_interval: timer_ms(10_000),
        keepalive_timeout: timer_ms(5_000),
        ops: vec![
            handle_at(0),
            Peer(PeerAct::Ping(b"x".to_vec())),
            Deliver { len: 2, pieces: vec![] },
            Deliver { len: 0, pieces: vec![] },
            PollTransmit,
            at(3_000),
            AtDeadline { early: false },
            PollTransmit,
            PeerRead,
            Deliver { len: 0, pieces: vec![1] },
            handle_at(1_000),
            AtDeadline { early: false },
            PollTransmit,
            handle_at(4_000),
            AtDeadline { early: true },
            AtDeadline { early: false },
            TimerOp::Time { ms: 60_000, back: true, handle: true },
        ],
        ..base.clone()
    };
    // Our Close goes unanswered: the close handshake times out. The peer's data still counts
    // as activity meanwhile, and a time going backwards changes nothing.
    let close_handshake = TimersInput {
        keepalive_interval: timer_ms(1_000),
        close_timeout: timer_ms(2_000),
        ops: vec![
            handle_at(100),
            Close(CodeSel::Table(0)),
            handle_at(1_500),
            Peer(PeerAct::Binary(vec![1, 2, 3])),
            Deliver { len: 0, pieces: vec![2] },
            TimerOp::Time { ms: 5_000, back: true, handle: true },
            AtDeadline { early: true },
            AtDeadline { early: false },
            handle_at(1),
        ],
        ..base.clone()
    };
    // The peer's Close is not answered automatically (ClosingRemote): keepalive still runs.
    let closing_remote = TimersInput {
        no_auto_close: true,
        keepalive_interval: timer_ms(2_000),
        keepalive_timeout: timer_ms(1_000),
        idle_timeout: timer_ms(60_000),
        ops: vec![
            at(0),
            Peer(PeerAct::Close(CodeSel::Table(1))),
            Deliver { len: 0, pieces: vec![] },
            at(10),
            SendBinary(b"last words".to_vec()),
            AtDeadline { early: false },
            AtDeadline { early: false },
            PollTransmit,
            AtDeadline { early: false },
        ],
        ..base.clone()
    };
    // A client whose close handshake is done waits for the server to close the transport, and
    // gives up after close_timeout.
    let gives_up = TimersInput {
        client: true,
        close_timeout: timer_ms(3_000),
        idle_timeout: timer_ms(5_000),
        ops: vec![
            at(0),
            Close(CodeSel::Table(0)),
            at(100),
            PeerRead,
            handle_at(200),
            Deliver { len: 0, pieces: vec![1, 1, 1] },
            AtDeadline { early: true },
            AtDeadline { early: false },
            handle_at(70_000),
        ],
        ..base.clone()
    };
    // Settings that are ignored: no timer ever.
    let none = TimersInput {
        client: true,
        no_timers: true,
        keepalive_interval: timer_ms(1),
        close_timeout: timer_ms(1),
        ops: vec![
            handle_at(0),
            Peer(PeerAct::Text(b"tick".to_vec())),
            Deliver { len: 0, pieces: vec![] },
            handle_at(70_000),
            Close(CodeSel::Table(0)),
            handle_at(70_000),
            AtDeadline { early: false },
        ],
        ..base
    };
    vec![
        ("idle", timers_seed(idle, fired(Timer::Idle))),
        ("keepalive", timers_seed(keepalive, TimersOutcome { keepalive_pings: 2, ..fired(Timer::KeepAlive) })),
        ("close-handshake", timers_seed(close_handshake, fired(Timer::CloseHandshake))),
        (
            "closing-remote-keepalive",
            timers_seed(closing_remote, TimersOutcome { keepalive_pings: 1, ..fired(Timer::KeepAlive) }),
        ),
        ("client-gives-up", timers_seed(gives_up, TimersOutcome { gave_up: true, ..TimersOutcome::default() })),
        ("no-timers", timers_seed(none, TimersOutcome::default())),
    ]
}

/// `receive_buffer`: a flags byte (1: client, 2: deflate, 4: two steps), four read sizes, a
/// scratch-size byte, then the stream.
fn receive_buffer() -> Seeds {
    let head = |flags: u8, reads: [u8; 4], scratch: u8| {
        let mut h = vec![flags];
        h.extend_from_slice(&reads);
        h.push(scratch);
        h
    };
    let mut client =
        Connection::new(Role::Client, Config::new().max_outgoing_frame(40)).with_key_source(KeySource::seeded(4));
    let chat = written(&mut client, |c, o| {
        c.send_text("Hello, wörld", o).unwrap();
        c.send_fragment(MessageKind::Text, "frag".as_bytes(), false, o).unwrap();
        c.ping(b"are you there", o).unwrap();
        c.send_fragment(MessageKind::Text, "mented é".as_bytes(), true, o).unwrap();
        c.send_binary(&[7; 300], o).unwrap();
        c.pong(b"", o).unwrap();
        c.close(CloseFrame::new(CloseCode::NORMAL, "bye"), o).unwrap();
    });
    let mut server = Connection::new(Role::Server, Config::new());
    let from_server = written(&mut server, |c, o| {
        c.send_binary(&[1; 70_000][..], o).unwrap();
        c.send_text("done", o).unwrap();
    });
    let mut deflating =
        Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(2)).with_deflate(deflate());
    let compressed = written(&mut deflating, |c, o| {
        c.send_text(&"compressible text ".repeat(40), o).unwrap();
        c.send_binary(b"small", o).unwrap();
        c.send_text("é€😀", o).unwrap();
    });
    let mut bad_utf8 = Vec::new();
    raw_frame(&mut bad_utf8, false, 0, 0x1, Some([1, 2, 3, 4]), &[b'a', 0xe2, 0x82]);
    raw_frame(&mut bad_utf8, true, 0, 0x0, Some([1, 2, 3, 4]), &[0x41]);
    let seed = |h: Vec<u8>, body: &[u8]| [h, body.to_vec()].concat();
    vec![
        ("chat-whole-reads", seed(head(0, [0, 0, 0, 0], 0), &chat)),
        ("chat-small-reads", seed(head(4, [1, 3, 7, 200], 0), &chat)),
        ("client-large-frame", seed(head(1, [130, 5, 0, 9], 0), &from_server)),
        ("deflate", seed(head(2, [0, 11, 2, 64], 3), &compressed)),
        ("deflate-two-steps", seed(head(6, [17, 1, 128, 3], 100), &compressed)),
        ("bad-utf8", seed(head(0, [2, 2, 2, 2], 0), &bad_utf8)),
    ]
}
