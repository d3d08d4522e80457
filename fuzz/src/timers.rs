//! The `timers` target: its input (with `Arbitrary` and the seed encoder) and its harness, here
//! rather than in the target so that `seeds.rs` can run each seed and check that it makes the
//! timer it was written for fire.
//!
//! One connection, in either role, with an arbitrary timer configuration (each of
//! `keepalive_interval`, `keepalive_timeout`, `close_timeout` and `idle_timeout` off or
//! 1..=60 000 ms, or all off), is driven by a simulated clock (steps of 0..=70 000 ms, forwards
//! or backwards, told with `set_time` or `handle_timeout`, or `handle_timeout` exactly at the
//! deadline `poll_timeout` announces, or 1 ms before it) and talks to a well-behaved peer (our
//! own `Connection` in the other role): the peer's messages, Pings, Pongs and Close frame wait in
//! an inbox and are delivered in arbitrary pieces when the input says so, and the peer reads
//! what we wrote only when the input says so (a silent or dead peer is just one that is never
//! read from or delivered).
//!
//! A model stamps events as the time contract says (the first time input starts the timers;
//! bytes received, data messages sent or received and our Close frame are stamped with the next
//! time input; times going backwards are ignored). Checked after every operation:
//! 1. without `keepalive_interval`, `close_timeout` and `idle_timeout`, `poll_timeout()` is
//!    always `None` and `handle_timeout` never fails;
//! 2. liveness: right after `handle_timeout(t)` returned `Ok`, `poll_timeout()` is `None` or
//!    later than the effective time (the latest time given), so a driver never spins;
//! 3. never early: `Timeout(Idle)` only when the model's time is at least the last data
//!    message's stamp plus `idle_timeout`; `Timeout(CloseHandshake)` only at least
//!    `close_timeout` after our Close frame's stamp; `Timeout(KeepAlive)` only at least
//!    `keepalive_interval + keepalive_timeout` after the last bytes arrived; a keepalive Ping
//!    only at least `keepalive_interval` after them, and only in `Open` or `ClosingRemote`; a
//!    client gives up on the server closing the transport only `close_timeout` after our Close;
//! 4. once `handle_timeout` failed, every later call returns the same error and `state()` is
//!    `Failed`;
//! 5. consistency: `handle_timeout` at a time before the deadline `poll_timeout()` announced
//!    (or with no deadline) does nothing: `Ok`, no state change, no keepalive Ping;
//! 6. before the first time input, `poll_timeout()` is `Some(Timestamp::ZERO)` when timers are
//!    configured; everything we write is a valid frame sequence for our role that the peer
//!    reads without error; the peer's valid stream never fails the connection;
//! 7. `set_time` while `wants_time()` is false changes no deadline (what lets the adapters skip
//!    the clock read after a command).

use arbitrary::Arbitrary;
use core::time::Duration;
use wsproto::{
    CloseCode, CloseFrame, Config, Connection, Error, KeySource, Role, State, Timer, Timestamp, TransportAction,
};

use crate::{CodeSel, Enc, Ev, WireChecker, drain, pieces, text_of};

/// The input of `timers`.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub struct TimersInput {
    /// The connection under test is a client (masking keys from `KeySource::seeded`).
    pub client: bool,
    /// No timer at all, whatever the four settings say.
    pub no_timers: bool,
    /// `keepalive_interval` in ms, mapped into 1..=60 000.
    pub keepalive_interval: Option<u16>,
    /// `keepalive_timeout` in ms, mapped into 1..=60 000.
    pub keepalive_timeout: Option<u16>,
    /// `close_timeout` in ms, mapped into 1..=60 000.
    pub close_timeout: Option<u16>,
    /// `idle_timeout` in ms, mapped into 1..=60 000.
    pub idle_timeout: Option<u16>,
    /// `auto_pong` off.
    pub no_auto_pong: bool,
    /// `auto_close_reply` off (a received Close leaves the connection in `ClosingRemote`).
    pub no_auto_close: bool,
    /// Where the caller's clock starts, in ms (the epoch is the caller's choice).
    pub epoch: u32,
    /// What happens.
    pub ops: Vec<TimerOp>,
}

