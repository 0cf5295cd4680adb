// docker-run: a Docker-style command line over the container runtime library (docker.hpp).
//
//   docker-run [OPTIONS] [--] [COMMAND [ARG...]]
//
// With no arguments: an interactive shell in the default rootfs, like the original project.
// Exit status: the command's; 125 for docker-run's own errors, 126 when the command cannot be
// executed, 127 when it is not found (as Docker).
#include "docker.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <limits.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#ifndef DOCKER_RUN_DATADIR
#define DOCKER_RUN_DATADIR "/usr/local/share/docker-run"
#endif

namespace {

constexpr int EXIT_OWN_ERROR = 125;
constexpr int EXIT_CANNOT_EXECUTE = 126;
constexpr int EXIT_NOT_FOUND = 127;

const char USAGE[] = R"(Usage: docker-run [run] [OPTIONS] [--] [COMMAND [ARG...]]
       docker-run ps | exec [-it] [-e K=V] ID CMD... | stop [-t SECS] ID... |
                  kill [-s SIGNAL] ID... | stats ID... | update [LIMITS] ID... | cleanup

Run COMMAND (default: an interactive shell) in a new container. ID is a container's name,
id or unique id prefix (see docker-run ps). To run a command named like a subcommand, use
`docker-run -- ps` or `docker-run run ps`.

Options:
  -i, --interactive        keep stdin attached (the default: stdin is inherited)
  -t, --tty                allocate a pseudo-terminal
      --rm                 remove the container when it exits (always done)
      --name NAME          name the container
  -h, --hostname NAME      container hostname (default: container)
      --rootfs DIR         root filesystem (default: the rootfs built by make container)
  -e, --env KEY=VAL        set an environment variable (KEY alone copies the host's value)
      --env-file FILE      read KEY=VAL lines from FILE
  -v, --volume SRC:DST[:ro|:rw]
                           bind-mount host path SRC at DST
      --tmpfs DST[:OPTS]   mount a tmpfs at DST (OPTS e.g. size=64m,mode=1777)
  -w, --workdir DIR        working directory inside the container
  -u, --user UID[:GID]     run as this numeric user and group
      --read-only          mount the root filesystem read-only
      --init               run an init as PID 1 that reaps zombies and forwards signals
      --network MODE       bridge (default: a veth on the bridge, NAT), none (only lo), host
      --bridge NAME        the bridge (default docker-run0)
      --subnet CIDR        the bridge's subnet (default 10.88.0.0/16; gateway = first address)
      --ip ADDR            a static address in the subnet (default: the lowest free one)
  -p, --publish HOST:CONTAINER[/tcp|/udp]
                           publish a container port on the host
  -m, --memory SIZE        memory limit (units b, k, m, g; e.g. 32m)
      --memory-swap SIZE   memory + swap limit (-1: unlimited swap)
      --cpus N             CPU quota in CPUs (e.g. 0.5)
      --cpu-period US      CFS period in microseconds (default 100000)
      --cpu-quota US       CFS quota in microseconds
  -c, --cpu-shares N       relative CPU weight (default 1024)
      --cpuset-cpus LIST   CPUs allowed (e.g. 0-1,3)
      --cpuset-mems LIST   memory nodes allowed
      --pids-limit N       maximum number of processes (-1: unlimited)
      --blkio-weight N     block IO weight (10-1000)
      --device-read-bps DEV:RATE, --device-write-bps DEV:RATE
                           block device bandwidth (e.g. /dev/vda:1mb)
      --no-pivot           use chroot instead of pivot_root (escapable; avoid)
      --help               print this help
      --version            print the version
)";

// A usage error: message on stderr, status 125.
[[noreturn]] void usage_error(const std::string &message) {
    std::cerr << "docker-run: " << message << "\nSee 'docker-run --help'.\n";
    std::exit(EXIT_OWN_ERROR);
}

std::string default_rootfs() {
    if (const char *env = std::getenv("DOCKER_RUN_ROOTFS")) return env;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        std::string dir(exe, static_cast<size_t>(n));
        dir = dir.substr(0, dir.rfind('/'));
        struct stat st;
        if (stat((dir + "/rootfs/bin").c_str(), &st) == 0) return dir + "/rootfs";
    }
    return DOCKER_RUN_DATADIR "/rootfs";
}

