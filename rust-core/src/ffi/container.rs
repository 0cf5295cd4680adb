//! container_config_* and container_* exports.

use std::ffi::{OsStr, c_char, c_int};
use std::net::Ipv4Addr;
use std::os::unix::ffi::OsStrExt;

use super::{
    Castable, c_bytes, c_path, c_str, fail, guard, guard_void, os_strings, out_param, rt_status,
    try_mut_from_ptr, try_ref_from_ptr, write_string,
};
use crate::container::{Container, ExecSpec};
use crate::error::StateError;
use crate::net;
use crate::spec::{self, ContainerSpec, Mount, MountKind, NetworkMode, PortMapping, Protocol};

/// A container configuration (opaque). Create with container_config_new, free with
/// container_config_free. Not thread-safe.
pub struct container_config {
    _private: [u8; 0],
}

impl Castable for container_config {
    type RustType = ContainerSpec;
}

/// A container (opaque): made from a configuration by container_new, then started, waited for
/// and freed. Not thread-safe: use one handle from one thread at a time.
pub struct container {
    _private: [u8; 0],
}

impl Castable for container {
    type RustType = Container;
}

/// UTS namespace (hostname), for container_config_set_namespaces.
pub const RT_NS_UTS: u32 = 1;
/// Mount namespace (required).
pub const RT_NS_MOUNT: u32 = 2;
/// PID namespace: the command is PID 1.
pub const RT_NS_PID: u32 = 4;
/// Network namespace (off = share the host's network).
pub const RT_NS_NET: u32 = 8;
/// IPC namespace.
pub const RT_NS_IPC: u32 = 16;
/// cgroup namespace.
pub const RT_NS_CGROUP: u32 = 32;
/// Every namespace: the default.
pub const RT_NS_ALL: u32 = 63;

/// Creates a configuration with Docker-like defaults: every namespace, hostname "container",
/// command /bin/sh, working directory /, root user, no network, no limits. The rootfs must be
/// set. Writes *out only on success.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_new(out: *mut *mut container_config) -> c_int {
    guard(|| container_config::into_out(ContainerSpec::default(), out))
}

/// Loads an OCI bundle (`bundle_dir`/config.json, as runc reads it) into a new configuration:
/// the process, root, mounts, hooks, namespaces (new or joined by path), id mappings,
/// devices, cgroupsPath and resources, sysctl, seccomp, masked and read-only paths. The bundle
/// is the whole truth: its root directory is used directly (no copy-on-write layer), and none
/// of container_config_new's defaults (Docker's seccomp profile, masks, capabilities, /proc and
/// /dev) are added beyond what config.json says. A field that cannot be honoured is an error
/// naming it (RT_STATUS_INVALID_ARG; RT_STATUS_SYSCALL when config.json or the root cannot be
/// read). Writes *out only on success; free it with container_config_free.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_from_bundle(
    bundle_dir: *const c_char,
    out: *mut *mut container_config,
) -> c_int {
    guard(|| {
        let dir = c_path(bundle_dir, "bundle_dir")?;
        out_param(out, "out")?;
        let bundle = crate::oci::load_bundle(&dir).map_err(crate::Error::from)?;
        container_config::into_out(bundle.spec, out)
    })
}

/// Frees a configuration. NULL is a no-op (also repeatedly). Containers made from it are
/// independent of it. Using `cfg` after this call, or freeing it twice, is undefined behaviour.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_free(cfg: *mut container_config) {
    guard_void(|| container_config::free(cfg))
}

/// Sets the root filesystem directory (a host path; copied). Checked by container_new. The
/// container runs on a copy-on-write overlay of it of its own (its writes go to
/// /var/lib/docker-run/containers/ID/upper and are removed with it) unless
/// container_config_set_rootfs_shared asks for the directory itself.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_rootfs(
    cfg: *mut container_config,
    path: *const c_char,
) -> c_int {
    guard(|| {
        let path = c_path(path, "path")?;
        try_mut_from_ptr!(cfg).rootfs = path;
        Ok(())
    })
}

/// Sets the hostname seen inside (RFC 1123, at most 64 bytes). Checked here and at start.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_hostname(
    cfg: *mut container_config,
    hostname: *const c_char,
) -> c_int {
    guard(|| {
        let name = c_str(hostname, "hostname")?;
        let spec = try_mut_from_ptr!(cfg);
        spec::validate_hostname(name)?;
        spec.hostname = name.to_string();
        Ok(())
    })
}

