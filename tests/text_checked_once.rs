//! Received text is checked for UTF-8 once: a whole text message goes through one check, which
//! is also the call that lends it as `&str`, whether it is taken as an event, through
//! `MessageAssembler` or through a receive buffer. Counted with
//! `wsproto::utf8::bytes_checked_on_this_thread` (bytes run through a UTF-8 check; debug builds
//! only), which is machine-independent, unlike a timing.
#![cfg(debug_assertions)]

mod common;

use common::*;
use wsproto::utf8::bytes_checked_on_this_thread as checked;
use wsproto::{Config, Event, Message, MessageAssembler, MessageKind, ReceiveBuffer, SliceReceiveBuffer};

/// 100 text messages of mixed UTF-8, one frame each, as a client sends them.
fn text_stream() -> (Vec<u8>, Vec<String>) {
    let mut tx = client(Config::new());
    let mut wire = Vec::new();
    let mut texts = Vec::new();
    for i in 0..100 {
        let text = format!("message {i}: héllo wörld, €uro, 日本語, 🦀 {}", "x".repeat(i * 7));
        tx.send_text(&text, &mut wire).unwrap();
        texts.push(text);
    }
    (wire, texts)
}

fn total(texts: &[String]) -> u64 {
    texts.iter().map(|t| t.len() as u64).sum()
}

#[test]
fn whole_text_frames_as_events_are_checked_once_and_lent_as_str() {
    let (mut wire, texts) = text_stream();
    let mut rx = server(Config::new());
    let before = checked();
    let mut pos = 0;
    let mut got = Vec::new();
    while let Some(event) = {
        let r = rx.receive(&mut wire[pos..]).unwrap();
        pos += r.consumed;
        r.event
    } {
        let Event::Data { kind: MessageKind::Text, data, first: true, last: true, text: Some(text) } = event else {
            panic!("{event:?}")
        };
        assert_eq!(text.as_bytes(), data);
        got.push(text.to_owned());
    }
    assert_eq!(got, texts);
    assert_eq!(checked() - before, total(&texts));
}

#[test]
fn the_assembler_checks_a_whole_text_message_once() {
    let (mut wire, texts) = text_stream();
    let mut rx = server(Config::new());
    let mut assembler = MessageAssembler::new();
    let before = checked();
    let mut pos = 0;
    let mut got = Vec::new();
    loop {
        let r = rx.receive(&mut wire[pos..]).unwrap();
        pos += r.consumed;
        let Some(event) = r.event else { break };
        if let Some(Message::Text(text)) = assembler.push(event).unwrap() {
            got.push(text.to_owned());
        }
    }
    assert_eq!(got, texts);
    // The assembler took the connection's `&str`: no second check.
    assert_eq!(checked() - before, total(&texts));
}

#[test]
fn the_assembler_uses_the_events_text_without_checking_again() {
    // Behaviour, not a count: an event that lends `text` is taken as that text.
    let mut assembler = MessageAssembler::new();
    let event = Event::Data { kind: MessageKind::Text, data: b"abc", first: true, last: true, text: Some("abc") };
    let before = checked();
    assert_eq!(assembler.push(event).unwrap(), Some(Message::Text("abc")));
    assert_eq!(checked() - before, 0);
    // Without it (an event built by hand), the assembler checks the bytes itself, and says so.
    let bad = Event::Data { kind: MessageKind::Text, data: &[b'a', 0xff], first: true, last: true, text: None };
    assert_eq!(assembler.push(bad), Err(wsproto::Error::InvalidUtf8 { offset: 1 }));
}

#[test]
fn both_receive_buffers_check_a_whole_text_message_once() {
    let (wire, texts) = text_stream();
    for read in [64 * 1024, 1 << 20] {
        let mut rx = server(Config::new());
        let mut buf = ReceiveBuffer::new();
        let before = checked();
        let mut got = Vec::new();
        for chunk in wire.chunks(read) {
            buf.extend_from_slice(chunk);
            while let Some(m) = buf.next_message(&mut rx).unwrap() {
                let Message::Text(text) = m else { panic!("{m:?}") };
                got.push(text.to_owned());
            }
        }
        assert_eq!(got, texts);
        // With 64 KiB reads a few messages are cut by a read: checked as pieces when they
        // arrive (fail fast), then once as a whole. Every other message: once.
        let cut: u64 = cut_messages(&wire, &texts, read);
        assert_eq!(checked() - before, total(&texts) + cut, "reads of {read}");
    }

    let mut rx = server(Config::new());
    let mut storage = vec![0u8; wire.len()];
    let mut buf = SliceReceiveBuffer::new(&mut storage);
    buf.extend_from_slice(&wire).unwrap();
    let before = checked();
    let mut n = 0;
    while let Some(m) = buf.next_message(&mut rx).unwrap() {
        assert!(matches!(m, Message::Text(_)));
        n += 1;
    }
    assert_eq!(n, texts.len());
    assert_eq!(checked() - before, total(&texts));
}

/// The bytes of the messages of `wire` (one frame each, `texts` in order) that a read of
/// `read` bytes cuts in two.
fn cut_messages(wire: &[u8], texts: &[String], read: usize) -> u64 {
    let mut pos = 0;
    let mut bytes = 0;
    for (frame, text) in parse_frames(wire).iter().zip(texts) {
        let len = 2 + frame.ext_len + 4 + frame.payload.len();
        if pos / read != (pos + len - 1) / read {
            bytes += text.len() as u64;
        }
        pos += len;
    }
    bytes
}

