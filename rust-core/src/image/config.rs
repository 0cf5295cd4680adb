//! The parts of an image config the run path needs, read through oci-spec's
//! `ImageConfiguration` (which also parses Docker's configs: same keys, `null` for absent), and
//! Docker's rules for turning them plus the user's flags into a process.

use std::collections::BTreeMap;

use oci_spec::image::{Config, ImageConfiguration};

use super::error::{ImageError, Result};

/// PATH when neither the image nor the user sets one (moby's default for Linux containers).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// An image's execution defaults (the config's `config` object).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunConfig {
    /// `KEY=VALUE` entries, in the image's order.
    pub env: Vec<String>,
    /// None when the image sets no entrypoint (`null` and `[]` alike).
    pub entrypoint: Option<Vec<String>>,
    /// None when the image sets no default command.
    pub cmd: Option<Vec<String>>,
    /// Absolute path, or None (Docker then uses `/`).
    pub working_dir: Option<String>,
    /// `user`, `uid`, `user:group` or `uid:gid`, or None (root).
    pub user: Option<String>,
    /// `PORT/PROTO` (proto `tcp` when the image left it out), sorted.
    pub exposed_ports: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Sorted container paths the image declares as volumes.
    pub volumes: Vec<String>,
    pub stop_signal: Option<String>,
}

/// What the user asked for on top of the image, as `docker run` takes it.
#[derive(Debug, Clone, Default)]
pub struct RunOverrides<'a> {
    /// `--entrypoint`: Some(&[]) is `--entrypoint ""` (no entrypoint at all).
    pub entrypoint: Option<&'a [String]>,
    /// The COMMAND and ARGs after the image name (empty: the image's Cmd).
    pub command: &'a [String],
}

impl RunConfig {
    pub(crate) fn from_oci(cfg: &ImageConfiguration) -> Result<RunConfig> {
        let Some(c) = cfg.config() else {
            return Ok(RunConfig::default());
        };
        let non_empty = |v: &Option<Vec<String>>| v.clone().filter(|v| !v.is_empty());
        let mut exposed_ports: Vec<String> = c
            .exposed_ports()
            .iter()
            .flatten()
            .map(|p| {
                if p.contains('/') {
                    p.clone()
                } else {
                    format!("{p}/tcp")
                }
            })
            .collect();
        exposed_ports.sort();
        exposed_ports.dedup();
        for p in &exposed_ports {
            validate_port(p)?;
        }
        let mut volumes: Vec<String> = c.volumes().clone().unwrap_or_default();
        volumes.sort();
        let env = c.env().clone().unwrap_or_default();
        if let Some(bad) = env
            .iter()
            .find(|e| e.is_empty() || e.starts_with('=') || e.contains('\0'))
        {
            return Err(ImageError::format(
                "image config",
                format!("invalid Env entry {bad:?}"),
            ));
        }
        Ok(RunConfig {
            env,
            entrypoint: non_empty(c.entrypoint()),
            cmd: non_empty(c.cmd()),
            working_dir: c.working_dir().clone().filter(|w| !w.is_empty()),
            user: c.user().clone().filter(|u| !u.is_empty()),
            exposed_ports,
            labels: c
                .labels()
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            volumes,
            stop_signal: c.stop_signal().clone().filter(|s| !s.is_empty()),
        })
    }

    /// The oci-spec form, for writing a config (`import`).
    pub(crate) fn to_oci(&self) -> Config {
        let mut c = Config::default();
        c.set_env((!self.env.is_empty()).then(|| self.env.clone()));
        c.set_entrypoint(self.entrypoint.clone());
        c.set_cmd(self.cmd.clone());
        c.set_working_dir(self.working_dir.clone());
        c.set_user(self.user.clone());
        c.set_exposed_ports((!self.exposed_ports.is_empty()).then(|| self.exposed_ports.clone()));
        c.set_volumes((!self.volumes.is_empty()).then(|| self.volumes.clone()));
        c.set_labels((!self.labels.is_empty()).then(|| self.labels.clone().into_iter().collect()));
        c.set_stop_signal(self.stop_signal.clone());
        c
    }

    /// The process's argv as Docker computes it: Entrypoint + Cmd; a user command replaces Cmd;
    /// `--entrypoint` replaces Entrypoint and drops the image's Cmd.
    pub fn argv(&self, ov: &RunOverrides<'_>) -> Result<Vec<String>> {
        let (entrypoint, cmd): (&[String], &[String]) = match ov.entrypoint {
            Some(ep) => (ep, ov.command),
            None => (
                self.entrypoint.as_deref().unwrap_or_default(),
                if ov.command.is_empty() {
                    self.cmd.as_deref().unwrap_or_default()
                } else {
                    ov.command
                },
            ),
        };
        let argv: Vec<String> = entrypoint.iter().chain(cmd).cloned().collect();
        if argv.is_empty() {
            return Err(ImageError::Invalid(
                "no command specified: the image has no Entrypoint or Cmd".into(),
            ));
        }
        Ok(argv)
    }

