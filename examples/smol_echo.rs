//! A WebSocket echo server on smol, with the futures-io adapter: every text and binary message
//! comes back as it was sent. The same server as `echo_server`, on another runtime.
//!
//! ```text
//! cargo run --release --all-features --example smol_echo -- 127.0.0.1:9003
//! cargo run --all-features --example client -- ws://127.0.0.1:9003/
//! ```

use smol::net::{TcpListener, TcpStream};
use wsproto::adapters::WsError;
use wsproto::adapters::futures_io::accept_with;
use wsproto::handshake::Accept;
use wsproto::{Config, Message};

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9003".to_owned());
    smol::block_on(async {
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("echo server listening on ws://{}", listener.local_addr()?);
        loop {
            let (stream, peer) = listener.accept().await?;
            smol::spawn(async move {
                match serve(stream).await {
                    Ok(()) | Err(WsError::Closed) => println!("{peer}: closed"),
                    Err(e) => println!("{peer}: {e}"),
                }
            })
            .detach();
        }
    })
}

async fn serve(stream: TcpStream) -> Result<(), WsError> {
    stream.set_nodelay(true)?;
    let peer = stream.peer_addr()?;
    // Accept permessage-deflate when the client offers it (and the example has the feature).
    let (mut ws, _) = accept_with(stream, Config::new(), |_| Ok(accept_offer())).await?;
    println!("{peer}: connected");
    loop {
        // The reply is sent while the message is still borrowed from the read buffer: no copy,
        // no split, no lock.
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
