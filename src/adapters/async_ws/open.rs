//! Opening a WebSocket over a stream: the client and server handshakes, under the handshake
//! deadline. Each runtime's module names them for its streams (and tokio's adds `connect`,
//! which opens the TCP connection).

use super::*;

/// Runs the client handshake over `stream` with `request`, within the handshake deadline.
pub(crate) async fn client<S: AsyncStream<R> + Unpin, R: Runtime>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S, R>, Negotiated), WsError> {
    let config = config.with_adapter_deadlines();
    Box::pin(within_handshake_timeout::<R, _>(config, client_handshake(stream, request, config))).await
}

/// The client handshake over a connected stream.
pub(crate) async fn client_handshake<S: AsyncStream<R> + Unpin, R: Runtime>(
    mut stream: S,
    mut request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S, R>, Negotiated), WsError> {
    let mut out = Vec::new();
    let mut hs = request.write(&mut out)?;
    write_all(&mut stream, &out).await?;
    // On the heap: a 4 KiB array would make every future that awaits this one 4 KiB larger.
    let mut buf = std::vec![0; READ_CHUNK];
    loop {
        let n = read_some(&mut stream, &mut buf).await?;
        if let Some(done) = client_step(&mut hs, &buf[..n], config) {
            return finish(stream, done, &buf[..n]).await;
        }
    }
}

/// Runs the server handshake over `stream`, within the handshake deadline; `decide` accepts
/// the request or answers it with another response.
pub(crate) async fn accept_with<S: AsyncStream<R> + Unpin, R: Runtime>(
    stream: S,
    config: Config,
    decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<(WebSocket<S, R>, Negotiated), WsError> {
    let config = config.with_adapter_deadlines();
    Box::pin(within_handshake_timeout::<R, _>(config, server_handshake(stream, config, decide))).await
}

async fn server_handshake<S: AsyncStream<R> + Unpin, R: Runtime>(
    stream: S,
    config: Config,
    decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<(WebSocket<S, R>, Negotiated), WsError> {
    match read_request(stream, config, decide, true).await? {
        Accepted::WebSocket(ws, negotiated) => Ok((ws, negotiated)),
        Accepted::Http { request, .. } => Err(WsError::NotWebSocket(Box::new(request))),
    }
}

/// Runs the server handshake over `stream`, within the handshake deadline, and hands a plain
/// HTTP request back with its stream instead of answering it.
pub(crate) async fn accept_or_http<S: AsyncStream<R> + Unpin, R: Runtime>(
    stream: S,
    config: Config,
    decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<Accepted<S, R>, WsError> {
    let config = config.with_adapter_deadlines();
    Box::pin(within_handshake_timeout::<R, _>(config, read_request(stream, config, decide, false))).await
}

/// Reads a request head and answers it: accepts or refuses an upgrade, and answers a plain
/// request with 426 (`answer_plain`) or hands it back.
async fn read_request<S: AsyncStream<R> + Unpin, R: Runtime>(
    mut stream: S,
    config: Config,
    mut decide: impl FnMut(&UpgradeRequest) -> Decision,
    answer_plain: bool,
) -> Result<Accepted<S, R>, WsError> {
    let mut hs = ServerHandshake::new();
    // On the heap: a 4 KiB array would make every future that awaits this one 4 KiB larger.
    let mut buf = std::vec![0; READ_CHUNK];
    loop {
        let n = read_some(&mut stream, &mut buf).await?;
        let Some(done) = server_step(&mut hs, &buf[..n], config, &mut decide, answer_plain) else { continue };
        return match done.outcome {
            Err(WsError::NotWebSocket(request)) if !answer_plain => {
                let read_ahead = buf[request.leftover.min(n)..n].to_vec();
                Ok(Accepted::Http { stream, request: *request, read_ahead })
            }
            _ => finish(stream, done, &buf[..n]).await.map(|(ws, negotiated)| Accepted::WebSocket(ws, negotiated)),
        };
    }
}

/// What [`accept_or_http`](crate::adapters::tokio::accept_or_http) found on a connection: a
/// WebSocket it accepted, or a plain HTTP request for the caller to answer on the same stream
/// (a page, a health check, a 404): HTTP and WebSocket on one port without an HTTP server.
#[derive(Debug)]
#[non_exhaustive]
// Returned once per connection and matched at once: boxing the WebSocket would cost an
// allocation per connection for no gain.
#[allow(clippy::large_enum_variant)]
pub enum Accepted<S, R: Runtime> {
    /// The upgrade was accepted (the 101 response is written).
    WebSocket(WebSocket<S, R>, Negotiated),
    /// A request that asks for no upgrade; nothing has been written.
    Http {
        /// The connection, to write the response to.
        stream: S,
        /// The request head.
        request: crate::handshake::HttpRequest,
        /// Bytes read after the head: the start of a body, or of the next request.
        read_ahead: Vec<u8>,
    },
}

/// Runs an opening handshake within [`Config::handshake_timeout`]; dropping it at the
/// deadline drops the stream.
pub(crate) async fn within_handshake_timeout<R: Runtime, T>(
    config: Config,
    handshake: impl Future<Output = Result<T, WsError>>,
) -> Result<T, WsError> {
    let Some(limit) = config.handshake_timeout else { return handshake.await };
    let at = R::now() + limit;
    let mut handshake = core::pin::pin!(handshake);
    let mut alarm = Alarm::<R>::default();
    core::future::poll_fn(|cx| {
        if let Poll::Ready(result) = handshake.as_mut().poll(cx) {
            return Poll::Ready(result);
        }
        alarm.poll_at(cx, at).map(|()| Err(crate::Error::Timeout(Timer::Handshake).into()))
    })
    .await
}

async fn finish<S: AsyncStream<R> + Unpin, R: Runtime>(
    mut stream: S,
    done: Done,
    input: &[u8],
) -> Result<(WebSocket<S, R>, Negotiated), WsError> {
    write_all(&mut stream, &done.write).await?;
    let (conn, negotiated, leftover) = done.outcome?;
    Ok((WebSocket::from_connection(stream, conn, &input[leftover..]), negotiated))
}

/// Reads what the stream has into `buf`; the end of the stream is an error here.
async fn read_some<S: AsyncStream<R> + Unpin, R: Runtime>(stream: &mut S, buf: &mut [u8]) -> Result<usize, WsError> {
    match core::future::poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, buf)).await? {
        0 => Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into()),
        n => Ok(n),
    }
}

/// Writes all of `bytes`, then flushes the stream.
async fn write_all<S: AsyncStream<R> + Unpin, R: Runtime>(stream: &mut S, mut bytes: &[u8]) -> Result<(), WsError> {
    while !bytes.is_empty() {
        match core::future::poll_fn(|cx| Pin::new(&mut *stream).poll_write(cx, bytes)).await? {
            0 => return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into()),
            n => bytes = &bytes[n..],
        }
    }
    core::future::poll_fn(|cx| Pin::new(&mut *stream).poll_flush(cx)).await?;
    Ok(())
}
