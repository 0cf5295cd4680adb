//! Which cgroup layout the host uses, by filesystem magic (youki
//! `libcgroups/src/common.rs` `get_cgroup_setup_with_root`).

use std::path::Path;

use nix::sys::statfs::{CGROUP2_SUPER_MAGIC, FsType, TMPFS_MAGIC, statfs};

use super::CgroupError;

/// The default cgroup root.
pub const DEFAULT_ROOT: &str = "/sys/fs/cgroup";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// v1 controllers only (tmpfs root, no cgroup2 at `<root>/unified`).
    Legacy,
    /// v1 controllers plus a cgroup2 mount at `<root>/unified`; we use the v1 controllers.
    Hybrid,
    /// cgroup2 mounted at the root.
    Unified,
}

impl Layout {
    /// True when the v2 backend applies.
    pub fn is_v2(self) -> bool {
        self == Layout::Unified
    }
}

/// Maps the filesystem types of `<root>` and `<root>/unified` (None when that does not exist)
/// to a layout; None for a root that is no cgroup root at all.
pub fn layout_from_magic(root: FsType, unified: Option<FsType>) -> Option<Layout> {
    if root == CGROUP2_SUPER_MAGIC {
        Some(Layout::Unified)
    } else if root == TMPFS_MAGIC {
        match unified {
            Some(u) if u == CGROUP2_SUPER_MAGIC => Some(Layout::Hybrid),
            _ => Some(Layout::Legacy),
        }
    } else {
        None
    }
}

/// Detects the layout of the cgroup root `root` (normally [`DEFAULT_ROOT`]).
pub fn detect(root: &Path) -> Result<Layout, CgroupError> {
    let root_fs = statfs(root).map_err(|e| CgroupError::Io {
        path: root.to_path_buf(),
        source: e.into(),
    })?;
    let unified = root.join("unified");
    let unified_fs = statfs(&unified).ok().map(|s| s.filesystem_type());
    layout_from_magic(root_fs.filesystem_type(), unified_fs).ok_or_else(|| {
        CgroupError::UnknownLayout {
            path: root.to_path_buf(),
            magic: root_fs.filesystem_type().0 as i64,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::statfs::{CGROUP_SUPER_MAGIC, EXT4_SUPER_MAGIC};

    #[test]
    fn magic_to_layout() {
        assert_eq!(
            layout_from_magic(CGROUP2_SUPER_MAGIC, None),
            Some(Layout::Unified)
        );
        assert_eq!(
            layout_from_magic(TMPFS_MAGIC, Some(CGROUP2_SUPER_MAGIC)),
            Some(Layout::Hybrid)
        );
        assert_eq!(layout_from_magic(TMPFS_MAGIC, None), Some(Layout::Legacy));
        // A tmpfs (or a v1 hierarchy) at <root>/unified is not the hybrid layout.
        assert_eq!(
            layout_from_magic(TMPFS_MAGIC, Some(TMPFS_MAGIC)),
            Some(Layout::Legacy)
        );
        assert_eq!(
            layout_from_magic(TMPFS_MAGIC, Some(CGROUP_SUPER_MAGIC)),
            Some(Layout::Legacy)
        );
        assert_eq!(layout_from_magic(EXT4_SUPER_MAGIC, None), None);
        assert_eq!(layout_from_magic(CGROUP_SUPER_MAGIC, None), None);
        assert!(Layout::Unified.is_v2() && !Layout::Hybrid.is_v2() && !Layout::Legacy.is_v2());
    }

    #[test]
    fn this_host_is_hybrid() {
        // The development and CI host: v1 controllers plus hugetlb-only cgroup2 at unified/.
        let root = Path::new(DEFAULT_ROOT);
        if !root.join("unified").join("cgroup.controllers").exists()
            || !root.join("memory").exists()
        {
            eprintln!("skipped: not a hybrid host");
            return;
        }
        assert_eq!(detect(root).unwrap(), Layout::Hybrid);
    }

    #[test]
    fn plain_directory_is_rejected() {
        let dir = std::env::temp_dir();
        match detect(&dir) {
            // /tmp may itself be a tmpfs, which looks like a legacy root.
            Ok(l) => assert_eq!(l, Layout::Legacy),
            Err(e) => assert!(
                e.to_string().contains("unrecognized cgroup filesystem"),
                "{e}"
            ),
        }
        let e = detect(Path::new("/nonexistent-cgroup-root")).unwrap_err();
        assert_eq!(e.errno(), Some(libc::ENOENT));
    }
}
