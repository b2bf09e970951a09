/* Cluster-wide configuration: address families and pools, IPAM mode, routing
 * mode and the direct-routing switches, with the rules that make a
 * combination valid. Pure values, no I/O. */
#ifndef NR_CORE_CONFIG_H
#define NR_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "nativeroute/types.h"
#include "util/addr.h"
#include "util/err.h"

#define NR_MAX_CLUSTER_CIDRS 8
#define NR_DEFAULT_MASK_SIZE4 24
#define NR_DEFAULT_MASK_SIZE6 112

/* enum nr_routing_mode and enum nr_ipam_mode are the public ones. */

struct nr_cluster_config {
	enum nr_routing_mode routing_mode;
	enum nr_ipam_mode ipam_mode;
	bool auto_direct_node_routes;
	bool direct_routing_skip_unreachable;
	/* Pools (cluster-pool) or bounds (kubernetes, optional); any mix of
	 * families; pairwise disjoint. */
	struct nr_prefix cluster_cidrs[NR_MAX_CLUSTER_CIDRS];
	unsigned n_cluster_cidrs;
	uint8_t mask_size4; /* per-node CIDR length; 0 = default /24 */
	uint8_t mask_size6; /* 0 = default /112 */
	/* Where native routing works without masquerading; family 0 = unset. */
	struct nr_prefix native_routing_cidr4;
	struct nr_prefix native_routing_cidr6;
};

/* Defaults: native routing, cluster-pool, no pools, default mask sizes. */
void nr_config_init(struct nr_cluster_config *c);

/* Check every rule; the message says which one and with which value.
 * Errors: -EINVAL. */
int nr_config_validate(const struct nr_cluster_config *c, struct nr_err *err);

/* The per-node CIDR length for a family (defaults applied). */
uint8_t nr_config_mask_size(const struct nr_cluster_config *c, uint8_t family);

/* Whether any cluster CIDR of this family is configured. */
bool nr_config_has_pool(const struct nr_cluster_config *c, uint8_t family);

/* Refuse a node IP that lies inside a cluster CIDR (it would be routed to a
 * node as a pod address). Errors: -EINVAL. */
int nr_config_check_node_ip(const struct nr_cluster_config *c, const struct nr_addr *ip,
			    struct nr_err *err);

/* "native" / "tunnel" / "hybrid". Errors: -EINVAL naming the text. */
int nr_config_routing_mode_parse(const char *s, enum nr_routing_mode *out, struct nr_err *err);
/* Returns NULL for an unknown value. */
const char *nr_config_routing_mode_str(enum nr_routing_mode m);
/* "cluster-pool" / "kubernetes". Errors: -EINVAL naming the text. */
int nr_config_ipam_mode_parse(const char *s, enum nr_ipam_mode *out, struct nr_err *err);
const char *nr_config_ipam_mode_str(enum nr_ipam_mode m);

#endif
