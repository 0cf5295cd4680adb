//! Unpacking one layer tar into a fresh directory, ourselves (the tar crate only parses).
//!
//! A layer comes from an archive someone else made, so every entry is hostile until shown
//! otherwise: paths are split into components (absolute paths and `..` refused); parents are
//! opened with openat2(RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS), so nothing is
//! ever written through a symbolic link, whether the archive planted it or not; the entry itself
//! is made with *at calls that do not follow links (O_CREAT|O_EXCL|O_NOFOLLOW, AT_SYMLINK_NOFOLLOW).
//! Hard links must point at something this layer already holds. Device nodes are skipped with a
//! warning rather than refused: the runtime gives every container its own /dev, old base images
//! do ship /dev entries, and a node from an image would open host devices wherever no devices
//! cgroup guards them. The blob's digest and the uncompressed digest (diff_id) are computed on the
//! way through; the caller extracts into a temporary directory and renames it into place only when
//! both match, so a refused or half-read layer never counts as present.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use tar::EntryType;

use super::digest::{Digest, HashReader};
use super::error::{ImageError, Result};
use super::fs::{
    check, check_fd, cstr, lstat_at, open_dir, open_dir_at, remove_at, running_as_root, walk,
};

/// What the caller knows about a layer blob before reading it.
#[derive(Debug, Default)]
pub(crate) struct LayerInput<'a> {
    /// How the layer is named in messages ("layer 2 of 3 (blobs/sha256/ab12...)").
    pub what: String,
    pub media_type: Option<&'a str>,
    pub blob_digest: Option<&'a Digest>,
    pub blob_size: Option<u64>,
    pub diff_id: Option<&'a Digest>,
}

#[derive(Debug)]
pub(crate) struct Unpacked {
    pub diff_id: Digest,
    /// Bytes of the uncompressed tar.
    pub size: u64,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// Refuses what we cannot decompress, naming it; otherwise the compression a media type implies
/// (None when it does not say).
fn media_compression(what: &str, media_type: Option<&str>) -> Result<Option<Compression>> {
    let Some(mt) = media_type else {
        return Ok(None);
    };
    match mt {
        "application/vnd.oci.image.layer.v1.tar"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar"
        | "application/vnd.docker.image.rootfs.diff.tar" => Ok(Some(Compression::None)),
        "application/vnd.oci.image.layer.v1.tar+gzip"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        | "application/vnd.docker.image.rootfs.diff.tar.gzip"
        | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => {
            Ok(Some(Compression::Gzip))
        }
        m if m.ends_with("zstd") => Err(ImageError::Unsupported(format!(
            "{what}: zstd-compressed layers ({m}) are not supported: only plain and gzip tar layers (re-save the image with gzip layers)"
        ))),
        m => Err(ImageError::Unsupported(format!(
            "{what}: unsupported layer media type {m}"
        ))),
    }
}

/// The compression of a stream from its first bytes (a media type may be missing or wrong).
fn sniff(what: &str, head: &[u8]) -> Result<Compression> {
    let named = |kind: &str| {
        Err(ImageError::Unsupported(format!(
            "{what}: {kind}-compressed layers are not supported: only plain and gzip tar layers"
        )))
    };
    if head.starts_with(GZIP_MAGIC) {
        Ok(Compression::Gzip)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        named("zstd")
    } else if head.starts_with(b"BZh") {
        named("bzip2")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        named("xz")
    } else {
        Ok(Compression::None)
    }
}

/// Unpacks a layer blob (plain or gzip tar) into the empty directory `dest`, then checks the
/// blob's size and digest and the uncompressed digest against what `input` promises.
pub(crate) fn unpack(blob: &mut dyn Read, dest: &Path, input: &LayerInput<'_>) -> Result<Unpacked> {
    let what = input.what.as_str();
    let declared = media_compression(what, input.media_type)?;
    let mut blob = HashReader::new(blob);
    let (diff_id, size, warnings) = {
        let mut buf = BufReader::with_capacity(128 * 1024, &mut blob);
        let head = buf
            .fill_buf()
            .map_err(|e| ImageError::io(format!("read {what}"), e))?;
        let found = sniff(what, head)?;
        if declared == Some(Compression::Gzip) && found != Compression::Gzip {
            return Err(ImageError::format(
                what,
                "the media type says gzip but the blob is not gzip data",
            ));
        }
        let decoded: Box<dyn Read + '_> = match found {
            Compression::Gzip => Box::new(MultiGzDecoder::new(buf)),
            Compression::None => Box::new(buf),
        };
        let mut tar = HashReader::new(decoded);
        let root = open_dir(dest)?;
        let warnings = extract_tar(&mut tar, root.as_fd(), what)?;
        let (diff_id, size) = tar.finish().map_err(|e| stream_error(what, e))?;
        (diff_id, size, warnings)
    };
    let (blob_digest, blob_size) = blob.finish().map_err(|e| stream_error(what, e))?;
    if let Some(expected) = input.blob_size {
        if expected != blob_size {
            return Err(ImageError::SizeMismatch {
                what: what.to_string(),
                expected,
                actual: blob_size,
            });
        }
    }
    if let Some(expected) = input.blob_digest {
        if *expected != blob_digest {
            return Err(ImageError::DigestMismatch {
                what: what.to_string(),
                expected: expected.to_string(),
                actual: blob_digest.to_string(),
            });
        }
    }
    if let Some(expected) = input.diff_id {
        if *expected != diff_id {
            return Err(ImageError::DigestMismatch {
                what: format!("{what} (uncompressed, against the config's rootfs.diff_ids)"),
                expected: expected.to_string(),
                actual: diff_id.to_string(),
            });
        }
    }
    Ok(Unpacked {
        diff_id,
        size,
        warnings,
    })
}

