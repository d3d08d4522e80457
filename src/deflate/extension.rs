//! permessage-deflate as an [`Extension`]: the compressor and the decompressor of one
//! connection behind the hook every payload-transforming extension goes through.

use alloc::vec::Vec;

use super::codec::{Deflater, Inflater, TRAILER};
use super::negotiate::PerMessageDeflate;
use crate::frame::RSV1;
use crate::{Decoded, Error, Extension, MessageKind, ProtocolViolation, Role};

const STUCK: ProtocolViolation = ProtocolViolation::Extension("compressed data makes no progress");
const CORRUPT: ProtocolViolation = ProtocolViolation::Extension("invalid compressed data");

/// The compressor for what we send and the decompressor for what we receive. Both create
/// their zlib context at first use; a direction without context takeover borrows one from
/// the thread's pool for each message (see [`pool`](super::pool)).
#[derive(Debug)]
pub(crate) struct DeflateExtension {
    deflater: Deflater,
    inflater: Inflater,
    /// Bytes of the trailer fed to the inflater after the message's payload.
    trailer: u8,
    /// The message being inflated has had payload bytes: an empty payload leaves the
    /// inflater untouched.
    fed: bool,
}

impl DeflateExtension {
    /// The codecs for `role`'s side of `agreed`.
    pub(crate) fn new(role: Role, agreed: &PerMessageDeflate) -> Self {
        let p = agreed.params;
        let (our_bits, our_reset, peer_bits, peer_reset) = match role {
            Role::Server => (
                p.server_max_window_bits,
                p.server_no_context_takeover,
                p.client_max_window_bits,
                p.client_no_context_takeover,
            ),
            Role::Client => (
                p.client_max_window_bits,
                p.client_no_context_takeover,
                p.server_max_window_bits,
                p.server_no_context_takeover,
            ),
        };
        Self {
            deflater: Deflater::new(agreed.level, our_bits, our_reset, agreed.min_size),
            inflater: Inflater::new(peer_bits, peer_reset),
            trailer: 0,
            fed: false,
        }
    }
}

impl Extension for DeflateExtension {
    fn reserved_bits(&self) -> u8 {
        RSV1
    }

    #[inline]
    fn start_decoding(&mut self, _kind: MessageKind, _rsv: u8) -> Result<(), Error> {
        self.trailer = 0;
        self.fed = false;
        Ok(())
    }

    #[inline]
    fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Decoded {
        self.fed |= !input.is_empty();
        let r = self.inflater.inflate(input, out);
        if r.corrupt {
            return Decoded::failed(r.consumed, r.produced, CORRUPT.into());
        }
        if !input.is_empty() && r.consumed == 0 && r.produced == 0 {
            return Decoded::failed(0, 0, STUCK.into());
        }
        Decoded::new(r.consumed, r.produced)
    }

    #[inline]
    fn finish_decoding(&mut self, out: &mut [u8]) -> Decoded {
        if !self.fed {
            // An empty payload is not valid DEFLATE data (zlib-based senders write at least
            // one byte), but it can only mean an empty message: deliver that, and leave the
            // inflater untouched so that the next message still decodes.
            return Decoded::complete(0);
        }
        // The trailer a sync flush ends with was removed by the sender (RFC 7692 §7.2.2).
        let mut produced = 0;
        while produced < out.len() {
            let space = out.len() - produced;
            let fed = usize::from(self.trailer);
            let r = self.inflater.inflate(&TRAILER[fed..], &mut out[produced..]);
            self.trailer += r.consumed as u8;
            produced += r.produced;
            if r.corrupt {
                return Decoded::failed(0, produced, CORRUPT.into());
            }
            if usize::from(self.trailer) == TRAILER.len() && (r.produced < space || r.stream_end) {
                self.inflater.end_message();
                return Decoded::complete(produced);
            }
            if r.consumed == 0 && r.produced == 0 {
                return Decoded::failed(0, produced, STUCK.into());
            }
        }
        Decoded::new(0, produced)
    }

    fn encoded_len_bound(&self, _kind: MessageKind, len: usize) -> Option<usize> {
        self.deflater.wants(len).then(|| Deflater::bound(len))
    }

    fn encode(&mut self, _kind: MessageKind, data: &[u8], out: &mut Vec<u8>) -> Result<u8, Error> {
        self.deflater.compress(data, out);
        Ok(RSV1)
    }

    fn discard_encoded(&mut self) {
        // The peer never sees this message: later messages must refer to nothing before it.
        self.deflater.forget_context();
    }
}
