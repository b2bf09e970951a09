/* A set of pairwise-disjoint prefixes with an owner tag each (a
 * path-compressed binary trie). It answers "does this prefix overlap any
 * member, and whose is it?" in O(prefix length), for pod CIDRs the caller
 * supplies (kubernetes IPAM) and reservations there. Cluster-pool blocks are
 * tracked by ipam's idsets. */
#ifndef NR_CORE_CIDRSET_H
#define NR_CORE_CIDRSET_H

#include <stdbool.h>
#include <stddef.h>

#include "util/addr.h"

struct nr_cidr_node;

struct nr_cidrset {
	struct nr_cidr_node *root4, *root6;
	size_t n;
};

/* A zeroed struct is an empty set. */
void nr_cidrset_destroy(struct nr_cidrset *s);
/* Find a member overlapping `p` (containing it, equal, or inside it). On a hit
 * returns true and fills *hit / *owner (each may be NULL). */
bool nr_cidrset_overlap(const struct nr_cidrset *s, const struct nr_prefix *p,
			struct nr_prefix *hit, const void **owner);
/* Add `p` tagged with `owner` (non-NULL). Errors: -EEXIST when it overlaps a
 * member (use nr_cidrset_overlap first for the details), -ENOMEM,
 * -EINVAL (bad family). */
int nr_cidrset_add(struct nr_cidrset *s, const struct nr_prefix *p, const void *owner);
/* Errors: -ENOENT when `p` is not a member. */
int nr_cidrset_del(struct nr_cidrset *s, const struct nr_prefix *p);

#endif
