/* One reconcile pass: plan (pure) -> observed state (a dump when we cannot
 * trust our record of the kernel) -> diff -> one netlink batch that applies
 * only the difference, in an order that never leaves a planned route
 * without its nexthop nor a remote CIDR without a route:
 *   1. nexthops, neighbours, FDB entries created or replaced
 *   2. routes created or replaced in place (NLM_F_REPLACE: no gap)
 *   3. stale routes deleted
 *   4. stale nexthops, neighbours, FDB entries deleted
 * Only objects with our protocol / id range / device are ever looked at. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nativeroute/error.h"

#include "ctl/ctl_internal.h"
#include "ctl/ctl_masq.h"
#include "ctl/ctl_node_check.h"
#include "ctl/ctl_pending.h"
#include "netlink/nl_batch.h"
#include "netlink/nl_dump.h"
#include "netlink/nl_link.h"
#include "netlink/nl_object.h"
#include "store/etcd.h"

#define NR_RETRY_MS 1000 /* after a failed pass, try again this soon */

struct pass {
	struct nr_ctl *ctl;
	struct nr_pending *reqs; /* the requests this pass answers */
	struct nr_nl_batch *batch;
	struct nr_ctl_failure *fails;
	size_t n_fails, cap_fails;
	size_t added, replaced, deleted;
	bool full;                       /* else incremental */
	const struct nr_kstate *want, *have; /* what the batch applies */
	struct nr_kstate own_want, own_have; /* incremental: the touched subsets */
	struct nr_kstate touched;        /* incremental: the keys it covers */
	struct nr_plan_report old_report; /* full: the report before the plan */
	bool planned, dumped;
	struct nr_err err, first_err;
};

/* ---- diff ----------------------------------------------------------------- */

/* Merge-walk two sorted arrays of one kind; queue CREATE_OP for desired
 * entries missing in observed, REPLACE for different ones, DELETE for
 * observed entries not desired (with deletes=true, so they run after every
 * add). Routes and nexthops are created with a plain ADD: a REPLACE would
 * silently overwrite a foreign route on the same prefix, which we must
 * never touch; the ADD fails with EEXIST instead and is reported. */
#define DIFF_KIND(NAME, TYPE, CMP, SAME, BATCH_FN, CREATE_OP)                             \
	static int NAME(struct pass *ps, const TYPE *want, size_t nw, const TYPE *have,    \
			size_t nh, bool deletes, struct nr_err *err)                         \
	{                                                                                   \
		size_t i = 0, j = 0;                                                        \
		while (i < nw || j < nh) {                                                  \
			int c = i == nw ? 1 : j == nh ? -1 : CMP(&want[i], &have[j]);         \
			int rc = 0;                                                         \
			if (c < 0) {                                                        \
				if (!deletes) {                                             \
					rc = BATCH_FN(ps->batch, CREATE_OP, &want[i], err); \
					ps->added++;                                        \
				}                                                           \
				i++;                                                        \
			} else if (c > 0) {                                                 \
				if (deletes) {                                              \
					rc = BATCH_FN(ps->batch, NR_NL_DELETE, &have[j], err);  \
					ps->deleted++;                                      \
				}                                                           \
				j++;                                                        \
			} else {                                                            \
				if (!deletes && !SAME(&want[i], &have[j])) {                \
					rc = BATCH_FN(ps->batch, NR_NL_REPLACE, &want[i], err); \
					ps->replaced++;                                     \
				}                                                           \
				i++, j++;                                                   \
			}                                                                   \
			if (rc < 0)                                                         \
				return rc;                                                  \
		}                                                                           \
		return 0;                                                                   \
	}

DIFF_KIND(diff_nexthops, struct nr_knexthop, nr_knexthop_cmp_key, nr_knexthop_same, nr_nl_batch_nexthop, NR_NL_ADD)
DIFF_KIND(diff_routes, struct nr_kroute, nr_kroute_cmp_key, nr_kroute_same, nr_nl_batch_route, NR_NL_ADD)
DIFF_KIND(diff_neighs, struct nr_kneigh, nr_kneigh_cmp_key, nr_kneigh_same, nr_nl_batch_neigh, NR_NL_REPLACE)
DIFF_KIND(diff_fdbs, struct nr_kfdb, nr_kfdb_cmp_key, nr_kfdb_same, nr_nl_batch_fdb, NR_NL_REPLACE)

