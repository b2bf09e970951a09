#include "util/hmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Open addressing with linear probing over (hash, chain) slots: a slot per
 * distinct hash, its elements chained through their nr_hnode. Probing
 * reads only the table, 16 bytes a slot, so looking up an absent key (every
 * node add looks up its name and IPs) and growing never touch an element.
 *
 * Growing by re-placing every slot at once stalls the inserting call in
 * proportion to the map (at 100,000 nodes milliseconds). So the map grows
 * incrementally: a table twice the size takes every new hash, and each
 * insert moves a few of the old table's slots over, in index order, until
 * none is left. A hash is in exactly one of the two tables (a new element
 * of a hash still in the old table joins its chain there), so a lookup
 * looks in the old table, then in the current one.
 *
 * The old table's moved slots [0, old_next) are empty: probing it skips
 * them (from a home below old_next it starts at old_next, and it wraps to
 * old_next, not 0), since a probe path ran through them when they were
 * full. A slot of the old table whose elements are all removed keeps a
 * marker (REMOVED) for the same reason; the current table closes the gap
 * instead (backward shift), so it never holds a marker. */
#define MOVE_PER_INSERT 4 /* old slots moved per insert: done after a quarter
			   * of the old table's size in inserts, when the
			   * current one is at most half full */
#define MOVE_AHEAD 16     /* slots prefetched ahead of the move */
#define MIN_SLOTS 16

static struct nr_hnode removed_mark;
#define REMOVED (&removed_mark)

/* The next, twice larger table is allocated once the current one is 5/8
 * full (after any move: the current one is at most half full until then)
 * and cleared ZERO_PER_INSERT slots per insert, so that it is ready when
 * the current one is 3/4 full (2 x slots cleared in slots/8 inserts needs
 * 16 per insert; 32 leaves a margin): no insert clears a whole table
 * (calloc of 2 MiB at 100,000 nodes took milliseconds, mostly page faults,
 * in the insert that grew), and its pages are first touched by writes (a
 * fresh mapping read first by probes faults twice a page). */
#define ZERO_PER_INSERT 32

static void prepare_some(struct nr_hmap *m)
{
	size_t n = (m->mask + 1) * 2, k;

	if (!m->next) {
		if (m->used * 8 < (m->mask + 1) * 5 || !(m->next = malloc(n * sizeof(*m->next))))
			return; /* no memory: grow tries calloc */
		m->next_zeroed = 0;
	}
	if (m->next_zeroed == n)
		return;
	k = n - m->next_zeroed < ZERO_PER_INSERT ? n - m->next_zeroed : ZERO_PER_INSERT;
	memset(m->next + m->next_zeroed, 0, k * sizeof(*m->next));
	m->next_zeroed += k;
}

void nr_hmap_destroy(struct nr_hmap *m)
{
	free(m->slots);
	free(m->old);
	free(m->next);
	*m = (struct nr_hmap){ 0 };
}

static bool live(const struct nr_hslot *s)
{
	return s->head && s->head != REMOVED;
}

/* The current table's slot of hash, or the free slot where it would go
 * (there is always one: used < slots). */
static struct nr_hslot *probe(const struct nr_hmap *m, uint32_t hash)
{
	size_t i = hash & m->mask;

	while (m->slots[i].head && m->slots[i].hash != hash)
		i = (i + 1) & m->mask;
	return &m->slots[i];
}

/* The old table's slot of hash, NULL when it has none. */
static struct nr_hslot *probe_old(const struct nr_hmap *m, uint32_t hash)
{
	size_t i = hash & m->old_mask, left = m->old_mask + 1 - m->old_next;

	if (i < m->old_next)
		i = m->old_next;
	for (; left; left--) {
		struct nr_hslot *s = &m->old[i];

		if (!s->head)
			return NULL;
		if (s->head != REMOVED && s->hash == hash)
			return s;
		i = i == m->old_mask ? m->old_next : i + 1;
	}
	return NULL;
}

/* The slot holding the elements of hash, NULL when none; *in_old: where. */
static struct nr_hslot *find(const struct nr_hmap *m, uint32_t hash, bool *in_old)
{
	struct nr_hslot *s;

	*in_old = false;
	if (!m->slots)
		return NULL;
	if (m->old && (s = probe_old(m, hash))) {
		*in_old = true;
		return s;
	}
	s = probe(m, hash);
	return s->head ? s : NULL;
}

