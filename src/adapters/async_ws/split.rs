//! After [`WebSocket::split`](super::WebSocket::split): a reader and a cloneable writer in
//! different tasks, sharing the connection behind a lock and the write half behind an async
//! lock.

use super::*;

/// The receiving half of a WebSocket (see [`WebSocket::split`]).
#[derive(Debug)]
pub struct WsReader<S, R: Runtime> {
    pub(super) link: ReadLink<S, R>,
    pub(super) incoming: Incoming,
}

/// The sending half of a WebSocket (see [`WebSocket::split`]). Cloneable: every clone sends on
/// the same connection, and frames from different clones are never interleaved within a frame.
pub struct WsWriter<S, R: Runtime> {
    pub(super) core: Arc<SplitCore<S, R>>,
}

impl<S, R: Runtime> core::fmt::Debug for WsWriter<S, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WsWriter").field("state", &lock(&self.core.shared).conn.state()).finish_non_exhaustive()
    }
}

impl<S, R: Runtime> Clone for WsWriter<S, R> {
    fn clone(&self) -> Self {
        Self { core: Arc::clone(&self.core) }
    }
}

/// What [`WsWriter::try_send_prepared`] did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrySend {
    /// The stream took the whole message.
    Sent,
    /// The message waits in the connection's output (the stream was full, or another send was
    /// writing); [`WsWriter::flush`] writes it.
    Queued,
    /// The message was not taken: [`TRY_SEND_LIMIT`] bytes or more already wait for this
    /// connection (a receiver that reads slowly or not at all). Nothing was sent or queued;
    /// skip the receiver for this message, or drop it.
    Full,
}

/// How many bytes may wait in a connection's output before
/// [`WsWriter::try_send_prepared`] refuses more ([`TrySend::Full`]): what a fan-out can queue
/// for a receiver that does not keep up is bounded.
pub const TRY_SEND_LIMIT: usize = 1 << 20;

/// After a split: everything the halves share, in one allocation (a fan-out to thousands of
/// connections touches one place in memory per connection, besides the stream itself).
pub(super) struct SplitCore<S, R: Runtime> {
    /// The connection, locked only inside a poll.
    pub(super) shared: Mutex<Shared<R>>,
    /// The write side, held by one send at a time across its awaits.
    pub(super) writer: futures_util::lock::Mutex<Writer<R>>,
    /// The stream, locked only while it is polled (never across an await), so the reader's
    /// read and the writer's write wait on it independently.
    pub(super) stream: Mutex<Stream<S>>,
}

/// After a split: the connection and the bytes it produced that no one has started writing yet.
#[derive(Debug)]
pub(super) struct Shared<R: Runtime> {
    pub(super) conn: Connection,
    pub(super) out: Vec<u8>,
    pub(super) epoch: R::Instant,
}

/// After a split: the write half, with the bytes being written and how far they got (so that a
/// cancelled write resumes instead of losing or repeating bytes).
#[derive(Debug)]
pub(super) struct Writer<R: Runtime> {
    pub(super) inflight: Vec<u8>,
    pub(super) pos: usize,
    /// A write failed or stalled: the stream takes no more frames.
    pub(super) broken: Option<WriteFailure>,
    /// The timer for the deadlines of writes.
    pub(super) alarm: Alarm<R>,
}

/// After a split: what the reader needs besides its buffers.
pub(super) struct ReadLink<S, R: Runtime> {
    pub(super) core: Arc<SplitCore<S, R>>,
    pub(super) epoch: R::Instant,
    /// The timer for the deadlines of reads.
    pub(super) alarm: Alarm<R>,
}

impl<S, R: Runtime> core::fmt::Debug for ReadLink<S, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReadLink").field("epoch", &self.epoch).finish_non_exhaustive()
    }
}

/// The split stream seen from one half, for one operation: a [`AsyncStream`] that locks the
/// stream for each poll.
struct Half<'a, S>(&'a Mutex<Stream<S>>);

impl<S> Half<'_, S> {
    fn stream(&self) -> std::sync::MutexGuard<'_, Stream<S>> {
        // Held only inside a poll; a panic there leaves the stream as usable as it was.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: AsyncStream<R>, R: Runtime> sealed::Stream<R> for Half<'_, S> {}

impl<S: AsyncStream<R>, R: Runtime> AsyncStream<R> for Half<'_, S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.stream()).poll_read(cx, buf)
    }

    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.stream()).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.stream()).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream().is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.stream()).poll_flush(cx)
    }
}

