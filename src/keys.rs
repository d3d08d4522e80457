//! Where client masking keys and handshake nonces come from.

/// A source of unpredictable bytes for client masking keys (RFC 6455 §5.3) and the
/// `Sec-WebSocket-Key` nonce.
///
/// Keys are drawn from a 256-byte pool that is refilled in one step, 64 frames at a time.
///
/// * [`KeySource::os`] (feature `getrandom`, on by default) is what a client with an operating
///   system should use: a ChaCha12 key stream (the `chacha20` crate, the generator behind
///   `rand`'s `StdRng`) seeded with 32 bytes from the operating system on first use and
///   reseeded from it after every 64 KiB of output. The operating system is asked once per
///   16,384 frames instead of once per 64, which is what makes client encoding as fast as
///   server encoding.
/// * [`KeySource::from_seed`] (feature `chacha`, implied by `getrandom`) is the same ChaCha12
///   key stream seeded once with 32 bytes of the caller's: a device without an operating
///   system fills the seed from its hardware RNG. Nothing is needed but `core`.
/// * [`KeySource::from_fn`] takes a function that fills the pool each time: a platform's
///   stateless RNG call, or chosen bytes in a test (such as RFC 6455 §5.7's example key). A
///   plain `fn` holds no state: with an RNG driver, seed [`from_seed`](KeySource::from_seed).
/// * [`KeySource::seeded`] is deterministic, **for tests only**: its keys are predictable.
///
/// With feature `std`, an `os` source reseeds in a child process after `fork()` (it checks
/// the process id at each refill of the pool, so at most the keys left in the 256-byte pool
/// (64 keys) are shared with the parent; draw keys after the fork to share none). Without
/// `std` there is no process id to check: do not fork a process that holds a client.
///
/// Cloning an `os` or `from_fn` source does not copy its state: the clone starts from an empty
/// pool (and an `os` clone from a fresh seed), so two clones never hand out the same keys. A
/// `from_seed` or `seeded` clone
/// repeats the original's stream from where it stands (there is nothing to draw a fresh seed
/// from): give each connection a source of its own.
pub struct KeySource {
    fill: Filler,
    pool: [u8; POOL],
    used: usize,
}

const POOL: usize = 256;

/// Pool refills between two reseeds of the ChaCha stream from the operating system (64 KiB).
#[cfg(feature = "getrandom")]
const RESEED_EVERY: u32 = 256;

#[cfg(feature = "chacha")]
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
    /// A stream seeded by the caller. The seed is kept for [`Clone`] (the ChaCha core cannot be
    /// copied): a clone is the same stream at the same block.
    #[cfg(feature = "chacha")]
    Stream {
        stream: ChaCha12,
        seed: [u8; 32],
    },
    Fn(fn(&mut [u8])),
    Seeded(u64),
}

impl Clone for KeySource {
    fn clone(&self) -> Self {
        let fill = match &self.fill {
            #[cfg(feature = "getrandom")]
            Filler::Os { .. } => return Self::os(),
            #[cfg(feature = "chacha")]
            Filler::Stream { stream, seed } => {
                let mut copy = chacha_from_seed(*seed);
                copy.set_block_pos(stream.get_block_pos());
                Filler::Stream { stream: copy, seed: *seed }
            }
            Filler::Fn(f) => return Self::with(Filler::Fn(*f)),
            Filler::Seeded(state) => Filler::Seeded(*state),
        };
        Self { fill, pool: self.pool, used: self.used }
    }
}

impl KeySource {
    /// Unpredictable bytes from a ChaCha12 stream seeded (and reseeded every 64 KiB) from the
    /// operating system (`getrandom`). What [`Connection::new`](crate::Connection::new) and
    /// [`ClientRequest::new`](crate::handshake::ClientRequest::new) use when given no source.
    ///
    /// ```
    /// use wsproto::{Config, Connection, KeySource, Role};
    /// let client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::os());
    /// # let _ = client;
    /// ```
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

