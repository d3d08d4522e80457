//! A client `Connection` with permessage-deflate receiving fuzzer bytes as compressed frames.
//!
//! Input: a flags byte, two bytes of scratch size, then frame records
//! `[kind] [len: u16 LE] [payload: len bytes]` (the last record takes what is left):
//! * kind bit 0: FIN; bit 1: a continuation frame (else the first frame of a message);
//!   bit 2: text (else binary); bit 3: not compressed (RSV1 clear); bit 4: a Ping instead
//!   (payload cut to 125 bytes).
//! * flags bit 0: `server_no_context_takeover` (the inflater resets after each message);
//!   bits 2-3: how the stream is split into reads; bit 5: a scratch of 1 to 16 bytes (else 1 to
//!   4096).
//!
//! `max_message_size` is 64 KiB. Checked: no panic; never more than 64 KiB of one message
//! handed out, and never more than the scratch buffer at once when every message is
//! compressed; text valid as it is handed out; the `receive` contract (see `drain`);
//! errors sticky and answered by one Close frame with their code; and the same messages (and
//! an error at the same point) with a 4 KiB scratch reading the stream whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use wsproto::{Config, Connection, KeySource, Role};
use wsproto_fuzz::{Outcome, check_failed, one_piece, raw_frame, receive_all, same_error_modulo_inflate, split_points};

const LIMIT: u64 = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let flags = data[0];
    let size = u16::from_le_bytes([data[1], data[2]]);
    let scratch = if flags & 32 != 0 { usize::from(size % 16) + 1 } else { usize::from(size % 4096) + 1 };
    let (stream, all_compressed) = frames(&data[3..]);

    let pieces = split_points(stream.len(), flags >> 2, u64::from(size));
    let small = run(flags, &stream, &pieces, scratch, all_compressed);
    let whole = run(flags, &stream, &one_piece(stream.len()), 4096, all_compressed);
    assert_eq!(small.asm.done, whole.asm.done, "scratch size or splits changed the messages");
    assert!(
        same_error_modulo_inflate(small.error, whole.error, true),
        "scratch size or splits changed the error: {:?} vs {:?}",
        small.error,
        whole.error
    );
});

/// Builds the server frames the records describe; also says whether every message is
/// compressed.
fn frames(mut records: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut all_compressed = true;
    while let Some((&kind, rest)) = records.split_first() {
        let len = match rest {
            [a, b, ..] => usize::from(u16::from_le_bytes([*a, *b])),
            _ => rest.len(),
        };
        let rest = rest.get(2..).unwrap_or_default();
        let len = len.min(rest.len());
        let (payload, next) = rest.split_at(len);
        records = next;
        let fin = kind & 1 != 0;
        if kind & 16 != 0 {
            raw_frame(&mut out, true, 0, 0x9, None, &payload[..payload.len().min(125)]);
            continue;
        }
        let continuation = kind & 2 != 0;
        let opcode = match (continuation, kind & 4 != 0) {
            (true, _) => 0x0,
            (false, true) => 0x1,
            (false, false) => 0x2,
        };
        let compressed = kind & 8 == 0 && !continuation;
        if !continuation && !compressed {
            all_compressed = false;
        }
        raw_frame(&mut out, fin, if compressed { 4 } else { 0 }, opcode, None, payload);
    }
    (out, all_compressed)
}

fn run(flags: u8, stream: &[u8], pieces: &[std::ops::Range<usize>], scratch: usize, all_compressed: bool) -> Outcome {
    let params = DeflateParams { server_no_context_takeover: flags & 1 != 0, ..DeflateParams::DEFAULT };
    let mut conn = Connection::new(Role::Client, Config::new().max_message_size(LIMIT))
        .with_key_source(KeySource::seeded(5))
        .with_deflate(PerMessageDeflate::new(params, &DeflateConfig::new()));
    let mut buf = vec![0; scratch];
    let outcome = receive_all(&mut conn, stream, pieces, &mut buf);
    if all_compressed {
        assert!(outcome.max_piece <= scratch, "a piece of {} bytes from a {scratch}-byte scratch", outcome.max_piece);
    }
    if let Some(e) = outcome.error {
        check_failed(&mut conn, e, true, &mut buf);
    }
    outcome
}
