//! Where an archive's files are read from: an image layout directory, or a tar file indexed once
//! (name -> offset) and read in place, so a multi-gigabyte `docker save` is not copied. A stream
//! or a compressed archive is first spooled into the store's tmp/ as a plain tar.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::error::{ImageError, Result, io_ctx};
use super::fs::{cstr, fstat, openat2};

/// JSON documents (manifests, indexes, configs) are small; a bigger one is refused, not read.
pub(crate) const JSON_LIMIT: u64 = 16 << 20;

/// The files of an archive, by their '/'-separated path inside it.
pub(crate) trait Blobs {
    /// The archive, for messages.
    fn name(&self) -> &str;
    fn open(&self, path: &str) -> Result<Box<dyn Read + '_>>;
    fn exists(&self, path: &str) -> bool;

    /// A whole (small) file.
    fn read_small(&self, path: &str) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.open(path)?
            .take(JSON_LIMIT + 1)
            .read_to_end(&mut buf)
            .map_err(io_ctx(|| format!("{}: read {path}", self.name())))?;
        if buf.len() as u64 > JSON_LIMIT {
            return Err(ImageError::format(
                format!("{}: {path}", self.name()),
                format!("larger than {JSON_LIMIT} bytes"),
            ));
        }
        Ok(buf)
    }
}

/// Normalizes a path inside an archive: `.` and empty components dropped, `..` resolved
/// lexically; None when it would climb above the archive's root.
pub(crate) fn normalize(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            c => out.push(c),
        }
    }
    (!out.is_empty()).then(|| out.join("/"))
}

/// A path named by a manifest: relative, without `..`.
fn checked(archive: &str, path: &str) -> Result<String> {
    if path.starts_with('/') || path.split('/').any(|c| c == "..") {
        return Err(ImageError::format(
            archive,
            format!("refusing the path {path:?}: it must stay inside the archive"),
        ));
    }
    normalize(path).ok_or_else(|| ImageError::format(archive, format!("empty path {path:?}")))
}

/// An OCI image layout (or unpacked docker save) directory. Symbolic links inside it are
/// resolved inside it (RESOLVE_IN_ROOT), never to the host's files.
pub(crate) struct DirBlobs {
    dir: OwnedFd,
    name: String,
}

impl DirBlobs {
    pub(crate) fn open_dir(path: &Path) -> Result<DirBlobs> {
        let dir = super::fs::open_dir(path)?;
        Ok(DirBlobs {
            dir,
            name: path.display().to_string(),
        })
    }

    fn open_file(&self, path: &str) -> Result<File> {
        let rel = checked(&self.name, path)?;
        let c = cstr(rel.as_bytes()).map_err(io_ctx(|| format!("{}: open {path}", self.name)))?;
        let fd = openat2(
            self.dir.as_fd(),
            &c,
            libc::O_RDONLY,
            libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS,
        )
        .map_err(io_ctx(|| format!("{}: open {path}", self.name)))?;
        let st = fstat(fd.as_fd()).map_err(io_ctx(|| format!("{}: stat {path}", self.name)))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFREG {
            return Err(ImageError::format(
                &self.name,
                format!("{path} is not a regular file"),
            ));
        }
        Ok(File::from(fd))
    }
}

impl Blobs for DirBlobs {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&self, path: &str) -> Result<Box<dyn Read + '_>> {
        Ok(Box::new(self.open_file(path)?))
    }

    fn exists(&self, path: &str) -> bool {
        self.open_file(path).is_ok()
    }
}

enum TarItem {
    File {
        offset: u64,
        size: u64,
    },
    /// A symbolic or hard link, to this normalized path in the archive.
    Link(String),
}

/// A plain tar file, indexed once; members are read with pread at their offsets.
pub(crate) struct TarBlobs {
    file: File,
    items: HashMap<String, TarItem>,
    name: String,
    /// A spooled copy in the store's tmp/, removed with this value.
    _spooled: Option<TempFile>,
}

