/* IP addresses and prefixes, family-agnostic, as plain values (no allocation).
 * Used by every layer: the model stores them, the planner emits them, netlink
 * encodes them. Bytes are in network order; IPv4 uses bytes[0..3]. */
#ifndef NR_UTIL_ADDR_H
#define NR_UTIL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Longest text form: an IPv6 address with "/128" and a NUL. */
#define NR_ADDR_STRLEN 48

struct nr_addr {
	uint8_t family; /* AF_INET, AF_INET6, or 0 for "no address" */
	uint8_t bytes[16];
};

struct nr_prefix {
	struct nr_addr addr; /* host bits are always zero */
	uint8_t len;
};

/* Parse "192.168.1.10" / "fd00::1". Errors: -EINVAL naming the text. */
int nr_addr_parse(const char *text, struct nr_addr *out, struct nr_err *err);
/* Parse "10.0.0.0/24". Refuses host bits set ("10.0.0.1/24: host bits set,
 * did you mean 10.0.0.0/24?") and lengths beyond the family maximum. */
int nr_prefix_parse(const char *text, struct nr_prefix *out, struct nr_err *err);

/* Format into buf (>= NR_ADDR_STRLEN bytes); returns buf. Family 0 gives "". */
const char *nr_addr_str(const struct nr_addr *a, char *buf, size_t len);
const char *nr_prefix_str(const struct nr_prefix *p, char *buf, size_t len);

/* 4 or 16 for AF_INET / AF_INET6, 0 otherwise. */
size_t nr_addr_size(uint8_t family);
/* 32 or 128. */
uint8_t nr_addr_bits(uint8_t family);

bool nr_addr_eq(const struct nr_addr *a, const struct nr_addr *b);
/* Total order: family first, then bytes; for sorting plans deterministically. */
int nr_addr_cmp(const struct nr_addr *a, const struct nr_addr *b);
bool nr_prefix_eq(const struct nr_prefix *a, const struct nr_prefix *b);
int nr_prefix_cmp(const struct nr_prefix *a, const struct nr_prefix *b);

/* Whether `p` contains address `a` / prefix `inner`; families must match. */
bool nr_prefix_contains_addr(const struct nr_prefix *p, const struct nr_addr *a);
bool nr_prefix_contains(const struct nr_prefix *outer, const struct nr_prefix *inner);
bool nr_prefix_overlaps(const struct nr_prefix *a, const struct nr_prefix *b);

/* ---- helpers added for IPAM and the planner (pure arithmetic) ---------- */

/* `a` truncated to `len` bits (host bits cleared). `len` must be <= the
 * family maximum. */
void nr_prefix_make(const struct nr_addr *a, uint8_t len, struct nr_prefix *out);

/* The n-th sub-prefix of length `sublen` inside `p` (n = 0 is the network
 * address); with sublen == nr_addr_bits() this is the n-th address.
 * Errors: -ERANGE when n does not fit, -EINVAL when sublen < p->len. */
int nr_prefix_nth(const struct nr_prefix *p, uint8_t sublen, uint64_t n,
		  struct nr_prefix *out);

/* Inverse of nr_prefix_nth: which sub-prefix of length `sublen` of `p` holds
 * address `a`. Errors: -EINVAL when `a` is outside `p` or sublen < p->len,
 * -ERANGE when the index does not fit 64 bits. */
int nr_prefix_sub_index(const struct nr_prefix *p, const struct nr_addr *a,
			uint8_t sublen, uint64_t *idx);

/* log2 of the number of sub-prefixes of length `sublen` in `p`, i.e.
 * sublen - p->len (0 when sublen <= p->len). */
unsigned nr_prefix_sub_bits(const struct nr_prefix *p, uint8_t sublen);

/* Hash of an address, for hash tables (not cryptographic). */
uint32_t nr_addr_hash(const struct nr_addr *a);

#endif
