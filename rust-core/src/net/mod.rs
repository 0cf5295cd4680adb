//! Container networking: veth pairs, bridges, addresses, leases and NAT.

mod bindings;
pub mod legacy;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("{0}")]
    Invalid(String),
    #[error("netlink {op}: {}", std::io::Error::from_raw_os_error(*errno))]
    Netlink { op: String, errno: i32 },
}

impl NetError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetError::Netlink { errno, .. } => Some(*errno),
            NetError::Invalid(_) => None,
        }
    }
}

/// Checks a bridge network spec before any side effect.
pub fn validate(_net: &crate::spec::NetworkSpec) -> Result<(), NetError> {
    Err(NetError::Invalid("bridge networking is not available yet".into()))
}
