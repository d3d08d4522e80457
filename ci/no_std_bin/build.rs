//! Links the program without the C runtime's start files (`crt1.o`, `crti.o`, …) or any default
//! library: `_start` is ours, and nothing from `std` or libc can be resolved.

fn main() {
    println!("cargo:rustc-link-arg-bins=-nostartfiles");
    println!("cargo:rustc-link-arg-bins=-nostdlib");
    // A plain static executable: no dynamic loader, and no relocations left to apply at run
    // time (there is no start-up code to apply them).
    println!("cargo:rustc-link-arg-bins=-static");
    println!("cargo:rustc-link-arg-bins=-no-pie");
    println!("cargo:rerun-if-changed=build.rs");
}
