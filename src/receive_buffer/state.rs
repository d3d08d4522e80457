//! What both receive buffers share: the receive loop over the buffered input, in-place
//! reassembly, room for the next read, and the one check of a whole text message.

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

use super::{Found, Place, What};
use crate::{CloseFrame, Connection, Error, Event, Message, MessageKind, Misuse};

/// Where a buffer keeps bytes: a `Vec` that grows, or a caller's slice that does not.
pub(super) trait Space {
    fn bytes(&self) -> &[u8];
    fn bytes_mut(&mut self) -> &mut [u8];
    /// Makes the space at least `len` bytes long; `false` when it cannot.
    fn grow_to(&mut self, len: usize) -> bool;
    /// Whether [`grow_to`](Self::grow_to) can make the space longer.
    fn can_grow(&self) -> bool;
}

impl Space for &mut [u8] {
    fn bytes(&self) -> &[u8] {
        self
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }

    fn grow_to(&mut self, len: usize) -> bool {
        len <= self.len()
    }

    fn can_grow(&self) -> bool {
        false
    }
}

#[cfg(feature = "alloc")]
impl Space for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }

    fn grow_to(&mut self, len: usize) -> bool {
        if len > self.len() {
            self.resize(len, 0);
        }
        true
    }

    fn can_grow(&self) -> bool {
        true
    }
}

/// A message that came in several pieces, gathered in place: `len` bytes at `at` in the input
/// (or, for a decoded message, at the start of the scratch space).
#[derive(Clone, Copy, Debug)]
pub(super) struct Partial {
    pub(super) place: Option<Place>,
    pub(super) at: usize,
    pub(super) len: usize,
}

/// What a buffer holds besides unconsumed input.
#[derive(Clone, Copy, Debug)]
pub(super) enum Held {
    Nothing,
    /// A message arriving in pieces.
    Partial(Partial),
    /// A whole text message found and not yet checked: it is checked by
    /// [`data`](Core::data), or by the next [`next`](Core::next) before the connection is fed
    /// again.
    Unchecked(Found),
}

/// The state both buffers share; `S` is where the bytes are.
#[derive(Debug)]
pub(super) struct Core<S> {
    /// Bytes read: consumed ones, then unconsumed input at `start..end`, then free space. A
    /// message arriving in pieces is gathered among the consumed ones.
    pub(super) input: S,
    pub(super) start: usize,
    pub(super) end: usize,
    /// Where decoded data is written (permessage-deflate); a decoded message is gathered at
    /// its start.
    pub(super) scratch: S,
    /// A message in progress, or a whole text message found and not yet checked (never both:
    /// the check comes before the connection reads on).
    pub(super) held: Held,
    /// The free space a read should find (and the size of a scratch space made for decoded
    /// data).
    pub(super) read_size: usize,
    /// The size of the last whole message, for giving memory back after a large one.
    pub(super) last_len: usize,
    /// The most a read should bring: the rest of a large frame in progress (so that the next
    /// message starts at the front, and is not moved there), otherwise unlimited.
    pub(super) read_limit: usize,
    /// Moves on with every call that may move or overwrite what a `Found` points at (`next`,
    /// moving the kept bytes to the front to make room, releasing): a `Found` given to
    /// `message` must carry the current one. 64 bits: no program lives through 2^64 calls, so
    /// an old `Found` never matches again after a wrap.
    pub(super) generation: u64,
}

impl<S: Space> Core<S> {
    pub(super) fn new(input: S, scratch: S, read_size: usize) -> Self {
        Self {
            input,
            start: 0,
            end: 0,
            scratch,
            held: Held::Nothing,
            read_size,
            last_len: 0,
            read_limit: usize::MAX,
            generation: 0,
        }
    }

