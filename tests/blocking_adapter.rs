//! The blocking adapter over real loopback sockets: handshake, echo, close with the peer's
//! Close frame returned, and keepalive timers driven by socket read timeouts.

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
