// docker.hpp: header-only C++17 wrapper over container_runtime.h.
//
// rt::  RAII classes over the C handles; a non-zero status throws rt::Error.
// docker:: the original project's shape (docker::container_config, docker::container), so its
//          main.cpp keeps compiling while the work moves to the Rust library.
#ifndef DOCKER_HPP
#define DOCKER_HPP

#include "container_runtime.h"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unistd.h>
#include <utility>
#include <vector>

namespace rt {

// A failed library call: the status (rt_status), the errno behind it (0 if none) and the
// library's message, copied before any other call can overwrite it.
class Error : public std::runtime_error {
public:
    Error(int status, int err, const std::string &message)
        : std::runtime_error(message), status_(status), errno_(err) {}
    int status() const noexcept { return status_; }
    int error_number() const noexcept { return errno_; }

private:
    int status_;
    int errno_;
};

namespace detail {
inline void check(int status) {
    if (status != RT_STATUS_OK) {
        // Copy the message first: the next library call on this thread replaces it.
        std::string message = error_message();
        throw Error(status, error_errno(), message);
    }
}

// Reads a string the C API copies into a caller buffer (`fn(buf, cap, &len)`): a first try
// with a small buffer, and again with the size the library reported when that was too short.
template <class Fn> std::string read_string(Fn &&fn) {
    std::string out(64, '\0');
    size_t len = 0;
    int status = fn(&out[0], out.size(), &len);
    if (status == RT_STATUS_BUFFER_TOO_SMALL) {
        out.assign(len + 1, '\0');
        status = fn(&out[0], out.size(), &len);
    }
    check(status);
    out.resize(len);
    return out;
}

struct config_deleter {
    void operator()(container_config *c) const noexcept { container_config_free(c); }
};
struct container_deleter {
    void operator()(container *c) const noexcept { container_free(c); }
};
struct list_deleter {
    void operator()(container_list *l) const noexcept { container_list_free(l); }
};
struct image_store_deleter {
    void operator()(image_store *s) const noexcept { image_store_free(s); }
};
struct image_list_deleter {
    void operator()(image_list *l) const noexcept { image_list_free(l); }
};
} // namespace detail

// std::error_code support for callers that must not throw.
class status_category_impl : public std::error_category {
public:
    const char *name() const noexcept override { return "container_runtime"; }
    std::string message(int status) const override {
        switch (status) {
        case RT_STATUS_OK: return "success";
        case RT_STATUS_NULL_ARG: return "null argument";
        case RT_STATUS_INVALID_ARG: return "invalid argument";
        case RT_STATUS_INVALID_UTF8: return "invalid UTF-8";
        case RT_STATUS_SYSCALL: return "system call failed";
        case RT_STATUS_NETLINK: return "netlink request failed";
        case RT_STATUS_CGROUP: return "cgroup operation failed";
        case RT_STATUS_STATE: return "wrong state";
        case RT_STATUS_PANIC: return "internal error";
        case RT_STATUS_NOT_FOUND: return "command not found";
        case RT_STATUS_NOT_EXECUTABLE: return "command not executable";
        case RT_STATUS_CHILD_SETUP: return "container setup failed";
        case RT_STATUS_BUFFER_TOO_SMALL: return "buffer too small";
        case RT_STATUS_NEEDS_ROOT: return "needs root";
        case RT_STATUS_NO_SUCH_CONTAINER: return "no such container";
        case RT_STATUS_IN_USE: return "in use";
        default: return "unknown status";
        }
    }
};
inline const std::error_category &status_category() {
    static status_category_impl category;
    return category;
}

// The network of a container (RT_NETWORK_MODE_*).
enum class NetworkMode : int {
    None = RT_NETWORK_MODE_NONE,
    Bridge = RT_NETWORK_MODE_BRIDGE,
    Host = RT_NETWORK_MODE_HOST,
};

// The protocol of a published port (RT_PROTOCOL_*).
enum class Protocol : int { Tcp = RT_PROTOCOL_TCP, Udp = RT_PROTOCOL_UDP };

// A bind mount: host path -> container path.
struct BindMount {
    std::string source;
    std::string destination;
    bool readonly = false;
};

// One image of a store: its id ("sha256:..."), names ("busybox:latest"), creation time (RFC
// 3339, "" if unknown) and size (its layers, uncompressed).
struct ImageInfo {
    std::string id;
    std::vector<std::string> names;
    std::string created;
    uint64_t size = 0;
};

// What a load or import made, and what the user should hear about (skipped device nodes, ...).
struct ImageResult {
    std::vector<ImageInfo> images;
    std::string warnings; // one per line, "" if none
};

// An image store (default: /var/lib/docker-run/images). Move-only.
class ImageStore {
public:
    explicit ImageStore(const std::string &root = "") {
        image_store *raw = nullptr;
        detail::check(image_store_open(root.empty() ? nullptr : root.c_str(), &raw));
        handle_.reset(raw);
    }
    // `docker load -i PATH`: a docker save tarball or an OCI layout (directory or tar).
    [[nodiscard]] ImageResult load(const std::string &path) {
        image_list *raw = nullptr;
        detail::check(image_load(handle_.get(), path.c_str(), &raw));
        return read(raw);
    }
    // `docker import PATH [NAME]`: a root filesystem tar (plain or gzip) as a one-layer image.
    [[nodiscard]] ImageResult import(const std::string &path, const std::string &name = "") {
        image_list *raw = nullptr;
        detail::check(image_import(handle_.get(), path.c_str(), name.empty() ? nullptr : name.c_str(), &raw));
        return read(raw);
    }
    void tag(const std::string &image, const std::string &name) {
        detail::check(image_tag(handle_.get(), image.c_str(), name.c_str()));
    }
    // `docker rmi [-f]`: the names removed, and the id of the image deleted ("" if it stays).
    [[nodiscard]] ImageInfo remove(const std::string &image, bool force = false) {
        image_list *raw = nullptr;
        detail::check(image_remove(handle_.get(), image.c_str(), force ? RT_IMAGE_REMOVE_FORCE : 0, &raw));
        ImageResult r = read(raw);
        return r.images.empty() ? ImageInfo{} : r.images[0];
    }
    // The image `image` names (name, id or id prefix); throws rt::Error with
    // RT_STATUS_NO_SUCH_IMAGE when there is none.
    [[nodiscard]] ImageInfo find(const std::string &image) const {
        image_list *raw = nullptr;
        detail::check(image_find(handle_.get(), image.c_str(), &raw));
        return read(raw).images.at(0);
    }
    // Every image, newest first.
    [[nodiscard]] std::vector<ImageInfo> list() const {
        image_list *raw = nullptr;
        detail::check(image_list_new(handle_.get(), &raw));
        return read(raw).images;
    }
    [[nodiscard]] const image_store *capi() const noexcept { return handle_.get(); }
    [[nodiscard]] image_store *capi() noexcept { return handle_.get(); }

private:
    static ImageResult read(image_list *raw) {
        std::unique_ptr<image_list, detail::image_list_deleter> list(raw);
        ImageResult out;
        size_t count = 0;
        detail::check(image_list_count(raw, &count));
        for (size_t i = 0; i < count; ++i) {
            ImageInfo info;
            info.id = detail::read_string([&](char *b, size_t c, size_t *l) { return image_list_id(raw, i, b, c, l); });
            info.created =
                detail::read_string([&](char *b, size_t c, size_t *l) { return image_list_created(raw, i, b, c, l); });
            detail::check(image_list_size(raw, i, &info.size));
            size_t names = 0;
            detail::check(image_list_name_count(raw, i, &names));
            for (size_t j = 0; j < names; ++j)
                info.names.push_back(detail::read_string(
                    [&](char *b, size_t c, size_t *l) { return image_list_name(raw, i, j, b, c, l); }));
            out.images.push_back(std::move(info));
        }
        out.warnings = detail::read_string([&](char *b, size_t c, size_t *l) { return image_list_warnings(raw, b, c, l); });
        return out;
    }
    std::unique_ptr<image_store, detail::image_store_deleter> handle_;
};

// A container configuration. Setters throw rt::Error on bad values.
class Config {
public:
    Config() {
        container_config *raw = nullptr;
        detail::check(container_config_new(&raw));
        handle_.reset(raw);
    }
    // Takes ownership of a handle from container_config_new.
    explicit Config(container_config *raw) noexcept : handle_(raw) {}
    Config &rootfs(const std::string &path) { return set(container_config_set_rootfs(get(), path.c_str())); }
    Config &hostname(const std::string &name) { return set(container_config_set_hostname(get(), name.c_str())); }
    Config &name(const std::string &name) { return set(container_config_set_name(get(), name.c_str())); }
    Config &argv(const std::vector<std::string> &args) {
        std::vector<const char *> ptrs;
        ptrs.reserve(args.size());
        for (const auto &a : args) ptrs.push_back(a.c_str());
        return set(container_config_set_argv(get(), ptrs.empty() ? nullptr : ptrs.data(), ptrs.size()));
    }
    Config &env(const std::string &key_value) { return set(container_config_add_env(get(), key_value.c_str())); }
    Config &cwd(const std::string &path) { return set(container_config_set_cwd(get(), path.c_str())); }
    Config &user(uint32_t uid, uint32_t gid) { return set(container_config_set_user(get(), uid, gid)); }
    Config &namespaces(uint32_t flags) { return set(container_config_set_namespaces(get(), flags)); }
    Config &readonly_rootfs(bool on) { return set(container_config_set_readonly_rootfs(get(), on)); }
    Config &tty(bool on) { return set(container_config_set_tty(get(), on)); }
    Config &init(bool on) { return set(container_config_set_init(get(), on)); }
    Config &no_pivot(bool on) { return set(container_config_set_no_pivot(get(), on)); }
    // "unconfined", or the path of a JSON profile; seccomp_default() goes back to Docker's.
    Config &seccomp(const std::string &profile) { return set(container_config_set_seccomp(get(), profile.c_str())); }
    Config &seccomp_default() { return set(container_config_set_seccomp(get(), nullptr)); }
    // The rootfs directory itself as the root, no copy-on-write layer: unsafe for more than one container.
    Config &rootfs_shared(bool on) { return set(container_config_set_rootfs_shared(get(), on)); }
    // A read-only layer above the rootfs (and the layers added before), as an image's layers stack.
    Config &layer(const std::string &dir) { return set(container_config_add_layer(get(), dir.c_str())); }
    // Runs the image `name` (name, id or id prefix) of `store` (nullptr: the default store),
    // as `docker run IMAGE`: argv() is then its COMMAND (replacing the image's Cmd).
    Config &image(const std::string &name, const ImageStore *store = nullptr) {
        return set(container_config_set_image(get(), store ? store->capi() : nullptr, name.c_str()));
    }
    Config &bind(const BindMount &m) {
        return set(container_config_add_bind_mount(get(), m.source.c_str(), m.destination.c_str(), m.readonly));
    }
    // A resource limit by Docker's flag name: "memory" "32m", "cpus" "0.5", "pids-limit" "20", ...
    Config &limit(const std::string &key, const std::string &value) {
        return set(container_config_set_limit(get(), key.c_str(), value.c_str()));
    }
    Config &network(NetworkMode mode) {
        return set(container_config_set_network(get(), static_cast<int>(mode)));
    }
    // subnet_cidr "": the bridge's recorded subnet, else the first free one of the default pool.
    Config &bridge(const std::string &name, const std::string &subnet_cidr = "") {
        return set(
            container_config_set_bridge(get(), name.c_str(), subnet_cidr.empty() ? nullptr : subnet_cidr.c_str()));
    }
    Config &ip(const std::string &address) { return set(container_config_set_ip(get(), address.c_str())); }
    Config &publish(uint16_t host_port, uint16_t container_port, Protocol protocol = Protocol::Tcp) {
        return set(container_config_add_port(get(), host_port, container_port, static_cast<int>(protocol)));
    }
    Config &tmpfs(const std::string &destination, const std::string &options = "") {
        return set(container_config_add_tmpfs(get(), destination.c_str(), options.empty() ? nullptr : options.c_str()));
    }

