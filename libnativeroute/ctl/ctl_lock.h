/* One controller per network namespace, route table and route protocol.
 *
 * Two controllers that share a namespace, a table and a protocol each see
 * the other's routes as their own drift and fight forever (issue 11: ~190
 * drift repairs a second each), and a purge by one deletes the other's
 * routes. Different state directories and sockets do not keep them apart,
 * so the lock is keyed by what they would fight over: an abstract Unix
 * socket "nativeroute/ctl/table/T/protocol/P" bound inside the namespace.
 * Abstract socket names are per network namespace, need no file system,
 * and the kernel releases the name when the holder dies (kill -9 included).
 * Embedded controllers take it too: it is taken in nr_ctl_new. */
#ifndef NR_CTL_CTL_LOCK_H
#define NR_CTL_CTL_LOCK_H

#include <stdint.h>

#include "util/err.h"

struct nr_ctl_lock;

/* Take the lock for (netns, table, protocol); netns as for nr_nl_netns_run
 * (NULL = the current namespace). -EBUSY, naming the holder's pid when it
 * can be learnt, when another controller holds it. */
int nr_ctl_lock_take(const char *netns, uint32_t table, uint8_t protocol,
		     struct nr_ctl_lock **ret, struct nr_err *err);

/* Release it (NULL is fine). */
void nr_ctl_lock_release(struct nr_ctl_lock *lock);

#endif
