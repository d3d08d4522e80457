//! Connection settings and their defaults, in one place.

use core::time::Duration;

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
/// | [`keepalive_interval`](Self::keepalive_interval), [`keepalive_timeout`](Self::keepalive_timeout) | off | Ping; then close 1006 locally |
/// | [`close_timeout`](Self::close_timeout) | off | drop the transport |
/// | [`idle_timeout`](Self::idle_timeout) | off | close 1001 |
/// | [`handshake_timeout`](Self::handshake_timeout), [`write_timeout`](Self::write_timeout) | off (used by the I/O adapters only) | fail the connection |
///
/// The sans-IO core has no timer unless one is set here. The I/O adapters
/// ([`adapters`](crate::adapters), feature `std`) are stricter by default: their entry points
/// (`accept`, `accept_with`, `client`, `connect`) run with
/// [`with_adapter_deadlines`](Self::with_adapter_deadlines), which fills every deadline left
/// unset with the defaults of Python `websockets`:
///
/// | deadline | adapter default |
/// |---|---|
/// | opening handshake | 10 s |
/// | keepalive: Ping after 20 s without traffic, peer dead 20 s later | 20 s + 20 s |
/// | close handshake | 10 s |
/// | a write that makes no progress | 20 s |
///
/// Set [`adapter_deadlines`](Self::adapter_deadlines) to `false` to run the adapters with
/// exactly the timers set here (none by default).
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
    /// Send a Ping when nothing has arrived for this long (keepalive). Off by default.
    pub keepalive_interval: Option<Duration>,
    /// After a keepalive Ping, declare the peer dead when nothing at all arrives for this long
    /// ([`Error::Timeout`](crate::Error::Timeout)`(`[`Timer::KeepAlive`](crate::Timer::KeepAlive)`)`,
    /// nothing sent on the wire). Off by default.
    pub keepalive_timeout: Option<Duration>,
    /// After our Close frame, give up on the close handshake (and, for a client, on the server
    /// closing the transport) after this long. Off by default;
    /// [`SUGGESTED_CLOSE_TIMEOUT`](crate::SUGGESTED_CLOSE_TIMEOUT) is a sensible value.
    pub close_timeout: Option<Duration>,
    /// Fail the connection (sending Close 1001) when no data message went either way for this
    /// long; Pings and Pongs do not count. Off by default.
    pub idle_timeout: Option<Duration>,
    /// Used by the I/O adapters only (the core never sees the opening handshake's bytes
    /// arrive): fail the opening handshake when it has not finished this long after it began
    /// ([`Timer::Handshake`](crate::Timer::Handshake)). Off by default; 10 s in the adapters.
    pub handshake_timeout: Option<Duration>,
    /// Used by the I/O adapters only: fail the connection when a write to the transport makes
    /// no progress for this long (a peer that does not read;
    /// [`Timer::Write`](crate::Timer::Write)). Off by default; 20 s in the adapters.
    pub write_timeout: Option<Duration>,
    /// Whether the I/O adapters fill the deadlines left unset (`None`) with their defaults
    /// (see the table above). The core ignores it. On by default.
    pub adapter_deadlines: bool,
}

/// The adapters' defaults (those of Python `websockets`): see [`Config`].
const ADAPTER_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const ADAPTER_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(20);
const ADAPTER_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
const ADAPTER_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
const ADAPTER_WRITE_TIMEOUT: Duration = Duration::from_secs(20);

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
            keepalive_interval: None,
            keepalive_timeout: None,
            close_timeout: None,
            idle_timeout: None,
            handshake_timeout: None,
            write_timeout: None,
            adapter_deadlines: true,
        }
    }

    /// This configuration with the I/O adapters' default deadlines filled in where none is
    /// set (see the table above), unless [`adapter_deadlines`](Self::adapter_deadlines) is
    /// off. The keepalive pair is filled only when neither half is set. The adapters call it;
    /// a program that drives the core itself may too.
    ///
    /// ```
    /// use core::time::Duration;
    /// use wsproto::Config;
    /// let config = Config::new().close_timeout(Duration::from_secs(3)).with_adapter_deadlines();
    /// assert_eq!(config.close_timeout, Some(Duration::from_secs(3)));
    /// assert_eq!(config.keepalive_interval, Some(Duration::from_secs(20)));
    /// assert_eq!(Config::new().adapter_deadlines(false).with_adapter_deadlines(), Config::new().adapter_deadlines(false));
    /// ```
    #[must_use]
    pub const fn with_adapter_deadlines(mut self) -> Self {
        if !self.adapter_deadlines {
            return self;
        }
        if self.keepalive_interval.is_none() && self.keepalive_timeout.is_none() {
            self.keepalive_interval = Some(ADAPTER_KEEPALIVE_INTERVAL);
            self.keepalive_timeout = Some(ADAPTER_KEEPALIVE_TIMEOUT);
        }
        if self.close_timeout.is_none() {
            self.close_timeout = Some(ADAPTER_CLOSE_TIMEOUT);
        }
        if self.handshake_timeout.is_none() {
            self.handshake_timeout = Some(ADAPTER_HANDSHAKE_TIMEOUT);
        }
        if self.write_timeout.is_none() {
            self.write_timeout = Some(ADAPTER_WRITE_TIMEOUT);
        }
        self
    }

    /// Sets [`adapter_deadlines`](Self::adapter_deadlines).
    #[must_use]
    pub const fn adapter_deadlines(mut self, on: bool) -> Self {
        self.adapter_deadlines = on;
        self
    }

    /// Sets [`handshake_timeout`](Self::handshake_timeout).
    #[must_use]
    pub const fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = Some(timeout);
        self
    }

    /// Sets [`write_timeout`](Self::write_timeout).
    #[must_use]
    pub const fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = Some(timeout);
        self
    }

    /// Sets [`keepalive_interval`](Self::keepalive_interval) and
    /// [`keepalive_timeout`](Self::keepalive_timeout).
    #[must_use]
    pub const fn keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.keepalive_interval = Some(interval);
        self.keepalive_timeout = Some(timeout);
        self
    }

    /// Sets [`keepalive_interval`](Self::keepalive_interval) alone: Pings go out, but the peer
    /// is never declared dead.
    #[must_use]
    pub const fn keepalive_interval(mut self, interval: Duration) -> Self {
        self.keepalive_interval = Some(interval);
        self
    }

    /// Sets [`close_timeout`](Self::close_timeout).
    #[must_use]
    pub const fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = Some(timeout);
        self
    }

    /// Sets [`idle_timeout`](Self::idle_timeout).
    #[must_use]
    pub const fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
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
