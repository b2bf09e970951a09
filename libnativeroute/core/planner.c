#include "core/planner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/msort.h"

#define SCOPE_LINK 253 /* RT_SCOPE_LINK, without pulling in rtnetlink.h */

struct plan {
	const struct nr_plan_input *in;
	const struct nr_model *m;
	const struct nr_cluster_config *cfg;
	const struct nr_node *local;
	struct nr_reach *reach; /* sorted copy */
	struct nr_kstate *ks;
	struct nr_plan_report *rep;
	size_t cap_skipped;
	struct nr_err *err;
};

static int reach_cmp(const void *a, const void *b)
{
	return nr_addr_cmp(&((const struct nr_reach *)a)->ip, &((const struct nr_reach *)b)->ip);
}

static const struct nr_reach *reach_find(const struct plan *p, const struct nr_addr *ip)
{
	struct nr_reach key = { .ip = *ip };

	return p->in->n_reach ? bsearch(&key, p->reach, p->in->n_reach, sizeof(key), reach_cmp) : NULL;
}

static int skip(struct plan *p, const char *name, uint8_t family, uint8_t reason,
		const struct nr_addr *ip)
{
	struct nr_plan_skip *s;

	if (p->rep->n_skipped == p->cap_skipped) {
		size_t cap = p->cap_skipped ? p->cap_skipped * 2 : 16;

		s = realloc(p->rep->skipped, cap * sizeof(*s));
		if (!s)
			return nr_err_set(p->err, -ENOMEM, "planner: out of memory");
		p->rep->skipped = s;
		p->cap_skipped = cap;
	}
	s = &p->rep->skipped[p->rep->n_skipped++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->family = family;
	s->reason = reason;
	if (ip)
		s->ip = *ip;
	return 0;
}

static int remap_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct nr_nh_remap *)a)->want, y = ((const struct nr_nh_remap *)b)->want;

	return x < y ? -1 : x > y;
}

uint32_t nr_plan_nh_id(const struct nr_plan_input *in, uint32_t index, bool v6)
{
	struct nr_nh_remap key = { .want = NR_NH_ID_BASE + index * 2 + v6 };
	const struct nr_nh_remap *hit = in->n_nh_remap ?
		bsearch(&key, in->nh_remap, in->n_nh_remap, sizeof(key), remap_cmp) : NULL;

	return hit ? hit->got : key.want;
}

static void add_native(struct plan *p, const struct nr_node *n, const struct nr_prefix *cidr,
		       const struct nr_addr *gw, uint32_t ifindex)
{
	struct nr_kroute *r = &p->ks->routes[p->ks->n_routes++];
	const struct nr_addr *src = p->local ? nr_node_ip(p->local, cidr->addr.family) : NULL;

	memset(r, 0, sizeof(*r));
	r->dst = *cidr;
	r->kind = NR_ROUTE_NATIVE;
	if (src)
		r->src = *src;
	if (p->in->flags & NR_PLAN_CLASSIC_ROUTES) {
		r->gw = *gw;
		r->ifindex = ifindex;
	} else {
		struct nr_knexthop *nh = &p->ks->nexthops[p->ks->n_nexthops++];

		memset(nh, 0, sizeof(*nh));
		nh->id = nr_plan_nh_id(p->in, n->index, cidr->addr.family == AF_INET6);
		nh->gw = *gw;
		nh->ifindex = ifindex;
		r->nh_id = nh->id;
	}
	p->rep->n_native++;
}

/* The node IP that carries VXLAN packets to `n`, or NULL. */
static const struct nr_addr *underlay_ip(const struct plan *p, const struct nr_node *n)
{
	uint8_t fam = p->in->tunnel.underlay_family;

	if (!fam)
		fam = n->ip4.family && (!p->local || p->local->ip4.family) ? AF_INET : AF_INET6;
	return nr_node_ip(n, fam);
}

/* The gateway a tunnelled route names, answered by a permanent neighbour
 * entry on the VXLAN device. IPv4: the network address of the remote CIDR
 * (flannel's choice). IPv6: the link-local address made from the VTEP MAC
 * (modified EUI-64) - IPv6 checks an onlink gateway against the routing
 * table, and a gateway inside the remote CIDR would resolve to the route
 * being replaced (the native one on another device) when switching a
 * running node from native to tunnel mode: "invalid gateway or device
 * mismatch". A link-local gateway is always on the device's own link. */
