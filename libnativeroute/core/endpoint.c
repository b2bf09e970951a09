#include "core/endpoint.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int slot_of(uint8_t family)
{
	return family == AF_INET ? 0 : family == AF_INET6 ? 1 : -1;
}

static const char *fam_name(int slot)
{
	return slot == 0 ? "IPv4" : "IPv6";
}

/* Host offsets that are never handed out: network, gateway, v4 broadcast. */
static uint64_t reserved_count(const struct nr_endpoints *e, int slot)
{
	return slot == 0 && e->addrs[0].capacity > 2 ? 3 : 2;
}

void nr_endpoints_destroy(struct nr_endpoints *e)
{
	struct nr_endpoint *ep, *next;

	for (ep = e->first; ep; ep = next) {
		next = ep->next;
		free(ep);
	}
	nr_hmap_destroy(&e->by_id);
	nr_hmap_destroy(&e->by_ifname);
	nr_hmap_destroy(&e->by_ifindex);
	nr_idset_destroy(&e->addrs[0]);
	nr_idset_destroy(&e->addrs[1]);
	memset(e, 0, sizeof(*e));
}

int nr_endpoints_set_cidr(struct nr_endpoints *e, uint8_t family,
			  const struct nr_prefix *cidr, struct nr_err *err)
{
	int s = slot_of(family);
	char a[NR_ADDR_STRLEN];
	struct nr_prefix none = { 0 };
	unsigned host;
	uint64_t cap;

	if (s < 0)
		return nr_err_set(err, -EINVAL, "endpoints: bad address family %u", family);
	if (!cidr || !cidr->addr.family)
		cidr = &none;
	else if (cidr->addr.family != family)
		return nr_err_set(err, -EINVAL, "endpoints: %s is not an %s prefix",
				  nr_prefix_str(cidr, a, sizeof(a)), fam_name(s));
	if (nr_prefix_eq(cidr, &e->cidr[s]))
		return 0;
	if (e->n_family[s])
		return nr_err_set(err, -EBUSY,
				  "cannot change the local %s pod CIDR %s: %zu endpoints hold addresses in it",
				  fam_name(s), nr_prefix_str(&e->cidr[s], a, sizeof(a)), e->n_family[s]);
	nr_idset_destroy(&e->addrs[s]);
	memset(&e->addrs[s], 0, sizeof(e->addrs[s]));
	e->cidr[s] = none;
	if (!cidr->addr.family)
		return 0;
	host = nr_prefix_sub_bits(cidr, nr_addr_bits(family));
	if (host < 2)
		return nr_err_set(err, -EINVAL, "local pod CIDR %s is too small for pods",
				  nr_prefix_str(cidr, a, sizeof(a)));
	cap = host >= 60 ? NR_IDSET_MAX_CAPACITY : UINT64_C(1) << host;
	if (nr_idset_init(&e->addrs[s], cap) < 0 || nr_idset_add(&e->addrs[s], 0) < 0 ||
	    nr_idset_add(&e->addrs[s], 1) < 0 ||
	    (s == 0 && nr_idset_add(&e->addrs[s], cap - 1) < 0)) {
		nr_idset_destroy(&e->addrs[s]);
		return nr_err_set(err, -ENOMEM, "endpoints: out of memory");
	}
	e->cidr[s] = *cidr;
	return 0;
}

int nr_endpoints_gateway(const struct nr_endpoints *e, uint8_t family, struct nr_addr *out)
{
	int s = slot_of(family);
	struct nr_prefix gw;

	if (s < 0 || !e->cidr[s].addr.family)
		return -ENOENT;
	nr_prefix_nth(&e->cidr[s], nr_addr_bits(family), 1, &gw);
	*out = gw.addr;
	return 0;
}

static struct nr_endpoint *find_id(const struct nr_endpoints *e, const char *id)
{
	for (struct nr_hnode *n = nr_hmap_first(&e->by_id, nr_hash_str(id)); n; n = nr_hmap_next(n)) {
		struct nr_endpoint *ep = nr_container_of(n, struct nr_endpoint, by_id);

		if (!strcmp(ep->id, id))
			return ep;
	}
	return NULL;
}