pub(super) fn lock<R: Runtime>(shared: &Mutex<Shared<R>>) -> std::sync::MutexGuard<'_, Shared<R>> {
    // The lock is never held across an await or a user callback; a poisoned lock means a panic
    // inside the connection, whose state is still the last consistent one.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<S: AsyncStream<R>, R: Runtime> WsReader<S, R> {
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

impl<S: AsyncStream<R>, R: Runtime> WsWriter<S, R> {
    /// Encodes with `f` and writes out what the connection produced.
    pub(super) async fn command(
        &self,
        f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error>,
    ) -> Result<(), WsError> {
        // What waits is bounded: once FEED_LIMIT bytes wait (fed, or left by sends whose
        // write failed or was cancelled), they are written first, or the failure is returned
        // before anything more is encoded.
        self.make_room().await?;
        self.encode_and_flush(f).await
    }

    /// Encodes with `f` and writes out what the connection produced, without waiting first.
    async fn encode_and_flush(
        &self,
        f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error>,
    ) -> Result<(), WsError> {
        {
            let mut s = lock(&self.core.shared);
            let Shared { conn, out, epoch } = &mut *s;
            f(conn, out)?;
            stamp::<R>(conn, *epoch);
        }
        flush_shared(&self.core).await
    }

    /// Fails when a write failed before, as far as can be told without waiting (a send that
    /// holds the writer finds out itself).
    fn writable(&self) -> Result<(), WsError> {
        match self.core.writer.try_lock().and_then(|w| w.broken) {
            Some(failure) => Err(failure.error()),
            None => Ok(()),
        }
    }

