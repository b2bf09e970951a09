#include "core/config.h"
#include "core/pod_cidr.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static const char *const routing_names[] = {
	[NR_MODE_NATIVE] = "native",
	[NR_MODE_TUNNEL] = "tunnel",
	[NR_MODE_HYBRID] = "hybrid",
};

static const char *const ipam_names[] = {
	[NR_IPAM_CLUSTER_POOL] = "cluster-pool",
	[NR_IPAM_KUBERNETES] = "kubernetes",
};

void nr_config_init(struct nr_cluster_config *c)
{
	memset(c, 0, sizeof(*c));
	c->routing_mode = NR_MODE_NATIVE;
	c->ipam_mode = NR_IPAM_CLUSTER_POOL;
}

uint8_t nr_config_mask_size(const struct nr_cluster_config *c, uint8_t family)
{
	if (family == AF_INET)
		return c->mask_size4 ? c->mask_size4 : NR_DEFAULT_MASK_SIZE4;
	if (family == AF_INET6)
		return c->mask_size6 ? c->mask_size6 : NR_DEFAULT_MASK_SIZE6;
	return 0;
}

bool nr_config_has_pool(const struct nr_cluster_config *c, uint8_t family)
{
	for (unsigned i = 0; i < c->n_cluster_cidrs && i < NR_MAX_CLUSTER_CIDRS; i++)
		if (c->cluster_cidrs[i].addr.family == family)
			return true;
	return false;
}

/* A per-node CIDR must leave room for the network address, the gateway and
 * at least one pod (IPv4 also loses the broadcast address). */
static uint8_t max_mask(uint8_t family)
{
	return family == AF_INET ? 30 : 126;
}

static int check_mask(uint8_t family, uint8_t mask, struct nr_err *err)
{
	const char *fam = family == AF_INET ? "IPv4" : "IPv6";

	if (mask > nr_addr_bits(family))
		return nr_err_set(err, -EINVAL, "%s mask size /%u > %u", fam, mask,
				  nr_addr_bits(family));
	if (mask > max_mask(family))
		return nr_err_set(err, -EINVAL,
				  "%s mask size /%u leaves no room for pods (longest is /%u)",
				  fam, mask, max_mask(family));
	return 0;
}

static int check_cidr(const struct nr_cluster_config *c, unsigned i, struct nr_err *err)
{
	const struct nr_prefix *p = &c->cluster_cidrs[i];
	char a[NR_ADDR_STRLEN], b[NR_ADDR_STRLEN];
	struct nr_prefix clean;
	uint8_t mask;

	if (p->addr.family != AF_INET && p->addr.family != AF_INET6)
		return nr_err_set(err, -EINVAL, "cluster CIDR #%u: no address family", i + 1);
	if (p->len > nr_addr_bits(p->addr.family))
		return nr_err_set(err, -EINVAL, "cluster CIDR %s: prefix length %u > %u",
				  nr_addr_str(&p->addr, a, sizeof(a)), p->len,
				  nr_addr_bits(p->addr.family));
	nr_prefix_make(&p->addr, p->len, &clean);
	if (!nr_prefix_eq(&clean, p))
		return nr_err_set(err, -EINVAL, "cluster CIDR %s/%u: host bits set, did you mean %s?",
				  nr_addr_str(&p->addr, a, sizeof(a)), p->len,
				  nr_prefix_str(&clean, b, sizeof(b)));
	if (nr_pod_cidr_check(p, "cluster CIDR", err) < 0)
		return -EINVAL;
	mask = nr_config_mask_size(c, p->addr.family);
	if (mask < p->len)
		return nr_err_set(err, -EINVAL, "mask size /%u is shorter than cluster CIDR %s",
				  mask, nr_prefix_str(p, a, sizeof(a)));
	for (unsigned j = 0; j < i; j++)
		if (nr_prefix_overlaps(p, &c->cluster_cidrs[j]))
			return nr_err_set(err, -EINVAL, "cluster CIDR %s overlaps cluster CIDR %s",
					  nr_prefix_str(p, a, sizeof(a)),
					  nr_prefix_str(&c->cluster_cidrs[j], b, sizeof(b)));
	return 0;
}

static int check_native_cidr(const struct nr_cluster_config *c, const struct nr_prefix *p,
			     uint8_t family, struct nr_err *err)
{
	char a[NR_ADDR_STRLEN];
	struct nr_prefix clean;

	if (!p->addr.family)
		return 0;
	if (p->addr.family != family || p->len > nr_addr_bits(family))
		return nr_err_set(err, -EINVAL, "native routing CIDR %s is not an %s prefix",
				  nr_prefix_str(p, a, sizeof(a)),
				  family == AF_INET ? "IPv4" : "IPv6");
	nr_prefix_make(&p->addr, p->len, &clean);
	if (!nr_prefix_eq(&clean, p))
		return nr_err_set(err, -EINVAL, "native routing CIDR %s: host bits set",
				  nr_prefix_str(p, a, sizeof(a)));
	if (c->routing_mode == NR_MODE_TUNNEL)
		return nr_err_set(err, -EINVAL,
				  "native routing CIDR %s needs routing mode native or hybrid, not tunnel",
				  nr_prefix_str(p, a, sizeof(a)));
	return 0;
}

