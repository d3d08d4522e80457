//! Structure-aware: one connection, in either role, with an arbitrary timer configuration
//! (keepalive interval and timeout, close timeout, idle timeout: each off or 1..=60 000 ms, or
//! all off), driven by a simulated clock that moves forwards and backwards, through the peer's
//! messages, Pings, Pongs and Close frame delivered in pieces, our own sends, Pings and Close.
//!
//! Checked after every operation (see `wsproto_fuzz::timers` for the model and details): no
//! deadline and no timer error without timer settings; liveness (after `handle_timeout(t)`
//! returned `Ok`, `poll_timeout()` is `None` or later than the latest time given); no deadline
//! passes early (Idle, CloseHandshake, KeepAlive, the keepalive Ping and a client giving up on
//! the server, against a model of the time stamps); a timer's error repeats and the state is
//! `Failed`; `handle_timeout` before the announced deadline does nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsproto_fuzz::timers::{TimersInput, run};

fuzz_target!(|input: TimersInput| {
    run(&input);
});
