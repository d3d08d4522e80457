//! WebSocket over a real HTTP/2 stack (RFC 8441), with the `h2` crate on 127.0.0.1.
//!
//! Our client side (a [`ClientRequest`] through [`extended_connect::http_request`] and
//! [`extended_connect::check_http_response`], feature `http`) and a [`Connection`] drive a
//! WebSocket on an h2 client stream, against our server side
//! ([`extended_connect::parse_http_request`] into an `UpgradeRequest`,
//! [`extended_connect::accept`] with an [`Accept`]) and a [`Connection`] on an
//! h2 server stream (`enable_connect_protocol`). The session carries text
//! and binary messages both ways (100 KiB ones included, which cross h2 flow control: the
//! receiver releases capacity as it consumes, the sender waits for capacity), pings and pongs
//! in both directions, and a clean close handshake that ends with END_STREAM on both sides.
//! Rejections travel the same way: a 403 chosen by the application and a 400 with
//! `sec-websocket-version: 13` for a bad version, both reported to the client with their
//! status. Every wait is bounded by a timeout.
#![cfg(all(feature = "http", feature = "getrandom"))]

use core::future::poll_fn;
use core::time::Duration;

use bytes::Bytes;
use h2::ext::Protocol;
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use http::{Request, Response, StatusCode};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;
use wsproto::handshake::{
    Accept, ClientRequest, ClientStatus, HandshakeError, HttpResponse, Negotiated, extended_connect,
};
use wsproto::{CloseCode, CloseFrame, Config, Connection, Event, MessageKind, Role, State, TransportAction};

/// Bound on every single wait.
const STEP: Duration = Duration::from_secs(10);
/// Bound on a whole test.
const WHOLE: Duration = Duration::from_secs(60);

type Failure = String;

fn fail(what: impl core::fmt::Display) -> Failure {
    what.to_string()
}

// ---------------------------------------------------------------------------------------------
// Requests and responses in and out of the h2 crate: `http` types (feature `http`), with the
// `:protocol` pseudo-header field, which `http` has no place for, as h2's extension.
// ---------------------------------------------------------------------------------------------

/// Our extended CONNECT request as an h2 request.
fn to_h2_request(request: &ClientRequest) -> Request<()> {
    let mut connect = extended_connect::http_request(request).expect("valid request");
    connect.extensions_mut().insert(Protocol::from(extended_connect::PROTOCOL));
    connect
}

/// Our response (status and regular fields) as an h2 response.
fn to_h2_response(response: &HttpResponse) -> Response<()> {
    response.to_http().expect("valid response")
}

// ---------------------------------------------------------------------------------------------
// A WebSocket on one h2 stream.
// ---------------------------------------------------------------------------------------------

/// What the peer sent, owned.
#[derive(Debug, PartialEq, Eq)]
enum Incoming {
    Message(MessageKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<CloseCode>, String),
    /// The peer's END_STREAM, after its Close frame.
    End,
}

/// A [`Connection`] over the two halves of an h2 stream.
struct WsStream {
    ws: Connection,
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// The DATA payload being fed to the connection, from `pos` on.
    input: Vec<u8>,
    pos: usize,
    scratch: Vec<u8>,
    message: Vec<u8>,
    /// We sent END_STREAM.
    ended: bool,
}

impl WsStream {
    fn new(negotiated: &Negotiated, send: SendStream<Bytes>, recv: RecvStream) -> Self {
        Self {
            ws: Connection::new(negotiated.role, Config::new()).with_negotiated(negotiated),
            send,
            recv,
            input: Vec::new(),
            pos: 0,
            scratch: vec![0; 64 * 1024],
            message: Vec::new(),
            ended: false,
        }
    }