bool parse_u32(const std::string &s, uint32_t &out) {
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
std::string limit_key(const std::string &flag) {
    if (flag == "-m") return "memory";
    if (flag == "-c") return "cpu-shares";
    for (const char *name : {"memory", "memory-swap", "cpus", "cpu-period", "cpu-quota", "cpu-shares", "cpuset-cpus",
                             "cpuset-mems", "pids-limit", "blkio-weight", "device-read-bps", "device-write-bps"})
        if (flag == std::string("--") + name) return name;
    return "";
}

// The value of a flag that takes one: inline (--flag=v) or the next argument.
std::string flag_value(const std::vector<std::string> &args, size_t &i, std::string &flag) {
    size_t eq = flag.find('=');
    if (flag.rfind("--", 0) == 0 && eq != std::string::npos) {
        std::string v = flag.substr(eq + 1);
        flag = flag.substr(0, eq);
        return v;
    }
    if (i + 1 >= args.size()) usage_error("flag " + flag + " needs an argument");
    return args[++i];
}

int parse_signal(const std::string &s) {
    static const std::pair<const char *, int> names[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
        {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"WINCH", SIGWINCH}};
    std::string name = s.rfind("SIG", 0) == 0 ? s.substr(3) : s;
    for (const auto &[n, v] : names)
        if (name == n) return v;
    uint32_t num = 0;
    if (parse_u32(s, num) && num >= 1 && num <= 64) return static_cast<int>(num);
    usage_error("invalid signal: " + s);
}

std::string short_id(const std::string &id) { return id.substr(0, 12); }

// docker-run ps | exec | stop | kill | stats | update | cleanup; -1 if argv is not a subcommand.
int subcommand(int argc, char **argv) {
    if (argc < 2) return -1;
    std::string cmd = argv[1];
    std::vector<std::string> args(argv + 2, argv + argc);
    std::vector<std::string> ids;
    if (cmd == "ps") {
        if (!args.empty()) usage_error("ps takes no arguments");
        std::printf("%-14s %-16s %-8s %-20s %s\n", "CONTAINER ID", "NAME", "PID", "CREATED", "COMMAND");
        for (const auto &c : rt::list()) {
            char when[32];
            time_t t = static_cast<time_t>(c.created);
            std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
            std::printf("%-14s %-16s %-8d %-20s %s\n", short_id(c.id).c_str(), c.name.empty() ? "-" : c.name.c_str(),
                        c.pid, when, c.command.c_str());
        }
        return 0;
    }
    if (cmd == "cleanup") {
        std::printf("removed %zu leftover items\n", rt::cleanup());
        return 0;
    }
    if (cmd == "exec") {
        bool tty = false;
        std::vector<std::string> env;
        size_t i = 0;
        for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-'; ++i) {
            std::string a = args[i];
            if (a == "--") { ++i; break; }
            if (a == "-e" || a.rfind("--env", 0) == 0) env.push_back(flag_value(args, i, a));
            else if (a.find_first_not_of("it", 1) == std::string::npos) tty = tty || a.find('t') != std::string::npos;
            else if (a == "--tty" || a == "--interactive") tty = tty || a == "--tty";
            else usage_error("unknown flag for exec: " + a);
        }
        if (args.size() < i + 2) usage_error("exec needs a container and a command");
        rt::Container c = rt::Container::open(args[i]);
        return c.exec(std::vector<std::string>(args.begin() + static_cast<long>(i) + 1, args.end()), env, tty);
    }
    if (cmd != "stop" && cmd != "kill" && cmd != "stats" && cmd != "update") return -1;
    unsigned timeout_ms = 10000;
    int signal = SIGKILL;
    std::vector<std::pair<std::string, std::string>> limits;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string a = args[i];
        if (a.size() < 2 || a[0] != '-') { ids.push_back(a); continue; }
        std::string flag = a;
        if (cmd == "stop" && (a == "-t" || a.rfind("--time", 0) == 0)) {
            uint32_t secs = 0;
            std::string v = flag_value(args, i, flag);
            if (!parse_u32(v, secs) || secs > 86400) usage_error("invalid stop timeout: " + v);
            timeout_ms = secs * 1000;
        } else if (cmd == "kill" && (a == "-s" || a.rfind("--signal", 0) == 0)) {
            signal = parse_signal(flag_value(args, i, flag));
        } else if (std::string key = limit_key(a.substr(0, a.find('='))); cmd == "update" && !key.empty()) {
            limits.emplace_back(key, flag_value(args, i, flag));
        } else {
            usage_error("unknown flag for " + cmd + ": " + a);
        }
    }
    if (ids.empty()) usage_error(cmd + " needs at least one container");
    if (cmd == "update" && limits.empty()) usage_error("update needs at least one limit flag (e.g. --memory 64m)");
    for (const auto &id : ids) {
        rt::Container c = rt::Container::open(id);
        if (cmd == "stop") c.stop(timeout_ms);
        else if (cmd == "kill") c.kill(signal);
        else if (cmd == "update") for (const auto &[k, v] : limits) c.set_limit(k, v);
        if (cmd == "stats") {
            auto stat = [&](const char *name) {
                try { return std::to_string(c.stat(name)); } catch (const rt::Error &) { return std::string("-"); }
            };
            std::printf("%s  memory %s B (peak %s B, limit %s)  cpu %s ns  pids %s\n", short_id(c.id()).c_str(),
                        stat("memory.usage").c_str(), stat("memory.peak").c_str(), c.limit("memory").c_str(),
                        stat("cpu.usage").c_str(), stat("pids.current").c_str());
        } else {
            std::printf("%s\n", id.c_str());
        }
    }
    return 0;
}

