//! What `hyper_server` and `axum_server` share (each includes this file with `#[path]`): the
//! page, the answers to a request at `/ws` that is not accepted, and the echo loop on the
//! upgraded connection.

use std::net::SocketAddr;

use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use wsproto::adapters::WsError;
use wsproto::adapters::tokio::WebSocket;
use wsproto::handshake::{Accept, HandshakeError, HttpResponse, Negotiated, ServerStatus, UpgradeRequest};
use wsproto::{Config, Connection, Message};

/// Where the examples listen when no address is given.
pub(crate) const DEFAULT_ADDR: &str = "127.0.0.1:9003";

/// The page at `/`: it opens a WebSocket to `/ws` on the host and port it came from, sends a
/// message, checks the echo and shows the outcome (`echo ok: …`) in the page and its title.
pub(crate) const PAGE: &str = include_str!("page.html");

/// A response with a body, as the crate makes them (`http` types, feature `http`); boxed, so
/// that a `Result` carrying one stays small.
pub(crate) type Refusal = Box<http::Response<Vec<u8>>>;

/// The WebSocket upgrade that `read` (the verdict of `ServerHandshake::read_http` or
/// `read_http_parts`) found, or the response that refuses the request: the crate's own 400,
/// 405 or 426 for a broken upgrade request, 426 for a plain HTTP request, 403 for a page of
/// another site.
pub(crate) fn upgrade_request(read: Result<ServerStatus, HandshakeError>) -> Result<UpgradeRequest, Refusal> {
    match read {
        Ok(ServerStatus::Upgrade(request)) => {
            same_origin(&request)?;
            Ok(request)
        }
        // A plain request (`read_http` never answers `NeedMore`): the 426 the adapters send.
        Ok(_) => Err(into_http(
            HttpResponse::upgrade_required()
                .with_header("Content-Type", "text/plain; charset=utf-8")
                .with_body("this is a WebSocket endpoint: open it with a WebSocket client\n"),
        )),
        Err(e) => Err(refusal(&e)),
    }
}

/// The crate's ready-made response for `error`: a 4xx for the client's faults, 500 for ours.
pub(crate) fn refusal(error: &HandshakeError) -> Refusal {
    into_http(error.response())
}

/// A browser sends `Origin`: only pages served from this host and port may open a WebSocket
/// here (a page of another site would otherwise talk to it with the user's cookies: cross-site
/// WebSocket hijacking). Clients that send no `Origin` (not browsers) pass.
fn same_origin(request: &UpgradeRequest) -> Result<(), Refusal> {
    let Some(origin) = request.origin() else { return Ok(()) };
    let authority = origin.split_once("://").map(|(_, authority)| authority);
    if authority.zip(request.host()).is_some_and(|(authority, host)| authority.eq_ignore_ascii_case(host)) {
        return Ok(());
    }
    let forbidden = HttpResponse::new(403)
        .with_header("Content-Type", "text/plain; charset=utf-8")
        .with_body("a WebSocket from another origin is refused\n");
    Err(request.reject_http(&forbidden).map_or_else(|e| refusal(&e), Box::new))
}

/// `response` as an `http::Response`; the crate's responses always convert.
fn into_http(response: HttpResponse) -> Refusal {
    Box::new(response.into_http().expect("a response made by the crate is valid HTTP"))
}

/// What the server agrees to: no subprotocol, and permessage-deflate with the configuration
/// that keeps the least memory per connection when the example is built with `deflate`.
pub(crate) fn accept_offer() -> Accept {
    #[cfg(feature = "deflate")]
    return Accept::new().with_deflate(wsproto::deflate::DeflateConfig::low_memory());
    #[cfg(not(feature = "deflate"))]
    Accept::new()
}

/// A WebSocket on the connection hyper hands over after the 101 response went out
/// (`hyper::upgrade::on`), with what the handshake negotiated and the adapters' deadlines
/// (keepalive, close handshake, stalled writes). Bytes that hyper read past the request stay
/// inside `Upgraded`, so nothing is left over here.
pub(crate) fn websocket(upgraded: Upgraded, negotiated: &Negotiated) -> WebSocket<TokioIo<Upgraded>> {
    let config = Config::new().with_adapter_deadlines();
    let connection = Connection::new(negotiated.role, config).with_negotiated(negotiated);
    WebSocket::from_connection(TokioIo::new(upgraded), connection, &[])
}

/// Echoes every text and binary message until the connection ends, and says how it ended.
pub(crate) async fn echo(mut ws: WebSocket<TokioIo<Upgraded>>, peer: SocketAddr) {
    println!("{peer}: WebSocket open");
    let ended: Result<(), WsError> = async {
        loop {
            // The reply is sent while the message is still borrowed from the read buffer.
            let (message, mut tx) = ws.recv_with_sender().await?;
            match message {
                Message::Text(text) => tx.send_text(text).await?,
                Message::Binary(data) => tx.send_binary(data).await?,
                // Pings are answered and the Close reply is sent by the connection itself.
                _ => {}
            }
        }
    }
    .await;
    match ended {
        Ok(()) | Err(WsError::Closed) => println!("{peer}: closed"),
        Err(e) => println!("{peer}: {e}"),
    }
}
