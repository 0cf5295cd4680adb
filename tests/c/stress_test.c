/*
 * Memory safety of the C boundary under repetition: creates, starts, waits for and frees N
 * containers and their configurations (default 1000), every tenth one a failing start (a
 * missing command: the error path, its message and its cleanup), every one with its id, pid and
 * a refused limit on the way. tests/stress.sh runs it under valgrind memcheck and built with
 * -fsanitize=address.
 *   stress_test ROOTFS [N]      (root: real containers, --network none)
 * Ends with `N passed, N failed` on its own line; non-zero on failure.
 */
#include <container_runtime.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void check(int ok, const char *what, int i) {
    if (ok) {
        passed++;
    } else {
        failed++;
        if (failed <= 20) {
            fprintf(stderr, "FAIL %s (container %d): %s (errno %d)\n", what, i, error_message(),
                    error_errno());
        }
    }
}

/* One container's whole life; every step is a check. */
static void one(const char *rootfs, int i) {
    container_config *cfg = NULL;
    container *c = NULL;
    int bad = i % 10 == 9;
    const char *ok_argv[] = {"/bin/sh", "-c", "exit 3"};
    const char *bad_argv[] = {"/bin/nope-stress"};
    char id[80];
    size_t len = 0;
    int pid = 0, status = -1;

    check(container_config_new(&cfg) == RT_STATUS_OK, "container_config_new", i);
    if (!cfg) return;
    check(container_config_set_rootfs(cfg, rootfs) == RT_STATUS_OK, "set_rootfs", i);
    check(container_config_set_network(cfg, RT_NETWORK_MODE_NONE) == RT_STATUS_OK, "set_network", i);
    check(container_config_set_hostname(cfg, "stress") == RT_STATUS_OK, "set_hostname", i);
    check(container_config_add_env(cfg, "STRESS=1") == RT_STATUS_OK, "add_env", i);
    check(container_config_set_limit(cfg, "pids-limit", "64") == RT_STATUS_OK, "set_limit", i);
    /* A refused value on the way: the error path of a setter, every time. */
    check(container_config_set_limit(cfg, "memory", "12x") == RT_STATUS_INVALID_ARG, "bad limit", i);
    check(strlen(error_message()) > 0, "bad limit has a message", i);
    if (bad) {
        check(container_config_set_argv(cfg, bad_argv, 1) == RT_STATUS_OK, "set_argv", i);
    } else {
        check(container_config_set_argv(cfg, ok_argv, 3) == RT_STATUS_OK, "set_argv", i);
    }
    check(container_new(cfg, &c) == RT_STATUS_OK, "container_new", i);
    container_config_free(cfg); /* the container keeps its own copy */
    if (!c) return;
    check(container_id(c, id, sizeof id, &len) == RT_STATUS_OK && len == 64, "container_id", i);
    int rc = container_start(c);
    if (bad) {
        check(rc == RT_STATUS_NOT_FOUND, "missing command gives NOT_FOUND", i);
        check(strstr(error_message(), "nope-stress") != NULL, "the message names the command", i);
    } else {
        check(rc == RT_STATUS_OK, "container_start", i);
        check(container_pid(c, &pid) == RT_STATUS_OK && pid > 0, "container_pid", i);
        check(container_wait(c, &status) == RT_STATUS_OK, "container_wait", i);
        check(status == 3, "exit status 3", i);
    }
    container_free(c);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s ROOTFS [N]\n", argv[0]);
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    for (int i = 0; i < n; i++) {
        one(argv[1], i);
        if ((i + 1) % 100 == 0) {
            fprintf(stderr, "  %d containers\n", i + 1);
        }
    }
    /* The NULL cases stay cheap and must not leak either. */
    container_free(NULL);
    container_config_free(NULL);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
