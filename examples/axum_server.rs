//! HTTP and WebSocket on one port with axum 0.8, without axum's own (tungstenite-based)
//! `ws` feature: `/` serves a page whose script opens a WebSocket to `/ws` on the same host and
//! port, `/ws` echoes every message, anything else is 404.
//!
//! ```text
//! cargo run --all-features --example axum_server -- 127.0.0.1:9003
//! ```
//!
//! then open <http://127.0.0.1:9003/> in a browser: the page says `echo ok: …`.
//!
//! The extractor [`WebSocketUpgrade`] below stands where axum's `WebSocketUpgrade` would: it
//! checks the request with `ServerHandshake::read_http_parts` (RFC 6455 §4.2.1) and refuses a
//! bad one with the crate's response; the handler chooses what to accept, and the callback
//! gets the upgraded connection as the crate's tokio `WebSocket`.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use wsproto::adapters::tokio::WebSocket;
use wsproto::handshake::{Accept, ServerHandshake, UpgradeRequest};

#[path = "one_port/shared.rs"]
mod shared;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| shared::DEFAULT_ADDR.to_owned());
    let app = Router::new()
        .route("/", get(|| async { Html(shared::PAGE) }))
        // Every method: the handshake answers anything but GET with 405.
        .route("/ws", any(ws))
        .fallback(|| async { (StatusCode::NOT_FOUND, "404 Not Found\n") });
    let listener = TcpListener::bind(&addr).await?;
    println!("axum server listening on http://{}/ (WebSocket at /ws)", listener.local_addr()?);
    // axum serves HTTP/1.1 connections with upgrades on.
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
}

/// The WebSocket endpoint: accept what `accept_offer` allows, then echo.
async fn ws(ConnectInfo(peer): ConnectInfo<SocketAddr>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(&shared::accept_offer(), move |ws| shared::echo(ws, peer))
}

/// A valid WebSocket upgrade request (RFC 6455 §4.2.1) and hyper's handle on its connection.
/// As an extractor it refuses anything else with the crate's response (400, 405, 426) or 403
/// for a page of another origin.
struct WebSocketUpgrade {
    request: UpgradeRequest,
    on_upgrade: OnUpgrade,
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Response> {
        let request = shared::upgrade_request(ServerHandshake::read_http_parts(parts))
            .map_err(|refusal| refusal.map(Body::from))?;
        // axum::serve puts hyper's upgrade handle into every request's extensions.
        let on_upgrade = parts.extensions.remove::<OnUpgrade>().ok_or_else(|| {
            (StatusCode::INTERNAL_SERVER_ERROR, "this connection cannot be upgraded\n").into_response()
        })?;
        Ok(Self { request, on_upgrade })
    }
}

impl WebSocketUpgrade {
    /// Accepts the upgrade with `accept` (subprotocol, extensions): returns the 101 response
    /// for axum to send, and runs `callback` with the WebSocket once the connection is handed
    /// over.
    fn on_upgrade<F, Fut>(self, accept: &Accept, callback: F) -> Response
    where
        F: FnOnce(WebSocket<TokioIo<Upgraded>>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (response, negotiated) = match self.request.accept_http(accept) {
            Ok(accepted) => accepted,
            Err(e) => return shared::refusal(&e).map(Body::from),
        };
        tokio::spawn(async move {
            match self.on_upgrade.await {
                Ok(upgraded) => callback(shared::websocket(upgraded, &negotiated)).await,
                Err(e) => println!("upgrade failed: {e}"),
            }
        });
        response.map(|()| Body::empty())
    }
}
