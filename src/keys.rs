//! Where client masking keys and handshake nonces come from.

/// A source of unpredictable bytes for client masking keys (RFC 6455 §5.3) and the
/// `Sec-WebSocket-Key` nonce.
///
/// Keys are drawn from a 256-byte pool that is refilled in one step, 64 frames at a time.
///
/// * [`KeySource::os`] (feature `getrandom`, on by default) is what a client should use: a
///   ChaCha12 key stream (the `chacha20` crate, the generator behind `rand`'s `StdRng`) seeded
///   with 32 bytes from the operating system on first use and reseeded from it after every
///   64 KiB of output. The operating system is asked once per 16,384 frames instead of once
///   per 64, which is what makes client encoding as fast as server encoding.
/// * [`KeySource::from_fn`] takes a function for targets that bring their own generator, such
///   as a hardware RNG on a microcontroller.
/// * [`KeySource::seeded`] is deterministic, **for tests only**: its keys are predictable.
///
/// With feature `std`, an `os` source reseeds in a child process after `fork()` (it checks
/// the process id at each refill of the pool, so at most the keys left in the 256-byte pool
/// (64 keys) are shared with the parent; draw keys after the fork to share none). Without
/// `std` there is no process id to check: do not fork a process that holds a client.
///
/// Cloning an `os` or `from_fn` source does not copy its state: the clone starts from an empty
/// pool (and an `os` clone from a fresh seed), so two clones never hand out the same keys. A
/// `seeded` clone repeats the original's stream, as a test expects.
pub struct KeySource {
    fill: Filler,
    pool: [u8; POOL],
    used: usize,
}

const POOL: usize = 256;

/// Pool refills between two reseeds of the ChaCha stream from the operating system (64 KiB).
#[cfg(feature = "getrandom")]
const RESEED_EVERY: u32 = 256;

#[cfg(feature = "getrandom")]
type ChaCha12 = chacha20::ChaChaCore<chacha20::R12, chacha20::variants::Legacy>;

enum Filler {
    #[cfg(feature = "getrandom")]
    Os {
        /// Seeded from the operating system on the first refill (a server, which never masks,
        /// never asks).
        stream: Option<ChaCha12>,
        /// Refills left before the next reseed.
        left: u32,
        /// The process that seeded the stream (feature `std`): a child of `fork()` reseeds
        /// before its first refill instead of repeating its parent's keys.
        #[cfg(feature = "std")]
        pid: u32,
    },
    Fn(fn(&mut [u8])),
    Seeded(u64),
}

impl Clone for KeySource {
    fn clone(&self) -> Self {
        match &self.fill {
            #[cfg(feature = "getrandom")]
            Filler::Os { .. } => Self::os(),
            Filler::Fn(f) => Self::with(Filler::Fn(*f)),
            Filler::Seeded(state) => Self { fill: Filler::Seeded(*state), pool: self.pool, used: self.used },
        }
    }
}

impl KeySource {
    /// Unpredictable bytes from a ChaCha12 stream seeded (and reseeded every 64 KiB) from the
    /// operating system (`getrandom`).
    ///
    /// # Panics
    /// Filling panics if the operating system has no source of randomness, which is an
    /// environment that cannot run a WebSocket client safely.
    #[cfg(feature = "getrandom")]
    #[must_use]
    pub fn os() -> Self {
        Self::with(Filler::Os {
            stream: None,
            left: 0,
            #[cfg(feature = "std")]
            pid: 0,
        })
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
    #[inline]
    pub fn mask_key(&mut self) -> [u8; 4] {
        if self.used + 4 <= POOL {
            let at = self.used;
            self.used += 4;
            return [self.pool[at], self.pool[at + 1], self.pool[at + 2], self.pool[at + 3]];
        }
        let mut k = [0; 4];
        self.fill(&mut k);
        k
    }

    #[cold]
    fn refill(&mut self) {
        match &mut self.fill {
            #[cfg(feature = "getrandom")]
            Filler::Os {
                stream,
                left,
                #[cfg(feature = "std")]
                pid,
            } => {
                use chacha20::rand_core::SeedableRng;
                use chacha20::rand_core::block::Generator;
                // After `fork()` parent and child hold the same stream: the child (whose
                // process id differs) reseeds. One `getpid` per 64 keys.
                #[cfg(feature = "std")]
                if core::mem::replace(pid, std::process::id()) != *pid {
                    *left = 0;
                }
                if *left == 0 {
                    let mut seed = [0; 32];
                    if let Err(e) = getrandom::fill(&mut seed) {
                        panic!("operating system randomness unavailable: {e}");
                    }
                    *stream = Some(ChaCha12::from_seed(seed));
                    *left = RESEED_EVERY;
                }
                *left -= 1;
                let mut words = [0u32; POOL / 4];
                if let Some(stream) = stream {
                    stream.generate(&mut words);
                }
                for (bytes, word) in self.pool.chunks_exact_mut(4).zip(words) {
                    bytes.copy_from_slice(&word.to_le_bytes());
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
            Filler::Os { .. } => "os",
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

    #[cfg(feature = "getrandom")]
    #[test]
    fn os_stream_reseeds_and_never_repeats() {
        // 20 reseed periods of keys: all 16-byte windows distinct (a repeat would mean a
        // stream restarted from the same state), and the bytes look uniform.
        let mut s = KeySource::os();
        let mut all = alloc::vec![0u8; 20 * 64 * 1024];
        for chunk in all.chunks_mut(4) {
            chunk.copy_from_slice(&s.mask_key());
        }
        let mut blocks: alloc::vec::Vec<&[u8]> = all.chunks(16).collect();
        blocks.sort_unstable();
        assert!(blocks.windows(2).all(|w| w[0] != w[1]));
        let mut counts = [0u32; 256];
        for &b in &all {
            counts[usize::from(b)] += 1;
        }
        let expect = all.len() as f64 / 256.0;
        let chi2: f64 = counts
            .iter()
            .map(|&c| {
                let d = f64::from(c) - expect;
                d * d / expect
            })
            .sum();
        // 255 degrees of freedom: the 99.99th percentile is about 360.
        assert!(chi2 < 360.0, "chi2 {chi2}");
    }

    #[cfg(feature = "getrandom")]
    #[test]
    fn os_clones_do_not_share_keys() {
        let mut a = KeySource::os();
        let _ = a.mask_key();
        let mut b = a.clone();
        let ka: [[u8; 4]; 64] = core::array::from_fn(|_| a.mask_key());
        let kb: [[u8; 4]; 64] = core::array::from_fn(|_| b.mask_key());
        assert_ne!(ka, kb);
    }

    #[test]
    fn from_fn_used() {
        let mut s = KeySource::from_fn(|b| b.fill(0xab));
        assert_eq!(s.mask_key(), [0xab; 4]);
    }
}
