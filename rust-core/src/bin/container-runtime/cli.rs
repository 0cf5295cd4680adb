//! runc's command-line syntax (urfave/cli over Go's flag package): `--flag value`,
//! `--flag=value`, a single dash works as well as two, boolean flags take an optional
//! `=true|false`, and flag parsing stops at the first positional argument (so `exec ID cmd -x`
//! leaves `-x` to the command) or at `--`.

use std::fmt;

/// One flag a command accepts: its names without dashes (the first is canonical) and whether
/// it takes a value.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    pub names: &'static [&'static str],
    pub value: bool,
}

pub const fn flag(names: &'static [&'static str]) -> Flag {
    Flag {
        names,
        value: false,
    }
}

pub const fn opt(names: &'static [&'static str]) -> Flag {
    Flag { names, value: true }
}

/// A command line that could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum CliError {
    Unknown(String),
    NeedsValue(String),
    BadBool { flag: String, value: String },
    Args { command: String, want: ArgCount },
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum ArgCount {
    Exactly(usize),
    AtLeast(usize),
    Range(usize, usize),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Unknown(flag) => write!(f, "flag provided but not defined: -{flag}"),
            CliError::NeedsValue(flag) => write!(f, "flag needs an argument: -{flag}"),
            CliError::BadBool { flag, value } => {
                write!(f, "invalid boolean value {value:?} for -{flag}")
            }
            CliError::Args { command, want } => {
                let (kind, n) = match want {
                    ArgCount::Exactly(n) => ("exactly", *n),
                    ArgCount::AtLeast(n) => ("at least", *n),
                    ArgCount::Range(n, _) => ("at least", *n),
                };
                write!(
                    f,
                    "container-runtime: {command:?} requires {kind} {n} argument(s)"
                )
            }
        }
    }
}

/// The flags found (canonical name, value; booleans have "true" or "false") and the
/// arguments after them.
#[derive(Debug, Default)]
pub struct Parsed {
    flags: Vec<(&'static str, String)>,
    pub args: Vec<String>,
}

impl Parsed {
    /// The last value of a flag given with a value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable flag, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A boolean flag: true when given without `=false`.
    pub fn on(&self, name: &str) -> bool {
        self.get(name) == Some("true")
    }

    /// Checks the number of positional arguments.
    pub fn expect(&self, command: &str, want: ArgCount) -> Result<(), CliError> {
        let n = self.args.len();
        let ok = match want {
            ArgCount::Exactly(k) => n == k,
            ArgCount::AtLeast(k) => n >= k,
            ArgCount::Range(lo, hi) => (lo..=hi).contains(&n),
        };
        if ok {
            Ok(())
        } else {
            Err(CliError::Args {
                command: command.to_string(),
                want,
            })
        }
    }
}

fn lookup(defs: &[Flag], name: &str) -> Option<Flag> {
    defs.iter().copied().find(|d| d.names.contains(&name))
}

/// Reads flags from the front of `argv` until the first positional argument, which starts
/// `args` with everything after it.
pub fn parse(defs: &[Flag], argv: &[String]) -> Result<Parsed, CliError> {
    let mut out = Parsed::default();
    let mut i = 0;
    while i < argv.len() {
        let a = &argv[i];
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        let body = a.strip_prefix("--").unwrap_or(&a[1..]);
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let def = lookup(defs, name).ok_or_else(|| CliError::Unknown(name.to_string()))?;
        let value = if def.value {
            match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    argv.get(i)
                        .cloned()
                        .ok_or_else(|| CliError::NeedsValue(name.to_string()))?
                }
            }
        } else {
            match inline.as_deref() {
                None | Some("true") | Some("1") | Some("t") => "true".to_string(),
                Some("false") | Some("0") | Some("f") => "false".to_string(),
                Some(v) => {
                    return Err(CliError::BadBool {
                        flag: name.to_string(),
                        value: v.to_string(),
                    });
                }
            }
        };
        out.flags.push((def.names[0], value));
        i += 1;
    }
    out.args = argv[i..].to_vec();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFS: &[Flag] = &[
        opt(&["bundle", "b"]),
        flag(&["detach", "d"]),
        opt(&["env", "e"]),
    ];

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn go_flag_syntax() {
        let p = parse(
            DEFS,
            &argv("-b /x --detach=false --env=A=1 -e B=2 id cmd -d"),
        )
        .unwrap();
        assert_eq!(p.get("bundle"), Some("/x"));
        assert!(!p.on("detach"));
        assert_eq!(p.all("env"), ["A=1", "B=2"]);
        assert_eq!(p.args, ["id", "cmd", "-d"]);
        let p = parse(DEFS, &argv("--bundle=/y -d -- -id")).unwrap();
        assert_eq!(p.get("bundle"), Some("/y"));
        assert!(p.on("detach"));
        assert_eq!(p.args, ["-id"]);
    }

    #[test]
    fn mistakes_are_named() {
        let e = parse(DEFS, &argv("--nope id")).unwrap_err();
        assert_eq!(e.to_string(), "flag provided but not defined: -nope");
        let e = parse(DEFS, &argv("--bundle")).unwrap_err();
        assert_eq!(e.to_string(), "flag needs an argument: -bundle");
        assert!(parse(DEFS, &argv("--detach=maybe")).is_err());
        let p = parse(DEFS, &argv("a b")).unwrap();
        let e = p.expect("start", ArgCount::Exactly(1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "container-runtime: \"start\" requires exactly 1 argument(s)"
        );
    }
}
