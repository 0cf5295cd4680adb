/*
 * libFuzzer harness over the configuration side of the C ABI: every container_config_* setter
 * (strings, numbers, enums and limits from the input), container_new on the result, and the
 * calls a created-but-not-started container allows (id, ip, warning, cgroup_set/get, kill,
 * wait). container_start is never called: nothing here touches the host.
 * A crash, a sanitizer report, a leak, a NULL error_message() or RT_STATUS_PANIC (a Rust panic
 * caught at the boundary) is a finding.
 *
 * Input format: a sequence of records, each an opcode byte followed by its arguments; strings
 * are NUL-terminated (the last one may run to the end of the input), numbers are little-endian.
 * Build and run: tests/fuzz/run.sh (clang -fsanitize=fuzzer,address); without libFuzzer,
 * -DFUZZ_STANDALONE gives a main() that replays files (used for the corpus with gcc).
 */
#include <container_runtime.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct input {
    const uint8_t *p;
    size_t n;
    /* Strings handed out are copied here, NUL-terminated; freed at the end of the run. */
    char *strings[64];
    int nstrings;
};

static const char *str(struct input *in) {
    if (in->nstrings == 64) return "";
    size_t len = 0;
    while (len < in->n && in->p[len] != 0) len++;
    char *s = malloc(len + 1);
    if (!s) abort();
    memcpy(s, in->p, len);
    s[len] = 0;
    in->p += len < in->n ? len + 1 : len;
    in->n -= len < in->n ? len + 1 : len;
    in->strings[in->nstrings++] = s;
    return s;
}

static uint32_t u32(struct input *in) {
    uint32_t v = 0;
    for (int i = 0; i < 4 && in->n > 0; i++, in->p++, in->n--) v |= (uint32_t)in->p[0] << (8 * i);
    return v;
}

static uint8_t byte(struct input *in) {
    if (in->n == 0) return 0;
    in->n--;
    return *in->p++;
}

/* Keys the library knows, so that values get exercised and not only the unknown-key path. */
static const char *const KEYS[] = {
    "memory", "memory-swap", "cpus", "cpu-period", "cpu-quota", "cpu-shares",
    "cpuset-cpus", "cpuset-mems", "pids-limit", "blkio-weight", "device-read-bps",
    "device-write-bps",
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

static const char *key(struct input *in) {
    uint8_t k = byte(in);
    return k < NKEYS ? KEYS[k] : str(in);
}

/* Every status must be a known one with a message when it is not OK; a panic is a bug. */
static void status(int rc) {
    const char *msg = error_message();
    if (msg == NULL) abort();
    if (rc == RT_STATUS_PANIC) {
        fprintf(stderr, "RT_STATUS_PANIC: %s\n", msg);
        abort();
    }
    if (rc < 0 || rc > RT_STATUS_BUFFER_TOO_SMALL) {
        fprintf(stderr, "unknown status %d\n", rc);
        abort();
    }
    if (rc != RT_STATUS_OK && msg[0] == 0) {
        fprintf(stderr, "status %d without a message\n", rc);
        abort();
    }
    (void)error_errno();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct input in = {.p = data, .n = size};
    container_config *cfg = NULL;
    container *c = NULL;
    status(container_config_new(&cfg));
    if (!cfg) return 0;
    /* A rootfs that exists, unless the input sets another: container_new gets further. */
    status(container_config_set_rootfs(cfg, "/"));
    int ops = 0;
    while (in.n > 0 && ops++ < 64) {
        switch (byte(&in) % 24) {
        case 0: status(container_config_set_rootfs(cfg, str(&in))); break;
        case 1: status(container_config_set_hostname(cfg, str(&in))); break;
        case 2: status(container_config_set_name(cfg, str(&in))); break;
        case 3: {
            const char *argv[8];
            size_t argc = byte(&in) % 9;
            for (size_t i = 0; i < argc; i++) argv[i] = str(&in);
            status(container_config_set_argv(cfg, argc ? argv : NULL, argc));
            break;
        }
        case 4: status(container_config_add_env(cfg, str(&in))); break;
        case 5: status(container_config_set_cwd(cfg, str(&in))); break;
        case 6: { uint32_t u = u32(&in); status(container_config_set_user(cfg, u, u32(&in))); break; }
        case 7: status(container_config_set_namespaces(cfg, u32(&in))); break;
        case 8: {
            const char *src = str(&in), *dst = str(&in);
            status(container_config_add_bind_mount(cfg, src, dst, byte(&in) & 1));
            break;
        }
        case 9: {
            const char *dst = str(&in);
            status(container_config_add_tmpfs(cfg, dst, byte(&in) & 1 ? str(&in) : NULL));
            break;
        }
        case 10: status(container_config_set_network(cfg, (int)u32(&in))); break;
        case 11: { const char *b = str(&in); status(container_config_set_bridge(cfg, b, str(&in))); break; }
        case 12: status(container_config_set_ip(cfg, str(&in))); break;
        case 13: {
            uint32_t ports = u32(&in);
            status(container_config_add_port(cfg, (uint16_t)ports, (uint16_t)(ports >> 16), (int)(int8_t)byte(&in)));
            break;
        }
        case 14: case 15: case 16: {
            const char *k = key(&in);
            status(container_config_set_limit(cfg, k, str(&in)));
            break;
        }
        case 17: status(container_config_set_readonly_rootfs(cfg, byte(&in) & 1)); break;
        case 18: status(container_config_set_tty(cfg, byte(&in) & 1)); break;
        case 19: status(container_config_set_init(cfg, byte(&in) & 1)); break;
        case 20: status(container_config_set_no_pivot(cfg, byte(&in) & 1)); break;
        case 21: {
            /* The NULL cases, mixed in. */
            status(container_config_set_hostname(cfg, NULL));
            status(container_config_set_limit(cfg, NULL, str(&in)));
            status(container_config_add_bind_mount(cfg, NULL, NULL, false));
            break;
        }
        default: {
            /* A container from the configuration so far (never started). */
            int rc = container_new(cfg, &c);
            status(rc);
            if (rc == RT_STATUS_OK) {
                char buf[128];
                size_t len = 0;
                uint8_t cap = byte(&in) % sizeof buf;
                status(container_id(c, buf, cap, &len));
                status(container_ip(c, buf, cap, &len));
                status(container_warning(c, buf, cap, &len));
                const char *k = key(&in);
                status(cgroup_set(c, k, str(&in)));
                status(cgroup_get(c, k, buf, cap, &len));
                int st = 0;
                status(container_wait(c, &st));      /* not started: RT_STATUS_STATE */
                status(container_kill(c, byte(&in)));
                container_free(c);
                c = NULL;
            }
            break;
        }
        }
    }
    status(container_new(cfg, &c));
    container_free(c);
    container_config_free(cfg);
    for (int i = 0; i < in.nstrings; i++) free(in.strings[i]);
    return 0;
}

#ifdef FUZZ_STANDALONE
/* Replays the files named on the command line (the corpus) without libFuzzer. */
int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) { perror(argv[i]); return 1; }
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
#endif
