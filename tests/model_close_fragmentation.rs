//! A small reference model of the close handshake and of the send and receive fragmentation
//! state, checked against the real `Connection` on random operation sequences, in both roles.
//!
//! The model is written from `docs/design.md` as tables: the close-handshake transitions
//! ([`CLOSE_TABLE`]), and what a data frame or a data send does given the message in progress
//! ([`recv_fragment`], [`send_fragment`]). After every operation the model's prediction (the
//! result class, the event, the state, whether replies are owed, the transport action and the
//! automatic frames written) must equal what the connection does.

use proptest::prelude::*;
use wsproto::frame::{HeaderStatus, OpCode, decode_header};
use wsproto::{
    CloseCode, CloseFrame, Config, Connection, Error, Event, KeySource, Limit, MessageKind, Misuse, ProtocolViolation,
    Role, State, TransportAction,
};

// ---------------------------------------------------------------------------------------------
// The model

/// Close-handshake events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CloseEvent {
    /// We send (or queue) our Close frame.
    SendClose,
    /// The peer's Close frame arrives and `auto_close_reply` is on.
    RecvCloseAutoReply,
    /// The peer's Close frame arrives and `auto_close_reply` is off.
    RecvCloseNoReply,
    /// The peer breaks the protocol or a limit.
    PeerFault,
    /// The transport ends.
    Eof,
}

use CloseEvent::*;

/// The close-handshake table of `docs/design.md` (from, event, to). A pair that is not listed
/// leaves the state as it is (for example a second `close()`, or end of input after the
/// peer's Close frame).
const CLOSE_TABLE: &[(State, CloseEvent, State)] = &[
    (State::Open, SendClose, State::ClosingLocal),
    (State::ClosingRemote, SendClose, State::Closed),
    (State::Open, RecvCloseAutoReply, State::Closed),
    (State::Open, RecvCloseNoReply, State::ClosingRemote),
    (State::ClosingLocal, RecvCloseAutoReply, State::Closed),
    (State::ClosingLocal, RecvCloseNoReply, State::Closed),
    (State::Open, PeerFault, State::Failed),
    (State::ClosingLocal, PeerFault, State::Failed),
    (State::Open, Eof, State::Failed),
    (State::ClosingLocal, Eof, State::Failed),
];

fn close_transition(from: State, event: CloseEvent) -> State {
    CLOSE_TABLE.iter().find(|(f, e, _)| *f == from && *e == event).map_or(from, |&(_, _, to)| to)
}

/// What a received data frame does, given whether a fragmented message is in progress:
///
/// | message in progress | frame | outcome |
/// |---|---|---|
/// | no | Text/Binary | starts a message (ends it too when FIN) |
/// | no | Continuation | `UnexpectedContinuation` (1002) |
/// | yes | Text/Binary | `ExpectedContinuation` (1002) |
/// | yes | Continuation | continues it; over `max_fragments` frames: `Fragments` (1009) |
fn recv_fragment(in_message: Option<u32>, opcode: u8, max_fragments: u32) -> Result<Option<u32>, Error> {
    match (in_message, opcode) {
        (None, 0) => Err(ProtocolViolation::UnexpectedContinuation.into()),
        (None, _) => Ok(Some(1)),
        (Some(_), 1 | 2) => Err(ProtocolViolation::ExpectedContinuation.into()),
        (Some(n), _) if n + 1 > max_fragments => Err(Error::LimitExceeded(Limit::Fragments)),
        (Some(n), _) => Ok(Some(n + 1)),
    }
}

/// What a data send does, given the message we are streaming:
///
/// | message in progress | send | outcome |
/// |---|---|---|
/// | no | whole message | sent |
/// | no | fragment | starts a message (ends it too when `fin`) |
/// | yes | whole message | `MessageInProgress` |
/// | yes, same kind | fragment | continues it |
/// | yes, other kind | fragment | `MessageInProgress` |
fn send_fragment(open: Option<MessageKind>, kind: MessageKind, fragment: bool) -> Result<(), Misuse> {
    match open {
        None => Ok(()),
        Some(k) if k == kind && fragment => Ok(()),
        Some(_) => Err(Misuse::MessageInProgress),
    }
}

