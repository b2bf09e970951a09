/* Sparse 64-ary bitmap tree. Invariants, relied on by every function:
 *  - node->n is the number of ids set in the node's subtree;
 *  - in an interior node, summary bit i set <=> child i is completely used,
 *    and then child[i] is NULL (full subtrees are collapsed);
 *    child[i] NULL with bit i clear means completely free;
 *  - in a leaf, summary bit i set <=> word[i] == ~0.
 * Ids >= capacity are pre-filled at init so "first free" never returns them;
 * s->count excludes that padding. */
#include "util/idset.h"

#include <errno.h>
#include <stdlib.h>

#define FAN 64

struct nr_idset_node {
	uint64_t full;
	uint64_t n;
	union {
		struct nr_idset_node *child[FAN];
		uint64_t word[FAN];
	} u;
};

static uint64_t span(unsigned level)
{
	return UINT64_C(1) << (12 + 6 * level);
}

static struct nr_idset_node *node_new(unsigned level, bool filled)
{
	struct nr_idset_node *n = calloc(1, sizeof(*n));

	if (n && filled) {
		n->full = ~UINT64_C(0);
		n->n = span(level);
		if (level == 0)
			for (int i = 0; i < FAN; i++)
				n->u.word[i] = ~UINT64_C(0);
	}
	return n;
}

static void free_tree(struct nr_idset_node *n, unsigned level)
{
	if (!n)
		return;
	if (level > 0)
		for (int i = 0; i < FAN; i++)
			free_tree(n->u.child[i], level - 1);
	free(n);
}

static uint64_t word_mask(uint64_t lo, uint64_t hi) /* bits lo..hi, 0..63 */
{
	uint64_t upto = hi == 63 ? ~UINT64_C(0) : (UINT64_C(1) << (hi + 1)) - 1;

	return upto & ~((UINT64_C(1) << lo) - 1);
}

