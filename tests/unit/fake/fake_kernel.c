/* The in-memory kernel of fake_kernel.h. Kept small on purpose: unsorted
 * arrays searched linearly (tests hold tens of objects), results handed to
 * the batch through nl_batch's non-socket entry points. */
#include "fake_kernel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include "netlink/nl_encode.h"

#define FK_MAX_LINKS 16
#define FK_MAX_ADDRS 16
#define FK_MAX_FAILS 16
#define FK_MAX_EVENTS 64
#define VXLAN_IFINDEX 900

struct fake_chan {
	struct nr_nl nl; /* first: the controller holds &nl; sock stays NULL */
	struct fake_kernel *fk;
	int efd;
};

struct fake_fail {
	bool route; /* else nexthop */
	struct nr_prefix dst;
	uint32_t nh_id;
	int error;
	char text[128];
	unsigned int left; /* 0 = forever */
};

struct fake_event {
	_Alignas(struct nlmsghdr) char buf[NR_NL_MSG_MAX];
};

struct fake_kernel {
	struct nr_kstate t; /* unsorted */
	struct nr_nl_link links[FK_MAX_LINKS];
	size_t n_links;
	struct {
		uint32_t ifindex;
		struct nr_prefix p; /* the address, with its subnet's length */
	} addrs[FK_MAX_ADDRS];
	size_t n_addrs;
	struct fake_fail fails[FK_MAX_FAILS];
	size_t n_fails;
	bool hold, released, holding;
	struct fake_event events[FK_MAX_EVENTS];
	size_t n_events;
	bool overflow;
	struct fake_chan *cmd, *evch; /* the last command / event channel opened */
	uint32_t next_port;
	struct nr_nl_owner owner; /* of the last batch: what events are stamped with */
	struct fake_counters count;
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		abort();
	return p;
}

struct fake_kernel *fake_kernel_new(void)
{
	struct fake_kernel *fk = xcalloc(1, sizeof(*fk));

	fk->next_port = 7000;
	fk->owner = (struct nr_nl_owner){ .table = 254, .protocol = 201 };
	return fk;
}

void fake_kernel_free(struct fake_kernel *fk)
{
	if (!fk)
		return;
	nr_kstate_free(&fk->t);
	free(fk);
}

/* ---- the table -------------------------------------------------------------- */

#define FIND(arr, n, key, cmp)                                                      \
	({                                                                          \
		ssize_t at_ = -1;                                                   \
		for (size_t i_ = 0; i_ < (n); i_++)                                 \
			if (cmp(&(arr)[i_], (key)) == 0) {                          \
				at_ = (ssize_t)i_;                                  \
				break;                                              \
			}                                                           \
		at_;                                                                \
	})

#define PUT(arr, n, at, val)                                                        \
	do {                                                                        \
		if ((at) >= 0) {                                                    \
			(arr)[at] = (val);                                          \
		} else {                                                            \
			(arr) = realloc((arr), ((n) + 1) * sizeof(*(arr)));         \
			if (!(arr))                                                 \
				abort();                                            \
			(arr)[(n)++] = (val);                                       \
		}                                                                   \
	} while (0)

#define DROP(arr, n, at)                                                            \
	do {                                                                        \
		(arr)[at] = (arr)[--(n)];                                           \
	} while (0)

static void drop_routes_of(struct fake_kernel *fk, uint32_t nh_id)
{
	for (size_t i = fk->t.n_routes; i-- > 0;)
		if (fk->t.routes[i].nh_id == nh_id)
			DROP(fk->t.routes, fk->t.n_routes, i);
}

static const struct fake_fail *failure_for(struct fake_kernel *fk, const struct nr_nl_object *o)
{
	for (size_t i = 0; i < fk->n_fails; i++) {
		struct fake_fail *f = &fk->fails[i];
		bool hit = (f->route && o->kind == NR_NL_ROUTE && nr_prefix_eq(&f->dst, &o->u.route.dst)) ||
			   (!f->route && o->kind == NR_NL_NEXTHOP && o->u.nh.id == f->nh_id);

		if (!hit)
			continue;
		if (f->left && --f->left == 0) {
			static struct fake_fail last;

			last = *f;
			fk->fails[i] = fk->fails[--fk->n_fails];
			return &last;
		}
		return f;
	}
	return NULL;
}

