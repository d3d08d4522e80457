//! WebSocket over a real HTTP/3 stack (RFC 9220), with quiche, in one process on 127.0.0.1.
//!
//! What it proves: wsproto's extended CONNECT helpers (`wsproto::handshake::extended_connect`),
//! shared by HTTP/2 (RFC 8441) and HTTP/3, and a [`Connection`] on each end carry a WebSocket
//! over an independent QUIC and HTTP/3 implementation, quiche with BoringSSL. A client (on the
//! test's thread) and a server (on a second thread), each a quiche connection on its own UDP
//! socket bound to port 0:
//!
//! - QUIC with TLS 1.3 and ALPN `h3`; the server's certificate for `localhost` comes from rcgen
//!   and the client verifies it, so the handshake is a real one, not one with verification off.
//! - Both ends send SETTINGS_ENABLE_CONNECT_PROTOCOL; the client waits for the server's before
//!   any extended CONNECT (RFC 8441 §3, RFC 9220 §3).
//! - A rejection, on a first request stream: the client's request with `sec-websocket-version:
//!   8` is refused by [`extended_connect::parse_request`] and answered with
//!   [`extended_connect::error_response`] (400, `sec-websocket-version: 13`, a text body, FIN);
//!   [`extended_connect::check_response`] reports it as [`ClientStatus::Rejected`], and the body
//!   arrives on the stream.
//! - The WebSocket, on a second request stream: [`extended_connect::request`] for
//!   `wss://localhost/chat?room=1` offering subprotocol `echo` and permessage-deflate;
//!   [`extended_connect::parse_request`] reads `:protocol websocket` and the rest, and
//!   [`extended_connect::accept`] chooses both and answers 200, which
//!   [`extended_connect::check_response`] accepts. The stream's DATA then carry the WebSocket
//!   frames: a short text, an incompressible 200 KiB binary message (more than the 64 KiB
//!   initial stream window, so each sender waits for the receiver's MAX_STREAM_DATA) and a
//!   100 KiB compressible text, each echoed back (the text's echo compressed: under a tenth of
//!   its size on the stream); a ping from the server after each echo and one from the client,
//!   each answered with its pong; and the close handshake (1000, "bye"), after which each side
//!   ends its stream with FIN (the TCP close of RFC 6455, RFC 8441 §5) and reads the peer's FIN
//!   as the end of the WebSocket. Both connections end in [`State::Closed`].
//! - Then the client closes the QUIC connection with H3_NO_ERROR, and the server sees it.
//!
//! Every wait is bounded: the whole exchange has a deadline of [`WHOLE`] (it takes well under a
//! second), and either side that fails closes the QUIC connection, so the other one stops too.
//!
//! This crate is outside the root workspace because quiche builds BoringSSL with cmake: run it
//! with `bash interop/h3/run.sh`.

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use quiche::h3::NameValue;
use wsproto::deflate::DeflateConfig;
use wsproto::handshake::{
    Accept, ClientRequest, ClientStatus, HandshakeError, HttpResponse, Negotiated, UpgradeRequest, extended_connect,
};
use wsproto::{CloseCode, CloseFrame, Config, Connection, Event, MessageKind, State, TransportAction};

/// Bound on the whole test.
const WHOLE: Duration = Duration::from_secs(30);
/// The longest a side sleeps in one round waiting for a datagram.
const MAX_WAIT: Duration = Duration::from_millis(50);
/// Initial stream flow-control window: smaller than the large messages.
const STREAM_WINDOW: u64 = 64 * 1024;
/// HTTP/3 error codes (RFC 9114 §8.1) for CONNECTION_CLOSE.
const H3_NO_ERROR: u64 = 0x100;
const H3_INTERNAL_ERROR: u64 = 0x102;
const URI: &str = "wss://localhost/chat?room=1";
const SUBPROTOCOL: &str = "echo";

type Failure = String;

fn fail(what: impl std::fmt::Debug) -> Failure {
    format!("{what:?}")
}

/// A header list as received: names as text, pseudo-header fields first.
type Fields = Vec<(String, Vec<u8>)>;

fn pairs(fields: &[(String, Vec<u8>)]) -> impl Iterator<Item = (&str, &[u8])> {
    fields.iter().map(|(name, value)| (name.as_str(), value.as_slice()))
}

// ---------------------------------------------------------------------------------------------
// Certificate and QUIC configuration.
// ---------------------------------------------------------------------------------------------