static void vtep_gateway(const struct nr_prefix *cidr, const uint8_t mac[6], struct nr_addr *gw)
{
	if (cidr->addr.family == AF_INET) {
		*gw = cidr->addr;
		return;
	}
	memset(gw, 0, sizeof(*gw));
	gw->family = AF_INET6;
	gw->bytes[0] = 0xfe;
	gw->bytes[1] = 0x80;
	gw->bytes[8] = mac[0] ^ 0x02;
	gw->bytes[9] = mac[1];
	gw->bytes[10] = mac[2];
	gw->bytes[11] = 0xff;
	gw->bytes[12] = 0xfe;
	gw->bytes[13] = mac[3];
	gw->bytes[14] = mac[4];
	gw->bytes[15] = mac[5];
}

static int add_tunnel(struct plan *p, const struct nr_node *n, const struct nr_prefix *cidr,
		      bool *fdb_done)
{
	const struct nr_tunnel_info *t = &p->in->tunnel;
	const struct nr_addr *under = underlay_ip(p, n);
	struct nr_kroute *r;
	struct nr_kneigh *ng;
	uint8_t mac[6];

	if (!t->ifindex)
		return skip(p, n->name, cidr->addr.family, NR_SKIP_NO_TUNNEL, NULL);
	if (!under)
		return skip(p, n->name, cidr->addr.family, NR_SKIP_NO_NODE_IP, NULL);
	nr_vtep_mac(under, mac);
	r = &p->ks->routes[p->ks->n_routes++];
	memset(r, 0, sizeof(*r));
	r->dst = *cidr;
	r->kind = NR_ROUTE_TUNNEL;
	r->onlink = true;
	vtep_gateway(cidr, mac, &r->gw);
	r->ifindex = t->ifindex;
	r->mtu = t->mtu;
	ng = &p->ks->neighs[p->ks->n_neighs++];
	memset(ng, 0, sizeof(*ng));
	ng->ip = r->gw;
	memcpy(ng->mac, mac, 6);
	ng->ifindex = t->ifindex;
	if (!*fdb_done) {
		struct nr_kfdb *f = &p->ks->fdbs[p->ks->n_fdbs++];

		memset(f, 0, sizeof(*f));
		memcpy(f->mac, mac, 6);
		f->dst = *under;
		f->ifindex = t->ifindex;
		*fdb_done = true;
	}
	p->rep->n_tunnel++;
	return 0;
}

static int plan_family(struct plan *p, const struct nr_node *n, uint8_t family, bool *fdb_done)
{
	const struct nr_prefix *cidr = nr_node_cidr(n, family);
	const struct nr_addr *ip = nr_node_ip(n, family);
	enum nr_routing_mode mode = p->cfg->routing_mode;
	const struct nr_reach *rc;

	if (!cidr)
		return 0;
	if (mode == NR_MODE_TUNNEL)
		return add_tunnel(p, n, cidr, fdb_done);
	if (ip && p->in->reach_fn) {
		rc = p->in->reach_fn(p->in->reach_data, ip);
		if (!rc)
			return 0; /* not asked yet: the next plan has it (planner.h) */
	} else {
		rc = ip ? reach_find(p, ip) : NULL;
	}
	if (mode == NR_MODE_HYBRID) {
		if (rc && rc->kind == NR_REACH_DIRECT) {
			add_native(p, n, cidr, ip, rc->ifindex);
			return 0;
		}
		return add_tunnel(p, n, cidr, fdb_done);
	}
	if (!p->cfg->auto_direct_node_routes) {
		p->rep->remote_routes_unmanaged = true;
		return 0;
	}
	if (!ip)
		return skip(p, n->name, family, NR_SKIP_NO_NODE_IP, NULL);
	if (!rc || rc->kind == NR_REACH_UNKNOWN)
		return skip(p, n->name, family, NR_SKIP_REACH_UNKNOWN, ip);
	if (rc->kind == NR_REACH_GATEWAY) {
		char a[NR_ADDR_STRLEN], g[NR_ADDR_STRLEN];

		if (p->cfg->direct_routing_skip_unreachable)
			return skip(p, n->name, family, NR_SKIP_UNREACHABLE, ip);
		return nr_err_set(p->err, -EHOSTUNREACH,
				  "node %s: %s is not directly reachable (the route goes via %s); "
				  "set direct_routing_skip_unreachable to skip such nodes",
				  n->name, nr_addr_str(ip, a, sizeof(a)),
				  rc->gw.family ? nr_addr_str(&rc->gw, g, sizeof(g)) : "a gateway");
	}
	add_native(p, n, cidr, ip, rc->ifindex);
	return 0;
}

