/* The controller's hooks for the eBPF maps (see ctl_internal.h). The maps
 * are derived from the plan (ctl->desired) at the end of every reconcile
 * pass, after the routes, so an entry never points at a route the kernel
 * does not have yet:
 *  - full pass: every entry is derived and diffed against the record of
 *    what the maps hold; when the pass dumped the kernel (start, resync,
 *    drift) the maps are read back first, so a changed or deleted entry is
 *    found and rewritten (no kernel event tells us about map changes);
 *  - incremental pass: only the routes whose key, nexthop or tunnel entry
 *    was touched.
 * Routes the pass failed to program (refused by the kernel, or using a
 * refused nexthop) get no entry, and lose the one they had: the maps mirror
 * what the kernel really has, never more (a missing entry only sends the
 * packet through the kernel stack). The pass that programs them later
 * writes their entries.
 * At start the pinned maps are adopted (same map ids) and only differing
 * entries are written. Failure never stops routing: the reason is kept for
 * the status ("Host Routing: Legacy") and reported as an event. */
#include "bpf/bpf_ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bpf/bpf_link.h"
#include "bpf/bpf_tc.h"
#include "ctl/ctl_internal.h"
#include "netlink/nl_netns.h"

static void legacy(struct nr_ctl *ctl, const char *why)
{
	struct nr_bpf *b = ctl->bpf;

	snprintf(b->reason, sizeof(b->reason), "%.127s", why);
	nr_ctl_emit(ctl, NR_EVENT_BPF, NULL, NULL, "host routing: Legacy (%s)", why);
}

void nr_ctl_bpf_setup(struct nr_ctl *ctl, bool enabled)
{
	const struct nr_node *self = nr_model_local_node(ctl->model);
	struct nr_bpf *b = calloc(1, sizeof(*b));
	struct nr_err err = { 0 };

	ctl->bpf = b;
	if (!b)
		return;
	nr_bpf_maps_init(&b->maps);
	b->enabled = enabled;
	b->netns_fd = -1;
	/* the tc job runs on a pool thread: it enters the namespace by this
	 * fd (the controller's own, even when that is the caller's) */
	if (enabled && (b->netns_fd = nr_nl_netns_open(ctl->netns, &err)) < 0) {
		snprintf(b->tc_reason, sizeof(b->tc_reason), "%.127s", err.msg);
		b->tc_failed = true;
	}
	if (nr_bpf_instance_name(self ? self->name : "node", ctl->netns, b->instance,
				 sizeof(b->instance), &err) < 0)
		b->instance[0] = 0;
	snprintf(b->reason, sizeof(b->reason), "%s",
		 enabled ? "not started" : "disabled (nr_ctl_opts.bpf / --bpf)");
}

/* Maps open at the first pass, not in nr_ctl_new: the event callback that
 * reports what happened exists by then, and nr_ctl_new changes nothing. */
static int bpf_open(struct nr_ctl *ctl)
{
	struct nr_bpf *b = ctl->bpf;
	struct nr_err err = { 0 };
	bool mounted;
	int rc;

	if (!b->instance[0])
		return legacy(ctl, "cannot name the bpffs instance"), -EINVAL;
	rc = nr_bpf_fs_ensure(&mounted, &err);
	if (rc == 0 && mounted)
		nr_ctl_emit(ctl, NR_EVENT_BPF, NULL, NULL, "mounted bpffs on %s (it was missing)",
			    NR_BPF_FS);
	if (rc == 0)
		rc = nr_bpf_maps_open(b->instance, &b->maps, &err);
	if (rc < 0)
		return legacy(ctl, err.msg), rc;
	nr_ctl_emit(ctl, NR_EVENT_BPF, NULL, b->maps.dir,
		    "maps %s in %s (ids routes=%u endpoints=%u stats=%u)",
		    b->maps.n_created ? "created" : "adopted", b->maps.dir, b->maps.routes_id,
		    b->maps.eps_id, b->maps.stats_id);
	b->record_valid = false;
	return 0;
}