/// Sets a name for the container (like docker run --name; letters, digits, '_', '.', '-').
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_name(
    cfg: *mut container_config,
    name: *const c_char,
) -> c_int {
    guard(|| {
        let name = c_str(name, "name")?;
        let spec = try_mut_from_ptr!(cfg);
        spec::validate_name(name)?;
        spec.name = Some(name.to_string());
        Ok(())
    })
}

/// Sets the command: argc strings (copied). argv[0] without a '/' is looked up in the
/// container's PATH. argc must be at least 1. With an image (container_config_set_image), this
/// is the COMMAND of `docker run IMAGE COMMAND`: it replaces the image's Cmd and follows its
/// Entrypoint; without a call, the image's Entrypoint and Cmd run.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_argv(
    cfg: *mut container_config,
    argv: *const *const c_char,
    argc: usize,
) -> c_int {
    guard(|| {
        let spec = try_mut_from_ptr!(cfg);
        let args = os_strings(argv, argc, "argv")?;
        spec::validate_command(&args)?;
        spec.args = args;
        spec.explicit.args = true;
        Ok(())
    })
}

/// Adds an environment variable "KEY=VALUE" (copied). PATH defaults to the usual directories.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_add_env(
    cfg: *mut container_config,
    key_value: *const c_char,
) -> c_int {
    guard(|| {
        let kv = c_bytes(key_value, "key_value")?;
        let spec = try_mut_from_ptr!(cfg);
        spec::validate_env_entry(kv)?;
        spec.env.push(OsStr::from_bytes(kv).to_os_string());
        Ok(())
    })
}

/// Sets the working directory inside the container (absolute; created if missing). Overrides
/// an image's WorkingDir.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_cwd(
    cfg: *mut container_config,
    path: *const c_char,
) -> c_int {
    guard(|| {
        let path = c_path(path, "path")?;
        let spec = try_mut_from_ptr!(cfg);
        spec::validate_container_path("working directory", &path)?;
        spec.cwd = path;
        spec.explicit.cwd = true;
        Ok(())
    })
}

/// Sets the user and group ids the command runs as (default 0:0, or an image's User). A non-root user runs with no
/// effective capabilities.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_user(
    cfg: *mut container_config,
    uid: u32,
    gid: u32,
) -> c_int {
    guard(|| {
        let spec = try_mut_from_ptr!(cfg);
        spec::validate_user(uid, gid)?;
        spec.uid = uid;
        spec.gid = gid;
        spec.explicit.user = true;
        Ok(())
    })
}

/// Chooses the namespaces to create: a mask of RT_NS_* (RT_NS_MOUNT is required). Unknown bits
/// are rejected.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_namespaces(cfg: *mut container_config, flags: u32) -> c_int {
    guard(|| {
        let spec = try_mut_from_ptr!(cfg);
        // No user namespace here: its id mappings come only from a bundle.
        if flags & !spec::ns::ALL != 0 {
            return Err(spec::SpecError::UnknownNamespaces(flags & !spec::ns::ALL).into());
        }
        spec::validate_namespaces(flags)?;
        spec.namespaces = flags;
        Ok(())
    })
}

/// Mounts the rootfs read-only inside the container.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_readonly_rootfs(
    cfg: *mut container_config,
    readonly: bool,
) -> c_int {
    guard(|| {
        try_mut_from_ptr!(cfg).readonly_rootfs = readonly;
        Ok(())
    })
}

/// Gives the container a pseudo-terminal; container_wait then relays it to the caller's
/// stdin/stdout with the caller's terminal in raw mode.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_tty(cfg: *mut container_config, tty: bool) -> c_int {
    guard(|| {
        try_mut_from_ptr!(cfg).terminal = tty;
        Ok(())
    })
}

/// Runs a minimal init as PID 1 that reaps zombies and forwards signals (docker run --init).
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_init(cfg: *mut container_config, init: bool) -> c_int {
    guard(|| {
        try_mut_from_ptr!(cfg).init = init;
        Ok(())
    })
}