    /// Every `Found` handed out so far is stale from now on.
    pub(super) fn move_on(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    pub(super) fn free_space(&mut self) -> &mut [u8] {
        if self.end == self.input.bytes().len() {
            // Not drained first: make room by moving what is kept to the front (or growing).
            self.compact();
            if self.end == self.input.bytes().len() {
                self.input.grow_to(self.end + self.read_size);
            }
        }
        let end = self.end;
        let space = self.input.bytes_mut();
        let stop = space.len().min(end.saturating_add(self.read_limit)).max(end + 1).min(space.len());
        &mut space[end..stop]
    }

    /// Moves what the input still holds (a message in progress, one found and not yet
    /// checked, the unconsumed input) to the front.
    fn compact(&mut self) {
        let mut keep = self.start;
        match self.held {
            Held::Partial(Partial { place: Some(Place::Input), at, .. })
            | Held::Unchecked(Found { what: What::Data { place: Place::Input, at, .. }, .. }) => keep = keep.min(at),
            _ => {}
        }
        if keep == 0 {
            return;
        }
        // What a `Found` points at moves.
        self.move_on();
        self.input.bytes_mut().copy_within(keep..self.end, 0);
        self.start -= keep;
        self.end -= keep;
        match &mut self.held {
            Held::Partial(Partial { place: Some(Place::Input), at, .. })
            | Held::Unchecked(Found { what: What::Data { place: Place::Input, at, .. }, .. }) => *at -= keep,
            _ => {}
        }
    }

    pub(super) fn filled(&mut self, n: usize) {
        assert!(n <= self.input.bytes().len() - self.end, "filled more bytes than free_space offered");
        self.end += n;
    }

    /// Appends `bytes` to the input, making room; `false` (nothing appended) when it cannot.
    pub(super) fn extend_from_slice(&mut self, bytes: &[u8]) -> bool {
        if self.input.bytes().len() - self.end < bytes.len() {
            self.compact();
        }
        if !self.input.grow_to(self.end + bytes.len()) {
            return false;
        }
        self.input.bytes_mut()[self.end..self.end + bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
        true
    }

    /// Feeds the buffered input to `conn` until it yields a whole message or a control frame,
    /// or needs more input (`None`: everything was consumed, and there is room to read).
    #[inline]
    pub(super) fn next(&mut self, conn: &mut Connection) -> Result<Option<Found>, Error> {
        if let Held::Unchecked(found) = self.held {
            // Checked before the connection reads anything after it: failures keep their place
            // in the stream.
            self.data(found, conn)?;
        }
        // Every `Found` handed out before is stale; the one this call finds carries the new
        // generation.
        self.move_on();
        loop {
            if self.start == self.end && !conn.has_pending_data() {
                // A failed connection's error repeats (errors are sticky), also with nothing
                // buffered.
                if let Some(e) = conn.error() {
                    return Err(e);
                }
                self.make_room(conn)?;
                return Ok(None);
            }
            let start = self.start;
            if let Some((consumed, head, kind)) = conn.take_whole_frame(&mut self.input.bytes_mut()[start..self.end]) {
                self.start += consumed;
                return Ok(Some(self.whole(kind, Place::Input, start + head, consumed - head)));
            }
            if let Some(found) = self.step(conn)? {
                return Ok(Some(found));
            }
        }
    }

    /// A message that came whole in one piece.
    #[inline]
    fn whole(&mut self, kind: MessageKind, place: Place, at: usize, len: usize) -> Found {
        let found = Found { what: What::Data { kind, place, at, len }, generation: self.generation };
        if kind == MessageKind::Text {
            self.held = Held::Unchecked(found);
        }
        self.last_len = len;
        found
    }

    /// One call of the general receive path.
    fn step(&mut self, conn: &mut Connection) -> Result<Option<Found>, Error> {
        let decoding = conn.needs_scratch();
        let used = match self.held {
            Held::Partial(Partial { place: Some(Place::Scratch), len, .. }) => len,
            _ => 0,
        };
        if decoding {
            self.scratch_room(conn, used)?;
        }
        let start = self.start;
        let input = &mut self.input.bytes_mut()[start..self.end];
        let input_at = input.as_ptr() as usize;
        let scratch: &mut [u8] = if decoding { &mut self.scratch.bytes_mut()[used..] } else { &mut [] };
        let scratch_at = scratch.as_ptr() as usize;
        let scratch_len = scratch.len();
        let r = conn.receive_unchecked(input, scratch)?;
        self.start = start + r.consumed;
        let (kind, data, first, last) = match r.event {
            None => return Ok(None),
            Some(Event::Data { kind, data, first, last, .. }) => (kind, data, first, last),
            Some(Event::Ping(_)) => return Ok(Some(Found { what: What::Ping, generation: self.generation })),
            Some(Event::Pong(_)) => return Ok(Some(Found { what: What::Pong, generation: self.generation })),
            Some(Event::Close(_)) => return Ok(Some(Found { what: What::Close, generation: self.generation })),
        };
        // Where the piece is: in the scratch space (decoded) or in the input (unmasked in
        // place). Addresses only tell the two allocations apart.
        let len = data.len();
        let addr = data.as_ptr() as usize;
        let place = if len == 0 {
            None
        } else if addr.wrapping_sub(scratch_at) < scratch_len {
            Some((Place::Scratch, used + (addr - scratch_at)))
        } else {
            Some((Place::Input, start + (addr - input_at)))
        };
        if first && last {
            let (place, at) = place.unwrap_or((Place::Input, 0));
            return Ok(Some(self.whole(kind, place, at, len)));
        }
        let mut partial = match self.held {
            Held::Partial(p) if !first => p,
            _ => Partial { place: None, at: 0, len: 0 },
        };
        if let Some((place, at)) = place {
            let space = match place {
                Place::Input => self.input.bytes_mut(),
                Place::Scratch => self.scratch.bytes_mut(),
            };
            if partial.place.is_none() {
                partial = Partial { place: Some(place), at: if place == Place::Scratch { 0 } else { at }, len: 0 };
            }
            let to = partial.at + partial.len;
            if at != to {
                // Frame headers or control frames came in between: close the gap.
                space.copy_within(at..at + len, to);
            }
            partial.len += len;
        }
        if !last {
            self.held = Held::Partial(partial);
            return Ok(None);
        }
        self.held = Held::Nothing;
        self.last_len = partial.len;
        let place = partial.place.unwrap_or(Place::Input);
        // The connection checked the pieces of a text message as they came; `data` checks the
        // whole once more, the one call that lends it as `&str`.
        Ok(Some(Found {
            what: What::Data { kind, place, at: partial.at, len: partial.len },
            generation: self.generation,
        }))
    }

    /// Makes sure the scratch space has room after the `used` bytes of a decoded message.
    fn scratch_room(&mut self, conn: &mut Connection, used: usize) -> Result<(), Error> {
        let size = self.scratch.bytes().len();
        let free = size - used;
        if free >= self.read_size
            || self.scratch.grow_to(size.saturating_mul(2).max(used.saturating_add(self.read_size)))
            || free > 0
            // No scratch space given: the connection says so (a caller error, nothing consumed).
            || size == 0
        {
            return Ok(());
        }
        Err(conn.fail_message_too_big())
    }

    /// All input is consumed: make room for the next read, keeping a message in progress.
    fn make_room(&mut self, conn: &mut Connection) -> Result<(), Error> {
        self.read_limit = usize::MAX;
        let partial = match self.held {
            Held::Partial(p) if p.place == Some(Place::Input) => p,
            _ => {
                self.start = 0;
                self.end = 0;
                return Ok(());
            }
        };
        // Everything after the message is consumed (frame headers, control frames): reclaim it.
        self.start = partial.at + partial.len;
        self.end = self.start;
        let size = self.input.bytes().len();
        let remaining = usize::try_from(conn.frame_remaining()).unwrap_or(usize::MAX);
        // Room for the rest of this frame, or for the next frame's header.
        let need = remaining.max(1);
        // Move the message to the front when the rest of its frame does not fit behind it,
        // or when it is small and the room behind it would make a short read.
        let short = size - self.end < self.read_size / 2 && partial.len < self.read_size / 2;
        if partial.at > 0 && (size - self.end < need || short) {
            self.input.bytes_mut().copy_within(partial.at..partial.at + partial.len, 0);
            self.held = Held::Partial(Partial { at: 0, ..partial });
            self.start = partial.len;
            self.end = partial.len;
        }
        if remaining > 0 && partial.len.saturating_add(remaining) >= self.read_size {
            // A large message: the read that ends its frame stops there, so that the next
            // message starts at the front instead of being moved there.
            self.read_limit = remaining;
        }
        if size - self.end >= need {
            return Ok(());
        }
        if !self.input.can_grow() {
            // A fixed buffer that cannot hold the rest of this frame: known now.
            return Err(conn.fail_message_too_big());
        }
        // Grow with the bytes that arrive, never with the length a header announces (a peer
        // that announces 16 MiB and sends one byte holds no 16 MiB): room for the next read,
        // at most twice what is held. The room for the header in front of the next message
        // of this size comes with the read that ends this frame, so that it is not moved.
        let next_read = need.min(self.read_size);
        let want = self.end.saturating_add(next_read).saturating_add(crate::frame::MAX_HEADER_LEN);
        if size - self.end >= next_read || self.input.grow_to(size.saturating_mul(2).max(want)) {
            return Ok(());
        }
        Err(conn.fail_message_too_big())
    }

    /// [`data`](Self::data) for a `Found` from the caller: refused when the buffer moved on
    /// since `next` returned it.
    #[inline(always)]
    pub(super) fn message(&mut self, found: Found, conn: &mut Connection) -> Result<Message<'_>, Error> {
        if found.generation != self.generation {
            return Err(Misuse::StaleFound.into());
        }
        self.data(found, conn)
    }

    /// The message `found` describes; text is checked here, by the one call that lends it as
    /// `&str` (1007 on failure, which fails the connection).
    #[inline(always)]
    pub(super) fn data(&mut self, found: Found, conn: &mut Connection) -> Result<Message<'_>, Error> {
        if let What::Data { kind: MessageKind::Binary, .. } = found.what {
            return Ok(Message::Binary(self.bytes(found)));
        }
        self.text_or_control(found, conn)
    }