/* One operation, as the kernel would answer it. */
static int apply(struct fake_kernel *fk, const struct nr_nl_batch_op *op, const char **kmsg)
{
	const struct nr_nl_object *o = &op->obj;
	const struct fake_fail *f = failure_for(fk, o);
	ssize_t at;

	*kmsg = NULL;
	fk->count.writes++;
	if (f) {
		*kmsg = f->text[0] ? f->text : NULL;
		return f->error;
	}
	switch (o->kind) {
	case NR_NL_NEXTHOP:
		at = FIND(fk->t.nexthops, fk->t.n_nexthops, &o->u.nh, nr_knexthop_cmp_key);
		if (op->op == NR_NL_DELETE) {
			if (at < 0)
				return -ENOENT;
			DROP(fk->t.nexthops, fk->t.n_nexthops, at);
			drop_routes_of(fk, o->u.nh.id); /* the kernel takes them along */
			return 0;
		}
		if (op->op == NR_NL_ADD && at >= 0)
			return -EEXIST;
		PUT(fk->t.nexthops, fk->t.n_nexthops, at, o->u.nh);
		return 0;
	case NR_NL_ROUTE:
		at = FIND(fk->t.routes, fk->t.n_routes, &o->u.route, nr_kroute_cmp_key);
		if (op->op == NR_NL_DELETE) {
			if (at < 0)
				return -ESRCH;
			DROP(fk->t.routes, fk->t.n_routes, at);
			return 0;
		}
		if (op->op == NR_NL_ADD && at >= 0)
			return -EEXIST;
		if (o->u.route.nh_id) {
			struct nr_knexthop key = { .id = o->u.route.nh_id };

			if (FIND(fk->t.nexthops, fk->t.n_nexthops, &key, nr_knexthop_cmp_key) < 0) {
				*kmsg = "Nexthop id does not exist";
				return -EINVAL;
			}
		}
		PUT(fk->t.routes, fk->t.n_routes, at, o->u.route);
		return 0;
	case NR_NL_NEIGH:
		at = FIND(fk->t.neighs, fk->t.n_neighs, &o->u.neigh, nr_kneigh_cmp_key);
		if (op->op == NR_NL_DELETE) {
			if (at < 0)
				return -ENOENT;
			DROP(fk->t.neighs, fk->t.n_neighs, at);
			return 0;
		}
		PUT(fk->t.neighs, fk->t.n_neighs, at, o->u.neigh);
		return 0;
	case NR_NL_FDB:
		at = FIND(fk->t.fdbs, fk->t.n_fdbs, &o->u.fdb, nr_kfdb_cmp_key);
		if (op->op == NR_NL_DELETE) {
			if (at < 0)
				return -ENOENT;
			DROP(fk->t.fdbs, fk->t.n_fdbs, at);
			return 0;
		}
		PUT(fk->t.fdbs, fk->t.n_fdbs, at, o->u.fdb);
		return 0;
	}
	return -EINVAL;
}

static void apply_batch(struct fake_kernel *fk, struct nr_nl_batch *b)
{
	for (size_t i = 0; i < nr_nl_batch_count(b); i++) {
		const char *kmsg;
		int rc = apply(fk, nr_nl_batch_op(b, i), &kmsg);

		nr_nl_batch_result(b, i, rc, kmsg);
	}
}

/* ---- channels ------------------------------------------------------------------ */

static struct fake_chan *chan_of(const struct nr_nl *nl)
{
	return (struct fake_chan *)nl;
}

static void efd_drain(int efd)
{
	uint64_t v;

	while (read(efd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		;
}

static void efd_signal(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) < 0)
		abort();
}

static int f_open(void *ctx, const char *netns, unsigned int flags, struct nr_nl **ret,
		  struct nr_err *err)
{
	struct fake_kernel *fk = ctx;
	struct fake_chan *c;

	if (netns)
		return nr_err_set(err, -ENOENT, "netns %s: the fake kernel has none", netns);
	c = xcalloc(1, sizeof(*c));
	c->fk = fk;
	c->nl.portid = fk->next_port++;
	c->nl.flags = flags;
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->efd < 0)
		abort();
	if (flags & NR_NL_EVENTS)
		fk->evch = c;
	else if (flags & NR_NL_NONBLOCK)
		fk->cmd = c;
	*ret = &c->nl;
	return 0;
}

static void f_close(struct nr_nl *nl)
{
	struct fake_chan *c = nl ? chan_of(nl) : NULL;

	if (!c)
		return;
	if (c->fk->cmd == c)
		c->fk->cmd = NULL;
	if (c->fk->evch == c)
		c->fk->evch = NULL;
	close(c->efd);
	free(c);
}

static int f_fd(const struct nr_nl *nl)
{
	return chan_of(nl)->efd;
}

/* ---- dumps ------------------------------------------------------------------------ */

#define COPY(dst, src, n)                                                           \
	do {                                                                        \
		(dst) = xcalloc((n), sizeof(*(src)));                               \
		if (n)                                                              \
			memcpy((dst), (src), (n) * sizeof(*(src)));                 \
	} while (0)

