//! The receive loop shared by the unsplit and the split paths: feeds the connection, writes
//! its automatic replies, runs its timers, and reads under the next deadline. Cancel-safe.

use super::*;

/// What the receive loop needs from either path: the connection with its output buffer, the
/// reads and the writes. An unsplit [`WebSocket`] has them at hand; after a split they sit
/// behind the shared locks.
pub(super) trait Link {
    /// The runtime whose clock and timers the connection runs on.
    type R: Runtime;
    /// The connection's time zero.
    fn epoch(&self) -> <Self::R as Runtime>::Instant;
    /// Runs `f` on the connection and the output buffer it writes frames into.
    fn with<T>(&mut self, f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> T) -> T;
    /// Whether output is waiting for a write (a send was dropped midway).
    fn has_output(&self) -> bool;
    /// Writes out all output. Cancel-safe: an interrupted write resumes where it stopped.
    async fn flush(&mut self) -> Result<(), WsError>;
    /// Reads into `buf` what the stream has.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>>;
    /// The read is waiting: give back buffers that hold nothing.
    fn idle(&mut self);
    /// The timer for the read's deadline.
    fn alarm(&mut self) -> &mut Alarm<Self::R>;
}

impl<S: AsyncStream<R>, R: Runtime> Link for Core<S, R> {
    type R = R;

    fn epoch(&self) -> R::Instant {
        self.epoch
    }

    fn with<T>(&mut self, f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> T) -> T {
        self.take_output_buffer();
        f(&mut self.conn, &mut self.out)
    }

    fn has_output(&self) -> bool {
        self.pos < self.out.len()
    }

    async fn flush(&mut self) -> Result<(), WsError> {
        Core::flush(self).await
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }

    fn alarm(&mut self) -> &mut Alarm<R> {
        &mut self.alarm
    }

    fn idle(&mut self) {
        if self.pos == self.out.len() {
            self.pos = 0;
            pool::give_output_buffer(core::mem::take(&mut self.out));
        }
    }
}

/// The receive buffers, and a message found but not yet returned.
#[derive(Debug)]
pub(super) struct Incoming {
    pub(super) inbox: Inbox,
    pub(super) ready: Option<Found>,
}

impl Incoming {
    /// The receive loop of both paths: feeds the connection, writes its automatic replies,
    /// runs its timers and reads, until a message is found.
    pub(super) async fn recv<L: Link>(&mut self, link: &mut L) -> Result<Message<'_>, WsError> {
        loop {
            if self.ready.is_none() {
                let epoch = link.epoch();
                let inbox = &mut self.inbox;
                let (next, timers, replies) = link.with(|conn, out| {
                    let next = inbox.next(conn);
                    // After the input: stamps what arrived, and runs a deadline that passed.
                    let timers = tick::<L::R>(conn, epoch);
                    (next, timers, conn.poll_transmit(out).is_ok_and(|n| n > 0))
                });
                // Keep what was found before the first await, so that a cancelled call loses
                // nothing: the next call returns it.
                let failed = match (next, timers) {
                    (Ok(found), Ok(())) => {
                        self.ready = found;
                        None
                    }
                    (Err(e), _) | (_, Err(e)) => Some(e),
                };
                if replies || link.has_output() {
                    match link.flush().await {
                        // A peer that closed the transport right after its Close frame cannot
                        // take our reply; the close handshake is over all the same.
                        Err(WsError::Io(_)) if link.with(|conn, _| conn.state()) == State::Closed => {}
                        other => other?,
                    }
                }
                if let Some(e) = failed {
                    return Err(e.into());
                }
            } else {
                // A cancelled call left a message and perhaps a reply half written.
                link.flush().await?;
            }
            if let Some(found) = self.ready.take() {
                let inbox = &mut self.inbox;
                let lent = link.with(|conn, out| {
                    let lent = inbox.message(found, conn);
                    if lent.is_err() {
                        // Text that is not UTF-8: the connection failed and queued its Close.
                        let _ = conn.poll_transmit(out);
                    }
                    lent
                });
                return match lent {
                    Ok(message) => Ok(message),
                    Err(e) => {
                        let _ = link.flush().await;
                        Err(e.into())
                    }
                };
            }
            let deadline = link.with(|conn, _| {
                if conn.state() == State::Closed && conn.transport_action() == TransportAction::Close {
                    return Err(WsError::Closed);
                }
                Ok(conn.poll_timeout())
            })?;
            let deadline = deadline.map(|t| link.epoch() + t.as_duration());
            let inbox = &mut self.inbox;
            let read = core::future::poll_fn(|cx| {
                let read = link.poll_read(cx, inbox.free_space());
                if read.is_ready() {
                    return read.map(Some);
                }
                // Waiting for input: an idle connection holds no read or output buffer.
                inbox.release();
                link.idle();
                // The timers (keepalive, close and idle deadlines; only when configured) run
                // on the runtime's clock. A read cut short by the deadline loses nothing.
                match deadline {
                    Some(at) => link.alarm().poll_at(cx, at).map(|()| None),
                    None => Poll::Pending,
                }
            })
            .await;
            // The deadline passed: the next turn runs the timers (`tick`) and writes what they
            // queued.
            let Some(read) = read else { continue };
            let n = match read {
                Ok(n) => n,
                // After the close handshake a reset transport is just the end.
                Err(_) if link.with(|conn, _| conn.state()) == State::Closed => 0,
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                return match link.with(|conn, _| conn.receive_eof()) {
                    Ok(()) => Err(WsError::Closed),
                    Err(e) => Err(e.into()),
                };
            }
            self.inbox.filled(n);
        }
    }
}
