//! A toy extension run through the `Extension` hook: `x-toy-rle`, a run-length coding of
//! message payloads marked with RSV2. It is a toy (not a registered or useful extension), made
//! to show the hook: negotiated through the generic extension offer and accept of the opening
//! handshake, then run by both connections. `tests/extension.rs` tests it.
//!
//! ```text
//! cargo run --example toy_extension
//! ```
//!
//! Wire format of a transformed payload: pairs `(count, byte)`, count 1 to 255, each standing
//! for `count` copies of `byte`. Decoding expands, so a few bytes on the wire can stand for far
//! more than the caller's scratch buffer holds: the output that does not fit waits inside the
//! extension for the next call, as the hook's contract asks.

use wsproto::frame::RSV2;
use wsproto::handshake::{
    Accept, ClientRequest, ClientStatus, ExtensionOffer, Negotiated, ServerHandshake, ServerStatus,
};
use wsproto::{Config, Connection, Decoded, Error, Event, Extension, MessageAssembler, MessageKind, ProtocolViolation};

/// The toy extension's name in `Sec-WebSocket-Extensions`.
pub(crate) const NAME: &str = "x-toy-rle";

/// A zero count is not a run.
pub(crate) const ZERO_RUN: ProtocolViolation = ProtocolViolation::Extension("x-toy-rle: run of length 0");
/// A message that ends between a count and its byte.
pub(crate) const CUT_RUN: ProtocolViolation =
    ProtocolViolation::InvalidExtensionData("x-toy-rle: message ends inside a run");

/// `x-toy-rle` for one connection: the decoder's state between calls, and the shortest
/// message worth encoding.
#[derive(Debug, Default)]
pub(crate) struct ToyRle {
    /// Whole messages shorter than this are sent as they are (RSV2 clear).
    min_size: usize,
    /// A count read whose byte has not arrived yet.
    count: Option<u8>,
    /// The byte of the run being written out, and how many copies are still owed.
    run: (u8, usize),
}

impl ToyRle {
    /// The extension, if the handshake agreed to it.
    pub(crate) fn from_negotiated(negotiated: &Negotiated) -> Option<Self> {
        // Every whole message is encoded, even an empty one: the toy has no parameters.
        negotiated.has_extension(NAME).then(|| Self::with_min_size(0))
    }

    /// The extension, sending whole messages shorter than `min_size` as they are.
    pub(crate) fn with_min_size(min_size: usize) -> Self {
        Self { min_size, ..Self::default() }
    }

    /// Writes as much of the run in progress as fits in `out`; returns the bytes written.
    fn flush(&mut self, out: &mut [u8]) -> usize {
        let n = self.run.1.min(out.len());
        out[..n].fill(self.run.0);
        self.run.1 -= n;
        n
    }
}

impl Extension for ToyRle {
    fn reserved_bits(&self) -> u8 {
        RSV2
    }

    fn start_decoding(&mut self, _kind: MessageKind, _rsv: u8) -> Result<(), Error> {
        self.count = None;
        self.run = (0, 0);
        Ok(())
    }

    fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Decoded {
        let (mut consumed, mut produced) = (0, 0);
        loop {
            produced += self.flush(&mut out[produced..]);
            if self.run.1 > 0 || consumed == input.len() {
                // `out` is full (the rest of the run waits here), or the input is used up.
                return Decoded::new(consumed, produced);
            }
            let byte = input[consumed];
            consumed += 1;
            match self.count.take() {
                None if byte == 0 => return Decoded::failed(consumed, produced, ZERO_RUN.into()),
                None => self.count = Some(byte),
                Some(count) => self.run = (byte, usize::from(count)),
            }
        }
    }

    fn finish_decoding(&mut self, out: &mut [u8]) -> Decoded {
        let produced = self.flush(out);
        if self.run.1 > 0 {
            return Decoded::new(0, produced);
        }
        if self.count.is_some() {
            return Decoded::failed(0, produced, CUT_RUN.into());
        }
        Decoded::complete(produced)
    }

    fn encoded_len_bound(&self, _kind: MessageKind, len: usize) -> Option<usize> {
        (len >= self.min_size).then_some(2 * len)
    }

    fn encode(&mut self, _kind: MessageKind, data: &[u8], out: &mut Vec<u8>) -> Result<u8, Error> {
        let mut rest = data;
        while let Some(&byte) = rest.first() {
            let run = rest.iter().take(255).take_while(|&&b| b == byte).count();
            out.extend_from_slice(&[run as u8, byte]);
            rest = &rest[run..];
        }
        Ok(RSV2)
    }
}

/// A client and a server that negotiated `x-toy-rle` in an opening handshake run in memory.
pub(crate) fn negotiated_pair(client_config: Config, server_config: Config) -> (Connection, Connection) {
    let mut request = Vec::new();
    let mut client_hs = ClientRequest::new("ws://localhost/toy")
        .expect("a valid URI")
        .with_extension(ExtensionOffer::new(NAME))
        .write(&mut request)
        .expect("a valid request");
    let Ok(ServerStatus::Upgrade(upgrade)) = ServerHandshake::new().feed(&request) else { panic!("not an upgrade") };
    let offered = upgrade.extensions().iter().any(|e| e.is(NAME));
    let accept = if offered { Accept::new().with_extension(ExtensionOffer::new(NAME)) } else { Accept::new() };
    let mut response = Vec::new();
    let server_side = upgrade.accept(&accept, &mut response).expect("accepted");
    let Ok(ClientStatus::Upgraded { negotiated: client_side, .. }) = client_hs.feed(&response) else {
        panic!("not upgraded")
    };
    (connection(&client_side, client_config), connection(&server_side, server_config))
}

/// A connection built from what the handshake agreed, running `x-toy-rle` if it was agreed.
fn connection(negotiated: &Negotiated, config: Config) -> Connection {
    let conn = Connection::new(negotiated.role, config).with_negotiated(negotiated);
    match ToyRle::from_negotiated(negotiated) {
        Some(toy) => conn.with_extension(Box::new(toy)).expect("one extension, on RSV2"),
        None => conn,
    }
}

pub(crate) fn main() {
    let (mut client, mut server) = negotiated_pair(Config::new(), Config::new());
    assert!(client.needs_scratch() && server.needs_scratch());

    let mut wire = Vec::new();
    client.send_text(&"a".repeat(1000), &mut wire).unwrap();
    client.send_binary(&[0, 0, 0, 0, 7, 7, 7, 7], &mut wire).unwrap();
    println!("client -> server: two messages of 1008 bytes in all, {} bytes on the wire", wire.len());
    for line in wire.chunks(24) {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        println!("    {}", hex.join(" "));
    }

    // The server decodes into a small scratch buffer: the 1000-byte text comes out in pieces.
    let mut scratch = [0; 256];
    let mut assembler = MessageAssembler::new();
    let mut pos = 0;
    loop {
        let r = server.receive_into(&mut wire[pos..], &mut scratch).unwrap();
        pos += r.consumed;
        let Some(event) = r.event else { break };
        if let Event::Data { data, first, last, .. } = &event {
            println!("server got a piece of {} bytes (first {first}, last {last})", data.len());
        }
        if let Some(message) = assembler.push(event).unwrap() {
            match message {
                wsproto::Message::Text(t) => println!("server got text of {} bytes: {}…", t.len(), &t[..10]),
                wsproto::Message::Binary(b) => println!("server got binary {b:?}"),
                _ => {}
            }
        }
    }
}