static int f_dump_kstate(struct nr_nl *nl, const struct nr_nl_dump_filter *f,
			 struct nr_kstate *out, struct nr_err *err)
{
	struct fake_kernel *fk = chan_of(nl)->fk;

	(void)err;
	fk->count.dumps++;
	memset(out, 0, sizeof(*out));
	COPY(out->nexthops, fk->t.nexthops, fk->t.n_nexthops);
	out->n_nexthops = fk->t.n_nexthops;
	COPY(out->routes, fk->t.routes, fk->t.n_routes);
	out->n_routes = fk->t.n_routes;
	for (size_t i = 0; i < out->n_routes; i++)
		out->routes[i].kind = 0; /* the kernel does not store it (core/kstate.h) */
	out->neighs = xcalloc(fk->t.n_neighs, sizeof(*out->neighs));
	for (size_t i = 0; i < fk->t.n_neighs; i++)
		if (f->neigh_ifindex && fk->t.neighs[i].ifindex == f->neigh_ifindex)
			out->neighs[out->n_neighs++] = fk->t.neighs[i];
	out->fdbs = xcalloc(fk->t.n_fdbs, sizeof(*out->fdbs));
	for (size_t i = 0; i < fk->t.n_fdbs; i++)
		if (f->fdb_ifindex && fk->t.fdbs[i].ifindex == f->fdb_ifindex)
			out->fdbs[out->n_fdbs++] = fk->t.fdbs[i];
	nr_kstate_sort(out);
	return 0;
}

static int f_dump_nexthops(struct nr_nl *nl, uint8_t protocol, struct nr_knexthop **nhs,
			   size_t *n, struct nr_err *err)
{
	struct fake_kernel *fk = chan_of(nl)->fk;

	(void)protocol;
	(void)err;
	COPY(*nhs, fk->t.nexthops, fk->t.n_nexthops);
	*n = fk->t.n_nexthops;
	return 0;
}

static int f_dump_nexthops_foreign(struct nr_nl *nl, uint8_t protocol, struct nr_knexthop **nhs,
				   size_t *n, struct nr_err *err)
{
	(void)nl;
	(void)protocol;
	(void)err;
	*nhs = NULL; /* nobody else here */
	*n = 0;
	return 0;
}

/* The dump in steps (nl_dump.h's nr_nl_dumper), as a full pass reads the
 * kernel: the command channel polls readable once per step, and the
 * table is read when the last step has "arrived". */
#define FK_DUMP_STEPS 3

struct nr_nl_dumper {
	struct fake_chan *c;
	struct nr_nl_dump_filter f;
	bool no_nexthops;
	int steps_left;
};

static int f_dumper_new(struct nr_nl *nl, const struct nr_nl_dump_filter *f, bool foreign_nexthops,
			bool no_nexthops, struct nr_nl_dumper **ret, struct nr_err *err)
{
	struct nr_nl_dumper *d = xcalloc(1, sizeof(*d));

	(void)foreign_nexthops; /* nobody else's here */
	(void)err;
	d->c = chan_of(nl);
	d->f = *f;
	d->no_nexthops = no_nexthops;
	d->steps_left = FK_DUMP_STEPS;
	d->c->fk->count.dumper_steps = 0;
	d->c->fk->count.dumper_finishes = 0;
	efd_signal(d->c->efd);
	*ret = d;
	return 0;
}

static int f_dumper_step(struct nr_nl_dumper *d, struct nr_err *err)
{
	struct fake_kernel *fk = d->c->fk;

	(void)err;
	efd_drain(d->c->efd);
	if (fk->hold && !fk->released) { /* the rest "has not arrived" */
		fk->holding = true;
		return NR_NL_DUMP_WAIT;
	}
	fk->holding = false;
	fk->count.dumper_steps++;
	if (--d->steps_left > 0) {
		efd_signal(d->c->efd);
		return NR_NL_DUMP_WAIT;
	}
	return 0;
}

/* The sort after the last step (nl_dump.h's nr_nl_dumper_finish): the
 * fake's table is in order already; it takes FK_FINISH_STEPS calls all
 * the same, so the controller's way through them is exercised. */
#define FK_FINISH_STEPS 3

static int f_dumper_finish(struct nr_nl_dumper *d, size_t budget, struct nr_err *err)
{
	struct fake_kernel *fk = d->c->fk;

	(void)budget;
	(void)err;
	if (d->steps_left > 0)
		return -EINVAL; /* before the last step */
	return ++fk->count.dumper_finishes < FK_FINISH_STEPS;
}

