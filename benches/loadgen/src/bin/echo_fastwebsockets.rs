//! Minimal fastwebsockets echo server, the counterpart of our `echo_server` example: same
//! runtime (multi-threaded, one worker per core), `TCP_NODELAY`, every text and binary message
//! sent back. The upgrade is done by hand so that `WebSocket::after_handshake` gets the plain
//! `TcpStream` (the crate's own `upgrade` feature would put hyper's `Upgraded` wrapper in
//! between); messages are read through `FragmentCollector`, as in the crate's echo example.
//!
//! ```text
//! echo_fastwebsockets 127.0.0.1:9004
//! ```

use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket, WebSocketError};
use tokio::net::{TcpListener, TcpStream};

async fn serve(mut stream: TcpStream) -> Result<(), WebSocketError> {
    stream.set_nodelay(true)?;
    wsproto_loadgen::server_handshake(&mut stream).await?;
    let mut ws = FragmentCollector::new(WebSocket::after_handshake(stream, Role::Server));
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => break,
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let addr = wsproto_loadgen::listen_addr();
    wsproto_loadgen::server_runtime().block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("fastwebsockets echo server on ws://{}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            tokio::spawn(async move {
                if let Err(e) = serve(stream).await {
                    eprintln!("connection: {e}");
                }
            });
        }
    })
}
