//! However the transport cuts the byte stream, the receiver sees the same messages, control
//! frames and replies (partial headers and control payloads are kept inside the connection).

mod common;

use common::traffic::{self, Op};
use common::*;
use proptest::prelude::*;
use wsproto::{Config, Error, Role};

/// Feeds `wire` to a fresh receiver of `role` in pieces cut at `cuts`, and returns the joined
/// events, what `poll_transmit` writes afterwards, and the final state.
fn receive_in_pieces(role: Role, wire: &[u8], cuts: &[usize]) -> (Vec<Logical>, Vec<u8>, wsproto::State) {
    let mut rx = conn(role, Config::new());
    let events = feed_split(&mut rx, wire, cuts).ok();
    let out = transmit(&mut rx);
    (logical(&events), out, rx.state())
}

fn roles() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Client), Just(Role::Server)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_split_gives_the_same_events(
        sender in roles(),
        ops in prop::collection::vec(traffic::op(), 0..8),
        close in traffic::close(),
        max_out in traffic::max_outgoing(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
        bytewise in any::<bool>(),
    ) {
        // Keep the one-frame-per-byte cases small enough to run quickly.
        let max_out = if ops.iter().any(|op| matches!(op, Op::Binary(b) if b.len() > 1000)) { max_out.max(125) } else { max_out };
        let mut tx = conn(sender, Config::new().max_outgoing_frame(max_out));
        let mut wire = Vec::new();
        let expected = traffic::send_all(&mut tx, &ops, &close, &mut wire);

        let (whole, whole_out, whole_state) = receive_in_pieces(sender.peer(), &wire, &[]);
        prop_assert_eq!(&whole, &expected);

        let cuts: Vec<usize> = if bytewise && wire.len() <= 4096 {
            (1..wire.len()).collect()
        } else {
            cuts.iter().map(|i| i.index(wire.len() + 1)).collect()
        };
        let (split, split_out, split_state) = receive_in_pieces(sender.peer(), &wire, &cuts);
        prop_assert_eq!(&split, &expected);
        prop_assert_eq!(split_out, whole_out, "the same replies are queued");
        prop_assert_eq!(split_state, whole_state);
    }

    /// Hostile input: whatever the split, the same error (with the same offset for UTF-8) and
    /// the same events before it.
    #[test]
    fn any_split_gives_the_same_error(
        prefix in prop::collection::vec(traffic::op(), 0..3),
        garbage in prop::collection::vec(any::<u8>(), 1..40),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let mut tx = client(Config::new());
        let mut wire = Vec::new();
        traffic::send_all(&mut tx, &prefix, &None, &mut wire);
        wire.extend_from_slice(&garbage);

        let mut whole_rx = server(Config::new());
        let whole = feed_copy(&mut whole_rx, &wire);
        let cuts: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        let mut split_rx = server(Config::new());
        let split = feed_split(&mut split_rx, &wire, &cuts);
        prop_assert_eq!(split.error, whole.error);
        // The events before an error can differ in how data is cut into pieces, not in content:
        // compare the bytes of each message delivered so far. The pieces of the message that
        // was cut short by the error are provisional (a split can hand out the first byte of a
        // character whose next byte turns out to be invalid), so only finished messages count.
        prop_assert_eq!(finished(flatten(&split.events)), finished(flatten(&whole.events)));
        prop_assert_eq!(transmit(&mut split_rx), transmit(&mut whole_rx));
        prop_assert_eq!(split_rx.state(), whole_rx.state());
    }
}

/// Drops a trailing message that never finished.
fn finished(mut events: Vec<Ev>) -> Vec<Ev> {
    if matches!(events.last(), Some(Ev::Data { last: false, .. })) {
        events.pop();
    }
    events
}

/// Data bytes per message kind and control frames, in order, ignoring piece boundaries.
fn flatten(events: &[Ev]) -> Vec<Ev> {
    let mut out: Vec<Ev> = Vec::new();
    for e in events {
        match (out.last_mut(), e) {
            (Some(Ev::Data { kind: k, data: d, last: false, .. }), Ev::Data { kind, data, first: false, last, .. })
                if k == kind =>
            {
                d.extend_from_slice(data);
                if let Some(Ev::Data { last: l, .. }) = out.last_mut() {
                    *l = *last;
                }
            }
            _ => out.push(e.clone()),
        }
    }
    out
}

#[test]
fn every_two_way_split_of_a_mixed_stream() {
    // Deterministic companion to the property: a stream with every frame type and all three
    // length encodings, cut once at every position.
    let mut tx = client(Config::new().max_outgoing_frame(200));
    let mut wire = Vec::new();
    let ops = vec![
        Op::Text("héllo".into()),
        Op::Binary(vec![9; 300]),
        Op::Ping(b"p".to_vec()),
        Op::Fragmented {
            kind: wsproto::MessageKind::Text,
            pieces: vec![b"a\xe2".to_vec(), b"\x82".to_vec(), b"\xacz".to_vec()],
            ping_after: vec![true, true],
        },
        Op::Pong(vec![]),
        Op::Binary(vec![1; 70_000]),
    ];
    let expected = traffic::send_all(&mut tx, &ops, &Some((1000, "end".into())), &mut wire);
    let (whole, whole_out, _) = receive_in_pieces(Role::Server, &wire, &[]);
    assert_eq!(whole, expected);
    let step = 1 + wire.len() / 3000;
    for cut in (0..=wire.len()).step_by(step).chain(0..600) {
        let (split, out, state) = receive_in_pieces(Role::Server, &wire, &[cut]);
        assert_eq!(split, expected, "cut {cut}");
        assert_eq!(out, whole_out);
        assert_eq!(state, wsproto::State::Closed);
    }
}

#[test]
fn error_in_second_read_after_partial_header() {
    // The first read ends inside a header; the second completes it with a violation.
    let mut wire = frame_from(Role::Client, 0x1, b"fine");
    let bad = FrameBuilder::new(0x2).mask(KEY).enc(LenEnc::Ext16).payload(b"short").build();
    wire.extend_from_slice(&bad);
    for cut in 6 + 4..wire.len() {
        let mut s = server(Config::new());
        let fed = feed_split(&mut s, &wire, &[cut]);
        assert_eq!(fed.events, [Ev::text("fine")], "cut {cut}");
        assert_eq!(fed.error, Some(Error::Protocol(wsproto::ProtocolViolation::NonMinimalLength)), "cut {cut}");
    }
}
