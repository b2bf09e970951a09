/* util/addr: parsing, formatting, ordering, containment and sub-prefix math. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "util/addr.h"

static struct nr_addr A(const char *s)
{
	struct nr_addr a;

	cr_assert_eq(nr_addr_parse(s, &a, NULL), 0, "parse %s", s);
	return a;
}

static struct nr_prefix P(const char *s)
{
	struct nr_prefix p;

	cr_assert_eq(nr_prefix_parse(s, &p, NULL), 0, "parse %s", s);
	return p;
}

Test(addr, parses_ipv4_into_first_four_bytes)
{
	struct nr_addr a = A("192.168.1.10");

	cr_assert_eq(a.family, AF_INET);
	cr_assert_eq(a.bytes[0], 192);
	cr_assert_eq(a.bytes[3], 10);
}

Test(addr, parses_ipv6)
{
	struct nr_addr a = A("fd00::1");

	cr_assert_eq(a.family, AF_INET6);
	cr_assert_eq(a.bytes[0], 0xfd);
	cr_assert_eq(a.bytes[15], 1);
}

/* nr_addr_parse has its own IPv4 parser (speed): it must accept exactly
 * what inet_pton(AF_INET) accepts, with the same bytes. Listed edge cases,
 * then random strings of digits and dots (and a few other characters). */
static void same_as_inet_pton(const char *s)
{
	struct nr_addr a;
	uint8_t want[4];
	bool ok = inet_pton(AF_INET, s, want) == 1;
	int rc = nr_addr_parse(s, &a, NULL);

	if (ok) {
		cr_assert_eq(rc, 0, "\"%s\": inet_pton takes it", s);
		cr_assert_eq(a.family, AF_INET, "\"%s\"", s);
		cr_assert_arr_eq(a.bytes, want, 4, "\"%s\"", s);
	} else {
		cr_assert(rc < 0 || a.family == AF_INET6, "\"%s\": inet_pton refuses it", s);
	}
}

