//! Memory of the receive buffers follows the bytes that arrive, never the length a frame
//! header announces: a peer that announces a 16 MiB frame and sends a few bytes makes the
//! buffer hold no more than a read's worth (the owned buffer), and a fixed buffer refuses the
//! frame at once with 1009. The growth while the bytes do arrive is at most twice what is held.
#![cfg(feature = "alloc")]

use wsproto::{CloseCode, Config, Connection, Error, Message, ReceiveBuffer, Role, SliceReceiveBuffer};

const READ: usize = 16 * 1024;

/// A masked binary frame header announcing `len` payload bytes (64-bit length form), then
/// `sent` bytes of that payload.
fn announced(len: u64, sent: usize) -> Vec<u8> {
    let mut wire = vec![0x82, 0x80 | 127];
    wire.extend_from_slice(&len.to_be_bytes());
    wire.extend_from_slice(&[1, 2, 3, 4]);
    wire.extend(std::iter::repeat_n(0x55, sent));
    wire
}

fn feed(buf: &mut ReceiveBuffer, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let free = buf.free_space();
        let n = free.len().min(bytes.len());
        free[..n].copy_from_slice(&bytes[..n]);
        buf.filled(n);
        bytes = &bytes[n..];
    }
}

#[test]
fn an_announced_length_allocates_nothing_until_its_bytes_arrive() {
    let mut conn = Connection::new(Role::Server, Config::new());
    let mut buf = ReceiveBuffer::with_read_size(READ);
    feed(&mut buf, &announced(16 << 20, 100));
    assert!(buf.next_message(&mut conn).unwrap().is_none());
    // A read's worth and a header, not 16 MiB.
    assert!(buf.capacity() <= 3 * READ, "{} bytes held for 100 bytes received", buf.capacity());
}

#[test]
fn while_the_bytes_arrive_the_buffer_holds_at_most_twice_what_came() {
    let total = 4 << 20;
    let mut conn = Connection::new(Role::Server, Config::new());
    let mut buf = ReceiveBuffer::with_read_size(READ);
    let wire = announced(total as u64, total);
    let mut fed = 0;
    let mut got = None;
    for chunk in wire.chunks(READ) {
        feed(&mut buf, chunk);
        fed += chunk.len();
        if let Some(Message::Binary(data)) = buf.next_message(&mut conn).unwrap() {
            got = Some(data.len());
        }
        assert!(buf.capacity() <= 2 * fed + 2 * READ, "{} bytes held after {fed} received", buf.capacity());
    }
    assert_eq!(got, Some(total));
}

#[test]
fn a_fixed_buffer_refuses_a_frame_that_cannot_fit_at_once() {
    let mut conn = Connection::new(Role::Server, Config::new());
    let mut space = [0u8; 4096];
    let mut buf = SliceReceiveBuffer::new(&mut space);
    let wire = announced(1 << 20, 100);
    let free = buf.free_space();
    free[..wire.len()].copy_from_slice(&wire);
    buf.filled(wire.len());
    let err = buf.next_message(&mut conn).unwrap_err();
    assert_eq!(err.close_code(), Some(CloseCode::MESSAGE_TOO_BIG), "{err:?}");
    assert!(matches!(err, Error::LimitExceeded(_)), "{err:?}");
}
