//! Timers as inputs: keepalive pings, dead-peer detection, the close-handshake deadline and an
//! idle timeout. The connection never reads a clock: the caller passes the time in
//! ([`Connection::set_time`], [`Connection::handle_timeout`]) and asks for the next deadline
//! ([`Connection::poll_timeout`]). Without timer settings in [`Config`](crate::Config), no
//! deadline ever exists.
//!
//! The time contract:
//! * The first time input is the connection's start: every baseline (last activity, last
//!   data) begins there, so only differences between timestamps matter and the caller's epoch
//!   is free (a process clock, a shared clock started hours ago).
//! * What happens between two time inputs (bytes received, a data message sent or received
//!   when an idle timeout is set, our Close frame queued) is stamped with the *next* time
//!   input ([`Connection::wants_time`] says whether something waits for its stamp). A deadline therefore never
//!   passes early, however long the caller waited before telling the time; and while something
//!   waits for its stamp, [`Connection::poll_timeout`] returns the latest time given (a deadline
//!   already due) so that the caller tells the time at once.

use core::ops::Add;
use core::time::Duration;

use super::{Connection, State};
use crate::Error;

/// A point in time, as a duration since an epoch the caller picks (for example the moment the
/// connection started). Only differences matter; it must never go backwards.
///
/// ```
/// use core::time::Duration;
/// use wsproto::Timestamp;
/// let t = Timestamp::from_millis(1500);
/// assert_eq!(t + Duration::from_millis(500), Timestamp::from_millis(2000));
/// ```
///
/// Kept as whole nanoseconds in a `u64` (8 bytes; it saturates 584 years after the epoch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The epoch.
    pub const ZERO: Self = Self(0);

    /// A time `since` the epoch.
    #[must_use]
    pub const fn from_duration(since: Duration) -> Self {
        let nanos = since.as_nanos();
        Self(if nanos > u64::MAX as u128 { u64::MAX } else { nanos as u64 })
    }

    /// A time in milliseconds since the epoch.
    #[must_use]
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms.saturating_mul(1_000_000))
    }

    /// The duration since the epoch.
    #[must_use]
    pub const fn as_duration(self) -> Duration {
        Duration::from_nanos(self.0)
    }
}

impl Add<Duration> for Timestamp {
    type Output = Self;
    fn add(self, d: Duration) -> Self {
        Self(self.0.saturating_add(Self::from_duration(d).0))
    }
}

/// Which deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Timer {
    /// A keepalive Ping went unanswered, and nothing else arrived, for
    /// [`Config::keepalive_timeout`](crate::Config::keepalive_timeout): the peer is presumed
    /// dead. Nothing is sent; report close code 1006 to the application and drop the transport.
    KeepAlive,
    /// No data message went either way for [`Config::idle_timeout`](crate::Config::idle_timeout).
    /// A Close frame with code 1001 (going away) is queued.
    Idle,
    /// The close handshake did not finish within
    /// [`Config::close_timeout`](crate::Config::close_timeout) of our Close frame: drop the
    /// transport.
    CloseHandshake,
    /// The opening handshake did not finish within
    /// [`Config::handshake_timeout`](crate::Config::handshake_timeout) (raised by the I/O
    /// adapters, which see the handshake's bytes arrive).
    Handshake,
    /// A write to the transport made no progress for
    /// [`Config::write_timeout`](crate::Config::write_timeout): the peer does not read (raised
    /// by the I/O adapters). Nothing more can be sent; drop the transport.
    Write,
}

/// Events that wait for the next time input to be stamped.
const ACTIVITY: u8 = 1;
const DATA: u8 = 2;
const CLOSE: u8 = 4;

/// What the timers remember.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Timers {
    /// The latest time the caller gave; `None` before the first.
    now: Option<Timestamp>,
    /// Events since the last time input (`ACTIVITY`, `DATA`, `CLOSE`), stamped by the next one.
    unstamped: u8,
    /// When bytes last arrived.
    last_activity: Timestamp,
    /// When a data message was last sent or received.
    last_data: Timestamp,
    /// When the last keepalive Ping was queued.
    last_ping: Option<Timestamp>,
    /// A keepalive Ping was queued and nothing has arrived since.
    ping_outstanding: bool,
    /// When our Close frame was sent or queued.
    close_sent_at: Option<Timestamp>,
    /// A client gave up waiting for the server to close the transport.
    pub(super) gave_up: bool,
}

