//! UTF-8 in text messages and close reasons (RFC 6455 §5.6, §8.1): checked as it arrives, across
//! frames and reads, failing fast with close code 1007.

mod common;

use common::*;
use proptest::prelude::*;
use wsproto::utf8::{Utf8Error, Utf8Validator};
use wsproto::{Config, Connection, Error, MessageKind, ProtocolViolation, Role};

/// Text with one-, two-, three- and four-byte characters.
const MIXED: &str = "aé€😀z";

/// Sequences that are never valid UTF-8: surrogates, overlongs, beyond U+10FFFF, bytes that can
/// never appear, stray continuations.
const INVALID: [&[u8]; 14] = [
    b"\xed\xa0\x80",     // U+D800, a surrogate
    b"\xed\xbf\xbf",     // U+DFFF
    b"\xc0\x80",         // overlong NUL
    b"\xc1\xbf",         // overlong
    b"\xe0\x80\x80",     // overlong three-byte
    b"\xe0\x9f\xbf",     // overlong three-byte
    b"\xf0\x80\x80\x80", // overlong four-byte
    b"\xf0\x8f\xbf\xbf", // overlong four-byte
    b"\xf4\x90\x80\x80", // U+110000
    b"\xf5\x80\x80\x80", // lead byte beyond range
    b"\xff",
    b"\x80",         // continuation without lead
    b"\xce\x41",     // lead followed by ASCII
    b"\xe2\x82\x41", // three-byte sequence broken at the third byte
];

/// The length of the shortest prefix of `m` that can no longer begin valid UTF-8, if any.
fn detection_point(m: &[u8]) -> Option<usize> {
    (1..=m.len()).find(|&p| matches!(core::str::from_utf8(&m[..p]), Err(e) if e.error_len().is_some()))
}

/// Builds a text message from `from` split into frames at `frame_cuts`.
fn text_frames(from: Role, m: &[u8], frame_cuts: &[usize]) -> Vec<u8> {
    let mut cuts: Vec<usize> = frame_cuts.iter().map(|&c| c.min(m.len())).collect();
    cuts.sort_unstable();
    cuts.push(m.len());
    let mut wire = Vec::new();
    let mut start = 0;
    for (i, &cut) in cuts.iter().enumerate() {
        let opcode = if i == 0 { 0x1 } else { 0x0 };
        wire.extend(frame_from_fin(from, opcode, i == cuts.len() - 1, &m[start..cut]));
        start = cut;
    }
    wire
}

/// Text pieces must be valid up to their last complete character.
#[track_caller]
fn check_pieces_are_valid_prefixes(events: &[Ev]) {
    let mut so_far = Vec::new();
    for e in events {
        if let Ev::Data { kind: MessageKind::Text, data, first, .. } = e {
            if *first {
                so_far.clear();
            }
            so_far.extend_from_slice(data);
            match core::str::from_utf8(&so_far) {
                Ok(_) => {}
                Err(e) => assert!(e.error_len().is_none(), "piece is not a valid prefix: {so_far:?}"),
            }
        }
    }
}

#[test]
fn text_split_across_frames_at_every_position() {
    let m = MIXED.as_bytes();
    for a in 0..=m.len() {
        for b in a..=m.len() {
            let wire = text_frames(Role::Client, m, &[a, b]);
            let mut s = server(Config::new());
            let events = feed_copy(&mut s, &wire).ok();
            check_pieces_are_valid_prefixes(&events);
            assert_eq!(logical(&events), [Logical::Message(MessageKind::Text, m.to_vec())], "cuts {a} {b}");
        }
    }
}

