#include "util/sorted.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

size_t nr_sorted_lower_bound(const void *base, size_t n, size_t size, const void *key,
			     nr_sorted_cmp cmp)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp((const char *)base + mid * size, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const void *nr_sorted_find(const void *base, size_t n, size_t size, const void *key,
			   nr_sorted_cmp cmp)
{
	size_t at = nr_sorted_lower_bound(base, n, size, key, cmp);

	return at < n && cmp((const char *)base + at * size, key) == 0 ? (const char *)base + at * size
									 : NULL;
}

int nr_sorted_upsert(void **base, size_t *n, size_t size, const void *elem, nr_sorted_cmp cmp)
{
	size_t at = nr_sorted_lower_bound(*base, *n, size, elem, cmp);
	char *grown;

	if (at < *n && cmp((char *)*base + at * size, elem) == 0) {
		memcpy((char *)*base + at * size, elem, size);
		return 0;
	}
	grown = realloc(*base, (*n + 1) * size);
	if (!grown)
		return -ENOMEM;
	memmove(grown + (at + 1) * size, grown + at * size, (*n - at) * size);
	memcpy(grown + at * size, elem, size);
	*base = grown;
	(*n)++;
	return 0;
}

void nr_sorted_remove(void *base, size_t *n, size_t size, const void *key, nr_sorted_cmp cmp)
{
	size_t at = nr_sorted_lower_bound(base, *n, size, key, cmp);

	if (at < *n && cmp((char *)base + at * size, key) == 0) {
		memmove((char *)base + at * size, (char *)base + (at + 1) * size, (*n - at - 1) * size);
		(*n)--;
	}
}
