//! [`SliceReceiveBuffer`]: the receive buffer over a caller's fixed slice, with no allocation.

use super::Found;
use super::state::Core;
use crate::{BufferTooSmall, Connection, Error, Message};

/// Whole messages out of a fixed buffer of the caller's, with no allocation (for devices):
/// [`ReceiveBuffer`](crate::ReceiveBuffer)'s calls over `&mut [u8]`.
///
/// A message must fit in the buffer (with the frame headers of its fragments, which are
/// overwritten as it is gathered): one that cannot fails the connection as a message over the
/// size limit, [`Error::LimitExceeded`]`(`[`Limit::MessageSize`](crate::Limit::MessageSize)`)`,
/// close code 1009, as soon as that is certain (a frame header that announces more than
/// fits, or a full buffer). Set [`Config::max_message_size`](crate::Config::max_message_size)
/// below the buffer's size and the connection refuses such messages at their first header
/// instead. With permessage-deflate, give a scratch space too
/// ([`with_scratch`](Self::with_scratch)): decoded messages are gathered there and must fit
/// in it, with a byte to spare.
///
/// Text is checked as for [`ReceiveBuffer`](crate::ReceiveBuffer): once for a message that came whole in one read,
/// piece by piece and then once more as a whole for a message in several pieces.
///
/// ```
/// use wsproto::{Config, Connection, KeySource, Message, Role, SliceReceiveBuffer};
/// let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(3));
/// let mut wire = Vec::new();
/// client.send_binary(&[7; 300], &mut wire).unwrap();
///
/// let mut server = Connection::new(Role::Server, Config::new());
/// let mut storage = [0u8; 512];
/// let mut buf = SliceReceiveBuffer::new(&mut storage);
/// let mut sizes = Vec::new();
/// for chunk in wire.chunks(100) {
///     // A read of at most 100 bytes.
///     let free = buf.free_space();
///     let n = chunk.len().min(free.len());
///     free[..n].copy_from_slice(&chunk[..n]);
///     buf.filled(n);
///     while let Some(message) = buf.next_message(&mut server).unwrap() {
///         if let Message::Binary(data) = message {
///             sizes.push(data.len());
///         }
///     }
/// }
/// assert_eq!(sizes, [300]);
/// ```
#[derive(Debug)]
pub struct SliceReceiveBuffer<'a> {
    core: Core<&'a mut [u8]>,
}

impl<'a> SliceReceiveBuffer<'a> {
    /// A buffer over `buf`, for connections without permessage-deflate.
    #[must_use]
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self::with_scratch(buf, &mut [])
    }

    /// A buffer over `buf`, with `scratch` for the decoded data of a connection that
    /// [`needs scratch`](Connection::needs_scratch) (permessage-deflate).
    #[must_use]
    pub fn with_scratch(buf: &'a mut [u8], scratch: &'a mut [u8]) -> Self {
        // What counts as a full read: a message larger than this is read up to the end of its
        // frame and no further, so that the next one starts at the front.
        let read_size = buf.len().min(64 * 1024);
        Self { core: Core::new(buf, scratch, read_size) }
    }

    /// Free space to read the transport into. Read only once [`next`](Self::next) or
    /// [`next_message`](Self::next_message) returned `None` (all input consumed): then it is
    /// never empty.
    pub fn free_space(&mut self) -> &mut [u8] {
        self.core.free_space()
    }

    /// Records that `n` bytes were read into [`free_space`](Self::free_space).
    ///
    /// # Panics
    /// If `n` is more than `free_space` offered.
    pub fn filled(&mut self, n: usize) {
        self.core.filled(n);
    }

    /// Appends bytes that were read already, such as what came after the opening handshake.
    ///
    /// # Errors
    /// [`BufferTooSmall`] when they do not fit; nothing was appended.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) -> Result<(), BufferTooSmall> {
        if self.core.extend_from_slice(bytes) {
            return Ok(());
        }
        let free = self.core.input.len() - self.core.end;
        Err(BufferTooSmall { required: bytes.len() - free })
    }

    /// As [`ReceiveBuffer::next`](crate::ReceiveBuffer::next).
    ///
    /// # Errors
    /// As for [`ReceiveBuffer::next`](crate::ReceiveBuffer::next), and [`Error::LimitExceeded`] (1009) when a message does
    /// not fit.
    #[inline]
    pub fn next(&mut self, conn: &mut Connection) -> Result<Option<Found>, Error> {
        self.core.next(conn)
    }

    /// As [`ReceiveBuffer::message`](crate::ReceiveBuffer::message).
    ///
    /// # Errors
    /// As for [`ReceiveBuffer::message`](crate::ReceiveBuffer::message).
    pub fn message(&mut self, found: Found, conn: &mut Connection) -> Result<Message<'_>, Error> {
        self.core.message(found, conn)
    }

    /// [`next`](Self::next) and [`message`](Self::message) in one call.
    ///
    /// # Errors
    /// As for `next` and `message`.
    #[inline]
    pub fn next_message(&mut self, conn: &mut Connection) -> Result<Option<Message<'_>>, Error> {
        match self.core.next(conn)? {
            Some(found) => self.core.data(found, conn).map(Some),
            None => Ok(None),
        }
    }
}
