/* Bottom-up merge sort in resumable steps (see msort.h): first runs of RUN
 * elements sorted with insertion sort, then passes that merge neighbouring
 * runs of doubling width from one buffer into the other. The cursor of the
 * merge in progress lives in the struct, so a step can stop anywhere. */
#include "util/msort.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RUN 32

int nr_msort_begin(struct nr_msort *s, void *base, size_t n, size_t size, nr_sorted_cmp cmp)
{
	memset(s, 0, sizeof(*s));
	s->base = s->src = base;
	s->n = n;
	s->size = size;
	s->cmp = cmp;
	s->width = RUN;
	s->tmp = malloc(size);
	if (s->tmp && n > RUN)
		s->dst = malloc(n * size);
	if (!s->tmp || (n > RUN && !s->dst)) {
		free(s->tmp);
		free(s->dst);
		memset(s, 0, sizeof(*s));
		return -ENOMEM;
	}
	return 0;
}

static void insertion_sort(char *a, size_t n, size_t size, nr_sorted_cmp cmp, char *tmp)
{
	for (size_t i = 1; i < n; i++) {
		size_t j = i;

		if (cmp(a + (j - 1) * size, a + j * size) <= 0)
			continue;
		memcpy(tmp, a + i * size, size);
		while (j > 0 && cmp(a + (j - 1) * size, tmp) > 0) {
			memcpy(a + j * size, a + (j - 1) * size, size);
			j--;
		}
		memcpy(a + j * size, tmp, size);
	}
}

/* Sort the runs of RUN elements, `lo` being the next one. */
static size_t sort_runs(struct nr_msort *s, size_t budget)
{
	size_t work = 0;

	while (s->lo < s->n && work < budget) {
		size_t len = s->n - s->lo < RUN ? s->n - s->lo : RUN;

		insertion_sort(s->src + s->lo * s->size, len, s->size, s->cmp, s->tmp);
		s->lo += len;
		work += len * 4;
	}
	if (s->lo >= s->n) {
		s->runs_done = true;
		s->lo = 0;
		s->i = s->k = 0;
		s->j = s->width < s->n ? s->width : s->n;
	}
	return work;
}

/* Merge on within the current pass; at its end, swap the buffers. */
static size_t merge(struct nr_msort *s, size_t budget)
{
	size_t work = 0, sz = s->size;

	while (work < budget && s->width < s->n) {
		size_t mid = s->lo + s->width < s->n ? s->lo + s->width : s->n;
		size_t hi = s->lo + 2 * s->width < s->n ? s->lo + 2 * s->width : s->n;

		while (s->k < hi && work < budget) {
			size_t from;

			if (s->i < mid && (s->j >= hi || s->cmp(s->src + s->i * sz, s->src + s->j * sz) <= 0))
				from = s->i++;
			else
				from = s->j++;
			memcpy(s->dst + s->k++ * sz, s->src + from * sz, sz);
			work++;
		}
		if (s->k < hi)
			break;
		s->lo = hi;
		if (s->lo >= s->n) { /* the pass is done: the next one doubles the width */
			char *t = s->src;

			s->src = s->dst;
			s->dst = t;
			s->width *= 2;
			s->lo = 0;
		}
		s->i = s->k = s->lo;
		s->j = s->lo + s->width < s->n ? s->lo + s->width : s->n;
	}
	return work;
}

int nr_msort_step(struct nr_msort *s, size_t budget)
{
	size_t work = 0;

	if (!s->runs_done)
		work = sort_runs(s, budget);
	if (s->runs_done && work < budget)
		merge(s, budget - work);
	return s->runs_done && s->width >= s->n ? 0 : 1;
}

void *nr_msort_end_keep(struct nr_msort *s, void **spare)
{
	void *sorted = s->src;

	free(s->tmp);
	if (s->runs_done && s->width >= s->n) {
		*spare = s->src == s->base ? s->dst : s->base;
	} else {
		*spare = s->src == s->base ? s->dst : s->src;
		sorted = NULL;
	}
	memset(s, 0, sizeof(*s));
	return sorted;
}

void *nr_msort_end(struct nr_msort *s)
{
	void *spare, *sorted = nr_msort_end_keep(s, &spare);

	free(spare);
	return sorted;
}
