/* Loading nr_fast.bpf.c (skeleton, pinned maps reused) and keeping its tc
 * attachments in step with the plan:
 *   nr_from_pod       at ingress of every endpoint's host-side device,
 *   nr_from_underlay  at ingress of every device a native route leaves by
 *                     and of the VXLAN device (traffic arriving for pods).
 * Filters carry our handle and priority (NR_TC_HANDLE/NR_TC_PRIO), which is
 * how purge finds them on any link. Attaching uses BPF_TC_F_REPLACE: a
 * restarted controller swaps its freshly loaded program in place, so no
 * packet meets a device without one. A full pass re-attaches everything
 * (someone may have deleted a filter: repaired like any drift); other passes
 * attach new devices and detach devices the plan no longer has. Deleted
 * devices take their filters with them. The clsact qdisc a filter needs is
 * made when missing and taken away with our last filter only when we made
 * it (bpf_qdisc.c). */
#include "bpf/bpf_tc.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf/bpf_ctl.h"
#include "bpf/bpf_qdisc.h"
#include "ctl/ctl_internal.h"
#include "ctl/ctl_kernel.h"
#include "netlink/nl_netns.h"
#include "nr_fast.skel.h"
#include "util/worker_yield.h"

#define NR_TC_HANDLE 0x4e52 /* "NR" */
#define NR_TC_PRIO 0x4e52

enum { PROG_POD = 0, PROG_UNDERLAY = 1 };

struct att {
	uint32_t ifindex;
	uint8_t prog;
};

struct nr_bpf_tc {
	struct nr_fast *skel;
	struct att *att; /* attached now, sorted by ifindex */
	size_t n_att;
};

static int att_cmp(const void *a, const void *b)
{
	const struct att *x = a, *y = b;

	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	return (int)x->prog - (int)y->prog;
}

/* Off the loop (the verifier runs inside the bpf() syscall: milliseconds).
 * The maps' fds stay open meanwhile: close and purge wait for the job. */
static int load(struct nr_bpf_tc *tc, const struct nr_bpf_maps *maps)
{
	int rc;

	tc->skel = nr_fast__open();
	if (!tc->skel)
		return -errno;
	rc = bpf_map__reuse_fd(tc->skel->maps.routes, maps->routes_fd);
	if (rc == 0)
		rc = bpf_map__reuse_fd(tc->skel->maps.endpoints, maps->eps_fd);
	if (rc == 0)
		rc = bpf_map__reuse_fd(tc->skel->maps.stats, maps->stats_fd);
	if (rc == 0)
		rc = nr_fast__load(tc->skel);
	if (rc < 0) {
		nr_fast__destroy(tc->skel);
		tc->skel = NULL;
	}
	return rc;
}

/* The attachments the plan calls for, sorted, one per device (a pod's
 * device wins should a device be both). */
static int wanted(const struct nr_kstate *ks, struct att **out, size_t *n)
{
	struct att *a = calloc(ks->n_routes + 1, sizeof(*a));
	size_t k = 0;

	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < ks->n_routes; i++) {
		const struct nr_kroute *r = &ks->routes[i];
		uint32_t ifindex = r->ifindex;

		if (r->kind == NR_ROUTE_NATIVE && r->nh_id) {
			struct nr_knexthop key = { .id = r->nh_id };
			const struct nr_knexthop *nh = ks->n_nexthops
				? bsearch(&key, ks->nexthops, ks->n_nexthops, sizeof(key),
					  (int (*)(const void *, const void *))nr_knexthop_cmp_key)
				: NULL;

			ifindex = nh ? nh->ifindex : 0;
		}
		if (!ifindex || !r->kind)
			continue;
		a[k].ifindex = ifindex;
		a[k++].prog = r->kind == NR_ROUTE_ENDPOINT ? PROG_POD : PROG_UNDERLAY;
	}
	if (k)
		qsort(a, k, sizeof(*a), att_cmp);
	/* unique by ifindex; PROG_POD sorts first and wins */
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (!u || a[u - 1].ifindex != a[i].ifindex)
			a[u++] = a[i];
	*out = a;
	*n = u;
	return 0;
}

