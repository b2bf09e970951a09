/* The smallest program that links the installed library: it compares the
 * headers it was compiled with against the library it runs with. */
#include <errno.h>
#include <stdio.h>

#include <nativeroute/nativeroute.h>

int main(void)
{
	unsigned int running = nr_version();

	printf("libnativeroute headers %d.%d.%d, library %s; %s = \"%s\"\n",
	       NR_VERSION_MAJOR, NR_VERSION_MINOR, NR_VERSION_PATCH,
	       nr_version_string(), nr_err_name(-ENOSPC), nr_strerror(-ENOSPC));
	/* Same major is all the ABI promises; a newer library is fine. */
	if ((running >> 16) != NR_VERSION_MAJOR || running < NR_VERSION_HEX) {
		fprintf(stderr, "library version 0x%06x is older than headers 0x%06x\n",
			running, NR_VERSION_HEX);
		return 1;
	}
	return 0;
}
