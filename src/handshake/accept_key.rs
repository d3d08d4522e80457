//! The `Sec-WebSocket-Accept` value (RFC 6455 §4.2.2, item 5.4): no allocation needed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The GUID that RFC 6455 §1.3 appends to the client's key before hashing.
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// A `Sec-WebSocket-Accept` value: 28 ASCII characters, base64 of a SHA-1 digest.
///
/// Made by [`accept_key`]; compare it with the header a server sent, or write it into the 101
/// response.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AcceptKey([u8; 28]);

impl AcceptKey {
    /// The value as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Base64 output is ASCII, so this never falls back.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The value as bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 28] {
        &self.0
    }
}

impl core::fmt::Debug for AcceptKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("AcceptKey").field(&self.as_str()).finish()
    }
}

impl core::fmt::Display for AcceptKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for AcceptKey {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Computes `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` value: base64(SHA-1(key ++ GUID)).
///
/// `key` is the header value exactly as sent (without surrounding whitespace); it is not
/// decoded or checked here.
///
/// ```
/// use wsproto::handshake::accept_key;
/// assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ==").as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
#[must_use]
pub fn accept_key(key: &[u8]) -> AcceptKey {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key);
    sha.update(WEBSOCKET_GUID.as_bytes());
    let digest = sha.digest().bytes();
    let mut out = [0u8; 28];
    // 20 bytes always encode to exactly 28 characters, so the buffer is never too small.
    let _ = STANDARD.encode_slice(digest, &mut out);
    AcceptKey(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_known_answer() {
        let k = accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(k.as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(k.as_bytes(), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn other_keys_differ() {
        assert_ne!(accept_key(b"AQIDBAUGBwgJCgsMDQ4PEA=="), accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        // An empty key still hashes (callers validate keys before this).
        assert_eq!(accept_key(b"").as_str().len(), 28);
    }
}