impl TarBlobs {
    pub(crate) fn index(
        mut file: File,
        name: String,
        spooled: Option<TempFile>,
    ) -> Result<TarBlobs> {
        file.seek(SeekFrom::Start(0))
            .map_err(io_ctx(|| format!("seek {name}")))?;
        let mut items = HashMap::new();
        let bad = |e: io::Error| ImageError::format(&name, format!("not a valid tar archive: {e}"));
        {
            let mut archive = tar::Archive::new(&file);
            for entry in archive.entries_with_seek().map_err(bad)? {
                let entry = entry.map_err(bad)?;
                let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                // Members whose names climb out of the archive cannot be named by a manifest
                // path (those are checked), so they are simply never found.
                let Some(path) = normalize(&path) else {
                    continue;
                };
                let link = || {
                    entry
                        .link_name_bytes()
                        .map(|l| String::from_utf8_lossy(&l).into_owned())
                };
                let item = match entry.header().entry_type() {
                    tar::EntryType::Regular | tar::EntryType::Continuous => TarItem::File {
                        offset: entry.raw_file_position(),
                        size: entry.size(),
                    },
                    tar::EntryType::Symlink => {
                        let target = link().unwrap_or_default();
                        // Relative to the link's directory; an absolute target is taken inside
                        // the archive, as RESOLVE_IN_ROOT would.
                        let joined = match (target.starts_with('/'), path.rsplit_once('/')) {
                            (false, Some((dir, _))) => format!("{dir}/{target}"),
                            _ => target,
                        };
                        match normalize(&joined) {
                            Some(t) => TarItem::Link(t),
                            None => continue,
                        }
                    }
                    tar::EntryType::Link => match link().as_deref().and_then(normalize) {
                        Some(t) => TarItem::Link(t),
                        None => continue,
                    },
                    _ => continue,
                };
                items.insert(path, item);
            }
        }
        Ok(TarBlobs {
            file,
            items,
            name,
            _spooled: spooled,
        })
    }

    fn find(&self, path: &str) -> Result<(u64, u64)> {
        let mut p = checked(&self.name, path)?;
        for _ in 0..40 {
            match self.items.get(&p) {
                Some(TarItem::File { offset, size }) => return Ok((*offset, *size)),
                Some(TarItem::Link(t)) => p = t.clone(),
                None => {
                    return Err(ImageError::format(
                        &self.name,
                        format!("{path} is missing from the archive"),
                    ));
                }
            }
        }
        Err(ImageError::format(
            &self.name,
            format!("{path}: too many levels of links"),
        ))
    }
}

/// A member of a tar file, read with pread so members can be read in any order.
struct Slice<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for Slice<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = (self.end - self.pos).min(buf.len() as u64) as usize;
        if left == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..left], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive file ends inside a member",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Blobs for TarBlobs {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&self, path: &str) -> Result<Box<dyn Read + '_>> {
        let (offset, size) = self.find(path)?;
        Ok(Box::new(Slice {
            file: &self.file,
            pos: offset,
            end: offset + size,
        }))
    }

    fn exists(&self, path: &str) -> bool {
        self.find(path).is_ok()
    }
}

/// Refuses archive compressions we do not read; true for gzip.
fn archive_is_gzip(name: &str, head: &[u8]) -> Result<bool> {
    let unsupported = |kind: &str| {
        Err(ImageError::Unsupported(format!(
            "{name}: {kind}-compressed archives are not supported (plain or gzip tar only)"
        )))
    };
    match head {
        [0x1f, 0x8b, ..] => Ok(true),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => unsupported("zstd"),
        [b'B', b'Z', b'h', ..] => unsupported("bzip2"),
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => unsupported("xz"),
        _ => Ok(false),
    }
}

/// A file removed when dropped (a spooled archive).
pub(crate) struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Copies a stream (decompressing gzip) into a new file in `tmp_dir`, then indexes it.
pub(crate) fn spool(reader: &mut dyn Read, name: &str, tmp_dir: &Path) -> Result<TarBlobs> {
    let path = tmp_dir.join(super::fs::unique_name("archive"));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(io_ctx(|| format!("create {}", path.display())))?;
    let temp = TempFile(path);
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .map_err(io_ctx(|| format!("chmod {}", temp.0.display())))?;
    let mut buf = BufReader::with_capacity(128 * 1024, reader);
    let head = buf.fill_buf().map_err(io_ctx(|| format!("read {name}")))?;
    let copied = if archive_is_gzip(name, head)? {
        io::copy(&mut MultiGzDecoder::new(buf), &mut file)
    } else {
        io::copy(&mut buf, &mut file)
    };
    copied.map_err(|e| ImageError::format(name, format!("reading the archive: {e}")))?;
    TarBlobs::index(file, name.to_string(), Some(temp))
}

/// Opens a file archive: a plain tar is indexed in place; a gzip one is spooled decompressed.
pub(crate) fn open_archive_file(path: &Path, tmp_dir: &Path) -> Result<TarBlobs> {
    let name = path.display().to_string();
    let mut file = File::open(path).map_err(io_ctx(|| format!("open {name}")))?;
    let mut head = [0u8; 6];
    let n = file
        .read(&mut head)
        .map_err(io_ctx(|| format!("read {name}")))?;
    if archive_is_gzip(&name, &head[..n])? {
        let mut f = File::open(path).map_err(io_ctx(|| format!("open {name}")))?;
        return spool(&mut f, &name, tmp_dir);
    }
    TarBlobs::index(file, name, None)
}
