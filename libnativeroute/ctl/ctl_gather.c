/* What a full pass reads from the kernel before it plans, read from the
 * caller's loop in steps instead of in one blocking exchange: the dump of
 * our objects (and, at the first pass, of the nexthop ids others hold), one
 * receive buffer per readiness of the command socket. At a restart with
 * 100,000 nodes that is ~800 steps of well under a millisecond each where
 * the blocking dumps stalled the loop for ~250 ms (issue 17). With the real
 * kernel the steps run on libuv's thread pool (dump_job below), and the
 * loop sorts and takes the result in slices. The pass is
 * ctl->flight meanwhile: close cancels it, and passes asked for wait. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "ctl/ctl_internal.h"
#include "netlink/nl_dump.h"
#include "nativeroute/error.h"
#include "util/clock.h"

/* The sort after the dump: element moves between two clock reads, and the
 * loop-thread time a slice of it may take (as a pass's slices). */
#define NR_GATHER_SORT_MOVES 4096
#define NR_GATHER_SLICE_NS 300000u

static void gather_timeout(uv_timer_t *t);
static void gather_finish_cb(uv_idle_t *h);

static void gather_end(struct nr_ctl *ctl, int rc)
{
	nr_ctl_gather_cb done = ctl->gather.done;

	uv_poll_stop(&ctl->cmd_poll);
	uv_timer_stop(&ctl->cmd_timer);
	uv_idle_stop(&ctl->step_idle);
	if (ctl->gather.dumper)
		ctl->k->dumper_free(ctl->gather.dumper);
	ctl->gather.dumper = NULL;
	ctl->gather.done = NULL;
	done(ctl, rc, &ctl->gather.err);
}

/* The dump is complete: it becomes ctl->observed, and the others' nexthop
 * ids, when asked for, are learnt (ctl_nhid.c). */
static int gather_take(struct nr_ctl *ctl)
{
	struct nr_kstate fresh = { 0 };
	struct nr_knexthop *others = NULL;
	size_t n_others = 0;
	bool scan = ctl->gather.scan;
	int rc = ctl->k->dumper_take(ctl->gather.dumper, &fresh, scan ? &others : NULL, &n_others,
				   &ctl->gather.err);

	if (rc < 0)
		return rc;
	nr_kstate_free(&ctl->observed);
	ctl->observed = fresh;
	ctl->need_dump = false;
	if (scan) {
		nr_ctl_nh_learn(ctl, others, n_others);
		free(others);
	}
	return 0;
}

/* The dump is in: what came out of key order is sorted (the neighbours and
 * FDB entries of tunnel mode, in the kernel's hash order: tens of
 * milliseconds at 100,000 in one qsort), a slice per loop turn; then it
 * is taken. */
static void gather_finish(struct nr_ctl *ctl)
{
	uint64_t t0 = nr_mono_ns();
	int rc = 0;

	while (ctl->k->dumper_finish &&
	       (rc = ctl->k->dumper_finish(ctl->gather.dumper, NR_GATHER_SORT_MOVES, &ctl->gather.err)) == 1)
		if (nr_mono_ns() - t0 >= NR_GATHER_SLICE_NS) {
			/* the pass's idle handle (it waits for this): a 0 ms timer
			 * re-armed from its own callback would run again within the
			 * same loop turn (libuv before 1.45) */
			uv_idle_start(&ctl->step_idle, gather_finish_cb);
			return;
		}
	if (rc == 0)
		rc = gather_take(ctl);
	gather_end(ctl, rc);
}

static void gather_finish_cb(uv_idle_t *h)
{
	struct nr_ctl *ctl = h->data;

	uv_idle_stop(h);
	if (ctl->gather.dumper)
		gather_finish(ctl);
}

static void gather_step(struct nr_ctl *ctl)
{
	int rc = ctl->k->dumper_step(ctl->gather.dumper, &ctl->gather.err);

	if (rc == NR_NL_DUMP_WAIT) {
		/* the kernel answers within milliseconds; silence this long
		 * means it will not (the blocking dump's SO_RCVTIMEO) */
		uv_timer_start(&ctl->cmd_timer, gather_timeout, NR_NL_TIMEOUT_MS, 0);
		return;
	}
	if (rc < 0) {
		gather_end(ctl, rc);
		return;
	}
	uv_poll_stop(&ctl->cmd_poll); /* nothing more to read */
	uv_timer_stop(&ctl->cmd_timer);
	gather_finish(ctl);
}

static void gather_poll_cb(uv_poll_t *h, int status, int events)
{
	struct nr_ctl *ctl = h->data;

	(void)events;
	if (!ctl->gather.dumper)
		return;
	if (status < 0) {
		nr_err_set(&ctl->gather.err, status, "dump: polling the netlink socket: %s",
			   uv_strerror(status));
		gather_end(ctl, status);
		return;
	}
	gather_step(ctl);
}

/* ---- the receives on the thread pool (the send worker's slot, ctl_send.c):
 * each step runs a piece of the kernel's dump inside recvmsg and parses a
 * few hundred objects, ~0.4 ms, and now and then 1-6 ms (traced at a
 * 100,000-node restart): ~150 ms of the loop's time in all. */

