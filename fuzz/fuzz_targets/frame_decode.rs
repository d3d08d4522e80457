//! `decode_header` on arbitrary bytes, then a `Connection` fed the same bytes.
//!
//! Input: one selector byte, then the stream.
//! * bit 0: the connection is a client (else a server);
//! * bit 1: `auto_pong` off; bit 2: `auto_close_reply` off;
//! * bit 3: small limits (frame 256, message 1024, 8 fragments);
//! * bit 4: permessage-deflate on (RSV1 allowed, `receive_into`);
//! * bits 5-6: how the second run splits the stream; bit 7: a 7-byte scratch buffer.
//!
//! Checked:
//! * the decoder: a complete header re-encodes to exactly the same bytes (minimal encoding),
//!   its length is `encoded_len`, and every prefix of the input is `Partial` (asking for no
//!   more than the header needs) or the same error;
//! * the connection: no panic, the `receive` contract (see `drain`), what is handed out
//!   (see `Assembler`), the same messages, error and state whether the stream arrives whole or
//!   in pieces, a sticky error answered by exactly one Close frame with its code, the
//!   automatic Pong answering the latest Ping, the Close reply echoing the code, and the
//!   state and transport action the design document gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use wsproto::frame::{HeaderStatus, MAX_HEADER_LEN, OpCode, decode_header, encode_header};
use wsproto::{Config, Connection, KeySource, Role, State, TransportAction};
use wsproto_fuzz::{
    Logical, WireChecker, check_failed, close_code, one_piece, receive_all, same_error_modulo_inflate, split_points,
};

fuzz_target!(|data: &[u8]| {
    check_decoder(data);
    let Some((&sel, stream)) = data.split_first() else { return };
    check_decoder(stream);
    check_connection(sel, stream);
});

fn check_decoder(buf: &[u8]) {
    let full = decode_header(buf);
    match full {
        Ok(HeaderStatus::Complete(h, n)) => {
            assert!(n <= buf.len());
            assert_eq!(n, h.encoded_len());
            let mut out = [0; MAX_HEADER_LEN];
            let m = encode_header(&h, &mut out);
            assert_eq!(&out[..m], &buf[..n], "{h:?} does not re-encode to the bytes it came from");
            if h.opcode.is_control() {
                assert!(h.fin && h.payload_len <= 125);
            }
            assert!(h.payload_len < 1 << 63);
        }
        Ok(HeaderStatus::Partial { needed }) => {
            assert!(needed >= 1 && buf.len() + needed <= MAX_HEADER_LEN, "needed {needed} after {}", buf.len());
        }
        Err(_) => {}
    }
    // Every prefix is consistent with the whole: a decoder never reports an error that more
    // bytes would take back, nor asks for more bytes than the header has.
    for k in 0..buf.len().min(MAX_HEADER_LEN) {
        let part = decode_header(&buf[..k]);
        match (full, part) {
            (Ok(HeaderStatus::Complete(_, n)), p) if k >= n => assert_eq!(p, full),
            (Ok(HeaderStatus::Complete(_, n)), Ok(HeaderStatus::Partial { needed })) => {
                assert!(needed >= 1 && k + needed <= n, "prefix {k} needs {needed}, header is {n}")
            }
            (Ok(HeaderStatus::Partial { .. }), Ok(HeaderStatus::Partial { needed })) => assert!(needed >= 1),
            (Err(_), Ok(HeaderStatus::Partial { needed })) => assert!(needed >= 1),
            (Err(e), Err(p)) => assert_eq!(e, p, "prefix {k} reports another error"),
            (whole, p) => panic!("prefix {k} decodes to {p:?}, the whole input to {whole:?}"),
        }
    }
}

struct Run {
    outcome: wsproto_fuzz::Outcome,
    state: State,
}

