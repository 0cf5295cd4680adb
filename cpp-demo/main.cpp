// docker-run: a Docker-style command line over the container runtime library (docker.hpp).
//
//   docker-run [OPTIONS] [--] [COMMAND [ARG...]]
//   docker-run [OPTIONS] IMAGE [COMMAND [ARG...]]
//
// With no arguments: an interactive shell in the default rootfs, like the original project.
// Exit status: the command's; 125 for docker-run's own errors, 126 when the command cannot be
// executed, 127 when it is not found (as Docker).
#include "cli.hpp"
#include "docker.hpp"
#include "names.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits.h>
#include <sstream>
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
       docker-run [run] [OPTIONS] IMAGE [COMMAND [ARG...]]
       docker-run ps [-a] [-q] [--no-trunc] | exec [-it] [-e K=V] ID CMD... | stop [-t SECS] ID... |
                  restart [-t SECS] ID... |
                  kill [-s SIGNAL] ID... | stats ID... | update [LIMITS] ID... |
                  logs [-f] [-t] [--tail N] ID | wait ID... | attach ID |
                  inspect [-f FORMAT] ID... | rm [-f] ID... | start [-a] ID... | cleanup
       docker-run load [-i FILE] | import FILE [NAME[:TAG]] | images [-q] |
                  rmi [-f] IMAGE... | tag IMAGE NAME[:TAG]

Run COMMAND (default: an interactive shell) in a new container, on the default root
filesystem (or --rootfs DIR), or on IMAGE when the first operand names an image loaded
with `docker-run load` or `import` (see docker-run images): then COMMAND replaces the
image's Cmd. ID is a container's name, id or unique id prefix (see docker-run ps -a). To run
a command named like a subcommand or an image, use `docker-run -- ps` or `docker-run run -- ps`.
Images are kept in /var/lib/docker-run/images (DOCKER_RUN_IMAGES=DIR: another store).
As with Docker, a container stays after it exits (see ps -a; start runs it again on its own
files) until rm, unless it was run with --rm.

Options:
  -d, --detach             run in the background under a monitor and print the container's id;
                           its output goes to its log (docker-run logs)
  -i, --interactive        keep stdin attached (the default: stdin is inherited)
  -t, --tty                allocate a pseudo-terminal
      --rm                 remove the container (record, log, files) when it exits
      --restart POLICY     no (default), on-failure[:N] or always: restart a detached
                           container when it exits (not after stop, kill or rm -f)
      --name NAME          name the container (default: a generated adjective_surname)
  -h, --hostname NAME      container hostname (default: container)
      --rootfs DIR         root filesystem (default: the rootfs built by make container); the
                           container gets a copy-on-write layer of its own over it
      --rootfs-shared      run on the rootfs directory itself, no layer of its own: its writes
                           change DIR for every later container (unsafe for more than one)
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
      --security-opt seccomp=unconfined|FILE.json
                           no seccomp filter, or a profile file (default: Docker's profile)
      --help               print this help
      --version            print the version and the netlink backend (c or rust)
)";

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

std::string short_id(const std::string &id) { return id.substr(0, 12); }

// The image store's directory: DOCKER_RUN_IMAGES, or "" for the library's default.
std::string image_store_root() {
    const char *env = std::getenv("DOCKER_RUN_IMAGES");
    return env ? env : "";
}

// Whether `word`, the first operand of run, names an image of the store (then it is the
// IMAGE, else the COMMAND). A path is never an image, nor a short hex word (dd, df: commands,
// not id prefixes); no store yet means no image.
bool names_image(const std::string &word) {
    if (word.empty() || word[0] == '/' || word[0] == '.') return false;
    if (word.find_first_not_of("0123456789abcdef") == std::string::npos && word.size() < 12) return false;
    std::string root = image_store_root();
    struct stat st;
    if (stat(((root.empty() ? "/var/lib/docker-run/images" : root) + "/images").c_str(), &st) != 0) return false;
    try {
        (void)rt::ImageStore(root).find(word);
        return true;
    } catch (const rt::Error &) {
        return false; // not an image (or no access to the store): a command
    }
}

// Docker's human sizes: 1000-based, three significant digits ("4.26MB").
std::string human_size(uint64_t bytes) {
    const char *units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = static_cast<double>(bytes);
    size_t u = 0;
    while (v >= 1000 && u + 1 < sizeof units / sizeof units[0]) v /= 1000, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g%s", v, units[u]);
    return buf;
}

