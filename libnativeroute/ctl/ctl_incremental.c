/* Per-change upkeep of the desired state, so one node event costs O(its own
 * objects) planning instead of re-planning the cluster (the O(n) per event
 * that hurts peers at 1k+ nodes).
 *
 * Before a node or endpoint changes, its part of the plan is computed
 * (nr_plan_node / nr_plan_endpoint); after the change, again. The old part
 * leaves ctl->desired, the new part enters it, and the keys of both are
 * remembered in ctl->touched. The next pass then diffs only those keys
 * against the kernel record. Anything that changes the plan of many objects
 * at once (start, mode, reachability, drift, the tunnel device) sets
 * ctl->full_pass instead, and so does a burst of changes too large for the
 * per-key path to be cheaper (bulk adds). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_internal.h"
#include "util/sorted.h"

typedef nr_sorted_cmp cmp_fn;

/* Run BODY(field, count, cmp) once per object kind of a kstate. */
#define FOR_EACH_KIND(BODY)                                        \
	BODY(nexthops, n_nexthops, nr_knexthop_cmp_key)            \
	BODY(routes, n_routes, nr_kroute_cmp_key)                  \
	BODY(neighs, n_neighs, nr_kneigh_cmp_key)                  \
	BODY(fdbs, n_fdbs, nr_kfdb_cmp_key)

/* desired := desired - old part + new part; touched += keys of both. */
static int apply_parts(struct nr_ctl *ctl, const struct nr_kstate *old, const struct nr_kstate *new)
{
	struct nr_kstate *d = &ctl->desired, *t = &ctl->touched;

#define REMOVE_OLD(f, n, cmp)                                                              \
	for (size_t i = 0; i < old->n; i++) {                                              \
		if (!nr_sorted_find(new->f, new->n, sizeof(*new->f), &old->f[i], (cmp_fn)cmp)) \
			nr_sorted_remove(d->f, &d->n, sizeof(*d->f), &old->f[i], (cmp_fn)cmp); \
		if (nr_sorted_upsert((void **)&t->f, &t->n, sizeof(*t->f), &old->f[i], (cmp_fn)cmp) < 0) \
			return -ENOMEM;                                                    \
	}
#define ADD_NEW(f, n, cmp)                                                                 \
	for (size_t i = 0; i < new->n; i++) {                                              \
		if (nr_sorted_upsert((void **)&d->f, &d->n, sizeof(*d->f), &new->f[i], (cmp_fn)cmp) < 0 || \
		    nr_sorted_upsert((void **)&t->f, &t->n, sizeof(*t->f), &new->f[i], (cmp_fn)cmp) < 0) \
			return -ENOMEM;                                                    \
	}
	FOR_EACH_KIND(REMOVE_OLD)
	FOR_EACH_KIND(ADD_NEW)
#undef REMOVE_OLD
#undef ADD_NEW
	return 0;
}

static size_t touched_count(const struct nr_ctl *ctl)
{
	const struct nr_kstate *t = &ctl->touched;

	/* a late node will touch about two objects */
	return t->n_nexthops + t->n_routes + t->n_neighs + t->n_fdbs + 2 * ctl->n_late;
}

static void late_clear(struct nr_ctl *ctl)
{
	for (size_t i = 0; i < ctl->n_late; i++)
		free(ctl->late[i]);
	free(ctl->late);
	ctl->late = NULL;
	ctl->n_late = ctl->cap_late = 0;
}

static int late_add(struct nr_ctl *ctl, const char *name)
{
	if (ctl->n_late == ctl->cap_late) {
		size_t cap = ctl->cap_late ? ctl->cap_late * 2 : 16;
		char **g = realloc(ctl->late, cap * sizeof(*g));

		if (!g)
			return -ENOMEM;
		ctl->late = g;
		ctl->cap_late = cap;
	}
	if (!(ctl->late[ctl->n_late] = strdup(name)))
		return -ENOMEM;
	ctl->n_late++;
	return 0;
}

static void report_forget(struct nr_plan_report *rep, const char *name)
{
	size_t w = 0;

	for (size_t r = 0; r < rep->n_skipped; r++)
		if (strcmp(rep->skipped[r].name, name))
			rep->skipped[w++] = rep->skipped[r];
	rep->n_skipped = w;
}

