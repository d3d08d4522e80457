#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]
#![warn(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

#[cfg(feature = "std")]
pub mod adapters;
#[cfg(feature = "alloc")]
mod assemble;
mod buf;
mod close;
mod config;
mod connection;
mod control;
#[cfg(feature = "deflate")]
pub mod deflate;
mod error;
mod event;
#[cfg(feature = "alloc")]
mod extension;
pub mod frame;
pub mod handshake;
mod keys;
pub mod mask;
mod message;
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
mod prepared;
mod receive_buffer;
mod role;
pub mod utf8;

#[cfg(feature = "alloc")]
pub use assemble::MessageAssembler;
#[cfg(feature = "alloc")]
pub use buf::WriteQueue;
pub use buf::{BufferTooSmall, Full, OutBuf, SliceBuf};
pub use close::{CloseCode, CloseFrame};
pub use config::Config;
pub use connection::{Connection, FrameHead, SUGGESTED_CLOSE_TIMEOUT, State, Timer, Timestamp, TransportAction};
pub use control::{ControlPayload, MAX_CONTROL_PAYLOAD};
pub use error::{Error, Fault, Limit, Misuse, ProtocolViolation};
pub use event::{Event, MessageKind, Received};
#[cfg(feature = "alloc")]
pub use extension::{Decoded, Extension};
pub use keys::KeySource;
pub use message::Message;
#[cfg(all(feature = "alloc", target_has_atomic = "ptr"))]
pub use prepared::PreparedMessage;
#[cfg(feature = "alloc")]
pub use receive_buffer::ReceiveBuffer;
pub use receive_buffer::{Found, SliceReceiveBuffer};
pub use role::Role;
