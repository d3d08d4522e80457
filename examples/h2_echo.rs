//! WebSocket over HTTP/2 (RFC 8441): an echo server and a client in one process, over
//! loopback, on the `h2` crate. Prints the handshake's fields and every message, ping and close
//! that passes.
//!
//! ```sh
//! cargo run --example h2_echo --features http               # plain
//! cargo run --example h2_echo --features http,deflate       # with permessage-deflate
//! ```
//!
//! The crate does the WebSocket part without I/O: `wsproto::handshake::extended_connect` builds
//! and checks the extended CONNECT request and response as `http` types (feature `http`; from
//! the same `ClientRequest`, into the same `UpgradeRequest` and `Accept` as over HTTP/1.1), and
//! a `Connection` runs on the stream's DATA frames. `http` has no place for `:protocol`: it
//! travels as h2's `Protocol` extension. This file moves fields and bytes in and out of `h2`, respecting its flow control, and
//! ends each side of the stream (END_STREAM) when the connection says the transport should
//! close.

use core::future::poll_fn;
use core::time::Duration;

use bytes::Bytes;
use h2::ext::Protocol;
use h2::{RecvStream, SendStream};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use wsproto::handshake::{Accept, ClientRequest, ClientStatus, Negotiated, extended_connect};
use wsproto::{CloseCode, CloseFrame, Config, Connection, Event, MessageKind, TransportAction};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Bound on every wait: the example always stops by itself.
const STEP: Duration = Duration::from_secs(10);

/// What the peer sent, owned.
enum Incoming {
    Message(MessageKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<CloseCode>),
    /// The peer ended its side of the stream.
    End,
}

/// A WebSocket connection on one HTTP/2 stream.
struct WsStream {
    who: &'static str,
    ws: Connection,
    send: SendStream<Bytes>,
    recv: RecvStream,
    input: Vec<u8>,
    pos: usize,
    scratch: Vec<u8>,
    message: Vec<u8>,
    ended: bool,
}

impl WsStream {
    fn new(who: &'static str, negotiated: &Negotiated, send: SendStream<Bytes>, recv: RecvStream) -> Self {
        let ws = Connection::new(negotiated.role, Config::new()).with_negotiated(negotiated);
        // Inflated data (permessage-deflate) goes into `scratch`; without it none is needed.
        let scratch = vec![0; if ws.needs_scratch() { 64 * 1024 } else { 0 }];
        Self { who, ws, send, recv, input: Vec::new(), pos: 0, scratch, message: Vec::new(), ended: false }
    }

    /// Sends bytes as DATA frames, no faster than the peer's flow-control window allows.
    async fn write(&mut self, bytes: &[u8], end: bool) -> Result<(), BoxError> {
        let mut rest = bytes;
        while !rest.is_empty() {
            self.send.reserve_capacity(rest.len());
            let mut capacity = self.send.capacity();
            while capacity == 0 {
                let polled = timeout(STEP, poll_fn(|cx| self.send.poll_capacity(cx))).await?;
                capacity = polled.ok_or("stream closed")??;
            }
            let (chunk, after) = rest.split_at(capacity.min(rest.len()));
            self.send.send_data(Bytes::copy_from_slice(chunk), end && after.is_empty())?;
            rest = after;
        }
        if bytes.is_empty() && end {
            self.send.send_data(Bytes::new(), true)?;
        }
        if end {
            println!("[{}] END_STREAM sent", self.who);
            self.ended = true;
        }
        Ok(())
    }

    /// Writes the automatic replies (Pong, Close reply), and ends our side of the stream when
    /// the connection says the transport should close.
    async fn flush(&mut self) -> Result<(), BoxError> {
        let mut out = Vec::new();
        self.ws.poll_transmit(&mut out)?;
        let end = !self.ended
            && matches!(self.ws.transport_action(), TransportAction::Close | TransportAction::AwaitPeerClose);
        if !out.is_empty() || end {
            self.write(&out, end).await?;
        }
        Ok(())
    }

    async fn send(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), BoxError> {
        let mut out = Vec::new();
        self.ws.send(kind, data, &mut out)?;
        println!("[{}] send {kind:?} {} ({} bytes on the stream)", self.who, describe(kind, data), out.len());
        self.write(&out, false).await
    }

    async fn ping(&mut self, payload: &[u8]) -> Result<(), BoxError> {
        let mut out = Vec::new();
        self.ws.ping(payload, &mut out)?;
        println!("[{}] send ping {:?}", self.who, String::from_utf8_lossy(payload));
        self.write(&out, false).await
    }

