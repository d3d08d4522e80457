//! Incremental UTF-8 validation across frame and read boundaries.

/// Validates a stream of UTF-8 pieces, carrying an unfinished code point from one piece to the
/// next, and failing at the first byte that can no longer begin or continue valid UTF-8 (the
/// "fail fast" rule of RFC 6455 §8.1 that Autobahn case 6.4 checks).
///
/// ```
/// use wsproto::utf8::Utf8Validator;
/// let mut v = Utf8Validator::new();
/// let euro = "€".as_bytes(); // e2 82 ac
/// assert!(v.feed(&euro[..1]).is_ok());
/// assert!(v.feed(&euro[1..]).is_ok());
/// assert!(v.is_complete());
/// // 0xc0 can never start a valid sequence: rejected at once.
/// assert!(v.feed(&[b'a', 0xc0]).is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    /// Bytes of an unfinished code point (a valid prefix), at most 3.
    pending: [u8; 4],
    pending_len: u8,
}

/// Invalid UTF-8: `valid_up_to` bytes of the piece were fine (counting from the piece's start;
/// an unfinished code point carried from earlier pieces makes this 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8Error {
    /// Number of valid bytes of the rejected piece before the error.
    pub valid_up_to: usize,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    #[must_use]
    pub const fn new() -> Self {
        Self { pending: [0; 4], pending_len: 0 }
    }

    /// Whether the bytes fed so far end on a character boundary.
    #[must_use]
    pub const fn is_complete(&self) -> bool {
        self.pending_len == 0
    }

    /// How many bytes of an unfinished code point are carried from earlier pieces (0 to 3).
    pub(crate) fn pending_len(&self) -> usize {
        usize::from(self.pending_len)
    }

    /// Forgets any state, for a new message.
    pub fn reset(&mut self) {
        self.pending_len = 0;
    }

    /// Checks the next piece of text.
    ///
    /// # Errors
    /// [`Utf8Error`] if the bytes so far cannot be the start of valid UTF-8. The validator must
    /// not be fed again after an error without a [`reset`](Self::reset).
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), Utf8Error> {
        count_checked(data.len());
        // Bytes of this piece used to finish a carried code point: error offsets after them
        // still count from the start of the piece.
        let mut finished = 0;
        if self.pending_len > 0 {
            // Finish the carried code point first, one byte at a time, so that an invalid byte
            // is reported at once.
            let need = sequence_len(self.pending[0]);
            while usize::from(self.pending_len) < need {
                let Some((&b, rest)) = data.split_first() else {
                    return Ok(());
                };
                self.pending[usize::from(self.pending_len)] = b;
                self.pending_len += 1;
                data = rest;
                finished += 1;
                match core::str::from_utf8(&self.pending[..usize::from(self.pending_len)]) {
                    Ok(_) => {}
                    Err(e) if e.error_len().is_none() => {}
                    Err(_) => return Err(Utf8Error { valid_up_to: 0 }),
                }
            }
            self.pending_len = 0;
        }
        // The fast path: ASCII and valid text go through simdutf8's vectorised check once. A
        // character cut off at the end of the piece is set aside first (it is finished by the
        // next piece), so that a piece ending inside a character does not fail the fast check
        // and get checked a second time.
        let cut = data.len() - unfinished_tail(data);
        if simdutf8::basic::from_utf8(&data[..cut]).is_ok() {
            let tail = &data[cut..];
            if tail.is_empty() {
                return Ok(());
            }
            if let Err(e) = core::str::from_utf8(tail) {
                if e.error_len().is_none() {
                    self.pending[..tail.len()].copy_from_slice(tail);
                    self.pending_len = tail.len() as u8;
                    return Ok(());
                }
            }
            // Not the start of a character after all: the exact offset comes from below.
        }
        match simdutf8::compat::from_utf8(data) {
            Ok(_) => Ok(()),
            Err(e) => match e.error_len() {
                Some(_) => Err(Utf8Error { valid_up_to: finished + e.valid_up_to() }),
                None => {
                    // A valid prefix of a code point ends the piece: keep it for the next one.
                    let tail = &data[e.valid_up_to()..];
                    self.pending[..tail.len()].copy_from_slice(tail);
                    self.pending_len = tail.len() as u8;
                    Ok(())
                }
            },
        }
    }
}

