//! A command-line WebSocket client: each line of standard input is sent as a text message,
//! everything that arrives is printed, and end of input closes the connection cleanly.
//!
//! ```text
//! cargo run --all-features --example client -- ws://127.0.0.1:9002/
//! ```

use tokio::io::{AsyncBufReadExt, BufReader};
use wsproto::adapters::WsError;
use wsproto::adapters::tokio::connect_with;
use wsproto::handshake::ClientRequest;
use wsproto::{CloseCode, Config, Message};

#[tokio::main]
async fn main() -> Result<(), WsError> {
    let url = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:9002/".to_owned());
    let request = ClientRequest::new(&url)?;
    // Offer permessage-deflate when the example is built with it.
    #[cfg(feature = "deflate")]
    let request = request.with_deflate(wsproto::deflate::DeflateConfig::new());
    let (ws, negotiated) = connect_with(request, Config::new()).await?;
    eprintln!("connected to {url} (subprotocol {:?}, extensions {:?})", negotiated.protocol, negotiated.extensions);
    let (mut rx, tx) = ws.split();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    loop {
        tokio::select! {
            // `recv` is cancel-safe, so it can race with standard input.
            message = rx.recv() => match message {
                Ok(Message::Text(text)) => println!("{text}"),
                Ok(Message::Binary(data)) => println!("<{} binary bytes>", data.len()),
                Ok(Message::Close(frame)) => eprintln!("server closed: {} {}", frame.reported_code(), frame.reason()),
                Ok(_) => {}
                Err(WsError::Closed) => return Ok(()),
                Err(e) => return Err(e),
            },
            line = lines.next_line(), if stdin_open => match line? {
                Some(line) => tx.send_text(&line).await?,
                None => {
                    // End of input: start the close handshake, keep reading until it ends.
                    stdin_open = false;
                    tx.close(CloseCode::NORMAL, "bye").await?;
                }
            },
        }
    }
}
