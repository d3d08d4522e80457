//! [`ReceiveBuffer`]: the receive buffer that owns its memory and grows for large messages.

use alloc::vec::Vec;

use super::state::{Core, Held, Partial};
use super::{Found, Place};
use crate::{Connection, Error, Message};

/// Whole messages out of a read buffer that grows as they need (feature `alloc`): read the
/// transport into [`free_space`](Self::free_space), report it with
/// [`filled`](Self::filled), and take messages with [`next_message`](Self::next_message).
///
/// It runs the [`Connection::receive`](Connection::receive) loop for you: it never re-feeds
/// consumed bytes, keeps a frame cut by a read in place until the rest arrives, gathers a
/// fragmented message in place (closing the gaps that frame headers leave), and passes a
/// scratch space to [`receive_into`](Connection::receive_into) when the connection
/// [`needs scratch`](Connection::needs_scratch) (permessage-deflate), gathering decoded
/// messages there. A message is lent from the buffer without a copy.
///
/// **Text is checked once.** A text message that came whole in one read is checked by the
/// one call that lends it as `&str`. A message in several pieces (fragmented, or cut by a
/// read) is checked piece by piece as it arrives, so that invalid UTF-8 fails the connection
/// (1007) before the rest of the message is waited for, and once more as a whole when it is
/// lent: safe Rust has no other way to make one `&str` of it.
///
/// **Memory.** Reads of `read_size` bytes (64 KiB by default); the buffer grows to hold a
/// message larger than that, at most to about twice the connection's
/// [`max_message_size`](crate::Config::max_message_size) (checked at each frame header, before
/// any payload is accepted; a message in one frame takes its size plus one read, a fragmented
/// one doubles the buffer as it grows). A read never brings bytes past the end of a frame
/// larger than the read size, so that the next message starts at the front of the buffer
/// and is never moved. After a large message it gives the memory back as
/// [`MessageAssembler`](crate::MessageAssembler) does: once all input is consumed, a buffer
/// over both twice the read size and four times the last message's size shrinks back to the
/// read size. [`release`](Self::release) frees everything while the connection is idle.
///
/// Feed the connection only through the buffer while it is in use.
///
/// ```
/// use wsproto::{Config, Connection, KeySource, Message, ReceiveBuffer, Role};
/// let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(3));
/// let mut wire = Vec::new();
/// client.send_text("Hello, world", &mut wire).unwrap();
/// client.ping(b"are you there?", &mut wire).unwrap();
///
/// let mut server = Connection::new(Role::Server, Config::new());
/// let mut buf = ReceiveBuffer::new();
/// let mut transport = &wire[..]; // anything that reads: a socket, a file, a slice
/// let mut got = Vec::new();
/// loop {
///     while let Some(message) = buf.next_message(&mut server).unwrap() {
///         match message {
///             Message::Text(text) => got.push(text.to_owned()),
///             Message::Ping(p) => got.push(format!("ping {:?}", p.as_bytes())),
///             _ => {}
///         }
///     }
///     // server.poll_transmit(&mut out) and write `out`: the automatic Pong is queued.
///     let n = std::io::Read::read(&mut transport, buf.free_space()).unwrap();
///     if n == 0 {
///         break; // end of input: server.receive_eof()
///     }
///     buf.filled(n);
/// }
/// assert_eq!(got, ["Hello, world", "ping [97, 114, 101, 32, 121, 111, 117, 32, 116, 104, 101, 114, 101, 63]"]);
/// ```
///
/// Code that must hold on to a found message across other work (an async task that writes
/// the automatic replies first, where a cancelled future must lose nothing) takes it in two
/// steps: [`next`](Self::next) returns a [`Found`] that borrows nothing, and
/// [`message`](Self::message) lends it later.
#[derive(Debug)]
pub struct ReceiveBuffer {
    core: Core<Vec<u8>>,
}

impl Default for ReceiveBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl ReceiveBuffer {
    /// The default read size, 64 KiB.
    pub const DEFAULT_READ_SIZE: usize = 64 * 1024;

    /// A buffer for reads of [`DEFAULT_READ_SIZE`](Self::DEFAULT_READ_SIZE) bytes; nothing is
    /// allocated until the first read.
    #[must_use]
    pub fn new() -> Self {
        Self::with_read_size(Self::DEFAULT_READ_SIZE)
    }

    /// A buffer for reads of `read_size` bytes (at least 256); nothing is allocated until the
    /// first read.
    #[must_use]
    pub fn with_read_size(read_size: usize) -> Self {
        Self { core: Core::new(Vec::new(), Vec::new(), read_size.max(256)) }
    }

    /// Free space to read the transport into, at least one byte (the first call allocates the
    /// buffer). Read only once [`next`](Self::next) or [`next_message`](Self::next_message)
    /// returned `None` (all input consumed): then it has room for the rest of the frame in
    /// progress, or for a read of the read size.
    pub fn free_space(&mut self) -> &mut [u8] {
        self.provide(|size| alloc::vec![0; size]);
        self.core.free_space()
    }

    /// Records that `n` bytes were read into [`free_space`](Self::free_space).
    ///
    /// # Panics
    /// If `n` is more than `free_space` offered.
    pub fn filled(&mut self, n: usize) {
        self.core.filled(n);
    }