    // The C handle, still owned by this object.
    [[nodiscard]] const container_config *capi() const noexcept { return handle_.get(); }
    [[nodiscard]] container_config *capi() noexcept { return handle_.get(); }
    [[nodiscard]] container_config *get() const noexcept { return handle_.get(); }
    // Gives up ownership: the caller frees the handle with container_config_free.
    [[nodiscard]] container_config *release() noexcept { return handle_.release(); }

private:
    Config &set(int status) {
        detail::check(status);
        return *this;
    }
    std::unique_ptr<container_config, detail::config_deleter> handle_;
};

// How a container ended.
struct ExitStatus {
    int code = 0;            // exit code, or 128 + signal
    int signal = 0;          // the signal that killed it, 0 if none
    bool oom_killed = false; // killed by the OOM killer (memory limit)
};

// A container. Destroying a running one kills it and removes everything it created.
class Container {
public:
    explicit Container(const Config &config) {
        container *raw = nullptr;
        detail::check(container_new(config.capi(), &raw));
        handle_.reset(raw);
    }
    // Takes ownership of a handle from container_new or container_open.
    explicit Container(container *raw) noexcept : handle_(raw) {}

    // A running container started elsewhere, by name, id or unique id prefix (docker-run ps).
    [[nodiscard]] static Container open(const std::string &name_or_id) {
        container *raw = nullptr;
        detail::check(container_open(name_or_id.c_str(), &raw));
        return Container(raw);
    }

