//! `Utf8Validator` against `core::str::from_utf8`, on arbitrary bytes in arbitrary pieces.
//!
//! Input: one byte that picks the split style, then the bytes.
//!
//! Checked:
//! * valid ⇔ every `feed` is `Ok` and the validator is complete at the end;
//! * after each accepted piece, `is_complete` ⇔ the bytes so far are valid UTF-8;
//! * on invalid input the error comes exactly in the piece holding the first byte that no
//!   valid UTF-8 can continue with (never earlier: a valid prefix is never refused), and its
//!   `valid_up_to` points at the start of the bad sequence within that piece (0 when the
//!   sequence began in an earlier piece);
//! * a client `Connection` fed the same pieces as a text message (one frame per piece) fails
//!   with `InvalidUtf8 { offset }` at the start of the bad sequence (or of an unfinished last
//!   character), and otherwise hands out exactly the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsproto::utf8::Utf8Validator;
use wsproto::{Config, Connection, Error, Role};
use wsproto_fuzz::{Assembler, Logical, drain, raw_frame, split_points};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else { return };
    let pieces = split_points(bytes.len(), sel, u64::from(sel) << 32 | bytes.len() as u64);
    check(bytes, &pieces);
});

/// The index of the first byte that makes `bytes` impossible to continue as UTF-8, if any.
fn first_bad_byte(bytes: &[u8]) -> Option<(usize, usize)> {
    let e = core::str::from_utf8(bytes).err()?;
    e.error_len()?;
    let start = e.valid_up_to();
    // The shortest prefix that no more bytes can make valid.
    let bad = (start..bytes.len())
        .find(|&k| core::str::from_utf8(&bytes[start..=k]).err().is_some_and(|e| e.error_len().is_some()))
        .expect("an invalid sequence has a first bad byte");
    Some((start, bad))
}

/// Whether `bytes[..k]` is valid UTF-8, given where the valid part of all `bytes` ends
/// (computed once, so that byte-by-byte splits stay linear).
fn prefix_valid(bytes: &[u8], valid_up_to: usize, k: usize) -> bool {
    let answer = k == valid_up_to || (k < valid_up_to && !matches!(bytes[k], 0x80..=0xbf));
    if bytes.len() <= 64 {
        assert_eq!(answer, core::str::from_utf8(&bytes[..k]).is_ok(), "the shortcut is wrong");
    }
    answer
}

fn check(bytes: &[u8], pieces: &[std::ops::Range<usize>]) {
    let core = core::str::from_utf8(bytes);
    let valid_up_to = core.map_or_else(|e| e.valid_up_to(), |_| bytes.len());
    let bad = first_bad_byte(bytes);
    let mut v = Utf8Validator::new();
    let mut all_ok = true;
    for r in pieces {
        match v.feed(&bytes[r.clone()]) {
            Ok(()) => {
                if let Some((_, b)) = bad {
                    assert!(b >= r.end, "byte {b} is bad but the piece {r:?} holding it was accepted");
                }
                // The bytes so far end on a character boundary exactly when they are valid.
                assert_eq!(
                    v.is_complete(),
                    prefix_valid(bytes, valid_up_to, r.end),
                    "is_complete after {} bytes",
                    r.end
                );
            }
            Err(e) => {
                let (start, b) = bad.expect("valid UTF-8 (or a valid prefix) was refused");
                assert!(r.contains(&b), "error in piece {r:?}, first bad byte at {b}");
                let expected = start.saturating_sub(r.start);
                assert_eq!(e.valid_up_to, expected, "valid_up_to for a sequence starting at {start}");
                all_ok = false;
                break;
            }
        }
    }
    assert_eq!(all_ok && v.is_complete(), core.is_ok(), "validator and core disagree");
    if all_ok {
        assert!(bad.is_none());
    }

    // The same pieces as the frames of one text message, from a server to a client.
    let mut wire = Vec::new();
    for (i, r) in pieces.iter().enumerate() {
        let opcode = if i == 0 { 0x1 } else { 0x0 };
        raw_frame(&mut wire, i + 1 == pieces.len(), 0, opcode, None, &bytes[r.clone()]);
    }
    let mut conn = Connection::new(Role::Client, Config::new().max_fragments(u32::MAX));
    let mut asm = Assembler::new(u64::MAX);
    let result = drain(&mut conn, &mut wire, &mut [], |ev| asm.push(ev));
    match core {
        Ok(_) => {
            assert_eq!(result, Ok(()));
            assert_eq!(asm.done, [Logical::Message(wsproto::MessageKind::Text, bytes.to_vec())]);
        }
        Err(e) => {
            assert_eq!(result, Err(Error::InvalidUtf8 { offset: e.valid_up_to() as u64 }));
            assert!(asm.done.is_empty());
        }
    }
}
