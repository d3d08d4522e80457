//! Steady state touches no new heap memory: receiving lends slices of the caller's buffer,
//! sending into a reserved `Vec` never grows it, a `SliceBuf` needs no heap at all, and a
//! warmed-up `MessageAssembler` reuses its buffer.
//!
//! `tests/alloc_count.rs` counts allocations with a global allocator; these tests check the
//! observable side of "no allocation" with safe code: the addresses and capacities of every
//! heap buffer involved stay the same across 10 000 messages, and received data is never
//! copied out of the input.

mod common;

use common::*;
use wsproto::{Config, Event, Message, MessageAssembler, MessageKind, Role, SliceBuf};

const MESSAGES: usize = 10_000;

/// Message `i`: sizes across the three length encodings, a 64 KiB one now and then.
fn message(i: usize) -> Vec<u8> {
    let len = if i % 700 == 6 { 65536 } else { [0, 1, 20, 125, 126, 1000, 4097][i % 7] };
    (0..len).map(|j| b'a' + ((i + j) % 26) as u8).collect()
}

/// A position-sensitive checksum (FNV-1a).
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Whether `inner` lies within `outer` (an empty slice may sit at its end).
fn within(inner: &[u8], outer: core::ops::Range<usize>) -> bool {
    let start = inner.as_ptr() as usize;
    start >= outer.start && start + inner.len() <= outer.end
}

#[test]
fn receive_lends_the_input_buffer() {
    // 10 000 masked messages (text and binary, some fragmented, with pings) in one buffer.
    let mut tx = client(Config::new().max_outgoing_frame(4096));
    let mut wire = Vec::new();
    let mut expected_bytes = 0;
    for i in 0..MESSAGES {
        let m = message(i);
        expected_bytes += m.len();
        if i % 2 == 0 {
            tx.send_binary(&m, &mut wire).unwrap();
        } else {
            tx.send(MessageKind::Text, &m, &mut wire).unwrap();
        }
        if i % 100 == 0 {
            tx.ping(b"hb", &mut wire).unwrap();
        }
    }
    let range = wire.as_ptr_range();
    let range = range.start as usize..range.end as usize;
    let mut rx = server(Config::new());
    let mut replies = Vec::with_capacity(64);
    let replies_at = (replies.as_ptr(), replies.capacity());
    let (mut messages, mut bytes, mut pings) = (0, 0, 0);
    let mut pos = 0;
    loop {
        let r = rx.receive(&mut wire[pos..]).unwrap();
        pos += r.consumed;
        match r.event {
            Some(Event::Data { data, last, .. }) => {
                assert!(within(data, range.clone()), "data is lent from the input, not copied");
                assert!(data.iter().all(u8::is_ascii_lowercase), "unmasked in place");
                bytes += data.len();
                messages += usize::from(last);
            }
            Some(Event::Ping(_)) => {
                pings += 1;
                replies.clear();
                rx.poll_transmit(&mut replies).unwrap();
            }
            Some(other) => panic!("{other:?}"),
            None => break,
        }
    }
    assert_eq!((messages, bytes, pings), (MESSAGES, expected_bytes, MESSAGES / 100));
    assert_eq!(replies, b"\x8a\x02hb", "the pongs were written");
    assert_eq!((replies.as_ptr(), replies.capacity()), replies_at, "the reply buffer never grew");
}

#[test]
fn sending_into_a_reserved_vec_never_grows_it() {
    for role in [Role::Client, Role::Server] {
        let send = |tx: &mut wsproto::Connection, i: usize, out: &mut Vec<u8>| {
            // Sizes across all three length encodings, some over `max_outgoing_frame`.
            let m = &message(i);
            match i % 4 {
                0 => tx.send_binary(m, out).unwrap(),
                1 => tx.send(MessageKind::Text, m, out).unwrap(),
                2 => {
                    let (a, b) = m.split_at(m.len() / 2);
                    tx.send_fragment(MessageKind::Binary, a, false, out).unwrap();
                    tx.ping(b"", out).unwrap();
                    tx.send_fragment(MessageKind::Binary, b, true, out).unwrap();
                }
                _ => tx.pong(b"pong", out).unwrap(),
            }
        };
        let mut tx = conn(role, Config::new().max_outgoing_frame(4096));
        // A dry run on an identical connection (same seeded keys) gives the exact size to reserve.
        let mut dry = conn(role, Config::new().max_outgoing_frame(4096));
        let mut sized = Vec::new();
        for i in 0..MESSAGES {
            send(&mut dry, i, &mut sized);
        }
        let (size, sum) = (sized.len(), checksum(&sized));
        drop(sized);
        let mut out: Vec<u8> = Vec::with_capacity(size);
        let at = (out.as_ptr(), out.capacity());
        for i in 0..MESSAGES {
            send(&mut tx, i, &mut out);
            assert_eq!((out.as_ptr(), out.capacity()), at, "{role:?}: message {i} reallocated the output");
        }
        assert_eq!((out.len(), checksum(&out)), (size, sum), "the same bytes as the dry run");
        // What was written is real traffic.
        let mut rx = conn(role.peer(), Config::new());
        let events = feed(&mut rx, &mut out).ok();
        let messages = logical(&events).iter().filter(|l| matches!(l, Logical::Message(..))).count();
        assert_eq!(messages, MESSAGES / 4 * 3);
    }
}