/// An operation on the connection under test.
#[derive(Clone, Copy, Debug)]
enum Op {
    SendWhole(MessageKind),
    SendFragment(MessageKind, bool),
    Ping,
    Close,
    Poll,
    /// A data frame from the peer: opcode (0, 1 or 2) and FIN, payload "ab".
    RecvData(u8, bool),
    RecvPing,
    RecvClose,
    /// A frame with the reserved opcode 3.
    RecvViolation,
    Eof,
}

/// What an operation gave.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Class {
    Ok,
    /// Input consumed and ignored (after the peer's Close frame).
    Ignored,
    Data {
        first: bool,
        last: bool,
    },
    Ping,
    Close,
    Err(Error),
}

#[derive(Clone, Debug)]
struct Model {
    role: Role,
    auto_pong: bool,
    auto_close: bool,
    max_fragments: u32,
    state: State,
    close_sent: bool,
    close_received: bool,
    eof: bool,
    error: Option<Error>,
    send_open: Option<MessageKind>,
    recv_open: Option<u32>,
    pending_pong: bool,
    pending_close: Option<u16>,
}

impl Model {
    fn new(role: Role, config: &Config) -> Self {
        Self {
            role,
            auto_pong: config.auto_pong,
            auto_close: config.auto_close_reply,
            max_fragments: config.max_fragments,
            state: State::Open,
            close_sent: false,
            close_received: false,
            eof: false,
            error: None,
            send_open: None,
            recv_open: None,
            pending_pong: false,
            pending_close: None,
        }
    }

    fn fail(&mut self, e: Error, event: CloseEvent) -> Class {
        self.state = close_transition(self.state, event);
        assert_eq!(self.state, State::Failed, "the table fails the connection on {event:?}");
        self.error = Some(e);
        self.pending_pong = false;
        if let Some(code) = e.close_code() {
            if !self.close_sent && !self.eof {
                self.pending_close = Some(code.0);
                self.close_sent = true;
            }
        }
        Class::Err(e)
    }

    /// A successful write sends the owed replies first.
    fn written(&mut self) -> Class {
        self.pending_pong = false;
        self.pending_close = None;
        Class::Ok
    }

    fn step(&mut self, op: Op) -> Class {
        if let Some(e) = self.error {
            // Sticky: everything but `poll_transmit` repeats the first error.
            return match op {
                Op::Poll => self.written(),
                Op::Eof => {
                    self.eof = true;
                    Class::Err(e)
                }
                _ => Class::Err(e),
            };
        }
        match op {
            Op::SendWhole(kind) | Op::SendFragment(kind, _) => {
                if self.close_sent {
                    return Class::Err(Misuse::SendAfterClose.into());
                }
                let fragment = matches!(op, Op::SendFragment(..));
                if let Err(m) = send_fragment(self.send_open, kind, fragment) {
                    return Class::Err(m.into());
                }
                if let Op::SendFragment(_, fin) = op {
                    self.send_open = if fin { None } else { Some(kind) };
                }
                self.written()
            }
            Op::Ping => {
                if self.close_sent {
                    return Class::Err(Misuse::SendAfterClose.into());
                }
                self.written()
            }
            Op::Close => {
                if !self.close_sent {
                    self.state = close_transition(self.state, SendClose);
                    self.close_sent = true;
                }
                self.written()
            }
            Op::Poll => self.written(),
            _ if self.close_received && op_is_input(op) => Class::Ignored,
            Op::RecvData(opcode, fin) => match recv_fragment(self.recv_open, opcode, self.max_fragments) {
                Err(e) => self.fail(e, PeerFault),
                Ok(count) => {
                    let first = self.recv_open.is_none();
                    self.recv_open = if fin { None } else { count };
                    Class::Data { first, last: fin }
                }
            },
            Op::RecvPing => {
                if self.auto_pong && !self.close_sent {
                    self.pending_pong = true;
                }
                Class::Ping
            }
            Op::RecvClose => {
                self.close_received = true;
                let event = if self.auto_close { RecvCloseAutoReply } else { RecvCloseNoReply };
                if self.auto_close && !self.close_sent {
                    self.pending_close = Some(1000);
                    self.close_sent = true;
                }
                self.state = close_transition(self.state, event);
                Class::Close
            }
            Op::RecvViolation => self.fail(ProtocolViolation::ReservedOpcode(3).into(), PeerFault),
            Op::Eof => {
                self.pending_pong = false;
                if self.close_received {
                    self.eof = true;
                    self.state = close_transition(self.state, Eof);
                    Class::Ok
                } else {
                    self.eof = true;
                    self.fail(Error::UnexpectedEof, Eof)
                }
            }
        }
    }

