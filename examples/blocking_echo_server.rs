//! The echo server on std threads with the blocking adapter.
//!
//! ```text
//! cargo run --release --example blocking_echo_server -- 127.0.0.1:9002
//! ```

use std::net::{TcpListener, TcpStream};
use std::thread;

use wsproto::adapters::WsError;
use wsproto::adapters::blocking::accept;
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
    let mut ws = accept(stream, Config::new())?;
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