/// A self-signed certificate for `localhost` and its key, as PEM files in a temporary directory
/// (quiche loads them from files), removed on drop.
struct Pki {
    dir: PathBuf,
    cert: String,
    key: String,
}

impl Pki {
    fn new() -> Result<Self, Failure> {
        let dir = std::env::temp_dir().join(format!("wsproto-interop-h3-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(fail)?;
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).map_err(fail)?;
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, certified.cert.pem()).map_err(fail)?;
        std::fs::write(&key, certified.signing_key.serialize_pem()).map_err(fail)?;
        let text = |path: PathBuf| path.into_os_string().into_string().map_err(fail);
        Ok(Self { cert: text(cert)?, key: text(key)?, dir })
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The QUIC configuration of either side: HTTP/3's ALPN, small flow-control windows; the server
/// presents the certificate, the client verifies the server's against it.
fn quic_config(server: bool, cert: &str, key: &str) -> Result<quiche::Config, Failure> {
    let mut c = quiche::Config::new(quiche::PROTOCOL_VERSION).map_err(fail)?;
    c.set_application_protos(quiche::h3::APPLICATION_PROTOCOL).map_err(fail)?;
    c.set_max_idle_timeout(10_000);
    c.set_max_recv_udp_payload_size(1350);
    c.set_max_send_udp_payload_size(1350);
    c.set_initial_max_data(4 * STREAM_WINDOW);
    c.set_initial_max_stream_data_bidi_local(STREAM_WINDOW);
    c.set_initial_max_stream_data_bidi_remote(STREAM_WINDOW);
    c.set_initial_max_stream_data_uni(STREAM_WINDOW);
    c.set_initial_max_streams_bidi(8);
    c.set_initial_max_streams_uni(8);
    if server {
        c.load_cert_chain_from_pem_file(cert).map_err(fail)?;
        c.load_priv_key_from_pem_file(key).map_err(fail)?;
    } else {
        c.verify_peer(true);
        c.load_verify_locations_from_file(cert).map_err(fail)?;
    }
    Ok(c)
}

// ---------------------------------------------------------------------------------------------
// One side: a quiche connection, its HTTP/3 layer and its request streams.
// ---------------------------------------------------------------------------------------------

/// A CONNECTION_CLOSE's error, readable.
fn describe(error: Option<&quiche::ConnectionError>) -> String {
    error.map_or_else(
        || "none".to_owned(),
        |e| {
            let layer = if e.is_app { "application" } else { "transport" };
            format!("{layer} {:#x} {:?}", e.error_code, String::from_utf8_lossy(&e.reason))
        },
    )
}

/// A request stream's state on one side.
#[derive(Default)]
struct Stream {
    /// A header list received and not yet taken.
    headers: Option<Fields>,
    /// DATA received and not yet consumed (from `pos`).
    body: Vec<u8>,
    pos: usize,
    /// DATA bytes received in all.
    received: usize,
    /// The peer ended the stream (FIN).
    finished: bool,
    /// Bytes to send as DATA, then FIN when `fin`.
    outbox: Vec<u8>,
    fin: bool,
    fin_sent: bool,
    /// Rounds that left DATA queued for want of stream capacity (flow-control window or
    /// congestion window).
    capacity_waits: usize,
}

impl Stream {
    fn unsent(&self) -> bool {
        !self.outbox.is_empty() || (self.fin && !self.fin_sent)
    }
}

struct Endpoint {
    name: &'static str,
    socket: UdpSocket,
    local: SocketAddr,
    conn: quiche::Connection,
    h3: Option<quiche::h3::Connection>,
    streams: BTreeMap<u64, Stream>,
    deadline: Instant,
}

impl Endpoint {
    fn new(
        name: &'static str,
        socket: UdpSocket,
        conn: quiche::Connection,
        deadline: Instant,
    ) -> Result<Self, Failure> {
        let local = socket.local_addr().map_err(fail)?;
        Ok(Self { name, socket, local, conn, h3: None, streams: BTreeMap::new(), deadline })
    }

    fn stream(&mut self, sid: u64) -> &mut Stream {
        self.streams.entry(sid).or_default()
    }

    fn recv_datagram(&mut self, datagram: &mut [u8], from: SocketAddr) -> Result<(), Failure> {
        match self.conn.recv(datagram, quiche::RecvInfo { from, to: self.local }) {
            Ok(_) | Err(quiche::Error::Done) => Ok(()),
            Err(e) => Err(format!("{}: QUIC recv: {e:?}", self.name)),
        }
    }

    /// One round, while the QUIC connection is open: see [`round`](Self::round).
    fn pump(&mut self) -> Result<(), Failure> {
        if self.conn.is_closed() || self.conn.is_draining() {
            return Err(format!(
                "{}: the QUIC connection closed (idle timeout: {}, peer error: {}, local error: {})",
                self.name,
                self.conn.is_timed_out(),
                describe(self.conn.peer_error()),
                describe(self.conn.local_error())
            ));
        }
        self.round()
    }

    /// One round of the event loop: queued DATA and FINs into quiche, quiche's packets onto the
    /// socket, the datagrams that arrive within quiche's next timer (at most [`MAX_WAIT`]) into
    /// quiche, its timers, then the HTTP/3 events into `streams`.
    fn round(&mut self) -> Result<(), Failure> {
        if Instant::now() > self.deadline {
            return Err(format!("{}: deadline passed", self.name));
        }
        self.flush_streams()?;
        self.send_packets()?;
        self.receive_datagrams()?;
        self.conn.on_timeout();
        if self.h3.is_none() && self.conn.is_established() {
            let mut config = quiche::h3::Config::new().map_err(fail)?;
            config.enable_extended_connect(true);
            self.h3 = Some(quiche::h3::Connection::with_transport(&mut self.conn, &config).map_err(fail)?);
        }
        self.poll_h3()
    }

    fn flush_streams(&mut self) -> Result<(), Failure> {
        let Some(h3) = self.h3.as_mut() else { return Ok(()) };
        for (&sid, s) in &mut self.streams {
            while s.unsent() {
                match h3.send_body(&mut self.conn, sid, &s.outbox, s.fin) {
                    Ok(n) => {
                        let all = n == s.outbox.len();
                        s.outbox.drain(..n);
                        if !all {
                            s.capacity_waits += 1; // no more capacity: the rest in a later round
                            break;
                        }
                        s.fin_sent = s.fin;
                    }
                    Err(quiche::h3::Error::Done) => {
                        s.capacity_waits += 1;
                        break;
                    }
                    Err(e) => return Err(format!("{}: send_body on stream {sid}: {e:?}", self.name)),
                }
            }
        }
        Ok(())
    }

    fn send_packets(&mut self) -> Result<(), Failure> {
        let mut out = [0u8; 1500];
        loop {
            match self.conn.send(&mut out) {
                Ok((n, info)) => {
                    self.socket.send_to(&out[..n], info.to).map_err(fail)?;
                }
                Err(quiche::Error::Done) => return Ok(()),
                Err(e) => return Err(format!("{}: QUIC send: {e:?}", self.name)),
            }
        }
    }

    /// Waits for one datagram (bounded), then takes the ones already queued without waiting.
    fn receive_datagrams(&mut self) -> Result<(), Failure> {
        let wait = self.conn.timeout().unwrap_or(MAX_WAIT).clamp(Duration::from_millis(1), MAX_WAIT);
        self.socket.set_read_timeout(Some(wait)).map_err(fail)?;
        let mut buf = vec![0u8; 65535];
        match self.socket.recv_from(&mut buf) {
            Ok((n, from)) => self.recv_datagram(&mut buf[..n], from)?,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Ok(());
            }
            Err(e) => return Err(fail(e)),
        }
        self.socket.set_nonblocking(true).map_err(fail)?;
        let queued = loop {
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) => {
                    if let Err(e) = self.recv_datagram(&mut buf[..n], from) {
                        break Err(e);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) => break Err(fail(e)),
            }
        };
        self.socket.set_nonblocking(false).map_err(fail)?;
        queued
    }