static int plan_endpoint(struct plan *p, const struct nr_endpoint *e)
{
	const struct nr_addr *ips[2] = { &e->ip4, &e->ip6 };

	if (!e->ifindex)
		return skip(p, e->id, 0, NR_SKIP_NO_IFINDEX, NULL);
	for (int i = 0; i < 2; i++) {
		struct nr_kroute *r;

		if (!ips[i]->family)
			continue;
		r = &p->ks->routes[p->ks->n_routes++];
		memset(r, 0, sizeof(*r));
		nr_prefix_make(ips[i], nr_addr_bits(ips[i]->family), &r->dst);
		r->kind = NR_ROUTE_ENDPOINT;
		r->scope = SCOPE_LINK;
		r->ifindex = e->ifindex;
		p->rep->n_endpoint++;
	}
	return 0;
}

static int plan_endpoints(struct plan *p)
{
	for (const struct nr_endpoint *e = nr_model_endpoint_next(p->m, NULL); e;
	     e = nr_model_endpoint_next(p->m, e)) {
		int r = plan_endpoint(p, e);

		if (r < 0)
			return r;
	}
	return 0;
}

/* One remote node's objects (nothing for the local node). */
static int plan_node(struct plan *p, const struct nr_node *n)
{
	bool fdb_done = false;
	int r;

	if (n == p->local)
		return 0; /* its CIDR is delivered locally */
	if (!n->cidr4.addr.family && !n->cidr6.addr.family)
		return skip(p, n->name, 0, NR_SKIP_NO_CIDR, NULL);
	if ((r = plan_family(p, n, AF_INET, &fdb_done)) < 0)
		return r;
	return plan_family(p, n, AF_INET6, &fdb_done);
}

static int plan_reach_copy(struct plan *p)
{
	if (!p->in->n_reach)
		return 0;
	p->reach = malloc(p->in->n_reach * sizeof(*p->reach));
	if (!p->reach)
		return nr_err_set(p->err, -ENOMEM, "planner: out of memory");
	memcpy(p->reach, p->in->reach, p->in->n_reach * sizeof(*p->reach));
	qsort(p->reach, p->in->n_reach, sizeof(*p->reach), reach_cmp);
	return 0;
}

/* Upper bounds for nn nodes and ne endpoints, so planning never reallocates. */
static int plan_alloc(struct plan *p, size_t nn, size_t ne)
{
	p->ks->routes = calloc(2 * nn + 2 * ne + 1, sizeof(*p->ks->routes));
	p->ks->nexthops = calloc(2 * nn + 1, sizeof(*p->ks->nexthops));
	p->ks->neighs = calloc(2 * nn + 1, sizeof(*p->ks->neighs));
	p->ks->fdbs = calloc(nn + 1, sizeof(*p->ks->fdbs));
	if (!p->ks->routes || !p->ks->nexthops || !p->ks->neighs || !p->ks->fdbs)
		return nr_err_set(p->err, -ENOMEM, "planner: out of memory");
	return 0;
}

static int plan_all(struct plan *p)
{
	int r = plan_reach_copy(p);

	if (r == 0)
		r = plan_alloc(p, nr_model_node_count(p->m), nr_model_endpoint_count(p->m));
	for (const struct nr_node *n = nr_model_node_next(p->m, NULL); r == 0 && n;
	     n = nr_model_node_next(p->m, n))
		r = plan_node(p, n);
	if (r == 0)
		r = plan_endpoints(p);
	if (r == 0)
		nr_kstate_sort(p->ks);
	return r;
}

/* What nr_plan, nr_plan_node and nr_plan_endpoint share: check the input,
 * run `body` on a fresh plan, sort, clean up. */
static int plan_run(const struct nr_plan_input *in, struct nr_kstate *out,
		    struct nr_plan_report *report, struct nr_err *err,
		    int (*body)(struct plan *p, const void *arg), const void *arg)
{
	struct nr_plan_report scratch;
	struct plan p = { 0 };
	int r;

	if (!out)
		return nr_err_set(err, -EINVAL, "planner: no output state");
	memset(out, 0, sizeof(*out));
	if (!report)
		report = &scratch;
	memset(report, 0, sizeof(*report));
	if (!in || !in->model || (in->n_reach && !in->reach))
		return nr_err_set(err, -EINVAL, "planner: missing model or reachability array");
	p.in = in;
	p.m = in->model;
	p.cfg = nr_model_config(in->model);
	p.local = nr_model_local_node(in->model);
	p.ks = out;
	p.rep = report;
	p.err = err;
	r = body(&p, arg);
	free(p.reach);
	if (report == &scratch)
		nr_plan_report_free(&scratch);
	return r;
}

static int plan_all_body(struct plan *p, const void *arg)
{
	(void)arg;
	return plan_all(p);
}

