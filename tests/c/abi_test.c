/*
 * abi_test.c: Tier 2 tests of the C ABI (include/container_runtime.h) against the static library.
 *
 *   abi_test ROOTFS [--no-containers]
 *
 * Part 1 needs no privileges: NULL arguments, argument validation, states, error_message(),
 * runtime_version(), runtime_netlink_backend(). Part 2 runs real containers and needs root;
 * without root it is skipped visibly, and when CI=true a skip counts as a failure.
 * --no-containers skips part 2 on purpose (used under valgrind, where cloning containers is too
 * slow).
 *
 * The last line is "N passed, N failed"; the exit status is non-zero if anything failed.
 */
#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */

#include "container_runtime.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int passed;
static int failed;

static void check(bool ok, const char *what, const char *file, int line)
{
	if (ok) {
		passed++;
	} else {
		failed++;
		fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
	}
}

#define CHECK(cond) check((cond), #cond, __FILE__, __LINE__)

/* A call's status equals want; on mismatch the library's message is printed. */
static void check_status(int got, int want, const char *expr, const char *file, int line)
{
	if (got == want) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "FAIL %s:%d: %s returned %d, expected %d (error_message: \"%s\")\n", file,
		line, expr, got, want, error_message());
}

#define CHECK_STATUS(call, want) check_status((call), (want), #call, __FILE__, __LINE__)

/*
 * A call with one NULL pointer argument: RT_STATUS_NULL_ARG and a message, never NULL, that
 * names the argument.
 */
static void check_null_arg(int got, const char *name, const char *expr, const char *file, int line)
{
	const char *msg = error_message();
	if (got == RT_STATUS_NULL_ARG && msg != NULL && msg[0] != '\0' && strstr(msg, name) != NULL) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "FAIL %s:%d: %s: status %d (expected RT_STATUS_NULL_ARG), message \"%s\" (expected to name \"%s\")\n",
		file, line, expr, got, msg ? msg : "(NULL)", name);
}

#define CHECK_NULL_ARG(call, name) check_null_arg((call), (name), #call, __FILE__, __LINE__)

/* error_message() after a failed call contains every given substring. */
static void check_message(const char *a, const char *b, const char *file, int line)
{
	const char *msg = error_message();
	bool ok = msg != NULL && msg[0] != '\0' && strstr(msg, a) != NULL && (b == NULL || strstr(msg, b) != NULL);
	if (ok) {
		passed++;
		return;
	}
	failed++;
	fprintf(stderr, "FAIL %s:%d: error_message() \"%s\" should contain \"%s\"%s%s%s\n", file, line,
		msg ? msg : "(NULL)", a, b ? " and \"" : "", b ? b : "", b ? "\"" : "");
}

#define CHECK_MESSAGE(a) check_message((a), NULL, __FILE__, __LINE__)
#define CHECK_MESSAGE2(a, b) check_message((a), (b), __FILE__, __LINE__)

/* error_message() is "" (not NULL) and error_errno() 0: the last call succeeded. */
#define CHECK_NO_ERROR()                                                                  \
	do {                                                                              \
		const char *m_ = error_message();                                         \
		CHECK(m_ != NULL && m_[0] == '\0');                                       \
		CHECK(error_errno() == 0);                                                \
	} while (0)

/* A skipped part: visible, and a failure when CI=true. */
static void skip(const char *why)
{
	const char *ci = getenv("CI");
	printf("skipped: %s\n", why);
	if (ci != NULL && strcmp(ci, "true") == 0) {
		failed++;
		fprintf(stderr, "FAIL: CI=true and a test part was skipped (%s)\n", why);
	}
}

static const char *rootfs;

/* A configuration with the rootfs set, or NULL (counted as a failure). */
static container_config *new_config(void)
{
	container_config *cfg = NULL;
	CHECK_STATUS(container_config_new(&cfg), RT_STATUS_OK);
	if (cfg != NULL)
		CHECK_STATUS(container_config_set_rootfs(cfg, rootfs), RT_STATUS_OK);
	return cfg;
}


/* ---- OCI bundles ----------------------------------------------------------------------- */

static char bundle_dir[64];

/* Writes bundle_dir/config.json: the rootfs by its absolute path, `process` and `extra` as
 * given (JSON members). Returns false (counted as a failure) when it cannot. */
