//! The `Extension` hook: a toy run-length extension (`examples/toy_extension.rs`, RSV2)
//! negotiated through the handshake's generic extension offer and accept, run between a client
//! and a server in memory; the rules the connection applies around any extension (reserved
//! bits, one extension per connection, bounded output, errors and their close codes).
#![cfg(feature = "alloc")]

mod common;
#[path = "../examples/toy_extension.rs"]
mod toy;

use common::*;
use toy::{CUT_RUN, ToyRle, ZERO_RUN, negotiated_pair};
use wsproto::frame::{RSV1, RSV2, RSV3};
use wsproto::{
    Config, Connection, Decoded, Error, Event, Extension, Limit, MessageKind, Misuse, ProtocolViolation, Role,
    SliceBuf, State,
};

/// Feeds all of `input` through `receive_into` until it is consumed (returns `true`) or an
/// error (recorded in `fed`, returns `false`), checking the receive contract on the way.
fn feed(conn: &mut Connection, input: &mut [u8], scratch: &mut [u8], fed: &mut Fed) -> bool {
    let total = input.len();
    let room = scratch.len();
    let mut pos = 0;
    loop {
        match conn.receive_into(&mut input[pos..], scratch) {
            Ok(r) => {
                assert!(r.consumed <= total - pos, "consumed more than given");
                pos += r.consumed;
                fed.consumed += r.consumed;
                let Some(event) = r.event else {
                    assert_eq!(pos, total, "event None must mean all input was consumed");
                    assert!(!conn.has_pending_data(), "nothing may wait once the input is used up");
                    return true;
                };
                if let Event::Data { data, last, .. } = event {
                    assert!(data.len() <= room.max(total), "more than the scratch buffer at once");
                    assert!(r.consumed > 0 || !data.is_empty() || last, "an event without progress");
                }
                fed.events.push(Ev::from_event(&event));
            }
            Err(e) => {
                fed.error = Some(e);
                return false;
            }
        }
    }
}

/// Feeds a copy of `bytes` in chunks of `chunk` bytes with a scratch buffer of `scratch_len`.
fn feed_chunks(conn: &mut Connection, bytes: &[u8], chunk: usize, scratch_len: usize) -> Fed {
    let mut buf = bytes.to_vec();
    let mut scratch = vec![0u8; scratch_len];
    let mut fed = Fed::default();
    for piece in buf.chunks_mut(chunk.max(1)) {
        if !feed(conn, piece, &mut scratch, &mut fed) {
            break;
        }
    }
    fed
}

/// A server running the toy extension, without a handshake.
fn toy_server(config: Config) -> Connection {
    server(config).with_extension(Box::new(ToyRle::default())).unwrap()
}

/// A toy payload as the peer writes it: `(count, byte)` pairs.
fn runs(pairs: &[(u8, u8)]) -> Vec<u8> {
    pairs.iter().flat_map(|&(n, b)| [n, b]).collect()
}

#[test]
fn negotiated_in_the_handshake_and_run_both_ways() {
    let (mut client, mut server) = negotiated_pair(Config::new(), Config::new().max_outgoing_frame(7));
    assert!(client.needs_scratch() && server.needs_scratch());

    let text = "aaaaaaaaaa€€€€ bbbbbbbbbbbb";
    let binary = [0u8, 0, 0, 0, 0, 9, 9, 9, 1];
    let mut to_server = Vec::new();
    client.send_text(text, &mut to_server).unwrap();
    client.send_binary(&binary, &mut to_server).unwrap();
    client.send(MessageKind::Text, b"", &mut to_server).unwrap();
    // Whole messages go out encoded, RSV2 on their (only) frame, shorter than they were.
    let frames = parse_frames(&to_server);
    assert_eq!(frames.iter().map(|f| f.rsv).collect::<Vec<_>>(), [RSV2, RSV2, RSV2]);
    assert!(frames[0].payload.len() < text.len(), "{:?}", frames[0]);
    assert_eq!(frames[1].payload, runs(&[(5, 0), (3, 9), (1, 1)]));

    let fed = feed_chunks(&mut server, &to_server, to_server.len(), 64);
    assert_eq!(
        logical(&fed.ok()),
        [
            Logical::Message(MessageKind::Text, text.as_bytes().to_vec()),
            Logical::Message(MessageKind::Binary, binary.to_vec()),
            Logical::Message(MessageKind::Text, Vec::new()),
        ]
    );

    // The server's frames are at most 7 bytes: an encoded message spans several frames, RSV2
    // on the first only.
    let reply = "x".repeat(300) + &"y".repeat(300);
    let mut to_client = Vec::new();
    server.send_text(&reply, &mut to_client).unwrap();
    let frames = parse_frames(&to_client);
    // (255 x)(45 x)(255 y)(45 y): 8 payload bytes, in frames of 7 and 1.
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert_eq!((frames[0].rsv, frames[0].opcode, frames[0].fin), (RSV2, 0x1, false));
    assert_eq!((frames[1].rsv, frames[1].opcode, frames[1].fin), (0, 0x0, true));
    for scratch in [1, 7, 255, 4096] {
        let (mut client, _) = negotiated_pair(Config::new(), Config::new());
        for chunk in [1, 3, to_client.len()] {
            let fed = feed_chunks(&mut client, &to_client, chunk, scratch);
            assert_eq!(logical(&fed.ok()), [Logical::Message(MessageKind::Text, reply.clone().into_bytes())]);
        }
    }
    let fed = feed_chunks(&mut client, &to_client, 5, 100);
    assert_eq!(logical(&fed.ok()), [Logical::Message(MessageKind::Text, reply.into_bytes())]);
}