    /// Appends bytes that were read already, such as what came after the opening handshake
    /// (frames the peer sent right behind it).
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.provide(|size| alloc::vec![0; size]);
        self.core.extend_from_slice(bytes);
    }

    /// Feeds the buffered input to `conn` until it yields a whole message or a control frame
    /// (Ping, Pong, Close), described by a [`Found`]; `None` when all input is consumed and
    /// more must be read. Take the message with [`message`](Self::message) before anything
    /// else.
    ///
    /// # Errors
    /// The connection's [`Error`] (fatal ones fail it and queue the Close frame that answers
    /// them: write out [`poll_transmit`](Connection::poll_transmit)). Also
    /// [`Error::InvalidUtf8`] (1007) when a text message found by the previous call was not
    /// taken and is not UTF-8: text is checked before the connection reads on.
    pub fn next(&mut self, conn: &mut Connection) -> Result<Option<Found>, Error> {
        self.provide_scratch(conn, |size| alloc::vec![0; size]);
        let found = self.core.next(conn);
        if matches!(found, Ok(None)) {
            self.give_back_excess();
        }
        found
    }

    /// The message `found` (from the last call to [`next`](Self::next)) describes, lent from
    /// the buffer; a control frame's payload comes from `conn`. Text is checked here, once.
    ///
    /// # Errors
    /// [`Error::InvalidUtf8`] (1007) when a text message is not UTF-8: the connection has
    /// failed and queued its Close frame.
    ///
    /// [`Misuse::StaleFound`](crate::Misuse::StaleFound) (the connection is unharmed) when the
    /// bytes `found` points at may have moved since `next` returned it (see [`Found`]).
    pub fn message(&mut self, found: Found, conn: &mut Connection) -> Result<Message<'_>, Error> {
        self.core.message(found, conn)
    }

    /// [`next`](Self::next) and [`message`](Self::message) in one call.
    ///
    /// # Errors
    /// As for `next` and `message`.
    #[inline]
    pub fn next_message(&mut self, conn: &mut Connection) -> Result<Option<Message<'_>>, Error> {
        self.provide_scratch(conn, |size| alloc::vec![0; size]);
        match self.core.next(conn)? {
            Some(found) => self.core.data(found, conn).map(Some),
            None => {
                self.give_back_excess();
                Ok(None)
            }
        }
    }

    /// The read buffer, from `take(read_size)` when there is none (the first read, or after a
    /// release).
    #[inline]
    pub(crate) fn provide(&mut self, take: impl FnOnce(usize) -> Vec<u8>) {
        if self.core.input.is_empty() {
            self.core.input = take(self.core.read_size);
        }
    }

    /// A connection that decodes (permessage-deflate) needs a scratch space: from
    /// `take(read_size)` when there is none.
    #[inline]
    pub(crate) fn provide_scratch(&mut self, conn: &Connection, take: impl FnOnce(usize) -> Vec<u8>) {
        if conn.needs_scratch() && self.core.scratch.is_empty() {
            self.core.scratch = take(self.core.read_size);
        }
    }

    /// Gives the buffers back (to the allocator) while nothing is buffered and no message is
    /// in progress, as an idle connection can; the next read allocates again. Does nothing
    /// otherwise.
    pub fn release(&mut self) {
        self.release_into(drop);
    }

    /// [`release`](Self::release), giving the buffers of the usual size to `give` (the
    /// adapters' per-thread pools) instead of freeing them.
    pub(crate) fn release_into(&mut self, mut give: impl FnMut(Vec<u8>)) {
        if !self.core.is_idle() {
            return;
        }
        self.core.move_on();
        self.core.start = 0;
        self.core.end = 0;
        let size = self.core.read_size;
        for buf in [core::mem::take(&mut self.core.input), core::mem::take(&mut self.core.scratch)] {
            // Only buffers of the usual size are worth keeping.
            if buf.len() == size {
                give(buf);
            }
        }
    }

    /// The bytes of buffer memory held (read buffer and scratch space).
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.core.input.capacity() + self.core.scratch.capacity()
    }

    /// Shrinks what a large message made grow, once all input is consumed (see the type's
    /// documentation).
    fn give_back_excess(&mut self) {
        let core = &mut self.core;
        let floor = core.read_size.max(crate::buf::RETAIN_CAPACITY);
        let used = core.last_len;
        let over = |size: usize| size > floor.saturating_mul(2) && size > used.saturating_mul(4);
        if matches!(core.held, Held::Nothing) && core.start == core.end && over(core.input.len()) {
            // The next read takes a buffer of the read size again.
            core.input = Vec::new();
            core.start = 0;
            core.end = 0;
        }
        if !matches!(core.held, Held::Partial(Partial { place: Some(Place::Scratch), .. })) && over(core.scratch.len())
        {
            core.scratch = Vec::new();
        }
    }

    /// Gives the scratch space (of the usual size) to `give` between calls when no decoded
    /// message is in progress (the adapters hold it only while they decode).
    #[cfg(feature = "std")]
    pub(crate) fn release_scratch(&mut self, give: impl FnOnce(Vec<u8>)) {
        if !matches!(self.core.held, Held::Partial(Partial { place: Some(Place::Scratch), .. })) {
            let buf = core::mem::take(&mut self.core.scratch);
            if buf.len() == self.core.read_size {
                give(buf);
            }
        }
    }
}
