//! `KeySource::from_seed` (feature `chacha`): the ChaCha12 key stream seeded by the caller, as a
//! device seeds it from its hardware RNG. The same seed gives the same keys, different seeds
//! different ones; the stream is ChaCha12's; a client `Connection` masks with it and a
//! `ClientRequest` draws its `Sec-WebSocket-Key` nonce from it.
#![cfg(feature = "chacha")]

use chacha20::ChaCha12Rng;
use chacha20::rand_core::{Rng, SeedableRng};
use wsproto::{CloseCode, CloseFrame, Config, Connection, Event, KeySource, MessageKind, Role, SliceBuf};

const SEED: [u8; 32] = *b"32 bytes from the hardware RNG..";

/// `n` bytes drawn from `keys` as masking keys, four at a time.
fn draw_keys(keys: &mut KeySource, n: usize) -> Vec<u8> {
    (0..n / 4).flat_map(|_| keys.mask_key()).collect()
}

#[test]
fn the_same_seed_gives_the_same_keys() {
    let mut a = KeySource::from_seed(SEED);
    let mut b = KeySource::from_seed(SEED);
    // Several pool refills (256 bytes each), drawn as keys on one side and in odd-sized pieces
    // on the other: the stream does not depend on how it is drawn.
    let keys = draw_keys(&mut a, 4096);
    let mut pieces = vec![0u8; 4096];
    for chunk in pieces.chunks_mut(37) {
        b.fill(chunk);
    }
    assert_eq!(keys, pieces);
}

#[test]
fn different_seeds_give_different_keys() {
    let mut other = SEED;
    other[31] ^= 1; // one bit apart
    let a = draw_keys(&mut KeySource::from_seed(SEED), 1024);
    let b = draw_keys(&mut KeySource::from_seed(other), 1024);
    // Unrelated streams: no 4-byte key in the same place, bar chance (256 keys, 2^-32 each).
    let same = a.chunks(4).zip(b.chunks(4)).filter(|(x, y)| x == y).count();
    assert_eq!(same, 0);
    // And neither stream repeats a key of its own in 256 keys.
    let mut keys: Vec<&[u8]> = a.chunks(4).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 256);
}

#[test]
fn the_stream_is_chacha12_of_the_seed() {
    // The bytes of `ChaCha12Rng::from_seed(seed)` (`rand`'s `StdRng` generator): 64 KiB, past
    // many pool refills and ChaCha blocks.
    for seed in [SEED, [0; 32], [0xff; 32]] {
        let mut keys = KeySource::from_seed(seed);
        let ours = draw_keys(&mut keys, 64 * 1024);
        let mut reference = vec![0u8; ours.len()];
        ChaCha12Rng::from_seed(seed).fill_bytes(&mut reference);
        assert_eq!(ours, reference);
    }
}

#[test]
fn a_clone_repeats_the_stream_from_where_it_stands() {
    let mut original = KeySource::from_seed(SEED);
    // Mid-pool and mid-block: 300 bytes in (a refill and 11 words past it).
    let mut first = [0u8; 300];
    original.fill(&mut first);
    let mut copy = original.clone();
    let a = draw_keys(&mut original, 2048);
    let b = draw_keys(&mut copy, 2048);
    assert_eq!(a, b);
    // It is the continuation of the stream, not a restart.
    let mut whole = vec![0u8; 300 + 2048];
    ChaCha12Rng::from_seed(SEED).fill_bytes(&mut whole);
    assert_eq!(whole[..300], first);
    assert_eq!(whole[300..], b[..]);
}

#[test]
fn debug_shows_the_kind_and_not_the_seed() {
    let shown = format!("{:?}", KeySource::from_seed(SEED));
    assert!(shown.contains("from_seed"), "{shown}");
    assert!(!shown.contains("32") && !shown.contains("hardware"), "{shown}");
}

/// The masking key of each frame in `wire` (client frames, payloads under 126 bytes).
fn frame_keys(mut wire: &[u8]) -> Vec<[u8; 4]> {
    let mut keys = Vec::new();
    while !wire.is_empty() {
        assert_eq!(wire[1] & 0x80, 0x80, "a client frame is masked");
        let len = usize::from(wire[1] & 0x7f);
        assert!(len < 126);
        keys.push([wire[2], wire[3], wire[4], wire[5]]);
        wire = &wire[6 + len..];
    }
    keys
}

#[test]
fn a_client_connection_masks_with_the_seeded_keys() {
    let mut client = Connection::new(Role::Client, Config::new()).with_key_source(KeySource::from_seed(SEED));
    let mut server = Connection::new(Role::Server, Config::new());
    // A device's fixed output buffer; 100 frames go through it, past a pool refill (64 keys).
    let mut storage = [0u8; 64];
    let mut wire = Vec::new();
    for i in 0..100u32 {
        let mut out = SliceBuf::new(&mut storage);
        match i % 3 {
            0 => client.send_text("sensor 21.5 C", &mut out).unwrap(),
            1 => client.send_binary(&i.to_be_bytes(), &mut out).unwrap(),
            _ => client.ping(b"alive", &mut out).unwrap(),
        }
        wire.extend_from_slice(out.filled());
    }
    let mut out = SliceBuf::new(&mut storage);
    client.close(CloseFrame::new(CloseCode::NORMAL, "bye"), &mut out).unwrap();
    wire.extend_from_slice(out.filled());

    // One key per frame, in the order the seeded stream hands them out.
    let mut expected = KeySource::from_seed(SEED);
    let want: Vec<[u8; 4]> = (0..101).map(|_| expected.mask_key()).collect();
    assert_eq!(frame_keys(&wire), want);
    // The payloads were masked (not on the wire in clear), and a server unmasks them.
    assert!(!wire.windows(6).any(|w| w == b"sensor"));
    let mut input = wire.clone();
    let mut pos = 0;
    let mut texts = 0;
    while pos < input.len() {
        let received = server.receive(&mut input[pos..]).unwrap();
        pos += received.consumed;
        if let Some(Event::Data { kind: MessageKind::Text, data, .. }) = received.event {
            assert_eq!(data, b"sensor 21.5 C");
            texts += 1;
        }
    }
    assert_eq!(texts, 34);
}

#[cfg(feature = "alloc")]
#[test]
fn the_client_handshake_nonce_comes_from_the_seed() {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use wsproto::handshake::ClientRequest;

    let mut request =
        ClientRequest::new("ws://device.local/telemetry").unwrap().with_key_source(KeySource::from_seed(SEED));
    let mut out = Vec::new();
    let first = request.write(&mut out).unwrap();
    let second = request.write(&mut Vec::new()).unwrap();

    // The first 16 bytes of the stream are the first nonce, the next 16 the second.
    let mut expected = KeySource::from_seed(SEED);
    let mut nonces = [[0u8; 16]; 2];
    for nonce in &mut nonces {
        expected.fill(nonce);
    }
    let mut key = [0u8; 24];
    for (handshake, nonce) in [&first, &second].into_iter().zip(nonces) {
        assert_eq!(STANDARD.encode_slice(nonce, &mut key), Ok(24));
        assert_eq!(handshake.key().as_bytes(), key);
    }
    assert_ne!(first.key(), second.key());
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(&format!("\r\nSec-WebSocket-Key: {}\r\n", first.key())), "{text}");

    // Another seed, another nonce.
    let mut other = SEED;
    other[0] ^= 0x80;
    let third = ClientRequest::new("ws://device.local/telemetry")
        .unwrap()
        .with_key_source(KeySource::from_seed(other))
        .write(&mut Vec::new())
        .unwrap();
    assert_ne!(third.key(), first.key());
}