static int queue_diff(struct pass *ps, const struct nr_kstate *want, const struct nr_kstate *have,
		      struct nr_err *err)
{
	int rc;

	rc = diff_nexthops(ps, want->nexthops, want->n_nexthops, have->nexthops, have->n_nexthops, false, err);
	if (rc == 0)
		rc = diff_neighs(ps, want->neighs, want->n_neighs, have->neighs, have->n_neighs, false, err);
	if (rc == 0)
		rc = diff_fdbs(ps, want->fdbs, want->n_fdbs, have->fdbs, have->n_fdbs, false, err);
	if (rc == 0)
		rc = diff_routes(ps, want->routes, want->n_routes, have->routes, have->n_routes, false, err);
	if (rc == 0)
		rc = diff_routes(ps, want->routes, want->n_routes, have->routes, have->n_routes, true, err);
	if (rc == 0)
		rc = diff_nexthops(ps, want->nexthops, want->n_nexthops, have->nexthops, have->n_nexthops, true, err);
	if (rc == 0)
		rc = diff_neighs(ps, want->neighs, want->n_neighs, have->neighs, have->n_neighs, true, err);
	if (rc == 0)
		rc = diff_fdbs(ps, want->fdbs, want->n_fdbs, have->fdbs, have->n_fdbs, true, err);
	return rc;
}

/* ---- results -------------------------------------------------------------- */

static void record_failure(size_t index, const struct nr_nl_batch_op *op, const char *text, void *data)
{
	struct pass *ps = data;
	struct nr_ctl_failure *f;

	/* Deleting what is already gone reached the wanted state: a pod's route
	 * goes with its veth when the pod's namespace is deleted before the
	 * endpoint is removed (CNI DEL), and that removal must not fail (it did,
	 * with ESRCH, and kept the endpoint and its address). The batch still
	 * counts it, so the next pass re-reads the kernel. */
	if (op->op == NR_NL_DELETE &&
	    (op->error == -ESRCH || op->error == -ENOENT || op->error == -ENODEV))
		return;
	if (ps->n_fails == ps->cap_fails) {
		size_t cap = ps->cap_fails ? ps->cap_fails * 2 : 8;
		struct nr_ctl_failure *grown = realloc(ps->fails, cap * sizeof(*grown));

		if (!grown)
			return; /* the pass still fails as a whole below */
		ps->fails = grown;
		ps->cap_fails = cap;
	}
	f = &ps->fails[ps->n_fails++];
	memset(f, 0, sizeof(*f));
	f->code = op->error;
	if (op->obj.kind == NR_NL_ROUTE && op->op == NR_NL_ADD && op->error == -EEXIST) {
		char dst[NR_ADDR_STRLEN];

		/* we create with ADD precisely so this is reported, not taken over */
		snprintf(f->text, sizeof(f->text),
			 "route %s: another owner's route holds this prefix; left alone, "
			 "retrying until it goes (EEXIST)",
			 nr_prefix_str(&op->obj.u.route.dst, dst, sizeof(dst)));
	} else {
		snprintf(f->text, sizeof(f->text), "%s", text);
	}
	if (op->obj.kind == NR_NL_ROUTE)
		f->dst = op->obj.u.route.dst;
	else if (op->obj.kind == NR_NL_NEXTHOP)
		f->nh_id = op->obj.u.nh.id;
	ps->ctl->netlink_errors++;
	/* the ERROR event waits for the end of the commit (apply_diff): its
	 * callback may call us, and a request on the command socket now would
	 * read (and drop) the ACKs the batch still waits for */
}

static bool route_failed(const struct pass *ps, const struct nr_prefix *dst)
{
	for (size_t i = 0; i < ps->n_fails; i++)
		if (ps->fails[i].dst.addr.family && nr_prefix_eq(&ps->fails[i].dst, dst))
			return true;
	return false;
}

static const char *route_node(const struct nr_ctl *ctl, const struct nr_kroute *r)
{
	const char *name = nr_ctl_route_owner(ctl, r);

	return *name ? name : NULL;
}

/* Tell the caller about routes that appeared or went, in one walk; a route
 * whose operation failed was reported as an ERROR instead. */
