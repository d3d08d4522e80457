//! The payloads of control frames (RFC 6455 §5.5): Ping, Pong and Close carry at most 125
//! bytes, held inline.

use core::fmt;

/// The largest payload a control frame may carry (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// The payload of a control frame (Ping, Pong or Close), held inline: at most 125 bytes, no
/// allocation and no borrow of the connection or the input buffer.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ControlPayload {
    len: u8,
    bytes: [u8; MAX_CONTROL_PAYLOAD],
}

impl ControlPayload {
    /// An empty payload.
    pub const EMPTY: Self = Self { len: 0, bytes: [0; MAX_CONTROL_PAYLOAD] };

    /// Copies `data` into a payload, or returns `None` if it is longer than 125 bytes.
    ///
    /// ```
    /// use wsproto::ControlPayload;
    /// assert_eq!(ControlPayload::new(b"hi").unwrap().as_bytes(), b"hi");
    /// assert!(ControlPayload::new(&[0; 126]).is_none());
    /// ```
    #[must_use]
    pub fn new(data: &[u8]) -> Option<Self> {
        if data.len() > MAX_CONTROL_PAYLOAD {
            return None;
        }
        let mut p = Self::EMPTY;
        p.bytes[..data.len()].copy_from_slice(data);
        p.len = data.len() as u8;
        Some(p)
    }

    /// The payload bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The payload length.
    #[must_use]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the payload is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends bytes; the caller guarantees the total stays within 125 bytes.
    pub(crate) fn extend(&mut self, data: &[u8]) {
        let start = usize::from(self.len);
        self.bytes[start..start + data.len()].copy_from_slice(data);
        self.len += data.len() as u8;
    }
}

impl Default for ControlPayload {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl fmt::Debug for ControlPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match core::str::from_utf8(self.as_bytes()) {
            Ok(s) => write!(f, "ControlPayload({s:?})"),
            Err(_) => write!(f, "ControlPayload({:?})", self.as_bytes()),
        }
    }
}