/// How many bytes at the end of `data` (0 to 3) begin a character that does not end in `data`:
/// a lead byte followed by fewer continuation bytes than it announces. Only looks at the last
/// three bytes; whether they are a valid start is checked by the caller.
fn unfinished_tail(data: &[u8]) -> usize {
    for back in 1..=data.len().min(3) {
        let b = data[data.len() - back];
        if b & 0xc0 == 0x80 {
            continue; // a continuation byte: the lead is further back
        }
        return if b >= 0xc0 && sequence_len(b) > back { back } else { 0 };
    }
    0
}

/// Checks a whole text message in one call and lends it as `&str`: the one check of every
/// whole message the crate hands out as text. `Err` carries the offset of the first byte of
/// the first sequence that is invalid or unfinished (the offset of [`Error::InvalidUtf8`]).
///
/// [`Error::InvalidUtf8`]: crate::Error::InvalidUtf8
#[inline]
pub(crate) fn check_whole(data: &[u8]) -> Result<&str, u64> {
    count_checked(data.len());
    match simdutf8::basic::from_utf8(data) {
        Ok(text) => Ok(text),
        Err(_) => Err(first_error(data)),
    }
}

#[cold]
fn first_error(data: &[u8]) -> u64 {
    match simdutf8::compat::from_utf8(data) {
        Ok(_) => data.len() as u64,
        Err(e) => e.valid_up_to() as u64,
    }
}

#[cfg(all(debug_assertions, feature = "std"))]
std::thread_local! {
    static CHECKED: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
}

#[inline]
fn count_checked(_bytes: usize) {
    #[cfg(all(debug_assertions, feature = "std"))]
    CHECKED.with(|c| c.set(c.get() + _bytes as u64));
}

/// How many bytes of received or assembled text this thread has run through a UTF-8 check
/// so far: every byte a [`Utf8Validator`] is fed and every byte of a whole message checked at
/// once, counted each time it is checked. Debug builds with feature `std` only (release builds
/// count nothing): tests use it to show that text is checked once, which no timing can.
///
/// ```
/// # #[cfg(debug_assertions)] {
/// let before = wsproto::utf8::bytes_checked_on_this_thread();
/// wsproto::utf8::Utf8Validator::new().feed("héllo".as_bytes()).unwrap();
/// assert_eq!(wsproto::utf8::bytes_checked_on_this_thread() - before, 6);
/// # }
/// ```
#[cfg(all(debug_assertions, feature = "std"))]
#[must_use]
pub fn bytes_checked_on_this_thread() -> u64 {
    CHECKED.with(core::cell::Cell::get)
}

/// Length of the sequence a valid lead byte starts (1 for anything else; callers only pass
/// lead bytes that were accepted as a valid prefix).
const fn sequence_len(lead: u8) -> usize {
    match lead {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn check_split(data: &[u8], splits: &[usize]) -> (bool, bool) {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        let mut cuts: Vec<usize> = splits.iter().map(|s| s % (data.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(data.len());
        for cut in cuts {
            if v.feed(&data[start..cut]).is_err() {
                return (false, false);
            }
            start = cut;
        }
        (true, v.is_complete())
    }

    #[test]
    fn fails_fast_on_bad_continuation() {
        let mut v = Utf8Validator::new();
        v.feed(&[0xce]).unwrap();
        assert!(v.feed(&[0x41]).is_err());
        let mut v = Utf8Validator::new();
        // f4 90 is beyond U+10FFFF: rejected at the second byte, even in separate pieces.
        v.feed(&[0xf4]).unwrap();
        assert!(v.feed(&[0x90]).is_err());
        // Surrogates are rejected at the second byte.
        let mut v = Utf8Validator::new();
        assert!(v.feed(&[0xed, 0xa0]).is_err());
    }

    proptest! {
        #[test]
        fn agrees_with_core_on_any_split(data in proptest::collection::vec(any::<u8>(), 0..64), splits in proptest::collection::vec(any::<usize>(), 0..6)) {
            let (ok, complete) = check_split(&data, &splits);
            let valid = core::str::from_utf8(&data).is_ok();
            prop_assert_eq!(ok && complete, valid);
            // Never rejects a valid prefix.
            if valid { prop_assert!(ok); }
        }

        #[test]
        fn valid_text_any_split(s in "\\PC{0,40}", splits in proptest::collection::vec(any::<usize>(), 0..6)) {
            prop_assert_eq!(check_split(s.as_bytes(), &splits), (true, true));
        }
    }
}