static int f_dumper_take(struct nr_nl_dumper *d, struct nr_kstate *out, struct nr_knexthop **foreign,
			 size_t *n_foreign, struct nr_err *err)
{
	int rc = f_dump_kstate(&d->c->nl, &d->f, out, err);

	if (rc == 0 && d->no_nexthops) {
		free(out->nexthops);
		out->nexthops = NULL;
		out->n_nexthops = 0;
	}
	if (foreign)
		*foreign = NULL;
	if (n_foreign)
		*n_foreign = 0;
	return rc;
}

static void f_dumper_free(struct nr_nl_dumper *d)
{
	free(d);
}

/* ---- batches ------------------------------------------------------------------------ */

static int f_batch_begin(struct nr_nl_batch *b, nr_nl_batch_fail_cb fail_cb, void *data,
			 struct nr_err *err)
{
	struct fake_kernel *fk = chan_of(nr_nl_batch_nl(b))->fk;

	fk->count.batches++;
	nr_nl_batch_expect(b, fail_cb, data, err);
	fk->holding = fk->hold;
	fk->released = false;
	return 0;
}

static int f_batch_pump(struct nr_nl_batch *b, uint64_t budget_ns)
{
	struct fake_chan *c = chan_of(nr_nl_batch_nl(b));
	struct fake_kernel *fk = c->fk;

	(void)budget_ns;
	efd_drain(c->efd);
	if (fk->holding && !fk->released)
		return NR_NL_BATCH_WAIT;
	fk->holding = false;
	apply_batch(fk, b);
	return 0;
}

static int f_batch_commit(struct nr_nl_batch *b, nr_nl_batch_fail_cb fail_cb, void *data,
			  struct nr_err *err)
{
	struct fake_kernel *fk = chan_of(nr_nl_batch_nl(b))->fk;
	int failed = 0;

	fk->count.batches++;
	nr_nl_batch_expect(b, fail_cb, data, err);
	apply_batch(fk, b);
	for (size_t i = 0; i < nr_nl_batch_count(b); i++)
		failed += nr_nl_batch_op(b, i)->error < 0;
	return failed;
}

/* ---- links, addresses, reachability ------------------------------------------------ */

static struct nr_nl_link *link_find(struct fake_kernel *fk, const char *name, uint32_t ifindex)
{
	for (size_t i = 0; i < fk->n_links; i++)
		if ((name && !strcmp(fk->links[i].name, name)) ||
		    (!name && fk->links[i].ifindex == ifindex))
			return &fk->links[i];
	return NULL;
}

static int f_link_get(struct nr_nl *nl, const char *name, uint32_t ifindex,
		      struct nr_nl_link *out, struct nr_err *err)
{
	struct nr_nl_link *l = link_find(chan_of(nl)->fk, name, ifindex);

	if (!l) {
		if (name)
			return nr_err_set(err, -ENODEV, "link %s: No such device (ENODEV)", name);
		return nr_err_set(err, -ENODEV, "link %u: No such device (ENODEV)", ifindex);
	}
	*out = *l;
	return 0;
}

static int f_link_index(struct nr_nl *nl, const char *name, uint32_t *ifindex, struct nr_err *err)
{
	struct nr_nl_link l;
	int rc = f_link_get(nl, name, 0, &l, err);

	if (rc == 0)
		*ifindex = l.ifindex;
	return rc;
}

static int f_link_set_up(struct nr_nl *nl, uint32_t ifindex, bool up, struct nr_err *err)
{
	struct nr_nl_link *l = link_find(chan_of(nl)->fk, NULL, ifindex);

	if (!l)
		return nr_err_set(err, -ENODEV, "link %u: No such device (ENODEV)", ifindex);
	l->up = up;
	return 0;
}

static int f_link_delete(struct nr_nl *nl, uint32_t ifindex, struct nr_err *err)
{
	struct fake_kernel *fk = chan_of(nl)->fk;
	struct nr_nl_link *l = link_find(fk, NULL, ifindex);

	if (!l)
		return nr_err_set(err, -ENODEV, "link %u: No such device (ENODEV)", ifindex);
	*l = fk->links[--fk->n_links];
	return 0;
}

static ssize_t addr_at(struct fake_kernel *fk, uint32_t ifindex, const struct nr_addr *a)
{
	for (size_t i = 0; i < fk->n_addrs; i++)
		if ((!ifindex || fk->addrs[i].ifindex == ifindex) && nr_addr_eq(&fk->addrs[i].p.addr, a))
			return (ssize_t)i;
	return -1;
}