fn connection(sel: u8) -> Connection {
    let role = if sel & 1 != 0 { Role::Client } else { Role::Server };
    let mut config = Config::new().auto_pong(sel & 2 == 0).auto_close_reply(sel & 4 == 0);
    if sel & 8 != 0 {
        config = config.max_frame_payload(256).max_message_size(1024).max_fragments(8);
    }
    let conn = Connection::new(role, config).with_key_source(KeySource::seeded(7));
    if sel & 16 != 0 {
        conn.with_deflate(PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new()))
    } else {
        conn
    }
}

fn run(sel: u8, stream: &[u8], pieces: &[std::ops::Range<usize>]) -> Run {
    let mut conn = connection(sel);
    let mut scratch = vec![0; if sel & 128 != 0 { 7 } else { 4096 }];
    let outcome = receive_all(&mut conn, stream, pieces, &mut scratch);
    let state = conn.state();
    let closed = outcome.asm.closed();
    let auto_close = sel & 4 == 0;
    let auto_pong = sel & 2 == 0;
    if let Some(e) = outcome.error {
        // Nothing was sent before, so the error's Close frame is due.
        check_failed(&mut conn, e, true, &mut scratch);
        return Run { outcome, state };
    }
    // What the design document's table says.
    let expected = match (closed, auto_close) {
        (false, _) => State::Open,
        (true, true) => State::Closed,
        (true, false) => State::ClosingRemote,
    };
    assert_eq!(state, expected);
    // The automatic replies: the Pong answers the latest Ping, the Close reply echoes the code.
    let mut out = Vec::new();
    let mut wire = WireChecker::new(conn.role(), conn.deflate().is_some());
    conn.poll_transmit(&mut out).expect("poll_transmit into a Vec");
    let mut frames = wire.push(&out).into_iter();
    if auto_pong && let Some(ping) = &outcome.last_ping {
        let f = frames.next().expect("a Pong is due");
        assert_eq!((f.opcode, &f.payload), (OpCode::Pong, ping), "the Pong does not answer the latest Ping");
    }
    if closed && auto_close {
        let Some(Logical::Close(code, _)) = outcome.asm.done.last() else { unreachable!() };
        let f = frames.next().expect("a Close reply is due");
        assert_eq!(f.opcode, OpCode::Close);
        assert_eq!(close_code(&f.payload), *code, "the Close reply does not echo the code");
    }
    assert_eq!(frames.next(), None, "unexpected automatic frames");
    let action = conn.transport_action();
    match (conn.state(), conn.role()) {
        (State::Closed, Role::Server) => assert_eq!(action, TransportAction::Close),
        (State::Closed, Role::Client) => assert_eq!(action, TransportAction::AwaitPeerClose),
        _ => assert_eq!(action, TransportAction::Continue),
    }
    // End of input: normal after a Close, a failure (1006, nothing sent) before one.
    let eof = conn.receive_eof();
    if closed {
        assert_eq!(eof, Ok(()));
    } else {
        let e = eof.expect_err("end of input before a Close frame");
        assert_eq!(e, wsproto::Error::UnexpectedEof);
        assert_eq!(e.close_code(), None);
        assert_eq!(conn.state(), State::Failed);
    }
    assert_eq!(conn.transport_action(), TransportAction::Close);
    Run { outcome, state }
}

fn check_connection(sel: u8, stream: &[u8]) {
    let whole = run(sel, stream, &one_piece(stream.len()));
    let pieces = split_points(stream.len(), sel >> 5, stream.len() as u64);
    let split = run(sel, stream, &pieces);
    let deflate = sel & 16 != 0;
    assert_eq!(whole.outcome.asm.done, split.outcome.asm.done, "the split changed the messages");
    assert!(
        same_error_modulo_inflate(whole.outcome.error, split.outcome.error, deflate),
        "the split changed the error: {:?} whole, {:?} split",
        whole.outcome.error,
        split.outcome.error
    );
    assert_eq!(whole.state, split.state);
    if whole.outcome.error.is_none() {
        // Everything that can be inflated from the input is handed out, whatever the reads
        // (see `fuzz/regressions/README.md` for when it was not).
        assert_eq!(whole.outcome.asm.partial, split.outcome.asm.partial, "the split changed a partial message");
    }
}
