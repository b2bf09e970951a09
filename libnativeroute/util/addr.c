/* Address and prefix values: parsing, formatting, comparison and the bit
 * arithmetic IPAM needs. Bytes are network order, so bit 0 is the most
 * significant bit of bytes[0]. */
#include "util/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

size_t nr_addr_size(uint8_t family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

uint8_t nr_addr_bits(uint8_t family)
{
	return (uint8_t)(nr_addr_size(family) * 8);
}

static bool bit_get(const uint8_t *b, unsigned i)
{
	return (b[i / 8] >> (7 - i % 8)) & 1;
}

static void bit_put(uint8_t *b, unsigned i, bool v)
{
	uint8_t m = (uint8_t)(1u << (7 - i % 8));

	if (v)
		b[i / 8] |= m;
	else
		b[i / 8] &= (uint8_t)~m;
}

/* Clear every bit from `from` to the end of the 16-byte array. */
static void clear_from(uint8_t *b, unsigned from)
{
	unsigned i = from;

	for (; i < 128 && i % 8; i++)
		bit_put(b, i, false);
	if (i < 128)
		memset(b + i / 8, 0, 16 - i / 8);
}

static bool host_bits_zero(const uint8_t *b, unsigned from, unsigned bits)
{
	for (unsigned i = from; i < bits; i++)
		if (bit_get(b, i))
			return false;
	return true;
}

/* Exactly what inet_pton(AF_INET) accepts (glibc's inet_pton4: four
 * decimal parts of at most 255, no leading zeros, nothing else), without
 * its per-character strchr: two thirds of a node add's parsing. */
static bool parse_ipv4(const char *s, uint8_t out[4])
{
	uint8_t tmp[4] = { 0 };
	unsigned octets = 0, cur = 0;
	bool saw_digit = false;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (saw_digit && cur == 0)
				return false;
			cur = cur * 10 + (unsigned)(*s - '0');
			if (cur > 255)
				return false;
			if (!saw_digit) {
				if (++octets > 4)
					return false;
				saw_digit = true;
			}
			tmp[octets - 1] = (uint8_t)cur;
		} else if (*s == '.' && saw_digit) {
			if (octets == 4)
				return false;
			cur = 0;
			saw_digit = false;
		} else {
			return false;
		}
	}
	if (octets < 4)
		return false;
	memcpy(out, tmp, 4);
	return true;
}

int nr_addr_parse(const char *text, struct nr_addr *out, struct nr_err *err)
{
	struct nr_addr a = { 0 };

	if (!text || !out)
		return nr_err_set(err, -EINVAL, "address: missing");
	if (parse_ipv4(text, a.bytes))
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, text, a.bytes) == 1)
		a.family = AF_INET6;
	else
		return nr_err_set(err, -EINVAL, "%.64s: not an IPv4 or IPv6 address", text);
	*out = a;
	return 0;
}

int nr_prefix_parse(const char *text, struct nr_prefix *out, struct nr_err *err)
{
	char buf[NR_ADDR_STRLEN + 8];
	struct nr_prefix p = { 0 };
	const char *slash, *d;
	unsigned len = 0;
	char hint[NR_ADDR_STRLEN];
	int r;

	if (!text || !out)
		return nr_err_set(err, -EINVAL, "prefix: missing");
	slash = strchr(text, '/');
	if (!slash)
		return nr_err_set(err, -EINVAL, "%.64s: missing /prefix-length", text);
	if ((size_t)(slash - text) >= NR_ADDR_STRLEN)
		return nr_err_set(err, -EINVAL, "%.64s: not an IPv4 or IPv6 prefix", text);
	memcpy(buf, text, (size_t)(slash - text));
	buf[slash - text] = '\0';
	r = nr_addr_parse(buf, &p.addr, NULL);
	if (r < 0)
		return nr_err_set(err, -EINVAL, "%.64s: %s is not an IPv4 or IPv6 address",
				  text, buf);
	d = slash + 1;
	if (!*d || strlen(d) > 3)
		return nr_err_set(err, -EINVAL, "%.64s: bad prefix length \"%.8s\"", text, d);
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return nr_err_set(err, -EINVAL, "%.64s: bad prefix length \"%.8s\"",
					  text, slash + 1);
		len = len * 10 + (unsigned)(*d - '0');
	}
	if (len > nr_addr_bits(p.addr.family))
		return nr_err_set(err, -EINVAL, "%.64s: prefix length %u > %u", text, len,
				  nr_addr_bits(p.addr.family));
	p.len = (uint8_t)len;
	if (!host_bits_zero(p.addr.bytes, len, nr_addr_bits(p.addr.family))) {
		struct nr_prefix fixed;

		nr_prefix_make(&p.addr, p.len, &fixed);
		return nr_err_set(err, -EINVAL, "%.64s: host bits set, did you mean %s?", text,
				  nr_prefix_str(&fixed, hint, sizeof(hint)));
	}
	*out = p;
	return 0;
}