static bool write_bundle(const char *process, const char *extra)
{
	char path[128];
	char root[4096];
	FILE *f;

	/* root.path is relative to the bundle: give the rootfs absolute */
	CHECK(realpath(rootfs, root) != NULL);
	snprintf(path, sizeof path, "%s/config.json", bundle_dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return false;
	fprintf(f,
		"{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"%s\", \"readonly\": true},"
		" \"process\": %s, \"hostname\": \"ocibox\", %s"
		" \"linux\": {\"namespaces\": [{\"type\": \"mount\"}, {\"type\": \"pid\"},"
		" {\"type\": \"uts\"}, {\"type\": \"ipc\"}]}}",
		root, process, extra);
	fclose(f);
	return true;
}

static void remove_bundle(void)
{
	char path[128];

	snprintf(path, sizeof path, "%s/config.json", bundle_dir);
	unlink(path);
	rmdir(bundle_dir);
}

/* container_config_from_bundle: a bundle loads; each mistake names its field. */
static void test_bundle_config(void)
{
	container_config *cfg = NULL;
	container *c = NULL;
	const char *proc = "{\"user\": {\"uid\": 0, \"gid\": 0}, \"args\": [\"/bin/sh\", \"-c\","
			   " \"exit 7\"], \"cwd\": \"/\"}";

	strcpy(bundle_dir, "/tmp/abi-bundle-XXXXXX");
	if (mkdtemp(bundle_dir) == NULL) {
		CHECK(false);
		return;
	}
	CHECK_NULL_ARG(container_config_from_bundle(NULL, &cfg), "bundle_dir");
	CHECK_NULL_ARG(container_config_from_bundle(bundle_dir, NULL), "out");
	/* no config.json yet */
	CHECK_STATUS(container_config_from_bundle(bundle_dir, &cfg), RT_STATUS_SYSCALL);
	CHECK_MESSAGE2("config.json", "No such file");
	CHECK(cfg == NULL);
	if (write_bundle("{\"user\": {\"uid\": 0, \"gid\": 0}, \"args\": [\"sh\"], \"cwd\": \"rel\"}",
			 "")) {
		CHECK_STATUS(container_config_from_bundle(bundle_dir, &cfg), RT_STATUS_INVALID_ARG);
		CHECK_MESSAGE2("process.cwd", "absolute");
		CHECK(cfg == NULL);
	}
	if (write_bundle(proc, "\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\","
			       " \"options\": [\"rro\"]}],")) {
		CHECK_STATUS(container_config_from_bundle(bundle_dir, &cfg), RT_STATUS_INVALID_ARG);
		CHECK_MESSAGE2("mounts[0].options", "rro");
	}
	if (write_bundle(proc, "")) {
		CHECK_STATUS(container_config_from_bundle(bundle_dir, &cfg), RT_STATUS_OK);
		CHECK_NO_ERROR();
		CHECK(cfg != NULL);
		CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
		container_free(c);
		container_config_free(cfg);
	}
	remove_bundle();
}

/* A bundle runs: read-only root used directly, its hostname, its command's exit code. */
static void test_bundle_run(void)
{
	container_config *cfg = NULL;
	container *c = NULL;
	int status = -1;
	const char *proc = "{\"user\": {\"uid\": 0, \"gid\": 0}, \"args\": [\"/bin/sh\", \"-c\","
			   " \"test $(hostname) = ocibox && test $$ = 1 && ! touch /x 2>/dev/null"
			   " && exit 7\"], \"cwd\": \"/\"}";

	strcpy(bundle_dir, "/tmp/abi-bundle-XXXXXX");
	if (mkdtemp(bundle_dir) == NULL || !write_bundle(proc, "")) {
		CHECK(false);
		return;
	}
	CHECK_STATUS(container_config_from_bundle(bundle_dir, &cfg), RT_STATUS_OK);
	if (cfg != NULL) {
		CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
		CHECK_STATUS(container_start(c), RT_STATUS_OK);
		CHECK_STATUS(container_wait(c, &status), RT_STATUS_OK);
		CHECK(status == 7);
		container_free(c);
		container_config_free(cfg);
	}
	remove_bundle();
}

/* ---- part 1: no privileges ------------------------------------------------------------- */

static void test_version(void)
{
	char expect[64];
	const char *v = runtime_version();
	CHECK(v != NULL);
	CHECK(v != NULL && strcmp(v, CONTAINER_RUNTIME_VERSION) == 0);
	snprintf(expect, sizeof expect, "%d.%d.%d", CONTAINER_RUNTIME_VERSION_MAJOR,
		 CONTAINER_RUNTIME_VERSION_MINOR, CONTAINER_RUNTIME_VERSION_PATCH);
	CHECK(strcmp(expect, CONTAINER_RUNTIME_VERSION) == 0);
}

/* tests/abi.sh says which backend the library it builds has (EXPECTED_NETLINK_BACKEND). */
static void test_netlink_backend(void)
{
	const char *b = runtime_netlink_backend();
	CHECK(b != NULL);
	CHECK(b != NULL && (strcmp(b, "c") == 0 || strcmp(b, "rust") == 0));
#ifdef EXPECTED_NETLINK_BACKEND
	CHECK(b != NULL && strcmp(b, EXPECTED_NETLINK_BACKEND) == 0);
#endif
	CHECK(runtime_netlink_backend() == b);
}

static void test_free_null(void)
{
	container_config_free(NULL);
	container_config_free(NULL);
	container_free(NULL);
	container_free(NULL);
	CHECK(true); /* reached: the frees of NULL did not crash */
}

static void test_config_null_args(void)
{
	container_config *cfg = new_config();
	const char *argv[] = {"/bin/true"};
	const char *argv_null[] = {"/bin/sh", NULL};

	if (cfg == NULL)
		return;

	CHECK_NULL_ARG(container_config_new(NULL), "out");

	CHECK_NULL_ARG(container_config_set_rootfs(NULL, "/"), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_rootfs(cfg, NULL), "path");

	CHECK_NULL_ARG(container_config_set_hostname(NULL, "abitest"), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_hostname(cfg, NULL), "hostname");

	CHECK_NULL_ARG(container_config_set_name(NULL, "abitest"), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_name(cfg, NULL), "name");

	CHECK_NULL_ARG(container_config_set_argv(NULL, argv, 1), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_argv(cfg, NULL, 1), "argv");
	CHECK_NULL_ARG(container_config_set_argv(cfg, argv_null, 2), "argv[1]");

	CHECK_NULL_ARG(container_config_add_env(NULL, "A=b"), "cfg is NULL");
	CHECK_NULL_ARG(container_config_add_env(cfg, NULL), "key_value");

	CHECK_NULL_ARG(container_config_set_cwd(NULL, "/"), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_cwd(cfg, NULL), "path");

	CHECK_NULL_ARG(container_config_set_user(NULL, 0, 0), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_namespaces(NULL, RT_NS_ALL), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_readonly_rootfs(NULL, true), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_tty(NULL, false), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_init(NULL, false), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_no_pivot(NULL, false), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_seccomp(NULL, NULL), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_rootfs_shared(NULL, true), "cfg is NULL");
	CHECK_NULL_ARG(container_config_add_layer(NULL, "/tmp"), "cfg is NULL");
	CHECK_NULL_ARG(container_config_add_layer(cfg, NULL), "dir");

	CHECK_NULL_ARG(container_config_add_bind_mount(NULL, "/tmp", "/mnt", true), "cfg is NULL");
	CHECK_NULL_ARG(container_config_add_bind_mount(cfg, NULL, "/mnt", true), "source");
	CHECK_NULL_ARG(container_config_add_bind_mount(cfg, "/tmp", NULL, true), "destination");

	CHECK_NULL_ARG(container_config_add_tmpfs(NULL, "/mnt", NULL), "cfg is NULL");
	CHECK_NULL_ARG(container_config_add_tmpfs(cfg, NULL, "size=1m"), "destination");

	CHECK_NULL_ARG(container_config_set_limit(NULL, "memory", "32m"), "cfg is NULL");
	CHECK_NULL_ARG(container_config_set_limit(cfg, NULL, "32m"), "key");
	CHECK_NULL_ARG(container_config_set_limit(cfg, "memory", NULL), "value");
	/* options may be NULL (documented) */
	CHECK_STATUS(container_config_add_tmpfs(cfg, "/mnt", NULL), RT_STATUS_OK);
	CHECK_NO_ERROR();

	container_config_free(cfg);
}

static void test_container_null_args(void)
{
	container_config *cfg = new_config();
	container *c = NULL;
	container *untouched = (container *)&c; /* a sentinel: *out must stay as it was on failure */
	int value = -1;
	uint64_t counter = 77;
	bool flag = false;
	char buf[80];
	size_t len = 0;
	const char *argv[] = {"/bin/true"};
	const char *argv_null[] = {"/bin/sh", NULL};
	const char *env_null[] = {NULL};

	if (cfg == NULL)
		return;

	CHECK_NULL_ARG(container_new(NULL, &untouched), "cfg is NULL");
	CHECK(untouched == (container *)&c);
	CHECK_NULL_ARG(container_new(cfg, NULL), "out");

	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
	CHECK_NO_ERROR();
	if (c == NULL) {
		container_config_free(cfg);
		return;
	}

	CHECK_NULL_ARG(container_start(NULL), "c is NULL");
	CHECK_NULL_ARG(container_wait(NULL, &value), "c is NULL");
	CHECK_NULL_ARG(container_wait(c, NULL), "out_status");
	CHECK_NULL_ARG(container_exit_signal(NULL, &value), "c is NULL");
	CHECK_NULL_ARG(container_exit_signal(c, NULL), "out_signal");
	CHECK_NULL_ARG(container_kill(NULL, SIGTERM), "c is NULL");
	CHECK_NULL_ARG(container_pid(NULL, &value), "c is NULL");
	CHECK_NULL_ARG(container_pid(c, NULL), "out_pid");
	CHECK_NULL_ARG(container_id(NULL, buf, sizeof buf, &len), "c is NULL");
	CHECK_NULL_ARG(container_id(c, buf, sizeof buf, NULL), "out_len");

	CHECK_NULL_ARG(cgroup_set(NULL, "memory", "32m"), "c is NULL");
	CHECK_NULL_ARG(cgroup_set(c, NULL, "32m"), "key");
	CHECK_NULL_ARG(cgroup_set(c, "memory", NULL), "value");
	CHECK_NULL_ARG(cgroup_get(NULL, "memory", buf, sizeof buf, &len), "c is NULL");
	CHECK_NULL_ARG(cgroup_get(c, NULL, buf, sizeof buf, &len), "key");
	/* pointers are checked before the state (the container is not running) */
	CHECK_NULL_ARG(cgroup_get(c, "memory", buf, sizeof buf, NULL), "out_len");
	CHECK_NULL_ARG(cgroup_stat(NULL, "pids.current", &counter), "c is NULL");
	CHECK_NULL_ARG(cgroup_stat(c, NULL, &counter), "name");
	CHECK_NULL_ARG(cgroup_stat(c, "pids.current", NULL), "out");
	CHECK_NULL_ARG(container_oom_killed(NULL, &flag), "c is NULL");
	CHECK_NULL_ARG(container_oom_killed(c, NULL), "out");

	CHECK_NULL_ARG(container_exec(NULL, argv, 1, NULL, 0, false, &value), "c is NULL");
	CHECK_NULL_ARG(container_exec(c, NULL, 1, NULL, 0, false, &value), "argv");
	CHECK_NULL_ARG(container_exec(c, argv_null, 2, NULL, 0, false, &value), "argv[1]");
	CHECK_NULL_ARG(container_exec(c, argv, 1, NULL, 1, false, &value), "env");
	CHECK_NULL_ARG(container_exec(c, argv, 1, env_null, 1, false, &value), "env[0]");
	CHECK_NULL_ARG(container_exec(c, argv, 1, NULL, 0, false, NULL), "out_status");
	CHECK_NULL_ARG(container_stop(NULL, 0), "c is NULL");

	CHECK_NULL_ARG(container_open(NULL, &untouched), "name_or_id");
	CHECK(untouched == (container *)&c);
	CHECK_NULL_ARG(container_open("abi-test-none", NULL), "out");
	CHECK_NULL_ARG(container_list_new(NULL), "out");
	CHECK_NULL_ARG(container_list_count(NULL, &len), "list");
	CHECK_NULL_ARG(container_list_id(NULL, 0, buf, sizeof buf, &len), "list");
	CHECK_NULL_ARG(container_list_name(NULL, 0, buf, sizeof buf, &len), "list");
	CHECK_NULL_ARG(container_list_command(NULL, 0, buf, sizeof buf, &len), "list");
	CHECK_NULL_ARG(container_list_pid(NULL, 0, &value), "list");
	CHECK_NULL_ARG(container_list_created(NULL, 0, &counter), "list");
	container_list_free(NULL);

	CHECK(value == -1 && counter == 77 && !flag); /* outputs untouched on failure */

	/*
	 * buf NULL is the documented size query (like snprintf(NULL, 0)): not NULL_ARG but
	 * BUFFER_TOO_SMALL with the needed length.
	 */
	len = 0;
	CHECK_STATUS(container_id(c, NULL, 0, &len), RT_STATUS_BUFFER_TOO_SMALL);
	CHECK(len == 64);
	/* a list: its count, and an index past it refused */
	{
		container_list *list = NULL;
		size_t count = 12345;
		CHECK_STATUS(container_list_new(&list), RT_STATUS_OK);
		CHECK_NULL_ARG(container_list_count(list, NULL), "out_count");
		CHECK_STATUS(container_list_count(list, &count), RT_STATUS_OK);
		CHECK(count != 12345);
		CHECK_STATUS(container_list_id(list, count, buf, sizeof buf, &len), RT_STATUS_INVALID_ARG);
		CHECK_MESSAGE("out of range");
		CHECK_STATUS(container_list_pid(list, count, &value), RT_STATUS_INVALID_ARG);
		if (count > 0) {
			CHECK_STATUS(container_list_id(list, 0, NULL, 0, &len), RT_STATUS_BUFFER_TOO_SMALL);
			CHECK(len == 64);
			CHECK_NULL_ARG(container_list_pid(list, 0, NULL), "out_pid");
		}
		container_list_free(list);
	}

	/* runtime_cleanup's counter is optional */
	CHECK_STATUS(runtime_cleanup(NULL), RT_STATUS_OK);
	CHECK_NO_ERROR();
	len = 12345;
	CHECK_STATUS(runtime_cleanup(&len), RT_STATUS_OK);
	CHECK(len != 12345);

	container_free(c);
	container_config_free(cfg);
}

/* The netlink verbs: argument checks only (the Rust tests drive them in private netns). */
static void test_net_args(void)
{
	CHECK_NULL_ARG(veth_create(NULL, "p0", 0), "name");
	CHECK_NULL_ARG(veth_create("v0", NULL, 0), "peer_name");
	CHECK_NULL_ARG(veth_delete(NULL), "name");
	CHECK_NULL_ARG(bridge_create(NULL, NULL), "name");
	CHECK_NULL_ARG(bridge_attach(NULL, "v0"), "bridge");
	CHECK_NULL_ARG(bridge_attach("br0", NULL), "ifname");
	CHECK_NULL_ARG(link_set_up(NULL), "name");
	CHECK_STATUS(veth_create("sixteen-bytes-xx", "p0", 0), RT_STATUS_INVALID_ARG);
	CHECK(strstr(error_message(), "sixteen-bytes-xx") != NULL);
	CHECK_STATUS(bridge_create("abi-br0", "10.99.0.1/33"), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(veth_create("v0", "p0", -5), RT_STATUS_INVALID_ARG);
}

/* The copy-on-write root's layers: absolute directories, never with a shared rootfs. */
static void test_layer_config(void)
{
	container_config *cfg = new_config();
	container *c = NULL;

	if (cfg == NULL)
		return;
	CHECK_STATUS(container_config_add_layer(cfg, "/tmp"), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_rootfs_shared(cfg, true), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_INVALID_ARG);
	CHECK(strstr(error_message(), "shared rootfs") != NULL);
	CHECK_STATUS(container_config_set_rootfs_shared(cfg, false), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
	container_free(c);
	c = NULL;
	CHECK_STATUS(container_config_add_layer(cfg, "relative/dir"), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_INVALID_ARG);
	CHECK(strstr(error_message(), "layer relative/dir") != NULL);
	CHECK(c == NULL);
	container_config_free(cfg);
}

/* Network settings of a configuration: argument and value checks. */
static void test_network_config(void)
{
	container_config *cfg = NULL;
	container *c = NULL;
	char buf[64];
	size_t len = 0;

	CHECK_STATUS(container_config_new(&cfg), RT_STATUS_OK);
	CHECK_NULL_ARG(container_config_set_network(NULL, RT_NETWORK_MODE_BRIDGE), "cfg is NULL");
	CHECK_STATUS(container_config_set_network(cfg, 7), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_set_network(cfg, RT_NETWORK_MODE_BRIDGE), RT_STATUS_OK);
	CHECK_NULL_ARG(container_config_set_bridge(cfg, NULL, "10.1.0.0/16"), "bridge");
	/* a NULL subnet: the bridge's recorded one, else the first free one of the default pool */
	CHECK_STATUS(container_config_set_bridge(cfg, "br0", NULL), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_bridge(cfg, "br0", "10.1.0.0/33"), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_set_bridge(cfg, "sixteen-bytes-xx", "10.1.0.0/16"), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_set_bridge(cfg, "br0", "10.1.0.0/16"), RT_STATUS_OK);
	CHECK_NULL_ARG(container_config_set_ip(cfg, NULL), "ip");
	CHECK_STATUS(container_config_set_ip(cfg, "10.1.2.300"), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_set_ip(cfg, "10.1.2.3"), RT_STATUS_OK);
	CHECK_STATUS(container_config_add_port(cfg, 0, 80, RT_PROTOCOL_TCP), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_add_port(cfg, 8080, 80, 9), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_add_port(cfg, 8080, 80, RT_PROTOCOL_UDP), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_rootfs(cfg, "/"), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
	CHECK_NULL_ARG(container_ip(NULL, buf, sizeof buf, &len), "c is NULL");
	CHECK_STATUS(container_ip(c, buf, sizeof buf, &len), RT_STATUS_STATE);
	CHECK_NULL_ARG(container_warning(NULL, buf, sizeof buf, &len), "c is NULL");
	CHECK_STATUS(container_warning(c, buf, sizeof buf, &len), RT_STATUS_OK);
	CHECK(len == 0 && buf[0] == 0);
	container_free(c);
	container_config_free(cfg);
}

static void test_error_message_lifecycle(void)
{
	container_config *cfg = new_config();
	const char *m;

	if (cfg == NULL)
		return;
	CHECK_STATUS(container_config_set_hostname(cfg, "bad host!"), RT_STATUS_INVALID_ARG);
	m = error_message();
	CHECK(m != NULL && m[0] != '\0');
	/* a successful call clears it */
	CHECK_STATUS(container_config_set_init(cfg, true), RT_STATUS_OK);
	CHECK_NO_ERROR();
	/* reading it twice is stable and never NULL */
	CHECK(error_message() != NULL);
	CHECK_STATUS(container_config_set_hostname(cfg, "abitest"), RT_STATUS_OK);
	CHECK_NO_ERROR();
	container_config_free(cfg);
}

static void test_validation(void)
{
	container_config *cfg = new_config();
	container *c = NULL;
	const char *argv[] = {"/bin/true"};
	char long_name[80];

	if (cfg == NULL)
		return;

	/* hostname: UTF-8 required, RFC 1123 */
	CHECK_STATUS(container_config_set_hostname(cfg, "ab\xff\xfe"), RT_STATUS_INVALID_UTF8);
	CHECK_MESSAGE("hostname");
	CHECK_STATUS(container_config_set_hostname(cfg, "bad host!"), RT_STATUS_INVALID_ARG);
	CHECK_MESSAGE("hostname");
	CHECK_STATUS(container_config_set_hostname(cfg, ""), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_set_hostname(cfg, "-leading-dash"), RT_STATUS_INVALID_ARG);
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	CHECK_STATUS(container_config_set_hostname(cfg, long_name), RT_STATUS_INVALID_ARG);
	long_name[64] = '\0';
	CHECK_STATUS(container_config_set_hostname(cfg, long_name), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_hostname(cfg, "abi-test.example"), RT_STATUS_OK);

	/* seccomp: Docker's profile (NULL), unconfined, or a profile file checked when set */
	CHECK_STATUS(container_config_set_seccomp(cfg, "unconfined"), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_seccomp(cfg, NULL), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_seccomp(cfg, "/nonexistent/profile.json"), RT_STATUS_SYSCALL);
	CHECK_MESSAGE("/nonexistent/profile.json");
	CHECK_STATUS(container_config_set_seccomp(cfg, "/etc/hostname"), RT_STATUS_INVALID_ARG);
	CHECK_MESSAGE("seccomp profile");

	/* name */
	CHECK_STATUS(container_config_set_name(cfg, "bad name"), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_set_name(cfg, "abi_test-1.x"), RT_STATUS_OK);

	/* argv */
	CHECK_STATUS(container_config_set_argv(cfg, argv, 0), RT_STATUS_INVALID_ARG);
	CHECK_MESSAGE("argc");

	/* namespaces */
	CHECK_STATUS(container_config_set_namespaces(cfg, RT_NS_ALL | 64u), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_set_namespaces(cfg, 0x80000000u | RT_NS_MOUNT), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_set_namespaces(cfg, RT_NS_UTS), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_set_namespaces(cfg, RT_NS_ALL), RT_STATUS_OK);

	/* env */
	CHECK_STATUS(container_config_add_env(cfg, "NOEQUALS"), RT_STATUS_INVALID_ARG);
	CHECK_MESSAGE("NOEQUALS");
	CHECK_STATUS(container_config_add_env(cfg, "=value"), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_add_env(cfg, "ABI=1"), RT_STATUS_OK);

	/* cwd */
	CHECK_STATUS(container_config_set_cwd(cfg, "relative/dir"), RT_STATUS_INVALID_ARG);
	CHECK_MESSAGE("relative/dir");
	CHECK_STATUS(container_config_set_cwd(cfg, "/a/../b"), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_set_cwd(cfg, "/"), RT_STATUS_OK);

	/* mounts */
	CHECK_STATUS(container_config_add_bind_mount(cfg, "relative", "/mnt", false), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_add_bind_mount(cfg, "/tmp", "mnt", false), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_add_tmpfs(cfg, "tmp", NULL), RT_STATUS_INVALID_ARG);

	/* user */
	CHECK_STATUS(container_config_set_user(cfg, 0xffffffffu, 0), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_set_user(cfg, 0, 0), RT_STATUS_OK);

	/* limits: Docker's keys and units; bad ones are INVALID_ARG naming key and value */
	CHECK_STATUS(container_config_set_limit(cfg, "memory", "32m"), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_limit(cfg, "pids-limit", "100"), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_limit(cfg, "memory", "lots"), RT_STATUS_INVALID_ARG);
	CHECK_MESSAGE2("memory", "lots");
	CHECK_STATUS(container_config_set_limit(cfg, "abi-no-such-limit", "1"), RT_STATUS_INVALID_ARG);
	CHECK_MESSAGE("abi-no-such-limit");
	CHECK_STATUS(container_config_set_limit(cfg, "memory", "\xff"), RT_STATUS_INVALID_UTF8);
	CHECK_STATUS(container_config_set_limit(cfg, "\xff", "1"), RT_STATUS_INVALID_UTF8);

	/* container_open: unknown names fail and leave *out alone */
	c = NULL;
	CHECK_STATUS(container_open("abi-test-no-such-container", &c), RT_STATUS_NO_SUCH_CONTAINER);
	CHECK_MESSAGE("abi-test-no-such-container");
	CHECK(c == NULL);
	CHECK_STATUS(container_open("\xff", &c), RT_STATUS_INVALID_UTF8);
	CHECK(c == NULL);

	/* container_new with a missing rootfs names the path; *out stays untouched */
	CHECK_STATUS(container_config_set_rootfs(cfg, "/nonexistent/abi-test-rootfs"), RT_STATUS_OK);
	c = NULL;
	CHECK(container_new(cfg, &c) != RT_STATUS_OK);
	CHECK_MESSAGE("/nonexistent/abi-test-rootfs");
	CHECK(c == NULL);
	container_free(c);

	/* ... and a rootfs that is a file */
	CHECK_STATUS(container_config_set_rootfs(cfg, "/etc/hostname"), RT_STATUS_OK);
	CHECK(container_new(cfg, &c) != RT_STATUS_OK);
	CHECK_MESSAGE("/etc/hostname");
	CHECK(c == NULL);

	/* no rootfs at all */
	container_config_free(cfg);
	cfg = NULL;
	CHECK_STATUS(container_config_new(&cfg), RT_STATUS_OK);
	CHECK(container_new(cfg, &c) != RT_STATUS_OK);
	CHECK(error_message()[0] != '\0');
	CHECK(c == NULL);
	container_config_free(cfg);
}

static void test_states(void)
{
	container_config *cfg = new_config();
	container *c = NULL;
	int value = -1;
	char buf[80];
	char small[10];
	size_t len = 0;
	size_t i;
	const char *exec_argv[] = {"/bin/true"};
	uint64_t counter = 0;
	bool flag = false;

	if (cfg == NULL)
		return;
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
	/* the configuration may be freed once the container exists */
	container_config_free(cfg);
	if (c == NULL)
		return;

	CHECK_STATUS(container_wait(c, &value), RT_STATUS_STATE);
	CHECK(error_message()[0] != '\0');
	CHECK(value == -1);
	CHECK_STATUS(container_exit_signal(c, &value), RT_STATUS_STATE);
	CHECK_STATUS(container_pid(c, &value), RT_STATUS_STATE);
	CHECK(value == -1);
	CHECK_STATUS(container_kill(c, SIGTERM), RT_STATUS_STATE);
	CHECK_STATUS(container_stop(c, 100), RT_STATUS_STATE);
	CHECK_STATUS(container_exec(c, exec_argv, 1, NULL, 0, false, &value), RT_STATUS_STATE);
	CHECK_STATUS(container_exec(c, exec_argv, 0, NULL, 0, false, &value), RT_STATUS_INVALID_ARG);
	CHECK(value == -1);
	CHECK_STATUS(container_oom_killed(c, &flag), RT_STATUS_STATE);
	CHECK_STATUS(cgroup_stat(c, "pids.current", &counter), RT_STATUS_STATE);
	CHECK_STATUS(cgroup_get(c, "memory", buf, sizeof buf, &len), RT_STATUS_STATE);
	/* before start, a limit is recorded (and still validated) */
	CHECK_STATUS(cgroup_set(c, "memory", "64m"), RT_STATUS_OK);
	CHECK_STATUS(cgroup_set(c, "memory", "lots"), RT_STATUS_INVALID_ARG);

	/* the signal number is checked before the state */
	CHECK_STATUS(container_kill(c, 0), RT_STATUS_INVALID_ARG);
	CHECK_MESSAGE("0");
	CHECK_STATUS(container_kill(c, 65), RT_STATUS_INVALID_ARG);
	CHECK_MESSAGE("65");
	CHECK_STATUS(container_kill(c, -9), RT_STATUS_INVALID_ARG);

	/* the id: 64 hex digits; too small a buffer reports the needed length */
	len = 0;
	CHECK_STATUS(container_id(c, small, sizeof small, &len), RT_STATUS_BUFFER_TOO_SMALL);
	CHECK(len == 64);
	CHECK_MESSAGE("too small");
	len = 0;
	CHECK_STATUS(container_id(c, buf, 64, &len), RT_STATUS_BUFFER_TOO_SMALL);
	CHECK(len == 64);
	len = 0;
	memset(buf, 'X', sizeof buf);
	CHECK_STATUS(container_id(c, buf, 65, &len), RT_STATUS_OK);
	CHECK_NO_ERROR();
	CHECK(len == 64 && strlen(buf) == 64);
	for (i = 0; i < 64; i++) {
		if (strchr("0123456789abcdef", buf[i]) == NULL || buf[i] == '\0')
			break;
	}
	CHECK(i == 64);

	container_free(c);
}

/* ---- part 2: real containers (root) ----------------------------------------------------- */

struct run_opts {
	const char *hostname; /* NULL: default */
	bool init;
};

/* Creates, starts and waits for a container of argv; returns the start status. */
static int run(const char *const *argv, size_t argc, const struct run_opts *opts, int *out_status)
{
	container_config *cfg = new_config();
	container *c = NULL;
	int rc;

	*out_status = -1;
	if (cfg == NULL)
		return -1;
	CHECK_STATUS(container_config_set_argv(cfg, argv, argc), RT_STATUS_OK);
	if (opts != NULL && opts->hostname != NULL)
		CHECK_STATUS(container_config_set_hostname(cfg, opts->hostname), RT_STATUS_OK);
	if (opts != NULL)
		CHECK_STATUS(container_config_set_init(cfg, opts->init), RT_STATUS_OK);
	rc = container_new(cfg, &c);
	container_config_free(cfg);
	if (rc != RT_STATUS_OK) {
		fprintf(stderr, "container_new(%s): %s\n", argv[0], error_message());
		return rc;
	}
	rc = container_start(c);
	if (rc == RT_STATUS_OK) {
		int wrc = container_wait(c, out_status);
		if (wrc != RT_STATUS_OK) {
			fprintf(stderr, "container_wait(%s): %s\n", argv[0], error_message());
			rc = wrc;
		}
	}
	/* keep the start failure's message readable by the caller: container_free never reports */
	container_free(c);
	return rc;
}

static void test_exit_codes(void)
{
	const char *exit3[] = {"/bin/sh", "-c", "exit 3"};
	const char *truecmd[] = {"/bin/true"};
	const char *falsecmd[] = {"false"}; /* looked up in PATH */
	const char *pid1[] = {"/bin/sh", "-c", "test $$ = 1"};
	const char *host[] = {"/bin/sh", "-c", "test \"$(hostname)\" = abitest"};
	const char *exit5[] = {"sh", "-c", "exit 5"};
	struct run_opts opts = {NULL, false};
	int status;

	CHECK_STATUS(run(exit3, 3, NULL, &status), RT_STATUS_OK);
	CHECK(status == 3);
	CHECK_STATUS(run(truecmd, 1, NULL, &status), RT_STATUS_OK);
	CHECK(status == 0);
	CHECK_STATUS(run(falsecmd, 1, NULL, &status), RT_STATUS_OK);
	CHECK(status == 1);
	/* output is not capturable through the API: assert through exit statuses */
	CHECK_STATUS(run(pid1, 3, NULL, &status), RT_STATUS_OK);
	CHECK(status == 0);
	opts.hostname = "abitest";
	CHECK_STATUS(run(host, 3, &opts, &status), RT_STATUS_OK);
	CHECK(status == 0);
	/* the default hostname is not abitest: the same check fails */
	CHECK_STATUS(run(host, 3, NULL, &status), RT_STATUS_OK);
	CHECK(status == 1);
	opts.hostname = NULL;
	opts.init = true;
	CHECK_STATUS(run(exit5, 3, &opts, &status), RT_STATUS_OK);
	CHECK(status == 5);
	/* with init, the command is no longer PID 1 */
	CHECK_STATUS(run(pid1, 3, &opts, &status), RT_STATUS_OK);
	CHECK(status == 1);
}

static void test_not_found(void)
{
	const char *nope[] = {"/bin/nope"};
	const char *nope_path[] = {"abi-test-no-such-command"};
	int status;

	CHECK_STATUS(run(nope, 1, NULL, &status), RT_STATUS_NOT_FOUND);
	CHECK_MESSAGE2("/bin/nope", "No such file");
	CHECK(error_errno() == ENOENT);
	CHECK_STATUS(run(nope_path, 1, NULL, &status), RT_STATUS_NOT_FOUND);
	CHECK_MESSAGE("abi-test-no-such-command");
}

static void test_kill_and_pid(void)
{
	const char *sleep30[] = {"/bin/sleep", "30"};
	container_config *cfg = new_config();
	container *c = NULL;
	int pid = 0;
	int status = -1;
	int sig = -1;
	char proc[64];
	struct stat st;

	if (cfg == NULL)
		return;
	CHECK_STATUS(container_config_set_argv(cfg, sleep30, 2), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
	container_config_free(cfg);
	if (c == NULL)
		return;
	CHECK_STATUS(container_start(c), RT_STATUS_OK);
	CHECK_NO_ERROR();
	/* a second start is a state error */
	CHECK_STATUS(container_start(c), RT_STATUS_STATE);

	CHECK_STATUS(container_pid(c, &pid), RT_STATUS_OK);
	CHECK(pid > 0);
	snprintf(proc, sizeof proc, "/proc/%d", pid);
	CHECK(pid > 0 && stat(proc, &st) == 0);
	CHECK_STATUS(container_exit_signal(c, &sig), RT_STATUS_STATE);

	CHECK_STATUS(container_kill(c, SIGKILL), RT_STATUS_OK);
	CHECK_STATUS(container_wait(c, &status), RT_STATUS_OK);
	CHECK(status == 137);
	CHECK_STATUS(container_exit_signal(c, &sig), RT_STATUS_OK);
	CHECK(sig == 9);
	/* waiting again returns the same status; the process is gone */
	status = -1;
	CHECK_STATUS(container_wait(c, &status), RT_STATUS_OK);
	CHECK(status == 137);
	CHECK(stat(proc, &st) != 0);
	CHECK_STATUS(container_pid(c, &pid), RT_STATUS_STATE);
	CHECK_STATUS(container_kill(c, SIGTERM), RT_STATUS_STATE);
	container_free(c);
}

static void test_normal_exit_signal(void)
{
	const char *exit3[] = {"/bin/sh", "-c", "exit 3"};
	container_config *cfg = new_config();
	container *c = NULL;
	int status = -1;
	int sig = -1;

	if (cfg == NULL)
		return;
	CHECK_STATUS(container_config_set_argv(cfg, exit3, 3), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
	container_config_free(cfg);
	if (c == NULL)
		return;
	CHECK_STATUS(container_start(c), RT_STATUS_OK);
	CHECK_STATUS(container_wait(c, &status), RT_STATUS_OK);
	CHECK(status == 3);
	CHECK_STATUS(container_exit_signal(c, &sig), RT_STATUS_OK);
	CHECK(sig == 0);
	container_free(c);
}

/* The state letter of a process (R, S, Z, ...), 0 when it is gone. */
static char proc_state(int pid)
{
	char path[64];
	char line[512];
	char *paren;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	paren = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
	fclose(f);
	return paren != NULL && paren[1] == ' ' ? paren[2] : 0;
}

/*
 * The pid container_list_new lists for id (0 when it is not listed), reading every entry's
 * fields on the way.
 */
static int listed_pid(const char *id)
{
	container_list *list = NULL;
	size_t count = 0;
	int found = 0;

	CHECK_STATUS(container_list_new(&list), RT_STATUS_OK);
	CHECK_STATUS(container_list_count(list, &count), RT_STATUS_OK);
	for (size_t i = 0; i < count; i++) {
		char entry_id[65], name[80], command[256];
		size_t len = 0;
		uint64_t created = 0;
		int pid = 0;

		CHECK_STATUS(container_list_id(list, i, entry_id, sizeof entry_id, &len), RT_STATUS_OK);
		CHECK(len == 64);
		CHECK_STATUS(container_list_name(list, i, name, sizeof name, &len), RT_STATUS_OK);
		CHECK_STATUS(container_list_command(list, i, command, sizeof command, &len), RT_STATUS_OK);
		CHECK_STATUS(container_list_pid(list, i, &pid), RT_STATUS_OK);
		CHECK_STATUS(container_list_created(list, i, &created), RT_STATUS_OK);
		CHECK(pid > 0 && created > 0);
		if (strncmp(entry_id, id, strlen(id)) == 0)
			found = pid;
	}
	container_list_free(list);
	return found;
}

/* Limits, counters, exec, open, list and stop on a running container. */
static void test_running_container_api(void)
{
	const char *sleep30[] = {"/bin/sleep", "30"};
	const char *exit4[] = {"/bin/sh", "-c", "exit 4"};
	const char *env_test[] = {"/bin/sh", "-c", "test \"$ABI\" = 7 && test \"$(hostname)\" = abiexec"};
	const char *env[] = {"ABI=7"};
	const char *nope[] = {"/bin/nope"};
	container_config *cfg = new_config();
	container *c = NULL;
	container *opened = NULL;
	char id[65];
	char buf[4096];
	char small[4];
	size_t len = 0;
	uint64_t counter = 0;
	int pid = 0;
	int other_pid = 0;
	int status = -1;
	int sig = -1;
	bool oom = true;
	char proc[64];
	struct stat st;

	if (cfg == NULL)
		return;
	CHECK_STATUS(container_config_set_argv(cfg, sleep30, 2), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_hostname(cfg, "abiexec"), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_limit(cfg, "pids-limit", "100"), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_limit(cfg, "memory", "64m"), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
	container_config_free(cfg);
	if (c == NULL)
		return;
	CHECK_STATUS(container_start(c), RT_STATUS_OK);
	CHECK_STATUS(container_pid(c, &pid), RT_STATUS_OK);
	CHECK_STATUS(container_id(c, id, sizeof id, &len), RT_STATUS_OK);

	/* limits read back from the cgroup, and changed while running */
	CHECK_STATUS(cgroup_get(c, "pids-limit", buf, sizeof buf, &len), RT_STATUS_OK);
	CHECK(strcmp(buf, "100") == 0 && len == 3);
	CHECK_STATUS(cgroup_get(c, "memory", buf, sizeof buf, &len), RT_STATUS_OK);
	CHECK(strcmp(buf, "67108864") == 0);
	CHECK_STATUS(cgroup_set(c, "memory", "128m"), RT_STATUS_OK);
	CHECK_STATUS(cgroup_get(c, "memory", buf, sizeof buf, &len), RT_STATUS_OK);
	CHECK(strcmp(buf, "134217728") == 0);
	len = 0;
	CHECK_STATUS(cgroup_get(c, "memory", small, sizeof small, &len), RT_STATUS_BUFFER_TOO_SMALL);
	CHECK(len == 9);
	CHECK_STATUS(cgroup_set(c, "memory", "lots"), RT_STATUS_INVALID_ARG);
	CHECK_NULL_ARG(cgroup_get(c, "memory", buf, sizeof buf, NULL), "out_len");
	CHECK_STATUS(cgroup_stat(c, "pids.current", &counter), RT_STATUS_OK);
	CHECK(counter >= 1 && counter < 100);
	CHECK_STATUS(cgroup_stat(c, "abi-bogus", &counter), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_oom_killed(c, &oom), RT_STATUS_STATE);

	/* exec: exit codes, env, the container's hostname; a missing command */
	CHECK_STATUS(container_exec(c, exit4, 3, NULL, 0, false, &status), RT_STATUS_OK);
	CHECK(status == 4);
	status = -1;
	CHECK_STATUS(container_exec(c, env_test, 3, env, 1, false, &status), RT_STATUS_OK);
	CHECK(status == 0);
	CHECK(container_exec(c, nope, 1, NULL, 0, false, &status) != RT_STATUS_OK);
	CHECK_MESSAGE("/bin/nope");

	/* listed, and openable by id and by a unique prefix; freeing that handle keeps it running */
	CHECK(listed_pid(id) == pid);
	CHECK_STATUS(container_open(id, &opened), RT_STATUS_OK);
	if (opened != NULL) {
		CHECK_STATUS(container_pid(opened, &other_pid), RT_STATUS_OK);
		CHECK(other_pid == pid);
		CHECK_STATUS(container_wait(opened, &status), RT_STATUS_STATE);
		container_free(opened);
		opened = NULL;
	}
	snprintf(proc, sizeof proc, "/proc/%d", pid);
	CHECK(stat(proc, &st) == 0);
	id[16] = '\0';
	CHECK_STATUS(container_open(id, &opened), RT_STATUS_OK);
	container_free(opened);
	CHECK(stat(proc, &st) == 0);

	/* stop: sleep as PID 1 ignores SIGTERM, so SIGKILL after the timeout; exited (a zombie
	 * until container_wait reaps it) when stop returns */
	CHECK_STATUS(container_stop(c, 200), RT_STATUS_OK);
	CHECK(proc_state(pid) == 'Z' || proc_state(pid) == 0);
	CHECK_STATUS(container_wait(c, &status), RT_STATUS_OK);
	CHECK(status == 137 || status == 143);
	CHECK_STATUS(container_exit_signal(c, &sig), RT_STATUS_OK);
	CHECK(sig == status - 128);
	CHECK_STATUS(container_oom_killed(c, &oom), RT_STATUS_OK);
	CHECK(!oom);
	CHECK_STATUS(container_stop(c, 0), RT_STATUS_STATE);
	CHECK(listed_pid(id) == 0);
	container_free(c);
}

/* A running container freed without wait is killed and reaped. */
static void test_free_running(void)
{
	const char *sleep30[] = {"/bin/sleep", "30"};
	container_config *cfg = new_config();
	container *c = NULL;
	int pid = 0;
	char proc[64];
	struct stat st;

	if (cfg == NULL)
		return;
	CHECK_STATUS(container_config_set_argv(cfg, sleep30, 2), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
	container_config_free(cfg);
	if (c == NULL)
		return;
	CHECK_STATUS(container_start(c), RT_STATUS_OK);
	CHECK_STATUS(container_pid(c, &pid), RT_STATUS_OK);
	container_free(c);
	snprintf(proc, sizeof proc, "/proc/%d", pid);
	CHECK(pid > 0 && stat(proc, &st) != 0 && errno == ENOENT);
}

/* A C host that reaps the container's process itself (waitpid(-1), as SIGCHLD handlers do)
 * must not have container_kill or container_free signal whoever gets that pid next: a decoy
 * child of ours is given the same pid (through ns_last_pid) and must survive both. */
static void test_reaped_pid_is_never_signalled(void)
{
	const char *sleep30[] = {"/bin/sleep", "30"};
	container_config *cfg = new_config();
	container *c = NULL;
	int pid = 0, status = 0, i;
	pid_t decoy = -1;
	FILE *f;

	if (cfg == NULL)
		return;
	CHECK_STATUS(container_config_set_argv(cfg, sleep30, 2), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
	container_config_free(cfg);
	if (c == NULL)
		return;
	CHECK_STATUS(container_start(c), RT_STATUS_OK);
	CHECK_STATUS(container_pid(c, &pid), RT_STATUS_OK);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid); /* the host reaps it, not the library */
	for (i = 0; i < 100 && decoy != pid; i++) {
		if (decoy > 0) {
			kill(decoy, SIGKILL);
			waitpid(decoy, NULL, 0);
		}
		f = fopen("/proc/sys/kernel/ns_last_pid", "w");
		if (f == NULL)
			break;
		fprintf(f, "%d", pid - 1);
		fclose(f);
		decoy = fork();
		if (decoy == 0) {
			pause();
			_exit(0);
		}
	}
	if (decoy != pid) {
		if (decoy > 0) {
			kill(decoy, SIGKILL);
			waitpid(decoy, NULL, 0);
		}
		container_free(c);
		skip("no process could be given the reaped pid (ns_last_pid)");
		return;
	}
	CHECK(container_kill(c, SIGKILL) != RT_STATUS_OK);
	container_free(c);
	CHECK(waitpid(decoy, &status, WNOHANG) == 0); /* the decoy is alive */
	kill(decoy, SIGKILL);
	waitpid(decoy, NULL, 0);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n;
}

static void test_fd_hygiene(void)
{
	const char *truecmd[] = {"/bin/true"};
	int before, after, i, bad = 0;

	before = count_fds();
	for (i = 0; i < 50; i++) {
		int status = -1;
		if (run(truecmd, 1, NULL, &status) != RT_STATUS_OK || status != 0)
			bad++;
	}
	after = count_fds();
	CHECK(bad == 0);
	CHECK(before > 0);
	if (before != after)
		fprintf(stderr, "fd count: %d before, %d after 50 containers\n", before, after);
	CHECK(before == after);
}

/*
 * The caller's descriptors never reach the container: an O_CLOEXEC one and a plain one, both
 * on the host's "/" (a leaked directory fd is a way out of the rootfs through /proc/<pid>/fd).
 * Checked in the command and in PID 1, which is the init when init is on.
 */
static void test_host_fds_not_inherited(bool init)
{
	char script[256];
	const char *argv[] = {"/bin/sh", "-c", script};
	struct run_opts opts = {NULL, init};
	int status = -1;
	int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int a = root < 0 ? -1 : fcntl(root, F_DUPFD_CLOEXEC, 100);
	int b = root < 0 ? -1 : fcntl(root, F_DUPFD, 100);

	CHECK(root >= 0 && a >= 100 && b >= 100);
	snprintf(script, sizeof script,
		 "for f in /proc/self/fd/%d /proc/self/fd/%d /proc/1/fd/%d /proc/1/fd/%d; do "
		 "if test -e $f; then echo \"host fd leaked: $f\" >&2; exit 1; fi; done",
		 a, b, a, b);
	CHECK_STATUS(run(argv, 3, &opts, &status), RT_STATUS_OK);
	if (status != 0)
		fprintf(stderr, "host fds %d, %d reached the container (init=%d)\n", a, b, (int)init);
	CHECK(status == 0);
	if (b >= 0)
		close(b);
	if (a >= 0)
		close(a);
	if (root >= 0)
		close(root);
}

/* ---- images -------------------------------------------------------------------------- */

static char image_dir[64];       /* a temp dir: the store, the archives */
static char image_store_dir[96]; /* image_dir/store */

/* Runs a shell command (the archive makers); true on exit status 0. */
static bool sh(const char *cmd)
{
	int rc = system(cmd);
	return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

/* Copies field `get` of entry i into buf; "" on failure (counted). */
static const char *image_field(int (*get)(const image_list *, size_t, char *, size_t, size_t *),
			       const image_list *l, size_t i, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	CHECK_STATUS(get(l, i, buf, cap, &len), RT_STATUS_OK);
	return buf;
}

static bool has_name(const image_list *l, size_t i, const char *want)
{
	size_t n = 0, len = 0;
	char buf[256];
	CHECK_STATUS(image_list_name_count(l, i, &n), RT_STATUS_OK);
	for (size_t j = 0; j < n; j++)
		if (image_list_name(l, i, j, buf, sizeof buf, &len) == RT_STATUS_OK && strcmp(buf, want) == 0)
			return true;
	return false;
}

/* The store without containers: NULL arguments, import, load (good and bad archives), find,
 * list, tag, remove; the config setter's checks. */
static void test_image_store(void)
{
	image_store *s = NULL;
	image_list *l = NULL;
	container_config *cfg = NULL;
	container *c = NULL;
	char cmd[512], path[160], buf[256];
	size_t n = 0, len = 0;
	uint64_t size = 0;

	strcpy(image_dir, "/tmp/abi-images.XXXXXX");
	if (mkdtemp(image_dir) == NULL) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(image_store_dir, sizeof image_store_dir, "%s/store", image_dir);
	snprintf(cmd, sizeof cmd, "tar -C '%s' -cf '%s/rootfs.tar' . && tests/helpers/mkimage.sh '%s/layers.tar' '%s' >/dev/null",
		 rootfs, image_dir, image_dir, rootfs);
	CHECK(sh(cmd));

	CHECK_NULL_ARG(image_store_open(image_store_dir, NULL), "out");
	CHECK_STATUS(image_store_open(image_store_dir, &s), RT_STATUS_OK);
	CHECK_NO_ERROR();
	CHECK_NULL_ARG(image_load(NULL, "x", &l), "store");
	CHECK_NULL_ARG(image_load(s, NULL, &l), "path");
	CHECK_NULL_ARG(image_import(NULL, "x", NULL, &l), "store");
	CHECK_NULL_ARG(image_tag(s, NULL, "a"), "image");
	CHECK_NULL_ARG(image_remove(s, NULL, 0, &l), "image");
	CHECK_NULL_ARG(image_find(s, "a", NULL), "out");
	CHECK_NULL_ARG(image_list_new(NULL, &l), "store");
	CHECK_NULL_ARG(image_list_count(NULL, &n), "list");

	/* import: a one-layer image with a name */
	snprintf(path, sizeof path, "%s/rootfs.tar", image_dir);
	CHECK_STATUS(image_import(s, path, "abi-import:1", &l), RT_STATUS_OK);
	CHECK_STATUS(image_list_count(l, &n), RT_STATUS_OK);
	CHECK(n == 1);
	CHECK(strncmp(image_field(image_list_id, l, 0, buf, sizeof buf), "sha256:", 7) == 0);
	CHECK(has_name(l, 0, "abi-import:1"));
	image_list_free(l);
	l = NULL;

	/* bad archives: not an archive, missing, truncated (before the good load: a layer the
	 * store has already is not read again) */
	snprintf(cmd, sizeof cmd, "echo not an archive >'%s/junk.tar' && head -c 20000 '%s/layers.tar' >'%s/cut.tar'",
		 image_dir, image_dir, image_dir);
	CHECK(sh(cmd));
	snprintf(path, sizeof path, "%s/junk.tar", image_dir);
	CHECK_STATUS(image_load(s, path, &l), RT_STATUS_BAD_IMAGE);
	CHECK_MESSAGE(path);
	snprintf(path, sizeof path, "%s/cut.tar", image_dir);
	CHECK_STATUS(image_load(s, path, &l), RT_STATUS_BAD_IMAGE);
	snprintf(path, sizeof path, "%s/missing.tar", image_dir);
	CHECK_STATUS(image_load(s, path, &l), RT_STATUS_SYSCALL);
	CHECK(error_errno() == ENOENT);
	CHECK(l == NULL);

	/* load: two layers with a whiteout and an opaque dir; warnings are a string */
	snprintf(path, sizeof path, "%s/layers.tar", image_dir);
	CHECK_STATUS(image_load(s, path, &l), RT_STATUS_OK);
	CHECK(l != NULL && has_name(l, 0, "localhost/dr-layers:v1"));
	CHECK_STATUS(image_list_warnings(l, NULL, 0, &len), RT_STATUS_BUFFER_TOO_SMALL);
	{
		char *w = malloc(len + 1);
		CHECK(w != NULL);
		if (w != NULL) {
			CHECK_STATUS(image_list_warnings(l, w, len + 1, &len), RT_STATUS_OK);
			if (w[0] != '\0')
				printf("note: load warnings: %s\n", w);
		}
		free(w);
	}
	CHECK_STATUS(image_list_size(l, 0, &size), RT_STATUS_OK);
	CHECK(size > 0);
	CHECK(strcmp(image_field(image_list_created, l, 0, buf, sizeof buf), "2026-01-02T03:04:05Z") == 0);
	CHECK_STATUS(image_list_id(l, 0, buf, 4, &len), RT_STATUS_BUFFER_TOO_SMALL);
	CHECK(len == 71);
	CHECK_STATUS(image_list_id(l, 1, buf, sizeof buf, &len), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(image_list_name(l, 0, 9, buf, sizeof buf, &len), RT_STATUS_INVALID_ARG);
	image_list_free(l);
	l = NULL;
	CHECK_STATUS(image_load(s, path, NULL), RT_STATUS_OK); /* again: nothing new, no list */

	/* find, tag, list */
	CHECK_STATUS(image_find(s, "dr-layers:v1", &l), RT_STATUS_OK); /* localhost/ implied */
	image_list_free(l);
	l = NULL;
	CHECK_STATUS(image_find(s, "nothere", &l), RT_STATUS_NO_SUCH_IMAGE);
	CHECK_MESSAGE("no such image: nothere");
	CHECK_STATUS(image_tag(s, "abi-import:1", "abi-import:2"), RT_STATUS_OK);
	CHECK_STATUS(image_tag(s, "nothere", "x:1"), RT_STATUS_NO_SUCH_IMAGE);
	CHECK_STATUS(image_tag(s, "abi-import:1", "Bad Name"), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(image_list_new(s, &l), RT_STATUS_OK);
	CHECK_STATUS(image_list_count(l, &n), RT_STATUS_OK);
	CHECK(n == 2);
	image_list_free(l);
	l = NULL;

	/* the config setter: checked at container_new */
	CHECK_STATUS(container_config_new(&cfg), RT_STATUS_OK);
	CHECK_NULL_ARG(container_config_set_image(NULL, s, "x"), "cfg");
	CHECK_NULL_ARG(container_config_set_image(cfg, s, NULL), "image");
	CHECK_STATUS(container_config_set_image(cfg, s, ""), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(container_config_set_image(cfg, s, "nothere"), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_NO_SUCH_IMAGE);
	CHECK_STATUS(container_config_set_image(cfg, s, "abi-import:1"), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_INVALID_ARG); /* no Cmd, no argv */
	CHECK_MESSAGE("no command specified");
	CHECK_STATUS(container_config_set_rootfs(cfg, rootfs), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_INVALID_ARG);
	CHECK_MESSAGE("choose one");
	CHECK(c == NULL);
	container_config_free(cfg);

	/* remove: a name, then the image; unknown flags */
	CHECK_STATUS(image_remove(s, "abi-import:1", 2, &l), RT_STATUS_INVALID_ARG);
	CHECK_STATUS(image_remove(s, "abi-import:1", 0, &l), RT_STATUS_OK);
	CHECK(l != NULL && has_name(l, 0, "abi-import:1"));
	CHECK(l != NULL && strcmp(image_field(image_list_id, l, 0, buf, sizeof buf), "") == 0); /* still named */
	image_list_free(l);
	l = NULL;
	CHECK_STATUS(image_remove(s, "abi-import:2", RT_IMAGE_REMOVE_FORCE, &l), RT_STATUS_OK);
	CHECK(l != NULL && strncmp(image_field(image_list_id, l, 0, buf, sizeof buf), "sha256:", 7) == 0);
	image_list_free(l);
	l = NULL;
	CHECK_STATUS(image_remove(s, "abi-import:2", 0, NULL), RT_STATUS_NO_SUCH_IMAGE);
	image_store_free(s);
	image_store_free(NULL);
	image_list_free(NULL);
}

/* As root: the loaded image runs with its Cmd, Env and WorkingDir; argv replaces Cmd; the
 * top layer's file is there, the whiteout and the opaque dir hide the lower ones. */
static void test_image_containers(void)
{
	image_store *s = NULL;
	container_config *cfg = NULL;
	container *c = NULL;
	int status = -1;
	const char *probe[] = {"/bin/sh", "-c",
			       "test \"$GREETING\" = hello && test \"$(pwd)\" = /srv && "
			       "test \"$(cat /srv/hello)\" = 'from the top layer' && test ! -e /etc/wh-victim && "
			       "test ! -e /opq/old && test -e /opq/new && exit 7"};
	char cmd[160];

	CHECK_STATUS(image_store_open(image_store_dir, &s), RT_STATUS_OK);
	CHECK_STATUS(container_config_new(&cfg), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_image(cfg, s, "localhost/dr-layers:v1"), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_argv(cfg, probe, 3), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
	CHECK_STATUS(container_start(c), RT_STATUS_OK);
	CHECK_STATUS(container_wait(c, &status), RT_STATUS_OK);
	CHECK(status == 7);
	container_free(c);
	c = NULL;
	/* A user -e wins over the image's Env, the image's Cmd runs without argv. */
	container_config_free(cfg);
	CHECK_STATUS(container_config_new(&cfg), RT_STATUS_OK);
	CHECK_STATUS(container_config_set_image(cfg, s, "dr-layers:v1"), RT_STATUS_OK);
	CHECK_STATUS(container_config_add_env(cfg, "GREETING=bye"), RT_STATUS_OK);
	CHECK_STATUS(container_new(cfg, &c), RT_STATUS_OK);
	CHECK_STATUS(container_start(c), RT_STATUS_OK);
	CHECK_STATUS(container_wait(c, &status), RT_STATUS_OK);
	CHECK(status == 0);
	container_free(c);
	container_config_free(cfg);
	CHECK_STATUS(image_remove(s, "localhost/dr-layers:v1", 0, NULL), RT_STATUS_OK);
	image_store_free(s);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", image_dir);
	CHECK(sh(cmd));
}

static void test_panic(void)
{
#if defined(CONTAINER_RUNTIME_TEST_PANIC)
	CHECK_STATUS(runtime_test_panic(), RT_STATUS_PANIC);
	CHECK_MESSAGE("panic");
	CHECK_STATUS(container_config_new(NULL), RT_STATUS_NULL_ARG); /* still usable after */
#else
	printf("note: panic -> RT_STATUS_PANIC not checked (needs -DCONTAINER_RUNTIME_TEST_PANIC and the test-panic feature)\n");
#endif
}

int main(int argc, char **argv)
{
	bool containers = true;
	struct stat st;

	if (argc < 2) {
		fprintf(stderr, "usage: %s ROOTFS [--no-containers]\n", argv[0]);
		return 2;
	}
	rootfs = argv[1];
	if (argc > 2 && strcmp(argv[2], "--no-containers") == 0)
		containers = false;
	if (stat(rootfs, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: not a directory (build it with make rootfs)\n", rootfs);
		return 2;
	}

	test_version();
	test_netlink_backend();
	test_free_null();
	test_config_null_args();
	test_container_null_args();
	test_net_args();
	test_network_config();
	test_layer_config();
	test_bundle_config();
	test_error_message_lifecycle();
	test_validation();
	test_states();
	test_panic();
	test_image_store();

	if (!containers) {
		printf("skipped: container tests (--no-containers)\n");
	} else if (geteuid() != 0) {
		skip("root tests need root");
	} else {
		test_exit_codes();
		test_bundle_run();
		test_not_found();
		test_kill_and_pid();
		test_normal_exit_signal();
		test_free_running();
		test_reaped_pid_is_never_signalled();
		test_running_container_api();
		test_fd_hygiene();
		test_host_fds_not_inherited(false);
		test_host_fds_not_inherited(true);
		test_image_containers();
	}
	if (!containers || geteuid() != 0) {
		char cmd[160];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", image_dir);
		CHECK(image_dir[0] == '\0' || sh(cmd));
	}

	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
