#include "core/model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/hmap.h"
#include "util/idset.h"

struct nr_model {
	struct nr_cluster_config cfg;
	char *local_name;
	struct nr_node *local; /* the node of that name, NULL while none */
	uint64_t gen;
	struct nr_ipam *ipam;
	struct nr_hmap by_name, by_ip;
	struct nr_node **by_index; /* index -> node, NULL holes */
	size_t index_cap;          /* slots in by_index */
	size_t index_top;          /* highest used index + 1 */
	struct nr_idset indexes;
	size_t n_nodes;
	size_t n_no_cidr; /* nodes with neither an IPv4 nor an IPv6 CIDR */
	struct nr_endpoints eps;
	/* indexes of nodes changed since the last take (nr_model_journal) */
	bool journaling, journal_lost;
	uint32_t *journal;
	size_t n_journal, cap_journal;
};

static void journal_mark(struct nr_model *m, uint32_t index)
{
	if (!m->journaling || m->journal_lost)
		return;
	if (m->n_journal == m->cap_journal) {
		size_t cap = m->cap_journal ? m->cap_journal * 2 : 256;
		uint32_t *g = realloc(m->journal, cap * sizeof(*g));

		if (!g) { /* the taker learns that it must look at everything */
			m->journal_lost = true;
			return;
		}
		m->journal = g;
		m->cap_journal = cap;
	}
	m->journal[m->n_journal++] = index;
}

void nr_model_journal_start(struct nr_model *m)
{
	m->journaling = true;
	m->journal_lost = false;
	m->n_journal = 0;
}

size_t nr_model_journal_take(struct nr_model *m, uint32_t *out, size_t max, bool *lost)
{
	size_t k = m->n_journal < max ? m->n_journal : max;

	*lost = m->journal_lost;
	m->journal_lost = false;
	if (*lost) {
		m->n_journal = 0;
		return 0;
	}
	m->n_journal -= k;
	if (k)
		memcpy(out, m->journal + m->n_journal, k * sizeof(*out));
	return k;
}

bool nr_model_journaling(const struct nr_model *m)
{
	return m->journaling;
}

size_t nr_model_journal_pending(const struct nr_model *m)
{
	return m->journal_lost ? 1 : m->n_journal;
}

int nr_model_new(const struct nr_cluster_config *cfg, const char *local_node,
		 struct nr_model **ret, struct nr_err *err)
{
	struct nr_model *m;
	int r = nr_node_name_check(local_node, err);

	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m)
		return nr_err_set(err, -ENOMEM, "model: out of memory");
	m->cfg = *cfg;
	m->local_name = strdup(local_node);
	r = nr_ipam_new(cfg, &m->ipam, err);
	if (r == 0 && (!m->local_name || nr_idset_init(&m->indexes, (uint64_t)NR_NODE_INDEX_MAX + 1) < 0))
		r = nr_err_set(err, -ENOMEM, "model: out of memory");
	if (r < 0) {
		nr_model_free(m);
		return r;
	}
	*ret = m;
	return 0;
}

void nr_model_free(struct nr_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->index_top; i++)
		free(m->by_index[i]); /* its name is in the same allocation */
	free(m->by_index);
	free(m->journal);
	nr_hmap_destroy(&m->by_name);
	nr_hmap_destroy(&m->by_ip);
	nr_idset_destroy(&m->indexes);
	nr_endpoints_destroy(&m->eps);
	nr_ipam_free(m->ipam);
	free(m->local_name);
	free(m);
}

const struct nr_cluster_config *nr_model_config(const struct nr_model *m) { return &m->cfg; }
const char *nr_model_local_name(const struct nr_model *m) { return m->local_name; }
uint64_t nr_model_generation(const struct nr_model *m) { return m->gen; }

static bool no_cidr(const struct nr_node *n)
{
	return !n->cidr4.addr.family && !n->cidr6.addr.family;
}

size_t nr_model_nodes_without_cidr(const struct nr_model *m) { return m->n_no_cidr; }
const struct nr_ipam *nr_model_ipam(const struct nr_model *m) { return m->ipam; }
size_t nr_model_node_count(const struct nr_model *m) { return m->n_nodes; }

int nr_model_set_config(struct nr_model *m, const struct nr_cluster_config *cfg,
			struct nr_err *err)
{
	int r = nr_config_validate(cfg, err);
	bool same = cfg->ipam_mode == m->cfg.ipam_mode &&
		    cfg->n_cluster_cidrs == m->cfg.n_cluster_cidrs &&
		    nr_config_mask_size(cfg, AF_INET) == nr_config_mask_size(&m->cfg, AF_INET) &&
		    nr_config_mask_size(cfg, AF_INET6) == nr_config_mask_size(&m->cfg, AF_INET6);