/// One step of `timers`.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum TimerOp {
    /// Moves the caller's clock by `ms` (mapped into 0..=70 000), backwards when `back`, then
    /// tells the connection the time: `handle_timeout` when `handle`, otherwise `set_time`.
    Time { ms: u32, back: bool, handle: bool },
    /// `handle_timeout` exactly at the deadline `poll_timeout` announces, or 1 ms before it
    /// when `early` (nothing without a deadline). The caller's clock jumps there.
    AtDeadline { early: bool },
    /// The peer acts; what it writes waits in the inbox.
    Peer(PeerAct),
    /// Feeds the first `len` bytes waiting in the inbox (0: all of them), cut into pieces
    /// whose lengths come from `pieces` (see [`pieces`](crate::pieces)).
    Deliver { len: u16, pieces: Vec<u8> },
    /// `send_text` (bytes made into text).
    SendText(Vec<u8>),
    /// `send_binary`.
    SendBinary(Vec<u8>),
    /// `ping` (payload cut to 125 bytes).
    Ping(Vec<u8>),
    /// `close` with a code (invalid codes are refused and change nothing).
    Close(CodeSel),
    /// `poll_transmit`.
    PollTransmit,
    /// The peer reads everything we wrote so far and writes its automatic replies (Pong, Close
    /// reply) into the inbox.
    PeerRead,
}

/// Something the well-behaved peer does.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum PeerAct {
    /// A text message (bytes made into text).
    Text(Vec<u8>),
    /// A binary message.
    Binary(Vec<u8>),
    /// A Ping (payload cut to 125 bytes).
    Ping(Vec<u8>),
    /// A Pong (payload cut to 125 bytes).
    Pong(Vec<u8>),
    /// A Close frame with a code (the peer refuses invalid codes: nothing is written).
    Close(CodeSel),
}

impl TimersInput {
    /// A timer setting in ms (1..=60 000) from the raw value.
    pub fn millis(v: Option<u16>) -> Option<u64> {
        v.map(|v| u64::from(v) % 60_000 + 1)
    }

    /// The four timer settings in ms: keepalive interval and timeout, close timeout, idle.
    pub fn settings(&self) -> [Option<u64>; 4] {
        if self.no_timers {
            return [None; 4];
        }
        [self.keepalive_interval, self.keepalive_timeout, self.close_timeout, self.idle_timeout].map(Self::millis)
    }

    /// The configuration of the connection under test.
    pub fn config(&self) -> Config {
        let [interval, timeout, close, idle] = self.settings();
        let mut c = Config::new().auto_pong(!self.no_auto_pong).auto_close_reply(!self.no_auto_close);
        c.keepalive_interval = interval.map(Duration::from_millis);
        c.keepalive_timeout = timeout.map(Duration::from_millis);
        c.close_timeout = close.map(Duration::from_millis);
        c.idle_timeout = idle.map(Duration::from_millis);
        c
    }

    /// Writes `self` as `arbitrary` bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::default();
        e.bool(self.client).bool(self.no_timers);
        for v in [self.keepalive_interval, self.keepalive_timeout, self.close_timeout, self.idle_timeout] {
            e.option(&v, |e, &v| {
                e.u16(v);
            });
        }
        e.bool(self.no_auto_pong).bool(self.no_auto_close).u32(self.epoch);
        e.seq(&self.ops, |e, op| op.encode(e));
        e.0
    }
}

