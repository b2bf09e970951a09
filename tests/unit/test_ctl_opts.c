/* The extensible-options contract on the real entry point, nr_ctl_new: a
 * caller built against newer headers that sets a field this library does
 * not know is refused with -EINVAL before anything happens; an older caller
 * (smaller sz) gets past option checking with defaults for the rest. No
 * kernel state is touched: every call here fails before any change. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <nativeroute/nativeroute.h>

/* A "newer" struct: ours plus one field, as a future header would have. */
struct newer_opts {
	struct nr_ctl_opts base;
	long future_field;
};

Test(ctl_opts, newer_caller_setting_an_unknown_field_is_refused)
{
	struct newer_opts o;
	struct nr_ctl *ctl = NULL;

	memset(&o, 0, sizeof(o));
	o.base.sz = sizeof(o);
	o.base.node_name = "node-1";
	o.base.node_ipv4 = "192.0.2.1";
	o.future_field = 1;
	cr_assert_eq(nr_ctl_new(uv_default_loop(), &o.base, &ctl), -EINVAL);
	cr_assert_null(ctl);
	cr_assert(strstr(nr_last_errmsg(), "nr_ctl_opts") != NULL, "message: %s", nr_last_errmsg());
}

Test(ctl_opts, newer_caller_leaving_unknown_fields_zero_passes_option_checks)
{
	struct newer_opts o;
	struct nr_ctl *ctl = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.base.sz = sizeof(o);
	o.base.node_name = "node-1";
	o.base.node_ipv4 = "not-an-ip";
	o.base.ipam_mode = NR_IPAM_KUBERNETES; /* no cluster CIDR needed */
	rc = nr_ctl_new(uv_default_loop(), &o.base, &ctl);
	/* refused for the address, not for the struct */
	cr_assert_eq(rc, -EINVAL);
	cr_assert(strstr(nr_last_errmsg(), "not-an-ip") != NULL, "message: %s", nr_last_errmsg());
}

Test(ctl_opts, older_caller_gets_defaults_for_fields_it_lacks)
{
	struct nr_ctl_opts o;
	struct nr_ctl *ctl = NULL;
	int rc;

	/* built before mask_size_v4 existed: the fields up to cluster_cidrs */
	memset(&o, 0xff, sizeof(o)); /* garbage beyond sz must not be read */
	o.sz = offsetof(struct nr_ctl_opts, mask_size_v4);
	o.netns = NULL;
	o.node_name = "node-1";
	o.node_ipv4 = "not-an-ip";
	o.node_ipv6 = NULL;
	o.routing_mode = NR_MODE_NATIVE;
	o.ipam_mode = NR_IPAM_KUBERNETES;
	o.cluster_cidrs = NULL;
	rc = nr_ctl_new(uv_default_loop(), &o, &ctl);
	cr_assert_eq(rc, -EINVAL);
	cr_assert(strstr(nr_last_errmsg(), "not-an-ip") != NULL,
		  "options accepted, the address refused: %s", nr_last_errmsg());
}

Test(ctl_opts, sz_too_small_is_refused)
{
	struct nr_ctl_opts o = { .sz = 1, .node_name = "node-1" };
	struct nr_ctl *ctl = NULL;

	cr_assert_eq(nr_ctl_new(uv_default_loop(), &o, &ctl), -EINVAL);
}
