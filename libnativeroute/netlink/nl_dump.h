/* Blocking dumps of what the kernel holds, restricted to what is ours:
 * the observed half of the reconciler's diff. Objects of other owners are
 * skipped here so nothing above this layer can touch them by mistake. */
#ifndef NR_NETLINK_NL_DUMP_H
#define NR_NETLINK_NL_DUMP_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/kstate.h"
#include "netlink/nl_encode.h"
#include "netlink/nl_socket.h"

/* What "ours" means for a full dump. */
struct nr_nl_dump_filter {
	struct nr_nl_owner owner;   /* routes: this table and rtm_protocol */
	                            /* nexthops: nh_protocol == owner.protocol (never by
	                               id alone: others may pick ids in our range) */
	uint32_t neigh_ifindex;     /* permanent neighbours on it; 0 = skip */
	uint32_t fdb_ifindex;       /* VXLAN FDB entries on it; 0 = skip */
};

/* Unicast IPv4 and IPv6 routes in owner->table with owner->protocol. A
 * table that does not exist yet is simply empty. On success *routes is a
 * malloc'd array (free()) of *n entries. -errno with text otherwise. */
int nr_nl_dump_routes(struct nr_nl *nl, const struct nr_nl_owner *owner,
		      struct nr_kroute **routes, size_t *n, struct nr_err *err);

/* Nexthop objects with nh_protocol == protocol (groups, blackholes and FDB
 * nexthops excluded). Ownership is the protocol, never the id: a foreign
 * nexthop with an id in our range is not ours. */
int nr_nl_dump_nexthops(struct nr_nl *nl, uint8_t protocol, struct nr_knexthop **nhs,
			size_t *n, struct nr_err *err);

/* The others: nexthop objects with nh_protocol != protocol (their ids are
 * taken, whatever range they are in). */
int nr_nl_dump_nexthops_foreign(struct nr_nl *nl, uint8_t protocol, struct nr_knexthop **nhs,
				size_t *n, struct nr_err *err);

/* Permanent IPv4/IPv6 neighbour entries on ifindex. */
int nr_nl_dump_neighs(struct nr_nl *nl, uint32_t ifindex,
		      struct nr_kneigh **neighs, size_t *n, struct nr_err *err);

/* Permanent FDB entries (MAC → remote) on the VXLAN device ifindex. The
 * all-zeros MAC (default destinations) is included: if we did not create
 * it, it is foreign, and the caller decides. */
int nr_nl_dump_fdbs(struct nr_nl *nl, uint32_t ifindex, struct nr_kfdb **fdbs,
		    size_t *n, struct nr_err *err);

/* All of the above into *out (which must be empty/zeroed), sorted by key
 * (nr_kstate_sort). On failure *out is freed and zeroed. */
int nr_nl_dump_kstate(struct nr_nl *nl, const struct nr_nl_dump_filter *f,
		      struct nr_kstate *out, struct nr_err *err);

#endif
