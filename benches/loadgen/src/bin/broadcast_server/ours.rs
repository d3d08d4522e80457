//! Our crate through its tokio adapter: `wsproto` sends each message as a `PreparedMessage`
//! (encoded, and compressed, once for all connections) with `send_prepared_batch`: every
//! message waiting for a connection goes out from the shared frames, without a copy, in one
//! vectored write. `wsproto-send`, for comparison, encodes each message on each connection
//! (and compresses it, once per connection) with `feed_text`, and writes everything waiting
//! with one `flush`, as the peers' `feed` + `flush` do (before session 5: `send_text`, one write
//! per message; in session 5: `feed`, which checked the text's UTF-8 again).
//!
//! With `--compression deflate` both agree to permessage-deflate with
//! `DeflateConfig::low_memory()` (what `adapters::tokio::accept` would agree to): the server
//! resets its compression context after each message (`server_no_context_takeover`), so one
//! compressed form of a message fits every connection.

use std::sync::Arc;

use tokio::net::TcpStream;
use tokio::sync::broadcast::Receiver;
use wsproto::adapters::tokio::{WebSocket, accept_with};
use wsproto::deflate::DeflateConfig;
use wsproto::handshake::{Accept, UpgradeRequest};
use wsproto::{Config, MessageKind, PreparedMessage};

use crate::{Shared, next_batch};

/// The message as `wsproto` broadcasts it: encoded once, and compressed once with `deflate`.
pub fn prepare(text: &str, deflate: bool) -> PreparedMessage {
    let config = Config::new();
    let message = if deflate {
        PreparedMessage::compressed(MessageKind::Text, text.as_bytes(), &config, &DeflateConfig::low_memory())
    } else {
        PreparedMessage::new(MessageKind::Text, text.as_bytes(), &config)
    };
    message.expect("a tick is valid UTF-8")
}

/// The message as `wsproto-send` passes it around: shared text.
pub fn text(text: &str) -> Arc<str> {
    Arc::from(text)
}

/// The opening handshake (the caller reports the connection ready).
pub async fn open(stream: TcpStream, shared: &Shared) -> Result<WebSocket<TcpStream>, String> {
    let deflate = shared.deflate;
    let offer = move |_: &UpgradeRequest| {
        Ok(if deflate { Accept::new().with_deflate(DeflateConfig::low_memory()) } else { Accept::new() })
    };
    let (ws, negotiated) = accept_with(stream, Config::new(), offer).await.map_err(|e| e.to_string())?;
    if deflate && negotiated.deflate.is_none() {
        return Err("the client did not agree to permessage-deflate".to_owned());
    }
    Ok(ws)
}

/// One connection of `wsproto`: prepared messages.
pub async fn serve_prepared(
    stream: TcpStream,
    mut rx: Receiver<PreparedMessage>,
    shared: Arc<Shared>,
) -> Result<(), String> {
    let mut ws = open(stream, &shared).await?;
    shared.ready();
    let mut batch = Vec::with_capacity(shared.messages);
    let mut sent = 0;
    while sent < shared.messages {
        next_batch(&mut rx, &mut batch).await?;
        ws.send_prepared_batch(&batch).await.map_err(|e| e.to_string())?;
        sent += batch.len();
        shared.delivered(batch.len());
        batch.clear();
    }
    // Keep the connection open until the process ends.
    std::future::pending().await
}

/// One connection of `wsproto-send`: `feed` per message and connection, one `flush`.
pub async fn serve_send(stream: TcpStream, mut rx: Receiver<Arc<str>>, shared: Arc<Shared>) -> Result<(), String> {
    let mut ws = open(stream, &shared).await?;
    shared.ready();
    let mut batch = Vec::with_capacity(shared.messages);
    let mut sent = 0;
    while sent < shared.messages {
        next_batch(&mut rx, &mut batch).await?;
        // As the peers' `feed` + `flush`: every waiting message encoded, one write for all.
        for text in &batch {
            ws.feed_text(text).await.map_err(|e| e.to_string())?;
        }
        ws.flush().await.map_err(|e| e.to_string())?;
        sent += batch.len();
        shared.delivered(batch.len());
        batch.clear();
    }
    std::future::pending().await
}
