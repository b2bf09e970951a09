#include "core/ipam.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/cidrset.h"
#include "core/pod_cidr.h"
#include "nativeroute/error.h"
#include "util/hmap.h"
#include "util/idset.h"

struct pool {
	struct nr_prefix cidr;
	uint8_t mask;
	struct nr_idset used;     /* allocated or reserved blocks */
	struct nr_idset reserved; /* the reserved subset */
};

/* A departed node's last blocks, kept in FIFO order for eviction. */
struct sticky {
	struct nr_hnode by_name;
	struct sticky *older, *newer;
	struct nr_prefix cidr[2]; /* [0] IPv4, [1] IPv6; family 0 = none */
	char name[];
};

struct nr_ipam {
	enum nr_ipam_mode mode;
	struct pool pools[NR_MAX_CLUSTER_CIDRS];
	size_t n_pools;
	struct nr_cidrset claims; /* kubernetes mode */
	struct nr_hmap sticky;
	struct sticky *oldest, *newest;
	size_t sticky_max;
};

static const char reserved_owner[] = "(reserved)";

static int fam_slot(uint8_t family)
{
	return family == AF_INET6 ? 1 : 0;
}

static uint64_t pool_capacity(const struct pool *p)
{
	unsigned bits = nr_prefix_sub_bits(&p->cidr, p->mask);

	return bits >= 60 ? NR_IDSET_MAX_CAPACITY : UINT64_C(1) << bits;
}

int nr_ipam_new(const struct nr_cluster_config *cfg, struct nr_ipam **ret,
		struct nr_err *err)
{
	struct nr_ipam *ipam;
	int r = nr_config_validate(cfg, err);

	if (r < 0)
		return r;
	ipam = calloc(1, sizeof(*ipam));
	if (!ipam)
		return nr_err_set(err, -ENOMEM, "ipam: out of memory");
	ipam->mode = cfg->ipam_mode;
	ipam->sticky_max = NR_IPAM_STICKY_MAX;
	if (ipam->mode == NR_IPAM_CLUSTER_POOL) {
		for (unsigned i = 0; i < cfg->n_cluster_cidrs; i++) {
			struct pool *p = &ipam->pools[i];

			p->cidr = cfg->cluster_cidrs[i];
			p->mask = nr_config_mask_size(cfg, p->cidr.addr.family);
			ipam->n_pools++;
			if (nr_idset_init(&p->used, pool_capacity(p)) < 0 ||
			    nr_idset_init(&p->reserved, pool_capacity(p)) < 0) {
				nr_ipam_free(ipam);
				return nr_err_set(err, -ENOMEM, "ipam: out of memory");
			}
		}
	} else {
		/* Kubernetes mode keeps the cluster CIDRs only as bounds. */
		for (unsigned i = 0; i < cfg->n_cluster_cidrs; i++)
			ipam->pools[i].cidr = cfg->cluster_cidrs[i];
		ipam->n_pools = cfg->n_cluster_cidrs;
	}
	*ret = ipam;
	return 0;
}

static void sticky_unlink(struct nr_ipam *ipam, struct sticky *s)
{
	nr_hmap_remove(&ipam->sticky, &s->by_name);
	if (s->older)
		s->older->newer = s->newer;
	else
		ipam->oldest = s->newer;
	if (s->newer)
		s->newer->older = s->older;
	else
		ipam->newest = s->older;
	free(s);
}

void nr_ipam_free(struct nr_ipam *ipam)
{
	if (!ipam)
		return;
	if (ipam->mode == NR_IPAM_CLUSTER_POOL)
		for (size_t i = 0; i < ipam->n_pools; i++) {
			nr_idset_destroy(&ipam->pools[i].used);
			nr_idset_destroy(&ipam->pools[i].reserved);
		}
	while (ipam->oldest)
		sticky_unlink(ipam, ipam->oldest);
	nr_hmap_destroy(&ipam->sticky);
	nr_cidrset_destroy(&ipam->claims);
	free(ipam);
}

enum nr_ipam_mode nr_ipam_get_mode(const struct nr_ipam *ipam)
{
	return ipam->mode;
}

/* "10.0.0.0/8, 172.16.0.0/12" for the pools of one family. */
static const char *pools_str(const struct nr_ipam *ipam, uint8_t family, char *buf,
			     size_t len, unsigned *count)
{
	size_t off = 0;

	buf[0] = '\0';
	*count = 0;
	for (size_t i = 0; i < ipam->n_pools; i++) {
		char p[NR_ADDR_STRLEN];

		if (ipam->pools[i].cidr.addr.family != family)
			continue;
		nr_prefix_str(&ipam->pools[i].cidr, p, sizeof(p));
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", *count ? ", " : "", p);
		(*count)++;
	}
	return buf;
}

