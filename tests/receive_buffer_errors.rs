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

/// A `Found` given to `message` after the buffer moved on (fed, or asked for the next message)
/// is refused with `Misuse::StaleFound`, a caller's error that leaves the connection and the
/// buffer as they were: the message is found again and read whole.
#[test]
fn a_stale_found_is_refused_and_harms_nothing() {
    use wsproto::{Error, Message, Misuse, SliceReceiveBuffer, State};
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(4));
    let mut wire = Vec::new();
    client.send_text("first", &mut wire).unwrap();
    client.send_text("second", &mut wire).unwrap();
    let (one, two) = wire.split_at(11); // "first": 2 + 4 + 5 bytes

    let mut server = Connection::new(Role::Server, Config::new());
    let mut buf = ReceiveBuffer::new();
    buf.extend_from_slice(one);
    let found = buf.next(&mut server).unwrap().expect("a whole message");
    // Fed after `next`: the bytes it points at may have moved.
    buf.extend_from_slice(two);
    assert_eq!(buf.message(found, &mut server), Err(Error::Misuse(Misuse::StaleFound)));
    assert_eq!(server.state(), State::Open);
    // The buffer goes on: the next message is the second one (the first was consumed by
    // `next`), read whole.
    assert_eq!(buf.next_message(&mut server).unwrap(), Some(Message::Text("second")));

    // Asked for the next message: the earlier `Found` is stale, the new one is good.
    let mut server = Connection::new(Role::Server, Config::new());
    let mut space = [0u8; 256];
    let mut slice = SliceReceiveBuffer::new(&mut space);
    slice.extend_from_slice(&wire).unwrap();
    let first = slice.next(&mut server).unwrap().unwrap();
    let second = slice.next(&mut server).unwrap().unwrap();
    assert_eq!(slice.message(first, &mut server), Err(Error::Misuse(Misuse::StaleFound)));
    assert_eq!(slice.message(second, &mut server).unwrap(), Message::Text("second"));
}
