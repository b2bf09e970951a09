/* Intrusive hash map: the element embeds a struct nr_hnode, so an element
 * can sit in several maps (by name, by IP) with no extra allocation. The
 * caller computes hashes and compares keys; the map only finds candidates.
 *
 * Layout (hmap.c): an open-addressing table of (hash, chain) slots, one
 * slot per distinct hash, with the elements of that hash chained through
 * their nr_hnode. A lookup compares the hashes in the table and touches an
 * element only when its hash matches; growing moves slots, never touching
 * the elements (at 10,000+ nodes, cold elements were most of a node add's
 * hashing cost). */
#ifndef NR_UTIL_HMAP_H
#define NR_UTIL_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nr_hnode {
	struct nr_hnode *next; /* the next element with the same hash */
	uint32_t hash;
};

struct nr_hslot {
	struct nr_hnode *head; /* NULL: free; in `old`, a marker once emptied */
	uint32_t hash;
};

struct nr_hmap {
	struct nr_hslot *slots;
	size_t mask; /* slots - 1 */
	size_t used; /* slots in use in `slots` */
	size_t n;    /* elements */
	/* while growing (hmap.c): the smaller table, emptied a few slots per
	 * insert from old_next on; NULL when not growing */
	struct nr_hslot *old;
	size_t old_mask, old_next;
	/* the next table, cleared a few slots per insert from half full on */
	struct nr_hslot *next;
	size_t next_zeroed;
};

#define nr_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* A zeroed struct is a valid empty map. */
void nr_hmap_destroy(struct nr_hmap *m); /* frees the table, not elements */
/* Errors: -ENOMEM, only when a new hash needs a slot and the table is full
 * and cannot grow (it grows at 3/4, so a failed grow leaves room for many
 * more). An insert after a remove of as many elements never fails. */
int nr_hmap_insert(struct nr_hmap *m, struct nr_hnode *node, uint32_t hash);
/* No-op for an element that is not in the map. */
void nr_hmap_remove(struct nr_hmap *m, struct nr_hnode *node);
/* The elements with this hash, newest first: compare keys yourself. */
struct nr_hnode *nr_hmap_first(const struct nr_hmap *m, uint32_t hash);
struct nr_hnode *nr_hmap_next(const struct nr_hnode *node);
/* Start loading the table memory a lookup of hash reads (no effect on the
 * map): issued early, a lookup's cache misses overlap other work. */
void nr_hmap_prefetch(const struct nr_hmap *m, uint32_t hash);

/* Every element once, in no order, until fn returns true (then true).
 * fn may free the element it is given, and must not change the map. */
bool nr_hmap_any(const struct nr_hmap *m, bool (*fn)(struct nr_hnode *node, void *data),
		 void *data);

uint32_t nr_hash_str(const char *s);

#endif