/* The pool holding block `cidr` and its index, or NULL. */
static struct pool *block_pool(const struct nr_ipam *ipam, const struct nr_prefix *cidr,
			       uint64_t *idx)
{
	for (size_t i = 0; i < ipam->n_pools; i++) {
		struct pool *p = (struct pool *)&ipam->pools[i];

		if (p->mask == cidr->len && nr_prefix_contains(&p->cidr, cidr) &&
		    nr_prefix_sub_index(&p->cidr, &cidr->addr, p->mask, idx) == 0 &&
		    *idx < p->used.capacity)
			return p;
	}
	return NULL;
}

static struct sticky *sticky_find(const struct nr_ipam *ipam, const char *name)
{
	uint32_t h = nr_hash_str(name);

	for (struct nr_hnode *n = nr_hmap_first(&ipam->sticky, h); n; n = nr_hmap_next(n)) {
		struct sticky *s = nr_container_of(n, struct sticky, by_name);

		if (!strcmp(s->name, name))
			return s;
	}
	return NULL;
}

static void sticky_remember(struct nr_ipam *ipam, const char *name,
			    const struct nr_prefix *cidr)
{
	struct sticky *s = sticky_find(ipam, name);
	size_t len;

	if (!ipam->sticky_max)
		return;
	if (s) { /* move to the newest end */
		if (s != ipam->newest) {
			if (s->older)
				s->older->newer = s->newer;
			else
				ipam->oldest = s->newer;
			s->newer->older = s->older;
			s->older = ipam->newest;
			s->newer = NULL;
			ipam->newest->newer = s;
			ipam->newest = s;
		}
		s->cidr[fam_slot(cidr->addr.family)] = *cidr;
		return;
	}
	while (ipam->sticky.n >= ipam->sticky_max && ipam->oldest)
		sticky_unlink(ipam, ipam->oldest);
	len = strlen(name);
	s = calloc(1, sizeof(*s) + len + 1);
	if (!s)
		return; /* stickiness is best effort */
	memcpy(s->name, name, len + 1);
	s->cidr[fam_slot(cidr->addr.family)] = *cidr;
	if (nr_hmap_insert(&ipam->sticky, &s->by_name, nr_hash_str(name)) < 0) {
		free(s);
		return;
	}
	s->older = ipam->newest;
	if (ipam->newest)
		ipam->newest->newer = s;
	else
		ipam->oldest = s;
	ipam->newest = s;
}

/* Take the sticky block of `name` for `family` if it is still free. */
static bool sticky_take(struct nr_ipam *ipam, uint8_t family, const char *name,
			struct nr_prefix *out)
{
	struct sticky *s = name ? sticky_find(ipam, name) : NULL;
	struct nr_prefix want;
	struct pool *p;
	uint64_t idx;
	bool ok = false;

	if (!s || !s->cidr[fam_slot(family)].addr.family)
		return false;
	want = s->cidr[fam_slot(family)];
	s->cidr[fam_slot(family)].addr.family = 0;
	p = block_pool(ipam, &want, &idx);
	if (p && nr_idset_add(&p->used, idx) == 0) {
		*out = want;
		ok = true;
	}
	if (!s->cidr[0].addr.family && !s->cidr[1].addr.family)
		sticky_unlink(ipam, s);
	return ok;
}

int nr_ipam_allocate(struct nr_ipam *ipam, uint8_t family, const char *owner,
		     struct nr_prefix *out, struct nr_err *err)
{
	char list[256];
	uint64_t used = 0, total = 0;
	unsigned n;
	uint8_t mask = 0;

	if (ipam->mode != NR_IPAM_CLUSTER_POOL)
		return nr_err_set(err, -EINVAL,
				  "ipam mode kubernetes: node %s needs its pod CIDR from the caller",
				  owner ? owner : "?");
	if (sticky_take(ipam, family, owner, out))
		return 0;
	for (size_t i = 0; i < ipam->n_pools; i++) {
		struct pool *p = &ipam->pools[i];
		uint64_t idx;

		if (p->cidr.addr.family != family)
			continue;
		mask = p->mask;
		used += p->used.count;
		total += p->used.capacity;
		if (nr_idset_first_free(&p->used, &idx) < 0)
			continue;
		if (nr_idset_add(&p->used, idx) < 0)
			return nr_err_set(err, -ENOMEM, "ipam: out of memory");
		nr_prefix_nth(&p->cidr, p->mask, idx, out);
		return 0;
	}
	pools_str(ipam, family, list, sizeof(list), &n);
	if (!n)
		return nr_err_set(err, -EINVAL, "no %s cluster pool configured",
				  family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "such");
	return nr_err_set(err, -ENOSPC,
			  "cluster pool%s %s exhausted: %llu/%llu /%u blocks allocated",
			  n > 1 ? "s" : "", list, (unsigned long long)used,
			  (unsigned long long)total, mask);
}