static void emit_route_events(struct pass *ps, const struct nr_kstate *want, const struct nr_kstate *have)
{
	struct nr_ctl *ctl = ps->ctl;
	size_t i = 0, j = 0;
	char buf[NR_ADDR_STRLEN];

	if (!ctl->event_cb)
		return;
	while (i < want->n_routes || j < have->n_routes) {
		int c = i == want->n_routes ? 1 : j == have->n_routes ? -1
			: nr_kroute_cmp_key(&want->routes[i], &have->routes[j]);

		/* the node (or endpoint) a route belongs to, from the plan: a
		 * removed route's owner may be gone from it already */
		if (c < 0 && !route_failed(ps, &want->routes[i].dst))
			nr_ctl_emit(ctl, NR_EVENT_ROUTE_PROGRAMMED, route_node(ctl, &want->routes[i]),
				    nr_prefix_str(&want->routes[i].dst, buf, sizeof(buf)), "route added");
		else if (c > 0 && !route_failed(ps, &have->routes[j].dst))
			nr_ctl_emit(ctl, NR_EVENT_ROUTE_REMOVED, route_node(ctl, &have->routes[j]),
				    nr_prefix_str(&have->routes[j].dst, buf, sizeof(buf)), "route removed");
		i += c <= 0;
		j += c >= 0;
	}
}

/* ---- the pass ------------------------------------------------------------- */

static int plan_once(struct nr_ctl *ctl, bool demote, struct nr_kstate *next,
		     struct nr_plan_report *rep, struct nr_err *err)
{
	struct nr_plan_input in = {
		.model = ctl->model,
		.tunnel = { .ifindex = ctl->vxlan_ifindex, .mtu = ctl->vxlan_mtu },
		.flags = ctl->classic_routes ? NR_PLAN_CLASSIC_ROUTES : 0,
		.nh_remap = ctl->nh_remap, .n_nh_remap = ctl->n_nh_remap,
	};
	int rc = nr_ctl_reach_array(ctl, demote, &in.reach, &in.n_reach);

	if (rc < 0)
		return nr_err_set(err, rc, "out of memory");
	nr_kstate_free(next);
	nr_plan_report_free(rep);
	return nr_plan(&in, next, rep, err);
}

static int plan(struct nr_ctl *ctl, struct nr_err *err)
{
	struct nr_kstate next = { 0 };
	struct nr_plan_report rep = { 0 };
	int rc = plan_once(ctl, false, &next, &rep, err);

	/* A node added while directly reachable that now sits behind a
	 * gateway: report it and keep routing everyone else. */
	if (rc == -EHOSTUNREACH) {
		nr_ctl_emit(ctl, NR_EVENT_NODE_UNREACHABLE, NULL, NULL, "%s", err->msg);
		rc = plan_once(ctl, true, &next, &rep, err);
	}
	if (rc < 0) {
		nr_kstate_free(&next);
		nr_plan_report_free(&rep);
		return rc;
	}
	nr_kstate_free(&ctl->desired);
	ctl->desired = next;
	nr_plan_report_free(&ctl->report);
	ctl->report = rep;
	return 0;
}

#define COPY_ARRAY(dst, src, field, n)                                              \
	do {                                                                        \
		(dst)->n = (src)->n;                                                \
		if ((src)->n) {                                                     \
			(dst)->field = malloc((src)->n * sizeof(*(src)->field));    \
			if (!(dst)->field)                                          \
				goto oom;                                           \
			memcpy((dst)->field, (src)->field, (src)->n * sizeof(*(src)->field)); \
		}                                                                   \
	} while (0)

static int kstate_copy(const struct nr_kstate *src, struct nr_kstate *dst)
{
	memset(dst, 0, sizeof(*dst));
	COPY_ARRAY(dst, src, nexthops, n_nexthops);
	COPY_ARRAY(dst, src, routes, n_routes);
	COPY_ARRAY(dst, src, neighs, n_neighs);
	COPY_ARRAY(dst, src, fdbs, n_fdbs);
	return 0;
oom:
	nr_kstate_free(dst);
	return -ENOMEM;
}

/* After a batch, the kernel holds what we asked for except what failed;
 * when anything failed, the next pass dumps instead of guessing. */
static void adopt_desired_as_observed(struct nr_ctl *ctl)
{
	struct nr_kstate copy = { 0 };

	if (kstate_copy(&ctl->desired, &copy) < 0) {
		ctl->need_dump = true;
		return;
	}
	nr_kstate_free(&ctl->observed);
	ctl->observed = copy;
}