static int f_addr_add(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
		      uint8_t prefixlen, struct nr_err *err)
{
	struct fake_kernel *fk = chan_of(nl)->fk;

	if (!link_find(fk, NULL, ifindex))
		return nr_err_set(err, -ENODEV, "link %u: No such device (ENODEV)", ifindex);
	if (addr_at(fk, ifindex, addr) >= 0)
		return 0;
	if (fk->n_addrs == FK_MAX_ADDRS)
		return nr_err_set(err, -ENOSPC, "fake kernel: too many addresses");
	fk->addrs[fk->n_addrs].ifindex = ifindex;
	fk->addrs[fk->n_addrs].p = (struct nr_prefix){ .addr = *addr, .len = prefixlen };
	fk->n_addrs++;
	return 0;
}

static int f_addr_del(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
		      uint8_t prefixlen, struct nr_err *err)
{
	struct fake_kernel *fk = chan_of(nl)->fk;
	ssize_t at = addr_at(fk, ifindex, addr);

	(void)prefixlen;
	if (at < 0)
		return nr_err_set(err, -EADDRNOTAVAIL, "address not on link %u", ifindex);
	fk->addrs[at] = fk->addrs[--fk->n_addrs];
	return 0;
}

static int f_addr_present(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
			  struct nr_err *err)
{
	(void)err;
	return addr_at(chan_of(nl)->fk, ifindex, addr) >= 0;
}

static int f_addr_restore(struct nr_nl *nl, uint32_t ifindex, const struct nr_addr *addr,
			  uint8_t prefixlen, struct nr_err *err)
{
	if (addr_at(chan_of(nl)->fk, ifindex, addr) >= 0)
		return 0;
	return f_addr_add(nl, ifindex, addr, prefixlen, err) < 0 ? -ENODEV : 1;
}

static int f_addr_find(struct nr_nl *nl, const struct nr_addr *addr, uint32_t *ifindex,
		       struct nr_err *err)
{
	struct fake_kernel *fk = chan_of(nl)->fk;
	ssize_t at = addr_at(fk, 0, addr);
	char buf[NR_ADDR_STRLEN];

	fk->count.addr_dumps++;
	if (at < 0)
		return nr_err_set(err, -EADDRNOTAVAIL, "%s: no link has this address",
				  nr_addr_str(addr, buf, sizeof(buf)));
	*ifindex = fk->addrs[at].ifindex;
	return 0;
}

static int reach_one(struct fake_kernel *fk, const struct nr_addr *ip, struct nr_nl_reach *out)
{
	memset(out, 0, sizeof(*out));
	fk->count.lookups++;
	for (size_t i = 0; i < fk->n_addrs; i++) {
		if (nr_addr_eq(&fk->addrs[i].p.addr, ip)) {
			*out = (struct nr_nl_reach){ .kind = NR_NL_REACH_LOCAL,
						     .ifindex = fk->addrs[i].ifindex, .src = *ip };
			return 0;
		}
		if (nr_prefix_contains_addr(&fk->addrs[i].p, ip)) {
			*out = (struct nr_nl_reach){ .kind = NR_NL_REACH_DIRECT,
						     .ifindex = fk->addrs[i].ifindex,
						     .src = fk->addrs[i].p.addr };
			return 0;
		}
	}
	return -ENETUNREACH;
}

static int f_reach(struct nr_nl *nl, const struct nr_addr *ip, struct nr_nl_reach *out,
		   struct nr_err *err)
{
	char buf[NR_ADDR_STRLEN];
	int rc;

	chan_of(nl)->fk->count.lookup_calls++;
	rc = reach_one(chan_of(nl)->fk, ip, out);

	if (rc < 0)
		return nr_err_set(err, rc, "node %s: Network is unreachable (ENETUNREACH)",
				  nr_addr_str(ip, buf, sizeof(buf)));
	return 0;
}

static int f_reach_many(struct nr_nl *nl, const struct nr_addr *ips, size_t n,
			struct nr_nl_reach *out, int *rc, struct nr_err *err)
{
	(void)err;
	chan_of(nl)->fk->count.lookup_calls++;
	for (size_t i = 0; i < n; i++)
		rc[i] = reach_one(chan_of(nl)->fk, &ips[i], &out[i]);
	return 0;
}

/* The lookups from the loop: every address made ready is answered at once. */
static int f_reach_pump(struct nr_nl_reach_async *a, uint64_t budget_ns)
{
	(void)budget_ns;
	chan_of(a->nl)->fk->count.reach_pumps++;
	for (; a->next < a->ready; a->next++)
		if (a->rc[a->next] == 1)
			a->rc[a->next] = reach_one(chan_of(a->nl)->fk, &a->ips[a->next], &a->out[a->next]);
	return a->complete ? 0 : NR_NL_REACH_MORE;
}

