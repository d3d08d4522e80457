//! Writing under the deadlines: one `poll_fn` future per write, one reusable timer per
//! connection, and [`Unwritten`], which keeps a dropped write from losing or repeating bytes.

use super::*;

/// Records a write that failed or stalled: the stream takes no more frames.
pub(super) fn record(broken: &mut Option<WriteFailure>, result: Result<(), WsError>) -> Result<(), WsError> {
    if let Err(e) = &result {
        *broken = broken.or(WriteFailure::of(e));
    }
    result
}

/// The connection's deadlines on tokio's clock, watched while a read or write is in progress.
pub(super) trait Deadlines {
    /// The connection's next deadline.
    fn next_deadline(&mut self) -> Option<Instant>;
    /// Runs the connection's timers (a deadline passed); an error has failed the connection.
    fn expire(&mut self) -> Result<(), crate::Error>;
}

/// The deadlines of a connection at hand.
pub(super) struct ConnDeadlines<'a> {
    pub(super) conn: &'a mut Connection,
    pub(super) epoch: Instant,
}

impl Deadlines for ConnDeadlines<'_> {
    fn next_deadline(&mut self) -> Option<Instant> {
        self.conn.poll_timeout().map(|t| self.epoch + t.as_duration())
    }

    fn expire(&mut self) -> Result<(), crate::Error> {
        self.conn.handle_timeout(now(self.epoch))
    }
}

/// One tokio timer per connection (per half after a split), reused for every deadline: on
/// the heap, created when first needed. Futures that waited on a timer of their own would each
/// carry one (about 100 bytes), and a task is as large as its largest future for its whole
/// life, so this keeps an idle connection small.
#[derive(Debug, Default)]
pub(super) struct Alarm(Option<Pin<Box<::tokio::time::Sleep>>>);

impl Alarm {
    /// Ready once `at` has passed.
    pub(super) fn poll_at(&mut self, cx: &mut Context<'_>, at: Instant) -> Poll<()> {
        let sleep = self.0.get_or_insert_with(|| Box::pin(::tokio::time::sleep_until(at)));
        if sleep.deadline() != at {
            sleep.as_mut().reset(at);
        }
        sleep.as_mut().poll(cx)
    }
}

/// What a write runs under: the connection's deadlines, the write-stall limit, and the
/// connection's alarm.
pub(super) struct Guard<'a, D> {
    pub(super) deadlines: D,
    pub(super) stall: Option<Duration>,
    pub(super) alarm: &'a mut Alarm,
}

/// Writes the output buffer's unwritten bytes, then a frame's header and payload (both empty
/// for buffered output only), with vectored writes (one system call when the stream takes it
/// all), then flushes the stream.
///
/// It runs under the connection's deadlines: when one passes, the connection's timers run (a
/// Ping they queue waits in its slot; a deadline that fails the connection ends the write),
/// and under the stall limit: when no byte goes out for that long, the write fails with
/// [`Timer::Write`]. Dropped or failed, it loses nothing and writes nothing twice (see
/// [`Unwritten`]). One `poll_fn` with no timer of its own, so the future stays small (a task
/// is as large as its largest future for its whole life).
pub(super) async fn write_out<W: AsyncWrite + ?Sized>(
    mut stream: Pin<&mut W>,
    mut w: Unwritten<'_>,
    guard: &mut Guard<'_, impl Deadlines>,
) -> Result<(), WsError> {
    let mut flushing = false;
    // When the write started waiting without progress.
    let mut stalled_since: Option<Instant> = None;
    // A deadline that running the timers did not move is not watched again (no busy loop).
    let mut expired: Option<Instant> = None;
    core::future::poll_fn(|cx| {
        loop {
            let progress = if flushing {
                match stream.as_mut().poll_flush(cx) {
                    Poll::Ready(result) => return Poll::Ready(result.map_err(WsError::from)),
                    Poll::Pending => false,
                }
            } else {
                let mut slices = [IoSlice::new(&[]); 3];
                let mut count = 0;
                for part in w.parts() {
                    if !part.is_empty() {
                        slices[count] = IoSlice::new(part);
                        count += 1;
                    }
                }
                if count == 0 {
                    flushing = true;
                    continue;
                }
                match stream.as_mut().poll_write_vectored(cx, &slices[..count]) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into()));
                    }
                    Poll::Ready(Ok(n)) => {
                        w.advance(n);
                        true
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                    Poll::Pending => false,
                }
            };
            if progress {
                stalled_since = None;
                continue;
            }
            let stall_at = guard.stall.map(|d| *stalled_since.get_or_insert_with(Instant::now) + d);
            let deadline = guard.deadlines.next_deadline().filter(|d| Some(*d) != expired);
            let at = match (deadline, stall_at) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => return Poll::Pending,
            };
            if guard.alarm.poll_at(cx, at).is_pending() {
                return Poll::Pending;
            }
            if stall_at.is_some_and(|s| Instant::now() >= s) {
                return Poll::Ready(Err(crate::Error::Timeout(Timer::Write).into()));
            }
            expired = deadline;
            if let Err(e) = guard.deadlines.expire() {
                return Poll::Ready(Err(e.into()));
            }
        }
    })
    .await
}

/// The output buffer's unwritten bytes followed by a frame written from the caller's payload.
/// When it is dropped before all is written (the write failed, or its future was dropped), what
/// is left of the frame is copied to the output buffer, so that the next write finishes it: no
/// byte is lost or written twice.
pub(super) struct Unwritten<'a> {
    pub(super) out: &'a mut Vec<u8>,
    pub(super) pos: &'a mut usize,
    pub(super) head: &'a [u8],
    pub(super) payload: &'a [u8],
    /// Bytes of `head` then `payload` written.
    pub(super) done: usize,
}

impl<'a> Unwritten<'a> {
    pub(super) fn new(out: &'a mut Vec<u8>, pos: &'a mut usize, head: &'a [u8], payload: &'a [u8]) -> Self {
        Self { out, pos, head, payload, done: 0 }
    }

    /// What is left to write: of the output buffer, the header and the payload.
    pub(super) fn parts(&self) -> [&[u8]; 3] {
        let head = &self.head[self.done.min(self.head.len())..];
        let payload = &self.payload[self.done.saturating_sub(self.head.len())..];
        [&self.out[*self.pos..], head, payload]
    }

    /// Records `n` more bytes written.
    pub(super) fn advance(&mut self, n: usize) {
        let from_out = n.min(self.out.len() - *self.pos);
        *self.pos += from_out;
        self.done += n - from_out;
    }
}

impl Drop for Unwritten<'_> {
    fn drop(&mut self) {
        if *self.pos == self.out.len() {
            // Written: after a large message, give most of its memory back.
            let used = self.out.len();
            self.out.clear();
            crate::buf::release_excess(self.out, used, crate::buf::RETAIN_CAPACITY);
            *self.pos = 0;
        }
        let head = self.done.min(self.head.len());
        let payload = self.done.saturating_sub(self.head.len());
        self.out.extend_from_slice(&self.head[head..]);
        self.out.extend_from_slice(&self.payload[payload..]);
        self.done = self.head.len() + self.payload.len();
    }
}
