//! The receive path of transformed messages (an [`Extension`](crate::Extension) in force, such
//! as permessage-deflate): decoding into the caller's scratch buffer, bounded, with the message
//! size limit counted on decoded bytes.

use super::Connection;
use super::extension_slot::Running;
use super::recv::{RecvState, Source, Step};
use crate::mask::apply_mask;
use crate::{Decoded, Error, Extension, Limit, ProtocolViolation};

const STUCK: ProtocolViolation = ProtocolViolation::Extension("extension makes no progress");
const CALLER_ERROR: ProtocolViolation = ProtocolViolation::Extension("extension reported a caller error");

/// Masked input unmasked per decode step beyond the free scratch space (compressed block
/// headers, for example, take input without giving output).
const UNMASK_SLACK: usize = 512;

impl Connection {
    /// Starts decoding a transformed message of `kind` whose first frame sets `rsv` (the
    /// extension's bits).
    pub(super) fn start_transformed(&mut self, kind: crate::MessageKind, rsv: u8) -> Result<(), Error> {
        let Some(slot) = self.extension.as_mut() else { unreachable!("transformed messages need an extension") };
        slot.start_decoding(kind, rsv).map_err(fatal)
    }

    /// Decodes what is available of the current transformed frame, then (after the message's
    /// last frame) what the extension still holds, into `scratch`. Returns the input position
    /// reached and the piece to hand out, or `None` when there is nothing to hand out yet.
    pub(super) fn step_transformed(
        &mut self,
        input: &mut [u8],
        pos: usize,
        scratch: &mut [u8],
    ) -> Result<(usize, Option<Step>), Error> {
        let Some(slot) = self.extension.as_mut() else { unreachable!("transformed messages need an extension") };
        // permessage-deflate without dynamic dispatch (its calls inline), any other extension
        // through its trait object: the same code.
        let done = match &mut slot.running {
            #[cfg(feature = "deflate")]
            Running::Deflate(deflate, _) => decode(deflate, &mut self.recv, input, pos, scratch),
            Running::Other(other) => decode(&mut **other, &mut self.recv, input, pos, scratch),
        };
        let Decoding { pos, produced, last, fault } = done;
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
            return Err(fatal(fault));
        }
        if produced == 0 && !last {
            return Ok((pos, None));
        }
        self.check_piece(&scratch[..produced], last)?;
        if last {
            self.recv.draining = false;
            self.recv.held = false;
        }
        Ok((pos, Some(self.piece(Source::Scratch, 0, produced, pos, last))))
    }
}

/// What one decoding step did: the input position reached, the bytes written at the start of
/// the scratch buffer, whether the message's output is complete, and the fault found after
/// them.
struct Decoding {
    pos: usize,
    produced: usize,
    last: bool,
    fault: Option<Error>,
}

/// Runs `ext` on what is available of the current frame (after the output it held back, if
/// the last call filled the scratch buffer), then, after the message's last frame, on the end
/// of the message.
#[inline]
fn decode<E: Extension + ?Sized>(
    ext: &mut E,
    recv: &mut RecvState,
    input: &mut [u8],
    mut pos: usize,
    scratch: &mut [u8],
) -> Decoding {
    let mut produced = 0;
    // A fault found while decoding is reported only after the output that came before it has
    // been checked (UTF-8, size limit): faults then surface in stream order, so every read
    // split gives the same close code.
    let mut fault: Option<Error> = None;
    if recv.held && !recv.draining {
        // The last call filled the scratch buffer: the extension may hold output that needs no
        // more input. Hand that out first (it comes before anything read later).
        let r = bounded(ext.decode(&[], scratch), 0, scratch.len());
        produced = r.produced;
        fault = r.error;
    }
    if fault.is_none() && !recv.draining && produced < scratch.len() {
        if let Some(frame) = recv.frame.as_mut() {
            let avail = (input.len() - pos).min(usize::try_from(frame.remaining).unwrap_or(usize::MAX));
            let chunk = &mut input[pos..pos + avail];
            let mut used = 0;
            while used < avail && produced < scratch.len() {
                // Unmask only about as much as the space left in `scratch` can take: unmasking
                // all the input, then masking back what the extension left, would cost the
                // whole input on every call (quadratic in the frame size).
                let end = match frame.mask {
                    Some(_) => avail.min(used + (scratch.len() - produced).saturating_add(UNMASK_SLACK)),
                    None => avail,
                };
                let piece = &mut chunk[used..end];
                let at = frame.offset as usize + used;
                if let Some(key) = frame.mask {
                    apply_mask(piece, key, at);
                }
                let r = bounded(ext.decode(piece, &mut scratch[produced..]), piece.len(), scratch.len() - produced);
                if let Some(key) = frame.mask {
                    // Bytes the extension did not take stay in the input, masked again, for the
                    // next call to unmask.
                    apply_mask(&mut piece[r.consumed..], key, at + r.consumed);
                }
                used += r.consumed;
                produced += r.produced;
                if r.error.is_some() {
                    fault = r.error;
                    break;
                }
                if r.consumed == 0 && r.produced == 0 {
                    fault = Some(STUCK.into());
                    break;
                }
            }
            pos += used;
            frame.remaining -= used as u64;
            frame.offset += used as u64;
            if fault.is_none() && frame.remaining == 0 {
                let fin = frame.fin;
                recv.frame = None;
                recv.draining = fin;
            }
        }
    }
    // A full scratch buffer may leave output inside the extension (the drain after the last
    // frame handles its own).
    recv.held = !recv.draining && produced == scratch.len();
    let mut last = false;
    if fault.is_none() && recv.draining {
        while produced < scratch.len() {
            let r = bounded(ext.finish_decoding(&mut scratch[produced..]), 0, scratch.len() - produced);
            produced += r.produced;
            if r.error.is_some() {
                fault = r.error;
                break;
            }
            if r.complete {
                last = true;
                break;
            }
            if r.produced == 0 {
                fault = Some(STUCK.into());
                break;
            }
        }
    }
    Decoding { pos, produced, last, fault }
}

/// What an extension reported, held to what it was given: no more input taken than there was,
/// no more output than there was room for.
fn bounded(r: Decoded, input: usize, room: usize) -> Decoded {
    Decoded { consumed: r.consumed.min(input), produced: r.produced.min(room), ..r }
}

/// An extension's error as the connection fails with it: a caller's fault cannot leave the
/// connection as it was once input was consumed.
fn fatal(e: Error) -> Error {
    if e.is_fatal() { e } else { CALLER_ERROR.into() }
}
