#include "bpf/bpf_entries.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/sorted.h"

void nr_bpf_route_key_make(const struct nr_prefix *p, struct nr_bpf_route_key *k)
{
	memset(k, 0, sizeof(*k));
	/* the trie matches family first, so v4 and v6 never meet */
	k->prefixlen = 8u + p->len;
	k->family = p->addr.family;
	memcpy(k->addr, p->addr.bytes, nr_addr_size(p->addr.family));
}

void nr_bpf_ep_key_make(const struct nr_addr *a, struct nr_bpf_endpoint_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = a->family;
	memcpy(k->addr, a->bytes, nr_addr_size(a->family));
}

void nr_bpf_route_key_prefix(const struct nr_bpf_route_key *k, struct nr_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->addr.family = k->family;
	memcpy(p->addr.bytes, k->addr, sizeof(k->addr));
	p->len = k->prefixlen >= 8 ? (uint8_t)(k->prefixlen - 8) : 0;
}

static const void *find(const void *base, size_t n, size_t size, const void *key,
			int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, base, n, size, cmp) : NULL;
}

static int nh_cmp(const void *a, const void *b) { return nr_knexthop_cmp_key(a, b); }
static int neigh_cmp(const void *a, const void *b) { return nr_kneigh_cmp_key(a, b); }
static int fdb_cmp(const void *a, const void *b) { return nr_kfdb_cmp_key(a, b); }

static void set_node(struct nr_bpf_route_val *v, const struct nr_addr *ip, uint32_t ifindex)
{
	v->node_family = ip->family;
	memcpy(v->node_ip, ip->bytes, nr_addr_size(ip->family));
	v->ifindex = ifindex;
}

/* A tunnelled route names the VTEP gateway; the node it leads to is the
 * FDB entry behind that gateway's neighbour entry. */
static bool tunnel_node(const struct nr_kstate *ks, const struct nr_kroute *r,
			struct nr_bpf_route_val *v)
{
	struct nr_kneigh nk = { .ip = r->gw, .ifindex = r->ifindex };
	const struct nr_kneigh *ng = find(ks->neighs, ks->n_neighs, sizeof(nk), &nk, neigh_cmp);
	struct nr_kfdb fk = { .ifindex = r->ifindex };
	const struct nr_kfdb *f;

	if (!ng)
		return false;
	memcpy(fk.mac, ng->mac, 6);
	f = find(ks->fdbs, ks->n_fdbs, sizeof(fk), &fk, fdb_cmp);
	if (!f)
		return false;
	set_node(v, &f->dst, r->ifindex);
	return true;
}

bool nr_bpf_route_from_kroute(const struct nr_kstate *ks, const struct nr_kroute *r,
			      struct nr_bpf_route_entry *out)
{
	struct nr_bpf_route_val *v = &out->val;

	memset(out, 0, sizeof(*out));
	nr_bpf_route_key_make(&r->dst, &out->key);
	switch (r->kind) {
	case NR_ROUTE_NATIVE:
		v->kind = NR_BPF_ROUTE_NATIVE;
		if (r->nh_id) {
			struct nr_knexthop k = { .id = r->nh_id };
			const struct nr_knexthop *nh =
				find(ks->nexthops, ks->n_nexthops, sizeof(k), &k, nh_cmp);

			if (!nh)
				return false;
			set_node(v, &nh->gw, nh->ifindex);
			v->flags = NR_BPF_ROUTE_F_NEXTHOP_OBJ;
		} else {
			set_node(v, &r->gw, r->ifindex);
		}
		return v->node_family != 0;
	case NR_ROUTE_TUNNEL:
		v->kind = NR_BPF_ROUTE_TUNNEL;
		return tunnel_node(ks, r, v);
	case NR_ROUTE_ENDPOINT:
		v->kind = NR_BPF_ROUTE_LOCAL;
		v->ifindex = r->ifindex;
		return true;
	default:
		return false;
	}
}

