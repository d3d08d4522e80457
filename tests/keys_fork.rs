//! `KeySource::os()` after `fork()`: the child reseeds from the operating system instead of
//! repeating the masking keys its parent draws (feature `std`, Unix).
#![cfg(all(unix, feature = "getrandom", feature = "std"))]

use wsproto::KeySource;

/// Draws 1 KiB (256 keys, four pool refills) from `keys`.
fn draw(keys: &mut KeySource) -> Vec<u8> {
    (0..256).flat_map(|_| keys.mask_key()).collect()
}

#[test]
fn a_forked_child_never_repeats_its_parents_keys() {
    let mut keys = KeySource::os();
    // Seed the stream and leave the pool empty, so that both processes refill after the fork.
    let mut first = [0u8; 256];
    keys.fill(&mut first);

    let mut pipe = [0i32; 2];
    // SAFETY: a plain pipe(2) call on a two-element array.
    assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0);
    // SAFETY: the child only draws keys (no locks shared with other threads are taken: the
    // generator is this thread's value, and getrandom is a system call), writes them to the
    // pipe and leaves with _exit, running no destructor or test-harness code.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let child = draw(&mut keys);
        // SAFETY: writes the child's bytes to the pipe, then ends the child at once.
        unsafe {
            libc::write(pipe[1], child.as_ptr().cast(), child.len());
            libc::_exit(0);
        }
    }
    let parent = draw(&mut keys);
    let mut child = vec![0u8; parent.len()];
    let mut got = 0;
    while got < child.len() {
        // SAFETY: reads into the unfilled tail of `child`.
        let n = unsafe { libc::read(pipe[0], child[got..].as_mut_ptr().cast(), child.len() - got) };
        assert!(n > 0, "the child wrote {got} bytes");
        got += n as usize;
    }
    let mut status = 0;
    // SAFETY: reaps the child started above.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    // The same stream would give identical bytes; a reseeded one shares no 16-byte block.
    assert_ne!(parent, child);
    for block in child.chunks(16) {
        assert!(!parent.chunks(16).any(|p| p == block), "the child repeated a block of its parent's keys");
    }
}