static void report_unreachable(struct nr_ctl *ctl, const struct nr_plan_report *old)
{
	for (size_t i = 0; i < ctl->report.n_skipped; i++) {
		const char *name = ctl->report.skipped[i].name;
		bool known = false;

		for (size_t j = 0; j < old->n_skipped && !known; j++)
			known = !strcmp(old->skipped[j].name, name);
		if (!known)
			nr_ctl_emit(ctl, NR_EVENT_NODE_UNREACHABLE, name, NULL, "node %s skipped: %s",
				    name, nr_plan_skip_reason_str(ctl->report.skipped[i].reason));
	}
}

/* ---- the pass as a state machine -------------------------------------------
 * begin (on the loop: the dump when needed, in steps (ctl_gather.c), plan,
 * diff) -> the batch goes out in
 * slices and its ACKs are collected as they arrive (cmd_poll, a time
 * budget per loop turn, cmd_timer as the timeout) -> finish (events, the
 * record of the kernel, callbacks). While a batch is in flight the model
 * may change (callbacks, the caller's next loop turn): such changes do not
 * touch ctl->desired (nr_ctl_incremental is false during a pass) and wait
 * for the next pass, which runs as soon as this one ends. */

#define NR_PUMP_BUDGET_NS 1000000u /* work per loop turn while a batch is out */

static void flight_continue(struct nr_ctl *ctl);

/* The end of a batch: events, and the record of the kernel in step. */
static int apply_end(struct pass *ps, int rc)
{
	struct nr_ctl *ctl = ps->ctl;

	if (rc > 0 && rc != NR_NL_BATCH_WAIT && rc != NR_NL_BATCH_MORE)
		rc = 0;
	for (size_t i = 0; i < ps->n_fails; i++)
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL, "%s", ps->fails[i].text);
	if (rc < 0) {
		ctl->need_dump = true; /* the socket failed: unknown state */
		nr_err_set(&ps->err, rc, "netlink batch of %zu operations: %s (%s)",
			   nr_nl_batch_count(ps->batch), nr_strerror(rc), nr_err_name(rc));
		return rc;
	}
	emit_route_events(ps, ps->want, ps->have);
	if (nr_nl_batch_failures(ps->batch) > 0)
		ctl->need_dump = true;
	else if (ps->full)
		adopt_desired_as_observed(ctl);
	else if (nr_ctl_touched_applied(ctl, &ps->touched, ps->want) < 0)
		ctl->need_dump = true;
	return 0;
}

/* Callbacks, events and the retry timer, for both kinds of pass. */
static void finish_pass(struct pass *ps, int rc)
{
	struct nr_ctl *ctl = ps->ctl;

	if (ps->full) {
		if (rc == 0) /* eBPF maps: all, read back if dumped; not refused routes */
			nr_ctl_bpf_sync(ctl, true, ps->dumped, ps->fails, ps->n_fails);
		if (rc == 0)
			rc = nr_ctl_vxlan_cleanup(ctl, &ps->err);
		if (rc == 0)
			report_unreachable(ctl, &ps->old_report);
		if (ps->planned) {
			nr_plan_report_free(&ps->old_report);
		} else { /* no new plan: what we knew about skipped nodes still holds */
			nr_plan_report_free(&ctl->report);
			ctl->report = ps->old_report;
		}
	} else {
		if (rc == 0) { /* eBPF maps: the touched keys, which bpf_ctl.c
				* reads from ctl->touched: lend it this pass's */
			struct nr_kstate later = ctl->touched;

			ctl->touched = ps->touched;
			nr_ctl_bpf_sync(ctl, false, false, ps->fails, ps->n_fails);
			ps->touched = ctl->touched;
			ctl->touched = later;
		}
		nr_kstate_free(&ps->own_want);
		nr_kstate_free(&ps->own_have);
	}
	nr_kstate_free(&ps->touched);
	nr_nl_batch_free(ps->batch);
	ps->batch = NULL;
	if (rc < 0) {
		ctl->netlink_errors++;
		ctl->need_dump = true;
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL, "%s", ps->err.msg);
	}
	ctl->in_pass = false;
	ctl->flight = NULL;
	nr_ctl_masq_pass(ctl); /* the nftables table, off the loop; callbacks wait for it */
	/* answered now, or by the masquerade job once the table is in line too */
	if (!nr_ctl_masq_hold(ctl, ps->reqs, ps->fails, ps->n_fails, rc < 0 ? rc : 0, ps->err.msg))
		nr_ctl_pending_finish(ctl, ps->reqs, ps->fails, ps->n_fails, rc < 0 ? rc : 0,
				      ps->err.msg);
	if (rc < 0 || ps->n_fails)
		nr_ctl_schedule(ctl, NR_RETRY_MS);
	if (ctl->pass_again) { /* asked for while this one was out */
		ctl->pass_again = false;
		nr_ctl_schedule(ctl, 0);
	}
	free(ps->fails);
	free(ps);
}