int nr_config_validate(const struct nr_cluster_config *c, struct nr_err *err)
{
	int r;

	if (!nr_config_routing_mode_str(c->routing_mode))
		return nr_err_set(err, -EINVAL, "routing mode %d: not native, tunnel or hybrid",
				  (int)c->routing_mode);
	if (!nr_config_ipam_mode_str(c->ipam_mode))
		return nr_err_set(err, -EINVAL, "ipam mode %d: not cluster-pool or kubernetes",
				  (int)c->ipam_mode);
	if (c->auto_direct_node_routes && c->routing_mode == NR_MODE_TUNNEL)
		return nr_err_set(err, -EINVAL,
				  "auto_direct_node_routes needs routing mode native or hybrid, not tunnel");
	if (c->direct_routing_skip_unreachable && !c->auto_direct_node_routes)
		return nr_err_set(err, -EINVAL,
				  "direct_routing_skip_unreachable needs auto_direct_node_routes");
	if (c->n_cluster_cidrs > NR_MAX_CLUSTER_CIDRS)
		return nr_err_set(err, -EINVAL, "%u cluster CIDRs: at most %d are supported",
				  c->n_cluster_cidrs, NR_MAX_CLUSTER_CIDRS);
	if (c->ipam_mode == NR_IPAM_CLUSTER_POOL && c->n_cluster_cidrs == 0)
		return nr_err_set(err, -EINVAL, "ipam mode cluster-pool needs at least one cluster CIDR");
	r = check_mask(AF_INET, nr_config_mask_size(c, AF_INET), err);
	if (r < 0)
		return r;
	r = check_mask(AF_INET6, nr_config_mask_size(c, AF_INET6), err);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < c->n_cluster_cidrs; i++) {
		r = check_cidr(c, i, err);
		if (r < 0)
			return r;
	}
	r = check_native_cidr(c, &c->native_routing_cidr4, AF_INET, err);
	if (r < 0)
		return r;
	return check_native_cidr(c, &c->native_routing_cidr6, AF_INET6, err);
}

int nr_config_check_node_ip(const struct nr_cluster_config *c, const struct nr_addr *ip,
			    struct nr_err *err)
{
	char a[NR_ADDR_STRLEN], b[NR_ADDR_STRLEN];

	for (unsigned i = 0; i < c->n_cluster_cidrs && i < NR_MAX_CLUSTER_CIDRS; i++)
		if (nr_prefix_contains_addr(&c->cluster_cidrs[i], ip))
			return nr_err_set(err, -EINVAL, "node IP %s lies inside cluster CIDR %s",
					  nr_addr_str(ip, a, sizeof(a)),
					  nr_prefix_str(&c->cluster_cidrs[i], b, sizeof(b)));
	return 0;
}

static int parse_name(const char *s, const char *const *names, int n, int *out)
{
	for (int i = 1; s && i < n; i++)
		if (names[i] && !strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	return -EINVAL;
}

int nr_config_routing_mode_parse(const char *s, enum nr_routing_mode *out, struct nr_err *err)
{
	int v;

	if (parse_name(s, routing_names, 4, &v) < 0)
		return nr_err_set(err, -EINVAL, "routing mode \"%.32s\": expected native, tunnel or hybrid",
				  s ? s : "");
	*out = (enum nr_routing_mode)v;
	return 0;
}

const char *nr_config_routing_mode_str(enum nr_routing_mode m)
{
	return m >= NR_MODE_NATIVE && m <= NR_MODE_HYBRID ? routing_names[m] : NULL;
}

int nr_config_ipam_mode_parse(const char *s, enum nr_ipam_mode *out, struct nr_err *err)
{
	int v;

	if (parse_name(s, ipam_names, 3, &v) < 0)
		return nr_err_set(err, -EINVAL, "ipam mode \"%.32s\": expected cluster-pool or kubernetes",
				  s ? s : "");
	*out = (enum nr_ipam_mode)v;
	return 0;
}

const char *nr_config_ipam_mode_str(enum nr_ipam_mode m)
{
	return m >= NR_IPAM_CLUSTER_POOL && m <= NR_IPAM_KUBERNETES ? ipam_names[m] : NULL;
}
