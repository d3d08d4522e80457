//! Close status codes (RFC 6455 §7.4) and the contents of a Close frame.

use core::fmt;

use crate::control::MAX_CONTROL_PAYLOAD;

/// A close status code as carried in a Close frame.
///
/// Any `u16` can be held; [`CloseCode::is_valid_on_wire`] says whether a peer may send it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the endpoint received a frame that breaks the protocol.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: the endpoint received a data type it cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: reserved, never sent; reported when a Close frame carried no status code.
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: reserved, never sent; reported when the transport closed without a Close frame.
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: a message's data was not consistent with its type (invalid UTF-8 in text).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client expected the server to negotiate an extension it did not.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1015: reserved, never sent; reported when the TLS handshake failed.
    pub const TLS_HANDSHAKE: Self = Self(1015);

    /// Whether this code may appear in a Close frame on the wire: 1000–1003, 1007–1011 and
    /// 3000–4999 (RFC 6455 §7.4.1 and the IANA registry). 1004–1006 and 1015 are reserved for
    /// local reporting, everything else below 3000 is reserved for future protocol use.
    ///
    /// ```
    /// use wsproto::CloseCode;
    /// assert!(CloseCode::NORMAL.is_valid_on_wire());
    /// assert!(CloseCode(4000).is_valid_on_wire());
    /// assert!(!CloseCode::NO_STATUS.is_valid_on_wire());
    /// assert!(!CloseCode(999).is_valid_on_wire());
    /// ```
    #[must_use]
    pub const fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1011 | 3000..=4999)
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({})", self.0)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

/// The contents of a Close frame: an optional status code and a UTF-8 reason of at most 123
/// bytes, held inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseFrame {
    code: Option<CloseCode>,
    reason_len: u8,
    reason: [u8; MAX_CONTROL_PAYLOAD - 2],
}

impl CloseFrame {
    /// A Close frame with no status code and no reason (reported as 1005 by the peer).
    pub const EMPTY: Self = Self { code: None, reason_len: 0, reason: [0; MAX_CONTROL_PAYLOAD - 2] };

    /// A Close frame with a code and a reason. The reason is cut at a character boundary so
    /// that it fits in 123 bytes.
    ///
    /// ```
    /// use wsproto::{CloseCode, CloseFrame};
    /// let f = CloseFrame::new(CloseCode::GOING_AWAY, "restarting");
    /// assert_eq!(f.code(), Some(CloseCode::GOING_AWAY));
    /// assert_eq!(f.reason(), "restarting");
    /// ```
    #[must_use]
    pub fn new(code: CloseCode, reason: &str) -> Self {
        let mut end = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        let mut f = Self { code: Some(code), ..Self::EMPTY };
        f.reason[..end].copy_from_slice(&reason.as_bytes()[..end]);
        f.reason_len = end as u8;
        f
    }

    /// A Close frame carrying only a code.
    #[must_use]
    pub fn with_code(code: CloseCode) -> Self {
        Self { code: Some(code), ..Self::EMPTY }
    }

    /// The status code, or `None` if the frame carried none.
    #[must_use]
    pub fn code(&self) -> Option<CloseCode> {
        self.code
    }

    /// The status code as a peer would report it: `1005` when the frame carried none.
    #[must_use]
    pub fn reported_code(&self) -> CloseCode {
        self.code.unwrap_or(CloseCode::NO_STATUS)
    }

    /// The reason text (empty if none).
    #[must_use]
    pub fn reason(&self) -> &str {
        // The reason is only ever filled from a `&str` or from bytes validated as UTF-8.
        core::str::from_utf8(&self.reason[..usize::from(self.reason_len)]).unwrap_or("")
    }

    /// Parses a received Close payload (RFC 6455 §5.5.1), checking the code and the reason.
    pub(crate) fn parse(payload: &[u8]) -> Result<Self, crate::ProtocolViolation> {
        use crate::ProtocolViolation as V;
        match payload.len() {
            0 => Ok(Self::EMPTY),
            1 => Err(V::CloseFrameOneByte),
            _ => {
                let code = CloseCode(u16::from_be_bytes([payload[0], payload[1]]));
                if !code.is_valid_on_wire() {
                    return Err(V::InvalidCloseCode(code.0));
                }
                let reason = &payload[2..];
                if simdutf8::basic::from_utf8(reason).is_err() {
                    return Err(V::CloseReasonNotUtf8);
                }
                let mut f = Self::with_code(code);
                f.reason[..reason.len()].copy_from_slice(reason);
                f.reason_len = reason.len() as u8;
                Ok(f)
            }
        }
    }

    /// Writes the wire payload into `out` and returns its length.
    pub(crate) fn encode(&self, out: &mut [u8; MAX_CONTROL_PAYLOAD]) -> usize {
        match self.code {
            None => 0,
            Some(code) => {
                out[..2].copy_from_slice(&code.0.to_be_bytes());
                let n = usize::from(self.reason_len);
                out[2..2 + n].copy_from_slice(&self.reason[..n]);
                2 + n
            }
        }
    }
}

impl Default for CloseFrame {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl fmt::Debug for CloseFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloseFrame").field("code", &self.code).field("reason", &self.reason()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_validity_table() {
        for c in 0..=u16::MAX {
            let expected = matches!(c, 1000 | 1001 | 1002 | 1003 | 1007..=1011 | 3000..=4999);
            assert_eq!(CloseCode(c).is_valid_on_wire(), expected, "{c}");
        }
    }

    #[test]
    fn parse_close_payloads() {
        assert_eq!(CloseFrame::parse(&[]).unwrap(), CloseFrame::EMPTY);
        assert!(CloseFrame::parse(&[3]).is_err());
        assert!(CloseFrame::parse(&[0x03, 0xe8, 0xff]).is_err());
        assert!(CloseFrame::parse(&1005u16.to_be_bytes()).is_err());
        let f = CloseFrame::parse(&[0x03, 0xe8, b'o', b'k']).unwrap();
        assert_eq!(f.code(), Some(CloseCode::NORMAL));
        assert_eq!(f.reason(), "ok");
    }

    #[test]
    fn reason_cut_at_char_boundary() {
        let long = "é".repeat(100);
        let f = CloseFrame::new(CloseCode::NORMAL, &long);
        assert_eq!(f.reason().len(), 122);
        let mut buf = [0; MAX_CONTROL_PAYLOAD];
        assert_eq!(f.encode(&mut buf), 124);
        assert_eq!(CloseFrame::parse(&buf[..124]).unwrap(), f);
    }
}
