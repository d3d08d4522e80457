//! Whole-message delivery on top of the streaming events (feature `alloc`).

use alloc::vec::Vec;

use crate::{CloseFrame, ControlPayload, Error, Event, MessageKind};

/// A whole message, or a control frame passed through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message<'a> {
    /// A complete text message.
    Text(&'a str),
    /// A complete binary message.
    Binary(&'a [u8]),
    /// A Ping (already answered when auto-pong is on).
    Ping(ControlPayload),
    /// A Pong.
    Pong(ControlPayload),
    /// The peer's Close frame.
    Close(CloseFrame),
}

/// Builds whole messages from [`Event`]s, for callers that do not stream.
///
/// A message that arrives in one piece is passed through without a copy; a fragmented one is
/// gathered in a buffer that is reused from message to message (so steady state allocates
/// nothing). Its size is bounded by the connection's
/// [`Config::max_message_size`](crate::Config::max_message_size), which is checked before any
/// of a frame's payload is accepted.
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
    /// # Errors
    /// [`Error::InvalidUtf8`] if a text message is not UTF-8, which cannot happen for events from
    /// a [`Connection`](crate::Connection) (it checks text as it arrives).
    pub fn push<'a>(&'a mut self, event: Event<'a>) -> Result<Option<Message<'a>>, Error> {
        let (kind, data, first, last) = match event {
            Event::Data { kind, data, first, last } => (kind, data, first, last),
            Event::Ping(p) => return Ok(Some(Message::Ping(p))),
            Event::Pong(p) => return Ok(Some(Message::Pong(p))),
            Event::Close(c) => return Ok(Some(Message::Close(c))),
        };
        if first {
            self.buf.clear();
            self.kind = Some(kind);
            if last {
                // Arrived whole: lend the caller's own bytes.
                crate::buf::release_excess(&mut self.buf, data.len(), self.retain);
                return to_message(kind, data).map(Some);
            }
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

fn to_message(kind: MessageKind, data: &[u8]) -> Result<Message<'_>, Error> {
    Ok(match kind {
        MessageKind::Binary => Message::Binary(data),
        MessageKind::Text => match simdutf8::compat::from_utf8(data) {
            Ok(text) => Message::Text(text),
            Err(e) => return Err(Error::InvalidUtf8 { offset: e.valid_up_to() as u64 }),
        },
    })
}
