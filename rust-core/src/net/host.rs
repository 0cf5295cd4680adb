//! What the host tells about its links without netlink: the routes in /proc and a link's
//! address by ioctl. Backends may use these for the [`Client`](super::Client) reads their
//! netlink code does not do.

use std::fs;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::{NetError, Route};

/// The IPv4 routes of the main table in the calling thread's namespace, from
/// /proc/thread-self/net/route (/proc/net follows the thread group leader, which may sit in
/// another namespace).
pub(super) fn routes() -> Result<Vec<Route>, NetError> {
    let path = "/proc/thread-self/net/route";
    let text = fs::read_to_string(path).map_err(|e| NetError::io(format!("read {path}"), e))?;
    Ok(parse_routes(&text))
}

/// Parses /proc/net/route: addresses are hex in network byte order, as the kernel's u32 prints.
pub(super) fn parse_routes(text: &str) -> Vec<Route> {
    let hex = |s: &str| {
        u32::from_str_radix(s, 16)
            .ok()
            .map(|v| Ipv4Addr::from(v.to_ne_bytes()))
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (ifname, dest, mask) = (f.first()?, hex(f.get(1)?)?, hex(f.get(7)?)?);
            let prefix = u32::from(mask).leading_ones() as u8;
            Some(Route {
                ifname: (*ifname).to_owned(),
                dest: (dest, prefix),
            })
        })
        .collect()
}

/// The primary IPv4 address of a link (SIOCGIFADDR on an AF_INET socket of the calling thread's
/// namespace), None if it has none. The name must be valid (at most 15 bytes).
pub(super) fn primary_ipv4(name: &str) -> Result<Option<Ipv4Addr>, NetError> {
    // SAFETY: plain socket(2); the result is checked and owned below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(NetError::io(
            "socket(AF_INET)",
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: fd was just opened and is owned only here.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain data; all zeroes is valid.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: a valid socket and a NUL-terminated ifreq (name <= 15 bytes, validated).
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFADDR, &mut ifr) } < 0 {
        let e = std::io::Error::last_os_error();
        // EADDRNOTAVAIL: the link has no IPv4 address.
        if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) {
            return Ok(None);
        }
        return Err(NetError::io(format!("SIOCGIFADDR {name}"), e));
    }
    // SAFETY: the kernel filled ifru_addr with a sockaddr_in for AF_INET.
    let sin: libc::sockaddr_in =
        unsafe { std::ptr::read_unaligned((&raw const ifr.ifr_ifru.ifru_addr).cast()) };
    Ok(Some(Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_route() {
        let text = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                    eth0\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n\
                    eth0\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n\
                    docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
        let r = parse_routes(text);
        assert_eq!(r.len(), 3);
        assert_eq!(
            r[1],
            Route {
                ifname: "eth0".into(),
                dest: (Ipv4Addr::new(192, 168, 2, 0), 24)
            }
        );
        assert_eq!(r[2].dest, (Ipv4Addr::new(172, 17, 0, 0), 16));
        assert_eq!(r[0].dest, (Ipv4Addr::UNSPECIFIED, 0));
    }
}
