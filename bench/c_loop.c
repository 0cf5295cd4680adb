/* c_loop.c - start-to-exit latency of containers through the C ABI, in ONE process.
 *
 * Each container is container_config_new .. container_new .. container_start ..
 * container_wait .. container_free, timed inside this process with CLOCK_MONOTONIC, so
 * docker-run's own process start (exec, dynamic loading, argument parsing) is not part
 * of the number: this is what the library itself costs per container.
 *
 * Usage:
 *   c_loop [-b] [-m] [-n N] ROOTFS
 *     -n N  run N containers back to back and print one line per container:
 *           "<microseconds>" (then exit 0 if all of them exited 0)
 *     no -n: serve mode, for bench/run.sh: for every line read on stdin run ONE
 *           container and answer with one line "<microseconds> <exit status>", so
 *           this process's containers can be interleaved with the other rows.
 *     -b    bridge networking (default: network mode none, only lo)
 *     -m    limits: memory 64m and pids 128 (as docker-run -m 64m --pids-limit 128)
 *
 * Build: cc -O2 -Iinclude bench/c_loop.c target/release/libcontainer_runtime.a \
 *          -lpthread -ldl -lm -lrt -o bench/out/c_loop
 */
#define _GNU_SOURCE
#include <container_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int bridge, limits;
static const char *rootfs;

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* One container; returns its exit status (or -1 and a message on stderr). */
static int one(long long *elapsed_us)
{
	static const char *const args[] = {"/bin/true"};
	container_config *cfg = NULL;
	container *c = NULL;
	int status = -1;
	long long t0 = now_us();

	if (container_config_new(&cfg) != RT_STATUS_OK ||
	    container_config_set_rootfs(cfg, rootfs) != RT_STATUS_OK ||
	    container_config_set_argv(cfg, args, 1) != RT_STATUS_OK ||
	    container_config_set_network(cfg, bridge ? RT_NETWORK_MODE_BRIDGE
						     : RT_NETWORK_MODE_NONE) != RT_STATUS_OK ||
	    (limits && (container_config_set_limit(cfg, "memory", "64m") != RT_STATUS_OK ||
			container_config_set_limit(cfg, "pids-limit", "128") != RT_STATUS_OK)) ||
	    container_new(cfg, &c) != RT_STATUS_OK || container_start(c) != RT_STATUS_OK ||
	    container_wait(c, &status) != RT_STATUS_OK) {
		fprintf(stderr, "c_loop: %s\n", error_message());
		status = -1;
	}
	container_free(c);
	container_config_free(cfg);
	*elapsed_us = now_us() - t0;
	return status;
}

int main(int argc, char **argv)
{
	long n = 0;
	int opt;
	char line[256];

	while ((opt = getopt(argc, argv, "bmn:")) != -1) {
		switch (opt) {
		case 'b': bridge = 1; break;
		case 'm': limits = 1; break;
		case 'n': n = strtol(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	rootfs = argv[optind];
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (n > 0) {
		int failed = 0;
		for (long i = 0; i < n; i++) {
			long long us;
			if (one(&us) != 0)
				failed = 1;
			printf("%lld\n", us);
		}
		return failed;
	}
	while (fgets(line, sizeof line, stdin)) {
		long long us;
		int st = one(&us);
		printf("%lld %d\n", us, st);
	}
	return 0;
usage:
	fprintf(stderr, "usage: c_loop [-b] [-m] [-n N] ROOTFS\n");
	return 2;
}