impl TimerOp {
    /// Writes `self` as `arbitrary` bytes.
    pub fn encode(&self, e: &mut Enc) {
        const N: u32 = 10;
        match self {
            Self::Time { ms, back, handle } => {
                e.variant(0, N).u32(*ms).bool(*back).bool(*handle);
            }
            Self::AtDeadline { early } => {
                e.variant(1, N).bool(*early);
            }
            Self::Peer(act) => {
                e.variant(2, N);
                act.encode(e);
            }
            Self::Deliver { len, pieces } => {
                e.variant(3, N).u16(*len).bytes(pieces);
            }
            Self::SendText(d) => {
                e.variant(4, N).bytes(d);
            }
            Self::SendBinary(d) => {
                e.variant(5, N).bytes(d);
            }
            Self::Ping(d) => {
                e.variant(6, N).bytes(d);
            }
            Self::Close(code) => {
                e.variant(7, N);
                code.encode(e);
            }
            Self::PollTransmit => {
                e.variant(8, N);
            }
            Self::PeerRead => {
                e.variant(9, N);
            }
        }
    }
}

impl PeerAct {
    /// Writes `self` as `arbitrary` bytes.
    pub fn encode(&self, e: &mut Enc) {
        const N: u32 = 5;
        match self {
            Self::Text(d) => {
                e.variant(0, N).bytes(d);
            }
            Self::Binary(d) => {
                e.variant(1, N).bytes(d);
            }
            Self::Ping(d) => {
                e.variant(2, N).bytes(d);
            }
            Self::Pong(d) => {
                e.variant(3, N).bytes(d);
            }
            Self::Close(code) => {
                e.variant(4, N);
                code.encode(e);
            }
        }
    }
}

/// What happened in one run, for the seeds' self-check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimersOutcome {
    /// The timer whose deadline failed the connection, if one did.
    pub fired: Option<Timer>,
    /// Keepalive Pings queued by `handle_timeout` (those seen: queued while nothing else
    /// waited for `poll_transmit`).
    pub keepalive_pings: usize,
    /// A client gave up waiting for the server to close the transport.
    pub gave_up: bool,
}

/// Runs one input through the harness, panicking on any broken invariant.
pub fn run(input: &TimersInput) -> TimersOutcome {
    let mut h = Harness::new(input);
    h.check();
    for op in &input.ops {
        h.op(op);
        h.check();
    }
    h.outcome
}

/// The model of the timers' stamps, in ms on the caller's clock.
#[derive(Clone, Copy, Debug, Default)]
struct Stamps {
    /// The latest time given (the effective time); `None` before the first time input.
    now: Option<u64>,
    last_activity: u64,
    last_data: u64,
    close: Option<u64>,
    activity_pending: bool,
    data_pending: bool,
    close_pending: bool,
    /// Our Close frame has been seen sent or queued (its stamp is or will be `close`).
    close_seen: bool,
}

impl Stamps {
    /// A time input at `t`: returns the effective time and stamps what waited.
    fn tell(&mut self, t: u64) -> u64 {
        let now = match self.now {
            Some(prev) => prev.max(t),
            None => {
                self.last_activity = t;
                self.last_data = t;
                t
            }
        };
        self.now = Some(now);
        if core::mem::take(&mut self.activity_pending) {
            self.last_activity = now;
        }
        if core::mem::take(&mut self.data_pending) {
            self.last_data = now;
        }
        if core::mem::take(&mut self.close_pending) {
            self.close.get_or_insert(now);
        }
        now
    }
}

struct Harness {
    conn: Connection,
    /// keepalive interval and timeout, close timeout, idle timeout (ms).
    interval: Option<u64>,
    ka_timeout: Option<u64>,
    close_timeout: Option<u64>,
    idle: Option<u64>,
    /// The caller's clock (ms); may go backwards.
    clock: u64,
    stamps: Stamps,
    /// The first error `handle_timeout` returned.
    timer_error: Option<Error>,
    /// Our output, checked frame by frame, waiting for the peer to read it.
    wire: WireChecker,
    outbox: Vec<u8>,
    /// The peer and what it wrote that we have not read yet.
    peer: Connection,
    inbox: Vec<u8>,
    outcome: TimersOutcome,
}