    /// The ChaCha12 key stream of [`os`](Self::os), seeded once with `seed` instead of by the
    /// operating system (feature `chacha`): how a device without one (`no_std`, with or without
    /// `alloc`) gives a client unpredictable masking keys and `Sec-WebSocket-Key` nonces.
    ///
    /// `seed` must be 32 unpredictable bytes, fresh for each source: fill it from a hardware RNG
    /// (any RNG driver can fill a byte array, whatever `rand_core` version it implements). The
    /// stream is ChaCha12 with `seed` as its key, block counter and stream id 0, the bytes of
    /// `chacha20::ChaCha12Rng::from_seed(seed)`: 2<sup>64</sup> blocks of 64 bytes, which never
    /// run out. Two sources from the same seed hand out the same keys, and so does a clone.
    ///
    /// ```
    /// use wsproto::{Config, Connection, KeySource, Role};
    /// # fn fill_from_hardware_rng(seed: &mut [u8; 32]) { seed.copy_from_slice(b"32 bytes that stand in for a RNG") }
    ///
    /// // On a device: 32 bytes from the hardware RNG, such as `rng.fill_bytes(&mut seed)` with
    /// // an embassy or esp-hal `Rng`.
    /// let mut seed = [0u8; 32];
    /// fill_from_hardware_rng(&mut seed);
    /// let mut client =
    ///     Connection::new(Role::Client, Config::new()).with_key_source(KeySource::from_seed(seed));
    ///
    /// let mut storage = [0u8; 64];
    /// let mut out = wsproto::SliceBuf::new(&mut storage);
    /// client.send_text("hi", &mut out).unwrap();
    /// // The frame is masked with the stream's first key.
    /// assert_eq!(out.filled()[2..6], KeySource::from_seed(seed).mask_key());
    /// ```
    #[cfg(feature = "chacha")]
    #[must_use]
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self::with(Filler::Stream { stream: chacha_from_seed(seed), seed })
    }

    /// Bytes from a caller-supplied function, which must fill the whole slice (256 bytes at a
    /// time) with unpredictable bytes: a platform's RNG call that needs no state of the
    /// caller's. A device whose RNG is a driver value seeds [`from_seed`](Self::from_seed)
    /// from it instead. Tests use it for chosen keys.
    ///
    /// ```
    /// use wsproto::KeySource;
    /// // RFC 6455 §5.7's example masking key, every time (a test's chosen bytes).
    /// let mut keys = KeySource::from_fn(|pool| {
    ///     for chunk in pool.chunks_mut(4) {
    ///         chunk.copy_from_slice(&[0x37, 0xfa, 0x21, 0x3d][..chunk.len()]);
    ///     }
    /// });
    /// assert_eq!(keys.mask_key(), [0x37, 0xfa, 0x21, 0x3d]);
    /// ```
    #[must_use]
    pub fn from_fn(fill: fn(&mut [u8])) -> Self {
        Self::with(Filler::Fn(fill))
    }

    /// A deterministic stream (xorshift64*) from `seed`. **Predictable; for tests only**: a
    /// client in production uses [`os`](Self::os) or [`from_seed`](Self::from_seed).
    ///
    /// ```
    /// use wsproto::KeySource;
    /// assert_eq!(KeySource::seeded(7).mask_key(), KeySource::seeded(7).mask_key());
    /// ```
    #[must_use]
    pub fn seeded(seed: u64) -> Self {
        Self::with(Filler::Seeded(seed | 1))
    }

    fn with(fill: Filler) -> Self {
        Self { fill, pool: [0; POOL], used: POOL }
    }

    /// Fills `out` with bytes from the source.
    ///
    /// ```
    /// use wsproto::KeySource;
    /// let mut nonce = [0u8; 16];
    /// KeySource::seeded(1).fill(&mut nonce);
    /// assert_ne!(nonce, [0; 16]);
    /// ```
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
    ///
    /// ```
    /// use wsproto::KeySource;
    /// let mut keys = KeySource::seeded(1);
    /// assert_ne!(keys.mask_key(), keys.mask_key());
    /// ```
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
                    *stream = Some(chacha_from_seed(seed));
                    *left = RESEED_EVERY;
                }
                *left -= 1;
                if let Some(stream) = stream {
                    chacha_fill(stream, &mut self.pool);
                }
            }
            #[cfg(feature = "chacha")]
            Filler::Stream { stream, .. } => chacha_fill(stream, &mut self.pool),
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

/// A ChaCha12 stream keyed with `seed`, block counter and stream id 0.
#[cfg(feature = "chacha")]
fn chacha_from_seed(seed: [u8; 32]) -> ChaCha12 {
    use chacha20::rand_core::SeedableRng;
    ChaCha12::from_seed(seed)
}

/// Fills the pool with the next 256 bytes (four blocks) of `stream`, little-endian words.
#[cfg(feature = "chacha")]
fn chacha_fill(stream: &mut ChaCha12, pool: &mut [u8; POOL]) {
    use chacha20::rand_core::block::Generator;
    let mut words = [0u32; POOL / 4];
    stream.generate(&mut words);
    for (bytes, word) in pool.chunks_exact_mut(4).zip(words) {
        bytes.copy_from_slice(&word.to_le_bytes());
    }
}

impl core::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let kind = match self.fill {
            #[cfg(feature = "getrandom")]
            Filler::Os { .. } => "os",
            #[cfg(feature = "chacha")]
            Filler::Stream { .. } => "from_seed",
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