    /// Writes `bytes` as DATA within the stream's flow-control capacity, then END_STREAM if
    /// `end`.
    async fn write(&mut self, bytes: &[u8], end: bool) -> Result<(), Failure> {
        let mut rest = bytes;
        while !rest.is_empty() {
            self.send.reserve_capacity(rest.len());
            let mut capacity = self.send.capacity();
            while capacity == 0 {
                let polled = timeout(STEP, poll_fn(|cx| self.send.poll_capacity(cx))).await.map_err(fail)?;
                capacity = polled.ok_or("stream closed while waiting for capacity")?.map_err(fail)?;
            }
            let n = capacity.min(rest.len());
            let (chunk, after) = rest.split_at(n);
            self.send.send_data(Bytes::copy_from_slice(chunk), end && after.is_empty()).map_err(fail)?;
            rest = after;
        }
        if bytes.is_empty() && end {
            self.send.send_data(Bytes::new(), true).map_err(fail)?;
        }
        self.ended |= end;
        Ok(())
    }

    /// Writes automatic replies, and ends our side of the stream once the connection says the
    /// transport should close (RFC 8441 §5: END_STREAM is the TCP close).
    async fn flush(&mut self) -> Result<(), Failure> {
        let mut out = Vec::new();
        self.ws.poll_transmit(&mut out).map_err(fail)?;
        let end = !self.ended
            && matches!(self.ws.transport_action(), TransportAction::Close | TransportAction::AwaitPeerClose);
        if !out.is_empty() || end {
            self.write(&out, end).await?;
        }
        Ok(())
    }

    /// Sends a message; returns how many bytes it took on the stream.
    async fn send(&mut self, kind: MessageKind, data: &[u8]) -> Result<usize, Failure> {
        let mut out = Vec::new();
        self.ws.send(kind, data, &mut out).map_err(fail)?;
        self.write(&out, false).await?;
        Ok(out.len())
    }

    async fn ping(&mut self, payload: &[u8]) -> Result<(), Failure> {
        let mut out = Vec::new();
        self.ws.ping(payload, &mut out).map_err(fail)?;
        self.write(&out, false).await
    }

    async fn close(&mut self, frame: CloseFrame) -> Result<(), Failure> {
        let mut out = Vec::new();
        self.ws.close(frame, &mut out).map_err(fail)?;
        self.write(&out, false).await
    }

