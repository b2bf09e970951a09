/* A cluster node as the model stores it. Read-only outside core/model.c:
 * callers get `const struct nr_node *` from the model's lookups and
 * iteration, valid until the next change to that node. */
#ifndef NR_CORE_NODE_H
#define NR_CORE_NODE_H

#include <stdint.h>

#include "util/addr.h"
#include "util/err.h"
#include "util/hmap.h"

#define NR_NODE_NAME_MAX 253 /* DNS-1123 subdomain */

/* Node indexes feed nexthop ids (NR_NH_ID_BASE + index*2 + v6), which must
 * fit 32 bits. */
#define NR_NODE_INDEX_MAX ((UINT32_C(1) << 30) - 1)

struct nr_node {
	struct nr_hnode by_name, by_ip4, by_ip6; /* model-private */
	char *name;
	struct nr_addr ip4, ip6;        /* family 0 = none (at least one is set) */
	struct nr_prefix cidr4, cidr6;  /* pod CIDRs; family 0 = none yet */
	uint32_t index;                 /* small, stable, lowest free at add */
};

/* What a caller asks for. name is required; at least one IP; CIDRs with
 * family 0 mean "allocate" (cluster-pool) or "none" (kubernetes), and on
 * update "keep the current one". */
struct nr_node_req {
	const char *name;
	struct nr_addr ip4, ip6;
	struct nr_prefix cidr4, cidr6;
};

/* DNS-1123 subdomain: 1..253 chars of [a-z0-9-.], dot-separated labels of
 * 1..63 that start and end alphanumeric. Errors: -EINVAL saying why. */
int nr_node_name_check(const char *name, struct nr_err *err);

/* The node's address / pod CIDR of a family (NULL when it has none). */
const struct nr_addr *nr_node_ip(const struct nr_node *n, uint8_t family);
const struct nr_prefix *nr_node_cidr(const struct nr_node *n, uint8_t family);

#endif