/// Chooses the seccomp filter, as docker run --security-opt seccomp=PROFILE does. NULL (the
/// default): Docker's default profile, which refuses io_uring, userfaultfd, perf_event_open,
/// keyctl, add_key, request_key, new user namespaces and more. "unconfined": no filter at all.
/// Anything else is the path of a profile in Docker's JSON format (or the OCI one), read and
/// checked now (RT_STATUS_SYSCALL if it cannot be read, RT_STATUS_INVALID_ARG if it is not a
/// valid profile) and resolved for the container's capabilities at start.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_seccomp(
    cfg: *mut container_config,
    profile: *const c_char,
) -> c_int {
    guard(|| {
        let spec = try_mut_from_ptr!(cfg);
        let policy = if profile.is_null() {
            spec::Seccomp::DockerDefault
        } else {
            let policy = spec::Seccomp::from_option(c_path(profile, "profile")?.as_os_str())?;
            crate::process::plan::seccomp_program(&policy, crate::process::plan::default_caps())
                .map_err(crate::Error::from)?;
            policy
        };
        spec.seccomp = policy;
        Ok(())
    })
}

/// Whether everything of the container goes when it ends (true, the default: its record, log
/// and copy-on-write layer), as docker run --rm. False keeps them until container_remove
/// (docker run without --rm); container_start_stopped can then run it again on its own files.
/// A kept container started with container_start is logged, as Docker logs every container:
/// while it starts, the caller's stdout and stderr are replaced by pipes (another thread's
/// writes meanwhile go to the container's log), and container_wait copies what comes through
/// them to the caller's stdout and stderr and into the log (without a call to container_wait,
/// the container's writes fail once the handle is freed).
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_auto_remove(
    cfg: *mut container_config,
    auto_remove: bool,
) -> c_int {
    guard(|| {
        try_mut_from_ptr!(cfg).auto_remove = auto_remove;
        Ok(())
    })
}

/// Sets the restart policy of a detached container (docker run --restart): "no" (the default),
/// "on-failure", "on-failure:N" (at most N restarts), "always". Applied by its monitor
/// (container_detach), not after a stop, kill or remove; needs container_config_set_auto_remove
/// false (checked at container_new).
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_restart(
    cfg: *mut container_config,
    policy: *const c_char,
) -> c_int {
    guard(|| {
        let policy = spec::RestartPolicy::parse(c_str(policy, "policy")?)?;
        try_mut_from_ptr!(cfg).restart = policy;
        Ok(())
    })
}

/// Runs the container on the rootfs directory itself instead of a copy-on-write overlay of its
/// own (the default). UNSAFE for more than one container: whatever one writes lands in the
/// rootfs directory, where every later (and every concurrent) container sees it, e.g. a
/// replaced /bin/sh. Only for a rootfs that overlayfs cannot use, or one meant to be changed.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_rootfs_shared(
    cfg: *mut container_config,
    shared: bool,
) -> c_int {
    guard(|| {
        try_mut_from_ptr!(cfg).rootfs_shared = shared;
        Ok(())
    })
}

/// Adds a read-only layer above the rootfs (and above the layers added before) to the
/// container's copy-on-write root, as an image's layers stack. `dir` is an absolute path to a
/// directory (checked at container_new); it is copied. Not with container_config_set_rootfs_shared.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_add_layer(
    cfg: *mut container_config,
    dir: *const c_char,
) -> c_int {
    guard(|| {
        let dir = c_path(dir, "dir")?;
        try_mut_from_ptr!(cfg).layers.push(dir);
        Ok(())
    })
}

/// Uses chroot instead of pivot_root. chroot can be escaped by root inside the container: only
/// for roots where pivot_root is impossible (e.g. the initramfs).
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_no_pivot(
    cfg: *mut container_config,
    no_pivot: bool,
) -> c_int {
    guard(|| {
        try_mut_from_ptr!(cfg).no_pivot = no_pivot;
        Ok(())
    })
}

/// Adds a mount after checking what can be checked before start.
fn add_mount(spec: &mut ContainerSpec, mount: Mount) -> Result<(), super::Failure> {
    mount.validate_syntax()?;
    spec.mounts.push(mount);
    Ok(())
}

/// Bind-mounts host path `source` (absolute, must exist) at `destination` (absolute, inside).
#[unsafe(no_mangle)]
pub extern "C" fn container_config_add_bind_mount(
    cfg: *mut container_config,
    source: *const c_char,
    destination: *const c_char,
    readonly: bool,
) -> c_int {
    guard(|| {
        let source = c_path(source, "source")?;
        let destination = c_path(destination, "destination")?;
        let kind = MountKind::Bind { source, readonly };
        add_mount(try_mut_from_ptr!(cfg), Mount { destination, kind })
    })
}

