//! One write to a tokio socket now, without tokio's readiness check: the fan-out's writes
//! (`WsWriter::try_send_*`).
//!
//! Every poll of a tokio socket first reads its readiness, kept in an allocation of its own
//! (the registration's `ScheduledIo`). A broadcast to thousands of connections touches that
//! memory once per connection and message, after the previous system call has evicted it: at
//! 5,000 connections the first touch cost a quarter of the fan-out's user time
//! (docs/performance.md, "Session 6"). A write that does not wait has no use for the cached
//! readiness: the socket answers `WouldBlock` itself when it is full, and the caller then polls
//! it as usual, which updates tokio's readiness and registers for the wake-up. As
//! uWebSockets writes: try the system call first.
//!
//! Only for tokio's `TcpStream` and `UnixStream` (other streams, a TLS stream over them
//! included, are polled), and only on Linux and Android, where `MSG_NOSIGNAL` makes a write to
//! a closed connection an `EPIPE` error rather than a `SIGPIPE`, as in tokio's own writes.

use core::any::Any;
use std::io::{self, IoSlice};

/// Writes `bufs` to `stream` with one system call, when `stream` is a tokio socket this knows;
/// `None` otherwise (poll the stream instead). `Some(Err(WouldBlock))`: the socket is full.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn send_now<S: 'static>(stream: &S, bufs: &[IoSlice<'_>]) -> Option<io::Result<usize>> {
    let stream: &dyn Any = stream;
    let socket = if let Some(tcp) = stream.downcast_ref::<tokio::net::TcpStream>() {
        socket2::SockRef::from(tcp)
    } else if let Some(unix) = stream.downcast_ref::<tokio::net::UnixStream>() {
        socket2::SockRef::from(unix)
    } else {
        return None;
    };
    Some(match bufs {
        [one] => socket.send_with_flags(one, libc::MSG_NOSIGNAL),
        _ => socket.send_vectored_with_flags(bufs, libc::MSG_NOSIGNAL),
    })
}

/// Elsewhere every write is polled.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn send_now<S: 'static>(_stream: &S, _bufs: &[IoSlice<'_>]) -> Option<io::Result<usize>> {
    None
}
