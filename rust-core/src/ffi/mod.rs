//! The extern "C" boundary: argument checks, panic catching, status codes. No container logic
//! lives here.
#![allow(non_camel_case_types)]
// The exports are called from C: they are `extern "C" fn`, not `unsafe fn`, and check every
// pointer for NULL before use; validity beyond that is the documented contract with the caller.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod cgroup;
pub mod container;
pub mod error;
/// cbindgen:ignore
pub mod lxc;
pub mod net;

use std::ffi::{CStr, OsStr, c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

pub use error::rt_status;

/// A failed call: status plus message, already recorded for error_message().
pub(crate) struct Failure(pub c_int);

impl From<crate::error::Error> for Failure {
    fn from(e: crate::error::Error) -> Self {
        Failure(error::set_error(&e))
    }
}

pub(crate) fn fail(status: rt_status, message: impl Into<String>) -> Failure {
    error::set(message.into(), 0);
    Failure(status as c_int)
}

/// Runs an exported body: clears the last error, catches panics (a panic must never unwind into
/// C: since Rust 1.81 that aborts the host) and turns the result into a status.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> c_int {
    error::clear();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => rt_status::OK as c_int,
        Ok(Err(Failure(status))) => status,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            error::set(format!("internal error (panic): {what}"), 0);
            rt_status::PANIC as c_int
        }
    }
}

/// Like guard, for functions that cannot report a status (free functions): panics are swallowed.
pub(crate) fn guard_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

pub(crate) fn non_null<'a, T>(p: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: the caller promises a non-NULL pointer is valid for the call.
    unsafe { p.as_ref() }.ok_or_else(|| fail(rt_status::NULL_ARG, format!("{name} is NULL")))
}

pub(crate) fn non_null_mut<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: as non_null, and the caller does not alias the pointer during the call.
    unsafe { p.as_mut() }.ok_or_else(|| fail(rt_status::NULL_ARG, format!("{name} is NULL")))
}

pub(crate) fn c_bytes<'a>(p: *const c_char, name: &str) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return Err(fail(rt_status::NULL_ARG, format!("{name} is NULL")));
    }
    // SAFETY: non-NULL and, per the API contract, NUL-terminated and valid for the call.
    Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// An identifier-like string that must be UTF-8.
pub(crate) fn c_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(c_bytes(p, name)?)
        .map_err(|_| fail(rt_status::INVALID_UTF8, format!("{name} is not valid UTF-8")))
}

/// A path: any bytes but NUL.
pub(crate) fn c_path(p: *const c_char, name: &str) -> Result<PathBuf, Failure> {
    Ok(PathBuf::from(OsStr::from_bytes(c_bytes(p, name)?)))
}

/// Writes a handle to *out only on success.
pub(crate) fn write_out<T>(out: *mut *mut T, value: Box<T>) -> Result<(), Failure> {
    if out.is_null() {
        return Err(fail(rt_status::NULL_ARG, "out is NULL"));
    }
    // SAFETY: out is non-NULL and points to writable storage per the API contract.
    unsafe { *out = Box::into_raw(value) };
    Ok(())
}

/// Copies a string into a caller buffer: NUL-terminated, length (without NUL) in *out_len, or
/// BUFFER_TOO_SMALL with the needed length.
pub(crate) fn write_string(s: &str, buf: *mut c_char, cap: usize, out_len: *mut usize) -> Result<(), Failure> {
    let out_len = non_null_mut(out_len, "out_len")?;
    *out_len = s.len();
    if buf.is_null() || cap < s.len() + 1 {
        return Err(fail(
            rt_status::BUFFER_TOO_SMALL,
            format!("buffer of {cap} bytes is too small: {} needed", s.len() + 1),
        ));
    }
    // SAFETY: buf has at least cap >= len + 1 writable bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast(), s.len());
        *buf.add(s.len()) = 0;
    }
    Ok(())
}

/// The library version, e.g. "0.1.0": a static string, never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn runtime_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Test hook: panics inside the FFI guard, to prove a panic becomes RT_STATUS_PANIC.
/// Only built with the `test-panic` feature.
#[cfg(feature = "test-panic")]
#[unsafe(no_mangle)]
pub extern "C" fn runtime_test_panic() -> c_int {
    guard(|| panic!("test panic"))
}