// "3 minutes ago" from an RFC 3339 UTC time ("" or unparsable: "N/A").
std::string ago(const std::string &rfc3339) {
    struct tm tm {};
    if (rfc3339.empty() || !strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return "N/A";
    long long secs = static_cast<long long>(std::time(nullptr)) - static_cast<long long>(timegm(&tm));
    if (secs < 0) secs = 0;
    const std::pair<long long, const char *> steps[] = {
        {365LL * 86400, "year"}, {30LL * 86400, "month"}, {7LL * 86400, "week"}, {86400, "day"},
        {3600, "hour"},          {60, "minute"},          {1, "second"}};
    for (const auto &[n, name] : steps)
        if (secs >= n || n == 1) {
            long long k = secs / n;
            if (k == 0) return "Less than a second ago";
            return std::to_string(k) + " " + name + (k == 1 ? "" : "s") + " ago";
        }
    return "N/A";
}

// Characters (not bytes) of a UTF-8 string: "…" is one column.
size_t columns(const std::string &s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

// Prints rows as Docker's tables (Go's tabwriter: minimum width 10, padding 3): each column as
// wide as its widest cell, whatever the cells hold.
void print_table(const std::vector<std::vector<std::string>> &rows) {
    std::vector<size_t> width;
    for (const auto &row : rows)
        for (size_t i = 0; i < row.size(); ++i) {
            if (width.size() <= i) width.push_back(0);
            width[i] = std::max(width[i], columns(row[i]));
        }
    for (const auto &row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line.append(std::max<size_t>(width[i] + 3, 10) - columns(row[i]), ' ');
        }
        std::printf("%s\n", line.c_str());
    }
}

void print_warnings(const std::string &warnings) {
    std::istringstream lines(warnings);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty()) std::cerr << "docker-run: warning: " << line << "\n";
}

void print_images(const rt::ImageStore &store, bool quiet) {
    std::vector<rt::ImageInfo> images = store.list();
    std::vector<std::vector<std::string>> rows = {{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}};
    for (const auto &img : images) {
        std::string hex = img.id.substr(img.id.find(':') + 1);
        if (quiet) {
            std::printf("%s\n", short_id(hex).c_str());
            continue;
        }
        std::vector<std::string> names = img.names;
        if (names.empty()) names.push_back("<none>:<none>");
        for (const auto &n : names) {
            size_t colon = n.rfind(':');
            bool has_tag = colon != std::string::npos && n.find('/', colon) == std::string::npos;
            std::string repo = has_tag ? n.substr(0, colon) : n, tag = has_tag ? n.substr(colon + 1) : "<none>";
            rows.push_back({repo, tag, short_id(hex), ago(img.created), human_size(img.size)});
        }
    }
    if (!quiet) print_table(rows);
}

// load, import, images, rmi, tag: Docker's output lines.
int run_image_command(const cli::Subcommand &sub) {
    using cli::Command;
    rt::ImageStore store(image_store_root());
    switch (sub.command) {
    case Command::Load: {
        rt::ImageResult r = store.load(sub.input);
        print_warnings(r.warnings);
        for (const auto &img : r.images) {
            if (img.names.empty()) std::printf("Loaded image ID: %s\n", img.id.c_str());
            for (const auto &n : img.names) std::printf("Loaded image: %s\n", n.c_str());
        }
        return 0;
    }
    case Command::Import: {
        std::string file = sub.ids[0] == "-" ? "/dev/stdin" : sub.ids[0];
        rt::ImageResult r = store.import(file, sub.ids.size() > 1 ? sub.ids[1] : "");
        print_warnings(r.warnings);
        std::printf("%s\n", r.images.at(0).id.c_str());
        return 0;
    }
    case Command::Images: print_images(store, sub.quiet); return 0;
    case Command::Tag: store.tag(sub.ids[0], sub.ids[1]); return 0;
    default: break;
    }
    int status = 0;
    for (const auto &key : sub.ids) {
        try {
            rt::ImageInfo removed = store.remove(key, sub.force);
            for (const auto &n : removed.names) std::printf("Untagged: %s\n", n.c_str());
            if (!removed.id.empty()) std::printf("Deleted: %s\n", removed.id.c_str());
        } catch (const rt::Error &e) {
            // As docker rmi: the others are still removed; the status says one failed.
            std::cerr << "docker-run: " << e.what() << "\n";
            status = EXIT_OWN_ERROR;
        }
    }
    return status;
}

