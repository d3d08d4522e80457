//! The blocking adapter over real loopback sockets: handshake, echo, close with the peer's
//! Close frame returned, keepalive timers driven by socket read timeouts, and `accept_or_http`
//! (a page and a WebSocket on one port).

use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use wsproto::adapters::WsError;
use wsproto::adapters::blocking::{accept, connect};
use wsproto::{CloseCode, Config, Error, Message, Timer};

fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", l.local_addr().unwrap());
    (l, url)
}

#[test]
fn echo_and_close() {
    let (l, url) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = l.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut ws = accept(stream, Config::new()).unwrap();
        loop {
            let reply = match ws.recv() {
                Ok(Message::Text(t)) => t.to_owned(),
                Ok(_) => continue,
                Err(WsError::Closed) => return,
                Err(e) => panic!("{e}"),
            };
            ws.send_text(&reply).unwrap();
        }
    });
    let (mut ws, _) = connect(&url).unwrap();
    ws.get_mut().set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    ws.send_text("hello").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("hello"));
    let reply = ws.close(CloseCode::GOING_AWAY, "bye").unwrap().unwrap();
    assert_eq!(reply.code(), Some(CloseCode::GOING_AWAY));
    server.join().unwrap();
}

#[test]
fn keepalive_declares_a_silent_peer_dead() {
    let (l, url) = listener();
    // The "client" connects and then never reads or writes anything.
    let silent = thread::spawn(move || {
        let (ws, _) = connect(&url).unwrap();
        thread::sleep(Duration::from_secs(1));
        drop(ws);
    });
    let (stream, _) = l.accept().unwrap();
    let config = Config::new().keepalive(Duration::from_millis(200), Duration::from_millis(200));
    let mut ws = accept(stream, config).unwrap();
    let start = Instant::now();
    let err = ws.recv().unwrap_err();
    assert!(matches!(err, WsError::Protocol(Error::Timeout(Timer::KeepAlive))), "{err}");
    // At least interval + timeout passed (no upper bound asserted: timing belongs in benches).
    assert!(start.elapsed() >= Duration::from_millis(400));
    silent.join().unwrap();
}

/// `accept_or_http` on the blocking adapter: a plain request comes back with its stream, the
/// bytes read after its head and nothing written (the caller answers it); an upgrade on the
/// same port is accepted as `accept_with` would.
#[test]
fn accept_or_http_serves_a_page_and_a_websocket_on_one_port() {
    use std::io::{Read, Write};
    use wsproto::adapters::blocking::{Accepted, accept_or_http};
    use wsproto::handshake::{Accept, HttpResponse};

    let (l, url) = listener();
    let addr = l.local_addr().unwrap();
    let server = thread::spawn(move || {
        for _ in 0..2 {
            let (stream, _) = l.accept().unwrap();
            match accept_or_http(stream, Config::new(), |_| Ok(Accept::new())).unwrap() {
                Accepted::Http { mut stream, request, read_ahead } => {
                    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/form"));
                    assert_eq!(read_ahead, b"BODY");
                    let mut out = Vec::new();
                    HttpResponse::new(200).with_body("page").write(&mut out).unwrap();
                    stream.write_all(&out).unwrap();
                }
                Accepted::WebSocket(mut ws, _) => {
                    let reply = match ws.recv().unwrap() {
                        Message::Text(t) => t.to_owned(),
                        other => panic!("{other:?}"),
                    };
                    ws.send_text(&reply).unwrap();
                }
                _ => panic!("unexpected outcome"),
            }
        }
    });
    // A plain request: the response is the caller's, nothing before it.
    let mut plain = std::net::TcpStream::connect(addr).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    plain.write_all(b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nBODY").unwrap();
    let mut response = Vec::new();
    let mut chunk = [0; 256];
    while !response.ends_with(b"page") {
        let n = plain.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed after {:?}", String::from_utf8_lossy(&response));
        response.extend_from_slice(&chunk[..n]);
    }
    assert!(response.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&response));
    // A WebSocket on the same port.
    let (mut ws, _) = connect(&url).unwrap();
    ws.get_mut().set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    ws.send_text("same port").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("same port"));
    server.join().unwrap();
}
