#include "core/pod_cidr.h"

#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

/* As prefixes, not text: this check runs for every node add, and parsing
 * nine prefixes each time was a third of an add's cost at 10,000 nodes. */
#define V4(a, b, l) { .addr = { .family = AF_INET, .bytes = { a, b } }, .len = l }
#define V6(a, b, z, l) { .addr = { .family = AF_INET6, .bytes = { a, b, [15] = z } }, .len = l }
static const struct {
	struct nr_prefix prefix;
	const char *name;
} forbidden[] = {
	{ V4(0, 0, 8), "\"this network\" (0.0.0.0/8)" },
	{ V4(127, 0, 8), "loopback (127.0.0.0/8)" },
	{ V4(169, 254, 16), "link-local (169.254.0.0/16)" },
	{ V4(224, 0, 4), "multicast (224.0.0.0/4)" },
	{ V4(240, 0, 4), "reserved/broadcast (240.0.0.0/4)" },
	{ V6(0, 0, 0, 128), "the unspecified address (::)" },
	{ V6(0, 0, 1, 128), "loopback (::1)" },
	{ V6(0xfe, 0x80, 0, 10), "link-local (fe80::/10)" },
	{ V6(0xff, 0, 0, 8), "multicast (ff00::/8)" },
};
#undef V4
#undef V6

int nr_pod_cidr_check(const struct nr_prefix *cidr, const char *what, struct nr_err *err)
{
	char c[NR_ADDR_STRLEN];

	if (cidr->len == 0)
		return nr_err_set(err, -EINVAL, "%s %s: a default route cannot be a %s", what,
				  nr_prefix_str(cidr, c, sizeof(c)), what);
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		const struct nr_prefix *p = &forbidden[i].prefix;

		if (p->addr.family == cidr->addr.family && nr_prefix_overlaps(cidr, p))
			return nr_err_set(err, -EINVAL, "%s %s: overlaps %s", what,
					  nr_prefix_str(cidr, c, sizeof(c)), forbidden[i].name);
	}
	return 0;
}
