//! The receive side shared by the adapters: a [`ReceiveBuffer`] whose memory comes from the
//! thread's [`pool`] and goes back while the connection waits, behind calls that borrow
//! nothing across an await.

use super::pool;
use crate::{Connection, Error, Found, Message, ReceiveBuffer};

/// A [`ReceiveBuffer`] over pooled memory.
///
/// The read buffer comes from the thread's [`pool`] when input is read and goes back with
/// [`release`](Self::release) when the connection waits with nothing buffered; the scratch
/// space for decoded data is held only while a decoded message is in progress or lent. A
/// message is found by [`next`](Self::next), described by a [`Found`] that borrows nothing (so
/// an async adapter can flush replies, or be cancelled, between finding and lending it), and
/// lent by [`message`](Self::message), which checks text, once.
#[derive(Debug)]
pub(crate) struct Inbox {
    buf: ReceiveBuffer,
}

impl Inbox {
    /// Reads of `capacity` bytes, holding `leftover` first. Whether received messages are
    /// decoded through a scratch space is asked of the connection at each call.
    pub(crate) fn new(capacity: usize, leftover: &[u8]) -> Self {
        let mut buf = ReceiveBuffer::with_read_size(capacity.max(leftover.len()));
        if !leftover.is_empty() {
            buf.provide(pool::read_buffer);
            buf.extend_from_slice(leftover);
        }
        Self { buf }
    }

    /// Free space to read into; only asked for when all input has been consumed.
    pub(crate) fn free_space(&mut self) -> &mut [u8] {
        self.buf.provide(pool::read_buffer);
        self.buf.free_space()
    }

    /// The connection waits for input: give the buffers back when nothing is buffered and no
    /// message is in progress (a message lent from them was handed out by an earlier call,
    /// whose borrow has ended).
    #[cfg(any(feature = "tokio", feature = "futures-io"))]
    pub(crate) fn release(&mut self) {
        self.buf.release_into(pool::give_read_buffer);
    }

    /// Records `n` bytes read into [`free_space`](Self::free_space).
    pub(crate) fn filled(&mut self, n: usize) {
        self.buf.filled(n);
    }

    /// Runs the connection over the buffered input until it yields a whole message or a control
    /// frame, or needs more input (`None`).
    pub(crate) fn next(&mut self, conn: &mut Connection) -> Result<Option<Found>, Error> {
        self.buf.provide_scratch(conn, pool::read_buffer);
        let found = self.buf.next(conn)?;
        if found.is_none() {
            self.buf.release_scratch(pool::give_read_buffer);
        }
        Ok(found)
    }

    /// The message [`next`](Self::next) found, lent from the buffer (a control frame's payload
    /// from `conn`); text is checked here, once.
    ///
    /// # Errors
    /// [`Error::InvalidUtf8`] (1007) for text that is not UTF-8: the connection has failed and
    /// queued its Close frame, which the caller writes out.
    pub(crate) fn message(&mut self, found: Found, conn: &mut Connection) -> Result<Message<'_>, Error> {
        self.buf.message(found, conn)
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::String;
    use alloc::vec;
    use alloc::vec::Vec;

    use super::*;
    use crate::buf::RETAIN_CAPACITY;
    use crate::{Config, KeySource, MessageKind, Role};

    /// Feeds each of `wires` through `inbox` a free space at a time, the next one only once
    /// the last is consumed; returns each whole message's size with the buffer memory held
    /// once the input read with it was consumed.
    fn run(inbox: &mut Inbox, conn: &mut Connection, wires: &[Vec<u8>]) -> Vec<(usize, usize)> {
        let mut got = Vec::new();
        for wire in wires {
            let mut pos = 0;
            loop {
                let mut sizes = Vec::new();
                while let Some(found) = inbox.next(conn).unwrap() {
                    match inbox.message(found, conn).unwrap() {
                        Message::Binary(data) => sizes.push(data.len()),
                        Message::Text(text) => sizes.push(text.len()),
                        _ => {}
                    }
                }
                got.extend(sizes.into_iter().map(|len| (len, inbox.buf.capacity())));
                if pos == wire.len() {
                    break;
                }
                let free = inbox.free_space();
                let n = free.len().min(wire.len() - pos);
                free[..n].copy_from_slice(&wire[pos..pos + n]);
                inbox.filled(n);
                pos += n;
            }
        }
        got
    }

