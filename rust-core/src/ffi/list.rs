//! container_list_*: the running containers of this host, as a snapshot with one entry per
//! container and a getter per field (docker-run ps).

use std::ffi::{c_char, c_int};

use super::{
    Castable, fail, guard, guard_void, out_param, rt_status, try_ref_from_ptr, write_string,
};
use crate::container::Host;
use crate::monitor::manage::{self, Summary};

/// A snapshot of the running containers (opaque), oldest first. Create with
/// container_list_new, read with the getters, free with container_list_free. Entries do not
/// change after creation; the containers themselves may exit meanwhile.
pub struct container_list {
    _private: [u8; 0],
}

impl Castable for container_list {
    type RustType = Vec<Summary>;
}

/// Lists the running containers of this host: started ones whose process is alive and in the
/// container's cgroup (a record naming any other process is left out). Writes *out only on
/// success.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_new(out: *mut *mut container_list) -> c_int {
    guard(|| {
        out_param(out, "out")?;
        container_list::into_out(manage::list(&Host::default(), false)?, out)
    })
}

/// Lists the containers of this host (docker ps): with `all`, every container that has a
/// record, stopped ones too (docker ps -a); else the running ones. Writes *out only on success.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_new_all(all: bool, out: *mut *mut container_list) -> c_int {
    guard(|| {
        out_param(out, "out")?;
        container_list::into_out(manage::list(&Host::default(), all)?, out)
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

fn entry(list: &[Summary], index: usize) -> Result<&Summary, super::Failure> {
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
        let name = &entry(try_ref_from_ptr!(list), index)?.name;
        write_string(name, buf, cap, out_len)
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

/// Writes entry `index`'s host PID to *out_pid (0 when it is not running).
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

/// Which text field of an entry a getter copies.
fn text_field(
    list: *const container_list,
    index: usize,
    field: fn(&Summary) -> &str,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| {
        let e = entry(try_ref_from_ptr!(list), index)?;
        write_string(field(e), buf, cap, out_len)
    })
}

/// Copies entry `index`'s status as Docker's STATUS column shows it ("Up 3 seconds",
/// "Exited (0) 2 minutes ago", "Restarting (1) 1 second ago"), as container_list_id does.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_status(
    list: *const container_list,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    text_field(list, index, |e| &e.status, buf, cap, out_len)
}

/// Copies entry `index`'s root filesystem (or image), as container_list_id does.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_image(
    list: *const container_list,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    text_field(list, index, |e| &e.image, buf, cap, out_len)
}

/// Copies entry `index`'s published ports as Docker's PORTS column shows them
/// ("0.0.0.0:8080->80/tcp, ..."; "" when none or not running), as container_list_id does.
#[unsafe(no_mangle)]
pub extern "C" fn container_list_ports(
    list: *const container_list,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    text_field(list, index, |e| &e.ports, buf, cap, out_len)
}