#[test]
fn text_split_across_reads_at_every_position() {
    let m = MIXED.as_bytes();
    let wire = frame_from(Role::Server, 0x1, m);
    for a in 0..=wire.len() {
        for b in a..=wire.len() {
            let mut c = client(Config::new());
            let events = feed_split(&mut c, &wire, &[a, b]).ok();
            check_pieces_are_valid_prefixes(&events);
            assert_eq!(logical(&events), [Logical::Message(MessageKind::Text, m.to_vec())], "cuts {a} {b}");
        }
    }
    // One byte per read: every character arrives in pieces.
    let mut c = client(Config::new());
    let cuts: Vec<usize> = (1..wire.len()).collect();
    let events = feed_split(&mut c, &wire, &cuts).ok();
    check_pieces_are_valid_prefixes(&events);
    assert_eq!(logical(&events), [Logical::Message(MessageKind::Text, m.to_vec())]);
}

#[test]
fn invalid_first_fragment_fails_before_fin() {
    for bad in INVALID {
        let mut m = b"ok".to_vec();
        m.extend_from_slice(bad);
        m.extend_from_slice(b"tail");
        // A first fragment without FIN: the message is far from over, the error is immediate.
        let wire = frame_from_fin(Role::Client, 0x1, false, &m);
        let mut s = server(Config::new());
        let fed = feed_copy(&mut s, &wire);
        assert_eq!(fed.events, [], "{bad:?}");
        let err = fed.error.expect("error before the message ends");
        assert_eq!(err, Error::InvalidUtf8 { offset: 2 }, "{bad:?}");
        assert_failed_with(&mut s, err, 1007);
    }
}

#[test]
fn invalid_byte_fails_on_the_read_that_carries_it() {
    // Header and "ok" first: delivered. Then the bad byte: the error comes with that read, while
    // the frame (let alone the message) is still incomplete.
    let mut m = b"ok".to_vec();
    m.extend_from_slice(b"\xff");
    m.extend_from_slice(&[b'x'; 20]);
    let wire = frame_from(Role::Server, 0x1, &m);
    let mut c = client(Config::new());
    assert_eq!(feed_copy(&mut c, &wire[..4]).ok(), [Ev::piece(MessageKind::Text, b"ok", true, false)]);
    let fed = feed_copy(&mut c, &wire[4..5]);
    assert_eq!(fed.error, Some(Error::InvalidUtf8 { offset: 2 }));
    assert_failed_with(&mut c, fed.error.unwrap(), 1007);
}

#[test]
fn invalid_sequence_in_later_fragment() {
    let mut wire = frame_from_fin(Role::Client, 0x1, false, b"hello");
    wire.extend(frame_from_fin(Role::Client, 0x0, false, b" w\xc3\x28orld"));
    let mut s = server(Config::new());
    let fed = feed_copy(&mut s, &wire);
    assert_eq!(fed.events, [Ev::piece(MessageKind::Text, b"hello", true, false)]);
    assert_eq!(fed.error, Some(Error::InvalidUtf8 { offset: 7 }));
}

#[test]
fn error_offset_does_not_depend_on_splitting() {
    // "ab" + "\xce\xb1" (α) + "\xff": the first bad byte is at 4 however the bytes are cut.
    let m = b"ab\xce\xb1\xff".to_vec();
    assert_eq!(core::str::from_utf8(&m).unwrap_err().valid_up_to(), 4);
    for a in 0..=m.len() {
        for b in a..=m.len() {
            let mut s = server(Config::new());
            let err = feed_copy(&mut s, &text_frames(Role::Client, &m, &[a, b])).err();
            assert_eq!(err, Error::InvalidUtf8 { offset: 4 }, "frame cuts {a} {b}");
        }
    }
    // An unfinished character broken by the next byte: the bad sequence starts at 2.
    let m = b"ab\xe2\x82A".to_vec();
    assert_eq!(core::str::from_utf8(&m).unwrap_err().valid_up_to(), 2);
    for a in 0..=m.len() {
        let mut s = server(Config::new());
        let err = feed_copy(&mut s, &text_frames(Role::Client, &m, &[a])).err();
        assert_eq!(err, Error::InvalidUtf8 { offset: 2 }, "frame cut {a}");
    }
}

