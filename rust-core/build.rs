//! Compiles the legacy netlink C code in c-legacy/ into a static library with the `cc` crate,
//! and the exec stub stub/init.c into a static, freestanding executable that the library embeds
//! (src/process/stub.rs says why).
//! No bindgen here: the bindings are generated ahead of time (`make bindings`) and committed at
//! src/net/bindings.rs, so a plain build needs no libclang.

use std::path::PathBuf;

/// Every file in c-legacy/: a change to any of them rebuilds the library.
const LEGACY_FILES: &[&str] = &[
    "nl.h",
    "nl.c",
    "network.h",
    "network.c",
    "lxc.h",
    "lxc.c",
    "legacy.h",
    "../include/network.h",
];
const LEGACY_SOURCES: &[&str] = &["nl.c", "network.c", "lxc.c"];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let legacy = manifest_dir.join("..").join("c-legacy");

    for file in LEGACY_FILES {
        println!("cargo:rerun-if-changed={}", legacy.join(file).display());
    }
    println!("cargo:rerun-if-changed=build.rs");

    // The shared library's SONAME (its ABI major version). rustc's own version script exports
    // only the #[no_mangle] Rust functions and hides every C symbol: the original project's
    // network.h API is exported through Rust functions that call its C (src/ffi/lxc.rs).
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libcontainer_runtime.so.{major}");

    cc::Build::new()
        .files(LEGACY_SOURCES.iter().map(|file| legacy.join(file)))
        .include(&legacy)
        .std("c11")
        .define("_GNU_SOURCE", None)
        // lxc.c defines the network.h API under legacy_ names here (see c-legacy/lxc.h).
        .define("LEGACY_LXC_PREFIX", None)
        .warnings(true) // -Wall
        .extra_warnings(true) // -Wextra
        .warnings_into_errors(true) // -Werror
        .compile("container_legacy");

    build_stub(&manifest_dir);
}

/// stub/init.c -> $OUT_DIR/docker-run-init: no libc (raw system calls), static, stripped, about
/// 9 KB, so that copying it into a memfd costs nothing measurable at each start. Built with the
/// same C compiler the cc crate found, as a program rather than a library.
fn build_stub(manifest_dir: &std::path::Path) {
    let source = manifest_dir.join("stub").join("init.c");
    println!("cargo:rerun-if-changed={}", source.display());
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("docker-run-init");
    let compiler = cc::Build::new().get_compiler();
    let status = std::process::Command::new(compiler.path())
        .args([
            "-std=c11",
            "-O2",
            "-static",
            "-nostdlib",
            "-ffreestanding",
            "-fno-builtin",
            "-fno-stack-protector",
            "-fno-asynchronous-unwind-tables",
            "-fno-pie",
            "-no-pie",
            "-Wl,--build-id=none",
            "-s",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-o",
        ])
        .arg(&out)
        .arg(&source)
        .status()
        .expect("run the C compiler for stub/init.c");
    assert!(status.success(), "compiling stub/init.c failed");
}
