//! Where client masking keys and handshake nonces come from.

/// A source of unpredictable bytes for client masking keys (RFC 6455 §5.3) and the
/// `Sec-WebSocket-Key` nonce.
///
/// Keys are drawn from a 256-byte pool that is refilled in one call, so the operating system is
/// asked once per 64 frames rather than once per frame.
///
/// * [`KeySource::os`] (feature `getrandom`, on by default) fills the pool from the operating
///   system. This is what a client should use.
/// * [`KeySource::from_fn`] takes a function for targets that bring their own generator, such
///   as a hardware RNG on a microcontroller.
/// * [`KeySource::seeded`] is deterministic, **for tests only**: its keys are predictable.
#[derive(Clone)]
pub struct KeySource {
    fill: Filler,
    pool: [u8; POOL],
    used: usize,
}

const POOL: usize = 256;

#[derive(Clone, Copy)]
enum Filler {
    #[cfg(feature = "getrandom")]
    Os,
    Fn(fn(&mut [u8])),
    Seeded(u64),
}

impl KeySource {
    /// Unpredictable bytes from the operating system (`getrandom`).
    ///
    /// # Panics
    /// Filling panics if the operating system has no source of randomness, which is an
    /// environment that cannot run a WebSocket client safely.
    #[cfg(feature = "getrandom")]
    #[must_use]
    pub fn os() -> Self {
        Self::with(Filler::Os)
    }

    /// Bytes from a caller-supplied function, which must fill the whole slice with unpredictable
    /// bytes.
    #[must_use]
    pub fn from_fn(fill: fn(&mut [u8])) -> Self {
        Self::with(Filler::Fn(fill))
    }

    /// A deterministic stream (xorshift64*) from `seed`. **Predictable; for tests only.**
    #[must_use]
    pub fn seeded(seed: u64) -> Self {
        Self::with(Filler::Seeded(seed | 1))
    }

    fn with(fill: Filler) -> Self {
        Self { fill, pool: [0; POOL], used: POOL }
    }

    /// Fills `out` with bytes from the source.
    pub fn fill(&mut self, out: &mut [u8]) {
        let mut done = 0;
        while done < out.len() {
            if self.used == POOL {
                self.refill();
            }
            let n = (out.len() - done).min(POOL - self.used);
            out[done..done + n].copy_from_slice(&self.pool[self.used..self.used + n]);
            // Drawn bytes are not reused.
            self.used += n;
            done += n;
        }
    }

    /// A fresh 4-byte masking key.
    pub fn mask_key(&mut self) -> [u8; 4] {
        let mut k = [0; 4];
        self.fill(&mut k);
        k
    }

    fn refill(&mut self) {
        match &mut self.fill {
            #[cfg(feature = "getrandom")]
            Filler::Os => {
                if let Err(e) = getrandom::fill(&mut self.pool) {
                    panic!("operating system randomness unavailable: {e}");
                }
            }
            Filler::Fn(f) => f(&mut self.pool),
            Filler::Seeded(state) => {
                for chunk in self.pool.chunks_exact_mut(8) {
                    *state ^= *state >> 12;
                    *state ^= *state << 25;
                    *state ^= *state >> 27;
                    chunk.copy_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
                }
            }
        }
        self.used = 0;
    }
}

impl core::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let kind = match self.fill {
            #[cfg(feature = "getrandom")]
            Filler::Os => "os",
            Filler::Fn(_) => "fn",
            Filler::Seeded(_) => "seeded",
        };
        f.debug_struct("KeySource").field("kind", &kind).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_is_deterministic_and_varies() {
        let mut a = KeySource::seeded(7);
        let mut b = KeySource::seeded(7);
        let ka: [[u8; 4]; 100] = core::array::from_fn(|_| a.mask_key());
        let kb: [[u8; 4]; 100] = core::array::from_fn(|_| b.mask_key());
        assert_eq!(ka, kb);
        assert!(ka.windows(2).any(|w| w[0] != w[1]));
    }

    #[cfg(feature = "getrandom")]
    #[test]
    fn os_keys_differ() {
        let mut s = KeySource::os();
        let keys: [[u8; 4]; 200] = core::array::from_fn(|_| s.mask_key());
        let distinct = keys.iter().filter(|k| keys.iter().filter(|o| o == k).count() == 1).count();
        assert!(distinct > 190, "{distinct}");
    }

    #[test]
    fn from_fn_used() {
        let mut s = KeySource::from_fn(|b| b.fill(0xab));
        assert_eq!(s.mask_key(), [0xab; 4]);
    }
}
