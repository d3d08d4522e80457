//! After [`WebSocket::split`](super::WebSocket::split): a reader and a cloneable writer in
//! different tasks, sharing the connection behind a lock and the write half behind an async
//! lock.

use super::*;

/// The receiving half of a WebSocket (see [`WebSocket::split`]).
#[derive(Debug)]
pub struct WsReader<S> {
    pub(super) link: ReadLink<S>,
    pub(super) incoming: Incoming,
}

/// The sending half of a WebSocket (see [`WebSocket::split`]). Cloneable: every clone sends on
/// the same connection, and frames from different clones are never interleaved within a frame.
#[derive(Debug)]
pub struct WsWriter<S> {
    pub(super) shared: Arc<Mutex<Shared>>,
    pub(super) writer: Arc<AsyncMutex<Writer<S>>>,
}

impl<S> Clone for WsWriter<S> {
    fn clone(&self) -> Self {
        Self { shared: Arc::clone(&self.shared), writer: Arc::clone(&self.writer) }
    }
}

/// After a split: the connection and the bytes it produced that no one has started writing yet.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) conn: Connection,
    pub(super) out: Vec<u8>,
    pub(super) epoch: Instant,
}

/// After a split: the write half, with the bytes being written and how far they got (so that a
/// cancelled write resumes instead of losing or repeating bytes).
#[derive(Debug)]
pub(super) struct Writer<S> {
    pub(super) half: WriteHalf<Stream<S>>,
    pub(super) inflight: Vec<u8>,
    pub(super) pos: usize,
    /// A write failed or stalled: the stream takes no more frames.
    pub(super) broken: Option<WriteFailure>,
    /// The timer for the deadlines of writes.
    pub(super) alarm: Alarm,
}

/// After a split: what the reader needs besides its buffers.
#[derive(Debug)]
pub(super) struct ReadLink<S> {
    pub(super) half: ReadHalf<Stream<S>>,
    pub(super) epoch: Instant,
    pub(super) shared: Arc<Mutex<Shared>>,
    pub(super) writer: Arc<AsyncMutex<Writer<S>>>,
    /// The timer for the deadlines of reads.
    pub(super) alarm: Alarm,
}

pub(super) fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    // The lock is never held across an await or a user callback; a poisoned lock means a panic
    // inside the connection, whose state is still the last consistent one.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<S: AsyncRead + AsyncWrite> WsReader<S> {
    /// Receives the next whole message or control frame, answering Pings and Close frames
    /// through the shared writer. Cancel-safe: a message found but not yet returned is kept
    /// for the next call, and a reply whose write was interrupted is resumed.
    ///
    /// # Errors
    /// [`WsError::Closed`] once the connection is over, [`WsError::Protocol`] when the peer broke
    /// the protocol (the answering Close frame has been sent), [`WsError::Io`] from the stream.
    pub async fn recv(&mut self) -> Result<Message<'_>, WsError> {
        self.incoming.recv(&mut self.link).await
    }
}

impl<S: AsyncWrite> WsWriter<S> {
    /// Encodes with `f` and writes out what the connection produced.
    pub(super) async fn command(
        &self,
        f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error>,
    ) -> Result<(), WsError> {
        {
            let mut s = lock(&self.shared);
            let Shared { conn, out, epoch } = &mut *s;
            f(conn, out)?;
            stamp(conn, *epoch);
        }
        flush_shared(&self.shared, &self.writer).await
    }

    /// Sends a message of either kind (text must be UTF-8).
    ///
    /// If the returned future is dropped before it completes, the message has been encoded
    /// and is written by the next operation on either half.
    ///
    /// # Errors
    /// [`WsError::Protocol`] for a send the connection refuses, [`WsError::Io`] from the stream.
    pub async fn send(&self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        self.command(|c, o| c.send(kind, data, o)).await
    }

    /// Sends a text message.
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn send_text(&self, text: &str) -> Result<(), WsError> {
        self.command(|c, o| c.send_text(text, o)).await
    }

    /// Sends a binary message.
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn send_binary(&self, data: &[u8]) -> Result<(), WsError> {
        self.command(|c, o| c.send_binary(data, o)).await
    }

    /// Sends one piece of a streamed message.
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn send_fragment(&self, kind: MessageKind, data: &[u8], fin: bool) -> Result<(), WsError> {
        self.command(|c, o| c.send_fragment(kind, data, fin, o)).await
    }

