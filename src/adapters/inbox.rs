//! The receive side shared by the adapters: a read buffer, the receive loop, and message
//! reassembly, all without borrowing across calls.

use alloc::vec::Vec;

use super::pool;
use crate::buf::{RETAIN_CAPACITY, release_excess};
use crate::{CloseFrame, Connection, ControlPayload, Error, Message, MessageKind};

/// A fixed read buffer plus the reassembly buffer for fragmented messages.
///
/// The reassembly buffer gives back what an unusually large message made it grow, as
/// [`MessageAssembler`](crate::MessageAssembler) does (see
/// [`release_excess`](crate::buf::release_excess)): the first small message after a large one
/// brings it back to [`RETAIN_CAPACITY`](crate::buf::RETAIN_CAPACITY).
///
/// The read buffer comes from the thread's [`pool`] when input is read and goes back with
/// [`release`](Self::release) when the connection waits with all input consumed; the scratch
/// buffer for inflated data is taken for each [`next`](Self::next) call only.
#[derive(Debug)]
pub(crate) struct Inbox {
    /// Empty while released.
    buf: Vec<u8>,
    /// The size of the read buffer (and of the scratch buffer).
    size: usize,
    start: usize,
    end: usize,
    assembly: Vec<u8>,
    /// A fragmented or inflated message is being assembled.
    assembling: bool,
    /// Received messages may be compressed: inflate through a scratch buffer.
    compressed: bool,
}

/// What [`Inbox::next`] found, described without borrowing the inbox.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ready {
    /// A whole message: in the read buffer at `range`, or in the assembly buffer.
    Message {
        kind: MessageKind,
        range: Option<(usize, usize)>,
    },
    /// A control frame: its payload is the connection's
    /// [`last_control_payload`](Connection::last_control_payload) (kept out of here so that a
    /// connection waiting with a found event stays small).
    Ping,
    Pong,
    Close,
}

impl Inbox {
    /// Reads of `capacity` bytes, holding `leftover` first; `compressed` inflates through a
    /// scratch buffer of the same size.
    pub(crate) fn new(capacity: usize, leftover: &[u8], compressed: bool) -> Self {
        let size = capacity.max(leftover.len()).max(256);
        let mut buf = Vec::new();
        if !leftover.is_empty() {
            buf = pool::read_buffer(size);
            buf[..leftover.len()].copy_from_slice(leftover);
        }
        Self { buf, size, start: 0, end: leftover.len(), assembly: Vec::new(), assembling: false, compressed }
    }

    /// Free space to read into; only asked for when all input has been consumed.
    pub(crate) fn free_space(&mut self) -> &mut [u8] {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.buf.is_empty() {
            self.buf = pool::read_buffer(self.size);
        }
        &mut self.buf[self.end..]
    }

    /// The connection waits for input: give the read buffer back when all of it was consumed
    /// (a message lent from it was handed out by an earlier call, whose borrow has ended), and
    /// the reassembly buffer when no message is being assembled.
    #[cfg(feature = "tokio")]
    pub(crate) fn release(&mut self) {
        if self.start == self.end {
            pool::give_read_buffer(core::mem::take(&mut self.buf));
            self.start = 0;
            self.end = 0;
        }
        if !self.assembling && self.assembly.capacity() > 0 {
            self.assembly = Vec::new();
        }
    }

    /// Records `n` bytes read into [`free_space`](Self::free_space).
    pub(crate) fn filled(&mut self, n: usize) {
        self.end += n;
    }

    /// Runs the connection over the buffered input until it yields a whole message or a control
    /// frame, or needs more input (`None`).
    pub(crate) fn next(&mut self, conn: &mut Connection) -> Result<Option<Ready>, Error> {
        if !self.compressed {
            return self.step(conn, &mut []);
        }
        let mut scratch = pool::read_buffer(self.size);
        let next = self.step(conn, &mut scratch);
        pool::give_read_buffer(scratch);
        next
    }

    fn step(&mut self, conn: &mut Connection, scratch: &mut [u8]) -> Result<Option<Ready>, Error> {
        // A compressed message may still have inflated bytes to hand out with no input left.
        while self.start < self.end || conn.has_pending_data() {
            let at = self.start;
            let scratch_range = scratch.as_ptr_range();
            let r = if scratch.is_empty() {
                conn.receive(&mut self.buf[at..self.end])?
            } else {
                conn.receive_into(&mut self.buf[at..self.end], scratch)?
            };
            self.start += r.consumed;
            let Some(event) = r.event else { continue };
            match event {
                crate::Event::Data { kind, data, first, last } => {
                    let inflated = scratch_range.contains(&data.as_ptr());
                    if first && last && !inflated {
                        let end = at + r.consumed;
                        let len = data.len();
                        self.assembly.clear();
                        release_excess(&mut self.assembly, len, RETAIN_CAPACITY);
                        return Ok(Some(Ready::Message { kind, range: Some((end - len, end)) }));
                    }
                    if first {
                        self.assembly.clear();
                        self.assembling = true;
                    }
                    self.assembly.extend_from_slice(data);
                    if last {
                        self.assembling = false;
                        let len = self.assembly.len();
                        release_excess(&mut self.assembly, len, RETAIN_CAPACITY);
                        return Ok(Some(Ready::Message { kind, range: None }));
                    }
                }
                crate::Event::Ping(_) => return Ok(Some(Ready::Ping)),
                crate::Event::Pong(_) => return Ok(Some(Ready::Pong)),
                crate::Event::Close(_) => return Ok(Some(Ready::Close)),
            }
        }
        Ok(None)
    }

