#include "util/hmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Growing by rehashing every element at once stalls the inserting call in
 * proportion to the map (at 10,000 nodes a millisecond and more of pointer
 * chasing; at 100,000 several). So the map grows incrementally: the new
 * bucket array takes every insert, and each insert moves a few of the old
 * array's buckets over, until none is left. An old bucket moves whole, and
 * before an insert with a hash that maps to a bucket not yet moved, that
 * bucket moves first: all elements with one hash are always in one table
 * (the old one while their old bucket is non-empty), so a lookup looks in
 * exactly one chain. */
#define MOVE_PER_INSERT 2 /* old buckets moved per insert: done after half the inserts until the next grow */

/* The next, twice larger bucket array is allocated once the map is 3/4
 * full and cleared ZERO_PER_INSERT buckets per insert, so it is ready when
 * the map grows (2 x buckets cleared in buckets/4 inserts needs 8): no
 * insert clears a whole array - a calloc of 1-2 MiB there (65k-131k
 * elements) took 1.9-2.6 ms, mostly page faults, when the allocator did not
 * hand out fresh zero pages. It costs no more memory at the peak than the
 * old array kept while it drains. */
#define ZERO_PER_INSERT 16

static void prepare_some(struct nr_hmap *m)
{
	size_t nb = (m->mask + 1) * 2, k;

	if (!m->next) {
		if (!(m->next = malloc(nb * sizeof(*m->next))))
			return; /* grow tries calloc */
		m->next_zeroed = 0;
	}
	k = nb - m->next_zeroed < ZERO_PER_INSERT ? nb - m->next_zeroed : ZERO_PER_INSERT;
	memset(m->next + m->next_zeroed, 0, k * sizeof(*m->next));
	m->next_zeroed += k;
}

void nr_hmap_destroy(struct nr_hmap *m)
{
	free(m->buckets);
	free(m->old);
	free(m->next);
	*m = (struct nr_hmap){ 0 };
}

static void move_bucket(struct nr_hmap *m, size_t i)
{
	struct nr_hnode *n = m->old[i], *next;

	for (; n; n = next) {
		next = n->next;
		n->next = m->buckets[n->hash & m->mask];
		m->buckets[n->hash & m->mask] = n;
	}
	m->old[i] = NULL;
}

static void move_some(struct nr_hmap *m)
{
	for (int k = 0; k < MOVE_PER_INSERT && m->old_next <= m->old_mask; k++)
		move_bucket(m, m->old_next++);
	if (m->old_next > m->old_mask) {
		free(m->old);
		m->old = NULL;
	}
}

static void grow(struct nr_hmap *m)
{
	size_t nb = (m->mask + 1) * 2;
	struct nr_hnode **b = m->next;

	if (b && m->next_zeroed < nb) /* not cleared in time (no case known) */
		memset(b + m->next_zeroed, 0, (nb - m->next_zeroed) * sizeof(*b));
	else if (!b)
		b = calloc(nb, sizeof(*b));
	m->next = NULL;
	if (!b)
		return; /* keep working with longer chains */
	m->old = m->buckets;
	m->old_mask = m->mask;
	m->old_next = 0;
	m->buckets = b;
	m->mask = nb - 1;
}

/* The chain that holds (or would hold) the elements with this hash. */
static struct nr_hnode **chain(const struct nr_hmap *m, uint32_t hash)
{
	if (m->old && m->old[hash & m->old_mask])
		return &m->old[hash & m->old_mask];
	return &m->buckets[hash & m->mask];
}

int nr_hmap_insert(struct nr_hmap *m, struct nr_hnode *node, uint32_t hash)
{
	struct nr_hnode **slot;

	if (!m->buckets) {
		m->buckets = calloc(16, sizeof(*m->buckets));
		if (!m->buckets)
			return -ENOMEM;
		m->mask = 15;
	} else if (!m->old && m->n > m->mask) {
		grow(m);
	} else if (!m->old && m->n * 4 >= (m->mask + 1) * 3 &&
		   (!m->next || m->next_zeroed < (m->mask + 1) * 2)) {
		prepare_some(m);
	}
	if (m->old) {
		if (m->old[hash & m->old_mask]) /* its kin move first */
			move_bucket(m, hash & m->old_mask);
		move_some(m);
	}
	node->hash = hash;
	slot = &m->buckets[hash & m->mask];
	node->next = *slot;
	*slot = node;
	m->n++;
	return 0;
}

void nr_hmap_remove(struct nr_hmap *m, struct nr_hnode *node)
{
	struct nr_hnode **p;

	if (!m->buckets)
		return;
	for (p = chain(m, node->hash); *p; p = &(*p)->next) {
		if (*p == node) {
			*p = node->next;
			node->next = NULL;
			m->n--;
			return;
		}
	}
}

struct nr_hnode *nr_hmap_first(const struct nr_hmap *m, uint32_t hash)
{
	struct nr_hnode *n;

	if (!m->buckets)
		return NULL;
	for (n = *chain(m, hash); n && n->hash != hash; n = n->next)
		;
	return n;
}

struct nr_hnode *nr_hmap_next(const struct nr_hnode *node)
{
	uint32_t h = node->hash;

	for (node = node->next; node && node->hash != h; node = node->next)
		;
	return (struct nr_hnode *)node;
}

static bool walk(struct nr_hnode **b, size_t mask, bool (*fn)(struct nr_hnode *, void *),
		 void *data)
{
	for (size_t i = 0; b && i <= mask; i++) {
		for (struct nr_hnode *n = b[i], *next; n; n = next) {
			next = n->next; /* fn may free n */
			if (fn(n, data))
				return true;
		}
	}
	return false;
}

bool nr_hmap_any(const struct nr_hmap *m, bool (*fn)(struct nr_hnode *node, void *data),
		 void *data)
{
	return walk(m->old, m->old_mask, fn, data) || walk(m->buckets, m->mask, fn, data);
}

uint32_t nr_hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

void nr_hmap_prefetch(const struct nr_hmap *m, uint32_t hash)
{
	if (m->buckets)
		__builtin_prefetch(&m->buckets[hash & m->mask]);
}