fn ts(ms: u64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn millis_of(t: Timestamp) -> u64 {
    u64::try_from(t.as_duration().as_millis()).expect("test times fit in u64 ms")
}

fn close_frame(code: CodeSel) -> CloseFrame {
    match code.code() {
        Some(c) => CloseFrame::with_code(CloseCode(c)),
        None => CloseFrame::EMPTY,
    }
}

impl Harness {
    fn new(input: &TimersInput) -> Self {
        let role = if input.client { Role::Client } else { Role::Server };
        let [interval, ka_timeout, close_timeout, idle] = input.settings();
        Self {
            conn: Connection::new(role, input.config()).with_key_source(KeySource::seeded(1)),
            interval,
            ka_timeout,
            close_timeout,
            idle,
            clock: u64::from(input.epoch),
            stamps: Stamps::default(),
            timer_error: None,
            wire: WireChecker::new(role, false),
            outbox: Vec::new(),
            peer: Connection::new(role.peer(), Config::new()).with_key_source(KeySource::seeded(2)),
            inbox: Vec::new(),
            outcome: TimersOutcome::default(),
        }
    }

    /// Whether any timer runs (`keepalive_timeout` alone does nothing: no Ping is ever sent).
    fn timers(&self) -> bool {
        self.interval.is_some() || self.close_timeout.is_some() || self.idle.is_some()
    }

    fn check(&mut self) {
        let poll = self.conn.poll_timeout();
        if !self.timers() {
            assert_eq!(poll, None, "a deadline without timer settings");
        } else if self.stamps.now.is_none() {
            assert_eq!(poll, Some(Timestamp::ZERO), "before the first time input the deadline is ZERO");
        }
        if let Some(e) = self.timer_error {
            assert_eq!(self.conn.state(), State::Failed, "a timer failed the connection");
            assert_eq!(self.conn.error(), Some(e));
        }
        // Our Close frame, however it came (close, the automatic reply): stamped by the next
        // time input. (The Close that answers a failure does not matter: no deadline runs then.)
        if !self.stamps.close_seen && matches!(self.conn.state(), State::ClosingLocal | State::Closed) {
            self.stamps.close_seen = true;
            self.stamps.close_pending = true;
        }
    }

    fn op(&mut self, op: &TimerOp) {
        match op {
            TimerOp::Time { ms, back, handle } => {
                let d = u64::from(*ms) % 70_001;
                self.clock = if *back { self.clock.saturating_sub(d) } else { self.clock + d };
                self.tell(self.clock, *handle);
            }
            TimerOp::AtDeadline { early } => {
                if let Some(d) = self.conn.poll_timeout() {
                    self.clock = millis_of(d).saturating_sub(u64::from(*early));
                    self.tell(self.clock, true);
                }
            }
            TimerOp::Peer(act) => {
                // The peer's own refusals (after its Close, an invalid code) write nothing.
                let _ = match act {
                    PeerAct::Text(d) => self.peer.send_text(&text_of(d), &mut self.inbox),
                    PeerAct::Binary(d) => self.peer.send_binary(d, &mut self.inbox),
                    PeerAct::Ping(d) => self.peer.ping(&d[..d.len().min(125)], &mut self.inbox),
                    PeerAct::Pong(d) => self.peer.pong(&d[..d.len().min(125)], &mut self.inbox),
                    PeerAct::Close(code) => self.peer.close(close_frame(*code), &mut self.inbox),
                };
                self.peer.poll_transmit(&mut self.inbox).expect("poll_transmit into a Vec");
            }
            TimerOp::Deliver { len, pieces: spec } => {
                let n = match usize::from(*len) {
                    0 => self.inbox.len(),
                    n => n.min(self.inbox.len()),
                };
                let bytes: Vec<u8> = self.inbox.drain(..n).collect();
                self.receive(&bytes, spec);
            }
            TimerOp::SendText(d) => {
                let mut out = Vec::new();
                if self.conn.send_text(&text_of(d), &mut out).is_ok() {
                    self.stamps.data_pending = true;
                }
                self.written(&out);
            }
            TimerOp::SendBinary(d) => {
                let mut out = Vec::new();
                if self.conn.send_binary(d, &mut out).is_ok() {
                    self.stamps.data_pending = true;
                }
                self.written(&out);
            }
            TimerOp::Ping(d) => {
                let mut out = Vec::new();
                let _ = self.conn.ping(&d[..d.len().min(125)], &mut out);
                self.written(&out);
            }
            TimerOp::Close(code) => {
                let mut out = Vec::new();
                // `check` sees the state change and marks the Close for its stamp.
                let _ = self.conn.close(close_frame(*code), &mut out);
                self.written(&out);
            }
            TimerOp::PollTransmit => {
                let mut out = Vec::new();
                let n = self.conn.poll_transmit(&mut out).expect("poll_transmit into a Vec");
                assert_eq!(n, out.len());
                self.written(&out);
            }
            TimerOp::PeerRead => {
                let mut bytes = core::mem::take(&mut self.outbox);
                let mut scratch = [0u8; 0];
                drain(&mut self.peer, &mut bytes, &mut scratch, |_| {}).expect("the peer rejects what we wrote");
                self.peer.poll_transmit(&mut self.inbox).expect("poll_transmit into a Vec");
            }
        }
    }

    /// Bytes one call wrote: whole frames, valid for our role; the peer reads them later.
    fn written(&mut self, bytes: &[u8]) {
        self.wire.push(bytes);
        self.outbox.extend_from_slice(bytes);
    }

    fn receive(&mut self, bytes: &[u8], spec: &[u8]) {
        for r in pieces(bytes.len(), spec) {
            let mut buf = bytes[r].to_vec();
            let before = self.conn.error();
            // Bytes count as activity while frames are read (not after a Close arrived, not
            // after a failure).
            if !buf.is_empty() && matches!(self.conn.state(), State::Open | State::ClosingLocal) {
                self.stamps.activity_pending = true;
            }
            let mut data = false;
            let result = drain(&mut self.conn, &mut buf, &mut [], |ev| {
                if let Ev::Data { last: true, .. } = ev {
                    data = true;
                }
            });
            if data {
                self.stamps.data_pending = true;
            }
            if let Err(e) = result {
                assert_eq!(Some(e), before, "the peer's valid stream failed the connection");
            }
        }
    }

    /// A time input at `t` on the caller's clock.
    fn tell(&mut self, t: u64, handle: bool) {
        let poll_before = self.conn.poll_timeout();
        let err_before = self.conn.error();
        let state_before = self.conn.state();
        let action_before = self.conn.transport_action();
        let wants_before = self.conn.wants_transmit();
        let wants_time = self.conn.wants_time();
        let now = self.stamps.tell(t);
        if !handle {
            self.conn.set_time(ts(t));
            assert_eq!(self.conn.state(), state_before, "set_time changed the state");
            assert_eq!(self.conn.wants_transmit(), wants_before, "set_time queued something");
            // 7. A time input the connection did not want changes no deadline.
            if !wants_time {
                assert_eq!(
                    self.conn.poll_timeout(),
                    poll_before,
                    "set_time({t} ms) moved a deadline while wants_time() was false"
                );
            }
            return;
        }
        let result = self.conn.handle_timeout(ts(t));
        let poll_after = self.conn.poll_timeout();

        // 4. A timer's error is final.
        if let Some(e) = self.timer_error {
            assert_eq!(result, Err(e), "handle_timeout after a timer failed the connection");
            assert_eq!(self.conn.state(), State::Failed);
            return;
        }
        // 5. Nothing happens before the announced deadline.
        let quiet = poll_before.is_none_or(|d| ts(now) < d);
        if quiet && err_before.is_none() {
            assert_eq!(result, Ok(()), "handle_timeout({now} ms) failed before the announced deadline {poll_before:?}");
            assert_eq!(self.conn.state(), state_before, "handle_timeout before the deadline changed the state");
            assert!(
                wants_before || !self.conn.wants_transmit(),
                "handle_timeout({now} ms) queued a Ping before the announced deadline {poll_before:?}"
            );
        }
        match result {
            Ok(()) => {
                // 1, 2.
                if !self.timers() {
                    assert_eq!(poll_after, None, "a deadline without timer settings");
                }
                if let Some(d) = poll_after {
                    assert!(
                        d > ts(now),
                        "handle_timeout({t} ms) returned Ok at {now} ms but poll_timeout() is still {d:?} (the driver spins)"
                    );
                }
                // 3: a keepalive Ping.
                if !wants_before && self.conn.wants_transmit() {
                    let interval = self.interval.expect("a keepalive Ping without keepalive_interval");
                    assert!(
                        matches!(state_before, State::Open | State::ClosingRemote),
                        "a keepalive Ping in {state_before:?}"
                    );
                    assert!(
                        now >= self.stamps.last_activity + interval,
                        "keepalive Ping at {now} ms, bytes last arrived at {} ms, interval {interval} ms",
                        self.stamps.last_activity
                    );
                    self.outcome.keepalive_pings += 1;
                }
                // 3: a client gives up on the server closing the transport.
                if action_before == TransportAction::AwaitPeerClose
                    && self.conn.transport_action() == TransportAction::Close
                {
                    let ct = self.close_timeout.expect("gave up without close_timeout");
                    let at = self.stamps.close.expect("gave up without a stamped Close");
                    assert!(now >= at + ct, "gave up at {now} ms, Close stamped {at} ms, close_timeout {ct} ms");
                    self.outcome.gave_up = true;
                }
            }
            Err(e) => {
                if let Some(before) = err_before {
                    assert_eq!(e, before, "handle_timeout returned another error than the connection's");
                    return;
                }
                assert!(self.timers(), "handle_timeout failed with {e:?} without timer settings");
                assert_eq!(self.conn.state(), State::Failed, "handle_timeout failed with {e:?}, state not Failed");
                assert_eq!(self.conn.error(), Some(e));
                let s = self.stamps;
                match e {
                    Error::Timeout(Timer::Idle) => {
                        let idle = self.idle.expect("Idle without idle_timeout");
                        assert_eq!(state_before, State::Open, "Idle outside Open");
                        assert!(
                            now >= s.last_data + idle,
                            "Idle at {now} ms, last data stamped {} ms, idle_timeout {idle} ms",
                            s.last_data
                        );
                    }
                    Error::Timeout(Timer::CloseHandshake) => {
                        let ct = self.close_timeout.expect("CloseHandshake without close_timeout");
                        let at = s.close.expect("CloseHandshake without a stamped Close");
                        assert!(
                            now >= at + ct,
                            "CloseHandshake at {now} ms, Close stamped {at} ms, close_timeout {ct} ms"
                        );
                    }
                    Error::Timeout(Timer::KeepAlive) => {
                        let interval = self.interval.expect("KeepAlive without keepalive_interval");
                        let timeout = self.ka_timeout.expect("KeepAlive without keepalive_timeout");
                        assert!(
                            now >= s.last_activity + interval + timeout,
                            "KeepAlive at {now} ms, bytes last arrived at {} ms, interval {interval} ms, timeout {timeout} ms",
                            s.last_activity
                        );
                    }
                    other => panic!("handle_timeout failed with {other:?}"),
                }
                self.timer_error = Some(e);
                self.outcome.fired = match e {
                    Error::Timeout(timer) => Some(timer),
                    _ => None,
                };
            }
        }
    }
}