/* Queue the difference between want and have and send it: at once when it
 * is small, else in slices from the loop (flight_continue). */
static void apply_begin(struct pass *ps, const struct nr_kstate *want, const struct nr_kstate *have)
{
	struct nr_ctl *ctl = ps->ctl;
	int rc = nr_nl_batch_new(ctl->nl, &ctl->owner, &ps->batch);

	ps->want = want;
	ps->have = have;
	if (rc == 0)
		rc = queue_diff(ps, want, have, &ps->err);
	if (rc < 0) {
		finish_pass(ps, rc);
		return;
	}
	if (nr_nl_batch_count(ps->batch) == 0) {
		finish_pass(ps, apply_end(ps, 0));
		return;
	}
	rc = ctl->k->batch_begin(ps->batch, record_failure, ps, &ps->first_err);
	if (rc < 0) {
		finish_pass(ps, rc);
		return;
	}
	ctl->flight = ps;
	flight_continue(ctl);
}

/* The save ahead of the kernel change is durable (rc 0): send the batch.
 * It failed: the model goes back to the last durable state, and every
 * request whose change it held fails with the reason - this pass's, and
 * those queued meanwhile; the kernel was not touched. */
static void saved_cb(struct nr_ctl *ctl, int rc, const char *msg)
{
	struct pass *ps = ctl->flight;
	struct nr_err rb = { 0 };

	if (!ps)
		return;
	if (rc == 0) {
		ctl->store_error = 0;
		apply_begin(ps, ps->want, ps->have);
		return;
	}
	nr_err_set(&ps->err, rc, "%s", msg && *msg ? msg : nr_strerror(rc));
	ctl->store_error = rc; /* status: the store subsystem is failing */
	snprintf(ctl->store_msg, sizeof(ctl->store_msg), "%s", ps->err.msg);
	if (nr_ctl_state_rollback(ctl, &rb) < 0)
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL, "state rollback after a failed save: %s",
			    rb.msg);
	else
		nr_ctl_pending_finish_all(ctl, rc, ps->err.msg);
	finish_pass(ps, rc);
}

/* Write-ahead: the model is durable before the kernel changes. */
static void save_then_apply(struct pass *ps, const struct nr_kstate *want, const struct nr_kstate *have)
{
	ps->want = want;
	ps->have = have;
	ps->ctl->flight = ps; /* close and purge wait, passes queue up */
	nr_ctl_save_ahead(ps->ctl, saved_cb);
}

static void flight_poll_cb(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	flight_continue(h->data);
}

static void flight_timeout_cb(uv_timer_t *t)
{
	struct nr_ctl *ctl = t->data;
	struct pass *ps = ctl->flight;

	if (!ps)
		return;
	uv_poll_stop(&ctl->cmd_poll);
	finish_pass(ps, apply_end(ps, -ETIMEDOUT));
}

/* Read the ACKs that arrived, send the next slices within the budget, and
 * wait for the socket (readable: ACKs; writable too: more to send). */
static void flight_continue(struct nr_ctl *ctl)
{
	struct pass *ps = ctl->flight;
	int rc;

	if (!ps || !ps->batch) /* none, or still saving ahead */
		return;
	rc = ctl->k->batch_pump(ps->batch, NR_PUMP_BUDGET_NS);
	if (rc == NR_NL_BATCH_WAIT || rc == NR_NL_BATCH_MORE) {
		uv_poll_start(&ctl->cmd_poll, rc == NR_NL_BATCH_MORE ? UV_READABLE | UV_WRITABLE : UV_READABLE,
			      flight_poll_cb);
		/* the kernel answers within milliseconds; silence this long means
		 * it will not (the old blocking receive's SO_RCVTIMEO) */
		uv_timer_start(&ctl->cmd_timer, flight_timeout_cb, NR_NL_TIMEOUT_MS, 0);
		return;
	}
	uv_poll_stop(&ctl->cmd_poll);
	uv_timer_stop(&ctl->cmd_timer);
	finish_pass(ps, apply_end(ps, rc));
}