/* One sync of the attachments, on libuv's thread pool. The job owns its
 * arrays; it reads the program (tc->skel, or loads it into `fresh`) and the
 * qdisc record fd, which the loop leaves alone until the job is done (one
 * job at a time: the pass waits for it, close and purge wait for the pass
 * and for the job). */
struct nr_bpf_tc_job {
	uv_work_t req;
	struct nr_ctl *ctl;
	const struct nr_kernel_ops *k; /* the controller's kernel (ctl_kernel.h): tc_run */
	void *k_ctx;
	struct nr_bpf_tc *tc;    /* the loaded program, or `fresh` */
	struct nr_bpf_tc *fresh; /* not loaded yet: this job loads it */
	const struct nr_bpf_maps *maps;
	int netns_fd, rec_fd;    /* the controller's namespace; tc_qdiscs */
	struct att *want; size_t n_want;
	struct att *add; size_t n_add;
	struct att *del; size_t n_del;
	int load_rc, rc;
	struct nr_err err;
	nr_bpf_tc_done_fn done;
};

static int attach_one(struct nr_bpf_tc *tc, int rec_fd, const struct att *a, struct nr_err *err)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)a->ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = NR_TC_HANDLE, .priority = NR_TC_PRIO,
		    .flags = BPF_TC_F_REPLACE);
	struct bpf_program *p = a->prog == PROG_POD ? tc->skel->progs.nr_from_pod
						    : tc->skel->progs.nr_from_underlay;
	int rc = nr_bpf_qdisc_ensure(rec_fd, a->ifindex, err);

	if (rc < 0)
		return rc;
	o.prog_fd = bpf_program__fd(p);
	rc = bpf_tc_attach(&hook, &o);
	if (rc < 0)
		return nr_err_set(err, rc, "bpf: attaching %s to link #%u: %s",
				  bpf_program__name(p), a->ifindex, strerror(-rc));
	return 0;
}

static int detach_one(uint32_t ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = NR_TC_HANDLE, .priority = NR_TC_PRIO);
	int rc = bpf_tc_detach(&hook, &o);

	/* a deleted device took its filter along */
	return rc == -ENOENT || rc == -ENODEV || rc == -EINVAL ? 0 : rc;
}

/* Runs inside the controller's network namespace (libbpf's tc calls use a
 * netlink socket of the calling thread's namespace). */
static int run_job(void *arg)
{
	struct nr_bpf_tc_job *j = arg;
	int rc = 0;

	/* each attach or detach is a few netlink changes (RTNL, milliseconds
	 * now and then): the caller's loop may be queued behind this thread */
	for (size_t i = 0; rc == 0 && i < j->n_add; i++) {
		nr_worker_yield_piece();
		rc = attach_one(j->tc, j->rec_fd, &j->add[i], &j->err);
		if (rc == -ENODEV)
			rc = 0; /* the device went between plan and now: next pass */
	}
	for (size_t i = 0; rc == 0 && i < j->n_del; i++) {
		nr_worker_yield_piece();
		rc = detach_one(j->del[i].ifindex);
		if (rc < 0)
			rc = nr_err_set(&j->err, rc, "bpf: removing our tc filter from link #%u: %s",
					j->del[i].ifindex, strerror(-rc));
		else
			rc = nr_bpf_qdisc_release(j->rec_fd, j->del[i].ifindex, &j->err);
	}
	return rc;
}

static void work_cb(uv_work_t *req)
{
	struct nr_bpf_tc_job *j = req->data;

	if (j->fresh) {
		j->load_rc = load(j->fresh, j->maps);
		if (j->load_rc < 0)
			return;
	}
	if (!j->n_add && !j->n_del)
		return;
	nr_worker_yield_begin();
	if (!j->k->tc_run)
		j->rc = nr_err_set(&j->err, -ENOTSUP, "bpf: this kernel table has no tc");
	else
		j->rc = j->k->tc_run(j->k_ctx, j->netns_fd, run_job, j, &j->err);
	nr_worker_yield_end();
}