void add_env(rt::Config &cfg, const std::string &entry) {
    if (entry.find('=') == std::string::npos) {
        // Docker: "-e KEY" copies the variable from the caller, or drops it when unset.
        if (const char *v = std::getenv(entry.c_str())) cfg.env(entry + "=" + v);
        return;
    }
    cfg.env(entry);
}

void parse(int argc, char **argv, Options &o) {
    std::vector<std::string> args(argv + 1, argv + argc);
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
            std::cout << USAGE;
            std::exit(0);
        } else if (flag == "--version") {
            std::cout << "docker-run " << rt::version() << "\n";
            std::exit(0);
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
}

// Without a terminal, signals sent to docker-run go to the container, as `docker run` does.
int forward_pid = 0;
extern "C" void forward_signal(int sig) {
    if (forward_pid > 0) kill(forward_pid, sig);
}

void forward_signals(int pid) {
    forward_pid = pid;
    struct sigaction sa {};
    sa.sa_handler = forward_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2}) sigaction(sig, &sa, nullptr);
}

int exit_code_for(const rt::Error &e) {
    switch (e.status()) {
    case RT_STATUS_NOT_FOUND: return EXIT_NOT_FOUND;
    case RT_STATUS_NOT_EXECUTABLE: return EXIT_CANNOT_EXECUTE;
    default: return EXIT_OWN_ERROR;
    }
}

} // namespace

int main(int argc, char **argv) {
    try {
        if (int rc = subcommand(argc, argv); rc >= 0) return rc;
        if (argc > 1 && std::string(argv[1]) == "run") {
            --argc;
            ++argv;
        }
        Options o;
        parse(argc, argv, o);
        std::string rootfs = o.rootfs.empty() ? default_rootfs() : o.rootfs;
        o.config.rootfs(rootfs);
        if (o.command.empty()) {
            // The original's behaviour: an interactive shell.
            o.command = {access((rootfs + "/bin/bash").c_str(), X_OK) == 0 ? "/bin/bash" : "/bin/sh"};
            if (argc == 1 && isatty(0)) o.tty = true;
        }
        if (!o.subnet.empty()) o.config.bridge(o.bridge, o.subnet);
        else if (o.bridge != "docker-run0") o.config.bridge(o.bridge, "10.88.0.0/16");
        o.config.argv(o.command);
        o.config.tty(o.tty);
        rt::Container c(o.config);
        c.start();
        if (std::string w = c.warning(); !w.empty()) std::cerr << "docker-run: warning: " << w << "\n";
        forward_signals(c.pid());
        rt::ExitStatus status = c.wait();
        if (status.oom_killed) std::cerr << "docker-run: the container was killed by the OOM killer (memory limit)\n";
        return status.code;
    } catch (const rt::Error &e) {
        std::cerr << "docker-run: " << e.what() << "\n";
        return exit_code_for(e);
    } catch (const std::exception &e) {
        std::cerr << "docker-run: " << e.what() << "\n";
        return EXIT_OWN_ERROR;
    }
}
