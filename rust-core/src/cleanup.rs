//! Removing what containers left behind when their docker-run was killed (SIGKILL gives no
//! chance to clean up): stale state records, their cgroups and published ports, cgroups that
//! never got a record, and the NAT rules of bridges with no live container. Leases of dead
//! owners need nothing: the next lease reclaims them. The veth pairs die with the containers'
//! network namespaces.

use std::collections::BTreeSet;
use std::path::Path;

use crate::cgroups::{self, Cgroup};
use crate::state::Store;

/// What a cleanup removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub records: usize,
    pub cgroups: usize,
    /// Bridges whose NAT rules were removed (no live container left on them).
    pub nat: usize,
}

/// Our parent cgroup directory on each controller (v1) and on the unified root (v2).
fn parents(root: &Path) -> impl Iterator<Item = std::path::PathBuf> {
    std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join(cgroups::PARENT))
        .chain(std::iter::once(root.join(cgroups::PARENT)))
}

/// Names of the container cgroups under our parent, on any controller.
fn cgroup_names(root: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for parent in parents(root) {
        for entry in std::fs::read_dir(parent).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                if let Some(name) = entry.file_name().to_str() {
                    names.insert(name.to_string());
                }
            }
        }
    }
    names
}

/// Removes stale records and the cgroups of containers that are gone. A cgroup that still has
/// tasks is never removed (rmdir refuses), so a running container is safe.
pub fn cleanup(store: &Store) -> Report {
    let mut report = Report::default();
    let mut live = BTreeSet::new();
    for rec in store.list() {
        if rec.is_alive() {
            live.insert(rec.id.clone());
            continue;
        }
        if rec.bridge.is_some() {
            // Published ports of a killed container (a no-op when it had none).
            let _ = crate::net::nat::unpublish_all(&rec.id);
        }
        let _ = std::fs::remove_dir_all(
            Path::new(crate::state::DEFAULT_ROOT)
                .join("files")
                .join(&rec.id),
        );
        store.remove(&rec);
        report.records += 1;
    }
    for name in cgroup_names(Path::new(cgroups::DEFAULT_ROOT)) {
        if live.contains(&name) {
            continue;
        }
        if let Ok(cg) = Cgroup::open(&name) {
            if cg.remove().is_ok() {
                report.cgroups += 1;
            }
        }
    }
    report.nat = crate::net::attach::cleanup_stale();
    remove_empty_parents(Path::new(cgroups::DEFAULT_ROOT));
    report.records += remove_orphan_files(store, &live);
    report
}

/// Per-container files and half-written records whose container has no live record (docker-run
/// was killed between creating them and saving the record, or while saving it).
fn remove_orphan_files(store: &Store, live: &BTreeSet<String>) -> usize {
    let root = Path::new(crate::state::DEFAULT_ROOT);
    let mut removed = 0;
    for entry in std::fs::read_dir(root.join("files"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let id = entry.file_name().to_string_lossy().into_owned();
        if !live.contains(&id)
            && store.load(&id).is_none_or(|r| !r.is_alive())
            && std::fs::remove_dir_all(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    for entry in std::fs::read_dir(root.join("containers"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
            continue;
        };
        if !live.contains(id) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Removes our parent cgroup on each controller when no container is left under it (rmdir
/// refuses a non-empty one, so a container that starts meanwhile keeps it, or recreates it).
fn remove_empty_parents(root: &Path) {
    for parent in parents(root) {
        let _ = std::fs::remove_dir(parent);
    }
}
