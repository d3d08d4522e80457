//! The extension in force on a connection (feature `alloc`): permessage-deflate, called
//! without dynamic dispatch so that its calls can be inlined, or any other [`Extension`],
//! called through its trait object. Both go through the trait's methods.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::{Error, Extension, MessageKind};

/// The extension in force and what the connection keeps for it.
#[derive(Debug)]
pub(super) struct ExtensionSlot {
    pub(super) running: Running,
    /// The reused buffer outgoing messages are encoded into.
    pub(super) encoded: Vec<u8>,
}

/// Which extension runs.
#[derive(Debug)]
// The slot is boxed already: boxing deflate again would cost an allocation and a pointer chase.
#[allow(clippy::large_enum_variant)]
pub(super) enum Running {
    /// permessage-deflate, with its agreement (for prepared messages, whose frames are
    /// compressed ahead of time, and [`Connection::deflate`](super::Connection::deflate)).
    #[cfg(feature = "deflate")]
    Deflate(crate::deflate::DeflateExtension, crate::deflate::PerMessageDeflate),
    /// An extension added with [`Connection::with_extension`](super::Connection::with_extension).
    Other(Box<dyn Extension>),
}

impl ExtensionSlot {
    pub(super) fn new(running: Running) -> Self {
        Self { running, encoded: Vec::new() }
    }

    /// The permessage-deflate agreement, when deflate runs.
    #[cfg(feature = "deflate")]
    pub(super) fn deflate(&self) -> Option<&crate::deflate::PerMessageDeflate> {
        match &self.running {
            Running::Deflate(_, agreed) => Some(agreed),
            Running::Other(_) => None,
        }
    }

    /// [`Extension::reserved_bits`].
    pub(super) fn reserved_bits(&self) -> u8 {
        match &self.running {
            #[cfg(feature = "deflate")]
            Running::Deflate(d, _) => d.reserved_bits(),
            Running::Other(e) => e.reserved_bits(),
        }
    }

    /// [`Extension::start_decoding`].
    pub(super) fn start_decoding(&mut self, kind: MessageKind, rsv: u8) -> Result<(), Error> {
        match &mut self.running {
            #[cfg(feature = "deflate")]
            Running::Deflate(d, _) => d.start_decoding(kind, rsv),
            Running::Other(e) => e.start_decoding(kind, rsv),
        }
    }

    /// [`Extension::encoded_len_bound`].
    pub(super) fn encoded_len_bound(&self, kind: MessageKind, len: usize) -> Option<usize> {
        match &self.running {
            #[cfg(feature = "deflate")]
            Running::Deflate(d, _) => d.encoded_len_bound(kind, len),
            Running::Other(e) => e.encoded_len_bound(kind, len),
        }
    }

    /// [`Extension::encode`] into the reused buffer, which the caller takes out of the slot
    /// first and puts back after.
    pub(super) fn encode(&mut self, kind: MessageKind, data: &[u8], out: &mut Vec<u8>) -> Result<u8, Error> {
        match &mut self.running {
            #[cfg(feature = "deflate")]
            Running::Deflate(d, _) => d.encode(kind, data, out),
            Running::Other(e) => e.encode(kind, data, out),
        }
    }

    /// [`Extension::discard_encoded`].
    pub(super) fn discard_encoded(&mut self) {
        match &mut self.running {
            #[cfg(feature = "deflate")]
            Running::Deflate(d, _) => d.discard_encoded(),
            Running::Other(e) => e.discard_encoded(),
        }
    }
}
