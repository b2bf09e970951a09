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
#include <time.h>

#include "nativeroute/error.h"

#include "ctl/ctl_internal.h"
#include "ctl/ctl_masq.h"
#include "ctl/ctl_node_check.h"
#include "ctl/ctl_pending.h"
#include "netlink/nl_batch.h"
#include "netlink/nl_dump.h"
#include "netlink/nl_link.h"
#include "netlink/nl_object.h"
#include "netlink/nl_reach.h"
#include "store/etcd.h"
#include "util/clock.h"

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
	/* the stages of a pass, each in slices (see "the pass as a state machine") */
	int stage;
	struct nr_reach_fill *fill;      /* ST_REACH: the lookups out */
	struct nr_plan_slices *slices;   /* ST_PLAN */
	struct nr_ctl_reach_view view;   /* ST_PLAN: the planner's reachability */
	bool demoted;                    /* ST_PLAN: re-planning with gateways demoted */
	uint64_t slice_t0;               /* when the running slice began, less
					  * the work of this loop turn before it */
	uint64_t slice_end;              /* when the last one ended */
	uint64_t turn_used;              /* the work of this loop turn's slices */
	bool new_turn;                   /* the idle handle runs the next slice */
	int final_rc;                    /* ST_FINISH: the pass's outcome */
	bool finishing;                  /* ST_FINISH: its first slice ran */
	bool tc_wait;                    /* ST_TC: the eBPF tc job runs (bpf_tc.c) */
	int depth;                       /* pass_continue nesting (stages chained in a slice) */
	struct nr_pending *check_next;   /* ST_REACH: the deferred checks' cursor */
	int send_rc;                     /* ST_SEND: the first failure of a send or read */
	bool adopt;                      /* ST_ADOPT: the plan becomes the record */
	struct nr_kstate adopted;        /* ST_ADOPT: its copy, filled in slices */
	size_t adopt_at;                 /* ST_ADOPT: bytes copied so far */
	int diff_phase;                  /* ST_DIFF: which of queue_diff's 8 walks */
	size_t di, dj;                   /* ST_DIFF: its cursors */
};

enum { ST_REACH, ST_PLAN, ST_SAVE, ST_SAVING, ST_DIFF, ST_SEND, ST_ADOPT, ST_TC, ST_FINISH, ST_GATHER };

/* ---- diff ----------------------------------------------------------------- */

/* Merge-walk two sorted arrays of one kind; queue CREATE_OP for desired
 * entries missing in observed, REPLACE for different ones, DELETE for
 * observed entries not desired (with deletes=true, so they run after every
 * add). Routes and nexthops are created with a plain ADD: a REPLACE would
 * silently overwrite a foreign route on the same prefix, which we must
 * never touch; the ADD fails with EEXIST instead and is reported. */
