/* util/idset: lowest-free id sets, sparse and collapsing. */
#include <criterion/criterion.h>
#include <errno.h>

#include "util/idset.h"

Test(idset, first_free_is_lowest_unused)
{
	struct nr_idset s;
	uint64_t id;

	cr_assert_eq(nr_idset_init(&s, 100), 0);
	cr_assert_eq(nr_idset_add(&s, 0), 0);
	cr_assert_eq(nr_idset_add(&s, 1), 0);
	cr_assert_eq(nr_idset_add(&s, 3), 0);
	cr_assert_eq(nr_idset_first_free(&s, &id), 0);
	cr_assert_eq(id, 2);
	cr_assert_eq(s.count, 3);
	nr_idset_destroy(&s);
}

Test(idset, full_set_reports_enospc_and_reuses_freed_id)
{
	struct nr_idset s;
	uint64_t id;

	cr_assert_eq(nr_idset_init(&s, 65536), 0);
	for (uint64_t i = 0; i < 65536; i++) {
		cr_assert_eq(nr_idset_first_free(&s, &id), 0);
		cr_assert_eq(id, i);
		cr_assert_eq(nr_idset_add(&s, id), 0);
	}
	cr_assert_eq(nr_idset_first_free(&s, &id), -ENOSPC);
	cr_assert_eq(nr_idset_del(&s, 40000), 0);
	cr_assert_eq(nr_idset_first_free(&s, &id), 0);
	cr_assert_eq(id, 40000);
	nr_idset_destroy(&s);
}

Test(idset, never_hands_out_ids_beyond_capacity)
{
	struct nr_idset s;
	uint64_t id;

	cr_assert_eq(nr_idset_init(&s, 5), 0);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(nr_idset_add(&s, (uint64_t)i), 0);
	cr_assert_eq(nr_idset_first_free(&s, &id), -ENOSPC);
	cr_assert_eq(nr_idset_add(&s, 5), -ERANGE);
	nr_idset_destroy(&s);
}

Test(idset, double_add_and_missing_del_are_refused)
{
	struct nr_idset s;

	cr_assert_eq(nr_idset_init(&s, 10), 0);
	cr_assert_eq(nr_idset_add(&s, 4), 0);
	cr_assert_eq(nr_idset_add(&s, 4), -EEXIST);
	cr_assert_eq(nr_idset_del(&s, 5), -ENOENT);
	nr_idset_destroy(&s);
}

Test(idset, huge_range_costs_little_and_can_be_split)
{
	struct nr_idset s;
	uint64_t id, added;

	cr_assert_eq(nr_idset_init(&s, UINT64_C(1) << 48), 0);
	cr_assert_eq(nr_idset_add_range(&s, 0, (UINT64_C(1) << 40) - 1, &added), 0);
	cr_assert_eq(added, UINT64_C(1) << 40);
	cr_assert_eq(nr_idset_first_free(&s, &id), 0);
	cr_assert_eq(id, UINT64_C(1) << 40);
	cr_assert_eq(nr_idset_del(&s, 12345678), 0);
	cr_assert(!nr_idset_test(&s, 12345678));
	cr_assert(nr_idset_test(&s, 12345679));
	cr_assert_eq(nr_idset_first_free(&s, &id), 0);
	cr_assert_eq(id, 12345678);
	cr_assert_eq(s.count, (UINT64_C(1) << 40) - 1);
	nr_idset_destroy(&s);
}

Test(idset, any_in_range_sees_single_ids)
{
	struct nr_idset s;

	cr_assert_eq(nr_idset_init(&s, 1 << 20), 0);
	cr_assert_eq(nr_idset_add(&s, 70000), 0);
	cr_assert(nr_idset_any_in_range(&s, 65536, 131071));
	cr_assert(!nr_idset_any_in_range(&s, 0, 69999));
	cr_assert(!nr_idset_any_in_range(&s, 70001, (1 << 20) - 1));
	nr_idset_destroy(&s);
}

Test(idset, capacity_is_capped)
{
	struct nr_idset s;

	cr_assert_eq(nr_idset_init(&s, UINT64_MAX), 0);
	cr_assert_eq(s.capacity, NR_IDSET_MAX_CAPACITY);
	nr_idset_destroy(&s);
}