/// Mounts a fresh tmpfs at `destination`; `options` (may be NULL) is tmpfs mount data such as
/// "size=64m,mode=1777".
#[unsafe(no_mangle)]
pub extern "C" fn container_config_add_tmpfs(
    cfg: *mut container_config,
    destination: *const c_char,
    options: *const c_char,
) -> c_int {
    guard(|| {
        let destination = c_path(destination, "destination")?;
        let options = if options.is_null() {
            String::new()
        } else {
            c_str(options, "options")?.to_string()
        };
        let kind = MountKind::Tmpfs { options };
        add_mount(try_mut_from_ptr!(cfg), Mount { destination, kind })
    })
}

/// Network modes for container_config_set_network.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rt_network_mode {
    /// A private network namespace with only `lo` (the default).
    NONE = 0,
    /// A veth pair on a host bridge: address, default route, NAT, published ports.
    BRIDGE = 1,
    /// The host's network namespace.
    HOST = 2,
}

/// Protocols for container_config_add_port.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rt_protocol {
    TCP = 0,
    UDP = 1,
}

/// Chooses the network: an rt_network_mode value (other values give RT_STATUS_INVALID_ARG).
/// Bridge mode uses the bridge "docker-run0" on 10.210.0.0/16 (or the next free subnet of the
/// pool, see container_config_set_bridge) unless container_config_set_bridge says otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_network(cfg: *mut container_config, mode: c_int) -> c_int {
    guard(|| {
        let spec = try_mut_from_ptr!(cfg);
        // A C enum arrives as an int: matched, never transmuted.
        spec.network.mode = match mode {
            m if m == rt_network_mode::NONE as c_int => NetworkMode::None,
            m if m == rt_network_mode::BRIDGE as c_int => NetworkMode::Bridge,
            m if m == rt_network_mode::HOST as c_int => NetworkMode::Host,
            other => {
                let msg = format!("unknown network mode {other}");
                return Err(fail(rt_status::INVALID_ARG, msg));
            }
        };
        Ok(())
    })
}

/// Sets the bridge (1..15 bytes) and its subnet in CIDR form (e.g. "10.210.0.0/16"; the bridge
/// gets the first host address as the containers' gateway). Creating the bridge refuses a subnet
/// that overlaps a route of another interface. `subnet` NULL: the subnet recorded for the
/// bridge, else the first of the pool 10.210.0.0/16 .. 10.219.0.0/16 that no route of another
/// interface overlaps (container_warning says which one was chosen when the bridge is created).
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_bridge(
    cfg: *mut container_config,
    bridge: *const c_char,
    subnet: *const c_char,
) -> c_int {
    guard(|| {
        let bridge = c_str(bridge, "bridge")?;
        let subnet = if subnet.is_null() {
            None
        } else {
            Some(net::parse_cidr(c_str(subnet, "subnet")?)?)
        };
        let spec = try_mut_from_ptr!(cfg);
        match subnet {
            Some(subnet) => net::validate_bridge(bridge, subnet)?,
            None => net::validate_bridge_name(bridge)?,
        }
        spec.network.bridge = bridge.to_string();
        spec.network.subnet = subnet;
        Ok(())
    })
}

/// Sets a static IPv4 address inside the bridge subnet (default: the lowest free one is
/// leased). An address held by a running container is refused at start.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_ip(cfg: *mut container_config, ip: *const c_char) -> c_int {
    guard(|| {
        let text = c_str(ip, "ip")?;
        let spec = try_mut_from_ptr!(cfg);
        let ip: Ipv4Addr = net::parse_ipv4(text)?;
        spec.network.ip = Some(ip);
        Ok(())
    })
}

/// Publishes container port `container_port` on the host's port `host_port` (DNAT; reachable
/// through the host's addresses); `protocol` is an rt_protocol value. Needs bridge networking.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_add_port(
    cfg: *mut container_config,
    host_port: u16,
    container_port: u16,
    protocol: c_int,
) -> c_int {
    guard(|| {
        let spec = try_mut_from_ptr!(cfg);
        let protocol = match protocol {
            p if p == rt_protocol::TCP as c_int => Protocol::Tcp,
            p if p == rt_protocol::UDP as c_int => Protocol::Udp,
            other => {
                return Err(fail(
                    rt_status::INVALID_ARG,
                    format!("unknown protocol {other}"),
                ));
            }
        };
        let port = PortMapping {
            host_port,
            container_port,
            protocol,
        };
        net::validate_port(&port)?;
        spec.network.ports.push(port);
        Ok(())
    })
}

