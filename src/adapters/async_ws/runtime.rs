//! What the async WebSocket needs from a runtime: a clock, a timer that moves, and streams it
//! can poll (the writer half after a split waits on futures-util's mutex, which needs no
//! runtime). The tokio adapter ([`Tokio`](crate::adapters::tokio::Tokio)) and the
//! futures-io adapter ([`FuturesIo`](crate::adapters::futures_io::FuturesIo)) are the two
//! implementations; everything else (the cancel-safe receive loop, writes under the deadlines,
//! the split halves, the handshakes) is written once against these traits.

use core::fmt::Debug;
use core::ops::Add;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::io::{self, IoSlice};

/// A runtime the async WebSocket runs on: its clock and timers.
///
/// Sealed: implemented by [`Tokio`](crate::adapters::tokio::Tokio) (feature `tokio`) and
/// [`FuturesIo`](crate::adapters::futures_io::FuturesIo) (feature `futures-io`: smol,
/// async-std and any executor, with async-io's timers).
pub trait Runtime: sealed::Sealed + Debug + Sized + Send + Sync + 'static {
    /// A point on the runtime's clock (the one its timers use: tokio's paused test clock
    /// included).
    type Instant: Copy + Ord + Debug + Send + Sync + Unpin + Add<Duration, Output = Self::Instant>;
    /// A timer that can be moved to another deadline.
    type Timer: Debug + Send + Sync + Unpin;
    /// The time now.
    fn now() -> Self::Instant;
    /// The time elapsed since `earlier`.
    fn since(earlier: Self::Instant) -> Duration;
    /// A timer that fires at `at`.
    fn timer(at: Self::Instant) -> Self::Timer;
    /// Ready once `at` has passed; moves `timer` to `at` first if it was set for another time.
    fn poll_timer(timer: &mut Self::Timer, cx: &mut Context<'_>, at: Self::Instant) -> Poll<()>;
    /// Runs `f` with a context whose waker does nothing, outside the runtime's cooperative
    /// scheduling budget: for the writes of a `try_send_*` to a stream
    /// [`send_now`](Self::send_now) does not take, which never wait and never yield
    /// (a fan-out loop that has spent its task's budget must not see every further write as
    /// "would block").
    fn poll_now<T>(f: impl FnOnce(&mut Context<'_>) -> T) -> T;
    /// Writes `bufs` to `stream` with one system call, now, when `stream` is a socket of this
    /// runtime's that can be written without polling; `None` when it is not (poll it). For the
    /// writes of a `try_send_*`: a fan-out skips the runtime's readiness bookkeeping, which is
    /// memory of its own per connection. `Some(Err(WouldBlock))`: the socket is full; polling
    /// it then registers for the wake-up as usual.
    fn send_now<S: 'static>(stream: &S, bufs: &[IoSlice<'_>]) -> Option<io::Result<usize>>;
}

/// A byte stream of runtime `R` (tokio's `AsyncRead + AsyncWrite`, or futures-io's): what the
/// async WebSocket reads from and writes to. Implemented for every such stream that is
/// `Unpin` (as tokio's and smol's sockets are; pass a stream that is not as `Box::pin(stream)`),
/// so the WebSocket holds it inline; sealed.
pub trait AsyncStream<R: Runtime>: sealed::Stream<R> + Unpin {
    /// Reads into `buf`; `Ok(0)` is the end of the stream.
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    /// Writes from `buf`; returns how many bytes were written.
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    /// Writes from `bufs` in order; returns how many bytes were written.
    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>])
    -> Poll<io::Result<usize>>;
    /// Whether the stream writes several buffers with one call.
    fn is_write_vectored(&self) -> bool;
    /// Flushes what the stream buffers.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

/// One timer per connection (per half after a split), reused for every deadline: created when
/// first needed. Futures that waited on a timer of their own would each carry one, and a task
/// is as large as its largest future for its whole life, so this keeps an idle connection
/// small.
#[derive(Debug)]
pub(crate) struct Alarm<R: Runtime>(Option<R::Timer>);

impl<R: Runtime> Default for Alarm<R> {
    fn default() -> Self {
        Self(None)
    }
}

impl<R: Runtime> Alarm<R> {
    /// Ready once `at` has passed.
    pub(crate) fn poll_at(&mut self, cx: &mut Context<'_>, at: R::Instant) -> Poll<()> {
        let timer = self.0.get_or_insert_with(|| R::timer(at));
        R::poll_timer(timer, cx, at)
    }
}

pub(crate) mod sealed {
    /// Seals [`Runtime`](super::Runtime).
    pub trait Sealed {}
    /// Seals [`AsyncStream`](super::AsyncStream).
    pub trait Stream<R> {}
}
