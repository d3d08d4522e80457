//! A client and a server `Connection` in fixed arrays, with no `std`, no `alloc` and no C
//! runtime: the client masks with keys from `KeySource::from_seed`, the server unmasks and
//! echoes, the client closes, and the process exits with status 0 only if every step checked
//! out. On x86_64 Linux it runs (exit through the `exit` system call); elsewhere it only links.
#![no_std]
#![no_main]

use core::hint::black_box;

use wsproto::handshake::accept_key;
use wsproto::{CloseCode, CloseFrame, Config, Connection, Event, KeySource, MessageKind, Role, SliceBuf, State};

/// Stands in for 32 bytes from a hardware RNG.
const SEED: [u8; 32] = *b"no_std: seed from the device RNG";

/// The whole exchange; `Err` names the step that failed (the exit status).
fn exchange() -> Result<(), u8> {
    let mut client =
        Connection::new(Role::Client, Config::new()).with_key_source(KeySource::from_seed(black_box(SEED)));
    let mut server = Connection::new(Role::Server, Config::new());
    let mut wire = [0u8; 256];
    let mut reply = [0u8; 256];

    // Client to server: a masked text frame with the stream's first key.
    let mut out = SliceBuf::new(&mut wire);
    client.send_text(black_box("hello from no_std"), &mut out).map_err(|_| 2)?;
    let sent = out.len();
    if wire[2..6] != KeySource::from_seed(black_box(SEED)).mask_key() {
        return Err(3);
    }
    // The server unmasks it in place and echoes it as binary.
    let mut echo = SliceBuf::new(&mut reply);
    let received = server.receive(&mut wire[..sent]).map_err(|_| 4)?;
    match received.event {
        Some(Event::Data { kind: MessageKind::Text, data, last: true, .. }) if data == b"hello from no_std" => {
            server.send_binary(data, &mut echo).map_err(|_| 5)?;
        }
        _ => return Err(6),
    }
    let echoed = echo.len();
    let received = client.receive(&mut reply[..echoed]).map_err(|_| 7)?;
    if !matches!(received.event, Some(Event::Data { kind: MessageKind::Binary, data: b"hello from no_std", .. })) {
        return Err(8);
    }

    // The close handshake, started by the client.
    let mut out = SliceBuf::new(&mut wire);
    client.close(CloseFrame::new(CloseCode::NORMAL, "bye"), &mut out).map_err(|_| 9)?;
    let sent = out.len();
    let received = server.receive(&mut wire[..sent]).map_err(|_| 10)?;
    if !matches!(received.event, Some(Event::Close(frame)) if frame.code() == Some(CloseCode::NORMAL)) {
        return Err(11);
    }
    let mut out = SliceBuf::new(&mut reply);
    server.poll_transmit(&mut out).map_err(|_| 12)?;
    let answered = out.len();
    let received = client.receive(&mut reply[..answered]).map_err(|_| 13)?;
    if !matches!(received.event, Some(Event::Close(_))) || client.state() != State::Closed {
        return Err(14);
    }

    // The handshake's one part without `alloc`: RFC 6455 §1.3's example.
    if accept_key(black_box(b"dGhlIHNhbXBsZSBub25jZQ==")).as_bytes() != b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
        return Err(15);
    }
    Ok(())
}

/// Called by `_start` on a 16-byte aligned stack.
extern "C" fn start() -> ! {
    exit(match exchange() {
        Ok(()) => 0,
        Err(step) => step,
    })
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    exit(101)
}

/// The entry point the kernel jumps to: aligns the stack as a call would, then calls `start`.
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
extern "C" fn _start() -> ! {
    core::arch::naked_asm!("xor ebp, ebp", "and rsp, -16", "call {start}", "ud2", start = sym start)
}

#[cfg(not(target_arch = "x86_64"))]
#[unsafe(no_mangle)]
extern "C" fn _start() -> ! {
    start()
}

/// The prebuilt `core` refers to the unwinding personality routine; with `panic = "abort"`
/// nothing calls it (the `eh_personality` lang item is unstable, so a plain symbol stands in).
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

// The memory routines that the compiler calls and a C library would provide: byte loops (LLVM
// never turns the body of a function with these names back into a call to it).

/// `memcpy`: copies `n` bytes; the areas do not overlap.
#[unsafe(no_mangle)]
unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller passes `n` readable bytes at `src` and `n` writable ones at `dest`.
        unsafe { *dest.add(i) = *src.add(i) };
    }
    dest
}

/// `memmove`: copies `n` bytes; the areas may overlap.
#[unsafe(no_mangle)]
unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dest as usize) < (src as usize) {
        for i in 0..n {
            // SAFETY: as for `memcpy`; forward, so no byte is overwritten before it is read.
            unsafe { *dest.add(i) = *src.add(i) };
        }
    } else {
        for i in (0..n).rev() {
            // SAFETY: as for `memcpy`; backward, so no byte is overwritten before it is read.
            unsafe { *dest.add(i) = *src.add(i) };
        }
    }
    dest
}

/// `memset`: fills `n` bytes with `c`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller passes `n` writable bytes at `dest`.
        unsafe { *dest.add(i) = c as u8 };
    }
    dest
}

/// `memcmp`: compares `n` bytes.
#[unsafe(no_mangle)]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller passes `n` readable bytes at `a` and at `b`.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
    }
    0
}

/// `bcmp`: whether `n` bytes differ.
#[unsafe(no_mangle)]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: as for `memcmp`.
    unsafe { memcmp(a, b, n) }
}

/// Ends the process with `status` (Linux x86_64: the `exit_group` system call).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn exit(status: u8) -> ! {
    // SAFETY: `exit_group` takes one integer argument and does not return.
    unsafe { core::arch::asm!("syscall", in("rax") 231, in("rdi") u64::from(status), options(noreturn, nostack)) }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn exit(_status: u8) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
