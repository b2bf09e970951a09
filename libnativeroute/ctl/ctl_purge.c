/* nr_ctl_purge: take back everything this controller put into the kernel
 * and remove its state files. It works from the kernel, not from the model:
 * whatever carries our route protocol (in our table), our nexthop id range
 * or sits on our nr_vxlan device is ours, whether or not the model knows it
 * (a purge after a crash, or over a state file that is gone). A final dump
 * proves that nothing is left. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_internal.h"
#include "ctl/ctl_masq.h"
#include "ctl/ctl_pending.h"
#include "netlink/nl_batch.h"
#include "netlink/nl_dump.h"
#include "netlink/nl_link.h"
#include "netlink/nl_vxlan.h"
#include "store/etcd.h"
#include "util/last_error.h"

static int dump_ours(struct nr_ctl *ctl, struct nr_kstate *out, uint32_t *vxlan_ifindex,
		     struct nr_err *err)
{
	struct nr_nl_vxlan vx;
	struct nr_nl_dump_filter f = {
		.owner = ctl->owner,
	};
	int rc;

	*vxlan_ifindex = 0;
	if (ctl->k->vxlan_get(ctl->nl, NR_VXLAN_NAME, &vx, vxlan_ifindex, NULL) < 0 ||
	    !nr_nl_vxlan_owned(&vx))
		*vxlan_ifindex = 0; /* none, not a VXLAN device, or someone else's */
	f.neigh_ifindex = f.fdb_ifindex = *vxlan_ifindex;
	memset(out, 0, sizeof(*out));
	for (int tries = 0; tries < 5; tries++) {
		rc = ctl->k->dump_kstate(ctl->nl, &f, out, err);
		if (rc != -EINTR)
			break;
	}
	if (rc == 0 && ctl->classic_routes) { /* no nexthop objects here */
		free(out->nexthops);
		out->nexthops = NULL;
		out->n_nexthops = 0;
	}
	return rc;
}

/* Already gone is what we want. */
static void ignore_gone(size_t index, const struct nr_nl_batch_op *op, const char *text, void *data)
{
	int *hard = data;

	(void)index;
	(void)text;
	if (op->error != -ENOENT && op->error != -ESRCH && op->error != -ENODEV)
		(*hard)++;
}

static int delete_all(struct nr_ctl *ctl, const struct nr_kstate *have, struct nr_err *err)
{
	struct nr_nl_batch *b = NULL;
	int hard = 0, rc = nr_nl_batch_new(ctl->nl, &ctl->owner, &b);

	/* routes before the nexthops they use, as the reconciler does; the
	 * batch calls return the operation's index */
	for (size_t i = 0; rc >= 0 && i < have->n_routes; i++)
		rc = nr_nl_batch_route(b, NR_NL_DELETE, &have->routes[i], err);
	for (size_t i = 0; rc >= 0 && i < have->n_nexthops; i++)
		rc = nr_nl_batch_nexthop(b, NR_NL_DELETE, &have->nexthops[i], err);
	for (size_t i = 0; rc >= 0 && i < have->n_neighs; i++)
		rc = nr_nl_batch_neigh(b, NR_NL_DELETE, &have->neighs[i], err);
	for (size_t i = 0; rc >= 0 && i < have->n_fdbs; i++)
		rc = nr_nl_batch_fdb(b, NR_NL_DELETE, &have->fdbs[i], err);
	if (rc >= 0 && nr_nl_batch_count(b) > 0) {
		rc = ctl->k->batch_commit(b, ignore_gone, &hard, err);
		if (rc > 0 && !hard)
			rc = 0;
		else if (rc > 0)
			rc = -EIO; /* err holds the first failure's text */
	}
	nr_nl_batch_free(b);
	return rc < 0 ? rc : 0;
}