static int range_set(struct nr_idset_node *node, unsigned level, uint64_t lo,
		     uint64_t hi, uint64_t *added)
{
	if (level == 0) {
		for (uint64_t w = lo / 64; w <= hi / 64; w++) {
			uint64_t a = w * 64 > lo ? 0 : lo % 64;
			uint64_t b = w * 64 + 63 < hi ? 63 : hi % 64;
			uint64_t m = word_mask(a, b), fresh = m & ~node->u.word[w];
			uint64_t k = (uint64_t)__builtin_popcountll(fresh);

			node->u.word[w] |= m;
			node->n += k;
			*added += k;
			if (node->u.word[w] == ~UINT64_C(0))
				node->full |= UINT64_C(1) << w;
		}
		return 0;
	}
	uint64_t cs = span(level - 1);

	for (uint64_t i = lo / cs; i <= hi / cs; i++) {
		uint64_t bit = UINT64_C(1) << i, base = i * cs;
		uint64_t clo = lo > base ? lo - base : 0;
		uint64_t chi = hi < base + cs - 1 ? hi - base : cs - 1;
		struct nr_idset_node *c = node->u.child[i];
		uint64_t a = 0;
		int r;

		if (node->full & bit)
			continue;
		if (clo == 0 && chi == cs - 1) {
			a = cs - (c ? c->n : 0);
			free_tree(c, level - 1);
			node->u.child[i] = NULL;
			node->full |= bit;
			node->n += a;
			*added += a;
			continue;
		}
		if (!c) {
			c = node_new(level - 1, false);
			if (!c)
				return -ENOMEM;
			node->u.child[i] = c;
		}
		r = range_set(c, level - 1, clo, chi, &a);
		node->n += a;
		*added += a;
		if (c->n == cs || c->n == 0) {
			if (c->n == cs)
				node->full |= bit;
			free_tree(c, level - 1);
			node->u.child[i] = NULL;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int del_one(struct nr_idset_node *node, unsigned level, uint64_t id)
{
	if (level == 0) {
		uint64_t w = id / 64, bit = UINT64_C(1) << (id % 64);

		if (!(node->u.word[w] & bit))
			return -ENOENT;
		node->u.word[w] &= ~bit;
		node->full &= ~(UINT64_C(1) << w);
		node->n--;
		return 0;
	}
	uint64_t cs = span(level - 1), i = id / cs, bit = UINT64_C(1) << i;
	struct nr_idset_node *c = node->u.child[i];
	int r;

	if (!c) {
		if (!(node->full & bit))
			return -ENOENT;
		c = node_new(level - 1, true);
		if (!c)
			return -ENOMEM;
		node->u.child[i] = c;
		node->full &= ~bit;
	}
	r = del_one(c, level - 1, id % cs);
	if (r < 0) {
		if (c->n == cs) { /* undo the split */
			free_tree(c, level - 1);
			node->u.child[i] = NULL;
			node->full |= bit;
		}
		return r;
	}
	node->n--;
	if (c->n == 0) {
		free_tree(c, level - 1);
		node->u.child[i] = NULL;
	}
	return 0;
}

static bool any_in(const struct nr_idset_node *node, unsigned level, uint64_t lo,
		   uint64_t hi)
{
	if (level == 0) {
		for (uint64_t w = lo / 64; w <= hi / 64; w++) {
			uint64_t a = w * 64 > lo ? 0 : lo % 64;
			uint64_t b = w * 64 + 63 < hi ? 63 : hi % 64;

			if (node->u.word[w] & word_mask(a, b))
				return true;
		}
		return false;
	}
	uint64_t cs = span(level - 1);

	for (uint64_t i = lo / cs; i <= hi / cs; i++) {
		uint64_t base = i * cs;
		uint64_t clo = lo > base ? lo - base : 0;
		uint64_t chi = hi < base + cs - 1 ? hi - base : cs - 1;
		const struct nr_idset_node *c = node->u.child[i];

		if (node->full & (UINT64_C(1) << i))
			return true;
		if (!c)
			continue;
		if (clo == 0 && chi == cs - 1 ? c->n > 0 : any_in(c, level - 1, clo, chi))
			return true;
	}
	return false;
}

int nr_idset_init(struct nr_idset *s, uint64_t capacity)
{
	uint64_t pad = 0;
	unsigned levels = 1;

	if (capacity < 1)
		capacity = 1;
	if (capacity > NR_IDSET_MAX_CAPACITY)
		capacity = NR_IDSET_MAX_CAPACITY;
	while (span(levels - 1) < capacity)
		levels++;
	s->levels = levels;
	s->capacity = capacity;
	s->count = 0;
	s->root = node_new(levels - 1, false);
	if (!s->root)
		return -ENOMEM;
	if (capacity < span(levels - 1) &&
	    range_set(s->root, levels - 1, capacity, span(levels - 1) - 1, &pad) < 0) {
		nr_idset_destroy(s);
		return -ENOMEM;
	}
	return 0;
}

void nr_idset_destroy(struct nr_idset *s)
{
	if (s->root)
		free_tree(s->root, s->levels - 1);
	s->root = NULL;
	s->count = 0;
}

bool nr_idset_test(const struct nr_idset *s, uint64_t id)
{
	const struct nr_idset_node *n = s->root;

	if (id >= s->capacity || !n)
		return false;
	for (unsigned level = s->levels - 1; level > 0; level--) {
		uint64_t cs = span(level - 1), i = id / cs;

		if (!n->u.child[i])
			return (n->full >> i) & 1;
		n = n->u.child[i];
		id %= cs;
	}
	return (n->u.word[id / 64] >> (id % 64)) & 1;
}

int nr_idset_add(struct nr_idset *s, uint64_t id)
{
	uint64_t added = 0;
	int r;

	if (id >= s->capacity)
		return -ERANGE;
	if (nr_idset_test(s, id))
		return -EEXIST;
	r = range_set(s->root, s->levels - 1, id, id, &added);
	s->count += added;
	return r;
}

int nr_idset_del(struct nr_idset *s, uint64_t id)
{
	int r;

	if (id >= s->capacity)
		return -ERANGE;
	r = del_one(s->root, s->levels - 1, id);
	if (r == 0)
		s->count--;
	return r;
}

int nr_idset_first_free(const struct nr_idset *s, uint64_t *id)
{
	const struct nr_idset_node *n = s->root;
	uint64_t base = 0;

	if (!n || n->n == span(s->levels - 1))
		return -ENOSPC;
	for (unsigned level = s->levels - 1; level > 0; level--) {
		uint64_t i = (uint64_t)__builtin_ctzll(~n->full);

		base += i * span(level - 1);
		if (!n->u.child[i]) {
			*id = base;
			return 0;
		}
		n = n->u.child[i];
	}
	uint64_t w = (uint64_t)__builtin_ctzll(~n->full);

	*id = base + w * 64 + (uint64_t)__builtin_ctzll(~n->u.word[w]);
	return 0;
}

int nr_idset_add_range(struct nr_idset *s, uint64_t lo, uint64_t hi, uint64_t *added)
{
	uint64_t a = 0;
	int r;

	if (lo >= s->capacity || lo > hi)
		return -ERANGE;
	if (hi >= s->capacity)
		hi = s->capacity - 1;
	r = range_set(s->root, s->levels - 1, lo, hi, &a);
	s->count += a;
	if (added)
		*added = a;
	return r;
}

bool nr_idset_any_in_range(const struct nr_idset *s, uint64_t lo, uint64_t hi)
{
	if (!s->root || lo >= s->capacity || lo > hi)
		return false;
	if (hi >= s->capacity)
		hi = s->capacity - 1;
	return any_in(s->root, s->levels - 1, lo, hi);
}
