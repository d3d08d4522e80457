//! A tokio WebSocket echo server: every text and binary message comes back as it was sent.
//! This is the server that the Autobahn testsuite checks.
//!
//! ```text
//! cargo run --release --all-features --example echo_server -- 127.0.0.1:9002
//! ```

use tokio::net::{TcpListener, TcpStream};
use wsproto::adapters::WsError;
use wsproto::adapters::tokio::accept_with;
use wsproto::handshake::Accept;
use wsproto::{Config, Message};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9002".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    println!("echo server listening on ws://{}", listener.local_addr()?);
    loop {
        let (stream, peer) = listener.accept().await?;
        tokio::spawn(async move {
            match serve(stream).await {
                Ok(()) | Err(WsError::Closed) => println!("{peer}: closed"),
                Err(e) => println!("{peer}: {e}"),
            }
        });
    }
}

async fn serve(stream: TcpStream) -> Result<(), WsError> {
    stream.set_nodelay(true)?;
    let peer = stream.peer_addr()?;
    // Accept permessage-deflate when the client offers it (and the example has the feature).
    let (mut ws, _) = accept_with(stream, Config::new(), |_| Ok(accept_offer())).await?;
    println!("{peer}: connected");
    loop {
        // The reply is sent while the message is still borrowed from the read buffer: no copy,
        // no split, no lock. Large binary replies go out with one vectored write.
        let (message, mut tx) = ws.recv_with_sender().await?;
        match message {
            Message::Text(text) => tx.send_text(text).await?,
            Message::Binary(data) => tx.send_binary(data).await?,
            // Pings are answered and the Close reply is sent by the connection itself.
            _ => {}
        }
    }
}

/// What the server agrees to: no subprotocol, and permessage-deflate with the configuration
/// that keeps the least memory per connection when the example is built with `deflate`.
fn accept_offer() -> Accept {
    #[cfg(feature = "deflate")]
    return Accept::new().with_deflate(wsproto::deflate::DeflateConfig::low_memory());
    #[cfg(not(feature = "deflate"))]
    Accept::new()
}
