//! `WsWriter::try_send_prepared` to a receiver that went away, on tokio's own sockets (written
//! with the system call straight away, `src/adapters/send_now.rs`): the writes fail with a
//! broken pipe or a reset, never a SIGPIPE, and the failure is sticky. A test binary of its
//! own: it sets SIGPIPE back to its default action for the whole process.
#![cfg(all(feature = "tokio", unix))]

#[path = "support/socket_pairs.rs"]
mod socket_pairs;

use std::io::ErrorKind;
use std::time::Duration;

use socket_pairs::{message, tcp_pair, websockets};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::UnixStream;
use wsproto::adapters::WsError;
use wsproto::adapters::async_ws::TrySend;
use wsproto::adapters::tokio::WebSocket;

/// SIGPIPE back to its default action (terminate), which Rust programs set to "ignore" before
/// `main`: a library's write to a closed connection must not raise it, for a host program that
/// is not written in Rust. Every test here writes to a closed socket on purpose.
fn default_sigpipe() {
    // SAFETY: `signal` with a valid signal number and `SIG_DFL`; nothing in this test binary
    // installs a SIGPIPE handler.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(previous, libc::SIG_ERR);
}

/// A receiver that went away: the writes fail (a reset or a broken pipe, not a signal: the
/// process would end with SIGPIPE otherwise) and the failure is sticky.
async fn gone_receiver_fails_and_stays_failed<S>(server: WebSocket<S>, peer: WebSocket<S>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    default_sigpipe();
    let (_reader, writer) = server.split();
    drop(peer);
    let mut failed = None;
    // The first write after the peer closed may still be taken (TCP learns of the close from
    // the reset it provokes), so a few tries.
    for i in 0..100 {
        match writer.try_send_prepared(&message(i)) {
            Ok(TrySend::Sent | TrySend::Queued) => tokio::time::sleep(Duration::from_millis(5)).await,
            Ok(other) => panic!("message {i}: {other:?}"),
            Err(WsError::Io(e)) => {
                failed = Some(e.kind());
                break;
            }
            Err(other) => panic!("message {i}: {other}"),
        }
    }
    let failed = failed.expect("writes to a closed connection kept succeeding");
    assert!(
        matches!(failed, ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
        "a closed connection fails with a broken pipe or a reset, not {failed:?}"
    );
    for i in 0..3 {
        match writer.try_send_prepared(&message(1000 + i)) {
            Err(WsError::Io(e)) => assert_eq!(e.kind(), failed, "a failed write is sticky"),
            other => panic!("a failed write is sticky, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn tcp_a_receiver_that_is_gone_makes_the_writes_fail_for_good() {
    let (server, client) = tcp_pair().await;
    let (server, peer) = websockets(server, client);
    gone_receiver_fails_and_stays_failed(server, peer).await;
}

#[tokio::test]
async fn unix_a_receiver_that_is_gone_makes_the_writes_fail_for_good() {
    let (server, client) = UnixStream::pair().unwrap();
    let (server, peer) = websockets(server, client);
    gone_receiver_fails_and_stays_failed(server, peer).await;
}
