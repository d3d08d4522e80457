//! The unsplit [`WebSocket`]: one owner of the stream, the connection and the buffers, and
//! [`Sender`] to answer a message while it is borrowed.

use super::*;

/// A WebSocket over an async stream `S` of runtime `R` (name it as
/// [`adapters::tokio::WebSocket<S>`](crate::adapters::tokio::WebSocket) or
/// [`adapters::futures_io::WebSocket<S>`](crate::adapters::futures_io::WebSocket)).
///
/// ```no_run
/// use wsproto::adapters::tokio::WebSocket;
/// use wsproto::{Config, Connection, Message, Role};
/// # async fn demo(stream: tokio::net::TcpStream) -> Result<(), wsproto::adapters::WsError> {
/// let mut ws = WebSocket::from_connection(stream, Connection::new(Role::Server, Config::new()), &[]);
/// while let Ok(message) = ws.recv().await {
///     if let Message::Text(t) = message {
///         let reply = t.to_owned();
///         ws.send_text(&reply).await?;
///     }
/// }
/// # Ok(()) }
/// ```
///
/// To answer a message without copying it first, use
/// [`recv_with_sender`](Self::recv_with_sender).
#[derive(Debug)]
pub struct WebSocket<S, R: Runtime> {
    pub(super) core: Core<S, R>,
    pub(super) incoming: Incoming,
}

/// Everything of an unsplit [`WebSocket`] but its receive buffers: the part a [`Sender`]
/// borrows.
#[derive(Debug)]
pub(super) struct Core<S, R: Runtime> {
    pub(super) stream: Stream<S>,
    pub(super) conn: Connection,
    /// Frames produced and not yet written; `out[..pos]` has been written.
    pub(super) out: Vec<u8>,
    pub(super) pos: usize,
    /// The connection's time zero: timers are driven by the runtime's clock from here.
    pub(super) epoch: R::Instant,
    /// A write failed or stalled: the stream takes no more frames.
    pub(super) broken: Option<WriteFailure>,
    /// The timer for every deadline of this connection.
    pub(super) alarm: Alarm<R>,
}

/// Sends on a [`WebSocket`] while a message it received is still borrowed (see
/// [`WebSocket::recv_with_sender`]).
#[derive(Debug)]
pub struct Sender<'a, S, R: Runtime> {
    pub(super) core: &'a mut Core<S, R>,
}

impl<S: AsyncStream<R>, R: Runtime> WebSocket<S, R> {
    /// Wraps a stream whose opening handshake is done; `leftover` holds bytes read after the
    /// handshake, processed first.
    pub fn from_connection(stream: S, conn: Connection, leftover: &[u8]) -> Self {
        Self::with_read_buffer(stream, conn, leftover, DEFAULT_READ_BUFFER)
    }

    /// As [`from_connection`](Self::from_connection), with a read buffer of `capacity` bytes.
    pub fn with_read_buffer(stream: S, conn: Connection, leftover: &[u8], capacity: usize) -> Self {
        let inbox = Inbox::new(capacity, leftover);
        let epoch = R::now();
        let core = Core { stream, conn, out: Vec::new(), pos: 0, epoch, broken: None, alarm: Alarm::default() };
        Self { core, incoming: Incoming { inbox, ready: None } }
    }

