//! Compiles the legacy netlink C code in c-legacy/ into a static library with the `cc` crate.
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
}