#[test]
fn truncated_code_point_at_message_end() {
    for tail in [&b"\xc3"[..], b"\xe2\x82", b"\xf0\x9f\x98"] {
        let mut m = b"abc".to_vec();
        m.extend_from_slice(tail);
        // In one frame.
        let mut c = client(Config::new());
        let fed = feed_copy(&mut c, &frame_from(Role::Server, 0x1, &m));
        assert_eq!(fed.events, []);
        let err = fed.error.unwrap();
        assert_eq!(err, Error::InvalidUtf8 { offset: 3 }, "{tail:?}");
        assert_failed_with(&mut c, err, 1007);
        // The unfinished character is fine until FIN arrives: split over frames, the first
        // frames are delivered and the empty final frame fails.
        let mut wire = frame_from_fin(Role::Server, 0x1, false, &m);
        wire.extend(frame_from_fin(Role::Server, 0x0, true, b""));
        let mut c = client(Config::new());
        let fed = feed_copy(&mut c, &wire);
        assert_eq!(fed.events, [Ev::piece(MessageKind::Text, &m, true, false)]);
        assert_eq!(fed.error, Some(Error::InvalidUtf8 { offset: 3 }), "{tail:?}");
    }
}

#[test]
fn surrogates_and_overlongs_rejected_in_every_split() {
    for bad in INVALID {
        let mut m = MIXED.as_bytes().to_vec();
        m.extend_from_slice(bad);
        let expected = core::str::from_utf8(&m).unwrap_err().valid_up_to() as u64;
        for cut in 0..=m.len() {
            let mut s = server(Config::new());
            let err = feed_copy(&mut s, &text_frames(Role::Client, &m, &[cut])).err();
            assert_eq!(err, Error::InvalidUtf8 { offset: expected }, "{bad:?} cut {cut}");
        }
    }
}

#[test]
fn binary_is_not_checked() {
    let mut c = client(Config::new());
    let events = feed_copy(&mut c, &frame_from(Role::Server, 0x2, b"\xff\xfe\xed\xa0\x80")).ok();
    assert_eq!(events, [Ev::binary(b"\xff\xfe\xed\xa0\x80")]);
}

#[test]
fn validator_state_resets_between_messages() {
    // A text message ending cleanly does not leak state into the next one, even after a
    // binary message with bytes that would be invalid text.
    let mut wire = frame_from(Role::Server, 0x1, "é".as_bytes());
    wire.extend(frame_from(Role::Server, 0x2, b"\xc3"));
    wire.extend(frame_from(Role::Server, 0x1, b"\xa9"));
    let mut c = client(Config::new());
    let fed = feed_copy(&mut c, &wire);
    assert_eq!(fed.events, [Ev::text("é"), Ev::binary(b"\xc3")]);
    assert_eq!(fed.error, Some(Error::InvalidUtf8 { offset: 0 }));
}

#[test]
fn close_reason_must_be_utf8() {
    for reason in [&b"\xff"[..], b"ok\xc3", b"\xed\xa0\x80", b"\xc0\x80"] {
        let wire = frame_from(Role::Client, 0x8, &close_payload(1000, reason));
        let mut s = server(Config::new());
        let err = feed_copy(&mut s, &wire).err();
        assert_eq!(err, Error::Protocol(ProtocolViolation::CloseReasonNotUtf8), "{reason:?}");
        assert_failed_with(&mut s, err, 1007);
    }
    let wire = frame_from(Role::Server, 0x8, &close_payload(1000, "ciao 😀".as_bytes()));
    let mut c = client(Config::new());
    assert_eq!(feed_copy(&mut c, &wire).ok(), [Ev::close(1000, "ciao 😀")]);
}

