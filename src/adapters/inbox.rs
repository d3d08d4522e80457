//! The receive side shared by the adapters: a fixed read buffer, the receive loop, and message
//! reassembly, all without borrowing across calls.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use crate::{CloseFrame, Connection, ControlPayload, Error, Message, MessageKind};

/// A fixed read buffer plus the reassembly buffer for fragmented messages.
#[derive(Debug)]
pub(crate) struct Inbox {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    assembly: Vec<u8>,
    /// Where inflated data goes (empty without permessage-deflate).
    scratch: Box<[u8]>,
}

/// What [`Inbox::next`] found, described without borrowing the inbox.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ready {
    /// A whole message: in the read buffer at `range`, or in the assembly buffer.
    Message {
        kind: MessageKind,
        range: Option<(usize, usize)>,
    },
    Ping(ControlPayload),
    Pong(ControlPayload),
    Close(CloseFrame),
}

impl Inbox {
    /// A read buffer of `capacity` bytes holding `leftover` first; `compressed` adds a scratch
    /// buffer of the same size for inflated data.
    pub(crate) fn new(capacity: usize, leftover: &[u8], compressed: bool) -> Self {
        let capacity = capacity.max(leftover.len()).max(256);
        let mut buf = vec![0; capacity].into_boxed_slice();
        buf[..leftover.len()].copy_from_slice(leftover);
        let scratch = if compressed { vec![0; capacity].into_boxed_slice() } else { Box::default() };
        Self { buf, start: 0, end: leftover.len(), assembly: Vec::new(), scratch }
    }

    /// Free space to read into; only asked for when all input has been consumed.
    pub(crate) fn free_space(&mut self) -> &mut [u8] {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        &mut self.buf[self.end..]
    }

    /// Records `n` bytes read into [`free_space`](Self::free_space).
    pub(crate) fn filled(&mut self, n: usize) {
        self.end += n;
    }

    /// Runs the connection over the buffered input until it yields a whole message or a control
    /// frame, or needs more input (`None`).
    pub(crate) fn next(&mut self, conn: &mut Connection) -> Result<Option<Ready>, Error> {
        // A compressed message may still have inflated bytes to hand out with no input left.
        while self.start < self.end || conn.has_pending_data() {
            let at = self.start;
            let scratch = self.scratch.as_ptr_range();
            let r = if self.scratch.is_empty() {
                conn.receive(&mut self.buf[at..self.end])?
            } else {
                conn.receive_into(&mut self.buf[at..self.end], &mut self.scratch)?
            };
            self.start += r.consumed;
            let Some(event) = r.event else { continue };
            match event {
                crate::Event::Data { kind, data, first, last } => {
                    let inflated = scratch.contains(&data.as_ptr());
                    if first && last && !inflated {
                        let end = at + r.consumed;
                        return Ok(Some(Ready::Message { kind, range: Some((end - data.len(), end)) }));
                    }
                    if first {
                        self.assembly.clear();
                    }
                    self.assembly.extend_from_slice(data);
                    if last {
                        return Ok(Some(Ready::Message { kind, range: None }));
                    }
                }
                crate::Event::Ping(p) => return Ok(Some(Ready::Ping(p))),
                crate::Event::Pong(p) => return Ok(Some(Ready::Pong(p))),
                crate::Event::Close(c) => return Ok(Some(Ready::Close(c))),
            }
        }
        Ok(None)
    }

    /// The message [`next`](Self::next) described.
    pub(crate) fn message(&self, ready: Ready) -> Message<'_> {
        match ready {
            Ready::Message { kind, range } => {
                let data = match range {
                    Some((a, b)) => &self.buf[a..b],
                    None => &self.assembly[..],
                };
                match kind {
                    MessageKind::Binary => Message::Binary(data),
                    // The connection validated the text as it arrived.
                    MessageKind::Text => Message::Text(simdutf8::basic::from_utf8(data).unwrap_or_default()),
                }
            }
            Ready::Ping(p) => Message::Ping(p),
            Ready::Pong(p) => Message::Pong(p),
            Ready::Close(c) => Message::Close(c),
        }
    }
}