    /// The next thing the peer sent (whole messages), answering pings and closes on the way.
    async fn next(&mut self) -> Result<Incoming, Failure> {
        loop {
            if self.pos < self.input.len() {
                let received = self.ws.receive_into(&mut self.input[self.pos..], &mut self.scratch).map_err(fail)?;
                self.pos += received.consumed;
                let incoming = match received.event {
                    None => None,
                    Some(Event::Data { kind, data, last, .. }) => {
                        self.message.extend_from_slice(data);
                        last.then(|| Incoming::Message(kind, core::mem::take(&mut self.message)))
                    }
                    Some(Event::Ping(p)) => Some(Incoming::Ping(p.as_bytes().to_vec())),
                    Some(Event::Pong(p)) => Some(Incoming::Pong(p.as_bytes().to_vec())),
                    Some(Event::Close(frame)) => Some(Incoming::Close(frame.code(), frame.reason().to_owned())),
                    Some(other) => return Err(format!("unexpected event {other:?}")),
                };
                if self.pos == self.input.len() {
                    // The connection consumed the whole DATA payload: give the window back.
                    self.recv.flow_control().release_capacity(self.input.len()).map_err(fail)?;
                }
                if let Some(incoming) = incoming {
                    self.flush().await?;
                    return Ok(incoming);
                }
                continue;
            }
            match timeout(STEP, self.recv.data()).await.map_err(fail)? {
                Some(Ok(data)) => {
                    self.input = data.to_vec();
                    self.pos = 0;
                    if self.input.is_empty() {
                        continue;
                    }
                }
                None => {
                    // END_STREAM: end of input, normal after a Close frame.
                    assert!(self.recv.is_end_stream());
                    self.ws.receive_eof().map_err(fail)?;
                    self.flush().await?;
                    return Ok(Incoming::End);
                }
                Some(Err(e)) => {
                    let _ = self.ws.receive_eof();
                    return Err(format!("stream reset or failed: {e}"));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Server.
// ---------------------------------------------------------------------------------------------

/// What the server saw on one stream.
#[derive(Debug, Default)]
struct ServerReport {
    path: String,
    status: u16,
    negotiated: Option<Negotiated>,
    echoed: Vec<(MessageKind, usize)>,
    pongs: Vec<Vec<u8>>,
    close: Option<(Option<CloseCode>, String)>,
    end_stream: bool,
    final_state: Option<State>,
}

/// Accepts h2 connections and serves each stream on its own task; reports go to `reports`.
async fn run_server(listener: TcpListener, reports: mpsc::UnboundedSender<Result<ServerReport, Failure>>) {
    let Ok((tcp, _)) = listener.accept().await else { return };
    let mut builder = h2::server::Builder::new();
    builder.enable_connect_protocol();
    let Ok(mut connection) = builder.handshake::<_, Bytes>(tcp).await else { return };
    while let Some(accepted) = connection.accept().await {
        let Ok((request, respond)) = accepted else { return };
        let reports = reports.clone();
        tokio::spawn(async move {
            let _ = reports.send(serve_stream(request, respond).await);
        });
    }
}

async fn serve_stream(request: Request<RecvStream>, mut respond: SendResponse<Bytes>) -> Result<ServerReport, Failure> {
    let mut report = ServerReport::default();
    let protocol = request.extensions().get::<Protocol>().map(Protocol::as_str);
    let connect = match extended_connect::parse_http_request(&request, protocol) {
        Ok(connect) => connect,
        Err(e) => {
            let response = extended_connect::error_response(&e);
            report.status = response.status;
            let mut body = respond.send_response(to_h2_response(&response), false).map_err(fail)?;
            body.send_data(Bytes::from(response.body), true).map_err(fail)?;
            return Ok(report);
        }
    };
    report.path = connect.path().to_owned();
    if connect.path() == "/forbidden" {
        report.status = 403;
        let response = Response::builder().status(StatusCode::FORBIDDEN).body(()).map_err(fail)?;
        let mut body = respond.send_response(response, false).map_err(fail)?;
        body.send_data(Bytes::from_static(b"no WebSocket here"), true).map_err(fail)?;
        return Ok(report);
    }
    let mut accept = Accept::new().with_header("x-served-by", "wsproto");
    if let Some(protocol) = connect.select_protocol(&["echo"]) {
        accept = accept.with_protocol(protocol);
    }
    #[cfg(feature = "deflate")]
    {
        accept = accept.with_deflate(wsproto::deflate::DeflateConfig::new());
    }
    let (response, negotiated) = extended_connect::accept(&connect, &accept).map_err(fail)?;
    report.status = response.status;
    assert_eq!(negotiated.role, Role::Server);
    let send = respond.send_response(to_h2_response(&response), false).map_err(fail)?;
    let mut ws = WsStream::new(&negotiated, send, request.into_body());
    report.negotiated = Some(negotiated);

    let mut pinged = false;
    loop {
        match ws.next().await? {
            Incoming::Message(kind, data) => {
                report.echoed.push((kind, data.len()));
                let _ = ws.send(kind, &data).await?;
                if !pinged {
                    ws.ping(b"from-server").await?;
                    pinged = true;
                }
            }
            Incoming::Ping(_) => {} // answered automatically
            Incoming::Pong(payload) => report.pongs.push(payload),
            Incoming::Close(code, reason) => {
                // The reply was written with END_STREAM (TransportAction::Close).
                assert!(ws.ended, "the server ends its side with its Close reply");
                report.close = Some((code, reason));
            }
            Incoming::End => {
                report.end_stream = true;
                break;
            }
        }
    }
    report.final_state = Some(ws.ws.state());
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Client.
// ---------------------------------------------------------------------------------------------

async fn connect_client(addr: std::net::SocketAddr) -> Result<h2::client::SendRequest<Bytes>, Failure> {
    let tcp = TcpStream::connect(addr).await.map_err(fail)?;
    let (send_request, connection) = h2::client::handshake(tcp).await.map_err(fail)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let send_request = timeout(STEP, send_request.ready()).await.map_err(fail)?.map_err(fail)?;
    // RFC 8441 §3: no extended CONNECT before the server's SETTINGS_ENABLE_CONNECT_PROTOCOL.
    timeout(STEP, async {
        while !send_request.is_extended_connect_protocol_enabled() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .map_err(|_| "the server never enabled extended CONNECT")?;
    Ok(send_request)
}

/// Sends a request; returns the response's status, fields and streams.
async fn exchange(
    send_request: &mut h2::client::SendRequest<Bytes>,
    request: Request<()>,
) -> Result<(Response<RecvStream>, SendStream<Bytes>), Failure> {
    *send_request = timeout(STEP, send_request.clone().ready()).await.map_err(fail)?.map_err(fail)?;
    let (response, send) = send_request.send_request(request, false).map_err(fail)?;
    let response = timeout(STEP, response).await.map_err(fail)?.map_err(fail)?;
    Ok((response, send))
}

async fn read_body(mut body: RecvStream) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    while let Some(chunk) = timeout(STEP, body.data()).await.map_err(fail)? {
        let chunk = chunk.map_err(fail)?;
        body.flow_control().release_capacity(chunk.len()).map_err(fail)?;
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn big_text() -> String {
    (0..).map(|i| char::from(b'a' + (i % 26) as u8)).take(100 * 1024).collect()
}

/// 100 KiB of xorshift noise: incompressible, so even with permessage-deflate the message
/// takes more than HTTP/2's initial 65 535-byte window on the stream.
fn big_binary() -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..100 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}

/// The client's side of the session; returns what it negotiated.
async fn client_session(send_request: &mut h2::client::SendRequest<Bytes>) -> Result<Negotiated, Failure> {
    #[allow(unused_mut)]
    let mut request = ClientRequest::new("ws://localhost/chat?room=1")
        .map_err(fail)?
        .with_origin("http://localhost")
        .with_protocol("echo")
        .with_protocol("other");
    #[cfg(feature = "deflate")]
    {
        request = request.with_deflate(wsproto::deflate::DeflateConfig::new());
    }
    let (response, send) = exchange(send_request, to_h2_request(&request)).await?;
    let (parts, recv) = response.into_parts();
    assert_eq!(parts.headers.get("x-served-by").map(|v| v.as_bytes()), Some(&b"wsproto"[..]));
    let outcome = extended_connect::check_http_response(&request, &parts).map_err(fail)?;
    let ClientStatus::Upgraded { negotiated, .. } = outcome else { return Err(format!("rejected: {outcome:?}")) };
    assert_eq!(negotiated.role, Role::Client);
    assert_eq!(negotiated.protocol.as_deref(), Some("echo"));
    #[cfg(feature = "deflate")]
    assert!(negotiated.deflate.is_some(), "permessage-deflate agreed over h2");
    let mut ws = WsStream::new(&negotiated, send, recv);

    let text = big_text();
    let binary = big_binary();
    let messages: Vec<(MessageKind, Vec<u8>)> = vec![
        (MessageKind::Text, b"hello over HTTP/2".to_vec()),
        (MessageKind::Binary, vec![0, 1, 2, 0xfe, 0xff]),
        (MessageKind::Text, text.into_bytes()),
        (MessageKind::Binary, binary),
        (MessageKind::Text, Vec::new()),
    ];
    let mut server_pinged = false;
    for (kind, data) in &messages {
        let on_stream = ws.send(*kind, data).await?;
        if *kind == MessageKind::Binary && data.len() > 1024 {
            assert!(on_stream > 65_535, "the message needs more than the initial flow-control window");
        }
        loop {
            match ws.next().await? {
                Incoming::Message(k, d) => {
                    assert_eq!((k, d.len()), (*kind, data.len()));
                    assert!(d == *data, "echo differs");
                    break;
                }
                Incoming::Ping(p) => {
                    assert_eq!(p, b"from-server");
                    server_pinged = true; // the Pong went out automatically
                }
                other => return Err(format!("unexpected {other:?}")),
            }
        }
    }
    ws.ping(b"from-client").await?;
    loop {
        match ws.next().await? {
            Incoming::Pong(p) => {
                assert_eq!(p, b"from-client");
                break;
            }
            Incoming::Ping(p) => {
                assert_eq!(p, b"from-server");
                server_pinged = true;
            }
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    assert!(server_pinged, "the server's ping arrived");

    ws.close(CloseFrame::new(CloseCode::NORMAL, "bye")).await?;
    assert_eq!(ws.ws.state(), State::ClosingLocal);
    match ws.next().await? {
        // The automatic reply echoes the code.
        Incoming::Close(code, _) => assert_eq!(code, Some(CloseCode::NORMAL)),
        other => return Err(format!("expected the Close reply, got {other:?}")),
    }
    assert_eq!(ws.ws.state(), State::Closed);
    assert_eq!(ws.ws.transport_action(), TransportAction::AwaitPeerClose);
    assert!(ws.ended, "the client ended its side after the close handshake");
    assert_eq!(ws.next().await?, Incoming::End, "the server's END_STREAM");
    assert!(ws.recv.is_end_stream());
    Ok(negotiated)
}

async fn listen() -> (std::net::SocketAddr, mpsc::UnboundedReceiver<Result<ServerReport, Failure>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run_server(listener, tx));
    (addr, rx)
}

async fn next_report(reports: &mut mpsc::UnboundedReceiver<Result<ServerReport, Failure>>) -> ServerReport {
    timeout(STEP, reports.recv()).await.expect("server report in time").expect("server alive").expect("server ok")
}

#[tokio::test]
async fn websocket_session_over_h2() {
    timeout(WHOLE, async {
        let (addr, mut reports) = listen().await;
        let mut send_request = connect_client(addr).await.expect("h2 client");
        let client_negotiated = client_session(&mut send_request).await.expect("client session");

        let report = next_report(&mut reports).await;
        assert_eq!(report.path, "/chat?room=1");
        assert_eq!(report.status, 200);
        let server_negotiated = report.negotiated.expect("negotiated");
        assert_eq!(server_negotiated.protocol, client_negotiated.protocol);
        assert_eq!(server_negotiated.extensions, client_negotiated.extensions);
        assert_eq!(
            report.echoed,
            [
                (MessageKind::Text, 17),
                (MessageKind::Binary, 5),
                (MessageKind::Text, 100 * 1024),
                (MessageKind::Binary, 100 * 1024),
                (MessageKind::Text, 0),
            ]
        );
        assert_eq!(report.pongs, [b"from-server".to_vec()]);
        assert_eq!(report.close, Some((Some(CloseCode::NORMAL), "bye".to_owned())));
        assert!(report.end_stream, "the client's END_STREAM reached the server");
        assert_eq!(report.final_state, Some(State::Closed));
    })
    .await
    .expect("the test finished in time");
}

#[tokio::test]
async fn rejections_over_h2_carry_their_status() {
    timeout(WHOLE, async {
        let (addr, mut reports) = listen().await;
        let mut send_request = connect_client(addr).await.expect("h2 client");

        // The application refuses the resource.
        let request = ClientRequest::new("ws://localhost/forbidden").unwrap();
        let (response, _send) = exchange(&mut send_request, to_h2_request(&request)).await.unwrap();
        let (parts, body) = response.into_parts();
        let outcome = extended_connect::check_http_response(&request, &parts).unwrap();
        assert!(matches!(&outcome, ClientStatus::Rejected(r) if r.status == 403), "{outcome:?}");
        assert_eq!(read_body(body).await.unwrap(), b"no WebSocket here");
        assert_eq!(next_report(&mut reports).await.status, 403);

        // A version the server does not speak: 400 with `sec-websocket-version: 13`.
        let mut bad = to_h2_request(&ClientRequest::new("ws://localhost/chat").unwrap());
        bad.headers_mut().insert("sec-websocket-version", http::HeaderValue::from_static("8"));
        let (response, _send) = exchange(&mut send_request, bad).await.unwrap();
        let (parts, body) = response.into_parts();
        assert_eq!(parts.headers.get("sec-websocket-version").map(|v| v.as_bytes()), Some(&b"13"[..]));
        let outcome = extended_connect::check_http_response(&request, &parts).unwrap();
        assert!(matches!(&outcome, ClientStatus::Rejected(r) if r.status == 400), "{outcome:?}");
        let text = String::from_utf8(read_body(body).await.unwrap()).unwrap();
        assert_eq!(text, format!("{}\n", HandshakeError::UnsupportedVersion));
        assert_eq!(next_report(&mut reports).await.status, 400);

        // The connection still serves a WebSocket afterwards.
        client_session(&mut send_request).await.expect("client session after rejections");
        assert!(next_report(&mut reports).await.end_stream);
    })
    .await
    .expect("the test finished in time");
}
