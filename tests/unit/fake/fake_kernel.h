/* An in-memory kernel behind the controller's seam (libnativeroute/ctl/
 * ctl_kernel.h), so Criterion tests run the controller's logic without root
 * or a namespace.
 *
 * What it models: one table of our objects (nexthops, routes, neighbours,
 * FDB entries) changed by batches with the kernel's semantics (ADD of a
 * present key is EEXIST, a route needs its nexthop, deleting a nexthop
 * takes its routes, deleting what is absent is ESRCH/ENOENT); links and
 * addresses (reachability: an address inside a local address's subnet is
 * direct, a local address is local, anything else unreachable); a VXLAN
 * device created on demand; notifications (real rtnetlink messages, encoded
 * by netlink/nl_encode.c and read by the controller's own parser).
 *
 * What a test controls: failures per object (an errno and the kernel's
 * text for every operation on a route prefix or nexthop id), holding
 * batches in flight until released, changes made behind the controller's
 * back (with or without a notification), and counters of what the
 * controller asked for. Single-threaded: use it from the loop's thread
 * (only nft_sync runs elsewhere, and it keeps no state). */
#ifndef NR_TEST_FAKE_KERNEL_H
#define NR_TEST_FAKE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/kstate.h"
#include "ctl/ctl_kernel.h"

struct fake_kernel;

struct fake_counters {
	unsigned int batches;   /* batches begun or committed */
	unsigned int writes;    /* operations in them (each ADD/REPLACE/DELETE) */
	unsigned int dumps;     /* reads of the table: dump_kstate, or a stepped dump's end */
	unsigned int dumper_steps; /* steps of the last stepped dump (a full pass's) */
	unsigned int dumper_finishes; /* calls of its finish (the sort after the last step) */
	unsigned int lookups;   /* reachability answers given */
	unsigned int lookup_calls; /* reach (one address) + reach_many (pipelined) calls */
	unsigned int events;    /* notifications read by the controller */
	unsigned int reach_pumps; /* pumps of pipelined lookups from the loop (reach_pump) */
	unsigned int addr_dumps; /* addr_find calls: a dump of every address of the namespace */
};

struct fake_kernel *fake_kernel_new(void);
/* Only after every controller using it has closed and the loop has run dry. */
void fake_kernel_free(struct fake_kernel *fk);
/* What nr_ctl_new_with_kernel() takes. */
struct nr_kernel fake_kernel_handle(struct fake_kernel *fk);

/* The table/protocol notifications are stamped with (the controller's
 * route_table/route_protocol; default 254/201). */
void fake_kernel_set_owner(struct fake_kernel *fk, uint32_t table, uint8_t protocol);

/* A link, and a local address on it ("192.168.1.10/24"). */
void fake_kernel_add_link(struct fake_kernel *fk, uint32_t ifindex, const char *name,
			  uint32_t mtu);
void fake_kernel_add_addr(struct fake_kernel *fk, uint32_t ifindex, const char *cidr);
/* The same, added behind the controller's back: the kernel tells the event
 * channel (RTM_NEWADDR from port 0; scope link for fe80::/10). */
void fake_kernel_add_addr_notify(struct fake_kernel *fk, uint32_t ifindex, const char *cidr);

/* Every operation on this route prefix / nexthop id fails with error (a
 * negative errno) and the kernel's text, `times` times (0 = until cleared). */
void fake_kernel_fail_route(struct fake_kernel *fk, const char *prefix, int error,
			    const char *text, unsigned int times);
void fake_kernel_fail_nexthop(struct fake_kernel *fk, uint32_t id, int error, const char *text,
			      unsigned int times);
void fake_kernel_clear_failures(struct fake_kernel *fk);

/* Hold batches and stepped dumps in flight: a batch's pumps, a dump's
 * steps answer "waiting" until fake_kernel_release() (the command channel
 * then polls readable and the next pump/step goes on). */
void fake_kernel_hold(struct fake_kernel *fk, bool hold);
void fake_kernel_release(struct fake_kernel *fk);
/* Whether a batch is waiting for release. */
bool fake_kernel_holding(const struct fake_kernel *fk);

/* Someone else deletes our route (with notify: the kernel tells the event
 * channel, RTM_DELROUTE from port 0). false when there is no such route. */
bool fake_kernel_delete_route(struct fake_kernel *fk, const char *prefix, bool notify);
/* An object of ours that the controller does not know (left by an earlier
 * run): a classic route prefix via gw on ifindex, without notification. */
void fake_kernel_add_route(struct fake_kernel *fk, const char *prefix, const char *gw,
			   uint32_t ifindex);
/* The link goes down and up again: the kernel flushes the nexthops and
 * routes on it without a notification for each, and tells only the link's
 * RTM_NEWLINK. */
void fake_kernel_link_flap(struct fake_kernel *fk, uint32_t ifindex);
/* The event channel overflowed: its next read is -ENOBUFS. */
void fake_kernel_overflow(struct fake_kernel *fk);

/* The table as it is now (not a copy: valid until the next change). */
const struct nr_kstate *fake_kernel_table(const struct fake_kernel *fk);
/* The route to prefix, NULL when absent. */
const struct nr_kroute *fake_kernel_route(const struct fake_kernel *fk, const char *prefix);
const struct nr_knexthop *fake_kernel_nexthop(const struct fake_kernel *fk, uint32_t id);
const struct fake_counters *fake_kernel_counters(const struct fake_kernel *fk);

#endif
