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
        // The fast path: ASCII and valid text go through simdutf8's vectorised check.
        if simdutf8::basic::from_utf8(data).is_ok() {
            return Ok(());
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