/* Only the objects touched since the last pass: O(changes), not O(cluster). */
static void reconcile_touched(struct nr_ctl *ctl, struct pass *ps)
{
	int rc;

	/* the touched keys are this pass's; changes from now on start anew */
	ps->touched = ctl->touched;
	memset(&ctl->touched, 0, sizeof(ctl->touched));
	ctl->full_pass = false;
	rc = nr_ctl_touched_subsets(ctl, &ps->touched, &ps->own_want, &ps->own_have);
	if (rc < 0) {
		nr_err_set(&ps->err, rc, "out of memory");
		finish_pass(ps, rc);
		return;
	}
	save_then_apply(ps, &ps->own_want, &ps->own_have);
}

/* The kernel is read (ctl_gather.c: the dump when one is due, in steps
 * from the loop): plan, save, apply. */
static void full_gathered(struct nr_ctl *ctl, int rc, struct nr_err *err)
{
	struct pass *ps = ctl->flight;

	ctl->flight = NULL; /* saving sets it again */
	if (rc < 0) {
		ps->err = *err;
		finish_pass(ps, rc);
		return;
	}
	/* the node adds that left their check to this pass */
	nr_ctl_reach_prefill(ctl);
	nr_ctl_deferred_checks(ctl, ps->reqs);
	rc = plan(ctl, &ps->err);
	ps->planned = rc == 0;
	if (rc < 0) {
		finish_pass(ps, rc);
		return;
	}
	/* ctl->desired stays as it is while the batch is out (see above) */
	save_then_apply(ps, &ctl->desired, &ctl->observed);
}

static void reconcile_full(struct nr_ctl *ctl, struct pass *ps)
{
	int rc;

	ps->full = true;
	ps->old_report = ctl->report;
	ctl->report = (struct nr_plan_report){ 0 };
	if (ctl->reach_stale) {
		nr_reach_cache_clear(ctl->reach);
		ctl->reach_stale = false;
		nr_etcd_local_changed(ctl->etcd); /* a refused remote node may pass now */
	}
	nr_ctl_touched_clear(ctl);
	rc = nr_ctl_vxlan_sync(ctl, &ps->err);
	if (rc < 0) {
		finish_pass(ps, rc);
		return;
	}
	ps->dumped = ctl->need_dump || (!ctl->classic_routes && !ctl->nh_scanned);
	ctl->flight = ps; /* close and purge wait, passes queue up */
	nr_ctl_gather(ctl, full_gathered);
}

int nr_ctl_reconcile(struct nr_ctl *ctl)
{
	struct pass *ps;
	bool incremental;

	if (ctl->flight) { /* one pass at a time: the next follows this one */
		ctl->pass_again = true;
		return 0;
	}
	/* before the pass (the command socket is idle now): what these change
	 * belongs to this pass */
	nr_ctl_host_sync(ctl);
	/* once: nexthop ids others hold (a full pass reads them from its dump) */
	if (nr_ctl_incremental(ctl))
		nr_ctl_nh_scan(ctl, NULL);
	incremental = nr_ctl_incremental(ctl); /* decided before in_pass is set */
	ps = calloc(1, sizeof(*ps));
	if (!ps) {
		nr_ctl_schedule(ctl, NR_RETRY_MS);
		return -ENOMEM;
	}
	ps->ctl = ctl;
	ps->reqs = ctl->pending;
	/* requests queued from now on (event callbacks) wait for the next pass */
	ctl->pending = NULL;
	ctl->pending_tail = &ctl->pending;
	ctl->in_pass = true;
	if (incremental) {
		ctl->incremental_passes++;
		reconcile_touched(ctl, ps);
	} else {
		ctl->full_passes++;
		reconcile_full(ctl, ps);
	}
	return 0;
}

/* At close: a batch still out answers its requests with -ECANCELED. */
void nr_ctl_flight_cancel(struct nr_ctl *ctl)
{
	struct pass *ps = ctl->flight;

	if (!ps)
		return;
	ctl->flight = NULL;
	nr_ctl_gather_cancel(ctl);
	for (struct nr_pending *p = ps->reqs, *next; p; p = next) {
		next = p->next;
		nr_ctl_pending_run(ctl, p, -ECANCELED, "controller closed");
	}
	if (ps->full) {
		nr_plan_report_free(&ps->old_report);
	} else {
		nr_kstate_free(&ps->own_want);
		nr_kstate_free(&ps->own_have);
	}
	nr_kstate_free(&ps->touched);
	nr_nl_batch_free(ps->batch);
	free(ps->fails);
	free(ps);
}
