/* Test shorthands: parse an address or prefix that the test knows is valid,
 * failing the test (with the text) if it is not. */
#ifndef NR_TEST_PARSE_HELPERS_H
#define NR_TEST_PARSE_HELPERS_H

#include <criterion/criterion.h>

#include "util/addr.h"

static inline struct nr_prefix P(const char *s)
{
	struct nr_prefix p;

	cr_assert_eq(nr_prefix_parse(s, &p, NULL), 0, "parse %s", s);
	return p;
}

static inline struct nr_addr A(const char *s)
{
	struct nr_addr a;

	cr_assert_eq(nr_addr_parse(s, &a, NULL), 0, "parse %s", s);
	return a;
}

#endif
