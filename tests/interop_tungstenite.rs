//! Interoperability with tungstenite over real TCP on 127.0.0.1: our client against a tungstenite
//! echo server, and a tungstenite client against our echo server. Both exchange text and binary
//! messages of the boundary sizes (0, 125, 126, 65535, 65536 bytes and one over 1 MiB, which our
//! side splits into frames), then close cleanly.

use core::time::Duration;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use tungstenite::Message as TMessage;
use wsproto::handshake::{Accept, ClientRequest, ClientStatus, ServerHandshake, ServerStatus};
use wsproto::{CloseCode, CloseFrame, Config, Connection, Message, MessageAssembler, State, TransportAction};

const TIMEOUT: Duration = Duration::from_secs(20);

/// The payloads each side sends, in order.
fn payloads() -> Vec<(bool, Vec<u8>)> {
    let mut v = Vec::new();
    for n in [0usize, 1, 125, 126, 127, 65535, 65536, (1 << 20) + 3] {
        v.push((true, (0..n).map(|i| b'a' + (i % 26) as u8).collect()));
        v.push((false, (0..n).map(|i| (i * 7 + n) as u8).collect()));
    }
    v.push((true, "héllo wörld, ünïcode ✓ 🦀".as_bytes().to_vec()));
    v
}

/// An owned message.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<u16>, String),
}

/// A small blocking driver for our `Connection` over a `TcpStream`.
struct Driver {
    stream: TcpStream,
    conn: Connection,
    /// Input read but not yet consumed by the connection: `buf[pos..]`.
    buf: Vec<u8>,
    pos: usize,
    out: Vec<u8>,
    assembler: MessageAssembler,
}

impl Driver {
    /// `early` are the bytes that came after the handshake head in the same read.
    fn new(stream: TcpStream, conn: Connection, early: &[u8]) -> Self {
        Self { stream, conn, buf: early.to_vec(), pos: 0, out: Vec::new(), assembler: MessageAssembler::new() }
    }

    /// Writes the automatic replies and whatever the send commands produced.
    fn flush(&mut self) {
        self.conn.poll_transmit(&mut self.out).expect("poll_transmit");
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).expect("write");
            self.out.clear();
        }
    }

    /// The next whole message, or `None` at end of input.
    fn next(&mut self) -> Option<Got> {
        loop {
            while self.pos < self.buf.len() {
                let r = self.conn.receive(&mut self.buf[self.pos..]).expect("receive");
                self.pos += r.consumed;
                let Some(event) = r.event else { break };
                let got = match self.assembler.push(event).expect("assemble") {
                    None => continue,
                    Some(Message::Text(t)) => Got::Text(t.to_owned()),
                    Some(Message::Binary(b)) => Got::Binary(b.to_vec()),
                    Some(Message::Ping(p)) => Got::Ping(p.as_bytes().to_vec()),
                    Some(Message::Pong(p)) => Got::Pong(p.as_bytes().to_vec()),
                    Some(Message::Close(c)) => Got::Close(c.code().map(|c| c.0), c.reason().to_owned()),
                    Some(other) => panic!("unexpected {other:?}"),
                };
                self.flush();
                return Some(got);
            }
            self.flush();
            self.buf.clear();
            self.pos = 0;
            self.buf.resize(64 * 1024, 0);
            let n = self.stream.read(&mut self.buf).expect("read");
            self.buf.truncate(n);
            if n == 0 {
                let _ = self.conn.receive_eof();
                return None;
            }
        }
    }

    fn send(&mut self, text: bool, data: &[u8]) {
        if text {
            self.conn.send_text(core::str::from_utf8(data).unwrap(), &mut self.out).expect("send_text");
        } else {
            self.conn.send_binary(data, &mut self.out).expect("send_binary");
        }
        self.flush();
    }
}

