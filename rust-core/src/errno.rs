//! System errors as a person reads them. A leaf, so that every module's error type can use it.

/// The C library's text for an errno, without Rust's " (os error N)" suffix.
pub fn strerror(errno: i32) -> String {
    os_message(&std::io::Error::from_raw_os_error(errno))
}

/// An io::Error as a person reads it: "No such file or directory".
pub fn os_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn messages_lose_the_os_error_suffix() {
        assert_eq!(super::strerror(libc::ENOENT), "No such file or directory");
        let custom = std::io::Error::other("plain");
        assert_eq!(super::os_message(&custom), "plain");
    }
}
