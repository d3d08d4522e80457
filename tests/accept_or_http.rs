//! `accept_or_http`: HTTP and WebSocket on one port with the async adapters alone. A plain
//! request comes back with its stream, the bytes read after its head, and nothing written; an
//! upgrade is accepted (or refused by `decide`) as `accept_with` would; a malformed request is
//! still answered by the crate (400).
#![cfg(all(feature = "tokio", feature = "futures-io"))]

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};
use wsproto::adapters::WsError;
use wsproto::adapters::tokio::{Accepted, accept_or_http, client};
use wsproto::handshake::{Accept, ClientRequest, HttpResponse};
use wsproto::{Config, Message};

#[tokio::test]
async fn a_plain_request_comes_back_with_its_stream_and_nothing_written() {
    let (server_io, mut peer) = duplex(64 * 1024);
    peer.write_all(b"POST /form HTTP/1.1\r\nHost: example.com\r\nContent-Length: 4\r\n\r\nBODY").await.unwrap();
    let accepted = accept_or_http(server_io, Config::new(), |_| Ok(Accept::new())).await.unwrap();
    let Accepted::Http { mut stream, request, read_ahead } = accepted else { panic!("not a plain request") };
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/form"));
    assert_eq!(read_ahead, b"BODY");
    // Nothing was written: the first bytes the peer gets are ours.
    let mut out = Vec::new();
    HttpResponse::new(200).with_body("ok").write(&mut out).unwrap();
    stream.write_all(&out).await.unwrap();
    let mut got = vec![0; out.len()];
    peer.read_exact(&mut got).await.unwrap();
    assert_eq!(got, out);
}

#[tokio::test]
async fn an_upgrade_is_accepted_and_runs() {
    let (server_io, client_io) = duplex(64 * 1024);
    let server = tokio::spawn(async move {
        match accept_or_http(server_io, Config::new(), |_| Ok(Accept::new())).await.unwrap() {
            Accepted::WebSocket(mut ws, _) => {
                let text = match ws.recv().await.unwrap() {
                    Message::Text(t) => t.to_owned(),
                    other => panic!("{other:?}"),
                };
                ws.send_text(&text).await.unwrap();
            }
            _ => panic!("not an upgrade"),
        }
    });
    let request = ClientRequest::new("ws://localhost/ws").unwrap();
    let (mut ws, _) = client(client_io, request, Config::new()).await.unwrap();
    ws.send_text("hello").await.unwrap();
    assert!(matches!(ws.recv().await.unwrap(), Message::Text("hello")));
    server.await.unwrap();
}

#[tokio::test]
async fn an_upgrade_refused_by_decide_is_answered() {
    let (server_io, mut peer) = duplex(64 * 1024);
    let mut out = Vec::new();
    ClientRequest::new("ws://localhost/nope").unwrap().write(&mut out).unwrap();
    peer.write_all(&out).await.unwrap();
    let result = accept_or_http(server_io, Config::new(), |_| Err(HttpResponse::new(404))).await;
    assert!(matches!(result, Err(WsError::Rejected(ref r)) if r.status == 404), "{result:?}");
    let mut head = vec![0; 12];
    peer.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 404");
}

#[tokio::test]
async fn a_malformed_request_is_answered_400() {
    let (server_io, mut peer) = duplex(64 * 1024);
    peer.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n").await.unwrap();
    let result = accept_or_http(server_io, Config::new(), |_| Ok(Accept::new())).await;
    assert!(matches!(result, Err(WsError::Handshake(_))), "{result:?}");
    let mut head = vec![0; 12];
    tokio::time::timeout(Duration::from_secs(5), peer.read_exact(&mut head)).await.unwrap().unwrap();
    assert_eq!(&head, b"HTTP/1.1 400");
}

#[test]
fn the_futures_io_adapter_hands_plain_requests_back_too() {
    smol::block_on(async {
        let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let peer = smol::spawn(async move {
            use smol::io::AsyncWriteExt;
            let mut s = smol::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
            s
        });
        let (stream, _) = listener.accept().await.unwrap();
        let accepted =
            wsproto::adapters::futures_io::accept_or_http(stream, Config::new(), |_| Ok(Accept::new())).await.unwrap();
        let wsproto::adapters::futures_io::Accepted::Http { request, read_ahead, .. } = accepted else {
            panic!("not a plain request")
        };
        assert_eq!(request.path, "/health");
        assert!(read_ahead.is_empty());
        drop(peer.await);
    });
}