    fn wants_transmit(&self) -> bool {
        self.pending_pong || self.pending_close.is_some()
    }

    /// The transport table of `docs/design.md`.
    fn transport_action(&self) -> TransportAction {
        if self.wants_transmit() {
            return TransportAction::Continue;
        }
        match self.state {
            State::Failed => TransportAction::Close,
            State::Closed if self.eof || self.role == Role::Server => TransportAction::Close,
            State::Closed => TransportAction::AwaitPeerClose,
            State::ClosingRemote if self.eof => TransportAction::Close,
            _ => TransportAction::Continue,
        }
    }
}

fn op_is_input(op: Op) -> bool {
    matches!(op, Op::RecvData(..) | Op::RecvPing | Op::RecvClose | Op::RecvViolation)
}

// ---------------------------------------------------------------------------------------------
// The real connection

const KEY: [u8; 4] = [1, 2, 3, 4];

/// A frame from the peer of `to` (masked towards a server).
fn peer_frame(to: Role, fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let masked = to == Role::Server;
    let mut out = vec![(u8::from(fin) << 7) | opcode, (if masked { 0x80 } else { 0 }) | payload.len() as u8];
    if masked {
        out.extend_from_slice(&KEY);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// Feeds one frame and classifies what happened.
fn receive(conn: &mut Connection, mut bytes: Vec<u8>) -> Class {
    let total = bytes.len();
    let mut pos = 0;
    let mut seen = Vec::new();
    loop {
        match conn.receive(&mut bytes[pos..]) {
            Err(e) => {
                assert!(seen.is_empty(), "events before the error: {seen:?}");
                return Class::Err(e);
            }
            Ok(r) => {
                pos += r.consumed;
                match r.event {
                    None => break,
                    Some(Event::Data { data, first, last, .. }) => {
                        assert_eq!(data, b"ab");
                        seen.push(Class::Data { first, last });
                    }
                    Some(Event::Ping(_)) => seen.push(Class::Ping),
                    Some(Event::Close(_)) => seen.push(Class::Close),
                    Some(other) => panic!("unexpected event {other:?}"),
                }
            }
        }
    }
    assert_eq!(pos, total, "input left unconsumed");
    assert!(seen.len() <= 1, "one frame gave {seen:?}");
    seen.pop().unwrap_or(Class::Ignored)
}

fn result(r: Result<(), Error>) -> Class {
    match r {
        Ok(()) => Class::Ok,
        Err(e) => Class::Err(e),
    }
}

/// Frames read back: opcode, and the code of a Close frame.
type Frames = Vec<(OpCode, Option<u16>)>;

/// The frames `poll_transmit` writes.
fn poll_frames(conn: &mut Connection) -> Frames {
    let mut out = Vec::new();
    let n = conn.poll_transmit(&mut out).expect("poll_transmit into a Vec");
    assert_eq!(n, out.len());
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < out.len() {
        let Ok(HeaderStatus::Complete(h, len)) = decode_header(&out[pos..]) else { panic!("bad output {out:02x?}") };
        assert_eq!(h.mask.is_some(), conn.role() == Role::Client, "masking follows the role");
        let mut payload = out[pos + len..pos + len + h.payload_len as usize].to_vec();
        if let Some(key) = h.mask {
            wsproto::mask::apply_mask(&mut payload, key, 0);
        }
        let code = (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
        frames.push((h.opcode, if h.opcode == OpCode::Close { code } else { None }));
        pos += len + payload.len();
    }
    frames
}

fn apply(conn: &mut Connection, op: Op) -> (Class, Option<Frames>) {
    let role = conn.role();
    let mut out = Vec::new();
    let class = match op {
        Op::SendWhole(kind) => result(conn.send(kind, b"msg", &mut out)),
        Op::SendFragment(kind, fin) => result(conn.send_fragment(kind, b"frag", fin, &mut out)),
        Op::Ping => result(conn.ping(b"p", &mut out)),
        Op::Close => result(conn.close(CloseFrame::new(CloseCode::NORMAL, ""), &mut out)),
        Op::Poll => return (Class::Ok, Some(poll_frames(conn))),
        Op::RecvData(opcode, fin) => receive(conn, peer_frame(role, fin, opcode, b"ab")),
        Op::RecvPing => receive(conn, peer_frame(role, true, 0x9, b"")),
        Op::RecvClose => receive(conn, peer_frame(role, true, 0x8, &1000u16.to_be_bytes())),
        Op::RecvViolation => receive(conn, peer_frame(role, true, 0x3, b"")),
        Op::Eof => result(conn.receive_eof()),
    };
    if matches!(class, Class::Err(e) if !e.is_fatal()) {
        assert!(out.is_empty(), "{op:?} failed and wrote {} bytes", out.len());
    }
    (class, None)
}

fn rank(s: State) -> u8 {
    match s {
        State::Open => 0,
        State::ClosingLocal | State::ClosingRemote => 1,
        _ => 2,
    }
}

/// Runs `ops` on a real connection and on the model, comparing after every operation.
fn check(role: Role, config: Config, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut conn = Connection::new(role, config).with_key_source(KeySource::seeded(5));
    let mut model = Model::new(role, &config);
    for (i, &op) in ops.iter().enumerate() {
        let before = conn.state();
        let expected_frames = {
            let mut f = Vec::new();
            if model.error.is_none() || matches!(op, Op::Poll) {
                if model.pending_pong {
                    f.push((OpCode::Pong, None));
                }
                if let Some(code) = model.pending_close {
                    f.push((OpCode::Close, Some(code)));
                }
            }
            f
        };
        let expected = model.step(op);
        let (actual, frames) = apply(&mut conn, op);
        prop_assert_eq!(&actual, &expected, "op {} {:?}", i, op);
        if let Some(frames) = frames {
            prop_assert_eq!(frames, expected_frames, "op {} {:?}: automatic frames", i, op);
        }
        let state = conn.state();
        prop_assert_eq!(state, model.state, "op {} {:?}: state", i, op);
        prop_assert!(rank(state) >= rank(before), "op {} {:?}: {:?} went back to {:?}", i, op, before, state);
        prop_assert_eq!(conn.error(), model.error, "op {} {:?}: error", i, op);
        prop_assert_eq!(conn.wants_transmit(), model.wants_transmit(), "op {} {:?}: wants_transmit", i, op);
        prop_assert_eq!(conn.transport_action(), model.transport_action(), "op {} {:?}: transport", i, op);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Strategies and tests

fn kind() -> impl Strategy<Value = MessageKind> {
    prop_oneof![Just(MessageKind::Text), Just(MessageKind::Binary)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => kind().prop_map(Op::SendWhole),
        4 => (kind(), any::<bool>()).prop_map(|(k, fin)| Op::SendFragment(k, fin)),
        2 => Just(Op::Ping),
        2 => Just(Op::Close),
        3 => Just(Op::Poll),
        8 => (0u8..=2, any::<bool>()).prop_map(|(opcode, fin)| Op::RecvData(opcode, fin)),
        2 => Just(Op::RecvPing),
        2 => Just(Op::RecvClose),
        1 => Just(Op::RecvViolation),
        1 => Just(Op::Eof),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (any::<bool>(), any::<bool>(), 1u32..=5)
        .prop_map(|(pong, close, frags)| Config::new().auto_pong(pong).auto_close_reply(close).max_fragments(frags))
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Client), Just(Role::Server)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn connection_follows_the_model(role in role(), config in config(), ops in proptest::collection::vec(op(), 0..60)) {
        check(role, config, &ops)?;
    }
}

/// Operations that bring a connection configured with `auto_close` to `state`, if any.
fn reach(state: State, auto_close: bool) -> Option<Vec<Op>> {
    Some(match state {
        State::Open => vec![],
        State::ClosingLocal => vec![Op::Close],
        State::ClosingRemote if !auto_close => vec![Op::RecvClose],
        State::Closed => vec![Op::Close, Op::RecvClose],
        State::Failed => vec![Op::RecvViolation],
        _ => return None,
    })
}

#[test]
fn every_row_of_the_close_table_holds() {
    let mut covered = 0;
    for &(from, event, to) in CLOSE_TABLE {
        for role in [Role::Client, Role::Server] {
            for auto_close in [true, false] {
                let op = match event {
                    SendClose => Op::Close,
                    RecvCloseAutoReply if auto_close => Op::RecvClose,
                    RecvCloseNoReply if !auto_close => Op::RecvClose,
                    PeerFault => Op::RecvViolation,
                    Eof => Op::Eof,
                    _ => continue,
                };
                let Some(mut ops) = reach(from, auto_close) else { continue };
                let config = Config::new().auto_close_reply(auto_close);
                let mut conn = Connection::new(role, config).with_key_source(KeySource::seeded(1));
                for &o in &ops {
                    apply(&mut conn, o);
                }
                assert_eq!(conn.state(), from, "setup {ops:?}");
                apply(&mut conn, op);
                assert_eq!(conn.state(), to, "{from:?} --{event:?}--> expected {to:?} ({role:?})");
                ops.push(op);
                check(role, config, &ops).unwrap();
                covered += 1;
            }
        }
    }
    assert!(covered >= CLOSE_TABLE.len() * 2, "every row ran in both roles");
}

#[test]
fn final_states_stay_final() {
    let all = [
        Op::SendWhole(MessageKind::Text),
        Op::SendFragment(MessageKind::Binary, false),
        Op::Ping,
        Op::Close,
        Op::Poll,
        Op::RecvData(1, true),
        Op::RecvData(0, true),
        Op::RecvPing,
        Op::RecvClose,
        Op::RecvViolation,
        Op::Eof,
    ];
    for role in [Role::Client, Role::Server] {
        for setup in [vec![Op::Close, Op::RecvClose], vec![Op::RecvViolation], vec![Op::Eof]] {
            let mut ops = setup.clone();
            ops.extend_from_slice(&all);
            ops.extend_from_slice(&all);
            check(role, Config::new(), &ops).unwrap();
        }
    }
}

#[test]
fn fragment_tables_by_example() {
    // Receive side: each row of `recv_fragment`, in both roles.
    for role in [Role::Client, Role::Server] {
        let ops = [
            Op::RecvData(1, false),
            Op::RecvPing,
            Op::RecvData(0, false),
            Op::RecvData(0, true),
            Op::RecvData(2, true),
            Op::RecvData(0, true),
        ];
        check(role, Config::new(), &ops).unwrap();
        check(role, Config::new(), &[Op::RecvData(2, false), Op::RecvData(1, true)]).unwrap();
        check(
            role,
            Config::new().max_fragments(2),
            &[Op::RecvData(2, false), Op::RecvData(0, false), Op::RecvData(0, true)],
        )
        .unwrap();
        // Send side: each row of `send_fragment`.
        let ops = [
            Op::SendFragment(MessageKind::Text, false),
            Op::SendWhole(MessageKind::Binary),
            Op::SendFragment(MessageKind::Binary, true),
            Op::Ping,
            Op::SendFragment(MessageKind::Text, true),
            Op::SendWhole(MessageKind::Binary),
            Op::Close,
            Op::SendWhole(MessageKind::Text),
        ];
        check(role, Config::new(), &ops).unwrap();
    }
}