impl Timers {
    /// Stamps what waits for a stamp with `now`; returns what did.
    fn stamp(&mut self, now: Timestamp) -> u8 {
        let unstamped = core::mem::take(&mut self.unstamped);
        if unstamped & ACTIVITY != 0 {
            self.last_activity = now;
        }
        if unstamped & DATA != 0 {
            self.last_data = now;
        }
        if unstamped & CLOSE != 0 {
            self.close_sent_at.get_or_insert(now);
        }
        unstamped
    }
}

impl Connection {
    /// Whether any timer is configured (keepalive, close or idle deadline). Without one, the
    /// connection never looks at the time: an adapter can skip reading its clock, and
    /// [`set_time`](Self::set_time) and [`poll_timeout`](Self::poll_timeout) do nothing useful.
    #[must_use]
    pub fn uses_timers(&self) -> bool {
        let c = &self.config;
        c.keepalive_interval.is_some() || c.close_timeout.is_some() || c.idle_timeout.is_some()
    }

    /// Whether the connection waits for a time input: timers are configured and either no time
    /// was given yet or something happened since the last one that a deadline depends on
    /// (bytes received, a data message with an idle timeout set, our Close frame). After a
    /// command, an adapter that reads its clock only to stamp what the command did can skip
    /// the read when this is `false` (a broadcast sends without one clock read per
    /// connection); [`set_time`](Self::set_time) would change no deadline.
    ///
    /// ```
    /// use core::time::Duration;
    /// use wsproto::{Config, Connection, MessageKind, Role, Timestamp};
    ///
    /// let config = Config::new().keepalive(Duration::from_secs(20), Duration::from_secs(20));
    /// let mut server = Connection::new(Role::Server, config);
    /// assert!(server.wants_time()); // no time given yet
    /// server.set_time(Timestamp::ZERO);
    /// let mut out = Vec::new();
    /// server.send(MessageKind::Text, b"hello", &mut out).unwrap();
    /// assert!(!server.wants_time()); // keepalive looks at what arrives, not at what is sent
    /// ```
    #[must_use]
    pub fn wants_time(&self) -> bool {
        self.uses_timers() && (self.timers.now.is_none() || self.timers.unstamped != 0)
    }

    /// Tells the connection the current time. The first call starts the timers (every
    /// baseline begins at this time); later calls stamp what happened since the previous one
    /// (received bytes, data messages under an idle timeout, our Close frame) with `now`. Call
    /// it after feeding input and after commands, as the adapters do (after a command they skip
    /// it while [`wants_time`](Self::wants_time) is `false`: it would change no deadline);
    /// times that go backwards are ignored.
    pub fn set_time(&mut self, now: Timestamp) {
        let t = &mut self.timers;
        let now = match t.now {
            Some(prev) => prev.max(now),
            None => {
                t.last_activity = now;
                t.last_data = now;
                now
            }
        };
        t.now = Some(now);
        t.stamp(now);
    }

