//! Resource limits on cgroup v1 and v2 behind one interface.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("{0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl CgroupError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            CgroupError::Io { source, .. } => source.raw_os_error(),
            CgroupError::Invalid(_) => None,
        }
    }
}

/// Placeholder until the cgroups backend lands; replaced by the real Resources.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resources {}