static void job_free(struct nr_bpf_tc_job *j)
{
	free(j->want);
	free(j->add);
	free(j->del);
	free(j);
}

/* On the loop: the job is over; what it did becomes our record. */
static void after_cb(uv_work_t *req, int status)
{
	struct nr_bpf_tc_job *j = req->data;
	struct nr_ctl *ctl = j->ctl;
	struct nr_bpf *b = ctl->bpf;
	nr_bpf_tc_done_fn done = j->done;
	struct nr_err err = j->err;
	int rc = status < 0 ? status : j->rc;

	b->tc_job = NULL;
	if (j->fresh && (status < 0 || j->load_rc < 0)) {
		int lrc = status < 0 ? status : j->load_rc;

		snprintf(b->tc_reason, sizeof(b->tc_reason), "loading the tc program failed: %s",
			 strerror(-lrc));
		b->tc_failed = true;
		free(j->fresh);
		if (!ctl->closing)
			nr_ctl_emit(ctl, NR_EVENT_BPF, NULL, NULL, "host routing: Legacy (%s)",
				    b->tc_reason);
		rc = 0; /* maps only; the status says why */
	} else {
		if (j->fresh)
			b->tc = j->fresh;
		if (rc == 0) {
			free(b->tc->att);
			b->tc->att = j->want;
			b->tc->n_att = j->n_want;
			j->want = NULL;
		} else if (status < 0) {
			nr_err_set(&err, status, "bpf: the tc job did not run: %s", strerror(-status));
		}
	}
	job_free(j);
	done(ctl, rc, &err); /* last: it may end the close, and free the controller */
}

int nr_bpf_tc_sync(struct nr_ctl *ctl, bool full, nr_bpf_tc_done_fn done, struct nr_err *err)
{
	struct nr_bpf *b = ctl->bpf;
	struct nr_bpf_tc_job *j;
	const struct att *have = b->tc ? b->tc->att : NULL;
	size_t n_have = b->tc ? b->tc->n_att : 0, i = 0, k = 0;
	int rc;

	if (b->tc_failed)
		return 0; /* maps only; the status says why */
	if (b->netns_fd < 0)
		return nr_err_set(err, -EBADF, "bpf: no handle on the controller's network namespace");
	j = calloc(1, sizeof(*j));
	if (!j)
		return nr_err_set(err, -ENOMEM, "bpf: out of memory");
	j->req.data = j;
	j->ctl = ctl;
	j->k = ctl->k;
	j->k_ctx = ctl->k_ctx;
	j->maps = &b->maps;
	j->netns_fd = b->netns_fd;
	j->rec_fd = b->maps.qdiscs_fd;
	j->done = done;
	rc = wanted(&ctl->desired, &j->want, &j->n_want);
	if (rc == 0 && !b->tc && !(j->tc = j->fresh = calloc(1, sizeof(*j->fresh))))
		rc = -ENOMEM;
	if (rc == 0 && b->tc)
		j->tc = b->tc;
	if (rc == 0) {
		j->add = calloc(j->n_want + 1, sizeof(*j->add));
		j->del = calloc(n_have + 1, sizeof(*j->del));
		if (!j->add || !j->del)
			rc = -ENOMEM;
	}
	if (rc < 0) {
		free(j->fresh);
		job_free(j);
		return nr_err_set(err, rc, "bpf: out of memory");
	}
	while (i < j->n_want || k < n_have) {
		int c = i == j->n_want ? 1 : k == n_have ? -1 : att_cmp(&j->want[i], &have[k]);

		if (c < 0 || (c == 0 && full))
			j->add[j->n_add++] = j->want[i];
		else if (c > 0)
			j->del[j->n_del++] = have[k];
		i += c <= 0;
		k += c >= 0;
	}
	/* the same device with the other program: attaching replaces it */
	size_t n_real_del = 0;
	for (size_t d = 0; d < j->n_del; d++) {
		bool replaced = false;

		for (size_t m = 0; m < j->n_add && !replaced; m++)
			replaced = j->del[d].ifindex == j->add[m].ifindex;
		if (!replaced)
			j->del[n_real_del++] = j->del[d];
	}
	j->n_del = n_real_del;
	if (!j->fresh && !j->n_add && !j->n_del) { /* in line already: no job */
		free(b->tc->att);
		b->tc->att = j->want;
		b->tc->n_att = j->n_want;
		j->want = NULL;
		job_free(j);
		return 0;
	}
	rc = uv_queue_work(ctl->loop, &j->req, work_cb, after_cb);
	if (rc < 0) {
		free(j->fresh);
		job_free(j);
		return nr_err_set(err, rc, "bpf: cannot queue the tc job: %s", strerror(-rc));
	}
	b->tc_job = j;
	return 1;
}

