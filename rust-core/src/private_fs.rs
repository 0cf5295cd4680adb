//! Files and directories only root can reach, whatever the caller's umask: the state directory
//! (records, names, leases, per-container files) is trusted when read back, so no one else may
//! write anything in it. Directories are made 0700 and files 0600 explicitly (a umask can only
//! take bits away from a mode, and a directory that exists already keeps its mode, so both are
//! set after creation too).

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// `mkdir -p` with every directory it makes 0700, and `path` itself 0700 in any case.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(path)?;
    let meta = fs::symlink_metadata(path)?;
    if meta.mode() & 0o7777 != DIR_MODE {
        fs::set_permissions(path, fs::Permissions::from_mode(DIR_MODE))?;
    }
    Ok(())
}

/// Creates or truncates `path` as a 0600 file (never through a symlink) and writes `bytes`.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    create(path)?.write_all(bytes)
}

/// Creates or truncates `path` as a 0600 file, not following a symlink there.
pub fn create(path: &Path) -> io::Result<fs::File> {
    let f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    if f.metadata()?.mode() & 0o7777 != FILE_MODE {
        f.set_permissions(fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(f)
}

/// Whether a file read back can be trusted: a regular file (not a symlink) owned by us (root)
/// that no one else can write.
pub fn is_trusted(meta: &fs::Metadata) -> bool {
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    meta.file_type().is_file() && meta.uid() == euid && meta.mode() & 0o022 == 0
}

/// Makes the state root `root` (0700, ours) or checks an existing one: a directory, not a
/// symlink, owned by us; its mode is reset to 0700 (an older version made it 0755).
pub fn secure_root(root: &Path) -> io::Result<()> {
    create_dir_all(root)?;
    let meta = fs::symlink_metadata(root)?;
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    if !meta.file_type().is_dir() || meta.uid() != euid {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "not a directory owned by uid {euid} (owner uid {}): refusing to use it",
                meta.uid()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::TempDir;

    /// Modes are set, not left to the umask: what exists with a looser mode is tightened.
    /// (The umask itself is process-wide, so tests/escape-process.sh runs docker-run under
    /// umask 000 instead of changing it here.)
    #[test]
    fn modes_do_not_follow_the_umask() {
        let tmp = TempDir::new("private-fs");
        let dir = tmp.0.join("a/b");
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        fs::write(dir.join("f"), b"old").unwrap();
        fs::set_permissions(dir.join("f"), fs::Permissions::from_mode(0o666)).unwrap();
        create_dir_all(&dir).unwrap();
        write(&dir.join("f"), b"x").unwrap();
        create_dir_all(&tmp.0.join("a/c")).unwrap();
        for d in [tmp.0.join("a/c"), dir.clone()] {
            assert_eq!(fs::metadata(&d).unwrap().mode() & 0o7777, 0o700, "{d:?}");
        }
        let f = fs::metadata(dir.join("f")).unwrap();
        assert_eq!(f.mode() & 0o7777, 0o600);
        assert!(is_trusted(&f));
        std::os::unix::fs::symlink("/etc/hostname", dir.join("l")).unwrap();
        assert!(
            write(&dir.join("l"), b"x").is_err(),
            "never through a symlink"
        );
        fs::set_permissions(dir.join("f"), fs::Permissions::from_mode(0o666)).unwrap();
        assert!(!is_trusted(&fs::metadata(dir.join("f")).unwrap()));
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        secure_root(&dir).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o7777, 0o700);
    }
}
