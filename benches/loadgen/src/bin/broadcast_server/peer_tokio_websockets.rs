//! tokio-websockets 0.13 (no permessage-deflate): `ServerBuilder::accept`, and the `Sink` of
//! `Message`s. A `Message` is "cheaply clonable" (its `Payload` is a `Bytes`, sent without a
//! copy when it is shared), so every connection gets a clone of one message. As for any
//! `Sink`, every message waiting is `feed` in, then the sink is flushed once (for one message,
//! `send`).

use std::sync::Arc;

use bytes::Bytes;
use futures_util::SinkExt;
use tokio::net::TcpStream;
use tokio::sync::broadcast::Receiver;
use tokio_websockets::Message;

use crate::{Shared, next_batch};

/// The message: a text message over a shared `Bytes`.
pub fn prepare(text: &str) -> Message {
    Message::text(Bytes::from(text.to_owned()))
}

/// One connection.
pub async fn serve(stream: TcpStream, mut rx: Receiver<Message>, shared: Arc<Shared>) -> Result<(), String> {
    let (_request, mut ws) = tokio_websockets::ServerBuilder::new().accept(stream).await.map_err(|e| e.to_string())?;
    shared.ready();
    let mut batch = Vec::with_capacity(shared.messages);
    let mut sent = 0;
    while sent < shared.messages {
        next_batch(&mut rx, &mut batch).await?;
        let n = batch.len();
        for message in batch.drain(..) {
            ws.feed(message).await.map_err(|e| e.to_string())?;
        }
        ws.flush().await.map_err(|e| e.to_string())?;
        sent += n;
        shared.delivered(n);
    }
    std::future::pending().await
}
