//! The log, as runc writes it with logrus: `--log FILE` (default stderr) and
//! `--log-format text|json`. Engines read a failed command's error from there: containerd's
//! shim and podman pass `--log-format json` and parse the last `"level":"error"` line. As
//! runc does, an error also goes to stderr when the log is a file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "text" => Some(Format::Text),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct Logger {
    file: Option<File>,
    format: Format,
    debug: bool,
}

impl Default for Logger {
    fn default() -> Self {
        Logger {
            file: None,
            format: Format::Text,
            debug: false,
        }
    }
}

impl Logger {
    /// Appends to `path` (created 0600), or logs to stderr when None.
    pub fn open(path: Option<&str>, format: Format, debug: bool) -> std::io::Result<Logger> {
        let file = match path {
            Some(p) if !p.is_empty() && p != "/dev/stderr" => Some(
                OpenOptions::new()
                    .append(true)
                    .create(true)
                    .mode(0o600)
                    .open(p)?,
            ),
            _ => None,
        };
        Ok(Logger {
            file,
            format,
            debug,
        })
    }

    fn line(&self, level: &str, msg: &str) -> String {
        let time = rfc3339(SystemTime::now(), true);
        match self.format {
            Format::Json => {
                let v = serde_json::json!({ "level": level, "msg": msg, "time": time });
                format!("{v}\n")
            }
            Format::Text => format!(
                "time={:?} level={level} msg={}\n",
                time,
                serde_json::Value::String(msg.to_string())
            ),
        }
    }

    fn write(&self, level: &str, msg: &str) {
        let line = self.line(level, msg);
        match &self.file {
            Some(f) => {
                let mut w: &File = f;
                let _ = w.write_all(line.as_bytes());
            }
            None => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
        }
    }

    pub fn debug(&self, msg: &str) {
        if self.debug {
            self.write("debug", msg);
        }
    }

    pub fn warn(&self, msg: &str) {
        self.write("warning", msg);
    }

    /// A failed command: to the log, and to stderr as a plain line when the log is a file.
    pub fn error(&self, msg: &str) {
        self.write("error", msg);
        if self.file.is_some() {
            eprintln!("{msg}");
        }
    }
}

/// `t` as RFC 3339 in UTC ("2026-12-02T15:04:05.123456789Z"), as Go's time.RFC3339Nano
/// prints it (trailing zeros of the fraction dropped) when `nanos`.
pub fn rfc3339(t: SystemTime, nanos: bool) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86400, secs % 86400);
    let (y, m, day) = civil_from_days(days as i64);
    let mut s = format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    if nanos && d.subsec_nanos() != 0 {
        let frac = format!("{:09}", d.subsec_nanos());
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Howard Hinnant's days-to-civil: the proleptic Gregorian date of a day count since 1970.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_as_go_prints_it() {
        let t = UNIX_EPOCH + Duration::new(1_764_688_445, 120_000_000);
        assert_eq!(rfc3339(t, true), "2025-12-02T15:14:05.12Z");
        assert_eq!(rfc3339(t, false), "2025-12-02T15:14:05Z");
        assert_eq!(rfc3339(UNIX_EPOCH, true), "1970-01-01T00:00:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap, false), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn json_lines_as_logrus_writes_them() {
        let l = Logger {
            format: Format::Json,
            ..Logger::default()
        };
        let v: serde_json::Value = serde_json::from_str(&l.line("error", "a \"b\"")).unwrap();
        assert_eq!(v["level"], "error");
        assert_eq!(v["msg"], "a \"b\"");
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
    }
}
