//! A quick end-to-end check of permessage-deflate: the RFC 7692 examples and a round trip
//! through a tiny scratch buffer.
#![cfg(feature = "deflate")]
use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
use wsproto::{Config, Connection, Event, KeySource, Role};

fn pair() -> (Connection, Connection) {
    let pmd = PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new().min_size(0));
    let c = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::seeded(1)).with_deflate(pmd);
    let s = Connection::new(Role::Server, Config::new()).with_deflate(pmd);
    (c, s)
}

#[test]
fn rfc7692_examples() {
    let (mut client, _) = pair();
    let mut scratch = [0u8; 64];
    for frames in [
        &[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00][..],
        &[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00][..],
        &[0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00][..],
        &[0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00][..],
        &[0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00][..],
    ] {
        let mut input = frames.to_vec();
        let mut text = Vec::new();
        let mut pos = 0;
        loop {
            let r = client.receive_into(&mut input[pos..], &mut scratch).unwrap();
            pos += r.consumed;
            match r.event {
                Some(Event::Data { data, .. }) => text.extend_from_slice(data),
                Some(e) => panic!("{e:?}"),
                None => break,
            }
        }
        assert_eq!(text, b"Hello", "{frames:x?}");
    }
}

#[test]
fn round_trip_small_scratch() {
    let (mut client, mut server) = pair();
    let msg: Vec<u8> = (0..100_000u32).map(|i| (i % 7) as u8 + b'a').collect();
    let mut wire = Vec::new();
    for _ in 0..3 {
        client.send_binary(&msg, &mut wire).unwrap();
    }
    assert!(wire.len() < msg.len() / 10, "{}", wire.len());
    let mut scratch = [0u8; 1000];
    let mut got = Vec::new();
    let mut pos = 0;
    let mut lasts = 0;
    loop {
        let r = server.receive_into(&mut wire[pos..], &mut scratch).unwrap();
        pos += r.consumed;
        match r.event {
            Some(Event::Data { data, last, .. }) => {
                got.extend_from_slice(data);
                lasts += usize::from(last);
            }
            Some(e) => panic!("{e:?}"),
            None => break,
        }
    }
    assert_eq!(lasts, 3);
    assert_eq!(got.len(), msg.len() * 3);
    assert!(got.chunks(msg.len()).all(|c| c == msg));
}

/// A compressed message whose inflated size is exactly the scratch size: its end comes out of a
/// call with no new input, which `has_pending_data` announces.
#[test]
fn output_ending_on_the_scratch_boundary() {
    let (mut client, mut server) = pair();
    let msg = vec![b'x'; 4096];
    let mut wire = Vec::new();
    client.send_binary(&msg, &mut wire).unwrap();
    let mut scratch = vec![0u8; 4096];
    let r = server.receive_into(&mut wire, &mut scratch).unwrap();
    let Some(Event::Data { data, first: true, .. }) = r.event else { panic!("{:?}", r.event) };
    assert_eq!(data.len(), 4096);
    let mut got = data.len();
    let mut ended = matches!(r.event, Some(Event::Data { last: true, .. }));
    while !ended {
        assert!(server.has_pending_data());
        let r = server.receive_into(&mut [], &mut scratch).unwrap();
        let Some(Event::Data { data, last, .. }) = r.event else { panic!("{:?}", r.event) };
        got += data.len();
        ended = last;
    }
    assert_eq!(got, 4096);
    assert!(!server.has_pending_data());
}

/// `c1 00` (RSV1, empty payload) is not valid DEFLATE data; it is read as an empty message and
/// leaves the decompressor ready for the next message.
#[test]
fn empty_compressed_payload_is_an_empty_message() {
    let pmd = PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new());
    let mut client = Connection::new(Role::Client, Config::new()).with_deflate(pmd);
    let mut input = vec![0xc1, 0x00, 0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let mut scratch = [0u8; 64];
    let mut messages = Vec::new();
    let mut current = Vec::new();
    let mut pos = 0;
    loop {
        let r = client.receive_into(&mut input[pos..], &mut scratch).unwrap();
        pos += r.consumed;
        match r.event {
            Some(Event::Data { data, last, .. }) => {
                current.extend_from_slice(data);
                if last {
                    messages.push(std::mem::take(&mut current));
                }
            }
            Some(e) => panic!("{e:?}"),
            None => break,
        }
    }
    assert_eq!(messages, [b"".to_vec(), b"Hello".to_vec()]);
}

/// Drives `receive_into` over `reads` (calling again with no input while `has_pending_data`),
/// returning the data handed out and the error, if any.
fn drive(conn: &mut Connection, reads: &[&[u8]], scratch: &mut [u8]) -> (Vec<u8>, Option<wsproto::Error>) {
    let mut data = Vec::new();
    for read in reads {
        let mut input = read.to_vec();
        let mut pos = 0;
        loop {
            let r = match conn.receive_into(&mut input[pos..], scratch) {
                Ok(r) => r,
                Err(e) => return (data, Some(e)),
            };
            pos += r.consumed;
            match r.event {
                Some(Event::Data { data: d, .. }) => data.extend_from_slice(d),
                Some(e) => panic!("{e:?}"),
                None if conn.has_pending_data() => {}
                None => break,
            }
        }
    }
    (data, None)
}

/// Fuzzer find (fuzz/regressions/frame_decode/deflate-output-held-in-inflater): with a tiny
/// scratch buffer, output that zlib holds after the buffer filled must come out without new
/// input, so that any split of the input gives the same result.
#[test]
fn output_held_in_the_inflater_comes_out_without_new_input() {
    let frame: &[u8] = &[0xc1, 0x9c, 0xfe, 0xff, 0x0e, 0x00, 0xf5, 0x75, 0x6b, 0x01, 0xdc, 0x00, 0x00];
    let pmd = PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new());
    let mut results = Vec::new();
    for reads in [vec![frame], vec![&frame[..4], &frame[4..12], &frame[12..]], frame.chunks(1).collect()] {
        let mut server = Connection::new(Role::Server, Config::new()).with_deflate(pmd);
        let mut scratch = [0u8; 7];
        results.push(drive(&mut server, &reads, &mut scratch));
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
    assert!(matches!(results[0].1, Some(wsproto::Error::InvalidUtf8 { offset: 7 })), "{:?}", results[0]);
}
