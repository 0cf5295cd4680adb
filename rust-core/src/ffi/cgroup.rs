//! Resource limits: container_config_set_limit, cgroup_set, cgroup_get, cgroup_stat.

use std::ffi::{c_char, c_int};

use super::container::{container, container_config};
use super::{c_str, guard, out_param, try_mut_from_ptr, try_ref_from_ptr, write_string};
use crate::cgroups;
use crate::error::StateError;

/// Sets a resource limit in a configuration. Keys (Docker's flag names): "memory",
/// "memory-swap", "cpus", "cpu-period", "cpu-quota", "cpu-shares", "cpuset-cpus", "cpuset-mems",
/// "pids-limit", "blkio-weight", "device-read-bps", "device-write-bps". Sizes take the units b, k,
/// m, g ("32m"); "-1" means unlimited where Docker allows it. Bad values give
/// RT_STATUS_INVALID_ARG with a message naming the key and value.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_limit(
    cfg: *mut container_config,
    key: *const c_char,
    value: *const c_char,
) -> c_int {
    guard(|| {
        let key = c_str(key, "key")?;
        let value = c_str(value, "value")?;
        let spec = try_mut_from_ptr!(cfg);
        cgroups::set_limit(&mut spec.resources, key, value)?;
        Ok(())
    })
}

/// Sets a resource limit of a container (keys as container_config_set_limit): before
/// container_start it is recorded and applied at start; on a running container it is written to
/// its cgroup at once (like `docker update`), e.g. raising "memory" lets the next allocation
/// succeed.
#[unsafe(no_mangle)]
pub extern "C" fn cgroup_set(c: *mut container, key: *const c_char, value: *const c_char) -> c_int {
    guard(|| {
        let key = c_str(key, "key")?;
        let value = c_str(value, "value")?;
        let c = try_mut_from_ptr!(c);
        c.set_limit(key, value)?;
        Ok(())
    })
}

/// Copies the current value of a limit of a running container (read back from its cgroup, in
/// the form cgroup_set accepts, "-1" for unlimited) into buf, NUL-terminated; its length goes to
/// *out_len (also when buf is too small: RT_STATUS_BUFFER_TOO_SMALL).
#[unsafe(no_mangle)]
pub extern "C" fn cgroup_get(
    c: *const container,
    key: *const c_char,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| {
        let key = c_str(key, "key")?;
        let c = try_ref_from_ptr!(c);
        out_param(out_len, "out_len")?;
        let value = c.get_limit(key)?;
        write_string(&value, buf, cap, out_len)
    })
}

/// Reads a usage counter of a running container into *out: "memory.usage" and "memory.peak"
/// (bytes), "cpu.usage" (nanoseconds of CPU time), "pids.current". RT_STATUS_CGROUP when this
/// host does not provide the counter.
#[unsafe(no_mangle)]
pub extern "C" fn cgroup_stat(c: *const container, name: *const c_char, out: *mut u64) -> c_int {
    guard(|| {
        let name = c_str(name, "name")?;
        let c = try_ref_from_ptr!(c);
        let out = out_param(out, "out")?;
        *out = c.stats()?.get(name)?;
        Ok(())
    })
}

/// Writes true to *out when the container's command was killed by the kernel's OOM killer
/// because of its memory limit (only after container_wait).
#[unsafe(no_mangle)]
pub extern "C" fn container_oom_killed(c: *const container, out: *mut bool) -> c_int {
    guard(|| {
        let c = try_ref_from_ptr!(c);
        let out = out_param(out, "out")?;
        let status = c.exit_status().ok_or(StateError::NotExited)?;
        *out = status.oom_killed;
        Ok(())
    })
}
