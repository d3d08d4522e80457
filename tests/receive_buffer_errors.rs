//! Errors from the receive buffers are sticky: once the connection has failed, every later
//! call repeats the error, also when nothing is buffered (a caller that asks again never reads
//! on as if nothing happened).
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
