/* Intrusive chained hash map: the element embeds a struct nr_hnode, so an
 * element can sit in several maps (by name, by IP) with no extra allocation.
 * The caller computes hashes and compares keys; the map only chains. */
#ifndef NR_UTIL_HMAP_H
#define NR_UTIL_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nr_hnode {
	struct nr_hnode *next;
	uint32_t hash;
};

struct nr_hmap {
	struct nr_hnode **buckets;
	size_t mask; /* buckets - 1 */
	size_t n;
	/* while growing (hmap.c): the smaller array, emptied a few buckets
	 * per insert from old_next on; NULL when not growing */
	struct nr_hnode **old;
	size_t old_mask, old_next;
	/* the next array, cleared a few buckets per insert from 3/4 full on */
	struct nr_hnode **next;
	size_t next_zeroed;
};

#define nr_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* A zeroed struct is a valid empty map. */
void nr_hmap_destroy(struct nr_hmap *m); /* frees buckets, not elements */
/* Errors: -ENOMEM (only when the first bucket array cannot be allocated;
 * a failed grow keeps the current size). */
int nr_hmap_insert(struct nr_hmap *m, struct nr_hnode *node, uint32_t hash);
void nr_hmap_remove(struct nr_hmap *m, struct nr_hnode *node);
/* Walk the chain of candidates with this hash: compare keys yourself. */
struct nr_hnode *nr_hmap_first(const struct nr_hmap *m, uint32_t hash);
struct nr_hnode *nr_hmap_next(const struct nr_hnode *node);

/* Every element once, in no order, until fn returns true (then true).
 * fn may free the element it is given, and must not change the map. */
bool nr_hmap_any(const struct nr_hmap *m, bool (*fn)(struct nr_hnode *node, void *data),
		 void *data);

void nr_hmap_prefetch(const struct nr_hmap *m, uint32_t hash);

uint32_t nr_hash_str(const char *s);

#endif
