/* A set of integer ids in [0, capacity) that answers "lowest id not in the
 * set" in O(log64 capacity): a 64-ary tree of bitmaps with a "full" summary
 * bit per child. It is sparse both ways: untouched ranges cost nothing, and a
 * completely used subtree collapses into one summary bit, so a pool of 2^48
 * IPv6 blocks or a reservation of millions of ids stays a few nodes.
 * Used for node indexes, IPAM blocks and endpoint addresses. Not thread-safe. */
#ifndef NR_UTIL_IDSET_H
#define NR_UTIL_IDSET_H

#include <stdbool.h>
#include <stdint.h>

/* Largest capacity: 2^60 ids (nine levels). Larger pools are capped. */
#define NR_IDSET_MAX_CAPACITY (UINT64_C(1) << 60)

struct nr_idset_node;

struct nr_idset {
	struct nr_idset_node *root;
	unsigned levels;   /* tree height; a leaf node covers 4096 ids */
	uint64_t capacity; /* ids >= capacity are never handed out */
	uint64_t count;    /* ids currently in the set */
};

/* Initialise an empty set. capacity is clamped to [1, NR_IDSET_MAX_CAPACITY].
 * Errors: -ENOMEM. */
int nr_idset_init(struct nr_idset *s, uint64_t capacity);
/* Free everything; the struct may be re-initialised. Safe on a zeroed struct. */
void nr_idset_destroy(struct nr_idset *s);

bool nr_idset_test(const struct nr_idset *s, uint64_t id);
/* Errors: -ERANGE (id >= capacity), -EEXIST, -ENOMEM. */
int nr_idset_add(struct nr_idset *s, uint64_t id);
/* Errors: -ERANGE, -ENOENT (not in the set), -ENOMEM (splitting a collapsed
 * range needs one node per level). */
int nr_idset_del(struct nr_idset *s, uint64_t id);
/* Lowest id not in the set. Errors: -ENOSPC when every id is used. */
int nr_idset_first_free(const struct nr_idset *s, uint64_t *id);
/* Add every id in [lo, hi] (clamped to the capacity); *added (may be NULL)
 * receives how many were not in the set before. Errors: -ERANGE (lo >= capacity
 * or lo > hi), -ENOMEM (the set is then unchanged only in count semantics:
 * ids added before the failure stay added and are counted). */
int nr_idset_add_range(struct nr_idset *s, uint64_t lo, uint64_t hi, uint64_t *added);
/* Whether any id in [lo, hi] is in the set. */
bool nr_idset_any_in_range(const struct nr_idset *s, uint64_t lo, uint64_t hi);

#endif
