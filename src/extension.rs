//! Extensions that transform message payloads (RFC 6455 §9), feature `alloc`: the hook a
//! negotiated extension implements so that a [`Connection`](crate::Connection) runs it.
//!
//! The opening handshake only negotiates extensions
//! ([`ExtensionOffer`](crate::handshake::ExtensionOffer),
//! [`Accept::with_extension`](crate::handshake::Accept::with_extension),
//! [`Negotiated::extensions`](crate::handshake::Negotiated::extensions)). To run one, build
//! it from what was agreed and add it with
//! [`Connection::with_extension`](crate::Connection::with_extension): received messages whose
//! first frame carries its reserved bits are decoded by it into the caller's scratch buffer,
//! and whole messages sent with [`send`](crate::Connection::send),
//! [`send_text`](crate::Connection::send_text) or [`send_binary`](crate::Connection::send_binary)
//! are encoded by it. permessage-deflate (feature `deflate`) is one implementation of this
//! trait, turned on by [`Connection::with_deflate`](crate::Connection::with_deflate).
//!
//! The model is per message, as in RFC 7692: an extension owns one or more reserved bits; a
//! message whose first frame sets some of them was transformed by the sender, a message whose
//! first frame sets none of them was not and is handed out as it arrived. Continuation frames
//! never carry the extension's bits. The hooks match those of Python `wsproto`'s `Extension`
//! (`frame_inbound_header`, `frame_inbound_payload_data`, `frame_inbound_complete`,
//! `frame_outbound`), per message instead of per frame.

use alloc::vec::Vec;
use core::fmt;

use crate::{Error, MessageKind};

/// A negotiated extension that transforms message payloads: decodes what the peer sent
/// (bounded, streaming, into the caller's scratch buffer) and encodes whole messages we send.
///
/// Add one to a connection with [`Connection::with_extension`](crate::Connection::with_extension)
/// (one per connection). The trait is object safe; the connection holds a
/// `Box<dyn Extension>`.
///
/// # Receiving
///
/// For each received data message whose first frame carries some of
/// [`reserved_bits`](Self::reserved_bits), the connection calls
/// [`start_decoding`](Self::start_decoding), then [`decode`](Self::decode) with the message's
/// payload bytes as they arrive (unmasked, across frames, in pieces of any size), then
/// [`finish_decoding`](Self::finish_decoding) until it reports the message
/// [`complete`](Decoded::complete). Output goes into `out`, a part of the caller's scratch
/// buffer; output that does not fit waits inside the extension and comes out at the next call
/// (a `decode` with empty input, if need be), before anything decoded from later input. So
/// memory stays bounded by the scratch buffer whatever the expansion, and
/// [`Config::max_message_size`](crate::Config::max_message_size) counts decoded bytes as they
/// come out. Text messages are validated as UTF-8 on the decoded bytes.
///
/// Each call must make progress: a `decode` given input consumes some or produces some
/// output, a `finish_decoding` produces some output or reports the message complete. An
/// extension that cannot reports an error; if it reports nothing, the connection fails with
/// [`ProtocolViolation::Extension`](crate::ProtocolViolation::Extension) (close code 1002).
///
/// # Errors
///
/// A [`Decoded`] may carry an error: the connection first checks the output produced before
/// it (UTF-8 of text, the size limit: a fault there comes first in the stream and wins, so the
/// same input gives the same error however it was split), then fails with it, as with any
/// fatal error: its
/// [`close_code`](Error::close_code) is sent, and every later call repeats it. Use
/// [`ProtocolViolation::Extension`](crate::ProtocolViolation::Extension) for data that breaks
/// the extension's format (1002),
/// [`ProtocolViolation::InvalidExtensionData`](crate::ProtocolViolation::InvalidExtensionData)
/// for a decoded payload inconsistent with its message (1007), and
/// [`Error::LimitExceeded`] for a limit of the extension's own (1009). An error whose fault is
/// the caller's (`Misuse`, `BufferTooSmall`, `Backpressure`) is replaced by
/// `ProtocolViolation::Extension("extension reported a caller error")`: receiving cannot leave
/// the connection as it was.
///
/// # Sending
///
/// For each whole message sent with [`send`](crate::Connection::send),
/// [`send_text`](crate::Connection::send_text) or
/// [`send_binary`](crate::Connection::send_binary), the connection asks
/// [`encoded_len_bound`](Self::encoded_len_bound) whether the extension transforms it; if so,
/// it checks that the output buffer could take the bound, then calls
/// [`encode`](Self::encode) and writes the result, split into frames as usual, with the
/// returned reserved bits on the first frame. Streamed messages
/// ([`send_fragment`](crate::Connection::send_fragment)), vectored frames
/// ([`encode_frame_head`](crate::Connection::encode_frame_head)) and prepared messages go out
/// untransformed, with no reserved bit set: a peer that runs the extension reads them as they
/// are, so an extension must accept untransformed messages (every RSV-marked extension does).
///
/// # Example
///
/// `examples/toy_extension.rs` runs a toy run-length extension between a client and a server
/// in memory; `src/deflate/extension.rs` is permessage-deflate.
///
/// ```
/// use wsproto::frame::RSV3;
/// use wsproto::{Connection, Config, Decoded, Error, Extension, MessageKind, Role};
///
/// /// A toy: payloads with every byte inverted (not a real extension).
/// #[derive(Debug)]
/// struct Invert;
///
/// impl Extension for Invert {
///     fn reserved_bits(&self) -> u8 {
///         RSV3
///     }
///     fn start_decoding(&mut self, _: MessageKind, _: u8) -> Result<(), Error> {
///         Ok(())
///     }
///     fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Decoded {
///         let n = input.len().min(out.len());
///         for (o, i) in out.iter_mut().zip(&input[..n]) {
///             *o = !i;
///         }
///         Decoded::new(n, n)
///     }
///     fn finish_decoding(&mut self, _: &mut [u8]) -> Decoded {
///         Decoded::complete(0)
///     }
///     fn encoded_len_bound(&self, _: MessageKind, len: usize) -> Option<usize> {
///         Some(len)
///     }
///     fn encode(&mut self, _: MessageKind, data: &[u8], out: &mut Vec<u8>) -> Result<u8, Error> {
///         out.extend(data.iter().map(|b| !b));
///         Ok(RSV3)
///     }
/// }
///
/// let mut server = Connection::new(Role::Server, Config::new()).with_extension(Box::new(Invert))?;
/// assert!(server.needs_scratch());
/// let mut out = Vec::new();
/// server.send_binary(&[1, 2], &mut out)?;
/// assert_eq!(out, [0x82 | 0x10, 2, !1, !2]); // FIN, RSV3, binary
/// # Ok::<(), Error>(())
/// ```
pub trait Extension: fmt::Debug + Send + Sync {
    /// The reserved bits this extension owns: one or more of [`RSV1`](crate::frame::RSV1),
    /// [`RSV2`](crate::frame::RSV2) and [`RSV3`](crate::frame::RSV3). Read once, by
    /// [`Connection::with_extension`](crate::Connection::with_extension).
    fn reserved_bits(&self) -> u8;

