// cli.hpp: docker-run's command-line parsing, apart from main() so that it can be fuzzed
// (tests/fuzz/fuzz_cli.cpp): the subcommand, its flags and operands. Bad input throws
// cli::UsageError; values the library refuses throw rt::Error. Nothing here exits, prints or
// touches a container: main() acts on what this returns.
//
// Flags are tables (name, whether it takes a value, what it does), read by one loop that
// splits `--flag=value` and expands combined short flags (`-it`) in one place.
#ifndef DOCKER_RUN_CLI_HPP
#define DOCKER_RUN_CLI_HPP

#include "docker.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace cli {

// A command-line mistake: docker-run prints it with a hint and exits 125.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] inline void usage_error(const std::string &message) { throw UsageError(message); }

inline bool parse_u32(const std::string &s, uint32_t &out) {
    if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos) return false;
    unsigned long v = std::stoul(s);
    if (v > 0xfffffffeUL) return false;
    out = static_cast<uint32_t>(v);
    return true;
}

// A signal by name (KILL, SIGKILL, ...) or number (1..64).
inline int parse_signal(const std::string &s) {
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

// One flag of a table: its names ("-m", "--memory"), whether it takes a value, what it does
// to the parse target, and whether it ends the parsing (--help: the rest is not looked at).
template <class T> struct Flag {
    std::vector<std::string> names;
    bool takes_value;
    std::function<void(T &, const std::string &)> apply;
    bool stops = false;
};

template <class T> const Flag<T> *find_flag(const std::vector<Flag<T>> &table, const std::string &name) {
    for (const auto &f : table)
        if (std::find(f.names.begin(), f.names.end(), name) != f.names.end()) return &f;
    return nullptr;
}

// Reads the flags of `table` from args[start..] into `target`. `--flag=value` is split here
// and only here; a cluster of boolean short flags ("-it") is expanded here and only here. With
// `interleaved`, operands may come between flags and are collected in `operands`; otherwise
// the first operand (or "--") ends the flags and the rest are operands. `what` names the
// command in errors ("" for run).
template <class T>
void read_flags(const std::vector<std::string> &args, size_t start, const std::vector<Flag<T>> &table, T &target,
                std::vector<std::string> &operands, bool interleaved, const std::string &what) {
    for (size_t i = start; i < args.size(); ++i) {
        const std::string &a = args[i];
        if (a == "--") {
            operands.insert(operands.end(), args.begin() + static_cast<long>(i) + 1, args.end());
            return;
        }
        if (a.size() < 2 || a[0] != '-') {
            if (!interleaved) {
                operands.insert(operands.end(), args.begin() + static_cast<long>(i), args.end());
                return;
            }
            operands.push_back(a);
            continue;
        }
        std::vector<std::string> names;
        std::string value;
        bool has_value = false;
        size_t eq = a.find('=');
        if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
            names.push_back(a.substr(0, eq));
            value = a.substr(eq + 1);
            has_value = true;
        } else if (a[1] != '-' && a.size() > 2) {
            // -it: every letter a boolean short flag, else it is no flag of ours.
            for (char c : a.substr(1)) {
                const Flag<T> *f = find_flag(table, std::string("-") + c);
                if (f == nullptr || f->takes_value) {
                    names.clear();
                    break;
                }
                names.push_back(std::string("-") + c);
            }
            if (names.empty()) names.push_back(a);
        } else {
            names.push_back(a);
        }
        for (const auto &name : names) {
            const Flag<T> *f = find_flag(table, name);
            if (f == nullptr) usage_error("unknown flag" + (what.empty() ? "" : " for " + what) + ": " + a);
            if (f->takes_value && !has_value) {
                if (i + 1 >= args.size()) usage_error("flag " + name + " needs an argument");
                value = args[++i];
            }
            f->apply(target, value);
            if (f->stops) return;
        }
    }
}

