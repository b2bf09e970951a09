/* nr_strerror / nr_err_name: the error model every caller relies on. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <nativeroute/nativeroute.h>

Test(error, name_of_negative_errno)
{
	cr_assert_str_eq(nr_err_name(-ENOSPC), "ENOSPC");
	cr_assert_str_eq(nr_err_name(-EINVAL), "EINVAL");
	cr_assert_str_eq(nr_err_name(-ECANCELED), "ECANCELED");
	cr_assert_str_eq(nr_err_name(-EPERM), "EPERM");
}

Test(error, positive_and_negative_codes_agree)
{
	cr_assert_str_eq(nr_err_name(ENOENT), nr_err_name(-ENOENT));
	cr_assert_str_eq(nr_strerror(ENOENT), nr_strerror(-ENOENT));
}

Test(error, text_matches_the_c_library)
{
	cr_assert_str_eq(nr_strerror(-ENOSPC), strerror(ENOSPC));
	cr_assert_str_eq(nr_strerror(-ENETUNREACH), strerror(ENETUNREACH));
}

Test(error, zero_and_unknown_codes_are_never_null)
{
	cr_assert_str_eq(nr_strerror(0), "Success");
	cr_assert_str_eq(nr_err_name(0), "OK");
	cr_assert_str_eq(nr_strerror(-99999), "Unknown error");
	cr_assert_str_eq(nr_err_name(-99999), "EUNKNOWN");
}

Test(version, runtime_matches_headers)
{
	char want[32];

	cr_assert_eq(nr_version(), NR_VERSION_HEX);
	snprintf(want, sizeof(want), "%d.%d.%d", NR_VERSION_MAJOR, NR_VERSION_MINOR,
		 NR_VERSION_PATCH);
	cr_assert_str_eq(nr_version_string(), want);
}