#[test]
fn not_negotiated_means_not_run_and_rsv2_is_refused() {
    // The server did not accept the extension: neither side runs it.
    let (mut client, mut server) = {
        let mut request = Vec::new();
        let mut hs = wsproto::handshake::ClientRequest::new("ws://localhost/")
            .unwrap()
            .with_extension(wsproto::handshake::ExtensionOffer::new(toy::NAME))
            .write(&mut request)
            .unwrap();
        let Ok(wsproto::handshake::ServerStatus::Upgrade(upgrade)) =
            wsproto::handshake::ServerHandshake::new().feed(&request)
        else {
            panic!()
        };
        let mut response = Vec::new();
        let server_side = upgrade.accept(&wsproto::handshake::Accept::new(), &mut response).unwrap();
        let Ok(wsproto::handshake::ClientStatus::Upgraded { negotiated, .. }) = hs.feed(&response) else { panic!() };
        assert!(ToyRle::from_negotiated(&negotiated).is_none() && ToyRle::from_negotiated(&server_side).is_none());
        (
            Connection::new(Role::Client, Config::new()).with_negotiated(&negotiated),
            Connection::new(Role::Server, Config::new()).with_negotiated(&server_side),
        )
    };
    assert!(!client.needs_scratch() && !server.needs_scratch());
    let mut wire = Vec::new();
    client.send_binary(&[7; 40], &mut wire).unwrap();
    assert_eq!(parse_frames(&wire)[0].rsv, 0);

    // A peer that sets RSV2 anyway breaks RFC 6455 §5.2: 1002.
    let rsv2 = FrameBuilder::new(0x2).rsv(RSV2).mask(KEY).payload(&runs(&[(3, 1)])).build();
    let err = feed_copy(&mut server, &rsv2).err();
    assert_eq!(err, Error::Protocol(ProtocolViolation::ReservedBits));
    assert_failed_with(&mut server, err, 1002);
}

#[test]
fn bits_of_the_extension_only_on_a_first_data_frame() {
    let mut scratch = [0u8; 64];
    // RSV2 on a control frame: 1002, whatever the extension owns.
    let mut server = toy_server(Config::new());
    let mut ping = FrameBuilder::new(0x9).rsv(RSV2).mask(KEY).payload(b"hi").build();
    let mut fed = Fed::default();
    assert!(!feed(&mut server, &mut ping, &mut scratch, &mut fed));
    assert_eq!(fed.error, Some(Error::Protocol(ProtocolViolation::ReservedBits)));
    assert_eq!(server.state(), State::Failed);
    assert_one_close(&transmit(&mut server), Role::Server, 1002);

    // RSV2 on a continuation frame: 1002 (the first frame marks the message).
    let mut server = toy_server(Config::new());
    let mut wire = FrameBuilder::new(0x2).fin(false).rsv(RSV2).mask(KEY).payload(&[2]).build();
    wire.extend(FrameBuilder::new(0x0).rsv(RSV2).mask(KEY).payload(b"z").build());
    let mut fed = Fed::default();
    assert!(!feed(&mut server, &mut wire, &mut scratch, &mut fed));
    assert_eq!(fed.error, Some(Error::Protocol(ProtocolViolation::ReservedBits)));
    assert_one_close(&transmit(&mut server), Role::Server, 1002);

    // RSV3, which no extension owns here: 1002.
    let mut server = toy_server(Config::new());
    let mut rsv3 = FrameBuilder::new(0x1).rsv(RSV3).mask(KEY).payload(b"x").build();
    let mut fed = Fed::default();
    assert!(!feed(&mut server, &mut rsv3, &mut scratch, &mut fed));
    assert_eq!(fed.error, Some(Error::Protocol(ProtocolViolation::ReservedBits)));
}