    #[test]
    fn the_buffer_shrinks_back_after_a_large_message() {
        const LARGE: usize = 8 << 20;
        let mut client = Connection::new(Role::Client, Config::new().max_outgoing_frame(64 * 1024))
            .with_key_source(KeySource::seeded(5));
        let large = vec![7u8; LARGE];
        // A large fragmented message, then a small fragmented one, then the large one again,
        // then a small text message in a single frame; each sent once the last was read.
        let mut wires = vec![Vec::new(); 4];
        client.send_binary(&large, &mut wires[0]).unwrap();
        client.send_fragment(MessageKind::Binary, &[1; 100], false, &mut wires[1]).unwrap();
        client.send_fragment(MessageKind::Binary, &[2; 100], true, &mut wires[1]).unwrap();
        client.send_binary(&large, &mut wires[2]).unwrap();
        client.send_text("small", &mut wires[3]).unwrap();

        let mut server = Connection::new(Role::Server, Config::new());
        let mut inbox = Inbox::new(16 * 1024, &[]);
        let got = run(&mut inbox, &mut server, &wires);
        let sizes: Vec<usize> = got.iter().map(|&(len, _)| len).collect();
        assert_eq!(sizes, [LARGE, 200, LARGE, 5]);
        let held: Vec<usize> = got.iter().map(|&(_, held)| held).collect();
        // The large message needed the memory; each small one gives it back.
        assert!(held[0] >= LARGE, "{held:?}");
        assert!(held[1] <= RETAIN_CAPACITY, "{held:?}");
        assert!(held[2] >= LARGE, "{held:?}");
        assert!(held[3] <= RETAIN_CAPACITY, "{held:?}");
    }

    #[test]
    fn messages_of_the_same_size_reuse_the_buffer() {
        // 20 fragmented messages of 1 MiB: the buffer grows for the first and is kept.
        let mut client = Connection::new(Role::Client, Config::new().max_outgoing_frame(64 * 1024))
            .with_key_source(KeySource::seeded(6));
        let mut wire = Vec::new();
        for i in 0..20u8 {
            client.send_binary(&vec![i; 1 << 20], &mut wire).unwrap();
        }
        let mut server = Connection::new(Role::Server, Config::new());
        let mut inbox = Inbox::new(16 * 1024, &[]);
        let got = run(&mut inbox, &mut server, &[wire]);
        assert_eq!(got.len(), 20);
        let first = got[0].1;
        assert!(got.iter().all(|&(len, held)| len == 1 << 20 && held == first), "{got:?}");
    }

    #[test]
    fn text_is_checked_once_and_kept_whole() {
        let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(7));
        let mut wire = Vec::new();
        client.send_text("héllo wörld", &mut wire).unwrap();
        client.send_fragment(MessageKind::Text, "frag".as_bytes(), false, &mut wire).unwrap();
        client.send_fragment(MessageKind::Text, "mént".as_bytes(), true, &mut wire).unwrap();
        let mut server = Connection::new(Role::Server, Config::new());
        let mut inbox = Inbox::new(16 * 1024, &wire);
        let mut got = Vec::new();
        while let Some(found) = inbox.next(&mut server).unwrap() {
            if let Message::Text(text) = inbox.message(found, &mut server).unwrap() {
                got.push(String::from(text));
            }
        }
        assert_eq!(got, ["héllo wörld", "fragmént"]);
    }
}