#define DIFF_KIND(NAME, TYPE, CMP, SAME, BATCH_FN, CREATE_OP)                             \
	static int NAME(struct pass *ps, const TYPE *want, size_t nw, const TYPE *have,    \
			size_t nh, bool deletes, size_t limit, struct nr_err *err)           \
	{                                                                                   \
		size_t i = ps->di, j = ps->dj;                                              \
		while ((i < nw || j < nh) && limit--) {                                     \
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
		ps->di = i;                                                                 \
		ps->dj = j;                                                                 \
		return i < nw || j < nh;                                                    \
	}

DIFF_KIND(diff_nexthops, struct nr_knexthop, nr_knexthop_cmp_key, nr_knexthop_same, nr_nl_batch_nexthop, NR_NL_ADD)
DIFF_KIND(diff_routes, struct nr_kroute, nr_kroute_cmp_key, nr_kroute_same, nr_nl_batch_route, NR_NL_ADD)
DIFF_KIND(diff_neighs, struct nr_kneigh, nr_kneigh_cmp_key, nr_kneigh_same, nr_nl_batch_neigh, NR_NL_REPLACE)
DIFF_KIND(diff_fdbs, struct nr_kfdb, nr_kfdb_cmp_key, nr_kfdb_same, nr_nl_batch_fdb, NR_NL_REPLACE)

/* Queue the difference in order (adds and replaces of every kind, then the
 * deletes), at most `limit` compared entries per call: 1 while there is
 * more (ps->diff_phase, di, dj say where), 0 when done, < 0 on an error. */
static int queue_diff(struct pass *ps, const struct nr_kstate *want, const struct nr_kstate *have,
		      size_t limit, struct nr_err *err)
{
	while (ps->diff_phase < 8) {
		bool del = ps->diff_phase >= 4;
		int rc;

		switch (ps->diff_phase) {
		case 0: case 5:
			rc = diff_nexthops(ps, want->nexthops, want->n_nexthops, have->nexthops,
					   have->n_nexthops, del, limit, err);
			break;
		case 1: case 6:
			rc = diff_neighs(ps, want->neighs, want->n_neighs, have->neighs, have->n_neighs,
					 del, limit, err);
			break;
		case 2: case 7:
			rc = diff_fdbs(ps, want->fdbs, want->n_fdbs, have->fdbs, have->n_fdbs, del, limit, err);
			break;
		default: /* 3: routes created or replaced, 4: stale routes deleted (first of the deletes) */
			rc = diff_routes(ps, want->routes, want->n_routes, have->routes, have->n_routes,
					 ps->diff_phase == 4, limit, err);
			break;
		}
		if (rc != 0)
			return rc;
		ps->diff_phase++;
		ps->di = ps->dj = 0;
	}
	return 0;
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

/* The planner's input for a full plan, reachability from the cache. */
static void plan_input(struct nr_ctl *ctl, struct pass *ps, struct nr_plan_input *in)
{
	ps->view = (struct nr_ctl_reach_view){ .ctl = ctl, .demote_gateways = ps->demoted };
	*in = (struct nr_plan_input){
		.model = ctl->model,
		.tunnel = { .ifindex = ctl->vxlan_ifindex, .mtu = ctl->vxlan_mtu },
		.flags = ctl->classic_routes ? NR_PLAN_CLASSIC_ROUTES : 0,
		.nh_remap = ctl->nh_remap, .n_nh_remap = ctl->n_nh_remap,
		.reach_fn = nr_ctl_reach_lookup, .reach_data = &ps->view,
	};
}

/* ---- the record of the kernel after a full pass (ST_ADOPT) ------------------
 * After a batch that fully succeeded the kernel holds the plan: the plan is
 * copied into the record. At 100,000 nodes that is ~11 MB into fresh
 * pages, 7 ms in one piece - so it is copied in slices between loop turns,
 * into a new record swapped in at the end (the old one stays valid for
 * readers meanwhile). ctl->desired does not change while in_pass. */
#define NR_ADOPT_CHUNK (256u * 1024u) /* bytes between two clock reads */

struct adopt_part {
	void **dst;
	const void *src;
	size_t bytes;
};

static size_t adopt_parts(struct nr_kstate *dst, const struct nr_kstate *src,
			  struct adopt_part part[4])
{
	part[0] = (struct adopt_part){ (void **)&dst->nexthops, src->nexthops,
				       src->n_nexthops * sizeof(*src->nexthops) };
	part[1] = (struct adopt_part){ (void **)&dst->routes, src->routes,
				       src->n_routes * sizeof(*src->routes) };
	part[2] = (struct adopt_part){ (void **)&dst->neighs, src->neighs,
				       src->n_neighs * sizeof(*src->neighs) };
	part[3] = (struct adopt_part){ (void **)&dst->fdbs, src->fdbs, src->n_fdbs * sizeof(*src->fdbs) };
	return 4;
}

/* Room for the copy (pages are touched by the slices); -ENOMEM. */
static int adopt_begin(struct pass *ps)
{
	struct nr_kstate *dst = &ps->adopted;
	const struct nr_kstate *src = &ps->ctl->desired;
	struct adopt_part part[4];
	size_t n = adopt_parts(dst, src, part);

	*dst = (struct nr_kstate){ .n_nexthops = src->n_nexthops, .n_routes = src->n_routes,
				   .n_neighs = src->n_neighs, .n_fdbs = src->n_fdbs };
	ps->adopt_at = 0;
	for (size_t i = 0; i < n; i++) {
		if (part[i].bytes && !(*part[i].dst = malloc(part[i].bytes))) {
			nr_kstate_free(dst);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Copy on for at most the slice's budget: 1 more to do, 0 done. */
static int adopt_step(struct pass *ps, uint64_t (*left)(const struct pass *))
{
	struct adopt_part part[4];
	size_t n = adopt_parts(&ps->adopted, &ps->ctl->desired, part), base = 0;

	for (size_t i = 0; i < n; base += part[i].bytes, i++) {
		while (ps->adopt_at < base + part[i].bytes) {
			size_t off = ps->adopt_at - base, k = part[i].bytes - off;

			if (k > NR_ADOPT_CHUNK)
				k = NR_ADOPT_CHUNK;
			memcpy((char *)*part[i].dst + off, (const char *)part[i].src + off, k);
			ps->adopt_at += k;
			if (!left(ps))
				return 1;
		}
	}
	return 0;
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
 * Nothing of a pass holds the caller's loop for long (10,000 nodes are
 * tens of milliseconds of work): it runs in stages, each in slices of at
 * most NR_STEP_BUDGET_NS per loop turn, resumed from an idle handle (CPU
 * work) or from the command socket's poll (kernel answers):
 *   ST_GATHER full pass: the dump when one is due (ctl_gather.c, in steps)
 *   ST_REACH  reachability lookups for node IPs not asked yet, pipelined
 *             (ctl_reach.c; an incremental pass: those of the nodes added
 *             since the last pass), then the node adds that left their
 *             check to the pass are decided
 *   ST_PLAN   full pass: the plan, some nodes per slice, then sorted in
 *             slices (nr_plan_slices)
 *   ST_SAVE   the model saved ahead of the kernel change, off the loop
 *             (ST_SAVING while it is written)
 *   ST_DIFF   the difference to the kernel queued, some entries per slice
 *   ST_SEND   the batch goes out from the thread pool (ctl_send.c); its
 *             ACKs are read when the worker is done (cmd_poll and
 *             cmd_timer, the timeout, only for answers still missing)
 *   ST_ADOPT  full pass that changed the kernel: the plan copied into the
 *             record of the kernel, in slices
 *   ST_FINISH events, then the requests are
 *             decided (their callbacks queued, ctl_deliver.c) in slices
 * Until ST_FINISH the model may change (callbacks, the caller's next loop
 * turn): such changes do not touch ctl->desired (nr_ctl_incremental is
 * false while in_pass) and ask for a full pass, which runs as soon as this
 * one ends; a node added meanwhile is left out of this pass's plan (no
 * answer was asked for it, see nr_plan_reach_fn). */

#define NR_STEP_BUDGET_NS 300000u /* on-loop work per slice */
#define NR_DIFF_SLICE 512         /* entries compared between two clock reads */
#define NR_PLAN_SLICE 64          /* nodes planned between two clock reads */
#define NR_CHECK_SLICE 128        /* deferred node checks between two clock reads (~1.5 us each: two hash lookups on cold cache lines) */
#define NR_FINISH_SLICE 256       /* requests decided between two clock reads */
/* Slices closer together than this (an idle step, then the poll callback
 * in the same loop turn) share one budget: one slice's worth of work per
 * loop turn. What they share is the work done, not the time since the
 * first of them began: the idle handle runs once per loop turn, so a slice
 * it runs starts a new turn's budget. (Measured from the first slice, a
 * pass whose slices came microseconds apart - a loop with an active idle
 * handle turns that fast - ran out of budget after 300 us of wall time and
 * then spun the loop for NR_SLICE_GAP_NS before every later slice: ~0.3 ms
 * on every node add.) */
#define NR_SLICE_GAP_NS 50000u

static void pass_continue(struct nr_ctl *ctl);
static void touched_start(struct nr_ctl *ctl, struct pass *ps);

/* What is left of this slice's budget: stages that follow each other in
 * one slice (a small pass: save, diff and send at once) share it. */
static uint64_t slice_left(const struct pass *ps)
{
	uint64_t used = nr_mono_ns() - ps->slice_t0;

	return used >= NR_STEP_BUDGET_NS ? 0 : NR_STEP_BUDGET_NS - used;
}

static void step_idle_cb(uv_idle_t *h)
{
	struct nr_ctl *ctl = h->data;

	uv_idle_stop(h);
	if (ctl->flight)
		ctl->flight->new_turn = true;
	pass_continue(ctl);
}

/* Continue in the next loop turn (after the caller's other handles ran). */
static void pass_yield(struct nr_ctl *ctl)
{
	uv_idle_start(&ctl->step_idle, step_idle_cb);
}

static void pass_poll_cb(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	pass_continue(h->data);
}

static void pass_timeout_cb(uv_timer_t *t);

/* Wait for the command socket (readable: answers; writable too: more to send). */
static void pass_wait_io(struct nr_ctl *ctl, bool more)
{
	uv_poll_start(&ctl->cmd_poll, more ? UV_READABLE | UV_WRITABLE : UV_READABLE, pass_poll_cb);
	/* the kernel answers within milliseconds; silence this long means
	 * it will not (the old blocking receive's SO_RCVTIMEO) */
	uv_timer_start(&ctl->cmd_timer, pass_timeout_cb, NR_NL_TIMEOUT_MS, 0);
}

static void pass_stop_io(struct nr_ctl *ctl)
{
	uv_poll_stop(&ctl->cmd_poll);
	uv_timer_stop(&ctl->cmd_timer);
	uv_idle_stop(&ctl->step_idle);
}

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
	if (nr_nl_batch_failures(ps->batch) > 0) {
		ctl->need_dump = true;
	} else if (ps->full) {
		/* sent nothing: the record already agrees with the plan on
		 * every field we program (the diff compared them all); the
		 * copy was ~7 ms on the loop at a restart with 100,000 nodes */
		if (nr_nl_batch_count(ps->batch) > 0)
			ps->adopt = true; /* ST_ADOPT, in slices */
	} else if (nr_ctl_touched_applied(ctl, &ps->touched, ps->want) < 0) {
		ctl->need_dump = true;
	}
	return 0;
}

/* What a pass holds besides its requests and failures. */
static void pass_release(struct pass *ps)
{
	nr_ctl_reach_fill_release(ps->ctl, ps->fill); /* a worker may still use it */
	ps->fill = NULL;
	nr_plan_slices_free(ps->slices);
	ps->slices = NULL;
	nr_kstate_free(&ps->own_want);
	nr_kstate_free(&ps->own_have);
	nr_kstate_free(&ps->touched);
	nr_kstate_free(&ps->adopted);
	nr_ctl_send_release(ps->ctl, ps->batch); /* a worker may still send it */
	ps->batch = NULL;
}

/* ST_TC: the eBPF tc filters are attached off the loop (or failed: the
 * status says why); the pass's callbacks may run now. */
static void tc_synced(struct nr_ctl *ctl)
{
	struct pass *ps = ctl->flight;

	if (!ps || ps->stage != ST_TC)
		return;
	ps->stage = ST_FINISH;
	pass_continue(ctl);
}

/* Callbacks, events and the retry timer, for both kinds of pass. */
static void finish_pass(struct pass *ps, int rc)
{
	struct nr_ctl *ctl = ps->ctl;

	pass_stop_io(ctl);
	if (ps->full) {
		if (rc == 0) /* eBPF maps: all, read back if dumped; not refused routes */
			ps->tc_wait = nr_ctl_bpf_sync(ctl, true, ps->dumped, ps->fails, ps->n_fails,
						      tc_synced);
		if (rc == 0)
			rc = nr_ctl_vxlan_cleanup(ctl, &ps->err);
		if (rc == 0)
			report_unreachable(ctl, &ps->old_report);
		if (ps->planned) {
			nr_plan_report_free(&ps->old_report);
		} else { /* no new plan: what we knew about skipped nodes still holds */
			nr_plan_report_free(&ctl->report);
			ctl->report = ps->old_report;
			memset(&ps->old_report, 0, sizeof(ps->old_report));
		}
	} else if (rc == 0) { /* eBPF maps: the touched keys, which bpf_ctl.c
			       * reads from ctl->touched: lend it this pass's */
		struct nr_kstate later = ctl->touched;

		ctl->touched = ps->touched;
		ps->tc_wait = nr_ctl_bpf_sync(ctl, false, false, ps->fails, ps->n_fails, tc_synced);
		ps->touched = ctl->touched;
		ctl->touched = later;
	}
	pass_release(ps);
	if (rc < 0) {
		ctl->netlink_errors++;
		ctl->need_dump = true;
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL, "%s", ps->err.msg);
	}
	/* the record of the kernel is in step: changes may be incremental
	 * again (the next pass waits for this one's callbacks, ctl->flight) */
	ctl->in_pass = false;
	nr_ctl_masq_pass(ctl); /* the nftables table, off the loop; callbacks wait for it */
	ps->final_rc = rc;
	ps->stage = ps->tc_wait ? ST_TC : ST_FINISH; /* ST_TC: tc_synced goes on */
	pass_continue(ctl);
}

/* The pass is over: the next may start. */
static void finish_end(struct pass *ps)
{
	struct nr_ctl *ctl = ps->ctl;

	pass_stop_io(ctl);
	ctl->flight = NULL;
	if (ps->final_rc < 0 || ps->n_fails)
		nr_ctl_schedule(ctl, NR_RETRY_MS);
	if (ctl->pass_again) { /* asked for while this one was out */
		ctl->pass_again = false;
		nr_ctl_schedule(ctl, 0);
	}
	free(ps->fails);
	free(ps);
}

/* ST_FINISH: decide the requests, NR_FINISH_SLICE at a time between two
 * clock reads (10,000 of them are a millisecond). With failed operations
 * all at once: those are attributed to the requests they belong to. */
static void step_finish(struct pass *ps)
{
	struct nr_ctl *ctl = ps->ctl;
	int status = ps->final_rc < 0 ? ps->final_rc : 0;

	if (!ps->finishing) {
		struct nr_pending *list = ps->reqs;

		ps->finishing = true;
		/* answered by the masquerade job once the table is in line too */
		if (nr_ctl_masq_hold(ctl, list, ps->fails, ps->n_fails, status, ps->err.msg)) {
			ps->reqs = NULL;
		} else if (ps->n_fails) {
			ps->reqs = NULL;
			nr_ctl_pending_finish(ctl, list, ps->fails, ps->n_fails, status, ps->err.msg);
		} else { /* no request yet: the record of failures becomes "none" */
			nr_ctl_pending_finish(ctl, NULL, NULL, 0, status, ps->err.msg);
		}
	}
	while (ps->reqs) {
		struct nr_pending *first = ps->reqs, *last = first;

		for (size_t k = 1; last->next && k < NR_FINISH_SLICE; k++)
			last = last->next;
		ps->reqs = last->next; /* always the requests not answered yet */
		last->next = NULL;
		nr_ctl_pending_finish(ctl, first, NULL, 0, status, ps->err.msg);
		if (ps->reqs && !slice_left(ps)) {
			pass_yield(ctl);
			return;
		}
	}
	finish_end(ps);
}

/* ST_ADOPT: the plan copied into the record in slices, then swapped in. */
static void step_adopt(struct pass *ps)
{
	struct nr_ctl *ctl = ps->ctl;

	if (adopt_step(ps, slice_left) == 1) {
		pass_yield(ctl);
		return;
	}
	nr_kstate_free(&ctl->observed);
	ctl->observed = ps->adopted;
	memset(&ps->adopted, 0, sizeof(ps->adopted));
	finish_pass(ps, 0);
}

/* The batch has every answer (rc 0) or failed: the record of the kernel,
 * in slices after a full pass that changed something, then the end. */
static void batch_done(struct pass *ps, int rc)
{
	rc = apply_end(ps, rc);
	if (rc == 0 && ps->adopt) {
		ps->adopt = false;
		if (adopt_begin(ps) < 0) {
			ps->ctl->need_dump = true; /* no record: read the kernel next time */
		} else {
			pass_stop_io(ps->ctl);
			ps->stage = ST_ADOPT;
			pass_continue(ps->ctl);
			return;
		}
	}
	finish_pass(ps, rc);
}

/* ST_DIFF: queue the difference between want and have, in slices. */
static void step_diff(struct pass *ps)
{
	struct nr_ctl *ctl = ps->ctl;
	int rc = 0;

	if (!ps->batch) {
		const struct nr_kstate *w = ps->want, *h = ps->have;

		rc = nr_nl_batch_new(ctl->nl, &ctl->owner, &ps->batch);
		/* at most every wanted object created and every other deleted */
		if (rc == 0)
			rc = nr_nl_batch_reserve(ps->batch, w->n_nexthops + w->n_routes + w->n_neighs +
							    w->n_fdbs + h->n_nexthops + h->n_routes +
							    h->n_neighs + h->n_fdbs);
		if (rc < 0)
			rc = nr_err_set(&ps->err, rc, "netlink batch: out of memory");
	}
	while (rc == 0) {
		rc = queue_diff(ps, ps->want, ps->have, NR_DIFF_SLICE, &ps->err);
		if (rc != 1)
			break; /* done (0) or failed */
		rc = 0;
		if (!slice_left(ps)) {
			pass_yield(ctl);
			return;
		}
	}
	if (rc < 0) {
		finish_pass(ps, rc);
		return;
	}
	if (nr_nl_batch_count(ps->batch) == 0) {
		batch_done(ps, 0);
		return;
	}
	rc = ctl->k->batch_begin(ps->batch, record_failure, ps, &ps->first_err);
	if (rc < 0) {
		finish_pass(ps, rc);
		return;
	}
	ps->stage = ST_SEND;
	if (slice_left(ps) >= NR_STEP_BUDGET_NS / 2)
		pass_continue(ctl); /* a small pass goes out at once */
	else
		pass_yield(ctl);
}

static void sent_cb(struct nr_ctl *ctl, int rc)
{
	struct pass *ps = ctl->flight;

	if (!ps)
		return;
	if (rc < 0 && !ps->send_rc)
		ps->send_rc = rc;
	pass_continue(ctl);
}

/* ST_SEND with the sends on the thread pool (ctl_send.c): read the ACKs
 * of the last worker's operations, hand the next ones to a worker, and wait
 * for it - not for the socket. The kernel queues a message's ACK inside the
 * worker's sendmsg, and a loop thread waiting on the socket is woken from
 * there as a "sync" wakeup: the scheduler puts it on the worker's CPU and
 * it waits there until the worker's time slice ends, with the other CPU
 * idle (5.4 ms measured, bench/heartbeat). The worker's end wakes the loop
 * through libuv's eventfd, which does not pin it; the ACKs wait in the
 * receive buffer meanwhile (a claim never exceeds what it holds). Nor does
 * the timeout run during a send: nothing can stop a sendmsg, and its ACKs
 * are queued by the time it returns. The pass ends only once no worker
 * uses its batch: every way out (done, failed, timed out) waits for it. */
static void step_send_offloaded(struct pass *ps)
{
	struct nr_ctl *ctl = ps->ctl;
	int rc = ps->send_rc;

	if (nr_ctl_send_running(ctl)) { /* sent_cb continues */
		pass_stop_io(ctl);
		return;
	}
	if (!rc) {
		rc = ctl->k->batch_read(ps->batch);
		if (rc < 0)
			ps->send_rc = rc;
	}
	if (rc == NR_NL_BATCH_WAIT) {
		if (nr_ctl_send_next(ctl, ps->batch, sent_cb))
			pass_stop_io(ctl);
		else /* answers still queued (a read is bounded) or missing */
			pass_wait_io(ctl, false);
		return;
	}
	batch_done(ps, rc);
}

/* ST_SEND: read the ACKs that arrived, send the next slices within the
 * budget, and wait for the socket. */
static void step_send(struct pass *ps)
{
	int rc;

	if (nr_ctl_send_offloaded(ps->ctl)) {
		step_send_offloaded(ps);
		return;
	}
	rc = ps->ctl->k->batch_pump(ps->batch, slice_left(ps));
	if (rc == NR_NL_BATCH_WAIT || rc == NR_NL_BATCH_MORE) {
		pass_wait_io(ps->ctl, rc == NR_NL_BATCH_MORE);
		return;
	}
	batch_done(ps, rc);
}

/* The save ahead of the kernel change is durable (rc 0): queue and send
 * the batch. It failed: the model goes back to the last durable state, and
 * every request whose change it held fails with the reason - this pass's,
 * and those queued meanwhile; the kernel was not touched. */
static void saved_cb(struct nr_ctl *ctl, int rc, const char *msg)
{
	struct pass *ps = ctl->flight;
	struct nr_err rb = { 0 };

	if (!ps)
		return;
	if (rc == 0) {
		ctl->store_error = 0;
		ps->stage = ST_DIFF;
		pass_continue(ctl);
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

/* ST_SAVE: write-ahead, the model is durable before the kernel changes. */
static void save_then_apply(struct pass *ps, const struct nr_kstate *want, const struct nr_kstate *have)
{
	ps->want = want;
	ps->have = have;
	ps->stage = ST_SAVING;
	nr_ctl_save_ahead(ps->ctl, saved_cb);
}

/* ST_PLAN done: the plan becomes ctl->desired; a dump when the record of
 * the kernel cannot be trusted; then the save. */
static void plan_done(struct pass *ps)
{
	struct nr_ctl *ctl = ps->ctl;
	struct nr_kstate next;
	struct nr_plan_report rep;

	nr_plan_slices_take(ps->slices, &next, &rep);
	nr_plan_slices_free(ps->slices);
	ps->slices = NULL;
	nr_kstate_free(&ctl->desired);
	ctl->desired = next;
	nr_plan_report_free(&ctl->report);
	ctl->report = rep;
	ps->planned = true;
	/* ctl->desired stays as it is while the batch is out (see above) */
	ps->want = &ctl->desired;
	ps->have = &ctl->observed;
	ps->stage = ST_SAVE;
	pass_yield(ctl); /* the slice went to the plan */
}

static int plan_start(struct pass *ps)
{
	struct nr_plan_input in;

	plan_input(ps->ctl, ps, &in);
	in.release = nr_ctl_free_large; /* its sort's spare arrays: off the loop */
	in.release_ctx = ps->ctl;
	ps->stage = ST_PLAN;
	return nr_plan_slices_new(&in, &ps->slices, &ps->err);
}

static void step_plan(struct pass *ps)
{
	struct nr_ctl *ctl = ps->ctl;
	int rc;

	while ((rc = nr_plan_slices_step(ps->slices, NR_PLAN_SLICE, &ps->err)) == 1)
		if (!slice_left(ps)) {
			pass_yield(ctl);
			return;
		}
	/* A node added while directly reachable that now sits behind a
	 * gateway: report it and keep routing everyone else. */
	if (rc == -EHOSTUNREACH && !ps->demoted) {
		nr_ctl_emit(ctl, NR_EVENT_NODE_UNREACHABLE, NULL, NULL, "%s", ps->err.msg);
		nr_plan_slices_free(ps->slices);
		ps->slices = NULL;
		ps->demoted = true;
		rc = plan_start(ps);
		if (rc == 0) {
			pass_yield(ctl);
			return;
		}
	}
	if (rc < 0) {
		finish_pass(ps, rc);
		return;
	}
	plan_done(ps);
}

/* Decide up to NR_CHECK_SLICE of the node adds that left their check to
 * this pass (ps->reqs from *cursor on); true when all are decided. */
static bool deferred_checks_slice(struct pass *ps, struct nr_pending **cursor)
{
	struct nr_pending *first = *cursor, *last = first, *rest;
	size_t k = 1;

	if (!first)
		return true;
	while (last->next && k++ < NR_CHECK_SLICE)
		last = last->next;
	rest = last->next;
	last->next = NULL; /* nr_ctl_deferred_checks walks a list: lend it a piece */
	nr_ctl_deferred_checks(ps->ctl, first);
	last->next = rest;
	*cursor = rest;
	return rest == NULL;
}

/* A full pass's lookups ended on the thread pool (ctl_send.c). */
static void looked_up_cb(struct nr_ctl *ctl, int rc)
{
	(void)rc; /* the fill has it */
	if (ctl->flight)
		pass_continue(ctl);
}

/* ST_REACH: the lookups, then the deferred checks, in slices. */
static void step_reach(struct pass *ps)
{
	struct nr_ctl *ctl = ps->ctl;
	int rc;

	if (ps->fill) {
		rc = nr_ctl_reach_fill_pump(ctl, ps->fill, slice_left(ps), looked_up_cb);
		if (rc == NR_CTL_REACH_WORKER) { /* looked_up_cb continues */
			pass_stop_io(ctl);
			return;
		}
		if (rc == NR_NL_REACH_WAIT) { /* answers outstanding */
			pass_wait_io(ctl, false);
			return;
		}
		if (rc == NR_NL_REACH_MORE) { /* more to collect or send: next turn */
			pass_stop_io(ctl);
			pass_yield(ctl);
			return;
		}
		pass_stop_io(ctl);
		nr_ctl_reach_fill_free(ps->fill);
		ps->fill = NULL;
		if (rc < 0) { /* the socket failed: unknown answers, try again soon */
			nr_err_set(&ps->err, rc, "route lookups of node IPs: %s (%s)", nr_strerror(rc),
				   nr_err_name(rc));
			finish_pass(ps, rc);
			return;
		}
		ps->check_next = ps->reqs;
	}
	while (!deferred_checks_slice(ps, &ps->check_next))
		if (!slice_left(ps)) {
			pass_yield(ctl);
			return;
		}
	if (!ps->full) {
		touched_start(ctl, ps);
		return;
	}
	rc = plan_start(ps);
	if (rc < 0) {
		finish_pass(ps, rc);
		return;
	}
	pass_yield(ctl);
}

/* Run the current stage for one slice. */
static void pass_continue(struct nr_ctl *ctl)
{
	struct pass *ps = ctl->flight;
	int rc;

	if (!ps)
		return;
	if (ps->depth == 0) {
		uint64_t now = nr_mono_ns();

		if (ps->new_turn || now - ps->slice_end >= NR_SLICE_GAP_NS)
			ps->turn_used = 0;
		ps->new_turn = false;
		if (ps->turn_used >= NR_STEP_BUDGET_NS) { /* this loop turn had its slice */
			pass_yield(ctl);
			return;
		}
		ps->slice_t0 = now - ps->turn_used; /* slice_left: what the turn has left */
	}
	ps->depth++;
	switch (ps->stage) {
	case ST_REACH: step_reach(ps); break;
	case ST_PLAN: step_plan(ps); break;
	case ST_SAVE: /* the copy to save brought up to the model in slices,
		       * then the save starts; saved_cb continues */
		rc = nr_ctl_save_prep(ctl, slice_left(ps));
		if (rc == 1)
			pass_yield(ctl);
		else if (rc < 0)
			saved_cb(ctl, rc, "state save: out of memory");
		else
			save_then_apply(ps, ps->want, ps->have);
		break;
	case ST_SAVING:
	case ST_TC:     /* tc_synced continues */
	case ST_GATHER: /* ctl_gather.c's callback continues */
		break;
	case ST_DIFF: step_diff(ps); break;
	case ST_SEND: step_send(ps); break;
	case ST_ADOPT: step_adopt(ps); break;
	case ST_FINISH: step_finish(ps); break;
	}
	if (ctl->flight == ps && --ps->depth == 0) {
		ps->slice_end = nr_mono_ns();
		ps->turn_used = ps->slice_end - ps->slice_t0;
	}
}

static void pass_timeout_cb(uv_timer_t *t)
{
	struct nr_ctl *ctl = t->data;
	struct pass *ps = ctl->flight;

	if (!ps)
		return;
	if (ps->stage == ST_SEND) {
		pass_stop_io(ctl);
		if (nr_ctl_send_running(ctl)) { /* its end finishes the pass */
			if (!ps->send_rc)
				ps->send_rc = -ETIMEDOUT;
			nr_ctl_send_cancel(ctl);
			return;
		}
		finish_pass(ps, apply_end(ps, -ETIMEDOUT));
		return;
	}
	nr_err_set(&ps->err, -ETIMEDOUT, "route lookups of node IPs: no answer from the kernel");
	finish_pass(ps, -ETIMEDOUT);
}

/* Only the objects touched since the last pass: O(changes), not O(cluster).
 * Runs once the late nodes' reachability is known (ST_REACH). */
static void touched_start(struct nr_ctl *ctl, struct pass *ps)
{
	int rc = nr_ctl_late_apply(ctl);

	/* the touched keys are this pass's; changes from now on start anew */
	ps->touched = ctl->touched;
	memset(&ctl->touched, 0, sizeof(ctl->touched));
	if (rc == 0)
		rc = nr_ctl_touched_subsets(ctl, &ps->touched, &ps->own_want, &ps->own_have);
	if (rc < 0) {
		nr_err_set(&ps->err, rc, "out of memory");
		ctl->full_pass = true;
		finish_pass(ps, rc);
		return;
	}
	ps->want = &ps->own_want;
	ps->have = &ps->own_have;
	ps->stage = ST_SAVE;
	pass_continue(ctl);
}

/* The kernel is read (ctl_gather.c: the dump when one is due, in steps
 * from the loop): the reachability lookups, then plan, save, apply. */
static void full_gathered(struct nr_ctl *ctl, int rc, struct nr_err *err)
{
	struct pass *ps = ctl->flight;

	if (!ps)
		return;
	if (rc < 0) {
		ps->err = *err;
		finish_pass(ps, rc);
		return;
	}
	rc = nr_ctl_reach_fill_all(ctl, &ps->fill);
	if (rc < 0) {
		nr_err_set(&ps->err, rc, "out of memory");
		finish_pass(ps, rc);
		return;
	}
	ps->stage = ST_REACH;
	ps->check_next = ps->reqs;
	pass_continue(ctl);
}

static void reconcile_touched(struct nr_ctl *ctl, struct pass *ps)
{
	int rc = nr_ctl_reach_fill_begin(ctl, ctl->late, ctl->n_late, &ps->fill);

	ctl->full_pass = false;
	if (rc < 0) {
		nr_err_set(&ps->err, rc, "out of memory");
		ctl->full_pass = true;
		finish_pass(ps, rc);
		return;
	}
	ps->stage = ST_REACH;
	ps->check_next = ps->reqs;
	pass_continue(ctl);
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
	ps->stage = ST_GATHER; /* gather's callback continues */
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
	ctl->flight = ps; /* close and purge wait, passes queue up */
	if (incremental) {
		ctl->incremental_passes++;
		reconcile_touched(ctl, ps);
	} else {
		ctl->full_passes++;
		reconcile_full(ctl, ps);
	}
	return 0;
}

/* At close: a pass still running answers its requests with -ECANCELED. */
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
	if (ps->full)
		nr_plan_report_free(&ps->old_report);
	pass_release(ps);
	free(ps->fails);
	free(ps);
}
