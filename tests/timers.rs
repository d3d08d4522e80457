//! Timers as inputs, on a simulated clock: keepalive pings, dead-peer detection exactly at the
//! deadline, chatty peers never pinged or declared dead, the close-handshake deadline and the
//! idle timeout. No timer exists unless configured. The time contract: the first time input
//! starts the timers (any epoch), and what happens between two time inputs is stamped by the
//! next one, so no deadline ever passes early.

use core::time::Duration;

use wsproto::{
    CloseCode, CloseFrame, Config, Connection, Error, KeySource, Role, State, Timer, Timestamp, TransportAction,
};

fn ms(n: u64) -> Timestamp {
    Timestamp::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn client(config: Config) -> Connection {
    Connection::new(Role::Client, config).with_key_source(KeySource::seeded(7))
}

/// Feeds server-to-client bytes that arrive at `now` (telling the time after the input, as the
/// adapters do) and returns the events' debug strings.
fn feed(conn: &mut Connection, now: Timestamp, mut bytes: Vec<u8>) -> Vec<String> {
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let r = conn.receive(&mut bytes[pos..]).unwrap();
        pos += r.consumed;
        match r.event {
            Some(e) => out.push(format!("{e:?}")),
            None => break,
        }
    }
    conn.set_time(now);
    out
}

fn server_text(text: &str) -> Vec<u8> {
    let mut server = Connection::new(Role::Server, Config::new());
    let mut wire = Vec::new();
    server.send_text(text, &mut wire).unwrap();
    wire
}

/// Decodes what a client wrote, as the server.
fn frames_from_client(bytes: &mut [u8]) -> Vec<String> {
    let mut server = Connection::new(Role::Server, Config::new().auto_pong(false));
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let r = server.receive(&mut bytes[pos..]).unwrap();
        pos += r.consumed;
        match r.event {
            Some(e) => out.push(format!("{e:?}")),
            None => return out,
        }
    }
}

#[test]
fn no_timer_without_settings() {
    let mut c = client(Config::new());
    assert_eq!(c.poll_timeout(), None);
    feed(&mut c, ms(5_000), server_text("hi"));
    assert_eq!(c.poll_timeout(), None);
    c.handle_timeout(ms(1_000_000)).unwrap();
    assert!(!c.wants_transmit());
    c.close(CloseFrame::with_code(CloseCode::NORMAL), &mut Vec::new()).unwrap();
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn silent_peer_is_pinged_then_declared_dead_exactly_at_the_deadline() {
    let mut c = client(Config::new().keepalive(secs(10), secs(5)));
    c.set_time(ms(0));
    assert_eq!(c.poll_timeout(), Some(ms(10_000)));
    // Early calls do nothing.
    c.handle_timeout(ms(9_999)).unwrap();
    assert!(!c.wants_transmit());
    c.handle_timeout(ms(10_000)).unwrap();
    assert!(c.wants_transmit());
    let mut out = Vec::new();
    c.poll_transmit(&mut out).unwrap();
    assert_eq!(frames_from_client(&mut out), ["Ping(ControlPayload(\"\"))"]);
    assert_eq!(c.poll_timeout(), Some(ms(15_000)));
    c.handle_timeout(ms(14_999)).unwrap();
    assert_eq!(c.state(), State::Open);
    assert_eq!(c.handle_timeout(ms(15_000)), Err(Error::Timeout(Timer::KeepAlive)));
    assert_eq!(c.state(), State::Failed);
    // Nothing is sent to a dead peer; the transport is to be dropped.
    assert!(!c.wants_transmit());
    assert_eq!(c.transport_action(), TransportAction::Close);
    assert_eq!(Error::Timeout(Timer::KeepAlive).close_code(), None);
}

#[test]
fn chatty_peer_is_never_pinged() {
    let mut c = client(Config::new().keepalive(secs(10), secs(5)));
    c.set_time(ms(0));
    let mut pings = 0;
    // A message every 3 s for 5 minutes; the timer is driven at every deadline it announces.
    for step in 1..=100u64 {
        let now = ms(step * 3_000);
        while let Some(deadline) = c.poll_timeout().filter(|d| *d <= now) {
            c.handle_timeout(deadline).unwrap();
            let mut out = Vec::new();
            c.poll_transmit(&mut out).unwrap();
            pings += usize::from(!out.is_empty());
        }
        assert_eq!(feed(&mut c, now, server_text("tick")).len(), 1);
    }
    assert_eq!(pings, 0);
    assert_eq!(c.state(), State::Open);
}

#[test]
fn an_answer_to_the_ping_keeps_the_peer_alive() {
    let mut c = client(Config::new().keepalive(secs(10), secs(5)));
    c.set_time(ms(0));
    c.handle_timeout(ms(10_000)).unwrap();
    c.poll_transmit(&mut Vec::new()).unwrap();
    // The Pong arrives at 12 s.
    let mut pong = Vec::new();
    Connection::new(Role::Server, Config::new()).pong(b"", &mut pong).unwrap();
    assert_eq!(feed(&mut c, ms(12_000), pong), ["Pong(ControlPayload(\"\"))"]);
    // The next Ping is due an interval after that.
    assert_eq!(c.poll_timeout(), Some(ms(22_000)));
    c.handle_timeout(ms(15_000)).unwrap();
    assert_eq!(c.state(), State::Open);
    c.handle_timeout(ms(22_000)).unwrap();
    assert!(c.wants_transmit());
}

#[test]
fn keepalive_without_a_timeout_only_pings() {
    let mut c = client(Config::new().keepalive_interval(secs(10)));
    c.set_time(ms(0));
    for n in 1..=5u64 {
        let deadline = c.poll_timeout().unwrap();
        assert_eq!(deadline, ms(n * 10_000));
        c.handle_timeout(deadline).unwrap();
        let mut out = Vec::new();
        c.poll_transmit(&mut out).unwrap();
        assert_eq!(frames_from_client(&mut out).len(), 1);
    }
    assert_eq!(c.state(), State::Open);
}

#[test]
fn close_handshake_deadline() {
    let mut c = client(Config::new().close_timeout(secs(5)));
    c.set_time(ms(1_000));
    assert_eq!(c.poll_timeout(), None);
    c.close(CloseFrame::with_code(CloseCode::NORMAL), &mut Vec::new()).unwrap();
    c.set_time(ms(1_000));
    assert_eq!(c.poll_timeout(), Some(ms(6_000)));
    c.handle_timeout(ms(5_999)).unwrap();
    assert_eq!(c.state(), State::ClosingLocal);
    assert_eq!(c.handle_timeout(ms(6_000)), Err(Error::Timeout(Timer::CloseHandshake)));
    assert_eq!(c.transport_action(), TransportAction::Close);
}

#[test]
fn client_gives_up_waiting_for_the_server_to_close_tcp() {
    let mut c = client(Config::new().close_timeout(secs(5)));
    let mut close = Vec::new();
    Connection::new(Role::Server, Config::new()).close(CloseFrame::with_code(CloseCode::NORMAL), &mut close).unwrap();
    feed(&mut c, ms(2_000), close);
    c.poll_transmit(&mut Vec::new()).unwrap();
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.transport_action(), TransportAction::AwaitPeerClose);
    assert_eq!(c.poll_timeout(), Some(ms(7_000)));
    c.handle_timeout(ms(7_000)).unwrap();
    assert_eq!(c.transport_action(), TransportAction::Close);
    assert_eq!(c.poll_timeout(), None);
}

