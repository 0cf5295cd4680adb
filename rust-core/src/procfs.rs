//! What /proc tells about a process. A pid alone is not an identity (pids are reused); a pid
//! with its start time is, so records and leases store both.

use std::fs;

/// Start time of a live process (in clock ticks since boot, /proc/<pid>/stat field 22), None
/// when it does not exist or has already exited (a zombie waiting to be reaped is not alive).
pub fn process_start_time(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    let mut fields = stat[stat.rfind(')')? + 2..].split(' ');
    if fields.next()? == "Z" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_of_self_and_missing() {
        let me = std::process::id() as i32;
        assert!(process_start_time(me).is_some());
        assert_eq!(process_start_time(me), process_start_time(me));
        assert!(process_start_time(i32::MAX).is_none());
        assert!(process_start_time(0).is_none());
    }
}
