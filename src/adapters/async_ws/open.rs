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
    mut stream: S,
    config: Config,
    mut decide: impl FnMut(&UpgradeRequest) -> Decision,
) -> Result<(WebSocket<S, R>, Negotiated), WsError> {
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
        let slice = [IoSlice::new(bytes)];
        match core::future::poll_fn(|cx| Pin::new(&mut *stream).poll_write_vectored(cx, &slice)).await? {
            0 => return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into()),
            n => bytes = &bytes[n..],
        }
    }
    core::future::poll_fn(|cx| Pin::new(&mut *stream).poll_flush(cx)).await?;
    Ok(())
}
