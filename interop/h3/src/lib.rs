//! Nothing here: the test is `tests/websocket_over_h3.rs` (WebSocket over HTTP/3, RFC 9220, on
//! quiche). Run it with `bash interop/h3/run.sh` from the repository root.