/// A read error of the layer stream: a corrupt or truncated gzip or tar, or the source's I/O.
fn stream_error(what: &str, e: io::Error) -> ImageError {
    ImageError::format(what, format!("corrupt or truncated layer: {e}"))
}

/// Paths are at most PATH_MAX, so directory depth (and removal recursion) stays bounded.
const MAX_PATH: usize = 4096;

/// Splits a tar path into components: `.` and empty ones dropped, absolute paths and `..` refused.
fn split_path(raw: &[u8]) -> std::result::Result<Vec<CString>, &'static str> {
    if raw.starts_with(b"/") {
        return Err("absolute path");
    }
    if raw.len() > MAX_PATH {
        return Err("path longer than PATH_MAX");
    }
    let mut comps = Vec::new();
    for c in raw.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err("path contains '..'"),
            c => comps.push(CString::new(c).map_err(|_| "NUL byte in path")?),
        }
    }
    Ok(comps)
}

/// The metadata of an entry, from its header and PAX records.
struct Meta {
    mode: libc::mode_t,
    uid: libc::uid_t,
    gid: libc::gid_t,
    mtime: libc::timespec,
    xattrs: Vec<(CString, Vec<u8>)>,
}

/// Extended attributes kept from a layer. Others (trusted.* — overlayfs's own, which a layer
/// must not set —, security.selinux, ...) are dropped with a warning.
fn keep_xattr(name: &[u8]) -> bool {
    name == b"security.capability"
        || name.starts_with(b"user.")
        || name == b"system.posix_acl_access"
        || name == b"system.posix_acl_default"
}

struct Extractor<'a> {
    root: BorrowedFd<'a>,
    layer: &'a str,
    as_root: bool,
    /// Directories whose mode and times are set at the end: making their children would
    /// change the mtime, and a read-only mode would stop the children from being made.
    dirs: Vec<(Vec<CString>, libc::mode_t, libc::timespec)>,
    devices: Vec<String>,
    dropped_xattrs: Vec<String>,
    warnings: Vec<String>,
}

