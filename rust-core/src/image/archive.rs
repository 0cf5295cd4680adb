//! Reading image archives into a list of images to add: `docker save` tarballs (manifest.json;
//! the classic `<id>/layer.tar` layout and the newer one with blobs under blobs/sha256/) and OCI
//! image layouts (oci-layout + index.json + blobs/, as a directory or a tar; nested indexes
//! resolved to the linux/<native arch> manifest). Every document read is checked against the
//! digest and size that named it; layers are checked while they are unpacked.

use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};
use serde::Deserialize;

use super::digest::Digest;
use super::error::{ImageError, Result};
use super::reference::Reference;
use super::source::Blobs;

/// One layer to unpack: where its blob is and what it must hash to.
#[derive(Debug, Clone)]
pub(crate) struct PendingLayer {
    pub path: String,
    pub media_type: Option<String>,
    pub blob_digest: Option<Digest>,
    pub blob_size: Option<u64>,
    pub diff_id: Digest,
}

/// One image found in an archive.
#[derive(Debug)]
pub(crate) struct Pending {
    pub id: Digest,
    pub config_bytes: Vec<u8>,
    pub layers: Vec<PendingLayer>,
    pub names: Vec<Reference>,
}

/// The images of an archive, with warnings (an untaggable name, a skipped platform).
pub(crate) fn read(blobs: &dyn Blobs) -> Result<(Vec<Pending>, Vec<String>)> {
    if blobs.exists("manifest.json") {
        docker_save(blobs)
    } else if blobs.exists("oci-layout") {
        oci_layout(blobs)
    } else {
        Err(ImageError::format(
            blobs.name(),
            "neither a docker save archive (no manifest.json) nor an OCI image layout (no oci-layout)",
        ))
    }
}

/// The GOARCH name of the architecture we run on (what image platforms say).
pub fn native_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "riscv64" => "riscv64",
        "s390x" => "s390x",
        "arm" => "arm",
        other => other,
    }
}