#[test]
fn idle_connection_is_closed_with_1001() {
    let mut c = client(Config::new().idle_timeout(secs(30)));
    c.set_time(ms(0));
    assert_eq!(c.poll_timeout(), Some(ms(30_000)));
    // Data in either direction restarts it; pings do not.
    c.send_text("hello", &mut Vec::new()).unwrap();
    c.set_time(ms(10_000));
    assert_eq!(c.poll_timeout(), Some(ms(40_000)));
    let mut ping = Vec::new();
    Connection::new(Role::Server, Config::new()).ping(b"", &mut ping).unwrap();
    feed(&mut c, ms(20_000), ping);
    assert_eq!(c.poll_timeout(), Some(ms(40_000)));
    feed(&mut c, ms(25_000), server_text("hi"));
    assert_eq!(c.poll_timeout(), Some(ms(55_000)));
    assert_eq!(c.handle_timeout(ms(55_000)), Err(Error::Timeout(Timer::Idle)));
    let mut out = Vec::new();
    c.poll_transmit(&mut out).unwrap();
    // A failure drops the unanswered Pong: only the Close frame goes out.
    let frames = frames_from_client(&mut out);
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert!(frames[0].contains("CloseCode(1001)"), "{frames:?}");
}

#[test]
fn time_never_goes_backwards() {
    let mut c = client(Config::new().keepalive(secs(10), secs(5)));
    c.set_time(ms(50_000));
    c.set_time(ms(1_000));
    feed(&mut c, ms(2_000), server_text("x"));
    // Activity was stamped at 50 s, the latest time given.
    assert_eq!(c.poll_timeout(), Some(ms(60_000)));
}

/// An hour into a shared clock: the connection's timers start at its first time input, not at
/// the clock's zero.
const HOUR: u64 = 3_600_000;