/* ---- endpoint MACs -------------------------------------------------------- */

static int mac_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct nr_bpf_mac *)a)->ifindex, y = ((const struct nr_bpf_mac *)b)->ifindex;

	return x < y ? -1 : x > y;
}

static const struct nr_bpf_mac *mac_get(struct nr_ctl *ctl, uint32_t ifindex)
{
	struct nr_bpf *b = ctl->bpf;
	struct nr_bpf_mac key = { .ifindex = ifindex }, *m, *grown;
	struct nr_err err = { 0 };

	m = b->n_macs ? bsearch(&key, b->macs, b->n_macs, sizeof(key), mac_cmp) : NULL;
	if (m)
		return m;
	if (nr_bpf_link_macs(ctl->query, ifindex, key.host, key.pod, &err) < 0)
		return NULL; /* the link is gone: its route fails too */
	grown = realloc(b->macs, (b->n_macs + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	b->macs = grown;
	b->macs[b->n_macs++] = key;
	qsort(b->macs, b->n_macs, sizeof(key), mac_cmp);
	return bsearch(&key, b->macs, b->n_macs, sizeof(key), mac_cmp);
}

static void fill_macs(struct nr_ctl *ctl, struct nr_bpf_ep_entry *eps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct nr_bpf_mac *m = mac_get(ctl, eps[i].val.ifindex);

		if (m) {
			memcpy(eps[i].val.host_mac, m->host, 6);
			memcpy(eps[i].val.pod_mac, m->pod, 6);
		}
	}
}

/* ---- one sync ------------------------------------------------------------- */

static size_t diff_size(const struct nr_bpf_diff *d)
{
	return d->n_put_routes + d->n_del_routes + d->n_put_eps + d->n_del_eps;
}

/* Read the maps back; entries that differ from our record were changed
 * behind our back. */
static int reread(struct nr_ctl *ctl, struct nr_err *err)
{
	struct nr_bpf *b = ctl->bpf;
	struct nr_bpf_entries have;
	struct nr_bpf_diff drift;
	int rc = nr_bpf_maps_dump(&b->maps, &have, err);

	if (rc < 0)
		return rc;
	if (b->record_valid && nr_bpf_diff(&b->record, &have, &drift) == 0) {
		size_t n = diff_size(&drift);

		if (n) {
			b->repairs += n;
			ctl->drift_repairs++;
			nr_ctl_emit(ctl, NR_EVENT_DRIFT_REPAIRED, NULL, b->maps.dir,
				    "bpf maps: %zu entr%s changed or removed by someone else; rewriting",
				    n, n == 1 ? "y was" : "ies were");
		}
		nr_bpf_diff_free(&drift);
	}
	nr_bpf_entries_free(&b->record);
	b->record = have;
	b->record_valid = true;
	return 0;
}

struct refusals {
	struct nr_bpf_refusal *rf;
	size_t n;
};

static int refusals_make(const struct nr_ctl_failure *fails, size_t n, struct refusals *out)
{
	out->n = 0;
	out->rf = n ? calloc(n, sizeof(*out->rf)) : NULL;
	if (n && !out->rf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (fails[i].dst.addr.family || fails[i].nh_id)
			out->rf[out->n++] = (struct nr_bpf_refusal){ fails[i].dst, fails[i].nh_id };
	return 0;
}

static int sync_full(struct nr_ctl *ctl, bool dumped, const struct refusals *rf, struct nr_err *err)
{
	struct nr_bpf *b = ctl->bpf;
	struct nr_bpf_entries want;
	struct nr_bpf_diff d;
	int rc;

	if (dumped) { /* resync: pod links may have been re-created */
		free(b->macs);
		b->macs = NULL;
		b->n_macs = 0;
	}
	if ((dumped || !b->record_valid) && (rc = reread(ctl, err)) < 0)
		return rc;
	if (nr_bpf_entries_programmed(&ctl->desired, rf->rf, rf->n, &want) < 0)
		return nr_err_set(err, -ENOMEM, "bpf: out of memory");
	fill_macs(ctl, want.eps, want.n_eps);
	rc = nr_bpf_diff(&want, &b->record, &d);
	if (rc < 0) {
		nr_bpf_entries_free(&want);
		return nr_err_set(err, rc, "bpf: out of memory");
	}
	rc = nr_bpf_maps_apply(&b->maps, &d, err);
	nr_bpf_diff_free(&d);
	nr_bpf_entries_free(&b->record);
	b->record = want; /* after a failure, the next pass reads the maps */
	b->record_valid = rc == 0;
	return rc;
}

typedef int (*cmp_fn)(const void *, const void *);

static bool touched(const void *base, size_t n, size_t size, const void *key, cmp_fn cmp)
{
	return n && bsearch(key, base, n, size, cmp);
}

/* Is planned route r affected by what the pass touched: its own key, its
 * nexthop (a node IP moved) or its tunnel neighbour entry. */
static bool route_touched(const struct nr_kstate *t, const struct nr_kroute *r)
{
	if (touched(t->routes, t->n_routes, sizeof(*r), r, (cmp_fn)nr_kroute_cmp_key))
		return true;
	if (r->nh_id) {
		struct nr_knexthop k = { .id = r->nh_id };

		return touched(t->nexthops, t->n_nexthops, sizeof(k), &k, (cmp_fn)nr_knexthop_cmp_key);
	}
	if (r->kind == NR_ROUTE_TUNNEL) {
		struct nr_kneigh k = { .ip = r->gw, .ifindex = r->ifindex };

		return touched(t->neighs, t->n_neighs, sizeof(k), &k, (cmp_fn)nr_kneigh_cmp_key) ||
		       t->n_fdbs; /* a node's underlay IP moved: cheap enough to redo all */
	}
	return false;
}

static int queue_put_route(struct nr_bpf *b, struct nr_bpf_diff *d, const struct nr_bpf_route_entry *e)
{
	const struct nr_bpf_route_entry *have = nr_bpf_entries_find_route(&b->record, &e->key);

	if (have && !memcmp(&have->val, &e->val, sizeof(e->val)))
		return 0;
	d->put_routes[d->n_put_routes++] = *e;
	return 0;
}

/* A touched route the kernel refused: its entries go (if we had them). */
static void queue_del_refused(struct nr_bpf *b, struct nr_bpf_diff *d, const struct nr_kroute *r)
{
	struct nr_bpf_route_key rk;
	struct nr_bpf_endpoint_key ek;

	nr_bpf_route_key_make(&r->dst, &rk);
	if (nr_bpf_entries_find_route(&b->record, &rk))
		d->del_routes[d->n_del_routes++] = rk;
	nr_bpf_ep_key_make(&r->dst.addr, &ek);
	if (r->kind == NR_ROUTE_ENDPOINT && r->dst.len == nr_addr_bits(r->dst.addr.family) &&
	    nr_bpf_entries_find_ep(&b->record, &ek))
		d->del_eps[d->n_del_eps++] = ek;
}

static int sync_touched(struct nr_ctl *ctl, const struct refusals *rf, struct nr_err *err)
{
	struct nr_bpf *b = ctl->bpf;
	const struct nr_kstate *ds = &ctl->desired, *t = &ctl->touched;
	struct nr_bpf_diff d = { 0 };
	size_t cap = ds->n_routes + t->n_routes + 1;
	int rc = 0;

	if (!b->record_valid)
		return sync_full(ctl, false, rf, err);
	d.put_routes = malloc(cap * sizeof(*d.put_routes));
	d.put_eps = malloc(cap * sizeof(*d.put_eps));
	d.del_routes = malloc(cap * sizeof(*d.del_routes));
	d.del_eps = malloc(cap * sizeof(*d.del_eps));
	if (!d.put_routes || !d.put_eps || !d.del_routes || !d.del_eps) {
		nr_bpf_diff_free(&d);
		return nr_err_set(err, -ENOMEM, "bpf: out of memory");
	}
	for (size_t i = 0; i < ds->n_routes; i++) {
		struct nr_bpf_route_entry re;
		struct nr_bpf_ep_entry ee;

		if (!route_touched(t, &ds->routes[i]))
			continue;
		if (rf->n && nr_bpf_route_refused(&ds->routes[i], rf->rf, rf->n)) {
			queue_del_refused(b, &d, &ds->routes[i]);
			continue;
		}
		if (nr_bpf_route_from_kroute(ds, &ds->routes[i], &re))
			queue_put_route(b, &d, &re);
		if (nr_bpf_ep_from_kroute(&ds->routes[i], &ee)) {
			const struct nr_bpf_ep_entry *have = nr_bpf_entries_find_ep(&b->record, &ee.key);

			fill_macs(ctl, &ee, 1);
			if (!have || memcmp(&have->val, &ee.val, sizeof(ee.val)))
				d.put_eps[d.n_put_eps++] = ee;
		}
	}
	/* touched keys the plan no longer has: their entries go */
	for (size_t i = 0; i < t->n_routes; i++) {
		const struct nr_kroute *r = &t->routes[i];
		struct nr_bpf_route_key rk;
		struct nr_bpf_endpoint_key ek;

		if (touched(ds->routes, ds->n_routes, sizeof(*r), r, (cmp_fn)nr_kroute_cmp_key))
			continue;
		nr_bpf_route_key_make(&r->dst, &rk);
		if (nr_bpf_entries_find_route(&b->record, &rk))
			d.del_routes[d.n_del_routes++] = rk;
		nr_bpf_ep_key_make(&r->dst.addr, &ek);
		if (r->dst.len == nr_addr_bits(r->dst.addr.family) && nr_bpf_entries_find_ep(&b->record, &ek))
			d.del_eps[d.n_del_eps++] = ek;
	}
	rc = nr_bpf_maps_apply(&b->maps, &d, err);
	for (size_t i = 0; rc == 0 && i < d.n_put_routes; i++)
		rc = nr_bpf_entries_put_route(&b->record, &d.put_routes[i]);
	for (size_t i = 0; rc == 0 && i < d.n_put_eps; i++)
		rc = nr_bpf_entries_put_ep(&b->record, &d.put_eps[i]);
	for (size_t i = 0; rc == 0 && i < d.n_del_routes; i++)
		nr_bpf_entries_del_route(&b->record, &d.del_routes[i]);
	for (size_t i = 0; rc == 0 && i < d.n_del_eps; i++)
		nr_bpf_entries_del_ep(&b->record, &d.del_eps[i]);
	if (rc < 0)
		b->record_valid = false;
	nr_bpf_diff_free(&d);
	return rc;
}

/* The end of a sync: rc < 0 leaves host routing Legacy until the next
 * full pass reads the maps and retries. */
static void sync_end(struct nr_ctl *ctl, int rc, const struct nr_err *err)
{
	struct nr_bpf *b = ctl->bpf;

	if (rc < 0) {
		b->maps_ok = false;
		snprintf(b->reason, sizeof(b->reason), "%.127s", err->msg);
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, b->maps.dir, "%s", err->msg);
		nr_ctl_schedule(ctl, 1000); /* the next full pass reads the maps and retries */
		ctl->full_pass = true;
		return;
	}
	b->maps_ok = true;
	if (b->tc)
		b->reason[0] = 0;
	else
		snprintf(b->reason, sizeof(b->reason), "%s", nr_bpf_tc_reason(ctl));
}

/* The tc job is over (bpf_tc.c): the pass that waits goes on; a close
 * that waits ends (and frees the controller: nothing after it). */
static void tc_done(struct nr_ctl *ctl, int rc, const struct nr_err *err)
{
	struct nr_bpf *b = ctl->bpf;
	void (*synced)(struct nr_ctl *) = b->synced;

	b->synced = NULL;
	if (ctl->closing) {
		if (b->closed)
			b->closed(ctl);
		return;
	}
	sync_end(ctl, rc, err);
	if (synced)
		synced(ctl);
}

bool nr_ctl_bpf_sync(struct nr_ctl *ctl, bool full, bool dumped,
		     const struct nr_ctl_failure *fails, size_t n_fails,
		     void (*synced)(struct nr_ctl *ctl))
{
	struct nr_bpf *b = ctl->bpf;
	struct nr_err err = { 0 };
	struct refusals rf;
	int rc;

	if (!b || !b->enabled)
		return false;
	if (b->maps.routes_fd < 0 && bpf_open(ctl) < 0) {
		b->enabled = false; /* no retry every pass: the reason stays in the status */
		return false;
	}
	rc = refusals_make(fails, n_fails, &rf);
	if (rc < 0)
		nr_err_set(&err, rc, "bpf: out of memory");
	else
		rc = full ? sync_full(ctl, dumped, &rf, &err) : sync_touched(ctl, &rf, &err);
	free(rf.rf);
	if (rc == 0)
		rc = nr_bpf_tc_sync(ctl, full, tc_done, &err);
	if (rc == 1) { /* the filters follow off the loop; the pass waits */
		b->maps_ok = true;
		b->synced = synced;
		return true;
	}
	sync_end(ctl, rc, &err);
	return false;
}

bool nr_ctl_bpf_wait(struct nr_ctl *ctl, void (*done)(struct nr_ctl *ctl))
{
	if (!nr_bpf_tc_busy(ctl))
		return false;
	ctl->bpf->closed = done;
	return true;
}

int nr_ctl_bpf_purge(struct nr_ctl *ctl, struct nr_err *err)
{
	struct nr_bpf *b = ctl->bpf;
	int rc;

	if (!b || !b->instance[0])
		return 0;
	rc = nr_bpf_tc_purge(ctl, err);
	if (rc < 0)
		return rc;
	nr_bpf_maps_close(&b->maps);
	nr_bpf_entries_free(&b->record);
	b->record_valid = false;
	b->maps_ok = false;
	b->enabled = false;
	snprintf(b->reason, sizeof(b->reason), "purged");
	return nr_bpf_pins_remove(b->instance, err);
}

void nr_ctl_bpf_status(struct nr_ctl *ctl, struct nr_status *s)
{
	struct nr_bpf *b = ctl->bpf;
	struct nr_bpf_stat st[NR_BPF_STAT_MAX];

	if (!b) {
		snprintf(s->host_routing_reason, sizeof(s->host_routing_reason), "out of memory");
		return;
	}
	s->host_routing_bpf = b->maps_ok && b->tc;
	snprintf(s->host_routing_reason, sizeof(s->host_routing_reason), "%.127s",
		 s->host_routing_bpf ? "" : b->reason);
	if (!b->maps_ok)
		return;
	s->bpf_routes = b->record.n_routes;
	s->bpf_endpoints = b->record.n_eps;
	s->bpf_map_repairs = b->repairs;
	if (nr_bpf_maps_stats(&b->maps, st) == 0)
		for (int i = 0; i < NR_BPF_STAT_MAX; i++)
			s->bpf_packets[i] = st[i].packets;
}

void nr_ctl_bpf_free(struct nr_ctl *ctl)
{
	struct nr_bpf *b = ctl->bpf;

	if (!b)
		return;
	nr_bpf_tc_free(ctl);
	nr_bpf_maps_close(&b->maps);
	nr_bpf_entries_free(&b->record);
	if (b->netns_fd >= 0)
		close(b->netns_fd);
	free(b->macs);
	free(b);
	ctl->bpf = NULL;
}