    /// Sends a prepared message without copying it (see [`WebSocket::send_prepared`]): once
    /// this writer has the stream, its frames are written straight from `msg`, behind the
    /// frames produced before them, with one vectored write. If the future is dropped while it
    /// waits for the stream, nothing was sent; once it writes, the rest of the frames is
    /// written by the next operation on either half.
    ///
    /// # Errors
    /// As for [`WebSocket::send_prepared`].
    pub async fn send_prepared(&self, msg: &PreparedMessage) -> Result<(), WsError> {
        write_shared(&self.shared, &self.writer, |s| {
            let Shared { conn, out, epoch } = s;
            let frames = conn.prepare_send(msg)?;
            stamp(conn, *epoch);
            conn.poll_transmit(out)?;
            Ok(frames)
        })
        .await
    }

    /// Sends a Ping.
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn ping(&self, payload: &[u8]) -> Result<(), WsError> {
        self.command(|c, o| c.ping(payload, o)).await
    }

    /// Sends our Close frame (the reader then sees the peer's reply as [`Message::Close`]).
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn close(&self, code: CloseCode, reason: &str) -> Result<(), WsError> {
        self.command(close_command(CloseFrame::new(code, reason))).await
    }

    /// What to do with the transport now.
    pub fn transport_action(&self) -> TransportAction {
        lock(&self.shared).conn.transport_action()
    }

    /// Writes out everything the connection produced. Cancel-safe.
    ///
    /// # Errors
    /// [`WsError::Io`] from the stream.
    pub async fn flush(&self) -> Result<(), WsError> {
        flush_shared(&self.shared, &self.writer).await
    }
}

impl<S: AsyncRead + AsyncWrite> Link for ReadLink<S> {
    fn epoch(&self) -> Instant {
        self.epoch
    }

    fn with<R>(&mut self, f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> R) -> R {
        let mut s = lock(&self.shared);
        let Shared { conn, out, .. } = &mut *s;
        f(conn, out)
    }

    fn has_output(&self) -> bool {
        // Senders write their own frames, so the reader never waits on another task's slow
        // write unless it has a reply of its own.
        false
    }

    async fn flush(&mut self) -> Result<(), WsError> {
        flush_shared(&self.shared, &self.writer).await
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
        poll_read_into(Pin::new(&mut self.half), cx, buf)
    }

    fn idle(&mut self) {
        // The writers own the output buffers after a split.
    }

    fn alarm(&mut self) -> &mut Alarm {
        &mut self.alarm
    }
}

/// Moves produced bytes to the in-flight buffer and writes them, resuming a cancelled write
/// (after a split).
pub(super) async fn flush_shared<S: AsyncWrite>(
    shared: &Mutex<Shared>,
    writer: &AsyncMutex<Writer<S>>,
) -> Result<(), WsError> {
    write_shared(shared, writer, |_| Ok(&[])).await
}

/// As [`flush_shared`], with a frame written from where it lies: once the writer is ours,
/// `frame` runs a send command on the shared connection (writing the replies due ahead of the
/// frame) and returns the frame, which goes out behind everything produced before it, in the
/// same vectored write.
pub(super) async fn write_shared<'f, S: AsyncWrite>(
    shared: &Mutex<Shared>,
    writer: &AsyncMutex<Writer<S>>,
    frame: impl FnOnce(&mut Shared) -> Result<&'f [u8], crate::Error>,
) -> Result<(), WsError> {
    let mut w = writer.lock().await;
    let Writer { half, inflight, pos, broken, alarm } = &mut *w;
    if let Some(f) = broken {
        return Err(f.error());
    }
    let (stall, mut payload) = {
        let mut s = lock(shared);
        let payload = frame(&mut s)?;
        // What the connection produced before the frame (other senders' frames, the replies)
        // goes out ahead of it.
        if !payload.is_empty() {
            if *pos == inflight.len() {
                *pos = 0;
                inflight.clear();
                core::mem::swap(&mut s.out, inflight);
            } else {
                inflight.append(&mut s.out);
            }
        }
        (s.conn.config().write_timeout, payload)
    };
    let mut guard = Guard { deadlines: shared, stall, alarm };
    let result = async {
        loop {
            write_out(Pin::new(&mut *half), Unwritten::new(inflight, pos, &[], payload), &mut guard).await?;
            payload = &[];
            core::mem::swap(&mut lock(shared).out, inflight);
            if inflight.is_empty() {
                return Ok(());
            }
        }
    }
    .await;
    record(broken, result)
}

/// After a split: the deadlines of the shared connection.
impl Deadlines for &Mutex<Shared> {
    fn next_deadline(&mut self) -> Option<Instant> {
        let s = lock(self);
        s.conn.poll_timeout().map(|t| s.epoch + t.as_duration())
    }

    fn expire(&mut self) -> Result<(), crate::Error> {
        let mut s = lock(self);
        let now = now(s.epoch);
        s.conn.handle_timeout(now)
    }
}