// Docker's "3 seconds ago" for the CREATED column, from the library's STATUS wording.
std::string created_ago(long long created) {
    long long secs = static_cast<long long>(std::time(nullptr)) - created;
    if (secs < 1) return "Less than a second ago";
    if (secs < 60) return std::to_string(secs) + (secs == 1 ? " second ago" : " seconds ago");
    if (secs < 120) return "About a minute ago";
    if (secs < 3600) return std::to_string(secs / 60) + " minutes ago";
    if (secs < 7200) return "About an hour ago";
    if (secs < 48 * 3600) return std::to_string(secs / 3600) + " hours ago";
    return std::to_string(secs / 86400) + " days ago";
}

// Docker's COMMAND column: quoted, cut at 20 characters.
std::string quoted_command(const std::string &command) {
    std::string c = command.size() > 20 ? command.substr(0, 19) + "…" : command;
    return "\"" + c + "\"";
}

void print_ps(const cli::Subcommand &sub) {
    // Listed before the header: without root nothing is printed but the error.
    std::vector<rt::ContainerInfo> containers = rt::list(sub.all);
    auto id_of = [&](const std::string &id) { return sub.no_trunc ? id : short_id(id); };
    if (sub.quiet) {
        for (const auto &c : containers) std::printf("%s\n", id_of(c.id).c_str());
        return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}};
    for (const auto &c : containers)
        rows.push_back({id_of(c.id), c.image, sub.no_trunc ? "\"" + c.command + "\"" : quoted_command(c.command),
                        created_ago(c.created), c.status, c.ports, c.name});
    print_table(rows);
}

// Runs `act` on each of `ids`; as Docker, a failure (no such container, ...) is reported and
// the others are still acted on. 0, or 125 when one failed.
int for_each_id(const std::vector<std::string> &ids, const std::function<void(const std::string &)> &act) {
    int status = 0;
    for (const auto &id : ids) {
        try {
            act(id);
        } catch (const rt::Error &e) {
            std::fflush(stdout);
            std::cerr << "docker-run: " << e.what() << "\n";
            status = EXIT_OWN_ERROR;
        }
        std::fflush(stdout);
    }
    return status;
}

// docker inspect ID...: a JSON array of the containers found (each missing one reported), or
// one formatted line each.
int print_inspect(const cli::Subcommand &sub) {
    std::vector<std::string> parts;
    int status = for_each_id(sub.ids, [&](const std::string &id) {
        parts.push_back(rt::inspect(id, sub.format));
        if (!sub.format.empty()) std::printf("%s\n", parts.back().c_str());
    });
    if (!sub.format.empty()) return status;
    std::printf("[\n");
    for (size_t i = 0; i < parts.size(); ++i) std::printf("%s%s\n", parts[i].c_str(), i + 1 < parts.size() ? "," : "");
    std::printf("]\n");
    return status;
}

// The subcommands that act on containers by their records (running or stopped): logs, wait,
// attach, inspect, rm, start. -1 when `sub` is none of them.
int run_record_command(const cli::Subcommand &sub) {
    using cli::Command;
    std::fflush(stdout);
    switch (sub.command) {
    case Command::Logs: rt::logs(sub.ids[0], sub.follow, sub.timestamps, sub.tail); return 0;
    case Command::Attach: return rt::attach(sub.ids[0]);
    case Command::Inspect: return print_inspect(sub);
    case Command::Wait:
        return for_each_id(sub.ids, [](const std::string &id) { std::printf("%d\n", rt::wait_exit(id)); });
    case Command::Start:
        if (sub.attach) return rt::start_attached(sub.ids[0]);
        return for_each_id(sub.ids, [](const std::string &id) {
            rt::start_stopped(id);
            std::printf("%s\n", id.c_str());
        });
    case Command::Rm:
        return for_each_id(sub.ids, [&](const std::string &id) {
            rt::remove(id, sub.force);
            std::printf("%s\n", id.c_str());
        });
    default: return -1;
    }
}

void print_stats(const rt::Container &c) {
    auto stat = [&](const char *name) {
        try {
            return std::to_string(c.stat(name));
        } catch (const rt::Error &) {
            return std::string("-");
        }
    };
    std::printf("%s  memory %s B (peak %s B, limit %s)  cpu %s ns  pids %s\n", short_id(c.id()).c_str(),
                stat("memory.usage").c_str(), stat("memory.peak").c_str(), c.limit("memory").c_str(),
                stat("cpu.usage").c_str(), stat("pids.current").c_str());
}