    void start() { detail::check(container_start(get())); }
    // Non-throwing variant: the status as an error_code; the message stays in error_message().
    std::error_code start(std::error_code &ec) noexcept {
        int status = container_start(get());
        ec = std::error_code(status, status_category());
        return ec;
    }
    [[nodiscard]] ExitStatus wait() {
        ExitStatus s;
        detail::check(container_wait(get(), &s.code));
        detail::check(container_exit_signal(get(), &s.signal));
        detail::check(container_oom_killed(get(), &s.oom_killed));
        return s;
    }
    // Changes a limit: before start it is recorded, while running it is applied at once.
    void set_limit(const std::string &key, const std::string &value) {
        detail::check(cgroup_set(get(), key.c_str(), value.c_str()));
    }
    // The current value of a limit of the running container.
    [[nodiscard]] std::string limit(const std::string &key) const {
        return detail::read_string([&](char *buf, size_t cap, size_t *len) {
            return cgroup_get(capi(), key.c_str(), buf, cap, len);
        });
    }
    // A usage counter: "memory.usage", "memory.peak", "cpu.usage" (ns), "pids.current".
    [[nodiscard]] uint64_t stat(const std::string &name) const {
        uint64_t v = 0;
        detail::check(cgroup_stat(get(), name.c_str(), &v));
        return v;
    }
    void kill(int signal) { detail::check(container_kill(get(), signal)); }
    // SIGTERM, then SIGKILL after the timeout (docker stop).
    void stop(unsigned timeout_ms) { detail::check(container_stop(get(), timeout_ms)); }
    // Runs a command inside the running container and returns its status (docker exec).
    [[nodiscard]] int exec(const std::vector<std::string> &args, const std::vector<std::string> &env = {},
                           bool tty = false) {
        std::vector<const char *> a, e;
        for (const auto &s : args) a.push_back(s.c_str());
        for (const auto &s : env) e.push_back(s.c_str());
        int status = 0;
        detail::check(container_exec(get(), a.empty() ? nullptr : a.data(), a.size(), e.empty() ? nullptr : e.data(),
                                     e.size(), tty, &status));
        return status;
    }
    [[nodiscard]] int pid() const {
        int p = 0;
        detail::check(container_pid(get(), &p));
        return p;
    }
    [[nodiscard]] std::string id() const { return text(container_id); }