#[test]
fn a_transformed_message_in_several_frames_with_a_ping_between() {
    let payload = runs(&[(4, b'a'), (2, b'b'), (3, b'c')]);
    let mut wire = FrameBuilder::new(0x1).fin(false).rsv(RSV2).mask(KEY).payload(&payload[..3]).build();
    wire.extend(FrameBuilder::new(0x9).mask(KEY).payload(b"ping").build());
    wire.extend(FrameBuilder::new(0x0).fin(false).mask(KEY).payload(&[]).build());
    wire.extend(FrameBuilder::new(0x0).mask(KEY).payload(&payload[3..]).build());
    // Then an untransformed message (RSV2 clear), handed out as it came.
    wire.extend(FrameBuilder::new(0x2).mask(KEY).payload(&[4, b'a']).build());
    for chunk in 1..=wire.len() {
        for scratch in [1, 2, 5, 100] {
            let mut server = toy_server(Config::new());
            let fed = feed_chunks(&mut server, &wire, chunk, scratch);
            assert_eq!(
                logical(&fed.ok()),
                [
                    Logical::Ping(b"ping".to_vec()),
                    Logical::Message(MessageKind::Text, b"aaaabbccc".to_vec()),
                    Logical::Message(MessageKind::Binary, vec![4, b'a']),
                ],
                "chunk {chunk}, scratch {scratch}"
            );
        }
    }
}

#[test]
fn untransformed_messages_are_lent_from_the_input() {
    let mut server = toy_server(Config::new());
    let mut wire = FrameBuilder::new(0x2).mask(KEY).payload(b"as it is").build();
    let mut scratch = [0u8; 16];
    let range = wire.as_ptr_range();
    let r = server.receive_into(&mut wire, &mut scratch).unwrap();
    let Some(Event::Data { data, first: true, last: true, .. }) = r.event else { panic!("{:?}", r.event) };
    assert_eq!(data, b"as it is");
    assert!(range.contains(&data.as_ptr()), "zero-copy: the payload is unmasked in place");
}

