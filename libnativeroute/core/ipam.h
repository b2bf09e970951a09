/* Node pod-CIDR allocation. In cluster-pool mode every cluster CIDR is a pool
 * of equal blocks (mask size per family); a node gets the lowest free block,
 * or the block it had before when it returns by the same name while that
 * block is still free ("sticky"). In kubernetes mode the caller supplies the
 * CIDRs and IPAM only validates them (inside a cluster CIDR when one is set,
 * no overlap with any other node or reservation). All operations are
 * O(log n) or better. Pure bookkeeping, no I/O. Not thread-safe. */
#ifndef NR_CORE_IPAM_H
#define NR_CORE_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "util/addr.h"
#include "util/err.h"

/* How many departed node names IPAM remembers for sticky re-allocation;
 * the oldest is forgotten first. */
#define NR_IPAM_STICKY_MAX 65536

struct nr_ipam;

struct nr_ipam_pool_info {
	struct nr_prefix cidr;
	uint8_t mask;      /* block length */
	uint64_t total;    /* blocks tracked (capped at NR_IDSET_MAX_CAPACITY) */
	uint64_t used;     /* allocated + reserved */
	uint64_t reserved;
};

/* `cfg` must have passed nr_config_validate (it is checked again).
 * Errors: -EINVAL, -ENOMEM. */
int nr_ipam_new(const struct nr_cluster_config *cfg, struct nr_ipam **ret,
		struct nr_err *err);
/* NULL is fine. */
void nr_ipam_free(struct nr_ipam *ipam);
enum nr_ipam_mode nr_ipam_get_mode(const struct nr_ipam *ipam);

/* Cluster-pool: allocate a block of `family` for node `owner` (sticky if the
 * owner's previous block of that family is free, otherwise the lowest free
 * block of the first pool that has one). Errors: -ENOSPC with the pool usage
 * in the message, -EINVAL (no pool of that family, or kubernetes mode),
 * -ENOMEM. */
int nr_ipam_allocate(struct nr_ipam *ipam, uint8_t family, const char *owner,
		     struct nr_prefix *out, struct nr_err *err);

/* Take a specific CIDR for `owner`. Cluster-pool: it must be a free block of
 * a pool. Kubernetes: inside a cluster CIDR of its family when any is set,
 * at most /30 (/126), overlapping no other claim or reservation; `owner` is
 * kept by pointer (for "overlaps ... of node X" messages) and must stay valid
 * until the CIDR is released. Errors: -EINVAL, -EEXIST, -ENOMEM. */
int nr_ipam_claim(struct nr_ipam *ipam, const struct nr_prefix *cidr, const char *owner,
		  struct nr_err *err);

/* Give a claimed or allocated CIDR back; `owner` (may be NULL) is remembered
 * for sticky re-allocation (cluster-pool). Errors: -ENOENT (not allocated),
 * -EPERM (a reservation). */
int nr_ipam_release(struct nr_ipam *ipam, const struct nr_prefix *cidr, const char *owner);

/* Make a prefix unavailable to nodes: every block it touches (cluster-pool) or
 * the prefix itself (kubernetes). Errors: -EEXIST when part of it is already
 * allocated, -EINVAL when it touches no pool (cluster-pool), -ENOMEM. */
int nr_ipam_reserve(struct nr_ipam *ipam, const struct nr_prefix *p, struct nr_err *err);

/* Whether a CIDR is currently allocated, claimed or reserved (any overlap in
 * kubernetes mode; the exact block in cluster-pool mode). */
bool nr_ipam_in_use(const struct nr_ipam *ipam, const struct nr_prefix *cidr);

/* Pools in configuration order (cluster-pool; 0 in kubernetes mode). */
size_t nr_ipam_pool_count(const struct nr_ipam *ipam);
int nr_ipam_pool_info(const struct nr_ipam *ipam, size_t i, struct nr_ipam_pool_info *out);
/* Claims in kubernetes mode (node CIDRs + reservations). */
size_t nr_ipam_claim_count(const struct nr_ipam *ipam);

/* Change how many departed names are remembered (tests, tuning). */
void nr_ipam_set_sticky_limit(struct nr_ipam *ipam, size_t max);
size_t nr_ipam_sticky_count(const struct nr_ipam *ipam);

#endif