    fn poll_h3(&mut self) -> Result<(), Failure> {
        let Some(h3) = self.h3.as_mut() else { return Ok(()) };
        loop {
            match h3.poll(&mut self.conn) {
                Ok((sid, quiche::h3::Event::Headers { list, .. })) => {
                    let fields = list
                        .iter()
                        .map(|h| Ok((String::from_utf8(h.name().to_vec()).map_err(fail)?, h.value().to_vec())))
                        .collect::<Result<Fields, Failure>>()?;
                    self.streams.entry(sid).or_default().headers = Some(fields);
                }
                Ok((sid, quiche::h3::Event::Data)) => {
                    let s = self.streams.entry(sid).or_default();
                    let mut chunk = [0u8; 16 * 1024];
                    loop {
                        match h3.recv_body(&mut self.conn, sid, &mut chunk) {
                            Ok(n) => {
                                s.body.extend_from_slice(&chunk[..n]);
                                s.received += n;
                            }
                            Err(quiche::h3::Error::Done) => break,
                            Err(e) => return Err(format!("{}: recv_body on stream {sid}: {e:?}", self.name)),
                        }
                    }
                }
                Ok((sid, quiche::h3::Event::Finished)) => self.streams.entry(sid).or_default().finished = true,
                Ok((sid, quiche::h3::Event::Reset(code))) => {
                    return Err(format!("{}: stream {sid} reset by the peer with {code:#x}", self.name));
                }
                Ok((_, quiche::h3::Event::PriorityUpdate | quiche::h3::Event::GoAway)) => {}
                Err(quiche::h3::Error::Done) => return Ok(()),
                Err(e) => return Err(format!("{}: HTTP/3 poll: {e:?}", self.name)),
            }
        }
    }

