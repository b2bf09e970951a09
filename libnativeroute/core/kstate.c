/* Kernel-object values: ordering, equality, and the derived VTEP MAC. */
#include "core/kstate.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int cmp_u32(uint32_t a, uint32_t b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

int nr_knexthop_cmp_key(const struct nr_knexthop *a, const struct nr_knexthop *b)
{
	return cmp_u32(a->id, b->id);
}

int nr_kroute_cmp_key(const struct nr_kroute *a, const struct nr_kroute *b)
{
	return nr_prefix_cmp(&a->dst, &b->dst);
}

int nr_kneigh_cmp_key(const struct nr_kneigh *a, const struct nr_kneigh *b)
{
	int c = cmp_u32(a->ifindex, b->ifindex);

	return c ? c : nr_addr_cmp(&a->ip, &b->ip);
}

int nr_kfdb_cmp_key(const struct nr_kfdb *a, const struct nr_kfdb *b)
{
	int c = cmp_u32(a->ifindex, b->ifindex);

	return c ? c : memcmp(a->mac, b->mac, sizeof(a->mac));
}

bool nr_knexthop_same(const struct nr_knexthop *a, const struct nr_knexthop *b)
{
	return a->id == b->id && nr_addr_eq(&a->gw, &b->gw) &&
	       a->ifindex == b->ifindex && a->onlink == b->onlink;
}

bool nr_kroute_same(const struct nr_kroute *a, const struct nr_kroute *b)
{
	return nr_prefix_eq(&a->dst, &b->dst) && a->scope == b->scope &&
	       a->onlink == b->onlink && a->nh_id == b->nh_id &&
	       nr_addr_eq(&a->gw, &b->gw) && a->ifindex == b->ifindex &&
	       nr_addr_eq(&a->src, &b->src) && a->mtu == b->mtu;
}

bool nr_kneigh_same(const struct nr_kneigh *a, const struct nr_kneigh *b)
{
	return nr_addr_eq(&a->ip, &b->ip) && a->ifindex == b->ifindex &&
	       !memcmp(a->mac, b->mac, sizeof(a->mac));
}

bool nr_kfdb_same(const struct nr_kfdb *a, const struct nr_kfdb *b)
{
	return !memcmp(a->mac, b->mac, sizeof(a->mac)) && a->ifindex == b->ifindex &&
	       nr_addr_eq(&a->dst, &b->dst);
}

static int qs_nexthop(const void *a, const void *b) { return nr_knexthop_cmp_key(a, b); }
static int qs_route(const void *a, const void *b) { return nr_kroute_cmp_key(a, b); }
static int qs_neigh(const void *a, const void *b) { return nr_kneigh_cmp_key(a, b); }
static int qs_fdb(const void *a, const void *b) { return nr_kfdb_cmp_key(a, b); }

/* Kernel dumps and the planner mostly hand over arrays in key order
 * already: one linear check spares qsort's n log n (and its scratch copy)
 * on 100,000 routes. */
static void sort_unless_sorted(void *items, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	for (size_t i = 1; i < n; i++) {
		if (cmp((const char *)items + (i - 1) * size, (const char *)items + i * size) > 0) {
			qsort(items, n, size, cmp);
			return;
		}
	}
}

void nr_kstate_sort(struct nr_kstate *s)
{
	sort_unless_sorted(s->nexthops, s->n_nexthops, sizeof(*s->nexthops), qs_nexthop);
	sort_unless_sorted(s->routes, s->n_routes, sizeof(*s->routes), qs_route);
	sort_unless_sorted(s->neighs, s->n_neighs, sizeof(*s->neighs), qs_neigh);
	sort_unless_sorted(s->fdbs, s->n_fdbs, sizeof(*s->fdbs), qs_fdb);
}

void nr_kstate_free(struct nr_kstate *s)
{
	if (!s)
		return;
	free(s->nexthops);
	free(s->routes);
	free(s->neighs);
	free(s->fdbs);
	memset(s, 0, sizeof(*s));
}

void nr_vtep_mac(const struct nr_addr *node_ip, uint8_t mac[6])
{
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x4e;
	if (node_ip->family == AF_INET) {
		memcpy(mac + 2, node_ip->bytes, 4);
	} else {
		/* FNV-1a over the 16 bytes: stable on every node and every
		 * architecture, so peers agree without an exchange. */
		uint32_t h = 2166136261u;

		for (size_t i = 0; i < 16; i++)
			h = (h ^ node_ip->bytes[i]) * 16777619u;
		mac[2] = (uint8_t)(h >> 24);
		mac[3] = (uint8_t)(h >> 16);
		mac[4] = (uint8_t)(h >> 8);
		mac[5] = (uint8_t)h;
	}
}
