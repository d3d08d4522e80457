//! Output buffers that frames are written into.

/// A fixed output buffer (a [`SliceBuf`]) cannot hold a write; nothing was written.
///
/// The one "buffer too small" error of the crate, carried by all three paths that write: an
/// [`OutBuf`] refuses with [`Full::TooSmall`], the connection reports
/// [`Error::BufferTooSmall`](crate::Error::BufferTooSmall), the handshake (feature `alloc`)
/// [`HandshakeError::BufferTooSmall`](crate::handshake::HandshakeError::BufferTooSmall).
///
/// ```
/// use wsproto::{BufferTooSmall, Config, Connection, Error, Role, SliceBuf};
/// let mut server = Connection::new(Role::Server, Config::new());
/// let mut storage = [0u8; 4];
/// let err = server.send_binary(b"hello", &mut SliceBuf::new(&mut storage));
/// assert_eq!(err, Err(Error::BufferTooSmall(BufferTooSmall { required: 7 })));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BufferTooSmall {
    /// How many bytes of free space the write needs.
    pub required: usize,
}

impl core::fmt::Display for BufferTooSmall {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "output buffer too small: {} bytes needed", self.required)
    }
}

impl core::error::Error for BufferTooSmall {}

/// Why an [`OutBuf`] cannot take a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Full {
    /// A fixed buffer is too small for the write.
    TooSmall(BufferTooSmall),
    /// A [`WriteQueue`] refuses the write until it drains: data frames until the queue is
    /// down to its low-water mark, control frames until they fit under its high-water mark.
    Backpressure,
}

impl From<Full> for crate::Error {
    fn from(full: Full) -> Self {
        match full {
            Full::TooSmall(too_small) => Self::BufferTooSmall(too_small),
            Full::Backpressure => Self::Backpressure,
        }
    }
}

/// Somewhere to write outgoing bytes: a growable `Vec<u8>`, a fixed [`SliceBuf`], or a bounded
/// [`WriteQueue`].
///
/// Every write of the connection is all-or-nothing: it first asks for the whole space it
/// needs with [`reserve`](Self::reserve) (or [`reserve_control`](Self::reserve_control),
/// [`reserve_close`](Self::reserve_close); a compressed message asks
/// [`check_space`](Self::check_space) for its worst case before compressing, then reserves
/// its real size), and a buffer that refuses makes the call fail with
/// [`Error::BufferTooSmall`](crate::Error::BufferTooSmall) or
/// [`Error::Backpressure`](crate::Error::Backpressure) before anything is written.
pub trait OutBuf {
    /// Makes room for `additional` more bytes of data frames.
    ///
    /// # Errors
    /// [`Full`] when the buffer cannot or will not take them now.
    fn reserve(&mut self, additional: usize) -> Result<(), Full>;

    /// Checks, without making room yet, that `additional` more bytes of data frames could be
    /// taken now; a [`reserve`](Self::reserve) of at most `additional` bytes that follows
    /// (with nothing written in between) must then succeed.
    ///
    /// The connection asks this before it compresses a message (permessage-deflate): the
    /// compression context cannot be rewound, so a refusal has to come first, for the
    /// worst-case size, and only the compressed frame's real size is reserved afterwards. The
    /// default calls [`reserve`](Self::reserve), which is correct for any buffer; a growable
    /// buffer overrides it so that it does not allocate the worst case.
    ///
    /// # Errors
    /// [`Full`] as [`reserve`](Self::reserve) would give it.
    fn check_space(&mut self, additional: usize) -> Result<(), Full> {
        self.reserve(additional)
    }

    /// Makes room for `additional` more bytes of control frames only (Pong, Ping, Close: a few
    /// hundred bytes at most, from the connection's fixed reply slots). A [`WriteQueue`] takes
    /// these while they fit under its high-water mark, even while it refuses data, so that
    /// replies are not held back behind data; when they do not fit, the replies wait in the
    /// connection's slots (only the latest Pong is kept) for a later
    /// [`poll_transmit`](crate::Connection::poll_transmit).
    ///
    /// # Errors
    /// [`Full::TooSmall`] when a fixed buffer cannot take them, [`Full::Backpressure`] when
    /// they would take a bounded queue over its high-water mark.
    fn reserve_control(&mut self, additional: usize) -> Result<(), Full> {
        self.reserve(additional)
    }

    /// Makes room for a batch of control frames that ends with our Close frame (the pending
    /// Ping and Pong replies, then the Close). A connection sends one Close frame in its life,
    /// so a [`WriteQueue`] always takes this batch, even over its high-water mark: closing
    /// never waits for a peer that does not read.
    ///
    /// # Errors
    /// [`Full::TooSmall`] when a fixed buffer cannot take them.
    fn reserve_close(&mut self, additional: usize) -> Result<(), Full> {
        self.reserve_control(additional)
    }