bool nr_bpf_ep_from_kroute(const struct nr_kroute *r, struct nr_bpf_ep_entry *out)
{
	memset(out, 0, sizeof(*out));
	if (r->kind != NR_ROUTE_ENDPOINT || r->dst.len != nr_addr_bits(r->dst.addr.family))
		return false;
	nr_bpf_ep_key_make(&r->dst.addr, &out->key);
	out->val.ifindex = r->ifindex;
	return true;
}

bool nr_bpf_route_refused(const struct nr_kroute *r, const struct nr_bpf_refusal *rf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (rf[i].dst.addr.family && nr_prefix_eq(&rf[i].dst, &r->dst))
			return true;
		if (rf[i].nh_id && rf[i].nh_id == r->nh_id)
			return true;
	}
	return false;
}

int nr_bpf_entries_from_kstate(const struct nr_kstate *ks, struct nr_bpf_entries *out)
{
	return nr_bpf_entries_programmed(ks, NULL, 0, out);
}

int nr_bpf_entries_programmed(const struct nr_kstate *ks, const struct nr_bpf_refusal *rf,
			      size_t n, struct nr_bpf_entries *out)
{
	memset(out, 0, sizeof(*out));
	if (!ks->n_routes)
		return 0;
	out->routes = calloc(ks->n_routes, sizeof(*out->routes));
	out->eps = calloc(ks->n_routes, sizeof(*out->eps));
	if (!out->routes || !out->eps) {
		nr_bpf_entries_free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ks->n_routes; i++) {
		const struct nr_kroute *r = &ks->routes[i];

		if (n && nr_bpf_route_refused(r, rf, n))
			continue;
		if (nr_bpf_route_from_kroute(ks, r, &out->routes[out->n_routes]))
			out->n_routes++;
		if (nr_bpf_ep_from_kroute(r, &out->eps[out->n_eps]))
			out->n_eps++;
	}
	nr_bpf_entries_sort(out);
	return 0;
}