// The limit flags (Docker's names) and the library's keys they set.
inline const std::vector<std::pair<std::vector<std::string>, std::string>> &limit_flags() {
    static const std::vector<std::pair<std::vector<std::string>, std::string>> flags = {
        {{"-m", "--memory"}, "memory"},
        {{"--memory-swap"}, "memory-swap"},
        {{"--cpus"}, "cpus"},
        {{"--cpu-period"}, "cpu-period"},
        {{"--cpu-quota"}, "cpu-quota"},
        {{"-c", "--cpu-shares"}, "cpu-shares"},
        {{"--cpuset-cpus"}, "cpuset-cpus"},
        {{"--cpuset-mems"}, "cpuset-mems"},
        {{"--pids-limit"}, "pids-limit"},
        {{"--blkio-weight"}, "blkio-weight"},
        {{"--device-read-bps"}, "device-read-bps"},
        {{"--device-write-bps"}, "device-write-bps"},
    };
    return flags;
}

enum class Action { Run, Help, Version };

// `docker-run [run] [OPTIONS] [--] [COMMAND [ARG...]]`.
struct Options {
    Action action = Action::Run;
    bool detach = false; // -d: under a monitor, docker-run returns at once
    bool named = false;  // --name given (else docker-run draws one, as Docker)
    std::string bridge = "docker-run0";
    std::string subnet;
    bool tty = false;
    bool interactive = false;
    std::string rootfs;
    std::vector<std::string> command;
    // The operands came after `--`: they are a command in the rootfs, never an IMAGE.
    bool after_dashdash = false;
    rt::Config config;
    // Docker's defaults: bridge networking; the container is kept after its end unless --rm.
    Options() {
        config.network(rt::NetworkMode::Bridge);
        config.auto_remove(false);
    }
};

inline void add_env(rt::Config &cfg, const std::string &entry) {
    if (entry.find('=') == std::string::npos) {
        // Docker: "-e KEY" copies the variable from the caller, or drops it when unset.
        if (const char *v = std::getenv(entry.c_str())) cfg.env(entry + "=" + v);
        return;
    }
    cfg.env(entry);
}

// -v SRC:DST[:ro|:rw]; a relative SRC is taken from the current directory.
inline rt::BindMount parse_volume(const std::string &spec) {
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
    return m;
}

// -u UID[:GID]
inline void parse_user(rt::Config &cfg, const std::string &spec) {
    size_t c = spec.find(':');
    uint32_t uid = 0, gid = 0;
    if (!parse_u32(spec.substr(0, c), uid)) usage_error("invalid user " + spec + ": expected UID[:GID] (numbers)");
    gid = uid;
    if (c != std::string::npos && !parse_u32(spec.substr(c + 1), gid))
        usage_error("invalid user " + spec + ": expected UID[:GID] (numbers)");
    cfg.user(uid, gid);
}

// -p HOST:CONTAINER[/tcp|/udp]
inline void parse_publish(rt::Config &cfg, const std::string &spec) {
    rt::Protocol proto = rt::Protocol::Tcp;
    std::string ports = spec;
    if (size_t slash = spec.find('/'); slash != std::string::npos) {
        std::string p = spec.substr(slash + 1);
        if (p == "udp") proto = rt::Protocol::Udp;
        else if (p != "tcp") usage_error("invalid protocol in -p " + spec + ": use tcp or udp");
        ports = spec.substr(0, slash);
    }
    size_t colon = ports.find(':');
    uint32_t host = 0, cont = 0;
    if (colon == std::string::npos || !parse_u32(ports.substr(0, colon), host) ||
        !parse_u32(ports.substr(colon + 1), cont) || host < 1 || host > 65535 || cont < 1 || cont > 65535)
        usage_error("invalid -p " + spec + ": expected HOSTPORT:CONTAINERPORT[/tcp|/udp] with ports 1-65535");
    cfg.publish(static_cast<uint16_t>(host), static_cast<uint16_t>(cont), proto);
}

inline void parse_network(rt::Config &cfg, const std::string &mode) {
    if (mode == "host") cfg.network(rt::NetworkMode::Host);
    else if (mode == "none") cfg.network(rt::NetworkMode::None);
    else if (mode == "bridge") cfg.network(rt::NetworkMode::Bridge);
    else usage_error("invalid --network " + mode + ": use bridge, none or host");
}

inline void read_env_file(rt::Config &cfg, const std::string &path) {
    std::ifstream in(path);
    if (!in) usage_error("--env-file " + path + ": " + std::strerror(errno));
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        add_env(cfg, line);
    }
}

