//! fastwebsockets 0.10 (no permessage-deflate): the upgrade done by hand (as in the echo
//! server of this crate), then `WebSocket::after_handshake` on the plain `TcpStream`, and
//! `write_frame` for each message with a payload borrowed from a shared `Bytes`
//! (`Payload::Borrowed`: no copy before the write). `write_frame` writes each frame at once
//! (vectored above its 1 KiB `writev_threshold`, else through its small frame buffer); the
//! crate has no way to put several frames in one write.

use std::sync::Arc;

use bytes::Bytes;
use fastwebsockets::{Frame, Payload, Role, WebSocket};
use tokio::net::TcpStream;
use tokio::sync::broadcast::Receiver;

use crate::{Shared, next_batch};

/// The message: its text in a shared `Bytes`.
pub fn prepare(text: &str) -> Bytes {
    Bytes::from(text.to_owned())
}

/// One connection.
pub async fn serve(mut stream: TcpStream, mut rx: Receiver<Bytes>, shared: Arc<Shared>) -> Result<(), String> {
    wsproto_loadgen::server_handshake(&mut stream).await.map_err(|e| e.to_string())?;
    let mut ws = WebSocket::after_handshake(stream, Role::Server);
    shared.ready();
    let mut batch = Vec::with_capacity(shared.messages);
    let mut sent = 0;
    while sent < shared.messages {
        next_batch(&mut rx, &mut batch).await?;
        for text in &batch {
            ws.write_frame(Frame::text(Payload::Borrowed(text))).await.map_err(|e| e.to_string())?;
        }
        sent += batch.len();
        shared.delivered(batch.len());
        batch.clear();
    }
    std::future::pending().await
}