#[test]
fn every_timer_starts_at_the_first_time_input_on_any_epoch() {
    // Idle.
    let mut c = client(Config::new().idle_timeout(secs(60)));
    assert_eq!(c.poll_timeout(), Some(Timestamp::ZERO), "before any time: tell me the time");
    c.handle_timeout(ms(HOUR)).unwrap();
    assert_eq!(c.state(), State::Open);
    assert_eq!(c.poll_timeout(), Some(ms(HOUR + 60_000)));
    c.handle_timeout(ms(HOUR + 59_999)).unwrap();
    assert_eq!(c.handle_timeout(ms(HOUR + 60_000)), Err(Error::Timeout(Timer::Idle)));

    // Keepalive.
    let mut c = client(Config::new().keepalive(secs(10), secs(5)));
    c.set_time(ms(HOUR));
    assert_eq!(c.poll_timeout(), Some(ms(HOUR + 10_000)));
    c.handle_timeout(ms(HOUR + 9_999)).unwrap();
    assert!(!c.wants_transmit());
    c.handle_timeout(ms(HOUR + 10_000)).unwrap();
    assert!(c.wants_transmit());
    assert_eq!(c.poll_timeout(), Some(ms(HOUR + 15_000)));

    // Close: a close issued long after the last time input still gets its whole deadline.
    let mut c = client(Config::new().close_timeout(secs(5)));
    c.set_time(ms(HOUR));
    c.close(CloseFrame::with_code(CloseCode::NORMAL), &mut Vec::new()).unwrap();
    // Not stamped yet: due now, so that the caller tells the time.
    assert_eq!(c.poll_timeout(), Some(ms(HOUR)));
    c.handle_timeout(ms(2 * HOUR)).unwrap();
    assert_eq!(c.state(), State::ClosingLocal);
    assert_eq!(c.poll_timeout(), Some(ms(2 * HOUR + 5_000)));
    c.handle_timeout(ms(2 * HOUR + 4_999)).unwrap();
    assert_eq!(c.handle_timeout(ms(2 * HOUR + 5_000)), Err(Error::Timeout(Timer::CloseHandshake)));
}

#[test]
fn what_happens_between_time_inputs_is_stamped_by_the_next_one_never_early() {
    let mut c = client(Config::new().idle_timeout(secs(30)).keepalive(secs(10), secs(5)));
    c.set_time(ms(0));
    // A message arrives and one is sent, with no time input for 40 s (past both deadlines).
    let mut wire = server_text("late");
    let mut pos = 0;
    while let Some(_event) = {
        let r = c.receive(&mut wire[pos..]).unwrap();
        pos += r.consumed;
        r.event
    } {}
    c.send_text("reply", &mut Vec::new()).unwrap();
    // The deadlines are due at once, so that the caller tells the time...
    assert_eq!(c.poll_timeout(), Some(ms(0)));
    // ...and the time stamps the activity: nothing fires, nothing is pinged.
    c.handle_timeout(ms(40_000)).unwrap();
    assert_eq!(c.state(), State::Open);
    assert!(!c.wants_transmit());
    assert_eq!(c.poll_timeout(), Some(ms(50_000)));
    c.handle_timeout(ms(50_000)).unwrap();
    assert!(c.wants_transmit(), "keepalive Ping 10 s after the stamped activity");
    assert_eq!(c.poll_timeout(), Some(ms(55_000)));
    assert_eq!(c.handle_timeout(ms(55_000)), Err(Error::Timeout(Timer::KeepAlive)));
}

/// `wants_time`: whether a time input would change a deadline. A data message sent changes
/// none unless an idle timeout is set (keepalive looks at what arrives), so an adapter that
/// stamps after every send reads no clock then; bytes received, a send under an idle timeout
/// and our Close frame each wait for their stamp until the next time input.
#[test]
fn a_time_input_is_wanted_only_when_a_deadline_depends_on_it() {
    assert!(!client(Config::new()).wants_time(), "no timers, no time");

    let mut c = client(Config::new().keepalive(secs(10), secs(5)));
    assert!(c.wants_time(), "timers start at the first time input");
    c.set_time(ms(1_000));
    assert!(!c.wants_time());
    c.send_text("hello", &mut Vec::new()).unwrap();
    assert!(!c.wants_time(), "keepalive does not look at what is sent");
    assert_eq!(c.poll_timeout(), Some(ms(11_000)));
    let mut wire = server_text("hi");
    let mut pos = 0;
    while c.receive(&mut wire[pos..]).map(|r| (pos += r.consumed, r.event.is_some()).1).unwrap() {}
    assert!(c.wants_time(), "bytes received wait for their stamp");
    c.set_time(ms(2_000));
    assert!(!c.wants_time());
    assert_eq!(c.poll_timeout(), Some(ms(12_000)));

    let mut c = client(Config::new().idle_timeout(secs(30)));
    c.set_time(ms(1_000));
    c.send_text("hello", &mut Vec::new()).unwrap();
    assert!(c.wants_time(), "under an idle timeout a send restarts it when stamped");
    c.set_time(ms(5_000));
    assert!(!c.wants_time());
    assert_eq!(c.poll_timeout(), Some(ms(35_000)));

    let mut c = client(Config::new().close_timeout(secs(5)));
    c.set_time(ms(1_000));
    c.close(CloseFrame::with_code(CloseCode::NORMAL), &mut Vec::new()).unwrap();
    assert!(c.wants_time(), "our Close frame waits for its stamp");
}
