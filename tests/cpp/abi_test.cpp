// abi_test.cpp: Tier 2 tests of include/docker.hpp (the C++ wrapper) against the static library.
//
//   abi_test ROOTFS
//
// Errors: rt::Error carries the status and a copied message; start(std::error_code&) does not
// throw. RAII: a running rt::Container destroyed at scope end leaves no process behind.
// Concurrency: containers started from 4 threads while 4 others hammer the allocator (the
// library clones a multi-threaded process: a lock held at clone time must not deadlock the
// child). Container tests need root; without it they are skipped, and with CI=true a skip is a
// failure. The last line is "N passed, N failed".
#include "docker.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

std::atomic<int> passed{0};
std::atomic<int> failed{0};
std::string rootfs;

void check(bool ok, const char *what, const char *file, int line) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
    }
}

#define CHECK(cond) check((cond), #cond, __FILE__, __LINE__)

// expr throws rt::Error with status `want`; the caught error is left in `err` for more checks.
#define CHECK_THROWS_STATUS(expr, want, err)                                                       \
    do {                                                                                            \
        bool threw_ = false;                                                                        \
        try {                                                                                       \
            (void)(expr);                                                                           \
        } catch (const rt::Error &e_) {                                                             \
            threw_ = true;                                                                          \
            err = e_;                                                                               \
            if (e_.status() != (want))                                                              \
                std::fprintf(stderr, "%s:%d: status %d, expected %d: %s\n", __FILE__, __LINE__,    \
                             e_.status(), static_cast<int>(want), e_.what());                       \
            check(e_.status() == (want), #expr " throws rt::Error(" #want ")", __FILE__, __LINE__); \
        }                                                                                           \
        if (!threw_) check(false, #expr " throws rt::Error", __FILE__, __LINE__);                   \
    } while (0)

bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

bool proc_exists(int pid) {
    struct stat st;
    std::string p = "/proc/" + std::to_string(pid);
    return stat(p.c_str(), &st) == 0;
}

void skip(const char *why) {
    std::cout << "skipped: " << why << std::endl;
    const char *ci = std::getenv("CI");
    if (ci != nullptr && std::strcmp(ci, "true") == 0) {
        ++failed;
        std::fprintf(stderr, "FAIL: CI=true and a test part was skipped (%s)\n", why);
    }
}

rt::Config config_of(const std::vector<std::string> &argv) {
    rt::Config cfg;
    cfg.rootfs(rootfs).argv(argv);
    return cfg;
}

// Runs argv to completion.
rt::ExitStatus run(const std::vector<std::string> &argv) {
    rt::Container c(config_of(argv));
    c.start();
    return c.wait();
}

// ---- types ----------------------------------------------------------------------------------

static_assert(!std::is_copy_constructible<rt::Container>::value, "rt::Container is move-only");
static_assert(!std::is_copy_assignable<rt::Container>::value, "rt::Container is move-only");
static_assert(std::is_nothrow_move_constructible<rt::Container>::value, "rt::Container moves");
static_assert(std::is_nothrow_move_assignable<rt::Container>::value, "rt::Container moves");
static_assert(!std::is_copy_constructible<rt::Config>::value, "rt::Config is move-only");
static_assert(!std::is_copy_assignable<rt::Config>::value, "rt::Config is move-only");
static_assert(std::is_nothrow_move_constructible<rt::Config>::value, "rt::Config moves");
static_assert(!std::is_convertible<const rt::Config &, rt::Container>::value, "explicit constructor");
static_assert(std::is_base_of<std::runtime_error, rt::Error>::value, "rt::Error is a runtime_error");

// ---- no privileges --------------------------------------------------------------------------

void test_version() {
    CHECK(rt::version() == CONTAINER_RUNTIME_VERSION);
    CHECK(rt::netlink_backend() == "c" || rt::netlink_backend() == "rust");
#ifdef EXPECTED_NETLINK_BACKEND
    CHECK(rt::netlink_backend() == EXPECTED_NETLINK_BACKEND);
#endif
}

void test_config_errors() {
    rt::Error err(0, 0, "");
    rt::Config cfg;

    CHECK_THROWS_STATUS(cfg.hostname("bad host!"), RT_STATUS_INVALID_ARG, err);
    CHECK(contains(err.what(), "hostname"));
    CHECK(err.error_number() == 0);
    // The message was copied: a later successful call (which clears error_message()) leaves it.
    std::string before = err.what();
    cfg.hostname("abitest");
    CHECK(std::string(error_message()).empty());
    CHECK(err.what() == before && !before.empty());

    CHECK_THROWS_STATUS(cfg.hostname("ab\xff"), RT_STATUS_INVALID_UTF8, err);
    // An empty argv: the wrapper passes (NULL, 0); either status is a rejection.
    try {
        cfg.argv({});
        CHECK(!"empty argv throws");
    } catch (const rt::Error &e) {
        CHECK(e.status() == RT_STATUS_NULL_ARG || e.status() == RT_STATUS_INVALID_ARG);
    }
    CHECK_THROWS_STATUS(cfg.env("NOEQUALS"), RT_STATUS_INVALID_ARG, err);
    CHECK_THROWS_STATUS(cfg.cwd("relative"), RT_STATUS_INVALID_ARG, err);
    CHECK_THROWS_STATUS(cfg.namespaces(RT_NS_ALL | 128u), RT_STATUS_INVALID_ARG, err);
    CHECK_THROWS_STATUS(cfg.name("no spaces"), RT_STATUS_INVALID_ARG, err);
    CHECK_THROWS_STATUS(cfg.bind({"relative", "/mnt", false}), RT_STATUS_INVALID_ARG, err);

    // Chaining works and returns the same object.
    rt::Config &same = cfg.init(false).tty(false).readonly_rootfs(false).no_pivot(false).user(0, 0);
    CHECK(&same == &cfg);
    CHECK(cfg.get() != nullptr);

    // A missing rootfs fails in the constructor, naming the path.
    rt::Config missing;
    missing.rootfs("/nonexistent/abi-cpp-rootfs");
    bool threw = false;
    try {
        rt::Container c(missing);
    } catch (const rt::Error &e) {
        threw = true;
        CHECK(e.status() != RT_STATUS_OK);
        CHECK(contains(e.what(), "/nonexistent/abi-cpp-rootfs"));
        CHECK(e.error_number() == ENOENT);
    }
    CHECK(threw);
}

void test_states() {
    rt::Error err(0, 0, "");
    rt::Container c(config_of({"/bin/true"}));
    CHECK_THROWS_STATUS(c.wait(), RT_STATUS_STATE, err);
    CHECK_THROWS_STATUS(c.pid(), RT_STATUS_STATE, err);
    CHECK_THROWS_STATUS(c.kill(0), RT_STATUS_INVALID_ARG, err);
    CHECK_THROWS_STATUS(c.kill(65), RT_STATUS_INVALID_ARG, err);
    CHECK_THROWS_STATUS(c.kill(SIGTERM), RT_STATUS_STATE, err);
    std::string id = c.id();
    CHECK(id.size() == 64);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(rt::Container(config_of({"/bin/true"})).id() != id);

    // Moving keeps the handle.
    container *raw = c.get();
    rt::Container moved(std::move(c));
    CHECK(moved.get() == raw);
    CHECK(moved.id() == id);
}

void test_error_code_category() {
    const std::error_category &cat = rt::status_category();
    CHECK(std::string(cat.name()) == "container_runtime");
    CHECK(cat.message(RT_STATUS_NOT_FOUND) == "command not found");
    CHECK(cat.message(RT_STATUS_OK) == "success");
    CHECK(cat.message(9999) == "unknown status");
    CHECK(&cat == &rt::status_category());
}

// The last error is per thread: a failure on one thread is invisible on another.
void test_error_thread_local() {
    rt::Config cfg;
    CHECK(container_config_set_hostname(cfg.get(), "bad host!") == RT_STATUS_INVALID_ARG);
    std::string other = "unset";
    std::thread t([&other] { other = error_message(); });
    t.join();
    CHECK(other.empty());
    CHECK(contains(error_message(), "hostname"));
}

// ---- containers (root) ----------------------------------------------------------------------

void test_exit_statuses() {
    rt::ExitStatus s = run({"/bin/sh", "-c", "exit 3"});
    CHECK(s.code == 3 && s.signal == 0);
    s = run({"/bin/true"});
    CHECK(s.code == 0 && s.signal == 0);
    s = run({"sh", "-c", "test $$ = 1"});
    CHECK(s.code == 0);

    rt::Config cfg = config_of({"/bin/sh", "-c", "test \"$(hostname)\" = cpptest"});
    cfg.hostname("cpptest");
    rt::Container h(cfg);
    h.start();
    CHECK(h.wait().code == 0);

    rt::Config icfg = config_of({"sh", "-c", "exit 5"});
    icfg.init(true);
    rt::Container i(icfg);
    i.start();
    CHECK(i.wait().code == 5);

    rt::Container k(config_of({"/bin/sleep", "30"}));
    k.start();
    int pid = k.pid();
    CHECK(pid > 0 && proc_exists(pid));
    k.kill(SIGKILL);
    s = k.wait();
    CHECK(s.code == 137 && s.signal == SIGKILL);
    CHECK(!proc_exists(pid));
    // wait() again gives the same status
    s = k.wait();
    CHECK(s.code == 137 && s.signal == SIGKILL);
}

void test_start_errors() {
    rt::Error err(0, 0, "");
    rt::Container c(config_of({"/bin/nope"}));
    CHECK_THROWS_STATUS(c.start(), RT_STATUS_NOT_FOUND, err);
    CHECK(contains(err.what(), "/bin/nope"));
    CHECK(contains(err.what(), "No such file"));
    CHECK(err.error_number() == ENOENT);
    // The message was copied out of the library before anything else could overwrite it.
    std::string msg = err.what();
    rt::Config other;
    CHECK(std::string(error_message()).empty());
    CHECK(msg == err.what());

    // After a failed start nothing runs.
    CHECK_THROWS_STATUS(c.pid(), RT_STATUS_STATE, err);

    // A command looked up in PATH.
    rt::Container p(config_of({"abi-cpp-no-such-command"}));
    CHECK_THROWS_STATUS(p.start(), RT_STATUS_NOT_FOUND, err);
    CHECK(contains(err.what(), "abi-cpp-no-such-command"));
}

void test_start_error_code() {
    rt::Container bad(config_of({"/bin/nope"}));
    std::error_code ec;
    std::error_code ret = bad.start(ec); // noexcept
    CHECK(ec.value() == RT_STATUS_NOT_FOUND);
    CHECK(ec.category() == rt::status_category());
    CHECK(ec.message() == "command not found");
    CHECK(ret == ec);
    CHECK(static_cast<bool>(ec));
    CHECK(contains(error_message(), "/bin/nope")); // the detail stays in error_message()
    static_assert(noexcept(bad.start(ec)), "the error_code overload does not throw");

    rt::Container good(config_of({"/bin/sh", "-c", "exit 7"}));
    good.start(ec);
    CHECK(!ec);
    CHECK(ec.value() == RT_STATUS_OK);
    CHECK(good.wait().code == 7);

    // A second start: a state error, reported without throwing.
    good.start(ec);
    CHECK(ec.value() == RT_STATUS_STATE);
}

// No other children exist at this point: every earlier container was waited for or destroyed.
bool no_children() {
    errno = 0;
    pid_t r = waitpid(-1, nullptr, WNOHANG);
    return r == -1 && errno == ECHILD;
}

void test_raii() {
    CHECK(no_children());
    int pid = 0;
    {
        rt::Container c(config_of({"/bin/sleep", "30"}));
        c.start();
        pid = c.pid();
        CHECK(pid > 0 && proc_exists(pid));
        CHECK(!no_children());
    } // destroyed while running: killed and reaped
    CHECK(pid > 0 && !proc_exists(pid));
    CHECK(no_children());

    // Moved-from containers do not double-free; the moved-to one owns the process.
    {
        rt::Container a(config_of({"/bin/sleep", "30"}));
        a.start();
        pid = a.pid();
        rt::Container b(std::move(a));
        CHECK(b.pid() == pid);
    }
    CHECK(!proc_exists(pid));
    CHECK(no_children());

    // An exception thrown while the container runs unwinds through its destructor too.
    try {
        rt::Container c(config_of({"/bin/sleep", "30"}));
        c.start();
        pid = c.pid();
        throw std::runtime_error("unwind");
    } catch (const std::runtime_error &) {
    }
    CHECK(!proc_exists(pid));
    CHECK(no_children());
}

// Kills this process's own child processes, by pid: container children stuck before exec.
// Killing them closes their copies of the sync sockets, so blocked starters return.
int kill_own_children() {
    int n = 0;
    DIR *d = opendir("/proc");
    if (d == nullptr) return 0;
    const pid_t self = getpid();
    while (struct dirent *e = readdir(d)) {
        char *end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') continue;
        std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
        std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        size_t paren = stat.rfind(')');
        if (paren == std::string::npos) continue;
        char state = 0;
        long ppid = 0;
        if (std::sscanf(stat.c_str() + paren + 1, " %c %ld", &state, &ppid) != 2) continue;
        if (ppid == self && state != 'Z') {
            std::fprintf(stderr, "killing stuck child %ld\n", pid);
            kill(static_cast<pid_t>(pid), SIGKILL);
            n++;
        }
    }
    closedir(d);
    return n;
}

// Waits until `done` reaches `want`. A deadlocked start hangs forever, so after `limit_s` the
// deadlock counts as a failure: `stop` is set (no new starts, no more noise) and the stuck
// children are killed, which lets the blocked starters return.
void wait_or_break_deadlock(const std::atomic<int> &done, int want, int limit_s, std::atomic<bool> &stop,
                            const char *what) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(limit_s);
    while (done.load() < want && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (done.load() >= want) return;
    ++failed;
    std::fprintf(stderr, "FAIL %s: deadlock: %d of %d threads done after %d s\n", what, done.load(), want, limit_s);
    stop = true;
    for (int round = 0; round < 100 && done.load() < want; round++) {
        if (round % 10 == 0) kill_own_children();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (done.load() < want) {
        kill_own_children();
        std::fprintf(stderr, "FAIL %s: still stuck after killing the children; giving up\n", what);
        std::printf("%d passed, %d failed\n", passed.load(), failed.load());
        std::fflush(stdout);
        std::_Exit(1);
    }
}

// Starts `starters` x `per_thread` containers of /bin/true from threads while `noise` runs in
// `noisy` other threads; every container must exit 0, without deadlock.
template <typename Noise>
void concurrent_starts(const char *what, int starters, int per_thread, int noisy, Noise noise) {
    std::atomic<bool> stop{false};
    std::atomic<int> done{0};
    std::atomic<int> ok{0};
    std::atomic<int> bad{0};
    std::atomic<long> rounds{0};

    std::vector<std::thread> threads;
    for (int t = 0; t < noisy; t++) {
        threads.emplace_back([&stop, &rounds, &noise, t] {
            std::mt19937 rng(static_cast<unsigned>(t) * 7919u + 1u);
            long n = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                noise(rng);
                n++;
            }
            rounds += n;
        });
    }
    for (int t = 0; t < starters; t++) {
        threads.emplace_back([&] {
            for (int i = 0; i < per_thread && !stop.load(); i++) {
                try {
                    rt::ExitStatus s = run({"/bin/true"});
                    if (s.code == 0) {
                        ++ok;
                    } else {
                        ++bad;
                        std::fprintf(stderr, "%s: /bin/true exited %d\n", what, s.code);
                    }
                } catch (const rt::Error &e) {
                    ++bad;
                    std::fprintf(stderr, "%s: %s (status %d)\n", what, e.what(), e.status());
                }
            }
            ++done;
        });
    }
    wait_or_break_deadlock(done, starters, 30, stop, what);
    stop = true;
    for (auto &t : threads) t.join();
    if (ok.load() != starters * per_thread)
        std::fprintf(stderr, "%s: %d of %d containers exited 0\n", what, ok.load(), starters * per_thread);
    check(ok.load() == starters * per_thread, "all containers exit 0", what, __LINE__);
    check(bad.load() == 0, "no failed container", what, __LINE__);
    check(rounds.load() > 0, "the noise threads ran", what, __LINE__);
    check(no_children(), "no child left", what, __LINE__);
}

// The deadlock test: 200 containers of /bin/true from 4 threads while 4 threads hammer the
// allocator. A child that takes a lock (malloc's) held by another thread at clone time hangs.
void test_concurrent_malloc() {
    concurrent_starts("concurrent starts + malloc", 4, 50, 4, [](std::mt19937 &rng) {
        std::uniform_int_distribution<size_t> size(1, 64 * 1024);
        std::vector<int> grow;
        for (int i = 0; i < 1000; i++) grow.push_back(i);
        std::vector<std::unique_ptr<char[]>> blocks;
        std::vector<std::string> strings;
        for (int i = 0; i < 32; i++) {
            blocks.emplace_back(new char[size(rng)]);
            strings.emplace_back(size(rng) % 512, 'x');
        }
    });
}

// Containers started while other threads create and join threads (a host thread pool growing):
// glibc state that a raw clone copies mid-pthread_create must not hang the child.
void test_concurrent_thread_churn() {
    concurrent_starts("concurrent starts + thread churn", 2, 50, 2, [](std::mt19937 &) {
        std::thread t([] {});
        t.join();
    });
}

} // namespace

// rt::ImageStore: import, find, tag, list, remove through the wrapper; a missing image throws
// with RT_STATUS_NO_SUCH_IMAGE.
void test_image_store() {
    char dir[] = "/tmp/abi-cpp-images.XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return;
    }
    std::string d = dir;
    std::string cmd = "tar -C '" + rootfs + "' -cf '" + d + "/rootfs.tar' .";
    CHECK(std::system(cmd.c_str()) == 0);
    {
        rt::ImageStore store(d + "/store");
        rt::ImageResult r = store.import(d + "/rootfs.tar", "cpp-abi:1");
        CHECK(r.images.size() == 1 && r.images[0].names == std::vector<std::string>{"cpp-abi:1"});
        CHECK(r.images[0].id.rfind("sha256:", 0) == 0 && r.images[0].size > 0);
        store.tag("cpp-abi:1", "cpp-abi:2");
        CHECK(store.find("cpp-abi:2").id == r.images[0].id);
        CHECK(store.list().size() == 1 && store.list()[0].names.size() == 2);
        try {
            (void)store.find("nothere");
            CHECK(!"a missing image throws");
        } catch (const rt::Error &e) {
            CHECK(e.status() == RT_STATUS_NO_SUCH_IMAGE);
            CHECK(contains(e.what(), "no such image: nothere"));
        }
        CHECK(store.remove("cpp-abi:1").id.empty());
        CHECK(store.remove("cpp-abi:2").id == r.images[0].id);
        CHECK(store.list().empty());
    }
    cmd = "rm -rf '" + d + "'";
    CHECK(std::system(cmd.c_str()) == 0);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s ROOTFS\n", argv[0]);
        return 2;
    }
    rootfs = argv[1];

    try {
        test_version();
        test_config_errors();
        test_states();
        test_error_code_category();
        test_error_thread_local();
        test_image_store();
        if (geteuid() != 0) {
            skip("root tests need root");
        } else {
            test_exit_statuses();
            test_start_errors();
            test_start_error_code();
            test_raii();
            test_concurrent_malloc();
            test_concurrent_thread_churn();
        }
    } catch (const std::exception &e) {
        ++failed;
        std::fprintf(stderr, "FAIL: unexpected exception: %s\n", e.what());
    }

    std::printf("%d passed, %d failed\n", passed.load(), failed.load());
    return failed.load() == 0 ? 0 : 1;
}
