//! The Autobahn testsuite client loop: asks a fuzzing server how many cases it has, runs each
//! one by echoing every message back, then asks it to write its reports.
//!
//! ```text
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9002
//! ```

use wsproto::adapters::WsError;
use wsproto::adapters::blocking::{WebSocket, connect, connect_with};
use wsproto::handshake::{ClientRequest, Negotiated};
use wsproto::{Config, Message, MessageKind};

const AGENT: &str = "wsproto";

fn main() -> Result<(), WsError> {
    let base = std::env::args().nth(1).unwrap_or_else(|| "ws://127.0.0.1:9002".to_owned());
    let count = case_count(&base)?;
    println!("{count} cases");
    for case in 1..=count {
        if let Err(e) = run_case(&format!("{base}/runCase?case={case}&agent={AGENT}")) {
            println!("case {case}: {e}");
        }
    }
    let (mut ws, _) = connect(&format!("{base}/updateReports?agent={AGENT}"))?;
    ws.close(wsproto::CloseCode::NORMAL, "")?;
    println!("reports updated");
    Ok(())
}

fn case_count(base: &str) -> Result<u32, WsError> {
    let (mut ws, _) = connect(&format!("{base}/getCaseCount"))?;
    let count = match ws.recv()? {
        Message::Text(text) => text.trim().parse().unwrap_or(0),
        _ => 0,
    };
    ws.close(wsproto::CloseCode::NORMAL, "")?;
    Ok(count)
}

/// Connects offering permessage-deflate (when built with it), as the compression cases need.
fn connect_for_case(url: &str) -> Result<(WebSocket<std::net::TcpStream>, Negotiated), WsError> {
    let request = ClientRequest::new(url)?;
    #[cfg(feature = "deflate")]
    let request = request.with_deflate(wsproto::deflate::DeflateConfig::new());
    connect_with(request, Config::new())
}

fn run_case(url: &str) -> Result<(), WsError> {
    let (mut ws, _) = connect_for_case(url)?;
    let mut reply = Vec::new();
    loop {
        let kind = match ws.recv() {
            Ok(Message::Text(text)) => {
                reply.clear();
                reply.extend_from_slice(text.as_bytes());
                MessageKind::Text
            }
            Ok(Message::Binary(data)) => {
                reply.clear();
                reply.extend_from_slice(data);
                MessageKind::Binary
            }
            Ok(_) => continue,
            Err(WsError::Closed) => return Ok(()),
            Err(e) => return Err(e),
        };
        ws.send(kind, &reply)?;
    }
}