    /// [`data`](Self::data) for text and control frames.
    fn text_or_control(&mut self, found: Found, conn: &mut Connection) -> Result<Message<'_>, Error> {
        if !matches!(found.what, What::Data { .. }) {
            return Self::control(found, conn);
        }
        if matches!(self.held, Held::Unchecked(_)) {
            self.held = Held::Nothing;
        }
        match crate::utf8::check_whole(self.bytes(found)) {
            Ok(text) => Ok(Message::Text(text)),
            Err(offset) => Err(conn.fail_invalid_text(offset)),
        }
    }

    /// A control frame: its payload is the connection's.
    fn control(found: Found, conn: &mut Connection) -> Result<Message<'static>, Error> {
        let payload = conn.last_control_payload();
        Ok(match found.what {
            What::Ping => Message::Ping(payload),
            What::Pong => Message::Pong(payload),
            // It parsed when it arrived.
            _ => Message::Close(CloseFrame::parse(payload.as_bytes())?),
        })
    }

    /// The bytes of a whole message (empty for a control frame).
    #[inline]
    pub(super) fn bytes(&self, found: Found) -> &[u8] {
        let What::Data { place, at, len, .. } = found.what else { return &[] };
        let space = match place {
            Place::Input => self.input.bytes(),
            Place::Scratch => self.scratch.bytes(),
        };
        match space.get(at..at + len) {
            Some(bytes) => bytes,
            None => panic!("a Found was taken after the buffer moved on"),
        }
    }

    /// Nothing buffered, no message in progress, none found and not yet checked.
    #[cfg(feature = "alloc")]
    pub(super) fn is_idle(&self) -> bool {
        self.start == self.end && matches!(self.held, Held::Nothing)
    }
}