    /// Receives the next whole message or control frame. Cancel-safe.
    ///
    /// # Errors
    /// As for [`WsReader::recv`].
    pub async fn recv(&mut self) -> Result<Message<'_>, WsError> {
        self.incoming.recv(&mut self.core).await
    }

    /// Receives the next whole message or control frame, with a [`Sender`] to answer it while
    /// it is borrowed: no copy of the message, no split. Cancel-safe, as [`recv`](Self::recv).
    ///
    /// ```no_run
    /// use wsproto::Message;
    /// # async fn demo(stream: tokio::net::TcpStream) -> Result<(), wsproto::adapters::WsError> {
    /// let mut ws = wsproto::adapters::tokio::accept(stream, wsproto::Config::new()).await?;
    /// loop {
    ///     let (message, mut sender) = ws.recv_with_sender().await?;
    ///     match message {
    ///         Message::Text(text) => sender.send_text(text).await?,
    ///         Message::Binary(data) => sender.send_binary(data).await?,
    ///         // Pings are answered and the Close reply is sent by the connection itself.
    ///         _ => {}
    ///     }
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// As for [`WsReader::recv`].
    pub async fn recv_with_sender(&mut self) -> Result<(Message<'_>, Sender<'_, S, R>), WsError> {
        let message = self.incoming.recv(&mut self.core).await?;
        Ok((message, Sender { core: &mut self.core }))
    }

    /// Sends a text message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.core.send_text(text).await
    }

    /// Sends a binary message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.core.send(MessageKind::Binary, data).await
    }

    /// Sends a message of either kind.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        self.core.send(kind, data).await
    }

    /// Sends one piece of a streamed message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_fragment(&mut self, kind: MessageKind, data: &[u8], fin: bool) -> Result<(), WsError> {
        self.core.send_fragment(kind, data, fin).await
    }

    /// Encodes a message (text must be UTF-8) into the output without writing it: the next
    /// [`flush`](Self::flush), send or [`recv`](Self::recv) writes everything fed since, in one
    /// write. What a task-per-connection broadcast does with every message waiting for it (as
    /// `SinkExt::feed` does for tungstenite's streams); a prepared message is sent without this
    /// copy by [`send_prepared_batch`](Self::send_prepared_batch). Waits only when
    /// [`FEED_LIMIT`] bytes wait already: it writes them first.
    ///
    /// ```no_run
    /// use wsproto::MessageKind;
    /// use wsproto::adapters::tokio::WebSocket;
    /// # async fn demo(ws: &mut WebSocket<tokio::net::TcpStream>, waiting: &[String])
    /// # -> Result<(), wsproto::adapters::WsError> {
    /// for text in waiting {
    ///     ws.feed_text(text).await?;
    /// }
    /// ws.flush().await?; // one system call for all of them
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn feed(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        self.core.feed(|c, o| c.send(kind, data, o)).await
    }

    /// [`feed`](Self::feed) for text the type system already vouches for: a `str` is not
    /// checked for UTF-8 again (as [`send_text`](Self::send_text)).
    ///
    /// # Errors
    /// As for [`send`](Self::send).
    pub async fn feed_text(&mut self, text: &str) -> Result<(), WsError> {
        self.core.feed(|c, o| c.send_text(text, o)).await
    }

    /// Writes out everything fed or produced and not yet written. Cancel-safe.
    ///
    /// # Errors
    /// [`WsError::Io`] from the stream; a write that failed before fails again.
    pub async fn flush(&mut self) -> Result<(), WsError> {
        self.core.writable()?;
        self.core.flush().await
    }

    /// Sends a message encoded once for many connections (a server's broadcast; see
    /// [`PreparedMessage`]). Its frames are written straight from `msg`, behind the output
    /// waiting ahead of them, with one vectored write: no copy. Cancel-safe as the other
    /// sends: if the future is dropped midway, the rest of the frames is copied to the output
    /// buffer and written by the next operation.
    ///
    /// ```no_run
    /// use wsproto::adapters::tokio::WebSocket;
    /// use wsproto::{Config, MessageKind, PreparedMessage};
    /// # async fn demo(sockets: &mut [WebSocket<tokio::net::TcpStream>]) -> Result<(), wsproto::Error> {
    /// let message = PreparedMessage::new(MessageKind::Text, b"tick", &Config::new())?;
    /// for ws in sockets.iter_mut() {
    ///     // A receiver that is gone or closing does not stop the broadcast.
    ///     let _ = ws.send_prepared(&message).await;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As for [`WsWriter::send`]; [`Connection::send_prepared`] lists what the connection
    /// refuses (a client connection refuses every prepared message).
    pub async fn send_prepared(&mut self, msg: &PreparedMessage) -> Result<(), WsError> {
        self.core.send_prepared(msg).await
    }

    /// Sends several prepared messages, in order, with one vectored write (up to 32 messages
    /// per write): what a broadcast receiver does with every message that waited for it, so
    /// that a connection that fell behind catches up with one system call instead of one per
    /// message. A single message goes out at once, as with [`send_prepared`](Self::send_prepared):
    /// nothing waits to be batched.
    ///
    /// ```no_run
    /// use wsproto::adapters::tokio::WebSocket;
    /// use wsproto::PreparedMessage;
    /// use tokio::sync::broadcast::{Receiver, error::TryRecvError};
    /// # async fn demo(ws: &mut WebSocket<tokio::net::TcpStream>, mut room: Receiver<PreparedMessage>)
    /// # -> Result<(), Box<dyn std::error::Error>> {
    /// let mut pending = Vec::new();
    /// loop {
    ///     pending.push(room.recv().await?);
    ///     // Everything else already waiting goes in the same write.
    ///     while let Ok(message) = room.try_recv() {
    ///         pending.push(message);
    ///     }
    ///     ws.send_prepared_batch(&pending).await?;
    ///     pending.clear();
    /// }
    /// # }
    /// ```
    ///
    /// # Errors
    /// As for [`send_prepared`](Self::send_prepared). When the connection refuses a message
    /// (it is closing), the messages before it have been sent.
    pub async fn send_prepared_batch<M: Borrow<PreparedMessage>>(&mut self, msgs: &[M]) -> Result<(), WsError> {
        self.core.send_prepared_batch(msgs).await
    }

    /// Sends a Ping.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        self.core.command(|c, o| c.ping(payload, o)).await
    }

    /// Runs the close handshake to its end (see the blocking adapter's `close`) and returns the
    /// peer's Close frame, if it sent one. [`Config::close_timeout`] bounds the wait (10 s with
    /// the adapters' defaults), also while our Close frame cannot be written.
    ///
    /// # Errors
    /// [`WsError::Protocol`] with [`crate::Error::Timeout`] when the close deadline passes, or
    /// if the peer fails the connection meanwhile; [`WsError::Io`] from the transport.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<Option<CloseFrame>, WsError> {
        self.core.command(close_command(CloseFrame::new(code, reason))).await?;
        let mut peer = None;
        loop {
            match self.recv().await {
                Ok(Message::Close(frame)) => peer = Some(frame),
                Ok(_) => {}
                Err(WsError::Closed) => return Ok(peer),
                Err(e) => return Err(e),
            }
            if self.core.conn.transport_action() == TransportAction::Close {
                return Ok(peer);
            }
        }
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        self.core.conn.state()
    }

    /// Splits into a reader and a writer that can live in different tasks. Output not yet
    /// written, and a message found but not yet returned, carry over.
    pub fn split(self) -> (WsReader<S, R>, WsWriter<S, R>) {
        let Core { stream, conn, out, pos, epoch, broken, alarm } = self.core;
        let core = Arc::new(SplitCore {
            shared: Mutex::new(Shared { conn, out: Vec::new(), epoch }),
            writer: futures_util::lock::Mutex::new(Writer { inflight: out, pos, broken, alarm }),
            stream: Mutex::new(stream),
        });
        let link = ReadLink { core: Arc::clone(&core), epoch, alarm: Alarm::default() };
        (WsReader { link, incoming: self.incoming }, WsWriter { core })
    }
}

