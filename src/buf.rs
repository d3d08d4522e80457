//! Output buffers that frames are written into.

/// Somewhere to write outgoing bytes: a growable `Vec<u8>` or a fixed [`SliceBuf`].
///
/// Every write of the connection is all-or-nothing: it first asks for the whole space it
/// needs with [`reserve`](Self::reserve), and a fixed buffer that is too small makes the call
/// fail with [`Error::BufferTooSmall`](crate::Error::BufferTooSmall) before anything is written.
pub trait OutBuf {
    /// Makes room for `additional` more bytes, or reports how much free space is missing by
    /// returning `Err(required)` with the total free space the write needs.
    ///
    /// # Errors
    /// `Err(additional)` when a fixed buffer cannot take `additional` more bytes.
    fn reserve(&mut self, additional: usize) -> Result<(), usize>;

    /// Appends `bytes` (space was reserved) and returns the appended region, so that it can be
    /// masked in place.
    fn append(&mut self, bytes: &[u8]) -> &mut [u8];
}

#[cfg(feature = "alloc")]
impl OutBuf for alloc::vec::Vec<u8> {
    fn reserve(&mut self, additional: usize) -> Result<(), usize> {
        alloc::vec::Vec::reserve(self, additional);
        Ok(())
    }

    fn append(&mut self, bytes: &[u8]) -> &mut [u8] {
        let start = self.len();
        self.extend_from_slice(bytes);
        &mut self[start..]
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
    fn reserve(&mut self, additional: usize) -> Result<(), usize> {
        if additional <= self.remaining() { Ok(()) } else { Err(additional) }
    }

    fn append(&mut self, bytes: &[u8]) -> &mut [u8] {
        let start = self.len;
        self.buf[start..start + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        &mut self.buf[start..self.len]
    }
}

impl<T: OutBuf + ?Sized> OutBuf for &mut T {
    fn reserve(&mut self, additional: usize) -> Result<(), usize> {
        (**self).reserve(additional)
    }

    fn append(&mut self, bytes: &[u8]) -> &mut [u8] {
        (**self).append(bytes)
    }
}
