//! Whole-message delivery on top of the streaming events (feature `alloc`).

use alloc::vec::Vec;

use crate::{Error, Event, Message, MessageKind};

/// Builds whole messages from [`Event`]s, for callers that keep their own receive loop and
/// read buffer and do not stream.
///
/// To have the crate run the loop and own the read buffer instead, use a
/// [`ReceiveBuffer`](crate::ReceiveBuffer) (or a [`SliceReceiveBuffer`](crate::SliceReceiveBuffer)
/// over your own memory): it also gathers messages cut by a read or fragmented in place, with
/// no copy, where an assembler must copy them out of a read buffer that the next read
/// overwrites.
///
/// A message that arrives in one piece is passed through without a copy (a text message as
/// the `&str` the connection checked, [`Event::Data`]'s `text`: it is not checked again); one
/// that arrives in several pieces (fragmented, or cut by a read) is gathered in a buffer that
/// is reused from message to message (so steady state allocates nothing), and checked once
/// more as a whole if it is text (the connection checked each piece as it arrived). Its size
/// is bounded by the connection's
/// [`Config::max_message_size`](crate::Config::max_message_size), which is checked before any
/// of a frame's payload is accepted.
///
/// Passing every event through [`push`](Self::push) costs about what the events alone cost:
/// `push` is inlined into the loop, so the event is not copied on its way in.
///
/// The buffer does not keep the memory an unusually large message needed. Its retain limit is
/// [`DEFAULT_RETAIN`](Self::DEFAULT_RETAIN), or the capacity given to
/// [`with_capacity`](Self::with_capacity) if larger. When a message is complete, or one
/// arrives in one piece, and the buffer's capacity is over both twice the retain limit and
/// four times that message's size, it shrinks to the retain limit (or the message's size, if
/// larger). So the first small message after a large one brings the buffer back to the retain
/// limit, while messages of about the same size (large or not) are gathered without any
/// allocation.
///
/// ```
/// use wsproto::{Config, Connection, KeySource, Message, MessageAssembler, MessageKind, Role};
/// let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(3));
/// let mut server = Connection::new(Role::Server, Config::new());
/// let mut wire = Vec::new();
/// client.send_fragment(MessageKind::Text, b"Hello, ", false, &mut wire).unwrap();
/// client.send_fragment(MessageKind::Text, b"world", true, &mut wire).unwrap();
///
/// let mut assembler = MessageAssembler::new();
/// let mut pos = 0;
/// let mut got = None;
/// while let Some(event) = {
///     let r = server.receive(&mut wire[pos..]).unwrap();
///     pos += r.consumed;
///     r.event
/// } {
///     if let Some(Message::Text(text)) = assembler.push(event).unwrap() {
///         got = Some(text.to_owned());
///     }
/// }
/// assert_eq!(got.as_deref(), Some("Hello, world"));
/// ```
#[derive(Clone, Debug)]
pub struct MessageAssembler {
    buf: Vec<u8>,
    kind: Option<MessageKind>,
    /// Capacity kept between messages however small they are.
    retain: usize,
}

impl Default for MessageAssembler {
    fn default() -> Self {
        Self::new()
    }
}

impl MessageAssembler {
    /// The capacity (64 KiB) the reassembly buffer keeps after a larger message, once smaller
    /// messages follow, unless [`with_capacity`](Self::with_capacity) asked for more.
    pub const DEFAULT_RETAIN: usize = crate::buf::RETAIN_CAPACITY;

    /// An assembler with no buffer yet.
    #[must_use]
    pub const fn new() -> Self {
        Self { buf: Vec::new(), kind: None, retain: Self::DEFAULT_RETAIN }
    }

    /// An assembler whose buffer starts with `capacity` bytes, and keeps that much (at least
    /// [`DEFAULT_RETAIN`](Self::DEFAULT_RETAIN)) after larger messages.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self { buf: Vec::with_capacity(capacity), kind: None, retain: capacity.max(Self::DEFAULT_RETAIN) }
    }

    /// Takes the next event and returns a whole message when one is complete. Control frames
    /// pass straight through.
    ///
    /// Text is checked once. A text message that came whole in one piece is lent as the
    /// event's `text`, which the connection checked as it arrived; a message gathered from
    /// pieces (the connection checked each piece as it arrived, failing at the first bad byte)
    /// is checked once more as a whole, the one call that lends it as `&str`.
    ///
    /// # Errors
    /// [`Error::InvalidUtf8`] if a text message is not UTF-8, which cannot happen for events from
    /// a [`Connection`](crate::Connection) (it checks text as it arrives).
    #[inline]
    pub fn push<'a>(&'a mut self, event: Event<'a>) -> Result<Option<Message<'a>>, Error> {
        let (kind, data, first, last, text) = match event {
            Event::Data { kind, data, first, last, text } => (kind, data, first, last, text),
            Event::Ping(p) => return Ok(Some(Message::Ping(p))),
            Event::Pong(p) => return Ok(Some(Message::Pong(p))),
            Event::Close(c) => return Ok(Some(Message::Close(c))),
        };
        if first && last {
            // Arrived whole: lend the caller's own bytes, no copy and no second check.
            if self.buf.capacity() > self.retain.saturating_mul(2) {
                self.buf.clear();
                crate::buf::release_excess(&mut self.buf, data.len(), self.retain);
            }
            return match (kind, text) {
                (MessageKind::Binary, _) => Ok(Some(Message::Binary(data))),
                (MessageKind::Text, Some(text)) => Ok(Some(Message::Text(text))),
                (MessageKind::Text, None) => to_message(kind, data).map(Some),
            };
        }
        if first {
            self.buf.clear();
            self.kind = Some(kind);
        }
        self.buf.extend_from_slice(data);
        if !last {
            return Ok(None);
        }
        let kind = self.kind.take().unwrap_or(kind);
        let len = self.buf.len();
        crate::buf::release_excess(&mut self.buf, len, self.retain);
        to_message(kind, &self.buf).map(Some)
    }

    /// Releases buffer memory beyond `keep` bytes now (it also happens by itself: see the
    /// type's documentation).
    pub fn shrink_to(&mut self, keep: usize) {
        self.buf.clear();
        self.buf.shrink_to(keep);
    }

    /// The capacity of the reassembly buffer.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

/// A whole message from its bytes; text is checked here, in the one call that lends it as
/// `&str`.
#[inline]
fn to_message(kind: MessageKind, data: &[u8]) -> Result<Message<'_>, Error> {
    Ok(match kind {
        MessageKind::Binary => Message::Binary(data),
        MessageKind::Text => match crate::utf8::check_whole(data) {
            Ok(text) => Message::Text(text),
            Err(offset) => return Err(Error::InvalidUtf8 { offset }),
        },
    })
}