	if (r < 0)
		return r;
	for (unsigned i = 0; same && i < cfg->n_cluster_cidrs; i++)
		same = nr_prefix_eq(&cfg->cluster_cidrs[i], &m->cfg.cluster_cidrs[i]);
	if (!same)
		return nr_err_set(err, -EINVAL,
				  "ipam mode, cluster CIDRs and mask sizes cannot change on a running model");
	m->cfg = *cfg;
	m->gen++;
	return 0;
}

static struct nr_node *find_name_hashed(const struct nr_model *m, const char *name, uint32_t hash)
{
	for (struct nr_hnode *n = nr_hmap_first(&m->by_name, hash); n; n = nr_hmap_next(n)) {
		struct nr_node *node = nr_container_of(n, struct nr_node, by_name);

		if (!strcmp(node->name, name))
			return node;
	}
	return NULL;
}

static struct nr_node *find_name(const struct nr_model *m, const char *name)
{
	return find_name_hashed(m, name, nr_hash_str(name));
}

static struct nr_node *find_ip(const struct nr_model *m, const struct nr_addr *ip)
{
	for (struct nr_hnode *n = nr_hmap_first(&m->by_ip, nr_addr_hash(ip)); n; n = nr_hmap_next(n)) {
		struct nr_node *node = ip->family == AF_INET ? nr_container_of(n, struct nr_node, by_ip4)
							     : nr_container_of(n, struct nr_node, by_ip6);

		if (nr_addr_eq(ip->family == AF_INET ? &node->ip4 : &node->ip6, ip))
			return node;
	}
	return NULL;
}

void nr_model_node_prefetch(const struct nr_model *m, const struct nr_node_req *spec)
{
	nr_hmap_prefetch(&m->by_name, nr_hash_str(spec->name));
	if (spec->ip4.family)
		nr_hmap_prefetch(&m->by_ip, nr_addr_hash(&spec->ip4));
	if (spec->ip6.family)
		nr_hmap_prefetch(&m->by_ip, nr_addr_hash(&spec->ip6));
}

const struct nr_node *nr_model_node_get(const struct nr_model *m, const char *name)
{
	return name ? find_name(m, name) : NULL;
}

const struct nr_node *nr_model_node_by_ip(const struct nr_model *m, const struct nr_addr *ip)
{
	return ip && (ip->family == AF_INET || ip->family == AF_INET6) ? find_ip(m, ip) : NULL;
}

const struct nr_node *nr_model_node_by_index(const struct nr_model *m, uint32_t index)
{
	return index < m->index_top ? m->by_index[index] : NULL;
}

const struct nr_node *nr_model_local_node(const struct nr_model *m)
{
	return m->local;
}

const struct nr_node *nr_model_node_from(const struct nr_model *m, uint32_t index)
{
	for (size_t i = index; i < m->index_top; i++)
		if (m->by_index[i])
			return m->by_index[i];
	return NULL;
}

const struct nr_node *nr_model_node_next(const struct nr_model *m, const struct nr_node *prev)
{
	for (size_t i = prev ? (size_t)prev->index + 1 : 0; i < m->index_top; i++)
		if (m->by_index[i])
			return m->by_index[i];
	return NULL;
}

static int check_ips(const struct nr_model *m, const struct nr_node_req *spec,
		     const struct nr_node *self, struct nr_err *err)
{
	const struct nr_addr *ips[2] = { &spec->ip4, &spec->ip6 };
	const uint8_t fams[2] = { AF_INET, AF_INET6 };

	if (!spec->ip4.family && !spec->ip6.family)
		return nr_err_set(err, -EINVAL, "node %s: needs an IPv4 or IPv6 address", spec->name);
	for (int s = 0; s < 2; s++) {
		char a[NR_ADDR_STRLEN];
		const struct nr_node *other;
		int r;

		if (!ips[s]->family)
			continue;
		/* the address is formatted for an error only: a node add is
		 * a few microseconds, and printf was a third of them */
		if (ips[s]->family != fams[s])
			return nr_err_set(err, -EINVAL, "node %s: %s given as the %s address", spec->name,
					  nr_addr_str(ips[s], a, sizeof(a)), s ? "IPv6" : "IPv4");
		r = nr_config_check_node_ip(&m->cfg, ips[s], err);
		if (r < 0)
			return r;
		other = find_ip(m, ips[s]);
		if (other && other != self)
			return nr_err_set(err, -EEXIST, "node %s: IP %s already belongs to node %s",
					  spec->name, nr_addr_str(ips[s], a, sizeof(a)), other->name);
	}
	return 0;
}