static struct nr_endpoint *find_ifname(const struct nr_endpoints *e, const char *ifname)
{
	for (struct nr_hnode *n = nr_hmap_first(&e->by_ifname, nr_hash_str(ifname)); n;
	     n = nr_hmap_next(n)) {
		struct nr_endpoint *ep = nr_container_of(n, struct nr_endpoint, by_ifname);

		if (!strcmp(ep->ifname, ifname))
			return ep;
	}
	return NULL;
}

static struct nr_endpoint *find_ifindex(const struct nr_endpoints *e, uint32_t ifindex)
{
	for (struct nr_hnode *n = nr_hmap_first(&e->by_ifindex, ifindex); n; n = nr_hmap_next(n)) {
		struct nr_endpoint *ep = nr_container_of(n, struct nr_endpoint, by_ifindex);

		if (ep->ifindex == ifindex)
			return ep;
	}
	return NULL;
}

const struct nr_endpoint *nr_endpoints_get(const struct nr_endpoints *e, const char *id)
{
	return id ? find_id(e, id) : NULL;
}

const struct nr_endpoint *nr_endpoints_next(const struct nr_endpoints *e,
					    const struct nr_endpoint *prev)
{
	return prev ? prev->next : e->first;
}

static int check_spec(const struct nr_endpoints *e, const struct nr_endpoint_req *spec,
		      struct nr_err *err)
{
	size_t len;

	if (!spec->id || !*spec->id)
		return nr_err_set(err, -EINVAL, "endpoint id: empty");
	len = strlen(spec->id);
	if (len > NR_ENDPOINT_ID_MAX)
		return nr_err_set(err, -EINVAL, "endpoint id %.40s...: %zu characters > %d",
				  spec->id, len, NR_ENDPOINT_ID_MAX);
	for (const char *c = spec->id; *c; c++)
		if (*c <= ' ' || *c >= 127)
			return nr_err_set(err, -EINVAL,
					  "endpoint id \"%.64s\": only printable characters without spaces",
					  spec->id);
	if (find_id(e, spec->id))
		return nr_err_set(err, -EEXIST, "endpoint %.64s already exists", spec->id);
	if ((!spec->ifname || !*spec->ifname) && !spec->ifindex)
		return nr_err_set(err, -EINVAL, "endpoint %.64s: needs an ifname or an ifindex",
				  spec->id);
	if (spec->ifname && *spec->ifname) {
		len = strlen(spec->ifname);
		if (len > NR_IFNAME_MAX || strchr(spec->ifname, '/') ||
		    !strcmp(spec->ifname, ".") || !strcmp(spec->ifname, ".."))
			return nr_err_set(err, -EINVAL, "endpoint %.64s: bad interface name \"%.32s\"",
					  spec->id, spec->ifname);
		for (const char *c = spec->ifname; *c; c++)
			if (*c <= ' ' || *c >= 127 || *c == ':')
				return nr_err_set(err, -EINVAL,
						  "endpoint %.64s: bad interface name \"%.32s\"",
						  spec->id, spec->ifname);
		if (find_ifname(e, spec->ifname))
			return nr_err_set(err, -EEXIST,
					  "endpoint %.64s: interface %s is already used by endpoint %.64s",
					  spec->id, spec->ifname, find_ifname(e, spec->ifname)->id);
	}
	if (spec->ifindex && find_ifindex(e, spec->ifindex))
		return nr_err_set(err, -EEXIST,
				  "endpoint %.64s: ifindex %u is already used by endpoint %.64s",
				  spec->id, spec->ifindex, find_ifindex(e, spec->ifindex)->id);
	return 0;
}

