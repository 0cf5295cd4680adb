// cli.hpp: docker-run's command-line parsing, apart from main() so that it can be fuzzed
// (tests/fuzz/fuzz_cli.cpp). Bad input throws cli::UsageError; values the library refuses throw
// rt::Error. Nothing here exits or prints.
#ifndef DOCKER_RUN_CLI_HPP
#define DOCKER_RUN_CLI_HPP

#include "docker.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace cli {

// A command-line mistake: docker-run prints it with a hint and exits 125.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] inline void usage_error(const std::string &message) { throw UsageError(message); }

enum class Action { Run, Help, Version };

inline bool parse_u32(const std::string &s, uint32_t &out) {
    if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    unsigned long v = std::stoul(s);
    if (v > 0xfffffffeUL) return false;
    out = static_cast<uint32_t>(v);
    return true;
}

struct Options {
    std::string bridge = "docker-run0";
    std::string subnet;
    bool tty = false;
    bool interactive = false;
    std::string rootfs;
    std::vector<std::string> command;
    rt::Config config;
    Options() { config.network(RT_NETWORK_MODE_BRIDGE); } // Docker's default
};

// The library's limit key for a limit flag (Docker's long flag names), or "" for another flag.
inline std::string limit_key(const std::string &flag) {
    if (flag == "-m") return "memory";
    if (flag == "-c") return "cpu-shares";
    for (const char *name : {"memory", "memory-swap", "cpus", "cpu-period", "cpu-quota", "cpu-shares", "cpuset-cpus",
                             "cpuset-mems", "pids-limit", "blkio-weight", "device-read-bps", "device-write-bps"})
        if (flag == std::string("--") + name) return name;
    return "";
}

// The value of a flag that takes one: inline (--flag=v) or the next argument.
inline std::string flag_value(const std::vector<std::string> &args, size_t &i, std::string &flag) {
    size_t eq = flag.find('=');
    if (flag.rfind("--", 0) == 0 && eq != std::string::npos) {
        std::string v = flag.substr(eq + 1);
        flag = flag.substr(0, eq);
        return v;
    }
    if (i + 1 >= args.size()) usage_error("flag " + flag + " needs an argument");
    return args[++i];
}

inline void add_env(rt::Config &cfg, const std::string &entry) {
    if (entry.find('=') == std::string::npos) {
        // Docker: "-e KEY" copies the variable from the caller, or drops it when unset.
        if (const char *v = std::getenv(entry.c_str())) cfg.env(entry + "=" + v);
        return;
    }
    cfg.env(entry);
}

