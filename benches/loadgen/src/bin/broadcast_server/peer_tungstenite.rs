//! tokio-tungstenite 0.30 (no permessage-deflate in this version): `accept_async`, and the
//! `Sink` of `Message`s. A message's text is a `Utf8Bytes` (a `Bytes` inside), so each
//! connection's clone of it shares the payload, as in the crate's own broadcast example
//! (`examples/server.rs`: `msg.clone()` to every peer, and `forward` into the sink, which
//! feeds every message that is ready and flushes when none is). So here: `feed` every message
//! waiting, then `flush` (for one message, `send`).

use std::sync::Arc;

use futures_util::SinkExt;
use tokio::net::TcpStream;
use tokio::sync::broadcast::Receiver;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::{Shared, next_batch};

/// The message: text in a `Utf8Bytes`, shared by every connection.
pub fn prepare(text: &str) -> Message {
    Message::Text(Utf8Bytes::from(text.to_owned()))
}

/// One connection.
pub async fn serve(stream: TcpStream, mut rx: Receiver<Message>, shared: Arc<Shared>) -> Result<(), String> {
    let mut ws = tokio_tungstenite::accept_async(stream).await.map_err(|e| e.to_string())?;
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
