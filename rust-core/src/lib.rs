//! Container runtime core: namespaces, root filesystem, cgroups and veth/bridge networking,
//! exposed to C through `ffi` (see include/container_runtime.h).

pub mod cgroups;
pub mod cleanup;
pub mod error;
pub mod ffi;
pub mod net;
pub mod process;
pub mod rootfs;
pub mod seccomp;
pub mod spec;
pub mod state;

pub use error::{Error, Result};