/// Copies the container's IPv4 address on its bridge, NUL-terminated, into buf (capacity cap);
/// its length goes to *out_len. RT_STATUS_STATE when the container has no bridge address.
#[unsafe(no_mangle)]
pub extern "C" fn container_ip(
    c: *const container,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| {
        let c = try_ref_from_ptr!(c);
        out_param(out_len, "out_len")?;
        let ip = c.ip().ok_or(StateError::NoAddress)?;
        write_string(&ip.to_string(), buf, cap, out_len)
    })
}

/// Copies the notices of the last container_start, one per line, NUL-terminated, into buf; ""
/// if none. They say which subnet a bridge created by this start got, and warn of what does not
/// work (e.g. "warning: no outbound access for containers: iptables not found: install the
/// iptables package"). Its length goes to *out_len.
#[unsafe(no_mangle)]
pub extern "C" fn container_warning(
    c: *const container,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| {
        let notices = try_ref_from_ptr!(c).network_notices();
        write_string(&notices, buf, cap, out_len)
    })
}

/// Makes a container from a configuration (copied; the configuration may be freed after).
/// Validates everything (rootfs exists, argv, paths) but creates nothing until container_start.
/// Writes *out only on success.
#[unsafe(no_mangle)]
pub extern "C" fn container_new(cfg: *const container_config, out: *mut *mut container) -> c_int {
    guard(|| {
        let spec = try_ref_from_ptr!(cfg).clone();
        out_param(out, "out")?;
        container::into_out(Container::new(spec)?, out)
    })
}

/// Starts the container: namespaces, rootfs, then exec of the command. Returns once the command
/// runs; on failure (RT_STATUS_NOT_FOUND, RT_STATUS_NOT_EXECUTABLE, RT_STATUS_CHILD_SETUP, ...)
/// the message names the step and path, and nothing is left behind. Needs root:
/// RT_STATUS_NEEDS_ROOT otherwise, before anything is done (also for container_open,
/// container_list_new and runtime_cleanup).
#[unsafe(no_mangle)]
pub extern "C" fn container_start(c: *mut container) -> c_int {
    guard(|| Ok(try_mut_from_ptr!(c).start()?))
}

/// Waits for the container's command to exit and writes its status to *out_status: the exit
/// code, or 128 + signal number. With a tty, relays the terminal meanwhile.
#[unsafe(no_mangle)]
pub extern "C" fn container_wait(c: *mut container, out_status: *mut c_int) -> c_int {
    guard(|| {
        let c = try_mut_from_ptr!(c);
        let out = out_param(out_status, "out_status")?;
        *out = c.wait()?.code;
        Ok(())
    })
}

/// Writes the signal that killed the container's command to *out_signal (0 if it exited
/// normally). Only after container_wait.
#[unsafe(no_mangle)]
pub extern "C" fn container_exit_signal(c: *mut container, out_signal: *mut c_int) -> c_int {
    guard(|| {
        let c = try_mut_from_ptr!(c);
        let out = out_param(out_signal, "out_signal")?;
        let status = c.exit_status().ok_or(StateError::NotExited)?;
        *out = status.signal.unwrap_or(0);
        Ok(())
    })
}

/// Sends signal `signal` (1..64) to the container's first process.
#[unsafe(no_mangle)]
pub extern "C" fn container_kill(c: *mut container, signal: c_int) -> c_int {
    guard(|| Ok(try_mut_from_ptr!(c).kill(signal)?))
}

/// Writes the host PID of the container's first process to *out_pid (RT_STATUS_STATE when it
/// is not running).
#[unsafe(no_mangle)]
pub extern "C" fn container_pid(c: *const container, out_pid: *mut c_int) -> c_int {
    guard(|| {
        let c = try_ref_from_ptr!(c);
        let out = out_param(out_pid, "out_pid")?;
        *out = c.pid().ok_or(StateError::NotRunning)?;
        Ok(())
    })
}