fn extract_tar<R: Read>(
    tar: &mut HashReader<R>,
    root: BorrowedFd<'_>,
    layer: &str,
) -> Result<Vec<String>> {
    let tar_err = |e: io::Error| stream_error(layer, e);
    let mut ex = Extractor {
        root,
        layer,
        as_root: running_as_root(),
        dirs: Vec::new(),
        devices: Vec::new(),
        dropped_xattrs: Vec::new(),
        warnings: Vec::new(),
    };
    let mut end = 0u64;
    {
        let mut archive = tar::Archive::new(&mut *tar);
        for entry in archive.entries().map_err(tar_err)? {
            let mut entry = entry.map_err(tar_err)?;
            end = entry.raw_file_position() + entry.size().div_ceil(512) * 512;
            ex.entry(&mut entry)?;
        }
    }
    // The tar crate ends quietly at EOF on a header boundary; a real archive ends with zero
    // blocks. Without them the stream was cut.
    if tar.count() < end + 512 {
        return Err(ImageError::format(
            layer,
            "truncated tar: the archive ends without its end-of-archive blocks",
        ));
    }
    ex.finish_dirs()?;
    let mut warnings = ex.warnings;
    if !ex.devices.is_empty() {
        let n = ex.devices.len();
        let shown: Vec<&str> = ex.devices.iter().take(5).map(String::as_str).collect();
        warnings.push(format!(
            "{layer}: skipped {n} device node{} ({}{}): containers get their own /dev, and a device node from an image could reach the host's devices",
            if n == 1 { "" } else { "s" },
            shown.join(", "),
            if n > 5 { ", ..." } else { "" }
        ));
    }
    if !ex.dropped_xattrs.is_empty() {
        warnings.push(format!(
            "{layer}: dropped extended attributes {}",
            ex.dropped_xattrs.join(", ")
        ));
    }
    Ok(warnings)
}

