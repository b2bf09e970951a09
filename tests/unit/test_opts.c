/* The extensible-options contract (include/nativeroute/opts.h): a caller
 * compiled against older headers (smaller sz) gets defaults for the fields it
 * does not know; a caller compiled against newer headers is accepted when the
 * fields we do not know are zero and refused with -EINVAL when one is set. */
#include <criterion/criterion.h>
#include <errno.h>

#include <nativeroute/opts.h>
#include "util/opts_internal.h"

/* What "this library" knows. */
struct demo_opts {
	size_t sz;
	int mtu;
	const char *name;
	size_t :0;
};
#define demo_opts__last_field name

/* An older caller: built before `name` existed. */
struct demo_opts_old {
	size_t sz;
	int mtu;
	size_t :0;
};

/* A newer caller: built against headers with one more field. */
struct demo_opts_new {
	size_t sz;
	int mtu;
	const char *name;
	long resync_ms;
	size_t :0;
};

/* The library side: read the options exactly as library code does. noipa:
 * in the real library this code is in another translation unit, so the
 * compiler must not see which struct the caller really passed. */
__attribute__((noipa))
static int demo_read(const struct demo_opts *opts, int *mtu, const char **name,
		     struct nr_err *err)
{
	if (!OPTS_VALID(opts, demo_opts, err))
		return -EINVAL;
	*mtu = OPTS_GET(opts, mtu, 1500);
	*name = OPTS_GET(opts, name, "default");
	return 0;
}

Test(opts, null_options_mean_all_defaults)
{
	int mtu;
	const char *name;

	cr_assert_eq(demo_read(NULL, &mtu, &name, NULL), 0);
	cr_assert_eq(mtu, 1500);
	cr_assert_str_eq(name, "default");
}

Test(opts, current_caller_values_are_read)
{
	NR_OPTS(demo_opts, o, .mtu = 9000, .name = "eth1");
	int mtu;
	const char *name;

	cr_assert_eq(o.sz, sizeof(struct demo_opts));
	cr_assert_eq(demo_read(&o, &mtu, &name, NULL), 0);
	cr_assert_eq(mtu, 9000);
	cr_assert_str_eq(name, "eth1");
}

Test(opts, older_caller_gets_defaults_for_fields_it_lacks)
{
	NR_OPTS(demo_opts_old, old, .mtu = 1400);
	int mtu;
	const char *name;

	cr_assert_lt(old.sz, sizeof(struct demo_opts));
	cr_assert_eq(demo_read((const struct demo_opts *)&old, &mtu, &name, NULL), 0);
	cr_assert_eq(mtu, 1400);
	cr_assert_str_eq(name, "default", "field beyond the caller's sz must not be read");
}

Test(opts, newer_caller_with_zero_unknown_fields_is_accepted)
{
	NR_OPTS(demo_opts_new, nw, .mtu = 1450, .name = "x");
	int mtu;
	const char *name;

	cr_assert_gt(nw.sz, sizeof(struct demo_opts));
	cr_assert_eq(demo_read((const struct demo_opts *)&nw, &mtu, &name, NULL), 0);
	cr_assert_eq(mtu, 1450);
}

Test(opts, newer_caller_with_nonzero_unknown_field_is_refused)
{
	NR_OPTS(demo_opts_new, nw, .mtu = 1450, .resync_ms = 30000);
	struct nr_err err = { 0 };
	int mtu = 0;
	const char *name = NULL;

	cr_assert_eq(demo_read((const struct demo_opts *)&nw, &mtu, &name, &err), -EINVAL);
	cr_assert_eq(err.code, -EINVAL);
	cr_assert(strstr(err.msg, "demo_opts") != NULL, "message names the struct: %s", err.msg);
	cr_assert(strstr(err.msg, "newer headers") != NULL, "message says why: %s", err.msg);
	cr_assert_eq(mtu, 0, "nothing is read from refused options");
}

Test(opts, size_smaller_than_the_sz_field_is_refused)
{
	struct demo_opts o = { .sz = 2 };
	int mtu;
	const char *name;

	cr_assert_eq(demo_read(&o, &mtu, &name, NULL), -EINVAL);
}

Test(opts, macro_zeroes_padding_and_unset_fields)
{
	NR_OPTS(demo_opts_new, nw, .mtu = 1);
	const unsigned char *bytes = (const unsigned char *)&nw;

	cr_assert_null(nw.name);
	cr_assert_eq(nw.resync_ms, 0);
	/* the padding between mtu and name must be zero too */
	for (size_t i = offsetof(struct demo_opts_new, mtu) + sizeof(int);
	     i < offsetof(struct demo_opts_new, name); i++)
		cr_assert_eq(bytes[i], 0);
}