// Parses the options of `run` (args without the program name). Throws UsageError on a bad
// flag or value and rt::Error when the library refuses a value.
inline Action parse(const std::vector<std::string> &args, Options &o) {
    size_t i = 0;
    auto value = [&](const std::string &flag, const std::string &inline_value, bool has_inline) {
        if (has_inline) return inline_value;
        if (i + 1 >= args.size()) usage_error("flag " + flag + " needs an argument");
        return args[++i];
    };
    for (; i < args.size(); ++i) {
        std::string a = args[i];
        if (a == "--") {
            ++i;
            break;
        }
        if (a.empty() || a[0] != '-' || a == "-") break;
        // Combined short flags: -it, -ti.
        if (a[1] != '-' && a.size() > 2 && a.find_first_not_of("it", 1) == std::string::npos) {
            for (char c : a.substr(1)) (c == 'i' ? o.interactive : o.tty) = true;
            continue;
        }
        std::string flag = a, inline_value;
        bool has_inline = false;
        if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
            flag = a.substr(0, a.find('='));
            inline_value = a.substr(a.find('=') + 1);
            has_inline = true;
        }
        if (flag == "--help") {
            return Action::Help;
        } else if (flag == "--version") {
            return Action::Version;
        } else if (flag == "-i" || flag == "--interactive") {
            o.interactive = true;
        } else if (flag == "-t" || flag == "--tty") {
            o.tty = true;
        } else if (flag == "--rm") {
            // Containers are always removed at exit.
        } else if (flag == "--name") {
            o.config.name(value(flag, inline_value, has_inline));
        } else if (flag == "-h" || flag == "--hostname") {
            o.config.hostname(value(flag, inline_value, has_inline));
        } else if (flag == "--rootfs") {
            o.rootfs = value(flag, inline_value, has_inline);
        } else if (flag == "-e" || flag == "--env") {
            add_env(o.config, value(flag, inline_value, has_inline));
        } else if (flag == "--env-file") {
            std::string path = value(flag, inline_value, has_inline);
            std::ifstream in(path);
            if (!in) usage_error("--env-file " + path + ": " + std::strerror(errno));
            for (std::string line; std::getline(in, line);) {
                if (line.empty() || line[0] == '#') continue;
                add_env(o.config, line);
            }
        } else if (flag == "-v" || flag == "--volume") {
            std::string spec = value(flag, inline_value, has_inline);
            rt::BindMount m;
            size_t c1 = spec.find(':');
            if (c1 == std::string::npos) usage_error("invalid volume " + spec + ": expected SRC:DST[:ro|:rw]");
            m.source = spec.substr(0, c1);
            std::string rest = spec.substr(c1 + 1);
            size_t c2 = rest.find(':');
            m.destination = rest.substr(0, c2);
            if (c2 != std::string::npos) {
                std::string mode = rest.substr(c2 + 1);
                if (mode == "ro") m.readonly = true;
                else if (mode != "rw") usage_error("invalid volume mode " + mode + " in " + spec + ": use ro or rw");
            }
            if (!m.source.empty() && m.source[0] != '/') {
                char cwd[PATH_MAX];
                if (getcwd(cwd, sizeof cwd)) m.source = std::string(cwd) + "/" + m.source;
            }
            o.config.bind(m);
        } else if (flag == "--tmpfs") {
            std::string spec = value(flag, inline_value, has_inline);
            size_t c = spec.find(':');
            o.config.tmpfs(spec.substr(0, c), c == std::string::npos ? "" : spec.substr(c + 1));
        } else if (flag == "-w" || flag == "--workdir") {
            o.config.cwd(value(flag, inline_value, has_inline));
        } else if (flag == "-u" || flag == "--user") {
            std::string spec = value(flag, inline_value, has_inline);
            size_t c = spec.find(':');
            uint32_t uid = 0, gid = 0;
            if (!parse_u32(spec.substr(0, c), uid)) usage_error("invalid user " + spec + ": expected UID[:GID] (numbers)");
            gid = uid;
            if (c != std::string::npos && !parse_u32(spec.substr(c + 1), gid))
                usage_error("invalid user " + spec + ": expected UID[:GID] (numbers)");
            o.config.user(uid, gid);
        } else if (flag == "--read-only") {
            o.config.readonly_rootfs(true);
        } else if (flag == "--init") {
            o.config.init(true);
        } else if (flag == "--no-pivot") {
            o.config.no_pivot(true);
        } else if (std::string key = limit_key(flag); !key.empty()) {
            o.config.limit(key, value(flag, inline_value, has_inline));
        } else if (flag == "--network" || flag == "--net") {
            std::string mode = value(flag, inline_value, has_inline);
            if (mode == "host") o.config.network(RT_NETWORK_MODE_HOST);
            else if (mode == "none") o.config.network(RT_NETWORK_MODE_NONE);
            else if (mode == "bridge") o.config.network(RT_NETWORK_MODE_BRIDGE);
            else usage_error("invalid --network " + mode + ": use bridge, none or host");
        } else if (flag == "--bridge") {
            o.bridge = value(flag, inline_value, has_inline);
        } else if (flag == "--subnet") {
            o.subnet = value(flag, inline_value, has_inline);
        } else if (flag == "--ip") {
            o.config.ip(value(flag, inline_value, has_inline));
        } else if (flag == "-p" || flag == "--publish") {
            std::string spec = value(flag, inline_value, has_inline);
            int proto = RT_PROTOCOL_TCP;
            std::string ports = spec;
            if (size_t slash = spec.find('/'); slash != std::string::npos) {
                std::string p = spec.substr(slash + 1);
                if (p == "udp") proto = RT_PROTOCOL_UDP;
                else if (p != "tcp") usage_error("invalid protocol in -p " + spec + ": use tcp or udp");
                ports = spec.substr(0, slash);
            }
            size_t colon = ports.find(':');
            uint32_t host = 0, cont = 0;
            if (colon == std::string::npos || !parse_u32(ports.substr(0, colon), host) ||
                !parse_u32(ports.substr(colon + 1), cont) || host < 1 || host > 65535 || cont < 1 || cont > 65535)
                usage_error("invalid -p " + spec + ": expected HOSTPORT:CONTAINERPORT[/tcp|/udp] with ports 1-65535");
            o.config.publish(static_cast<uint16_t>(host), static_cast<uint16_t>(cont), proto);
        } else {
            usage_error("unknown flag: " + a);
        }
    }
    o.command.assign(args.begin() + static_cast<long>(std::min(i, args.size())), args.end());
    if (!o.subnet.empty()) o.config.bridge(o.bridge, o.subnet);
    else if (o.bridge != "docker-run0") o.config.bridge(o.bridge);
    return Action::Run;
}

} // namespace cli

#endif // DOCKER_RUN_CLI_HPP