    /// [`writable`](Self::writable), then writes what waits in the shared output first when
    /// [`FEED_LIMIT`] bytes or more wait.
    async fn make_room(&self) -> Result<(), WsError> {
        self.writable()?;
        if lock(&self.core.shared).out.len() >= FEED_LIMIT {
            flush_shared(&self.core).await?;
        }
        Ok(())
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

    /// Encodes a message into the output without writing it (see [`WebSocket::feed`]): the
    /// next [`flush`](Self::flush) or send writes it (the reader does not, unless it writes a
    /// reply of its own). Waits only when
    /// [`FEED_LIMIT`] bytes wait already: it writes them first.
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn feed(&self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        self.feed_with(|c, o| c.send(kind, data, o)).await
    }

    /// Feeds a text message without checking the `str` again (see [`WebSocket::feed_text`]).
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn feed_text(&self, text: &str) -> Result<(), WsError> {
        self.feed_with(|c, o| c.send_text(text, o)).await
    }

    async fn feed_with(
        &self,
        encode: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error>,
    ) -> Result<(), WsError> {
        self.make_room().await?;
        let mut s = lock(&self.core.shared);
        let Shared { conn, out, epoch } = &mut *s;
        encode(conn, out)?;
        stamp::<R>(conn, *epoch);
        Ok(())
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
        write_shared(&self.core, |s| {
            let Shared { conn, out, epoch } = s;
            let frames = conn.prepare_send(msg)?;
            stamp::<R>(conn, *epoch);
            conn.poll_transmit(out)?;
            Ok(Frames::one(frames))
        })
        .await
    }

    /// Sends several prepared messages with one vectored write (see
    /// [`WebSocket::send_prepared_batch`]): once this writer has the stream, up to 32 of them
    /// at a time.
    ///
    /// # Errors
    /// As for [`WebSocket::send_prepared_batch`].
    pub async fn send_prepared_batch<M: Borrow<PreparedMessage>>(&self, msgs: &[M]) -> Result<(), WsError> {
        if let [one] = msgs {
            return self.send_prepared(one.borrow()).await;
        }
        for chunk in msgs.chunks(BATCH) {
            let mut refused = None;
            write_shared(&self.core, |s| {
                let Shared { conn, out, epoch } = s;
                let mut frames = Frames::default();
                for msg in chunk {
                    match conn.prepare_send(msg.borrow()) {
                        Ok(f) => frames.push(f),
                        Err(e) if frames.count == 0 => return Err(e),
                        Err(e) => {
                            refused = Some(e);
                            break;
                        }
                    }
                }
                stamp::<R>(conn, *epoch);
                conn.poll_transmit(out)?;
                Ok(frames)
            })
            .await?;
            if let Some(e) = refused {
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// Sends a prepared message now, without waiting, when the stream takes it at once: the
    /// fan-out of a broadcast from one task to many connections (as uWebSockets' `publish`
    /// does), with one system call per connection and no task woken. Returns
    /// [`TrySend::Sent`] when the stream took all of it, and [`TrySend::Queued`] when the
    /// message waits in the connection's output (the stream was full, or another send on this
    /// connection was writing; it keeps its place in line): then a [`flush`](Self::flush), in a
    /// task of the connection's, writes it under the write deadline. What may wait is bounded:
    /// with [`TRY_SEND_LIMIT`] bytes waiting, the message is refused ([`TrySend::Full`]).
    ///
    /// ```no_run
    /// use wsproto::adapters::async_ws::TrySend;
    /// use wsproto::adapters::tokio::WsWriter;
    /// use wsproto::PreparedMessage;
    /// # fn demo(room: &[(WsWriter<tokio::net::TcpStream>, std::sync::Arc<tokio::sync::Notify>)], message: &PreparedMessage) {
    /// for (writer, wake_flusher) in room {
    ///     match writer.try_send_prepared(message) {
    ///         Ok(TrySend::Sent) => {}
    ///         // This connection's task awaits `writer.flush()` when woken.
    ///         Ok(TrySend::Queued) => wake_flusher.notify_one(),
    ///         // This receiver is 1 MiB behind: it misses this message.
    ///         Ok(_) => {}
    ///         // Closing or failed: the connection's own tasks see it too.
    ///         Err(_) => {}
    ///     }
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// As for [`WebSocket::send_prepared`]; a failed write is sticky, as for every send.
    pub fn try_send_prepared(&self, msg: &PreparedMessage) -> Result<TrySend, WsError>
    where
        S: 'static,
    {
        // One message: a list of one frame, not a batch's (the fan-out's hot path).
        self.try_send_chunks::<1, 2>(core::slice::from_ref(msg))
    }

    /// Sends several prepared messages now, without waiting, as far as the stream takes them
    /// (see [`try_send_prepared`](Self::try_send_prepared)): up to 256 per vectored write, the
    /// rest queued in order when the stream is full. The fan-out of a burst: every message
    /// waiting for a connection in a few system calls.
    ///
    /// # Errors
    /// As for [`send_prepared_batch`](Self::send_prepared_batch): when the connection refuses
    /// a message, the messages before it have been sent or queued.
    pub fn try_send_prepared_batch<M: Borrow<PreparedMessage>>(&self, msgs: &[M]) -> Result<TrySend, WsError>
    where
        S: 'static,
    {
        // A list of frames (and of buffers to write) as long as the batch needs.
        match msgs.len() {
            1 => self.try_send_chunks::<1, 2>(msgs),
            ..=BATCH => self.try_send_chunks::<BATCH, { BATCH + 1 }>(msgs),
            _ => self.try_send_chunks::<FANOUT_BATCH, { FANOUT_BATCH + 1 }>(msgs),
        }
    }

    /// [`try_send_prepared_batch`](Self::try_send_prepared_batch), `N` messages per write of
    /// up to `SLICES` buffers (`N + 1`: the output's rest, then the frames).
    fn try_send_chunks<const N: usize, const SLICES: usize>(
        &self,
        msgs: &[impl Borrow<PreparedMessage>],
    ) -> Result<TrySend, WsError>
    where
        S: 'static,
    {
        let split = &*self.core;
        let Some(mut w) = split.writer.try_lock() else {
            // Another send is writing: the frames queue behind it, copied.
            let mut s = lock(&split.shared);
            if s.out.len() >= TRY_SEND_LIMIT {
                return Ok(TrySend::Full);
            }
            let Shared { conn, out, epoch } = &mut *s;
            let result = msgs.iter().try_for_each(|msg| conn.send_prepared(msg.borrow(), out));
            stamp::<R>(conn, *epoch);
            return result.map(|()| TrySend::Queued).map_err(WsError::from);
        };
        let Writer { inflight, pos, broken, .. } = &mut *w;
        if let Some(f) = broken {
            return Err(f.error());
        }
        let mut outcome = TrySend::Sent;
        for (i, chunk) in msgs.chunks(N).enumerate() {
            let mut frames: [&[u8]; N] = [&[]; N];
            let mut count = 0;
            let refused = {
                let mut s = lock(&split.shared);
                let Shared { conn, out, epoch } = &mut *s;
                if i == 0 && inflight.len() - *pos + out.len() >= TRY_SEND_LIMIT {
                    return Ok(TrySend::Full);
                }
                let mut refused = None;
                for msg in chunk {
                    match conn.prepare_send(msg.borrow()) {
                        Ok(f) => {
                            frames[count] = f;
                            count += 1;
                        }
                        Err(e) => {
                            refused = Some(e);
                            break;
                        }
                    }
                }
                stamp::<R>(conn, *epoch);
                conn.poll_transmit(out)?;
                // What the connection produced before (replies, queued sends) goes out ahead.
                if *pos == inflight.len() {
                    *pos = 0;
                    inflight.clear();
                    core::mem::swap(out, inflight);
                } else {
                    drop_written(inflight, pos);
                    inflight.append(out);
                }
                refused
            };
            let frames = &frames[..count];
            if outcome == TrySend::Queued {
                // The stream is full: these wait behind what waits already.
                frames.iter().for_each(|f| inflight.extend_from_slice(f));
            } else {
                let written = write_now::<S, R, SLICES>(&split.stream, Unwritten::new(inflight, pos, frames));
                if let Err(e) = &written {
                    // Sticky, as for every write.
                    *broken = broken.or(WriteFailure::of(e));
                }
                outcome = written?;
            }
            if let Some(e) = refused {
                return Err(e.into());
            }
        }
        Ok(outcome)
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
        // Queued at once, behind whatever waits: the close deadline starts now.
        self.writable()?;
        self.encode_and_flush(close_command(CloseFrame::new(code, reason))).await
    }

    /// What to do with the transport now.
    pub fn transport_action(&self) -> TransportAction {
        lock(&self.core.shared).conn.transport_action()
    }

    /// Writes out everything the connection produced. Cancel-safe.
    ///
    /// # Errors
    /// [`WsError::Io`] from the stream.
    pub async fn flush(&self) -> Result<(), WsError> {
        flush_shared(&self.core).await
    }
}

impl<S: AsyncStream<R>, R: Runtime> Link for ReadLink<S, R> {
    type R = R;

    fn epoch(&self) -> R::Instant {
        self.epoch
    }

    fn with<T>(&mut self, f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> T) -> T {
        let mut s = lock(&self.core.shared);
        let Shared { conn, out, .. } = &mut *s;
        f(conn, out)
    }

    fn has_output(&self) -> bool {
        // Senders write their own frames, so the reader never waits on another task's slow
        // write unless it has a reply of its own.
        false
    }

    async fn flush(&mut self) -> Result<(), WsError> {
        flush_shared(&self.core).await
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut Half(&self.core.stream)).poll_read(cx, buf)
    }

    fn idle(&mut self) {
        // The writers own the output buffers after a split.
    }

    fn alarm(&mut self) -> &mut Alarm<R> {
        &mut self.alarm
    }
}

/// The most prepared messages one `try_send_prepared_batch` write takes (more than the async
/// sends' [`BATCH`]: nothing here is held across an await, so the list costs no task memory;
/// a burst of up to 256 messages goes out in one system call).
const FANOUT_BATCH: usize = 256;

/// Writes what the stream takes now: straight to the socket when the runtime can
/// ([`Runtime::send_now`]: tokio's sockets, without the touch of their readiness; a full
/// socket is `Queued` at once, unpolled), else polling it with a waker that does nothing
/// (outside the runtime's budget, see [`Runtime::poll_now`]), with the stream locked once for the writes
/// and the flush: what it does not take stays in the output (see [`Unwritten`]), for a flush
/// by a task that waits properly. Up to `SLICES` buffers per vectored write (the output's rest
/// and the frames: a batch of `N` frames goes out in one write with `N + 1`).
fn write_now<S: AsyncStream<R> + 'static, R: Runtime, const SLICES: usize>(
    stream: &Mutex<Stream<S>>,
    mut unwritten: Unwritten<'_, '_>,
) -> Result<TrySend, WsError> {
    let half = Half(stream);
    let mut stream = half.stream();
    // A socket the runtime can write without polling: system calls until it is full.
    let mut sent_now = false;
    loop {
        let mut slices = [IoSlice::new(&[]); SLICES];
        let count = unwritten.slices(&mut slices);
        if count == 0 {
            if sent_now {
                // Such a socket buffers nothing of its own: nothing to flush.
                return Ok(TrySend::Sent);
            }
            break;
        }
        match R::send_now(&*stream, &slices[..count]) {
            None => break,
            Some(Ok(0)) => return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into()),
            Some(Ok(n)) => {
                sent_now = true;
                let asked: usize = slices[..count].iter().map(|s| s.len()).sum();
                unwritten.advance(n);
                if n < asked {
                    // A socket takes less only when its buffer is full: the next call would
                    // answer `WouldBlock`.
                    return Ok(TrySend::Queued);
                }
            }
            Some(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Full: the rest waits for a flush, whose poll finds the socket full too and
            // registers for the wake-up.
            Some(Err(e)) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(TrySend::Queued),
            Some(Err(e)) => return Err(e.into()),
        }
    }
    R::poll_now(|cx| {
        loop {
            let mut slices = [IoSlice::new(&[]); SLICES];
            let count = unwritten.slices(&mut slices);
            if count == 0 {
                return match Pin::new(&mut *stream).poll_flush(cx) {
                    Poll::Ready(Ok(())) => Ok(TrySend::Sent),
                    Poll::Ready(Err(e)) => Err(e.into()),
                    Poll::Pending => Ok(TrySend::Queued),
                };
            }
            match poll_write_slices(Pin::new(&mut *stream), cx, &slices[..count]) {
                Poll::Ready(Ok(0)) => return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into()),
                Poll::Ready(Ok(n)) => unwritten.advance(n),
                Poll::Ready(Err(e)) => return Err(e.into()),
                Poll::Pending => return Ok(TrySend::Queued),
            }
        }
    })
}

/// Moves produced bytes to the in-flight buffer and writes them, resuming a cancelled write
/// (after a split).
pub(super) async fn flush_shared<S: AsyncStream<R>, R: Runtime>(split: &SplitCore<S, R>) -> Result<(), WsError> {
    write_shared(split, |_| Ok(Frames::default())).await
}

/// Frames a send command left to the caller, written from where they lie.
#[derive(Default)]
pub(super) struct Frames<'f> {
    pub(super) frames: [&'f [u8]; BATCH],
    pub(super) count: usize,
}

impl<'f> Frames<'f> {
    fn one(frame: &'f [u8]) -> Self {
        let mut frames = Self::default();
        frames.push(frame);
        frames
    }

