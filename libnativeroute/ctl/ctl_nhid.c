/* Nexthop ids another owner holds. Ownership is the protocol, never the id:
 * a foreign nexthop whose id lies in our range (NR_NH_ID_BASE + index*2 +
 * v6) is left alone, and the node that would have used that id gets another
 * one. Replacement ids are derived (NR_NH_ID_ALT_BASE + the same offset + k
 * strides, k = how many candidates were taken too), so a restart that finds
 * the same foreign nexthop picks the same replacement again and adopts our
 * nexthop instead of re-creating it. Taken ids are learnt from a dump of
 * the others' nexthops at start, from their events, and from an EEXIST of
 * one of our nexthop adds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl_internal.h"
#include "netlink/nl_dump.h"

#define NR_NH_ID_ALT_BASE 0x20000000u
#define NR_NH_ID_ALT_STRIDE 0x01000000u
#define NR_NH_ID_ALT_TRIES 16

static int remap_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct nr_nh_remap *)a)->want, y = ((const struct nr_nh_remap *)b)->want;

	return x < y ? -1 : x > y;
}

uint32_t nr_ctl_nh_id(const struct nr_ctl *ctl, uint32_t index, bool v6)
{
	struct nr_plan_input in = { .nh_remap = ctl->nh_remap, .n_nh_remap = ctl->n_nh_remap };

	return nr_plan_nh_id(&in, index, v6);
}

bool nr_ctl_nh_index(const struct nr_ctl *ctl, uint32_t id, uint32_t *index)
{
	for (size_t i = 0; i < ctl->n_nh_remap; i++) {
		if (ctl->nh_remap[i].got == id) {
			*index = (ctl->nh_remap[i].want - NR_NH_ID_BASE) / 2;
			return true;
		}
	}
	if (id < NR_NH_ID_BASE || id >= NR_NH_ID_ALT_BASE)
		return false;
	*index = (id - NR_NH_ID_BASE) / 2;
	return true;
}

/* Whether a foreign object holds `id`, as far as we know. */
static bool taken(const struct nr_ctl *ctl, uint32_t id)
{
	for (size_t i = 0; i < ctl->n_taken; i++)
		if (ctl->nh_taken[i] == id)
			return true;
	return false;
}

/* The first free candidate for `want`; 0 when all are taken. */
static uint32_t candidate(const struct nr_ctl *ctl, uint32_t want)
{
	for (uint32_t k = 0; k < NR_NH_ID_ALT_TRIES; k++) {
		uint32_t id = NR_NH_ID_ALT_BASE + (want - NR_NH_ID_BASE) + k * NR_NH_ID_ALT_STRIDE;

		if (!taken(ctl, id))
			return id;
	}
	return 0;
}

static int remap_set(struct nr_ctl *ctl, uint32_t want, uint32_t got)
{
	struct nr_nh_remap key = { .want = want }, *hit, *grown;

	hit = ctl->n_nh_remap ? bsearch(&key, ctl->nh_remap, ctl->n_nh_remap, sizeof(key), remap_cmp)
			      : NULL;
	if (hit) {
		hit->got = got;
		return 0;
	}
	grown = realloc(ctl->nh_remap, (ctl->n_nh_remap + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	ctl->nh_remap = grown;
	grown[ctl->n_nh_remap++] = (struct nr_nh_remap){ .want = want, .got = got };
	qsort(grown, ctl->n_nh_remap, sizeof(*grown), remap_cmp);
	return 0;
}

void nr_ctl_nh_taken(struct nr_ctl *ctl, uint32_t id)
{
	uint32_t *grown, want = 0, got;
	char from[16], to[16];

	if (id < NR_NH_ID_BASE || taken(ctl, id))
		return;
	grown = realloc(ctl->nh_taken, (ctl->n_taken + 1) * sizeof(*grown));
	if (!grown)
		return;
	ctl->nh_taken = grown;
	grown[ctl->n_taken++] = id;
	/* which of our ids is it: a natural one, or a replacement in use? */
	for (size_t i = 0; i < ctl->n_nh_remap && !want; i++)
		if (ctl->nh_remap[i].got == id)
			want = ctl->nh_remap[i].want;
	if (!want && id < NR_NH_ID_ALT_BASE)
		want = id;
	if (!want)
		return;
	got = candidate(ctl, want);
	if (!got || remap_set(ctl, want, got) < 0) {
		nr_ctl_emit(ctl, NR_EVENT_ERROR, NULL, NULL,
			    "nexthop id %u is held by another owner and no replacement id is free", id);
		return;
	}
	snprintf(from, sizeof(from), "%u", id);
	snprintf(to, sizeof(to), "%u", got);
	nr_ctl_emit(ctl, NR_EVENT_DRIFT_REPAIRED, NULL, from,
		    "nexthop id %s is held by another owner (left alone); ours uses id %s", from, to);
	ctl->full_pass = true;
	ctl->need_dump = true;
	nr_ctl_schedule(ctl, 0);
}

void nr_ctl_nh_learn(struct nr_ctl *ctl, const struct nr_knexthop *others, size_t n)
{
	ctl->nh_scanned = true;
	for (size_t i = 0; i < n; i++)
		nr_ctl_nh_taken(ctl, others[i].id);
}

/* The blocking form, for a pass that does not dump (a full pass learns
 * them from its dump: ctl_gather.c). */
int nr_ctl_nh_scan(struct nr_ctl *ctl, struct nr_err *err)
{
	struct nr_knexthop *nhs = NULL;
	size_t n = 0;
	int rc;

	if (ctl->classic_routes || ctl->nh_scanned)
		return 0;
	rc = ctl->k->dump_nexthops_foreign(ctl->nl, ctl->owner.protocol, &nhs, &n, err);
	if (rc < 0)
		return rc;
	nr_ctl_nh_learn(ctl, nhs, n);
	free(nhs);
	return 0;
}

void nr_ctl_nh_free(struct nr_ctl *ctl)
{
	free(ctl->nh_remap);
	free(ctl->nh_taken);
}