static int report_add(struct nr_ctl *ctl, const struct nr_plan_report *part)
{
	struct nr_plan_report *rep = &ctl->report;
	struct nr_plan_skip *grown;

	if (!part->n_skipped)
		return 0;
	grown = realloc(rep->skipped, (rep->n_skipped + part->n_skipped) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	memcpy(grown + rep->n_skipped, part->skipped, part->n_skipped * sizeof(*grown));
	rep->skipped = grown;
	rep->n_skipped += part->n_skipped;
	for (size_t i = 0; i < part->n_skipped; i++)
		if (part->skipped[i].reason == NR_SKIP_UNREACHABLE ||
		    part->skipped[i].reason == NR_SKIP_REACH_UNKNOWN)
			nr_ctl_emit(ctl, NR_EVENT_NODE_UNREACHABLE, part->skipped[i].name, NULL,
				    "node %s skipped: %s", part->skipped[i].name,
				    nr_plan_skip_reason_str(part->skipped[i].reason));
	return 0;
}

bool nr_ctl_incremental(const struct nr_ctl *ctl)
{
	/* During a pass (an event callback calling us) the pass may be walking
	 * ctl->desired: it must not move under it, so the change waits for a
	 * full pass instead. */
	return ctl->started && !ctl->in_pass && !ctl->full_pass && !ctl->need_dump &&
	       !ctl->reach_stale;
}

static void give_up(struct nr_ctl *ctl)
{
	ctl->full_pass = true;
	nr_kstate_free(&ctl->touched);
	late_clear(ctl); /* the full plan covers them */
}

/* Whether the node's part can be planned from what the cache knows: a
 * remote node whose IP was never asked cannot (asking here would be a
 * round trip on the caller's loop). Its part waits for the pass, which
 * asks for it from the loop first (ctl->late); until then none of it is
 * in ctl->desired. */
static bool reach_known(struct nr_ctl *ctl, const struct nr_node *n)
{
	if (nr_model_config(ctl->model)->routing_mode == NR_MODE_TUNNEL ||
	    n == nr_model_local_node(ctl->model))
		return true;
	return (!n->ip4.family || nr_reach_cache_peek(ctl, &n->ip4)) &&
	       (!n->ip6.family || nr_reach_cache_peek(ctl, &n->ip6));
}

/* The node's part of the plan now (empty when it is not in the model, or
 * when its reachability is not known yet: *late says so). */
static int part_of_node(struct nr_ctl *ctl, const char *name, struct nr_kstate *out,
			struct nr_plan_report *rep, bool *late)
{
	const struct nr_node *n = nr_model_node_get(ctl->model, name);
	struct nr_reach answers[2];
	struct nr_plan_input in = {
		.model = ctl->model, .reach = answers,
		.tunnel = { .ifindex = ctl->vxlan_ifindex, .mtu = ctl->vxlan_mtu },
		.flags = ctl->classic_routes ? NR_PLAN_CLASSIC_ROUTES : 0,
		.nh_remap = ctl->nh_remap, .n_nh_remap = ctl->n_nh_remap,
	};

	memset(out, 0, sizeof(*out));
	memset(rep, 0, sizeof(*rep));
	*late = false;
	if (!n)
		return 0;
	if (!reach_known(ctl, n)) {
		*late = true;
		return 0;
	}
	if (nr_model_config(ctl->model)->routing_mode != NR_MODE_TUNNEL &&
	    n != nr_model_local_node(ctl->model)) {
		if (n->ip4.family)
			answers[in.n_reach++] = *nr_reach_cache_peek(ctl, &n->ip4);
		if (n->ip6.family)
			answers[in.n_reach++] = *nr_reach_cache_peek(ctl, &n->ip6);
	}
	return nr_plan_node(&in, n, out, rep, NULL);
}

static int nr_ctl_part_of_node(struct nr_ctl *ctl, const char *name, struct nr_kstate *out,
			       struct nr_plan_report *rep)
{
	bool late;

	return part_of_node(ctl, name, out, rep, &late);
}

static int nr_ctl_part_of_endpoint(struct nr_ctl *ctl, const char *id, struct nr_kstate *out,
				   struct nr_plan_report *rep)
{
	const struct nr_endpoint *ep = nr_model_endpoint_get(ctl->model, id);
	struct nr_plan_input in = { .model = ctl->model };

	memset(out, 0, sizeof(*out));
	memset(rep, 0, sizeof(*rep));
	return ep ? nr_plan_endpoint(&in, ep, out, rep, NULL) : 0;
}

int nr_ctl_before_change(struct nr_ctl *ctl, bool endpoint, const char *name,
			 struct nr_kstate *old)
{
	struct nr_plan_report rep = { 0 };
	int rc;

	memset(old, 0, sizeof(*old));
	if (!nr_ctl_incremental(ctl))
		return 0;
	rc = endpoint ? nr_ctl_part_of_endpoint(ctl, name, old, &rep)
		      : nr_ctl_part_of_node(ctl, name, old, &rep);
	nr_plan_report_free(&rep);
	if (rc < 0)
		give_up(ctl);
	return 0;
}

void nr_ctl_after_change(struct nr_ctl *ctl, bool endpoint, const char *name,
			 struct nr_kstate *old)
{
	struct nr_kstate new = { 0 };
	struct nr_plan_report rep = { 0 };
	bool late = false;
	int rc;

	if (!nr_ctl_incremental(ctl)) {
		ctl->full_pass = true;
		nr_kstate_free(old);
		return;
	}
	rc = endpoint ? nr_ctl_part_of_endpoint(ctl, name, &new, &rep)
		      : part_of_node(ctl, name, &new, &rep, &late);
	if (rc == 0)
		rc = apply_parts(ctl, old, &new);
	if (rc == 0) {
		report_forget(&ctl->report, name);
		rc = report_add(ctl, &rep);
	}
	if (rc == 0 && late)
		rc = late_add(ctl, name);
	if (rc < 0 || touched_count(ctl) > NR_INCREMENTAL_MAX)
		give_up(ctl);
	nr_kstate_free(old);
	nr_kstate_free(&new);
	nr_plan_report_free(&rep);
}

/* At the start of an incremental pass, once the reachability of the late
 * nodes is known (the pass asked for it): their parts join the plan. */
int nr_ctl_late_apply(struct nr_ctl *ctl)
{
	int rc = 0;

	for (size_t i = 0; i < ctl->n_late && rc == 0; i++) {
		struct nr_kstate none = { 0 }, new;
		struct nr_plan_report rep;
		bool late;

		rc = part_of_node(ctl, ctl->late[i], &new, &rep, &late);
		if (late) /* the lookup was lost: a full pass asks again */
			ctl->full_pass = true;
		if (rc == 0)
			rc = apply_parts(ctl, &none, &new);
		if (rc == 0) {
			report_forget(&ctl->report, ctl->late[i]);
			rc = report_add(ctl, &rep);
		}
		nr_kstate_free(&new);
		nr_plan_report_free(&rep);
	}
	late_clear(ctl);
	return rc;
}

/* The objects of `from` whose keys are in `keys`, in key order. */
static int subset(const struct nr_kstate *from, const struct nr_kstate *keys, struct nr_kstate *out)
{
	memset(out, 0, sizeof(*out));
#define PICK(f, n, cmp)                                                                   \
	out->f = calloc(keys->n + 1, sizeof(*out->f));                                    \
	if (!out->f)                                                                      \
		return -ENOMEM;                                                           \
	for (size_t i = 0; i < keys->n; i++) {                                            \
		const void *hit = nr_sorted_find(from->f, from->n, sizeof(*from->f), &keys->f[i], (cmp_fn)cmp); \
		if (hit)                                                                  \
			memcpy(&out->f[out->n++], hit, sizeof(*out->f));                  \
	}
	FOR_EACH_KIND(PICK)
#undef PICK
	return 0;
}

int nr_ctl_touched_subsets(struct nr_ctl *ctl, const struct nr_kstate *touched,
			   struct nr_kstate *want, struct nr_kstate *have)
{
	int rc = subset(&ctl->desired, touched, want);

	if (rc == 0)
		rc = subset(&ctl->observed, touched, have);
	return rc;
}

/* After the kernel applied `want` for the touched keys: the record follows. */
int nr_ctl_touched_applied(struct nr_ctl *ctl, const struct nr_kstate *t,
			   const struct nr_kstate *want)
{
	struct nr_kstate *o = &ctl->observed;

#define FOLLOW(f, n, cmp)                                                                 \
	for (size_t i = 0; i < t->n; i++) {                                               \
		const void *w = nr_sorted_find(want->f, want->n, sizeof(*want->f), &t->f[i], (cmp_fn)cmp); \
		if (!w)                                                                   \
			nr_sorted_remove(o->f, &o->n, sizeof(*o->f), &t->f[i], (cmp_fn)cmp); \
		else if (nr_sorted_upsert((void **)&o->f, &o->n, sizeof(*o->f), w, (cmp_fn)cmp) < 0) \
			return -ENOMEM;                                                   \
	}
	FOR_EACH_KIND(FOLLOW)
#undef FOLLOW
	return 0;
}

void nr_ctl_touched_clear(struct nr_ctl *ctl)
{
	nr_kstate_free(&ctl->touched);
	late_clear(ctl);
	ctl->full_pass = false;
}