    // The address on the bridge (bridge networking).
    [[nodiscard]] std::string ip() const { return text(container_ip); }
    // Notices of the start, one per line, "" if none: the subnet of a bridge the start created,
    // warnings (e.g. "warning: no outbound access ..." without iptables).
    [[nodiscard]] std::string warning() const { return text(container_warning); }

    // The C handle, still owned by this object.
    [[nodiscard]] const container *capi() const noexcept { return handle_.get(); }
    [[nodiscard]] container *capi() noexcept { return handle_.get(); }
    [[nodiscard]] container *get() const noexcept { return handle_.get(); }
    // Gives up ownership: the caller frees the handle with container_free.
    [[nodiscard]] container *release() noexcept { return handle_.release(); }

private:
    std::string text(int (*fn)(const container *, char *, size_t, size_t *)) const {
        return detail::read_string([&](char *buf, size_t cap, size_t *len) { return fn(capi(), buf, cap, len); });
    }
    std::unique_ptr<container, detail::container_deleter> handle_;
};

// One running container, as listed by rt::list().
struct ContainerInfo {
    std::string id, name, command;
    int pid = 0;
    long long created = 0; // seconds since the epoch
};

// The running containers of this host, oldest first.
[[nodiscard]] inline std::vector<ContainerInfo> list() {
    container_list *raw = nullptr;
    detail::check(container_list_new(&raw));
    std::unique_ptr<container_list, detail::list_deleter> snapshot(raw);
    size_t count = 0;
    detail::check(container_list_count(raw, &count));
    std::vector<ContainerInfo> out;
    out.reserve(count);
    auto field = [raw](int (*fn)(const container_list *, size_t, char *, size_t, size_t *), size_t i) {
        return detail::read_string([&](char *buf, size_t cap, size_t *len) { return fn(raw, i, buf, cap, len); });
    };
    for (size_t i = 0; i < count; ++i) {
        ContainerInfo info;
        info.id = field(container_list_id, i);
        info.name = field(container_list_name, i);
        info.command = field(container_list_command, i);
        detail::check(container_list_pid(raw, i, &info.pid));
        uint64_t created = 0;
        detail::check(container_list_created(raw, i, &created));
        info.created = static_cast<long long>(created);
        out.push_back(std::move(info));
    }
    return out;
}

// Removes what killed docker-run processes left behind; returns the number of items removed.
[[nodiscard]] inline size_t cleanup() {
    size_t removed = 0;
    detail::check(runtime_cleanup(&removed));
    return removed;
}

[[nodiscard]] inline std::string version() { return runtime_version(); }

// The netlink backend the library was built with: "c" or "rust" (make NETLINK=rust).
[[nodiscard]] inline std::string netlink_backend() { return runtime_netlink_backend(); }

} // namespace rt