/* ---- the VXLAN device ------------------------------------------------------------- */

static struct nr_nl_vxlan vx_have;

static int f_vxlan_get(struct nr_nl *nl, const char *name, struct nr_nl_vxlan *out,
		       uint32_t *ifindex, struct nr_err *err)
{
	struct nr_nl_link *l = link_find(chan_of(nl)->fk, name, 0);

	if (!l)
		return nr_err_set(err, -ENODEV, "link %s: No such device (ENODEV)", name);
	if (strcmp(l->kind, "vxlan"))
		return nr_err_set(err, -EMEDIUMTYPE, "%s: not a VXLAN device", name);
	*out = vx_have;
	*ifindex = l->ifindex;
	return 0;
}

/* An RTM_NEWLINK notification of link l (port 0, as the kernel sends them). */
static void link_event(struct fake_kernel *fk, const struct nr_nl_link *l, unsigned int flags,
		       unsigned int change)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (fk->n_events == FK_MAX_EVENTS) {
		fk->overflow = true;
	} else {
		nlh = mnl_nlmsg_put_header(fk->events[fk->n_events++].buf);
		nlh->nlmsg_type = RTM_NEWLINK;
		ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		ifi->ifi_index = (int)l->ifindex;
		ifi->ifi_flags = flags;
		ifi->ifi_change = change;
		mnl_attr_put_strz(nlh, IFLA_IFNAME, l->name);
		mnl_attr_put_u32(nlh, IFLA_MTU, l->mtu);
	}
	if (fk->evch)
		efd_signal(fk->evch->efd);
}

static int f_vxlan_ensure(struct nr_nl *nl, const struct nr_nl_vxlan *want, uint32_t *ifindex,
			  struct nr_err *err)
{
	struct fake_kernel *fk = chan_of(nl)->fk;
	const char *name = want->name[0] ? want->name : NR_VXLAN_NAME;
	struct nr_nl_link *l = link_find(fk, name, 0);

	(void)err;
	vx_have = *want;
	snprintf(vx_have.alias, sizeof(vx_have.alias), "%s", NR_VXLAN_ALIAS);
	if (l) {
		*ifindex = l->ifindex;
		return 1;
	}
	fake_kernel_add_link(fk, VXLAN_IFINDEX, name, want->mtu ? want->mtu : 1450);
	l = &fk->links[fk->n_links - 1];
	snprintf(l->kind, sizeof(l->kind), "vxlan");
	/* what Linux tells of a new device: its announcement (down, every
	 * field "changed"), then up, then later the carrier (linkwatch) */
	link_event(fk, l, 0, ~0u);
	link_event(fk, l, IFF_UP | IFF_RUNNING | IFF_LOWER_UP, IFF_UP);
	link_event(fk, l, IFF_UP | IFF_RUNNING | IFF_LOWER_UP, 0);
	*ifindex = VXLAN_IFINDEX;
	return 0;
}

/* ---- events ------------------------------------------------------------------------ */

static int f_event_read(struct nr_nl *nl, nr_nl_event_cb cb, void *data)
{
	struct fake_chan *c = chan_of(nl);
	struct fake_kernel *fk = c->fk;
	size_t n = fk->n_events;

	efd_drain(c->efd);
	if (fk->overflow) {
		fk->overflow = false;
		fk->n_events = 0;
		return -ENOBUFS;
	}
	fk->n_events = 0;
	for (size_t i = 0; i < n; i++) {
		int rc;

		fk->count.events++;
		rc = cb((const struct nlmsghdr *)fk->events[i].buf, data);
		if (rc < 0)
			return rc;
	}
	return (int)n;
}

static void notify(struct fake_kernel *fk, const struct nr_nl_object *o, uint16_t type)
{
	struct nlmsghdr *nlh;

	if (fk->n_events == FK_MAX_EVENTS) {
		fk->overflow = true;
	} else {
		/* a notification carries the whole object, like an ADD request */
		nlh = nr_nl_encode(fk->events[fk->n_events++].buf, o, NR_NL_ADD, &fk->owner);
		nlh->nlmsg_type = type;
		nlh->nlmsg_flags = 0;
		nlh->nlmsg_pid = 0; /* from the kernel */
	}
	if (fk->evch)
		efd_signal(fk->evch->efd);
}

/* ---- outside rtnetlink ---------------------------------------------------------------- */

static int f_sysctl_forwarding(void *ctx, const char *netns, int family, bool on,
			       struct nr_err *err)
{
	(void)ctx;
	(void)netns;
	(void)family;
	(void)on;
	(void)err;
	return 1; /* on already */
}