const char *nr_addr_str(const struct nr_addr *a, char *buf, size_t len)
{
	if (!buf || !len)
		return buf;
	buf[0] = '\0';
	if (a && (a->family == AF_INET || a->family == AF_INET6))
		if (!inet_ntop(a->family, a->bytes, buf, (socklen_t)len))
			buf[0] = '\0';
	return buf;
}

const char *nr_prefix_str(const struct nr_prefix *p, char *buf, size_t len)
{
	size_t n;

	if (!buf || !len)
		return buf;
	nr_addr_str(p ? &p->addr : NULL, buf, len);
	n = strlen(buf);
	if (n && n < len)
		snprintf(buf + n, len - n, "/%u", p->len);
	return buf;
}

bool nr_addr_eq(const struct nr_addr *a, const struct nr_addr *b)
{
	return nr_addr_cmp(a, b) == 0;
}

int nr_addr_cmp(const struct nr_addr *a, const struct nr_addr *b)
{
	size_t n;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	n = nr_addr_size(a->family);
	return n ? memcmp(a->bytes, b->bytes, n) : 0;
}

bool nr_prefix_eq(const struct nr_prefix *a, const struct nr_prefix *b)
{
	return nr_prefix_cmp(a, b) == 0;
}

int nr_prefix_cmp(const struct nr_prefix *a, const struct nr_prefix *b)
{
	int c = nr_addr_cmp(&a->addr, &b->addr);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

static bool first_bits_eq(const uint8_t *a, const uint8_t *b, unsigned n)
{
	unsigned full = n / 8;

	if (memcmp(a, b, full))
		return false;
	if (n % 8) {
		uint8_t m = (uint8_t)(0xff << (8 - n % 8));

		return (a[full] & m) == (b[full] & m);
	}
	return true;
}

bool nr_prefix_contains_addr(const struct nr_prefix *p, const struct nr_addr *a)
{
	if (!p->addr.family || p->addr.family != a->family)
		return false;
	return first_bits_eq(p->addr.bytes, a->bytes, p->len);
}

bool nr_prefix_contains(const struct nr_prefix *outer, const struct nr_prefix *inner)
{
	return outer->len <= inner->len && nr_prefix_contains_addr(outer, &inner->addr);
}

bool nr_prefix_overlaps(const struct nr_prefix *a, const struct nr_prefix *b)
{
	return nr_prefix_contains(a, b) || nr_prefix_contains(b, a);
}

void nr_prefix_make(const struct nr_addr *a, uint8_t len, struct nr_prefix *out)
{
	struct nr_prefix p = { .addr = *a, .len = len };

	clear_from(p.addr.bytes, len);
	*out = p;
}

unsigned nr_prefix_sub_bits(const struct nr_prefix *p, uint8_t sublen)
{
	return sublen > p->len ? (unsigned)(sublen - p->len) : 0;
}

int nr_prefix_nth(const struct nr_prefix *p, uint8_t sublen, uint64_t n,
		  struct nr_prefix *out)
{
	unsigned width = nr_prefix_sub_bits(p, sublen);
	struct nr_prefix r = *p;

	if (sublen < p->len || sublen > nr_addr_bits(p->addr.family))
		return -EINVAL;
	if (width < 64 && n >> width)
		return -ERANGE;
	/* The index occupies bits [sublen - width, sublen); when width > 64
	 * the leading (width - 64) bits stay zero. */
	for (unsigned i = 0; i < width && i < 64; i++)
		bit_put(r.addr.bytes, sublen - 1 - i, (n >> i) & 1);
	r.len = sublen;
	*out = r;
	return 0;
}

int nr_prefix_sub_index(const struct nr_prefix *p, const struct nr_addr *a,
			uint8_t sublen, uint64_t *idx)
{
	uint64_t v = 0;

	if (sublen < p->len || sublen > nr_addr_bits(p->addr.family) ||
	    !nr_prefix_contains_addr(p, a))
		return -EINVAL;
	for (unsigned i = p->len; i < sublen; i++) {
		if (sublen - i > 64) {
			if (bit_get(a->bytes, i))
				return -ERANGE;
			continue;
		}
		v = (v << 1) | bit_get(a->bytes, i);
	}
	*idx = v;
	return 0;
}

uint32_t nr_addr_hash(const struct nr_addr *a)
{
	uint32_t h = 2166136261u ^ a->family;
	size_t n = nr_addr_size(a->family);

	for (size_t i = 0; i < n; i++)
		h = (h ^ a->bytes[i]) * 16777619u;
	return h;
}
