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

/// The connection's deadlines on the runtime's clock, watched while a read or write is in
/// progress.
pub(super) trait Deadlines<R: Runtime> {
    /// The connection's next deadline.
    fn next_deadline(&mut self) -> Option<R::Instant>;
    /// Runs the connection's timers (a deadline passed); an error has failed the connection.
    fn expire(&mut self) -> Result<(), crate::Error>;
}

/// The deadlines of a connection at hand.
pub(super) struct ConnDeadlines<'a, R: Runtime> {
    pub(super) conn: &'a mut Connection,
    pub(super) epoch: R::Instant,
}

impl<R: Runtime> Deadlines<R> for ConnDeadlines<'_, R> {
    fn next_deadline(&mut self) -> Option<R::Instant> {
        self.conn.poll_timeout().map(|t| self.epoch + t.as_duration())
    }

    fn expire(&mut self) -> Result<(), crate::Error> {
        self.conn.handle_timeout(now::<R>(self.epoch))
    }
}

/// What a write runs under: the connection's deadlines, the write-stall limit, and the
/// connection's alarm.
pub(super) struct Guard<'a, D, R: Runtime> {
    pub(super) deadlines: D,
    pub(super) stall: Option<Duration>,
    pub(super) alarm: &'a mut Alarm<R>,
}

