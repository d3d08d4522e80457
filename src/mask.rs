//! Payload masking (RFC 6455 §5.3), in place, resumable at any offset, word at a time.

/// XORs `data` in place with the masking `key`, as if `data` started `offset` bytes into the
/// frame payload. Masking and unmasking are the same operation, so a payload that arrives in
/// pieces can be unmasked piece by piece:
///
/// ```
/// use wsproto::mask::apply_mask;
/// let key = [1, 2, 3, 4];
/// let mut whole = *b"Hello, WebSocket";
/// apply_mask(&mut whole, key, 0);
///
/// let mut pieces = *b"Hello, WebSocket";
/// let (a, b) = pieces.split_at_mut(5);
/// apply_mask(a, key, 0);
/// apply_mask(b, key, 5);
/// assert_eq!(whole, pieces);
/// ```
///
/// The loop works on 32-byte blocks of `u64` words, which the compiler turns into vector
/// instructions, in safe code.
#[inline]
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate(key, offset);
    let word = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut blocks = data.chunks_exact_mut(32);
    for block in &mut blocks {
        for lane in block.chunks_exact_mut(8) {
            let v = u64::from_ne_bytes([lane[0], lane[1], lane[2], lane[3], lane[4], lane[5], lane[6], lane[7]]);
            lane.copy_from_slice(&(v ^ word).to_ne_bytes());
        }
    }
    // The tail starts at a multiple of 32, so the key phase is unchanged; so do its 8- and
    // 4-byte pieces.
    let mut lanes = blocks.into_remainder().chunks_exact_mut(8);
    for lane in &mut lanes {
        let v = u64::from_ne_bytes([lane[0], lane[1], lane[2], lane[3], lane[4], lane[5], lane[6], lane[7]]);
        lane.copy_from_slice(&(v ^ word).to_ne_bytes());
    }
    let mut rest = lanes.into_remainder();
    if rest.len() >= 4 {
        let (four, tail) = rest.split_at_mut(4);
        let v = u32::from_ne_bytes([four[0], four[1], four[2], four[3]]) ^ u32::from_ne_bytes(key);
        four.copy_from_slice(&v.to_ne_bytes());
        rest = tail;
    }
    for (b, k) in rest.iter_mut().zip(key) {
        *b ^= k;
    }
}

/// Writes `src` masked with `key` into `dst` (which must have the same length), as if `src`
/// started `offset` bytes into the frame payload: a copy and a mask in one pass, for senders
/// that copy the payload into their output anyway.
///
/// ```
/// use wsproto::mask::{apply_mask, copy_masked};
/// let key = [9, 8, 7, 6];
/// let mut copied = [0u8; 11];
/// copy_masked(&mut copied, b"hello world", key, 0);
/// let mut in_place = *b"hello world";
/// apply_mask(&mut in_place, key, 0);
/// assert_eq!(copied, in_place);
/// ```
///
/// # Panics
/// When `dst` and `src` differ in length.
#[inline]
pub fn copy_masked(dst: &mut [u8], src: &[u8], key: [u8; 4], offset: usize) {
    assert_eq!(dst.len(), src.len(), "copy_masked needs equal lengths");
    let key = rotate(key, offset);
    let word = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut out = dst.chunks_exact_mut(32);
    let mut inp = src.chunks_exact(32);
    for (o, i) in (&mut out).zip(&mut inp) {
        for (ol, il) in o.chunks_exact_mut(8).zip(i.chunks_exact(8)) {
            let v = u64::from_ne_bytes([il[0], il[1], il[2], il[3], il[4], il[5], il[6], il[7]]);
            ol.copy_from_slice(&(v ^ word).to_ne_bytes());
        }
    }
    // The tail starts at a multiple of 32: the key phase is unchanged.
    for (i, (o, s)) in out.into_remainder().iter_mut().zip(inp.remainder()).enumerate() {
        *o = s ^ key[i & 3];
    }
}

/// The key as seen from `offset` bytes into the payload.
#[inline]
fn rotate(key: [u8; 4], offset: usize) -> [u8; 4] {
    let s = offset & 3;
    [key[s], key[(s + 1) & 3], key[(s + 2) & 3], key[(s + 3) & 3]]
}

/// Byte-at-a-time reference, for tests.
#[cfg(test)]
pub(crate) fn apply_mask_reference(data: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= key[(offset + i) & 3];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_example() {
        // RFC 6455 §5.7: a masked "Hello".
        let mut data = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&data, b"Hello");
    }

    proptest! {
        #[test]
        fn matches_reference(data in proptest::collection::vec(any::<u8>(), 0..300), key: [u8; 4], offset in 0usize..16, split in 0usize..300) {
            let mut fast = data.clone();
            let split = split.min(fast.len());
            let (a, b) = fast.split_at_mut(split);
            apply_mask(a, key, offset);
            apply_mask(b, key, offset + split);
            let mut slow = data.clone();
            apply_mask_reference(&mut slow, key, offset);
            prop_assert_eq!(fast, slow);
        }

        #[test]
        fn copy_masked_matches_reference(data in proptest::collection::vec(any::<u8>(), 0..300), key: [u8; 4], offset in 0usize..16) {
            let mut copied = alloc::vec![0u8; data.len()];
            copy_masked(&mut copied, &data, key, offset);
            let mut slow = data.clone();
            apply_mask_reference(&mut slow, key, offset);
            prop_assert_eq!(copied, slow);
        }
    }
}
