//! The echo server on std threads with the blocking adapter.
//!
//! ```text
//! cargo run --release --example blocking_echo_server -- 127.0.0.1:9002
//! ```

use std::net::{TcpListener, TcpStream};
use std::thread;

use wsproto::adapters::WsError;
use wsproto::adapters::blocking::accept_with;
use wsproto::handshake::Accept;
use wsproto::{Config, Message, MessageKind};

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9002".to_owned());
    let listener = TcpListener::bind(&addr)?;
    println!("blocking echo server listening on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let stream = stream?;
        thread::spawn(move || {
            let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
            match serve(stream) {
                Ok(()) | Err(WsError::Closed) => println!("{peer}: closed"),
                Err(e) => println!("{peer}: {e}"),
            }
        });
    }
    Ok(())
}

fn serve(stream: TcpStream) -> Result<(), WsError> {
    stream.set_nodelay(true)?;
    // Accept permessage-deflate when the client offers it (and the example has the feature).
    let (mut ws, _) = accept_with(stream, Config::new(), |_| Ok(accept_offer()))?;
    let mut reply = Vec::new();
    loop {
        // The message borrows the socket's read buffer: copy it out before replying.
        let kind = match ws.recv()? {
            Message::Text(text) => {
                reply.clear();
                reply.extend_from_slice(text.as_bytes());
                MessageKind::Text
            }
            Message::Binary(data) => {
                reply.clear();
                reply.extend_from_slice(data);
                MessageKind::Binary
            }
            _ => continue,
        };
        ws.send(kind, &reply)?;
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
