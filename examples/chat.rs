//! A chat room on one port: `GET /` serves a page with a small chat client, `/ws` is the
//! WebSocket every browser tab joins, anything else is 404. Every text message a user sends is
//! broadcast to everyone, encoded once as a `PreparedMessage`.
//!
//! ```text
//! cargo run --release --all-features --example chat -- 127.0.0.1:9003
//! ```
//!
//! then open <http://127.0.0.1:9003/> in two browser tabs.
//!
//! * Plain HTTP and the WebSocket upgrade are told apart by the tokio adapter's
//!   `accept_or_http`: a request that asks for no upgrade comes back with its stream
//!   (`Accepted::Http`) and gets a minimal HTTP/1.1 response written here (`HttpResponse`, then
//!   the connection is closed); no HTTP library is involved. An upgrade from a page of another site (an `Origin`
//!   that is not this host) is refused with 403, so that no other site can chat in the
//!   visitor's name.
//! * Users are numbered (`guest-1`, `guest-2`, ...). Everyone sees a notice when someone joins
//!   or leaves; the newcomer gets a welcome with its name. Messages are JSON objects:
//!   `{"type":"chat","from":..,"text":..}`, `{"type":"join"|"leave","user":..,"online":..}`,
//!   `{"type":"welcome","you":..,"online":..}`.
//! * A message longer than `MAX_MESSAGE` bytes closes its sender's connection with 1009
//!   (message too big; the connection's `max_message_size` enforces it before buffering), a
//!   binary message with 1003 (unsupported data). Blank messages are ignored.
//! * Each connection is split: its reader (this task) hands what the user says to the room, a
//!   writer task drains the room's broadcast channel and sends everything waiting with one
//!   vectored write (`send_prepared_batch`). The channel holds `ROOM_BACKLOG` messages: a
//!   client that falls further behind (it stopped reading, or its link is too slow for the
//!   room) is dropped with close code 1008 (policy violation, reason "too slow"), so one slow
//!   reader never holds the room's memory or delays anyone else. Its Close frame gets
//!   `CLOSE_GRACE` to be written; after that the connection's close deadline ends it.
//! * With the `deflate` feature, permessage-deflate is agreed when the browser offers it, with
//!   `server_no_context_takeover`, so each message is compressed once for everyone.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::{self, error::RecvError};
use wsproto::adapters::WsError;
use wsproto::adapters::tokio::{Accepted, WebSocket, WsWriter, accept_or_http};
use wsproto::handshake::{Accept, HttpRequest, HttpResponse, UpgradeRequest};
use wsproto::{CloseCode, Config, Message, MessageKind, PreparedMessage};

/// The largest chat message accepted, in bytes.
const MAX_MESSAGE: u64 = 4096;
/// How many messages a connection may fall behind the room before it is dropped.
const ROOM_BACKLOG: usize = 256;
/// How long a dropped client's Close frame may take to be written.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// The chat page: its script connects to `/ws` on the host that served it.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wsproto chat</title>
<style>
  body { font: 15px system-ui, sans-serif; max-width: 42em; margin: 2em auto; padding: 0 1em; }
  #log { height: 60vh; overflow-y: auto; border: 1px solid #ccc; border-radius: 4px; padding: .5em; }
  #log div { margin: .15em 0; overflow-wrap: anywhere; }
  .notice { color: #777; font-style: italic; }
  .from { font-weight: 600; }
  form { display: flex; gap: .5em; margin-top: .5em; }
  #text { flex: 1; font: inherit; padding: .3em; }
</style>
</head>
<body>
<h1>Chat</h1>
<p id="status">connecting&hellip;</p>
<div id="log"></div>
<form id="form">
  <input id="text" maxlength="1000" autocomplete="off" placeholder="Say something" autofocus>
  <button>Send</button>
</form>
<script>
const log = document.getElementById("log");
const status = document.getElementById("status");
const text = document.getElementById("text");
const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
function line(parts, cls) {
  const div = document.createElement("div");
  if (cls) div.className = cls;
  for (const [t, c] of parts) {
    const span = document.createElement("span");
    span.textContent = t;
    if (c) span.className = c;
    div.append(span);
  }
  log.append(div);
  log.scrollTop = log.scrollHeight;
}
ws.onopen = () => { status.textContent = "connected"; };
ws.onclose = (e) => { status.textContent = "disconnected (" + e.code + (e.reason ? ": " + e.reason : "") + ")"; };
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (m.type === "chat") line([[m.from, "from"], [": " + m.text]]);
  else if (m.type === "welcome") status.textContent = "connected as " + m.you + " (" + m.online + " online)";
  else line([[m.user + (m.type === "join" ? " joined" : " left") + " (" + m.online + " online)"]], "notice");
};
document.getElementById("form").onsubmit = (e) => {
  e.preventDefault();
  if (text.value.trim() && ws.readyState === WebSocket.OPEN) ws.send(text.value);
  text.value = "";
};
</script>
</body>
</html>
"#;