/* Stateless (it runs on the thread pool): no table of ours exists before
 * the first script, and a script makes exactly what was expected. */
static void f_nft_sync(void *ctx, int netns_fd, struct nr_nft_sync *s, struct nr_err *err)
{
	(void)ctx;
	(void)netns_fd;
	(void)err;
	s->was_present = false;
	s->was_planned = !s->script;
	s->changed = s->script != NULL;
	s->listing = s->script && s->expect ? strdup(s->expect) : NULL;
}

/* No eBPF here: nothing of ours on any link, no pins. */
static int f_bpf_purge(struct nr_ctl *ctl, struct nr_err *err)
{
	(void)ctl;
	(void)err;
	return 0;
}

static const struct nr_kernel_ops fake_ops = {
	.open = f_open,
	.close = f_close,
	.fd = f_fd,
	.dump_kstate = f_dump_kstate,
	.dump_nexthops = f_dump_nexthops,
	.dump_nexthops_foreign = f_dump_nexthops_foreign,
	.dumper_new = f_dumper_new,
	.dumper_step = f_dumper_step,
	.dumper_take = f_dumper_take,
	.dumper_free = f_dumper_free,
	.dumper_finish = f_dumper_finish,
	.batch_begin = f_batch_begin,
	.batch_pump = f_batch_pump,
	.batch_commit = f_batch_commit,
	.reach = f_reach,
	.reach_many = f_reach_many,
	.reach_pump = f_reach_pump,
	.link_get = f_link_get,
	.link_index = f_link_index,
	.link_set_up = f_link_set_up,
	.link_delete = f_link_delete,
	.addr_add = f_addr_add,
	.addr_del = f_addr_del,
	.addr_present = f_addr_present,
	.addr_restore = f_addr_restore,
	.addr_find = f_addr_find,
	.vxlan_get = f_vxlan_get,
	.vxlan_ensure = f_vxlan_ensure,
	.event_read = f_event_read,
	.sysctl_forwarding = f_sysctl_forwarding,
	.nft_sync = f_nft_sync,
	.bpf_purge = f_bpf_purge,
};

struct nr_kernel fake_kernel_handle(struct fake_kernel *fk)
{
	return (struct nr_kernel){ .ops = &fake_ops, .ctx = fk };
}

/* ---- what tests do ------------------------------------------------------------------ */

void fake_kernel_set_owner(struct fake_kernel *fk, uint32_t table, uint8_t protocol)
{
	fk->owner = (struct nr_nl_owner){ .table = table, .protocol = protocol };
}

void fake_kernel_add_link(struct fake_kernel *fk, uint32_t ifindex, const char *name, uint32_t mtu)
{
	struct nr_nl_link *l;

	if (fk->n_links == FK_MAX_LINKS)
		abort();
	l = &fk->links[fk->n_links++];
	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->mtu = mtu;
	l->up = true;
}

void fake_kernel_add_addr(struct fake_kernel *fk, uint32_t ifindex, const char *cidr)
{
	struct nr_prefix p;
	struct nr_addr a;
	char ip[64], *slash;

	snprintf(ip, sizeof(ip), "%s", cidr);
	slash = strchr(ip, '/');
	if (!slash || fk->n_addrs == FK_MAX_ADDRS)
		abort();
	*slash = 0;
	if (nr_addr_parse(ip, &a, NULL) < 0)
		abort();
	p.addr = a;
	p.len = (uint8_t)atoi(slash + 1);
	fk->addrs[fk->n_addrs].ifindex = ifindex;
	fk->addrs[fk->n_addrs].p = p;
	fk->n_addrs++;
}

void fake_kernel_add_addr_notify(struct fake_kernel *fk, uint32_t ifindex, const char *cidr)
{
	const struct nr_prefix *p;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	bool v6;

	fake_kernel_add_addr(fk, ifindex, cidr);
	p = &fk->addrs[fk->n_addrs - 1].p;
	v6 = p->addr.family == AF_INET6;
	if (fk->n_events == FK_MAX_EVENTS) {
		fk->overflow = true;
	} else {
		nlh = mnl_nlmsg_put_header(fk->events[fk->n_events++].buf);
		nlh->nlmsg_type = RTM_NEWADDR;
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = (uint8_t)p->addr.family;
		ifa->ifa_prefixlen = p->len;
		ifa->ifa_index = ifindex;
		/* the kernel's scope of fe80::/10 is link, of the rest universe */
		ifa->ifa_scope = v6 && p->addr.bytes[0] == 0xfe && (p->addr.bytes[1] & 0xc0) == 0x80
				 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
		mnl_attr_put(nlh, IFA_ADDRESS, v6 ? 16 : 4, p->addr.bytes);
	}
	if (fk->evch)
		efd_signal(fk->evch->efd);
}