    /// Appends `bytes` (space was reserved) and returns the appended region, so that it can be
    /// masked in place.
    fn append(&mut self, bytes: &[u8]) -> &mut [u8];

    /// Appends `bytes` masked with `key` (space was reserved). The default appends, then masks
    /// in place; buffers that can write the masked bytes in one pass override it.
    fn append_masked(&mut self, bytes: &[u8], key: [u8; 4]) {
        crate::mask::apply_mask(self.append(bytes), key, 0);
    }
}

/// Capacity a reused buffer (the message assembler's, the compressor's output buffer) keeps
/// between messages when it grew for a larger one: small traffic after a large message goes
/// back to about this much memory per buffer.
#[cfg(feature = "alloc")]
pub(crate) const RETAIN_CAPACITY: usize = 64 * 1024;

/// Gives back the memory a reused buffer grew for an unusually large message.
///
/// Call it once per message, with `used` the bytes that message needed in `buf`. When the
/// capacity is over both twice `floor` and four times `used`, it shrinks to `max(floor, used)`
/// (the contents, at most `used` bytes, are kept). Growth at most doubles a buffer, so traffic
/// of about the same size each time never shrinks it, not even for messages of about `floor`
/// bytes (a buffer that grew for one up to `2 × floor` stays), and steady state allocates
/// nothing per message; the first message after a large one, if small, brings the buffer back
/// to `floor`.
#[cfg(feature = "alloc")]
pub(crate) fn release_excess(buf: &mut alloc::vec::Vec<u8>, used: usize, floor: usize) {
    if buf.capacity() > floor.saturating_mul(2).max(used.saturating_mul(4)) {
        buf.shrink_to(floor.max(used).max(buf.len()));
    }
}

/// Appends `bytes` masked with `key` to a `Vec`: the new bytes are zeroed (a store-only pass)
/// and then written masked from `bytes`, instead of copied and then masked again in place.
#[cfg(feature = "alloc")]
fn vec_append_masked(vec: &mut alloc::vec::Vec<u8>, bytes: &[u8], key: [u8; 4]) {
    let start = vec.len();
    vec.resize(start + bytes.len(), 0);
    crate::mask::copy_masked(&mut vec[start..], bytes, key, 0);
}

#[cfg(feature = "alloc")]
impl OutBuf for alloc::vec::Vec<u8> {
    fn reserve(&mut self, additional: usize) -> Result<(), Full> {
        alloc::vec::Vec::reserve(self, additional);
        Ok(())
    }

    fn check_space(&mut self, _additional: usize) -> Result<(), Full> {
        // A `Vec` takes anything; room is made by the `reserve` that follows, for what is
        // really written.
        Ok(())
    }

    fn append(&mut self, bytes: &[u8]) -> &mut [u8] {
        let start = self.len();
        self.extend_from_slice(bytes);
        &mut self[start..]
    }

    fn append_masked(&mut self, bytes: &[u8], key: [u8; 4]) {
        vec_append_masked(self, bytes, key);
    }
}

/// A fixed, caller-owned output buffer (for `no_std` targets without `alloc`, or to write
/// straight into a socket's send buffer).
///
/// ```
/// use wsproto::SliceBuf;
/// let mut storage = [0u8; 64];
/// let mut out = SliceBuf::new(&mut storage);
/// assert_eq!(out.filled().len(), 0);
/// ```
#[derive(Debug)]
pub struct SliceBuf<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceBuf<'a> {
    /// An empty buffer over `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// The bytes written so far.
    #[must_use]
    pub fn filled(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Number of bytes written so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Free space left.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.len
    }

    /// Forgets the written bytes (after they were sent), keeping the storage.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl OutBuf for SliceBuf<'_> {
    fn reserve(&mut self, additional: usize) -> Result<(), Full> {
        if additional <= self.remaining() {
            Ok(())
        } else {
            Err(Full::TooSmall(BufferTooSmall { required: additional }))
        }
    }

    fn append(&mut self, bytes: &[u8]) -> &mut [u8] {
        let start = self.len;
        self.buf[start..start + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        &mut self.buf[start..self.len]
    }

    fn append_masked(&mut self, bytes: &[u8], key: [u8; 4]) {
        let start = self.len;
        crate::mask::copy_masked(&mut self.buf[start..start + bytes.len()], bytes, key, 0);
        self.len += bytes.len();
    }
}

impl<T: OutBuf + ?Sized> OutBuf for &mut T {
    fn reserve(&mut self, additional: usize) -> Result<(), Full> {
        (**self).reserve(additional)
    }

    fn check_space(&mut self, additional: usize) -> Result<(), Full> {
        (**self).check_space(additional)
    }

    fn reserve_control(&mut self, additional: usize) -> Result<(), Full> {
        (**self).reserve_control(additional)
    }

    fn reserve_close(&mut self, additional: usize) -> Result<(), Full> {
        (**self).reserve_close(additional)
    }

