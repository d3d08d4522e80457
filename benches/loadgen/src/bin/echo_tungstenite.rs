//! Minimal tokio-tungstenite echo server, the counterpart of our `echo_server` example: same
//! runtime (multi-threaded, one worker per core), `TCP_NODELAY`, every text and binary message
//! sent back with `send` (which flushes), Ping/Close answered by the library.
//!
//! ```text
//! echo_tungstenite 127.0.0.1:9003
//! ```

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};

async fn serve(stream: TcpStream) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    stream.set_nodelay(true)?;
    let mut ws = tokio_tungstenite::accept_async(stream).await?;
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
        println!("tokio-tungstenite echo server on ws://{}", listener.local_addr()?);
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
