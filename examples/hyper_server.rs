//! HTTP and WebSocket on one port with hyper 1.x: `/` serves a page whose script opens a
//! WebSocket to `/ws` on the same host and port, `/ws` echoes every message, anything else is
//! 404.
//!
//! ```text
//! cargo run --all-features --example hyper_server -- 127.0.0.1:9003
//! ```
//!
//! then open <http://127.0.0.1:9003/> in a browser: the page says `echo ok: …`.
//!
//! hyper reads the HTTP request; `ServerHandshake::read_http` checks it as RFC 6455 §4.2.1
//! says, `UpgradeRequest::accept_http` makes the 101 response that hyper sends, and
//! `hyper::upgrade::on` hands over the connection, which the tokio adapter drives.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use wsproto::handshake::ServerHandshake;

#[path = "one_port/shared.rs"]
mod shared;

type Body = Full<Bytes>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| shared::DEFAULT_ADDR.to_owned());
    let listener = TcpListener::bind(&addr).await?;
    println!("hyper server listening on http://{}/ (WebSocket at /ws)", listener.local_addr()?);
    loop {
        let (stream, peer) = listener.accept().await?;
        tokio::spawn(async move {
            let service = service_fn(move |request| async move { Ok::<_, Infallible>(route(request, peer)) });
            // `with_upgrades` lets a 101 response hand the connection over; the timer bounds
            // how long a request head may take to arrive.
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
            if let Err(e) = served {
                println!("{peer}: {e}");
            }
        });
    }
}

fn route(request: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    match (request.uri().path(), request.method()) {
        ("/", &Method::GET | &Method::HEAD) => {
            let mut response = Response::new(Body::from(shared::PAGE));
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            response
        }
        ("/", _) => status(StatusCode::METHOD_NOT_ALLOWED),
        ("/ws", _) => websocket(request, peer).unwrap_or_else(|refusal| refusal.map(Body::from)),
        _ => status(StatusCode::NOT_FOUND),
    }
}

/// Accepts a WebSocket upgrade: the 101 response goes back to hyper, and once hyper has sent
/// it, the connection is handed to the echo loop. Anything else gets the crate's refusal.
fn websocket(mut request: Request<Incoming>, peer: SocketAddr) -> Result<Response<Body>, shared::Refusal> {
    let upgrade = shared::upgrade_request(ServerHandshake::read_http(&request))?;
    let (response, negotiated) = upgrade.accept_http(&shared::accept_offer()).map_err(|e| shared::refusal(&e))?;
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => shared::echo(shared::websocket(upgraded, &negotiated), peer).await,
            Err(e) => println!("{peer}: upgrade failed: {e}"),
        }
    });
    Ok(response.map(|()| Body::default()))
}

/// A plain-text response with `status` and its reason as the body.
fn status(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::from(format!("{status}\n")));
    *response.status_mut() = status;
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    response
}
