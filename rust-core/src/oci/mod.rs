//! OCI bundles: config.json, read with the `oci-spec` crate (the field's typed model of the
//! runtime specification), turned into the core's [`ContainerSpec`], and the pieces of the
//! OCI lifecycle that a runc-like front end needs from the core: the hooks with the state on
//! their stdin, and the exec fifo of the create/start split. docs/OCI-CORE-API.md shows how a
//! front end uses them.
//!
//! The bundle is the whole truth: none of docker-run's defaults (copy-on-write root, Docker's
//! seccomp profile, masks, capabilities, /proc and /dev, networking) are added beyond what
//! config.json says; the root is used directly, as runc does. A field that would restrict the
//! container and that the core cannot honour is an error naming the field; fields that only
//! label it (SELinux, AppArmor where the host has none) become warnings.

mod convert;
mod mounts;
#[cfg(test)]
mod root_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use crate::hooks::{HookNs, State, open_exec_fifo, run_hooks, run_hooks_all};
pub use convert::RELATIVE_CGROUP_PARENT;

use crate::spec::ContainerSpec;

/// config.json's name inside a bundle.
pub const CONFIG: &str = "config.json";

/// A bundle, loaded.
#[derive(Debug, Clone)]
pub struct OciBundle {
    /// What the core runs; its `hooks` are config.json's.
    pub spec: ContainerSpec,
    pub annotations: BTreeMap<String, String>,
    /// root.path, resolved against the bundle and canonical.
    pub rootfs: PathBuf,
    /// The bundle directory, canonical.
    pub bundle: PathBuf,
    pub oci_version: String,
    /// process.consoleSize as (height, width).
    pub console_size: Option<(u16, u16)>,
    /// Fields accepted but not honoured, one sentence each (runc logs such as warnings).
    pub warnings: Vec<String>,
}

impl OciBundle {
    /// The hooks of config.json (also in `spec.hooks`, which `Container::start` runs).
    pub fn hooks(&self) -> &crate::spec::Hooks {
        &self.spec.hooks
    }
}

/// What is wrong with a bundle; the message names the field.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("{}: {}", path.display(), crate::errno::os_message(source))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config.json is not valid JSON: {0}")]
    Json(serde_json::Error),
    /// A field of the wrong type or with an unknown value, found by its position.
    #[error("config.json: {field}: {message}")]
    Schema { field: String, message: String },
    /// A field whose value the runtime refuses.
    #[error("config.json: {field}: {why}")]
    Field { field: String, why: String },
    #[error("config.json: {0} is required")]
    Missing(&'static str),
}

impl OciError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            OciError::Read { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    pub(crate) fn field(field: impl Into<String>, why: impl Into<String>) -> OciError {
        OciError::Field {
            field: field.into(),
            why: why.into(),
        }
    }
}

impl From<OciError> for crate::Error {
    fn from(e: OciError) -> crate::Error {
        crate::Error::Bundle {
            errno: e.errno(),
            message: e.to_string(),
        }
    }
}

pub type Result<T, E = OciError> = std::result::Result<T, E>;

/// Reads `bundle/config.json` and turns it into a spec. Nothing is created.
pub fn load_bundle(bundle: &Path) -> Result<OciBundle> {
    let path = bundle.join(CONFIG);
    let bytes = std::fs::read(&path).map_err(|source| OciError::Read { path, source })?;
    load_config(&bytes, bundle)
}

/// [`load_bundle`] from config.json's bytes; relative paths are resolved against `bundle`.
pub fn load_config(json: &[u8], bundle: &Path) -> Result<OciBundle> {
    let value: serde_json::Value = serde_json::from_slice(json).map_err(OciError::Json)?;
    let spec: oci_spec::runtime::Spec =
        serde_json::from_value(value.clone()).map_err(|e| convert::locate(&value, e))?;
    let bundle = std::fs::canonicalize(bundle).map_err(|source| OciError::Read {
        path: bundle.to_path_buf(),
        source,
    })?;
    convert::bundle(&spec, &bundle)
}

/// The spec of a process run in an existing container (`exec --process F.json`).
pub fn exec_spec(process_json: &[u8]) -> Result<crate::ExecSpec> {
    let value: serde_json::Value = serde_json::from_slice(process_json).map_err(OciError::Json)?;
    let process: oci_spec::runtime::Process =
        serde_json::from_value(value).map_err(|e| OciError::Schema {
            field: "process".into(),
            message: e.to_string(),
        })?;
    convert::exec_spec(&process)
}
