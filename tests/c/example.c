/* The README's C example: built against an installed copy with pkg-config by tests/install.sh. */
#include <container_runtime.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	container_config *cfg = NULL;
	container *c = NULL;
	const char *args[] = {"/bin/sh", "-c", "hostname; echo $$"};
	const char *rootfs = argc > 1 ? argv[1] : "/usr/local/share/docker-run/rootfs";
	int status = 0;

	if (container_config_new(&cfg) != RT_STATUS_OK ||
	    container_config_set_rootfs(cfg, rootfs) != RT_STATUS_OK ||
	    container_config_set_hostname(cfg, "demo") != RT_STATUS_OK ||
	    container_config_set_argv(cfg, args, 3) != RT_STATUS_OK ||
	    container_new(cfg, &c) != RT_STATUS_OK ||
	    container_start(c) != RT_STATUS_OK ||
	    container_wait(c, &status) != RT_STATUS_OK) {
		fprintf(stderr, "error: %s\n", error_message());
		status = 125;
	}
	container_free(c);
	container_config_free(cfg);
	return status;
}
