//! Bounded output: a `WriteQueue` refuses data over its high-water mark until drained to the
//! low-water mark; automatic replies are never lost, duplicated or held back, and only the
//! latest Pong is kept however many Pings arrive.

use wsproto::{CloseCode, CloseFrame, Config, Connection, Error, Event, KeySource, Role, WriteQueue};

fn server() -> Connection {
    Connection::new(Role::Server, Config::new())
}

/// Frames a server wrote, decoded by a client.
fn decode(bytes: &[u8]) -> Vec<String> {
    let mut client = Connection::with_key_source(Role::Client, Config::new().auto_pong(false), KeySource::seeded(1));
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
    let mut client = Connection::with_key_source(Role::Client, Config::new(), KeySource::seeded(2));
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