static int claim_pool(struct nr_ipam *ipam, const struct nr_prefix *cidr, struct nr_err *err)
{
	char c[NR_ADDR_STRLEN], list[256];
	struct pool *p;
	uint64_t idx;
	unsigned n;

	p = block_pool(ipam, cidr, &idx);
	if (!p) {
		for (size_t i = 0; i < ipam->n_pools; i++) {
			const struct pool *q = &ipam->pools[i];
			char qs[NR_ADDR_STRLEN];

			if (nr_prefix_contains_addr(&q->cidr, &cidr->addr))
				return nr_err_set(err, -EINVAL, "%s: not a /%u block of cluster pool %s",
						  nr_prefix_str(cidr, c, sizeof(c)), q->mask,
						  nr_prefix_str(&q->cidr, qs, sizeof(qs)));
		}
		pools_str(ipam, cidr->addr.family, list, sizeof(list), &n);
		return nr_err_set(err, -EINVAL, "%s is outside every cluster pool (%s)",
				  nr_prefix_str(cidr, c, sizeof(c)), n ? list : "none of its family");
	}
	if (nr_idset_test(&p->reserved, idx))
		return nr_err_set(err, -EEXIST, "%s is reserved", nr_prefix_str(cidr, c, sizeof(c)));
	switch (nr_idset_add(&p->used, idx)) {
	case 0:
		return 0;
	case -EEXIST:
		return nr_err_set(err, -EEXIST, "%s is already allocated",
				  nr_prefix_str(cidr, c, sizeof(c)));
	default:
		return nr_err_set(err, -ENOMEM, "ipam: out of memory");
	}
}

static int claim_k8s(struct nr_ipam *ipam, const struct nr_prefix *cidr, const char *owner,
		     struct nr_err *err)
{
	char c[NR_ADDR_STRLEN], h[NR_ADDR_STRLEN], list[256];
	uint8_t longest = cidr->addr.family == AF_INET ? 30 : 126;
	struct nr_prefix hit;
	const void *who;
	bool inside = false, any = false;
	unsigned n;
	int r;

	/* the texts only for an error: this runs for every node add */
	if (owner != reserved_owner && nr_pod_cidr_check(cidr, "pod CIDR", err) < 0)
		return -EINVAL;
	if (cidr->len > longest && owner != reserved_owner)
		return nr_err_set(err, -EINVAL, "%s: too small for a node's pods (longest is /%u)",
				  nr_prefix_str(cidr, c, sizeof(c)), longest);
	for (size_t i = 0; i < ipam->n_pools; i++) {
		any |= ipam->pools[i].cidr.addr.family == cidr->addr.family;
		inside |= nr_prefix_contains(&ipam->pools[i].cidr, cidr);
	}
	if (any && !inside) {
		pools_str(ipam, cidr->addr.family, list, sizeof(list), &n);
		return nr_err_set(err, -EINVAL, "%s is outside the cluster CIDR%s %s",
				  nr_prefix_str(cidr, c, sizeof(c)), n > 1 ? "s" : "", list);
	}
	/* add checks for overlaps itself: ask whose only when it refuses
	 * (one walk of the set per node add, not two) */
	r = nr_cidrset_add(&ipam->claims, cidr, owner);
	if (r == 0)
		return 0;
	nr_prefix_str(cidr, c, sizeof(c));
	if (r == -EEXIST && nr_cidrset_overlap(&ipam->claims, cidr, &hit, &who)) {
		nr_prefix_str(&hit, h, sizeof(h));
		if (who == reserved_owner)
			return nr_err_set(err, -EEXIST, "%s overlaps reserved %s", c, h);
		return nr_err_set(err, -EEXIST, "%s overlaps %s of node %s", c, h,
				  (const char *)who);
	}
	if (r == -ENOMEM)
		return nr_err_set(err, -ENOMEM, "ipam: out of memory");
	return nr_err_set(err, r, "%s: cannot be claimed (%s)", c, nr_strerror(r));
}

static int check_prefix(const struct nr_prefix *cidr, struct nr_err *err)
{
	struct nr_prefix clean;
	char c[NR_ADDR_STRLEN];

	if (!nr_addr_size(cidr->addr.family) || cidr->len > nr_addr_bits(cidr->addr.family))
		return nr_err_set(err, -EINVAL, "pod CIDR: not an IPv4 or IPv6 prefix");
	nr_prefix_make(&cidr->addr, cidr->len, &clean);
	if (!nr_prefix_eq(&clean, cidr))
		return nr_err_set(err, -EINVAL, "%s/%u: host bits set",
				  nr_addr_str(&cidr->addr, c, sizeof(c)), cidr->len);
	return 0;
}