bool nr_bpf_tc_busy(struct nr_ctl *ctl)
{
	return ctl->bpf && ctl->bpf->tc_job;
}

const char *nr_bpf_tc_reason(struct nr_ctl *ctl)
{
	return ctl->bpf->tc_reason[0] ? ctl->bpf->tc_reason : "the tc program is not loaded";
}

struct purge_args {
	int rec_fd;
	struct nr_err *err;
};

static int purge_job(void *arg)
{
	struct purge_args *pa = arg;
	struct nr_err *err = pa->err;
	struct if_nameindex *ifs = if_nameindex(), *i;
	int rc = 0, left = 0;

	if (!ifs)
		return nr_err_set(err, -errno, "bpf: listing links: %s", strerror(errno));
	for (i = ifs; rc == 0 && i->if_index; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)i->if_index, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, q, .handle = NR_TC_HANDLE, .priority = NR_TC_PRIO);

		if (bpf_tc_query(&hook, &q) < 0)
			continue; /* no filter of ours (or no clsact at all) */
		rc = detach_one(i->if_index);
		if (rc < 0)
			rc = nr_err_set(err, rc, "bpf: removing our tc filter from %s: %s", i->if_name,
					strerror(-rc));
		/* prove it is gone */
		LIBBPF_OPTS(bpf_tc_opts, again, .handle = NR_TC_HANDLE, .priority = NR_TC_PRIO);
		if (rc == 0 && bpf_tc_query(&hook, &again) == 0)
			left++;
	}
	if (rc == 0 && left)
		rc = nr_err_set(err, -ENOTEMPTY, "bpf: %d tc filter(s) still present after purge", left);
	if_freenameindex(ifs);
	/* our filters are off: the clsacts we made go (those others use stay) */
	if (rc == 0)
		rc = nr_bpf_qdisc_release_all(pa->rec_fd, err);
	return rc;
}

int nr_bpf_tc_purge(struct nr_ctl *ctl, struct nr_err *err)
{
	struct nr_bpf *b = ctl->bpf;
	struct purge_args pa = { .rec_fd = b->maps.qdiscs_fd, .err = err };
	int own = -ENOENT, rc;

	if (b->tc) {
		free(b->tc->att);
		b->tc->att = NULL;
		b->tc->n_att = 0;
	}
	/* a purge in another process (nativerouted --purge) or before the
	 * maps were opened: the record is still pinned (none: we made none) */
	if (pa.rec_fd < 0 && b->instance[0]) {
		own = nr_bpf_qdisc_record_get(b->instance);
		if (own < 0 && own != -ENOENT)
			return nr_err_set(err, own, "bpf: opening %s/nativeroute/%s/%s (the clsact "
					  "qdiscs we made): %s", NR_BPF_FS, b->instance,
					  NR_BPF_MAP_QDISCS, strerror(-own));
		pa.rec_fd = own >= 0 ? own : -1;
	}
	rc = nr_nl_netns_run(ctl->netns, purge_job, &pa, err); /* on the loop: see docs/decisions.md */
	if (own >= 0)
		close(own);
	return rc;
}

void nr_bpf_tc_free(struct nr_ctl *ctl)
{
	struct nr_bpf_tc *tc = ctl->bpf->tc;

	if (!tc)
		return;
	/* the filters keep the programs alive: traffic keeps its fast path
	 * while the controller is down, as routes keep working */
	nr_fast__destroy(tc->skel);
	free(tc->att);
	free(tc);
	ctl->bpf->tc = NULL;
}