static int dump_run(struct nr_ctl *ctl, void *arg)
{
	return ctl->k->dumper_run(arg, &ctl->gather.err); /* err: the loop waits */
}

static void dump_free(void *arg)
{
	nr_nl_dumper_free(arg);
}

static const struct nr_ctl_job dump_job = {
	.run = dump_run, .free = dump_free, /* then (dumped_cb) gets the result */
};

static void dumped_cb(struct nr_ctl *ctl, int rc)
{
	if (!ctl->gather.dumper) /* cancelled meanwhile */
		return;
	if (rc < 0) {
		if (!ctl->gather.err.code)
			nr_err_set(&ctl->gather.err, rc, "dump: %s", nr_strerror(rc));
		gather_end(ctl, rc);
		return;
	}
	gather_finish(ctl);
}

static void gather_timeout(uv_timer_t *t)
{
	struct nr_ctl *ctl = t->data;

	if (!ctl->gather.dumper)
		return;
	nr_err_set(&ctl->gather.err, -ETIMEDOUT, "dump: the kernel did not answer in %d ms",
		   NR_NL_TIMEOUT_MS);
	gather_end(ctl, -ETIMEDOUT);
}

/* The same with the blocking dumps (a kernel table without dumper_*). */
static void gather_blocking(struct nr_ctl *ctl, const struct nr_nl_dump_filter *f, nr_ctl_gather_cb done)
{
	struct nr_kstate fresh = { 0 };
	struct nr_knexthop *others = NULL;
	size_t n_others = 0;
	int rc = -EINTR;

	ctl->gather.done = NULL;
	for (int tries = 0; tries < 5 && rc == -EINTR; tries++) /* the table changed mid-dump */
		rc = ctl->k->dump_kstate(ctl->nl, f, &fresh, &ctl->gather.err);
	if (rc == 0 && ctl->gather.scan)
		rc = ctl->k->dump_nexthops_foreign(ctl->nl, ctl->owner.protocol, &others, &n_others,
						   &ctl->gather.err);
	if (rc < 0) {
		nr_kstate_free(&fresh);
		done(ctl, rc, &ctl->gather.err);
		return;
	}
	if (ctl->classic_routes) { /* ours cannot exist */
		free(fresh.nexthops);
		fresh.nexthops = NULL;
		fresh.n_nexthops = 0;
	}
	nr_kstate_free(&ctl->observed);
	ctl->observed = fresh;
	ctl->need_dump = false;
	if (ctl->gather.scan)
		nr_ctl_nh_learn(ctl, others, n_others);
	free(others);
	done(ctl, 0, &ctl->gather.err);
}

void nr_ctl_gather(struct nr_ctl *ctl, nr_ctl_gather_cb done)
{
	struct nr_nl_dump_filter f = {
		.owner = ctl->owner,
		.neigh_ifindex = ctl->vxlan_ifindex,
		.fdb_ifindex = ctl->vxlan_ifindex,
		/* ours as planned, or (the first pass) a route and a nexthop a node */
		.expect = ctl->desired.n_routes ? ctl->desired.n_routes
			  : nr_model_node_count(ctl->model) + nr_model_endpoint_count(ctl->model),
	};
	int rc;

	ctl->gather.err = (struct nr_err){ 0 };
	ctl->gather.done = done;
	/* the first pass learns the ids others hold from the same dump */
	ctl->gather.scan = !ctl->classic_routes && !ctl->nh_scanned;
	if (ctl->gather.scan)
		ctl->need_dump = true;
	if (!ctl->need_dump) {
		ctl->gather.done = NULL;
		done(ctl, 0, &ctl->gather.err);
		return;
	}
	/* a kernel without nexthop objects, or classic routes asked for:
	 * ours cannot exist, and are not looked for */
	if (!ctl->k->dumper_new) { /* a kernel table without steps: at once */
		gather_blocking(ctl, &f, done);
		return;
	}
	rc = ctl->k->dumper_new(ctl->nl, &f, ctl->gather.scan, ctl->classic_routes,
				&ctl->gather.dumper, &ctl->gather.err);
	if (rc < 0) {
		ctl->gather.done = NULL;
		done(ctl, rc, &ctl->gather.err);
		return;
	}
	if (ctl->k->dumper_run && nr_ctl_send_job(ctl, &dump_job, ctl->gather.dumper, dumped_cb))
		return; /* dumped_cb continues */
	uv_poll_start(&ctl->cmd_poll, UV_READABLE, gather_poll_cb);
	uv_timer_start(&ctl->cmd_timer, gather_timeout, NR_NL_TIMEOUT_MS, 0);
}

void nr_ctl_gather_cancel(struct nr_ctl *ctl)
{
	if (ctl->gather.dumper)
		uv_idle_stop(&ctl->step_idle); /* a sort's next slice */
	if (ctl->gather.dumper && ctl->k->dumper_run) /* a worker may still read it */
		nr_ctl_send_release_job(ctl, &dump_job, ctl->gather.dumper);
	else if (ctl->gather.dumper)
		ctl->k->dumper_free(ctl->gather.dumper);
	ctl->gather.dumper = NULL;
	ctl->gather.done = NULL;
}
