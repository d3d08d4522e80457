//! The async WebSocket, written once for every runtime: the tokio adapter
//! ([`adapters::tokio`](crate::adapters::tokio)) and the futures-io adapter
//! ([`adapters::futures_io`](crate::adapters::futures_io), smol and async-std) are this module
//! over their [`Runtime`] (clock, timer, async lock) and their streams ([`AsyncStream`]).
//!
//! * A [`WebSocket`] owns its stream, connection and buffers: no lock and no shared state on
//!   the way of a message. [`WebSocket::recv_with_sender`] lets a single task answer a message
//!   while it still borrows it (an echo server needs no split and no copy).
//! * [`WebSocket::recv`] is cancel-safe: dropping a pending `recv` (in `select!`, on a timeout)
//!   loses no data; the next call picks up where it stopped. A dropped send has encoded its
//!   frame, and the next operation finishes writing it.
//! * Buffers are bounded: a fixed read buffer, and output that is written before the next
//!   command returns (automatic replies wait in the connection's two fixed slots).
//! * A server writes a large message's payload straight from the caller's buffer, after its
//!   header, with one vectored write (no copy), when the stream supports vectored writes and
//!   the message is not compressed. [`WebSocket::send_prepared`] writes a [`PreparedMessage`]
//!   (a broadcast, encoded once) straight from its shared frames, behind the output waiting
//!   ahead of them, with one vectored write; [`WebSocket::send_prepared_batch`] writes several
//!   in one write (a broadcast receiver that fell behind catches up with one system call).
//! * [`WebSocket::split`] gives a reader and a writer for two tasks; the reader writes automatic
//!   Pong and Close replies through the same writer lock, so they keep working after a split.
//! * Every stage has a deadline. The adapters' `accept`, `accept_with`, `client` (and tokio's
//!   `connect`) run with [`Config::with_adapter_deadlines`]: the opening handshake must finish
//!   within 10 s, keepalive Pings go out after 20 s without traffic and the peer is dead 20 s
//!   later, the close handshake gets 10 s, and a write that makes no progress for 20 s fails
//!   the connection (all configurable in [`Config`]; [`WebSocket::from_connection`] runs
//!   exactly the timers of the connection it is given). The deadlines hold while reads and
//!   writes are in progress, and are checked on every turn of the receive loop, so neither a
//!   flood nor a peer that stops reading postpones them. Keep a `recv` pending (as any reader
//!   loop does) for keepalive Pings to go out. The deadlines run on the runtime's timers.
//!
//! All protocol decisions are the [`Connection`]'s; these files only move bytes:
//! `runtime.rs` (what a runtime provides), `open.rs` (the handshakes), `socket.rs` (the
//! unsplit [`WebSocket`]), `split.rs` (reader and writer halves), `receive.rs` (the cancel-safe
//! receive loop) and `write.rs` (writes under the deadlines).

mod open;
mod receive;
mod runtime;
mod socket;
mod split;
mod write;

use core::borrow::Borrow;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::boxed::Box;
use std::io::IoSlice;
use std::sync::{Arc, Mutex, PoisonError};
use std::vec::Vec;

use super::WsError;
use super::error::WriteFailure;
use super::handshake::{Decision, Done, READ_CHUNK, client_step, server_step};
use super::inbox::Inbox;
use super::pool;
use crate::Found;
use crate::handshake::{ClientRequest, Negotiated, ServerHandshake, UpgradeRequest};
use crate::{
    CloseCode, CloseFrame, Config, Connection, Message, MessageKind, PreparedMessage, State, Timer, Timestamp,
    TransportAction,
};

pub use open::Accepted;
pub(crate) use open::{accept_or_http, accept_with, client};
#[cfg(feature = "tokio")]
pub(crate) use open::{client_handshake, within_handshake_timeout};
pub(crate) use runtime::Alarm;
pub(crate) use runtime::sealed;
pub use runtime::{AsyncStream, Runtime};
pub use socket::{Sender, WebSocket};
pub use split::{TRY_SEND_LIMIT, TrySend, WsReader, WsWriter};
use {receive::*, socket::*, split::*, write::*};

/// Default size of the read buffer (frames larger than this are delivered in pieces).
pub const DEFAULT_READ_BUFFER: usize = 64 * 1024;

/// Payloads from this size up are written by a server straight from the caller's buffer, after
/// their header, with one vectored write; smaller ones are copied into the output buffer and go
/// out with one plain write.
///
/// Either way a message costs one system call, and the kernel copies the payload once. Below
/// 2 KiB the copy into the output buffer costs a few tens of nanoseconds, no more than the
/// vectored write's extra bookkeeping, and it lets small frames share one write; above, it
/// grows with the payload (about 4 % of an echo server's time at 16 KiB) while the vectored
/// write's cost does not. It also keeps a server's output buffer small: larger binary messages
/// never pass through it (without compression, on a stream with vectored writes).
pub(super) const VECTORED_MIN: usize = 2048;

/// The most prepared messages one write takes ([`WebSocket::send_prepared_batch`]).
const BATCH: usize = 32;

/// How many bytes [`WebSocket::feed`] lets wait in the output before it writes them out (and
/// how many a send lets wait ahead of its own frames before it writes them first): what waits
/// for a `flush` is bounded by this plus one message.
pub const FEED_LIMIT: usize = 64 * 1024;

/// The stream, held inline (an [`AsyncStream`] is `Unpin`): one pointer fewer to follow on
/// every read and write, one allocation fewer per connection.
pub(super) type Stream<S> = S;

/// The time on the clock that starts at `epoch`.
pub(super) fn now<R: Runtime>(epoch: R::Instant) -> Timestamp {
    Timestamp::from_duration(R::since(epoch))
}

/// Tells `conn` the time (stamping what it just did), reading the clock only when a deadline
/// depends on it ([`Connection::wants_time`]: a clock read per message shows in profiles, and
/// a send changes no deadline unless an idle timeout is set).
pub(super) fn stamp<R: Runtime>(conn: &mut Connection, epoch: R::Instant) {
    if conn.wants_time() {
        conn.set_time(now::<R>(epoch));
    }
}

/// Tells `conn` the time and runs its timers if a deadline has passed: called on every turn of
/// the receive loop, so that traffic that keeps the reads busy never postpones a deadline.
pub(super) fn tick<R: Runtime>(conn: &mut Connection, epoch: R::Instant) -> Result<(), crate::Error> {
    if !conn.uses_timers() {
        return Ok(());
    }
    let now = now::<R>(epoch);
    conn.set_time(now);
    match conn.poll_timeout() {
        Some(deadline) if deadline <= now => conn.handle_timeout(now),
        _ => Ok(()),
    }
}

/// Our Close frame, unless the connection failed (its Close frame is already queued).
pub(super) fn close_command(
    frame: CloseFrame,
) -> impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error> {
    move |c, o| if c.state() == State::Failed { Ok(()) } else { c.close(frame, o) }
}
