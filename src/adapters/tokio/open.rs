//! Opening a WebSocket: connecting over TCP, the client and server handshakes, under the
//! handshake deadline.

use super::*;

/// Connects to a `ws://` URL over TCP and runs the opening handshake, offering no subprotocol
/// and no extension (for permessage-deflate, use [`connect_with`] with a request made with
/// [`ClientRequest::with_deflate`](crate::handshake::ClientRequest::with_deflate)).
///
/// ```no_run
/// # async fn demo() -> Result<(), wsproto::adapters::WsError> {
/// let (mut ws, _negotiated) = wsproto::adapters::tokio::connect("ws://127.0.0.1:9002/").await?;
/// ws.send_text("hello").await?;
/// println!("{:?}", ws.recv().await?);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`WsError::Handshake`] for a bad URL (a `wss://` URL needs a TLS stream: use [`client`]
/// over it) or a bad response, [`WsError::Rejected`] for a non-101 response, [`WsError::Io`].
pub async fn connect(url: &str) -> Result<(WebSocket<::tokio::net::TcpStream>, Negotiated), WsError> {
    connect_with(ClientRequest::new(url)?, Config::new()).await
}

/// Connects over TCP to the host of `request` (subprotocols, extensions such as
/// permessage-deflate, headers) and runs the opening handshake with `config`.
///
/// ```no_run
/// # #[cfg(feature = "deflate")]
/// # async fn demo() -> Result<(), wsproto::adapters::WsError> {
/// use wsproto::deflate::DeflateConfig;
/// use wsproto::handshake::ClientRequest;
/// let request = ClientRequest::new("ws://127.0.0.1:9002/")?.with_deflate(DeflateConfig::new());
/// let (mut ws, negotiated) = wsproto::adapters::tokio::connect_with(request, wsproto::Config::new()).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// As for [`connect`].
pub async fn connect_with(
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<::tokio::net::TcpStream>, Negotiated), WsError> {
    if request.is_secure() {
        let e = std::io::Error::new(std::io::ErrorKind::Unsupported, "wss:// needs a TLS stream: use `client`");
        return Err(e.into());
    }
    let config = config.with_adapter_deadlines();
    // The deadline covers the TCP connection too.
    // Boxed (here and in `client`, `accept_with`): the handshake's state is several KiB, and a
    // task that awaited it inline would keep that size for the connection's whole life.
    Box::pin(within_handshake_timeout(config, async {
        let stream = ::tokio::net::TcpStream::connect((request.host(), request.port())).await?;
        stream.set_nodelay(true)?;
        client_handshake(stream, request, config).await
    }))
    .await
}

/// Runs the client handshake over `stream` with `request`.
///
/// # Errors
/// As for [`connect`].
pub async fn client<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let config = config.with_adapter_deadlines();
    Box::pin(within_handshake_timeout(config, client_handshake(stream, request, config))).await
}

pub(super) async fn client_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    mut request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let mut out = Vec::new();
    let mut hs = request.write(&mut out)?;
    stream.write_all(&out).await?;
    stream.flush().await?;
    // On the heap: a 4 KiB array would make every future that awaits this one 4 KiB larger.
    let mut buf = std::vec![0; READ_CHUNK];
    loop {
        let n = read_some(&mut stream, &mut buf).await?;
        if let Some(done) = client_step(&mut hs, &buf[..n], config) {
            return finish(stream, done, &buf[..n]).await;
        }
    }
}

/// Runs the server handshake over `stream`, accepting any WebSocket upgrade without a
/// subprotocol and without extensions, whatever features the crate has (features are
/// additive: turning `deflate` on changes nothing until the caller asks). For
/// permessage-deflate, subprotocols or an `Origin` check, use [`accept_with`].
///
/// # Errors
/// [`WsError::Handshake`] for an invalid request (the error response was sent),
/// [`WsError::NotWebSocket`] for a plain HTTP request (426 was sent), [`WsError::Io`].
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(stream: S, config: Config) -> Result<WebSocket<S>, WsError> {
    accept_with(stream, config, |_| Ok(Accept::new())).await.map(|(ws, _)| ws)
}

/// Runs the server handshake over `stream`; `decide` accepts the request or answers it with
/// another response.
///
/// Accepting permessage-deflate when the client offers it, with the configuration that keeps
/// the least memory per connection:
///
/// ```no_run
/// # #[cfg(feature = "deflate")]
/// # async fn demo(stream: tokio::net::TcpStream) -> Result<(), wsproto::adapters::WsError> {
/// use wsproto::deflate::DeflateConfig;
/// use wsproto::handshake::Accept;
/// let (ws, negotiated) = wsproto::adapters::tokio::accept_with(stream, wsproto::Config::new(), |_| {
///     Ok(Accept::new().with_deflate(DeflateConfig::low_memory()))
/// })
/// .await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// As for [`accept`], and [`WsError::Rejected`] when `decide` rejected the request.
pub async fn accept_with<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    config: Config,
    decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let config = config.with_adapter_deadlines();
    Box::pin(within_handshake_timeout(config, server_handshake(stream, config, decide))).await
}

pub(super) async fn server_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    config: Config,
    mut decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    let mut hs = ServerHandshake::new();
    // On the heap: a 4 KiB array would make every future that awaits this one 4 KiB larger.
    let mut buf = std::vec![0; READ_CHUNK];
    loop {
        let n = read_some(&mut stream, &mut buf).await?;
        if let Some(done) = server_step(&mut hs, &buf[..n], config, &mut decide) {
            return finish(stream, done, &buf[..n]).await;
        }
    }
}

/// Runs an opening handshake within [`Config::handshake_timeout`]; dropping it at the
/// deadline drops the stream.
pub(super) async fn within_handshake_timeout<T>(
    config: Config,
    handshake: impl Future<Output = Result<T, WsError>>,
) -> Result<T, WsError> {
    match config.handshake_timeout {
        None => handshake.await,
        Some(limit) => match ::tokio::time::timeout(limit, handshake).await {
            Ok(result) => result,
            Err(_) => Err(crate::Error::Timeout(Timer::Handshake).into()),
        },
    }
}

pub(super) async fn finish<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    done: Done,
    input: &[u8],
) -> Result<(WebSocket<S>, Negotiated), WsError> {
    stream.write_all(&done.write).await?;
    stream.flush().await?;
    let (conn, negotiated, leftover) = done.outcome?;
    Ok((WebSocket::from_connection(stream, conn, &input[leftover..]), negotiated))
}

pub(super) async fn read_some<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut [u8]) -> Result<usize, WsError> {
    match stream.read(buf).await? {
        0 => Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into()),
        n => Ok(n),
    }
}