impl<S: AsyncStream<R>, R: Runtime> Sender<'_, S, R> {
    /// Sends a text message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.core.send_text(text).await
    }

    /// Sends a binary message.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), WsError> {
        self.core.send(MessageKind::Binary, data).await
    }

    /// Sends a message of either kind (text must be UTF-8).
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn send(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        self.core.send(kind, data).await
    }

    /// Encodes a message into the output without writing it (see [`WebSocket::feed`]).
    ///
    /// # Errors
    /// As for [`WebSocket::feed`].
    pub async fn feed(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        self.core.feed(|c, o| c.send(kind, data, o)).await
    }

    /// Feeds a text message without checking the `str` again (see [`WebSocket::feed_text`]).
    ///
    /// # Errors
    /// As for [`WebSocket::feed`].
    pub async fn feed_text(&mut self, text: &str) -> Result<(), WsError> {
        self.core.feed(|c, o| c.send_text(text, o)).await
    }

    /// Writes out everything fed or produced (see [`WebSocket::flush`]).
    ///
    /// # Errors
    /// As for [`WebSocket::flush`].
    pub async fn flush(&mut self) -> Result<(), WsError> {
        self.core.writable()?;
        self.core.flush().await
    }

    /// Sends a prepared message without copying it (see [`WebSocket::send_prepared`]).
    ///
    /// # Errors
    /// As for [`WebSocket::send_prepared`].
    pub async fn send_prepared(&mut self, msg: &PreparedMessage) -> Result<(), WsError> {
        self.core.send_prepared(msg).await
    }

    /// Sends several prepared messages with one vectored write (see
    /// [`WebSocket::send_prepared_batch`]).
    ///
    /// # Errors
    /// As for [`WebSocket::send_prepared_batch`].
    pub async fn send_prepared_batch<M: Borrow<PreparedMessage>>(&mut self, msgs: &[M]) -> Result<(), WsError> {
        self.core.send_prepared_batch(msgs).await
    }

    /// Sends a Ping.
    ///
    /// # Errors
    /// As for [`WsWriter::send`].
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), WsError> {
        self.core.command(|c, o| c.ping(payload, o)).await
    }
}