#[test]
fn validator_reports_offset_from_piece_start() {
    // After finishing a character carried from the previous piece, the offset still counts from
    // the start of the piece.
    let mut v = Utf8Validator::new();
    v.feed(b"\xce").unwrap();
    assert_eq!(v.feed(b"\xb1\xff"), Err(Utf8Error { valid_up_to: 1 }));
    let mut v = Utf8Validator::new();
    v.feed(b"\xf0\x9f").unwrap();
    assert_eq!(v.feed(b"\x98\x80abc\x80"), Err(Utf8Error { valid_up_to: 5 }));
    // A bad byte inside the carried character reports 0.
    let mut v = Utf8Validator::new();
    v.feed(b"x\xe2").unwrap();
    assert_eq!(v.feed(b"\x82A"), Err(Utf8Error { valid_up_to: 0 }));
    // And the offset within a piece with nothing carried.
    let mut v = Utf8Validator::new();
    assert_eq!(v.feed(b"abc\xff"), Err(Utf8Error { valid_up_to: 3 }));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Valid text + an invalid sequence + more: whatever the frame and read splits, the error
    /// comes on the read holding the first byte that makes the text invalid, with the offset
    /// the standard library reports, and nothing past that byte is delivered.
    #[test]
    fn invalid_text_fails_fast_in_any_split(
        prefix in "\\PC{0,12}",
        bad in prop::sample::select(&INVALID[..]),
        suffix in "\\PC{0,6}",
        frame_cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        read_cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let mut m = prefix.as_bytes().to_vec();
        m.extend_from_slice(bad);
        m.extend_from_slice(suffix.as_bytes());
        let expected = core::str::from_utf8(&m).unwrap_err().valid_up_to() as u64;
        let detect = detection_point(&m).expect("invalid sequences are detectable");
        let fcuts: Vec<usize> = frame_cuts.iter().map(|i| i.index(m.len() + 1)).collect();
        let (wire, positions) = text_frames_mapped(&m, &fcuts);
        // Where the byte that makes the text invalid sits on the wire.
        let bad_at = positions[detect - 1];

        let mut s = Connection::new(Role::Server, Config::new());
        let mut rcuts: Vec<usize> = read_cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        rcuts.sort_unstable();
        rcuts.push(wire.len());
        let mut start = 0;
        let mut events = Vec::new();
        let mut error = None;
        let mut failing_read = None;
        for &cut in &rcuts {
            let fed = feed_copy(&mut s, &wire[start..cut]);
            events.extend(fed.events);
            if fed.error.is_some() {
                error = fed.error;
                failing_read = Some(start..cut);
                break;
            }
            start = cut;
        }
        prop_assert_eq!(error, Some(Error::InvalidUtf8 { offset: expected }));
        let failing_read = failing_read.unwrap();
        prop_assert!(failing_read.contains(&bad_at), "error on read {:?}, bad byte at {}", failing_read, bad_at);
        // Nothing at or past the detecting byte was delivered, and what was delivered is a
        // prefix of the message.
        let delivered: Vec<u8> = events.iter().flat_map(|e| match e {
            Ev::Data { data, .. } => data.clone(),
            _ => Vec::new(),
        }).collect();
        prop_assert!(delivered.len() < detect);
        prop_assert_eq!(&delivered[..], &m[..delivered.len()]);
    }
}

/// Like [`text_frames`] from a client, also giving the wire position of every message byte.
fn text_frames_mapped(m: &[u8], frame_cuts: &[usize]) -> (Vec<u8>, Vec<usize>) {
    let mut cuts: Vec<usize> = frame_cuts.iter().map(|&c| c.min(m.len())).collect();
    cuts.sort_unstable();
    cuts.push(m.len());
    let mut wire = Vec::new();
    let mut positions = Vec::new();
    let mut start = 0;
    for (i, &cut) in cuts.iter().enumerate() {
        let opcode = if i == 0 { 0x1 } else { 0x0 };
        let frame = frame_from_fin(Role::Client, opcode, i == cuts.len() - 1, &m[start..cut]);
        let header = frame.len() - (cut - start);
        positions.extend((0..cut - start).map(|k| wire.len() + header + k));
        wire.extend(frame);
        start = cut;
    }
    assert_eq!(positions.len(), m.len());
    (wire, positions)
}
