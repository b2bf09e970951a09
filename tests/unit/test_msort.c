/* util/msort: the resumable merge sort sorts like qsort (stable), whatever
 * the step budget, and hands back the sorted array. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "util/msort.h"

struct item {
	int key, seq;
};

static int item_cmp(const void *a, const void *b)
{
	int x = ((const struct item *)a)->key, y = ((const struct item *)b)->key;

	return x < y ? -1 : x > y;
}

static void check_sort(size_t n, size_t budget, unsigned seed)
{
	struct item *a = malloc((n ? n : 1) * sizeof(*a)), *sorted;
	struct nr_msort s;
	size_t steps = 0;

	cr_assert_not_null(a);
	srand(seed);
	for (size_t i = 0; i < n; i++)
		a[i] = (struct item){ .key = rand() % (int)(n / 4 + 1), .seq = (int)i };
	cr_assert_eq(nr_msort_begin(&s, a, n, sizeof(*a), item_cmp), 0);
	while (nr_msort_step(&s, budget))
		steps++;
	sorted = nr_msort_end(&s);
	cr_assert_not_null(sorted);
	for (size_t i = 1; i < n; i++) {
		cr_assert_leq(sorted[i - 1].key, sorted[i].key, "n=%zu budget=%zu at %zu", n, budget, i);
		if (sorted[i - 1].key == sorted[i].key) /* stable */
			cr_assert_lt(sorted[i - 1].seq, sorted[i].seq);
	}
	if (n > 1000 && budget < 100)
		cr_assert_gt(steps, n / budget, "it ran in %zu steps", steps);
	free(sorted);
}

Test(msort, sorts_any_size_any_budget)
{
	size_t sizes[] = { 0, 1, 2, 31, 32, 33, 64, 100, 1000, 4097, 20000 };
	size_t budgets[] = { 1, 7, 64, 1000, (size_t)-1 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
		for (size_t j = 0; j < sizeof(budgets) / sizeof(*budgets); j++)
			check_sort(sizes[i], budgets[j], (unsigned)(i * 31 + j));
}

Test(msort, abandoned_sort_frees_its_scratch)
{
	struct item *a = calloc(5000, sizeof(*a));
	struct nr_msort s;

	cr_assert_not_null(a);
	for (int i = 0; i < 5000; i++)
		a[i].key = 5000 - i;
	cr_assert_eq(nr_msort_begin(&s, a, 5000, sizeof(*a), item_cmp), 0);
	for (int i = 0; i < 30; i++)
		nr_msort_step(&s, 500);
	cr_assert_null(nr_msort_end(&s)); /* not sorted yet: the caller's array stays its own */
	free(a);
}
