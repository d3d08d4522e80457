//! permessage-deflate (RFC 7692), feature `deflate`: negotiation and the per-message codec.
//!
//! * Configure it with a [`DeflateConfig`]: a client passes it to
//!   [`ClientRequest::with_deflate`](crate::handshake::ClientRequest::with_deflate), a server to
//!   [`Accept::with_deflate`](crate::handshake::Accept::with_deflate). The handshake records what
//!   was agreed in [`Negotiated::deflate`](crate::handshake::Negotiated::deflate), and
//!   [`Connection::with_negotiated`](crate::Connection::with_negotiated) turns compression on.
//! * Sending: whole messages of at least [`DeflateConfig::min_size`] bytes are compressed
//!   (RSV1 on the first frame, the trailing `00 00 ff ff` removed); streamed messages
//!   ([`Connection::send_fragment`](crate::Connection::send_fragment)) and vectored frames go
//!   uncompressed, which RFC 7692 allows for any message.
//! * Receiving: compressed messages are inflated into a caller-provided scratch buffer by
//!   [`Connection::receive_into`](crate::Connection::receive_into), piece by piece, so memory is
//!   bounded by the scratch buffer and [`Config::max_message_size`](crate::Config::max_message_size)
//!   counts *inflated* bytes while inflation runs (a decompression bomb fails with 1009 after at
//!   most one scratch buffer of output). Text is validated on the inflated bytes, incrementally.
//!
//! It runs as an [`Extension`](crate::Extension), the hook every payload-transforming
//! extension goes through (`src/deflate/extension.rs`).
//!
//! The backend is flate2 with the pure-Rust zlib-rs engine. zlib cannot compress with a
//! 256-byte window, so a server declines an offer that limits *its* window to 8 bits and a
//! client fails the handshake when the server limits the client's window to 8 bits; inflating
//! uses the window the peer agreed to (at least 9 bits, which reads 8-bit data too).
//!
//! Memory: zlib contexts are created when the first message needs them. A direction that
//! resets its context after each message (`*_no_context_takeover`) takes its context from a
//! per-thread pool for the length of a message, so between messages such a connection holds
//! no zlib state at all; a direction with context takeover keeps its context (a compressor
//! with 15-bit windows is about 256 KiB; a decompressor is about 7 KiB plus its window,
//! 2^bits bytes).

pub(crate) mod codec;
mod extension;
mod negotiate;
mod pool;

pub(crate) use extension::DeflateExtension;
pub use negotiate::{DeflateConfig, DeflateParams, PERMESSAGE_DEFLATE, PerMessageDeflate};