/* Take the requested address or the lowest free one of family slot s. */
static int take_addr(struct nr_endpoints *e, int s, const char *id, const struct nr_addr *want,
		     struct nr_addr *out, struct nr_err *err)
{
	char a[NR_ADDR_STRLEN], c[NR_ADDR_STRLEN];
	const struct nr_prefix *cidr = &e->cidr[s];
	struct nr_prefix host;
	uint64_t idx;
	int r;

	if (want->family) {
		nr_addr_str(want, a, sizeof(a));
		if (!cidr->addr.family)
			return nr_err_set(err, -EINVAL, "endpoint %.64s: %s: the local node has no %s pod CIDR",
					  id, a, fam_name(s));
		nr_prefix_str(cidr, c, sizeof(c));
		if (nr_prefix_sub_index(cidr, want, nr_addr_bits(want->family), &idx) < 0 ||
		    idx >= e->addrs[s].capacity)
			return nr_err_set(err, -EINVAL, "endpoint %.64s: %s is outside the local pod CIDR %s",
					  id, a, c);
		if (idx == 0)
			return nr_err_set(err, -EINVAL, "endpoint %.64s: %s is the network address of %s",
					  id, a, c);
		if (idx == 1)
			return nr_err_set(err, -EINVAL, "endpoint %.64s: %s is the gateway address of %s",
					  id, a, c);
		if (s == 0 && idx == e->addrs[0].capacity - 1)
			return nr_err_set(err, -EINVAL, "endpoint %.64s: %s is the broadcast address of %s",
					  id, a, c);
		r = nr_idset_add(&e->addrs[s], idx);
		if (r == -EEXIST)
			return nr_err_set(err, -EEXIST, "endpoint %.64s: %s is already in use", id, a);
		if (r < 0)
			return nr_err_set(err, -ENOMEM, "endpoints: out of memory");
		*out = *want;
		return 0;
	}
	if (nr_idset_first_free(&e->addrs[s], &idx) < 0) {
		uint64_t res = reserved_count(e, s);

		return nr_err_set(err, -ENOSPC,
				  "local pod CIDR %s exhausted: %llu/%llu addresses in use",
				  nr_prefix_str(cidr, c, sizeof(c)),
				  (unsigned long long)(e->addrs[s].count - res),
				  (unsigned long long)(e->addrs[s].capacity - res));
	}
	if (nr_idset_add(&e->addrs[s], idx) < 0)
		return nr_err_set(err, -ENOMEM, "endpoints: out of memory");
	nr_prefix_nth(cidr, nr_addr_bits(cidr->addr.family), idx, &host);
	*out = host.addr;
	return 0;
}

static void give_back(struct nr_endpoints *e, const struct nr_addr *a)
{
	int s = slot_of(a->family);
	uint64_t idx;

	if (s >= 0 && nr_prefix_sub_index(&e->cidr[s], a, nr_addr_bits(a->family), &idx) == 0)
		nr_idset_del(&e->addrs[s], idx);
}