int nr_ipam_claim(struct nr_ipam *ipam, const struct nr_prefix *cidr, const char *owner,
		  struct nr_err *err)
{
	int r = check_prefix(cidr, err);

	if (r < 0)
		return r;
	if (ipam->mode == NR_IPAM_CLUSTER_POOL)
		return claim_pool(ipam, cidr, err);
	return claim_k8s(ipam, cidr, owner ? owner : "?", err);
}

int nr_ipam_release(struct nr_ipam *ipam, const struct nr_prefix *cidr, const char *owner)
{
	struct pool *p;
	uint64_t idx;
	int r;

	if (ipam->mode == NR_IPAM_KUBERNETES) {
		const void *who;
		struct nr_prefix hit;

		if (!nr_cidrset_overlap(&ipam->claims, cidr, &hit, &who) ||
		    !nr_prefix_eq(&hit, cidr))
			return -ENOENT;
		if (who == reserved_owner)
			return -EPERM;
		return nr_cidrset_del(&ipam->claims, cidr);
	}
	p = block_pool(ipam, cidr, &idx);
	if (!p)
		return -ENOENT;
	if (nr_idset_test(&p->reserved, idx))
		return -EPERM;
	r = nr_idset_del(&p->used, idx);
	if (r == 0 && owner)
		sticky_remember(ipam, owner, cidr);
	return r;
}

int nr_ipam_reserve(struct nr_ipam *ipam, const struct nr_prefix *p, struct nr_err *err)
{
	char c[NR_ADDR_STRLEN];
	bool touched = false;
	int r = check_prefix(p, err);

	if (r < 0)
		return r;
	if (ipam->mode == NR_IPAM_KUBERNETES)
		return claim_k8s(ipam, p, reserved_owner, err);
	nr_prefix_str(p, c, sizeof(c));
	/* Check every pool first so a refusal changes nothing. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ipam->n_pools; i++) {
			struct pool *q = &ipam->pools[i];
			uint64_t lo = 0, hi = q->used.capacity - 1;

			if (!nr_prefix_overlaps(&q->cidr, p))
				continue;
			touched = true;
			if (p->len > q->cidr.len) {
				unsigned span = p->len >= q->mask ? 0 : (unsigned)(q->mask - p->len);

				if (nr_prefix_sub_index(&q->cidr, &p->addr, q->mask, &lo) < 0 ||
				    lo >= q->used.capacity)
					continue; /* beyond the tracked blocks */
				hi = span >= 60 ? q->used.capacity - 1 : lo + (UINT64_C(1) << span) - 1;
			}
			if (pass == 0) {
				if (nr_idset_any_in_range(&q->used, lo, hi))
					return nr_err_set(err, -EEXIST,
							  "cannot reserve %s: part of it is already allocated or reserved",
							  c);
				continue;
			}
			if (nr_idset_add_range(&q->used, lo, hi, NULL) < 0 ||
			    nr_idset_add_range(&q->reserved, lo, hi, NULL) < 0)
				return nr_err_set(err, -ENOMEM, "ipam: out of memory");
		}
		if (!touched)
			return nr_err_set(err, -EINVAL, "cannot reserve %s: it touches no cluster pool", c);
	}
	return 0;
}

bool nr_ipam_in_use(const struct nr_ipam *ipam, const struct nr_prefix *cidr)
{
	const struct pool *p;
	uint64_t idx;

	if (ipam->mode == NR_IPAM_KUBERNETES)
		return nr_cidrset_overlap(&ipam->claims, cidr, NULL, NULL);
	p = block_pool(ipam, cidr, &idx);
	return p && nr_idset_test(&p->used, idx);
}

size_t nr_ipam_pool_count(const struct nr_ipam *ipam)
{
	return ipam->mode == NR_IPAM_CLUSTER_POOL ? ipam->n_pools : 0;
}

int nr_ipam_pool_info(const struct nr_ipam *ipam, size_t i, struct nr_ipam_pool_info *out)
{
	const struct pool *p;

	if (i >= nr_ipam_pool_count(ipam))
		return -ENOENT;
	p = &ipam->pools[i];
	out->cidr = p->cidr;
	out->mask = p->mask;
	out->total = p->used.capacity;
	out->used = p->used.count;
	out->reserved = p->reserved.count;
	return 0;
}

size_t nr_ipam_claim_count(const struct nr_ipam *ipam)
{
	return ipam->claims.n;
}

void nr_ipam_set_sticky_limit(struct nr_ipam *ipam, size_t max)
{
	ipam->sticky_max = max;
	while (ipam->sticky.n > max && ipam->oldest)
		sticky_unlink(ipam, ipam->oldest);
}

size_t nr_ipam_sticky_count(const struct nr_ipam *ipam)
{
	return ipam->sticky.n;
}