static int plan_node_body(struct plan *p, const void *arg)
{
	int r = plan_reach_copy(p);

	if (r == 0)
		r = plan_alloc(p, 1, 0);
	if (r == 0)
		r = plan_node(p, arg);
	if (r == 0)
		nr_kstate_sort(p->ks);
	return r;
}

static int plan_endpoint_body(struct plan *p, const void *arg)
{
	int r = plan_alloc(p, 0, 1);

	if (r == 0)
		r = plan_endpoint(p, arg);
	if (r == 0)
		nr_kstate_sort(p->ks);
	return r;
}

int nr_plan(const struct nr_plan_input *in, struct nr_kstate *out,
	    struct nr_plan_report *report, struct nr_err *err)
{
	return plan_run(in, out, report, err, plan_all_body, NULL);
}

int nr_plan_node(const struct nr_plan_input *in, const struct nr_node *node,
		 struct nr_kstate *out, struct nr_plan_report *report, struct nr_err *err)
{
	if (!node)
		return nr_err_set(err, -EINVAL, "planner: no node");
	return plan_run(in, out, report, err, plan_node_body, node);
}

int nr_plan_endpoint(const struct nr_plan_input *in, const struct nr_endpoint *ep,
		     struct nr_kstate *out, struct nr_plan_report *report, struct nr_err *err)
{
	if (!ep)
		return nr_err_set(err, -EINVAL, "planner: no endpoint");
	return plan_run(in, out, report, err, plan_endpoint_body, ep);
}

void nr_plan_report_free(struct nr_plan_report *r)
{
	if (!r)
		return;
	free(r->skipped);
	memset(r, 0, sizeof(*r));
}

const char *nr_plan_skip_reason_str(uint8_t reason)
{
	switch (reason) {
	case NR_SKIP_UNREACHABLE: return "not directly reachable";
	case NR_SKIP_REACH_UNKNOWN: return "reachability not known yet";
	case NR_SKIP_NO_CIDR: return "no pod CIDR";
	case NR_SKIP_NO_NODE_IP: return "no node IP of the needed family";
	case NR_SKIP_NO_TUNNEL: return "needs the tunnel, no tunnel device";
	case NR_SKIP_NO_IFINDEX: return "host device not known yet";
	default: return "unknown";
	}
}

/* ---- in slices ------------------------------------------------------------ */

enum { SL_NODES, SL_ENDPOINTS, SL_SORT, SL_DONE };

struct nr_plan_slices {
	struct nr_plan_input in;
	struct plan p;
	struct nr_kstate ks;
	struct nr_plan_report rep;
	size_t cap_routes, cap_nexthops, cap_neighs, cap_fdbs;
	uint32_t next_index; /* the node cursor */
	int stage;
	int kind;            /* SL_SORT: which array (0..3) */
	bool sorting;        /* `sort` runs on it */
	struct nr_msort sort;
};

static int grow(void **arr, size_t *cap, size_t n, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;
	void *g;

	if (n + need <= *cap)
		return 0;
	while (c < n + need)
		c *= 2;
	g = realloc(*arr, c * size);
	if (!g)
		return -ENOMEM;
	*arr = g;
	*cap = c;
	return 0;
}

/* Room for `nodes` more nodes' objects and `eps` more endpoints' routes. */
static int slices_reserve(struct nr_plan_slices *s, size_t nodes, size_t eps)
{
	struct nr_kstate *k = &s->ks;

	if (grow((void **)&k->routes, &s->cap_routes, k->n_routes, 2 * nodes + 2 * eps, sizeof(*k->routes)) < 0 ||
	    grow((void **)&k->nexthops, &s->cap_nexthops, k->n_nexthops, 2 * nodes, sizeof(*k->nexthops)) < 0 ||
	    grow((void **)&k->neighs, &s->cap_neighs, k->n_neighs, 2 * nodes, sizeof(*k->neighs)) < 0 ||
	    grow((void **)&k->fdbs, &s->cap_fdbs, k->n_fdbs, nodes, sizeof(*k->fdbs)) < 0)
		return nr_err_set(s->p.err, -ENOMEM, "planner: out of memory");
	return 0;
}