// The flags of `run`.
// --security-opt as Docker takes it: seccomp=unconfined|PROFILE.json (also "seccomp:..."), and
// no-new-privileges, which every container has anyway.
inline void parse_security_opt(rt::Config &config, const std::string &v) {
    for (const char *nnp : {"no-new-privileges", "no-new-privileges=true", "no-new-privileges:true"})
        if (v == nnp) return;
    if (v.rfind("seccomp=", 0) == 0 || v.rfind("seccomp:", 0) == 0) {
        std::string profile = v.substr(8);
        if (profile.empty()) usage_error("invalid --security-opt " + v + ": seccomp needs unconfined or a profile file");
        config.seccomp(profile);
        return;
    }
    usage_error("unsupported --security-opt " + v + ": use seccomp=unconfined, seccomp=PROFILE.json or no-new-privileges");
}

inline const std::vector<Flag<Options>> &run_flags() {
    using F = Flag<Options>;
    static const std::vector<F> table = [] {
        std::vector<F> t = {
            {{"--help"}, false, [](Options &o, const std::string &) { o.action = Action::Help; }, true},
            {{"--version"}, false, [](Options &o, const std::string &) { o.action = Action::Version; }, true},
            {{"-i", "--interactive"}, false, [](Options &o, const std::string &) { o.interactive = true; }},
            {{"-t", "--tty"}, false, [](Options &o, const std::string &) { o.tty = true; }},
            {{"--rm"}, false, [](Options &o, const std::string &) { o.config.auto_remove(true); }},
            {{"-d", "--detach"}, false, [](Options &o, const std::string &) { o.detach = true; }},
            {{"--restart"}, true, [](Options &o, const std::string &v) { o.config.restart(v); }},
            {{"--name"},
             true,
             [](Options &o, const std::string &v) {
                 o.config.name(v);
                 o.named = true;
             }},
            {{"-h", "--hostname"}, true, [](Options &o, const std::string &v) { o.config.hostname(v); }},
            {{"--rootfs"}, true, [](Options &o, const std::string &v) { o.rootfs = v; }},
            {{"-e", "--env"}, true, [](Options &o, const std::string &v) { add_env(o.config, v); }},
            {{"--env-file"}, true, [](Options &o, const std::string &v) { read_env_file(o.config, v); }},
            {{"-v", "--volume"}, true, [](Options &o, const std::string &v) { o.config.bind(parse_volume(v)); }},
            {{"--tmpfs"},
             true,
             [](Options &o, const std::string &v) {
                 size_t c = v.find(':');
                 o.config.tmpfs(v.substr(0, c), c == std::string::npos ? "" : v.substr(c + 1));
             }},
            {{"-w", "--workdir"}, true, [](Options &o, const std::string &v) { o.config.cwd(v); }},
            {{"-u", "--user"}, true, [](Options &o, const std::string &v) { parse_user(o.config, v); }},
            {{"--read-only"}, false, [](Options &o, const std::string &) { o.config.readonly_rootfs(true); }},
            {{"--init"}, false, [](Options &o, const std::string &) { o.config.init(true); }},
            {{"--no-pivot"}, false, [](Options &o, const std::string &) { o.config.no_pivot(true); }},
            {{"--security-opt"}, true, [](Options &o, const std::string &v) { parse_security_opt(o.config, v); }},
            {{"--rootfs-shared"}, false, [](Options &o, const std::string &) { o.config.rootfs_shared(true); }},
            {{"--network", "--net"}, true, [](Options &o, const std::string &v) { parse_network(o.config, v); }},
            {{"--bridge"}, true, [](Options &o, const std::string &v) { o.bridge = v; }},
            {{"--subnet"}, true, [](Options &o, const std::string &v) { o.subnet = v; }},
            {{"--ip"}, true, [](Options &o, const std::string &v) { o.config.ip(v); }},
            {{"-p", "--publish"}, true, [](Options &o, const std::string &v) { parse_publish(o.config, v); }},
        };
        for (const auto &[names, key] : limit_flags())
            t.push_back({names, true, [key = key](Options &o, const std::string &v) { o.config.limit(key, v); }});
        return t;
    }();
    return table;
}