    /// The environment: the image's Env with the user's entries on top (`KEY=V` replaces or
    /// appends; a bare `KEY` removes it, as Docker does), plus PATH when neither sets one.
    pub fn merged_env(&self, user: &[String]) -> Vec<String> {
        let key = |e: &str| e.split_once('=').map_or(e, |(k, _)| k).to_string();
        let mut env: Vec<String> = Vec::with_capacity(self.env.len() + user.len() + 1);
        for e in self.env.iter().chain(user) {
            let k = key(e);
            let pos = env.iter().position(|x| key(x) == k);
            match (pos, e.contains('=')) {
                (Some(i), true) => env[i] = e.clone(),
                (Some(i), false) => {
                    env.remove(i);
                }
                (None, true) => env.push(e.clone()),
                (None, false) => {}
            }
        }
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.push(format!("PATH={DEFAULT_PATH}"));
        }
        env
    }

    /// The working directory: the user's `-w`, else the image's, else `/`.
    pub fn working_dir_or<'a>(&'a self, user: Option<&'a str>) -> &'a str {
        user.or(self.working_dir.as_deref()).unwrap_or("/")
    }
}

fn validate_port(p: &str) -> Result<()> {
    let bad = || ImageError::format("image config", format!("invalid ExposedPorts entry {p:?}"));
    let (port, proto) = p.split_once('/').ok_or_else(bad)?;
    let ok_port = |s: &str| s.parse::<u16>().is_ok_and(|n| n > 0);
    let range_ok = match port.split_once('-') {
        Some((a, b)) => ok_port(a) && ok_port(b),
        None => ok_port(port),
    };
    if !range_ok || !matches!(proto, "tcp" | "udp" | "sctp") {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(json: &str) -> RunConfig {
        let full = format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"config":{json}}}"#
        );
        let c: ImageConfiguration = serde_json::from_str(&full).unwrap();
        RunConfig::from_oci(&c).unwrap()
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn docker_configs_with_nulls_parse() {
        let c = cfg(
            r#"{"Hostname":"","User":"","Env":["PATH=/bin","A=1"],"Cmd":["sh"],"Entrypoint":null,
                "WorkingDir":"","Labels":null,"ExposedPorts":{"80":{},"53/udp":{}},"Volumes":null,
                "OnBuild":null,"Image":"sha256:abc"}"#,
        );
        assert_eq!(c.env, v(&["PATH=/bin", "A=1"]));
        assert_eq!(c.cmd, Some(v(&["sh"])));
        assert_eq!(c.entrypoint, None);
        assert_eq!(c.working_dir, None);
        assert_eq!(c.user, None);
        assert_eq!(c.exposed_ports, v(&["53/udp", "80/tcp"]));
        let none = cfg("null");
        assert_eq!(none, RunConfig::default());
    }

    #[test]
    fn bad_config_fields_are_refused() {
        let full = |j: &str| {
            let s = format!(
                r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"config":{j}}}"#
            );
            RunConfig::from_oci(&serde_json::from_str(&s).unwrap())
        };
        assert!(full(r#"{"ExposedPorts":{"http/tcp":{}}}"#).is_err());
        assert!(full(r#"{"ExposedPorts":{"80/icmp":{}}}"#).is_err());
        assert!(full(r#"{"Env":["=x"]}"#).is_err());
    }

    #[test]
    fn argv_follows_docker() {
        let c = RunConfig {
            entrypoint: Some(v(&["/ep", "-x"])),
            cmd: Some(v(&["a", "b"])),
            ..Default::default()
        };
        let none: Vec<String> = vec![];
        let cmd = v(&["c"]);
        let ep = v(&["/other"]);
        let empty: Vec<String> = vec![];
        let run = |entrypoint: Option<&[String]>, command: &[String]| {
            c.argv(&RunOverrides {
                entrypoint,
                command,
            })
        };
        assert_eq!(run(None, &none).unwrap(), v(&["/ep", "-x", "a", "b"]));
        assert_eq!(run(None, &cmd).unwrap(), v(&["/ep", "-x", "c"]));
        assert_eq!(
            run(Some(&ep), &none).unwrap(),
            v(&["/other"]),
            "--entrypoint drops the image's Cmd"
        );
        assert_eq!(run(Some(&ep), &cmd).unwrap(), v(&["/other", "c"]));
        assert_eq!(
            run(Some(&empty), &cmd).unwrap(),
            v(&["c"]),
            "--entrypoint \"\" keeps only the command"
        );
        assert!(run(Some(&empty), &none).is_err());
        let only_cmd = RunConfig {
            cmd: Some(v(&["sh"])),
            ..Default::default()
        };
        assert_eq!(only_cmd.argv(&RunOverrides::default()).unwrap(), v(&["sh"]));
        let err = RunConfig::default()
            .argv(&RunOverrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no command"), "{err}");
    }

    #[test]
    fn env_merges_user_over_image() {
        let c = RunConfig {
            env: v(&["PATH=/img", "A=1", "B=2"]),
            ..Default::default()
        };
        assert_eq!(
            c.merged_env(&v(&["B=3", "C=4", "A"])),
            v(&["PATH=/img", "B=3", "C=4"])
        );
        let bare = RunConfig::default();
        assert_eq!(
            bare.merged_env(&v(&["X=1"])),
            v(&["X=1", &format!("PATH={DEFAULT_PATH}")])
        );
        assert_eq!(bare.merged_env(&v(&["PATH=/mine"])), v(&["PATH=/mine"]));
        assert_eq!(c.working_dir_or(None), "/");
        let w = RunConfig {
            working_dir: Some("/srv".into()),
            ..Default::default()
        };
        assert_eq!(w.working_dir_or(None), "/srv");
        assert_eq!(w.working_dir_or(Some("/tmp")), "/tmp");
    }
}
