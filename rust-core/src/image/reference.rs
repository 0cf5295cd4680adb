//! Image names as Docker parses them (distribution/reference): `[DOMAIN/]PATH[:TAG]`, with
//! `docker.io` and `library/` implied, `latest` as the default tag. The store keys names in
//! their full form (`docker.io/library/busybox:latest`) and shows the familiar one (`busybox:latest`).

use std::fmt;

use super::digest::is_hex64;
use super::error::{ImageError, Result};

pub const DEFAULT_DOMAIN: &str = "docker.io";
pub const DEFAULT_TAG: &str = "latest";
const MAX_NAME: usize = 255;
const MAX_TAG: usize = 128;

/// A normalized `domain/path:tag` reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    domain: String,
    path: String,
    tag: String,
}

impl Reference {
    /// Parses and normalizes a reference; the tag defaults to `latest`. Digest references
    /// (`name@sha256:...`) are refused: the store keeps no manifest digests.
    pub fn parse(s: &str) -> Result<Reference> {
        let bad = |reason: &str| ImageError::InvalidReference {
            reference: s.to_string(),
            reason: reason.to_string(),
        };
        if s.is_empty() {
            return Err(bad("empty name"));
        }
        if s.contains('@') {
            return Err(bad(
                "digest references are not supported; use a tag or the image id",
            ));
        }
        // The tag separator is the last ':' after the last '/' (a ':' before is a port).
        let (name, tag) = match s.rfind(':') {
            Some(i) if !s[i..].contains('/') => (&s[..i], Some(&s[i + 1..])),
            _ => (s, None),
        };
        let tag = tag.unwrap_or(DEFAULT_TAG);
        if !valid_tag(tag) {
            return Err(bad(
                "a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'",
            ));
        }
        if name.len() > MAX_NAME {
            return Err(bad("the repository name is longer than 255 characters"));
        }
        if is_hex64(name) {
            return Err(bad(
                "a repository name cannot be 64 hex digits (that is an image id)",
            ));
        }
        let (domain, path) = split_domain(name);
        if !valid_domain(domain) {
            return Err(bad("invalid domain"));
        }
        if path.is_empty() || !path.split('/').all(valid_path_component) {
            return Err(bad(if path.bytes().any(|b| b.is_ascii_uppercase()) {
                "repository name must be lowercase"
            } else {
                "each path component is [a-z0-9] runs separated by '.', '_', '__' or '-'"
            }));
        }
        let domain = if domain == "index.docker.io" {
            DEFAULT_DOMAIN
        } else {
            domain
        };
        let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_string()
        };
        if domain.len() + 1 + path.len() > MAX_NAME {
            return Err(bad("the repository name is longer than 255 characters"));
        }
        Ok(Reference {
            domain: domain.to_string(),
            path,
            tag: tag.to_string(),
        })
    }

    /// True when `s` names no domain explicitly (so `docker.io` was implied).
    pub fn domain_implied(s: &str) -> bool {
        !s.contains('/') || !looks_like_domain(&s[..s.find('/').unwrap_or(s.len())])
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The same repository under another domain (`localhost/foo` for podman's local names).
    pub fn with_domain(&self, domain: &str) -> Reference {
        let path = self
            .path
            .strip_prefix("library/")
            .unwrap_or(&self.path)
            .to_string();
        Reference {
            domain: domain.to_string(),
            path,
            tag: self.tag.clone(),
        }
    }

    /// The repository without the tag, as `docker images` shows it (`busybox`, `quay.io/x/y`).
    pub fn familiar_repository(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            self.path
                .strip_prefix("library/")
                .unwrap_or(&self.path)
                .to_string()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// `busybox:latest`, `localhost/foo:1.0`.
    pub fn familiar(&self) -> String {
        format!("{}:{}", self.familiar_repository(), self.tag)
    }
}

impl fmt::Display for Reference {
    /// The full form the store keys by: `docker.io/library/busybox:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.domain, self.path, self.tag)
    }
}

/// Docker's rule: the first component is a domain if it has a '.' or a ':', is `localhost`,
/// or has an uppercase letter (which a path component cannot have).
fn looks_like_domain(first: &str) -> bool {
    first.contains(['.', ':'])
        || first == "localhost"
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

fn split_domain(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((first, rest)) if looks_like_domain(first) => (first, rest),
        _ => (DEFAULT_DOMAIN, name),
    }
}

fn valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (domain, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !c.starts_with('-')
                && !c.ends_with('-')
        });
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
pub(crate) fn valid_tag(tag: &str) -> bool {
    let w = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    !tag.is_empty()
        && tag.len() <= MAX_TAG
        && w(tag.as_bytes()[0])
        && tag.bytes().all(|b| w(b) || b == b'.' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalize_like_docker() {
        let cases = [
            (
                "busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "busybox:1.36",
                "docker.io/library/busybox:1.36",
                "busybox:1.36",
            ),
            ("user/app:v1", "docker.io/user/app:v1", "user/app:v1"),
            (
                "docker.io/library/alpine",
                "docker.io/library/alpine:latest",
                "alpine:latest",
            ),
            ("index.docker.io/x/y", "docker.io/x/y:latest", "x/y:latest"),
            (
                "localhost/foo",
                "localhost/foo:latest",
                "localhost/foo:latest",
            ),
            (
                "localhost:5000/a/b:c",
                "localhost:5000/a/b:c",
                "localhost:5000/a/b:c",
            ),
            (
                "quay.io/a.b/c__d-e---f:T_1.x-y",
                "quay.io/a.b/c__d-e---f:T_1.x-y",
                "quay.io/a.b/c__d-e---f:T_1.x-y",
            ),
        ];
        for (input, full, familiar) in cases {
            let r = Reference::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.to_string(), full, "{input}");
            assert_eq!(r.familiar(), familiar, "{input}");
            assert_eq!(Reference::parse(full).unwrap(), r, "full form round-trips");
        }
        assert_eq!(
            Reference::parse("foo")
                .unwrap()
                .with_domain("localhost")
                .to_string(),
            "localhost/foo:latest"
        );
        assert!(Reference::domain_implied("foo/bar"));
        assert!(!Reference::domain_implied("localhost/bar"));
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in [
            "",
            "Busybox",
            "busybox:",
            "busybox:.x",
            "busybox:-x",
            ":tag",
            "a//b",
            "a/",
            "/a",
            "a..b",
            "a.-b",
            "-a",
            "a-",
            "a:b:c",
            "../../etc",
            "a/b/../c",
            "busybox@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "a b",
            "a\nb",
            "-bad.domain/x",
            "host:port/x",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long_tag = format!("a:{}", "t".repeat(129));
        assert!(Reference::parse(&long_tag).is_err());
        let long_name = "a".repeat(256);
        assert!(Reference::parse(&long_name).is_err());
        let msg = Reference::parse("Busybox").unwrap_err().to_string();
        assert!(msg.contains("lowercase"), "{msg}");
    }
}