impl Extractor<'_> {
    fn refuse(&self, entry: &[u8], reason: impl Into<String>) -> ImageError {
        ImageError::UnsafeEntry {
            layer: self.layer.to_string(),
            entry: String::from_utf8_lossy(entry).into_owned(),
            reason: reason.into(),
        }
    }

    fn fs_err(&self, entry: &[u8], op: &str) -> impl FnOnce(io::Error) -> ImageError + '_ {
        let what = format!("{}: {op} {:?}", self.layer, String::from_utf8_lossy(entry));
        move |e| ImageError::io(what, e)
    }

    /// Opens the parent directory of an entry, refusing to pass through a symbolic link.
    fn parent(&self, entry: &[u8], comps: &[CString], create: bool) -> Result<OwnedFd> {
        walk(self.root, comps, create).map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => self.refuse(
                entry,
                "a parent directory is a symbolic link: nothing is written through a link",
            ),
            Some(libc::ENOTDIR) => self.refuse(entry, "a parent is not a directory"),
            Some(libc::EXDEV) => self.refuse(entry, "the path leaves the layer"),
            _ => self.fs_err(entry, "open the parent of")(e),
        })
    }

    fn meta<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>, raw: &[u8]) -> Result<Meta> {
        let h = entry.header();
        let mode = h.mode().map_err(|e| stream_error(self.layer, e))? & 0o7777;
        let id = |v: io::Result<u64>| -> Result<u32> {
            let v = v.map_err(|e| stream_error(self.layer, e))?;
            u32::try_from(v).map_err(|_| self.refuse(raw, format!("uid/gid {v} out of range")))
        };
        let uid = id(h.uid())?;
        let gid = id(h.gid())?;
        let secs = h.mtime().map_err(|e| stream_error(self.layer, e))?;
        let mut mtime = libc::timespec {
            tv_sec: secs.min(i64::MAX as u64) as libc::time_t,
            tv_nsec: 0,
        };
        let mut xattrs = Vec::new();
        if let Some(pax) = entry
            .pax_extensions()
            .map_err(|e| stream_error(self.layer, e))?
        {
            for ext in pax {
                let ext = ext.map_err(|e| stream_error(self.layer, e))?;
                let key = ext.key_bytes();
                if key == b"mtime" {
                    if let Some(ts) = parse_pax_time(ext.value_bytes()) {
                        mtime = ts;
                    }
                } else if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                    if keep_xattr(name) {
                        let n = CString::new(name)
                            .map_err(|_| self.refuse(raw, "NUL byte in an xattr name"))?;
                        xattrs.push((n, ext.value_bytes().to_vec()));
                    } else {
                        let n = String::from_utf8_lossy(name).into_owned();
                        if !self.dropped_xattrs.contains(&n) {
                            self.dropped_xattrs.push(n);
                        }
                    }
                }
            }
        }
        Ok(Meta {
            mode: mode as libc::mode_t,
            uid,
            gid,
            mtime,
            xattrs,
        })
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        let raw = entry.path_bytes().into_owned();
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader) {
            return Ok(());
        }
        let mut comps = split_path(&raw).map_err(|r| self.refuse(&raw, r))?;
        let meta = self.meta(entry, &raw)?;
        let Some(name) = comps.pop() else {
            // The layer's root ("./"): only a directory makes sense there.
            if kind != EntryType::Directory {
                return Err(self.refuse(&raw, "the layer root must be a directory"));
            }
            self.dirs.push((Vec::new(), meta.mode, meta.mtime));
            return self.apply_owner_xattrs(self.root, &raw, &meta);
        };
        let base = name.as_bytes();
        if let Some(target) = base.strip_prefix(b".wh.") {
            return self.whiteout(&raw, &comps, target);
        }
        match kind {
            EntryType::Directory => self.directory(&raw, comps, name, meta),
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.regular(entry, &raw, &comps, &name, &meta)
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                self.symlink(&raw, &comps, &name, &target, &meta)
            }
            EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                self.hardlink(&raw, &comps, &name, &target)
            }
            EntryType::Fifo => self.fifo(&raw, &comps, &name, &meta),
            EntryType::Char | EntryType::Block => {
                self.devices
                    .push(String::from_utf8_lossy(&raw).into_owned());
                Ok(())
            }
            other => Err(self.refuse(
                &raw,
                format!("unsupported tar entry type {:?}", other.as_byte() as char),
            )),
        }
    }

    /// `.wh..wh..opq` makes its directory opaque; `.wh.NAME` becomes an overlayfs whiteout (a
    /// 0:0 character device) for NAME; other `.wh..wh.` names are aufs bookkeeping, ignored.
    fn whiteout(&mut self, raw: &[u8], comps: &[CString], target: &[u8]) -> Result<()> {
        let parent = self.parent(raw, comps, true)?;
        if target == b".wh..opq" {
            let dir = open_dir_at_or_self(parent.as_fd()).map_err(self.fs_err(raw, "open"))?;
            return set_xattr(dir.as_fd(), c"trusted.overlay.opaque", b"y")
                .map_err(self.fs_err(raw, "set trusted.overlay.opaque on the directory of"));
        }
        if target.starts_with(b".wh.") {
            return Ok(());
        }
        if target.is_empty() || target == b"." || target == b".." {
            return Err(self.refuse(raw, "a whiteout must name an entry"));
        }
        let name = cstr(target).map_err(|_| self.refuse(raw, "NUL byte in path"))?;
        // A whiteout hides only lower layers' entries (OCI image spec): one this layer made
        // itself stays. A directory of this layer then hides the lower one's content by being
        // opaque; a non-directory hides the lower entry as it is.
        match lstat_at(parent.as_fd(), &name).map_err(self.fs_err(raw, "stat"))? {
            Some(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR => {
                let dir = open_dir_at(parent.as_fd(), &name).map_err(self.fs_err(raw, "open"))?;
                return set_xattr(dir.as_fd(), c"trusted.overlay.opaque", b"y")
                    .map_err(self.fs_err(raw, "set trusted.overlay.opaque for"));
            }
            Some(_) => return Ok(()),
            None => {}
        }
        // SAFETY: valid fd and C string; the result is checked.
        check(unsafe {
            libc::mknodat(
                parent.as_raw_fd(),
                name.as_ptr(),
                libc::S_IFCHR,
                libc::makedev(0, 0),
            )
        })
        .map_err(self.fs_err(raw, "make the overlay whiteout for"))
    }

    fn directory(
        &mut self,
        raw: &[u8],
        mut comps: Vec<CString>,
        name: CString,
        meta: Meta,
    ) -> Result<()> {
        let parent = self.parent(raw, &comps, true)?;
        let existing = lstat_at(parent.as_fd(), &name).map_err(self.fs_err(raw, "stat"))?;
        // Over a whiteout of this layer (device nodes from the tar are never made, so a 0:0
        // one is ours): the lower directory is deleted and this one replaces it, so opaque.
        let over_whiteout = existing.is_some_and(|st| {
            st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == libc::makedev(0, 0)
        });
        if existing.is_none_or(|st| st.st_mode & libc::S_IFMT != libc::S_IFDIR) {
            remove_at(parent.as_fd(), &name).map_err(self.fs_err(raw, "replace"))?;
            // SAFETY: valid fd and C string; the result is checked.
            check(unsafe { libc::mkdirat(parent.as_raw_fd(), name.as_ptr(), 0o700) })
                .map_err(self.fs_err(raw, "mkdir"))?;
            // Whatever the umask took away; the tar's mode comes at the end (finish_dirs).
            // SAFETY: valid fd and C string; the result is checked.
            check(unsafe { libc::fchmodat(parent.as_raw_fd(), name.as_ptr(), 0o700, 0) })
                .map_err(self.fs_err(raw, "chmod"))?;
        }
        let dir = open_dir_at(parent.as_fd(), &name).map_err(self.fs_err(raw, "open"))?;
        if over_whiteout {
            set_xattr(dir.as_fd(), c"trusted.overlay.opaque", b"y")
                .map_err(self.fs_err(raw, "set trusted.overlay.opaque on"))?;
        }
        self.apply_owner_xattrs(dir.as_fd(), raw, &meta)?;
        comps.push(name);
        self.dirs.push((comps, meta.mode, meta.mtime));
        Ok(())
    }

    fn regular<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        raw: &[u8],
        comps: &[CString],
        name: &CString,
        meta: &Meta,
    ) -> Result<()> {
        let parent = self.parent(raw, comps, true)?;
        remove_at(parent.as_fd(), name).map_err(self.fs_err(raw, "replace"))?;
        // SAFETY: valid fd and C string; the result is checked. O_EXCL never follows a link.
        let fd = check_fd(
            unsafe {
                libc::openat(
                    parent.as_raw_fd(),
                    name.as_ptr(),
                    libc::O_WRONLY
                        | libc::O_CREAT
                        | libc::O_EXCL
                        | libc::O_NOFOLLOW
                        | libc::O_CLOEXEC,
                    0o600,
                )
            }
            .into(),
        )
        .map_err(self.fs_err(raw, "create"))?;
        let mut file = File::from(fd);
        let want = entry.size();
        let got = io::copy(entry, &mut file).map_err(|e| stream_error(self.layer, e))?;
        if got != want {
            return Err(ImageError::format(
                self.layer,
                format!(
                    "truncated tar: {:?} has {got} of its {want} bytes",
                    String::from_utf8_lossy(raw)
                ),
            ));
        }
        self.apply_owner_xattrs(file.as_fd(), raw, meta)?;
        // After chown, which clears the set-id bits.
        // SAFETY: valid fd; the result is checked.
        check(unsafe { libc::fchmod(file.as_raw_fd(), meta.mode) })
            .map_err(self.fs_err(raw, "chmod"))?;
        let times = [meta.mtime, meta.mtime];
        // SAFETY: valid fd and two timespecs.
        check(unsafe { libc::futimens(file.as_raw_fd(), times.as_ptr()) })
            .map_err(self.fs_err(raw, "set the times of"))
    }

    fn symlink(
        &mut self,
        raw: &[u8],
        comps: &[CString],
        name: &CString,
        target: &[u8],
        meta: &Meta,
    ) -> Result<()> {
        if target.is_empty() {
            return Err(self.refuse(raw, "symbolic link without a target"));
        }
        let target = cstr(target).map_err(|_| self.refuse(raw, "NUL byte in the link target"))?;
        let parent = self.parent(raw, comps, true)?;
        remove_at(parent.as_fd(), name).map_err(self.fs_err(raw, "replace"))?;
        // The link is stored as it is and never followed while extracting.
        // SAFETY: valid fd and C strings; the result is checked.
        check(unsafe { libc::symlinkat(target.as_ptr(), parent.as_raw_fd(), name.as_ptr()) })
            .map_err(self.fs_err(raw, "symlink"))?;
        self.chown_times_at(parent.as_fd(), name, raw, meta)
    }

    fn hardlink(
        &mut self,
        raw: &[u8],
        comps: &[CString],
        name: &CString,
        target: &[u8],
    ) -> Result<()> {
        let mut tcomps =
            split_path(target).map_err(|r| self.refuse(raw, format!("hard link target: {r}")))?;
        let Some(tname) = tcomps.pop() else {
            return Err(self.refuse(raw, "hard link without a target"));
        };
        let shown = String::from_utf8_lossy(target).into_owned();
        let missing = || {
            self.refuse(
                raw,
                format!("hard link to {shown:?}, which is not (yet) in this layer"),
            )
        };
        let tparent = walk(self.root, &tcomps, false).map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT) => missing(),
            Some(libc::ELOOP) => self.refuse(
                raw,
                "the hard link's target is reached through a symbolic link",
            ),
            _ => self.refuse(raw, format!("hard link target {shown:?}: {e}")),
        })?;
        let st = lstat_at(tparent.as_fd(), &tname)
            .map_err(self.fs_err(raw, "stat the target of"))?
            .ok_or_else(missing)?;
        match st.st_mode & libc::S_IFMT {
            libc::S_IFREG | libc::S_IFLNK | libc::S_IFIFO => {}
            _ => {
                return Err(
                    self.refuse(raw, format!("hard link to {shown:?}, which is not a file"))
                );
            }
        }
        let parent = self.parent(raw, comps, true)?;
        if let Some(cur) = lstat_at(parent.as_fd(), name).map_err(self.fs_err(raw, "stat"))? {
            if (cur.st_dev, cur.st_ino) == (st.st_dev, st.st_ino) {
                return Ok(());
            }
        }
        remove_at(parent.as_fd(), name).map_err(self.fs_err(raw, "replace"))?;
        // SAFETY: valid fds and C strings; flags 0: a link to the entry itself, never followed.
        check(unsafe {
            libc::linkat(
                tparent.as_raw_fd(),
                tname.as_ptr(),
                parent.as_raw_fd(),
                name.as_ptr(),
                0,
            )
        })
        .map_err(self.fs_err(raw, "hard link"))
    }

    fn fifo(&mut self, raw: &[u8], comps: &[CString], name: &CString, meta: &Meta) -> Result<()> {
        let parent = self.parent(raw, comps, true)?;
        remove_at(parent.as_fd(), name).map_err(self.fs_err(raw, "replace"))?;
        // SAFETY: valid fd and C string; the result is checked.
        check(unsafe {
            libc::mknodat(parent.as_raw_fd(), name.as_ptr(), libc::S_IFIFO | 0o600, 0)
        })
        .map_err(self.fs_err(raw, "mkfifo"))?;
        self.chown_times_at(parent.as_fd(), name, raw, meta)?;
        // A FIFO cannot be opened without blocking, so chmod by name: it was just made in a
        // directory only this store can reach. fchmodat does not follow a final link here, as
        // the FIFO is not one.
        // SAFETY: valid fd and C string; the result is checked.
        check(unsafe { libc::fchmodat(parent.as_raw_fd(), name.as_ptr(), meta.mode, 0) })
            .map_err(self.fs_err(raw, "chmod"))
    }

    /// Owner (as root only: the tar's numeric ids) and kept xattrs, on an open entry.
    fn apply_owner_xattrs(&mut self, fd: BorrowedFd<'_>, raw: &[u8], meta: &Meta) -> Result<()> {
        if self.as_root {
            // SAFETY: valid fd; the result is checked.
            check(unsafe { libc::fchown(fd.as_raw_fd(), meta.uid, meta.gid) })
                .map_err(self.fs_err(raw, "chown"))?;
        }
        for (name, value) in &meta.xattrs {
            match set_xattr(fd, name, value) {
                Ok(()) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTSUP) | Some(libc::EPERM)) => {
                    self.warnings.push(format!(
                        "{}: could not keep {} on {:?}: {}",
                        self.layer,
                        name.to_string_lossy(),
                        String::from_utf8_lossy(raw),
                        crate::errno::os_message(&e)
                    ));
                }
                Err(e) => return Err(self.fs_err(raw, "set an xattr on")(e)),
            }
        }
        Ok(())
    }

    fn chown_times_at(
        &self,
        dir: BorrowedFd<'_>,
        name: &CString,
        raw: &[u8],
        meta: &Meta,
    ) -> Result<()> {
        if self.as_root {
            // SAFETY: valid fd and C string; the result is checked.
            check(unsafe {
                libc::fchownat(
                    dir.as_raw_fd(),
                    name.as_ptr(),
                    meta.uid,
                    meta.gid,
                    libc::AT_SYMLINK_NOFOLLOW,
                )
            })
            .map_err(self.fs_err(raw, "chown"))?;
        }
        let times = [meta.mtime, meta.mtime];
        // SAFETY: valid fd, C string and two timespecs.
        check(unsafe {
            libc::utimensat(
                dir.as_raw_fd(),
                name.as_ptr(),
                times.as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        })
        .map_err(self.fs_err(raw, "set the times of"))
    }

    /// Modes and times of directories, children first. A directory that a later entry replaced
    /// is skipped (reopening it fails: it is gone or is no longer a directory).
    fn finish_dirs(&mut self) -> Result<()> {
        let mut done = std::collections::HashSet::new();
        for (comps, mode, mtime) in self.dirs.iter().rev() {
            // A directory listed twice gets its last entry's mode and times.
            if !done.insert(comps) {
                continue;
            }
            let Ok(fd) = walk(self.root, comps, false) else {
                continue;
            };
            let fd = open_dir_at_or_self(fd.as_fd())
                .map_err(|e| ImageError::io(format!("{}: reopen a directory", self.layer), e))?;
            let times = [*mtime, *mtime];
            // SAFETY: valid fd; results are checked.
            check(unsafe { libc::fchmod(fd.as_raw_fd(), *mode) })
                .and_then(|()| check(unsafe { libc::futimens(fd.as_raw_fd(), times.as_ptr()) }))
                .map_err(|e| {
                    ImageError::io(
                        format!("{}: set the mode and times of a directory", self.layer),
                        e,
                    )
                })?;
        }
        Ok(())
    }
}