// The original project's API. Its main.cpp compiles unchanged against this.
namespace docker {

struct container_config {
    std::string host_name;   // hostname inside the container
    std::string root_dir;    // the root filesystem directory
    std::string ip;          // the container's address (network support: see README)
    std::string bridge_name; // the host bridge (e.g. docker0)
    std::string bridge_ip;   // the bridge's address, the container's gateway
};

class container {
public:
    // Keeps a copy: the caller's configuration may change or go away after this.
    explicit container(const container_config &config) : config_(config) {}

    // Runs an interactive shell in the container and waits for it to exit. With bridge_name
    // set, the container is on that bridge (created if missing, with bridge_ip as the gateway of
    // its /24), at address ip when given.
    void start() {
        rt::Config cfg;
        cfg.rootfs(config_.root_dir);
        if (!config_.host_name.empty()) cfg.hostname(config_.host_name);
        if (!config_.bridge_name.empty()) {
            cfg.network(rt::NetworkMode::Bridge);
            if (!config_.bridge_ip.empty()) cfg.bridge(config_.bridge_name, subnet_of(config_.bridge_ip));
            if (!config_.ip.empty()) cfg.ip(config_.ip);
        }
        std::string bash = config_.root_dir + "/bin/bash";
        cfg.argv({access(bash.c_str(), X_OK) == 0 ? "/bin/bash" : "/bin/sh"});
        cfg.tty(isatty(0) == 1);
        rt::Container c(cfg);
        c.start();
        status_ = c.wait();
    }

    // How the shell ended (after start()).
    rt::ExitStatus status() const noexcept { return status_; }

private:
    // "192.168.0.1" -> "192.168.0.0/24": the original gave the bridge address without a prefix.
    static std::string subnet_of(const std::string &bridge_ip) {
        size_t dot = bridge_ip.rfind('.');
        if (bridge_ip.find('/') != std::string::npos || dot == std::string::npos) return bridge_ip;
        return bridge_ip.substr(0, dot) + ".0/24";
    }
    container_config config_;
    rt::ExitStatus status_;
};

} // namespace docker

#endif // DOCKER_HPP
