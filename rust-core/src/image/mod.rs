//! The image store: `docker load`, `docker import`, `images`, `rmi`, `tag`, and what `run IMAGE`
//! needs (the layers as overlayfs lower directories, the config's Env/Entrypoint/Cmd/...).
//!
//! Layout under the root (default /var/lib/docker-run/images; everything 0700/0600, owned by
//! root, whatever the umask):
//!
//! ```text
//! repositories.json          names index: {"version":1,"names":{"docker.io/library/busybox:latest":"sha256:<id>"}}
//! images/<id hex>/config.json the image config, byte for byte; its sha256 is the image id
//! layers/<diff_id hex>/diff/  the unpacked layer (an overlayfs lower dir, with whiteouts as 0:0
//!                             char devices and trusted.overlay.opaque=y on opaque dirs)
//! layers/<diff_id hex>/layer.json {"diff_id":"sha256:...","size":<uncompressed tar bytes>}
//! tmp/                        layers and images being made, spooled archives; renamed into
//!                             place when complete, so a partial one is never seen
//! .lock                       flock held while the index, images/ or layers/ change
//! .gc.lock                    loads hold it shared; deleting unused layers takes it exclusive
//! ```
//!
//! An image's layers are its config's rootfs.diff_ids; a layer is deleted once no image's
//! config lists it (no reference counts to drift). Everything read back is validated: names
//! against Docker's grammar in full form, ids and diff_ids as sha256 digests (a config is
//! re-hashed against its id), layer records against their directory; paths are built only
//! from validated hex, so they stay inside the root.

mod archive;
mod config;
mod digest;
mod error;
mod extract;
mod fs;
mod reference;
mod run;
mod source;
mod store;

#[cfg(test)]
mod tests;

pub use archive::native_arch;
pub use config::{DEFAULT_PATH, RunConfig, RunOverrides};
pub use digest::Digest;
pub use error::{ImageError, Result};
pub use reference::Reference;
pub use run::apply;
pub use store::{
    DEFAULT_ROOT, Image, ImportOptions, LoadReport, Loaded, RemoveOptions, Removed, Source, Store,
};