impl<S: AsyncStream<R>, R: Runtime> Core<S, R> {
    /// Encodes with `f` and writes out what the connection produced.
    pub(super) async fn command(
        &mut self,
        f: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error>,
    ) -> Result<(), WsError> {
        // No wait before the command: our Close frame is queued at once, so that the close
        // deadline, not the write deadline, bounds a close behind a stalled write.
        self.writable()?;
        drop_written(&mut self.out, &mut self.pos);
        self.take_output_buffer();
        f(&mut self.conn, &mut self.out)?;
        stamp::<R>(&mut self.conn, self.epoch);
        self.flush().await
    }

    /// Takes an output buffer from the thread's pool when the connection holds none (it gave
    /// its own back while it waited for input).
    pub(super) fn take_output_buffer(&mut self) {
        if self.out.capacity() == 0 {
            self.out = pool::output_buffer();
        }
    }

    /// Fails when a write failed before.
    pub(super) fn writable(&self) -> Result<(), WsError> {
        self.broken.map_or(Ok(()), |f| Err(f.error()))
    }

    pub(super) async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        // Text given as `str` is not checked again by the copying path; a frame head would be.
        self.send_data(MessageKind::Text, text.as_bytes(), true, false, |c, o| c.send_text(text, o)).await
    }

    pub(super) async fn send(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), WsError> {
        // A message that permessage-deflate would compress takes the copying path (compressing
        // writes a new payload anyway).
        // While a fragmented message is open, the connection's `send` refuses whole messages,
        // as it must (a frame head would continue the open message instead).
        let vectored = self.conn.outgoing_fragmented().is_none() && !self.conn.needs_scratch();
        self.send_data(kind, data, true, vectored, |c, o| c.send(kind, data, o)).await
    }

    pub(super) async fn send_fragment(&mut self, kind: MessageKind, data: &[u8], fin: bool) -> Result<(), WsError> {
        // Fragments are never compressed.
        self.send_data(kind, data, fin, true, |c, o| c.send_fragment(kind, data, fin, o)).await
    }

    /// Sends a data frame, or a message: a server writes a large payload that goes out as one
    /// unchanged frame (`vectored`: not compressed) straight from `data`; anything else is
    /// encoded by `copy` into the output buffer.
    pub(super) async fn send_data(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
        vectored: bool,
        copy: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error>,
    ) -> Result<(), WsError> {
        self.begin_send().await?;
        let vectored = vectored
            && data.len() >= VECTORED_MIN
            && data.len() <= self.conn.config().max_outgoing_frame.max(1)
            && !self.conn.role().masks_outgoing()
            // Without vectored writes the header would go out alone, in its own system call.
            && self.stream.is_write_vectored();
        if !vectored {
            copy(&mut self.conn, &mut self.out)?;
            stamp::<R>(&mut self.conn, self.epoch);
            return self.flush().await;
        }
        let head = self.conn.encode_frame_head_unmasked(kind, data, fin)?;
        self.write_behind_replies(&[head.as_bytes(), data]).await
    }

    /// Sends a prepared message: its frames go out from where they lie, after the output
    /// waiting ahead of them, in one vectored write.
    pub(super) async fn send_prepared(&mut self, msg: &PreparedMessage) -> Result<(), WsError> {
        self.begin_send().await?;
        let frames = self.conn.prepare_send(msg)?;
        self.write_behind_replies(&[frames]).await
    }

    /// Sends prepared messages in order, as many as one vectored write takes at a time (a
    /// broadcast receiver that fell behind catches up with one system call, not one per
    /// message). If the connection refuses one (it is closing), the messages before it are
    /// still written, and the refusal is returned.
    pub(super) async fn send_prepared_batch<M: Borrow<PreparedMessage>>(&mut self, msgs: &[M]) -> Result<(), WsError> {
        if let [one] = msgs {
            // No list of frames to fill for one (what a paced broadcast sends).
            return self.send_prepared(one.borrow()).await;
        }
        for chunk in msgs.chunks(BATCH) {
            self.begin_send().await?;
            let mut frames: [&[u8]; BATCH] = [&[]; BATCH];
            let mut count = 0;
            let mut refused = None;
            for msg in chunk {
                match self.conn.prepare_send(msg.borrow()) {
                    Ok(f) => {
                        frames[count] = f;
                        count += 1;
                    }
                    Err(e) => {
                        refused = Some(e);
                        break;
                    }
                }
            }
            self.write_behind_replies(&frames[..count]).await?;
            if let Some(e) = refused {
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// What every data send does first: fails when a write failed before, and writes what
    /// waits in the output first when it reaches [`FEED_LIMIT`] (fed messages, or what a send
    /// dropped midway left behind), so that output never piles up; less goes out in the same
    /// write as the send's own frames.
    pub(super) async fn begin_send(&mut self) -> Result<(), WsError> {
        self.writable()?;
        if self.out.len() - self.pos >= FEED_LIMIT {
            self.flush().await?;
        }
        drop_written(&mut self.out, &mut self.pos);
        self.take_output_buffer();
        Ok(())
    }

    /// Encodes a message into the output, written by the next flush, send or receive.
    pub(super) async fn feed(
        &mut self,
        encode: impl FnOnce(&mut Connection, &mut Vec<u8>) -> Result<(), crate::Error>,
    ) -> Result<(), WsError> {
        self.begin_send().await?;
        encode(&mut self.conn, &mut self.out)?;
        stamp::<R>(&mut self.conn, self.epoch);
        Ok(())
    }

    /// After send commands that leave their frames to the caller: stamps them, and writes the
    /// automatic replies waiting in the connection, then the frames, in one vectored write.
    pub(super) async fn write_behind_replies(&mut self, frames: &[&[u8]]) -> Result<(), WsError> {
        stamp::<R>(&mut self.conn, self.epoch);
        self.conn.poll_transmit(&mut self.out)?;
        self.write_with(frames).await
    }

    /// Writes out everything produced, under the connection's deadlines. Cancel-safe.
    pub(super) async fn flush(&mut self) -> Result<(), WsError> {
        self.write_with(&[]).await
    }

    /// Writes out everything produced, then `frames` (written from where they lie), with
    /// vectored writes, under the connection's deadlines. Cancel-safe: what a dropped write
    /// leaves of the frames is copied to the output buffer (see [`Unwritten`]).
    pub(super) async fn write_with(&mut self, frames: &[&[u8]]) -> Result<(), WsError> {
        self.writable()?;
        let Self { stream, conn, out, pos, epoch, broken, alarm } = self;
        let stall = conn.config().write_timeout;
        let mut guard = Guard { deadlines: ConnDeadlines::<R> { conn, epoch: *epoch }, stall, alarm };
        let result = write_out(Pin::new(stream), Unwritten::new(out, pos, frames), &mut guard).await;
        record(broken, result)
    }
}