    fn append(&mut self, bytes: &[u8]) -> &mut [u8] {
        (**self).append(bytes)
    }

    fn append_masked(&mut self, bytes: &[u8], key: [u8; 4]) {
        (**self).append_masked(bytes, key);
    }
}

/// A bounded output queue with high- and low-water marks (feature `alloc`).
///
/// Frames are appended at the back; the caller writes [`pending`](Self::pending) to the
/// transport and reports what went out with [`consume`](Self::consume). What it takes:
///
/// * **Data frames** (and the replies written ahead of them) are taken while the queued bytes
///   stay at or below the high-water mark once written, or into an empty queue (so a message
///   larger than the high-water mark still goes out). A send that would go over the mark fails
///   with [`Error::Backpressure`](crate::Error::Backpressure) (nothing written, nothing lost),
///   and data stays refused until the queue has drained to the low-water mark.
/// * **Control frames** (the automatic Pong reply, a keepalive Ping, [`ping`] and [`pong`]) are
///   taken while the queued bytes stay at or below the high-water mark once written (or into
///   an empty queue), even while data is refused, so replies are not held back behind data.
///   When they do not fit they are refused with
///   [`Error::Backpressure`](crate::Error::Backpressure): automatic replies then wait in the
///   connection's fixed slots, where a newer Ping's Pong replaces an older one, and go out
///   with the first [`poll_transmit`](crate::Connection::poll_transmit) after the queue has
///   drained enough.
/// * **Our Close frame** is always taken, even over the high-water mark, together with the
///   replies written ahead of it (at most one keepalive Ping and one Pong): a connection
///   sends only one Close frame.
///
/// So however many Pings a peer that never reads sends, the queued bytes stay at or below the
/// high-water mark (or hold the one frame that went into an empty queue), plus at most one
/// batch of Ping, Pong and Close, once: at most 3 × 131 bytes.
///
/// [`ping`]: crate::Connection::ping
/// [`pong`]: crate::Connection::pong
///
/// ```
/// use wsproto::{Config, Connection, Error, Role, WriteQueue};
/// let mut server = Connection::new(Role::Server, Config::new());
/// let mut queue = WriteQueue::new(1024, 256);
/// server.send_binary(&[0; 1000], &mut queue).unwrap();
/// assert_eq!(server.send_binary(&[0; 100], &mut queue), Err(Error::Backpressure));
/// let written = queue.pending().len(); // ... written to the socket
/// queue.consume(written);
/// server.send_binary(&[0; 100], &mut queue).unwrap();
/// ```
#[cfg(feature = "alloc")]
#[derive(Clone, Debug, Default)]
pub struct WriteQueue {
    buf: alloc::vec::Vec<u8>,
    start: usize,
    high: usize,
    low: usize,
    blocked: bool,
}

#[cfg(feature = "alloc")]
impl WriteQueue {
    /// A queue that refuses data once more than `high` bytes wait, until at most `low` do.
    #[must_use]
    pub fn new(high: usize, low: usize) -> Self {
        Self { buf: alloc::vec::Vec::new(), start: 0, high, low: low.min(high), blocked: false }
    }

    /// The bytes waiting to be written, oldest first.
    #[must_use]
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Number of bytes waiting.
    #[must_use]
    pub fn len(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Whether nothing waits.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether data sends are refused now.
    #[must_use]
    pub fn is_blocked(&self) -> bool {
        self.blocked
    }

    /// Records that the first `n` pending bytes were written to the transport.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.buf.len());
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if self.len() <= self.low {
            self.blocked = false;
        }
    }
}

#[cfg(feature = "alloc")]
impl OutBuf for WriteQueue {
    fn reserve(&mut self, additional: usize) -> Result<(), Full> {
        self.check_space(additional)?;
        self.buf.reserve(additional);
        Ok(())
    }

    fn check_space(&mut self, additional: usize) -> Result<(), Full> {
        if self.blocked || (!self.is_empty() && self.len() + additional > self.high) {
            self.blocked = true;
            return Err(Full::Backpressure);
        }
        Ok(())
    }

    fn reserve_control(&mut self, additional: usize) -> Result<(), Full> {
        if !self.is_empty() && self.len() + additional > self.high {
            // The replies wait in the connection's fixed slots instead, so they cannot pile up.
            return Err(Full::Backpressure);
        }
        self.buf.reserve(additional);
        Ok(())
    }

    fn reserve_close(&mut self, additional: usize) -> Result<(), Full> {
        self.buf.reserve(additional);
        Ok(())
    }

    fn append(&mut self, bytes: &[u8]) -> &mut [u8] {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        &mut self.buf[start..]
    }

    fn append_masked(&mut self, bytes: &[u8], key: [u8; 4]) {
        vec_append_masked(&mut self.buf, bytes, key);
    }
}
