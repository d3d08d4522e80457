//! Whole messages out of a buffer the caller reads the transport into: the receive loop,
//! reassembly in place, and the scratch space of decoded (inflated) messages, behind
//! `free_space` / `filled` / `next_message`.

mod fixed;
#[cfg(feature = "alloc")]
mod owned;
mod state;

pub use fixed::SliceReceiveBuffer;
#[cfg(feature = "alloc")]
pub use owned::ReceiveBuffer;

use crate::MessageKind;

/// A whole message or control frame that [`next`](ReceiveBuffer::next) found, described
/// without borrowing the buffer: take it with [`message`](ReceiveBuffer::message).
///
/// It stays valid until the buffer is fed or asked for the next message (`next`,
/// `next_message`, `free_space`, `filled`, `extend_from_slice`, `release`). `message` refuses
/// one whose bytes may have moved since (the buffer was asked for the next message, made room
/// by moving what it keeps, or was released) with
/// [`Misuse::StaleFound`](crate::Misuse::StaleFound).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    what: What,
    /// The buffer's generation when `next` returned it: a `Found` from an earlier one is
    /// stale ([`Misuse::StaleFound`](crate::Misuse::StaleFound)).
    generation: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum What {
    /// A whole message: `len` bytes at `at` in the input or the scratch space.
    Data {
        kind: MessageKind,
        place: Place,
        at: usize,
        len: usize,
    },
    Ping,
    Pong,
    Close,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Input,
    Scratch,
}

impl Found {
    /// The kind of a whole message; `None` for a control frame (Ping, Pong, Close).
    #[must_use]
    pub fn kind(&self) -> Option<MessageKind> {
        match self.what {
            What::Data { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// The size of a whole message in bytes (0 for a control frame).
    #[must_use]
    pub fn len(&self) -> usize {
        match self.what {
            What::Data { len, .. } => len,
            _ => 0,
        }
    }

    /// Whether this is an empty message or a control frame.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
