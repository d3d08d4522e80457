//! Bounded output: a `WriteQueue` refuses data over its high-water mark until drained to the
//! low-water mark; automatic replies are never lost or duplicated, pass data that is refused,
//! and only the latest Pong is kept however many Pings arrive, also when a peer that never
//! reads keeps the queue full (the replies then wait in the connection's fixed slots).

use wsproto::{CloseCode, CloseFrame, Config, Connection, Error, Event, KeySource, Role, WriteQueue};

fn server() -> Connection {
    Connection::new(Role::Server, Config::new())
}

/// Frames a server wrote, decoded by a client.
fn decode(bytes: &[u8]) -> Vec<String> {
    let mut client =
        Connection::new(Role::Client, Config::new().auto_pong(false)).with_key_source(KeySource::seeded(1));
    let mut bytes = bytes.to_vec();
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        let r = client.receive(&mut bytes[pos..]).unwrap();
        pos += r.consumed;
        match r.event {
            Some(Event::Data { data, .. }) => out.push(format!("data {}", data.len())),
            Some(e) => out.push(format!("{e:?}")),
            None => return out,
        }
    }
}

fn pings(n: usize) -> Vec<u8> {
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(2));
    let mut wire = Vec::new();
    for i in 0..n {
        client.ping(format!("{i}").as_bytes(), &mut wire).unwrap();
    }
    wire
}

#[test]
fn data_is_refused_over_the_high_water_mark_until_drained_to_the_low_one() {
    let mut s = server();
    let mut q = WriteQueue::new(4096, 1024);
    for _ in 0..3 {
        s.send_binary(&[1; 1000], &mut q).unwrap();
    }
    assert_eq!(q.len(), 3 * 1004);
    // The fifth 1 KiB message would cross 4096: refused, nothing written, not fatal.
    s.send_binary(&[1; 1000], &mut q).unwrap();
    assert_eq!(s.send_binary(&[1; 1000], &mut q), Err(Error::Backpressure));
    assert!(q.is_blocked());
    assert_eq!(q.len(), 4 * 1004);
    assert!(!Error::Backpressure.is_fatal());
    // Draining to just above the low-water mark is not enough ("writing" = moving the bytes
    // to `sent`).
    let mut sent = Vec::new();
    let mut write = |q: &mut WriteQueue, n: usize| {
        sent.extend_from_slice(&q.pending()[..n]);
        q.consume(n);
    };
    write(&mut q, 4 * 1004 - 1100);
    assert_eq!(s.send_binary(&[1; 10], &mut q), Err(Error::Backpressure));
    write(&mut q, 100);
    assert!(!q.is_blocked());
    s.send_binary(&[1; 10], &mut q).unwrap();
    let rest = q.len();
    write(&mut q, rest);
    // Everything that went in comes out, in order, exactly once.
    let frames = decode(&sent);
    assert_eq!(frames, ["data 1000", "data 1000", "data 1000", "data 1000", "data 10"]);
}

#[test]
fn one_large_message_fits_an_empty_queue() {
    let mut s = server();
    let mut q = WriteQueue::new(1024, 512);
    s.send_binary(&[0; 100_000], &mut q).unwrap();
    assert_eq!(decode(q.pending()), ["data 100000"]);
    assert_eq!(s.send_text("more", &mut q), Err(Error::Backpressure));
}

#[test]
fn replies_pass_a_blocked_queue_and_only_the_latest_pong_is_kept() {
    let mut s = server();
    let mut q = WriteQueue::new(2048, 0);
    s.send_binary(&[0; 2000], &mut q).unwrap();
    assert_eq!(s.send_binary(&[0; 100], &mut q), Err(Error::Backpressure));
    // A thousand Pings arrive while the queue is blocked.
    let mut wire = pings(1000);
    let mut pos = 0;
    let mut seen = 0;
    loop {
        let r = s.receive(&mut wire[pos..]).unwrap();
        pos += r.consumed;
        match r.event {
            Some(Event::Ping(_)) => seen += 1,
            Some(e) => panic!("{e:?}"),
            None => break,
        }
    }
    assert_eq!(seen, 1000);
    assert!(s.wants_transmit());
    let written = s.poll_transmit(&mut q).unwrap();
    assert_eq!(written, 2 + 3);
    assert!(!s.wants_transmit());
    // The data already queued, then exactly one Pong, answering the latest Ping.
    assert_eq!(decode(q.pending()), ["data 2000", "Pong(ControlPayload(\"999\"))"]);
    // Closing works while blocked too, and the Close frame follows.
    s.close(CloseFrame::new(CloseCode::NORMAL, "bye"), &mut q).unwrap();
    let frames = decode(q.pending());
    assert!(frames.last().unwrap().starts_with("Close"), "{frames:?}");
}

/// Feeds one client frame to the server and returns the events' debug forms.
fn feed(s: &mut Connection, mut frame: Vec<u8>) -> Vec<String> {
    let mut events = Vec::new();
    let mut pos = 0;
    loop {
        let r = s.receive(&mut frame[pos..]).unwrap();
        pos += r.consumed;
        match r.event {
            Some(e) => events.push(format!("{e:?}")),
            None => return events,
        }
    }
}

