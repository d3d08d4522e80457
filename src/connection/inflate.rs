//! The receive path of compressed messages (permessage-deflate): inflating into the caller's
//! scratch buffer, bounded, with the message size limit counted on inflated bytes.

use super::Connection;
use super::recv::{Source, Step};
use crate::deflate::codec::TRAILER;
use crate::mask::apply_mask;
use crate::{Error, Limit, ProtocolViolation};

const STUCK: ProtocolViolation = ProtocolViolation::Extension("compressed data makes no progress");
const CORRUPT: ProtocolViolation = ProtocolViolation::Extension("invalid compressed data");

/// Masked input unmasked per inflate step beyond the free scratch space (block headers and
/// stored-block framing take input without giving output).
const UNMASK_SLACK: usize = 512;

impl Connection {
    /// Inflates what is available of the current compressed frame, then (after the message's
    /// last frame) the trailer, into `scratch`. Returns the input position reached and the
    /// piece to hand out, or `None` when there is nothing to hand out yet.
    pub(super) fn step_compressed(
        &mut self,
        input: &mut [u8],
        mut pos: usize,
        scratch: &mut [u8],
    ) -> Result<(usize, Option<Step>), Error> {
        let Some(codec) = self.deflate.as_mut() else { unreachable!("compressed messages need deflate") };
        let mut produced = 0;
        // A fault found while inflating is reported only after the output that came before it
        // has been checked (UTF-8, size limit): faults then surface in stream order, so every
        // read split gives the same close code.
        let mut fault: Option<ProtocolViolation> = None;
        if self.recv.held && !self.recv.draining {
            // The last call filled the scratch buffer: the inflater may hold output that needs
            // no more input. Hand that out first (it comes before anything read later).
            let r = codec.inflater.inflate(&[], scratch);
            produced = r.produced;
            if r.corrupt {
                fault = Some(CORRUPT);
            }
        }
        if fault.is_none() && !self.recv.draining && produced < scratch.len() {
            if let Some(frame) = self.recv.frame.as_mut() {
                let avail = (input.len() - pos).min(usize::try_from(frame.remaining).unwrap_or(usize::MAX));
                let chunk = &mut input[pos..pos + avail];
                let mut used = 0;
                while used < avail && produced < scratch.len() {
                    // Unmask only about as much as the space left in `scratch` can take:
                    // unmasking all the input, then masking back what the inflater left, would
                    // cost the whole input on every call (quadratic in the frame size).
                    let end = match frame.mask {
                        Some(_) => avail.min(used + (scratch.len() - produced).saturating_add(UNMASK_SLACK)),
                        None => avail,
                    };
                    let piece = &mut chunk[used..end];
                    let at = frame.offset as usize + used;
                    if let Some(key) = frame.mask {
                        apply_mask(piece, key, at);
                    }
                    let r = codec.inflater.inflate(piece, &mut scratch[produced..]);
                    if let Some(key) = frame.mask {
                        // Bytes the inflater did not take stay in the input, masked again, for
                        // the next call to unmask.
                        apply_mask(&mut piece[r.consumed..], key, at + r.consumed);
                    }
                    used += r.consumed;
                    produced += r.produced;
                    if r.corrupt {
                        fault = Some(CORRUPT);
                        break;
                    }
                    if r.consumed == 0 && r.produced == 0 {
                        fault = Some(STUCK);
                        break;
                    }
                }
                pos += used;
                frame.remaining -= used as u64;
                frame.offset += used as u64;
                if fault.is_none() && frame.remaining == 0 {
                    let fin = frame.fin;
                    self.recv.frame = None;
                    self.recv.draining = fin;
                }
            }
        }
        // A full scratch buffer may leave output inside the inflater (the drain after the last
        // frame handles its own).
        self.recv.held = !self.recv.draining && produced == scratch.len();
        let mut last = false;
        if fault.is_none() && self.recv.draining {
            let Some(msg) = self.recv.message.as_mut() else { unreachable!("a message is in progress") };
            if msg.announced == 0 {
                // An empty payload is not valid DEFLATE data (zlib-based senders write at least
                // one byte), but it can only mean an empty message: deliver that, and leave the
                // inflater untouched so that the next message still decodes.
                last = true;
            }
            while !last && produced < scratch.len() {
                let space = scratch.len() - produced;
                let fed = usize::from(msg.trailer);
                let r = codec.inflater.inflate(&TRAILER[fed..], &mut scratch[produced..]);
                msg.trailer += r.consumed as u8;
                produced += r.produced;
                if r.corrupt {
                    fault = Some(CORRUPT);
                    break;
                }
                if msg.trailer as usize == TRAILER.len() && (r.produced < space || r.stream_end) {
                    last = true;
                    break;
                }
                if r.consumed == 0 && r.produced == 0 {
                    fault = Some(STUCK);
                    break;
                }
            }
        }
        let Some(msg) = self.recv.message.as_ref() else { unreachable!("a message is in progress") };
        let allowed = self.config.max_message_size.saturating_sub(msg.delivered);
        if produced as u64 > allowed {
            // The bytes up to the limit come first in the stream: a UTF-8 fault among them
            // wins, whatever the scratch size.
            self.check_piece(&scratch[..allowed as usize], false)?;
            return Err(Error::LimitExceeded(Limit::MessageSize));
        }
        if let Some(fault) = fault {
            self.check_piece(&scratch[..produced], false)?;
            return Err(fault.into());
        }
        if produced == 0 && !last {
            return Ok((pos, None));
        }
        self.check_piece(&scratch[..produced], last)?;
        if last {
            self.recv.draining = false;
            self.recv.held = false;
            codec_end_message(self);
        }
        Ok((pos, Some(self.piece(Source::Scratch, 0, produced, pos, last))))
    }
}

fn codec_end_message(conn: &mut Connection) {
    if let Some(codec) = conn.deflate.as_mut() {
        codec.inflater.end_message();
    }
}
