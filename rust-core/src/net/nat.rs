//! Outbound NAT (masquerade of a bridge subnet), IPv4 forwarding and published ports (DNAT),
//! through the `iptables` command (iptables-nft on Debian 12).
//!
//! Spawning a tool costs a few milliseconds, which is acceptable here: masquerade is set up once
//! per bridge, and ports only when a container publishes some; a container without published
//! ports never runs iptables on its start path.
//!
//! Every rule carries a comment so it can be found and removed: `docker-run:<bridge>` for the
//! bridge's rules and `docker-run:ports:<container-id>` for published ports. (Interface names
//! cannot contain ':', so a container id can never produce a bridge's comment.) Adding is
//! idempotent: each rule is checked with `-C` first. Rules, like `ip_forward`, belong to the
//! network namespace of the calling thread.

use std::ffi::OsStr;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{InvalidNet, NetError, proto_name, validate_ifname, validate_port, validate_subnet};
use crate::spec::{PortMapping, Protocol};

/// Where iptables may live when PATH (e.g. a non-root user's) lacks the sbin directories.
const FALLBACK_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// Finds an executable `name` in the directories of `path_var`, then in [`FALLBACK_DIRS`] when
/// `fallback` is set.
fn find_tool(name: &str, path_var: Option<&OsStr>, fallback: bool) -> Option<PathBuf> {
    let dirs = path_var
        .map(|p| std::env::split_paths(p).collect::<Vec<_>>())
        .unwrap_or_default();
    let extra = fallback
        .then_some(FALLBACK_DIRS.iter().map(PathBuf::from))
        .into_iter()
        .flatten();
    dirs.into_iter()
        .chain(extra)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn iptables_path() -> Result<PathBuf, NetError> {
    find_tool("iptables", std::env::var_os("PATH").as_deref(), true)
        .ok_or(NetError::ToolMissing("iptables"))
}

/// Runs `iptables -w <args>`; Ok(true) on exit 0, Ok(false) on exit 1 (`-C`: no such rule),
/// an error otherwise with iptables' own message.
fn iptables(args: &[String]) -> Result<bool, NetError> {
    let out = Command::new(iptables_path()?)
        .arg("-w")
        .args(args)
        .output()
        .map_err(|e| NetError::io("run iptables", e))?;
    match out.status.code() {
        Some(0) => Ok(true),
        Some(1) if args.iter().any(|a| a == "-C") => Ok(false),
        _ => Err(NetError::ToolFailed {
            command: format!("iptables {}", args.join(" ")),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }),
    }
}

/// The output of `iptables -t <table> -S`.
fn list_rules(table: &str) -> Result<String, NetError> {
    let out = Command::new(iptables_path()?)
        .args(["-w", "-t", table, "-S"])
        .output()
        .map_err(|e| NetError::io("run iptables", e))?;
    if !out.status.success() {
        return Err(NetError::ToolFailed {
            command: format!("iptables -t {table} -S"),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// One rule: table, chain, whether to insert at the top (-I) rather than append, and its spec.
struct Rule {
    table: &'static str,
    chain: &'static str,
    insert: bool,
    spec: Vec<String>,
}

impl Rule {
    fn with(&self, verb: &str) -> Vec<String> {
        let head = ["-t", self.table, verb, self.chain].map(String::from);
        head.into_iter().chain(self.spec.iter().cloned()).collect()
    }

    /// Adds the rule unless it is there.
    fn ensure(&self) -> Result<(), NetError> {
        if !iptables(&self.with("-C"))? {
            iptables(&self.with(if self.insert { "-I" } else { "-A" }))?;
        }
        Ok(())
    }

    /// Deletes every copy of the rule.
    fn remove(&self) -> Result<(), NetError> {
        while iptables(&self.with("-C"))? {
            iptables(&self.with("-D"))?;
        }
        Ok(())
    }
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn bridge_rules(bridge: &str, subnet: (Ipv4Addr, u8)) -> Result<Vec<Rule>, NetError> {
    validate_ifname(bridge)?;
    validate_subnet(subnet)?;
    let comment = format!("-m comment --comment docker-run:{bridge}");
    let (net, prefix) = subnet;
    Ok(vec![
        Rule {
            table: "nat",
            chain: "POSTROUTING",
            insert: false,
            spec: words(&format!(
                "-s {net}/{prefix} ! -o {bridge} {comment} -j MASQUERADE"
            )),
        },
        // FORWARD rules go on top: a host firewall commonly ends the chain with a REJECT or
        // has a DROP policy (Docker sets one), and appended rules would come after it.
        Rule {
            table: "filter",
            chain: "FORWARD",
            insert: true,
            spec: words(&format!("-i {bridge} {comment} -j ACCEPT")),
        },
        // Into the bridge only replies: containers are not reachable from outside except
        // through published ports.
        Rule {
            table: "filter",
            chain: "FORWARD",
            insert: true,
            spec: words(&format!(
                "-o {bridge} -m conntrack --ctstate RELATED,ESTABLISHED {comment} -j ACCEPT"
            )),
        },
    ])
}

/// Sets up outbound NAT for `subnet` behind `bridge`: masquerade of traffic leaving through any
/// other interface, FORWARD accept rules (out of the bridge, and replies into it) and
/// `net.ipv4.ip_forward = 1`. Idempotent.
pub fn ensure_masquerade(bridge: &str, subnet: (Ipv4Addr, u8)) -> Result<(), NetError> {
    for rule in bridge_rules(bridge, subnet)? {
        rule.ensure()?;
    }
    enable_ip_forward()
}

/// Removes the rules of [`ensure_masquerade`]. Leaves `ip_forward` on: other bridges or host
/// services may rely on it.
pub fn remove_masquerade(bridge: &str, subnet: (Ipv4Addr, u8)) -> Result<(), NetError> {
    for rule in bridge_rules(bridge, subnet)? {
        rule.remove()?;
    }
    Ok(())
}

/// Writes 1 to /proc/sys/net/ipv4/ip_forward (per network namespace, resolved for the calling
/// thread) unless it is already set.
pub fn enable_ip_forward() -> Result<(), NetError> {
    let path = "/proc/sys/net/ipv4/ip_forward";
    if fs::read_to_string(path).is_ok_and(|v| v.trim() == "1") {
        return Ok(());
    }
    fs::write(path, "1").map_err(|e| NetError::io(format!("write 1 to {path}"), e))
}

fn validate_container_id(id: &str) -> Result<(), NetError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(InvalidNet::ContainerId(id.to_string()).into())
    }
}

fn port_comment(container_id: &str) -> String {
    format!("docker-run:ports:{container_id}")
}

/// Publishes `host_port` on the host's local addresses to `container_ip:container_port`: DNAT in
/// nat PREROUTING (traffic from outside and from other containers) and nat OUTPUT (connections
/// made on the host), plus a FORWARD accept for the translated traffic. Idempotent.
///
/// Connections to 127.0.0.1 on the host are not translated (as in Docker without its userland
/// proxy): the kernel will not route a loopback source to a bridge without route_localnet.
pub fn publish(
    container_id: &str,
    host_port: u16,
    container_ip: Ipv4Addr,
    container_port: u16,
    proto: Protocol,
) -> Result<(), NetError> {
    validate_container_id(container_id)?;
    let protocol = proto;
    validate_port(&PortMapping {
        host_port,
        container_port,
        protocol,
    })?;
    let p = proto_name(proto);
    let comment = format!("-m comment --comment {}", port_comment(container_id));
    let dnat = format!(
        "-p {p} -m addrtype --dst-type LOCAL -m {p} --dport {host_port} {comment} \
         -j DNAT --to-destination {container_ip}:{container_port}"
    );
    let rules = [
        Rule {
            table: "nat",
            chain: "PREROUTING",
            insert: false,
            spec: words(&dnat),
        },
        Rule {
            table: "nat",
            chain: "OUTPUT",
            insert: false,
            spec: words(&format!("! -d 127.0.0.0/8 {dnat}")),
        },
        Rule {
            table: "filter",
            chain: "FORWARD",
            insert: true,
            spec: words(&format!(
                "-d {container_ip}/32 -p {p} -m {p} --dport {container_port} {comment} -j ACCEPT"
            )),
        },
    ];
    for rule in &rules {
        rule.ensure()?;
    }
    Ok(())
}

/// Splits one line of `iptables -S` into arguments (double quotes group words, as iptables
/// prints comments with spaces).
fn split_rule(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            '\\' if quoted => cur.extend(chars.next()),
            c if c.is_whitespace() && !quoted => {
                if any || !cur.is_empty() {
                    args.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        args.push(cur);
    }
    args
}

/// Deletes every rule of `table` whose comment is exactly `comment`.
fn delete_by_comment(table: &str, comment: &str) -> Result<(), NetError> {
    for line in list_rules(table)?.lines() {
        let args = split_rule(line);
        let tagged = args
            .windows(2)
            .any(|w| w[0] == "--comment" && w[1] == comment);
        if args.first().map(String::as_str) == Some("-A") && tagged {
            let mut del = vec!["-t".to_owned(), table.to_owned(), "-D".to_owned()];
            del.extend(args.into_iter().skip(1));
            iptables(&del)?;
        }
    }
    Ok(())
}

/// Removes every rule [`publish`] added for `container_id`. Nothing to remove is fine.
pub fn unpublish_all(container_id: &str) -> Result<(), NetError> {
    validate_container_id(container_id)?;
    let comment = port_comment(container_id);
    delete_by_comment("nat", &comment)?;
    delete_by_comment("filter", &comment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{TempDir, in_new_netns};

    const SUBNET: (Ipv4Addr, u8) = (Ipv4Addr::new(10, 88, 0, 0), 16);

    fn rules(table: &str) -> Vec<String> {
        list_rules(table)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }

    /// The rules of `table` whose comment is exactly `comment`.
    fn tagged(table: &str, comment: &str) -> Vec<String> {
        rules(table)
            .into_iter()
            .filter(|l| {
                split_rule(l)
                    .windows(2)
                    .any(|w| w[0] == "--comment" && w[1] == comment)
            })
            .collect()
    }

    #[test]
    fn split_rule_handles_quotes() {
        assert_eq!(
            split_rule(r#"-A FORWARD -i br0 -m comment --comment "a b" -j ACCEPT"#),
            [
                "-A",
                "FORWARD",
                "-i",
                "br0",
                "-m",
                "comment",
                "--comment",
                "a b",
                "-j",
                "ACCEPT"
            ]
        );
        assert_eq!(split_rule(r#"-x "" y"#), ["-x", "", "y"]);
    }

    #[test]
    fn missing_tool_is_explained() {
        let empty = TempDir::new("nopath");
        assert_eq!(
            find_tool("iptables", Some(empty.0.as_os_str()), false),
            None
        );
        let err = NetError::ToolMissing("iptables");
        assert_eq!(
            err.to_string(),
            "iptables not found: install the iptables package"
        );
        // And the real lookup finds it via the fallback directories on this machine, if present.
        if let Some(found) = find_tool("iptables", Some(empty.0.as_os_str()), true) {
            assert!(found.ends_with("iptables"));
        }
    }

    #[test]
    fn bad_ids_and_ports() {
        for id in ["", "a b", "x\"y", &"a".repeat(65)] {
            assert!(
                matches!(unpublish_all(id), Err(NetError::Invalid(_))),
                "{id:?}"
            );
        }
        let ip = Ipv4Addr::new(10, 88, 0, 2);
        assert!(matches!(
            publish("c1", 0, ip, 80, Protocol::Tcp),
            Err(NetError::Invalid(_))
        ));
        assert!(matches!(
            ensure_masquerade("br0", (Ipv4Addr::new(10, 88, 0, 1), 16)),
            Err(NetError::Invalid(_))
        ));
    }

    fn host_ip_forward() -> String {
        fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap()
    }

    #[test]
    #[cfg_attr(not(feature = "test_as_root"), ignore)]
    fn masquerade_rules_and_ip_forward() {
        if iptables_path().is_err() {
            println!("skipped: iptables not installed");
            return;
        }
        let host_before = crate::test_utils::is_root().then(host_ip_forward);
        in_new_netns(|| {
            // A new namespace may inherit the host's value (devconf_inherit_init_net): start
            // from 0 in ours, so the test shows ensure_masquerade turning it on.
            fs::write("/proc/sys/net/ipv4/ip_forward", "0").unwrap();
            ensure_masquerade("br-nat0", SUBNET).unwrap();
            ensure_masquerade("br-nat0", SUBNET).unwrap();
            let nat = tagged("nat", "docker-run:br-nat0");
            assert_eq!(nat.len(), 1, "{nat:?}");
            assert!(
                nat[0].starts_with("-A POSTROUTING -s 10.88.0.0/16 ! -o br-nat0"),
                "{nat:?}"
            );
            assert!(nat[0].ends_with("-j MASQUERADE"), "{nat:?}");
            let fwd = tagged("filter", "docker-run:br-nat0");
            assert_eq!(fwd.len(), 2, "{fwd:?}");
            assert!(
                fwd.iter().any(|l| l.starts_with("-A FORWARD -i br-nat0")),
                "{fwd:?}"
            );
            assert!(
                fwd.iter().any(|l| l.starts_with("-A FORWARD -o br-nat0")),
                "{fwd:?}"
            );
            assert_eq!(
                fs::read_to_string("/proc/sys/net/ipv4/ip_forward")
                    .unwrap()
                    .trim(),
                "1"
            );

            // Another bridge's rules are left alone by the removal.
            ensure_masquerade("br-nat1", (Ipv4Addr::new(10, 89, 0, 0), 16)).unwrap();
            remove_masquerade("br-nat0", SUBNET).unwrap();
            assert!(tagged("nat", "docker-run:br-nat0").is_empty());
            assert!(tagged("filter", "docker-run:br-nat0").is_empty());
            assert_eq!(tagged("nat", "docker-run:br-nat1").len(), 1);
            assert_eq!(tagged("filter", "docker-run:br-nat1").len(), 2);
            remove_masquerade("br-nat0", SUBNET).unwrap();
        });
        if let Some(before) = host_before {
            assert_eq!(
                host_ip_forward(),
                before,
                "the host's ip_forward was not touched"
            );
        }
    }

    #[test]
    #[cfg_attr(not(feature = "test_as_root"), ignore)]
    fn publish_and_unpublish() {
        if iptables_path().is_err() {
            println!("skipped: iptables not installed");
            return;
        }
        in_new_netns(|| {
            let ip = Ipv4Addr::new(10, 88, 0, 2);
            publish("ctr1", 8080, ip, 80, Protocol::Tcp).unwrap();
            publish("ctr1", 8080, ip, 80, Protocol::Tcp).unwrap();
            publish("ctr1", 5353, ip, 53, Protocol::Udp).unwrap();
            publish(
                "ctr10",
                9090,
                Ipv4Addr::new(10, 88, 0, 3),
                90,
                Protocol::Tcp,
            )
            .unwrap();

            let nat = tagged("nat", "docker-run:ports:ctr1");
            assert_eq!(nat.len(), 4, "{nat:?}");
            assert!(
                nat.iter().any(|l| l.starts_with("-A PREROUTING -p tcp")
                    && l.contains("--dst-type LOCAL")
                    && l.contains("--dport 8080")
                    && l.ends_with("-j DNAT --to-destination 10.88.0.2:80")),
                "{nat:?}"
            );
            assert!(
                nat.iter()
                    .any(|l| l.starts_with("-A OUTPUT ! -d 127.0.0.0/8 -p udp")
                        && l.ends_with("--to-destination 10.88.0.2:53")),
                "{nat:?}"
            );
            let fwd = tagged("filter", "docker-run:ports:ctr1");
            assert_eq!(fwd.len(), 2, "{fwd:?}");
            assert!(
                fwd.iter()
                    .any(|l| l.starts_with("-A FORWARD -d 10.88.0.2/32 -p tcp")
                        && l.contains("--dport 80")),
                "{fwd:?}"
            );

            unpublish_all("ctr1").unwrap();
            assert!(tagged("nat", "docker-run:ports:ctr1").is_empty());
            assert!(tagged("filter", "docker-run:ports:ctr1").is_empty());
            // "ctr10" shares a prefix with "ctr1" and keeps its rules.
            assert_eq!(tagged("nat", "docker-run:ports:ctr10").len(), 2);
            assert_eq!(tagged("filter", "docker-run:ports:ctr10").len(), 1);
            unpublish_all("ctr1").unwrap();
            unpublish_all("ctr10").unwrap();
            assert!(
                !rules("nat").iter().any(|l| l.contains("docker-run:")),
                "{:?}",
                rules("nat")
            );
            assert!(!rules("filter").iter().any(|l| l.contains("docker-run:")));
        });
    }
}