// Parses the options of `run` (args without the program name and `run`) into `o`: the command
// (the first operand on) goes to o.command. Returns what to do; --help and --version win.
inline Action parse(const std::vector<std::string> &args, Options &o) {
    read_flags(args, 0, run_flags(), o, o.command, false, "");
    if (o.action != Action::Run) return o.action;
    size_t first = args.size() - o.command.size();
    o.after_dashdash = first > 0 && args[first - 1] == "--";
    if (!o.subnet.empty()) o.config.bridge(o.bridge, o.subnet);
    else if (o.bridge != "docker-run0") o.config.bridge(o.bridge);
    return Action::Run;
}

// The subcommands besides run.
enum class Command {
    Run, Ps, Exec, Stop, Kill, Stats, Update, Cleanup, Logs, Wait, Attach, Inspect, Rm, Start,
    Load, Import, Images, Rmi, Tag, Restart
};

// What a subcommand was asked to do.
struct Subcommand {
    Command command = Command::Run;
    // The containers (names, ids, id prefixes); for exec the one container.
    std::vector<std::string> ids;
    // exec: the command, its environment and terminal.
    std::vector<std::string> exec_args;
    std::vector<std::string> env;
    bool tty = false;
    unsigned timeout_ms = 10000;   // stop, restart
    int signal = SIGKILL;          // kill
    std::vector<std::pair<std::string, std::string>> limits; // update
    bool all = false;                 // ps -a
    bool no_trunc = false;            // ps --no-trunc
    bool quiet = false;               // ps -q, load -q, images -q
    bool follow = false, timestamps = false; // logs -f, -t
    long long tail = -1;              // logs --tail N (-1: all)
    std::string format;               // inspect --format
    bool force = false;               // rm -f, rmi -f
    bool attach = false;              // start -a
    std::string input = "/dev/stdin"; // load -i
};

inline const std::vector<Flag<Subcommand>> &exec_flags() {
    using F = Flag<Subcommand>;
    static const std::vector<F> table = {
        {{"-e", "--env"}, true, [](Subcommand &s, const std::string &v) { s.env.push_back(v); }},
        {{"-i", "--interactive"}, false, [](Subcommand &, const std::string &) {}},
        {{"-t", "--tty"}, false, [](Subcommand &s, const std::string &) { s.tty = true; }},
    };
    return table;
}

inline std::vector<Flag<Subcommand>> flags_of(Command c) {
    using F = Flag<Subcommand>;
    std::vector<F> t;
    if (c == Command::Stop || c == Command::Restart) {
        t.push_back({{"-t", "--time"}, true, [](Subcommand &s, const std::string &v) {
                         uint32_t secs = 0;
                         if (!parse_u32(v, secs) || secs > 86400) usage_error("invalid stop timeout: " + v);
                         s.timeout_ms = secs * 1000;
                     }});
    } else if (c == Command::Kill) {
        t.push_back({{"-s", "--signal"}, true, [](Subcommand &s, const std::string &v) { s.signal = parse_signal(v); }});
    } else if (c == Command::Load) {
        t.push_back({{"-i", "--input"}, true, [](Subcommand &s, const std::string &v) { s.input = v; }});
        t.push_back({{"-q", "--quiet"}, false, [](Subcommand &s, const std::string &) { s.quiet = true; }});
    } else if (c == Command::Images) {
        t.push_back({{"-q", "--quiet"}, false, [](Subcommand &s, const std::string &) { s.quiet = true; }});
    } else if (c == Command::Rmi) {
        t.push_back({{"-f", "--force"}, false, [](Subcommand &s, const std::string &) { s.force = true; }});
    } else if (c == Command::Update) {
        for (const auto &[names, key] : limit_flags())
            t.push_back({names, true, [key = key](Subcommand &s, const std::string &v) { s.limits.emplace_back(key, v); }});
    } else if (c == Command::Ps) {
        t.push_back({{"-a", "--all"}, false, [](Subcommand &s, const std::string &) { s.all = true; }});
        t.push_back({{"-q", "--quiet"}, false, [](Subcommand &s, const std::string &) { s.quiet = true; }});
        t.push_back({{"--no-trunc"}, false, [](Subcommand &s, const std::string &) { s.no_trunc = true; }});
    } else if (c == Command::Logs) {
        t.push_back({{"-f", "--follow"}, false, [](Subcommand &s, const std::string &) { s.follow = true; }});
        t.push_back({{"-t", "--timestamps"}, false, [](Subcommand &s, const std::string &) { s.timestamps = true; }});
        t.push_back({{"-n", "--tail"}, true, [](Subcommand &s, const std::string &v) {
                         uint32_t n = 0;
                         if (v == "all") s.tail = -1;
                         else if (parse_u32(v, n)) s.tail = n;
                         else usage_error("invalid --tail " + v + ": use a number of lines or all");
                     }});
    } else if (c == Command::Inspect) {
        t.push_back({{"-f", "--format"}, true, [](Subcommand &s, const std::string &v) { s.format = v; }});
    } else if (c == Command::Rm) {
        t.push_back({{"-f", "--force"}, false, [](Subcommand &s, const std::string &) { s.force = true; }});
    } else if (c == Command::Start) {
        t.push_back({{"-a", "--attach"}, false, [](Subcommand &s, const std::string &) { s.attach = true; }});
    }
    return t;
}

