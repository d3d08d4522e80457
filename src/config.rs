//! Connection settings and their defaults, in one place.

/// Settings for a [`Connection`](crate::Connection).
///
/// The defaults are safe for a public server and are listed here, in one place:
///
/// | setting | default | on violation |
/// |---|---|---|
/// | [`max_frame_payload`](Self::max_frame_payload) | 16 MiB | close 1009 |
/// | [`max_message_size`](Self::max_message_size) | 64 MiB | close 1009 |
/// | [`max_fragments`](Self::max_fragments) | 131 072 frames per message | close 1009 |
/// | [`max_outgoing_frame`](Self::max_outgoing_frame) | 1 MiB (larger messages are split) | — |
/// | [`auto_pong`](Self::auto_pong) | on | — |
/// | [`auto_close_reply`](Self::auto_close_reply) | on | — |
///
/// Setters take and return `Self`, so a configuration reads as one expression:
///
/// ```
/// use wsproto::Config;
/// let config = Config::new().max_message_size(1 << 20).auto_pong(false);
/// assert_eq!(config.max_message_size, 1 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Largest payload of a single received frame, in bytes.
    pub max_frame_payload: u64,
    /// Largest received message, in bytes, summed over its fragments (after decompression when
    /// an extension compresses). Checked when each frame header arrives, before its payload.
    pub max_message_size: u64,
    /// Most frames one received message may be split into: a guard against floods of tiny or
    /// empty fragments.
    pub max_fragments: u32,
    /// Messages longer than this are sent as several frames of at most this payload. `0` is
    /// treated as 1.
    pub max_outgoing_frame: usize,
    /// Answer every received Ping with a Pong automatically (only the latest unanswered Ping is
    /// answered, as RFC 6455 §5.5.3 allows).
    pub auto_pong: bool,
    /// Answer a received Close frame with a Close frame automatically (echoing its code).
    pub auto_close_reply: bool,
}

impl Config {
    /// The default configuration (see the table above).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            max_frame_payload: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 1 << 17,
            max_outgoing_frame: 1 << 20,
            auto_pong: true,
            auto_close_reply: true,
        }
    }

    /// Sets [`max_frame_payload`](Self::max_frame_payload).
    #[must_use]
    pub const fn max_frame_payload(mut self, bytes: u64) -> Self {
        self.max_frame_payload = bytes;
        self
    }

    /// Sets [`max_message_size`](Self::max_message_size).
    #[must_use]
    pub const fn max_message_size(mut self, bytes: u64) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets [`max_fragments`](Self::max_fragments).
    #[must_use]
    pub const fn max_fragments(mut self, frames: u32) -> Self {
        self.max_fragments = frames;
        self
    }

    /// Sets [`max_outgoing_frame`](Self::max_outgoing_frame).
    #[must_use]
    pub const fn max_outgoing_frame(mut self, bytes: usize) -> Self {
        self.max_outgoing_frame = bytes;
        self
    }

    /// Sets [`auto_pong`](Self::auto_pong).
    #[must_use]
    pub const fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// Sets [`auto_close_reply`](Self::auto_close_reply).
    #[must_use]
    pub const fn auto_close_reply(mut self, on: bool) -> Self {
        self.auto_close_reply = on;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}
