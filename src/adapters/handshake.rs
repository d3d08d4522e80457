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

/// Whether the connection may receive compressed messages (and so needs a scratch buffer).
pub(crate) fn compressed(conn: &Connection) -> bool {
    #[cfg(feature = "deflate")]
    return conn.deflate().is_some();
    #[cfg(not(feature = "deflate"))]
    {
        let _ = conn;
        false
    }
}

/// `connect` offers permessage-deflate with the default configuration when the crate has it.
pub(crate) fn offer_deflate(request: crate::handshake::ClientRequest) -> crate::handshake::ClientRequest {
    #[cfg(feature = "deflate")]
    return request.with_deflate(crate::deflate::DeflateConfig::new());
    #[cfg(not(feature = "deflate"))]
    request
}

/// What `accept` agrees to: no subprotocol, and permessage-deflate with
/// [`DeflateConfig::low_memory`](crate::deflate::DeflateConfig::low_memory) when the crate has
/// it (a server holds many connections).
pub(crate) fn default_accept() -> Accept {
    #[cfg(feature = "deflate")]
    return Accept::new().with_deflate(crate::deflate::DeflateConfig::low_memory());
    #[cfg(not(feature = "deflate"))]
    Accept::new()
}

/// Feeds the server handshake; `None` means read more.
pub(crate) fn server_step(
    hs: &mut ServerHandshake,
    input: &[u8],
    config: Config,
    decide: &mut dyn FnMut(&UpgradeRequest) -> Decision,
) -> Option<Done> {
    let mut write = Vec::new();
    let outcome = match hs.feed(input) {
        Ok(ServerStatus::NeedMore) => return None,
        Ok(ServerStatus::Upgrade(request)) => match decide(&request) {
            Ok(accept) => match request.accept(&accept, &mut write) {
                Ok(negotiated) => {
                    Ok((Connection::from_negotiated(&negotiated, config), negotiated, request.leftover()))
                }
                Err(e) => Err(answer(e, &mut write)),
            },
            Err(response) => match request.reject(&response, &mut write) {
                Ok(()) => Err(WsError::Rejected(Box::new(response))),
                Err(e) => Err(answer(e, &mut write)),
            },
        },
        Ok(ServerStatus::Http(request)) => {
            let response = HttpResponse::new(426)
                .with_header("Upgrade", "websocket")
                .with_header("Connection", "Upgrade")
                .with_header("Sec-WebSocket-Version", "13");
            let _ = response.write(&mut write);
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
            Ok((Connection::from_negotiated(&negotiated, config), negotiated, leftover))
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
