//! The image store's errors: one variant per kind of mistake, each naming what was wrong.

use std::path::PathBuf;

use crate::errno::os_message;

pub type Result<T, E = ImageError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A system call or file operation failed; `what` says on what.
    #[error("{what}: {}", os_message(source))]
    Io {
        what: String,
        source: std::io::Error,
    },

    /// A name that does not follow Docker's reference grammar.
    #[error("invalid reference format {reference:?}: {reason}")]
    InvalidReference { reference: String, reason: String },

    /// A bad argument other than a reference (an empty name, a bad option).
    #[error("{0}")]
    Invalid(String),

    #[error("no such image: {0}")]
    NotFound(String),

    #[error("{key} matches {count} images: use more of the id")]
    Ambiguous { key: String, count: usize },

    /// `remove` of an image a container uses (the caller's predicate said so).
    #[error("unable to remove {key}: image {id} is in use by a container")]
    InUse { key: String, id: String },

    /// `remove` by id of an image that still has several names, without force.
    #[error("unable to delete {id} (must be forced): image is referenced by {names}")]
    MultipleNames { id: String, names: String },

    /// Content whose sha256 is not the one the archive or the config promised.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },

    #[error("{what}: size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        what: String,
        expected: u64,
        actual: u64,
    },

    /// A malformed archive: missing or unparsable manifest, index, config, truncated tar or gzip.
    #[error("{what}: {reason}")]
    Format { what: String, reason: String },

    /// A layer entry that would reach outside its layer (or is otherwise refused).
    #[error("{layer}: refused entry {entry:?}: {reason}")]
    UnsafeEntry {
        layer: String,
        entry: String,
        reason: String,
    },

    /// Something valid that this store does not handle (zstd, a foreign platform only, ...).
    #[error("{0}")]
    Unsupported(String),

    /// A store file that does not validate when read back.
    #[error("corrupt image store: {}: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
}

impl ImageError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ImageError::Io {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn format(what: impl Into<String>, reason: impl Into<String>) -> Self {
        ImageError::Format {
            what: what.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        ImageError::Corrupt {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// The raw errno behind the error, if any.
    pub fn errno(&self) -> Option<i32> {
        match self {
            ImageError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// `map_err` helper: an io::Error becomes `Io` with a description made only on failure.
pub(crate) fn io_ctx<F: FnOnce() -> String>(what: F) -> impl FnOnce(std::io::Error) -> ImageError {
    move |e| ImageError::io(what(), e)
}