    /// Client: opens a request stream with `fields` as its HEADERS, without FIN (extended
    /// CONNECT keeps the stream open for the tunnel).
    fn send_request(&mut self, fields: &[(&str, &[u8])]) -> Result<u64, Failure> {
        let h3 = self.h3.as_mut().ok_or("no HTTP/3 connection yet")?;
        let sid = h3.send_request(&mut self.conn, fields, false).map_err(fail)?;
        self.streams.insert(sid, Stream::default());
        Ok(sid)
    }

    /// Server: answers request `sid` with `response` (`:status`, the fields, the body as DATA),
    /// then FIN when `end`.
    fn send_response(&mut self, sid: u64, response: &HttpResponse, end: bool) -> Result<(), Failure> {
        let status = response.status.to_string();
        let mut list: Vec<(&str, &[u8])> = vec![(":status", status.as_bytes())];
        list.extend(response.headers.iter());
        let h3 = self.h3.as_mut().ok_or("no HTTP/3 connection yet")?;
        h3.send_response(&mut self.conn, sid, &list, false).map_err(fail)?;
        let s = self.stream(sid);
        s.outbox.extend_from_slice(&response.body);
        s.fin = end;
        Ok(())
    }

    /// Server: the next request stream whose HEADERS arrived (lowest stream ID first).
    fn next_request(&mut self) -> Result<(u64, Fields), Failure> {
        loop {
            if let Some(found) = self.streams.iter_mut().find_map(|(&sid, s)| s.headers.take().map(|h| (sid, h))) {
                return Ok(found);
            }
            self.pump()?;
        }
    }

    /// Client: waits for the response HEADERS on `sid`: the status and the other fields.
    fn wait_response(&mut self, sid: u64) -> Result<(u16, Fields), Failure> {
        let mut fields = loop {
            if let Some(fields) = self.stream(sid).headers.take() {
                break fields;
            }
            self.pump()?;
        };
        if fields.first().is_none_or(|(name, _)| name != ":status") {
            return Err(format!("a response without :status first: {fields:?}"));
        }
        let (_, status) = fields.remove(0);
        let status = std::str::from_utf8(&status).ok().and_then(|s| s.parse().ok());
        Ok((status.ok_or("invalid :status")?, fields))
    }

    /// The rest of the stream's DATA, up to the peer's FIN.
    fn read_to_end(&mut self, sid: u64) -> Result<Vec<u8>, Failure> {
        while !self.stream(sid).finished {
            self.pump()?;
        }
        let s = self.stream(sid);
        let rest = s.body.split_off(s.pos);
        s.body.clear();
        s.pos = 0;
        Ok(rest)
    }

    /// Until every queued DATA and FIN is in quiche's hands.
    fn drain(&mut self) -> Result<(), Failure> {
        while self.streams.values().any(Stream::unsent) {
            self.pump()?;
        }
        Ok(())
    }

    /// Closes the QUIC connection (CONNECTION_CLOSE with an HTTP/3 error code).
    fn close(&mut self, code: u64, reason: &[u8]) {
        let _ = self.conn.close(true, code, reason);
    }

