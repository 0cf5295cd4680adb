//! Compiles the legacy netlink C code in c-legacy/ into a static library with the `cc` crate.
//! No bindgen here: the bindings are generated ahead of time (`make bindings`) and committed at
//! src/net/bindings.rs, so a plain build needs no libclang.

use std::path::PathBuf;

/// Every file in c-legacy/: a change to any of them rebuilds the library.
const LEGACY_FILES: &[&str] = &["nl.h", "nl.c", "network.h", "network.c", "legacy.h"];
const LEGACY_SOURCES: &[&str] = &["nl.c", "network.c"];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let legacy = manifest_dir.join("..").join("c-legacy");

    for file in LEGACY_FILES {
        println!("cargo:rerun-if-changed={}", legacy.join(file).display());
    }
    println!("cargo:rerun-if-changed=build.rs");

    // The shared library's SONAME (its ABI major version); rustc's own version script already
    // exports only the #[no_mangle] C API and hides everything else, the legacy_* C code included.
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libcontainer_runtime.so.{major}");

    cc::Build::new()
        .files(LEGACY_SOURCES.iter().map(|file| legacy.join(file)))
        .include(&legacy)
        .std("c11")
        .define("_GNU_SOURCE", None)
        .warnings(true) // -Wall
        .extra_warnings(true) // -Wextra
        .warnings_into_errors(true) // -Werror
        .compile("container_legacy");
}