static int check_cidr_families(const struct nr_node_req *spec, struct nr_err *err)
{
	char a[NR_ADDR_STRLEN];

	if (spec->cidr4.addr.family && spec->cidr4.addr.family != AF_INET)
		return nr_err_set(err, -EINVAL, "node %s: %s given as the IPv4 pod CIDR", spec->name,
				  nr_prefix_str(&spec->cidr4, a, sizeof(a)));
	if (spec->cidr6.addr.family && spec->cidr6.addr.family != AF_INET6)
		return nr_err_set(err, -EINVAL, "node %s: %s given as the IPv6 pod CIDR", spec->name,
				  nr_prefix_str(&spec->cidr6, a, sizeof(a)));
	return 0;
}

/* Work out and take the node's CIDRs. cur: what the node holds now (zeroed
 * for a new node). On success out[] holds the new CIDRs and the old ones
 * that changed are released; on failure nothing changed. */
static int take_cidrs(struct nr_model *m, const char *owner, const struct nr_node_req *spec,
		      const struct nr_prefix cur[2], bool is_local, struct nr_prefix out[2],
		      struct nr_err *err)
{
	const struct nr_prefix *want[2] = { &spec->cidr4, &spec->cidr6 };
	const uint8_t fams[2] = { AF_INET, AF_INET6 };
	bool took[2] = { false, false }, dropped[2] = { false, false };
	int r = 0;

	for (int s = 0; s < 2; s++) {
		out[s] = cur[s];
		if (want[s]->addr.family ? nr_prefix_eq(want[s], &cur[s]) : cur[s].addr.family != 0)
			continue; /* unchanged */
		if (!want[s]->addr.family && (m->cfg.ipam_mode != NR_IPAM_CLUSTER_POOL ||
					      !nr_config_has_pool(&m->cfg, fams[s])))
			continue; /* nothing to allocate from */
		if (cur[s].addr.family && is_local && m->eps.n_family[s]) {
			char a[NR_ADDR_STRLEN];

			r = nr_err_set(err, -EBUSY,
				       "node %s: cannot move the local %s pod CIDR %s: %zu endpoints use it",
				       owner, s ? "IPv6" : "IPv4",
				       nr_prefix_str(&cur[s], a, sizeof(a)), m->eps.n_family[s]);
			goto undo;
		}
		if (cur[s].addr.family) { /* release first: the new one may overlap it */
			nr_ipam_release(m->ipam, &cur[s], NULL);
			dropped[s] = true;
		}
		if (want[s]->addr.family)
			r = nr_ipam_claim(m->ipam, want[s], owner, err);
		else
			r = nr_ipam_allocate(m->ipam, fams[s], owner, &out[s], err);
		if (r < 0)
			goto undo;
		if (want[s]->addr.family)
			out[s] = *want[s];
		took[s] = true;
	}
	return 0;
undo:
	for (int s = 0; s < 2; s++) {
		if (took[s])
			nr_ipam_release(m->ipam, &out[s], NULL);
		if (dropped[s])
			nr_ipam_claim(m->ipam, &cur[s], owner, NULL);
		out[s] = cur[s];
	}
	return r;
}

static int index_slot(struct nr_model *m, uint32_t index)
{
	if (index >= m->index_cap) {
		size_t cap = m->index_cap ? m->index_cap : 64;
		struct nr_node **p;

		while (cap <= index)
			cap *= 2;
		p = realloc(m->by_index, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + m->index_cap, 0, (cap - m->index_cap) * sizeof(*p));
		m->by_index = p;
		m->index_cap = cap;
	}
	return 0;
}

/* Errors: -ENOMEM (the map is full and cannot grow), and then neither IP
 * is linked. Linking again IPs just unlinked never fails (nr_hmap_insert). */
static int link_ips(struct nr_model *m, struct nr_node *n)
{
	if (n->ip4.family && nr_hmap_insert(&m->by_ip, &n->by_ip4, nr_addr_hash(&n->ip4)) < 0)
		return -ENOMEM;
	if (n->ip6.family && nr_hmap_insert(&m->by_ip, &n->by_ip6, nr_addr_hash(&n->ip6)) < 0) {
		if (n->ip4.family)
			nr_hmap_remove(&m->by_ip, &n->by_ip4);
		return -ENOMEM;
	}
	return 0;
}