    async fn close(&mut self, frame: CloseFrame) -> Result<(), BoxError> {
        let mut out = Vec::new();
        self.ws.close(frame, &mut out)?;
        println!("[{}] send close {:?} {:?}", self.who, frame.code(), frame.reason());
        self.write(&out, false).await
    }

    /// The next whole message or control frame; releases flow-control capacity as the
    /// connection consumes DATA.
    async fn next(&mut self) -> Result<Incoming, BoxError> {
        loop {
            if self.pos < self.input.len() {
                let received = self.ws.receive_into(&mut self.input[self.pos..], &mut self.scratch)?;
                self.pos += received.consumed;
                let incoming = match received.event {
                    None => None,
                    Some(Event::Data { kind, data, last, .. }) => {
                        self.message.extend_from_slice(data);
                        last.then(|| Incoming::Message(kind, core::mem::take(&mut self.message)))
                    }
                    Some(Event::Ping(p)) => Some(Incoming::Ping(p.as_bytes().to_vec())),
                    Some(Event::Pong(p)) => Some(Incoming::Pong(p.as_bytes().to_vec())),
                    Some(Event::Close(frame)) => Some(Incoming::Close(frame.code())),
                    Some(_) => None,
                };
                if self.pos == self.input.len() {
                    self.recv.flow_control().release_capacity(self.input.len())?;
                }
                if let Some(incoming) = incoming {
                    let who = self.who;
                    match &incoming {
                        Incoming::Message(kind, data) => println!("[{who}] recv {kind:?} {}", describe(*kind, data)),
                        Incoming::Ping(p) => println!("[{who}] recv ping {:?}", String::from_utf8_lossy(p)),
                        Incoming::Pong(p) => println!("[{who}] recv pong {:?}", String::from_utf8_lossy(p)),
                        Incoming::Close(code) => println!("[{who}] recv close {code:?}"),
                        Incoming::End => {}
                    }
                    self.flush().await?;
                    return Ok(incoming);
                }
                continue;
            }
            match timeout(STEP, self.recv.data()).await? {
                Some(data) => {
                    self.input = data?.to_vec();
                    self.pos = 0;
                }
                None => {
                    println!("[{}] END_STREAM received", self.who);
                    self.ws.receive_eof()?;
                    self.flush().await?;
                    return Ok(Incoming::End);
                }
            }
        }
    }
}

fn describe(kind: MessageKind, data: &[u8]) -> String {
    match kind {
        MessageKind::Text if data.len() <= 40 => format!("{:?}", String::from_utf8_lossy(data)),
        _ if data.len() <= 16 => format!("{data:?}"),
        _ => format!("of {} bytes", data.len()),
    }
}

fn print_map(who: &str, what: &str, map: &http::HeaderMap) {
    println!("[{who}] {what}:");
    for (name, value) in map {
        println!("    {name}: {}", String::from_utf8_lossy(value.as_bytes()));
    }
}

// ---------------------------------------------------------------------------------------------
// Server.
// ---------------------------------------------------------------------------------------------