/// Everyone in the room: the broadcast channel and the counters.
struct Room {
    channel: broadcast::Sender<PreparedMessage>,
    next_user: AtomicU64,
    online: AtomicUsize,
}

impl Room {
    /// Sends `json` to everyone in the room, encoded (and compressed) once.
    fn broadcast(&self, json: &str) {
        match prepare(json) {
            // An error here only means that nobody is listening.
            Ok(message) => {
                let _ = self.channel.send(message);
            }
            Err(e) => println!("cannot prepare a message: {e}"),
        }
    }
}

/// A message as every connection sends it: compressed once with the `deflate` feature (for the
/// connections that agreed to permessage-deflate), plain frames for the others.
fn prepare(json: &str) -> Result<PreparedMessage, wsproto::Error> {
    #[cfg(feature = "deflate")]
    return PreparedMessage::compressed(MessageKind::Text, json.as_bytes(), &Config::new(), &deflate_config());
    #[cfg(not(feature = "deflate"))]
    PreparedMessage::new(MessageKind::Text, json.as_bytes(), &Config::new())
}

/// permessage-deflate with `server_no_context_takeover`: every message compressed on its own,
/// so that one compressed form fits every connection.
#[cfg(feature = "deflate")]
fn deflate_config() -> wsproto::deflate::DeflateConfig {
    wsproto::deflate::DeflateConfig::low_memory()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9003".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    println!("chat server listening on http://{}/ (WebSocket at /ws)", listener.local_addr()?);
    let room = Arc::new(Room {
        channel: broadcast::channel(ROOM_BACKLOG).0,
        next_user: AtomicU64::new(1),
        online: AtomicUsize::new(0),
    });
    loop {
        let (stream, peer) = listener.accept().await?;
        let room = Arc::clone(&room);
        tokio::spawn(async move {
            if let Err(e) = serve(stream, &room).await {
                println!("{peer}: {e}");
            }
        });
    }
}

/// Reads one request: serves the page, refuses, or runs a chat session.
async fn serve(stream: TcpStream, room: &Room) -> Result<(), WsError> {
    stream.set_nodelay(true)?;
    let config = Config::new().max_message_size(MAX_MESSAGE);
    // Upgrades are accepted or refused by `refuse`; a plain request comes back with its stream
    // (the handshake deadline of the adapters bounds the wait for the request head).
    let decide = |request: &UpgradeRequest| match refuse(request) {
        Some(refusal) => Err(refusal),
        None => Ok(accept_offer()),
    };
    match accept_or_http(stream, config, decide).await? {
        Accepted::WebSocket(ws, _) => chat(ws, room).await,
        Accepted::Http { stream, request, .. } => serve_http(stream, &request).await,
        _ => Err(WsError::Io(std::io::ErrorKind::InvalidData.into())),
    }
}

/// A plain HTTP request: the page, or 404 / 405. One request per connection.
async fn serve_http(mut stream: TcpStream, request: &HttpRequest) -> Result<(), WsError> {
    let path = request.path.split('?').next().unwrap_or("");
    let head = request.method == "HEAD";
    let response = match (path, request.method.as_str()) {
        ("/", "GET" | "HEAD") => HttpResponse::new(200)
            .with_header("Content-Type", "text/html; charset=utf-8")
            .with_header("Cache-Control", "no-cache")
            .with_body(PAGE),
        ("/", _) => HttpResponse::new(405).with_header("Allow", "GET, HEAD").with_body("method not allowed\n"),
        ("/ws", _) => {
            HttpResponse::upgrade_required().with_body("a WebSocket endpoint: connect with a WebSocket client\n")
        }
        _ => HttpResponse::new(404).with_header("Content-Type", "text/plain").with_body("not found\n"),
    };
    let response = response.with_header("Connection", "close");
    let mut out = Vec::new();
    response.write(&mut out)?;
    if head {
        // The head of the same response, with its Content-Length: no body.
        out.truncate(out.len() - response.body.len());
    }
    stream.write_all(&out).await?;
    stream.shutdown().await?;
    Ok(())
}