static void unlink_ips(struct nr_model *m, struct nr_node *n)
{
	if (n->ip4.family)
		nr_hmap_remove(&m->by_ip, &n->by_ip4);
	if (n->ip6.family)
		nr_hmap_remove(&m->by_ip, &n->by_ip6);
}

static int sync_local_cidrs(struct nr_model *m, const struct nr_node *n)
{
	int r = nr_endpoints_set_cidr(&m->eps, AF_INET, n ? &n->cidr4 : NULL, NULL);

	return r < 0 ? r : nr_endpoints_set_cidr(&m->eps, AF_INET6, n ? &n->cidr6 : NULL, NULL);
}

static int node_add(struct nr_model *m, const struct nr_node_req *spec, bool fixed,
		    uint32_t index, const struct nr_node **ret, struct nr_err *err)
{
	const struct nr_prefix none[2] = { { .len = 0 }, { .len = 0 } };
	struct nr_prefix got[2];
	struct nr_node *n;
	uint64_t idx = index;
	uint32_t hash;
	size_t len;
	int r;

	if (!spec || (r = nr_node_name_check(spec->name, err)) < 0)
		return spec ? r : nr_err_set(err, -EINVAL, "node: missing");
	hash = nr_hash_str(spec->name); /* for the lookup and the insert */
	if (find_name_hashed(m, spec->name, hash))
		return nr_err_set(err, -EEXIST, "node %s already exists", spec->name);
	if ((r = check_ips(m, spec, NULL, err)) < 0 || (r = check_cidr_families(spec, err)) < 0)
		return r;
	if (fixed && index > NR_NODE_INDEX_MAX)
		return nr_err_set(err, -ERANGE, "node %s: index %u > %u", spec->name, index,
				  NR_NODE_INDEX_MAX);
	if (fixed && nr_idset_test(&m->indexes, index))
		return nr_err_set(err, -EEXIST, "node %s: index %u already belongs to node %s",
				  spec->name, index, m->by_index[index]->name);
	if (!fixed && nr_idset_first_free(&m->indexes, &idx) < 0)
		return nr_err_set(err, -ENOSPC, "node %s: all %u node indexes in use", spec->name,
				  NR_NODE_INDEX_MAX + 1);
	if (index_slot(m, (uint32_t)idx) < 0)
		return nr_err_set(err, -ENOMEM, "model: out of memory");
	/* one allocation, the name behind the node: a bulk add of 10,000
	 * nodes makes half as many allocations */
	len = strlen(spec->name) + 1;
	n = calloc(1, sizeof(*n) + len);
	if (!n)
		return nr_err_set(err, -ENOMEM, "model: out of memory");
	n->name = memcpy(n + 1, spec->name, len);
	n->ip4 = spec->ip4;
	n->ip6 = spec->ip6;
	r = take_cidrs(m, n->name, spec, none, false, got, err);
	if (r == 0 && (nr_idset_add(&m->indexes, idx) < 0 ||
		       nr_hmap_insert(&m->by_name, &n->by_name, hash) < 0 ||
		       link_ips(m, n) < 0)) {
		nr_hmap_remove(&m->by_name, &n->by_name); /* no-op when not in */
		nr_idset_del(&m->indexes, idx);
		for (int s = 0; s < 2; s++)
			if (got[s].addr.family)
				nr_ipam_release(m->ipam, &got[s], NULL);
		r = nr_err_set(err, -ENOMEM, "model: out of memory");
	}
	if (r < 0) {
		free(n);
		return r;
	}
	n->cidr4 = got[0];
	n->cidr6 = got[1];
	n->index = (uint32_t)idx;
	m->by_index[idx] = n;
	if (idx >= m->index_top)
		m->index_top = idx + 1;
	m->n_nodes++;
	m->n_no_cidr += no_cidr(n);
	journal_mark(m, (uint32_t)idx);
	if (!strcmp(n->name, m->local_name)) {
		m->local = n;
		sync_local_cidrs(m, n); /* no endpoints yet: cannot be busy */
	}
	m->gen++;
	if (ret)
		*ret = n;
	return 0;
}

int nr_model_node_add(struct nr_model *m, const struct nr_node_req *spec,
		      const struct nr_node **ret, struct nr_err *err)
{
	return node_add(m, spec, false, 0, ret, err);
}

int nr_model_node_restore(struct nr_model *m, const struct nr_node_req *spec,
			  uint32_t index, const struct nr_node **ret, struct nr_err *err)
{
	return node_add(m, spec, true, index, ret, err);
}

