//! Output buffers that frames are written into.

/// Why an [`OutBuf`] cannot take a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Full {
    /// A fixed buffer is too small: the write needs `required` bytes of free space.
    TooSmall {
        /// Free space the write needs.
        required: usize,
    },
    /// A [`WriteQueue`] is over its high-water mark: drain it below the low-water mark first.
    Backpressure,
}

impl From<Full> for crate::Error {
    fn from(full: Full) -> Self {
        match full {
            Full::TooSmall { required } => Self::BufferTooSmall { required },
            Full::Backpressure => Self::Backpressure,
        }
    }
}

/// Somewhere to write outgoing bytes: a growable `Vec<u8>`, a fixed [`SliceBuf`], or a bounded
/// [`WriteQueue`].
///
/// Every write of the connection is all-or-nothing: it first asks for the whole space it
/// needs with [`reserve`](Self::reserve), and a buffer that refuses makes the call fail with
/// [`Error::BufferTooSmall`](crate::Error::BufferTooSmall) or
/// [`Error::Backpressure`](crate::Error::Backpressure) before anything is written.
pub trait OutBuf {
    /// Makes room for `additional` more bytes of data frames.
    ///
    /// # Errors
    /// [`Full`] when the buffer cannot or will not take them now.
    fn reserve(&mut self, additional: usize) -> Result<(), Full>;

    /// Makes room for `additional` more bytes of control frames only (Pong, Ping, Close: a few
    /// hundred bytes at most, from fixed slots). A bounded queue lets these through even over
    /// its high-water mark, so that replies are never held back behind data.
    ///
    /// # Errors
    /// [`Full::TooSmall`] when a fixed buffer cannot take them.
    fn reserve_control(&mut self, additional: usize) -> Result<(), Full> {
        self.reserve(additional)
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
        if additional <= self.remaining() { Ok(()) } else { Err(Full::TooSmall { required: additional }) }
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

    fn reserve_control(&mut self, additional: usize) -> Result<(), Full> {
        (**self).reserve_control(additional)
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
/// transport and reports what went out with [`consume`](Self::consume). Once the queued bytes
/// go over the high-water mark, data sends fail with
/// [`Error::Backpressure`](crate::Error::Backpressure) (nothing written, nothing lost) until the
/// queue drains to the low-water mark. Control frames (the automatic Pong and Close replies, a
/// keepalive Ping) always get through, and since they come from fixed slots in the connection,
/// they never pile up: only the latest Pong is kept. A message larger than the high-water mark
/// is still accepted into an empty queue.
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
        if self.blocked || (!self.is_empty() && self.len() + additional > self.high) {
            self.blocked = true;
            return Err(Full::Backpressure);
        }
        self.buf.reserve(additional);
        Ok(())
    }

    fn reserve_control(&mut self, additional: usize) -> Result<(), Full> {
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