async fn server(listener: TcpListener) -> Result<(), BoxError> {
    let (tcp, peer) = listener.accept().await?;
    println!("[server] TCP connection from {peer}");
    let mut builder = h2::server::Builder::new();
    builder.enable_connect_protocol(); // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1
    let mut connection = builder.handshake::<_, Bytes>(tcp).await?;
    let (request, mut respond) = timeout(STEP, connection.accept()).await?.ok_or("no request")??;
    // Keep driving the HTTP/2 connection while the stream is served.
    tokio::spawn(async move { while connection.accept().await.is_some() {} });

    // The received request; `:protocol` comes apart, as h2's extension.
    let protocol = request.extensions().get::<Protocol>().map(Protocol::as_str);
    println!("[server] request: {} {} (:protocol {protocol:?})", request.method(), request.uri());
    print_map("server", "request fields", request.headers());

    let connect = match extended_connect::parse_http_request(&request, protocol) {
        Ok(connect) => connect,
        Err(e) => {
            println!("[server] refused: {e}");
            let response = extended_connect::error_response(&e);
            let mut body = respond.send_response(response.to_http()?, false)?;
            body.send_data(Bytes::from(response.body), true)?;
            return Ok(());
        }
    };
    let mut accept = Accept::new();
    if let Some(protocol) = connect.select_protocol(&["echo"]) {
        accept = accept.with_protocol(protocol);
    }
    #[cfg(feature = "deflate")]
    {
        accept = accept.with_deflate(wsproto::deflate::DeflateConfig::new());
    }
    let (response, negotiated) = extended_connect::accept(&connect, &accept)?;
    println!("[server] response status {}", response.status);
    print_map("server", "response fields", response.to_http()?.headers());
    let send = respond.send_response(response.to_http()?, false)?;
    let mut ws = WsStream::new("server", &negotiated, send, request.into_body());

    // Echo every message until the client closes; the Close reply goes out with END_STREAM.
    loop {
        match ws.next().await? {
            Incoming::Message(kind, data) => ws.send(kind, &data).await?,
            Incoming::End => break,
            Incoming::Ping(_) | Incoming::Pong(_) | Incoming::Close(_) => {}
        }
    }
    println!("[server] done: {:?}", ws.ws.state());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Client.
// ---------------------------------------------------------------------------------------------

async fn client(addr: std::net::SocketAddr) -> Result<(), BoxError> {
    let tcp = TcpStream::connect(addr).await?;
    let (send_request, connection) = h2::client::handshake(tcp).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            println!("[client] HTTP/2 connection error: {e}");
        }
    });
    let mut send_request = timeout(STEP, send_request.ready()).await??;
    // RFC 8441 §3: wait for the server's SETTINGS_ENABLE_CONNECT_PROTOCOL.
    timeout(STEP, async {
        while !send_request.is_extended_connect_protocol_enabled() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await?;
    println!("[client] the server enabled extended CONNECT");

    #[allow(unused_mut)]
    let mut request = ClientRequest::new(&format!("ws://{addr}/echo"))?.with_protocol("echo");
    #[cfg(feature = "deflate")]
    {
        request = request.with_deflate(wsproto::deflate::DeflateConfig::new());
    }
    // The request as an h2 request: `:protocol` goes in as h2's extension.
    let mut connect = extended_connect::http_request(&request)?;
    connect.extensions_mut().insert(Protocol::from(extended_connect::PROTOCOL));
    println!("[client] request: {} {}", connect.method(), connect.uri());
    print_map("client", "request fields", connect.headers());
    let (response, send) = send_request.send_request(connect, false)?;
    let (parts, recv) = timeout(STEP, response).await??.into_parts();
    println!("[client] response status {}", parts.status);

    let negotiated = match extended_connect::check_http_response(&request, &parts)? {
        ClientStatus::Upgraded { negotiated, .. } => negotiated,
        ClientStatus::Rejected(response) => return Err(format!("rejected with {}", response.status).into()),
        other => return Err(format!("unexpected outcome {other:?}").into()),
    };
    println!("[client] negotiated: protocol {:?}, extensions {:?}", negotiated.protocol, negotiated.extensions);
    let mut ws = WsStream::new("client", &negotiated, send, recv);

    let big: Vec<u8> = (0..100 * 1024u32).map(|i| (i % 251) as u8).collect();
    let messages = [
        (MessageKind::Text, b"Hello over HTTP/2!".to_vec()),
        (MessageKind::Binary, vec![1, 2, 3, 4]),
        (MessageKind::Binary, big),
    ];
    for (kind, data) in &messages {
        ws.send(*kind, data).await?;
        loop {
            if let Incoming::Message(k, echoed) = ws.next().await? {
                assert!(k == *kind && echoed == *data, "the echo matches");
                break;
            }
        }
    }
    ws.ping(b"are you there?").await?;
    while !matches!(ws.next().await?, Incoming::Pong(_)) {}
    ws.close(CloseFrame::new(CloseCode::NORMAL, "done")).await?;
    while !matches!(ws.next().await?, Incoming::Close(_)) {}
    // Close handshake done: the client has ended its side (AwaitPeerClose); wait for the
    // server's END_STREAM.
    while !matches!(ws.next().await?, Incoming::End) {}
    println!("[client] done: {:?}", ws.ws.state());
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("HTTP/2 (cleartext, prior knowledge) on {addr}");
    let server = tokio::spawn(server(listener));
    let client = timeout(Duration::from_secs(30), client(addr)).await?;
    let server = timeout(STEP, server).await??;
    client?;
    server?;
    println!("WebSocket over HTTP/2: clean close on both sides");
    Ok(())
}