    /// The next deadline, or `None` when no timer is running (always `None` without timer
    /// settings). Call [`handle_timeout`](Self::handle_timeout) when it passes.
    ///
    /// Before the first time input, and while events wait for their stamp (see
    /// [`set_time`](Self::set_time)), the deadline is the latest time given
    /// ([`Timestamp::ZERO`] before any): already due, so that the caller tells the time now.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        if !self.uses_timers() {
            return None;
        }
        let Some(now) = self.timers.now else { return Some(Timestamp::ZERO) };
        // Deadlines as if what waits for a stamp had happened at the latest time given.
        let mut t = self.timers;
        let unstamped = t.stamp(now);
        let cfg = &self.config;
        let mut next: Option<Timestamp> = None;
        let mut consider = |d: Option<Timestamp>| {
            if let Some(d) = d {
                next = Some(next.map_or(d, |n| n.min(d)));
            }
        };
        match self.state() {
            State::Open | State::ClosingRemote => {
                if let Some(interval) = cfg.keepalive_interval {
                    match (t.ping_outstanding, cfg.keepalive_timeout) {
                        (true, Some(timeout)) => consider(t.last_ping.map(|p| p + timeout)),
                        _ => consider(Some(t.last_activity.max(t.last_ping.unwrap_or_default()) + interval)),
                    }
                } else if let (true, Some(timeout)) = (t.ping_outstanding, cfg.keepalive_timeout) {
                    consider(t.last_ping.map(|p| p + timeout));
                }
                if self.state() == State::Open {
                    consider(cfg.idle_timeout.map(|i| t.last_data + i));
                }
            }
            State::ClosingLocal => consider(cfg.close_timeout.zip(t.close_sent_at).map(|(c, at)| at + c)),
            State::Closed if self.transport_action() == super::TransportAction::AwaitPeerClose => {
                consider(cfg.close_timeout.zip(t.close_sent_at).map(|(c, at)| at + c));
            }
            _ => {}
        }
        // Those deadlines may be early: ask for the time now, which stamps the events.
        if unstamped != 0 { next.map(|_| now) } else { next }
    }

    /// Runs the timers at `now`: queues a keepalive Ping (for
    /// [`poll_transmit`](Self::poll_transmit)), or fails the connection when a deadline
    /// passed, or gives up on a peer that does not close the transport.
    ///
    /// # Errors
    /// [`Error::Timeout`] when a deadline passed; the connection has failed and
    /// [`transport_action`](Self::transport_action) says to close the transport.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Result<(), Error> {
        self.set_time(now);
        if let Some(e) = self.close.failed {
            return Err(e);
        }
        let now = self.timers.now.unwrap_or(now);
        let cfg = self.config;
        let close_deadline = cfg.close_timeout.zip(self.timers.close_sent_at).map(|(c, at)| at + c);
        match self.state() {
            State::ClosingLocal if close_deadline.is_some_and(|d| now >= d) => {
                return Err(self.fail(Error::Timeout(Timer::CloseHandshake)));
            }
            State::Closed if close_deadline.is_some_and(|d| now >= d) => self.timers.gave_up = true,
            State::Open | State::ClosingRemote => {
                if self.state() == State::Open && cfg.idle_timeout.is_some_and(|i| now >= self.timers.last_data + i) {
                    return Err(self.fail(Error::Timeout(Timer::Idle)));
                }
                let t = self.timers;
                if t.ping_outstanding {
                    if let (Some(timeout), Some(p)) = (cfg.keepalive_timeout, t.last_ping) {
                        if now >= p + timeout {
                            return Err(self.fail(Error::Timeout(Timer::KeepAlive)));
                        }
                    }
                }
                if let Some(interval) = cfg.keepalive_interval {
                    let waiting = t.ping_outstanding && cfg.keepalive_timeout.is_some();
                    let due = t.last_activity.max(t.last_ping.unwrap_or_default()) + interval;
                    if !waiting && now >= due && !self.close.sent {
                        self.pending_ping = true;
                        self.timers.last_ping = Some(now);
                        self.timers.ping_outstanding = true;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Bytes arrived (stamped by the next time input).
    #[inline]
    pub(super) fn note_activity(&mut self) {
        self.timers.unstamped |= ACTIVITY;
        self.timers.ping_outstanding = false;
    }

    /// A data message went one way or the other (stamped by the next time input; only the
    /// idle timeout looks at it, so without one nothing waits for that stamp).
    #[inline]
    pub(super) fn note_data(&mut self) {
        if self.config.idle_timeout.is_some() {
            self.timers.unstamped |= DATA;
        }
    }

    /// Our Close frame was sent or queued (stamped by the next time input).
    pub(super) fn mark_close_sent(&mut self) {
        self.close.sent = true;
        if self.timers.close_sent_at.is_none() {
            self.timers.unstamped |= CLOSE;
        }
    }
}