// Runs a parsed subcommand (ps, exec, stop, kill, stats, update, cleanup); its exit status.
int run_subcommand(const cli::Subcommand &sub) {
    using cli::Command;
    if (int status = run_record_command(sub); status >= 0) return status;
    switch (sub.command) {
    case Command::Load:
    case Command::Import:
    case Command::Images:
    case Command::Rmi:
    case Command::Tag: return run_image_command(sub);
    case Command::Ps: print_ps(sub); return 0;
    case Command::Cleanup: std::printf("removed %zu leftover items\n", rt::cleanup()); return 0;
    case Command::Exec: {
        rt::Container c = rt::Container::open(sub.ids[0]);
        return c.exec(sub.exec_args, sub.env, sub.tty);
    }
    default: break;
    }
    return for_each_id(sub.ids, [&](const std::string &id) {
        if (sub.command == Command::Stop || sub.command == Command::Restart) {
            rt::stop(id, sub.timeout_ms);
            if (sub.command == Command::Restart) rt::start_stopped(id);
            std::printf("%s\n", id.c_str());
            return;
        }
        rt::Container c = rt::Container::open(id);
        if (sub.command == Command::Kill) c.kill(sub.signal);
        else if (sub.command == Command::Update)
            for (const auto &[k, v] : sub.limits) c.set_limit(k, v);
        if (sub.command == Command::Stats) print_stats(c);
        else std::printf("%s\n", id.c_str());
    });
}

// Without a terminal, signals sent to docker-run go to the container, as `docker run` does.
// Read by the signal handler: a volatile sig_atomic_t is what a handler may safely read.
volatile std::sig_atomic_t forward_pid = 0;
extern "C" void forward_signal(int sig) {
    if (forward_pid > 0) kill(forward_pid, sig);
}

void forward_signals(int pid) {
    forward_pid = static_cast<std::sig_atomic_t>(pid);
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

// The container of `o`, started (detached with -d). Without --name it gets a generated name,
// drawn again (with a digit) while the one drawn is taken, as Docker does.
rt::Container start_container(cli::Options &o) {
    for (unsigned attempt = 0;; ++attempt) {
        if (!o.named) o.config.name(names::generate(attempt));
        rt::Container c(o.config);
        try {
            if (o.detach) c.detach();
            else c.start();
            return c;
        } catch (const rt::Error &e) {
            bool name_taken = e.status() == RT_STATUS_IN_USE && std::strstr(e.what(), "name") != nullptr;
            if (o.named || !name_taken || attempt >= 8) throw;
        }
    }
}

// Starts the configured container and waits for it; its exit status.
int run_container(cli::Options &o) {
    o.config.tty(o.tty);
    rt::Container c = start_container(o);
    if (o.detach) {
        std::printf("%s\n", c.id().c_str());
        return 0;
    }
    std::istringstream notices(c.warning());
    for (std::string line; std::getline(notices, line);) std::cerr << "docker-run: " << line << "\n";
    forward_signals(c.pid());
    rt::ExitStatus status = c.wait();
    if (status.oom_killed) std::cerr << "docker-run: the container was killed by the OOM killer (memory limit)\n";
    return status.code;
}

} // namespace

int main(int argc, char **argv) {
    try {
        cli::Subcommand sub;
        std::vector<std::string> run_args;
        if (cli::parse_command(std::vector<std::string>(argv + 1, argv + argc), sub, run_args) != cli::Command::Run)
            return run_subcommand(sub);
        cli::Options o;
        switch (cli::parse(run_args, o)) {
        case cli::Action::Help: std::cout << USAGE; return 0;
        case cli::Action::Version:
            std::cout << "docker-run " << rt::version() << " (netlink: " << rt::netlink_backend() << ")\n";
            return 0;
        case cli::Action::Run: break;
        }
        if (o.rootfs.empty() && !o.after_dashdash && !o.command.empty() && names_image(o.command[0])) {
            // docker run IMAGE [COMMAND]: the image's Entrypoint, Cmd, Env, WorkingDir, User.
            rt::ImageStore store(image_store_root());
            o.config.image(o.command[0], &store);
            o.command.erase(o.command.begin());
            if (!o.command.empty()) o.config.argv(o.command);
            return run_container(o);
        }
        std::string rootfs = o.rootfs.empty() ? default_rootfs() : o.rootfs;
        o.config.rootfs(rootfs);
        if (o.command.empty()) {
            // The original's behaviour: an interactive shell.
            o.command = {access((rootfs + "/bin/bash").c_str(), X_OK) == 0 ? "/bin/bash" : "/bin/sh"};
            if (run_args.empty() && isatty(0)) o.tty = true;
        }
        o.config.argv(o.command);
        return run_container(o);
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
