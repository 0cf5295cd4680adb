//! The container log, in Docker's json-file shape: one JSON object per line,
//! `{"log":"hello\n","stream":"stdout","time":"2026-12-02T15:04:05.123456789Z"}`, so that tools
//! that read Docker's logs read ours. A line is written with one write(2) on an O_APPEND file,
//! so a reader following the file never sees half of one unless the writer died in it (such a
//! partial line is held back until it is complete).

use std::fs;
use std::io::{self, BufRead, Seek, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

use super::{now_nanos, rfc3339};

/// Docker splits longer lines into several entries.
const MAX_LINE: usize = 16 * 1024;

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub log: String,
    pub stream: String,
    pub time: String,
}

/// Appends entries to a container's log (0600, never through a symlink).
pub struct Writer {
    file: fs::File,
}

impl Writer {
    pub fn open(path: &Path) -> io::Result<Writer> {
        let file = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(crate::private_fs::FILE_MODE)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)?;
        Ok(Writer { file })
    }

    /// Writes one entry for `bytes` (a line, its newline included if it had one).
    pub fn write(&mut self, stream: &str, bytes: &[u8]) -> io::Result<()> {
        let entry = Entry {
            log: String::from_utf8_lossy(bytes).into_owned(),
            stream: stream.to_string(),
            time: rfc3339(now_nanos()),
        };
        let mut line = serde_json::to_vec(&entry).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)
    }
}

/// Cuts a stream's bytes into lines, keeping an unfinished line until its end comes.
#[derive(Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// The complete lines in `pending + bytes` (each with its newline; one of MAX_LINE bytes
    /// without one when a line is that long).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.pending.extend_from_slice(bytes);
        let mut lines = Vec::new();
        loop {
            let end = match self.pending.iter().position(|&b| b == b'\n') {
                Some(i) if i < MAX_LINE => i + 1,
                _ if self.pending.len() >= MAX_LINE => MAX_LINE,
                _ => break,
            };
            lines.push(self.pending.drain(..end).collect());
        }
        lines
    }

    /// What is left at the end of the stream.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending))
    }
}

/// How `logs` shows a log.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Keep reading while the container runs (`-f`).
    pub follow: bool,
    /// Only the last N entries (`--tail N`); None for all.
    pub tail: Option<usize>,
    /// Each line prefixed with its time (`-t`).
    pub timestamps: bool,
    /// Start at this byte of the log instead of its beginning (`attach`: only what comes).
    pub from_offset: Option<u64>,
}

fn show<'a>(
    entry: &Entry,
    opts: ReadOptions,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
) -> io::Result<()> {
    let sink: &mut dyn Write = if entry.stream == "stderr" { err } else { out };
    if opts.timestamps {
        write!(sink, "{} ", entry.time)?;
    }
    sink.write_all(entry.log.as_bytes())?;
    sink.flush()
}

/// Reads complete lines from `reader` into entries (malformed lines are skipped: the file is
/// ours, but a monitor killed in a write leaves a torn line).
fn read_entries(reader: &mut impl BufRead, pending: &mut Vec<u8>) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    loop {
        let n = reader.read_until(b'\n', pending)?;
        if n == 0 || pending.last() != Some(&b'\n') {
            return Ok(entries);
        }
        if let Ok(e) = serde_json::from_slice::<Entry>(pending) {
            entries.push(e);
        }
        pending.clear();
    }
}

/// Writes the log at `path` to `out` (stdout entries) and `err` (stderr entries). With
/// `follow`, keeps reading until `running()` says the container is no longer running (and what
/// it wrote until then is shown). A missing log is an empty one.
pub fn print(
    path: &Path,
    opts: ReadOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
    running: &mut dyn FnMut() -> bool,
) -> io::Result<()> {
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(f) => Some(f),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let mut file = file;
    if let (Some(f), Some(off)) = (file.as_mut(), opts.from_offset) {
        f.seek(io::SeekFrom::Start(off))?;
    }
    let mut reader = file.map(io::BufReader::new);
    let mut pending = Vec::new();
    if let Some(r) = reader.as_mut() {
        let mut entries = read_entries(r, &mut pending)?;
        if let Some(n) = opts.tail {
            entries.drain(..entries.len().saturating_sub(n));
        }
        for e in &entries {
            show(e, opts, out, err)?;
        }
    }
    if !opts.follow {
        return Ok(());
    }
    loop {
        // Checked before reading: what was written before it stopped is read after.
        let still = running();
        if reader.is_none() {
            reader = fs::File::open(path).ok().map(io::BufReader::new);
        }
        if let Some(r) = reader.as_mut() {
            for e in read_entries(r, &mut pending)? {
                show(&e, opts, out, err)?;
            }
        }
        if !still {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
