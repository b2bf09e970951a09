/* The etcd cluster store as the controller sees it: a few hooks. The
 * store registers this node, claims its CIDRs and feeds remote nodes into
 * the controller through the ordinary node calls (see docs/etcd.md). Built
 * only with NR_WITH_ETCD; otherwise asking for it is a clear -EOPNOTSUPP. */
#ifndef NR_STORE_ETCD_H
#define NR_STORE_ETCD_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "nativeroute/controller.h"
#include "util/err.h"

struct nr_etcd;

#if NR_WITH_ETCD
/* Validate the options with no side effect (nr_ctl_new calls it before it
 * creates anything): -EINVAL naming the value. */
int nr_etcd_check_opts(const struct nr_etcd_opts *o, struct nr_err *err);
/* Validate the options and prepare the client (no request yet). */
int nr_etcd_new(struct nr_ctl *ctl, const struct nr_etcd_opts *o, struct nr_etcd **ret,
		struct nr_err *err);
/* Join the cluster (from nr_ctl_start): config check, leases, CIDR claim,
 * registration, list + watch of the nodes. Runs until closed; failures are
 * retried and shown in the status. */
void nr_etcd_start(struct nr_etcd *e);
/* Stop (kernel state and etcd keys stay: the leases run out on their own);
 * done(data) runs once every handle is closed, then e is freed. */
void nr_etcd_close(struct nr_etcd *e, void (*done)(void *data), void *data);
void nr_etcd_status(const struct nr_etcd *e, struct nr_status *st);
/* Hooks of the controller's calls: a caller may not add/update/remove a
 * remote node (-EPERM: they come from etcd), nor add an endpoint before the
 * local CIDR is claimed (-EAGAIN). */
int nr_etcd_check_node_call(const struct nr_etcd *e, const char *name, struct nr_err *err);
int nr_etcd_check_endpoint_call(const struct nr_etcd *e, struct nr_err *err);
/* How node IPs are reached here may have changed (link, address or route
 * events, a mode change): refused remote nodes are worth another try. */
void nr_etcd_local_changed(struct nr_etcd *e);
/* nr_ctl_purge, before the kernel: stop, delete this node's key and the
 * CIDR claims it owns (compare-and-delete), revoke its leases; then
 * done(ctl, 0, NULL), or done(ctl, <0, why) with the kernel untouched. */
void nr_etcd_purge(struct nr_etcd *e,
		   void (*done)(struct nr_ctl *ctl, int status, const char *msg));
#else
static inline int nr_etcd_check_opts(const struct nr_etcd_opts *o, struct nr_err *err)
{
	(void)o;
	return nr_err_set(err, -EOPNOTSUPP, "etcd store: this library was built without it "
			  "(NR_WITH_ETCD=OFF)");
}
static inline int nr_etcd_new(struct nr_ctl *ctl, const struct nr_etcd_opts *o,
			      struct nr_etcd **ret, struct nr_err *err)
{
	(void)ctl, (void)o, (void)ret;
	return nr_err_set(err, -EOPNOTSUPP, "etcd store: this library was built without it "
			  "(NR_WITH_ETCD=OFF)");
}
static inline void nr_etcd_start(struct nr_etcd *e) { (void)e; }
static inline void nr_etcd_close(struct nr_etcd *e, void (*done)(void *), void *data)
{
	(void)e;
	done(data);
}
static inline void nr_etcd_status(const struct nr_etcd *e, struct nr_status *st)
{
	(void)e, (void)st;
}
static inline int nr_etcd_check_node_call(const struct nr_etcd *e, const char *name,
					  struct nr_err *err)
{
	(void)e, (void)name, (void)err;
	return 0;
}
static inline int nr_etcd_check_endpoint_call(const struct nr_etcd *e, struct nr_err *err)
{
	(void)e, (void)err;
	return 0;
}
static inline void nr_etcd_local_changed(struct nr_etcd *e) { (void)e; }
static inline void nr_etcd_purge(struct nr_etcd *e,
				 void (*done)(struct nr_ctl *ctl, int status, const char *msg))
{
	(void)e, (void)done;
}
#endif

#endif