#[test]
fn output_larger_than_the_scratch_buffer_comes_out_across_calls() {
    // 8 wire bytes stand for 1020 bytes of text.
    let payload = runs(&[(255, b'a'), (255, b'b'), (255, b'c'), (255, b'd')]);
    let mut wire = FrameBuilder::new(0x1).rsv(RSV2).mask(KEY).payload(&payload).build();
    let mut server = toy_server(Config::new());
    let mut scratch = [0u8; 7];
    let mut got = Vec::new();
    let mut pos = 0;
    let mut calls = 0;
    loop {
        calls += 1;
        let r = server.receive_into(&mut wire[pos..], &mut scratch).unwrap();
        pos += r.consumed;
        match r.event {
            Some(Event::Data { data, first, last, .. }) => {
                assert!(data.len() <= 7);
                assert_eq!(first, got.is_empty());
                got.extend_from_slice(data);
                if last {
                    break;
                }
                // All the input was taken at once; the rest waits inside the extension.
                assert!(server.has_pending_data());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(pos, wire.len());
    assert_eq!(got.len(), 1020);
    assert!(got[..255].iter().all(|&b| b == b'a') && got[765..].iter().all(|&b| b == b'd'));
    assert_eq!(calls, 1020_usize.div_ceil(7));
    assert!(!server.has_pending_data());
    // Calls with empty input hand out what waits, and nothing once it is out.
    let r = server.receive_into(&mut [], &mut scratch).unwrap();
    assert_eq!((r.consumed, r.event.is_none()), (0, true));
}

#[test]
fn the_message_size_limit_counts_decoded_bytes() {
    // 4 wire bytes, 510 decoded bytes, over a 300-byte limit: 1009, after at most one scratch
    // buffer of output.
    let payload = runs(&[(255, 1), (255, 2)]);
    let wire = FrameBuilder::new(0x2).rsv(RSV2).mask(KEY).payload(&payload).build();
    for scratch in [1, 64, 4096] {
        let mut server = toy_server(Config::new().max_message_size(300));
        let fed = feed_chunks(&mut server, &wire, wire.len(), scratch);
        let handed_out: usize =
            fed.events.iter().map(|e| if let Ev::Data { data, .. } = e { data.len() } else { 0 }).sum();
        assert!(handed_out <= 300, "{handed_out}");
        let err = fed.err();
        assert_eq!(err, Error::LimitExceeded(Limit::MessageSize));
        assert_eq!(server.error(), Some(err));
        assert_one_close(&transmit(&mut server), Role::Server, 1009);
    }
}

#[test]
fn errors_of_the_extension_fail_the_connection_with_their_close_code_and_stay() {
    // A zero-length run breaks the format: 1002. A message cut inside a run: 1007.
    let cases: [(Vec<u8>, Error, u16); 2] = [
        (runs(&[(2, b'a'), (0, b'b')]), ZERO_RUN.into(), 1002),
        ([runs(&[(2, b'a')]), vec![5]].concat(), CUT_RUN.into(), 1007),
    ];
    for (payload, error, code) in cases {
        for chunk in [1, 100] {
            let mut server = toy_server(Config::new());
            let wire = FrameBuilder::new(0x2).rsv(RSV2).mask(KEY).payload(&payload).build();
            let fed = feed_chunks(&mut server, &wire, chunk, 64);
            assert_eq!(fed.err(), error);
            assert_eq!(error.close_code().map(|c| c.0), Some(code));
            assert_eq!(server.state(), State::Failed);
            assert_eq!(server.error(), Some(error));
            assert!(!server.has_pending_data());
            // Sticky: every later call repeats it; one Close frame answers it.
            let mut more = FrameBuilder::new(0x2).mask(KEY).payload(b"more").build();
            assert_eq!(server.receive_into(&mut more, &mut [0; 64]).err(), Some(error));
            assert_eq!(server.receive(&mut more).err(), Some(error));
            assert_eq!(server.send_text("late", &mut Vec::new()), Err(error));
            assert_eq!(server.receive_eof(), Err(error));
            assert_one_close(&transmit(&mut server), Role::Server, code);
            assert!(transmit(&mut server).is_empty());
        }
    }
}

#[test]
fn text_is_validated_on_the_decoded_bytes_before_an_extension_error() {
    // Decodes to 0xff (not UTF-8) before the zero-length run: the UTF-8 error comes first in
    // the stream, so it wins (1007 at offset 0), in every split.
    let payload = runs(&[(1, 0xff), (0, 0)]);
    let wire = FrameBuilder::new(0x1).rsv(RSV2).mask(KEY).payload(&payload).build();
    for chunk in 1..=wire.len() {
        let mut server = toy_server(Config::new());
        let fed = feed_chunks(&mut server, &wire, chunk, 64);
        assert_eq!(fed.err(), Error::InvalidUtf8 { offset: 0 }, "chunk {chunk}");
    }
}

#[test]
fn receive_without_scratch_is_refused_before_anything_is_consumed() {
    let mut server = toy_server(Config::new());
    let mut wire = FrameBuilder::new(0x2).mask(KEY).payload(b"plain").build();
    assert_eq!(server.receive(&mut wire).err(), Some(Error::Misuse(Misuse::ScratchRequired)));
    assert_eq!(server.receive_into(&mut wire, &mut []).err(), Some(Error::Misuse(Misuse::ScratchRequired)));
    assert_eq!(server.state(), State::Open);
    // Nothing was consumed or unmasked: the same bytes still read.
    let fed = feed_chunks(&mut server, &wire, wire.len(), 16);
    assert_eq!(fed.ok(), [Ev::binary(b"plain")]);
}

#[test]
fn short_messages_and_streamed_ones_go_out_untransformed() {
    let mut client = client(Config::new()).with_extension(Box::new(ToyRle::with_min_size(10))).unwrap();
    let mut wire = Vec::new();
    client.send_binary(b"short", &mut wire).unwrap();
    client.send_fragment(MessageKind::Text, b"stream", false, &mut wire).unwrap();
    client.send_fragment(MessageKind::Text, b"ed text here", true, &mut wire).unwrap();
    let mut payload = *b"zero-copy frame";
    let head = client.encode_frame_head(MessageKind::Binary, &mut payload, true).unwrap();
    wire.extend_from_slice(head.as_bytes());
    wire.extend_from_slice(&payload);
    client.send_binary(b"long enough to encode", &mut wire).unwrap();
    let rsv: Vec<u8> = parse_frames(&wire).iter().map(|f| f.rsv).collect();
    assert_eq!(rsv, [0, 0, 0, 0, RSV2]);

    let mut server = toy_server(Config::new());
    let fed = feed_chunks(&mut server, &wire, 3, 8);
    assert_eq!(
        logical(&fed.ok()),
        [
            Logical::Message(MessageKind::Binary, b"short".to_vec()),
            Logical::Message(MessageKind::Text, b"streamed text here".to_vec()),
            Logical::Message(MessageKind::Binary, b"zero-copy frame".to_vec()),
            Logical::Message(MessageKind::Binary, b"long enough to encode".to_vec()),
        ]
    );
}

#[test]
fn a_fixed_buffer_too_small_for_the_bound_writes_nothing() {
    let mut server = toy_server(Config::new());
    let mut space = [0u8; 16];
    let mut out = SliceBuf::new(&mut space);
    // 10 bytes may encode to 20, in a 22-byte frame: more than 16.
    let err = server.send_binary(b"0123456789", &mut out).unwrap_err();
    assert!(matches!(err, Error::BufferTooSmall(_)), "{err:?}");
    assert_eq!(out.len(), 0);
    assert_eq!(server.state(), State::Open);
    // It compresses to 4 bytes in fact, but the bound is what is checked; with room it goes.
    let mut out = Vec::new();
    server.send_binary(b"aaaaaaaaaa", &mut out).unwrap();
    assert_eq!(out, [0x82 | 0x20, 2, 10, b'a']);
}

/// An extension that passes payloads through, owning `bits`, and can be told to fail.
#[derive(Debug)]
struct Passthrough {
    bits: u8,
    encode_error: Option<Error>,
    decode_error: Option<Error>,
}

impl Passthrough {
    fn new(bits: u8) -> Self {
        Self { bits, encode_error: None, decode_error: None }
    }
}

impl Extension for Passthrough {
    fn reserved_bits(&self) -> u8 {
        self.bits
    }
    fn start_decoding(&mut self, _: MessageKind, _: u8) -> Result<(), Error> {
        Ok(())
    }
    fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Decoded {
        if let Some(e) = self.decode_error {
            return Decoded::failed(0, 0, e);
        }
        let n = input.len().min(out.len());
        out[..n].copy_from_slice(&input[..n]);
        Decoded::new(n, n)
    }
    fn finish_decoding(&mut self, _: &mut [u8]) -> Decoded {
        Decoded::complete(0)
    }
    fn encoded_len_bound(&self, _: MessageKind, len: usize) -> Option<usize> {
        Some(len)
    }
    fn encode(&mut self, _: MessageKind, data: &[u8], out: &mut Vec<u8>) -> Result<u8, Error> {
        if let Some(e) = self.encode_error {
            return Err(e);
        }
        out.extend_from_slice(data);
        Ok(self.bits)
    }
}

#[test]
fn one_extension_per_connection_and_each_bit_claimed_once() {
    let conflict = Some(Error::Misuse(Misuse::ExtensionConflict));
    let base = || Connection::new(Role::Server, Config::new());
    // A second extension, even on other bits.
    let one = base().with_extension(Box::new(Passthrough::new(RSV2))).unwrap();
    assert_eq!(one.with_extension(Box::new(Passthrough::new(RSV3))).err(), conflict);
    // No bit, or not a reserved bit.
    assert_eq!(base().with_extension(Box::new(Passthrough::new(0))).err(), conflict);
    assert_eq!(base().with_extension(Box::new(Passthrough::new(0b1000))).err(), conflict);
    // A bit the handshake already gave to an extension the caller runs itself.
    let mut request = Vec::new();
    wsproto::handshake::ClientRequest::new("ws://localhost/").unwrap().write(&mut request).unwrap();
    let Ok(wsproto::handshake::ServerStatus::Upgrade(upgrade)) =
        wsproto::handshake::ServerHandshake::new().feed(&request)
    else {
        panic!()
    };
    let mut negotiated = upgrade.accept(&wsproto::handshake::Accept::new(), &mut Vec::new()).unwrap();
    negotiated.reserved_bits = RSV3;
    let conn = base().with_negotiated(&negotiated);
    assert_eq!(conn.with_extension(Box::new(Passthrough::new(RSV3))).err(), conflict);
    // Other bits are free, and both then pass.
    let mut conn = base().with_negotiated(&negotiated).with_extension(Box::new(Passthrough::new(RSV1))).unwrap();
    let mut wire = FrameBuilder::new(0x2).rsv(RSV3).mask(KEY).payload(b"mine").build();
    wire.extend(FrameBuilder::new(0x2).rsv(RSV1).mask(KEY).payload(b"its").build());
    let fed = feed_chunks(&mut conn, &wire, wire.len(), 8);
    assert_eq!(fed.ok(), [Ev::binary(b"mine"), Ev::binary(b"its")]);
}

#[cfg(feature = "deflate")]
#[test]
fn permessage_deflate_takes_the_one_slot() {
    use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
    let pmd = PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new());
    let conn = Connection::new(Role::Server, Config::new()).with_deflate(pmd);
    assert_eq!(conn.deflate(), Some(&pmd));
    assert_eq!(
        conn.with_extension(Box::new(Passthrough::new(RSV2))).err(),
        Some(Error::Misuse(Misuse::ExtensionConflict))
    );
    // Deflate again replaces deflate.
    let conn = Connection::new(Role::Server, Config::new()).with_deflate(pmd).with_deflate(pmd);
    assert!(conn.needs_scratch());
}

#[cfg(feature = "deflate")]
#[test]
#[should_panic(expected = "another extension")]
fn deflate_after_another_extension_panics() {
    use wsproto::deflate::{DeflateConfig, DeflateParams, PerMessageDeflate};
    let pmd = PerMessageDeflate::new(DeflateParams::DEFAULT, &DeflateConfig::new());
    let conn = Connection::new(Role::Server, Config::new()).with_extension(Box::new(Passthrough::new(RSV2))).unwrap();
    let _ = conn.with_deflate(pmd);
}

#[test]
fn an_extension_error_on_send_is_returned_and_a_fatal_one_fails_the_connection() {
    // A caller's fault: returned, nothing written, the connection unharmed.
    let mut ext = Passthrough::new(RSV2);
    ext.encode_error = Some(Error::Misuse(Misuse::InvalidUtf8));
    let mut conn = server(Config::new()).with_extension(Box::new(ext)).unwrap();
    let mut out = Vec::new();
    assert_eq!(conn.send_binary(b"x", &mut out), Err(Error::Misuse(Misuse::InvalidUtf8)));
    assert!(out.is_empty());
    assert_eq!(conn.state(), State::Open);
    conn.ping(b"", &mut out).unwrap();

    // A fatal one: the connection fails with it, a Close frame answers it. A failure of the
    // extension's own is ours, not the peer's: 1011.
    let fatal = Error::Internal("state lost");
    assert_eq!(fatal.fault(), wsproto::Fault::Local);
    let mut ext = Passthrough::new(RSV2);
    ext.encode_error = Some(fatal);
    let mut conn = server(Config::new()).with_extension(Box::new(ext)).unwrap();
    assert_eq!(conn.send_binary(b"x", &mut Vec::new()), Err(fatal));
    assert_eq!(conn.state(), State::Failed);
    assert_eq!(conn.error(), Some(fatal));
    assert_one_close(&transmit(&mut conn), Role::Server, 1011);
}

#[test]
fn a_caller_error_from_decoding_becomes_a_protocol_error() {
    let mut ext = Passthrough::new(RSV2);
    ext.decode_error = Some(Error::Misuse(Misuse::SendAfterClose));
    let mut conn = server(Config::new()).with_extension(Box::new(ext)).unwrap();
    let wire = FrameBuilder::new(0x2).rsv(RSV2).mask(KEY).payload(b"x").build();
    let fed = feed_chunks(&mut conn, &wire, wire.len(), 8);
    let err = fed.err();
    assert_eq!(err, Error::Protocol(ProtocolViolation::Extension("extension reported a caller error")));
    assert!(err.is_fatal());
    assert_one_close(&transmit(&mut conn), Role::Server, 1002);
}

#[test]
fn an_internal_error_from_decoding_fails_the_connection_with_1011() {
    let mut ext = Passthrough::new(RSV2);
    ext.decode_error = Some(Error::Internal("inflater lost its state"));
    let mut conn = server(Config::new()).with_extension(Box::new(ext)).unwrap();
    let wire = FrameBuilder::new(0x2).rsv(RSV2).mask(KEY).payload(b"x").build();
    let err = feed_chunks(&mut conn, &wire, wire.len(), 8).err();
    assert_eq!(err, Error::Internal("inflater lost its state"));
    assert_eq!(err.fault(), wsproto::Fault::Local);
    assert_eq!(conn.state(), State::Failed);
    assert_one_close(&transmit(&mut conn), Role::Server, 1011);
}

#[test]
fn the_toy_example_runs() {
    toy::main();
}