/// Why an upgrade request is refused, if it is: another path than `/ws` (404), or a page of
/// another site (403: its `Origin` is not this host).
fn refuse(request: &UpgradeRequest) -> Option<HttpResponse> {
    if request.path().split('?').next() != Some("/ws") {
        return Some(HttpResponse::new(404));
    }
    let same_site = match (request.origin(), request.host()) {
        // Not a browser (browsers always send Origin): nothing to protect.
        (None, _) => true,
        (Some(origin), Some(host)) => {
            origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host)
        }
        (Some(_), None) => false,
    };
    (!same_site).then(|| HttpResponse::new(403).with_body("cross-site WebSocket refused\n"))
}

/// What the server agrees to: permessage-deflate with the `deflate` feature.
fn accept_offer() -> Accept {
    #[cfg(feature = "deflate")]
    return Accept::new().with_deflate(deflate_config());
    #[cfg(not(feature = "deflate"))]
    Accept::new()
}

/// One user's session: a writer task drains the room, this task reads what the user says.
async fn chat(ws: WebSocket<TcpStream>, room: &Room) -> Result<(), WsError> {
    let user = format!("guest-{}", room.next_user.fetch_add(1, Ordering::Relaxed));
    // Subscribed before the join notice, so the newcomer sees its own.
    let inbox = room.channel.subscribe();
    let online = room.online.fetch_add(1, Ordering::Relaxed) + 1;
    let (mut reader, writer) = ws.split();
    writer.send_text(&format!("{{\"type\":\"welcome\",\"you\":\"{user}\",\"online\":{online}}}")).await?;
    room.broadcast(&format!("{{\"type\":\"join\",\"user\":\"{user}\",\"online\":{online}}}"));
    let sending = tokio::spawn(deliver(writer.clone(), inbox));

    let result = loop {
        match reader.recv().await {
            Ok(Message::Text(text)) => {
                let text = text.trim();
                if !text.is_empty() {
                    room.broadcast(&format!(
                        "{{\"type\":\"chat\",\"from\":\"{user}\",\"text\":{}}}",
                        json_string(text)
                    ));
                }
            }
            Ok(Message::Binary(_)) => {
                // The reader then sees the client's Close reply (or the close deadline).
                writer.close(CloseCode::UNSUPPORTED_DATA, "text messages only").await?;
            }
            // Pings are answered and the Close reply is sent by the connection itself.
            Ok(_) => {}
            Err(WsError::Closed) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    sending.abort();
    let online = room.online.fetch_sub(1, Ordering::Relaxed) - 1;
    room.broadcast(&format!("{{\"type\":\"leave\",\"user\":\"{user}\",\"online\":{online}}}"));
    result
}

/// The writer task: sends everything waiting in the room, all of it with one vectored write,
/// and drops a client that fell more than `ROOM_BACKLOG` messages behind with 1008.
async fn deliver(writer: WsWriter<TcpStream>, mut inbox: broadcast::Receiver<PreparedMessage>) {
    let mut pending = Vec::new();
    loop {
        match inbox.recv().await {
            Ok(message) => pending.push(message),
            Err(RecvError::Lagged(_)) => {
                // Bounded: a client that does not read cannot take the Close frame either. The
                // connection's close deadline then ends it.
                let _ = tokio::time::timeout(CLOSE_GRACE, writer.close(CloseCode::POLICY_VIOLATION, "too slow")).await;
                return;
            }
            Err(RecvError::Closed) => return,
        }
        while let Ok(message) = inbox.try_recv() {
            pending.push(message);
        }
        if writer.send_prepared_batch(&pending).await.is_err() {
            return;
        }
        pending.clear();
    }
}

/// `text` as a JSON string literal (RFC 8259 §7).
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