static int purge(struct nr_ctl *ctl, struct nr_err *err)
{
	struct nr_kstate have = { 0 };
	uint32_t vx;
	int rc = dump_ours(ctl, &have, &vx, err);

	if (rc == 0)
		rc = delete_all(ctl, &have, err);
	nr_kstate_free(&have);
	if (rc == 0)
		rc = ctl->k->bpf_purge(ctl, err); /* tc filters, then the pinned maps */
	if (rc == 0 && vx)
		rc = ctl->k->link_delete(ctl->nl, vx, err);
	if (rc < 0)
		return rc;
	ctl->vxlan_ifindex = 0;
	/* verify: a second look must find nothing */
	rc = dump_ours(ctl, &have, &vx, err);
	if (rc == 0 && (have.n_routes || have.n_nexthops || have.n_neighs || have.n_fdbs || vx))
		rc = nr_err_set(err, -ENOTEMPTY, "purge: still present after deleting: %zu route(s), "
				"%zu nexthop(s), %zu neighbour(s), %zu FDB entr(ies)%s",
				have.n_routes, have.n_nexthops, have.n_neighs, have.n_fdbs,
				vx ? ", device " NR_VXLAN_NAME : "");
	nr_kstate_free(&have);
	if (rc == 0 && ctl->store)
		rc = nr_store_remove(ctl->store, err);
	return rc;
}

/* After the masquerade table went (ctl_masq.c): routes, nexthops, VXLAN,
 * state files. */
static void purge_rest(struct nr_ctl *ctl, int masq_rc, const char *masq_msg)
{
	struct nr_pending *req = ctl->purge_req;
	struct nr_err err = { 0 };
	int rc;

	if (!req || ctl->closing)
		return; /* closing: the close cancels the request */
	rc = masq_rc < 0 ? nr_err_set(&err, masq_rc, "%s", masq_msg) : purge(ctl, &err);
	ctl->purge_req = NULL;
	ctl->purged = true;
	nr_kstate_free(&ctl->desired);
	nr_kstate_free(&ctl->observed);
	if (rc < 0)
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL, "%s", err.msg);
	nr_ctl_pending_run(ctl, req, rc < 0 ? rc : 0, err.msg);
}

static void etcd_purged(struct nr_ctl *ctl, int status, const char *msg)
{
	if (status < 0)
		purge_rest(ctl, status, msg);
	else
		nr_ctl_masq_purge(ctl, purge_rest);
}

static void purge_cb(uv_timer_t *t)
{
	struct nr_ctl *ctl = t->data;

	if (ctl->closing)
		return; /* close cancels the request with the others */
	/* the worker still writes the state file, or a batch is out */
	if (ctl->save.running || ctl->flight) {
		uv_timer_start(&ctl->kick_timer, purge_cb, 1, 0);
		return;
	}
	nr_ctl_masq_cancel(ctl, "controller purged");
	nr_ctl_pending_finish_all(ctl, -ECANCELED, "controller purged");
	if (ctl->etcd) { /* this node's keys first: a failure leaves the kernel alone */
		nr_etcd_purge(ctl->etcd, etcd_purged);
		return;
	}
	nr_ctl_masq_purge(ctl, purge_rest);
}

NR_API int nr_ctl_purge(struct nr_ctl *ctl, nr_ctl_done_cb cb, void *data)
{
	struct nr_pending *p;

	nr_last_error_clear();
	if (!ctl || ctl->closing)
		return nr_last_error_set(-EINVAL, "nr_ctl_purge: no controller, or it is closing");
	if (ctl->purge_req || ctl->purged)
		return nr_last_error_set(-EALREADY, "controller already purged (or purging)");
	if (nr_ctl_loaded(ctl) < 0) /* a saved state still loading is waited for */
		return ctl->load.rc;
	p = calloc(1, sizeof(*p));
	if (!p)
		return nr_last_error_set(-ENOMEM, "out of memory");
	p->kind = NR_OP_PURGE;
	p->done_cb = cb;
	p->data = data;
	ctl->purge_req = p;
	/* no reconcile pass may run from now on: it would program again; and
	 * our own deletions must not come back as "drift" */
	ctl->started = false;
	uv_timer_stop(&ctl->resync_timer);
	uv_poll_stop(&ctl->event_poll);
	uv_timer_start(&ctl->kick_timer, purge_cb, 0, 0);
	return 0;
}
