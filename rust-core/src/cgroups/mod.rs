//! Resource limits on cgroup v1 and v2 behind one interface.
//!
//! [`detect`] finds the host's layout by filesystem magic. Limits use portable names (see
//! [`Key`]) parsed by [`set_limit`].

mod detect;
mod resources;

use std::path::PathBuf;

pub use detect::{DEFAULT_ROOT, Layout, detect, layout_from_magic};
pub use resources::{
    DEFAULT_CPU_ONLINE, DEFAULT_CPU_PERIOD, DEFAULT_NODE_ONLINE, HostInfo, Key, MIN_MEMORY,
    Resources, ThrottleDevice, blkio_to_io_weight, io_to_blkio_weight, parse_size, set_limit,
    set_limit_on, shares_to_weight, weight_to_shares,
};

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// A limit value that does not parse or is out of range; nothing was changed.
    #[error("invalid value '{value}' for {key}: {reason}")]
    InvalidValue { key: String, value: String, reason: String },
    #[error("unknown limit '{key}' (valid: {valid})")]
    UnknownKey { key: String, valid: String },
    #[error("cgroup controller '{0}' not available on this host")]
    ControllerMissing(String),
    /// The controller exists but lacks the file for this feature (e.g. swap accounting off).
    #[error("{what} not supported on this host: {why}")]
    NotSupported { what: String, why: String },
    #[error("writing '{value}' to {path}: {source}")]
    Write { path: PathBuf, value: String, source: std::io::Error },
    #[error("{path}: unrecognized cgroup filesystem (magic {magic:#x})")]
    UnknownLayout { path: PathBuf, magic: i64 },
    #[error("{path}: unexpected content '{content}'")]
    Parse { path: PathBuf, content: String },
}

impl CgroupError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            CgroupError::Io { source, .. } | CgroupError::Write { source, .. } => {
                source.raw_os_error()
            }
            CgroupError::Invalid(_)
            | CgroupError::InvalidValue { .. }
            | CgroupError::UnknownKey { .. }
            | CgroupError::ControllerMissing(_)
            | CgroupError::NotSupported { .. }
            | CgroupError::UnknownLayout { .. }
            | CgroupError::Parse { .. } => None,
        }
    }
}
