//! Removing what containers left behind when their docker-run was killed (SIGKILL gives no
//! chance to clean up): stale state records, their cgroups and published ports, cgroups that
//! never got a record, and the NAT rules of bridges with no live container. Leases of dead
//! owners need nothing: the next lease reclaims them. The veth pairs die with the containers'
//! network namespaces. The copy-on-write layers of dead containers go too (unmounted first if
//! the host still has one mounted), and only directories named like an id, under the layer
//! root.

use std::collections::BTreeSet;
use std::path::Path;

use crate::cgroups::{self, Cgroup, Root};
use crate::state::Store;

/// What a cleanup removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub records: usize,
    pub cgroups: usize,
    /// Copy-on-write layers of containers that are gone.
    pub layers: usize,
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

/// [`cleanup`] on a host's state, cgroup and layer roots. The layers of kept containers (not
/// `--rm`: their record says so) stay, stopped or not; a kept record whose container and monitor
/// are both gone (the monitor was killed) is marked exited with an unknown status. Exit codes
/// left for `wait` expire.
pub fn cleanup_host(host: &crate::container::Host) -> Report {
    let mut report = cleanup(&host.store(), &host.cgroup_root);
    let mut live: BTreeSet<String> = host
        .store()
        .list()
        .into_iter()
        .filter(|r| r.is_alive())
        .map(|r| r.id)
        .collect();
    let records = host.records();
    for rec in records.list() {
        if rec.spec.auto_remove {
            continue;
        }
        let state = rec.effective_state();
        if state != rec.state {
            records.update(&rec.id, |r| {
                r.state = state;
                r.state.finished_at = crate::record::now_nanos();
                r.state.process = Default::default();
            });
        }
        live.insert(rec.id);
    }
    report.layers = crate::rootfs::overlay::cleanup(&*host.syscall, &host.layer_root, &live);
    report.records += crate::record::exits::expire(&host.state_root);
    report
}

/// Removes stale records (in `store`) and the cgroups (under `cgroup_root`) of containers that
/// are gone. A cgroup that still has tasks is never removed (rmdir refuses), so a running
/// container is safe.
pub fn cleanup(store: &Store, cgroup_root: &Root) -> Report {
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
        let _ = std::fs::remove_dir_all(store.files_dir(&rec.id));
        store.remove(&rec);
        report.records += 1;
    }
    for name in cgroup_names(cgroup_root.path()) {
        if live.contains(&name) {
            continue;
        }
        if let Ok(cg) = Cgroup::open(cgroup_root, &name) {
            if cg.remove().is_ok() {
                report.cgroups += 1;
            }
        }
    }
    report.nat = crate::net::attach::cleanup_stale(&store.leases_root());
    remove_empty_parents(cgroup_root.path());
    report.records += remove_orphan_files(store, &live);
    report.records += store.remove_dangling_names();
    report
}