    fn push(&mut self, frame: &'f [u8]) {
        self.frames[self.count] = frame;
        self.count += 1;
    }

    fn is_empty(&self) -> bool {
        self.frames[..self.count].iter().all(|f| f.is_empty())
    }
}

/// As [`flush_shared`], with frames written from where they lie: once the writer is ours,
/// `frames` runs send commands on the shared connection (writing the replies due ahead of the
/// frames) and returns the frames, which go out behind everything produced before them, in the
/// same vectored write.
pub(super) async fn write_shared<'f, S: AsyncStream<R>, R: Runtime>(
    split: &SplitCore<S, R>,
    frames: impl FnOnce(&mut Shared<R>) -> Result<Frames<'f>, crate::Error>,
) -> Result<(), WsError> {
    let SplitCore { shared, writer, stream } = split;
    let mut w = writer.lock().await;
    let Writer { inflight, pos, broken, alarm } = &mut *w;
    if let Some(f) = broken {
        return Err(f.error());
    }
    let (stall, frames) = {
        let mut s = lock(shared);
        let frames = frames(&mut s)?;
        // What the connection produced before the frames (other senders' frames, the replies)
        // goes out ahead of them.
        if !frames.is_empty() {
            if *pos == inflight.len() {
                *pos = 0;
                inflight.clear();
                core::mem::swap(&mut s.out, inflight);
            } else {
                drop_written(inflight, pos);
                inflight.append(&mut s.out);
            }
        }
        (s.conn.config().write_timeout, frames)
    };
    let mut guard = Guard { deadlines: shared, stall, alarm };
    let mut frames = &frames.frames[..frames.count];
    let result = async {
        loop {
            write_out(Pin::new(&mut Half(stream)), Unwritten::new(inflight, pos, frames), &mut guard).await?;
            frames = &[];
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
impl<R: Runtime> Deadlines<R> for &Mutex<Shared<R>> {
    fn next_deadline(&mut self) -> Option<R::Instant> {
        let s = lock(self);
        s.conn.poll_timeout().map(|t| s.epoch + t.as_duration())
    }

    fn expire(&mut self) -> Result<(), crate::Error> {
        let mut s = lock(self);
        let now = now::<R>(s.epoch);
        s.conn.handle_timeout(now)
    }
}
