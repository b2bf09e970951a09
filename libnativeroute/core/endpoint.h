/* Local endpoints (pods) and their addresses, allocated from the local
 * node's pod CIDRs: the network address is skipped, the first host address
 * is the node's gateway address for its pods, the IPv4 broadcast address is
 * never handed out. Pure bookkeeping; the model keeps the CIDRs in step with
 * the local node. Not thread-safe. */
#ifndef NR_CORE_ENDPOINT_H
#define NR_CORE_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"
#include "util/err.h"
#include "util/hmap.h"
#include "util/idset.h"

#define NR_ENDPOINT_ID_MAX 255
#define NR_IFNAME_MAX 15 /* IFNAMSIZ - 1 */

struct nr_endpoint {
	struct nr_hnode by_id, by_ifname, by_ifindex; /* private */
	struct nr_endpoint *prev, *next;  /* private: insertion order */
	char ifname[NR_IFNAME_MAX + 1];   /* "" when only the ifindex is known */
	uint32_t ifindex;                 /* host-side device; 0 = not known yet */
	struct nr_addr ip4, ip6;          /* family 0 = none */
	char id[];
};

struct nr_endpoint_req {
	const char *id;     /* required: printable, no spaces, <= 255 chars */
	const char *ifname; /* and/or ifindex: at least one */
	uint32_t ifindex;
	/* Requested addresses; family 0 = allocate one when the local node has
	 * a CIDR of that family. */
	struct nr_addr ip4, ip6;
};

struct nr_endpoints {
	struct nr_hmap by_id, by_ifname, by_ifindex;
	struct nr_endpoint *first, *last;
	size_t n;
	struct nr_prefix cidr[2];  /* [0] IPv4, [1] IPv6; family 0 = none */
	struct nr_idset addrs[2];  /* host offsets in use, incl. network/gateway */
	size_t n_family[2];        /* endpoints holding an address of the family */
};

/* A zeroed struct is empty with no CIDRs. */
void nr_endpoints_destroy(struct nr_endpoints *e);

/* Set (or clear, with NULL or family 0) the local CIDR of `family`.
 * Errors: -EBUSY when endpoints still hold addresses of that family,
 * -EINVAL, -ENOMEM. */
int nr_endpoints_set_cidr(struct nr_endpoints *e, uint8_t family,
			  const struct nr_prefix *cidr, struct nr_err *err);

/* Add an endpoint; on success *ret (may be NULL) points at the stored copy.
 * Errors: -EEXIST (id, ifname or ifindex, or a requested address in use),
 * -EINVAL (bad id/ifname, address outside the CIDR, the network, gateway or
 * broadcast address, no CIDR to allocate from), -ENOSPC, -ENOMEM. */
int nr_endpoints_add(struct nr_endpoints *e, const struct nr_endpoint_req *spec,
		     const struct nr_endpoint **ret, struct nr_err *err);
/* Errors: -ENOENT. */
int nr_endpoints_remove(struct nr_endpoints *e, const char *id, struct nr_err *err);
const struct nr_endpoint *nr_endpoints_get(const struct nr_endpoints *e, const char *id);
/* Record the host device once it is known. Errors: -ENOENT, -EEXIST. */
int nr_endpoints_set_ifindex(struct nr_endpoints *e, const char *id, uint32_t ifindex,
			     struct nr_err *err);
/* Insertion order; prev NULL gives the first. */
const struct nr_endpoint *nr_endpoints_next(const struct nr_endpoints *e,
					    const struct nr_endpoint *prev);
/* The gateway address pods use for `family`. Errors: -ENOENT (no CIDR). */
int nr_endpoints_gateway(const struct nr_endpoints *e, uint8_t family, struct nr_addr *out);

#endif