/// Per-container files and half-written records whose container has no live record (docker-run
/// was killed between creating them and saving the record, or while saving it).
fn remove_orphan_files(store: &Store, live: &BTreeSet<String>) -> usize {
    let root = store.root();
    let mut removed = 0;
    for entry in std::fs::read_dir(root.join("files"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let id = entry.file_name().to_string_lossy().into_owned();
        // Only what the runtime makes there: a directory named by an id.
        if !crate::state::valid_id(&id) {
            continue;
        }
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
        let Some(id) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".tmp"))
            .filter(|id| crate::state::valid_id(id))
        else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::{Layout, Resources};
    use crate::procfs::process_start_time;
    use crate::state::Record;
    use crate::test_utils::{Sleeper, TempDir};

    fn populate(dir: &Path) -> std::io::Result<()> {
        std::fs::write(dir.join("cgroup.procs"), "")
    }

    /// Records of dead containers go with their names, files and cgroups; a live container and
    /// its cgroup stay; half-written records and orphan files go; cgroups of no record go too.
    #[test]
    fn stale_records_and_what_they_left() {
        let state = TempDir::new("cleanup-state");
        let cg = TempDir::new("cleanup-cgroups");
        std::fs::create_dir(cg.0.join("pids")).unwrap();
        std::fs::write(cg.0.join("pids/cgroup.procs"), "").unwrap();
        let root = Root::fake(&cg.0, Layout::Legacy, populate);
        let store = Store::new(&state.0);

        let me = std::process::id() as i32;
        let mut dead = Sleeper::spawn();
        let dead_pid = dead.pid;
        let dead_start = process_start_time(dead_pid).unwrap();
        dead.kill();
        let record = |id: &str, pid, start_time, name: Option<&str>| Record {
            id: id.into(),
            name: name.map(String::from),
            pid,
            start_time,
            ..Default::default()
        };
        let live = record(
            "aaaa1111",
            me,
            process_start_time(me).unwrap(),
            Some("live"),
        );
        let gone = record("bbbb2222", dead_pid, dead_start, Some("gone"));
        let reused = record("cccc3333", me, 1, None);
        for r in [&live, &gone, &reused] {
            store.save(r).unwrap();
            Cgroup::create(&root, &r.id, &Resources::default())
                .unwrap()
                .commit();
            std::fs::create_dir_all(store.files_dir(&r.id)).unwrap();
        }
        store.claim_name("live", &live.id).unwrap();
        store.claim_name("gone", &gone.id).unwrap();
        // A start killed between claiming its name and saving its record (older versions).
        store.claim_name("orphan", "abcd9999").unwrap();
        Cgroup::create(&root, "dddd4444", &Resources::default())
            .unwrap()
            .commit();
        std::fs::create_dir_all(store.files_dir("eeee5555")).unwrap();
        std::fs::write(state.0.join("containers/.ffff6666.tmp"), "id=ffff6666\n").unwrap();

        let report = cleanup(&store, &root);
        assert_eq!(
            report,
            Report {
                records: 5,
                cgroups: 3,
                layers: 0,
                nat: 0
            }
        );
        let ids: Vec<String> = store.list().into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["aaaa1111"]);
        assert_eq!(store.find("live").unwrap().id, "aaaa1111");
        assert!(store.find("gone").is_err());
        assert!(!state.0.join("names/gone").exists());
        assert!(!state.0.join("names/orphan").exists());
        let cgroup = |id: &str| cg.0.join("pids").join(cgroups::PARENT).join(id);
        assert!(
            cgroup("aaaa1111").is_dir(),
            "a live container's cgroup stays"
        );
        for id in ["bbbb2222", "cccc3333", "dddd4444"] {
            assert!(!cgroup(id).exists(), "{id}");
        }
        assert!(store.files_dir("aaaa1111").is_dir());
        for id in ["bbbb2222", "cccc3333", "eeee5555"] {
            assert!(!store.files_dir(id).exists(), "{id}");
        }
        assert!(!state.0.join("containers/.ffff6666.tmp").exists());
        // Nothing left to do the second time.
        assert_eq!(cleanup(&store, &root), Report::default());
    }

    /// A forged record whose id names a directory outside the state root, and a forged files
    /// entry that is a symlink: cleanup deletes neither target.
    #[test]
    fn never_deletes_outside_its_roots() {
        let state = TempDir::new("cleanup-forged");
        let cg = TempDir::new("cleanup-forged-cg");
        let root = Root::fake(&cg.0, Layout::Legacy, populate);
        let store = Store::new(state.0.join("state"));
        let victim = state.0.join("victim");
        std::fs::create_dir_all(victim.join("inside")).unwrap();
        store.create_files_dir("0a0a").unwrap();
        crate::private_fs::create_dir_all(&state.0.join("state/containers")).unwrap();
        crate::private_fs::write(
            &state.0.join("state/containers/0a0a"),
            b"id=../../victim\npid=99999999\n",
        )
        .unwrap();
        std::os::unix::fs::symlink(&victim, state.0.join("state/files/0b0b")).unwrap();
        std::os::unix::fs::symlink(&victim, state.0.join("state/files/..victim")).unwrap();
        cleanup(&store, &root);
        assert!(
            victim.join("inside").is_dir(),
            "the victim directory is intact"
        );
    }
}
