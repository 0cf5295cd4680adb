//! container_list_*: the running containers of this host, as a snapshot with one entry per
//! container and a getter per field (docker-run ps).

use std::ffi::{c_char, c_int};

use super::{
    Castable, fail, guard, guard_void, out_param, rt_status, try_ref_from_ptr, write_string,
};
use crate::container::Host;
use crate::state::Record;

/// A snapshot of the running containers (opaque), oldest first. Create with
/// container_list_new, read with the getters, free with container_list_free. Entries do not
/// change after creation; the containers themselves may exit meanwhile.
pub struct container_list {
    _private: [u8; 0],
}

impl Castable for container_list {
    type RustType = Vec<Record>;
}

/// Lists the running containers of this host (from the state directory, /run/docker-run):
/// started ones whose process is alive and in the container's cgroup (a record naming any other
/// process is left out). Writes *out only on success.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_new(out: *mut *mut container_list) -> c_int {
    guard(|| {
        out_param(out, "out")?;
        crate::error::require_root("listing containers")?;
        let running = crate::container::list_running(&Host::default());
        container_list::into_out(running, out)
    })
}

/// Frees a list. NULL is a no-op. Using `list` after this call is undefined behaviour.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_free(list: *mut container_list) {
    guard_void(|| container_list::free(list))
}

/// Writes the number of entries to *out_count.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_count(
    list: *const container_list,
    out_count: *mut usize,
) -> c_int {
    guard(|| {
        let list = try_ref_from_ptr!(list);
        *out_param(out_count, "out_count")? = list.len();
        Ok(())
    })
}

fn entry(list: &[Record], index: usize) -> Result<&Record, super::Failure> {
    list.get(index).ok_or_else(|| {
        let msg = format!(
            "index {index} is out of range: the list has {} entries",
            list.len()
        );
        fail(rt_status::INVALID_ARG, msg)
    })
}

/// Copies entry `index`'s id (64 hex digits), NUL-terminated, into buf (capacity cap); its
/// length goes to *out_len (RT_STATUS_BUFFER_TOO_SMALL when cap is too small).
/// RT_STATUS_INVALID_ARG when index is not below the count.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_id(
    list: *const container_list,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| {
        write_string(
            &entry(try_ref_from_ptr!(list), index)?.id,
            buf,
            cap,
            out_len,
        )
    })
}

/// Copies entry `index`'s name ("" when it has none), as container_list_id does.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_name(
    list: *const container_list,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| {
        let name = entry(try_ref_from_ptr!(list), index)?.name.as_deref();
        write_string(name.unwrap_or(""), buf, cap, out_len)
    })
}

/// Copies entry `index`'s command line (its arguments joined by spaces), as container_list_id
/// does.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_command(
    list: *const container_list,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| {
        write_string(
            &entry(try_ref_from_ptr!(list), index)?.command,
            buf,
            cap,
            out_len,
        )
    })
}

/// Writes entry `index`'s host PID to *out_pid.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_pid(
    list: *const container_list,
    index: usize,
    out_pid: *mut c_int,
) -> c_int {
    guard(|| {
        let rec = entry(try_ref_from_ptr!(list), index)?;
        *out_param(out_pid, "out_pid")? = rec.pid;
        Ok(())
    })
}

/// Writes entry `index`'s creation time (seconds since the epoch) to *out_created.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_created(
    list: *const container_list,
    index: usize,
    out_created: *mut u64,
) -> c_int {
    guard(|| {
        let rec = entry(try_ref_from_ptr!(list), index)?;
        *out_param(out_created, "out_created")? = rec.created;
        Ok(())
    })
}
