//! Thin I/O adapters that drive a [`Connection`](crate::Connection) over real transports.
//!
//! Each adapter only moves bytes between a stream and the connection; every protocol decision
//! is made by the sans-IO core.

#[cfg(any(feature = "tokio", feature = "futures-io"))]
pub mod async_ws;
pub mod blocking;
mod error;
#[cfg(feature = "futures-io")]
pub mod futures_io;
mod handshake;
mod inbox;
mod pool;
#[cfg(feature = "tokio")]
mod send_now;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use error::WsError;
pub use handshake::Decision;
