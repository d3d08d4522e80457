//! Minimal tokio-websockets echo server, the counterpart of our `echo_server` example: same
//! runtime (multi-threaded, one worker per core), `TCP_NODELAY`, every text and binary message
//! sent back with `send` (which flushes), Ping/Close answered by the library.
//!
//! ```text
//! echo_tokio_websockets 127.0.0.1:9005
//! ```

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};

async fn serve(stream: TcpStream) -> Result<(), tokio_websockets::Error> {
    stream.set_nodelay(true)?;
    let (_request, mut ws) = tokio_websockets::ServerBuilder::new().accept(stream).await?;
    while let Some(msg) = ws.next().await {
        let msg = msg?;
        if msg.is_text() || msg.is_binary() {
            ws.send(msg).await?;
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let addr = wsproto_loadgen::listen_addr();
    wsproto_loadgen::server_runtime().block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("tokio-websockets echo server on ws://{}", listener.local_addr()?);
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