/* Keys compare as bytes: a total order that needs no knowledge of fields. */
int nr_bpf_route_entry_cmp(const struct nr_bpf_route_entry *a, const struct nr_bpf_route_entry *b)
{
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

int nr_bpf_ep_entry_cmp(const struct nr_bpf_ep_entry *a, const struct nr_bpf_ep_entry *b)
{
	return memcmp(&a->key, &b->key, sizeof(a->key));
}

static int route_cmp(const void *a, const void *b) { return nr_bpf_route_entry_cmp(a, b); }
static int ep_cmp(const void *a, const void *b) { return nr_bpf_ep_entry_cmp(a, b); }

void nr_bpf_entries_sort(struct nr_bpf_entries *e)
{
	if (e->n_routes)
		qsort(e->routes, e->n_routes, sizeof(*e->routes), route_cmp);
	if (e->n_eps)
		qsort(e->eps, e->n_eps, sizeof(*e->eps), ep_cmp);
}

void nr_bpf_entries_free(struct nr_bpf_entries *e)
{
	if (!e)
		return;
	free(e->routes);
	free(e->eps);
	memset(e, 0, sizeof(*e));
}

int nr_bpf_entries_copy(const struct nr_bpf_entries *src, struct nr_bpf_entries *dst)
{
	memset(dst, 0, sizeof(*dst));
	if (src->n_routes && !(dst->routes = malloc(src->n_routes * sizeof(*dst->routes))))
		return -ENOMEM;
	if (src->n_eps && !(dst->eps = malloc(src->n_eps * sizeof(*dst->eps)))) {
		nr_bpf_entries_free(dst);
		return -ENOMEM;
	}
	if (src->n_routes)
		memcpy(dst->routes, src->routes, src->n_routes * sizeof(*dst->routes));
	if (src->n_eps)
		memcpy(dst->eps, src->eps, src->n_eps * sizeof(*dst->eps));
	dst->n_routes = src->n_routes;
	dst->n_eps = src->n_eps;
	return 0;
}

/* ---- sorted upkeep -------------------------------------------------------- */

int nr_bpf_entries_put_route(struct nr_bpf_entries *e, const struct nr_bpf_route_entry *r)
{
	return nr_sorted_upsert((void **)&e->routes, &e->n_routes, sizeof(*r), r, route_cmp);
}

int nr_bpf_entries_put_ep(struct nr_bpf_entries *e, const struct nr_bpf_ep_entry *x)
{
	return nr_sorted_upsert((void **)&e->eps, &e->n_eps, sizeof(*x), x, ep_cmp);
}

void nr_bpf_entries_del_route(struct nr_bpf_entries *e, const struct nr_bpf_route_key *k)
{
	struct nr_bpf_route_entry key = { .key = *k };

	nr_sorted_remove(e->routes, &e->n_routes, sizeof(key), &key, route_cmp);
}

void nr_bpf_entries_del_ep(struct nr_bpf_entries *e, const struct nr_bpf_endpoint_key *k)
{
	struct nr_bpf_ep_entry key = { .key = *k };

	nr_sorted_remove(e->eps, &e->n_eps, sizeof(key), &key, ep_cmp);
}

const struct nr_bpf_route_entry *nr_bpf_entries_find_route(const struct nr_bpf_entries *e,
							   const struct nr_bpf_route_key *k)
{
	struct nr_bpf_route_entry key = { .key = *k };

	return find(e->routes, e->n_routes, sizeof(key), &key, route_cmp);
}

const struct nr_bpf_ep_entry *nr_bpf_entries_find_ep(const struct nr_bpf_entries *e,
						     const struct nr_bpf_endpoint_key *k)
{
	struct nr_bpf_ep_entry key = { .key = *k };

	return find(e->eps, e->n_eps, sizeof(key), &key, ep_cmp);
}

/* ---- diff ----------------------------------------------------------------- */

#define DIFF_MAP(WANT, NW, HAVE, NH, CMP, PUT, NPUT, DEL, NDEL)                           \
	do {                                                                              \
		size_t i = 0, j = 0;                                                      \
		if ((NW) && !((PUT) = malloc((NW) * sizeof(*(PUT)))))                     \
			goto oom;                                                         \
		if ((NH) && !((DEL) = malloc((NH) * sizeof(*(DEL)))))                     \
			goto oom;                                                         \
		while (i < (NW) || j < (NH)) {                                            \
			int c = i == (NW) ? 1 : j == (NH) ? -1 : CMP(&(WANT)[i], &(HAVE)[j]); \
			if (c < 0) {                                                      \
				(PUT)[(NPUT)++] = (WANT)[i++];                            \
			} else if (c > 0) {                                               \
				(DEL)[(NDEL)++] = (HAVE)[j++].key;                        \
			} else {                                                          \
				if (memcmp(&(WANT)[i].val, &(HAVE)[j].val, sizeof((WANT)[i].val))) \
					(PUT)[(NPUT)++] = (WANT)[i];                      \
				i++, j++;                                                 \
			}                                                                 \
		}                                                                         \
	} while (0)

int nr_bpf_diff(const struct nr_bpf_entries *want, const struct nr_bpf_entries *have,
		struct nr_bpf_diff *d)
{
	memset(d, 0, sizeof(*d));
	DIFF_MAP(want->routes, want->n_routes, have->routes, have->n_routes,
		 nr_bpf_route_entry_cmp, d->put_routes, d->n_put_routes, d->del_routes, d->n_del_routes);
	DIFF_MAP(want->eps, want->n_eps, have->eps, have->n_eps,
		 nr_bpf_ep_entry_cmp, d->put_eps, d->n_put_eps, d->del_eps, d->n_del_eps);
	return 0;
oom:
	nr_bpf_diff_free(d);
	return -ENOMEM;
}

void nr_bpf_diff_free(struct nr_bpf_diff *d)
{
	if (!d)
		return;
	free(d->put_routes);
	free(d->del_routes);
	free(d->put_eps);
	free(d->del_eps);
	memset(d, 0, sizeof(*d));
}