    /// Until the QUIC connection is closed (the draining period included).
    fn wait_closed(&mut self) -> Result<(), Failure> {
        while !self.conn.is_closed() {
            self.round()?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// A WebSocket on a request stream.
// ---------------------------------------------------------------------------------------------

/// What one side reads from its WebSocket, owned.
#[derive(Debug, PartialEq, Eq)]
enum Incoming {
    Message(MessageKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<CloseCode>, String),
    /// The peer's FIN.
    End,
}

struct WebSocket {
    sid: u64,
    ws: Connection,
    /// Where permessage-deflate inflates to.
    scratch: Vec<u8>,
    /// The message being received, piece by piece.
    message: Vec<u8>,
    ended: bool,
}

impl WebSocket {
    fn new(sid: u64, negotiated: &Negotiated) -> Self {
        let ws = Connection::new(negotiated.role, Config::new()).with_negotiated(negotiated);
        Self { sid, ws, scratch: vec![0; 64 * 1024], message: Vec::new(), ended: false }
    }

    /// Queues what `write` produces as DATA on the stream, then FIN once the connection says
    /// the transport should close (RFC 8441 §5: FIN is the TCP close).
    fn write(
        &mut self,
        ep: &mut Endpoint,
        write: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), wsproto::Error>,
    ) -> Result<(), Failure> {
        let stream = ep.stream(self.sid);
        write(&mut self.ws, &mut stream.outbox).map_err(|e| format!("{}: {e:?}", ep.name))?;
        let stream = ep.stream(self.sid);
        if matches!(self.ws.transport_action(), TransportAction::Close | TransportAction::AwaitPeerClose) {
            stream.fin = true;
        }
        Ok(())
    }

    fn send(&mut self, ep: &mut Endpoint, kind: MessageKind, data: &[u8]) -> Result<(), Failure> {
        self.write(ep, |ws, out| ws.send(kind, data, out))
    }

    fn ping(&mut self, ep: &mut Endpoint, payload: &[u8]) -> Result<(), Failure> {
        self.write(ep, |ws, out| ws.ping(payload, out))
    }

    fn close(&mut self, ep: &mut Endpoint, frame: CloseFrame) -> Result<(), Failure> {
        self.write(ep, |ws, out| ws.close(frame, out))
    }

    /// The next message, control frame or end of the stream (the pongs and the close reply
    /// the connection queues are sent on the way).
    fn next(&mut self, ep: &mut Endpoint) -> Result<Incoming, Failure> {
        let name = ep.name;
        if self.ended {
            return Err(format!("{name}: read past the end of the stream"));
        }
        loop {
            let stream = ep.stream(self.sid);
            if stream.pos < stream.body.len() {
                let received = self
                    .ws
                    .receive_into(&mut stream.body[stream.pos..], &mut self.scratch)
                    .map_err(|e| format!("{name}: {e:?}"))?;
                stream.pos += received.consumed;
                let incoming = match received.event {
                    None => None,
                    Some(Event::Data { kind, data, last, .. }) => {
                        self.message.extend_from_slice(data);
                        last.then(|| Incoming::Message(kind, std::mem::take(&mut self.message)))
                    }
                    Some(Event::Ping(p)) => Some(Incoming::Ping(p.as_bytes().to_vec())),
                    Some(Event::Pong(p)) => Some(Incoming::Pong(p.as_bytes().to_vec())),
                    Some(Event::Close(frame)) => Some(Incoming::Close(frame.code(), frame.reason().to_owned())),
                    Some(other) => return Err(format!("{name}: unexpected event {other:?}")),
                };
                if stream.pos == stream.body.len() {
                    stream.body.clear();
                    stream.pos = 0;
                }
                self.write(ep, |ws, out| ws.poll_transmit(out).map(drop))?;
                if let Some(incoming) = incoming {
                    return Ok(incoming);
                }
            } else if stream.finished {
                self.ended = true;
                self.ws.receive_eof().map_err(|e| format!("{name}: end of stream: {e:?}"))?;
                self.write(ep, |ws, out| ws.poll_transmit(out).map(drop))?;
                return Ok(Incoming::End);
            } else {
                ep.pump()?;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server.
// ---------------------------------------------------------------------------------------------

/// What the server saw.
struct ServerLog {
    /// Why the first request was refused.
    refused: HandshakeError,
    /// The WebSocket request.
    request: UpgradeRequest,
    negotiated: Negotiated,
    /// Everything the WebSocket received, in order.
    seen: Vec<Incoming>,
    /// How the client closed the QUIC connection.
    peer_error: Option<quiche::ConnectionError>,
}

fn run_server(socket: UdpSocket, cert: &str, key: &str, deadline: Instant) -> Result<ServerLog, Failure> {
    let mut config = quic_config(true, cert, key)?;
    socket.set_read_timeout(Some(deadline.saturating_duration_since(Instant::now()))).map_err(fail)?;
    let mut buf = vec![0u8; 65535];
    let (n, from) = socket.recv_from(&mut buf).map_err(|e| format!("server: no first datagram: {e}"))?;
    let scid = quiche::ConnectionId::from_ref(&[0x5e; 16]);
    let local = socket.local_addr().map_err(fail)?;
    let conn = quiche::accept(&scid, None, local, from, &mut config).map_err(fail)?;
    let mut ep = Endpoint::new("server", socket, conn, deadline)?;
    ep.recv_datagram(&mut buf[..n], from)?;
    let result = serve(&mut ep);
    if result.is_err() {
        ep.close(H3_INTERNAL_ERROR, b"server failed");
        let _ = ep.round();
    }
    result
}

fn serve(ep: &mut Endpoint) -> Result<ServerLog, Failure> {
    // 1. The request with a version other than 13: refused.
    let (sid, fields) = ep.next_request()?;
    let refused = match extended_connect::parse_request(pairs(&fields)) {
        Ok(request) => return Err(format!("server: accepted a bad request: {request:?}")),
        Err(e) => e,
    };
    ep.send_response(sid, &extended_connect::error_response(&refused), true)?;

    // 2. The WebSocket.
    let (sid, fields) = ep.next_request()?;
    let request = extended_connect::parse_request(pairs(&fields)).map_err(fail)?;
    let accept = Accept::new().with_protocol(SUBPROTOCOL).with_deflate(DeflateConfig::new());
    let (response, negotiated) = extended_connect::accept(&request, &accept).map_err(fail)?;
    ep.send_response(sid, &response, false)?;
    let mut ws = WebSocket::new(sid, &negotiated);
    let mut seen = Vec::new();
    loop {
        let incoming = ws.next(ep)?;
        if let Incoming::Message(kind, data) = &incoming {
            ws.send(ep, *kind, data)?;
            ws.ping(ep, b"from-server")?;
        }
        let end = incoming == Incoming::End;
        seen.push(incoming);
        if end {
            break;
        }
    }
    if ws.ws.state() != State::Closed {
        return Err(format!("server: WebSocket in state {:?} at the end", ws.ws.state()));
    }
    ep.drain()?;
    // The client closes the QUIC connection.
    ep.wait_closed()?;
    Ok(ServerLog { refused, request, negotiated, seen, peer_error: ep.conn.peer_error().cloned() })
}

// ---------------------------------------------------------------------------------------------
// The client.
// ---------------------------------------------------------------------------------------------

/// What the client saw.
struct ClientLog {
    /// The response to the request with a bad version, and its body.
    rejection: HttpResponse,
    rejection_body: Vec<u8>,
    /// The accepting response's fields, and what was negotiated.
    accepted: Fields,
    negotiated: Negotiated,
    /// Bytes of DATA each echo took on the stream.
    echo_wire_sizes: Vec<usize>,
    /// Rounds in which the WebSocket stream waited for capacity to send.
    capacity_waits: usize,
}

fn run_client(server: SocketAddr, cert: &str, deadline: Instant) -> Result<ClientLog, Failure> {
    let mut config = quic_config(false, cert, "")?;
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(fail)?;
    let local = socket.local_addr().map_err(fail)?;
    let scid = quiche::ConnectionId::from_ref(&[0xc1; 16]);
    let conn = quiche::connect(Some("localhost"), &scid, local, server, &mut config).map_err(fail)?;
    let mut ep = Endpoint::new("client", socket, conn, deadline)?;
    let result = converse(&mut ep);
    if result.is_err() {
        ep.close(H3_INTERNAL_ERROR, b"client failed");
        let _ = ep.round();
    }
    result
}

fn converse(ep: &mut Endpoint) -> Result<ClientLog, Failure> {
    // Extended CONNECT only once the server allowed it in its SETTINGS.
    while !ep.h3.as_ref().is_some_and(|h3| h3.extended_connect_enabled_by_peer()) {
        ep.pump()?;
    }
    let request = ClientRequest::new(URI).map_err(fail)?.with_protocol(SUBPROTOCOL).with_deflate(DeflateConfig::new());
    let fields = extended_connect::request(&request).map_err(fail)?;

    // 1. The same request with version 8: refused, with a body.
    if fields.get("sec-websocket-version") != Some(&b"13"[..]) {
        return Err(format!("client: no sec-websocket-version: 13 in {fields:?}"));
    }
    let bad: Vec<(&str, &[u8])> = fields
        .iter()
        .map(|(name, value)| if name == "sec-websocket-version" { (name, &b"8"[..]) } else { (name, value) })
        .collect();
    let sid = ep.send_request(&bad)?;
    let (status, response) = ep.wait_response(sid)?;
    let rejection = match extended_connect::check_response(&request, status, pairs(&response)).map_err(fail)? {
        ClientStatus::Rejected(response) => response,
        other => return Err(format!("client: a bad request was not rejected: {other:?}")),
    };
    let rejection_body = ep.read_to_end(sid)?;
    ep.stream(sid).fin = true; // our side of the refused stream

    // 2. The WebSocket.
    let list: Vec<(&str, &[u8])> = fields.iter().collect();
    let sid = ep.send_request(&list)?;
    let (status, accepted) = ep.wait_response(sid)?;
    let negotiated = match extended_connect::check_response(&request, status, pairs(&accepted)).map_err(fail)? {
        ClientStatus::Upgraded { negotiated, leftover: 0, .. } => negotiated,
        other => return Err(format!("client: not upgraded: {other:?}")),
    };
    let mut ws = WebSocket::new(sid, &negotiated);

    // Incompressible (xorshift64), so that the message stays larger than the stream window.
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let random: Vec<u8> = (0..200 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect();
    let compressible = "WebSocket over HTTP/3 ".repeat(100 * 1024 / 22).into_bytes();
    let messages = [
        (MessageKind::Text, b"hello over HTTP/3".to_vec()),
        (MessageKind::Binary, random),
        (MessageKind::Text, compressible),
    ];
    let mut echo_wire_sizes = Vec::new();
    for (kind, data) in &messages {
        let before = ep.stream(sid).received;
        ws.send(ep, *kind, data)?;
        loop {
            match ws.next(ep)? {
                Incoming::Message(k, d) if k == *kind && d == *data => break,
                Incoming::Ping(p) if p == b"from-server" => {}
                Incoming::Message(k, d) => {
                    return Err(format!(
                        "client: echo of {} bytes ({kind:?}) came back as {} bytes ({k:?})",
                        data.len(),
                        d.len()
                    ));
                }
                other => return Err(format!("client: waiting for an echo: {other:?}")),
            }
        }
        echo_wire_sizes.push(ep.stream(sid).received - before);
    }

    ws.ping(ep, b"from-client")?;
    loop {
        match ws.next(ep)? {
            Incoming::Pong(p) if p == b"from-client" => break,
            Incoming::Ping(p) if p == b"from-server" => {}
            other => return Err(format!("client: waiting for the pong: {other:?}")),
        }
    }

    ws.close(ep, CloseFrame::new(CloseCode::NORMAL, "bye"))?;
    loop {
        match ws.next(ep)? {
            Incoming::Close(Some(CloseCode::NORMAL), _) => break,
            Incoming::Ping(p) if p == b"from-server" => {}
            other => return Err(format!("client: waiting for the close reply: {other:?}")),
        }
    }
    if ws.ws.transport_action() != TransportAction::AwaitPeerClose {
        return Err(format!("client: transport action {:?} after the close handshake", ws.ws.transport_action()));
    }
    match ws.next(ep)? {
        Incoming::End => {}
        other => return Err(format!("client: waiting for the server's FIN: {other:?}")),
    }
    if ws.ws.state() != State::Closed {
        return Err(format!("client: WebSocket in state {:?} at the end", ws.ws.state()));
    }
    ep.drain()?;
    let capacity_waits = ep.stream(sid).capacity_waits;
    ep.close(H3_NO_ERROR, b"");
    ep.wait_closed()?;
    Ok(ClientLog { rejection, rejection_body, accepted, negotiated, echo_wire_sizes, capacity_waits })
}

// ---------------------------------------------------------------------------------------------
// The test.
// ---------------------------------------------------------------------------------------------

#[test]
fn websocket_over_http3_with_quiche() {
    let start = Instant::now();
    let deadline = start + WHOLE;
    let pki = Pki::new().expect("certificate");
    let server_socket = UdpSocket::bind("127.0.0.1:0").expect("server socket");
    let server_addr = server_socket.local_addr().expect("server address");
    let (cert, key) = (pki.cert.clone(), pki.key.clone());
    let server = std::thread::spawn(move || run_server(server_socket, &cert, &key, deadline));
    let client = run_client(server_addr, &pki.cert, deadline);
    let server = server.join().unwrap_or_else(|_| Err("the server thread panicked".into()));
    let (client, server) = match (client, server) {
        (Ok(client), Ok(server)) => (client, server),
        (client, server) => panic!("client: {:?}\nserver: {:?}", client.err(), server.err()),
    };

    // The rejection: 400 with the supported version and a body, as error_response made it.
    assert_eq!(server.refused, HandshakeError::UnsupportedVersion);
    let expected = extended_connect::error_response(&HandshakeError::UnsupportedVersion);
    assert_eq!(client.rejection.status, 400);
    assert_eq!(client.rejection.headers.get("sec-websocket-version"), Some(&b"13"[..]));
    assert_eq!(client.rejection_body, expected.body);

    // The request as the server read it off quiche's HTTP/3 stream.
    let read: Vec<(&str, &[u8])> = server.request.headers().iter().collect();
    assert_eq!(
        read[..5],
        [
            (":method", &b"CONNECT"[..]),
            (":protocol", extended_connect::PROTOCOL.as_bytes()),
            (":scheme", b"https"),
            (":path", b"/chat?room=1"),
            (":authority", b"localhost"),
        ]
    );
    assert_eq!(server.request.path(), "/chat?room=1");

    // Both sides agree: subprotocol and permessage-deflate.
    assert!(client.accepted.iter().any(|(n, v)| n == "sec-websocket-protocol" && v == SUBPROTOCOL.as_bytes()));
    assert_eq!(client.negotiated.protocol.as_deref(), Some(SUBPROTOCOL));
    assert_eq!(server.negotiated.protocol.as_deref(), Some(SUBPROTOCOL));
    assert!(client.negotiated.deflate.is_some() && server.negotiated.deflate.is_some());
    assert_eq!(client.negotiated.extensions, server.negotiated.extensions);
    // The compressible 100 KiB text came back compressed.
    let compressed = client.echo_wire_sizes[2];
    assert!(compressed < 100 * 1024 / 10, "the compressible echo took {compressed} bytes on the stream");
    // The incompressible 200 KiB message stayed larger than the 64 KiB initial stream window
    // both ways (so each sender waited for the receiver's MAX_STREAM_DATA updates).
    let random = client.echo_wire_sizes[1];
    assert!(random > 3 * STREAM_WINDOW as usize, "the 200 KiB echo took only {random} bytes on the stream");
    assert!(client.capacity_waits > 0, "the client never waited for capacity to send");

    // The server's WebSocket: the three messages, the pongs to its pings, the client's ping,
    // the Close, then the FIN.
    let messages = server.seen.iter().filter(|i| matches!(i, Incoming::Message(..))).count();
    let pongs = server.seen.iter().filter(|i| **i == Incoming::Pong(b"from-server".to_vec())).count();
    assert_eq!((messages, pongs), (3, 3), "{:?}", server.seen.iter().map(short).collect::<Vec<_>>());
    assert!(server.seen.contains(&Incoming::Ping(b"from-client".to_vec())));
    let tail = &server.seen[server.seen.len() - 2..];
    assert_eq!(tail, [Incoming::Close(Some(CloseCode::NORMAL), "bye".to_owned()), Incoming::End]);

    // The QUIC connection ended cleanly.
    let peer_error = server.peer_error.expect("the client's CONNECTION_CLOSE");
    assert!(peer_error.is_app && peer_error.error_code == H3_NO_ERROR, "{peer_error:?}");
    eprintln!(
        "WebSocket over HTTP/3 (quiche): done in {:?}; echoes took {:?} bytes of DATA; the client waited for capacity {} times",
        start.elapsed(),
        client.echo_wire_sizes,
        client.capacity_waits
    );
}

/// An event without its payload, for messages.
fn short(incoming: &Incoming) -> String {
    match incoming {
        Incoming::Message(kind, data) => format!("Message({kind:?}, {} bytes)", data.len()),
        other => format!("{other:?}"),
    }
}