static void move_some(struct nr_hmap *m)
{
	/* the slots moved a few inserts from now, and where they go (their
	 * home in the current table is i or i + old size): each line is
	 * cold, and the inserts in between have time to bring it in */
	size_t ahead = m->old_next + MOVE_AHEAD;

	if (ahead <= m->old_mask) {
		__builtin_prefetch(&m->old[ahead]);
		__builtin_prefetch(&m->slots[ahead], 1);
		__builtin_prefetch(&m->slots[ahead + m->old_mask + 1], 1);
	}
	for (int k = 0; k < MOVE_PER_INSERT && m->old_next <= m->old_mask; k++) {
		const struct nr_hslot *s = &m->old[m->old_next++];

		if (live(s)) { /* not in the current table: lands on a free slot */
			*probe(m, s->hash) = *s;
			m->used++;
		}
	}
	if (m->old_next > m->old_mask) {
		free(m->old);
		m->old = NULL;
	}
}

static void grow(struct nr_hmap *m)
{
	size_t n = (m->mask + 1) * 2;
	struct nr_hslot *t = m->next;

	if (t && m->next_zeroed < n) /* not cleared in time (no case known) */
		memset(t + m->next_zeroed, 0, (n - m->next_zeroed) * sizeof(*t));
	else if (!t)
		t = calloc(n, sizeof(*t));
	m->next = NULL;
	if (!t)
		return; /* keep working with longer probes */
	m->old = m->slots;
	m->old_mask = m->mask;
	m->old_next = 0;
	m->slots = t;
	m->mask = n - 1;
	m->used = 0;
}

int nr_hmap_insert(struct nr_hmap *m, struct nr_hnode *node, uint32_t hash)
{
	struct nr_hslot *s;
	bool in_old;

	if (!m->slots) {
		m->slots = calloc(MIN_SLOTS, sizeof(*m->slots));
		if (!m->slots)
			return -ENOMEM;
		m->mask = MIN_SLOTS - 1;
	}
	if (m->old)
		move_some(m);
	if (m->next || m->used * 8 >= (m->mask + 1) * 5)
		prepare_some(m);
	s = find(m, hash, &in_old);
	if (!s) { /* a new hash takes a slot of the current table */
		if (!m->old && (m->used + 1) * 4 > (m->mask + 1) * 3)
			grow(m);
		if (m->used + 1 > m->mask) /* one slot stays free: probes end */
			return -ENOMEM;
		s = probe(m, hash);
		s->hash = hash;
		m->used++;
	}
	node->hash = hash;
	node->next = s->head;
	s->head = node;
	m->n++;
	return 0;
}

/* Empty slot i of the current table: the slots after it that probed past
 * it move back, so that no probe ends early at the hole. */
static void erase(struct nr_hmap *m, size_t i)
{
	struct nr_hslot *t = m->slots;

	for (size_t j = (i + 1) & m->mask; t[j].head; j = (j + 1) & m->mask) {
		size_t home = t[j].hash & m->mask;

		/* it stays when its home lies cyclically in (i, j] */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t[i] = t[j];
		i = j;
	}
	t[i].head = NULL;
	m->used--;
}

void nr_hmap_remove(struct nr_hmap *m, struct nr_hnode *node)
{
	bool in_old;
	struct nr_hslot *s = find(m, node->hash, &in_old);
	struct nr_hnode **p;

	if (!s)
		return;
	for (p = &s->head; *p && *p != node; p = &(*p)->next)
		;
	if (!*p)
		return; /* not in the map */
	*p = node->next;
	node->next = NULL;
	m->n--;
	if (s->head)
		return;
	if (in_old)
		s->head = REMOVED;
	else
		erase(m, (size_t)(s - m->slots));
}

struct nr_hnode *nr_hmap_first(const struct nr_hmap *m, uint32_t hash)
{
	bool in_old;
	const struct nr_hslot *s = find(m, hash, &in_old);

	return s ? s->head : NULL;
}

void nr_hmap_prefetch(const struct nr_hmap *m, uint32_t hash)
{
	if (m->slots)
		__builtin_prefetch(&m->slots[hash & m->mask]);
	if (m->old)
		__builtin_prefetch(&m->old[hash & m->old_mask]);
}

struct nr_hnode *nr_hmap_next(const struct nr_hnode *node)
{
	return node->next; /* a chain holds one hash */
}

static bool walk(const struct nr_hslot *t, size_t from, size_t mask,
		 bool (*fn)(struct nr_hnode *, void *), void *data)
{
	for (size_t i = from; t && i <= mask; i++) {
		if (!live(&t[i]))
			continue;
		for (struct nr_hnode *n = t[i].head, *next; n; n = next) {
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
	return walk(m->old, m->old_next, m->old_mask, fn, data) ||
	       walk(m->slots, 0, m->mask, fn, data);
}

uint32_t nr_hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}
