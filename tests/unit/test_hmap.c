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
		items[i].key = i;
		cr_assert_eq(nr_hmap_insert(&m, &items[i].node, key_hash(i)), 0);
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