/// A readable descriptor for a directory we hold as O_PATH (fchmod and fsetxattr need one).
fn open_dir_at_or_self(dir: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    open_dir_at(dir, c".")
}

fn set_xattr(fd: BorrowedFd<'_>, name: &std::ffi::CStr, value: &[u8]) -> io::Result<()> {
    // SAFETY: valid fd, C string and buffer; the result is checked.
    check(unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    })
}

/// A PAX time, "SECONDS[.FRACTION]".
fn parse_pax_time(v: &[u8]) -> Option<libc::timespec> {
    let s = std::str::from_utf8(v).ok()?;
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let tv_sec: i64 = secs.parse().ok()?;
    let digits: String = frac.chars().take(9).collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let tv_nsec = if digits.is_empty() {
        0
    } else {
        format!("{digits:0<9}").parse().ok()?
    };
    if tv_sec < 0 {
        return None;
    }
    Some(libc::timespec {
        tv_sec: tv_sec as libc::time_t,
        tv_nsec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_safely() {
        let s = |p: &str| {
            split_path(p.as_bytes()).map(|v| {
                v.iter()
                    .map(|c| c.to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(s("./a//b/./c/").unwrap(), ["a", "b", "c"]);
        assert_eq!(s("./").unwrap(), Vec::<String>::new());
        assert!(s("/etc/passwd").is_err());
        assert!(s("../x").is_err());
        assert!(s("a/../../x").is_err());
        assert!(s("a/..").is_err());
        assert_eq!(s("a/..b/c..").unwrap(), ["a", "..b", "c.."]);
        assert!(split_path(&vec![b'a'; MAX_PATH + 1]).is_err());
    }

    #[test]
    fn pax_times_parse() {
        let t = parse_pax_time(b"1700000000.5").unwrap();
        assert_eq!((t.tv_sec, t.tv_nsec), (1_700_000_000, 500_000_000));
        assert!(parse_pax_time(b"-1").is_none());
        assert!(parse_pax_time(b"x").is_none());
    }

    #[test]
    fn compression_by_media_type_and_magic() {
        assert_eq!(
            media_compression("l", Some("application/vnd.oci.image.layer.v1.tar+gzip")).unwrap(),
            Some(Compression::Gzip)
        );
        assert_eq!(media_compression("l", None).unwrap(), None);
        let z = media_compression("l", Some("application/vnd.oci.image.layer.v1.tar+zstd"))
            .unwrap_err()
            .to_string();
        assert!(z.contains("zstd"), "{z}");
        assert!(media_compression("l", Some("text/plain")).is_err());
        assert_eq!(sniff("l", &[0x1f, 0x8b, 8]).unwrap(), Compression::Gzip);
        assert_eq!(sniff("l", b"etc/\0").unwrap(), Compression::None);
        assert!(
            sniff("l", &[0x28, 0xb5, 0x2f, 0xfd])
                .unwrap_err()
                .to_string()
                .contains("zstd")
        );
    }
}