/// Ping `i`'s payload: always 11 bytes, so every Pong frame has the same size.
fn ping_payload(i: usize) -> String {
    format!("ping {i:06}")
}

#[test]
fn a_peer_that_never_reads_cannot_grow_the_queue_with_pings() {
    const HIGH: usize = 4096;
    const PINGS: usize = 100_000;
    /// The server's Pong to one of those Pings, and its Close reply with a code: unmasked.
    const PONG_FRAME: usize = 2 + 11;
    const CLOSE_FRAME: usize = 2 + 2;
    let mut s = server();
    let mut q = WriteQueue::new(HIGH, 1024);
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(3));
    let ping = |client: &mut Connection, i: usize| {
        let mut frame = Vec::new();
        client.ping(ping_payload(i).as_bytes(), &mut frame).unwrap();
        frame
    };

    // Each Ping is fed on its own, then poll_transmit, as an adapter does after every read;
    // nothing is ever written to the transport.
    let mut refused = 0;
    let mut max_len = 0;
    for i in 0..PINGS {
        let events = feed(&mut s, ping(&mut client, i));
        assert_eq!(events.len(), 1);
        match s.poll_transmit(&mut q) {
            Ok(n) => assert_eq!(n, PONG_FRAME),
            Err(Error::Backpressure) => refused += 1,
            Err(e) => panic!("{e:?}"),
        }
        max_len = max_len.max(q.len());
    }
    // Replies fill the queue up to the high-water mark, never past it: 12.8 MB of Pongs
    // before this was fixed.
    assert!(max_len <= HIGH, "{max_len}");
    assert!(max_len < HIGH + PONG_FRAME + CLOSE_FRAME);
    assert_eq!(refused, PINGS - HIGH / PONG_FRAME);
    assert!(s.wants_transmit(), "the latest Pong waits in its slot");

    // The peer reads at last: the queue drains, and the next poll_transmit writes the one
    // Pong that waited, answering the latest Ping.
    let mut sent = q.pending().to_vec();
    q.consume(q.len());
    assert_eq!(s.poll_transmit(&mut q), Ok(PONG_FRAME));
    assert!(!s.wants_transmit());
    sent.extend_from_slice(q.pending());
    q.consume(q.len());
    let frames = decode(&sent);
    let expected: Vec<String> = (0..HIGH / PONG_FRAME)
        .chain([PINGS - 1])
        .map(|i| format!("Pong(ControlPayload({:?}))", ping_payload(i)))
        .collect();
    assert_eq!(frames, expected);

    // Full again; then more Pings and the peer's Close. The Close reply is taken over the mark,
    // with the latest Pong written ahead of it: one of each beyond the high-water mark.
    for i in 0..PINGS / 10 {
        feed(&mut s, ping(&mut client, i));
        let _ = s.poll_transmit(&mut q);
        assert!(q.len() <= HIGH);
    }
    let before = q.len();
    feed(&mut s, ping(&mut client, 777_777));
    let mut close = Vec::new();
    client.close(CloseFrame::new(CloseCode::NORMAL, ""), &mut close).unwrap();
    assert_eq!(feed(&mut s, close), ["Close(CloseFrame { code: Some(CloseCode(1000)), reason: \"\" })"]);
    assert_eq!(s.poll_transmit(&mut q), Ok(PONG_FRAME + CLOSE_FRAME));
    assert_eq!(q.len(), before + PONG_FRAME + CLOSE_FRAME);
    assert!(q.len() <= HIGH + PONG_FRAME + CLOSE_FRAME);
    // Pings after our Close get no answer; nothing more is queued.
    let mut other = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(4));
    assert!(feed(&mut s, ping(&mut other, 888_888)).is_empty());
    assert_eq!(s.poll_transmit(&mut q), Ok(0));
    let frames = decode(q.pending());
    assert_eq!(
        frames[frames.len() - 2..],
        [
            format!("Pong(ControlPayload({:?}))", ping_payload(777_777)),
            "Close(CloseFrame { code: Some(CloseCode(1000)), reason: \"\" })".to_owned()
        ]
    );
}

#[test]
fn our_close_is_taken_over_the_high_water_mark() {
    let mut s = server();
    let mut q = WriteQueue::new(1024, 0);
    // One large message goes into the empty queue, far over the mark.
    s.send_binary(&[0; 10_000], &mut q).unwrap();
    let mut wire = pings(3);
    feed(&mut s, core::mem::take(&mut wire));
    // The Pong does not fit under the mark: it waits, and so does a Ping of our own.
    assert_eq!(s.poll_transmit(&mut q), Err(Error::Backpressure));
    assert_eq!(s.ping(b"mine", &mut q), Err(Error::Backpressure));
    assert_eq!(q.len(), 10_004);
    // Closing is never refused; the waiting Pong goes out ahead of the Close frame.
    s.close(CloseFrame::new(CloseCode::GOING_AWAY, "bye"), &mut q).unwrap();
    assert_eq!(
        decode(q.pending()),
        [
            "data 10000",
            "Pong(ControlPayload(\"2\"))",
            "Close(CloseFrame { code: Some(CloseCode(1001)), reason: \"bye\" })"
        ]
    );
}