/// Writes the output buffer's unwritten bytes, then frames written from where they lie (none
/// for buffered output only), with vectored writes (one system call when the stream takes it
/// all), then flushes the stream.
///
/// It runs under the connection's deadlines: when one passes, the connection's timers run (a
/// Ping they queue waits in its slot; a deadline that fails the connection ends the write),
/// and under the stall limit: when no byte goes out for that long, the write fails with
/// [`Timer::Write`]. Dropped or failed, it loses nothing and writes nothing twice (see
/// [`Unwritten`]). One `poll_fn` with no timer of its own, so the future stays small (a task
/// is as large as its largest future for its whole life).
pub(super) async fn write_out<W: AsyncStream<R> + ?Sized, R: Runtime>(
    mut stream: Pin<&mut W>,
    mut w: Unwritten<'_, '_>,
    guard: &mut Guard<'_, impl Deadlines<R>, R>,
) -> Result<(), WsError> {
    let mut flushing = false;
    // When the write started waiting without progress.
    let mut stalled_since: Option<R::Instant> = None;
    // A deadline that running the timers did not move is not watched again (no busy loop).
    let mut expired: Option<R::Instant> = None;
    core::future::poll_fn(|cx| {
        loop {
            let progress = if flushing {
                match stream.as_mut().poll_flush(cx) {
                    Poll::Ready(result) => return Poll::Ready(result.map_err(WsError::from)),
                    Poll::Pending => false,
                }
            } else {
                // A list as long as the parts left (the common case is the output or one
                // frame, or both): zeroing a long list on every poll cost more than the rest
                // of the write's own work.
                let mut few = [IoSlice::new(&[]); 2];
                let mut many;
                let slices: &mut [IoSlice<'_>] = if w.parts() <= few.len() {
                    &mut few
                } else {
                    many = [IoSlice::new(&[]); MAX_SLICES];
                    &mut many
                };
                let count = w.slices(slices);
                if count == 0 {
                    flushing = true;
                    continue;
                }
                match poll_write_slices(stream.as_mut(), cx, &slices[..count]) {
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
            let stall_at = guard.stall.map(|d| *stalled_since.get_or_insert_with(R::now) + d);
            let deadline = guard.deadlines.next_deadline().filter(|d| Some(*d) != expired);
            let at = match (deadline, stall_at) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => return Poll::Pending,
            };
            if guard.alarm.poll_at(cx, at).is_pending() {
                return Poll::Pending;
            }
            if stall_at.is_some_and(|s| R::now() >= s) {
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

/// Drops the written part of an output buffer before more is appended behind what is still
/// unwritten: the buffer then holds only what waits (bounded by the callers), not everything a
/// run of cancelled or partial writes ever sent.
pub(super) fn drop_written(out: &mut Vec<u8>, pos: &mut usize) {
    if *pos > 0 {
        out.drain(..*pos);
        *pos = 0;
    }
}

/// Writes `slices` (at least one): one buffer with a plain write, several with one vectored
/// write. On a socket a plain write is `send`, which skips the file layer that `writev` goes
/// through (the file's position lock and checks) and copies no list of buffers: the common case
/// of one frame, or one frame waiting in the output buffer, costs the kernel less.
pub(super) fn poll_write_slices<W: AsyncStream<R> + ?Sized, R: Runtime>(
    stream: Pin<&mut W>,
    cx: &mut Context<'_>,
    slices: &[IoSlice<'_>],
) -> Poll<std::io::Result<usize>> {
    match slices {
        [one] => stream.poll_write(cx, one),
        _ => stream.poll_write_vectored(cx, slices),
    }
}

/// The most buffers one vectored write of an async send takes (the output buffer and up to
/// [`BATCH`] frames written from where they lie; more wait for the next write, which follows
/// at once).
pub(super) const MAX_SLICES: usize = BATCH + 1;

/// The output buffer's unwritten bytes followed by frames written from where they lie (a
/// header and the caller's payload, or prepared messages' frames). When it is dropped before
/// all is written (the write failed, or its future was dropped), what is left of the frames is
/// copied to the output buffer, so that the next write finishes it: no byte is lost or written
/// twice.
pub(super) struct Unwritten<'a, 'f> {
    pub(super) out: &'a mut Vec<u8>,
    pub(super) pos: &'a mut usize,
    /// What goes out after the output buffer, in order.
    pub(super) frames: &'a [&'f [u8]],
    /// Frames written whole.
    pub(super) next: usize,
    /// Bytes of `frames[next]` written.
    pub(super) done: usize,
}

impl<'a, 'f> Unwritten<'a, 'f> {
    pub(super) fn new(out: &'a mut Vec<u8>, pos: &'a mut usize, frames: &'a [&'f [u8]]) -> Self {
        Self { out, pos, frames, next: 0, done: 0 }
    }

    /// Fills `slices` with what is left to write (of the output buffer, then of the frames),
    /// skipping empty parts; returns how many it filled.
    pub(super) fn slices<'s>(&'s self, slices: &mut [IoSlice<'s>]) -> usize {
        // Plain indexing: this runs once per write and connection in a fan-out, where an
        // iterator chain cost about twice the instructions.
        let mut count = 0;
        let head = &self.out[*self.pos..];
        if !head.is_empty() && !slices.is_empty() {
            slices[0] = IoSlice::new(head);
            count = 1;
        }
        let mut i = self.next;
        let mut skip = self.done;
        while i < self.frames.len() && count < slices.len() {
            let part = &self.frames[i][skip..];
            if !part.is_empty() {
                slices[count] = IoSlice::new(part);
                count += 1;
            }
            i += 1;
            skip = 0;
        }
        count
    }

    /// How many parts may be left to write, at most: the output buffer's rest and the frames
    /// not written whole.
    pub(super) fn parts(&self) -> usize {
        usize::from(*self.pos < self.out.len()) + self.frames.len() - self.next.min(self.frames.len())
    }

    /// Records `n` more bytes written.
    pub(super) fn advance(&mut self, n: usize) {
        let from_out = n.min(self.out.len() - *self.pos);
        *self.pos += from_out;
        let mut n = n - from_out;
        while n > 0 {
            let left = self.frames[self.next].len() - self.done;
            if n < left {
                self.done += n;
                return;
            }
            n -= left;
            self.next += 1;
            self.done = 0;
        }
    }
}

impl Drop for Unwritten<'_, '_> {
    fn drop(&mut self) {
        if *self.pos == self.out.len() {
            // Written: after a large message, give most of its memory back.
            let used = self.out.len();
            self.out.clear();
            crate::buf::release_excess(self.out, used, crate::buf::RETAIN_CAPACITY);
            *self.pos = 0;
        }
        if let Some(frame) = self.frames.get(self.next) {
            self.out.extend_from_slice(&frame[self.done..]);
            for frame in &self.frames[self.next + 1..] {
                self.out.extend_from_slice(frame);
            }
        }
        self.next = self.frames.len();
        self.done = 0;
    }
}