int nr_plan_slices_new(const struct nr_plan_input *in, struct nr_plan_slices **ret, struct nr_err *err)
{
	struct nr_plan_slices *s;

	if (!in || !in->model || (in->n_reach && !in->reach))
		return nr_err_set(err, -EINVAL, "planner: missing model or reachability array");
	s = calloc(1, sizeof(*s));
	if (!s)
		return nr_err_set(err, -ENOMEM, "planner: out of memory");
	s->in = *in;
	s->p.in = &s->in;
	s->p.m = in->model;
	s->p.cfg = nr_model_config(in->model);
	s->p.ks = &s->ks;
	s->p.rep = &s->rep;
	s->p.err = err;
	/* Room for every node's objects now: growing by doubling moved the
	 * arrays (megabytes at 100,000 nodes, into fresh pages) within one
	 * slice (~8 ms at a restart with 100,000 nodes). The pages are
	 * touched as the nodes are planned, spread over the slices. */
	if ((!in->reach_fn && plan_reach_copy(&s->p) < 0) ||
	    slices_reserve(s, nr_model_node_count(in->model), nr_model_endpoint_count(in->model)) < 0) {
		nr_plan_slices_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

static void **sort_array(struct nr_kstate *k, int kind, size_t *n, size_t *size, nr_sorted_cmp *cmp)
{
	switch (kind) {
	case 0: *n = k->n_nexthops; *size = sizeof(*k->nexthops); *cmp = (nr_sorted_cmp)nr_knexthop_cmp_key;
		return (void **)&k->nexthops;
	case 1: *n = k->n_routes; *size = sizeof(*k->routes); *cmp = (nr_sorted_cmp)nr_kroute_cmp_key;
		return (void **)&k->routes;
	case 2: *n = k->n_neighs; *size = sizeof(*k->neighs); *cmp = (nr_sorted_cmp)nr_kneigh_cmp_key;
		return (void **)&k->neighs;
	default: *n = k->n_fdbs; *size = sizeof(*k->fdbs); *cmp = (nr_sorted_cmp)nr_kfdb_cmp_key;
		return (void **)&k->fdbs;
	}
}

/* Sort the four arrays one after the other, about `budget` moves a step. */
static int slices_sort(struct nr_plan_slices *s, size_t budget)
{
	while (s->kind < 4) {
		size_t n, size;
		nr_sorted_cmp cmp;
		void **arr = sort_array(&s->ks, s->kind, &n, &size, &cmp);

		if (!s->sorting) {
			if (nr_msort_begin(&s->sort, *arr, n, size, cmp) < 0)
				return nr_err_set(s->p.err, -ENOMEM, "planner: out of memory");
			s->sorting = true;
		}
		if (nr_msort_step(&s->sort, budget))
			return 1;
		void *spare;

		*arr = nr_msort_end_keep(&s->sort, &spare);
		if (s->in.release)
			s->in.release(s->in.release_ctx, spare, n * size);
		else
			free(spare);
		s->sorting = false;
		s->kind++;
		budget /= 2; /* the next array starts within this step only a little */
	}
	s->stage = SL_DONE;
	return 0;
}

int nr_plan_slices_step(struct nr_plan_slices *s, size_t budget, struct nr_err *err)
{
	int r = 0;

	s->p.err = err;
	s->p.local = nr_model_local_node(s->p.m); /* the model may have changed */
	if (s->stage == SL_NODES) {
		for (size_t done = 0; done < budget; done++) {
			const struct nr_node *n = nr_model_node_from(s->p.m, s->next_index);

			if (!n) {
				s->stage = SL_ENDPOINTS;
				return 1;
			}
			s->next_index = n->index + 1;
			if ((r = slices_reserve(s, 1, 0)) < 0 || (r = plan_node(&s->p, n)) < 0)
				return r;
		}
		return 1;
	}
	if (s->stage == SL_ENDPOINTS) {
		r = slices_reserve(s, 0, nr_model_endpoint_count(s->p.m));
		if (r == 0)
			r = plan_endpoints(&s->p);
		if (r < 0)
			return r;
		s->stage = SL_SORT;
		return 1;
	}
	if (s->stage == SL_SORT)
		return slices_sort(s, budget * 16);
	return 0;
}

void nr_plan_slices_take(struct nr_plan_slices *s, struct nr_kstate *out, struct nr_plan_report *report)
{
	*out = s->ks;
	memset(&s->ks, 0, sizeof(s->ks));
	if (report)
		*report = s->rep;
	else
		nr_plan_report_free(&s->rep);
	memset(&s->rep, 0, sizeof(s->rep));
}

void nr_plan_slices_free(struct nr_plan_slices *s)
{
	if (!s)
		return;
	if (s->sorting) {
		size_t n, size;
		nr_sorted_cmp cmp;
		void **arr = sort_array(&s->ks, s->kind, &n, &size, &cmp);
		void *sorted = nr_msort_end(&s->sort);

		if (sorted) /* it finished: the array moved */
			*arr = sorted;
	}
	nr_kstate_free(&s->ks);
	nr_plan_report_free(&s->rep);
	free(s->p.reach);
	free(s);
}
