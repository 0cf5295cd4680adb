//! Regenerates or checks the committed generated files:
//!   codegen header [--check]     include/container_runtime.h (cbindgen)
//!   codegen bindings [--check]   rust-core/src/net/bindings.rs (bindgen; needs libclang)
//! --check exits 1 when the committed file differs, 3 when the generator cannot run here.

mod bindings;
mod header;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn run(what: &str, output: &str, generated: Result<String, String>, check: bool) -> ExitCode {
    let text = match generated {
        Ok(t) => t,
        Err(e) => {
            eprintln!("codegen {what}: {e}");
            return ExitCode::from(if e.starts_with(bindings::LIBCLANG_MISSING) {
                3
            } else {
                1
            });
        }
    };
    let path = repo_root().join(output);
    if check {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != text {
            eprintln!("codegen {what}: {output} is out of date: run `make {what}` and commit it");
            return ExitCode::from(1);
        }
        println!("codegen {what}: {output} is current");
        return ExitCode::SUCCESS;
    }
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("codegen {what}: {}: {e}", path.display());
        return ExitCode::from(1);
    }
    println!("codegen {what}: wrote {output}");
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    let root = repo_root();
    match args.first().map(String::as_str) {
        Some("header") => run("header", header::OUTPUT, header::generate(&root), check),
        Some("bindings") => run(
            "bindings",
            bindings::OUTPUT,
            bindings::generate(&root),
            check,
        ),
        _ => {
            eprintln!("usage: codegen header|bindings [--check]");
            ExitCode::from(2)
        }
    }
}
