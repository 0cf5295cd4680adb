//! A failed command: the message runc would print, and the exit status (1, as runc exits on
//! every error, unless a command says otherwise).

use std::fmt;

#[derive(Debug)]
pub struct Fail {
    msg: String,
    pub code: i32,
}

impl Fail {
    pub fn msg(msg: impl Into<String>) -> Fail {
        Fail {
            msg: msg.into(),
            code: 1,
        }
    }

    /// `what: <strerror>`.
    pub fn io(what: impl fmt::Display, e: std::io::Error) -> Fail {
        let text = e.to_string();
        let text = text.split(" (os error ").next().unwrap_or(&text);
        Fail::msg(format!("{what}: {text}"))
    }

    /// runc's words: engines look for "does not exist" to tell a missing container.
    pub fn not_exist() -> Fail {
        Fail::msg("container does not exist")
    }

    pub fn not_running() -> Fail {
        Fail::msg("container not running")
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl From<container_runtime::Error> for Fail {
    fn from(e: container_runtime::Error) -> Fail {
        Fail::msg(e.to_string())
    }
}

impl From<crate::cli::CliError> for Fail {
    fn from(e: crate::cli::CliError) -> Fail {
        Fail::msg(e.to_string())
    }
}
