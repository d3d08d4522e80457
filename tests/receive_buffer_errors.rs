//! Errors from the receive buffers are sticky: once the connection has failed, every later
//! call repeats the error, also when nothing is buffered (a caller that asks again never reads
//! on as if nothing happened). A stale `Found` is a caller's error that harms nothing.
#![cfg(feature = "alloc")]

use wsproto::{CloseCode, Config, Connection, KeySource, ReceiveBuffer, Role};

#[test]
fn a_failure_repeats_with_nothing_buffered() {
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(3));
    let mut wire = Vec::new();
    // A text frame whose payload is not UTF-8 (the client's send checks text, so the frame is
    // built as binary and its opcode changed to text).
    client.send_binary(&[0xff, 0xfe, 0xfd], &mut wire).unwrap();
    wire[0] = 0x81;
    let mut server = Connection::new(Role::Server, Config::new());
    let mut buf = ReceiveBuffer::new();
    let free = buf.free_space();
    free[..wire.len()].copy_from_slice(&wire);
    buf.filled(wire.len());
    let first = buf.next_message(&mut server).unwrap_err();
    assert_eq!(first.close_code(), Some(CloseCode::INVALID_PAYLOAD), "{first:?}");
    for _ in 0..3 {
        let again = buf.next_message(&mut server).unwrap_err();
        assert_eq!(again, first);
    }
}

/// A `Found` given to `message` after the buffer moved on (asked for the next message, or
/// moved what it keeps to make room) is refused with `Misuse::StaleFound`, a caller's error
/// that leaves the connection and the buffer as they were. Feeding that moves nothing keeps it
/// good.
#[test]
fn a_stale_found_is_refused_and_harms_nothing() {
    use wsproto::{Error, Message, Misuse, SliceReceiveBuffer, State};
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(4));
    let mut wire = Vec::new();
    client.send_text("first", &mut wire).unwrap();
    client.send_text("second", &mut wire).unwrap();
    let (one, two) = wire.split_at(11); // "first": 2 + 4 + 5 bytes

    // Fed after `next` with room to spare: nothing moved, the `Found` is still good.
    let mut server = Connection::new(Role::Server, Config::new());
    let mut buf = ReceiveBuffer::new();
    buf.extend_from_slice(one);
    let found = buf.next(&mut server).unwrap().expect("a whole message");
    buf.extend_from_slice(two);
    assert_eq!(buf.message(found, &mut server).unwrap(), Message::Text("first"));
    assert_eq!(buf.next_message(&mut server).unwrap(), Some(Message::Text("second")));

    // Asked for the next message: the earlier `Found` is stale, the new one is good.
    let mut server = Connection::new(Role::Server, Config::new());
    let mut space = [0u8; 256];
    let mut slice = SliceReceiveBuffer::new(&mut space);
    slice.extend_from_slice(&wire).unwrap();
    let first = slice.next(&mut server).unwrap().unwrap();
    let second = slice.next(&mut server).unwrap().unwrap();
    assert_eq!(slice.message(first, &mut server), Err(Error::Misuse(Misuse::StaleFound)));
    assert_eq!(server.state(), State::Open);
    assert_eq!(slice.message(second, &mut server).unwrap(), Message::Text("second"));

    // Fed so that the buffer moves what it keeps to the front: stale.
    let mut server = Connection::new(Role::Server, Config::new());
    let mut space = [0u8; 20];
    let mut slice = SliceReceiveBuffer::new(&mut space);
    slice.extend_from_slice(one).unwrap();
    let first = slice.next(&mut server).unwrap().unwrap();
    slice.extend_from_slice(two).unwrap(); // 11 + 12 bytes in 20: room made by moving
    let got = slice.message(first, &mut server);
    assert_eq!(got, Err(Error::Misuse(Misuse::StaleFound)));
    assert_eq!(slice.next_message(&mut server).unwrap(), Some(Message::Text("second")));
}