Test(addr, ipv4_parser_accepts_what_inet_pton_accepts)
{
	static const char *cases[] = {
		"0.0.0.0", "255.255.255.255", "1.2.3.4", "01.2.3.4", "1.2.3.04", "1.2.3.0",
		"0.0.0.00", "256.1.1.1", "1.2.3.256", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1..2.3",
		"1.2.3.4.5", "1.2.3.4a", " 1.2.3.4", "1.2.3.4 ", "", ".", "1", "999.1.1.1",
		"100.200.250.255", "1.2.3.-4", "+1.2.3.4", "0x1.2.3.4", "1.2.3.4/8", "::1",
		"::ffff:1.2.3.4", "1.2.3.4:80", "12.34.56.78", "2550.1.1.1", "0.0.0.0.0",
	};
	unsigned seed = 7;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		same_as_inet_pton(cases[i]);
	for (int n = 0; n < 200000; n++) {
		static const char alphabet[] = "0123456789.....0125:x";
		char s[20];
		size_t len;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % 17;
		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			s[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		s[len] = '\0';
		same_as_inet_pton(s);
	}
}

Test(addr, refuses_garbage_naming_the_text)
{
	struct nr_err err = { 0 };
	struct nr_addr a;

	cr_assert_eq(nr_addr_parse("10.0.0.256", &a, &err), -EINVAL);
	cr_assert(strstr(err.msg, "10.0.0.256"), "%s", err.msg);
}

Test(addr, formats_round_trip)
{
	char buf[NR_ADDR_STRLEN];
	struct nr_addr a = A("2001:db8::42");
	struct nr_prefix p = P("10.1.0.0/16");

	cr_assert_str_eq(nr_addr_str(&a, buf, sizeof(buf)), "2001:db8::42");
	cr_assert_str_eq(nr_prefix_str(&p, buf, sizeof(buf)), "10.1.0.0/16");
}

Test(addr, formats_family_zero_as_empty)
{
	char buf[NR_ADDR_STRLEN] = "x";
	struct nr_addr a = { 0 };

	cr_assert_str_eq(nr_addr_str(&a, buf, sizeof(buf)), "");
}

Test(prefix, refuses_length_beyond_family_maximum)
{
	struct nr_err err = { 0 };
	struct nr_prefix p;

	cr_assert_eq(nr_prefix_parse("10.0.0.0/33", &p, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "10.0.0.0/33: prefix length 33 > 32");
	cr_assert_eq(nr_prefix_parse("fd00::/129", &p, &err), -EINVAL);
	cr_assert(strstr(err.msg, "129 > 128"), "%s", err.msg);
}

Test(prefix, refuses_host_bits_and_suggests_network)
{
	struct nr_err err = { 0 };
	struct nr_prefix p;

	cr_assert_eq(nr_prefix_parse("10.0.0.1/24", &p, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "10.0.0.1/24: host bits set, did you mean 10.0.0.0/24?");
}

Test(prefix, refuses_missing_or_bad_length)
{
	struct nr_prefix p;

	cr_assert_eq(nr_prefix_parse("10.0.0.0", &p, NULL), -EINVAL);
	cr_assert_eq(nr_prefix_parse("10.0.0.0/", &p, NULL), -EINVAL);
	cr_assert_eq(nr_prefix_parse("10.0.0.0/2a", &p, NULL), -EINVAL);
	cr_assert_eq(nr_prefix_parse("10.0.0.0/-1", &p, NULL), -EINVAL);
	cr_assert_eq(nr_prefix_parse("10.0.0.0/0024", &p, NULL), -EINVAL);
}

Test(prefix, accepts_zero_and_full_lengths)
{
	cr_assert_eq(P("0.0.0.0/0").len, 0);
	cr_assert_eq(P("10.0.0.7/32").len, 32);
	cr_assert_eq(P("::/0").len, 0);
	cr_assert_eq(P("fd00::7/128").len, 128);
}

Test(addr, orders_by_family_then_bytes)
{
	struct nr_addr a = A("10.0.0.2"), b = A("10.0.0.10"), c = A("::1");

	cr_assert_lt(nr_addr_cmp(&a, &b), 0);
	cr_assert_gt(nr_addr_cmp(&b, &a), 0);
	cr_assert_lt(nr_addr_cmp(&b, &c), 0);
	cr_assert(nr_addr_eq(&a, &a));
}

Test(prefix, orders_by_address_then_length)
{
	struct nr_prefix a = P("10.0.0.0/8"), b = P("10.0.0.0/24"), c = P("10.0.1.0/24");

	cr_assert_lt(nr_prefix_cmp(&a, &b), 0);
	cr_assert_lt(nr_prefix_cmp(&b, &c), 0);
	cr_assert(!nr_prefix_eq(&a, &b));
}

Test(prefix, containment_respects_length_and_family)
{
	struct nr_prefix big = P("10.0.0.0/8"), small = P("10.3.4.0/24");
	struct nr_addr in = A("10.255.0.1"), out = A("11.0.0.1"), v6 = A("::a00:1");

	cr_assert(nr_prefix_contains(&big, &small));
	cr_assert(!nr_prefix_contains(&small, &big));
	cr_assert(nr_prefix_contains_addr(&big, &in));
	cr_assert(!nr_prefix_contains_addr(&big, &out));
	cr_assert(!nr_prefix_contains_addr(&big, &v6));
}

Test(prefix, containment_handles_odd_lengths)
{
	struct nr_prefix p = P("10.0.0.0/9");
	struct nr_addr in = A("10.127.255.255"), out = A("10.128.0.0");

	cr_assert(nr_prefix_contains_addr(&p, &in));
	cr_assert(!nr_prefix_contains_addr(&p, &out));
}

Test(prefix, overlap_is_symmetric_and_disjoint_is_not_overlap)
{
	struct nr_prefix a = P("10.0.0.0/16"), b = P("10.0.5.0/24"), c = P("10.1.0.0/16");

	cr_assert(nr_prefix_overlaps(&a, &b));
	cr_assert(nr_prefix_overlaps(&b, &a));
	cr_assert(!nr_prefix_overlaps(&a, &c));
}

Test(prefix, make_clears_host_bits)
{
	struct nr_addr a = A("10.1.2.3");
	struct nr_prefix p;
	char buf[NR_ADDR_STRLEN];

	nr_prefix_make(&a, 20, &p);
	cr_assert_str_eq(nr_prefix_str(&p, buf, sizeof(buf)), "10.1.0.0/20");
}

Test(prefix, nth_subprefix_and_index_are_inverse)
{
	struct nr_prefix pool = P("10.0.0.0/8"), blk;
	char buf[NR_ADDR_STRLEN];
	uint64_t idx;

	cr_assert_eq(nr_prefix_nth(&pool, 24, 258, &blk), 0);
	cr_assert_str_eq(nr_prefix_str(&blk, buf, sizeof(buf)), "10.1.2.0/24");
	cr_assert_eq(nr_prefix_sub_index(&pool, &blk.addr, 24, &idx), 0);
	cr_assert_eq(idx, 258);
	cr_assert_eq(nr_prefix_nth(&pool, 24, 65536, &blk), -ERANGE);
}

Test(prefix, nth_address_of_ipv6)
{
	struct nr_prefix p = P("fd00::/112"), host;
	char buf[NR_ADDR_STRLEN];

	cr_assert_eq(nr_prefix_nth(&p, 128, 0x1234, &host), 0);
	cr_assert_str_eq(nr_addr_str(&host.addr, buf, sizeof(buf)), "fd00::1234");
}

Test(prefix, wide_ipv6_index_uses_low_64_bits)
{
	struct nr_prefix p = P("fd00::/32"), blk;
	char buf[NR_ADDR_STRLEN];
	uint64_t idx;

	cr_assert_eq(nr_prefix_nth(&p, 112, 1, &blk), 0);
	cr_assert_str_eq(nr_prefix_str(&blk, buf, sizeof(buf)), "fd00::1:0/112");
	cr_assert_eq(nr_prefix_sub_index(&p, &blk.addr, 112, &idx), 0);
	cr_assert_eq(idx, 1);
	blk = P("fd00:0:8000::/112");
	cr_assert_eq(nr_prefix_sub_index(&p, &blk.addr, 112, &idx), -ERANGE);
}

Test(prefix, sub_index_refuses_address_outside)
{
	struct nr_prefix p = P("10.0.0.0/8");
	struct nr_addr a = A("11.0.0.0");
	uint64_t idx;

	cr_assert_eq(nr_prefix_sub_index(&p, &a, 24, &idx), -EINVAL);
}

Test(addr, hash_differs_for_different_addresses)
{
	struct nr_addr a = A("10.0.0.1"), b = A("10.0.0.2");

	cr_assert_neq(nr_addr_hash(&a), nr_addr_hash(&b));
	cr_assert_eq(nr_addr_hash(&a), nr_addr_hash(&a));
}