int nr_endpoints_add(struct nr_endpoints *e, const struct nr_endpoint_req *spec,
		     const struct nr_endpoint **ret, struct nr_err *err)
{
	const struct nr_addr *want[2] = { &spec->ip4, &spec->ip6 };
	struct nr_addr got[2] = { { 0 }, { 0 } };
	struct nr_endpoint *ep;
	int r = check_spec(e, spec, err);

	if (r < 0)
		return r;
	if (spec->ip4.family && spec->ip4.family != AF_INET)
		return nr_err_set(err, -EINVAL, "endpoint %.64s: ipv4 is not an IPv4 address", spec->id);
	if (spec->ip6.family && spec->ip6.family != AF_INET6)
		return nr_err_set(err, -EINVAL, "endpoint %.64s: ipv6 is not an IPv6 address", spec->id);
	if (!e->cidr[0].addr.family && !e->cidr[1].addr.family && !want[0]->family &&
	    !want[1]->family)
		return nr_err_set(err, -EINVAL,
				  "endpoint %.64s: the local node has no pod CIDR to allocate from",
				  spec->id);
	for (int s = 0; s < 2; s++) {
		if (!want[s]->family && !e->cidr[s].addr.family)
			continue;
		r = take_addr(e, s, spec->id, want[s], &got[s], err);
		if (r < 0)
			goto undo;
	}
	ep = calloc(1, sizeof(*ep) + strlen(spec->id) + 1);
	if (!ep) {
		r = nr_err_set(err, -ENOMEM, "endpoints: out of memory");
		goto undo;
	}
	strcpy(ep->id, spec->id);
	if (spec->ifname)
		strcpy(ep->ifname, spec->ifname);
	ep->ifindex = spec->ifindex;
	ep->ip4 = got[0];
	ep->ip6 = got[1];
	if (nr_hmap_insert(&e->by_id, &ep->by_id, nr_hash_str(ep->id)) < 0 ||
	    (ep->ifname[0] && nr_hmap_insert(&e->by_ifname, &ep->by_ifname, nr_hash_str(ep->ifname)) < 0) ||
	    (ep->ifindex && nr_hmap_insert(&e->by_ifindex, &ep->by_ifindex, ep->ifindex) < 0)) {
		nr_hmap_remove(&e->by_id, &ep->by_id);
		nr_hmap_remove(&e->by_ifname, &ep->by_ifname);
		free(ep);
		r = nr_err_set(err, -ENOMEM, "endpoints: out of memory");
		goto undo;
	}
	ep->prev = e->last;
	if (e->last)
		e->last->next = ep;
	else
		e->first = ep;
	e->last = ep;
	e->n++;
	for (int s = 0; s < 2; s++)
		e->n_family[s] += got[s].family != 0;
	if (ret)
		*ret = ep;
	return 0;
undo:
	for (int s = 0; s < 2; s++)
		if (got[s].family)
			give_back(e, &got[s]);
	return r;
}

int nr_endpoints_remove(struct nr_endpoints *e, const char *id, struct nr_err *err)
{
	struct nr_endpoint *ep = id ? find_id(e, id) : NULL;

	if (!ep)
		return nr_err_set(err, -ENOENT, "endpoint %.64s: not found", id ? id : "");
	nr_hmap_remove(&e->by_id, &ep->by_id);
	if (ep->ifname[0])
		nr_hmap_remove(&e->by_ifname, &ep->by_ifname);
	if (ep->ifindex)
		nr_hmap_remove(&e->by_ifindex, &ep->by_ifindex);
	if (ep->prev)
		ep->prev->next = ep->next;
	else
		e->first = ep->next;
	if (ep->next)
		ep->next->prev = ep->prev;
	else
		e->last = ep->prev;
	if (ep->ip4.family) {
		give_back(e, &ep->ip4);
		e->n_family[0]--;
	}
	if (ep->ip6.family) {
		give_back(e, &ep->ip6);
		e->n_family[1]--;
	}
	e->n--;
	free(ep);
	return 0;
}

int nr_endpoints_set_ifindex(struct nr_endpoints *e, const char *id, uint32_t ifindex,
			     struct nr_err *err)
{
	struct nr_endpoint *ep = id ? find_id(e, id) : NULL, *other;

	if (!ep)
		return nr_err_set(err, -ENOENT, "endpoint %.64s: not found", id ? id : "");
	if (ep->ifindex == ifindex)
		return 0;
	other = ifindex ? find_ifindex(e, ifindex) : NULL;
	if (other)
		return nr_err_set(err, -EEXIST, "endpoint %.64s: ifindex %u is already used by endpoint %.64s",
				  id, ifindex, other->id);
	if (ep->ifindex)
		nr_hmap_remove(&e->by_ifindex, &ep->by_ifindex);
	ep->ifindex = ifindex;
	if (ifindex && nr_hmap_insert(&e->by_ifindex, &ep->by_ifindex, ifindex) < 0) {
		ep->ifindex = 0;
		return nr_err_set(err, -ENOMEM, "endpoints: out of memory");
	}
	return 0;
}
