//! `wsproto-fanout`: one task writes each prepared message to every connection with
//! `WsWriter::try_send_prepared` (a burst: all of them with `try_send_prepared_batch`), the
//! way uWebSockets' `publish` writes to its subscribers: one system call per connection, no
//! task woken, no copy. Only a connection whose stream did not take everything at once wakes
//! its own task, which flushes the rest under the write deadline. Each connection's reader
//! half keeps a `recv` pending in a task of its own (it answers Pings and the Close handshake).

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use wsproto::PreparedMessage;
use wsproto::adapters::WsError;
use wsproto::adapters::async_ws::TrySend;
use wsproto::adapters::tokio::WsWriter;

use crate::{Args, Measured, Mode, Shared, measure, open_all, ours};

/// A connection's bookkeeping in the room, touched only when its socket did not take a message
/// at once (the writers themselves sit side by side in the room's list, as a room would keep
/// them: the fan-out loop follows one pointer per connection).
struct Member {
    /// Messages queued in its output, counted as delivered once its flush has written them.
    queued: AtomicUsize,
    /// Wakes its task to flush.
    wake: Notify,
}

impl Member {
    /// Counts `count` messages the broadcaster handed to this member's `try_send_*`.
    fn handed(&self, outcome: Result<TrySend, WsError>, count: usize, shared: &Shared) -> Result<(), String> {
        match outcome.map_err(|e| e.to_string())? {
            TrySend::Sent => shared.delivered(count),
            TrySend::Full => return Err("a receiver fell 1 MiB behind".to_owned()),
            _ => {
                self.queued.fetch_add(count, Relaxed);
                self.wake.notify_one();
            }
        }
        Ok(())
    }
}

/// The room: each connection's writer and its bookkeeping, at the same index.
type Room = Vec<(WsWriter<TcpStream>, Arc<Member>)>;

pub async fn broadcast(a: &Args, listener: TcpListener, control: &mut BufReader<TcpStream>) -> Result<Measured, String> {
    let shared = Shared::new(a);
    let room: Arc<Mutex<Room>> = Arc::default();
    open_all(a, listener, control, &shared, |stream| {
        let (shared, room) = (Arc::clone(&shared), Arc::clone(&room));
        async move {
            let (mut reader, writer) = ours::open(stream, &shared).await?.split();
            let member = Arc::new(Member { queued: AtomicUsize::new(0), wake: Notify::new() });
            room.lock().unwrap().push((writer.clone(), Arc::clone(&member)));
            shared.ready();
            // The reader in a task of its own: a wake to flush does not poll the read too.
            let reader_shared = Arc::clone(&shared);
            tokio::spawn(async move {
                if let Err(e) = reader.recv().await {
                    eprintln!("recv: {e}");
                    reader_shared.fail();
                }
            });
            loop {
                member.wake.notified().await;
                let n = member.queued.swap(0, Relaxed);
                writer.flush().await.map_err(|e| format!("flush: {e}"))?;
                shared.delivered(n);
            }
        }
    })
    .await?;
    let room: Room = room.lock().unwrap().clone();
    let (deflate, n) = (a.deflate, a.connections);
    let shared = &shared;
    measure(a, shared, |texts| async move {
        match a.mode {
            Mode::Burst => {
                let burst: Vec<PreparedMessage> = texts.iter().map(|t| ours::prepare(t, deflate)).collect();
                for (writer, member) in &room {
                    member.handed(writer.try_send_prepared_batch(&burst), burst.len(), shared)?;
                }
                shared.wait_delivered(n * a.messages).await
            }
            Mode::Paced => {
                for (k, text) in texts.iter().enumerate() {
                    let message = ours::prepare(text, deflate);
                    for (writer, member) in &room {
                        member.handed(writer.try_send_prepared(&message), 1, shared)?;
                    }
                    shared.wait_delivered(n * (k + 1)).await?;
                }
                Ok(())
            }
        }
    })
    .await
}
