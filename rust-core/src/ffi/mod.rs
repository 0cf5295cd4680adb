//! The extern "C" boundary: argument conversion, panic catching, status codes. No container logic
//! and no validation lives here: values are checked by the core (spec, net, cgroups), which the
//! setters call.
//!
//! Each opaque C type is bound to the Rust type behind its pointers once, by [`Castable`]
//! (rustls-ffi's pattern); the exports reach their objects through [`try_ref_from_ptr!`],
//! [`try_mut_from_ptr!`] and [`Castable::into_out`], which check for NULL and name the
//! parameter, instead of casting by hand.
#![allow(non_camel_case_types)]
// The exports are called from C: they are `extern "C" fn`, not `unsafe fn`, and check every
// pointer for NULL before use; validity beyond that is the documented contract with the caller.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod cgroup;
pub mod container;
pub mod error;
pub mod image;
pub mod list;
/// cbindgen:ignore
pub mod lxc;
pub mod net;

use std::ffi::{CStr, OsStr, OsString, c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

pub use error::rt_status;

/// A failed call: status plus message, already recorded for error_message().
pub(crate) struct Failure(pub c_int);

impl<E: Into<crate::error::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(error::set_error(&e.into()))
    }
}

pub(crate) fn fail(status: rt_status, message: impl Into<String>) -> Failure {
    error::set(message.into(), 0);
    Failure(status as c_int)
}

fn null(name: &str) -> Failure {
    fail(rt_status::NULL_ARG, format!("{name} is NULL"))
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

/// An opaque C type whose pointers are really `Box<Self::RustType>` (rustls-ffi's
/// `Castable` with `OwnershipBox`). C sees only `struct name;`.
pub(crate) trait Castable: Sized {
    type RustType;

    /// The object behind `p`, borrowed for the call; NULL_ARG naming `name` when NULL.
    fn try_ref<'a>(p: *const Self, name: &str) -> Result<&'a Self::RustType, Failure> {
        // SAFETY: the caller promises a non-NULL pointer came from `into_out` and is valid for
        // the call; the C type is a marker for exactly this Rust type.
        unsafe { p.cast::<Self::RustType>().as_ref() }.ok_or_else(|| null(name))
    }

    /// As [`try_ref`](Self::try_ref), mutably: the caller does not alias it during the call.
    fn try_mut<'a>(p: *mut Self, name: &str) -> Result<&'a mut Self::RustType, Failure> {
        // SAFETY: as try_ref, and the pointer is not aliased during the call per the contract.
        unsafe { p.cast::<Self::RustType>().as_mut() }.ok_or_else(|| null(name))
    }

    /// Hands `value` to C through `*out`, written only on success.
    fn into_out(value: Self::RustType, out: *mut *mut Self) -> Result<(), Failure> {
        if out.is_null() {
            return Err(null("out"));
        }
        // SAFETY: out is non-NULL and points to writable storage per the API contract.
        unsafe { *out = Box::into_raw(Box::new(value)).cast::<Self>() };
        Ok(())
    }

    /// Takes back and drops what `into_out` handed out. NULL is a no-op.
    fn free(p: *mut Self) {
        if !p.is_null() {
            // SAFETY: p came from into_out and is freed once, per the contract.
            drop(unsafe { Box::from_raw(p.cast::<Self::RustType>()) });
        }
    }
}

/// `&T::RustType` from a `*const T` parameter, or return NULL_ARG naming it.
macro_rules! try_ref_from_ptr {
    ($p:ident) => {
        $crate::ffi::Castable::try_ref($p, stringify!($p))?
    };
}

/// `&mut T::RustType` from a `*mut T` parameter, or return NULL_ARG naming it.
macro_rules! try_mut_from_ptr {
    ($p:ident) => {
        $crate::ffi::Castable::try_mut($p, stringify!($p))?
    };
}

pub(crate) use {try_mut_from_ptr, try_ref_from_ptr};

/// A plain output parameter (`int *out`, ...), NULL_ARG naming it when NULL.
pub(crate) fn out_param<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: a non-NULL output pointer is valid and unaliased for the call per the contract.
    unsafe { p.as_mut() }.ok_or_else(|| null(name))
}

pub(crate) fn c_bytes<'a>(p: *const c_char, name: &str) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL and, per the API contract, NUL-terminated and valid for the call.
    Ok(unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// An identifier-like string that must be UTF-8.
pub(crate) fn c_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    std::str::from_utf8(c_bytes(p, name)?).map_err(|_| {
        fail(
            rt_status::INVALID_UTF8,
            format!("{name} is not valid UTF-8"),
        )
    })
}

/// A path: any bytes but NUL.
pub(crate) fn c_path(p: *const c_char, name: &str) -> Result<PathBuf, Failure> {
    Ok(PathBuf::from(OsStr::from_bytes(c_bytes(p, name)?)))
}

/// `n` strings from a `const char *const *` list (NULL_ARG naming `name[i]` for a NULL entry).
pub(crate) fn os_strings(
    p: *const *const c_char,
    n: usize,
    name: &str,
) -> Result<Vec<OsString>, Failure> {
    if p.is_null() {
        return Err(null(name));
    }
    (0..n)
        .map(|i| {
            // SAFETY: p has n readable entries per the contract.
            let s = unsafe { *p.add(i) };
            Ok(OsStr::from_bytes(c_bytes(s, &format!("{name}[{i}]"))?).to_os_string())
        })
        .collect()
}

/// Copies a string into a caller buffer: NUL-terminated, length (without NUL) in *out_len, or
/// BUFFER_TOO_SMALL with the needed length.
pub(crate) fn write_string(
    s: &str,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> Result<(), Failure> {
    let out_len = out_param(out_len, "out_len")?;
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

/// The netlink backend the library was built with: "c" (the C code of c-legacy/, the default)
/// or "rust" (netlink-packet-route; `make NETLINK=rust`). It does the runtime's networking:
/// bridges, veth pairs, the container's eth0, and veth_create() and the other network
/// functions of this header. The network.h functions are C in either build. A static string,
/// never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn runtime_netlink_backend() -> *const c_char {
    crate::net::BACKEND_NAME.as_ptr()
}

/// Test hook: panics inside the FFI guard, to prove a panic becomes RT_STATUS_PANIC.
/// Only built with the `test-panic` feature.
#[cfg(feature = "test-panic")]
#[unsafe(no_mangle)]
pub extern "C" fn runtime_test_panic() -> c_int {
    guard(|| panic!("test panic"))
}
