/* Dumps of what the kernel holds, restricted to what is ours: the observed
 * half of the reconciler's diff. Objects of other owners are skipped here
 * so nothing above this layer can touch them by mistake. Two forms: the
 * blocking functions below (tools, purge), and nr_nl_dumper, the same
 * dump in steps for a caller's loop (one receive buffer per step). */
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
	size_t expect;              /* nr_nl_dumper: about this many routes and nexthops
	                               are expected (0: unknown); room for them is taken
	                               at once instead of doubling as they come */
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

/* Whether the kernel has nexthop objects (Linux 5.3+): 1 or 0, from one
 * lookup instead of a dump of every nexthop; -errno when the socket fails. */
int nr_nl_nexthops_supported(struct nr_nl *nl);

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

/* ---- in steps ----------------------------------------------------------
 * The dump of nr_nl_dump_kstate for a poll loop: on a non-blocking command
 * socket, each nr_nl_dumper_step reads at most one receive buffer (up to
 * NR_NL_RECV_SIZE bytes, a few hundred objects) and parses it, and never
 * waits. At 100,000 routes the whole dump is ~1,000 steps of ~0.1 ms
 * instead of one ~150 ms stall of the loop. The socket must carry nothing
 * else meanwhile (no batch, no other request). */
struct nr_nl_dumper;

#define NR_NL_DUMP_WAIT 1 /* nr_nl_dumper_step: wait until the socket is readable */

/* Start the dump: sends the first request. `foreign_nexthops` also collects
 * the nexthop objects of other protocols (nr_nl_dump_nexthops_foreign) in
 * the same nexthop dump; `no_nexthops` skips the nexthop dump (a kernel or
 * a mode without nexthop objects). *ret is freed with nr_nl_dumper_free. */
int nr_nl_dumper_new(struct nr_nl *nl, const struct nr_nl_dump_filter *f, bool foreign_nexthops,
		     bool no_nexthops, struct nr_nl_dumper **ret, struct nr_err *err);

/* Read and parse what has arrived, at most one receive buffer. Returns
 * NR_NL_DUMP_WAIT (poll the socket for readability, then call again), 0
 * when the dump is complete (nr_nl_dumper_take), or -errno with err set
 * (-EINTR: the kernel's tables kept changing under the dump). */
int nr_nl_dumper_step(struct nr_nl_dumper *d, struct nr_err *err);
/* The steps to the end on a thread that may wait (libuv's thread pool):
 * waits NR_NL_TIMEOUT_MS at most for each receive, yields the CPU between
 * two. 0 (complete) or -errno with err set. */
int nr_nl_dumper_run(struct nr_nl_dumper *d, struct nr_err *err);

/* After step returned 0, and before take: the collections the kernel did
 * not list in key order (neighbours and FDB entries come in its hash
 * order; tens of milliseconds of sorting at 100,000) sorted, and the IPv6
 * routes joined to the IPv4 ones, about `budget` element moves per call.
 * 1: call again, 0: done, -errno with err set (-ENOMEM). take does what
 * is left at once. */
int nr_nl_dumper_finish(struct nr_nl_dumper *d, size_t budget, struct nr_err *err);

/* After step returned 0: move the result into *out (sorted by key; the
 * caller frees it with nr_kstate_free) and, when asked for, the foreign
 * nexthops into *foreign (free()) / *n_foreign. Either may be NULL. Only
 * -ENOMEM can fail it (then nothing was moved). */
int nr_nl_dumper_take(struct nr_nl_dumper *d, struct nr_kstate *out,
		      struct nr_knexthop **foreign, size_t *n_foreign, struct nr_err *err);

/* How many steps parsed a receive buffer (for tests and benchmarks). */
size_t nr_nl_dumper_steps(const struct nr_nl_dumper *d);

/* Stop and free. NULL is fine. A dump abandoned half-way leaves its rest
 * queued in the kernel, which refuses another dump on that socket (EBUSY)
 * until it is read: abandon one only when closing the socket. */
void nr_nl_dumper_free(struct nr_nl_dumper *d);

#endif
