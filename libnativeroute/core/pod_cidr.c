#include "core/pod_cidr.h"

#include <errno.h>
#include <stddef.h>

static const struct {
	const char *prefix;
	const char *name;
} forbidden[] = {
	{ "0.0.0.0/8", "\"this network\" (0.0.0.0/8)" },
	{ "127.0.0.0/8", "loopback (127.0.0.0/8)" },
	{ "169.254.0.0/16", "link-local (169.254.0.0/16)" },
	{ "224.0.0.0/4", "multicast (224.0.0.0/4)" },
	{ "240.0.0.0/4", "reserved/broadcast (240.0.0.0/4)" },
	{ "::/128", "the unspecified address (::)" },
	{ "::1/128", "loopback (::1)" },
	{ "fe80::/10", "link-local (fe80::/10)" },
	{ "ff00::/8", "multicast (ff00::/8)" },
};

int nr_pod_cidr_check(const struct nr_prefix *cidr, const char *what, struct nr_err *err)
{
	char c[NR_ADDR_STRLEN];

	if (cidr->len == 0)
		return nr_err_set(err, -EINVAL, "%s %s: a default route cannot be a %s", what,
				  nr_prefix_str(cidr, c, sizeof(c)), what);
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		struct nr_prefix p;

		if (nr_prefix_parse(forbidden[i].prefix, &p, NULL) < 0 ||
		    p.addr.family != cidr->addr.family)
			continue;
		if (nr_prefix_overlaps(cidr, &p))
			return nr_err_set(err, -EINVAL, "%s %s: overlaps %s", what,
					  nr_prefix_str(cidr, c, sizeof(c)), forbidden[i].name);
	}
	return 0;
}
