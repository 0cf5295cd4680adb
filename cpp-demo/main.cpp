// docker-run: a Docker-style command line over the container runtime library (docker.hpp).
//
//   docker-run [OPTIONS] [--] [COMMAND [ARG...]]
//
// With no arguments: an interactive shell in the default rootfs, like the original project.
// Exit status: the command's; 125 for docker-run's own errors, 126 when the command cannot be
// executed, 127 when it is not found (as Docker).
#include "cli.hpp"
#include "docker.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
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
      --subnet CIDR        the bridge's subnet (default: the first free one of 10.210.0.0/16 ..
                           10.219.0.0/16; the gateway is its first address)
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

using cli::Options;
using cli::flag_value;
using cli::limit_key;
using cli::parse_u32;
using cli::usage_error;

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
        std::vector<rt::ContainerInfo> containers = rt::list();
        std::printf("%-14s %-16s %-8s %-20s %s\n", "CONTAINER ID", "NAME", "PID", "CREATED", "COMMAND");
        for (const auto &c : containers) {
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
        switch (cli::parse(std::vector<std::string>(argv + 1, argv + argc), o)) {
        case cli::Action::Help: std::cout << USAGE; return 0;
        case cli::Action::Version: std::cout << "docker-run " << rt::version() << "\n"; return 0;
        case cli::Action::Run: break;
        }
        std::string rootfs = o.rootfs.empty() ? default_rootfs() : o.rootfs;
        o.config.rootfs(rootfs);
        if (o.command.empty()) {
            // The original's behaviour: an interactive shell.
            o.command = {access((rootfs + "/bin/bash").c_str(), X_OK) == 0 ? "/bin/bash" : "/bin/sh"};
            if (argc == 1 && isatty(0)) o.tty = true;
        }
        o.config.argv(o.command);
        o.config.tty(o.tty);
        rt::Container c(o.config);
        c.start();
        std::istringstream notices(c.warning());
        for (std::string line; std::getline(notices, line);) std::cerr << "docker-run: " << line << "\n";
        forward_signals(c.pid());
        rt::ExitStatus status = c.wait();
        if (status.oom_killed) std::cerr << "docker-run: the container was killed by the OOM killer (memory limit)\n";
        return status.code;
    } catch (const cli::UsageError &e) {
        std::cerr << "docker-run: " << e.what() << "\nSee 'docker-run --help'.\n";
        return EXIT_OWN_ERROR;
    } catch (const rt::Error &e) {
        std::cerr << "docker-run: " << e.what() << "\n";
        return exit_code_for(e);
    } catch (const std::exception &e) {
        std::cerr << "docker-run: " << e.what() << "\n";
        return EXIT_OWN_ERROR;
    }
}