// Which command `args` (without the program name) asks for. For a subcommand, fills `sub`;
// for run, `run_args` gets the arguments of run (a leading `run` dropped). An argument named
// like a subcommand is run's command only after `run` or `--`.
inline Command parse_command(const std::vector<std::string> &args, Subcommand &sub, std::vector<std::string> &run_args) {
    static const std::pair<const char *, Command> names[] = {
        {"ps", Command::Ps},       {"exec", Command::Exec},     {"stop", Command::Stop},
        {"kill", Command::Kill},   {"stats", Command::Stats},   {"update", Command::Update},
        {"cleanup", Command::Cleanup}, {"logs", Command::Logs},     {"wait", Command::Wait},
        {"attach", Command::Attach},   {"inspect", Command::Inspect}, {"rm", Command::Rm},
        {"start", Command::Start},     {"load", Command::Load},     {"import", Command::Import},
        {"images", Command::Images},   {"rmi", Command::Rmi},       {"tag", Command::Tag},
        {"restart", Command::Restart}};
    std::string first = args.empty() ? "" : args[0];
    sub.command = Command::Run;
    for (const auto &[n, c] : names)
        if (first == n) sub.command = c;
    if (sub.command == Command::Run) {
        run_args.assign(args.begin() + (first == "run" ? 1 : 0), args.end());
        return Command::Run;
    }
    std::vector<std::string> operands;
    switch (sub.command) {
    case Command::Ps:
        read_flags(args, 1, flags_of(sub.command), sub, operands, true, "ps");
        if (!operands.empty()) usage_error("ps takes no arguments: " + operands[0]);
        break;
    case Command::Cleanup: break;
    case Command::Exec:
        read_flags(args, 1, exec_flags(), sub, operands, false, "exec");
        if (operands.size() < 2) usage_error("exec needs a container and a command");
        sub.ids = {operands[0]};
        sub.exec_args.assign(operands.begin() + 1, operands.end());
        break;
    case Command::Load:
    case Command::Images:
        read_flags(args, 1, flags_of(sub.command), sub, operands, true, first);
        if (!operands.empty()) usage_error(first + " takes no arguments" + (first == "load" ? " (use -i FILE)" : ""));
        break;
    case Command::Import:
    case Command::Tag:
        read_flags(args, 1, flags_of(sub.command), sub, operands, true, first);
        if (sub.command == Command::Import && (operands.empty() || operands.size() > 2))
            usage_error("import needs a root filesystem tar and optionally a NAME[:TAG]");
        if (sub.command == Command::Tag && operands.size() != 2) usage_error("tag needs an image and a NAME[:TAG]");
        sub.ids = operands;
        break;
    case Command::Rmi:
        read_flags(args, 1, flags_of(sub.command), sub, operands, true, first);
        if (operands.empty()) usage_error("rmi needs at least one image");
        sub.ids = operands;
        break;
    default: {
        std::string name = first;
        read_flags(args, 1, flags_of(sub.command), sub, operands, true, name);
        if (operands.empty()) usage_error(name + " needs at least one container");
        if (sub.command == Command::Update && sub.limits.empty())
            usage_error("update needs at least one limit flag (e.g. --memory 64m)");
        bool one = sub.command == Command::Logs || sub.command == Command::Attach ||
                   (sub.command == Command::Start && sub.attach);
        if (one && operands.size() > 1) usage_error(name + " takes one container");
        sub.ids = operands;
    }
    }
    return sub.command;
}

} // namespace cli

#endif // DOCKER_RUN_CLI_HPP