static struct nr_prefix prefix_of(const char *text)
{
	struct nr_prefix p;

	if (nr_prefix_parse(text, &p, NULL) < 0)
		abort();
	return p;
}

void fake_kernel_fail_route(struct fake_kernel *fk, const char *prefix, int error,
			    const char *text, unsigned int times)
{
	struct fake_fail *f;

	if (fk->n_fails == FK_MAX_FAILS)
		abort();
	f = &fk->fails[fk->n_fails++];
	*f = (struct fake_fail){ .route = true, .dst = prefix_of(prefix), .error = error,
				 .left = times };
	snprintf(f->text, sizeof(f->text), "%s", text ? text : "");
}

void fake_kernel_fail_nexthop(struct fake_kernel *fk, uint32_t id, int error, const char *text,
			      unsigned int times)
{
	struct fake_fail *f;

	if (fk->n_fails == FK_MAX_FAILS)
		abort();
	f = &fk->fails[fk->n_fails++];
	*f = (struct fake_fail){ .nh_id = id, .error = error, .left = times };
	snprintf(f->text, sizeof(f->text), "%s", text ? text : "");
}

void fake_kernel_clear_failures(struct fake_kernel *fk)
{
	fk->n_fails = 0;
}

void fake_kernel_hold(struct fake_kernel *fk, bool hold)
{
	fk->hold = hold;
}

void fake_kernel_release(struct fake_kernel *fk)
{
	fk->released = true;
	if (fk->cmd)
		efd_signal(fk->cmd->efd);
}

bool fake_kernel_holding(const struct fake_kernel *fk)
{
	return fk->holding && !fk->released;
}

bool fake_kernel_delete_route(struct fake_kernel *fk, const char *prefix, bool notify_it)
{
	struct nr_kroute key = { .dst = prefix_of(prefix) };
	ssize_t at = FIND(fk->t.routes, fk->t.n_routes, &key, nr_kroute_cmp_key);
	struct nr_nl_object o = { .kind = NR_NL_ROUTE };

	if (at < 0)
		return false;
	o.u.route = fk->t.routes[at];
	DROP(fk->t.routes, fk->t.n_routes, at);
	if (notify_it)
		notify(fk, &o, RTM_DELROUTE);
	return true;
}

void fake_kernel_add_route(struct fake_kernel *fk, const char *prefix, const char *gw,
			   uint32_t ifindex)
{
	struct nr_kroute r = { .dst = prefix_of(prefix), .ifindex = ifindex };

	if (nr_addr_parse(gw, &r.gw, NULL) < 0)
		abort();
	PUT(fk->t.routes, fk->t.n_routes, -1, r);
}

void fake_kernel_link_flap(struct fake_kernel *fk, uint32_t ifindex)
{
	struct nr_nl_link *l = link_find(fk, NULL, ifindex);

	if (!l)
		abort();
	for (size_t i = fk->t.n_nexthops; i-- > 0;) {
		if (fk->t.nexthops[i].ifindex == ifindex) {
			drop_routes_of(fk, fk->t.nexthops[i].id);
			DROP(fk->t.nexthops, fk->t.n_nexthops, i);
		}
	}
	for (size_t i = fk->t.n_routes; i-- > 0;)
		if (fk->t.routes[i].ifindex == ifindex)
			DROP(fk->t.routes, fk->t.n_routes, i);
	link_event(fk, l, IFF_UP | IFF_RUNNING, 0);
}

void fake_kernel_overflow(struct fake_kernel *fk)
{
	fk->overflow = true;
	if (fk->evch)
		efd_signal(fk->evch->efd);
}

const struct nr_kstate *fake_kernel_table(const struct fake_kernel *fk)
{
	return &fk->t;
}

const struct nr_kroute *fake_kernel_route(const struct fake_kernel *fk, const char *prefix)
{
	struct nr_kroute key = { .dst = prefix_of(prefix) };
	ssize_t at = FIND(fk->t.routes, fk->t.n_routes, &key, nr_kroute_cmp_key);

	return at < 0 ? NULL : &fk->t.routes[at];
}

const struct nr_knexthop *fake_kernel_nexthop(const struct fake_kernel *fk, uint32_t id)
{
	struct nr_knexthop key = { .id = id };
	ssize_t at = FIND(fk->t.nexthops, fk->t.n_nexthops, &key, nr_knexthop_cmp_key);

	return at < 0 ? NULL : &fk->t.nexthops[at];
}

const struct fake_counters *fake_kernel_counters(const struct fake_kernel *fk)
{
	return &fk->count;
}
