//! config.json's mounts: runc's option table, into [`MountKind::Raw`].

use std::path::Path;

use libc::c_ulong;

use super::{OciError, Result};
use crate::spec::{Mount, MountKind};

/// A flag an option sets (true) or clears (false), as runc's mount option table has them.
const FLAGS: &[(&str, bool, c_ulong)] = &[
    ("ro", true, libc::MS_RDONLY),
    ("rw", false, libc::MS_RDONLY),
    ("nosuid", true, libc::MS_NOSUID),
    ("suid", false, libc::MS_NOSUID),
    ("nodev", true, libc::MS_NODEV),
    ("dev", false, libc::MS_NODEV),
    ("noexec", true, libc::MS_NOEXEC),
    ("exec", false, libc::MS_NOEXEC),
    ("sync", true, libc::MS_SYNCHRONOUS),
    ("async", false, libc::MS_SYNCHRONOUS),
    ("dirsync", true, libc::MS_DIRSYNC),
    ("remount", true, libc::MS_REMOUNT),
    ("mand", true, libc::MS_MANDLOCK),
    ("nomand", false, libc::MS_MANDLOCK),
    ("atime", false, libc::MS_NOATIME),
    ("noatime", true, libc::MS_NOATIME),
    ("diratime", false, libc::MS_NODIRATIME),
    ("nodiratime", true, libc::MS_NODIRATIME),
    ("relatime", true, libc::MS_RELATIME),
    ("norelatime", false, libc::MS_RELATIME),
    ("strictatime", true, libc::MS_STRICTATIME),
    ("nostrictatime", false, libc::MS_STRICTATIME),
    ("bind", true, libc::MS_BIND),
    ("rbind", true, libc::MS_BIND | libc::MS_REC),
];

/// The propagation options.
pub(super) const PROPAGATION: &[(&str, c_ulong)] = &[
    ("private", libc::MS_PRIVATE),
    ("rprivate", libc::MS_PRIVATE | libc::MS_REC),
    ("shared", libc::MS_SHARED),
    ("rshared", libc::MS_SHARED | libc::MS_REC),
    ("slave", libc::MS_SLAVE),
    ("rslave", libc::MS_SLAVE | libc::MS_REC),
    ("unbindable", libc::MS_UNBINDABLE),
    ("runbindable", libc::MS_UNBINDABLE | libc::MS_REC),
];

/// Options runc knows that this runtime cannot apply: refused, since each restricts (the
/// recursive attributes) or remaps (idmap) what the container sees.
const REFUSED: &[&str] = &[
    "rro",
    "rrw",
    "rnosuid",
    "rsuid",
    "rnodev",
    "rdev",
    "rnoexec",
    "rexec",
    "rnodiratime",
    "rdiratime",
    "rrelatime",
    "rnorelatime",
    "rnoatime",
    "ratime",
    "rstrictatime",
    "rnostrictatime",
    "idmap",
    "ridmap",
    "nosymfollow",
    "rnosymfollow",
];

/// One entry of config.json's `mounts`, `field` its name in messages (`mounts[3]`).
// long: runc's option walk, then one check per kind of mount.
pub(super) fn mount(
    m: &oci_spec::runtime::Mount,
    bundle: &Path,
    field: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<Mount>> {
    // None is kept for a mount that is skipped with a warning.
    let destination = m.destination().clone();
    if !destination.is_absolute() {
        return Err(OciError::field(
            format!("{field}.destination"),
            format!("{}: must be an absolute path", destination.display()),
        ));
    }
    if m.uid_mappings().is_some() || m.gid_mappings().is_some() {
        return Err(OciError::field(
            format!("{field}.uidMappings"),
            "id-mapped mounts are not supported",
        ));
    }
    let mut flags: c_ulong = 0;
    let mut propagation: c_ulong = 0;
    let mut data = Vec::new();
    for opt in m.options().iter().flatten() {
        if let Some((_, set, bits)) = FLAGS.iter().find(|(n, _, _)| n == opt) {
            if *set {
                flags |= bits;
            } else {
                flags &= !bits;
            }
        } else if let Some((_, bits)) = PROPAGATION.iter().find(|(n, _)| n == opt) {
            propagation = *bits;
        } else if REFUSED.contains(&opt.as_str()) {
            return Err(OciError::field(
                format!("{field}.options"),
                format!("{opt:?} is not supported"),
            ));
        } else if opt == "tmpcopyup" {
            warnings.push(format!(
                "{field}: option tmpcopyup is not supported: the tmpfs starts empty"
            ));
        } else {
            data.push(opt.as_str());
        }
    }
    let fstype = m.typ().clone().filter(|t| !t.is_empty());
    if fstype.as_deref() == Some("bind") {
        flags |= libc::MS_BIND;
    }
    let bind = flags & libc::MS_BIND != 0;
    if matches!(fstype.as_deref(), Some("cgroup" | "cgroup2")) && !bind {
        return Ok(Some(Mount {
            destination,
            kind: MountKind::Cgroup {
                readonly: flags & libc::MS_RDONLY != 0,
            },
        }));
    }
    let source = match m.source() {
        Some(s) if bind && s.is_relative() => bundle.join(s),
        Some(s) => s.clone(),
        None if bind => {
            return Err(OciError::field(
                format!("{field}.source"),
                "a bind needs one",
            ));
        }
        None => Default::default(),
    };
    if !bind && fstype.is_none() {
        return Err(OciError::field(
            format!("{field}.type"),
            "required unless the mount is a bind",
        ));
    }
    Ok(Some(Mount {
        destination,
        kind: MountKind::Raw {
            source,
            fstype: if bind { None } else { fstype },
            flags,
            propagation,
            data: data.join(","),
        },
    }))
}