/// Copies the container's 64-hex-digit id, NUL-terminated, into buf (capacity cap); the length
/// without NUL goes to *out_len, also when the buffer is too small (RT_STATUS_BUFFER_TOO_SMALL).
#[unsafe(no_mangle)]
pub extern "C" fn container_id(
    c: *const container,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| write_string(try_ref_from_ptr!(c).id(), buf, cap, out_len))
}

/// Frees a container: a still-running one is killed (SIGKILL) and reaped, and everything it
/// created is removed (a handle from container_open leaves the container alone). NULL is a
/// no-op (also repeatedly). Using `c` after this call, or freeing it twice, is undefined
/// behaviour.
#[unsafe(no_mangle)]
pub extern "C" fn container_free(c: *mut container) {
    guard_void(|| container::free(c))
}

/// Opens a running container started by another process (or this one), by name, id or unique
/// id prefix, from the state directory (/run/docker-run). The handle can be signalled, stopped,
/// tuned (cgroup_set) and entered (container_exec); container_wait is not possible on it, and
/// freeing it leaves the container running. RT_STATUS_NO_SUCH_CONTAINER when nothing matches.
/// Writes *out only on success.
#[unsafe(no_mangle)]
pub extern "C" fn container_open(name_or_id: *const c_char, out: *mut *mut container) -> c_int {
    guard(|| {
        let key = c_str(name_or_id, "name_or_id")?;
        out_param(out, "out")?;
        container::into_out(Container::open(key)?, out)
    })
}

/// Runs a command inside a running container (like `docker exec`): argc strings in argv, envc
/// "KEY=VALUE" strings in env (env may be NULL when envc is 0; PATH has a default), as root in
/// /, with Docker's default capabilities. With `tty`, a new terminal is relayed to the caller's
/// stdin/stdout. Blocks until the command exits and writes its status (exit code or
/// 128 + signal) to *out_status.
#[unsafe(no_mangle)]
pub extern "C" fn container_exec(
    c: *mut container,
    argv: *const *const c_char,
    argc: usize,
    env: *const *const c_char,
    envc: usize,
    tty: bool,
    out_status: *mut c_int,
) -> c_int {
    guard(|| {
        let c = try_mut_from_ptr!(c);
        let out = out_param(out_status, "out_status")?;
        let args = os_strings(argv, argc, "argv")?;
        let env = if envc == 0 {
            Vec::new()
        } else {
            os_strings(env, envc, "env")?
        };
        let spec = ExecSpec {
            args,
            env,
            cwd: "/".into(),
            uid: 0,
            gid: 0,
            tty,
            ..Default::default()
        };
        *out = c.exec(&spec)?.code;
        Ok(())
    })
}

/// Stops a container like `docker stop`: SIGTERM, then SIGKILL after timeout_ms milliseconds.
/// Returns once its first process has exited.
#[unsafe(no_mangle)]
pub extern "C" fn container_stop(c: *mut container, timeout_ms: u32) -> c_int {
    guard(|| {
        let timeout = std::time::Duration::from_millis(timeout_ms.into());
        Ok(try_mut_from_ptr!(c).stop(timeout)?)
    })
}

/// Removes what containers whose docker-run was killed left behind: stale state records, their
/// cgroups and their copy-on-write layers (under /var/lib/docker-run/containers). Running containers are not touched. Writes the number of items removed to
/// *out_removed (may be NULL).
#[unsafe(no_mangle)]
pub extern "C" fn runtime_cleanup(out_removed: *mut usize) -> c_int {
    guard(|| {
        crate::error::require_root("cleaning up")?;
        let host = crate::container::Host::default();
        let report = crate::cleanup::cleanup_host(&host);
        if !out_removed.is_null() {
            *out_param(out_removed, "out_removed")? =
                report.records + report.cgroups + report.layers + report.nat;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_bits_match_the_core() {
        assert_eq!(RT_NS_UTS, spec::ns::UTS);
        assert_eq!(RT_NS_MOUNT, spec::ns::MOUNT);
        assert_eq!(RT_NS_PID, spec::ns::PID);
        assert_eq!(RT_NS_NET, spec::ns::NET);
        assert_eq!(RT_NS_IPC, spec::ns::IPC);
        assert_eq!(RT_NS_CGROUP, spec::ns::CGROUP);
        assert_eq!(RT_NS_ALL, spec::ns::ALL);
    }
}