    /// The message [`next`](Self::next) described; `control` is the connection's
    /// [`last_control_payload`](Connection::last_control_payload) (read no later than this call).
    pub(crate) fn message(&self, ready: Ready, control: ControlPayload) -> Message<'_> {
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
            Ready::Ping => Message::Ping(control),
            Ready::Pong => Message::Pong(control),
            // It parsed when it arrived.
            Ready::Close => Message::Close(CloseFrame::parse(control.as_bytes()).unwrap_or(CloseFrame::EMPTY)),
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;
    use crate::{Config, KeySource, Role};

    /// Feeds `wire` through `inbox` a free space at a time; returns each whole message's size
    /// with the reassembly buffer's capacity right after it was handed out.
    fn run(inbox: &mut Inbox, conn: &mut Connection, wire: &[u8]) -> Vec<(usize, usize)> {
        let mut got = Vec::new();
        let mut pos = 0;
        loop {
            while let Some(ready) = inbox.next(conn).unwrap() {
                if let Message::Binary(data) = inbox.message(ready, conn.last_control_payload()) {
                    got.push((data.len(), inbox.assembly.capacity()));
                }
            }
            if pos == wire.len() {
                return got;
            }
            let free = inbox.free_space();
            let n = free.len().min(wire.len() - pos);
            free[..n].copy_from_slice(&wire[pos..pos + n]);
            inbox.filled(n);
            pos += n;
        }
    }

    #[test]
    fn the_assembly_buffer_shrinks_back_after_a_large_message() {
        const LARGE: usize = 8 << 20;
        let mut client = Connection::new(Role::Client, Config::new().max_outgoing_frame(64 * 1024))
            .with_key_source(KeySource::seeded(5));
        let mut wire = Vec::new();
        let large = vec![7u8; LARGE];
        // A large fragmented message, then a small fragmented one, then the large one again,
        // then a small one in a single frame.
        client.send_binary(&large, &mut wire).unwrap();
        client.send_fragment(MessageKind::Binary, &[1; 100], false, &mut wire).unwrap();
        client.send_fragment(MessageKind::Binary, &[2; 100], true, &mut wire).unwrap();
        client.send_binary(&large, &mut wire).unwrap();
        client.send_binary(&[3; 100], &mut wire).unwrap();

        let mut server = Connection::new(Role::Server, Config::new());
        let mut inbox = Inbox::new(16 * 1024, &[], false);
        let got = run(&mut inbox, &mut server, &wire);
        let sizes: Vec<usize> = got.iter().map(|&(len, _)| len).collect();
        assert_eq!(sizes, [LARGE, 200, LARGE, 100]);
        let capacities: Vec<usize> = got.iter().map(|&(_, cap)| cap).collect();
        // The large message needed the memory; each small one after it gives it back.
        assert!(capacities[0] >= LARGE, "{capacities:?}");
        assert!(capacities[1] <= RETAIN_CAPACITY, "{capacities:?}");
        assert!(capacities[2] >= LARGE, "{capacities:?}");
        assert!(capacities[3] <= RETAIN_CAPACITY, "{capacities:?}");
    }

    #[test]
    fn messages_of_the_same_size_reuse_the_assembly_buffer() {
        // 20 fragmented messages of 1 MiB: the buffer grows for the first and is kept.
        let mut client = Connection::new(Role::Client, Config::new().max_outgoing_frame(64 * 1024))
            .with_key_source(KeySource::seeded(6));
        let mut wire = Vec::new();
        for i in 0..20u8 {
            client.send_binary(&vec![i; 1 << 20], &mut wire).unwrap();
        }
        let mut server = Connection::new(Role::Server, Config::new());
        let mut inbox = Inbox::new(16 * 1024, &[], false);
        let got = run(&mut inbox, &mut server, &wire);
        assert_eq!(got.len(), 20);
        let first = got[0].1;
        assert!(got.iter().all(|&(len, cap)| len == 1 << 20 && cap == first), "{got:?}");
    }
}
