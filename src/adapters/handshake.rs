//! The opening handshake steps shared by the adapters: the sans-IO decisions, with the reads
//! and writes left to each adapter.

use std::boxed::Box;
use std::vec::Vec;

use super::WsError;
use crate::handshake::{
    Accept, ClientHandshake, ClientStatus, HandshakeError, HttpResponse, Negotiated, ServerHandshake, ServerStatus,
    UpgradeRequest,
};
use crate::{Config, Connection};

/// Size of the buffer the adapters read the handshake into.
pub(crate) const READ_CHUNK: usize = 4096;

/// What a server does with a WebSocket upgrade request: accept it (choosing a subprotocol,
/// extensions and extra headers) or answer it with another response.
pub type Decision = Result<Accept, HttpResponse>;

/// A finished handshake step: bytes to write, then the outcome.
pub(crate) struct Done {
    pub(crate) write: Vec<u8>,
    pub(crate) outcome: Result<(Connection, Negotiated, usize), WsError>,
}

/// Feeds the server handshake; `None` means read more.
///
/// A plain HTTP request is answered with 426 when `answer_plain`; otherwise nothing is written
/// and it comes back as [`WsError::NotWebSocket`], for the caller to serve.
pub(crate) fn server_step(
    hs: &mut ServerHandshake,
    input: &[u8],
    config: Config,
    decide: &mut dyn FnMut(&UpgradeRequest) -> Decision,
    answer_plain: bool,
) -> Option<Done> {
    let mut write = Vec::new();
    let outcome = match hs.feed(input) {
        Ok(ServerStatus::NeedMore) => return None,
        Ok(ServerStatus::Upgrade(request)) => match decide(&request) {
            Ok(accept) => match request.accept(&accept, &mut write) {
                Ok(negotiated) => Ok((
                    Connection::new(negotiated.role, config).with_negotiated(&negotiated),
                    negotiated,
                    request.leftover(),
                )),
                Err(e) => Err(answer(e, &mut write)),
            },
            Err(response) => match request.reject(&response, &mut write) {
                Ok(()) => Err(WsError::Rejected(Box::new(response))),
                Err(e) => Err(answer(e, &mut write)),
            },
        },
        Ok(ServerStatus::Http(request)) => {
            if answer_plain {
                let _ = HttpResponse::upgrade_required().write(&mut write);
            }
            Err(WsError::NotWebSocket(Box::new(request)))
        }
        Err(e) => Err(answer(e, &mut write)),
    };
    Some(Done { write, outcome })
}

/// Feeds the client handshake; `None` means read more.
pub(crate) fn client_step(hs: &mut ClientHandshake, input: &[u8], config: Config) -> Option<Done> {
    let outcome = match hs.feed(input) {
        Ok(ClientStatus::NeedMore) => return None,
        Ok(ClientStatus::Upgraded { negotiated, leftover, .. }) => {
            Ok((Connection::new(negotiated.role, config).with_negotiated(&negotiated), negotiated, leftover))
        }
        Ok(ClientStatus::Rejected(response)) => Err(WsError::Rejected(Box::new(response))),
        Err(e) => Err(e.into()),
    };
    Some(Done { write: Vec::new(), outcome })
}

/// Writes the response that answers a handshake error (for peer faults) and returns the error.
fn answer(e: HandshakeError, write: &mut Vec<u8>) -> WsError {
    write.clear();
    if e.fault() == crate::Fault::Peer {
        let _ = e.write_response(write);
    }
    e.into()
}
