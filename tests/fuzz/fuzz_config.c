/* libFuzzer target: nativerouted's YAML configuration (--config), through
 * the daemon's own loader (tools/nativerouted/config.c), then the final
 * validation and the printout of --check-config. The bytes are the file. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct nrd_config cfg;
	char err[512];

	if (fd < 0) {
		fd = memfd_create("nrfuzz.yaml", 0);
		if (fd < 0)
			return 0;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	nrd_config_init(&cfg);
	if (nrd_config_load_file(&cfg, path, err, sizeof(err)) == 0 &&
	    nrd_config_validate(&cfg, err, sizeof(err)) == 0) {
		FILE *out = fopen("/dev/null", "w");

		if (out) {
			nrd_config_print(&cfg, out);
			fclose(out);
		}
	}
	nrd_config_free(&cfg);
	return 0;
}
