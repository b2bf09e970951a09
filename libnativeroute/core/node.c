#include "core/node.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int nr_node_name_check(const char *name, struct nr_err *err)
{
	size_t len, label = 0;

	if (!name || !*name)
		return nr_err_set(err, -EINVAL, "node name: empty");
	len = strlen(name);
	if (len > NR_NODE_NAME_MAX)
		return nr_err_set(err, -EINVAL, "node name %.40s...: %zu characters > %d",
				  name, len, NR_NODE_NAME_MAX);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return nr_err_set(err, -EINVAL,
						  "node name %s: each dot-separated part must start and end with [a-z0-9]",
						  name);
			label = 0;
			continue;
		}
		if (!alnum(c) && c != '-')
			return nr_err_set(err, -EINVAL,
					  "node name %.253s: character '%c' not allowed (lowercase a-z, 0-9, '-', '.')",
					  name, (c >= 32 && c < 127) ? c : '?');
		if (label == 0 && c == '-')
			return nr_err_set(err, -EINVAL,
					  "node name %s: each dot-separated part must start and end with [a-z0-9]",
					  name);
		if (++label > 63)
			return nr_err_set(err, -EINVAL,
					  "node name %.80s...: a dot-separated part is longer than 63", name);
	}
	if (label == 0 || name[len - 1] == '-')
		return nr_err_set(err, -EINVAL,
				  "node name %s: each dot-separated part must start and end with [a-z0-9]",
				  name);
	return 0;
}

const struct nr_addr *nr_node_ip(const struct nr_node *n, uint8_t family)
{
	const struct nr_addr *a = family == AF_INET ? &n->ip4 : family == AF_INET6 ? &n->ip6 : NULL;

	return a && a->family ? a : NULL;
}

const struct nr_prefix *nr_node_cidr(const struct nr_node *n, uint8_t family)
{
	const struct nr_prefix *p =
		family == AF_INET ? &n->cidr4 : family == AF_INET6 ? &n->cidr6 : NULL;

	return p && p->addr.family ? p : NULL;
}