#[test]
fn sending_into_a_slice_buf() {
    // A SliceBuf borrows fixed storage: the whole send path runs without any heap buffer of
    // its own (it also builds without `alloc`).
    let payloads: Vec<Vec<u8>> = (0..7).map(message).collect();
    for role in [Role::Client, Role::Server] {
        let mut tx = conn(role, Config::new());
        let mut storage = [0u8; 70_000];
        let mut written = 0;
        let mut buf = SliceBuf::new(&mut storage);
        for i in 0..MESSAGES {
            buf.clear();
            tx.send_binary(&payloads[i % 7], &mut buf).unwrap();
            written += buf.len();
        }
        let mask = if role == Role::Client { 4 } else { 0 };
        let expected: usize = (0..MESSAGES)
            .map(|i| {
                let len = payloads[i % 7].len();
                let header = match len {
                    0..=125 => 2,
                    126..=65535 => 4,
                    _ => 10,
                };
                len + mask + header
            })
            .sum();
        assert_eq!(written, expected);
        // The last message (index 9999, a 125-byte one) decodes.
        let mut last = buf.filled().to_vec();
        let mut rx = conn(role.peer(), Config::new());
        assert_eq!(feed(&mut rx, &mut last).ok(), [Ev::binary(&payloads[(MESSAGES - 1) % 7])]);
    }
}

#[test]
fn assembler_reuses_its_buffer_after_warm_up() {
    // Fragmented messages from a server, up to 64 KiB.
    let mut tx = server(Config::new().max_outgoing_frame(1000));
    let mut warm = Vec::new();
    tx.send_binary(&vec![b'a'; 65536], &mut warm).unwrap();
    let mut wire = Vec::new();
    let mut total = 0;
    for i in 0..MESSAGES {
        let m = message(i);
        total += m.len();
        tx.send_binary(&m, &mut wire).unwrap();
    }
    let mut rx = client(Config::new());
    let mut assembler = MessageAssembler::new();
    // Warm-up: one message of the largest size.
    let mut pos = 0;
    loop {
        let r = rx.receive(&mut warm[pos..]).unwrap();
        pos += r.consumed;
        let Some(e) = r.event else { break };
        assembler.push(e).unwrap();
    }
    let capacity = assembler.capacity();
    assert!(capacity >= 65536);

    let wire_range = {
        let r = wire.as_ptr_range();
        r.start as usize..r.end as usize
    };
    let (mut messages, mut bytes, mut gathered_at) = (0, 0, None);
    let mut pos = 0;
    loop {
        let r = rx.receive(&mut wire[pos..]).unwrap();
        pos += r.consumed;
        let Some(e) = r.event else { break };
        let fragmented = matches!(e, Event::Data { first, last, .. } if !(first && last));
        if let Some(Message::Binary(b)) = assembler.push(e).unwrap() {
            messages += 1;
            bytes += b.len();
            assert!(b.iter().all(u8::is_ascii_lowercase));
            if fragmented && !b.is_empty() {
                // Gathered in the assembler's own buffer, always at the same address.
                let at = b.as_ptr() as usize;
                assert!(!within(b, wire_range.clone()));
                assert_eq!(*gathered_at.get_or_insert(at), at, "message {messages} moved the buffer");
            } else {
                assert!(within(b, wire_range.clone()), "a whole message is lent, not copied");
            }
        }
        assert_eq!(assembler.capacity(), capacity, "the buffer never grew");
    }
    assert_eq!((messages, bytes), (MESSAGES, total));
    assert!(gathered_at.is_some(), "some messages were gathered");
}
