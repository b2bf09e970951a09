#include "util/hmap.h"

#include <errno.h>
#include <stdlib.h>

void nr_hmap_destroy(struct nr_hmap *m)
{
	free(m->buckets);
	m->buckets = NULL;
	m->mask = 0;
	m->n = 0;
}

static void grow(struct nr_hmap *m)
{
	size_t nb = (m->mask + 1) * 2;
	struct nr_hnode **b = calloc(nb, sizeof(*b));

	if (!b)
		return; /* keep working with longer chains */
	for (size_t i = 0; i <= m->mask; i++) {
		struct nr_hnode *n = m->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->mask = nb - 1;
}

int nr_hmap_insert(struct nr_hmap *m, struct nr_hnode *node, uint32_t hash)
{
	struct nr_hnode **slot;

	if (!m->buckets) {
		m->buckets = calloc(16, sizeof(*m->buckets));
		if (!m->buckets)
			return -ENOMEM;
		m->mask = 15;
	} else if (m->n > m->mask) {
		grow(m);
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
	for (p = &m->buckets[node->hash & m->mask]; *p; p = &(*p)->next) {
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
	for (n = m->buckets[hash & m->mask]; n && n->hash != hash; n = n->next)
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

uint32_t nr_hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}