#[test]
fn a_fragmented_text_message_is_checked_as_pieces_then_once_as_a_whole() {
    // The pieces are checked as they arrive, so that invalid UTF-8 fails before the rest of
    // the message is waited for (1007, fail fast); safe Rust needs one more check of the
    // gathered bytes to lend them as one `&str`. A character cut between two fragments is
    // checked once with each piece: no piece is checked twice.
    let text = "fragmenté, 日本語 🦀".repeat(20);
    let bytes = text.as_bytes();
    let mut tx = client(Config::new());
    let mut wire = Vec::new();
    let cuts = [0, 7, 8, 100, 101, 102, 250, bytes.len()];
    for w in cuts.windows(2) {
        tx.send_fragment(MessageKind::Text, &bytes[w[0]..w[1]], w[1] == bytes.len(), &mut wire).unwrap();
    }

    let mut rx = server(Config::new());
    let mut assembler = MessageAssembler::new();
    let mut input = wire.clone();
    let before = checked();
    let mut pos = 0;
    let mut got = None;
    loop {
        let r = rx.receive(&mut input[pos..]).unwrap();
        pos += r.consumed;
        let Some(event) = r.event else { break };
        if let Some(Message::Text(t)) = assembler.push(event).unwrap() {
            got = Some(t.to_owned());
        }
    }
    assert_eq!(got.as_deref(), Some(text.as_str()));
    assert_eq!(checked() - before, 2 * bytes.len() as u64);

    let mut rx = server(Config::new());
    let mut buf = ReceiveBuffer::new();
    buf.extend_from_slice(&wire);
    let before = checked();
    let Some(Message::Text(t)) = buf.next_message(&mut rx).unwrap() else { panic!() };
    assert_eq!(t, text);
    assert_eq!(checked() - before, 2 * bytes.len() as u64);
}

#[cfg(feature = "deflate")]
#[test]
fn compressed_text_is_checked_once() {
    use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
    let pmd = PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new().min_size(0));
    let mut tx = client(Config::new()).with_deflate(pmd);
    let mut wire = Vec::new();
    let texts: Vec<String> = (0..20).map(|i| format!("{{\"n\":{i},\"s\":\"héllo\"}}").repeat(10)).collect();
    for t in &texts {
        tx.send_text(t, &mut wire).unwrap();
    }
    let mut rx = server(Config::new()).with_deflate(pmd);
    let mut buf = ReceiveBuffer::new();
    buf.extend_from_slice(&wire);
    let before = checked();
    let mut got = Vec::new();
    while let Some(m) = buf.next_message(&mut rx).unwrap() {
        let Message::Text(t) = m else { panic!() };
        got.push(t.to_owned());
    }
    assert_eq!(got, texts);
    assert_eq!(checked() - before, total(&texts));
}

#[test]
fn a_piece_cut_inside_a_character_is_checked_once() {
    // The streaming path: a frame cut by reads in the middle of characters. Each piece is
    // checked once (the cut character is set aside, not checked twice).
    let text = "€".repeat(1000);
    let mut wire = Vec::new();
    client(Config::new()).send_text(&text, &mut wire).unwrap();
    let mut rx = server(Config::new());
    let before = checked();
    let cuts: Vec<usize> = (1..wire.len()).step_by(101).collect();
    let fed = feed_split(&mut rx, &wire, &cuts);
    assert_eq!(logical(&fed.ok()), [Logical::Message(MessageKind::Text, text.clone().into_bytes())]);
    assert_eq!(checked() - before, text.len() as u64);
}

/// The blocking adapter lends a received text message after one check, and a message that is
/// not UTF-8 fails with 1007 after its Close frame went out (it checked every text message
/// twice before: the borrow checker kept it from lending and writing in the same call).
#[cfg(unix)]
#[test]
fn the_blocking_adapter_checks_a_text_message_once() {
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    use wsproto::adapters::WsError;
    use wsproto::adapters::blocking::WebSocket;

    let (ours, mut theirs) = UnixStream::pair().unwrap();
    let (wire, texts) = text_stream();
    // Then a text frame that is not UTF-8, masked with a zero key (a client's API refuses it).
    let bad = [0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe];
    std::io::Write::write_all(&mut theirs, &wire).unwrap();
    std::io::Write::write_all(&mut theirs, &bad).unwrap();

    let mut ws = WebSocket::from_connection(ours, server(Config::new()), &[]);
    let before = checked();
    for text in &texts {
        assert_eq!(ws.recv().unwrap(), Message::Text(text));
    }
    assert_eq!(checked() - before, total(&texts), "every text byte checked once");
    match ws.recv() {
        Err(WsError::Protocol(e)) => assert_eq!(e.close_code().map(u16::from), Some(1007)),
        other => panic!("{other:?}"),
    }
    // Our Close frame 1007 went out: 0x88, length, then the code.
    let mut head = [0u8; 4];
    theirs.read_exact(&mut head).unwrap();
    assert_eq!((head[0], &head[2..]), (0x88, &1007u16.to_be_bytes()[..]));
}