/// Parses a config, checks what the store relies on, and returns its diff_ids.
pub(crate) fn parse_config(what: &str, bytes: &[u8]) -> Result<(ImageConfiguration, Vec<Digest>)> {
    let cfg: ImageConfiguration = serde_json::from_slice(bytes)
        .map_err(|e| ImageError::format(what, format!("invalid image config: {e}")))?;
    if cfg.rootfs().typ() != "layers" {
        return Err(ImageError::format(
            what,
            format!("rootfs.type is {:?}, not \"layers\"", cfg.rootfs().typ()),
        ));
    }
    let diff_ids = cfg
        .rootfs()
        .diff_ids()
        .iter()
        .map(|d| {
            Digest::parse(d).map_err(|e| ImageError::format(what, format!("rootfs.diff_ids: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    super::config::RunConfig::from_oci(&cfg)
        .map_err(|e| ImageError::format(what, e.to_string()))?;
    Ok((cfg, diff_ids))
}

/// The digest a path names when it is `blobs/sha256/<hex>` (or `<hex>.json`, `<hex>.tar`,
/// `<hex>/layer.tar`'s siblings are v1 ids, not digests, so only those two forms count).
fn digest_in_path(path: &str, suffix: &str) -> Option<Digest> {
    let p = super::source::normalize(path)?;
    let hex = p
        .strip_prefix("blobs/sha256/")
        .or_else(|| p.strip_suffix(suffix))?;
    Digest::from_hex(hex).ok()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifestItem {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

fn docker_save(blobs: &dyn Blobs) -> Result<(Vec<Pending>, Vec<String>)> {
    let what = format!("{}: manifest.json", blobs.name());
    let items: Vec<DockerManifestItem> =
        serde_json::from_slice(&blobs.read_small("manifest.json")?)
            .map_err(|e| ImageError::format(&what, e.to_string()))?;
    if items.is_empty() {
        return Err(ImageError::format(&what, "lists no image"));
    }
    let mut out = Vec::new();
    for item in items {
        let cwhat = format!("{}: {}", blobs.name(), item.config);
        let config_bytes = blobs.read_small(&item.config)?;
        let id = Digest::of(&config_bytes);
        if let Some(named) = digest_in_path(&item.config, ".json") {
            if named != id {
                return Err(ImageError::DigestMismatch {
                    what: cwhat,
                    expected: named.to_string(),
                    actual: id.to_string(),
                });
            }
        }
        let (_, diff_ids) = parse_config(&cwhat, &config_bytes)?;
        if diff_ids.len() != item.layers.len() {
            return Err(ImageError::format(
                &cwhat,
                format!(
                    "the config lists {} layers (rootfs.diff_ids), manifest.json {}",
                    diff_ids.len(),
                    item.layers.len()
                ),
            ));
        }
        let layers = item
            .layers
            .iter()
            .zip(diff_ids)
            .map(|(path, diff_id)| PendingLayer {
                path: path.clone(),
                media_type: None,
                blob_digest: digest_in_path(path, ".tar"),
                blob_size: None,
                diff_id,
            })
            .collect();
        let names = item
            .repo_tags
            .iter()
            .flatten()
            .map(|t| {
                Reference::parse(t).map_err(|e| ImageError::format(&what, format!("RepoTags: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        out.push(Pending {
            id,
            config_bytes,
            layers,
            names,
        });
    }
    Ok((out, Vec::new()))
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const CONFIG_TYPES: &[&str] = &[
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];
/// Nested indexes deeper than this are refused (a loop of indexes cannot be, digests forbid
/// it, but a deep chain costs reads for nothing).
const MAX_INDEX_DEPTH: usize = 4;

/// Reads the blob a descriptor names and checks its size and digest.
fn read_blob(blobs: &dyn Blobs, desc: &Descriptor) -> Result<(Digest, Vec<u8>)> {
    let digest = descriptor_digest(blobs, desc)?;
    let path = format!("blobs/sha256/{}", digest.hex());
    let what = format!("{}: {path}", blobs.name());
    if desc.size() > super::source::JSON_LIMIT {
        return Err(ImageError::format(
            &what,
            format!(
                "a {} of {} bytes is too large",
                desc.media_type(),
                desc.size()
            ),
        ));
    }
    let bytes = blobs.read_small(&path)?;
    if bytes.len() as u64 != desc.size() {
        return Err(ImageError::SizeMismatch {
            what,
            expected: desc.size(),
            actual: bytes.len() as u64,
        });
    }
    let actual = Digest::of(&bytes);
    if actual != digest {
        return Err(ImageError::DigestMismatch {
            what,
            expected: digest.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok((digest, bytes))
}

fn descriptor_digest(blobs: &dyn Blobs, desc: &Descriptor) -> Result<Digest> {
    Digest::parse(desc.digest().as_ref())
        .map_err(|e| ImageError::Unsupported(format!("{}: {e}", blobs.name())))
}

fn platform_of(desc: &Descriptor) -> Option<String> {
    desc.platform()
        .as_ref()
        .map(|p| format!("{}/{}", p.os(), p.architecture()))
}

fn native_platform() -> String {
    format!("linux/{}", native_arch())
}

/// Names from an index.json entry: containerd's full name, else the OCI ref.name when it is a
/// whole reference (a bare tag like "latest" names no repository: the image stays untagged).
fn oci_names(
    blobs: &dyn Blobs,
    desc: &Descriptor,
    warnings: &mut Vec<String>,
) -> Result<Vec<Reference>> {
    let Some(ann) = desc.annotations() else {
        return Ok(Vec::new());
    };
    let name = ann
        .get("io.containerd.image.name")
        .or_else(|| ann.get("org.opencontainers.image.ref.name"));
    let Some(name) = name else {
        return Ok(Vec::new());
    };
    if !name.contains(['/', ':']) {
        warnings.push(format!(
            "{}: image {} is named only {name:?} (no repository): loaded untagged",
            blobs.name(),
            desc.digest()
        ));
        return Ok(Vec::new());
    }
    Reference::parse(name)
        .map(|r| vec![r])
        .map_err(|e| ImageError::format(format!("{}: index.json", blobs.name()), e.to_string()))
}

fn oci_layout(blobs: &dyn Blobs) -> Result<(Vec<Pending>, Vec<String>)> {
    let layout: oci_spec::image::OciLayout =
        serde_json::from_slice(&blobs.read_small("oci-layout")?).map_err(|e| {
            ImageError::format(format!("{}: oci-layout", blobs.name()), e.to_string())
        })?;
    if !layout.image_layout_version().starts_with("1.") {
        return Err(ImageError::Unsupported(format!(
            "{}: image layout version {} (only 1.x)",
            blobs.name(),
            layout.image_layout_version()
        )));
    }
    let iwhat = format!("{}: index.json", blobs.name());
    let index: ImageIndex = serde_json::from_slice(&blobs.read_small("index.json")?)
        .map_err(|e| ImageError::format(&iwhat, e.to_string()))?;
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut skipped = Vec::new();
    for desc in index.manifests() {
        if let Some(p) = platform_of(desc) {
            if p != native_platform() && is_manifest(desc) {
                skipped.push(p);
                continue;
            }
        }
        let names = oci_names(blobs, desc, &mut warnings)?;
        let manifest = resolve(blobs, desc, 0)?;
        out.push(from_manifest(blobs, &manifest, names)?);
    }
    if out.is_empty() {
        return Err(if skipped.is_empty() {
            ImageError::format(&iwhat, "lists no image")
        } else {
            ImageError::Unsupported(format!(
                "{iwhat}: no image for {} (only {})",
                native_platform(),
                skipped.join(", ")
            ))
        });
    }
    Ok((out, warnings))
}

fn is_manifest(desc: &Descriptor) -> bool {
    matches!(desc.media_type().as_ref(), OCI_MANIFEST | DOCKER_MANIFEST)
}

/// Follows a descriptor to an image manifest, picking our platform in (nested) indexes.
fn resolve(blobs: &dyn Blobs, desc: &Descriptor, depth: usize) -> Result<ImageManifest> {
    let what = format!("{}: blobs/sha256/{}", blobs.name(), desc.digest().digest());
    match desc.media_type().as_ref() {
        OCI_MANIFEST | DOCKER_MANIFEST => {
            let (_, bytes) = read_blob(blobs, desc)?;
            serde_json::from_slice(&bytes)
                .map_err(|e| ImageError::format(&what, format!("invalid image manifest: {e}")))
        }
        OCI_INDEX | DOCKER_LIST => {
            if depth >= MAX_INDEX_DEPTH {
                return Err(ImageError::format(&what, "image indexes nested too deep"));
            }
            let (_, bytes) = read_blob(blobs, desc)?;
            let index: ImageIndex = serde_json::from_slice(&bytes)
                .map_err(|e| ImageError::format(&what, format!("invalid image index: {e}")))?;
            let children: Vec<&Descriptor> = index
                .manifests()
                .iter()
                .filter(|d| {
                    matches!(
                        d.media_type().as_ref(),
                        OCI_MANIFEST | DOCKER_MANIFEST | OCI_INDEX | DOCKER_LIST
                    )
                })
                .collect();
            let native = native_platform();
            let chosen = match children
                .iter()
                .find(|d| platform_of(d).as_deref() == Some(native.as_str()))
            {
                Some(d) => *d,
                None if children.len() == 1 && platform_of(children[0]).is_none() => children[0],
                None => {
                    let found: Vec<String> = children
                        .iter()
                        .map(|d| platform_of(d).unwrap_or_else(|| "unspecified".into()))
                        .collect();
                    return Err(ImageError::Unsupported(format!(
                        "{what}: no image for {native} in the index (it has: {})",
                        if found.is_empty() {
                            "nothing".to_string()
                        } else {
                            found.join(", ")
                        }
                    )));
                }
            };
            resolve(blobs, chosen, depth + 1)
        }
        other => Err(ImageError::Unsupported(format!(
            "{what}: not an image manifest or index (media type {other})"
        ))),
    }
}

fn from_manifest(
    blobs: &dyn Blobs,
    manifest: &ImageManifest,
    names: Vec<Reference>,
) -> Result<Pending> {
    let cdesc = manifest.config();
    let cwhat = format!("{}: blobs/sha256/{}", blobs.name(), cdesc.digest().digest());
    if !CONFIG_TYPES.contains(&cdesc.media_type().as_ref()) {
        return Err(ImageError::Unsupported(format!(
            "{cwhat}: not a container image (config media type {})",
            cdesc.media_type()
        )));
    }
    let (id, config_bytes) = read_blob(blobs, cdesc)?;
    let (_, diff_ids) = parse_config(&cwhat, &config_bytes)?;
    if diff_ids.len() != manifest.layers().len() {
        return Err(ImageError::format(
            &cwhat,
            format!(
                "the config lists {} layers (rootfs.diff_ids), the manifest {}",
                diff_ids.len(),
                manifest.layers().len()
            ),
        ));
    }
    let layers = manifest
        .layers()
        .iter()
        .zip(diff_ids)
        .map(|(l, diff_id)| {
            let digest = descriptor_digest(blobs, l)?;
            Ok(PendingLayer {
                path: format!("blobs/sha256/{}", digest.hex()),
                media_type: Some(l.media_type().to_string()),
                blob_digest: Some(digest),
                blob_size: Some(l.size()),
                diff_id,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Pending {
        id,
        config_bytes,
        layers,
        names,
    })
}