fn tcp_pair() -> (TcpListener, core::net::SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

fn with_timeouts(stream: &TcpStream) {
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
}

fn to_tungstenite(text: bool, data: &[u8]) -> TMessage {
    if text { TMessage::text(String::from_utf8(data.to_vec()).unwrap()) } else { TMessage::binary(data.to_vec()) }
}

#[test]
#[allow(clippy::result_large_err)] // tungstenite's handshake callback returns its own large error type
fn our_client_against_tungstenite_server() {
    let (listener, addr) = tcp_pair();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        with_timeouts(&stream);
        let callback = |req: &tungstenite::handshake::server::Request,
                        mut resp: tungstenite::handshake::server::Response| {
            assert_eq!(req.uri().path(), "/echo");
            assert_eq!(req.uri().query(), Some("x=1"));
            let offered = req.headers().get("Sec-WebSocket-Protocol").and_then(|v| v.to_str().ok());
            assert_eq!(offered, Some("chat, superchat"));
            resp.headers_mut().insert("Sec-WebSocket-Protocol", "superchat".parse().unwrap());
            Ok(resp)
        };
        let mut ws = tungstenite::accept_hdr(stream, callback).expect("tungstenite accept");
        // A greeting right after the 101: it may well arrive in the same read as the response.
        ws.send(TMessage::text("greeting")).expect("send greeting");
        let mut echoed = 0;
        loop {
            match ws.read() {
                Ok(m @ (TMessage::Text(_) | TMessage::Binary(_))) => {
                    ws.send(m).expect("echo");
                    echoed += 1;
                }
                Ok(TMessage::Close(frame)) => {
                    assert_eq!(frame.map(|f| u16::from(f.code)), Some(1000));
                }
                Ok(_) => {}
                Err(tungstenite::Error::ConnectionClosed) => break,
                Err(e) => panic!("server: {e}"),
            }
        }
        echoed
    });

    let mut stream = TcpStream::connect(addr).expect("connect");
    with_timeouts(&stream);
    let mut request = ClientRequest::new(&format!("ws://{addr}/echo?x=1"))
        .unwrap()
        .with_protocol("chat")
        .with_protocol("superchat")
        .with_origin("http://localhost");
    let mut out = Vec::new();
    let mut handshake = request.write(&mut out).unwrap();
    stream.write_all(&out).unwrap();

    let mut buf = vec![0u8; 4096];
    let (negotiated, early) = loop {
        let n = stream.read(&mut buf).expect("read response");
        assert!(n > 0, "server closed during the handshake");
        match handshake.feed(&buf[..n]).expect("handshake") {
            ClientStatus::NeedMore => {}
            ClientStatus::Upgraded { negotiated, leftover, response } => {
                assert_eq!(response.status, 101);
                break (negotiated, buf[leftover..n].to_vec());
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(negotiated.protocol.as_deref(), Some("superchat"));

    let mut d =
        Driver::new(stream, Connection::new(negotiated.role, Config::new()).with_negotiated(&negotiated), &early);
    assert_eq!(d.next(), Some(Got::Text("greeting".into())));

    let payloads = payloads();
    for (text, data) in &payloads {
        d.send(*text, data);
        let want = if *text { Got::Text(String::from_utf8(data.clone()).unwrap()) } else { Got::Binary(data.clone()) };
        let got = d.next().expect("echo");
        assert!(got == want, "echo of {} bytes (text: {text}) differs", data.len());
    }

    // A ping is answered by tungstenite.
    d.conn.ping(b"are you there", &mut d.out).unwrap();
    d.flush();
    assert_eq!(d.next(), Some(Got::Pong(b"are you there".to_vec())));

    // Clean close: we start it, tungstenite answers, then closes TCP.
    d.conn.close(CloseFrame::new(CloseCode::NORMAL, "bye"), &mut d.out).unwrap();
    d.flush();
    assert_eq!(d.conn.state(), State::ClosingLocal);
    // tungstenite echoes the whole Close frame.
    assert_eq!(d.next(), Some(Got::Close(Some(1000), "bye".into())));
    assert_eq!(d.conn.state(), State::Closed);
    assert_eq!(d.conn.transport_action(), TransportAction::AwaitPeerClose);
    assert_eq!(d.next(), None, "the server closes the transport");
    assert_eq!(d.conn.transport_action(), TransportAction::Close);

    assert_eq!(server.join().expect("server thread"), payloads.len());
}

#[test]
fn tungstenite_client_against_our_server() {
    let (listener, addr) = tcp_pair();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        with_timeouts(&stream);
        let mut reader = ServerHandshake::new();
        let mut buf = vec![0u8; 4096];
        let (upgrade, early) = loop {
            let n = stream.read(&mut buf).expect("read request");
            assert!(n > 0, "client closed during the handshake");
            match reader.feed(&buf[..n]).expect("request") {
                ServerStatus::NeedMore => {}
                ServerStatus::Upgrade(u) => {
                    let early = buf[u.leftover()..n].to_vec();
                    break (u, early);
                }
                other => panic!("not an upgrade: {other:?}"),
            }
        };
        assert_eq!(upgrade.path(), "/echo?x=1");
        assert_eq!(upgrade.host(), Some(addr.to_string().as_str()));
        assert_eq!(upgrade.headers().get_str("Authorization"), Some("Bearer token"));
        let protocol = upgrade.select_protocol(&["superchat", "chat"]).expect("a protocol");
        let mut out = Vec::new();
        let accept = Accept::new().with_protocol(protocol).with_header("X-Server", "wsproto");
        let negotiated = upgrade.accept(&accept, &mut out).expect("accept");
        // A greeting in the same write as the 101.
        let mut conn = Connection::new(negotiated.role, Config::new()).with_negotiated(&negotiated);
        conn.send_text("greeting", &mut out).unwrap();
        stream.write_all(&out).unwrap();

        let mut d = Driver::new(stream, conn, &early);
        let mut echoed = 0;
        let mut pongs = 0;
        let mut closed = false;
        let mut first = true;
        while let Some(got) = d.next() {
            match got {
                Got::Text(t) => {
                    d.send(true, t.as_bytes());
                    echoed += 1;
                }
                Got::Binary(b) => {
                    d.send(false, &b);
                    echoed += 1;
                }
                Got::Pong(p) => {
                    assert_eq!(p, b"server ping");
                    pongs += 1;
                }
                Got::Ping(_) => {}
                Got::Close(code, reason) => {
                    assert_eq!((code, reason.as_str()), (Some(1000), "done"));
                    closed = true;
                }
            }
            if first {
                // A ping from our side, which tungstenite answers while it reads.
                d.conn.ping(b"server ping", &mut d.out).unwrap();
                d.flush();
                first = false;
            }
            if d.conn.transport_action() == TransportAction::Close {
                break;
            }
        }
        assert!(closed);
        assert_eq!(d.conn.state(), State::Closed);
        // Dropping the stream closes TCP: the server closes first (RFC 6455 §7.1.1).
        (echoed, pongs)
    });

    let stream = TcpStream::connect(addr).expect("connect");
    with_timeouts(&stream);
    let uri: tungstenite::http::Uri = format!("ws://{addr}/echo?x=1").parse().unwrap();
    let request = tungstenite::ClientRequestBuilder::new(uri)
        .with_sub_protocol("chat")
        .with_sub_protocol("superchat")
        .with_header("Authorization", "Bearer token");
    let (mut ws, response) = tungstenite::client(request, stream).map_err(|e| e.to_string()).expect("handshake");
    assert_eq!(response.status(), 101);
    // The client's order of preference wins.
    assert_eq!(response.headers().get("Sec-WebSocket-Protocol").unwrap(), "chat");
    assert_eq!(response.headers().get("X-Server").unwrap(), "wsproto");

    assert_eq!(read_data(&mut ws), TMessage::text("greeting"));
    let payloads = payloads();
    for (text, data) in &payloads {
        let m = to_tungstenite(*text, data);
        ws.send(m.clone()).expect("send");
        let echo = read_data(&mut ws);
        assert!(echo == m, "echo of {} bytes (text: {text}) differs", data.len());
    }

    let frame = tungstenite::protocol::CloseFrame {
        code: tungstenite::protocol::frame::coding::CloseCode::Normal,
        reason: "done".into(),
    };
    ws.close(Some(frame)).expect("close");
    loop {
        match ws.read() {
            Ok(TMessage::Close(reply)) => assert_eq!(reply.map(|f| u16::from(f.code)), Some(1000)),
            Ok(TMessage::Ping(_) | TMessage::Pong(_)) => {}
            Ok(other) => panic!("after close: {other:?}"),
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(e) => panic!("client: {e}"),
        }
    }
    let (echoed, pongs) = server.join().expect("server thread");
    assert_eq!((echoed, pongs), (payloads.len(), 1));
}

/// The next data message, skipping control frames (tungstenite answers pings itself).
fn read_data(ws: &mut tungstenite::WebSocket<TcpStream>) -> TMessage {
    loop {
        match ws.read().expect("read") {
            TMessage::Ping(_) | TMessage::Pong(_) => {}
            m => return m,
        }
    }
}
