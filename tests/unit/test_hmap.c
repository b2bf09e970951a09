/* util/hmap: the map grows a few buckets per insert (no rehash of every
 * element in one call), and while it grows every element stays findable
 * exactly once, by lookup, by removal and by a walk - also elements that
 * share a hash, and elements inserted or removed mid-growth. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "util/hmap.h"

struct item {
	struct nr_hnode node;
	unsigned key;
	int seen;
};

/* well mixed (the bucket of the key that makes the map grow is not always
 * the first one moved), with few distinct hashes for every third key:
 * chains with equal hashes */
static uint32_t key_hash(unsigned key)
{
	uint32_t h = key % 3 == 0 ? key / 3 % 97 : key;

	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

static struct item *find(const struct nr_hmap *m, unsigned key)
{
	struct item *hit = NULL;

	for (struct nr_hnode *h = nr_hmap_first(m, key_hash(key)); h; h = nr_hmap_next(h)) {
		struct item *it = nr_container_of(h, struct item, node);

		if (it->key == key) {
			cr_assert_null(hit, "key %u found twice", key);
			hit = it;
		}
	}
	return hit;
}

static bool count_seen(struct nr_hnode *h, void *data)
{
	nr_container_of(h, struct item, node)->seen++;
	(*(size_t *)data)++;
	return false;
}

Test(hmap, grows_in_steps_and_finds_everything_meanwhile)
{
	enum { N = 100000 };
	struct item *items = calloc(N, sizeof(*items));
	struct nr_hmap m = { 0 };
	bool grew_in_steps = false;
	size_t walked = 0;

	cr_assert_not_null(items);
	for (unsigned i = 0; i < N; i++) {
		/* every grow takes an array cleared ahead, at most 16 buckets
		 * per insert (none clears a whole array) */
		bool ready = m.next && m.next_zeroed == 2 * (m.mask + 1);
		size_t mask = m.mask, zeroed = m.next ? m.next_zeroed : 0;

		items[i].key = i;
		cr_assert_eq(nr_hmap_insert(&m, &items[i].node, key_hash(i)), 0);
		if (m.mask != mask && mask >= 15)
			cr_assert(ready, "insert %u grew to %zu buckets without a cleared array", i, m.mask + 1);
		else if (m.next)
			cr_assert_leq(m.next_zeroed - zeroed, 16);
		cr_assert_eq(find(&m, i), &items[i], "key %u not found right after its insert", i);
		if (m.old) { /* mid-growth: the old array is not emptied at once */
			grew_in_steps = true;
			cr_assert(m.old_next <= m.old_mask);
		}
		if (i % 997 == 0) /* lookups of old and new elements while growing */
			for (unsigned k = 0; k <= i; k += 1 + i / 50)
				cr_assert_eq(find(&m, k), &items[k], "key %u lost at insert %u", k, i);
		if (i % 5 == 1 && i > 2) { /* removals while growing */
			nr_hmap_remove(&m, &items[i - 2].node);
			cr_assert_null(find(&m, i - 2));
			cr_assert_eq(nr_hmap_insert(&m, &items[i - 2].node, key_hash(i - 2)), 0);
		}
	}
	cr_assert(grew_in_steps);
	cr_assert_eq(m.n, N);
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(find(&m, i), &items[i], "key %u", i);
	nr_hmap_any(&m, count_seen, &walked);
	cr_assert_eq(walked, N);
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(items[i].seen, 1, "key %u walked %d times", i, items[i].seen);
	for (unsigned i = 0; i < N; i += 2)
		nr_hmap_remove(&m, &items[i].node);
	cr_assert_eq(m.n, N / 2);
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(find(&m, i), i % 2 ? &items[i] : NULL, "key %u", i);
	nr_hmap_destroy(&m);
	free(items);
}

static bool stop_at(struct nr_hnode *h, void *data)
{
	return nr_container_of(h, struct item, node)->key == *(unsigned *)data;
}

Test(hmap, walk_stops_when_asked)
{
	struct item items[40];
	struct nr_hmap m = { 0 };
	unsigned want = 33, absent = 99;

	for (unsigned i = 0; i < 40; i++) {
		items[i] = (struct item){ .key = i };
		cr_assert_eq(nr_hmap_insert(&m, &items[i].node, key_hash(i)), 0);
	}
	cr_assert(nr_hmap_any(&m, stop_at, &want));
	cr_assert_not(nr_hmap_any(&m, stop_at, &absent));
	nr_hmap_destroy(&m);
}

/* Random inserts and removals against a record of what is in: every
 * element findable exactly while it is in, during growth too. hash_of
 * picks the layout: hashes packed into the last buckets (long chains,
 * removed from old buckets mid-growth) or spread. */
static uint32_t packed_hash(unsigned key)
{
	return 0xfffffff0u | (key % 13); /* 13 hashes, homes at the table's end */
}

static uint32_t spread_hash(unsigned key)
{
	return key_hash(key);
}

static struct item *find_by(const struct nr_hmap *m, unsigned key, uint32_t (*hash_of)(unsigned))
{
	struct item *hit = NULL;

	for (struct nr_hnode *h = nr_hmap_first(m, hash_of(key)); h; h = nr_hmap_next(h)) {
		struct item *it = nr_container_of(h, struct item, node);

		cr_assert_eq(h->hash, hash_of(key), "a chain holds one hash");
		if (it->key == key) {
			cr_assert_null(hit, "key %u found twice", key);
			hit = it;
		}
	}
	return hit;
}

static void random_ops(uint32_t (*hash_of)(unsigned), unsigned n_items, unsigned n_ops)
{
	struct item *items = calloc(n_items, sizeof(*items));
	bool *in = calloc(n_items, sizeof(*in));
	struct nr_hmap m = { 0 };
	size_t count = 0;
	unsigned seed = 12345;

	cr_assert(items && in);
	for (unsigned i = 0; i < n_items; i++)
		items[i].key = i;
	for (unsigned op = 0; op < n_ops; op++) {
		unsigned i;

		seed = seed * 1103515245u + 12345u;
		i = (seed >> 8) % n_items;
		if (in[i]) {
			nr_hmap_remove(&m, &items[i].node);
			nr_hmap_remove(&m, &items[i].node); /* not in: a no-op */
			count--;
		} else {
			cr_assert_eq(nr_hmap_insert(&m, &items[i].node, hash_of(i)), 0);
			count++;
		}
		in[i] = !in[i];
		cr_assert_eq(m.n, count);
		cr_assert_eq(find_by(&m, i, hash_of), in[i] ? &items[i] : NULL, "op %u: key %u", op, i);
		if (op % 4099 == 0 || op == n_ops - 1) {
			size_t walked = 0;

			for (unsigned k = 0; k < n_items; k++) {
				items[k].seen = 0;
				cr_assert_eq(find_by(&m, k, hash_of), in[k] ? &items[k] : NULL,
					     "op %u: key %u", op, k);
			}
			nr_hmap_any(&m, count_seen, &walked);
			cr_assert_eq(walked, count);
			for (unsigned k = 0; k < n_items; k++)
				cr_assert_eq(items[k].seen, in[k] ? 1 : 0, "op %u: key %u walked %d", op,
					     k, items[k].seen);
		}
	}
	nr_hmap_destroy(&m);
	free(items);
	free(in);
}

Test(hmap, random_inserts_and_removals_with_few_hashes)
{
	random_ops(packed_hash, 2000, 60000); /* long chains of equal hashes */
}

Test(hmap, random_inserts_and_removals)
{
	random_ops(spread_hash, 30000, 400000);
}

/* Many distinct hashes whose buckets all sit at the end of the array,
 * with removals from old buckets while they are being moved (it also
 * covered an open-addressing layout's wrapping probe runs, tried once). */
static uint32_t wrap_hash(unsigned key)
{
	return (uint32_t)(key * 0x10000u) | 0xfff0u | (key & 7);
}

Test(hmap, random_inserts_and_removals_wrapping)
{
	random_ops(wrap_hash, 3000, 60000);
}