    /// A received data message begins whose first frame sets `rsv` (the extension's bits that
    /// are set, never 0): its payload is this extension's to decode. Returning an error fails
    /// the connection (see the trait's documentation), for example for a combination of bits
    /// the extension does not define.
    ///
    /// # Errors
    /// The error that fails the connection.
    fn start_decoding(&mut self, kind: MessageKind, rsv: u8) -> Result<(), Error>;

    /// Decodes the next bytes of the message's payload as received (unmasked; empty when only
    /// output held back from the last call is wanted) into `out`, which is never empty.
    /// Returns the input bytes consumed (those not consumed are given again) and the output
    /// bytes produced, and an error if the input is invalid.
    fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Decoded;

    /// The whole payload has been passed to [`decode`](Self::decode): writes what remains of
    /// the output into `out` (never empty), and reports [`complete`](Decoded::complete) once
    /// the message's output has all been produced. Called again, with fresh room, until then;
    /// the next message may then begin.
    fn finish_decoding(&mut self, out: &mut [u8]) -> Decoded;

    /// Whether a whole message of `kind` and `len` bytes that we are about to send is
    /// transformed by this extension: `Some(bound)`, the most bytes [`encode`](Self::encode)
    /// may write for it, or `None` to send it as it is (for example when it is too short to be
    /// worth compressing).
    ///
    /// The connection checks that the output buffer could take frames of `bound` payload bytes
    /// before it encodes, because encoding may move the extension's state forward for good.
    fn encoded_len_bound(&self, kind: MessageKind, len: usize) -> Option<usize>;

    /// Encodes a whole message (text is valid UTF-8) by appending the payload to send to
    /// `out`, which is empty, at most the bound [`encoded_len_bound`](Self::encoded_len_bound)
    /// gave. Returns the reserved bits to set on the message's first frame: some of this
    /// extension's bits, so that the peer decodes it. The connection reuses `out` from one
    /// message to the next (and shrinks it after an unusually large one).
    ///
    /// # Errors
    /// An error is returned to the caller of `send` and nothing is written. If it is fatal
    /// (its fault is not the caller's), the connection fails with it. A failure of the
    /// extension's own (lost state, an engine error) is [`Error::Internal`]: close code 1011.
    fn encode(&mut self, kind: MessageKind, data: &[u8], out: &mut Vec<u8>) -> Result<u8, Error>;

    /// The message last encoded was not sent after all (the output buffer refused it): the
    /// peer never sees it, so state that refers to it should be dropped. Does nothing unless
    /// overridden.
    fn discard_encoded(&mut self) {}
}

/// What one call of [`Extension::decode`] or [`Extension::finish_decoding`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decoded {
    /// Input bytes consumed (always 0 from `finish_decoding`).
    pub consumed: usize,
    /// Output bytes written at the start of `out`.
    pub produced: usize,
    /// From `finish_decoding`: the message's output is complete (ignored from `decode`).
    pub complete: bool,
    /// The input is invalid: the connection checks the `produced` bytes that came before the
    /// fault (an error in them wins), then fails with this error.
    pub error: Option<Error>,
}

impl Decoded {
    /// `consumed` input bytes taken and `produced` output bytes written; more may follow.
    #[must_use]
    pub const fn new(consumed: usize, produced: usize) -> Self {
        Self { consumed, produced, complete: false, error: None }
    }

    /// From [`Extension::finish_decoding`]: the last `produced` bytes of the message were
    /// written.
    #[must_use]
    pub const fn complete(produced: usize) -> Self {
        Self { consumed: 0, produced, complete: true, error: None }
    }

    /// The input is invalid after `consumed` bytes taken and `produced` output bytes written
    /// (checked before the connection fails with `error`).
    #[must_use]
    pub const fn failed(consumed: usize, produced: usize, error: Error) -> Self {
        Self { consumed, produced, complete: false, error: Some(error) }
    }
}