int nr_model_node_update(struct nr_model *m, const struct nr_node_req *spec,
			 const struct nr_node **ret, struct nr_err *err)
{
	struct nr_node *n = spec && spec->name ? find_name(m, spec->name) : NULL;
	struct nr_prefix cur[2], got[2];
	struct nr_addr old4, old6;
	bool local;
	int r;

	if (!n)
		return nr_err_set(err, -ENOENT, "node %.253s: not found",
				  spec && spec->name ? spec->name : "");
	if ((r = check_ips(m, spec, n, err)) < 0 || (r = check_cidr_families(spec, err)) < 0)
		return r;
	cur[0] = n->cidr4;
	cur[1] = n->cidr6;
	local = !strcmp(n->name, m->local_name);
	/* the IPs first: if the new ones cannot be linked, the old ones go
	 * back into the slots they freed, before any CIDR changed */
	old4 = n->ip4;
	old6 = n->ip6;
	unlink_ips(m, n);
	n->ip4 = spec->ip4;
	n->ip6 = spec->ip6;
	r = link_ips(m, n);
	if (r == 0)
		r = take_cidrs(m, n->name, spec, cur, local, got, err);
	else
		r = nr_err_set(err, -ENOMEM, "model: out of memory");
	if (r < 0) {
		unlink_ips(m, n);
		n->ip4 = old4;
		n->ip6 = old6;
		link_ips(m, n);
		return r;
	}
	m->n_no_cidr -= no_cidr(n);
	n->cidr4 = got[0];
	n->cidr6 = got[1];
	m->n_no_cidr += no_cidr(n);
	if (local)
		sync_local_cidrs(m, n); /* changed families have no endpoints */
	journal_mark(m, n->index);
	m->gen++;
	if (ret)
		*ret = n;
	return 0;
}

int nr_model_node_remove(struct nr_model *m, const char *name, struct nr_err *err)
{
	struct nr_node *n = name ? find_name(m, name) : NULL;
	bool local;

	if (!n)
		return nr_err_set(err, -ENOENT, "node %.253s: not found", name ? name : "");
	local = !strcmp(n->name, m->local_name);
	if (local && m->eps.n)
		return nr_err_set(err, -EBUSY, "node %s: the local node still has %zu endpoints",
				  n->name, m->eps.n);
	if (n->cidr4.addr.family)
		nr_ipam_release(m->ipam, &n->cidr4, n->name);
	if (n->cidr6.addr.family)
		nr_ipam_release(m->ipam, &n->cidr6, n->name);
	if (local) {
		sync_local_cidrs(m, NULL);
		m->local = NULL;
	}
	unlink_ips(m, n);
	nr_hmap_remove(&m->by_name, &n->by_name);
	nr_idset_del(&m->indexes, n->index);
	m->by_index[n->index] = NULL;
	journal_mark(m, n->index);
	while (m->index_top && !m->by_index[m->index_top - 1])
		m->index_top--;
	m->n_nodes--;
	m->n_no_cidr -= no_cidr(n);
	m->gen++;
	free(n);
	return 0;
}

int nr_model_endpoint_add(struct nr_model *m, const struct nr_endpoint_req *spec,
			  const struct nr_endpoint **ret, struct nr_err *err)
{
	int r;

	if (!nr_model_local_node(m))
		return nr_err_set(err, -ENOENT, "endpoint %.64s: local node %s is not in the model yet",
				  spec && spec->id ? spec->id : "", m->local_name);
	if (!spec)
		return nr_err_set(err, -EINVAL, "endpoint: missing");
	r = nr_endpoints_add(&m->eps, spec, ret, err);
	if (r == 0)
		m->gen++;
	return r;
}

int nr_model_endpoint_remove(struct nr_model *m, const char *id, struct nr_err *err)
{
	int r = nr_endpoints_remove(&m->eps, id, err);

	if (r == 0)
		m->gen++;
	return r;
}

int nr_model_endpoint_set_ifindex(struct nr_model *m, const char *id, uint32_t ifindex,
				  struct nr_err *err)
{
	int r = nr_endpoints_set_ifindex(&m->eps, id, ifindex, err);

	if (r == 0)
		m->gen++;
	return r;
}

const struct nr_endpoint *nr_model_endpoint_get(const struct nr_model *m, const char *id)
{
	return nr_endpoints_get(&m->eps, id);
}

const struct nr_endpoint *nr_model_endpoint_next(const struct nr_model *m,
						 const struct nr_endpoint *prev)
{
	return nr_endpoints_next(&m->eps, prev);
}

size_t nr_model_endpoint_count(const struct nr_model *m)
{
	return m->eps.n;
}

int nr_model_gateway(const struct nr_model *m, uint8_t family, struct nr_addr *out)
{
	return nr_endpoints_gateway(&m->eps, family, out);
}
