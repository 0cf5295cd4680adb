//! Container runtime core: namespaces, root filesystem, cgroups and veth/bridge networking,
//! exposed to C through `ffi` (see include/container_runtime.h).
//!
//! The modules, from the leaves up (tests/lint_modules.py checks that the graph has no cycle):
//! `errno`, `procfs`, `private_fs`, `cgroups`, `spec`, `image`, `net`, `rootfs`, `state`, then `error` (joining their
//! errors), `process` (clone, sync, the child), `syscall` (the kernel seam), `container` (the
//! lifecycle), `cleanup`, and `ffi` (the C boundary).

pub mod cgroups;
pub mod cleanup;
pub mod container;
mod errno;
pub mod error;
pub mod ffi;
pub mod hooks;
pub mod image;
pub mod monitor;
pub mod net;
pub mod oci;
pub mod private_fs;
pub mod process;
pub mod procfs;
pub mod record;
pub mod rootfs;
pub mod seccomp;
pub mod spec;
pub mod state;
pub mod syscall;
#[cfg(test)]
mod test_utils;

pub use container::{Container, ContainerBuilder, ExecSpec, ExitStatus, Host};
pub use error::{Error, Result};
